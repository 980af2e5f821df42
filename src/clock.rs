//! The current time, overridable for tests and demos.
//!
//! `ITSTAT_NOW` (RFC 3339, e.g. `2026-11-03T08:00:00+08:00`) pins "now" so that "the last
//! complete period" and `generated_at` are reproducible. It is not a user setting.

use chrono::{DateTime, Utc};

/// Now, in UTC.
pub fn now() -> DateTime<Utc> {
    std::env::var("ITSTAT_NOW")
        .ok()
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
}
