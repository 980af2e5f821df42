//! The Dify source: one read-only, repeatable-read transaction on Dify's PostgreSQL.
//!
//! Only SELECT statements from `sql/dify/` run here, inside `BEGIN … READ ONLY`, so itstat can
//! never change Dify even when given a privileged account. The schema is probed first: missing
//! required columns stop the run (exit 2, naming table and column); optional columns that
//! appeared in later Dify versions are selected when present and read as NULL otherwise.
//!
//! Every wait on Dify is bounded by `[dify] timeout`: a network that drops packets without a
//! reset leaves a TCP connection waiting forever (nothing is in flight, so nothing times out),
//! and an unattended ingest stuck that way would hold the ingest lock and stop every later run.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDateTime;
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use super::{FeedbackRow, RawMessage};
use crate::bail_user;
use crate::error::url_place;

const COLUMNS_SQL: &str = include_str!("../../sql/dify/columns.sql");
const APPS_SQL: &str = include_str!("../../sql/dify/apps.sql");
const APP_HAS_MESSAGES_SQL: &str = include_str!("../../sql/dify/app_has_messages.sql");
const MESSAGE_COLUMNS_SQL: &str = include_str!("../../sql/dify/message_columns.sql");
const MESSAGES_SINCE_SQL: &str = include_str!("../../sql/dify/messages_since.sql");
const MESSAGES_BY_ID_SQL: &str = include_str!("../../sql/dify/messages_by_id.sql");
const FEEDBACKS_SQL: &str = include_str!("../../sql/dify/feedbacks.sql");
const FEEDBACK_SUMMARY_SQL: &str = include_str!("../../sql/dify/feedback_summary.sql");
const EXISTING_IDS_SQL: &str = include_str!("../../sql/dify/existing_ids.sql");
/// The read-only transaction, and its one setting (no JIT), sent together in one round trip.
const BEGIN_SQL: &str =
    concat!(include_str!("../../sql/dify/begin.sql"), ";\n", include_str!("../../sql/dify/no_jit.sql"));

/// Columns every supported Dify (0.6 and later) has; the extractor cannot work without them.
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "messages",
        &[
            "id",
            "app_id",
            "conversation_id",
            "query",
            "answer",
            "status",
            "error",
            "from_source",
            "from_end_user_id",
            "from_account_id",
            "created_at",
            "updated_at",
            "message_tokens",
            "answer_tokens",
            "provider_response_latency",
            "total_price",
            "currency",
            "invoke_from",
            "inputs",
        ],
    ),
    ("conversations", &["id", "name", "is_deleted"]),
    ("end_users", &["id", "session_id"]),
    ("accounts", &["id", "email"]),
    (
        "message_feedbacks",
        &["message_id", "from_source", "rating", "content", "created_at", "updated_at", "app_id"],
    ),
    ("apps", &["id", "name"]),
];

/// Optional message columns: (column, SQL when present).
const OPTIONAL: &[(&str, &str)] =
    &[("parent_message_id", "m.parent_message_id::text"), ("app_mode", "m.app_mode::text")];

/// A connection to Dify, not yet in a transaction.
pub struct DifySource {
    conn: PgConnection,
    place: String,
    timeout: Duration,
}

/// What the schema probe found, and the SQL built from it.
pub struct DifyReader {
    /// The connection, inside `BEGIN … READ ONLY` (sql/dify/begin.sql).
    conn: PgConnection,
    /// Host/database, for errors (a connection can drop in the middle of a run).
    place: String,
    /// `[dify] timeout`: the longest wait for Dify to say anything.
    timeout: Duration,
    messages_since: String,
    messages_by_id: String,
    /// Optional columns that this Dify has.
    pub optional_present: Vec<&'static str>,
}

