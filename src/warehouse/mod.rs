//! The warehouse: the only module that speaks SQL to itstat's own database.
//!
//! SQLite (`sqlite://FILE`, the default, created when missing, WAL mode) or PostgreSQL
//! (`postgres://…`). Both hold the same tables (`migrations/`, documented in
//! `docs/warehouse.md`) and run the same statements from `sql/warehouse/`: placeholders are
//! `$N`, upserts are `ON CONFLICT`, and the few statements that differ live in per-backend
//! constants. [`with_conn!`] writes one body for both backends; it is expanded once per
//! backend, so each copy is type-checked against its own driver.

pub mod alerts;
pub mod browse;
pub mod checkpoint;
pub mod deliveries;
pub mod entries;
pub mod export;
pub mod feedback;
pub mod gaps;
pub mod jobs;
pub mod lock;
pub mod marks;
pub mod messages;
pub mod meta;
pub mod report;
pub mod rows;
pub mod runs;
pub mod schema;
pub mod sessions;
pub mod sqlite_bulk;
pub mod status;
pub mod table;
pub mod topics;
pub mod verdicts;
pub mod write;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Postgres, Sqlite, SqliteConnection, Transaction};

use crate::error::{redact_url, url_place, user_error};

/// Runs `$body` with `$conn` bound to the backend's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`) and `$db` aliased to the backend's `sqlx::Database` type.
#[macro_export]
macro_rules! with_conn {
    ($tx:expr, $conn:ident, $db:ident => $body:expr) => {
        match $tx {
            $crate::warehouse::Tx::Sqlite(t) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $conn = &mut **t;
                $body
            }
            $crate::warehouse::Tx::Postgres(t) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to the backend's pool.
#[macro_export]
macro_rules! with_pool {
    ($wh:expr, $pool:ident, $db:ident => $body:expr) => {
        match &$wh.pool {
            $crate::warehouse::Pool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::warehouse::Pool::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}

/// A connection pool of either backend.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction of either backend.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// The warehouse: a pool and where it points.
#[derive(Debug, Clone)]
pub struct Warehouse {
    /// The pool.
    pub pool: Pool,
    /// The URL without its password.
    pub shown_url: String,
    /// Host/database or file path, for messages.
    pub place: String,
    /// The SQLite file, when the warehouse is one.
    pub sqlite_path: Option<std::path::PathBuf>,
}

/// How [`Warehouse::open`] may touch the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the SQLite file when missing and apply migrations.
    ReadWrite,
    /// Do not create anything; fail if the SQLite file does not exist.
    ExistingOnly,
}

impl Warehouse {
    /// Whether a SQLite warehouse's file is missing (a PostgreSQL warehouse is never
    /// "missing": its database is made by whoever runs the server).
    pub fn is_missing(url: &str) -> bool {
        url.starts_with("sqlite:")
            && SqliteConnectOptions::from_str(url).is_ok_and(|o| !o.get_filename().exists())
    }

    /// Opens (and for SQLite creates) the warehouse and applies pending migrations.
    pub async fn open(url: &str, mode: OpenMode) -> anyhow::Result<Warehouse> {
        let place = url_place(url);
        let shown_url = redact_url(url);
        let (pool, sqlite_path) = if url.starts_with("sqlite:") {
            let (pool, path) = open_sqlite(url, mode, &place).await?;
            (Pool::Sqlite(pool), Some(path))
        } else {
            (Pool::Postgres(open_postgres(url, &place).await?), None)
        };
        let wh = Warehouse { pool, shown_url, place, sqlite_path };
        wh.migrate().await?;
        Ok(wh)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let place = self.place.clone();
        match &self.pool {
            Pool::Sqlite(p) => {
                // sqlx cannot lock a SQLite file while migrating: two processes opening a new
                // warehouse at once both apply migration 1, and the slower one fails ("table
                // messages already exists") and rolls back. Run again: it then finds the
                // migrations applied.
                let migrator = sqlx::migrate!("migrations/sqlite");
                let mut result = migrator.run(p).await;
                for _ in 0..3 {
                    if result.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    result = migrator.run(p).await;
                }
                result
            }
            Pool::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await,
        }
        .with_context(|| format!("cannot apply the warehouse schema to {place}"))
    }

    /// Begins a write transaction. Writers run one at a time: SQLite's `BEGIN IMMEDIATE`
    /// takes the write lock up front (a deferred transaction that read first fails at once
    /// with "database is locked" when another writer committed meanwhile), and on PostgreSQL
    /// a transaction-level advisory lock does the same (two commands rebuilding one user's
    /// sessions concurrently would otherwise collide on `sessions_pkey`).
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        let place = &self.place;
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await.map_err(|e| busy(e, place))?),
            Pool::Postgres(p) => {
                let mut tx = p.begin().await.with_context(|| format!("warehouse {place}"))?;
                sqlx::query(include_str!("../../sql/warehouse/postgres/write_lock.sql"))
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("waiting for other writers on the warehouse {place}"))?;
                Tx::Postgres(tx)
            }
        })
    }

    /// Builds the secondary indexes of messages and sessions where they are missing: after a
    /// first full load, and at the start of every ingest run, in case such a load was killed
    /// before it could build them (a no-op when they exist).
    pub async fn ensure_indexes(&self) -> anyhow::Result<()> {
        let built = async {
            let mut tx = self.begin().await?;
            match &mut tx {
                Tx::Sqlite(conn) => build_sqlite_indexes(conn).await?,
                Tx::Postgres(conn) => {
                    sqlx::raw_sql(include_str!("../../sql/warehouse/indexes_create.sql"))
                        .execute(&mut **conn)
                        .await?;
                }
            }
            tx.commit().await
        };
        built.await.with_context(|| format!("building the indexes of the warehouse {}", self.place))
    }

    /// Drops the secondary indexes of messages and sessions before a first full load, which
    /// builds them once at its end ([`Warehouse::ensure_indexes`]); in SQLite also the keys of
    /// messages and sessions, since such a load inserts each message once
    /// ([`Tx::upsert_messages`]) and writes session rows by rowid
    /// ([`Tx::write_first_load_sessions`]).
    pub async fn drop_indexes(&self) -> anyhow::Result<()> {
        let dropped = async {
            if matches!(self.pool, Pool::Sqlite(_)) {
                self.run_script(include_str!("../../sql/warehouse/sqlite/keys_drop.sql")).await?;
            }
            self.run_script(include_str!("../../sql/warehouse/indexes_drop.sql")).await
        };
        dropped.await.with_context(|| format!("preparing the warehouse {} for a first load", self.place))
    }

    /// Runs a script of statements in one transaction.
    async fn run_script(&self, sql: &'static str) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        with_conn!(&mut tx, conn, Db => sqlx::raw_sql(sql).execute(&mut *conn).await.map(|_| ()))?;
        tx.commit().await
    }

    /// Messages per ingest batch when `--batch-size` does not say.
    pub fn default_batch_size(&self) -> usize {
        match self.pool {
            Pool::Sqlite(_) => DEFAULT_BATCH_SIZE_SQLITE,
            Pool::Postgres(_) => DEFAULT_BATCH_SIZE_POSTGRES,
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> anyhow::Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
        .context("committing to the warehouse")
    }

    /// Rolls back, now rather than when the connection is next used: the caller writes again
    /// at once, and SQLite lets one writer at a time.
    pub async fn rollback(self) -> anyhow::Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
        .context("rolling back a warehouse transaction")
    }
}

