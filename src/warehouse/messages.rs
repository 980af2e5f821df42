//! Writing and re-reading message rows.
//!
//! A batch is compared with what is stored (by `content_hash`) so that only new and changed
//! rows are written; the caller learns which users' sessions must be recomputed.

use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDateTime;
use sqlx::QueryBuilder;

use super::rows::MessageRow;
use super::sqlite_bulk::{Binder, FromSqliteRow, query_rows};
use super::{Tx, Warehouse};
use crate::extract::RawMessage;
use crate::transform::derive::SessionCols;
use crate::{with_conn, with_pool};

const INSERT_SQL: &str = include_str!("../../sql/warehouse/messages_insert.sql");
const UPSERT_TAIL_SQL: &str = include_str!("../../sql/warehouse/messages_upsert_tail.sql");
const EXISTING_SQL: &str = include_str!("../../sql/warehouse/messages_existing.sql");
const PENDING_SQL: &str = include_str!("../../sql/warehouse/messages_pending.sql");
const STORED_RAW_SQL: &str = include_str!("../../sql/warehouse/messages_stored_raw.sql");

const INSERT_WITH_SESSIONS_SQL: &str = include_str!("../../sql/warehouse/messages_insert_with_sessions.sql");
const SESSIONS_TAIL_SQL: &str = include_str!("../../sql/warehouse/messages_upsert_sessions_tail.sql");

/// Rows per multi-row statement (PostgreSQL): 38 columns × 400 values per statement.
const ROWS_PER_STATEMENT: usize = 400;
/// Ids per `IN (…)` list.
const IDS_PER_STATEMENT: usize = 900;

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
    /// can be stored yet (a first load): SQLite then inserts them plainly, since such a load
    /// has dropped the key index that an upsert needs (`Warehouse::drop_indexes`).
    pub async fn upsert_messages(
        &mut self,
        rows: &[&MessageRow],
        now: NaiveDateTime,
        sessions: Option<&HashMap<&str, SessionCols>>,
        all_new: bool,
    ) -> anyhow::Result<()> {
        let (head, tail) = match sessions {
            Some(_) => (INSERT_WITH_SESSIONS_SQL, format!("{UPSERT_TAIL_SQL}{SESSIONS_TAIL_SQL}")),
            None => (INSERT_SQL, UPSERT_TAIL_SQL.to_string()),
        };
        if let Tx::Sqlite(t) = self {
            let mut rows = rows.to_vec();
            let tail = if all_new { String::new() } else { tail };
            if !all_new {
                // In key order, each page of the key index is visited once per batch.
                rows.sort_unstable_by(|a, b| a.message_id.cmp(&b.message_id));
            }
            let now = super::sqlite_bulk::sqlx_time(now);
            return super::sqlite_bulk::execute_each(t, head, &tail, &rows, |b, r| {
                bind_message(b, r, &now, sessions)
            })
            .await
            .context("writing messages to the warehouse");
        }
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(head);
                qb.push_values(chunk.iter(), |mut b, r| {
                    b.push_bind(&r.message_id)
                        .push_bind(&r.app_id)
                        .push_bind(&r.conversation_id)
                        .push_bind(r.created_at)
                        .push_bind(r.updated_at)
                        .push_bind(r.local_time)
                        .push_bind(r.local_date)
                        .push_bind(&r.user_key)
                        .push_bind(&r.query)
                        .push_bind(&r.question)
                        .push_bind(&r.answer)
                        .push_bind(&r.status)
                        .push_bind(&r.error)
                        .push_bind(r.state.as_str())
                        .push_bind(r.kb_hit)
                        .push_bind(r.transfer)
                        .push_bind(r.included)
                        .push_bind(&r.invoke_from)
                        .push_bind(&r.from_source)
                        .push_bind(&r.from_end_user_id)
                        .push_bind(&r.from_account_id)
                        .push_bind(&r.end_user_session_id)
                        .push_bind(&r.account_email)
                        .push_bind(&r.inputs)
                        .push_bind(r.message_tokens)
                        .push_bind(r.answer_tokens)
                        .push_bind(r.latency_s)
                        .push_bind(r.total_price)
                        .push_bind(&r.currency)
                        .push_bind(&r.parent_message_id)
                        .push_bind(&r.app_mode)
                        .push_bind(&r.conversation_name)
                        .push_bind(r.conversation_deleted)
                        .push_bind(r.content_hash)
                        .push_bind(now);
                    if let Some(sessions) = sessions {
                        let s = sessions.get(r.message_id.as_str());
                        b.push_bind(s.map(|s| s.session_id.clone()))
                            .push_bind(s.map(|s| s.session_start))
                            .push_bind(s.map(|s| s.session_date));
                    }
                });
                qb.push(tail.as_str());
                qb.build().execute(&mut *conn).await.map(|_| ())
            })
            .context("writing messages to the warehouse")?;
        }
        Ok(())
    }
}

