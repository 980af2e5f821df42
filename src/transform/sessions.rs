//! Sessions (docs/metrics.md §3): which messages of a user belong together, and what each session
//! amounts to.
//!
//! [`assign`] orders each user's messages by (`created_at`, `id`) and opens sessions by the
//! configured mode; the session id is the id of its first message, so it is stable across runs.
//! [`summarize`] turns messages with session ids and effective flags into one row per session.
//! Callers hand in whole sessions: [`restart_point`] says where a user's sessions must be
//! recomputed from, and the pipeline loads each affected user's messages from there, which is
//! why batch borders never split or change a session. [`SessionRow`] is the one session row
//! (the derivation's result, the `sessions` table, the report's Sessions sheet), decoded from a
//! [`summarize`]d frame by [`SessionRow::from_frame`]; [`Outcome`] orders what a session
//! amounts to for readers.

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use super::RulesInForce;
use super::messages::MessageState;
use super::rules::SessionMode;
use super::time::{from_epoch_days, local_date};
use crate::extract::frame::from_micros;

/// Where a user's sessions must be recomputed from when the message at `first_changed`
/// (time, id) is new, changed or marked: the start of the stored session holding the user's
/// message just before it (`previous`: that session's start and id). Sessions that start
/// earlier cannot change, since each opener depends only on the messages before it (both
/// modes, docs/metrics.md §3); everything from there on can. Without an earlier message, the
/// changed message itself.
pub fn restart_point(
    first_changed: (NaiveDateTime, String),
    previous: Option<(NaiveDateTime, String)>,
) -> (NaiveDateTime, String) {
    previous.unwrap_or(first_changed)
}

/// One row of the `sessions` table (docs/warehouse.md), as the derivation computes it and the
/// report lists it (the report with its times in local time).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub session_id: String,
    pub user_key: String,
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub local_date: NaiveDate,
    pub messages: i64,
    pub answered: i64,
    pub errors: i64,
    pub pending: i64,
    pub kb_hits: i64,
    pub transfer_messages: i64,
    pub manual_messages: i64,
    pub is_transfer: bool,
    pub is_manual: bool,
    pub is_self_resolved: bool,
}

impl SessionRow {
    /// The rows of a [`summarize`]d frame, in its order; times in UTC as stored.
    pub fn from_frame(df: &DataFrame) -> PolarsResult<Vec<SessionRow>> {
        let s = |n: &str| -> PolarsResult<StringChunked> { Ok(df.column(n)?.str()?.clone()) };
        let i = |n: &str| -> PolarsResult<Int64Chunked> {
            Ok(df.column(n)?.cast(&DataType::Int64)?.i64()?.clone())
        };
        let b = |n: &str| -> PolarsResult<BooleanChunked> { Ok(df.column(n)?.bool()?.clone()) };
        let (sid, user) = (s("session_id")?, s("user_key")?);
        let (started, ended, date) = (i("started_at")?, i("ended_at")?, i("local_date")?);
        let (messages, answered, errors, pending) =
            (i("messages")?, i("answered")?, i("errors")?, i("pending")?);
        let (kb_hits, transfer_messages, manual_messages) =
            (i("kb_hits")?, i("transfer_messages")?, i("manual_messages")?);
        let (is_transfer, is_manual, is_self_resolved) =
            (b("is_transfer")?, b("is_manual")?, b("is_self_resolved")?);
        Ok((0..df.height())
            .map(|r| SessionRow {
                session_id: sid.get(r).unwrap_or_default().to_string(),
                user_key: user.get(r).unwrap_or_default().to_string(),
                started_at: from_micros(started.get(r).unwrap_or_default()),
                ended_at: from_micros(ended.get(r).unwrap_or_default()),
                local_date: from_epoch_days(date.get(r).unwrap_or_default() as i32),
                messages: messages.get(r).unwrap_or_default(),
                answered: answered.get(r).unwrap_or_default(),
                errors: errors.get(r).unwrap_or_default(),
                pending: pending.get(r).unwrap_or_default(),
                kb_hits: kb_hits.get(r).unwrap_or_default(),
                transfer_messages: transfer_messages.get(r).unwrap_or_default(),
                manual_messages: manual_messages.get(r).unwrap_or_default(),
                is_transfer: is_transfer.get(r).unwrap_or_default(),
                is_manual: is_manual.get(r).unwrap_or_default(),
                is_self_resolved: is_self_resolved.get(r).unwrap_or_default(),
            })
            .collect())
    }

    /// The session's outcome ([`Outcome::of`]).
    pub fn outcome(&self) -> Outcome {
        Outcome::of(self.is_manual, self.is_transfer, self.is_self_resolved)
    }
}

/// How a session ended, for readers (the Sessions sheet): manual handling wins over a
/// transfer, a transfer over self-resolution; a session with no answered message is
/// unresolved.
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

impl Outcome {
    /// The outcome of a session's flags.
    pub fn of(is_manual: bool, is_transfer: bool, is_self_resolved: bool) -> Outcome {
        if is_manual {
            Outcome::Manual
        } else if is_transfer {
            Outcome::Transfer
        } else if is_self_resolved {
            Outcome::SelfResolved
        } else {
            Outcome::Unresolved
        }
    }
}

