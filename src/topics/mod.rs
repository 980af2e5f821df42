//! Topics: what people ask about, every question of a period in exactly one topic, by meaning
//! (docs/topics.md).
//!
//! [`group`] groups question vectors so that sibling intents stay apart (「VPN连不上」 and
//! 「VPN账号怎么申请」 are two topics, although their vectors sit closer than the loosest
//! paraphrases of either); [`assign`] puts a later period's questions into the topics that
//! already exist, and [`extend`] groups what joins none into new topics. Pure functions over
//! vectors: the warehouse, the services and the reports are wired elsewhere.

pub mod assign;
pub mod group;
mod neighbours;

pub use assign::{Extension, assign, extend};
pub use group::{Grouping, Model, centred, centroids, group, group_in};
