//! Copies a SQLite warehouse's WAL back into the file beside a first load, not after it.
//!
//! A first full load writes every page twice: into the WAL as each batch commits, and into
//! the file when the WAL is checkpointed. Automatic checkpoints are held back for a load
//! (`wal_autocheckpoint` in `warehouse/mod.rs`) because they run on the committing
//! connection, in the writer's path. Done at the end instead, the copy-back was 0.7 s of a
//! 6 s load of 300,000 messages, with the second core idle (docs/performance.md). Here a
//! thread of its own, on a connection of its own, runs a PASSIVE checkpoint after each
//! commit: it copies what is committed without taking the write lock, so the writer goes on
//! appending meanwhile, and the last close only has the tail left to copy. A checkpoint that
//! fails is only logged: the WAL keeps every committed page either way, and the close (or the
//! next automatic checkpoint) copies whatever is left.

use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use tracing::debug;

/// A background checkpointing thread; stopped and joined when dropped.
pub struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to the SQLite file at `path`.
    pub fn start(path: &Path) -> anyhow::Result<Checkpointer> {
        let conn = rusqlite::Connection::open(path)?;
        // One pending nudge is enough: a checkpoint copies everything committed before it.
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new().name("itstat-checkpoint".into()).spawn(move || {
            while nudged.recv().is_ok() {
                let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                    Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
                });
                match result {
                    Ok((log, copied)) => debug!(log, copied, "Checkpointed the WAL."),
                    Err(e) => debug!(error = %e, "A background checkpoint did not run."),
                }
            }
        })?;
        Ok(Checkpointer { nudge: Some(nudge), thread: Some(thread) })
    }

    /// Asks for a checkpoint of what is committed now (no-op when one is already asked for).
    pub fn nudge(&self) {
        if let Some(nudge) = &self.nudge {
            // Full: a checkpoint is asked for already; disconnected: the thread ended.
            let _ = nudge.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after its current checkpoint.
        self.nudge.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that stays open (as the load's does) keeps its committed pages in the WAL;
    /// the checkpointer copies them into the file meanwhile.
    #[test]
    fn copies_committed_pages_into_the_file_while_the_writer_stays_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wh.db");
        let writer = rusqlite::Connection::open(&path).unwrap();
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        writer
            .execute_batch(
                "PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO t SELECT randomblob(1000) FROM n;",
            )
            .unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        assert!(before < 100_000, "the rows are still only in the WAL ({before} bytes in the file)");
        let checkpointer = Checkpointer::start(&path).unwrap();
        checkpointer.nudge();
        drop(checkpointer); // waits for the checkpoint asked for
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after > 2_000_000, "the rows are in the file ({after} bytes)");
        let rows: i64 = writer.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 2000);
    }
}
