//! Session columns and rows: loading what `transform::derive` needs, and storing what it
//! derived. No session rule is decided here (docs/metrics.md §3 lives in `transform`).
//!
//! For a set of affected users (each with the first position that changed), the warehouse
//! looks up the stored session just before that position ([`Tx::restart_anchors`]; the rule
//! that picks the restart point is `transform::sessions::restart_point`), loads every included
//! message from there on with its marks and stored session ([`Tx::session_inputs`]), and
//! after the derivation writes the changed session columns and brings the users' session rows
//! from there on to the derived ones, writing only rows that differ ([`Tx::apply_sessions`]).
//! All of it runs in the caller's transaction.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use sqlx::{AssertSqlSafe, QueryBuilder};

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::Tx;
use super::messages::IDS_PER_STATEMENT;
use super::sqlite_bulk::{FromSqliteRow, get_opt_time, get_time, query_rows, with_raw_connection};
use super::table::{Column, Decode, Field, Kind, Row, Sink, Table};
use super::write::Conflict;
use crate::transform::derive::{Assignment, SessionCols, SessionInput};
use crate::transform::messages::MessageState;
use crate::transform::plan::Affected;
use crate::transform::sessions::SessionRow;
use crate::with_conn;

const ROWS_PER_STATEMENT: usize = 2000;

/// An affected user's first changed position and the stored session just before it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Anchor {
    pub user_key: String,
    pub from_at: NaiveDateTime,
    pub from_id: String,
    pub previous_start: Option<NaiveDateTime>,
    pub previous_id: Option<String>,
}

/// A row of `session_messages.sql`, decoded.
#[derive(Debug, sqlx::FromRow)]
struct StoredInput {
    message_id: String,
    user_key: String,
    created_at: NaiveDateTime,
    state: String,
    kb_hit: bool,
    transfer: bool,
    old_session_id: Option<String>,
    old_session_start: Option<NaiveDateTime>,
    old_session_date: Option<NaiveDate>,
    kb_mark: Option<bool>,
    manual_mark: Option<bool>,
}

impl From<StoredInput> for SessionInput {
    fn from(r: StoredInput) -> SessionInput {
        let stored = match (r.old_session_id, r.old_session_start, r.old_session_date) {
            (Some(session_id), Some(session_start), Some(session_date)) => {
                Some(SessionCols { session_id, session_start, session_date })
            }
            _ => None,
        };
        SessionInput {
            message_id: r.message_id,
            user_key: r.user_key,
            created_at: r.created_at,
            state: MessageState::from_stored(&r.state),
            kb_hit: r.kb_hit,
            transfer: r.transfer,
            kb_mark: r.kb_mark,
            manual_mark: r.manual_mark,
            stored,
        }
    }
}

impl FromSqliteRow for StoredInput {
    const COLUMNS: &'static [&'static str] = &[
        "message_id",
        "user_key",
        "created_at",
        "state",
        "kb_hit",
        "transfer",
        "old_session_id",
        "old_session_start",
        "old_session_date",
        "kb_mark",
        "manual_mark",
    ];

    /// A row of `session_messages.sql`.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredInput> {
        Ok(StoredInput {
            message_id: row.get(0)?,
            user_key: row.get(1)?,
            created_at: get_time(row, 2)?,
            state: row.get(3)?,
            kb_hit: row.get(4)?,
            transfer: row.get(5)?,
            old_session_id: row.get(6)?,
            old_session_start: get_opt_time(row, 7)?,
            old_session_date: row.get(8)?,
            kb_mark: row.get(9)?,
            manual_mark: row.get(10)?,
        })
    }
}

/// A user with included messages: the first one's time and how many there are.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserExtent {
    pub user_key: String,
    pub first_at: NaiveDateTime,
    pub messages: i64,
}

/// How [`Tx::session_inputs`] finds the messages of the affected users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLookup {
    /// Through the (user, time) index, each message read where it is stored: for a few users.
    ByUser,
    /// In one pass over the table (SQLite; PostgreSQL plans its own): for users holding a large
    /// share of it, see [`InputLookup::for_share`].
    Scan,
}

impl InputLookup {
    /// The lookup for users holding `part` of the `whole` table's messages: a pass over the
    /// table costs about what the index costs for a sixth of it (docs/performance.md,
    /// "Reclassification").
    pub fn for_share(part: usize, whole: usize) -> InputLookup {
        if part.saturating_mul(6) >= whole && part > 0 { InputLookup::Scan } else { InputLookup::ByUser }
    }
}

