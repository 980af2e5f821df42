//! Feedback: the warehouse mirrors Dify's current `message_feedbacks`.
//!
//! Dify updates a rating in place and hard-deletes a withdrawn one, on messages of any age,
//! and bumps `updated_at` on an update only since 1.10, so no time cursor finds every change.
//! Instead each run asks Dify for a [`Summary`] of its feedback: per bucket of message ids
//! (their first [`BUCKET_CHARS`] characters), the row count and a sum of row hashes. The
//! summary the stored feedback was last brought to is kept in `meta`; only the buckets whose
//! summary differs are read from Dify and compared with the stored rows of the same buckets
//! (docs/warehouse.md, "Operator commands"). Any other write of feedback (an export file)
//! forgets the kept summary, so the next run compares everything.
//!
//! A stored row missing from Dify is dropped only when its message still exists there: when
//! Dify purged the message, the vote it had is kept with it.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;

use super::marks::{prefix_upper, split_values};
use super::runs::FEEDBACK_SUMMARY_KEY;
use super::sqlite_bulk::{FromSqliteRow, get_opt_time, get_time, numbered_lists, query_rows};
use super::write::Conflict;
use super::{Pool, Tx, Warehouse};
use crate::extract::FeedbackRow;
use crate::with_conn;

type Key = (String, String);

// The stored feedback: Dify's row as it is read (docs/warehouse.md, "feedbacks").
crate::table!(FeedbackRow => "feedbacks", key(message_id, from_source), keep() {
    message_id: String,
    from_source: String,
    rating: String,
    content: Option<String>,
    created_at: NaiveDateTime,
    updated_at: Option<NaiveDateTime>,
});

/// The characters of a message id that name its bucket: 256 buckets of hex UUIDs, so a run
/// that sees a few new votes reads a few 256ths of the feedback.
pub const BUCKET_CHARS: usize = 2;

/// Buckets per stored-feedback query (two bound values each).
const BUCKETS_PER_QUERY: usize = 256;

/// The changes that bring the stored feedback to Dify's current state.
#[derive(Debug, Default)]
pub struct FeedbackDiff {
    /// Rows new or different in Dify.
    pub upserts: Vec<FeedbackRow>,
    /// Stored rows absent from Dify, as (message id, source).
    pub missing: Vec<Key>,
}

/// Compares Dify's rows with the stored ones.
pub fn diff(dify: Vec<FeedbackRow>, stored: Vec<FeedbackRow>) -> FeedbackDiff {
    let stored: HashMap<Key, FeedbackRow> =
        stored.into_iter().map(|f| ((f.message_id.clone(), f.from_source.clone()), f)).collect();
    let dify_keys: HashSet<Key> =
        dify.iter().map(|f| (f.message_id.clone(), f.from_source.clone())).collect();
    let missing = stored.keys().filter(|k| !dify_keys.contains(*k)).cloned().collect();
    let upserts = dify
        .into_iter()
        .filter(|f| stored.get(&(f.message_id.clone(), f.from_source.clone())) != Some(f))
        .collect();
    FeedbackDiff { upserts, missing }
}

/// Dify's feedback of an app selection in brief: per bucket, "rows:checksum"
/// (sql/dify/feedback_summary.sql). Two summaries that agree on a bucket mean the same rows
/// in it (up to a 60-bit hash collision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The app selection (ids joined by commas, empty: every app).
    apps: String,
    buckets: BTreeMap<String, String>,
}

impl Summary {
    /// A summary from Dify's rows of (bucket, rows, checksum).
    pub fn new(apps: &[String], rows: Vec<(String, i64, String)>) -> Summary {
        Summary {
            apps: apps.join(","),
            buckets: rows.into_iter().map(|(b, n, sum)| (b, format!("{n}:{sum}"))).collect(),
        }
    }

