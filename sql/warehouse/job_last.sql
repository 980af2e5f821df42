-- The last run of each scheduled job.
SELECT run_id, job, command, started_at, finished_at, outcome, error
FROM job_runs
WHERE run_id IN (SELECT MAX(run_id) FROM job_runs GROUP BY job)
ORDER BY job
