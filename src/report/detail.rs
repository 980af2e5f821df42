//! The detail rows of a report (sessions, messages, unanswered questions, manual work, users,
//! the rules in force), as plain rows for renderers.
//!
//! Computed by `transform::detail` from the same loaded frames as the KPIs; renderers only
//! lay them out. All times here are local wall-clock times in the report's time zone.

use chrono::{NaiveDate, NaiveDateTime};

/// How a session ended, for readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered, no transfer, no manual handling.
    SelfResolved,
    /// At least one transfer message.
    Transfer,
    /// An operator marked a message as handled by a human.
    Manual,
    /// No answered message (errors or pending only).
    Unresolved,
}

/// One bot session that starts in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDetail {
    pub session_id: String,
    pub user_key: String,
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub local_date: NaiveDate,
    pub messages: i64,
    pub answered: i64,
    pub kb_hits: i64,
    pub transfer_messages: i64,
    pub manual_messages: i64,
    pub is_transfer: bool,
    pub is_manual: bool,
    pub is_self_resolved: bool,
}

impl SessionDetail {
    /// The session's outcome; manual handling wins over a transfer.
    pub fn outcome(&self) -> Outcome {
        if self.is_manual {
            Outcome::Manual
        } else if self.is_transfer {
            Outcome::Transfer
        } else if self.is_self_resolved {
            Outcome::SelfResolved
        } else {
            Outcome::Unresolved
        }
    }
}

/// One included bot message dated in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDetail {
    pub message_id: String,
    pub local_time: NaiveDateTime,
    pub user_key: String,
    pub question: String,
    pub answer: String,
    /// `answered`, `error` or `pending`.
    pub state: String,
    /// Effective knowledge-base hit (marks applied).
    pub kb_hit: bool,
    /// An operator's knowledge verdict decided `kb_hit`.
    pub kb_overridden: bool,
    pub transfer: bool,
    /// An operator marked it as handled by a human.
    pub manual: bool,
    /// Who set the current manual mark.
    pub manual_operator: Option<String>,
    pub liked: bool,
    pub disliked: bool,
    pub latency_s: f64,
    pub session_id: Option<String>,
}

/// Answered questions that missed the knowledge base, grouped by normalised text.
#[derive(Debug, Clone, PartialEq)]
pub struct UnansweredRow {
    /// The normalised question (NFKC, trimmed, inner whitespace collapsed).
    pub question: String,
    pub count: i64,
    pub last_asked: NaiveDateTime,
}

/// What a manual row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualKind {
    /// An imported consultation (`manual_entries`).
    Entry,
    /// An operator mark on a bot message (`marks`).
    Mark,
}

/// One manual entry or operator mark in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualRow {
    pub kind: ManualKind,
    /// Consultation time (entries) or mark time (marks), local.
    pub time: NaiveDateTime,
    pub user: String,
    pub question: String,
    /// For marks: what was set, e.g. `manual=yes`, `kb_hit=auto`. For entries: the flags.
    pub what: String,
    pub operator: String,
    pub note: String,
    /// The Dify message id of a mark.
    pub message_id: Option<String>,
}

/// Per user over the period.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub user_key: String,
    pub messages: i64,
    pub sessions: i64,
    pub self_resolved: i64,
    pub transfers: i64,
}

/// The rules the numbers were computed with, for the Definitions sheet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RulesInForce {
    pub timezone: String,
    pub identity: String,
    pub session_window: String,
    pub session_mode: String,
    pub kb_miss: Vec<String>,
    pub kb_miss_regex: Vec<String>,
    pub transfer: Vec<String>,
    pub transfer_regex: Vec<String>,
    pub exclude_invoke_from: Vec<String>,
    pub exclude_users: Vec<String>,
}

/// Everything below the KPIs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportDetail {
    /// Sessions starting in the period, by start time.
    pub sessions: Vec<SessionDetail>,
    /// Messages dated in the period, by time.
    pub messages: Vec<MessageDetail>,
    /// Most frequent first, then most recent.
    pub unanswered: Vec<UnansweredRow>,
    /// By time.
    pub manual: Vec<ManualRow>,
    /// Most messages first.
    pub users: Vec<UserRow>,
    pub rules: RulesInForce,
    /// itstat's version.
    pub version: String,
}