    /// How many buckets hold feedback.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no bucket holds feedback.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The buckets that differ from `last` (present in either, with other rows or none);
    /// `None` when everything must be compared: no summary kept, or one of other apps.
    pub fn changed_since(&self, last: Option<&Summary>) -> Option<Vec<String>> {
        let last = last.filter(|l| l.apps == self.apps)?;
        let mut changed: Vec<String> = self
            .buckets
            .keys()
            .chain(last.buckets.keys())
            .filter(|b| self.buckets.get(*b) != last.buckets.get(*b))
            .cloned()
            .collect();
        changed.sort();
        changed.dedup();
        Some(changed)
    }
}

/// A stored feedback row and the app of its message.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredFeedback {
    #[sqlx(flatten)]
    row: FeedbackRow,
    app_id: Option<String>,
}

impl FromSqliteRow for StoredFeedback {
    const COLUMNS: &'static [&'static str] =
        &["message_id", "from_source", "rating", "content", "created_at", "updated_at", "app_id"];

    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredFeedback> {
        Ok(StoredFeedback {
            row: FeedbackRow {
                message_id: row.get(0)?,
                from_source: row.get(1)?,
                rating: row.get(2)?,
                content: row.get(3)?,
                created_at: get_time(row, 4)?,
                updated_at: get_opt_time(row, 5)?,
            },
            app_id: row.get(6)?,
        })
    }
}

impl Warehouse {
    /// The stored feedback rows of the selected apps' messages (`None`: every row). Rows of
    /// other apps are left alone: Dify's feedback is read for the selected apps only, so
    /// theirs would look withdrawn.
    pub async fn stored_feedback(&self, apps: Option<&[String]>) -> anyhow::Result<Vec<FeedbackRow>> {
        let sql = match apps {
            Some(_) => include_str!("../../sql/warehouse/feedback_all.sql"),
            None => include_str!("../../sql/warehouse/feedback_all_any_app.sql"),
        };
        Ok(of_apps(self.read_stored_feedback(sql, &[]).await?, apps))
    }

    /// [`Warehouse::stored_feedback`] of the messages in some buckets (`None`: every message):
    /// each bucket is a key range of the feedback table.
    pub async fn stored_feedback_in(
        &self,
        apps: Option<&[String]>,
        buckets: Option<&[String]>,
    ) -> anyhow::Result<Vec<FeedbackRow>> {
        let Some(buckets) = buckets else { return self.stored_feedback(apps).await };
        let sql = match apps {
            Some(_) => include_str!("../../sql/warehouse/feedback_in_buckets.sql"),
            None => include_str!("../../sql/warehouse/feedback_in_buckets_any_app.sql"),
        };
        let (head, tail) = split_values(sql);
        let mut rows = Vec::new();
        for chunk in buckets.chunks(BUCKETS_PER_QUERY) {
            let sql = format!("{head}VALUES {}{tail}", numbered_lists(chunk.len(), 2));
            let bounds: Vec<String> =
                chunk.iter().flat_map(|bucket| [bucket.clone(), prefix_upper(bucket)]).collect();
            rows.extend(self.read_stored_feedback(&sql, &bounds).await?);
        }
        Ok(of_apps(rows, apps))
    }

    /// Runs a stored-feedback query with `params` bound to `$1`, `$2`, …: from SQLite through
    /// rusqlite, whose rows do not cross sqlx's worker channel one by one (an incremental run
    /// compares some 25,000 rows: 0.16 s through sqlx; docs/performance.md, "Incremental
    /// runs").
    async fn read_stored_feedback(
        &self,
        sql: &str,
        params: &[String],
    ) -> anyhow::Result<Vec<StoredFeedback>> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.context("reading stored feedback")?;
                let params: Vec<&dyn rusqlite::ToSql> =
                    params.iter().map(|p| p as &dyn rusqlite::ToSql).collect();
                query_rows(&mut conn, sql, &params).await
            }
            Pool::Postgres(pool) => {
                let mut query = sqlx::query_as::<_, StoredFeedback>(AssertSqlSafe(sql));
                for p in params {
                    query = query.bind(p);
                }
                query.fetch_all(pool).await.map_err(anyhow::Error::from)
            }
        }
        .context("reading stored feedback")
    }

    /// The summary of Dify's feedback the stored feedback was last brought to, if it is still
    /// good.
    pub async fn feedback_summary(&self) -> anyhow::Result<Option<Summary>> {
        let kept = self.meta(FEEDBACK_SUMMARY_KEY).await?;
        // Empty (forgotten) or unreadable (another itstat's): compare everything once.
        Ok(kept.and_then(|text| serde_json::from_str(&text).ok()))
    }
}

