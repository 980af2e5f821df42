-- Records how a scheduled job ended.
UPDATE job_runs SET finished_at = $2, outcome = $3, error = $4 WHERE run_id = $1
