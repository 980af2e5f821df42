//! A later period's questions joining the topics that exist (docs/topics.md, "Assignment").

use rayon::prelude::*;

use crate::gaps::cluster::dot;
use crate::topics::group::{Model, centred, group_in};

/// For each new vector (centred on the topics' model and normalised, see
/// [`crate::topics::group::centred`]), the topic whose centroid it is most similar to, when
/// that similarity — its mean similarity to the topic's members — is at least `threshold`.
/// Costs new × topics dot products; history is never grouped again.
pub fn assign(topic_centroids: &[Vec<f32>], new_vectors: &[Vec<f32>], threshold: f32) -> Vec<Option<usize>> {
    new_vectors
        .par_iter()
        .map(|v| {
            topic_centroids
                .iter()
                .enumerate()
                .filter(|(_, c)| c.len() == v.len())
                .map(|(t, c)| (t, dot(v, c)))
                .filter(|&(_, sim)| sim >= threshold)
                .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
                .map(|(t, _)| t)
        })
        .collect()
}

/// Where a later period's questions go.
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    /// Per new question: `Ok(topic)` an existing topic, `Err(k)` the k-th new topic.
    pub topics: Vec<Result<usize, usize>>,
    /// How many new topics.
    pub new_topics: usize,
}

/// Joins each new question to an existing topic ([`assign`] at the model's line); those that
/// join none are grouped among themselves ([`group_in`], same centring and line) into new
/// topics, numbered largest first. A vector that cannot be centred is a new topic of its own.
pub fn extend(topic_centroids: &[Vec<f32>], model: &Model, new_vectors: &[Vec<f32>]) -> Extension {
    let units: Vec<Option<Vec<f32>>> = new_vectors.iter().map(|v| centred(v, &model.mean)).collect();
    let present: Vec<usize> = (0..units.len()).filter(|&i| units[i].is_some()).collect();
    let vectors: Vec<Vec<f32>> = present.iter().filter_map(|&i| units[i].clone()).collect();
    let joined = assign(topic_centroids, &vectors, model.threshold);
    let mut topics: Vec<Option<Result<usize, usize>>> = vec![None; new_vectors.len()];
    for (&i, j) in present.iter().zip(&joined) {
        topics[i] = j.map(Ok);
    }
    let left: Vec<usize> = (0..new_vectors.len()).filter(|&i| topics[i].is_none()).collect();
    let leftover: Vec<Vec<f32>> = left.iter().map(|&i| new_vectors[i].clone()).collect();
    let grouped = group_in(&leftover, model);
    for (&i, &label) in left.iter().zip(&grouped.labels) {
        topics[i] = Some(Err(label));
    }
    let new_topics = grouped.labels.iter().max().map_or(0, |m| m + 1);
    Extension { topics: topics.into_iter().map(|t| t.unwrap_or(Err(0))).collect(), new_topics }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::gaps::cluster::adjusted_rand_index;
    use crate::topics::group::tests::{FAMILIES, World};
    use crate::topics::group::{centroids, group};

    /// The topic most of `intent`'s questions are in.
    fn home<T: Copy + Eq + std::hash::Hash>(labels: &[usize], topics: &[T], intent: usize) -> T {
        let mut votes: HashMap<T, usize> = HashMap::new();
        for (l, t) in labels.iter().zip(topics) {
            if *l == intent {
                *votes.entry(*t).or_default() += 1;
            }
        }
        votes.into_iter().max_by_key(|&(_, n)| n).unwrap().0
    }

    /// Week 1 grouped; week 2 asks most of week 1's intents again in new words, plus new
    /// intents: siblings in week 1's families (the hard case: they must not join their
    /// sibling's topic) and intents of new families.
    #[test]
    fn a_second_week_joins_the_first_weeks_topics() {
        let mut world = World::new(FAMILIES, 21);
        let week1 = world.sample();
        let first = group(&week1.0);
        let centres = centroids(&week1.0, &first.labels, &first.model);
        let known = world.intents.len();
        let mut fresh: Vec<usize> = (0..4).map(|f| world.add_intent(f)).collect();
        world.add_family(3);
        fresh.extend(known + 4..world.intents.len());
        let recurring: Vec<usize> = (0..known).filter(|i| i % 5 != 0).collect();
        let mut week2 = (Vec::new(), Vec::new());
        for (k, &intent) in recurring.iter().chain(&fresh).enumerate() {
            world.ask(intent, 1 + k % 4, &mut week2);
        }
        let second = extend(&centres, &first.model, &week2.0);
        let kept = recurring
            .iter()
            .filter(|&&i| home(&week2.1, &second.topics, i) == Ok(home(&week1.1, &first.labels, i)))
            .count();
        let share = kept as f64 / recurring.len() as f64;
        let fresh_apart = fresh.iter().filter(|&&i| home(&week2.1, &second.topics, i).is_err()).count();
        let new_only: Vec<(usize, usize)> =
            (0..week2.1.len()).filter_map(|q| second.topics[q].err().map(|t| (week2.1[q], t))).collect();
        let (truth, got): (Vec<usize>, Vec<usize>) = new_only.into_iter().unzip();
        let ari = adjusted_rand_index(&truth, &got);
        println!(
            "week 2: {kept}/{} recurring intents in their week-1 topic ({:.0} %), {fresh_apart}/{} new intents in new topics ({} new topics, ARI {ari:.3})",
            recurring.len(),
            share * 100.0,
            fresh.len(),
            second.new_topics
        );
        assert!(share >= 0.9, "{share}");
        assert_eq!(fresh_apart, fresh.len());
        assert!(ari >= 0.85, "the new intents' grouping: ARI {ari}");
    }

    #[test]
    fn assignment_takes_the_most_similar_topic_over_the_line() {
        let centres = vec![vec![1.0, 0.0], vec![0.6, 0.8], vec![1.0]];
        let new = vec![vec![0.9, 0.1], vec![0.0, 1.0], vec![-1.0, 0.0], vec![1.0]];
        assert_eq!(assign(&centres, &new, 0.5), [Some(0), Some(1), None, Some(2)]);
        assert!(assign(&[], &new, 0.5).iter().all(Option::is_none));
    }
}
