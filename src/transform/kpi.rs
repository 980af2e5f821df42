//! The numbers of docs/metrics.md §5 for a range of local dates.
//!
//! Input frames (as loaded by `warehouse::report`):
//! - messages: included bot messages whose local date or session date is in the loaded range,
//!   with `user_key`, `local_date`, `session_id`, `session_start`, `session_date`,
//!   `created_at`, `state`, `kb_hit` and `transfer` (rule), `kb_mark`, `manual_mark`,
//!   `tokens`, `latency_s`, `has_like`, `has_dislike`;
//! - entries: manual entries with `user_name`, `local_date`, `knowledge_hit`,
//!   `transfer_to_human`, `manual_intervention`.
//!
//! Message numbers count messages dated in the range; session numbers count sessions that
//! start in it, with all their messages (a session belongs wholly to its start date).

use std::collections::HashSet;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use super::messages::MessageState;
use super::time::in_dates;
use super::{marks, sessions};

/// Every KPI of docs/metrics.md §5, in the order of the contract.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Kpis {
    pub messages: i64,
    pub answered: i64,
    pub errors: i64,
    pub pending: i64,
    pub kb_hits: i64,
    pub kb_hit_rate: Option<f64>,
    pub transfer_messages: i64,
    pub bot_sessions: i64,
    pub manual_entries: i64,
    pub sessions: i64,
    pub users: i64,
    pub transfer_sessions: i64,
    pub manual_sessions: i64,
    pub self_resolved_sessions: i64,
    pub self_resolution_rate: Option<f64>,
    pub transfer_rate: Option<f64>,
    pub manual_rate: Option<f64>,
    pub likes: i64,
    pub dislikes: i64,
    pub satisfaction_rate: Option<f64>,
    pub tokens: i64,
    pub latency_avg_s: Option<f64>,
    pub latency_p95_s: Option<f64>,
}

/// A bot message's `tokens` (docs/metrics.md §5): its question's and its answer's, as Dify
/// counted them. sql/warehouse/report_messages.sql computes the same sum in the query that
/// loads the KPI input; `report_rows_follow_the_token_and_feedback_rules` (tests/it/report.rs)
/// checks that the two agree.
pub fn message_tokens(message_tokens: i64, answer_tokens: i64) -> i64 {
    message_tokens + answer_tokens
}

/// Whether a message counts in `likes` (`rating` = "like") or `dislikes` ("dislike")
/// (docs/metrics.md §5): one of its current feedbacks, the user's or an admin's, says so. A
/// message liked by both counts once; one with a like and a dislike counts in both. The
/// `has_like` / `has_dislike` columns of sql/warehouse/report_messages.sql and
/// detail_messages.sql are this rule as `EXISTS`, under the same test as [`message_tokens`].
pub fn has_rating<'a>(ratings: impl IntoIterator<Item = &'a str>, rating: &str) -> bool {
    ratings.into_iter().any(|r| r == rating)
}

/// `numerator / denominator`, or `None` when the denominator is 0.
pub fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 / denominator as f64)
}

/// Effective flags (marks applied) for loaded messages; call once, then [`compute`] per range.
pub fn prepare(messages: DataFrame) -> PolarsResult<DataFrame> {
    marks::apply(messages.lazy()).collect()
}

/// The KPIs of local dates `from..=to`. `messages` must come from [`prepare`].
pub fn compute(
    messages: &DataFrame,
    entries: &DataFrame,
    from: NaiveDate,
    to: NaiveDate,
) -> PolarsResult<Kpis> {
    let msgs = messages.clone().lazy().filter(in_dates("local_date", from, to)).collect()?;
    let sess =
        sessions::summarize(messages.clone().lazy().filter(in_dates("session_date", from, to))).collect()?;
    let ents = entries.clone().lazy().filter(in_dates("local_date", from, to)).collect()?;

    let m = message_counts(&msgs)?;
    let s = session_counts(&sess)?;
    let e = entry_counts(&ents)?;
    let users = distinct_users(&msgs, &ents)?;

    let sessions = s.n + e.n;
    let transfer_sessions = s.transfer + e.transfer;
    let manual_sessions = s.manual + e.manual;
    let self_resolved_sessions = s.self_resolved + e.self_resolved;
    Ok(Kpis {
        messages: m.messages,
        answered: m.answered,
        errors: m.errors,
        pending: m.pending,
        kb_hits: m.kb_hits,
        kb_hit_rate: rate(m.kb_hits, m.answered),
        transfer_messages: m.transfer_messages,
        bot_sessions: s.n,
        manual_entries: e.n,
        sessions,
        users,
        transfer_sessions,
        manual_sessions,
        self_resolved_sessions,
        self_resolution_rate: rate(self_resolved_sessions, sessions),
        transfer_rate: rate(transfer_sessions, sessions),
        manual_rate: rate(manual_sessions, sessions),
        likes: m.likes,
        dislikes: m.dislikes,
        satisfaction_rate: rate(m.likes, m.likes + m.dislikes),
        tokens: m.tokens,
        latency_avg_s: m.latency_avg,
        latency_p95_s: m.latency_p95,
    })
}

