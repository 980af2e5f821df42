//! Grouping question vectors by meaning, single link (docs/gaps.md, "How questions are
//! grouped"): steps 1–4 are shared with topics (`crate::topics::group`, which replaces step 5
//! by average linkage); [`cluster`] itself is the baseline the topics' tests measure against.
//!
//! Sentence models such as bge-m3 are anisotropic: every vector leans towards one common
//! direction, so unrelated Chinese questions sit at cosine 0.3–0.45 and paraphrases at
//! 0.5–0.9, and the two ranges overlap. One fixed cosine threshold therefore either chains
//! unrelated questions or splits paraphrases. The method here is relative to the corpus:
//!
//! 1. **Centre**: subtract the corpus mean and re-normalise. What every question shares is
//!    gone; unrelated questions fall to about 0, paraphrases keep most of their similarity.
//! 2. **Project** (large corpora only, more than [`PROJECT_ABOVE`] questions of more than
//!    [`PROJECTED_DIMS`] dimensions): a seeded random ±1 projection to [`PROJECTED_DIMS`]
//!    dimensions, which keeps cosines within about ±0.06 and makes step 3 four times cheaper.
//! 3. **Neighbours**: each question's [`K`] nearest by cosine, exact, in blocks over both
//!    cores (no n×n matrix is ever held).
//! 4. **Threshold from the corpus**: the similarity of pairs of questions (mostly unrelated)
//!    gives a median and a spread σ (from the median absolute deviation, so that the
//!    paraphrase pairs, many in a small corpus, do not inflate it); a link needs
//!    `median + Z·σ` and at least [`FLOOR`].
//! 5. **Link** each question to those of its neighbours above the threshold; the groups are
//!    the connected components. Only the [`K`] nearest are candidates, so a question links to
//!    its closest paraphrases, not to everything above the line. (Requiring *mutual*
//!    neighbours was tried: a paraphrase written unusually is nobody's nearest and was left
//!    alone, splitting big groups.)
//!
//! Measured on the labelled synthetic set of the tests (bge-m3's geometry, see the tests):
//! see docs/gaps.md for the adjusted Rand index of this method and of a fixed threshold.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::transform::gaps::{find, union};

/// Neighbours per question.
pub const K: usize = 10;
/// Above this many questions, vectors are projected before the neighbour search.
pub const PROJECT_ABOVE: usize = 4_000;
/// The projected dimension.
pub const PROJECTED_DIMS: usize = 256;
/// How many standard deviations above random pairs a link must be.
pub const Z: f32 = 4.0;
/// The lowest centred cosine that links two questions, whatever the corpus.
pub const FLOOR: f32 = 0.35;
/// Pairs the threshold looks at: all of them up to this many, else a random sample of this
/// many.
const PAIRS: usize = 20_000;
/// Rows per block of the neighbour search.
const BLOCK: usize = 64;

/// Groups `vectors` (one per distinct question) by meaning: one group id per input, groups
/// numbered largest first (ties: smallest member index first). A vector of another length than
/// most, with a value that is not a number, or of zero length is a group of its own.
pub fn cluster(vectors: &[Vec<f32>]) -> Vec<usize> {
    let n = vectors.len();
    let valid = usable(vectors);
    let rows: Vec<usize> = (0..n).filter(|&i| valid[i]).collect();
    let mut parent: Vec<usize> = (0..n).collect();
    if rows.len() > 1 {
        let space = prepare(vectors, &rows);
        let neighbours = nearest(&space, K.min(rows.len() - 1));
        let threshold = threshold(&space);
        for (a, list) in neighbours.iter().enumerate() {
            for &(b, _) in list.iter().filter(|(_, sim)| *sim >= threshold) {
                union(&mut parent, rows[a], rows[b]);
            }
        }
    }
    largest_first(&mut parent)
}