impl DifySource {
    /// Connects to Dify. Fails with exit 2 naming host and database (never the password).
    /// `timeout` bounds this and every later wait on Dify.
    pub async fn connect(url: &str, timeout: Duration) -> anyhow::Result<DifySource> {
        let place = url_place(url);
        let options: PgConnectOptions = crate::db::postgres_options(url).map_err(|e| {
            crate::error::user_error(format!(
                "the Dify URL for {place} is not a valid postgres:// URL ({e}); fix `[dify] url` or ITSTAT_DIFY_URL"
            ))
        })?;
        let options = options
            .application_name("itstat")
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, crate::db::SLOW_STATEMENT);
        let connect = options.connect();
        let conn = within(timeout, connect)
            .await
            .with_context(|| format!("cannot connect to the Dify database at {place}"))?;
        Ok(DifySource { conn, place, timeout })
    }

    /// Opens the read-only transaction and probes the schema. The reader owns the connection
    /// (so it can move to a task of its own); dropping it without [`DifyReader::finish`]
    /// closes the connection, which ends the transaction.
    pub async fn reader(self) -> anyhow::Result<DifyReader> {
        let DifySource { mut conn, place, timeout } = self;
        let begin = sqlx::raw_sql(AssertSqlSafe(BEGIN_SQL.trim())).execute(&mut conn);
        within(timeout, begin)
            .await
            .with_context(|| format!("cannot start a read-only transaction on Dify at {place}"))?;
        let probe = sqlx::query_as(COLUMNS_SQL).fetch_all(&mut conn);
        let columns: Vec<(String, String)> = within(timeout, probe)
            .await
            .with_context(|| format!("cannot read the Dify schema at {place}"))?;
        let present = check_schema(&columns, &place)?;
        let optional_present: Vec<&'static str> = OPTIONAL
            .iter()
            .filter(|(col, _)| present.contains(&("messages".to_string(), col.to_string())))
            .map(|(col, _)| *col)
            .collect();
        let column_sql = message_columns(&optional_present);
        Ok(DifyReader {
            conn,
            place,
            timeout,
            messages_since: MESSAGES_SINCE_SQL.replace("{{columns}}", &column_sql),
            messages_by_id: MESSAGES_BY_ID_SQL.replace("{{columns}}", &column_sql),
            optional_present,
        })
    }
}

/// Waits for `work` at most `limit`; past it, an error saying that Dify went silent (exit 2,
/// since neither the user nor their input is at fault; the callers' context names the place).
/// Dropping `work` is safe: the caller abandons the connection, which ends the transaction.
async fn within<T, E: Into<anyhow::Error>>(
    limit: Duration,
    work: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(limit, work).await {
        Ok(done) => done.map_err(Into::into),
        Err(_) => anyhow::bail!(
            "no answer for {} (check the network and the Dify database server; `[dify] timeout` sets how long to wait)",
            humantime::format_duration(limit)
        ),
    }
}

/// Checks the required columns; returns every (table, column) present.
fn check_schema(columns: &[(String, String)], place: &str) -> anyhow::Result<HashSet<(String, String)>> {
    let present: HashSet<(String, String)> = columns.iter().cloned().collect();
    for (table, cols) in REQUIRED {
        for col in *cols {
            if !present.contains(&(table.to_string(), col.to_string())) {
                anyhow::bail!(
                    "the Dify database at {place} has no column `{table}.{col}`: it is not a Dify 0.6+ schema, or the account cannot see `{table}` (grant SELECT on it)"
                );
            }
        }
    }
    Ok(present)
}

/// The select list with each optional column replaced by itself or NULL.
fn message_columns(present: &[&str]) -> String {
    let body: String =
        MESSAGE_COLUMNS_SQL.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n");
    OPTIONAL.iter().fold(body, |sql, (col, expr)| {
        let value = if present.contains(col) { *expr } else { "NULL::text" };
        sql.replace(&format!("{{{{{col}}}}}"), value)
    })
}

