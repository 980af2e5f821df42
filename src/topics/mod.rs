//! Topics: what people ask about, every question of a period in exactly one topic, by meaning
//! (docs/topics.md).
//!
//! [`group`] groups question vectors so that sibling intents stay apart (「VPN连不上」 and
//! 「VPN账号怎么申请」 are two topics, although their vectors sit closer than the loosest
//! paraphrases of either); [`assign`] puts a later period's questions into the topics that
//! already exist, and [`extend`] groups what joins none into new topics: pure functions over
//! vectors. [`place`] decides where a period's questions go (stored topic, wording
//! near-duplicate, centroid, new or provisional topic); [`period`] gets the vectors
//! ([`vectors`]), names new topics ([`names`]), stores the placement and counts; [`curate`] is
//! the operators' rename, merge and split; [`gaps`] makes the knowledge gaps, the unanswered
//! part of the topics.

pub mod assign;
pub mod curate;
pub mod gaps;
pub mod group;
pub mod names;
mod neighbours;
pub mod period;
pub mod place;
pub mod vectors;

pub use assign::{Extension, assign, extend};
pub use group::{Grouping, Model, centred, centroids, group, group_in, group_owned};
