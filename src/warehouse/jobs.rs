//! The `job_runs` table: what `itstat schedule` ran and how it ended.

use anyhow::Context;

use super::Warehouse;
use crate::with_pool;

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
}
