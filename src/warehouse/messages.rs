//! Writing and re-reading message rows.
//!
//! A batch is compared with what is stored (by `content_hash`) so that only new and changed
//! rows are written; the caller learns which users' sessions must be recomputed.

use std::collections::HashMap;
use std::sync::LazyLock;

use anyhow::Context;
use chrono::NaiveDateTime;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::rows::MessageRow;
use super::sqlite_bulk::{numbered_lists, query_each, with_raw_connection};
use super::table::{Column, Decode, Field, Kind, Row, Sink, Table, Value};
use super::write::Conflict;
use super::{Tx, Warehouse};
use crate::extract::RawMessage;
use crate::transform::derive::SessionCols;
use crate::{with_conn, with_pool};

const EXISTING_SQL: &str = include_str!("../../sql/warehouse/messages_existing.sql");
const PENDING_SQL: &str = include_str!("../../sql/warehouse/messages_pending.sql");
const STORED_RAW_OF_SQL: &str = include_str!("../../sql/warehouse/messages_stored_raw_of.sql");
/// Ids per `IN (…)` list (also `sessions.rs`).
pub(super) const IDS_PER_STATEMENT: usize = 900;

/// What the warehouse holds for a message id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub message_id: String,
    pub content_hash: i64,
    pub user_key: String,
    pub created_at: NaiveDateTime,
    pub included: bool,
}

impl Tx {
    /// The stored state of these message ids (absent ids are new).
    pub async fn existing(&mut self, ids: &[&str]) -> anyhow::Result<HashMap<String, Stored>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let found: Vec<Stored> = with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(EXISTING_SQL);
                qb.push("(");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as::<Stored>().fetch_all(&mut *conn).await
            })
            .context("reading stored messages")?;
            out.extend(found.into_iter().map(|s| (s.message_id.clone(), s)));
        }
        Ok(out)
    }

    /// Inserts or replaces these rows. With `sessions`, each row's session columns are written
    /// too (NULL for rows without one: excluded messages); without, stored session columns
    /// are kept and new rows start without a session. `all_new` says that none of the rows
    /// can be stored yet (a first load): they are then inserted plainly — on SQLite such a
    /// load has dropped the key index an upsert needs (`Warehouse::drop_indexes`), on
    /// PostgreSQL they are copied straight into the table.
    pub async fn upsert_messages<S: std::hash::BuildHasher>(
        &mut self,
        rows: &[&MessageRow],
        now: NaiveDateTime,
        sessions: Option<&HashMap<&str, &SessionCols, S>>,
        all_new: bool,
    ) -> anyhow::Result<()> {
        let mut rows = rows.to_vec();
        if !all_new && matches!(self, Tx::Sqlite(_)) {
            // In key order, each page of SQLite's key index is visited once per batch.
            rows.sort_unstable_by(|a, b| a.message_id.cmp(&b.message_id));
        }
        let conflict = if all_new { Conflict::None } else { Conflict::Update };
        match sessions {
            Some(sessions) => {
                let rows: Vec<WithSession> = rows
                    .iter()
                    .map(|row| WithSession {
                        message: Written { row, first_seen_at: now },
                        session: sessions.get(row.message_id.as_str()).copied(),
                    })
                    .collect();
                self.write_rows(&rows, conflict).await
            }
            None => {
                let rows: Vec<Written> = rows.iter().map(|row| Written { row, first_seen_at: now }).collect();
                self.write_rows(&rows, conflict).await
            }
        }
    }
}

/// A message row as an ingest writes it: with the time it was first seen, which an upsert
/// keeps as stored.
struct Written<'a> {
    row: &'a MessageRow,
    first_seen_at: NaiveDateTime,
}

impl Row for Written<'_> {
    fn table() -> &'static Table {
        static TABLE: LazyLock<Table> = LazyLock::new(|| {
            let first_seen = Column { name: "first_seen_at", kind: Kind::Time, nullable: false };
            MessageRow::table().extended(&[first_seen], &["first_seen_at"])
        });
        &TABLE
    }

    fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()> {
        self.row.write(sink)?;
        sink.put(self.first_seen_at.value())
    }
}

