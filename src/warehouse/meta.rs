//! The `meta` table: small state kept by key — the ingest cursor, the rules and apps the data
//! was classified with, the feedback summary, the content hash's version, the topics' model.

use anyhow::Context;

use super::write::Conflict;
use super::{Tx, Warehouse};
use crate::with_pool;

crate::table!(
    /// A `meta` row.
    #[derive(Debug, Clone)]
    pub struct MetaRow => "meta", key(key), keep() {
        pub key: String,
        pub value: String,
    }
);

impl Warehouse {
    /// Reads a `meta` value.
    pub async fn meta(&self, key: &str) -> anyhow::Result<Option<String>> {
        let sql = include_str!("../../sql/warehouse/meta_get.sql");
        let value: Option<(String,)> = with_pool!(self, pool, Db => {
            sqlx::query_as(sql).bind(key).fetch_optional(pool).await
        })
        .context("reading warehouse state")?;
        Ok(value.map(|(v,)| v))
    }
}

impl Tx {
    /// Writes a `meta` value.
    pub async fn set_meta(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        let row = MetaRow { key: key.into(), value: value.into() };
        self.write_rows(&[row], Conflict::Update).await.context("writing warehouse state")
    }

    /// Writes a `meta` value unless one is stored: state that must not change once written
    /// (the topics' model, docs/topics.md), where a concurrent report's first value wins.
    pub async fn set_meta_once(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        let row = MetaRow { key: key.into(), value: value.into() };
        self.write_rows(&[row], Conflict::Skip).await.context("writing warehouse state")
    }
}
