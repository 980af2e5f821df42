//! The session pass: recomputes the sessions of the users a batch touched, in the batch's
//! transaction, so every committed state has whole, correct sessions.
//!
//! For each affected user the pass starts at the session holding the message just before the
//! first touched one (sessions before it cannot change), reloads everything from there, runs
//! `transform::sessions`, writes changed session columns and replaces the user's session rows
//! from that point on. A full rebuild (after a rule change) starts every user at their first
//! message and takes the users a group at a time, so its memory follows the group, not the
//! table.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use sqlx::QueryBuilder;

use std::collections::{HashMap, HashSet};

use super::Tx;
use super::messages::SessionCols;
use super::rows::MessageRow;
use super::sqlite_bulk::{Binder, FromSqliteRow, query_rows};
use crate::extract::frame::{from_micros, micros};
use crate::transform::time::from_epoch_days;
use crate::transform::{Rules, marks, sessions};
use crate::with_conn;

const ROWS_PER_STATEMENT: usize = 2000;
const SESSIONS_INSERT_SQL: &str = include_str!("../../sql/warehouse/sessions_insert.sql");
const SESSIONS_UPSERT_TAIL_SQL: &str = include_str!("../../sql/warehouse/sessions_upsert_tail.sql");

/// A user whose sessions must be recomputed from (`from_at`, `from_id`) on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Affected {
    pub user_key: String,
    pub from_at: NaiveDateTime,
    pub from_id: String,
}

/// Keeps, per user, the earliest (time, id) position.
pub fn earliest_per_user(items: impl IntoIterator<Item = Affected>) -> Vec<Affected> {
    let mut map: std::collections::BTreeMap<String, (NaiveDateTime, String)> = Default::default();
    for a in items {
        let pos = (a.from_at, a.from_id);
        map.entry(a.user_key)
            .and_modify(|cur| {
                if pos < *cur {
                    *cur = pos.clone();
                }
            })
            .or_insert(pos);
    }
    map.into_iter().map(|(user_key, (from_at, from_id))| Affected { user_key, from_at, from_id }).collect()
}

/// What [`Tx::write_merged`] computed.
struct Merged {
    stats: SessionStats,
    inputs: Vec<SessionInput>,
    assigned: Vec<Assigned>,
}

/// The last session of every user seen so far in a first full load, carried from batch to
/// batch. A first load reads Dify oldest first, so a batch can only extend a user's last
/// session or open new ones after it: the messages of that session are all the next batch
/// needs, and carrying them spares re-reading them through the (user, time) index, which the
/// load builds only at its end.
#[derive(Debug, Default)]
pub struct OpenSessions {
    by_user: HashMap<String, Vec<SessionInput>>,
}

impl OpenSessions {
    /// Keeps, for each user in `assigned`, the inputs of their last session, marked as stored
    /// in it.
    fn keep_last(&mut self, inputs: &[SessionInput], assigned: &[Assigned]) {
        let session_of: HashMap<&str, (NaiveDateTime, &str)> = assigned
            .iter()
            .map(|a| (a.message_id.as_str(), (a.session_start, a.session_id.as_str())))
            .collect();
        // A user's sessions follow each other: the last is the one that started last.
        let mut last: HashMap<&str, (NaiveDateTime, &str)> = HashMap::new();
        for input in inputs {
            if let Some(&session) = session_of.get(input.message_id.as_str()) {
                let entry = last.entry(input.user_key.as_str()).or_insert(session);
                *entry = (*entry).max(session);
            }
        }
        let mut kept: HashMap<String, Vec<SessionInput>> = HashMap::new();
        for input in inputs {
            let session = session_of.get(input.message_id.as_str());
            if session.is_some() && session == last.get(input.user_key.as_str()) {
                let mut input = input.clone();
                input.old_session_id = session.map(|s| s.1.to_string());
                kept.entry(input.user_key.clone()).or_default().push(input);
            }
        }
        self.by_user.extend(kept);
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct SessionInput {
    message_id: String,
    user_key: String,
    created_at: NaiveDateTime,
    state: String,
    kb_hit: bool,
    transfer: bool,
    old_session_id: Option<String>,
    kb_mark: Option<bool>,
    manual_mark: Option<bool>,
}

impl FromSqliteRow for SessionInput {
    const COLUMNS: &'static [&'static str] = &[
        "message_id",
        "user_key",
        "created_at",
        "state",
        "kb_hit",
        "transfer",
        "old_session_id",
        "kb_mark",
        "manual_mark",
    ];

    /// A row of `session_messages.sql`.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionInput> {
        Ok(SessionInput {
            message_id: row.get(0)?,
            user_key: row.get(1)?,
            created_at: row.get(2)?,
            state: row.get(3)?,
            kb_hit: row.get(4)?,
            transfer: row.get(5)?,
            old_session_id: row.get(6)?,
            kb_mark: row.get(7)?,
            manual_mark: row.get(8)?,
        })
    }
}

