//! The detail rows of a report (sessions, messages, unanswered questions, manual work, users,
//! the version), as plain rows for renderers.
//!
//! Computed by `transform::detail` from the same loaded frames as the KPIs; renderers only
//! lay them out. All times here are local wall-clock times in the report's time zone.

use chrono::NaiveDateTime;

use crate::transform::messages::MessageState;
pub use crate::transform::sessions::{Outcome, SessionRow};

/// One included bot message dated in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDetail {
    pub message_id: String,
    pub local_time: NaiveDateTime,
    pub user_key: String,
    pub question: String,
    /// The answer's length in characters: the Messages sheet reads the text itself a block at
    /// a time, so that a month's answers are never all held at once.
    pub answer_chars: i64,
    pub state: MessageState,
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

/// Everything below the KPIs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportDetail {
    /// Bot sessions starting in the period, by start time; their times local.
    pub sessions: Vec<SessionRow>,
    /// Messages dated in the period, by time.
    pub messages: Vec<MessageDetail>,
    /// Most frequent first, then most recent.
    pub unanswered: Vec<UnansweredRow>,
    /// By time.
    pub manual: Vec<ManualRow>,
    /// Most messages first.
    pub users: Vec<UserRow>,
    /// itstat's version.
    pub version: String,
}

// ---- assembling the rows -------------------------------------------------------------------

use chrono_tz::Tz;
use polars::prelude::*;

use crate::calendar::Period;
use crate::extract::frame::{from_micros, micros};
use crate::transform::time::{in_dates, to_local};
use crate::transform::{detail as rules_detail, marks, sessions};
use crate::warehouse::report::{DetailEntry, DetailMark, DetailMessage};

/// What [`assemble`] needs, loaded from the warehouse.
pub struct DetailInputs {
    /// The KPI messages frame (marks applied), covering sessions that start in the period.
    pub kpi_messages: DataFrame,
    /// The KPI manual-entries frame.
    pub kpi_entries: DataFrame,
    pub messages: Vec<DetailMessage>,
    pub entries: Vec<DetailEntry>,
    pub marks: Vec<DetailMark>,
}

fn in_period(column: &str, period: &Period) -> Expr {
    in_dates(column, period.start, period.end)
}

