//! The `job_runs` table: what `itstat schedule` ran and how it ended.

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::Warehouse;
use crate::with_pool;

crate::table!(
    /// One `job_runs` row: a run of a scheduled job (`itstat status` shows the last of each).
    #[derive(Debug, Clone, Serialize, sqlx::FromRow)]
    pub struct JobRunRecord => "job_runs", serial(pub run_id: i64), key(run_id), keep() {
        pub job: String,
        /// The command line it ran (in the log, not in `status`).
        #[serde(skip)]
        pub command: String,
        pub started_at: NaiveDateTime,
        pub finished_at: Option<NaiveDateTime>,
        pub outcome: String,
        pub error: Option<String>,
    }
);

impl Warehouse {
    /// Records a job's start; returns its run id.
    pub async fn start_job(&self, job: &str, command: &str) -> anyhow::Result<i64> {
        let now = chrono::Utc::now().naive_utc();
        let (id,): (i64,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/job_start.sql")).bind(job).bind(command).bind(now).fetch_one(pool).await
        })
        .context("recording the job")?;
        Ok(id)
    }

    /// Records a job's end (`ok` or `failed`, with the error).
    pub async fn finish_job(&self, run_id: i64, outcome: &str, error: Option<&str>) -> anyhow::Result<()> {
        let now = chrono::Utc::now().naive_utc();
        with_pool!(self, pool, Db => {
            sqlx::query(include_str!("../../sql/warehouse/job_finish.sql"))
                .bind(run_id)
                .bind(now)
                .bind(outcome)
                .bind(error)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .context("recording the job")
    }

    /// The last run of each job, by job name.
    pub async fn last_job_runs(&self) -> anyhow::Result<Vec<JobRunRecord>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, JobRunRecord>(include_str!("../../sql/warehouse/job_last.sql")).fetch_all(pool).await
        })
        .context("reading job_runs")
    }
}