/// Counts of what the pass changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionStats {
    pub messages_moved: usize,
    pub sessions_written: usize,
}

/// A user with included messages: the first one's time and how many there are.
#[derive(Debug, Clone, sqlx::FromRow)]
struct UserExtent {
    user_key: String,
    first_at: NaiveDateTime,
    messages: i64,
}

/// Splits `users` into consecutive groups holding at most `limit` messages each; a user with
/// more than `limit` messages makes a group alone (a user's sessions are never split).
fn user_groups(users: &[UserExtent], limit: usize) -> Vec<&[UserExtent]> {
    let mut groups = Vec::new();
    let (mut start, mut rows) = (0, 0usize);
    for (i, user) in users.iter().enumerate() {
        let n = usize::try_from(user.messages).unwrap_or(0);
        if i > start && rows + n > limit {
            groups.push(&users[start..i]);
            (start, rows) = (i, 0);
        }
        rows += n;
    }
    if start < users.len() {
        groups.push(&users[start..]);
    }
    groups
}

impl Tx {
    /// Recomputes the sessions of `affected` users.
    pub async fn recompute_sessions(
        &mut self,
        affected: &[Affected],
        rules: &Rules,
    ) -> anyhow::Result<SessionStats> {
        if affected.is_empty() {
            return Ok(SessionStats::default());
        }
        let started = std::time::Instant::now();
        self.prepare_scratch(affected).await?;
        let inputs = self.load_session_inputs().await?;
        let loaded = started.elapsed();
        let (assigned, summary) =
            compute(&inputs, rules).map_err(anyhow::Error::from).context("computing sessions")?;
        let computed = started.elapsed();
        let moved = self.apply_assignments(&inputs, &assigned).await?;
        let applied = started.elapsed();
        let written = self.replace_sessions(&summary).await?;
        tracing::debug!(
            messages = inputs.len(),
            load = ?loaded,
            compute = ?(computed - loaded),
            apply = ?(applied - computed),
            replace = ?(started.elapsed() - applied),
            "Recomputed sessions."
        );
        Ok(SessionStats { messages_moved: moved, sessions_written: written })
    }

