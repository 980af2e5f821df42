//! Knowledge gaps: grouping unanswered questions by meaning (docs/gaps.md).
//!
//! [`find`] runs the whole step for a period: it loads the period's and the previous period's
//! messages, keeps the unanswered ones (`transform::marks::is_unhit`), folds them into distinct
//! questions (`transform::gaps`), gets a vector per question — from the warehouse's cache, else
//! from the embeddings service ([`service`]), caching what it gets — groups the vectors
//! ([`cluster`]), merges wording near-duplicates into the same groups, names each group (a chat
//! model when configured, else its most central question) and assembles the list.
//!
//! It never fails a report because of the services: with none configured it groups by wording
//! only; when the service is down, slow or answers garbage it uses what the cache holds, groups
//! the rest by wording, and says so in a warning (stderr and the report's `warnings`).

pub mod cluster;
pub mod service;

use std::collections::HashMap;

use anyhow::Context;
use tracing::warn;

use crate::calendar::Lang;
use crate::calendar::Period;
use crate::config::Settings;
use crate::transform::gaps;
use crate::transform::gaps::{Distinct, Gap, GapMessage, assemble, distinct, number, union, wording_labels};
use crate::transform::marks::{effective, is_unhit};
use crate::warehouse::Warehouse;
use service::Service;

/// How many of the largest groups a chat model names (each is one request).
const NAMED_GROUPS: usize = 20;

/// The knowledge gaps of a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gaps {
    /// Largest first.
    pub groups: Vec<Gap>,
    /// `meaning` when every question had a vector, else `wording`.
    pub grouped_by: &'static str,
    /// Why the grouping fell back to wording, naming the service and its error.
    pub warning: Option<String>,
}

/// The knowledge gaps of `period` (see the module docs).
pub async fn find(wh: &Warehouse, settings: &Settings, period: &Period) -> anyhow::Result<Gaps> {
    let messages = unanswered(wh, period).await?;
    let questions = distinct(&messages);
    let keys: Vec<String> = questions.iter().map(|q| q.key.clone()).collect();
    let (vectors, warning) = vectors(wh, settings, &questions).await?;
    let by_meaning = warning.is_none() && settings.gaps.embeddings_url.is_some();
    let (labels, central) = tokio::task::spawn_blocking(move || group(&keys, &vectors))
        .await
        .context("grouping the questions")?;
    let mut titles: Vec<String> =
        central.iter().map(|c| c.map(|d| questions[d].text.clone()).unwrap_or_default()).collect();
    if by_meaning {
        name_groups(settings, &questions, &labels, &mut titles).await;
    }
    let groups = assemble(&messages, &questions, &labels, &titles);
    Ok(Gaps { groups, grouped_by: if by_meaning { "meaning" } else { "wording" }, warning })
}

/// The unanswered messages of the period and of the previous one.
async fn unanswered(wh: &Warehouse, period: &Period) -> anyhow::Result<Vec<GapMessage>> {
    let previous = period.previous();
    // Only the columns the rule reads (no answers): a month and its previous one of a busy
    // help desk hold hundreds of megabytes of answer text.
    let rows = wh.gap_candidates(previous.start, period.end).await?;
    Ok(rows
        .into_iter()
        .filter(|r| is_unhit(r.head.state, effective(r.head.state, r.kb_hit, r.kb_mark, None).0))
        .map(|r| GapMessage {
            in_period: r.head.local_time.date() >= period.start,
            message_id: r.head.message_id,
            user_key: r.head.user_key,
            local_time: r.head.local_time,
            question: r.head.question,
        })
        .collect())
}