/// For messages sorted by (user, time, id): the index of the message that opens each one's
/// session. A message opens a session when it is its user's first, or when it is `window` or
/// more after the reference: the session's first message (anchored) or the previous message
/// (idle).
pub fn openers(users: &[&str], times: &[i64], window_us: i64, mode: SessionMode) -> Vec<usize> {
    let mut out = Vec::with_capacity(times.len());
    let mut opener = 0usize;
    for i in 0..times.len() {
        let new_user = i == 0 || users[i] != users[i - 1];
        let reference = match mode {
            SessionMode::Anchored => times[opener],
            SessionMode::Idle => times[i.saturating_sub(1)],
        };
        if new_user || times[i] - reference >= window_us {
            opener = i;
        }
        out.push(opener);
    }
    out
}

/// Adds `session_id`, `session_start` (UTC microseconds) and `session_date` (local `Date`) to a
/// frame of included messages with `message_id`, `user_key` and `created_at`. The result is
/// sorted by user, time and id.
pub fn assign(df: DataFrame, rules: &RulesInForce) -> PolarsResult<DataFrame> {
    let df = df.sort(
        ["user_key", "created_at", "message_id"],
        SortMultipleOptions::default().with_maintain_order(true),
    )?;
    let users: Vec<&str> = df.column("user_key")?.str()?.iter().map(|v| v.unwrap_or("")).collect();
    let ids: Vec<&str> = df.column("message_id")?.str()?.iter().map(|v| v.unwrap_or("")).collect();
    let times: Vec<i64> = df.column("created_at")?.i64()?.iter().map(|v| v.unwrap_or(0)).collect();
    let open = openers(&users, &times, rules.window_us(), rules.session_mode);
    let session_ids: Vec<&str> = open.iter().map(|&o| ids[o]).collect();
    let session_starts: Vec<i64> = open.iter().map(|&o| times[o]).collect();
    let session_id = Column::new("session_id".into(), session_ids);
    let session_start = Column::new("session_start".into(), session_starts);
    let mut df = df.clone();
    df.with_column(session_id)?;
    df.with_column(session_start)?;
    df.lazy().with_column(local_date(col("session_start"), rules.tz).alias("session_date")).collect()
}

/// One row per session from messages carrying `session_id`, `session_start`, `session_date`,
/// `user_key`, `created_at`, `state` and the effective `kb_hit`, `transfer` and `manual`.
pub fn summarize(messages: LazyFrame) -> LazyFrame {
    let answered = MessageState::Answered.is();
    let count_if = |e: Expr| e.cast(DataType::Int64).sum();
    messages
        .group_by([col("session_id")])
        .agg([
            col("user_key").first(),
            col("session_start").first().alias("started_at"),
            col("created_at").max().alias("ended_at"),
            col("session_date").first().alias("local_date"),
            len().cast(DataType::Int64).alias("messages"),
            count_if(answered.clone()).alias("answered"),
            count_if(MessageState::Error.is()).alias("errors"),
            count_if(MessageState::Pending.is()).alias("pending"),
            count_if(answered.clone().and(col("kb_hit"))).alias("kb_hits"),
            count_if(answered.and(col("transfer"))).alias("transfer_messages"),
            count_if(col("manual")).alias("manual_messages"),
        ])
        .with_columns([
            col("transfer_messages").gt(lit(0)).alias("is_transfer"),
            col("manual_messages").gt(lit(0)).alias("is_manual"),
        ])
        .with_column(
            col("answered")
                .gt(lit(0))
                .and(col("is_transfer").not())
                .and(col("is_manual").not())
                .alias("is_self_resolved"),
        )
        .sort(["started_at", "session_id"], SortMultipleOptions::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    #[test]
    fn anchored_sessions_count_from_the_first_message() {
        let users = ["a"; 4];
        // 0, 10, 15 (exactly W after the opener: new session), 20
        let times = [0, 10 * MIN, 15 * MIN, 20 * MIN];
        assert_eq!(openers(&users, &times, 15 * MIN, SessionMode::Anchored), [0, 0, 2, 2]);
    }

    #[test]
    fn idle_sessions_count_from_the_previous_message() {
        let users = ["a"; 4];
        let times = [0, 10 * MIN, 24 * MIN, 39 * MIN];
        assert_eq!(openers(&users, &times, 15 * MIN, SessionMode::Idle), [0, 0, 0, 3]);
        // anchored: 24 is 24 min after the opener at 0; 39 is exactly 15 min after 24.
        assert_eq!(openers(&users, &times, 15 * MIN, SessionMode::Anchored), [0, 0, 2, 3]);
    }

    #[test]
    fn each_user_opens_their_own_session() {
        let users = ["a", "a", "b", "b"];
        let times = [0, MIN, MIN, 2 * MIN];
        assert_eq!(openers(&users, &times, 15 * MIN, SessionMode::Anchored), [0, 0, 2, 2]);
    }

    #[test]
    fn ties_on_time_are_ordered_by_id() {
        let rules = crate::transform::rules::tests::rules("");
        let df = df!(
            "message_id" => ["b", "a", "c"],
            "user_key" => ["u", "u", "u"],
            "created_at" => [0i64, 0, 16 * MIN],
        )
        .unwrap();
        let out = assign(df, &rules).unwrap();
        let sid: Vec<&str> = out.column("session_id").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(sid, ["a", "a", "c"]);
    }
}
