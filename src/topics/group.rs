//! Grouping question vectors into topics, keeping sibling intents apart (docs/topics.md).
//!
//! Steps 1–4 are those of knowledge gaps (`gaps::cluster`, docs/gaps.md): centre on the
//! corpus mean, project large corpora, find each question's nearest neighbours, measure the
//! corpus's noise line. What differs is how the neighbour graph becomes groups. Connected
//! components (single link) chain: 「VPN连不上」 and 「VPN很慢」 are siblings whose vectors sit
//! closer than the loosest paraphrases of either, so one close pair of siblings merges the
//! whole family. Here groups are merged **by average linkage** instead, most similar pair
//! first, from a heap of candidate pairs taken from the neighbour graph: the similarity of two
//! groups is the mean similarity of their members, `dot(sum_A, sum_B) / (|A|·|B|)` for unit
//! vectors, so it costs one dot product of the groups' sums. Merging stops at [`Model::threshold`],
//! which is relative to the corpus twice over: above its noise line, and at [`RHO`] times its
//! paraphrase scale (the median similarity of a question to its nearest neighbour). A
//! family's siblings are on average far less alike than an intent's paraphrases, even where a
//! few of their pairs are not.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::gaps::cluster::{
    Space, dot, largest_first, mean_of, normalise, prepare_around, threshold, usable,
};
use crate::topics::neighbours::nearest;
use crate::transform::gaps::{find, union};

/// Neighbours per question: the candidate pairs of the first merges.
pub const K: usize = 10;
/// The merge line as a share of the corpus's paraphrase scale (measured, docs/topics.md).
pub const RHO: f32 = 0.62;

/// What a grouping measured on its corpus, kept so that a later period's questions are
/// centred alike and joined or grouped at the same line. Stored as JSON (docs/topics.md,
/// "The stored model").
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Model {
    /// The corpus's mean direction (normalised vectors), subtracted from every vector.
    pub mean: Vec<f32>,
    /// The lowest mean similarity (centred cosines) at which two groups merge.
    pub threshold: f32,
}

/// Topics of a set of vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// One topic per input, numbered largest first (ties: smallest member index first).
    pub labels: Vec<usize>,
    pub model: Model,
}

/// How the similarity of two groups is measured; [`group`] uses `Average`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Linkage {
    /// Connected components of the pairs above the line (knowledge gaps' method).
    Single,
    /// The mean similarity of their members.
    Average,
    /// The least similarity of their members.
    Complete,
}

/// Groups `vectors` (one per distinct question) into topics. A vector of another length than
/// most, with a value that is not a number, or of zero length is a topic of its own.
pub fn group(vectors: &[Vec<f32>]) -> Grouping {
    group_by(vectors, Linkage::Average, RHO)
}

/// Groups `vectors` centred on `model`'s mean at its line: a later period's questions that
/// joined no topic. Vectors of another length than the model's are topics of their own.
pub fn group_in(vectors: &[Vec<f32>], model: &Model) -> Grouping {
    let valid = usable(vectors);
    let rows: Vec<usize> =
        (0..vectors.len()).filter(|&i| valid[i] && vectors[i].len() == model.mean.len()).collect();
    let space = prepare_around(vectors, &rows, &model.mean);
    let neighbours = nearest(&space, K.min(rows.len().saturating_sub(1)));
    let labels = labels(vectors.len(), &rows, space, neighbours, model.threshold, Linkage::Average);
    Grouping { labels, model: model.clone() }
}

/// [`group`] of vectors handed over: they are freed once centred (and projected), so a large
/// corpus is never held twice while its neighbours are sought and its groups merged
/// (docs/topics.md, "Scale").
pub fn group_owned(vectors: Vec<Vec<f32>>) -> Grouping {
    let (n, rows, mean, space) = centre(&vectors);
    drop(vectors);
    merge_groups(n, &rows, mean, space, Linkage::Average, RHO)
}

/// [`group`] with another linkage and line (`rho` 0: the noise line alone): the candidates
/// the tests measure side by side.
pub(crate) fn group_by(vectors: &[Vec<f32>], linkage: Linkage, rho: f32) -> Grouping {
    let (n, rows, mean, space) = centre(vectors);
    merge_groups(n, &rows, mean, space, linkage, rho)
}

