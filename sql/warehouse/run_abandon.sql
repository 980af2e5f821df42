-- Runs still marked running when the ingest lock is free died without finishing.
UPDATE ingest_runs SET outcome = 'aborted', error = 'the process stopped before the run ended'
WHERE outcome = 'running'