/// Binds a row for the SQLite writer, in the column order of `upsert_messages`.
fn bind_message(
    b: &mut Binder<'_, '_>,
    r: &MessageRow,
    now: &str,
    sessions: Option<&HashMap<&str, SessionCols>>,
) -> rusqlite::Result<()> {
    b.push(&r.message_id)?.push(&r.app_id)?.push(&r.conversation_id)?;
    b.time(r.created_at)?.opt_time(r.updated_at)?.time(r.local_time)?.date(r.local_date)?;
    b.push(&r.user_key)?.push(&r.query)?.push(&r.question)?.push(&r.answer)?;
    b.push(&r.status)?.push(&r.error)?.push(r.state.as_str())?;
    b.push(r.kb_hit)?.push(r.transfer)?.push(r.included)?;
    b.push(&r.invoke_from)?.push(&r.from_source)?.push(&r.from_end_user_id)?.push(&r.from_account_id)?;
    b.push(&r.end_user_session_id)?.push(&r.account_email)?.push(&r.inputs)?;
    b.push(r.message_tokens)?.push(r.answer_tokens)?.push(r.latency_s)?.push(r.total_price)?;
    b.push(&r.currency)?.push(&r.parent_message_id)?.push(&r.app_mode)?;
    b.push(&r.conversation_name)?.push(r.conversation_deleted)?;
    b.push(r.content_hash)?.push(now)?;
    if let Some(sessions) = sessions {
        let s = sessions.get(r.message_id.as_str());
        b.push(s.map(|s| s.session_id.as_str()))?;
        b.opt_time(s.map(|s| s.session_start))?.opt_date(s.map(|s| s.session_date))?;
    }
    Ok(())
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

impl FromSqliteRow for StoredRaw {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "content_hash",
        "user_key",
        "included",
        "app_id",
        "conversation_id",
        "created_at",
        "updated_at",
        "query",
        "answer",
        "status",
        "error",
        "from_source",
        "from_end_user_id",
        "from_account_id",
        "invoke_from",
        "inputs",
        "message_tokens",
        "answer_tokens",
        "latency_s",
        "total_price",
        "currency",
        "parent_message_id",
        "app_mode",
        "end_user_session_id",
        "account_email",
        "conversation_name",
        "conversation_deleted",
    ];

    /// A row of `messages_stored_raw.sql`.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRaw> {
        Ok(StoredRaw {
            content_hash: row.get(1)?,
            user_key: row.get(2)?,
            included: row.get(3)?,
            raw: RawMessage {
                id: row.get(0)?,
                app_id: row.get(4)?,
                conversation_id: row.get(5)?,
                created_at: row.get(6)?,
                updated_at: row.get(7)?,
                query: row.get(8)?,
                answer: row.get(9)?,
                status: row.get(10)?,
                error: row.get(11)?,
                from_source: row.get(12)?,
                from_end_user_id: row.get(13)?,
                from_account_id: row.get(14)?,
                invoke_from: row.get(15)?,
                inputs: row.get(16)?,
                message_tokens: row.get(17)?,
                answer_tokens: row.get(18)?,
                latency_s: row.get(19)?,
                total_price: row.get(20)?,
                currency: row.get(21)?,
                parent_message_id: row.get(22)?,
                app_mode: row.get(23)?,
                end_user_session_id: row.get(24)?,
                account_email: row.get(25)?,
                conversation_name: row.get(26)?,
                conversation_deleted: row.get(27)?,
            },
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
    /// Stored messages after `after_id` (by id), at most `limit`, as raw Dify rows with their
    /// stored state.
    pub async fn stored_raw(&mut self, after_id: &str, limit: i64) -> anyhow::Result<Vec<StoredRaw>> {
        match self {
            // A reclassification reads every stored message (see sqlite_bulk).
            Tx::Sqlite(t) => query_rows(t, STORED_RAW_SQL, &[&after_id, &limit]).await,
            Tx::Postgres(t) => sqlx::query_as(STORED_RAW_SQL)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&mut **t)
                .await
                .map_err(anyhow::Error::from),
        }
        .context("reading stored messages")
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