/// The whole `messages` table as declared: [`MessageRow`], the time a row was first seen and
/// the session columns (docs/warehouse.md, "messages").
pub fn messages_table() -> &'static Table {
    WithSession::table()
}

/// [`Written`] with the row's session columns (`None`: the row has no session).
struct WithSession<'a> {
    message: Written<'a>,
    session: Option<&'a SessionCols>,
}

impl Row for WithSession<'_> {
    fn table() -> &'static Table {
        static TABLE: LazyLock<Table> = LazyLock::new(|| {
            let column = |name, kind| Column { name, kind, nullable: true };
            let extra = [
                column("session_id", Kind::Text),
                column("session_start", Kind::Time),
                column("session_date", Kind::Date),
            ];
            Written::table().extended(&extra, &["first_seen_at"])
        });
        &TABLE
    }

    fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()> {
        self.message.write(sink)?;
        let s = self.session;
        sink.put(Value::Text(s.map(|s| s.session_id.as_str())))?;
        sink.put(Value::Time(s.map(|s| s.session_start)))?;
        sink.put(Value::Date(s.map(|s| s.session_date)))
    }
}

/// A stored message as Dify gave it, and what [`Tx::existing`] would say of it.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredRaw {
    #[sqlx(flatten)]
    pub raw: RawMessage,
    pub content_hash: i64,
    pub user_key: String,
    pub included: bool,
}

/// The columns of [`STORED_RAW_OF_SQL`]: Dify's (the stored key read as `id`), then the stored
/// state, all from the declarations ([`RawMessage::COLUMNS`]).
static STORED_RAW_COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    RawMessage::COLUMNS.iter().copied().chain(["content_hash", "user_key", "included"]).collect()
});

/// `messages_stored_raw_of.sql` with its select list, up to the caller's id list.
static STORED_RAW_SQL: LazyLock<String> = LazyLock::new(|| {
    let select: Vec<String> = STORED_RAW_COLUMNS
        .iter()
        .map(|c| if *c == "id" { "message_id AS id".to_string() } else { c.to_string() })
        .collect();
    STORED_RAW_OF_SQL.replace("{{columns}}", &select.join(", "))
});

impl StoredRaw {
    /// A row of [`STORED_RAW_SQL`] read through rusqlite.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRaw> {
        let at = RawMessage::COLUMNS.len();
        Ok(StoredRaw {
            raw: RawMessage::from_sqlite(row, 0)?,
            content_hash: row.get(at)?,
            user_key: row.get(at + 1)?,
            included: row.get(at + 2)?,
        })
    }
}

impl StoredRaw {
    /// The stored state, as [`Tx::existing`] returns it.
    pub fn stored(&self) -> Stored {
        Stored {
            message_id: self.raw.id.clone(),
            content_hash: self.content_hash,
            user_key: self.user_key.clone(),
            created_at: self.raw.created_at,
            included: self.included,
        }
    }
}

impl Tx {
    /// The stored messages of these ids, as raw Dify rows with their stored state (absent ids
    /// are left out; the order is the warehouse's).
    pub async fn stored_raw_of(&mut self, ids: &[&str]) -> anyhow::Result<Vec<StoredRaw>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!("{}{}", *STORED_RAW_SQL, numbered_lists(1, chunk.len()));
            let found: Vec<StoredRaw> = match self {
                // Through rusqlite, as the other bulk reads (see sqlite_bulk).
                Tx::Sqlite(t) => {
                    let params: Vec<&dyn rusqlite::ToSql> =
                        chunk.iter().map(|id| id as &dyn rusqlite::ToSql).collect();
                    let mut found = Vec::with_capacity(chunk.len());
                    query_each(t, &sql, &params, &STORED_RAW_COLUMNS, |row| {
                        found.push(StoredRaw::from_sqlite(row)?);
                        Ok(())
                    })
                    .await
                    .map(|()| found)
                }
                Tx::Postgres(t) => {
                    let query =
                        chunk.iter().fold(sqlx::query_as(AssertSqlSafe(sql.as_str())), |q, id| q.bind(*id));
                    query.fetch_all(&mut **t).await.map_err(anyhow::Error::from)
                }
            }
            .context("reading stored messages")?;
            out.extend(found);
        }
        Ok(out)
    }
}