impl Tx {
    /// The stored session before each affected user's first changed position.
    pub async fn restart_anchors(&mut self, affected: &[Affected]) -> anyhow::Result<Vec<Anchor>> {
        self.fill_scratch(affected).await?;
        with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/session_anchor.sql")).fetch_all(&mut *conn).await
        })
        .context("finding where sessions restart")
    }

    /// Records the users' restart points, from which [`Tx::session_inputs`] loads and
    /// [`Tx::apply_sessions`] replaces.
    pub async fn set_restart_points(&mut self, restart: &[Affected]) -> anyhow::Result<()> {
        self.fill_scratch(restart).await
    }

    /// Every included message of the users of [`Tx::set_restart_points`] from their restart
    /// points on, with current marks and stored session columns.
    pub async fn session_inputs(&mut self, lookup: InputLookup) -> anyhow::Result<Vec<SessionInput>> {
        const SQL: &str = include_str!("../../sql/warehouse/session_messages.sql");
        const SCAN_SQL: &str = include_str!("../../sql/warehouse/sqlite/session_messages_scan.sql");
        let rows: Vec<StoredInput> = match self {
            // A full rebuild reads every message, a group of users at a time (see sqlite_bulk).
            Tx::Sqlite(t) => {
                let sql = if lookup == InputLookup::Scan { SCAN_SQL } else { SQL };
                query_rows(t, sql, &[]).await
            }
            Tx::Postgres(t) => sqlx::query_as(SQL).fetch_all(&mut **t).await.map_err(anyhow::Error::from),
        }
        .context("loading messages for sessions")?;
        Ok(rows.into_iter().map(SessionInput::from).collect())
    }

    /// Every user with included messages, by user key.
    pub async fn user_extents(&mut self) -> anyhow::Result<Vec<UserExtent>> {
        with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/session_user_extents.sql")).fetch_all(&mut *conn).await
        })
        .context("listing users")
    }

    /// Drops every session row and the session columns of excluded messages: the start of a
    /// rebuild of all sessions.
    pub async fn clear_sessions(&mut self) -> anyhow::Result<()> {
        with_conn!(self, conn, Db => {
            sqlx::query("DELETE FROM sessions").execute(&mut *conn).await.map(|_| ())
        })
        .context("clearing sessions")?;
        self.clear_excluded_sessions().await
    }

    /// Clears the session columns of excluded messages (they belong to no session).
    pub async fn clear_excluded_sessions(&mut self) -> anyhow::Result<()> {
        with_conn!(self, conn, Db => {
            sqlx::query(include_str!("../../sql/warehouse/session_clear_excluded.sql")).execute(&mut *conn).await.map(|_| ())
        })
        .context("clearing sessions")
    }

    /// Whether any mark exists at all: when none does (a first load, mostly), the callers of
    /// [`Tx::current_marks`] skip collecting the ids to ask for.
    pub async fn has_marks(&mut self) -> anyhow::Result<bool> {
        Ok(self.marks_version().await? > 0)
    }

    /// Where the marks stand: the id of the latest mark (0 when there is none). Marks are
    /// only ever appended (docs/warehouse.md) and writers take turns ([`Warehouse::begin`]),
    /// so an unchanged version means unchanged marks.
    pub async fn marks_version(&mut self) -> anyhow::Result<i64> {
        let (version,): (i64,) = with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/marks_version.sql")).fetch_one(&mut *conn).await
        })
        .context("reading marks")?;
        Ok(version)
    }

    /// Every message's current marks with their [`Tx::marks_version`]: what a first load
    /// derives its sessions under (`pipeline::derive::FirstLoadSessions`). Marks are few (an
    /// operator's and the legacy platform's), so they are held whole.
    pub async fn marks_snapshot(&mut self) -> anyhow::Result<MarksSnapshot> {
        let version = self.marks_version().await?;
        let rows: Vec<(String, String, Option<bool>)> = with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/marks_all_current.sql")).fetch_all(&mut *conn).await
        })
        .context("reading marks")?;
        Ok(MarksSnapshot { version, marks: fold_marks(rows) })
    }

    /// The current marks (kb_hit, manual) of these messages (the view `current_marks`).
    pub async fn current_marks(&mut self, ids: &[&str]) -> anyhow::Result<HashMap<String, MessageMarks>> {
        let mut rows: Vec<(String, String, Option<bool>)> = Vec::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT / 2) {
            let chunk_rows: Vec<(String, String, Option<bool>)> = with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(include_str!("../../sql/warehouse/marks_current.sql"));
                qb.push("(");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(&mut *conn).await
            })
            .context("reading marks")?;
            rows.extend(chunk_rows);
        }
        Ok(fold_marks(rows))
    }

    /// Stores derived sessions: the changed session columns of stored messages, and the users'
    /// session rows from their restart points (in the scratch table) on — rows no longer
    /// derived are dropped, new and differing ones written, equal ones left alone.
    pub async fn apply_sessions(
        &mut self,
        changed: &[&Assignment],
        rows: &[SessionRow],
    ) -> anyhow::Result<()> {
        self.ensure_keys().await?;
        self.write_assignments(changed).await?;
        let stored = self.stored_sessions().await?;
        let (stale, differing) = session_changes(&stored, rows);
        self.delete_sessions(&stale).await?;
        self.insert_sessions(&differing).await
    }

    /// Stores a first-load batch's sessions (`pipeline::derive::FirstLoadSessions`): the
    /// changed session columns of carried messages, the carried sessions no longer derived
    /// dropped (by id; none in practice, as a carried session's first message opens the
    /// user's inputs), and the new and changed session rows written. SQLite writes each row
    /// under the rowid the load gave it, replacing the row already there: the load has
    /// dropped the key on `session_id` (`Warehouse::drop_indexes`), so no random page of an
    /// index is touched (docs/performance.md, "The first load"). PostgreSQL upserts by id.
    pub async fn write_first_load_sessions(
        &mut self,
        changed: &[&Assignment],
        vanished: &[&str],
        rows: &[(i64, &SessionRow)],
    ) -> anyhow::Result<()> {
        self.write_assignments(changed).await?;
        self.delete_sessions(vanished).await?;
        match self {
            Tx::Sqlite(_) => {
                let mut numbered: Vec<Numbered> =
                    rows.iter().map(|&(rowid, row)| Numbered { rowid, row }).collect();
                // In rowid order: new rows append, extended ones are among the last pages.
                numbered.sort_unstable_by_key(|n| n.rowid);
                self.write_rows(&numbered, Conflict::Update).await
            }
            Tx::Postgres(_) => {
                let rows: Vec<&SessionRow> = rows.iter().map(|&(_, row)| row).collect();
                self.insert_sessions(&rows).await
            }
        }
    }

    /// Builds SQLite's keys if they are missing, as [`Tx::apply_sessions`] upserts sessions by
    /// theirs: a first load drops them until its end (`Warehouse::drop_indexes`), and an
    /// operator's `mark` may come between two of its batches, or after it was killed. A no-op
    /// when the keys are there; PostgreSQL's are primary keys, never dropped.
    async fn ensure_keys(&mut self) -> anyhow::Result<()> {
        if let Tx::Sqlite(t) = self {
            sqlx::raw_sql(include_str!("../../sql/warehouse/sqlite/keys_create.sql"))
                .execute(&mut **t)
                .await
                .context("building the keys of messages and sessions")?;
        }
        Ok(())
    }

    /// The rowid a first load gives its first new session row: one past the highest stored
    /// (the table is empty when such a load starts, so 1). Only SQLite uses it.
    pub async fn next_session_rowid(&mut self) -> anyhow::Result<i64> {
        match self {
            Tx::Sqlite(t) => {
                let (next,): (i64,) =
                    sqlx::query_as(include_str!("../../sql/warehouse/sqlite/session_next_rowid.sql"))
                        .fetch_one(&mut **t)
                        .await
                        .context("reading sessions")?;
                Ok(next)
            }
            Tx::Postgres(_) => Ok(1),
        }
    }

    /// The stored session rows of the users of [`Tx::set_restart_points`] from their restart
    /// points on.
    async fn stored_sessions(&mut self) -> anyhow::Result<Vec<SessionRow>> {
        let columns: Vec<String> =
            SessionRow::table().columns.iter().map(|c| format!("s.{}", c.name)).collect();
        let sql = include_str!("../../sql/warehouse/session_stored.sql")
            .replace("{{columns}}", &columns.join(", "));
        match self {
            Tx::Sqlite(t) => {
                with_raw_connection(t, |db| {
                    let mut statement = db.prepare(&sql)?;
                    let rows = statement.query_map([], SessionRow::from_sqlite)?;
                    Ok(rows.collect::<Result<Vec<_>, _>>()?)
                })
                .await
            }
            Tx::Postgres(t) => {
                let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut **t).await?;
                rows.iter()
                    .map(SessionRow::from_pg)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(anyhow::Error::from)
            }
        }
        .context("reading stored sessions")
    }

    /// Drops these session rows.
    async fn delete_sessions(&mut self, ids: &[&str]) -> anyhow::Result<()> {
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new("DELETE FROM sessions WHERE session_id IN (");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut *conn).await.map(|_| ())
            })
            .context("replacing sessions")?;
        }
        Ok(())
    }

    /// Lists positions in the connection's scratch table `affected_users` (emptied first).
    async fn fill_scratch(&mut self, positions: &[Affected]) -> anyhow::Result<()> {
        let temp_sql = if matches!(self, Tx::Sqlite(_)) {
            include_str!("../../sql/warehouse/sqlite/session_temp.sql")
        } else {
            include_str!("../../sql/warehouse/postgres/session_temp.sql")
        };
        with_conn!(self, conn, Db => sqlx::raw_sql(temp_sql).execute(&mut *conn).await.map(|_| ()))
            .context("preparing the session pass")?;
        self.write_rows(positions, Conflict::None).await
    }

    /// Writes the session columns of these messages.
    async fn write_assignments(&mut self, changed: &[&Assignment]) -> anyhow::Result<()> {
        if changed.is_empty() {
            return Ok(());
        }
        with_conn!(self, conn, Db => sqlx::query("DELETE FROM session_assign").execute(&mut *conn).await.map(|_| ()))
            .context("writing sessions")?;
        self.write_rows(changed, Conflict::None).await?;
        with_conn!(self, conn, Db => {
            sqlx::query(include_str!("../../sql/warehouse/session_apply.sql")).execute(&mut *conn).await.map(|_| ())
        })
        .context("writing sessions")
    }

    /// Writes session rows, replacing a stored row of the same id.
    async fn insert_sessions<R: std::borrow::Borrow<SessionRow>>(
        &mut self,
        summary: &[R],
    ) -> anyhow::Result<()> {
        let mut sorted: Vec<&SessionRow> = summary.iter().map(|r| r.borrow()).collect();
        if matches!(self, Tx::Sqlite(_)) {
            // In key order, each page of the key's index is visited once per batch.
            sorted.sort_unstable_by(|a, b| a.session_id.cmp(&b.session_id));
        }
        self.write_rows(&sorted, Conflict::Update).await
    }
}

