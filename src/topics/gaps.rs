//! Knowledge gaps: the unanswered part of topics (docs/gaps.md).
//!
//! [`find`] takes the period's topics (`crate::topics::period::find`, which placed every
//! distinct question of the period and of the previous one), loads the two periods' answered
//! messages, keeps the unanswered ones (`transform::marks::is_unhit`, the rule behind a
//! topic's `unanswered`) and makes one gap per topic that has such a message in the period:
//! titled as the topic, its numbers over those messages (`transform::gaps::assemble`), and
//! the topic's id. A gap and its topic never disagree. How the questions were grouped, and
//! why by wording when the embeddings service failed, is the topics'.

use std::collections::HashMap;

use crate::calendar::Period;
use crate::topics::period::Topics;
use crate::transform::gaps::{Gap, GapMessage, assemble, distinct};
use crate::transform::marks::{effective, is_unhit};
use crate::warehouse::Warehouse;

/// The knowledge gaps of a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gaps {
    /// Largest first.
    pub groups: Vec<Gap>,
    /// The topics' `grouped_by`: `meaning` or `wording`.
    pub grouped_by: &'static str,
    /// The topics' warning: why some questions were grouped by wording.
    pub warning: Option<String>,
}

/// The knowledge gaps of `period`, one per topic of `topics` with an unanswered message in
/// the period (see the module docs).
pub async fn find(wh: &Warehouse, period: &Period, topics: &Topics) -> anyhow::Result<Gaps> {
    let messages = unanswered(wh, period, topics).await?;
    let questions = distinct(&messages);
    let titles: HashMap<i64, &str> = topics.topics.iter().map(|t| (t.id, t.title.as_str())).collect();
    // One label per topic, in order of first appearance.
    let mut label_of: HashMap<i64, usize> = HashMap::new();
    let mut labelled: Vec<(i64, String)> = Vec::new();
    let labels: Vec<usize> = questions
        .iter()
        .map(|q| {
            let topic = topics.of_question.get(&q.key).copied().unwrap_or_default();
            *label_of.entry(topic).or_insert_with(|| {
                labelled.push((topic, titles.get(&topic).copied().unwrap_or_default().to_string()));
                labelled.len() - 1
            })
        })
        .collect();
    Ok(Gaps {
        groups: assemble(&messages, &questions, &labels, &labelled),
        grouped_by: topics.grouped_by,
        warning: topics.warning.clone(),
    })
}

/// The unanswered messages of the period and of the previous one whose question has a topic
/// (one ingested after the topics were placed waits for the next report, as in its topic).
async fn unanswered(wh: &Warehouse, period: &Period, topics: &Topics) -> anyhow::Result<Vec<GapMessage>> {
    let previous = period.previous();
    // Only the columns the rule reads (no answers): a month and its previous one of a busy
    // help desk hold hundreds of megabytes of answer text.
    let rows = wh.gap_candidates(previous.start, period.end).await?;
    Ok(rows
        .into_iter()
        .filter(|r| is_unhit(r.head.state, effective(r.head.state, r.kb_hit, r.kb_mark, None).0))
        .filter(|r| topics.of_question.contains_key(&crate::transform::gaps::wording_key(&r.head.question)))
        .map(|r| GapMessage {
            in_period: r.head.local_time.date() >= period.start,
            message_id: r.head.message_id,
            user_key: r.head.user_key,
            local_time: r.head.local_time,
            question: r.head.question,
        })
        .collect())
}
