//! The knowledge-gaps vector cache (`gap_vectors`, docs/warehouse.md): vectors by model and
//! normalised question, stored as little-endian f32 bytes.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{AssertSqlSafe, Row};

use super::Warehouse;
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

    /// Caches vectors of `model`, in one transaction.
    pub async fn cache_vectors(&self, model: &str, vectors: &[(String, Vec<f32>)]) -> anyhow::Result<()> {
        let now = chrono::Utc::now().naive_utc();
        with_pool!(self, pool, Db => {
            async {
                let mut tx = pool.begin().await?;
                for (key, v) in vectors {
                    sqlx::query(include_str!("../../sql/warehouse/gap_vector_insert.sql"))
                        .bind(model)
                        .bind(key)
                        .bind(v.len() as i64)
                        .bind(to_bytes(v))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
        })
        .context("writing gap_vectors")
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