impl DifyReader {
    /// Resolves `[dify] apps` entries (ids or names) to app ids. Empty means every app.
    pub async fn resolve_apps(&mut self, wanted: &[String]) -> anyhow::Result<Vec<String>> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let read = sqlx::query_as(APPS_SQL).fetch_all(&mut self.conn);
        let apps: Vec<(String, String)> = within(self.timeout, read)
            .await
            .with_context(|| format!("cannot read Dify apps at {}", self.place))?;
        let mut ids = Vec::new();
        for entry in wanted {
            let id = resolve_app(entry, &apps)?;
            if !apps.iter().any(|(known, _)| *known == id) && !self.app_has_messages(&id).await? {
                bail_user!(
                    "`[dify] apps`: no Dify app has the id {id} (apps: {}); use one of these names or the id of an existing app",
                    known_apps(&apps)
                );
            }
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Whether messages of an app id that `apps` does not list are left in Dify.
    async fn app_has_messages(&mut self, id: &str) -> anyhow::Result<bool> {
        let read = sqlx::query_scalar(APP_HAS_MESSAGES_SQL).bind(id).fetch_one(&mut self.conn);
        within(self.timeout, read)
            .await
            .with_context(|| format!("cannot read Dify messages at {}", self.place))
    }

    /// Streams the messages created at or after `since` (all when `None`), oldest first, and
    /// hands them to `on_batch` in batches of at most `batch_size`. Never holds more than one
    /// batch in memory.
    pub async fn stream_since(
        &mut self,
        since: Option<NaiveDateTime>,
        apps: &[String],
        batch_size: usize,
        mut on_batch: impl AsyncFnMut(Vec<RawMessage>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut rows = self.messages_since(since, apps);
        let mut batch = Vec::with_capacity(batch_size);
        while let Some(row) = rows.next().await? {
            batch.push(row);
            if batch.len() >= batch_size {
                on_batch(std::mem::replace(&mut batch, Vec::with_capacity(batch_size))).await?;
            }
        }
        if !batch.is_empty() {
            on_batch(batch).await?;
        }
        Ok(())
    }

    /// How many messages [`DifyReader::messages_since`] returns for the same arguments.
    pub async fn count_since(
        &mut self,
        since: Option<NaiveDateTime>,
        apps: &[String],
    ) -> anyhow::Result<u64> {
        let read = sqlx::query_as::<_, (i64,)>(include_str!("../../sql/dify/count_since.sql"))
            .bind(since)
            .bind(apps)
            .fetch_one(&mut self.conn);
        let (n,) = within(self.timeout, read)
            .await
            .with_context(|| format!("cannot count Dify messages at {}", self.place))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The messages created at or after `since` (all when `None`), oldest first, one by one
    /// as Dify sends them.
    pub fn messages_since<'a>(
        &'a mut self,
        since: Option<NaiveDateTime>,
        apps: &'a [String],
    ) -> MessageRows<'a> {
        let sql = AssertSqlSafe(self.messages_since.clone());
        let rows = sqlx::query_as::<_, RawMessage>(sql).bind(since).bind(apps).fetch(&mut self.conn);
        MessageRows { rows, place: &self.place, timeout: self.timeout }
    }

    /// Reads messages by id (those still pending in the warehouse).
    pub async fn by_ids(&mut self, ids: &[String]) -> anyhow::Result<Vec<RawMessage>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = AssertSqlSafe(self.messages_by_id.clone());
        let read = sqlx::query_as::<_, RawMessage>(sql).bind(ids).fetch_all(&mut self.conn);
        within(self.timeout, read)
            .await
            .with_context(|| format!("re-reading pending Dify messages at {} failed", self.place))
    }

    /// A summary of the selected apps' current feedback per bucket of message ids (their
    /// first `bucket_chars` characters): (bucket, rows, checksum), one row per bucket.
    pub async fn feedback_summary(
        &mut self,
        apps: &[String],
        bucket_chars: usize,
    ) -> anyhow::Result<Vec<(String, i64, String)>> {
        let read = sqlx::query_as(FEEDBACK_SUMMARY_SQL)
            .bind(apps)
            .bind(bucket_chars as i32)
            .fetch_all(&mut self.conn);
        within(self.timeout, read)
            .await
            .with_context(|| format!("reading Dify feedback at {} failed", self.place))
    }

    /// The current feedback rows of the selected apps on the messages of some buckets (their
    /// first `bucket_chars` characters; `None`: every message).
    pub async fn feedbacks(
        &mut self,
        apps: &[String],
        bucket_chars: usize,
        buckets: Option<&[String]>,
    ) -> anyhow::Result<Vec<FeedbackRow>> {
        let read = sqlx::query_as::<_, FeedbackRow>(FEEDBACKS_SQL)
            .bind(apps)
            .bind(bucket_chars as i32)
            .bind(buckets)
            .fetch_all(&mut self.conn);
        within(self.timeout, read)
            .await
            .with_context(|| format!("reading Dify feedback at {} failed", self.place))
    }