crate::table!(SessionRow => "sessions", key(session_id), keep() {
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
});

/// A session row under the rowid a first load gave it, for SQLite
/// ([`Tx::write_first_load_sessions`]): the sessions table's columns and `rowid`, keyed by it.
struct Numbered<'a> {
    rowid: i64,
    row: &'a SessionRow,
}

impl Row for Numbered<'_> {
    fn table() -> &'static Table {
        static TABLE: LazyLock<Table> = LazyLock::new(|| {
            let rowid = Column { name: "rowid", kind: Kind::Int, nullable: false };
            Table { key: &["rowid"], ..SessionRow::table().extended(&[rowid], &[]) }
        });
        &TABLE
    }

    fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()> {
        self.row.write(sink)?;
        sink.put(self.rowid.value())
    }
}

// The scratch table of restart points (`sql/warehouse/*/session_temp.sql`).
crate::table!(Affected => "affected_users", key(user_key), keep() {
    user_key: String,
    from_at: NaiveDateTime,
    from_id: String,
});

/// The scratch table of changed session columns (`sql/warehouse/*/session_temp.sql`).
static SESSION_ASSIGN: Table = Table {
    name: "session_assign",
    key: &["message_id"],
    serial: None,
    keep_on_update: &[],
    columns: &[
        Column { name: "message_id", kind: Kind::Text, nullable: false },
        Column { name: "session_id", kind: Kind::Text, nullable: false },
        Column { name: "session_start", kind: Kind::Time, nullable: false },
        Column { name: "session_date", kind: Kind::Date, nullable: false },
    ],
};

