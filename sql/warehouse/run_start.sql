-- Records the start of an ingest run.
INSERT INTO ingest_runs (started_at, mode, outcome, cursor_before)
VALUES ($1, $2, 'running', $3)
RETURNING run_id
