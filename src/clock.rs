//! The current time, which the tests can pin.
//!
//! Built with the `test-hooks` feature (the integration tests, `scripts/test.sh`),
//! `ITSTAT_NOW` (RFC 3339, e.g. `2026-11-03T08:00:00+08:00`) pins "now" so that "the last
//! complete period", `generated_at` and the scheduler's catch-up are reproducible. A shipped
//! build has no such variable: it is not a user setting, and one left in a cron environment
//! must not move every report's period.

use chrono::{DateTime, Utc};

/// Now, in UTC: the wall clock, or `ITSTAT_NOW` in a build with the `test-hooks` feature.
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "test-hooks")]
    if let Some(pinned) = pinned() {
        return pinned;
    }
    Utc::now()
}

/// The time `ITSTAT_NOW` pins, when it is set and parses.
#[cfg(feature = "test-hooks")]
fn pinned() -> Option<DateTime<Utc>> {
    let text = std::env::var("ITSTAT_NOW").ok()?;
    DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(all(test, not(feature = "test-hooks")))]
mod tests {
    use super::*;

    /// The shipped build: a variable left in the environment does not move the clock.
    #[test]
    fn itstat_now_is_ignored_without_test_hooks() {
        // SAFETY: the test sets a variable that only this test reads; std's environment lock
        // covers the other tests' reads.
        unsafe { std::env::set_var("ITSTAT_NOW", "2001-02-03T04:05:06+08:00") };
        let before = Utc::now();
        let now = now();
        assert!(now >= before && now <= Utc::now(), "ITSTAT_NOW moved the clock to {now}");
    }
}
