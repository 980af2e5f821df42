//! Fault-injection hooks for the crash-safety tests; inert unless their variable is set.
//!
//! `ITSTAT_TEST_ABORT_AFTER_BATCHES=N` makes an ingest abort the process (as `kill -9` would,
//! no unwinding, no cleanup) right after its N-th committed batch. `ITSTAT_TEST_HOLD_BATCH_MS=N`
//! makes it wait N ms before each batch's commit, inside the transaction, so the concurrency
//! tests can be sure their reports and marks meet an open ingest transaction.
//! `ITSTAT_TEST_PANIC=status` makes `itstat status` panic, as a bug would: the scheduler must
//! outlive it and record it.

use std::sync::atomic::{AtomicUsize, Ordering};

static BATCHES: AtomicUsize = AtomicUsize::new(0);

/// Called after each committed batch.
pub fn maybe_abort_after_batch() {
    let done = BATCHES.fetch_add(1, Ordering::SeqCst) + 1;
    let limit = std::env::var("ITSTAT_TEST_ABORT_AFTER_BATCHES").ok().and_then(|v| v.parse::<usize>().ok());
    if limit == Some(done) {
        std::process::abort();
    }
}

/// Called before each batch's commit.
pub async fn maybe_hold_batch() {
    let hold = std::env::var("ITSTAT_TEST_HOLD_BATCH_MS").ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(ms) = hold {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Panics when `ITSTAT_TEST_PANIC` names `command`.
pub fn maybe_panic(command: &str) {
    if std::env::var("ITSTAT_TEST_PANIC").is_ok_and(|v| v == command) {
        panic!("ITSTAT_TEST_PANIC={command}: a panic for the tests");
    }
}
