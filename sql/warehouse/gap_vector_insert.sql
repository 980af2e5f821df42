-- Caches one question's vector (a concurrent report may have cached it first).
INSERT INTO gap_vectors (model, question_key, dims, vector, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (model, question_key) DO NOTHING
