//! What `itstat check` and `itstat alerts` read and write: the ingest history, a day's busiest
//! user key, Dify's newest message, the alert episodes, what each recipient was told about
//! them, and the silences (`alert_episodes`, `alert_notifications`, `alert_silences`,
//! docs/warehouse.md). The rules are in `transform::alerts`; this module only loads and
//! stores. A notification's record — the delivery row and what it told — is one transaction,
//! written after the post or mail went out: a process killed in between sends it once more
//! at the next check, and a resolved notice is never marked told before it was sent.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};

use super::deliveries::Delivery;
use super::{Tx, Warehouse};
use crate::error::mask_secrets;
use crate::transform::alerts::episodes::{Episode, EpisodeChanges, Silence, Told};
use crate::transform::alerts::{AlertKind, IngestHealth, RunFact};
use crate::{with_conn, with_pool};

crate::table!(
    /// An `alert_episodes` row: one alert of one kind about one subject, from the check that
    /// first saw it to the one that found it quiet.
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct EpisodeRow => "alert_episodes", serial(pub episode_id: i64), key(episode_id), keep() {
        pub kind: String,
        pub subject: String,
        pub opened_at: NaiveDateTime,
        pub fired_at: Option<NaiveDateTime>,
        pub last_seen_at: NaiveDateTime,
        pub cleared_at: Option<NaiveDateTime>,
    }
);

impl EpisodeRow {
    /// The episode; `None` for a kind this version does not know (a newer itstat wrote it).
    fn episode(self) -> Option<Episode> {
        Some(Episode {
            id: self.episode_id,
            kind: AlertKind::parse(&self.kind)?,
            subject: self.subject,
            opened_at: self.opened_at,
            fired_at: self.fired_at,
            last_seen_at: self.last_seen_at,
            cleared_at: self.cleared_at,
        })
    }
}

crate::table!(
    /// An `alert_silences` row (`itstat alerts silence`).
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct SilenceRow => "alert_silences", serial(pub silence_id: i64), key(silence_id), keep() {
        pub kind: String,
        pub subject: Option<String>,
        pub starts_at: NaiveDateTime,
        pub ends_at: NaiveDateTime,
        pub reason: String,
        pub created_by: String,
        pub expired_at: Option<NaiveDateTime>,
    }
);

impl SilenceRow {
    fn silence(self) -> Option<Silence> {
        Some(Silence {
            id: self.silence_id,
            kind: AlertKind::parse(&self.kind)?,
            subject: self.subject,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            reason: self.reason,
            created_by: self.created_by,
            expired_at: self.expired_at,
        })
    }
}

crate::table!(
    /// An `alert_notifications` row: what one recipient was told about one episode.
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct ToldRow => "alert_notifications", key(episode_id, recipient), keep() {
        pub episode_id: i64,
        pub recipient: String,
        pub firing_sent_at: Option<NaiveDateTime>,
        pub held_at: Option<NaiveDateTime>,
        pub resolved_sent_at: Option<NaiveDateTime>,
    }
);

/// A new silence.
#[derive(Debug, Clone)]
pub struct NewSilence<'a> {
    pub kind: AlertKind,
    pub subject: Option<&'a str>,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub reason: &'a str,
    pub created_by: &'a str,
}

/// What one notification told one recipient, recorded with its delivery row.
#[derive(Debug, Clone)]
pub struct Notified<'a> {
    pub delivery: Delivery<'a>,
    /// Episodes it said fire.
    pub firing: &'a [i64],
    /// Episodes it said ended.
    pub resolved: &'a [i64],
    pub at: NaiveDateTime,
}

/// One finished ingest run, as the staleness rules see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FinishedRun {
    pub outcome: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub error: Option<String>,
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
}

impl Warehouse {
    /// Every open episode, pending or firing.
    pub async fn open_episodes(&self) -> anyhow::Result<Vec<Episode>> {
        self.episodes(include_str!("../../sql/warehouse/alert_episodes_all_open.sql"), None).await
    }

    /// Ended episodes whose resolved notice some recipient is due.
    pub async fn untold_episodes(&self) -> anyhow::Result<Vec<Episode>> {
        self.episodes(include_str!("../../sql/warehouse/alert_episodes_untold.sql"), None).await
    }

