//! Reading messages for operators: `itstat messages`, `itstat messages show` and what
//! `itstat mark` compares a file with. Filters, effective flags and the limit of a listing are
//! applied in SQL, so a listing reads what it prints (docs/warehouse.md, "Operator commands").

use anyhow::Context;
use chrono::NaiveDateTime;

use super::Warehouse;
use crate::transform::messages::MessageState;
use crate::with_pool;

/// What every read of one message starts with — which message, whose, when (local time), what
/// was asked and how it ended — so that each read type below declares only the columns its
/// command adds (`#[sqlx(flatten)]`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageHead {
    pub message_id: String,
    pub local_time: NaiveDateTime,
    pub user_key: String,
    pub question: String,
    #[sqlx(try_from = "String")]
    pub state: MessageState,
}

impl MessageHead {
    /// The head's columns, in the order the reads that start with it select them.
    pub const COLUMNS: [&'static str; 5] = ["message_id", "local_time", "user_key", "question", "state"];

    /// The head from a SQLite row whose first columns are [`MessageHead::COLUMNS`]; the rest
    /// of the row starts at index 5.
    pub fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageHead> {
        Ok(MessageHead {
            message_id: row.get(0)?,
            local_time: row.get(1)?,
            user_key: row.get(2)?,
            question: row.get(3)?,
            state: MessageState::from_stored(&row.get::<_, String>(4)?),
        })
    }
}

/// A listed message, with its effective flags (marks applied, docs/metrics.md §2).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedMessage {
    #[sqlx(flatten)]
    pub head: MessageHead,
    pub created_at: NaiveDateTime,
    pub answer: String,
    /// Effective: the operator's verdict over the rule's, and only for an answered message.
    pub kb_hit: bool,
    pub transfer: bool,
    /// Effective: the current manual mark.
    pub manual: bool,
    pub session_id: Option<String>,
}

/// A message `itstat mark` is about to mark: a brief, the rule's verdict and current marks.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarkTarget {
    #[sqlx(flatten)]
    pub head: MessageHead,
    /// The rule's verdict.
    pub kb_hit: bool,
    pub kb_mark: Option<bool>,
    pub manual_mark: Option<bool>,
}

/// One message whole.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FullMessage {
    #[sqlx(flatten)]
    pub head: MessageHead,
    pub app_id: String,
    pub conversation_id: String,
    pub created_at: NaiveDateTime,
    pub query: String,
    pub answer: String,
    pub status: String,
    pub error: Option<String>,
    pub kb_hit: bool,
    pub transfer: bool,
    pub included: bool,
    pub invoke_from: Option<String>,
    pub message_tokens: i64,
    pub answer_tokens: i64,
    pub latency_s: f64,
    pub session_id: Option<String>,
    pub session_start: Option<NaiveDateTime>,
    pub conversation_deleted: Option<bool>,
}

/// Filters of `itstat messages` that SQL applies.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// Naive UTC, inclusive.
    pub from: NaiveDateTime,
    /// Naive UTC, exclusive.
    pub to: NaiveDateTime,
    pub user: Option<String>,
    /// Plain text to find (any case).
    pub grep: Option<String>,
    /// Only answered messages the knowledge base missed (effective verdict).
    pub unhit: bool,
    /// Only messages whose answer hands over to a human.
    pub transfer: bool,
    /// Only messages marked as handled by a human.
    pub manual: bool,
    /// At most this many, the newest.
    pub limit: usize,
}

/// A LIKE pattern matching `text` anywhere, with `%`, `_` and `\` taken literally.
pub fn like_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

impl Warehouse {
    /// The newest included messages matching the filter, newest first: one query, which
    /// reads no more rows than it returns beyond those the filters pass over.
    pub async fn list_messages(&self, f: &ListFilter) -> anyhow::Result<Vec<ListedMessage>> {
        let pattern = f.grep.as_deref().map(like_pattern);
        let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, ListedMessage>(include_str!("../../sql/warehouse/list_messages.sql"))
                .bind(f.from)
                .bind(f.to)
                .bind(f.user.as_deref())
                .bind(pattern.as_deref())
                .bind(f.unhit)
                .bind(f.transfer)
                .bind(f.manual)
                .bind(limit)
                .fetch_all(pool)
                .await
        })
        .context("reading messages")
    }

    /// The stored messages among `ids`, with what `itstat mark` compares a file row with, in
    /// one query per 500 ids (`Warehouse::query_by_ids`).
    pub async fn mark_targets(&self, ids: &[String]) -> anyhow::Result<Vec<MarkTarget>> {
        self.query_by_ids(include_str!("../../sql/warehouse/mark_targets.sql"), ids)
            .await
            .context("reading messages")
    }

    /// One message whole.
    pub async fn full_message(&self, id: &str) -> anyhow::Result<Option<FullMessage>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, FullMessage>(include_str!("../../sql/warehouse/message_full.sql")).bind(id).fetch_optional(pool).await
        })
        .context("reading the message")
    }

    /// The messages of a session: `session_id` of `user_key`, starting at `start` (UTC).
    pub async fn session_members(
        &self,
        session_id: &str,
        user_key: &str,
        start: NaiveDateTime,
    ) -> anyhow::Result<Vec<MessageHead>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, MessageHead>(include_str!("../../sql/warehouse/session_members.sql"))
                .bind(session_id)
                .bind(user_key)
                .bind(start)
                .fetch_all(pool)
                .await
        })
        .context("reading the session")
    }

    /// The feedback of a message: (source, rating, content).
    pub async fn message_feedback(&self, id: &str) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/message_feedback.sql")).bind(id).fetch_all(pool).await
        })
        .context("reading feedback")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("VPN"), "%vpn%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