/// The adjusted Rand index of two labellings of the same items (1 = identical, about 0 =
/// chance). Labellings of different lengths compare their common prefix.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 1.0;
    }
    let mut table: std::collections::HashMap<(usize, usize), f64> = std::collections::HashMap::new();
    let (mut rows, mut cols): (std::collections::HashMap<usize, f64>, std::collections::HashMap<usize, f64>) =
        Default::default();
    for i in 0..n {
        *table.entry((a[i], b[i])).or_default() += 1.0;
        *rows.entry(a[i]).or_default() += 1.0;
        *cols.entry(b[i]).or_default() += 1.0;
    }
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = table.values().map(|&x| pairs(x)).sum();
    let (sum_a, sum_b): (f64, f64) =
        (rows.values().map(|&x| pairs(x)).sum(), cols.values().map(|&x| pairs(x)).sum());
    let expected = sum_a * sum_b / pairs(n as f64);
    let max = (sum_a + sum_b) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        return if (index - expected).abs() < f64::EPSILON { 1.0 } else { 0.0 };
    }
    (index - expected) / (max - expected)
}

// ---- the steps -------------------------------------------------------------------------------

/// Which vectors take part: the most common length, finite, not zero.
pub(crate) fn usable(vectors: &[Vec<f32>]) -> Vec<bool> {
    let mut lengths: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for v in vectors {
        *lengths.entry(v.len()).or_default() += 1;
    }
    let dims = lengths.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map_or(0, |(d, _)| d);
    vectors
        .iter()
        .map(|v| v.len() == dims && dims > 0 && v.iter().all(|x| x.is_finite()) && length(v) > 0.0)
        .collect()
}

/// The vectors of `rows`, normalised, centred, re-normalised and (for large corpora)
/// projected: one flat row-major matrix.
pub(crate) struct Space {
    pub(crate) data: Vec<f32>,
    pub(crate) dims: usize,
    pub(crate) n: usize,
}

impl Space {
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
}

pub(crate) fn prepare(vectors: &[Vec<f32>], rows: &[usize]) -> Space {
    prepare_around(vectors, rows, &mean_of(vectors, rows))
}

/// The mean of the normalised vectors of `rows`: the direction every question of the corpus
/// leans towards.
pub(crate) fn mean_of(vectors: &[Vec<f32>], rows: &[usize]) -> Vec<f32> {
    let dims = rows.first().map_or(0, |&r| vectors[r].len());
    let mut mean = vec![0f32; dims];
    for &r in rows {
        let norm = length(&vectors[r]) * rows.len() as f32;
        mean.iter_mut().zip(&vectors[r]).for_each(|(m, x)| *m += x / norm);
    }
    mean
}

/// The vectors of `rows` centred on `mean` (another period's, to compare two periods in one
/// space). A projected row is projected straight from its input, so the n × dims centred copy
/// is never held: the projection is linear, and the row is normalised after it.
pub(crate) fn prepare_around(vectors: &[Vec<f32>], rows: &[usize], mean: &[f32]) -> Space {
    let (n, dims) = (rows.len(), mean.len());
    let out_dims = if n > PROJECT_ABOVE && dims > PROJECTED_DIMS { PROJECTED_DIMS } else { dims };
    let signs = (out_dims != dims).then(|| signs(dims));
    let mut data = vec![0f32; n * out_dims];
    if data.is_empty() {
        return Space { data, dims: out_dims, n };
    }
    data.par_chunks_mut(out_dims).zip(rows.par_iter()).for_each(|(out, &r)| {
        let norm = length(&vectors[r]);
        let centred = vectors[r].iter().zip(mean).map(|(x, m)| x / norm - m);
        match &signs {
            None => out.iter_mut().zip(centred).for_each(|(o, x)| *o = x),
            Some(signs) => {
                for (d, x) in centred.enumerate() {
                    let s = &signs[d * PROJECTED_DIMS..(d + 1) * PROJECTED_DIMS];
                    out.iter_mut().zip(s).for_each(|(o, s)| *o += x * s);
                }
            }
        }
        normalise(out);
    });
    Space { data, dims: out_dims, n }
}

/// The seeded random ±1 projection matrix to [`PROJECTED_DIMS`] dimensions, row-major by
/// input dimension: the same for every call, so two periods project alike.
fn signs(dims: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x9a95);
    (0..dims * PROJECTED_DIMS).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect()
}

