//! The topics of a period, placed in the warehouse's stored topics (docs/topics.md, "Stored
//! topics" and "Placement").
//!
//! [`find`] loads the period's and the previous period's included messages and folds them
//! into distinct questions (the wording key of knowledge gaps). With `[gaps] embeddings_url`
//! set it gets their vectors ([`super::vectors`]), the stored model (or measures it the first
//! time) and the stored topics' centroids, all before any write, since asking the service
//! takes seconds. [`super::place::plan`] decides where each question goes and the chat model
//! names the new topics ([`super::names`]). Then, in one write transaction, so that two
//! reports at once cannot give a question two topics, it stores the new topics and
//! memberships (a question another report placed meanwhile keeps that placement) and the
//! model, and counts each topic's messages (`transform::topics::numbers`).

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::NaiveDateTime;
use tracing::warn;

use super::names;
use super::place::{ByMeaning, Home, Known, Plan, plan};
use super::vectors;
use super::{Model, centred, group_owned};
use crate::calendar::Period;
use crate::config::Settings;
use crate::transform::gaps::{Distinct, GapMessage, distinct};
use crate::transform::marks::effective;
use crate::transform::topics::{TopicInfo, TopicKpis, TopicMessage, numbers, place};
use crate::warehouse::topics::{TopicQuestionRow, TopicRow};
use crate::warehouse::{Tx, Warehouse};

/// A model measured on fewer distinct questions than this is used for its run but not
/// stored: its line would be a guess, and a stored model is kept for good.
pub const MODEL_MIN: usize = 20;
/// At most this many vectors measure a model: a first grouping by meaning of a warehouse that
/// already holds a long history of topics measures it on a sample.
const SAMPLE: usize = 20_000;
/// Questions whose cached vectors are read at a time.
const BLOCK: usize = 2_000;

/// The topics of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    /// Every topic with a message in the period, largest first.
    pub topics: Vec<TopicKpis>,
    /// How many topics this run stored.
    pub created: usize,
    /// `meaning` when an embeddings service is configured and every question placed by this
    /// run had a vector, else `wording`.
    pub grouped_by: &'static str,
    /// Why some questions were placed by wording: the service and its error.
    pub warning: Option<String>,
    /// The topic of every distinct question (wording key) of the period and of the previous
    /// one; a negative id is a provisional topic (docs/topics.md, "When the service fails").
    pub of_question: HashMap<String, i64>,
    /// Why this run's new topics were not stored (the warehouse cannot be written here, or
    /// another process holds it): their ids are provisional.
    pub unstored: Option<String>,
}

/// What placing by meaning needs.
struct Meaning {
    vectors: Vec<Option<Vec<f32>>>,
    known: Known,
    model: Model,
    /// The model as JSON when this run measured it and it is to be stored.
    store: Option<String>,
}

