//! The knowledge-gaps vector cache (`gap_vectors`, docs/warehouse.md): vectors by model and
//! normalised question, stored as little-endian f32 bytes.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{AssertSqlSafe, Row};

use chrono::NaiveDateTime;

use super::Warehouse;
use super::write::Conflict;
use crate::with_pool;

/// Keys per lookup statement (well under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 500;

/// A vector as stored.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stored vector, or `None` when its length does not match `dims`.
pub fn from_bytes(bytes: &[u8], dims: usize) -> Option<Vec<f32>> {
    (bytes.len() == dims * 4)
        .then(|| bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

crate::table!(
    /// A `gap_vectors` row: one question's vector from one model, `dims` little-endian f32s.
    #[derive(Debug, Clone)]
    pub struct VectorRow => "gap_vectors", key(model, question_key), keep() {
        pub model: String,
        pub question_key: String,
        pub dims: i64,
        pub vector: Vec<u8>,
        pub created_at: NaiveDateTime,
    }
);

impl Warehouse {
    /// The cached vectors of `model` among `keys`.
    pub async fn cached_vectors(
        &self,
        model: &str,
        keys: &[String],
    ) -> anyhow::Result<HashMap<String, Vec<f32>>> {
        let mut out = HashMap::new();
        for chunk in keys.chunks(CHUNK) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT question_key, dims, vector FROM gap_vectors WHERE model = $1 AND question_key IN ({})",
                marks.join(", ")
            );
            let rows: Vec<(String, i64, Vec<u8>)> = with_pool!(self, pool, Db => {
                let mut q = sqlx::query(AssertSqlSafe(sql.clone())).bind(model);
                for k in chunk {
                    q = q.bind(k);
                }
                match q.fetch_all(pool).await {
                    Ok(rows) => rows
                        .iter()
                        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?, r.try_get::<Vec<u8>, _>(2)?)))
                        .collect::<Result<Vec<_>, sqlx::Error>>(),
                    Err(e) => Err(e),
                }
            })
            .context("reading gap_vectors")?;
            for (key, dims, bytes) in rows {
                if let Some(v) = from_bytes(&bytes, dims as usize) {
                    out.insert(key, v);
                }
            }
        }
        Ok(out)
    }

    /// Caches vectors of `model`, in one transaction (a vector a concurrent report cached
    /// first is kept).
    pub async fn cache_vectors(&self, model: &str, vectors: &[(String, Vec<f32>)]) -> anyhow::Result<()> {
        let now = chrono::Utc::now().naive_utc();
        let rows: Vec<VectorRow> = vectors
            .iter()
            .map(|(key, v)| VectorRow {
                model: model.into(),
                question_key: key.clone(),
                dims: v.len() as i64,
                vector: to_bytes(v),
                created_at: now,
            })
            .collect();
        let mut tx = self.begin().await?;
        tx.write_rows(&rows, Conflict::Skip).await.context("writing gap_vectors")?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_a_wrong_length_is_refused() {
        let v = vec![0.25f32, -1.5, f32::MIN_POSITIVE];
        assert_eq!(from_bytes(&to_bytes(&v), 3), Some(v));
        assert_eq!(from_bytes(&[0, 0, 0], 1), None);
    }
}