    /// Episodes that fired and ended since `since`, newest first, at most `limit`.
    pub async fn resolved_episodes(&self, since: NaiveDateTime, limit: i64) -> anyhow::Result<Vec<Episode>> {
        self.episodes(include_str!("../../sql/warehouse/alert_episodes_resolved.sql"), Some((since, limit)))
            .await
    }

    async fn episodes(
        &self,
        sql: &'static str,
        args: Option<(NaiveDateTime, i64)>,
    ) -> anyhow::Result<Vec<Episode>> {
        let rows: Vec<EpisodeRow> = with_pool!(self, pool, Db => {
            let query = sqlx::query_as::<_, EpisodeRow>(sql);
            let query = match args {
                Some((since, limit)) => query.bind(since).bind(limit),
                None => query,
            };
            query.fetch_all(pool).await
        })
        .context("reading alert_episodes")?;
        Ok(rows.into_iter().filter_map(EpisodeRow::episode).collect())
    }

    /// What `recipient` was told about the episodes still open or not yet told ended.
    pub async fn told(&self, recipient: &str) -> anyhow::Result<Vec<Told>> {
        let rows: Vec<ToldRow> = with_pool!(self, pool, Db => {
            sqlx::query_as::<_, ToldRow>(include_str!("../../sql/warehouse/alert_told.sql"))
                .bind(recipient)
                .fetch_all(pool)
                .await
        })
        .context("reading alert_notifications")?;
        Ok(rows
            .into_iter()
            .map(|r| Told {
                episode: r.episode_id,
                firing_sent_at: r.firing_sent_at,
                held_at: r.held_at,
                resolved_sent_at: r.resolved_sent_at,
            })
            .collect())
    }

    /// The silences in force at `now`.
    pub async fn active_silences(&self, now: NaiveDateTime) -> anyhow::Result<Vec<Silence>> {
        let rows: Vec<SilenceRow> = with_pool!(self, pool, Db => {
            sqlx::query_as::<_, SilenceRow>(include_str!("../../sql/warehouse/alert_silences_active.sql"))
                .bind(now)
                .fetch_all(pool)
                .await
        })
        .context("reading alert_silences")?;
        Ok(rows.into_iter().filter_map(SilenceRow::silence).collect())
    }

