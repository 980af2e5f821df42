-- The newest finished ingest runs that read Dify or a file (a reclassify reads neither), for
-- stale_ingest and the report warnings.
SELECT outcome, started_at, finished_at, error FROM ingest_runs
WHERE outcome <> 'running' AND mode <> 'reclassify'
ORDER BY run_id DESC LIMIT $1
