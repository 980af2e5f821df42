//! Row counts for `itstat status`.

use anyhow::Context;
use serde::Serialize;

use super::Warehouse;
use crate::with_pool;

/// How many rows each table holds.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Counts {
    pub messages: i64,
    pub included: i64,
    pub pending: i64,
    pub sessions: i64,
    pub feedbacks: i64,
    pub marks: i64,
    pub manual_entries: i64,
}

impl Warehouse {
    /// Row counts of the main tables.
    pub async fn counts(&self) -> anyhow::Result<Counts> {
        with_pool!(self, pool, Db => {
            sqlx::query_as::<_, Counts>(include_str!("../../sql/warehouse/status_counts.sql")).fetch_one(pool).await
        })
        .context("counting warehouse rows")
    }

    /// Whether any message is stored (without counting them).
    pub async fn has_messages(&self) -> anyhow::Result<bool> {
        let (any,): (i64,) = with_pool!(self, pool, Db => {
            sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM messages LIMIT 1) x").fetch_one(pool).await
        })
        .context("reading the warehouse")?;
        Ok(any > 0)
    }
}