    /// Recomputes every session from scratch (after a rule change): drops every session row,
    /// then computes and writes the sessions of the users a group of about `group_rows`
    /// messages at a time, so memory does not grow with the table.
    pub async fn rebuild_all_sessions(
        &mut self,
        rules: &Rules,
        group_rows: usize,
    ) -> anyhow::Result<SessionStats> {
        with_conn!(self, conn, Db => {
            sqlx::query("DELETE FROM sessions").execute(&mut *conn).await?;
            sqlx::query(include_str!("../../sql/warehouse/session_clear_excluded.sql")).execute(&mut *conn).await?;
            Ok::<_, sqlx::Error>(())
        })
        .context("clearing sessions")?;
        let users: Vec<UserExtent> = with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/session_user_extents.sql")).fetch_all(&mut *conn).await
        })
        .context("listing users")?;
        let mut stats = SessionStats::default();
        for group in user_groups(&users, group_rows.max(1)) {
            // From each user's first message on: the pass finds no earlier session to anchor
            // to and no session rows left to replace, so it computes and writes them all.
            let from_start: Vec<Affected> = group
                .iter()
                .map(|u| Affected {
                    user_key: u.user_key.clone(),
                    from_at: u.first_at,
                    from_id: String::new(),
                })
                .collect();
            let done = self.recompute_sessions(&from_start, rules).await?;
            stats.messages_moved += done.messages_moved;
            stats.sessions_written += done.sessions_written;
        }
        tracing::debug!(users = users.len(), moved = stats.messages_moved, "Rebuilt all sessions.");
        Ok(stats)
    }

    /// Writes a batch's new and changed rows together with their sessions: the sessions are
    /// computed first, from the stored messages of the affected users (from their anchors on)
    /// merged with the batch, so each row is written once; stored rows whose session moved
    /// are updated, and the users' session rows replaced. `affected` must hold the position
    /// of every batch row (and the old position of changed ones).
    pub async fn write_batch_with_sessions(
        &mut self,
        rows: &[&MessageRow],
        affected: &[Affected],
        rules: &Rules,
        now: NaiveDateTime,
    ) -> anyhow::Result<SessionStats> {
        if rows.is_empty() {
            return Ok(SessionStats::default());
        }
        let started = std::time::Instant::now();
        self.prepare_scratch(affected).await?;
        let batch_ids: HashSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
        let stored: Vec<SessionInput> = self
            .load_session_inputs()
            .await?
            .into_iter()
            .filter(|i| !batch_ids.contains(i.message_id.as_str()))
            .collect();
        tracing::debug!(elapsed = ?started.elapsed(), stored = stored.len(), "Loaded stored sessions.");
        let written = self.write_merged(rows, stored, rules, now, false).await?;
        Ok(written.stats)
    }

    /// Writes a batch of a first full load (see [`OpenSessions`]): like
    /// [`Tx::write_batch_with_sessions`], but each user's open session comes from `open`
    /// instead of the warehouse, and session rows are upserted by id instead of replaced from
    /// the anchor on, so neither needs the secondary indexes the load builds at its end.
    pub async fn write_first_load_batch(
        &mut self,
        rows: &[&MessageRow],
        open: &mut OpenSessions,
        rules: &Rules,
        now: NaiveDateTime,
    ) -> anyhow::Result<SessionStats> {
        if rows.is_empty() {
            return Ok(SessionStats::default());
        }
        let users: HashSet<&str> = rows.iter().filter(|r| r.included).map(|r| r.user_key.as_str()).collect();
        let stored: Vec<SessionInput> =
            users.iter().flat_map(|u| open.by_user.remove(*u).unwrap_or_default()).collect();
        let written = self.write_merged(rows, stored, rules, now, true).await?;
        open.keep_last(&written.inputs, &written.assigned);
        Ok(written.stats)
    }

    /// Computes the sessions of `stored` (whole sessions of the batch's users, from their
    /// anchors on) merged with the batch, writes each batch row once with its session, moves
    /// stored rows whose session changed, and writes the session rows: replacing the users'
    /// rows from their anchors on, or, in a `first_load` (whose rows are all new), upserting
    /// them by session id.
    async fn write_merged(
        &mut self,
        rows: &[&MessageRow],
        mut inputs: Vec<SessionInput>,
        rules: &Rules,
        now: NaiveDateTime,
        first_load: bool,
    ) -> anyhow::Result<Merged> {
        let started = std::time::Instant::now();
        let stored = inputs.len();
        let batch_ids: HashSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
        let mut ids = batch_ids.clone();
        ids.extend(inputs.iter().map(|i| i.message_id.as_str()));
        let marks = self.current_marks(&ids).await?;
        // Marks can be added while a load runs: carried inputs take the current ones too.
        for input in &mut inputs {
            (input.kb_mark, input.manual_mark) =
                marks.get(input.message_id.as_str()).copied().unwrap_or((input.kb_mark, input.manual_mark));
        }
        inputs.extend(rows.iter().filter(|r| r.included).map(|r| {
            let (kb_mark, manual_mark) = marks.get(r.message_id.as_str()).copied().unwrap_or_default();
            SessionInput {
                message_id: r.message_id.clone(),
                user_key: r.user_key.clone(),
                created_at: r.created_at,
                state: r.state.clone(),
                kb_hit: r.kb_hit,
                transfer: r.transfer,
                old_session_id: None,
                kb_mark,
                manual_mark,
            }
        }));
        let (assigned, summary) =
            compute(&inputs, rules).map_err(anyhow::Error::from).context("computing sessions")?;
        let computed = started.elapsed();
        let sessions: HashMap<&str, SessionCols> = assigned
            .iter()
            .filter(|a| batch_ids.contains(a.message_id.as_str()))
            .map(|a| (a.message_id.as_str(), (a.session_id.clone(), a.session_start, a.session_date)))
            .collect();
        self.upsert_messages(rows, now, Some(&sessions), first_load).await?;
        let upserted = started.elapsed();
        let moved = self.apply_assignments(&inputs[..stored], &assigned).await?;
        let written = if first_load {
            self.insert_sessions(&summary, true).await?;
            summary.len()
        } else {
            self.replace_sessions(&summary).await?
        };
        tracing::debug!(
            compute = ?computed,
            upsert = ?(upserted - computed),
            sessions = ?(started.elapsed() - upserted),
            "Wrote batch with sessions."
        );
        Ok(Merged {
            stats: SessionStats { messages_moved: moved, sessions_written: written },
            inputs,
            assigned,
        })
    }

    /// The current marks (kb_hit, manual) of these messages; none when no mark exists at all.
    async fn current_marks(
        &mut self,
        ids: &HashSet<&str>,
    ) -> anyhow::Result<HashMap<String, (Option<bool>, Option<bool>)>> {
        let (any,): (i64,) = with_conn!(self, conn, Db => {
            sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM marks LIMIT 1) x").fetch_one(&mut *conn).await
        })
        .context("reading marks")?;
        let mut out: HashMap<String, (Option<bool>, Option<bool>)> = HashMap::new();
        if any == 0 {
            return Ok(out);
        }
        let ids: Vec<&str> = ids.iter().copied().collect();
        for chunk in ids.chunks(ROWS_PER_STATEMENT / 2) {
            let rows: Vec<(String, String, Option<bool>)> = with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(include_str!("../../sql/warehouse/marks_current.sql"));
                qb.push("(");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(") ORDER BY k.marked_at, k.mark_id");
                qb.build_query_as().fetch_all(&mut *conn).await
            })
            .context("reading marks")?;
            for (id, field, value) in rows {
                let entry = out.entry(id).or_default();
                match field.as_str() {
                    "kb_hit" => entry.0 = value,
                    "manual" => entry.1 = value,
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Lists `affected` in the connection's scratch tables and moves each back to the start of
    /// the session holding the message just before it.
    async fn prepare_scratch(&mut self, affected: &[Affected]) -> anyhow::Result<()> {
        let temp_sql = if matches!(self, Tx::Sqlite(_)) {
            include_str!("../../sql/warehouse/sqlite/session_temp.sql")
        } else {
            include_str!("../../sql/warehouse/postgres/session_temp.sql")
        };
        with_conn!(self, conn, Db => sqlx::raw_sql(temp_sql).execute(&mut *conn).await.map(|_| ()))
            .context("preparing the session pass")?;
        for chunk in affected.chunks(ROWS_PER_STATEMENT) {
            with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new("INSERT INTO affected_users (user_key, from_at, from_id) ");
                qb.push_values(chunk, |mut b, a| {
                    b.push_bind(&a.user_key).push_bind(a.from_at).push_bind(&a.from_id);
                });
                qb.build().execute(&mut *conn).await.map(|_| ())
            })
            .context("listing affected users")?;
        }
        with_conn!(self, conn, Db => {
            sqlx::query(include_str!("../../sql/warehouse/session_anchor.sql")).execute(&mut *conn).await.map(|_| ())
        })
        .context("finding session starts")?;
        Ok(())
    }

    async fn load_session_inputs(&mut self) -> anyhow::Result<Vec<SessionInput>> {
        const SQL: &str = include_str!("../../sql/warehouse/session_messages.sql");
        match self {
            // A full rebuild reads every message, a group of users at a time (see sqlite_bulk).
            Tx::Sqlite(t) => query_rows(t, SQL, &[]).await,
            Tx::Postgres(t) => sqlx::query_as(SQL).fetch_all(&mut **t).await.map_err(anyhow::Error::from),
        }
        .context("loading messages for sessions")
    }

    /// Writes session columns of messages whose session changed; returns how many.
    async fn apply_assignments(
        &mut self,
        inputs: &[SessionInput],
        assigned: &[Assigned],
    ) -> anyhow::Result<usize> {
        let old: std::collections::HashMap<&str, Option<&str>> =
            inputs.iter().map(|i| (i.message_id.as_str(), i.old_session_id.as_deref())).collect();
        // Only the given (stored) messages: a batch's own rows get their session on insert.
        let changed: Vec<&Assigned> = assigned
            .iter()
            .filter(|a| matches!(old.get(a.message_id.as_str()), Some(prev) if *prev != Some(a.session_id.as_str())))
            .collect();
        for chunk in changed.chunks(ROWS_PER_STATEMENT) {
            with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO session_assign (message_id, session_id, session_start, session_date) ",
                );
                qb.push_values(chunk, |mut b, a| {
                    b.push_bind(&a.message_id).push_bind(&a.session_id).push_bind(a.session_start).push_bind(a.session_date);
                });
                qb.build().execute(&mut *conn).await.map(|_| ())
            })
            .context("writing sessions")?;
        }
        if !changed.is_empty() {
            with_conn!(self, conn, Db => {
                sqlx::query(include_str!("../../sql/warehouse/session_apply.sql")).execute(&mut *conn).await.map(|_| ())
            })
            .context("writing sessions")?;
        }
        Ok(changed.len())
    }

    /// Replaces the affected users' session rows from their starting points on.
    async fn replace_sessions(&mut self, summary: &[SessionRow]) -> anyhow::Result<usize> {
        with_conn!(self, conn, Db => {
            sqlx::query(include_str!("../../sql/warehouse/session_delete.sql")).execute(&mut *conn).await.map(|_| ())
        })
        .context("replacing sessions")?;
        self.insert_sessions(summary, false).await?;
        Ok(summary.len())
    }

    /// Inserts session rows; with `upsert`, a stored row of the same id is replaced.
    async fn insert_sessions(&mut self, summary: &[SessionRow], upsert: bool) -> anyhow::Result<()> {
        let tail = if upsert { SESSIONS_UPSERT_TAIL_SQL } else { "" };
        if let Tx::Sqlite(t) = self {
            // In key order, each page of the primary-key index is visited once per batch.
            let mut sorted: Vec<&SessionRow> = summary.iter().collect();
            sorted.sort_unstable_by(|a, b| a.session_id.cmp(&b.session_id));
            return super::sqlite_bulk::execute_each(t, SESSIONS_INSERT_SQL, tail, &sorted, |b, s| {
                bind_session(b, s)
            })
            .await
            .context("writing sessions");
        }
        for chunk in summary.chunks(ROWS_PER_STATEMENT / 2) {
            with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(SESSIONS_INSERT_SQL);
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.session_id)
                        .push_bind(&s.user_key)
                        .push_bind(s.started_at)
                        .push_bind(s.ended_at)
                        .push_bind(s.local_date)
                        .push_bind(s.messages)
                        .push_bind(s.answered)
                        .push_bind(s.errors)
                        .push_bind(s.pending)
                        .push_bind(s.kb_hits)
                        .push_bind(s.transfer_messages)
                        .push_bind(s.manual_messages)
                        .push_bind(s.is_transfer)
                        .push_bind(s.is_manual)
                        .push_bind(s.is_self_resolved);
                });
                qb.push(tail);
                qb.build().execute(&mut *conn).await.map(|_| ())
            })
            .context("writing sessions")?;
        }
        Ok(())
    }
}