/// Each row's `k` nearest other rows by cosine, most similar first.
pub(crate) fn nearest(space: &Space, k: usize) -> Vec<Vec<(usize, f32)>> {
    let starts: Vec<usize> = (0..space.n).step_by(BLOCK).collect();
    let blocks: Vec<Vec<Vec<(usize, f32)>>> = starts
        .par_iter()
        .map(|&start| {
            (start..(start + BLOCK).min(space.n))
                .map(|i| {
                    let a = space.row(i);
                    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
                    for j in 0..space.n {
                        if j == i {
                            continue;
                        }
                        let sim = dot(a, space.row(j));
                        if best.len() < k || sim > best[best.len() - 1].1 {
                            let at = best.partition_point(|&(_, s)| s >= sim);
                            best.insert(at, (j, sim));
                            best.truncate(k);
                        }
                    }
                    best
                })
                .collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// `median + Z·σ` of the similarity of pairs (all of them in a small corpus, a sample in a
/// large one), σ estimated from the median absolute deviation: robust to the paraphrase pairs
/// among them, which are many in a small corpus. At least [`FLOOR`].
pub(crate) fn threshold(space: &Space) -> f32 {
    let n = space.n;
    let mut sims: Vec<f32> = if n * (n - 1) / 2 <= PAIRS {
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| dot(space.row(i), space.row(j)))
            .collect()
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        (0..PAIRS)
            .filter_map(|_| {
                let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
                (i != j).then(|| dot(space.row(i), space.row(j)))
            })
            .collect()
    };
    if sims.is_empty() {
        return FLOOR;
    }
    let middle = median(&mut sims);
    let mut deviations: Vec<f32> = sims.iter().map(|s| (s - middle).abs()).collect();
    let spread = 1.4826 * median(&mut deviations);
    (middle + Z * spread).max(FLOOR)
}

fn median(values: &mut [f32]) -> f32 {
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    *m
}

/// Components renumbered largest first; ties by smallest member index.
pub(crate) fn largest_first(parent: &mut [usize]) -> Vec<usize> {
    let n = parent.len();
    let roots: Vec<usize> = (0..n).map(|i| find(parent, i)).collect();
    let mut size: std::collections::HashMap<usize, (usize, usize)> = std::collections::HashMap::new();
    for (i, &r) in roots.iter().enumerate() {
        let e = size.entry(r).or_insert((0, i));
        e.0 += 1;
    }
    let mut order: Vec<(usize, usize, usize)> =
        size.into_iter().map(|(r, (s, first))| (s, first, r)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let id: std::collections::HashMap<usize, usize> =
        order.iter().enumerate().map(|(k, &(_, _, r))| (r, k)).collect();
    roots.iter().map(|r| id[r]).collect()
}

/// The dot product, in eight lanes so it vectorises.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

pub(crate) fn length(v: &[f32]) -> f32 {
    dot(v, v).sqrt()
}

pub(crate) fn normalise(v: &mut [f32]) {
    let norm = length(v);
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Vectors no grouping may join to anything: a zero vector, one with a NaN and one of
    /// another length among two valid ones (indices 1, 2 and 3). Shared with the topics' tests.
    pub fn odd_vectors() -> Vec<Vec<f32>> {
        vec![vec![1.0, 0.0, 0.0], vec![0.0; 3], vec![f32::NAN, 1.0, 0.0], vec![1.0, 2.0], vec![0.0, 1.0, 0.0]]
    }

    /// A labelled set with bge-m3's geometry: a strong direction every question shares
    /// (unrelated pairs at cosine ≈0.3–0.45), one direction per intent, a direction shared by
    /// intents about one thing (「VPN连不上」/「VPN账号怎么申请」: same topic, different need),
    /// and noise of varying strength (paraphrases at 0.5–0.9). Intents of 1 to `max` members.
    /// `common`: the range of the common direction's weight (the corpus's anisotropy).
    pub fn labelled(
        intents: usize,
        max: usize,
        dims: usize,
        seed: u64,
        common_weight: (f32, f32),
    ) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let unit = |rng: &mut ChaCha8Rng| {
            let mut v: Vec<f32> = (0..dims).map(|_| rng.random::<f32>() - 0.5).collect();
            normalise(&mut v);
            v
        };
        let common = unit(&mut rng);
        let topics: Vec<Vec<f32>> = (0..intents.div_ceil(2)).map(|_| unit(&mut rng)).collect();
        // How much of the common direction a question carries varies (short questions, long
        // ones): it is what makes raw cosines of unrelated questions and of paraphrases overlap.
        let (mut vectors, mut labels) = (Vec::new(), Vec::new());
        for intent in 0..intents {
            let own = unit(&mut rng);
            let size = 1 + (intent * 7 + 3) % max;
            for _ in 0..size {
                let noise = unit(&mut rng);
                let w = 0.3 + rng.random::<f32>() * 0.4;
                let c = common_weight.0 + rng.random::<f32>() * (common_weight.1 - common_weight.0);
                let mut v: Vec<f32> = (0..dims)
                    .map(|d| common[d] * c + own[d] * 0.5 + topics[intent / 2][d] * 0.33 + noise[d] * w)
                    .collect();
                normalise(&mut v);
                vectors.push(v);
                labels.push(intent);
            }
        }
        (vectors, labels)
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        dot(a, b) / (length(a) * length(b))
    }

    /// Single linkage at one absolute cosine, for every threshold in `at`: what this module
    /// does not do.
    fn fixed_thresholds(vectors: &[Vec<f32>], at: &[f32]) -> Vec<Vec<usize>> {
        let n = vectors.len();
        let sims: Vec<Vec<f32>> =
            (0..n).map(|i| (0..n).map(|j| cosine(&vectors[i], &vectors[j])).collect()).collect();
        at.iter()
            .map(|&t| {
                let mut parent: Vec<usize> = (0..n).collect();
                for (i, row) in sims.iter().enumerate() {
                    for (j, &sim) in row.iter().enumerate().skip(i + 1) {
                        if sim >= t {
                            union(&mut parent, i, j);
                        }
                    }
                }
                largest_first(&mut parent)
            })
            .collect()
    }

    #[test]
    fn the_labelled_set_is_the_hard_case() {
        let (v, l) = labelled(40, 30, 1024, 1, BGE);
        let (mut unrelated, mut sibling, mut paraphrase) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                let c = cosine(&v[i], &v[j]);
                match (l[i] == l[j], l[i] / 2 == l[j] / 2) {
                    (true, _) => paraphrase.push(c),
                    (false, true) => sibling.push(c),
                    (false, false) => unrelated.push(c),
                }
            }
        }
        let range = |s: &[f32]| {
            (s.iter().cloned().fold(f32::MAX, f32::min), s.iter().cloned().fold(f32::MIN, f32::max))
        };
        let (u, s, p) = (range(&unrelated), range(&sibling), range(&paraphrase));
        println!("cosines: unrelated {u:?}, same topic {s:?}, paraphrases {p:?}");
        assert!(u.0 > 0.15 && u.1 < 0.65, "unrelated {u:?}");
        assert!(p.0 > 0.45 && p.1 < 0.95, "paraphrases {p:?}");
        assert!(p.0 < u.1 && p.0 < s.1, "the ranges overlap, as bge-m3's do: {u:?} {s:?} {p:?}");
    }

    /// The common direction's weight in the labelled set: bge-m3-like, and a corpus that leans
    /// further (another model, or questions of another length).
    const BGE: (f32, f32) = (0.5, 0.85);
    const STEEPER: (f32, f32) = (0.75, 1.1);

    #[test]
    fn paraphrases_group_and_siblings_stay_apart() {
        let (v, truth) = labelled(40, 30, 1024, 1, BGE);
        let got = cluster(&v);
        let ari = adjusted_rand_index(&truth, &got);
        println!("ARI, relative threshold: {ari:.3}");
        assert!(ari >= 0.9, "ARI {ari}");
        // Siblings (intents 2k and 2k+1 share a topic) are never one group.
        for pair in (0..40).step_by(2) {
            let a = (0..v.len()).find(|&i| truth[i] == pair).unwrap();
            let b = (0..v.len()).find(|&i| truth[i] == pair + 1).unwrap();
            assert_ne!(got[a], got[b], "intents {pair} and {} merged", pair + 1);
        }
    }

    /// The point of the design: a cosine threshold tuned on one corpus fails on a corpus that
    /// leans further into the common direction; the relative threshold holds on both.
    #[test]
    fn a_fixed_threshold_tuned_on_one_corpus_fails_on_another() {
        let candidates = [0.5f32, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8];
        let (a, truth_a) = labelled(30, 20, 512, 11, BGE);
        let (b, truth_b) = labelled(30, 20, 512, 12, STEEPER);
        let on_a: Vec<f64> =
            fixed_thresholds(&a, &candidates).iter().map(|l| adjusted_rand_index(&truth_a, l)).collect();
        let best = (0..candidates.len()).max_by(|&i, &j| on_a[i].total_cmp(&on_a[j])).unwrap();
        let fixed_on_b = adjusted_rand_index(&truth_b, &fixed_thresholds(&b, &[candidates[best]])[0]);
        let (relative_a, relative_b) =
            (adjusted_rand_index(&truth_a, &cluster(&a)), adjusted_rand_index(&truth_b, &cluster(&b)));
        println!(
            "ARI: fixed {:.2} tuned on A: {:.3} on A, {fixed_on_b:.3} on B; relative: {relative_a:.3} on A, {relative_b:.3} on B",
            candidates[best], on_a[best]
        );
        assert!(relative_a >= 0.9 && relative_b >= 0.9, "{relative_a} {relative_b}");
        assert!(fixed_on_b < relative_b - 0.3, "fixed {fixed_on_b} vs relative {relative_b}");
    }

    #[test]
    fn odd_inputs_never_panic() {
        assert!(cluster(&[]).is_empty());
        assert_eq!(cluster(&[vec![1.0, 0.0]]), [0]);
        assert_eq!(cluster(&[vec![1.0, 0.0], vec![1.0, 0.0]]).len(), 2);
        let same = vec![vec![0.5f32; 8]; 5];
        assert_eq!(cluster(&same).len(), 5);
        let odd = odd_vectors();
        let labels = cluster(&odd);
        assert_eq!(labels.len(), 5);
        for bad in [1, 2, 3] {
            assert_eq!(labels.iter().filter(|&&l| l == labels[bad]).count(), 1, "{bad} alone");
        }
    }

    #[test]
    fn groups_are_numbered_largest_first() {
        let (v, _) = labelled(6, 8, 64, 3, BGE);
        let labels = cluster(&v);
        let sizes: Vec<usize> =
            (0..=*labels.iter().max().unwrap()).map(|g| labels.iter().filter(|&&l| l == g).count()).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    }

    #[test]
    fn the_adjusted_rand_index_is_one_for_equal_and_near_zero_for_chance() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[5, 5, 9, 9]), 1.0);
        assert!(adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) < 0.0);
    }

    /// The benchmark's scale (docs/gaps.md): `ITSTAT_GAPS_BENCH_N` questions (default 20,000) of
    /// 1,024 dimensions. Run in release: `cargo test --release --lib gaps::cluster -- --ignored`.
    #[test]
    #[ignore]
    fn cluster_at_scale() {
        let n: usize =
            std::env::var("ITSTAT_GAPS_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let (v, truth) = labelled(n / 12, 23, 1024, 7, BGE);
        let started = std::time::Instant::now();
        let got = cluster(&v);
        let secs = started.elapsed().as_secs_f64();
        let groups = got.iter().max().map_or(0, |m| m + 1);
        let ari = adjusted_rand_index(&truth, &got);
        println!("gaps bench: {} questions, 1024 dims: {secs:.1} s, {groups} groups, ARI {ari:.3}", v.len());
    }
}