struct MessageCounts {
    messages: i64,
    answered: i64,
    errors: i64,
    pending: i64,
    kb_hits: i64,
    transfer_messages: i64,
    likes: i64,
    dislikes: i64,
    tokens: i64,
    latency_avg: Option<f64>,
    latency_p95: Option<f64>,
}

fn count_if(e: Expr) -> Expr {
    e.cast(DataType::Int64).sum()
}

fn message_counts(msgs: &DataFrame) -> PolarsResult<MessageCounts> {
    let answered = || MessageState::Answered.is();
    let latency = || col("latency_s").filter(answered());
    let row = msgs
        .clone()
        .lazy()
        .select([
            len().cast(DataType::Int64).alias("messages"),
            count_if(answered()).alias("answered"),
            count_if(MessageState::Error.is()).alias("errors"),
            count_if(MessageState::Pending.is()).alias("pending"),
            count_if(answered().and(col("kb_hit"))).alias("kb_hits"),
            count_if(answered().and(col("transfer"))).alias("transfer_messages"),
            count_if(col("has_like")).alias("likes"),
            count_if(col("has_dislike")).alias("dislikes"),
            col("tokens").sum().cast(DataType::Int64).alias("tokens"),
            latency().mean().alias("latency_avg"),
            latency().quantile(lit(0.95), QuantileMethod::Linear).alias("latency_p95"),
        ])
        .collect()?;
    Ok(MessageCounts {
        messages: int(&row, "messages")?,
        answered: int(&row, "answered")?,
        errors: int(&row, "errors")?,
        pending: int(&row, "pending")?,
        kb_hits: int(&row, "kb_hits")?,
        transfer_messages: int(&row, "transfer_messages")?,
        likes: int(&row, "likes")?,
        dislikes: int(&row, "dislikes")?,
        tokens: int(&row, "tokens")?,
        latency_avg: float(&row, "latency_avg")?,
        latency_p95: float(&row, "latency_p95")?,
    })
}

/// How many sessions (or manual entries) a frame holds, and how many of them were transferred,
/// handled by hand and self-resolved.
struct OutcomeCounts {
    n: i64,
    transfer: i64,
    manual: i64,
    self_resolved: i64,
}

/// Bot sessions and manual entries are counted alike; only the columns that say each outcome
/// differ.
fn outcome_counts(
    df: &DataFrame,
    transfer: Expr,
    manual: Expr,
    self_resolved: Expr,
) -> PolarsResult<OutcomeCounts> {
    let row = df
        .clone()
        .lazy()
        .select([
            len().cast(DataType::Int64).alias("n"),
            count_if(transfer).alias("transfer"),
            count_if(manual).alias("manual"),
            count_if(self_resolved).alias("self_resolved"),
        ])
        .collect()?;
    Ok(OutcomeCounts {
        n: int(&row, "n")?,
        transfer: int(&row, "transfer")?,
        manual: int(&row, "manual")?,
        self_resolved: int(&row, "self_resolved")?,
    })
}

/// A summarized session frame's counts, by its `is_*` flags.
fn session_counts(sess: &DataFrame) -> PolarsResult<OutcomeCounts> {
    outcome_counts(sess, col("is_transfer"), col("is_manual"), col("is_self_resolved"))
}

/// A manual-entries frame's counts: an entry neither transferred nor handled by hand was
/// self-resolved.
fn entry_counts(ents: &DataFrame) -> PolarsResult<OutcomeCounts> {
    let (transfer, manual) = (col("transfer_to_human"), col("manual_intervention"));
    outcome_counts(ents, transfer.clone(), manual.clone(), transfer.not().and(manual.not()))
}