/// A message's computed session.
#[derive(Debug)]
struct Assigned {
    message_id: String,
    session_id: String,
    session_start: NaiveDateTime,
    session_date: NaiveDate,
}

/// One `sessions` row.
#[derive(Debug)]
struct SessionRow {
    session_id: String,
    user_key: String,
    started_at: NaiveDateTime,
    ended_at: NaiveDateTime,
    local_date: NaiveDate,
    messages: i64,
    answered: i64,
    errors: i64,
    pending: i64,
    kb_hits: i64,
    transfer_messages: i64,
    manual_messages: i64,
    is_transfer: bool,
    is_manual: bool,
    is_self_resolved: bool,
}

/// Binds a session row for the SQLite writer, in the column order of `sessions_insert.sql`.
fn bind_session(b: &mut Binder<'_, '_>, s: &SessionRow) -> rusqlite::Result<()> {
    b.push(&s.session_id)?.push(&s.user_key)?.time(s.started_at)?.time(s.ended_at)?.date(s.local_date)?;
    b.push(s.messages)?.push(s.answered)?.push(s.errors)?.push(s.pending)?;
    b.push(s.kb_hits)?.push(s.transfer_messages)?.push(s.manual_messages)?;
    b.push(s.is_transfer)?.push(s.is_manual)?.push(s.is_self_resolved)?;
    Ok(())
}