/// The topics of `period` (see the module docs). Writes the new topics and memberships.
pub async fn find(wh: &Warehouse, settings: &Settings, period: &Period) -> anyhow::Result<Topics> {
    let messages = load(wh, period).await?;
    let questions = distinct(&as_gap_messages(&messages));
    let first = firsts(&questions, &messages);
    let snapshot = memberships(wh).await?;
    let (meaning, warning) = match settings.gaps.embeddings_url {
        Some(_) => {
            let (m, w) = meaning(wh, settings, &questions, &first, &snapshot).await?;
            (Some(m), w)
        }
        None => (None, None),
    };
    let model_row = meaning.as_ref().and_then(|m| m.store.clone()).map(|json| (model_key(settings), json));
    // Assignment and grouping are CPU work: off the async threads, with the inputs moved in
    // and handed back rather than copied.
    let placed_parts = tokio::task::spawn_blocking(move || {
        let parts =
            meaning.as_ref().map(|m| ByMeaning { vectors: &m.vectors, known: &m.known, model: &m.model });
        let placed = plan(&questions, &first, &snapshot, parts);
        // Every question already stored (or provisional): maybe nothing to write.
        let known = questions
            .iter()
            .zip(&placed.homes)
            .all(|(q, h)| matches!(h, Home::Provisional(_)) || snapshot.contains_key(&q.key));
        (questions, first, placed, known)
    })
    .await
    .context("placing the questions")?;
    let (questions, first, placed, known) = placed_parts;
    let titles = names::name(settings, &questions, &placed.new_topics).await;
    let stored = if known && model_row.is_none() { settled(wh, &placed, &first).await? } else { None };
    let stored = match stored {
        Some(done) => Ok(done),
        None => stored_plan(wh, &questions, &first, &placed, &titles, model_row).await,
    };
    let (ids, created, stored, unstored, placed) = match stored {
        Ok((ids, created, stored)) => (ids, created, stored, None, placed),
        // A warehouse this user cannot write, or one another process holds: the topics of
        // this run are shown, not stored (docs/topics.md, "Stored topics").
        Err(e) if crate::error::is_read_only(&e) || crate::warehouse::is_busy(&e) => {
            let why = crate::error::one_line(&e);
            warn!(error = %why, "The new topics cannot be stored now; their ids are provisional.");
            let placed = placed.unstored();
            let ids = placed
                .homes
                .iter()
                .map(|h| match *h {
                    Home::Stored(t) => t,
                    Home::New(k) | Home::Provisional(k) => provisional_id(k),
                })
                .collect();
            (ids, 0, wh.all_topics().await?, Some(why), placed)
        }
        Err(e) => return Err(e),
    };
    let mut infos: HashMap<i64, TopicInfo> = stored
        .into_iter()
        .map(|t| (t.topic_id, TopicInfo { title: t.title, first_seen: t.first_seen }))
        .collect();
    for (k, topic) in placed.provisional.iter().enumerate() {
        let info = TopicInfo { title: topic.title.clone(), first_seen: topic.first_seen };
        infos.insert(provisional_id(k), info);
    }
    let by_meaning = settings.gaps.embeddings_url.is_some() && placed.provisional.is_empty();
    Ok(Topics {
        topics: counted(&messages, &questions, &ids, &infos, period),
        created,
        grouped_by: if by_meaning { "meaning" } else { "wording" },
        // A failure that left no question without a home was logged; the report need not say.
        warning: warning.filter(|_| !placed.provisional.is_empty()),
        of_question: questions.iter().map(|q| q.key.clone()).zip(ids).collect(),
        unstored,
    })
}

/// When every question is stored and no topic's first message moves back, the topics as they
/// are, read without the write lock: a report running beside an ingest does not wait for it.
async fn settled(
    wh: &Warehouse,
    placed: &Plan,
    first: &[NaiveDateTime],
) -> anyhow::Result<Option<(Vec<i64>, usize, Vec<TopicRow>)>> {
    let stored = wh.all_topics().await?;
    let seen: HashMap<i64, NaiveDateTime> = stored.iter().map(|t| (t.topic_id, t.first_seen)).collect();
    let mut ids = Vec::with_capacity(placed.homes.len());
    for (home, at) in placed.homes.iter().zip(first) {
        match *home {
            Home::Stored(t) if seen.get(&t).is_some_and(|s| s <= at) => ids.push(t),
            Home::Provisional(k) => ids.push(provisional_id(k)),
            _ => return Ok(None),
        }
    }
    Ok(Some((ids, 0, stored)))
}

/// Stores the plan in one write transaction; each question's topic id, how many topics were
/// made, and every stored topic.
async fn stored_plan(
    wh: &Warehouse,
    questions: &[Distinct],
    first: &[NaiveDateTime],
    placed: &Plan,
    titles: &[Option<String>],
    model_row: Option<(String, String)>,
) -> anyhow::Result<(Vec<i64>, usize, Vec<TopicRow>)> {
    let mut tx = wh.begin().await?;
    let (ids, created) = store(&mut tx, questions, first, placed, titles, model_row).await?;
    let stored = tx.all_topics().await?;
    tx.commit().await?;
    Ok((ids, created, stored))
}

