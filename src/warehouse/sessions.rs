//! Session columns and rows: loading what `transform::derive` needs, and storing what it
//! derived. No session rule is decided here (docs/metrics.md §3 lives in `transform`).
//!
//! For a set of affected users (each with the first position that changed), the warehouse
//! looks up the stored session just before that position ([`Tx::restart_anchors`]; the rule
//! that picks the restart point is `transform::sessions::restart_point`), loads every included
//! message from there on with its marks and stored session ([`Tx::session_inputs`]), and
//! after the derivation writes the changed session columns and replaces the users' session
//! rows from there on ([`Tx::apply_sessions`]). All of it runs in the caller's transaction.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use sqlx::QueryBuilder;

use std::collections::{HashMap, HashSet};

use super::Tx;
use super::sqlite_bulk::{FromSqliteRow, query_rows};
use super::table::{Column, Field, Kind, Row, Sink, Table};
use super::write::Conflict;
use crate::transform::derive::{Assignment, SessionCols, SessionInput, SessionRow};
use crate::transform::messages::MessageState;
use crate::with_conn;

const ROWS_PER_STATEMENT: usize = 2000;

/// A user whose sessions must be derived again from (`from_at`, `from_id`) on.
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
            created_at: row.get(2)?,
            state: row.get(3)?,
            kb_hit: row.get(4)?,
            transfer: row.get(5)?,
            old_session_id: row.get(6)?,
            old_session_start: row.get(7)?,
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

/// How [`Tx::apply_sessions`] writes session rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionWrite {
    /// Replace the users' rows from their restart points (in the scratch table) on.
    ReplaceFromRestart,
    /// Insert, replacing a stored row of the same id (a first load, whose restart points are
    /// not in the scratch table: it has no earlier rows to drop).
    Upsert,
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
    pub async fn session_inputs(&mut self) -> anyhow::Result<Vec<SessionInput>> {
        const SQL: &str = include_str!("../../sql/warehouse/session_messages.sql");
        let rows: Vec<StoredInput> = match self {
            // A full rebuild reads every message, a group of users at a time (see sqlite_bulk).
            Tx::Sqlite(t) => query_rows(t, SQL, &[]).await,
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

    /// The current marks (kb_hit, manual) of these messages (the view `current_marks`); none
    /// when no mark exists at all.
    pub async fn current_marks(
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
                qb.push(")");
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

    /// Stores derived sessions: the changed session columns of stored messages, and the
    /// session rows (see [`SessionWrite`]).
    pub async fn apply_sessions(
        &mut self,
        changed: &[&Assignment],
        rows: &[SessionRow],
        write: SessionWrite,
    ) -> anyhow::Result<()> {
        self.write_assignments(changed).await?;
        if write == SessionWrite::ReplaceFromRestart {
            with_conn!(self, conn, Db => {
                sqlx::query(include_str!("../../sql/warehouse/session_delete.sql")).execute(&mut *conn).await.map(|_| ())
            })
            .context("replacing sessions")?;
        }
        self.insert_sessions(rows, write == SessionWrite::Upsert).await
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

    /// Inserts session rows; with `upsert`, a stored row of the same id is replaced.
    async fn insert_sessions(&mut self, summary: &[SessionRow], upsert: bool) -> anyhow::Result<()> {
        let mut sorted: Vec<&SessionRow> = summary.iter().collect();
        if matches!(self, Tx::Sqlite(_)) {
            // In key order, each page of the primary-key index is visited once per batch.
            sorted.sort_unstable_by(|a, b| a.session_id.cmp(&b.session_id));
        }
        self.write_rows(&sorted, if upsert { Conflict::Update } else { Conflict::None }).await
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

/// Splits `users` into consecutive groups holding at most `limit` messages each; a user with
/// more than `limit` messages makes a group alone (a user's sessions are never split).
pub fn user_groups(users: &[UserExtent], limit: usize) -> Vec<&[UserExtent]> {
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