/// The error of a SQLite statement, saying plainly when another process holds the file.
fn busy(err: sqlx::Error, place: &str) -> anyhow::Error {
    if is_locked(&err) {
        anyhow::Error::new(err).context(format!(
            "the warehouse {place} is locked by another process (waited {} s); try again when it is done",
            SQLITE_BUSY_TIMEOUT.as_secs()
        ))
    } else {
        anyhow::Error::new(err).context(format!("warehouse {place}"))
    }
}

/// Messages per ingest batch into SQLite, when `--batch-size` does not say: memory grows with
/// the batch (three are in flight), speed does not (docs/performance.md, "Memory").
pub const DEFAULT_BATCH_SIZE_SQLITE: usize = 10_000;

/// Messages per ingest batch into PostgreSQL: each batch costs a few round trips and a
/// commit, so smaller batches cost time there (300k: 7.6 s in batches of 10,000, 7.1 s of
/// 15,000, 6.9 s of 20,000, which peaked at 258–260 MiB).
pub const DEFAULT_BATCH_SIZE_POSTGRES: usize = 15_000;

/// How long a SQLite statement waits for another process's write to finish.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

async fn open_sqlite(
    url: &str,
    mode: OpenMode,
    place: &str,
) -> anyhow::Result<(SqlitePool, std::path::PathBuf)> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| user_error(format!("warehouse URL {url}: {e}; use sqlite://PATH")))?;
    let path = options.get_filename().to_path_buf();
    if mode == OpenMode::ExistingOnly && !path.exists() {
        return Err(user_error(format!(
            "no warehouse at {place}: run `itstat ingest` first, or set `[warehouse] url`"
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        anyhow::bail!("cannot create the warehouse {place}: folder {} does not exist", dir.display());
    }
    let options = options
        .create_if_missing(mode == OpenMode::ReadWrite)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // 16 KB pages (new files only; an existing file keeps its page size): a batch commit
        // writes a quarter of the WAL frames of 4 KB pages, and long answers fit in fewer
        // overflow pages; a first full load commits three times faster (docs/performance.md).
        .page_size(16384)
        // A 16 MB page cache (the pool has two connections, so at most 32 MB). It also bounds
        // a sort's in-memory runs, which spill to a file past it (the index build after a
        // first load takes 4 MB runs instead: `SQLITE_INDEX_BUILD`). 64 MB caches made a
        // first load peak 64–128 MB higher at no gain in speed (300k: 261–308 MiB against
        // 327–351 MiB, 4.5–4.6 s against 4.6–4.7 s; docs/performance.md, "Memory");
        .pragma("cache_size", SQLITE_CACHE_KIB)
        // sorts bigger than the cache (the index build after a first load, a big GROUP BY)
        // spill to temp files, not to memory: the bundled SQLite defaults to memory, which
        // made a first load's peak grow with the table (1M messages: 598 → 517–543 MiB,
        // the index build no slower; docs/performance.md);
        .pragma("temp_store", "file")
        // and checkpointing only when the WAL passes 50,000 pages (800 MB) instead of 4 MB
        // spares batch commits the copy-back and its fsync, which would run on the writer's
        // path: a first load copies the WAL back on a thread of its own instead
        // (`checkpoint.rs`). Cron runs write far less, and each close folds the WAL back.
        .pragma("wal_autocheckpoint", "50000")
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Debug, crate::db::SLOW_STATEMENT);
    // SQLite runs one writer at a time anyway; a second connection serves reads meanwhile.
    let pool_options = SqlitePoolOptions::new().max_connections(2);
    // Switching a new file to WAL needs a moment of exclusive access, and SQLite answers
    // "database is locked" at once (without its busy handler) to a second process opening the
    // file in that moment: try again for as long as a statement would wait.
    let deadline = std::time::Instant::now() + SQLITE_BUSY_TIMEOUT;
    loop {
        match pool_options.clone().connect_with(options.clone()).await {
            Ok(pool) => return Ok((pool, path)),
            Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) if is_locked(&e) => return Err(busy(e, place)),
            Err(e) => return Err(e).with_context(|| format!("cannot open the warehouse {place}")),
        }
    }
}