/// The rows of the selected apps' messages (`None`: all); a row whose message is not stored
/// counts as selected.
fn of_apps(rows: Vec<StoredFeedback>, apps: Option<&[String]>) -> Vec<FeedbackRow> {
    let selected = |f: &StoredFeedback| match (apps, &f.app_id) {
        (Some(ids), Some(app)) => ids.contains(app),
        _ => true,
    };
    rows.into_iter().filter(selected).map(|f| f.row).collect()
}

impl Tx {
    /// Writes new and changed rows and deletes withdrawn ones. Forgets the kept [`Summary`]:
    /// the stored feedback no longer follows from it (a sync keeps a new one after this).
    pub async fn apply_feedback(&mut self, upserts: &[FeedbackRow], deletes: &[Key]) -> anyhow::Result<()> {
        self.set_meta(FEEDBACK_SUMMARY_KEY, "").await?;
        let mut upserts: Vec<&FeedbackRow> = upserts.iter().collect();
        if matches!(self, Tx::Sqlite(_)) {
            // In key order, each page of the key index is visited once.
            upserts.sort_unstable_by(|a, b| {
                (&a.message_id, &a.from_source).cmp(&(&b.message_id, &b.from_source))
            });
        }
        self.write_rows(&upserts, Conflict::Update).await?;
        for (message_id, source) in deletes {
            with_conn!(self, conn, Db => {
                sqlx::query(include_str!("../../sql/warehouse/feedback_delete.sql"))
                    .bind(message_id)
                    .bind(source)
                    .execute(&mut *conn)
                    .await.map(|_| ())
            })
            .context("deleting withdrawn feedback")?;
        }
        Ok(())
    }

    /// Keeps the summary of Dify's feedback the stored feedback now follows.
    pub async fn keep_feedback_summary(&mut self, summary: &Summary) -> anyhow::Result<()> {
        let text = serde_json::to_string(summary).context("writing the feedback summary")?;
        self.set_meta(FEEDBACK_SUMMARY_KEY, &text).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(apps: &[&str], buckets: &[(&str, i64, &str)]) -> Summary {
        let apps: Vec<String> = apps.iter().map(|a| a.to_string()).collect();
        Summary::new(&apps, buckets.iter().map(|(b, n, s)| (b.to_string(), *n, s.to_string())).collect())
    }

    #[test]
    fn only_buckets_that_differ_are_read_again() {
        let last = summary(&[], &[("0a", 2, "17"), ("1b", 1, "5"), ("2c", 1, "9")]);
        // 0a: same; 1b: one row withdrawn and another added (same count, other sum);
        // 2c: all withdrawn; 3d: new.
        let now = summary(&[], &[("0a", 2, "17"), ("1b", 1, "6"), ("3d", 1, "4")]);
        assert_eq!(now.changed_since(Some(&last)), Some(vec!["1b".into(), "2c".into(), "3d".into()]));
        assert_eq!(now.changed_since(Some(&now)), Some(vec![]));
        assert_eq!(now.changed_since(None), None, "nothing kept: compare everything");
        let other_apps = summary(&["app"], &[("0a", 2, "17"), ("1b", 1, "6"), ("3d", 1, "4")]);
        assert_eq!(now.changed_since(Some(&other_apps)), None, "another selection: compare everything");
        let text = serde_json::to_string(&now).unwrap();
        assert_eq!(serde_json::from_str::<Summary>(&text).unwrap(), now);
    }
}
