-- Runs of `itstat schedule` jobs: when, how they ended, and the error when they failed.
CREATE TABLE job_runs (
    run_id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job          TEXT COLLATE "C" NOT NULL,
    command      TEXT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    outcome      TEXT NOT NULL,
    error        TEXT
);
CREATE INDEX job_runs_job_idx ON job_runs (job, run_id);
