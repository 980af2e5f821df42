//! Loads what the KPIs need for a range of local dates, as Polars frames.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use sqlx::QueryBuilder;

use super::browse::MessageHead;
use super::marks::split_values;
use super::sqlite_bulk::{FromSqliteRow, query_rows, sqlx_date};
use super::{Pool, Warehouse};
use crate::extract::frame::micros;
use crate::transform::time::epoch_days;
use crate::with_pool;

/// Ids per `answers_of` query: one bound value each, well under both backends' limits.
const IDS_PER_QUERY: usize = 500;

#[derive(Debug, sqlx::FromRow)]
struct ReportMessage {
    message_id: String,
    user_key: String,
    local_date: NaiveDate,
    session_id: Option<String>,
    session_start: Option<NaiveDateTime>,
    session_date: Option<NaiveDate>,
    created_at: NaiveDateTime,
    state: String,
    kb_hit: bool,
    transfer: bool,
    kb_mark: Option<bool>,
    manual_mark: Option<bool>,
    tokens: i64,
    latency_s: f64,
    has_like: bool,
    has_dislike: bool,
}

impl FromSqliteRow for ReportMessage {
    const COLUMNS: &'static [&'static str] = &[
        "message_id",
        "user_key",
        "local_date",
        "session_id",
        "session_start",
        "session_date",
        "created_at",
        "state",
        "kb_hit",
        "transfer",
        "kb_mark",
        "manual_mark",
        "tokens",
        "latency_s",
        "has_like",
        "has_dislike",
    ];

    /// A row of `report_messages.sql`, in its column order, as sqlx would decode it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReportMessage> {
        Ok(ReportMessage {
            message_id: row.get(0)?,
            user_key: row.get(1)?,
            local_date: row.get(2)?,
            session_id: row.get(3)?,
            session_start: row.get(4)?,
            session_date: row.get(5)?,
            created_at: row.get(6)?,
            state: row.get(7)?,
            kb_hit: row.get(8)?,
            transfer: row.get(9)?,
            kb_mark: row.get(10)?,
            manual_mark: row.get(11)?,
            tokens: row.get(12)?,
            latency_s: row.get(13)?,
            has_like: row.get(14)?,
            has_dislike: row.get(15)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ReportEntry {
    user_name: String,
    local_date: NaiveDate,
    knowledge_hit: bool,
    transfer_to_human: bool,
    manual_intervention: bool,
}

fn as_dates(df: DataFrame, names: &[&str]) -> PolarsResult<DataFrame> {
    let casts: Vec<Expr> = names.iter().map(|n| col(*n).cast(DataType::Date)).collect();
    df.lazy().with_columns(casts).collect()
}

impl Warehouse {
    /// The rows of a report query over the local dates `$1..=$2`. A month's report reads
    /// ~100,000 messages, and its Messages sheet ~50,000 with their text: from SQLite through
    /// rusqlite, not sqlx's row channel (see `sqlite_bulk`).
    pub(super) async fn dated_rows<T>(
        &self,
        sql: &'static str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> anyhow::Result<Vec<T>>
    where
        T: FromSqliteRow + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let started = std::time::Instant::now();
        let rows = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.context("reading messages for the report")?;
                query_rows(&mut conn, sql, &[&sqlx_date(from).as_str(), &sqlx_date(to).as_str()]).await
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(sql).bind(from).bind(to).fetch_all(pool).await.map_err(anyhow::Error::from)
            }
        }
        .context("reading messages for the report")?;
        tracing::debug!(rows = rows.len(), elapsed = ?started.elapsed(), "Read report rows.");
        Ok(rows)
    }

    /// Included messages dated in `from..=to` or in sessions starting then (see
    /// `transform::kpi` for the columns).
    pub async fn report_messages(&self, from: NaiveDate, to: NaiveDate) -> anyhow::Result<DataFrame> {
        let sql = include_str!("../../sql/warehouse/report_messages.sql");
        let rows: Vec<ReportMessage> = self.dated_rows(sql, from, to).await?;
        let df = df!(
            "message_id" => rows.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>(),
            "user_key" => rows.iter().map(|r| r.user_key.as_str()).collect::<Vec<_>>(),
            "local_date" => rows.iter().map(|r| epoch_days(r.local_date)).collect::<Vec<_>>(),
            "session_id" => rows.iter().map(|r| r.session_id.as_deref()).collect::<Vec<_>>(),
            "session_start" => rows.iter().map(|r| r.session_start.map(micros)).collect::<Vec<_>>(),
            "session_date" => rows.iter().map(|r| r.session_date.map(epoch_days)).collect::<Vec<_>>(),
            "created_at" => rows.iter().map(|r| micros(r.created_at)).collect::<Vec<_>>(),
            "state" => rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>(),
            "kb_hit" => rows.iter().map(|r| r.kb_hit).collect::<Vec<_>>(),
            "transfer" => rows.iter().map(|r| r.transfer).collect::<Vec<_>>(),
            "kb_mark" => rows.iter().map(|r| r.kb_mark).collect::<Vec<_>>(),
            "manual_mark" => rows.iter().map(|r| r.manual_mark).collect::<Vec<_>>(),
            "tokens" => rows.iter().map(|r| r.tokens).collect::<Vec<_>>(),
            "latency_s" => rows.iter().map(|r| r.latency_s).collect::<Vec<_>>(),
            "has_like" => rows.iter().map(|r| r.has_like).collect::<Vec<_>>(),
            "has_dislike" => rows.iter().map(|r| r.has_dislike).collect::<Vec<_>>(),
        )?;
        Ok(as_dates(df, &["local_date", "session_date"])?)
    }

    /// Manual entries dated in `from..=to`.
    pub async fn report_entries(&self, from: NaiveDate, to: NaiveDate) -> anyhow::Result<DataFrame> {
        let rows: Vec<ReportEntry> = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/report_entries.sql")).bind(from).bind(to).fetch_all(pool).await
        })
        .context("reading manual entries for the report")?;
        let df = df!(
            "user_name" => rows.iter().map(|r| r.user_name.as_str()).collect::<Vec<_>>(),
            "local_date" => rows.iter().map(|r| epoch_days(r.local_date)).collect::<Vec<_>>(),
            "knowledge_hit" => rows.iter().map(|r| r.knowledge_hit).collect::<Vec<_>>(),
            "transfer_to_human" => rows.iter().map(|r| r.transfer_to_human).collect::<Vec<_>>(),
            "manual_intervention" => rows.iter().map(|r| r.manual_intervention).collect::<Vec<_>>(),
        )?;
        Ok(as_dates(df, &["local_date"])?)
    }

    /// The newest Dify `created_at` stored (naive UTC).
    pub async fn newest_message(&self) -> anyhow::Result<Option<NaiveDateTime>> {
        let (t,): (Option<NaiveDateTime>,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/newest_message.sql")).fetch_one(pool).await
        })
        .context("reading the newest message time")?;
        Ok(t)
    }
}

