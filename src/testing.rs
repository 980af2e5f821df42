//! Fault-injection hooks for the crash-safety tests, compiled in only with the `test-hooks`
//! cargo feature (the integration tests, `scripts/test.sh`).
//!
//! With the feature, `ITSTAT_TEST_ABORT_AFTER_BATCHES=N` makes an ingest abort the process (as
//! `kill -9` would, no unwinding, no cleanup) right after its N-th committed batch;
//! `ITSTAT_TEST_HOLD_BATCH_MS=N` makes it wait N ms before each batch's commit, inside the
//! transaction, so the concurrency tests can be sure their reports and marks meet an open
//! ingest transaction; `ITSTAT_TEST_PAUSE_AFTER_BATCH_MS=N` makes it wait N ms after each
//! commit, so that another SQLite writer, whose busy handler polls, gets a turn between two
//! batches of a first load (whose writer otherwise begins the next at once);
//! `ITSTAT_TEST_PANIC=status` makes `itstat status` panic, as a bug would:
//! the scheduler must outlive it and record it; `ITSTAT_TEST_ABORT_AFTER_SENDS=N` makes
//! `check --notify` abort right after its N-th post or mail went out, before it is recorded
//! (a `kill -9` between send and record). Without the feature (every shipped build) the
//! functions do nothing, whatever the environment holds: a stray variable in a cron
//! environment must never kill an ingest.

/// Called after each committed batch; aborts the process after the N-th in a test build.
pub fn maybe_abort_after_batch() {
    #[cfg(feature = "test-hooks")]
    hooks::abort_after_batch();
}

/// Called before each batch's commit; waits there in a test build.
pub async fn maybe_hold_batch() {
    #[cfg(feature = "test-hooks")]
    if let Some(ms) = hooks::number("ITSTAT_TEST_HOLD_BATCH_MS") {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Called after each batch's commit; waits there in a test build.
pub async fn maybe_pause_after_batch() {
    #[cfg(feature = "test-hooks")]
    if let Some(ms) = hooks::number("ITSTAT_TEST_PAUSE_AFTER_BATCH_MS") {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// Called after a notification went out and before it is recorded; aborts the process after
/// the N-th in a test build.
pub fn maybe_abort_after_send() {
    #[cfg(feature = "test-hooks")]
    hooks::abort_after_send();
}

/// Panics when `ITSTAT_TEST_PANIC` names `command`, in a test build.
pub fn maybe_panic(command: &str) {
    #[cfg(feature = "test-hooks")]
    if std::env::var("ITSTAT_TEST_PANIC").is_ok_and(|v| v == command) {
        panic!("ITSTAT_TEST_PANIC={command}: a panic for the tests");
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = command;
}

#[cfg(feature = "test-hooks")]
mod hooks {
    use std::sync::atomic::{AtomicU64, Ordering};

    static BATCHES: AtomicU64 = AtomicU64::new(0);
    static SENDS: AtomicU64 = AtomicU64::new(0);

    /// Counts a notification sent; aborts when the count reaches
    /// `ITSTAT_TEST_ABORT_AFTER_SENDS`.
    pub fn abort_after_send() {
        let done = SENDS.fetch_add(1, Ordering::SeqCst) + 1;
        if number("ITSTAT_TEST_ABORT_AFTER_SENDS") == Some(done) {
            std::process::abort();
        }
    }

    /// Counts a committed batch; aborts when the count reaches `ITSTAT_TEST_ABORT_AFTER_BATCHES`.
    pub fn abort_after_batch() {
        let done = BATCHES.fetch_add(1, Ordering::SeqCst) + 1;
        if number("ITSTAT_TEST_ABORT_AFTER_BATCHES") == Some(done) {
            std::process::abort();
        }
    }

    /// A variable's value as a number, when it is set and is one.
    pub fn number(name: &str) -> Option<u64> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }
}

#[cfg(all(test, not(feature = "test-hooks")))]
mod tests {
    use super::*;

    /// The shipped build: the hooks' variables change nothing (an abort would end this test
    /// binary, a panic fail the test, a hold make it take a minute).
    #[tokio::test]
    async fn hooks_are_inert_without_test_hooks() {
        // SAFETY: these variables are read only by the hooks, which this test alone calls.
        unsafe {
            std::env::set_var("ITSTAT_TEST_ABORT_AFTER_BATCHES", "1");
            std::env::set_var("ITSTAT_TEST_HOLD_BATCH_MS", "60000");
            std::env::set_var("ITSTAT_TEST_PAUSE_AFTER_BATCH_MS", "60000");
            std::env::set_var("ITSTAT_TEST_PANIC", "status");
            std::env::set_var("ITSTAT_TEST_ABORT_AFTER_SENDS", "1");
        }
        maybe_abort_after_batch();
        maybe_abort_after_send();
        maybe_panic("status");
        let started = std::time::Instant::now();
        maybe_hold_batch().await;
        maybe_pause_after_batch().await;
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the batch was held");
    }
}
