//! Transform: the help desk's rules, as pure functions over Polars frames.
//!
//! Every business rule of `metrics.md` lives here and nowhere else: which messages count, the
//! user key, the question, the message state, the knowledge-base and transfer verdicts
//! ([`messages`]), operator marks ([`marks`]), sessions ([`sessions`]) and the KPIs ([`kpi`]).
//! Nothing in this module does I/O; callers hand frames in and get frames out.

pub mod detail;
pub mod kpi;
pub mod marks;
pub mod messages;
pub mod rules;
pub mod sessions;
pub mod time;

#[cfg(test)]
mod fuzz;

pub use rules::Rules;