impl Warehouse {
    /// Ids of messages still pending, created in `[from, to)`.
    pub async fn pending_ids(&self, from: NaiveDateTime, to: NaiveDateTime) -> anyhow::Result<Vec<String>> {
        let ids: Vec<(String,)> = with_pool!(self, pool, Db => {
            sqlx::query_as(PENDING_SQL).bind(from).bind(to).fetch_all(pool).await
        })
        .context("reading pending messages")?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}

/// A stored message's recomputed content hash (`hash_update`, a scratch table).
struct HashUpdate {
    message_id: String,
    content_hash: i64,
}

crate::table!(HashUpdate => "hash_update", key(message_id), keep() { message_id: String, content_hash: i64 });

impl Tx {
    /// How many messages are stored.
    pub async fn message_count(&mut self) -> anyhow::Result<u64> {
        let (n,): (i64,) = with_conn!(self, conn, Db => {
            sqlx::query_as("SELECT COUNT(*) FROM messages").fetch_one(&mut *conn).await
        })
        .context("counting stored messages")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Stored messages after `after_id` (by id), at most `limit`, as rows.
    pub async fn stored_rows(&mut self, after_id: &str, limit: i64) -> anyhow::Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {} FROM messages WHERE message_id > $1 ORDER BY message_id LIMIT $2",
            MessageRow::table().column_list()
        );
        match self {
            Tx::Sqlite(t) => {
                with_raw_connection(t, |db| {
                    let mut statement = db.prepare(&sql)?;
                    let rows =
                        statement.query_map(rusqlite::params![after_id, limit], MessageRow::from_sqlite)?;
                    Ok(rows.collect::<Result<Vec<_>, _>>()?)
                })
                .await
            }
            Tx::Postgres(t) => {
                let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(after_id)
                    .bind(limit)
                    .fetch_all(&mut **t)
                    .await?;
                rows.iter()
                    .map(MessageRow::from_pg)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(anyhow::Error::from)
            }
        }
        .context("reading stored messages")
    }

    /// Sets the content hash of stored messages (id, hash).
    pub async fn set_content_hashes(&mut self, hashes: Vec<(String, i64)>) -> anyhow::Result<()> {
        const SCRATCH: &str = "CREATE TEMP TABLE IF NOT EXISTS hash_update (message_id TEXT PRIMARY KEY, content_hash BIGINT NOT NULL); DELETE FROM hash_update";
        const APPLY: &str = "UPDATE messages SET content_hash = h.content_hash FROM hash_update h WHERE messages.message_id = h.message_id";
        if hashes.is_empty() {
            return Ok(());
        }
        with_conn!(self, conn, Db => sqlx::raw_sql(SCRATCH).execute(&mut *conn).await.map(|_| ()))
            .context("re-hashing stored messages")?;
        let rows: Vec<HashUpdate> = hashes
            .into_iter()
            .map(|(message_id, content_hash)| HashUpdate { message_id, content_hash })
            .collect();
        self.write_rows(&rows, Conflict::None).await?;
        with_conn!(self, conn, Db => sqlx::raw_sql(APPLY).execute(&mut *conn).await.map(|_| ()))
            .context("re-hashing stored messages")
    }
}

/// What the write plan (docs/metrics.md §8, `transform::plan`) reads of a message: a stored
/// one and a classified row name these facts alike.
macro_rules! placed {
    ($row:ty) => {
        impl crate::transform::plan::Placed for $row {
            fn message_id(&self) -> &str {
                &self.message_id
            }
            fn content_hash(&self) -> i64 {
                self.content_hash
            }
            fn user_key(&self) -> &str {
                &self.user_key
            }
            fn created_at(&self) -> NaiveDateTime {
                self.created_at
            }
            fn included(&self) -> bool {
                self.included
            }
        }
    };
}
placed!(Stored);
placed!(super::rows::MessageRow);
