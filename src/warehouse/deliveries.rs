//! The delivery log (`deliveries`): what was mailed, for which period, to whom. A recorded
//! error passes through `mask_secrets` once more: it may quote a server that echoed a URL.

use anyhow::Context;
use chrono::NaiveDateTime;

use super::{Tx, Warehouse};
use crate::error::mask_secrets;
use crate::{with_conn, with_pool};

/// One delivery attempt to record.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub report_kind: &'a str,
    pub period_label: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub attachment: Option<&'a str>,
    /// `sent` or `failed`.
    pub status: &'a str,
    pub error: Option<&'a str>,
}

impl Warehouse {
    /// When this report was last sent to `recipient` (naive UTC), if ever.
    pub async fn sent_at(
        &self,
        kind: &str,
        period: &str,
        recipient: &str,
    ) -> anyhow::Result<Option<NaiveDateTime>> {
        let (t,): (Option<NaiveDateTime>,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/delivery_sent.sql"))
                .bind(kind)
                .bind(period)
                .bind(recipient)
                .fetch_one(pool)
                .await
        })
        .context("reading the delivery log")?;
        Ok(t)
    }

    /// When mail of `kind` was last sent to `recipient`, whatever its period: the scheduler's
    /// failure mails are limited by the time since the last one, not by their label.
    pub async fn last_sent(&self, kind: &str, recipient: &str) -> anyhow::Result<Option<NaiveDateTime>> {
        let (t,): (Option<NaiveDateTime>,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/delivery_last_sent.sql"))
                .bind(kind)
                .bind(recipient)
                .fetch_one(pool)
                .await
        })
        .context("reading the delivery log")?;
        Ok(t)
    }

    /// Records an attempt made now, in a transaction of its own.
    pub async fn record_delivery(&self, d: &Delivery<'_>) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        tx.record_delivery_at(d, chrono::Utc::now().naive_utc()).await?;
        tx.commit().await
    }
}

impl Tx {
    /// Records an attempt made at `at`, in this transaction (with what it told, for `check`).
    pub async fn record_delivery_at(&mut self, d: &Delivery<'_>, at: NaiveDateTime) -> anyhow::Result<()> {
        with_conn!(self, conn, Db => {
            sqlx::query(include_str!("../../sql/warehouse/delivery_record.sql"))
                .bind(d.report_kind)
                .bind(d.period_label)
                .bind(d.recipient)
                .bind(d.subject)
                .bind(d.attachment)
                .bind(d.status)
                .bind(d.error.map(mask_secrets))
                .bind(at)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })
        .context("writing the delivery log")
    }
}
