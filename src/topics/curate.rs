//! Operators' curation of stored topics (docs/topics.md, "Curation"): rename, merge, split.
//! Each runs in one write transaction and is recorded in `topic_log` with the operator and
//! the time; a bad id is a user error and changes nothing (the transaction is rolled back).
//! Memberships are what later reports read, so every change survives them and re-runs.

use crate::transform::topics::{NewTopic, split_groups};
use crate::warehouse::topics::{TopicLogRow, TopicQuestionRow, TopicRow};
use crate::warehouse::{Tx, Warehouse};

/// What a curation did, for the one line the command prints.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Renamed {
        id: i64,
        title: String,
    },
    Merged {
        id: i64,
        into: i64,
    },
    /// The topic kept `kept` questions; `new` are the topics made from the rest.
    Split {
        id: i64,
        kept: usize,
        new: Vec<i64>,
    },
}

/// The live topic `id` (not merged), or a user error naming the fix.
async fn live(tx: &mut Tx, id: i64) -> anyhow::Result<TopicRow> {
    let topic = tx.all_topics().await?.into_iter().find(|t| t.topic_id == id);
    match topic {
        Some(t) if t.merged_into.is_none() => Ok(t),
        Some(t) => crate::bail_user!(
            "topic {id} was merged into topic {}; act on that one (`itstat topics` lists the topics)",
            t.merged_into.unwrap_or_default()
        ),
        None => crate::bail_user!("there is no topic {id}; `itstat topics` lists the topics and their ids"),
    }
}

fn log(action: &str, id: i64, other: Option<i64>, name: Option<&str>, operator: &str) -> TopicLogRow {
    TopicLogRow {
        log_id: 0,
        action: action.into(),
        topic_id: id,
        other_id: other,
        name: name.map(str::to_string),
        operator: operator.into(),
        at: chrono::Utc::now().naive_utc(),
    }
}

/// Gives topic `id` the title `name`; later reports keep it.
pub async fn rename(wh: &Warehouse, id: i64, name: &str, operator: &str) -> anyhow::Result<Done> {
    let name = name.trim();
    if name.is_empty() {
        crate::bail_user!(
            "the new name of topic {id} is empty; give a name, e.g. `itstat topics rename {id} \"VPN\"`"
        );
    }
    let mut tx = wh.begin().await?;
    live(&mut tx, id).await?;
    tx.rename_topic(id, name).await?;
    tx.log_topic(log("rename", id, None, Some(name), operator)).await?;
    tx.commit().await?;
    Ok(Done::Renamed { id, title: name.to_string() })
}

/// Moves every question of topic `id` into topic `into`; `id` is kept as merged.
pub async fn merge(wh: &Warehouse, id: i64, into: i64, operator: &str) -> anyhow::Result<Done> {
    if id == into {
        crate::bail_user!("cannot merge topic {id} into itself; give two different topic ids");
    }
    let mut tx = wh.begin().await?;
    live(&mut tx, id).await?;
    live(&mut tx, into).await?;
    tx.merge_topic(id, into).await?;
    tx.log_topic(log("merge", id, Some(into), None, operator)).await?;
    tx.commit().await?;
    Ok(Done::Merged { id, into })
}

/// Groups topic `id`'s questions again by wording: the group of the question its title came
/// from (else the largest) keeps the id, each other group becomes a new topic. A topic that is one group stays as it is (a user error).
pub async fn split(wh: &Warehouse, id: i64, operator: &str) -> anyhow::Result<Done> {
    let mut tx = wh.begin().await?;
    let topic = live(&mut tx, id).await?;
    let questions = tx.topic_questions(id).await?;
    let mut groups = split_groups(&questions);
    // The group of the question the title came from keeps the id (after a merge, the topic
    // merged into); a renamed topic's, the largest.
    if let Some(k) = groups.iter().position(|g| g.members.iter().any(|&i| questions[i].1 == topic.title)) {
        groups[..=k].rotate_right(1);
    }
    if groups.len() < 2 {
        crate::bail_user!(
            "topic {id} is one group of near-duplicate questions, nothing to split; `itstat topics merge` joins topics, `rename` names them"
        );
    }
    let now = chrono::Utc::now().naive_utc();
    let mut new = Vec::new();
    for NewTopic { title, members, .. } in &groups[1..] {
        let new_id = tx.create_topic(title, "question", topic.first_seen, now).await?;
        let rows: Vec<TopicQuestionRow> = members
            .iter()
            .map(|&i| TopicQuestionRow {
                question_key: questions[i].0.clone(),
                topic_id: new_id,
                question: questions[i].1.clone(),
                assigned_at: now,
            })
            .collect();
        tx.place_questions(&rows).await?;
        new.push(new_id);
    }
    tx.log_topic(log("split", id, new.first().copied(), None, operator)).await?;
    tx.commit().await?;
    Ok(Done::Split { id, kept: groups[0].members.len(), new })
}
