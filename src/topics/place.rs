//! Where each distinct question of a period goes (docs/topics.md, "Placement"): pure rules
//! over the stored memberships, the wording keys and, when the embeddings service is
//! configured, the questions' vectors.
//!
//! A stored question keeps its topic; a wording near-duplicate of a stored question joins
//! its topic (`transform::topics::place`). Without a service, the rest form new topics by
//! wording, as knowledge gaps did. With one, the rest that have a vector join the stored
//! topic whose centroid they are closest to above the stored model's line, or form new topics
//! by meaning ([`crate::topics::extend`]); the rest without a vector (the service failed)
//! are grouped by wording among themselves into **provisional** topics, which this run shows
//! and nothing stores, so the next run with the service up places them by meaning.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::topics::{Model, extend};
use crate::transform::gaps::Distinct;
use crate::transform::topics::{NewTopic, new_topics, place};

/// Where one distinct question goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// A stored topic (its id).
    Stored(i64),
    /// The k-th new topic, stored by this run.
    New(usize),
    /// The k-th provisional topic: shown by this run, not stored.
    Provisional(usize),
}

/// The stored topics that have vectors, as meaning needs them.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Topic ids, in the order of `centroids`.
    pub ids: Vec<i64>,
    /// Each topic's centroid (`crate::topics::centroids`, centred with the model).
    pub centroids: Vec<Vec<f32>>,
}

/// What placing by meaning reads.
#[derive(Debug, Clone, Copy)]
pub struct ByMeaning<'a> {
    /// Per distinct question, its vector when one could be had.
    pub vectors: &'a [Option<Vec<f32>>],
    pub known: &'a Known,
    pub model: &'a Model,
}

/// Where every distinct question goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub homes: Vec<Home>,
    /// Stored by this run; largest first (messages), then by title.
    pub new_topics: Vec<NewTopic>,
    /// Not stored; largest first, then by title.
    pub provisional: Vec<NewTopic>,
}

impl Plan {
    /// The plan with its new topics made provisional (after the ones it had), for a run that
    /// cannot store them.
    pub fn unstored(self) -> Plan {
        let offset = self.provisional.len();
        let homes = self
            .homes
            .into_iter()
            .map(|h| match h {
                Home::New(k) => Home::Provisional(offset + k),
                other => other,
            })
            .collect();
        let mut provisional = self.provisional;
        provisional.extend(self.new_topics);
        Plan { homes, new_topics: Vec::new(), provisional }
    }
}

/// The plan of `questions` (first message of each at `first[i]`) given the stored
/// memberships; `meaning` is `None` without an embeddings service.
pub fn plan(
    questions: &[Distinct],
    first: &[NaiveDateTime],
    stored: &HashMap<String, i64>,
    meaning: Option<ByMeaning>,
) -> Plan {
    let wording = place(questions, first, stored);
    let Some(ByMeaning { vectors, known, model }) = meaning else {
        let homes = wording.topics.iter().map(|t| t.map_or_else(Home::New, Home::Stored)).collect();
        return Plan { homes, new_topics: wording.new_topics, provisional: Vec::new() };
    };
    let mut homes: Vec<Home> =
        wording.topics.iter().map(|t| t.map_or(Home::New(usize::MAX), Home::Stored)).collect();
    let fresh: Vec<usize> = (0..questions.len()).filter(|&i| homes[i] == Home::New(usize::MAX)).collect();
    let (with, without): (Vec<usize>, Vec<usize>) = fresh.into_iter().partition(|&i| vectors[i].is_some());
    let dense: Vec<Vec<f32>> = with.iter().filter_map(|&i| vectors[i].clone()).collect();
    let extension = extend(&known.centroids, model, &dense);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); extension.new_topics];
    for (&i, topic) in with.iter().zip(&extension.topics) {
        match *topic {
            Ok(t) => homes[i] = Home::Stored(known.ids[t]),
            Err(k) => groups[k].push(i),
        }
    }
    let new = new_topics(questions, first, groups.into_iter().filter(|g| !g.is_empty()).collect());
    for (k, topic) in new.iter().enumerate() {
        topic.members.iter().for_each(|&i| homes[i] = Home::New(k));
    }
    let provisional = by_wording(questions, first, &without);
    for (k, topic) in provisional.iter().enumerate() {
        topic.members.iter().for_each(|&i| homes[i] = Home::Provisional(k));
    }
    Plan { homes, new_topics: new, provisional }
}

/// The questions `subset` grouped by wording among themselves; members are indices into
/// `questions`.
fn by_wording(questions: &[Distinct], first: &[NaiveDateTime], subset: &[usize]) -> Vec<NewTopic> {
    let picked: Vec<Distinct> = subset.iter().map(|&i| questions[i].clone()).collect();
    let firsts: Vec<NaiveDateTime> = subset.iter().map(|&i| first[i]).collect();
    let mut topics = place(&picked, &firsts, &HashMap::new()).new_topics;
    for topic in &mut topics {
        topic.members.iter_mut().for_each(|j| *j = subset[*j]);
    }
    topics
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The transform's test questions, each first asked at 09:00.
    fn questions(texts: &[&str]) -> (Vec<Distinct>, Vec<NaiveDateTime>) {
        let d = crate::transform::topics::tests::questions(texts);
        let at = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let first = vec![at; d.len()];
        (d, first)
    }

    #[test]
    fn stored_then_wording_then_centroids_then_new_then_provisional() {
        let (qs, first) = questions(&[
            "打印机卡纸了",
            "打印机卡纸了吗",
            "远程办公",
            "VPN断开",
            "报销",
            "新问题甲",
            "新问题甲吗",
        ]);
        let stored: HashMap<String, i64> = [("打印机卡纸了".to_string(), 7)].into();
        let model = Model { mean: vec![0.0, 0.0, 0.0], threshold: 0.5 };
        let known = Known { ids: vec![3], centroids: vec![vec![1.0, 0.0, 0.0]] };
        let vectors = vec![
            None,
            None,
            Some(vec![1.0, 0.1, 0.0]),
            Some(vec![0.9, 0.0, 0.1]),
            Some(vec![0.0, 0.0, 1.0]),
            None,
            None,
        ];
        let plan =
            plan(&qs, &first, &stored, Some(ByMeaning { vectors: &vectors, known: &known, model: &model }));
        assert_eq!(plan.homes[0], Home::Stored(7), "stored");
        assert_eq!(plan.homes[1], Home::Stored(7), "a near-duplicate of a stored question, without a vector");
        assert_eq!((plan.homes[2], plan.homes[3]), (Home::Stored(3), Home::Stored(3)), "by centroid");
        assert_eq!(plan.homes[4], Home::New(0));
        assert_eq!((plan.homes[5], plan.homes[6]), (Home::Provisional(0), Home::Provisional(0)));
        assert_eq!(plan.new_topics.len(), 1);
        assert_eq!(plan.provisional.len(), 1);
        let without = super::plan(&qs, &first, &stored, None);
        assert!(without.homes.iter().all(|h| !matches!(h, Home::Provisional(_))), "{without:?}");
    }
}
