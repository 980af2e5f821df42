-- Runs of `itstat schedule` jobs: when, how they ended, and the error when they failed.
CREATE TABLE job_runs (
    run_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    job          TEXT NOT NULL,
    command      TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX job_runs_job_idx ON job_runs (job, run_id);