impl Row for Assignment {
    fn table() -> &'static Table {
        &SESSION_ASSIGN
    }

    fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()> {
        let s = &self.session;
        sink.put(self.message_id.value())?;
        sink.put(s.session_id.value())?;
        sink.put(s.session_start.value())?;
        sink.put(s.session_date.value())
    }
}

/// A message's current marks: (kb_hit, manual), each `None` when unmarked.
pub type MessageMarks = (Option<bool>, Option<bool>);

/// Every current mark at one [`Tx::marks_version`].
#[derive(Debug, Default, Clone)]
pub struct MarksSnapshot {
    pub version: i64,
    pub marks: HashMap<String, MessageMarks>,
}

/// Folds rows of the view `current_marks` (message id, field, value) into each message's marks.
fn fold_marks(rows: Vec<(String, String, Option<bool>)>) -> HashMap<String, MessageMarks> {
    let mut out: HashMap<String, MessageMarks> = HashMap::new();
    for (id, field, value) in rows {
        let entry = out.entry(id).or_default();
        match field.as_str() {
            "kb_hit" => entry.0 = value,
            "manual" => entry.1 = value,
            _ => {}
        }
    }
    out
}

/// Compares the stored session rows from the restart points on with the derived ones: the
/// ids of stored rows no longer derived (to drop), and the derived rows that are new or differ
/// from the stored row of their id (to write). Rows equal to the stored ones are left alone.
pub fn session_changes<'a>(
    stored: &'a [SessionRow],
    derived: &'a [SessionRow],
) -> (Vec<&'a str>, Vec<&'a SessionRow>) {
    let derived_ids: HashSet<&str> = derived.iter().map(|r| r.session_id.as_str()).collect();
    let stale = stored.iter().map(|r| r.session_id.as_str()).filter(|id| !derived_ids.contains(id)).collect();
    let by_id: HashMap<&str, &SessionRow> = stored.iter().map(|r| (r.session_id.as_str(), r)).collect();
    let differing = derived.iter().filter(|r| by_id.get(r.session_id.as_str()) != Some(r)).collect();
    (stale, differing)
}

