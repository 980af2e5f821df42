//! Extract: reads Dify's messages and feedback. Never writes anywhere.
//!
//! [`dify::DifySource`] talks to Dify's PostgreSQL inside one read-only transaction and hands
//! out batches of [`RawMessage`]; [`frame`] turns a batch into the Polars frame the transform
//! works on. Nothing here applies a help-desk rule: the rows come out as Dify stored them.

pub mod dify;
pub mod file;
pub mod frame;

use chrono::NaiveDateTime;
use sqlx::postgres::PgRow;

/// One Dify message with the joined fields the metrics need, as Dify stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMessage {
    /// `messages.id`
    pub id: String,
    pub app_id: String,
    pub conversation_id: String,
    /// Naive UTC, as Dify stores it.
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub query: String,
    pub answer: String,
    pub status: String,
    pub error: Option<String>,
    pub from_source: String,
    pub from_end_user_id: Option<String>,
    pub from_account_id: Option<String>,
    pub invoke_from: Option<String>,
    /// `messages.inputs` as JSON text.
    pub inputs: Option<String>,
    pub message_tokens: i64,
    pub answer_tokens: i64,
    /// `provider_response_latency`, seconds.
    pub latency_s: f64,
    pub total_price: Option<f64>,
    pub currency: Option<String>,
    /// Absent before Dify 0.9.0.
    pub parent_message_id: Option<String>,
    /// Absent before Dify 1.9.2.
    pub app_mode: Option<String>,
    /// `end_users.session_id` of `from_end_user_id`.
    pub end_user_session_id: Option<String>,
    /// `accounts.email` of `from_account_id`.
    pub account_email: Option<String>,
    pub conversation_name: Option<String>,
    /// `conversations.is_deleted`; `None` when the conversation row is gone.
    pub conversation_deleted: Option<bool>,
}

/// Decodes by position where the query's columns come in the struct's order (Dify's
/// `sql/dify/message_columns.sql`), by name otherwise (the PostgreSQL warehouse's stored rows).
/// Looking every column up by name took 5.6 % of a first load's instructions
/// (docs/performance.md, "The first load").
impl<'r> sqlx::FromRow<'r, PgRow> for RawMessage {
    fn from_row(row: &'r PgRow) -> Result<RawMessage, sqlx::Error> {
        let mut c = Columns { row, at: 0 };
        Ok(RawMessage {
            id: c.next("id")?,
            app_id: c.next("app_id")?,
            conversation_id: c.next("conversation_id")?,
            created_at: c.next("created_at")?,
            updated_at: c.next("updated_at")?,
            query: c.next("query")?,
            answer: c.next("answer")?,
            status: c.next("status")?,
            error: c.next("error")?,
            from_source: c.next("from_source")?,
            from_end_user_id: c.next("from_end_user_id")?,
            from_account_id: c.next("from_account_id")?,
            invoke_from: c.next("invoke_from")?,
            inputs: c.next("inputs")?,
            message_tokens: c.next("message_tokens")?,
            answer_tokens: c.next("answer_tokens")?,
            latency_s: c.next("latency_s")?,
            total_price: c.next("total_price")?,
            currency: c.next("currency")?,
            parent_message_id: c.next("parent_message_id")?,
            app_mode: c.next("app_mode")?,
            end_user_session_id: c.next("end_user_session_id")?,
            account_email: c.next("account_email")?,
            conversation_name: c.next("conversation_name")?,
            conversation_deleted: c.next("conversation_deleted")?,
        })
    }
}

/// A row's columns in the order [`RawMessage`] declares them.
struct Columns<'r> {
    row: &'r PgRow,
    at: usize,
}

impl<'r> Columns<'r> {
    /// The value of column `name`, expected at the next position.
    fn next<T>(&mut self, name: &str) -> Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::{Column, Row};
        let i = self.at;
        self.at += 1;
        match self.row.columns().get(i) {
            Some(column) if column.name() == name => self.row.try_get(i),
            _ => self.row.try_get(name),
        }
    }
}

/// One row of Dify's `message_feedbacks`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FeedbackRow {
    pub message_id: String,
    /// `user` or `admin`.
    pub from_source: String,
    /// `like` or `dislike`.
    pub rating: String,
    pub content: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}
