-- Records how an ingest run ended.
UPDATE ingest_runs SET
    finished_at = $2, outcome = $3, rows_read = $4, rows_new = $5, rows_changed = $6,
    feedback_changed = $7, cursor_after = $8, error = $9
WHERE run_id = $1
