//! Operator marks: resolving message ids, appending marks, reading their history.
//!
//! Marks are append-only: each row is one decision on one field; the current value of a field
//! is its latest row by `marked_at`, then `mark_id` (not by `mark_id` alone: a legacy migration
//! run late appends marks with their historic times, which must not override newer ones; the
//! view `current_marks` says which row is current). Appending marks says which users'
//! sessions they touch; the pipeline derives those again in the same transaction, so BI tools
//! see them at once.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::NaiveDateTime;
use sqlx::QueryBuilder;

use super::write::Conflict;
use super::{Tx, Warehouse};
use crate::transform::plan::{Affected, earliest_per_user};
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

crate::table!(
    /// A stored mark: the `marks` table's columns (`mark_id` is 0 in a mark about to be
    /// written; the database assigns it).
    #[derive(Debug, Clone, sqlx::FromRow)]
    pub struct MarkRow => "marks", serial(pub mark_id: i64), key(mark_id), keep() {
        pub message_id: String,
        pub field: String,
        pub value: Option<bool>,
        pub operator: String,
        pub note: Option<String>,
        pub marked_at: NaiveDateTime,
        pub source: String,
    }
);

impl From<&NewMark> for MarkRow {
    fn from(m: &NewMark) -> Self {
        MarkRow {
            mark_id: 0,
            message_id: m.message_id.clone(),
            field: m.field.into(),
            value: m.value,
            operator: m.operator.clone(),
            note: m.note.clone(),
            marked_at: m.marked_at,
            source: m.source.into(),
        }
    }
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

/// Typed prefixes per resolving query: two bound values each, well under both backends'
/// limits on bound values.
const PREFIXES_PER_QUERY: usize = 500;

/// Listed ids per neighbour query.
const IDS_PER_QUERY: usize = 500;

/// The first text after every text that starts with `prefix` (its last character
/// incremented): "starts with `prefix`" is the key range `[prefix, upper)`. Ids are ASCII, so
/// byte order and character order agree.
pub fn prefix_upper(prefix: &str) -> String {
    let mut upper: Vec<char> = prefix.chars().collect();
    match upper.pop() {
        Some(last) => {
            upper.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX));
            upper.into_iter().collect()
        }
        // Every text starts with the empty prefix; callers never pass it.
        None => char::MAX.to_string(),
    }
}

/// A stored id and its neighbours in key order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Neighbours {
    pub message_id: String,
    pub before_id: Option<String>,
    pub after_id: Option<String>,
}

impl Warehouse {
    /// Resolves a full id or a unique prefix (lowercase hex and hyphens).
    pub async fn resolve_id(&self, prefix: &str) -> anyhow::Result<Resolved> {
        let mut found = self.resolve_ids(&[prefix.to_string()]).await?;
        Ok(found.remove(prefix).unwrap_or(Resolved::None))
    }

    /// Resolves many full ids or prefixes (lowercase hex and hyphens) in one query per
    /// [`PREFIXES_PER_QUERY`]: each key range is a seek on the message key index.
    pub async fn resolve_ids(&self, prefixes: &[String]) -> anyhow::Result<HashMap<String, Resolved>> {
        let mut distinct: Vec<&String> = prefixes.iter().collect();
        distinct.sort();
        distinct.dedup();
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        let (head, tail) = split_values(include_str!("../../sql/warehouse/ids_by_prefix.sql"));
        for chunk in distinct.chunks(PREFIXES_PER_QUERY) {
            let rows: Vec<(String, String)> = with_pool!(self, pool, Db => {
                let mut qb = QueryBuilder::<Db>::new(head);
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.as_str()).push_bind(prefix_upper(p));
                });
                qb.push(tail);
                qb.build_query_as().fetch_all(pool).await
            })
            .context("looking up message ids")?;
            for (prefix, id) in rows {
                found.entry(prefix).or_default().push(id);
            }
        }
        Ok(distinct
            .into_iter()
            .map(|p| {
                let mut ids = found.remove(p).unwrap_or_default();
                let resolved = match ids.len() {
                    0 => Resolved::None,
                    1 => Resolved::One(ids.remove(0)),
                    _ => Resolved::Many(ids),
                };
                (p.clone(), resolved)
            })
            .collect())
    }

    /// The neighbours in key order of stored ids, in one query per [`IDS_PER_QUERY`].
    pub async fn id_neighbours(&self, ids: &[String]) -> anyhow::Result<Vec<Neighbours>> {
        self.query_by_ids(include_str!("../../sql/warehouse/id_neighbours.sql"), ids)
            .await
            .context("reading message ids")
    }

    /// Runs a statement whose `{{values}}` placeholder takes a list of ids, one query per
    /// [`IDS_PER_QUERY`] ids, and gathers the rows.
    pub(crate) async fn query_by_ids<T>(&self, sql: &'static str, ids: &[String]) -> sqlx::Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let (head, tail) = split_values(sql);
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<T> = with_pool!(self, pool, Db => {
                let mut qb = QueryBuilder::<Db>::new(head);
                qb.push_values(chunk, |mut b, id| {
                    b.push_bind(id.as_str());
                });
                qb.push(tail);
                qb.build_query_as().fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
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
    /// were written and, per user, the first position whose session they touch. Without
    /// `skip_existing` (operators' marks) the marks go in one batch; the legacy migration
    /// checks each mark against those before it, so it writes one by one.
    pub async fn append_marks(
        &mut self,
        marks: &[NewMark],
        skip_existing: bool,
    ) -> anyhow::Result<(usize, Vec<Affected>)> {
        let mut written: Vec<&NewMark> = Vec::with_capacity(marks.len());
        if skip_existing {
            for m in marks {
                if !self.mark_exists(m).await? {
                    self.insert_marks(std::slice::from_ref(&m)).await?;
                    written.push(m);
                }
            }
        } else {
            written.extend(marks);
            self.insert_marks(&written).await?;
        }
        let mut ids: Vec<String> = written.iter().map(|m| m.message_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let affected = self.affected_by(&ids).await?;
        Ok((written.len(), earliest_per_user(affected)))
    }

    /// Appends marks (never updated or deleted).
    async fn insert_marks(&mut self, marks: &[&NewMark]) -> anyhow::Result<()> {
        let rows: Vec<MarkRow> = marks.iter().map(|m| MarkRow::from(*m)).collect();
        self.write_rows(&rows, Conflict::None).await
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

    /// The session positions marks on these messages touch (none for a message not stored
    /// yet, or excluded), in one query per [`IDS_PER_QUERY`].
    async fn affected_by(&mut self, ids: &[String]) -> anyhow::Result<Vec<Affected>> {
        let (head, tail) = split_values(include_str!("../../sql/warehouse/messages_users_of.sql"));
        let mut affected = Vec::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<(String, String, NaiveDateTime, bool)> = with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(head);
                qb.push_values(chunk, |mut b, id| {
                    b.push_bind(id.as_str());
                });
                qb.push(tail);
                qb.build_query_as().fetch_all(&mut *conn).await
            })
            .context("reading messages")?;
            affected.extend(
                rows.into_iter().filter(|r| r.3).map(|(from_id, user_key, from_at, _)| Affected {
                    user_key,
                    from_at,
                    from_id,
                }),
            );
        }
        Ok(affected)
    }
}

/// A statement with a `{{values}}` placeholder, split around it (the values list is built with
/// bound parameters).
pub(crate) fn split_values(sql: &'static str) -> (&'static str, &'static str) {
    sql.split_once("{{values}}").expect("the statement has a {{values}} placeholder")
}
