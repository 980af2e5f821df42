-- The knowledge-gaps cache (docs/gaps.md): one embedding per model and normalised question,
-- so a report asks the embeddings service only for questions it has not seen. `vector` is
-- `dims` little-endian f32s. Safe to empty: the next report asks again.
CREATE TABLE gap_vectors (
    model         TEXT NOT NULL,
    question_key  TEXT NOT NULL,
    dims          INTEGER NOT NULL,
    vector        BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (model, question_key)
);