/// Builds the detail rows of `period`.
pub fn assemble(tz: Tz, period: &Period, inputs: DetailInputs) -> anyhow::Result<ReportDetail> {
    let session_frame =
        sessions::summarize(inputs.kpi_messages.clone().lazy().filter(in_period("session_date", period)))
            .collect()?;
    let message_frame = message_flags(&inputs.messages)?;
    let entries_frame = inputs.kpi_entries.clone().lazy().filter(in_period("local_date", period));
    let users =
        rules_detail::users(message_frame.clone().lazy(), session_frame.clone().lazy(), entries_frame)?
            .collect()?;
    let unanswered = rules_detail::unanswered(message_frame.clone().lazy()).collect()?;
    Ok(ReportDetail {
        sessions: session_rows(&session_frame, tz)?,
        messages: message_rows(inputs.messages, &message_frame)?,
        unanswered: unanswered_rows(&unanswered)?,
        manual: manual_rows(inputs.entries, inputs.marks, tz),
        users: user_rows(&users)?,
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// The detail messages as a frame with effective flags (`kb_hit`, `manual`).
fn message_flags(messages: &[DetailMessage]) -> anyhow::Result<DataFrame> {
    let df = df!(
        "user_key" => messages.iter().map(|m| m.head.user_key.as_str()).collect::<Vec<_>>(),
        "question" => messages.iter().map(|m| m.head.question.as_str()).collect::<Vec<_>>(),
        "local_time" => messages.iter().map(|m| micros(m.head.local_time)).collect::<Vec<_>>(),
        "state" => messages.iter().map(|m| m.head.state.as_str()).collect::<Vec<_>>(),
        "kb_hit" => messages.iter().map(|m| m.kb_hit).collect::<Vec<_>>(),
        "kb_mark" => messages.iter().map(|m| m.kb_mark).collect::<Vec<_>>(),
        "manual_mark" => messages.iter().map(|m| m.manual_mark).collect::<Vec<_>>(),
    )?;
    Ok(marks::apply(df.lazy()).collect()?)
}

fn bools(df: &DataFrame, name: &str) -> anyhow::Result<Vec<bool>> {
    Ok(df.column(name)?.bool()?.iter().map(|v| v.unwrap_or(false)).collect())
}

fn ints(df: &DataFrame, name: &str) -> anyhow::Result<Vec<i64>> {
    Ok(df.column(name)?.cast(&DataType::Int64)?.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

fn texts(df: &DataFrame, name: &str) -> anyhow::Result<Vec<String>> {
    Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or_default().to_string()).collect())
}

fn message_rows(messages: Vec<DetailMessage>, flags: &DataFrame) -> anyhow::Result<Vec<MessageDetail>> {
    let kb_hit = bools(flags, "kb_hit")?;
    let manual = bools(flags, "manual")?;
    Ok(messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| MessageDetail {
            kb_overridden: m.kb_mark.is_some(),
            manual_operator: if manual[i] { m.manual_operator } else { None },
            message_id: m.head.message_id,
            local_time: m.head.local_time,
            user_key: m.head.user_key,
            question: m.head.question,
            answer_chars: m.answer_chars,
            state: m.head.state,
            kb_hit: kb_hit[i],
            transfer: m.transfer,
            manual: manual[i],
            liked: m.has_like,
            disliked: m.has_dislike,
            latency_s: m.latency_s,
            session_id: m.session_id,
        })
        .collect())
}

/// The session rows of a summarized frame, their times in local time.
fn session_rows(df: &DataFrame, tz: Tz) -> anyhow::Result<Vec<SessionRow>> {
    let mut rows = SessionRow::from_frame(df)?;
    for row in &mut rows {
        row.started_at = to_local(tz, row.started_at);
        row.ended_at = to_local(tz, row.ended_at);
    }
    Ok(rows)
}

fn unanswered_rows(df: &DataFrame) -> anyhow::Result<Vec<UnansweredRow>> {
    let (questions, counts, last) = (texts(df, "question")?, ints(df, "count")?, ints(df, "last_asked")?);
    Ok((0..df.height())
        .map(|i| UnansweredRow {
            question: questions[i].clone(),
            count: counts[i],
            last_asked: from_micros(last[i]),
        })
        .collect())
}

fn user_rows(df: &DataFrame) -> anyhow::Result<Vec<UserRow>> {
    let users = texts(df, "user_key")?;
    let (messages, sessions, self_resolved, transfers) =
        (ints(df, "messages")?, ints(df, "sessions")?, ints(df, "self_resolved")?, ints(df, "transfers")?);
    Ok((0..df.height())
        .map(|i| UserRow {
            user_key: users[i].clone(),
            messages: messages[i],
            sessions: sessions[i],
            self_resolved: self_resolved[i],
            transfers: transfers[i],
        })
        .collect())
}

fn flag(name: &str, value: bool) -> String {
    format!("{name}={}", if value { "yes" } else { "no" })
}

fn manual_rows(entries: Vec<DetailEntry>, marks: Vec<DetailMark>, tz: Tz) -> Vec<ManualRow> {
    let mut rows: Vec<ManualRow> = entries
        .into_iter()
        .map(|e| ManualRow {
            kind: ManualKind::Entry,
            time: e.consultation_time,
            user: e.user_name,
            question: e.query,
            what: [
                flag("knowledge_hit", e.knowledge_hit),
                flag("transfer_to_human", e.transfer_to_human),
                flag("manual_intervention", e.manual_intervention),
            ]
            .join(", "),
            operator: e.operation_user.or(e.entry_person).unwrap_or_default(),
            note: String::new(),
            message_id: None,
        })
        .collect();
    rows.extend(marks.into_iter().map(|k| ManualRow {
        kind: ManualKind::Mark,
        time: to_local(tz, k.marked_at),
        user: k.user_key,
        question: k.question,
        what: match k.value {
            Some(v) => flag(&k.field, v),
            None => format!("{}=auto", k.field),
        },
        operator: k.operator,
        note: k.note.unwrap_or_default(),
        message_id: Some(k.message_id),
    }));
    rows.sort_by_key(|r| r.time);
    rows
}