/// A message of the detail sheets.
#[derive(Debug, sqlx::FromRow)]
pub struct DetailMessage {
    #[sqlx(flatten)]
    pub head: MessageHead,
    pub created_at: NaiveDateTime,
    /// The answer's length in characters (the text itself: [`Warehouse::answers_of`]).
    pub answer_chars: i64,
    pub kb_hit: bool,
    pub transfer: bool,
    pub latency_s: f64,
    pub session_id: Option<String>,
    pub kb_mark: Option<bool>,
    pub manual_mark: Option<bool>,
    pub manual_operator: Option<String>,
    pub has_like: bool,
    pub has_dislike: bool,
}

impl FromSqliteRow for DetailMessage {
    const COLUMNS: &'static [&'static str] = &[
        "message_id",
        "local_time",
        "user_key",
        "question",
        "state",
        "created_at",
        "answer_chars",
        "kb_hit",
        "transfer",
        "latency_s",
        "session_id",
        "kb_mark",
        "manual_mark",
        "manual_operator",
        "has_like",
        "has_dislike",
    ];

    /// A row of `detail_messages.sql`, in its column order, as sqlx would decode it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<DetailMessage> {
        Ok(DetailMessage {
            head: MessageHead::from_sqlite(row)?,
            created_at: row.get(5)?,
            answer_chars: row.get(6)?,
            kb_hit: row.get(7)?,
            transfer: row.get(8)?,
            latency_s: row.get(9)?,
            session_id: row.get(10)?,
            kb_mark: row.get(11)?,
            manual_mark: row.get(12)?,
            manual_operator: row.get(13)?,
            has_like: row.get(14)?,
            has_dislike: row.get(15)?,
        })
    }
}

