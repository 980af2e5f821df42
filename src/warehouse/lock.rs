//! One ingest at a time per warehouse.
//!
//! SQLite: an exclusive OS lock on `<file>.lock`; PostgreSQL: a session advisory lock on a
//! connection of its own. Both are released by the operating system or the server when the
//! process dies, so a killed run never leaves a stale lock behind.

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::{Pool, Warehouse};
use crate::error::user_error;

const POLL: Duration = Duration::from_millis(200);

/// Held for the whole ingest; dropping it releases the lock.
pub enum IngestLock {
    /// The locked lock file.
    File(std::fs::File),
    /// The connection holding the advisory lock.
    Postgres(PgConnection),
}

impl IngestLock {
    /// Fails when the lock is no longer held. A PostgreSQL advisory lock lives as long as its
    /// connection: if the server or a network drop ends that session, the pool may still
    /// reconnect and the run would go on unguarded, so each batch checks before it commits.
    pub async fn ensure_held(&mut self, place: &str) -> anyhow::Result<()> {
        if let IngestLock::Postgres(conn) = self {
            conn.ping().await.with_context(|| {
                format!(
                    "lost the ingest lock on the warehouse {place} (its connection ended); this batch was not committed, run `itstat ingest` again"
                )
            })?;
        }
        Ok(())
    }

    /// Releases the lock now.
    pub async fn release(self) {
        if let IngestLock::Postgres(conn) = self {
            // Closing the session releases its advisory locks.
            let _ = conn.close().await;
        }
    }
}

impl Warehouse {
    /// Takes the ingest lock, waiting up to `wait` for another run to finish.
    pub async fn lock_ingest(&self, wait: Duration) -> anyhow::Result<IngestLock> {
        let deadline = Instant::now() + wait;
        match &self.pool {
            Pool::Sqlite(_) => {
                let path = self.sqlite_path.clone().unwrap_or_default();
                let lock_path = path.with_extension(match path.extension() {
                    Some(ext) => format!("{}.lock", ext.to_string_lossy()),
                    None => "lock".to_string(),
                });
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .with_context(|| format!("cannot open the lock file {}", lock_path.display()))?;
                loop {
                    match file.try_lock() {
                        Ok(()) => return Ok(IngestLock::File(file)),
                        Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                            tokio::time::sleep(POLL).await
                        }
                        Err(std::fs::TryLockError::WouldBlock) => return Err(busy(&self.place, wait)),
                        Err(std::fs::TryLockError::Error(e)) => {
                            return Err(e).with_context(|| format!("cannot lock {}", lock_path.display()));
                        }
                    }
                }
            }
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await.context("warehouse connection for the lock")?.detach();
                loop {
                    let (got,): (bool,) =
                        sqlx::query_as(include_str!("../../sql/warehouse/postgres/try_lock.sql"))
                            .fetch_one(&mut conn)
                            .await
                            .context("taking the ingest lock")?;
                    if got {
                        return Ok(IngestLock::Postgres(conn));
                    }
                    if Instant::now() >= deadline {
                        return Err(busy(&self.place, wait));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}

fn busy(place: &str, wait: Duration) -> anyhow::Error {
    user_error(format!(
        "another ingest is running on the warehouse {place} (waited {} s); let it finish, or raise `--wait`",
        wait.as_secs()
    ))
}