    /// One silence by id.
    pub async fn silence(&self, id: i64) -> anyhow::Result<Option<Silence>> {
        let row: Option<SilenceRow> = with_pool!(self, pool, Db => {
            sqlx::query_as::<_, SilenceRow>(include_str!("../../sql/warehouse/alert_silence_get.sql"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })
        .context("reading alert_silences")?;
        Ok(row.and_then(SilenceRow::silence))
    }

    /// Records a silence; returns its id.
    pub async fn add_silence(&self, s: &NewSilence<'_>) -> anyhow::Result<i64> {
        let (id,): (i64,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/alert_silence_insert.sql"))
                .bind(s.kind.as_str())
                .bind(s.subject)
                .bind(s.starts_at)
                .bind(s.ends_at)
                .bind(s.reason)
                .bind(s.created_by)
                .fetch_one(pool)
                .await
        })
        .context("writing alert_silences")?;
        Ok(id)
    }

    /// Ends a silence at `now`.
    pub async fn expire_silence(&self, id: i64, now: NaiveDateTime) -> anyhow::Result<()> {
        with_pool!(self, pool, Db => {
            sqlx::query(include_str!("../../sql/warehouse/alert_silence_expire.sql"))
                .bind(id)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        })
        .context("writing alert_silences")
    }

    /// The newest `created_at` of an included message (naive UTC).
    pub async fn newest_traffic(&self) -> anyhow::Result<Option<NaiveDateTime>> {
        self.one_time(include_str!("../../sql/warehouse/alert_newest_traffic.sql")).await
    }

    /// The oldest `created_at` the warehouse holds (naive UTC).
    pub async fn oldest_message(&self) -> anyhow::Result<Option<NaiveDateTime>> {
        self.one_time(include_str!("../../sql/warehouse/oldest_message.sql")).await
    }

    async fn one_time(&self, sql: &'static str) -> anyhow::Result<Option<NaiveDateTime>> {
        let (t,): (Option<NaiveDateTime>,) = with_pool!(self, pool, Db => {
            sqlx::query_as(sql).fetch_one(pool).await
        })
        .context("reading messages")?;
        Ok(t)
    }

    /// Applies a check's episode changes at `now` in one transaction; returns the ids of the
    /// opened episodes, in the order of `changes.open`.
    pub async fn apply_episodes(
        &self,
        changes: &EpisodeChanges,
        now: NaiveDateTime,
    ) -> anyhow::Result<Vec<i64>> {
        if changes == &EpisodeChanges::default() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let mut ids = Vec::new();
        for new in &changes.open {
            let fired = new.fired.then_some(now);
            let sql = include_str!("../../sql/warehouse/alert_episode_insert.sql");
            let (id,): (i64,) = with_conn!(&mut tx, conn, Db => {
                sqlx::query_as(sql).bind(new.kind.as_str()).bind(&new.subject).bind(now).bind(fired).fetch_one(&mut *conn).await
            })
            .context("writing alert_episodes")?;
            ids.push(id);
        }
        let steps: [(&[i64], &'static str, Option<NaiveDateTime>); 4] = [
            (&changes.seen, include_str!("../../sql/warehouse/alert_episode_seen.sql"), Some(now)),
            (&changes.fire, include_str!("../../sql/warehouse/alert_episode_fire.sql"), Some(now)),
            (&changes.clear, include_str!("../../sql/warehouse/alert_episode_clear.sql"), Some(now)),
            (&changes.forget, include_str!("../../sql/warehouse/alert_episode_forget.sql"), None),
        ];
        for (episodes, sql, at) in steps {
            for id in episodes {
                tx.episode_step(sql, *id, at).await?;
            }
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Records a notification — its delivery row and, when it was sent, what it told — in one
    /// transaction.
    pub async fn record_notification(&self, n: &Notified<'_>) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.record_delivery_at(&n.delivery, n.at).await?;
        if n.delivery.status == "sent" {
            tx.told(
                include_str!("../../sql/warehouse/alert_told_firing.sql"),
                n.firing,
                n.delivery.recipient,
                n.at,
            )
            .await?;
            tx.told(
                include_str!("../../sql/warehouse/alert_told_resolved.sql"),
                n.resolved,
                n.delivery.recipient,
                n.at,
            )
            .await?;
        }
        tx.commit().await
    }

    /// Records that quiet time held these episodes for `recipient`.
    pub async fn record_held(
        &self,
        episodes: &[i64],
        recipient: &str,
        now: NaiveDateTime,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.told(include_str!("../../sql/warehouse/alert_told_held.sql"), episodes, recipient, now).await?;
        tx.commit().await
    }

    /// Records resolved notices passed over (`send_resolved = false`) as settled.
    pub async fn record_settled(
        &self,
        episodes: &[i64],
        recipient: &str,
        now: NaiveDateTime,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.told(include_str!("../../sql/warehouse/alert_told_resolved.sql"), episodes, recipient, now)
            .await?;
        tx.commit().await
    }
}

impl Tx {
    /// One statement of an episode change: `$1` the episode, `$2` the time when it takes one.
    async fn episode_step(
        &mut self,
        sql: &'static str,
        id: i64,
        at: Option<NaiveDateTime>,
    ) -> anyhow::Result<()> {
        with_conn!(self, conn, Db => {
            let query = sqlx::query(sql).bind(id);
            let query = match at {
                Some(at) => query.bind(at),
                None => query,
            };
            query.execute(&mut *conn).await.map(|_| ())
        })
        .context("writing alert_episodes")
    }

    /// One `alert_notifications` upsert per episode: `$1` the episode, `$2` the recipient,
    /// `$3` the time.
    async fn told(
        &mut self,
        sql: &'static str,
        episodes: &[i64],
        recipient: &str,
        at: NaiveDateTime,
    ) -> anyhow::Result<()> {
        for id in episodes {
            with_conn!(self, conn, Db => {
                sqlx::query(sql).bind(id).bind(recipient).bind(at).execute(&mut *conn).await.map(|_| ())
            })
            .context("writing alert_notifications")?;
        }
        Ok(())
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
