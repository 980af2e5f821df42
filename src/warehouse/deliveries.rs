//! The delivery log (`deliveries`): what was mailed, for which period, to whom. A recorded
//! error passes through `mask_secrets` once more: it may quote a server that echoed a URL.

use anyhow::Context;
use chrono::NaiveDateTime;

use super::write::Conflict;
use super::{Tx, Warehouse};
use crate::error::mask_secrets;
use crate::with_pool;

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

crate::table!(
    /// The `deliveries` table's columns: one attempt to one recipient (`delivery_id` is 0 in
    /// a row about to be written; the database assigns it).
    #[derive(Debug, Clone)]
    pub struct DeliveryRow => "deliveries", serial(pub delivery_id: i64), key(delivery_id), keep() {
        pub report_kind: String,
        pub period_label: String,
        pub recipient: String,
        pub subject: String,
        pub attachment: Option<String>,
        pub status: String,
        pub error: Option<String>,
        pub attempted_at: NaiveDateTime,
    }
);

impl Delivery<'_> {
    /// The row recording this attempt, made at `at`; its error masked once more.
    fn row(&self, at: NaiveDateTime) -> DeliveryRow {
        DeliveryRow {
            delivery_id: 0,
            report_kind: self.report_kind.into(),
            period_label: self.period_label.into(),
            recipient: self.recipient.into(),
            subject: self.subject.into(),
            attachment: self.attachment.map(str::to_owned),
            status: self.status.into(),
            error: self.error.map(mask_secrets),
            attempted_at: at,
        }
    }
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
        self.write_rows(&[d.row(at)], Conflict::None).await.context("writing the delivery log")
    }
}
