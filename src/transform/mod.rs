//! Transform: the help desk's rules, as pure functions over Polars frames.
//!
//! Every business rule of `docs/metrics.md` lives here and nowhere else: the rules in force
//! ([`rules`]), which messages count, the user key, the question, the message state, the
//! knowledge-base and transfer verdicts ([`messages`]), operator marks ([`marks`]), sessions
//! ([`sessions`], derived for the warehouse by [`derive`]), the KPIs ([`kpi`]) and the report's
//! detail tables ([`detail`]) and knowledge gaps ([`gaps`]), and the alert rules of `itstat check` ([`alerts`]). Nothing in
//! this module does I/O; callers hand facts in and get derived values out.

pub mod alerts;
pub mod derive;
pub mod detail;
pub mod gaps;
pub mod kpi;
pub mod marks;
pub mod messages;
pub mod nfkc;
pub mod plan;
pub mod rules;
pub mod sessions;
pub mod time;
pub mod topics;
pub mod unionfind;
pub mod wording;

pub use rules::RulesInForce;
