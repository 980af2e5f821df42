//! Operator marks: resolving message ids, appending marks, reading their history.
//!
//! Marks are append-only: each row is one decision on one field; the current value of a field
//! is its latest row by `marked_at`, then `mark_id` (not by `mark_id` alone: a legacy migration
//! run late appends marks with their historic times, which must not override newer ones; the
//! view `current_marks` says which row is current). Appending marks says which users'
//! sessions they touch; the pipeline derives those again in the same transaction, so BI tools
//! see them at once.

use std::collections::HashSet;

use anyhow::Context;
use chrono::NaiveDateTime;

use super::sessions::{Affected, earliest_per_user};
use super::{Tx, Warehouse};
use crate::{with_conn, with_pool};

/// One mark to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMark {
    pub message_id: String,
    /// `manual` or `kb_hit`.
    pub field: &'static str,
    /// `None` for `kb_hit` means "back to the rule".
    pub value: Option<bool>,
    pub operator: String,
    pub note: Option<String>,
    /// Naive UTC.
    pub marked_at: NaiveDateTime,
    /// Whether `marked_at` was recorded. A legacy row without any time is not: it is dated by
    /// its message's `created_at` (the epoch when the message is not stored), and it counts as
    /// already migrated when the same mark exists at any time (its date can change between
    /// two migrations, when the message is ingested in between).
    pub dated: bool,
    /// `cli` or `legacy`.
    pub source: &'static str,
}

/// A stored mark.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarkRow {
    pub mark_id: i64,
    pub message_id: String,
    pub field: String,
    pub value: Option<bool>,
    pub operator: String,
    pub note: Option<String>,
    pub marked_at: NaiveDateTime,
    pub source: String,
}

/// What an id or prefix resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Exactly one message.
    One(String),
    /// No message.
    None,
    /// Several messages (at most 11 listed).
    Many(Vec<String>),
}

impl Warehouse {
    /// Resolves a full id or a unique prefix (lowercase hex and hyphens).
    pub async fn resolve_id(&self, prefix: &str) -> anyhow::Result<Resolved> {
        let ids: Vec<(String,)> = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/ids_by_prefix.sql"))
                .bind(prefix)
                .bind(prefix.chars().count() as i64)
                .fetch_all(pool)
                .await
        })
        .context("looking up message ids")?;
        let mut ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
        Ok(match ids.len() {
            0 => Resolved::None,
            1 => Resolved::One(ids.remove(0)),
            _ => Resolved::Many(ids),
        })
    }

    /// When a stored message was asked (naive UTC): the date of a legacy mark that has none,
    /// since an operator can only act on a question after it was asked.
    pub async fn message_time(&self, message_id: &str) -> anyhow::Result<Option<NaiveDateTime>> {
        let row: Option<(String, NaiveDateTime, bool)> = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/message_users.sql"))
                .bind(message_id)
                .fetch_optional(pool)
                .await
        })
        .context("reading messages")?;
        Ok(row.map(|(_, created_at, _)| created_at))
    }

    /// How many of these marks [`Tx::append_marks`] with `skip_existing` would write: those
    /// not recorded yet, a repeat within `marks` counting once (for dry runs, which take no
    /// write lock).
    pub async fn count_new_marks(&self, marks: &[NewMark]) -> anyhow::Result<usize> {
        let (mut exact, mut any_time) = (HashSet::new(), HashSet::new());
        let mut new = 0;
        for m in marks {
            let key = (m.message_id.as_str(), m.field, m.value, m.operator.as_str(), m.source);
            let repeat = if m.dated { exact.contains(&(key, m.marked_at)) } else { any_time.contains(&key) };
            if repeat || self.mark_recorded(m).await? {
                continue;
            }
            exact.insert((key, m.marked_at));
            any_time.insert(key);
            new += 1;
        }
        Ok(new)
    }

    async fn mark_recorded(&self, m: &NewMark) -> anyhow::Result<bool> {
        let (n,): (i64,) = with_pool!(self, pool, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/mark_exists.sql"))
                .bind(&m.message_id)
                .bind(m.field)
                .bind(m.value)
                .bind(&m.operator)
                .bind(m.marked_at)
                .bind(m.source)
                .bind(!m.dated)
                .fetch_one(pool)
                .await
        })
        .context("reading marks")?;
        Ok(n > 0)
    }

    /// The current mark of each field of a message (the view `current_marks`).
    pub async fn current_marks_of(&self, message_id: &str) -> anyhow::Result<Vec<MarkRow>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, MarkRow>(include_str!("../../sql/warehouse/marks_current_of.sql"))
                .bind(message_id)
                .fetch_all(pool)
                .await
        })
        .context("reading marks")
    }

    /// Every mark of a message in the order they take effect: by time, then id.
    pub async fn mark_history(&self, message_id: &str) -> anyhow::Result<Vec<MarkRow>> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, MarkRow>(include_str!("../../sql/warehouse/mark_history.sql"))
                .bind(message_id)
                .fetch_all(pool)
                .await
        })
        .context("reading marks")
    }
}

impl Tx {
    /// Appends marks (skipping exact duplicates when `skip_existing`). Returns how many marks
    /// were written and, per user, the first position whose session they touch.
    pub async fn append_marks(
        &mut self,
        marks: &[NewMark],
        skip_existing: bool,
    ) -> anyhow::Result<(usize, Vec<Affected>)> {
        let mut written = 0;
        let mut affected = Vec::new();
        for m in marks {
            if skip_existing && self.mark_exists(m).await? {
                continue;
            }
            with_conn!(self, conn, Db => {
                sqlx::query(include_str!("../../sql/warehouse/mark_insert.sql"))
                    .bind(&m.message_id)
                    .bind(m.field)
                    .bind(m.value)
                    .bind(&m.operator)
                    .bind(&m.note)
                    .bind(m.marked_at)
                    .bind(m.source)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            })
            .context("writing marks")?;
            written += 1;
            if let Some(a) = self.affected_by(&m.message_id).await? {
                affected.push(a);
            }
        }
        Ok((written, earliest_per_user(affected)))
    }

    async fn mark_exists(&mut self, m: &NewMark) -> anyhow::Result<bool> {
        let (n,): (i64,) = with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/mark_exists.sql"))
                .bind(&m.message_id)
                .bind(m.field)
                .bind(m.value)
                .bind(&m.operator)
                .bind(m.marked_at)
                .bind(m.source)
                .bind(!m.dated)
                .fetch_one(&mut *conn)
                .await
        })
        .context("reading marks")?;
        Ok(n > 0)
    }

    /// The session position a mark on this message touches (none when the message is not
    /// stored yet, or excluded).
    async fn affected_by(&mut self, message_id: &str) -> anyhow::Result<Option<Affected>> {
        let row: Option<(String, NaiveDateTime, bool)> = with_conn!(self, conn, Db => {
            sqlx::query_as(include_str!("../../sql/warehouse/message_users.sql"))
                .bind(message_id)
                .fetch_optional(&mut *conn)
                .await
        })
        .context("reading messages")?;
        Ok(row.filter(|r| r.2).map(|(user_key, from_at, _)| Affected {
            user_key,
            from_at,
            from_id: message_id.to_string(),
        }))
    }
}
