//! Manual entries: consultations handled outside the bot, added by `itstat import`.
//!
//! Each entry has a natural key, a hash of its content, so importing the same rows again adds
//! nothing.

use std::hash::{Hash, Hasher};

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};

use super::{Tx, Warehouse};
use crate::{with_conn, with_pool};

/// One manual entry, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub user_name: String,
    pub query: String,
    pub answer: String,
    /// Local time.
    pub consultation_time: NaiveDateTime,
    pub entry_person: Option<String>,
    pub knowledge_hit: bool,
    pub transfer_to_human: bool,
    pub manual_intervention: bool,
    pub operation_user: Option<String>,
}

impl NewEntry {
    /// The natural key: a hash over every field, as hex.
    pub fn natural_key(&self) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        (&self.user_name, &self.query, &self.answer, self.consultation_time).hash(&mut h);
        (&self.entry_person, self.knowledge_hit, self.transfer_to_human, self.manual_intervention)
            .hash(&mut h);
        self.operation_user.hash(&mut h);
        format!("{:016x}", h.finish())
    }

    /// The local date it counts on.
    pub fn local_date(&self) -> NaiveDate {
        self.consultation_time.date()
    }
}

impl Warehouse {
    /// How many of these entries are not stored yet.
    pub async fn count_new_entries(&self, entries: &[NewEntry]) -> anyhow::Result<usize> {
        let mut new = 0;
        for e in entries {
            let (n,): (i64,) = with_pool!(self, pool, Db => {
                sqlx::query_as(include_str!("../../sql/warehouse/entry_exists.sql"))
                    .bind(e.natural_key())
                    .fetch_one(pool)
                    .await
            })
            .context("reading manual entries")?;
            new += usize::from(n == 0);
        }
        Ok(new)
    }
}

impl Tx {
    /// Adds the entries not stored yet; returns how many were added.
    pub async fn add_entries(&mut self, entries: &[NewEntry], source: &str) -> anyhow::Result<usize> {
        let now = chrono::Utc::now().naive_utc();
        let mut added = 0;
        for e in entries {
            let result = with_conn!(self, conn, Db => {
                sqlx::query(include_str!("../../sql/warehouse/entry_insert.sql"))
                    .bind(e.natural_key())
                    .bind(&e.user_name)
                    .bind(&e.query)
                    .bind(&e.answer)
                    .bind(e.consultation_time)
                    .bind(e.local_date())
                    .bind(&e.entry_person)
                    .bind(e.knowledge_hit)
                    .bind(e.transfer_to_human)
                    .bind(e.manual_intervention)
                    .bind(&e.operation_user)
                    .bind(now)
                    .bind(source)
                    .execute(&mut *conn)
                    .await
                    .map(|r| r.rows_affected())
            })
            .context("writing manual entries")?;
            added += result as usize;
        }
        Ok(added)
    }
}