/// The usable rows, their mean and the centred (and, when large, projected) space.
fn centre(vectors: &[Vec<f32>]) -> (usize, Vec<usize>, Vec<f32>, Space) {
    let valid = usable(vectors);
    let rows: Vec<usize> = (0..vectors.len()).filter(|&i| valid[i]).collect();
    let mean = mean_of(vectors, &rows);
    let space = prepare_around(vectors, &rows, &mean);
    (vectors.len(), rows, mean, space)
}

/// The neighbours, the line and the merges of a centred space of `n` inputs.
fn merge_groups(
    n: usize,
    rows: &[usize],
    mean: Vec<f32>,
    space: Space,
    linkage: Linkage,
    rho: f32,
) -> Grouping {
    let neighbours = nearest(&space, K.min(rows.len().saturating_sub(1)));
    let line = if rows.len() > 1 { threshold(&space).max(rho * scale(&neighbours)) } else { 1.0 };
    let labels = labels(n, rows, space, neighbours, line, linkage);
    Grouping { labels, model: Model { mean, threshold: line } }
}

/// The corpus's paraphrase scale: the median similarity of a question to its nearest.
fn scale(neighbours: &[Vec<(usize, f32)>]) -> f32 {
    let mut first: Vec<f32> = neighbours.iter().filter_map(|l| l.first().map(|&(_, s)| s)).collect();
    if first.is_empty() {
        return 0.0;
    }
    let mid = first.len() / 2;
    *first.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Labels of all `n` inputs: `rows` grouped, every other input alone.
fn labels(
    n: usize,
    rows: &[usize],
    space: Space,
    neighbours: Vec<Vec<(usize, f32)>>,
    line: f32,
    linkage: Linkage,
) -> Vec<usize> {
    let grouped = match linkage {
        Linkage::Single => single(&neighbours, line),
        _ => Merges::new(space, linkage, line, neighbours).run(),
    };
    let mut parent: Vec<usize> = (0..n).collect();
    for (r, &root) in grouped.iter().enumerate() {
        union(&mut parent, rows[r], rows[root]);
    }
    largest_first(&mut parent)
}

/// Connected components of the neighbour pairs at or above `line`: each row's root.
fn single(neighbours: &[Vec<(usize, f32)>], line: f32) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..neighbours.len()).collect();
    for (a, list) in neighbours.iter().enumerate() {
        for &(b, _) in list.iter().filter(|(_, s)| *s >= line) {
            union(&mut parent, a, b);
        }
    }
    (0..parent.len()).map(|i| find(&mut parent, i)).collect()
}

/// A pair of groups that may merge, as it was when measured.
#[derive(Debug, PartialEq)]
struct Candidate {
    sim: f32,
    a: usize,
    b: usize,
    stamps: (u32, u32),
}

impl Eq for Candidate {}

