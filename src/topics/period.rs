//! The topics of a period, placed in the warehouse's stored topics (docs/topics.md, "Stored
//! topics").
//!
//! [`find`] loads the period's and the previous period's included messages, folds them into
//! distinct questions (the wording key of knowledge gaps), and — in one write transaction, so
//! that two reports at once cannot give a question two topics — reads the stored memberships,
//! places the questions that have none (`transform::topics::place`), stores the new topics and
//! memberships, and counts each topic's messages (`transform::topics::numbers`). Questions are
//! placed by wording; placing them by meaning, with the embeddings service of knowledge gaps,
//! is a later step.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::calendar::Period;
use crate::transform::gaps::{Distinct, GapMessage, distinct};
use crate::transform::marks::effective;
use crate::transform::topics::{TopicInfo, TopicKpis, TopicMessage, numbers, place};
use crate::warehouse::topics::TopicQuestionRow;
use crate::warehouse::{Tx, Warehouse};

/// The topics of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    /// Every topic with a message in the period, largest first.
    pub topics: Vec<TopicKpis>,
    /// How many topics this run made.
    pub created: usize,
}

/// The topics of `period` (see the module docs). Writes the new topics and memberships.
pub async fn find(wh: &Warehouse, period: &Period) -> anyhow::Result<Topics> {
    let previous = period.previous();
    let messages: Vec<TopicMessage> = wh
        .topic_messages(previous.start, period.end)
        .await?
        .into_iter()
        .map(|r| TopicMessage {
            in_period: r.head.local_time.date() >= period.start,
            kb_hit: effective(r.head.state, r.kb_hit, r.kb_mark, None).0,
            message_id: r.head.message_id,
            user_key: r.head.user_key,
            local_time: r.head.local_time,
            session_id: r.session_id,
            question: r.head.question,
            state: r.head.state,
            transfer: r.transfer,
            has_like: r.has_like,
            has_dislike: r.has_dislike,
        })
        .collect();
    let questions = distinct(&as_gap_messages(&messages));
    let mut tx = wh.begin().await?;
    let (ids, created) = store(&mut tx, &questions, &messages).await?;
    let stored: HashMap<i64, TopicInfo> = tx
        .all_topics()
        .await?
        .into_iter()
        .map(|t| (t.topic_id, TopicInfo { title: t.title, first_seen: t.first_seen }))
        .collect();
    tx.commit().await?;
    let mut topic_of = vec![0i64; messages.len()];
    for (q, id) in questions.iter().zip(&ids) {
        for &i in &q.members {
            topic_of[i] = *id;
        }
    }
    let start = period.start.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(Topics { topics: numbers(&messages, &topic_of, &stored, start), created })
}

fn as_gap_messages(messages: &[TopicMessage]) -> Vec<GapMessage> {
    messages
        .iter()
        .map(|m| GapMessage {
            message_id: m.message_id.clone(),
            user_key: m.user_key.clone(),
            local_time: m.local_time,
            question: m.question.clone(),
            in_period: m.in_period,
        })
        .collect()
}

/// Places the distinct questions, stores what is new, and gives each its topic id and how many
/// topics were made.
async fn store(
    tx: &mut Tx,
    questions: &[Distinct],
    messages: &[TopicMessage],
) -> anyhow::Result<(Vec<i64>, usize)> {
    let first: Vec<NaiveDateTime> = questions
        .iter()
        .map(|q| q.members.iter().map(|&i| messages[i].local_time).min().unwrap_or_default())
        .collect();
    let stored = tx.topic_memberships().await?;
    let placement = place(questions, &first, &stored);
    let now = chrono::Utc::now().naive_utc();
    let mut new_ids = Vec::with_capacity(placement.new_topics.len());
    for topic in &placement.new_topics {
        new_ids.push(tx.create_topic(&topic.title, topic.first_seen, now).await?);
    }
    let ids: Vec<i64> = placement.topics.iter().map(|t| t.unwrap_or_else(|k| new_ids[k])).collect();
    let mut rows = Vec::new();
    let mut earliest: HashMap<i64, NaiveDateTime> = HashMap::new();
    for (i, q) in questions.iter().enumerate() {
        let e = earliest.entry(ids[i]).or_insert(first[i]);
        *e = (*e).min(first[i]);
        if !stored.contains_key(&q.key) {
            rows.push(TopicQuestionRow {
                question_key: q.key.clone(),
                topic_id: ids[i],
                question: q.text.clone(),
                assigned_at: now,
            });
        }
    }
    rows.sort_by(|a, b| a.question_key.cmp(&b.question_key));
    tx.place_questions(&rows).await?;
    // A past period re-run, or a question asked before any report placed it, moves a topic's
    // first message back.
    let mut earliest: Vec<(i64, NaiveDateTime)> = earliest.into_iter().collect();
    earliest.sort();
    for (topic, at) in earliest {
        tx.lower_first_seen(topic, at).await?;
    }
    Ok((ids, new_ids.len()))
}