fn compute(inputs: &[SessionInput], rules: &Rules) -> PolarsResult<(Vec<Assigned>, Vec<SessionRow>)> {
    let frame = df!(
        "message_id" => inputs.iter().map(|i| i.message_id.as_str()).collect::<Vec<_>>(),
        "user_key" => inputs.iter().map(|i| i.user_key.as_str()).collect::<Vec<_>>(),
        "created_at" => inputs.iter().map(|i| micros(i.created_at)).collect::<Vec<_>>(),
        "state" => inputs.iter().map(|i| i.state.as_str()).collect::<Vec<_>>(),
        "kb_hit" => inputs.iter().map(|i| i.kb_hit).collect::<Vec<_>>(),
        "transfer" => inputs.iter().map(|i| i.transfer).collect::<Vec<_>>(),
        "kb_mark" => inputs.iter().map(|i| i.kb_mark).collect::<Vec<_>>(),
        "manual_mark" => inputs.iter().map(|i| i.manual_mark).collect::<Vec<_>>(),
    )?;
    let with_sessions = sessions::assign(frame, rules)?;
    let effective = marks::apply(with_sessions.clone().lazy());
    let summary = sessions::summarize(effective).collect()?;
    Ok((assigned_rows(&with_sessions)?, session_rows(&summary)?))
}