/// Splits `users` into consecutive groups holding at most `limit` messages each; a user with
/// more than `limit` messages makes a group alone (a user's sessions are never split).
pub fn user_groups(users: &[UserExtent], limit: usize) -> Vec<&[UserExtent]> {
    groups_by_rows(users, |u| usize::try_from(u.messages).unwrap_or(0), limit)
}

/// Splits `items` into consecutive groups whose `rows` add up to at most `limit`; an item with
/// more than `limit` rows makes a group alone.
pub fn groups_by_rows<T>(items: &[T], rows: impl Fn(&T) -> usize, limit: usize) -> Vec<&[T]> {
    let mut groups = Vec::new();
    let (mut start, mut sum) = (0, 0usize);
    for (i, item) in items.iter().enumerate() {
        let n = rows(item);
        if i > start && sum + n > limit {
            groups.push(&items[start..i]);
            (start, sum) = (i, 0);
        }
        sum += n;
    }
    if start < items.len() {
        groups.push(&items[start..]);
    }
    groups
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

    fn session(id: &str, messages: i64, is_transfer: bool) -> SessionRow {
        let at = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
        SessionRow {
            session_id: id.into(),
            user_key: "u".into(),
            started_at: at,
            ended_at: at,
            local_date: at.date(),
            messages,
            answered: messages,
            errors: 0,
            pending: 0,
            kb_hits: 0,
            transfer_messages: i64::from(is_transfer),
            manual_messages: 0,
            is_transfer,
            is_manual: false,
            is_self_resolved: !is_transfer,
        }
    }

    #[test]
    fn only_sessions_that_differ_are_written_and_only_vanished_ones_dropped() {
        let stored = [session("a", 2, false), session("b", 1, false), session("c", 3, true)];
        // a: unchanged; b: now a transfer; c: merged away; d: new.
        let derived = [session("a", 2, false), session("b", 1, true), session("d", 4, false)];
        let (stale, differing) = session_changes(&stored, &derived);
        assert_eq!(stale, ["c"]);
        let ids: Vec<&str> = differing.iter().map(|r| r.session_id.as_str()).collect();
        assert_eq!(ids, ["b", "d"]);
        let (stale, differing) = session_changes(&derived, &derived);
        assert!(stale.is_empty() && differing.is_empty(), "derived as stored: nothing to write");
    }

    #[test]
    fn a_large_share_of_the_table_is_scanned_a_small_one_looked_up() {
        assert_eq!(InputLookup::for_share(1_000, 3_000), InputLookup::Scan);
        assert_eq!(InputLookup::for_share(500, 3_000), InputLookup::Scan);
        assert_eq!(InputLookup::for_share(499, 3_000), InputLookup::ByUser);
        assert_eq!(InputLookup::for_share(50_000, 1_000_000), InputLookup::ByUser);
        assert_eq!(InputLookup::for_share(0, 0), InputLookup::ByUser);
    }
}