    /// The subset of `ids` that Dify still holds.
    pub async fn existing_ids(&mut self, ids: &[String]) -> anyhow::Result<HashSet<String>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let read = sqlx::query_as(EXISTING_IDS_SQL).bind(ids).fetch_all(&mut self.conn);
        let found: Vec<(String,)> = within(self.timeout, read)
            .await
            .with_context(|| format!("checking Dify message ids at {} failed", self.place))?;
        Ok(found.into_iter().map(|(id,)| id).collect())
    }

    /// Ends the read-only transaction.
    pub async fn finish(self) -> anyhow::Result<()> {
        let DifyReader { mut conn, place, timeout, .. } = self;
        let rollback = sqlx::raw_sql("ROLLBACK").execute(&mut conn);
        within(timeout, rollback)
            .await
            .with_context(|| format!("closing the Dify transaction at {place}"))?;
        // Only a courtesy to the server; a silent one must not hold up a finished run.
        let _ = tokio::time::timeout(timeout, conn.close()).await;
        Ok(())
    }
}

/// Dify's messages in reading order, as they arrive; each wait for the next row is bounded by
/// `[dify] timeout` (the time spent by the caller between rows does not count).
pub struct MessageRows<'a> {
    rows: futures_util::stream::BoxStream<'a, Result<RawMessage, sqlx::Error>>,
    place: &'a str,
    timeout: Duration,
}

impl MessageRows<'_> {
    /// The next message, `None` after the last.
    pub async fn next(&mut self) -> anyhow::Result<Option<RawMessage>> {
        let next = self.rows.try_next();
        within(self.timeout, next)
            .await
            .with_context(|| format!("reading Dify messages at {} failed", self.place))
    }
}

/// One `[dify] apps` entry to an app id: a UUID is taken as an id, anything else as a name.
fn resolve_app(entry: &str, apps: &[(String, String)]) -> anyhow::Result<String> {
    if let Ok(id) = uuid::Uuid::parse_str(entry) {
        return Ok(id.to_string());
    }
    let matches: Vec<&(String, String)> = apps.iter().filter(|(_, name)| name == entry).collect();
    match matches.as_slice() {
        [(id, _)] => Ok(id.clone()),
        [] => bail_user!(
            "`[dify] apps`: no Dify app is named \"{entry}\" (apps: {}); use a name or an app id",
            known_apps(apps)
        ),
        several => {
            let ids: Vec<&str> = several.iter().map(|(id, _)| id.as_str()).collect();
            bail_user!(
                "`[dify] apps`: {} apps are named \"{entry}\" ({}); list the app id instead",
                ids.len(),
                ids.join(", ")
            )
        }
    }
}

/// The apps' names, for an error that lists what can be chosen.
fn known_apps(apps: &[(String, String)]) -> String {
    let mut names: Vec<&str> = apps.iter().map(|(_, n)| n.as_str()).collect();
    names.dedup();
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

/// Dify's optional-column probe result, for `status` and logs.
pub fn describe_optional(present: &[&str]) -> HashMap<&'static str, bool> {
    OPTIONAL.iter().map(|(col, _)| (*col, present.contains(col))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_optional_columns_read_as_null() {
        let sql = message_columns(&["app_mode"]);
        let line = |name: &str| sql.lines().find(|l| l.contains(&format!("AS {name}"))).unwrap_or_default();
        assert!(line("parent_message_id").contains("NULL::text"), "{sql}");
        assert!(line("app_mode").contains("m.app_mode::text"), "{sql}");
        assert!(!sql.contains("{{"));
    }

    #[test]
    fn apps_resolve_by_name_or_id() {
        let apps = vec![
            ("11111111-1111-4111-8111-111111111111".to_string(), "IT 助手".to_string()),
            ("22222222-2222-4222-8222-222222222222".to_string(), "HR".to_string()),
            ("33333333-3333-4333-8333-333333333333".to_string(), "HR".to_string()),
        ];
        assert_eq!(resolve_app("IT 助手", &apps).unwrap(), apps[0].0);
        assert_eq!(resolve_app(&apps[1].0, &apps).unwrap(), apps[1].0);
        let err = resolve_app("Finance", &apps).unwrap_err();
        assert_eq!(crate::error::exit_code(&err), 1);
        assert!(err.to_string().contains("\"Finance\""));
        assert!(resolve_app("HR", &apps).unwrap_err().to_string().contains("2 apps"));
    }
}
