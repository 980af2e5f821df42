//! The vector plumbing of topics and knowledge gaps (docs/topics.md, docs/gaps.md):
//! [`cluster`] holds the vector arithmetic, the neighbour search and the single-link grouping
//! the topics are measured against; [`service`] talks to the embeddings and chat services.
//! The knowledge gaps themselves are the unanswered part of topics (`crate::topics::gaps`).

pub mod cluster;
pub mod service;
