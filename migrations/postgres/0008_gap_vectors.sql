-- The knowledge-gaps cache (docs/gaps.md): one embedding per model and normalised question,
-- so a report asks the embeddings service only for questions it has not seen. `vector` is
-- `dims` little-endian f32s. Safe to empty: the next report asks again.
CREATE TABLE gap_vectors (
    model         TEXT COLLATE "C" NOT NULL,
    question_key  TEXT COLLATE "C" NOT NULL,
    dims          BIGINT NOT NULL,
    vector        BYTEA NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (model, question_key)
);
