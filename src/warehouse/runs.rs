//! The `ingest_runs` table: one row per run, and the cursor in `meta`.

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::{Tx, Warehouse};
use crate::{with_conn, with_pool};

/// The `meta` key of the cursor: the newest Dify `created_at` committed.
pub const CURSOR_KEY: &str = "cursor";
/// The `meta` key of the rules the stored rows were classified with.
pub const RULES_KEY: &str = "rules";
/// The `meta` key of the app selection (ids) the last complete read of Dify was made with.
pub const APPS_KEY: &str = "apps";
/// The `meta` key of the `[dify] apps` entries (ids or names) [`APPS_KEY`] was resolved from.
pub const APPS_CONFIG_KEY: &str = "apps_config";
/// The `meta` key of the summary of Dify's feedback the stored feedback was last brought to
/// (`warehouse::feedback::Summary`); empty when another write of feedback made it stale.
pub const FEEDBACK_SUMMARY_KEY: &str = "feedback_summary";

const CURSOR_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// Counts a run reports.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct RunCounts {
    pub rows_read: i64,
    pub rows_new: i64,
    pub rows_changed: i64,
    pub feedback_changed: i64,
}

crate::table!(
    /// One `ingest_runs` row.
    #[derive(Debug, Clone, Serialize, sqlx::FromRow)]
    pub struct RunRecord => "ingest_runs", serial(pub run_id: i64), key(run_id), keep() {
        pub started_at: NaiveDateTime,
        pub finished_at: Option<NaiveDateTime>,
        pub mode: String,
        pub outcome: String,
        pub rows_read: i64,
        pub rows_new: i64,
        pub rows_changed: i64,
        pub feedback_changed: i64,
        pub cursor_before: Option<NaiveDateTime>,
        pub cursor_after: Option<NaiveDateTime>,
        pub error: Option<String>,
    }
);

/// Parses a stored cursor.
pub fn parse_cursor(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, CURSOR_FORMAT).ok()
}

/// Formats a cursor for storage.
pub fn format_cursor(t: NaiveDateTime) -> String {
    t.format(CURSOR_FORMAT).to_string()
}

impl Warehouse {
    /// The cursor, if any run committed data.
    pub async fn cursor(&self) -> anyhow::Result<Option<NaiveDateTime>> {
        Ok(self.meta(CURSOR_KEY).await?.as_deref().and_then(parse_cursor))
    }

    /// Marks runs left `running` by a dead process as aborted. Call with the lock held.
    pub async fn abandon_stale_runs(&self) -> anyhow::Result<()> {
        with_pool!(self, pool, Db => {
            sqlx::query(include_str!("../../sql/warehouse/run_abandon.sql")).execute(pool).await.map(|_| ())
        })
        .with_context(|| format!("updating ingest_runs in the warehouse {}", self.place))?;
        Ok(())
    }

    /// Records a run's start; returns its id. The time is `crate::clock`'s, so the tests that
    /// pin "now" see runs and alerts (stale_ingest, no_traffic) on one clock.
    pub async fn start_run(&self, mode: &str, cursor: Option<NaiveDateTime>) -> anyhow::Result<i64> {
        let now = crate::clock::now().naive_utc();
        let (id,): (i64,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/run_start.sql"))
                .bind(now)
                .bind(mode)
                .bind(cursor)
                .fetch_one(pool)
                .await
        })
        .with_context(|| format!("recording the run in the warehouse {}", self.place))?;
        Ok(id)
    }

    /// Records a run's end.
    pub async fn finish_run(
        &self,
        run_id: i64,
        outcome: &str,
        counts: RunCounts,
        cursor: Option<NaiveDateTime>,
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        let now = crate::clock::now().naive_utc();
        with_pool!(self, pool, Db => {
            sqlx::query(include_str!("../../sql/warehouse/run_finish.sql"))
                .bind(run_id)
                .bind(now)
                .bind(outcome)
                .bind(counts.rows_read)
                .bind(counts.rows_new)
                .bind(counts.rows_changed)
                .bind(counts.feedback_changed)
                .bind(cursor)
                .bind(error)
                .execute(pool)
                .await.map(|_| ())
        })
        .with_context(|| format!("recording the run in the warehouse {}", self.place))?;
        Ok(())
    }

    /// The last `n` runs, newest first.
    pub async fn last_runs(&self, n: i64) -> anyhow::Result<Vec<RunRecord>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, RunRecord>(include_str!("../../sql/warehouse/run_last.sql")).bind(n).fetch_all(pool).await
        })
        .context("reading ingest_runs")
    }
}

impl Tx {
    /// Moves the cursor forward (never back), in the batch's transaction.
    pub async fn advance_cursor(&mut self, to: NaiveDateTime) -> anyhow::Result<()> {
        let current: Option<(String,)> = with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/meta_get.sql")).bind(CURSOR_KEY).fetch_optional(&mut *conn).await
        })
        .context("reading the cursor")?;
        let current = current.and_then(|(v,)| parse_cursor(&v));
        if current.is_none_or(|c| to > c) {
            self.set_meta(CURSOR_KEY, &format_cursor(to)).await?;
        }
        Ok(())
    }
}