/// A vector per distinct question where one can be had, and the warning when the service
/// could not give them all.
async fn vectors(
    wh: &Warehouse,
    settings: &Settings,
    questions: &[Distinct],
) -> anyhow::Result<(Vec<Option<Vec<f32>>>, Option<String>)> {
    let Some(base) = settings.gaps.embeddings_url.as_deref() else {
        return Ok((vec![None; questions.len()], None));
    };
    let model = &settings.gaps.embeddings_model;
    let keys: Vec<String> = questions.iter().map(|q| q.key.clone()).collect();
    let cached = wh.cached_vectors(model, &keys).await?;
    let missing: Vec<usize> =
        (0..questions.len()).filter(|&i| !cached.contains_key(&questions[i].key)).collect();
    let mut got: HashMap<String, Vec<f32>> = HashMap::new();
    let mut warning = None;
    if !missing.is_empty() {
        // Batch by batch, each cached as it arrives: a service that fails half-way keeps what
        // it gave for the next report.
        let service = Service::new(base, settings);
        let mut dims = cached.values().next().map(Vec::len);
        for batch in missing.chunks(service::BATCH) {
            let texts: Vec<String> = batch.iter().map(|&i| questions[i].text.clone()).collect();
            let asked = match &service {
                Ok(service) => service.embed(model, &texts).await,
                Err(e) => Err(anyhow::anyhow!("{}", crate::error::one_line(e))),
            };
            let vectors = match asked {
                Ok(vectors) => vectors,
                Err(e) => {
                    let text = crate::error::one_line(&e);
                    warn!(service = %shown(base), error = %text, "The embeddings service failed; grouping by wording.");
                    warning = Some(format!("embeddings service {text}"));
                    break;
                }
            };
            if vectors.first().is_some_and(|v| dims.is_some_and(|d| d != v.len())) {
                warning = Some(format!(
                    "the embeddings service at {} answered vectors of another length than those cached for {model}",
                    shown(base)
                ));
                break;
            }
            dims = dims.or(vectors.first().map(Vec::len));
            let fresh: Vec<(String, Vec<f32>)> =
                batch.iter().map(|&i| questions[i].key.clone()).zip(vectors).collect();
            wh.cache_vectors(model, &fresh).await?;
            got.extend(fresh);
        }
    }
    let out = questions.iter().map(|q| cached.get(&q.key).or_else(|| got.get(&q.key)).cloned()).collect();
    Ok((out, warning))
}

fn shown(base: &str) -> String {
    url::Url::parse(base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "the configured URL".into())
}

/// One label per distinct question: the vector groups and the wording near-duplicates,
/// merged (a question joins every group it shares a member with); and per label, the distinct
/// question closest to its vectors' centre (`None` for a group without vectors).
fn group(keys: &[String], vectors: &[Option<Vec<f32>>]) -> (Vec<usize>, Vec<Option<usize>>) {
    let with: Vec<usize> = (0..keys.len()).filter(|&i| vectors[i].is_some()).collect();
    let dense: Vec<Vec<f32>> = with.iter().filter_map(|&i| vectors[i].clone()).collect();
    let meaning = cluster::cluster(&dense);
    let wording = wording_labels(keys);
    // A question joins every group it shares a member with: the components of the union of
    // both labellings.
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    let mut first_of: HashMap<(u8, usize), usize> = HashMap::new();
    let members = wording.iter().enumerate().map(|(i, &l)| ((0, l), i));
    for (label, i) in members.chain(meaning.iter().enumerate().map(|(j, &l)| ((1, l), with[j]))) {
        let first = *first_of.entry(label).or_insert(i);
        union(&mut parent, first, i);
    }
    let roots: Vec<usize> = (0..keys.len()).map(|i| gaps::find(&mut parent, i)).collect();
    let labels = number(&roots);
    let groups = labels.iter().max().map_or(0, |m| m + 1);
    let mut central = vec![None; groups];
    for (label, slot) in central.iter_mut().enumerate() {
        let members: Vec<usize> = (0..with.len()).filter(|&j| labels[with[j]] == label).collect();
        if !members.is_empty() {
            let best = cluster::most_central(&dense, &members);
            *slot = members.get(best).map(|&j| with[j]);
        }
    }
    (labels, central)
}

/// Asks the chat model to name the largest groups; a failure keeps the central question.
async fn name_groups(settings: &Settings, questions: &[Distinct], labels: &[usize], titles: &mut [String]) {
    let (Some(base), Some(model)) = (settings.gaps.chat_url.as_deref(), settings.gaps.chat_model.as_deref())
    else {
        return;
    };
    let Ok(service) = Service::new(base, settings) else { return };
    // (messages, distinct questions, label): the largest groups by messages are named; a group
    // of one distinct question is already named by it.
    let mut sizes: Vec<(usize, usize, usize)> = Vec::new();
    for (label, _) in titles.iter().enumerate() {
        let members: Vec<usize> = (0..questions.len()).filter(|&d| labels[d] == label).collect();
        let messages: usize = members.iter().map(|&d| questions[d].members.len()).sum();
        sizes.push((messages, members.len(), label));
    }
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
    let chinese = settings.report.lang == Lang::Zh;
    for (_, distinct, label) in sizes.into_iter().take(NAMED_GROUPS) {
        if distinct < 2 {
            continue;
        }
        let examples: Vec<String> = (0..questions.len())
            .filter(|&d| labels[d] == label)
            .take(8)
            .map(|d| questions[d].text.clone())
            .collect();
        match service.name(model, &examples, chinese).await {
            Ok(name) => titles[label] = name,
            Err(e) => {
                warn!(error = %crate::error::one_line(&e), "The chat model could not name a group; using its most central question.");
                return;
            }
        }
    }
}
