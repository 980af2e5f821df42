//! Feedback: the warehouse mirrors Dify's current `message_feedbacks`.
//!
//! Dify updates a rating in place and hard-deletes a withdrawn one, on messages of any age, so
//! every run compares all of Dify's feedback with the stored rows. A stored row missing from
//! Dify is dropped only when its message still exists there: when Dify purged the message, the
//! vote it had is kept with it.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::QueryBuilder;

use super::{Tx, Warehouse};
use crate::extract::FeedbackRow;
use crate::{with_conn, with_pool};

type Key = (String, String);

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

/// A stored feedback row and the app of its message.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredFeedback {
    #[sqlx(flatten)]
    row: FeedbackRow,
    app_id: Option<String>,
}

impl Warehouse {
    /// The stored feedback rows of the selected apps' messages (`None`: every row). Rows of
    /// other apps are left alone: Dify's feedback is read for the selected apps only, so
    /// theirs would look withdrawn.
    pub async fn stored_feedback(&self, apps: Option<&[String]>) -> anyhow::Result<Vec<FeedbackRow>> {
        let rows = with_pool!(self, pool, Db => {
            sqlx::query_as::<_, StoredFeedback>(include_str!("../../sql/warehouse/feedback_all.sql")).fetch_all(pool).await
        })
        .context("reading stored feedback")?;
        let selected = |f: &StoredFeedback| match (apps, &f.app_id) {
            (Some(ids), Some(app)) => ids.contains(app),
            _ => true,
        };
        Ok(rows.into_iter().filter(selected).map(|f| f.row).collect())
    }
}

impl Tx {
    /// Writes new and changed rows and deletes withdrawn ones.
    pub async fn apply_feedback(&mut self, upserts: &[FeedbackRow], deletes: &[Key]) -> anyhow::Result<()> {
        for chunk in upserts.chunks(1000) {
            with_conn!(self, conn, Db => {
                let mut qb = QueryBuilder::<Db>::new(include_str!("../../sql/warehouse/feedback_insert.sql"));
                qb.push_values(chunk, |mut b, f| {
                    b.push_bind(&f.message_id)
                        .push_bind(&f.from_source)
                        .push_bind(&f.rating)
                        .push_bind(&f.content)
                        .push_bind(f.created_at)
                        .push_bind(f.updated_at);
                });
                qb.push(include_str!("../../sql/warehouse/feedback_upsert_tail.sql"));
                qb.build().execute(&mut *conn).await.map(|_| ())
            })
            .context("writing feedback")?;
        }
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
}