fn assigned_rows(df: &DataFrame) -> PolarsResult<Vec<Assigned>> {
    let ids = df.column("message_id")?.str()?;
    let sids = df.column("session_id")?.str()?;
    let starts = df.column("session_start")?.i64()?;
    let dates = df.column("session_date")?.cast(&DataType::Int32)?;
    let dates = dates.i32()?;
    Ok((0..df.height())
        .map(|i| Assigned {
            message_id: ids.get(i).unwrap_or_default().to_string(),
            session_id: sids.get(i).unwrap_or_default().to_string(),
            session_start: from_micros(starts.get(i).unwrap_or_default()),
            session_date: from_epoch_days(dates.get(i).unwrap_or_default()),
        })
        .collect())
}

fn session_rows(df: &DataFrame) -> PolarsResult<Vec<SessionRow>> {
    let s = |n: &str| -> PolarsResult<StringChunked> { Ok(df.column(n)?.str()?.clone()) };
    let i =
        |n: &str| -> PolarsResult<Int64Chunked> { Ok(df.column(n)?.cast(&DataType::Int64)?.i64()?.clone()) };
    let b = |n: &str| -> PolarsResult<BooleanChunked> { Ok(df.column(n)?.bool()?.clone()) };
    let (sid, user) = (s("session_id")?, s("user_key")?);
    let (started, ended, date) = (i("started_at")?, i("ended_at")?, i("local_date")?);
    let (messages, answered, errors, pending) = (i("messages")?, i("answered")?, i("errors")?, i("pending")?);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn users(counts: &[i64]) -> Vec<UserExtent> {
        let at = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
        counts
            .iter()
            .enumerate()
            .map(|(i, &messages)| UserExtent { user_key: format!("u{i}"), first_at: at, messages })
            .collect()
    }

    fn sizes(groups: &[&[UserExtent]]) -> Vec<Vec<i64>> {
        groups.iter().map(|g| g.iter().map(|u| u.messages).collect()).collect()
    }

    #[test]
    fn user_groups_stay_under_the_limit_and_never_split_a_user() {
        let all = users(&[3, 4, 2, 9, 1, 1, 5]);
        assert_eq!(sizes(&user_groups(&all, 7)), vec![vec![3, 4], vec![2], vec![9], vec![1, 1, 5]]);
        assert_eq!(sizes(&user_groups(&all, 100)), vec![vec![3, 4, 2, 9, 1, 1, 5]]);
        assert_eq!(
            sizes(&user_groups(&all, 1)),
            vec![vec![3], vec![4], vec![2], vec![9], vec![1], vec![1], vec![5]]
        );
        assert!(user_groups(&[], 10).is_empty());
    }
}