fn distinct_users(msgs: &DataFrame, ents: &DataFrame) -> PolarsResult<i64> {
    let mut keys: HashSet<&str> = msgs.column("user_key")?.str()?.iter().flatten().collect();
    keys.extend(ents.column("user_name")?.str()?.iter().flatten());
    Ok(keys.len() as i64)
}

fn int(row: &DataFrame, name: &str) -> PolarsResult<i64> {
    Ok(row.column(name)?.cast(&DataType::Int64)?.i64()?.get(0).unwrap_or(0))
}

fn float(row: &DataFrame, name: &str) -> PolarsResult<Option<f64>> {
    Ok(row.column(name)?.cast(&DataType::Float64)?.f64()?.get(0).filter(|v| v.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::time::epoch_days;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    fn empty_entries() -> DataFrame {
        df!(
            "user_name" => Vec::<&str>::new(),
            "local_date" => Vec::<i32>::new(),
            "knowledge_hit" => Vec::<bool>::new(),
            "transfer_to_human" => Vec::<bool>::new(),
            "manual_intervention" => Vec::<bool>::new(),
        )
        .unwrap()
        .lazy()
        .with_column(col("local_date").cast(DataType::Date))
        .collect()
        .unwrap()
    }

    /// Five messages of two users on 2026-11-02: u1 has a session of two (one transfer) and
    /// one of one (pending); u2 has one answered message with a like and a KB miss.
    fn sample() -> DataFrame {
        let day = epoch_days(d(2));
        df!(
            "user_key" => ["u1", "u1", "u1", "u2", "u2"],
            "local_date" => [day; 5],
            "session_id" => ["a", "a", "c", "d", "d"],
            "session_start" => [0i64, 0, 20, 5, 5],
            "session_date" => [day; 5],
            "created_at" => [0i64, 1, 20, 5, 6],
            "state" => ["answered", "answered", "pending", "answered", "error"],
            "kb_hit" => [true, true, false, false, false],
            "transfer" => [false, true, false, false, false],
            "kb_mark" => [None::<bool>, None, None, None, None],
            "manual_mark" => [None::<bool>, None, None, None, None],
            "tokens" => [10i64, 20, 0, 5, 0],
            "latency_s" => [1.0f64, 2.0, 0.0, 4.0, 0.0],
            "has_like" => [false, false, false, true, false],
            "has_dislike" => [true, false, false, false, false],
        )
        .unwrap()
        .lazy()
        .with_columns([col("local_date").cast(DataType::Date), col("session_date").cast(DataType::Date)])
        .collect()
        .unwrap()
    }

    #[test]
    fn counts_and_rates_by_hand() {
        let k = compute(&prepare(sample()).unwrap(), &empty_entries(), d(2), d(2)).unwrap();
        assert_eq!((k.messages, k.answered, k.errors, k.pending), (5, 3, 1, 1));
        assert_eq!((k.kb_hits, k.transfer_messages), (2, 1));
        assert_eq!(k.kb_hit_rate, Some(2.0 / 3.0));
        assert_eq!((k.bot_sessions, k.sessions, k.users), (3, 3, 2));
        // a: transfer; c: only pending → not self-resolved; d: answered, no transfer → self-resolved
        assert_eq!((k.transfer_sessions, k.manual_sessions, k.self_resolved_sessions), (1, 0, 1));
        assert_eq!((k.likes, k.dislikes, k.satisfaction_rate), (1, 1, Some(0.5)));
        assert_eq!(k.tokens, 35);
        assert_eq!(k.latency_avg_s, Some(7.0 / 3.0));
        // numpy.percentile([1, 2, 4], 95) = 2 + 0.9 * (4 - 2) = 3.8
        assert!((k.latency_p95_s.unwrap() - 3.8).abs() < 1e-12);
    }

    #[test]
    fn empty_period_has_null_rates() {
        let k = compute(&prepare(sample()).unwrap(), &empty_entries(), d(3), d(3)).unwrap();
        assert_eq!(k, Kpis::default());
        assert_eq!(serde_json::to_value(&k).unwrap()["kb_hit_rate"], serde_json::Value::Null);
    }

    #[test]
    fn a_manual_mark_makes_a_manual_session() {
        let mut df = sample();
        let marks = Column::new("manual_mark".into(), [None, None, None, Some(true), None]);
        df.with_column(marks).unwrap();
        let k = compute(&prepare(df).unwrap(), &empty_entries(), d(2), d(2)).unwrap();
        assert_eq!((k.manual_sessions, k.self_resolved_sessions), (1, 0));
    }
}
