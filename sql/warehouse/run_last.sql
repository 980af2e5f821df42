-- The most recent ingest runs.
SELECT run_id, started_at, finished_at, mode, outcome, rows_read, rows_new, rows_changed,
       feedback_changed, cursor_before, cursor_after, error
FROM ingest_runs ORDER BY run_id DESC LIMIT $1
