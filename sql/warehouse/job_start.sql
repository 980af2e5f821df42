-- Records the start of a scheduled job.
INSERT INTO job_runs (job, command, started_at, outcome) VALUES ($1, $2, $3, 'running')
RETURNING run_id
