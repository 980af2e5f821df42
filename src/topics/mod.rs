//! Topics: what people ask about, every question of a period in exactly one topic, by meaning
//! (docs/topics.md).
//!
//! [`group`] groups question vectors so that sibling intents stay apart (「VPN连不上」 and
//! 「VPN账号怎么申请」 are two topics, although their vectors sit closer than the loosest
//! paraphrases of either); [`assign`] puts a later period's questions into the topics that
//! already exist, and [`extend`] groups what joins none into new topics: pure functions over
//! vectors. [`period`] places a period's questions in the warehouse's stored topics and
//! counts them; [`curate`] is the operators' rename, merge and split.

pub mod assign;
pub mod curate;
pub mod group;
mod neighbours;
pub mod period;

pub use assign::{Extension, assign, extend};
pub use group::{Grouping, Model, centred, centroids, group, group_in};
