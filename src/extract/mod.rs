//! Extract: reads Dify's messages and feedback. Never writes anywhere.
//!
//! [`dify::DifySource`] talks to Dify's PostgreSQL inside one read-only transaction and hands
//! out batches of [`RawMessage`]; [`frame`] turns a batch into the Polars frame the transform
//! works on. Nothing here applies a help-desk rule: the rows come out as Dify stored them.

pub mod dify;
pub mod file;
pub mod frame;

use chrono::NaiveDateTime;

/// One Dify message with the joined fields the metrics need, as Dify stores it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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