impl Ord for Candidate {
    /// Most similar first; ties by the smaller indices, so the result never depends on order.
    fn cmp(&self, other: &Self) -> Ordering {
        self.sim.total_cmp(&other.sim).then((other.a, other.b).cmp(&(self.a, self.b)))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Agglomerative merging over the neighbour graph. A group is named by one of its rows (its
/// root); under average linkage the root's row of `space` holds the sum of the group's unit
/// vectors (the other rows are no longer read), so no second n × dims matrix is held.
struct Merges {
    space: Space,
    linkage: Linkage,
    line: f32,
    parent: Vec<usize>,
    members: Vec<Vec<usize>>,
    adjacent: Vec<Vec<usize>>,
    stamp: Vec<u32>,
    heap: BinaryHeap<Candidate>,
}

impl Merges {
    /// Takes the neighbour lists, so they are freed before the merges start.
    fn new(space: Space, linkage: Linkage, line: f32, neighbours: Vec<Vec<(usize, f32)>>) -> Merges {
        let n = space.n;
        let mut adjacent: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut heap = BinaryHeap::new();
        for (a, list) in neighbours.into_iter().enumerate() {
            for (b, sim) in list.into_iter().filter(|(_, s)| *s >= line) {
                adjacent[a].push(b);
                adjacent[b].push(a);
                heap.push(Candidate { sim, a: a.min(b), b: a.max(b), stamps: (0, 0) });
            }
        }
        for list in &mut adjacent {
            list.sort_unstable();
            list.dedup();
        }
        let members = (0..n).map(|i| vec![i]).collect();
        Merges { space, linkage, line, parent: (0..n).collect(), members, adjacent, stamp: vec![0; n], heap }
    }

    /// Merges the most similar pair of groups until none is at the line; each row's root.
    fn run(mut self) -> Vec<usize> {
        while let Some(c) = self.heap.pop() {
            let live = self.parent[c.a] == c.a && self.parent[c.b] == c.b;
            if live && (self.stamp[c.a], self.stamp[c.b]) == c.stamps {
                self.merge(c.a, c.b);
            }
        }
        (0..self.parent.len()).map(|i| find(&mut self.parent, i)).collect()
    }

    /// Joins two groups; the one with more neighbours survives, and its pairs with the groups
    /// around either are measured again (those under the line are dropped: under average or
    /// complete linkage a merged group is never more similar to a third than both parts were).
    fn merge(&mut self, a: usize, b: usize) {
        let (keep, gone) = if self.adjacent[a].len() >= self.adjacent[b].len() { (a, b) } else { (b, a) };
        self.parent[gone] = keep;
        let moved = std::mem::take(&mut self.members[gone]);
        self.members[keep].extend(moved);
        if self.linkage == Linkage::Average {
            let dims = self.space.dims;
            let row = self.space.row(gone).to_vec();
            let sum = &mut self.space.data[keep * dims..(keep + 1) * dims];
            sum.iter_mut().zip(&row).for_each(|(s, x)| *s += x);
        }
        self.stamp[keep] += 1;
        self.stamp[gone] += 1;
        let mut around: Vec<usize> = std::mem::take(&mut self.adjacent[keep]);
        around.extend(std::mem::take(&mut self.adjacent[gone]));
        let mut around: Vec<usize> = around.into_iter().map(|c| find(&mut self.parent, c)).collect();
        around.sort_unstable();
        around.dedup();
        around.retain(|&c| c != keep);
        around.retain(|&c| {
            let sim = self.similarity(keep, c);
            if sim >= self.line {
                let stamps = if keep < c {
                    (self.stamp[keep], self.stamp[c])
                } else {
                    (self.stamp[c], self.stamp[keep])
                };
                self.heap.push(Candidate { sim, a: keep.min(c), b: keep.max(c), stamps });
            }
            sim >= self.line
        });
        self.adjacent[keep] = around;
    }

    /// The similarity of the groups rooted at `a` and `b`.
    fn similarity(&self, a: usize, b: usize) -> f32 {
        match self.linkage {
            Linkage::Average => {
                let size = (self.members[a].len() * self.members[b].len()) as f32;
                dot(self.space.row(a), self.space.row(b)) / size
            }
            _ => self.members[a]
                .iter()
                .flat_map(|&i| self.members[b].iter().map(move |&j| (i, j)))
                .map(|(i, j)| dot(self.space.row(i), self.space.row(j)))
                .fold(f32::INFINITY, f32::min),
        }
    }
}

/// The centroid of each topic: the mean of its members' unit vectors centred on `model`'s
/// mean, in the input's dimensions. Its dot product with a centred unit vector is that
/// vector's mean similarity to the topic's members, the quantity average linkage merges on.
pub fn centroids(vectors: &[Vec<f32>], labels: &[usize], model: &Model) -> Vec<Vec<f32>> {
    let dims = model.mean.len();
    let count = labels.iter().max().map_or(0, |m| m + 1);
    let (mut sums, mut sizes) = (vec![vec![0f32; dims]; count], vec![0usize; count]);
    for (v, &l) in vectors.iter().zip(labels) {
        if let Some(unit) = centred(v, &model.mean) {
            sums[l].iter_mut().zip(&unit).for_each(|(s, x)| *s += x);
            sizes[l] += 1;
        }
    }
    for (sum, &size) in sums.iter_mut().zip(&sizes) {
        sum.iter_mut().for_each(|x| *x /= size.max(1) as f32);
    }
    sums
}

/// `v` normalised, centred on `mean` and normalised again; `None` when it cannot be (another
/// length, not finite, zero).
pub fn centred(v: &[f32], mean: &[f32]) -> Option<Vec<f32>> {
    let norm = dot(v, v).sqrt();
    if v.len() != mean.len() || !norm.is_finite() || norm == 0.0 {
        return None;
    }
    let mut out: Vec<f32> = v.iter().zip(mean).map(|(x, m)| x / norm - m).collect();
    normalise(&mut out);
    out.iter().all(|x| x.is_finite()).then_some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::gaps::cluster::{adjusted_rand_index, cluster, length};

    /// The shape of a labelled set.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Shape {
        /// Families, each of `siblings` intents (1..=1: no families).
        pub families: usize,
        pub siblings: (usize, usize),
        /// Intents of 1 to `max` questions.
        pub max: usize,
        pub dims: usize,
        /// The weight of the family's direction (0: no families).
        pub family: f32,
    }

    /// The set with intent families: 3–5 siblings per family, whose centroids sit closer than
    /// the loosest paraphrases of one intent.
    pub(crate) const FAMILIES: Shape =
        Shape { families: 16, siblings: (3, 5), max: 14, dims: 1024, family: 0.6 };
    /// The set without: distinct intents, paraphrases.
    pub(crate) const DISTINCT: Shape =
        Shape { families: 60, siblings: (1, 1), max: 20, dims: 1024, family: 0.0 };

    /// The directions a labelled set is drawn from, with bge-m3's geometry (as
    /// `gaps::cluster::tests::labelled`): a common direction every question leans towards with
    /// varying weight, a direction per family and one per intent; each question adds noise of
    /// varying strength. Intent `i` belongs to family `intents[i].0`.
    pub(crate) struct World {
        pub shape: Shape,
        pub rng: ChaCha8Rng,
        pub common: Vec<f32>,
        pub families: Vec<Vec<f32>>,
        pub intents: Vec<(usize, Vec<f32>)>,
    }

    impl World {
        pub fn new(shape: Shape, seed: u64) -> World {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let common = unit(&mut rng, shape.dims);
            let mut world = World { shape, rng, common, families: Vec::new(), intents: Vec::new() };
            for _ in 0..shape.families {
                let siblings = world.rng.random_range(shape.siblings.0..=shape.siblings.1);
                world.add_family(siblings);
            }
            world
        }

        /// A new family of `siblings` intents.
        pub fn add_family(&mut self, siblings: usize) {
            self.families.push(unit(&mut self.rng, self.shape.dims));
            for _ in 0..siblings {
                self.add_intent(self.families.len() - 1);
            }
        }

        /// A new intent in `family`; its index.
        pub fn add_intent(&mut self, family: usize) -> usize {
            let own = unit(&mut self.rng, self.shape.dims);
            self.intents.push((family, own));
            self.intents.len() - 1
        }

        /// `count` paraphrases of `intent`, appended to `out` with their label.
        pub fn ask(&mut self, intent: usize, count: usize, out: &mut (Vec<Vec<f32>>, Vec<usize>)) {
            for _ in 0..count {
                let (family, own) = &self.intents[intent];
                let weight = self.rng.random_range(0.5..0.85);
                let parts =
                    [(&self.common, weight), (&self.families[*family], self.shape.family), (own, 0.5)];
                out.0.push(question(&mut self.rng, &parts));
                out.1.push(intent);
            }
        }

        /// Every intent asked 1 to `max` times.
        pub fn sample(&mut self) -> (Vec<Vec<f32>>, Vec<usize>) {
            let mut out = (Vec::new(), Vec::new());
            for intent in 0..self.intents.len() {
                self.ask(intent, 1 + (intent * 7 + 3) % self.shape.max, &mut out);
            }
            out
        }
    }

    /// A labelled set of `shape`: vectors and their intents.
    pub(crate) fn labelled(shape: Shape, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        World::new(shape, seed).sample()
    }

    pub(crate) fn unit(rng: &mut ChaCha8Rng, dims: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dims).map(|_| rng.random::<f32>() - 0.5).collect();
        normalise(&mut v);
        v
    }

    /// One question: the weighted directions plus noise of weight 0.3–0.7, normalised.
    pub(crate) fn question(rng: &mut ChaCha8Rng, parts: &[(&Vec<f32>, f32)]) -> Vec<f32> {
        let noise = unit(rng, parts[0].0.len());
        let w = rng.random_range(0.3..0.7);
        let mut v: Vec<f32> = noise.iter().map(|x| x * w).collect();
        for (direction, weight) in parts {
            v.iter_mut().zip(direction.iter()).for_each(|(x, d)| *x += d * weight);
        }
        normalise(&mut v);
        v
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        dot(a, b) / (length(a) * length(b))
    }

    fn mean_vector(vectors: &[Vec<f32>], labels: &[usize], intent: usize) -> Vec<f32> {
        let mut sum = vec![0f32; vectors[0].len()];
        for (v, _) in vectors.iter().zip(labels).filter(|(_, l)| **l == intent) {
            sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
        }
        sum
    }

    #[test]
    fn sibling_intents_sit_closer_than_the_loosest_paraphrases() {
        let (v, l) = labelled(FAMILIES, 1);
        let loosest = (0..v.len())
            .flat_map(|i| (i + 1..v.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| l[i] == l[j])
            .map(|(i, j)| cosine(&v[i], &v[j]))
            .fold(f32::MAX, f32::min);
        let first = |intent| (0..v.len()).find(|&i| l[i] == intent).unwrap();
        // Siblings are consecutive intents of one family: the first two of family 0.
        let (a, b) = (mean_vector(&v, &l, 0), mean_vector(&v, &l, 1));
        let siblings = cosine(&a, &b);
        println!(
            "sibling centroids {siblings:.3}, loosest paraphrases {loosest:.3}, one pair {:.3}",
            cosine(&v[first(0)], &v[first(1)])
        );
        assert!(siblings > loosest, "{siblings} vs {loosest}");
    }

    /// The candidates side by side on both sets: the table of docs/topics.md (slow in a debug
    /// build: `cargo nextest run --run-ignored all -E 'test(candidates_side_by_side)'`).
    #[test]
    #[ignore]
    fn candidates_side_by_side() {
        let candidates: [(&str, Linkage, f32); 5] = [
            ("single, noise line (gaps today)", Linkage::Single, 0.0),
            ("average, noise line", Linkage::Average, 0.0),
            ("average, relative line", Linkage::Average, RHO),
            ("complete, noise line", Linkage::Complete, 0.0),
            ("complete, relative line", Linkage::Complete, RHO),
        ];
        for (name, shape) in [("families", FAMILIES), ("distinct", DISTINCT)] {
            for seed in [1, 2, 3] {
                let (v, truth) = labelled(shape, seed);
                let old = adjusted_rand_index(&truth, &cluster(&v));
                let row: Vec<String> = candidates
                    .iter()
                    .map(|(_, linkage, rho)| {
                        format!("{:.3}", adjusted_rand_index(&truth, &group_by(&v, *linkage, *rho).labels))
                    })
                    .collect();
                println!(
                    "{name} seed {seed} ({} questions): gaps::cluster {old:.3}; {}",
                    v.len(),
                    row.join(" | ")
                );
            }
        }
        for rho in [0.55, 0.6, 0.62, 0.65, 0.7] {
            let ari = |shape, seed| {
                let (v, truth) = labelled(shape, seed);
                adjusted_rand_index(&truth, &group_by(&v, Linkage::Average, rho).labels)
            };
            println!(
                "average rho {rho}: families {:.3} {:.3}, distinct {:.3} {:.3}",
                ari(FAMILIES, 1),
                ari(FAMILIES, 2),
                ari(DISTINCT, 1),
                ari(DISTINCT, 2)
            );
        }
    }

    #[test]
    fn topics_keep_sibling_intents_apart() {
        let (v, truth) = labelled(FAMILIES, 4);
        let (old, new) =
            (adjusted_rand_index(&truth, &cluster(&v)), adjusted_rand_index(&truth, &group(&v).labels));
        println!("with families, {} questions: ARI single link {old:.3}, topics {new:.3}", v.len());
        assert!(new >= 0.85, "ARI {new}");
        assert!(old < 0.6, "the set is the hard case for single link: {old}");
    }

    #[test]
    fn topics_group_distinct_intents() {
        let (v, truth) = labelled(DISTINCT, 4);
        let (old, new) =
            (adjusted_rand_index(&truth, &cluster(&v)), adjusted_rand_index(&truth, &group(&v).labels));
        println!("without families, {} questions: ARI single link {old:.3}, topics {new:.3}", v.len());
        assert!(new >= 0.95, "ARI {new}");
    }

    #[test]
    fn topics_of_odd_inputs() {
        assert!(group(&[]).labels.is_empty());
        assert_eq!(group(&[vec![1.0, 0.0]]).labels, [0]);
        assert_eq!(group(&vec![vec![0.5f32; 8]; 5]).labels.len(), 5);
        let odd = crate::gaps::cluster::tests::odd_vectors();
        let grouping = group(&odd);
        assert_eq!(grouping.labels.len(), 5);
        for bad in [1, 2, 3] {
            assert_eq!(
                grouping.labels.iter().filter(|&&l| l == grouping.labels[bad]).count(),
                1,
                "{bad} alone"
            );
        }
        assert_eq!(centroids(&odd, &grouping.labels, &grouping.model).len(), 5);
        assert_eq!(centred(&[1.0, 2.0], &grouping.model.mean), None);
    }

    #[test]
    fn topics_are_numbered_largest_first_and_repeatable() {
        let (v, _) = labelled(Shape { families: 4, siblings: (2, 3), max: 8, dims: 64, family: 0.6 }, 5);
        let labels = group(&v).labels;
        let sizes: Vec<usize> =
            (0..=*labels.iter().max().unwrap()).map(|g| labels.iter().filter(|&&l| l == g).count()).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert_eq!(group(&v).labels, labels);
    }

    /// The neighbour search above the exact range (inverted file) finds the same topics.
    #[test]
    fn topics_above_the_exact_search() {
        let shape = Shape { families: 450, siblings: (3, 4), max: 6, dims: 64, family: 0.6 };
        let (v, truth) = labelled(shape, 6);
        assert!(v.len() > crate::topics::neighbours::EXACT_UP_TO, "{}", v.len());
        let started = std::time::Instant::now();
        let ari = adjusted_rand_index(&truth, &group(&v).labels);
        println!("{} questions of 64 dims: ARI {ari:.3} in {:.1?}", v.len(), started.elapsed());
        assert!(ari >= 0.85, "ARI {ari}");
    }

    /// The benchmark's scale (docs/topics.md): `ITSTAT_TOPICS_BENCH_N` questions (default
    /// 100,000) of 1,024 dimensions with intent families. Run in release:
    /// The process's peak resident memory (Linux), in MiB.
    fn peak_mib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: 0 kB");
        line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).unwrap_or(0) / 1024
    }

    /// `cargo test --release --lib topics_scale_100k -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn topics_scale_100k() {
        let n: usize =
            std::env::var("ITSTAT_TOPICS_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
        // Families of 3–5 intents of 1–14 questions: about 30 questions a family.
        let shape = Shape { families: n / 30, siblings: (3, 5), max: 14, dims: 1024, family: 0.6 };
        let (v, truth) = labelled(shape, 7);
        let questions = v.len();
        // The input alone: what the grouping adds is the rest of the process's peak.
        println!("topics bench: input held, peak so far {} MiB", peak_mib());
        let started = std::time::Instant::now();
        let grouping = group_owned(v);
        let secs = started.elapsed().as_secs_f64();
        let topics = grouping.labels.iter().max().map_or(0, |m| m + 1);
        let ari = adjusted_rand_index(&truth, &grouping.labels);
        println!(
            "topics bench: {questions} questions, 1024 dims: {secs:.1} s, {topics} topics, ARI {ari:.3}"
        );
    }
}