/// A candidate of knowledge gaps: an answered message with the rule's verdict and the current
/// kb mark, without its answer (`gap_candidates.sql`).
#[derive(Debug, sqlx::FromRow)]
pub struct GapCandidate {
    #[sqlx(flatten)]
    pub head: MessageHead,
    /// The rule's verdict.
    pub kb_hit: bool,
    pub kb_mark: Option<bool>,
}

impl FromSqliteRow for GapCandidate {
    const COLUMNS: &'static [&'static str] =
        &["message_id", "local_time", "user_key", "question", "state", "kb_hit", "kb_mark"];

    /// A row of `gap_candidates.sql`, in its column order, as sqlx would decode it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<GapCandidate> {
        Ok(GapCandidate { head: MessageHead::from_sqlite(row)?, kb_hit: row.get(5)?, kb_mark: row.get(6)? })
    }
}

/// A manual entry of the detail sheets.
#[derive(Debug, sqlx::FromRow)]
pub struct DetailEntry {
    pub user_name: String,
    pub query: String,
    pub consultation_time: NaiveDateTime,
    pub entry_person: Option<String>,
    pub knowledge_hit: bool,
    pub transfer_to_human: bool,
    pub manual_intervention: bool,
    pub operation_user: Option<String>,
}

/// A current operator mark of the detail sheets.
#[derive(Debug, sqlx::FromRow)]
pub struct DetailMark {
    pub message_id: String,
    pub field: String,
    pub value: Option<bool>,
    pub operator: String,
    pub note: Option<String>,
    pub marked_at: NaiveDateTime,
    pub user_key: String,
    pub question: String,
}

impl Warehouse {
    /// Included messages dated in `from..=to`, oldest first, with text, marks and feedback.
    pub async fn detail_messages(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> anyhow::Result<Vec<DetailMessage>> {
        self.dated_rows(include_str!("../../sql/warehouse/detail_messages.sql"), from, to).await
    }

    /// The answers of `ids`, in their order ("" for an id not stored), one query per
    /// [`IDS_PER_QUERY`]: the Messages sheet reads its answers a block at a time.
    pub async fn answers_of(&self, ids: &[&str]) -> anyhow::Result<Vec<String>> {
        let (head, tail) = split_values(include_str!("../../sql/warehouse/answers_of.sql"));
        let mut found: HashMap<String, String> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<(String, String)> = with_pool!(self, pool, Db => {
                let mut qb = QueryBuilder::<Db>::new(head);
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(tail);
                qb.build_query_as().fetch_all(pool).await
            })
            .context("reading answers")?;
            found.extend(rows);
        }
        Ok(ids.iter().map(|id| found.remove(*id).unwrap_or_default()).collect())
    }

    /// The answered messages dated in `from..=to` that knowledge gaps look at ([`GapCandidate`]).
    pub async fn gap_candidates(&self, from: NaiveDate, to: NaiveDate) -> anyhow::Result<Vec<GapCandidate>> {
        self.dated_rows(include_str!("../../sql/warehouse/gap_candidates.sql"), from, to).await
    }

    /// Manual entries dated in `from..=to`.
    pub async fn detail_entries(&self, from: NaiveDate, to: NaiveDate) -> anyhow::Result<Vec<DetailEntry>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/detail_entries.sql")).bind(from).bind(to).fetch_all(pool).await
        })
        .context("reading manual entries for the report")
    }

    /// Current marks of messages dated in `from..=to`.
    pub async fn detail_marks(&self, from: NaiveDate, to: NaiveDate) -> anyhow::Result<Vec<DetailMark>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/detail_marks.sql")).bind(from).bind(to).fetch_all(pool).await
        })
        .context("reading marks for the report")
    }
}