/// The page cache of a SQLite connection, in KiB as SQLite's negative `cache_size` says it.
const SQLITE_CACHE_KIB: &str = "-16384";

/// The sort settings for building SQLite's indexes after a first load (`build_sqlite_indexes`).
/// SQLite sorts an index's entries in runs as large as the page cache, each sorted in memory
/// and written to a temp file, then merges the runs. Runs of 4 MB (the least SQLite takes with
/// 16 KB pages: 250 pages) sort faster than runs of 16 MB — their lists fit the processor's
/// cache — and a second sorter thread sorts one run while the build reads the next.
/// Measured with `sqlite3` on a warehouse of 1,000,000 messages (every key and index, one
/// after the other): 4.74–5.25 s with a 16 MB cache and no sorter thread, 3.88–3.91 s with
/// 4 MB, 3.29–3.39 s with 4 MB and two threads (docs/performance.md, "The first load", 16).
const SQLITE_INDEX_BUILD: &str = "PRAGMA cache_size = -4096; PRAGMA threads = 2;";

/// SQLite's keys and secondary indexes, built in the caller's transaction with the sort
/// settings of [`SQLITE_INDEX_BUILD`]; the connection's usual settings come back after, whether
/// or not the build succeeded (a failed one rolls back with the transaction).
async fn build_sqlite_indexes(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(SQLITE_INDEX_BUILD).execute(&mut *conn).await?;
    let built = async {
        sqlx::raw_sql(include_str!("../../sql/warehouse/sqlite/keys_create.sql")).execute(&mut *conn).await?;
        sqlx::raw_sql(include_str!("../../sql/warehouse/indexes_create.sql")).execute(&mut *conn).await
    }
    .await;
    let usual = format!("PRAGMA cache_size = {SQLITE_CACHE_KIB}; PRAGMA threads = 0;");
    let restored = sqlx::raw_sql(sqlx::AssertSqlSafe(usual)).execute(&mut *conn).await;
    built?;
    restored?;
    Ok(())
}