/// Each topic's numbers: every message in its question's topic.
fn counted(
    messages: &[TopicMessage],
    questions: &[Distinct],
    ids: &[i64],
    infos: &HashMap<i64, TopicInfo>,
    period: &Period,
) -> Vec<TopicKpis> {
    let mut topic_of = vec![0i64; messages.len()];
    for (q, id) in questions.iter().zip(ids) {
        q.members.iter().for_each(|&i| topic_of[i] = *id);
    }
    let start = period.start.and_hms_opt(0, 0, 0).unwrap_or_default();
    numbers(messages, &topic_of, infos, start)
}

/// The id of the k-th provisional topic: negative, never a stored id (docs/topics.md).
pub fn provisional_id(k: usize) -> i64 {
    -(k as i64) - 1
}

/// The `meta` key of the stored model of the configured embeddings model.
fn model_key(settings: &Settings) -> String {
    format!("topics_model:{}", settings.gaps.embeddings_model)
}

/// The included messages of the period and of the previous one, with effective verdicts.
async fn load(wh: &Warehouse, period: &Period) -> anyhow::Result<Vec<TopicMessage>> {
    let previous = period.previous();
    Ok(wh
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
        .collect())
}

/// Each distinct question's earliest message.
fn firsts(questions: &[Distinct], messages: &[TopicMessage]) -> Vec<NaiveDateTime> {
    questions
        .iter()
        .map(|q| q.members.iter().map(|&i| messages[i].local_time).min().unwrap_or_default())
        .collect()
}

/// The stored memberships as they are now (read again in the write transaction).
async fn memberships(wh: &Warehouse) -> anyhow::Result<HashMap<String, i64>> {
    wh.topic_memberships().await
}

/// The vectors (questions without a topic asked for first, so a service failing half-way
/// leaves the fewest of them without one), the stored topics' centroids and the model; and the
/// service's warning.
async fn meaning(
    wh: &Warehouse,
    settings: &Settings,
    questions: &[Distinct],
    first: &[NaiveDateTime],
    stored: &HashMap<String, i64>,
) -> anyhow::Result<(Meaning, Option<String>)> {
    let wording = place(questions, first, stored);
    let mut order: Vec<usize> = (0..questions.len()).collect();
    order.sort_by_key(|&i| wording.topics[i].is_ok());
    let asked: Vec<(String, String)> =
        order.iter().map(|&i| (questions[i].key.clone(), questions[i].text.clone())).collect();
    let fetched = vectors::fetch(wh, settings, &asked).await?;
    let mut vectors = vec![None; questions.len()];
    for (&i, v) in order.iter().zip(fetched.vectors) {
        vectors[i] = v;
    }
    let fresh: Vec<Vec<f32>> = (0..questions.len())
        .filter(|&i| wording.topics[i].is_err())
        .filter_map(|i| vectors[i].clone())
        .collect();
    if fresh.is_empty() {
        // Nothing to place by meaning: no model, no centroids needed.
        let model = Model { mean: Vec::new(), threshold: 1.0 };
        return Ok((Meaning { vectors, known: Known::default(), model, store: None }, fetched.warning));
    }
    let (model, store) = match stored_model(wh, settings).await? {
        Some(model) => (model, None),
        None => measured(wh, settings, stored, fresh).await?,
    };
    let known = known(wh, settings, stored, &model).await?;
    Ok((Meaning { vectors, known, model, store }, fetched.warning))
}

/// The stored topics that have cached vectors and their centroids: per topic the mean of its
/// questions' vectors centred with `model` (as `crate::topics::centroids`), read a block of
/// questions at a time so that memory holds topics × dimensions, not the history's vectors.
async fn known(
    wh: &Warehouse,
    settings: &Settings,
    stored: &HashMap<String, i64>,
    model: &Model,
) -> anyhow::Result<Known> {
    let mut keys: Vec<&String> = stored.keys().collect();
    keys.sort();
    let mut sums: BTreeMap<i64, (Vec<f32>, usize)> = BTreeMap::new();
    for block in keys.chunks(BLOCK) {
        let block: Vec<String> = block.iter().map(|k| (*k).clone()).collect();
        for (key, v) in vectors::cached(wh, settings, &block).await? {
            let Some(unit) = centred(&v, &model.mean) else { continue };
            let (sum, n) = sums.entry(stored[&key]).or_insert_with(|| (vec![0.0; unit.len()], 0));
            sum.iter_mut().zip(&unit).for_each(|(s, x)| *s += x);
            *n += 1;
        }
    }
    let (ids, centroids) = sums
        .into_iter()
        .map(|(id, (mut sum, n))| {
            sum.iter_mut().for_each(|x| *x /= n as f32);
            (id, sum)
        })
        .unzip();
    Ok(Known { ids, centroids })
}

