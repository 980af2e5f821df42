//! What `itstat check` reads and writes: the ingest history, a day's busiest user key, and
//! the alert episodes (`alert_episodes`, docs/warehouse.md). The rules are in
//! `transform::alerts`; this module only loads and stores.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};

use super::Warehouse;
use crate::error::mask_secrets;
use crate::transform::alerts::{IngestHealth, RunFact};
use crate::with_pool;

/// One finished ingest run, as the staleness rules see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FinishedRun {
    pub outcome: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub error: Option<String>,
}

/// An open alert episode.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenEpisode {
    pub episode_id: i64,
    pub kind: String,
    pub subject: String,
}

/// How many runs back the failure count looks (a cron every 10 minutes: about a week).
const RUNS_LOOKED_AT: i64 = 1000;

impl Warehouse {
    /// The newest finished runs that read data, newest first.
    pub async fn finished_runs(&self) -> anyhow::Result<Vec<FinishedRun>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, FinishedRun>(include_str!("../../sql/warehouse/alert_runs.sql"))
                .bind(RUNS_LOOKED_AT)
                .fetch_all(pool)
                .await
        })
        .context("reading ingest_runs")
    }

    /// The user key with the most included messages on `date`, and its count.
    pub async fn top_user(&self, date: NaiveDate) -> anyhow::Result<Option<(String, i64)>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, (String, i64)>(include_str!("../../sql/warehouse/alert_top_user.sql"))
                .bind(date)
                .fetch_optional(pool)
                .await
        })
        .context("counting the day's messages per user key")
    }

    /// The open episode of `kind` about `subject`: its id and when it opened.
    pub async fn open_episode(
        &self,
        kind: &str,
        subject: &str,
    ) -> anyhow::Result<Option<(i64, NaiveDateTime)>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, (i64, NaiveDateTime)>(include_str!("../../sql/warehouse/alert_episode_open.sql"))
                .bind(kind)
                .bind(subject)
                .fetch_optional(pool)
                .await
        })
        .context("reading alert_episodes")
    }

    /// Opens an episode at `now`; returns its id.
    pub async fn start_episode(&self, kind: &str, subject: &str, now: NaiveDateTime) -> anyhow::Result<i64> {
        let (id,): (i64,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/alert_episode_insert.sql"))
                .bind(kind)
                .bind(subject)
                .bind(now)
                .fetch_one(pool)
                .await
        })
        .context("writing alert_episodes")?;
        Ok(id)
    }

    /// Notes that an open episode's alert still fires.
    pub async fn episode_seen(&self, episode_id: i64, now: NaiveDateTime) -> anyhow::Result<()> {
        with_pool!(self, pool, Db => {
            sqlx::query(include_str!("../../sql/warehouse/alert_episode_seen.sql"))
                .bind(episode_id)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .context("writing alert_episodes")
    }

    /// Every open episode.
    pub async fn open_episodes(&self) -> anyhow::Result<Vec<OpenEpisode>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, OpenEpisode>(include_str!("../../sql/warehouse/alert_episodes_all_open.sql"))
                .fetch_all(pool)
                .await
        })
        .context("reading alert_episodes")
    }

    /// Closes an episode whose alert no longer fires.
    pub async fn clear_episode(&self, episode_id: i64, now: NaiveDateTime) -> anyhow::Result<()> {
        with_pool!(self, pool, Db => {
            sqlx::query(include_str!("../../sql/warehouse/alert_episode_clear.sql"))
                .bind(episode_id)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .context("writing alert_episodes")
    }
}

impl Warehouse {
    /// The ingest's health: the newest successful run that read data and the failures since,
    /// errors masked (they go to chat groups and mail).
    pub async fn ingest_health(&self) -> anyhow::Result<IngestHealth> {
        let runs = self.finished_runs().await?;
        Ok(IngestHealth::from_runs(runs.into_iter().map(|r| RunFact {
            succeeded: r.outcome == "ok",
            started_at: r.started_at,
            finished_at: r.finished_at,
            error: r.error.as_deref().map(mask_secrets),
        })))
    }
}