/// SQLITE_BUSY or SQLITE_LOCKED.
/// Whether an error says another process holds the SQLite warehouse (it waited its busy
/// timeout in vain).
pub fn is_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<sqlx::Error>().is_some_and(is_locked))
}

fn is_locked(err: &sqlx::Error) -> bool {
    err.as_database_error().and_then(|e| e.code()).is_some_and(|c| c == "5" || c == "6")
}

async fn open_postgres(url: &str, place: &str) -> anyhow::Result<PgPool> {
    let options = crate::db::postgres_options(url).map_err(|e| {
        user_error(format!(
            "warehouse URL for {place} is not a valid postgres:// URL ({e}); fix `[warehouse] url` or ITSTAT_WAREHOUSE_URL"
        ))
    })?;
    let options = options
        .application_name("itstat")
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Debug, crate::db::SLOW_STATEMENT);
    // One plain connection first: a server that is down fails at once, without the pool's
    // retries.
    let probe =
        options.connect().await.with_context(|| format!("cannot connect to the warehouse at {place}"))?;
    sqlx::Connection::close(probe).await.ok();
    Ok(PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(cache_size, threads)` of a connection.
    async fn sort_settings(conn: &mut SqliteConnection) -> (i64, i64) {
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&mut *conn).await.unwrap();
        let threads: i64 = sqlx::query_scalar("PRAGMA threads").fetch_one(&mut *conn).await.unwrap();
        (cache, threads)
    }

    #[tokio::test]
    async fn an_index_build_leaves_the_connections_as_it_found_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("wh.db").display());
        let wh = Warehouse::open(&url, OpenMode::ReadWrite).await.unwrap();
        let Pool::Sqlite(pool) = &wh.pool else { unreachable!() };
        let usual: i64 = SQLITE_CACHE_KIB.parse().unwrap();
        let count_indexes = async || -> i64 {
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
                .fetch_one(pool)
                .await
                .unwrap()
        };
        let indexes = count_indexes().await;
        wh.drop_indexes().await.unwrap();
        assert!(count_indexes().await < indexes);
        wh.ensure_indexes().await.unwrap();
        assert_eq!(count_indexes().await, indexes);
        // Both connections of the pool (it has two), the one that built among them.
        let (mut a, mut b) = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
        assert_eq!(sort_settings(&mut a).await, (usual, 0));
        assert_eq!(sort_settings(&mut b).await, (usual, 0));
        drop((a, b));
        wh.close().await;
    }
}