/// The model stored for the configured embeddings model; a value that does not read is
/// measured again for the run (and left as it is).
async fn stored_model(wh: &Warehouse, settings: &Settings) -> anyhow::Result<Option<Model>> {
    let Some(json) = wh.meta(&model_key(settings)).await? else { return Ok(None) };
    match serde_json::from_str(&json) {
        Ok(model) => Ok(Some(model)),
        Err(e) => {
            warn!(error = %e, "The stored topics model does not read; measuring one for this run.");
            Ok(None)
        }
    }
}

/// The model measured (`group`) on the new questions' vectors and up to [`SAMPLE`] stored
/// questions' (the first by key: the same every time), with its JSON when it was measured on
/// enough questions to be stored.
async fn measured(
    wh: &Warehouse,
    settings: &Settings,
    stored: &HashMap<String, i64>,
    fresh: Vec<Vec<f32>>,
) -> anyhow::Result<(Model, Option<String>)> {
    let mut keys: Vec<String> = stored.keys().cloned().collect();
    keys.sort();
    let room = SAMPLE.saturating_sub(fresh.len());
    let mut sample: Vec<Vec<f32>> = Vec::new();
    for block in keys.chunks(BLOCK) {
        if sample.len() >= room {
            break;
        }
        let cached = vectors::cached(wh, settings, block).await?;
        sample.extend(block.iter().filter_map(|k| cached.get(k).cloned()).take(room - sample.len()));
    }
    sample.extend(fresh);
    let n = sample.len();
    let model = tokio::task::spawn_blocking(move || group_owned(sample).model)
        .await
        .context("measuring the topics model")?;
    let json = (n >= MODEL_MIN).then(|| serde_json::to_string(&model)).transpose()?;
    Ok((model, json))
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

/// Stores the plan: the new topics (titled by the chat model where it named them), the
/// memberships of every question placed by this run but the provisional ones, the model
/// when it is to be stored. Gives each question its topic id and how many topics were made.
async fn store(
    tx: &mut Tx,
    questions: &[Distinct],
    first: &[NaiveDateTime],
    plan: &Plan,
    titles: &[Option<String>],
    model: Option<(String, String)>,
) -> anyhow::Result<(Vec<i64>, usize)> {
    let stored = tx.topic_memberships().await?;
    // A question another report placed since the plan was made keeps that placement.
    let homes: Vec<Home> = questions
        .iter()
        .zip(&plan.homes)
        .map(|(q, &h)| stored.get(&q.key).map_or(h, |&t| Home::Stored(t)))
        .collect();
    let now = chrono::Utc::now().naive_utc();
    let mut new_ids: Vec<Option<i64>> = vec![None; plan.new_topics.len()];
    for (k, topic) in plan.new_topics.iter().enumerate() {
        if !homes.contains(&Home::New(k)) {
            continue;
        }
        let (title, source) = match titles.get(k).cloned().flatten() {
            Some(name) => (name, "chat"),
            None => (topic.title.clone(), "question"),
        };
        new_ids[k] = Some(tx.create_topic(&title, source, topic.first_seen, now).await?);
    }
    let ids: Vec<i64> = homes
        .iter()
        .map(|h| match *h {
            Home::Stored(t) => t,
            Home::New(k) => new_ids[k].unwrap_or_default(),
            Home::Provisional(k) => provisional_id(k),
        })
        .collect();
    let mut rows = Vec::new();
    let mut earliest: HashMap<i64, NaiveDateTime> = HashMap::new();
    for (i, q) in questions.iter().enumerate() {
        if matches!(homes[i], Home::Provisional(_)) {
            continue;
        }
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
    if let Some((key, json)) = model {
        tx.set_meta_once(&key, &json).await?;
    }
    Ok((ids, new_ids.iter().flatten().count()))
}
