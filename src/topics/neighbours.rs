//! Each question's nearest questions, without comparing every pair (docs/topics.md, "Scale").
//!
//! Up to [`EXACT_UP_TO`] questions the search is exact (`gaps::cluster::nearest`, n² dot
//! products in blocks). Above, n² is what makes 100,000 questions take minutes, so the search
//! is an inverted file: spherical k-means on a sample finds √n centres, every question is filed
//! under its nearest centre, and a question's neighbours are sought only among the questions
//! filed under its [`PROBES`] nearest centres — about `PROBES/√n` of the corpus. Paraphrases
//! sit close together and so almost always share a centre or the next one; a neighbour missed
//! is a link missed, never a wrong link.

use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::gaps::cluster::{Space, dot, nearest as exact, normalise};

/// Up to this many questions the neighbour search is exact.
pub(crate) const EXACT_UP_TO: usize = 5_000;
/// How many of its nearest centres a question's neighbours are sought under.
const PROBES: usize = 8;
/// Rounds of k-means.
const ROUNDS: usize = 5;
/// Questions of the training sample per centre.
const SAMPLE_PER_CENTRE: usize = 40;

/// Each row's `k` nearest other rows by cosine, most similar first (rows are unit vectors).
pub(crate) fn nearest(space: &Space, k: usize) -> Vec<Vec<(usize, f32)>> {
    if space.n <= EXACT_UP_TO {
        return exact(space, k);
    }
    let centres = train(space, (space.n as f64).sqrt().ceil() as usize);
    let home: Vec<usize> =
        (0..space.n).into_par_iter().map(|i| closest(&centres, space.row(i), 1)[0]).collect();
    let mut files: Vec<Vec<usize>> = vec![Vec::new(); centres.n];
    for (i, &c) in home.iter().enumerate() {
        files[c].push(i);
    }
    (0..space.n)
        .into_par_iter()
        .map(|i| {
            let row = space.row(i);
            let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
            for c in closest(&centres, row, PROBES) {
                for &j in files[c].iter().filter(|&&j| j != i) {
                    keep(&mut best, k, j, dot(row, space.row(j)));
                }
            }
            best
        })
        .collect()
}

/// Keeps `best` the `k` most similar, most similar first.
fn keep(best: &mut Vec<(usize, f32)>, k: usize, j: usize, sim: f32) {
    if best.len() < k || sim > best[best.len() - 1].1 {
        let at = best.partition_point(|&(_, s)| s >= sim);
        best.insert(at, (j, sim));
        best.truncate(k);
    }
}

/// The `count` centres most similar to `row`, most similar first.
fn closest(centres: &Space, row: &[f32], count: usize) -> Vec<usize> {
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(count + 1);
    for c in 0..centres.n {
        keep(&mut best, count, c, dot(row, centres.row(c)));
    }
    best.into_iter().map(|(c, _)| c).collect()
}

/// Spherical k-means with `count` centres on a seeded sample of the rows: unit centres, each
/// the normalised sum of the sample rows nearest to it (a centre nobody is nearest to stays).
fn train(space: &Space, count: usize) -> Space {
    let mut rng = ChaCha8Rng::seed_from_u64(0x70b1c5);
    let picked = sample(&mut rng, space.n, (count * SAMPLE_PER_CENTRE).min(space.n)).into_vec();
    let mut centres = Space { data: Vec::with_capacity(count * space.dims), dims: space.dims, n: count };
    for &i in picked.iter().take(count) {
        centres.data.extend_from_slice(space.row(i));
    }
    for _ in 0..ROUNDS {
        let nearest: Vec<usize> = picked.par_iter().map(|&i| closest(&centres, space.row(i), 1)[0]).collect();
        let mut sums = vec![0f32; centres.data.len()];
        for (&i, &c) in picked.iter().zip(&nearest) {
            let sum = &mut sums[c * space.dims..(c + 1) * space.dims];
            sum.iter_mut().zip(space.row(i)).for_each(|(s, x)| *s += x);
        }
        for (c, sum) in sums.chunks_exact_mut(space.dims).enumerate() {
            if sum.iter().any(|&x| x != 0.0) {
                normalise(sum);
                centres.data[c * space.dims..(c + 1) * space.dims].copy_from_slice(sum);
            }
        }
    }
    centres
}
