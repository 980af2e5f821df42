//! Near-duplicate questions by wording: distinct wording keys whose character-bigram sets have
//! a Jaccard similarity of at least [`NEAR_DUPLICATE`] are one group, transitively
//! (docs/gaps.md, "Grouping by wording").
//!
//! Comparing every pair that shares a bigram is n² on real traffic, where 「怎么」, 「连不」 or
//! 「电脑」 are in most questions; a prefix filter (rarest bigrams first) is not enough either
//! when questions are made of common phrases, as help-desk questions are. So candidates come
//! from MinHash locality-sensitive hashing: [`BANDS`] bands of [`ROWS`] minimum hashes each; two
//! keys are a candidate when one band of theirs is equal, which a pair at the threshold (0.75)
//! is in all but about two in a million cases, and a pair at 0.45 in fewer than half the
//! bands. Each candidate is then checked exactly: a bound from a 128-bit fingerprint of each
//! key's bigrams rejects most at once, the rest are compared bigram by bigram. The groups are
//! those of the exhaustive join (tested against it); the cost is linear in the keys times the
//! bands, plus the candidates, which stay far below n² (tested).
//!
//! Pure: no I/O. The bands run on both cores.

use std::collections::HashMap;

use rayon::prelude::*;

use super::nfkc::nfkc;
use super::unionfind::{find, number, union};

/// The key questions are compared by: NFKC, lower case, and nothing but letters, digits and
/// CJK characters (punctuation, spaces and symbols dropped). Empty for a question of only
/// punctuation; such a question keeps its own NFKC text as key.
pub fn wording_key(question: &str) -> String {
    let folded: String =
        nfkc(question).chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    if folded.is_empty() { nfkc(question).trim().to_string() } else { folded }
}

/// Near-duplicate threshold: Jaccard similarity of character bigrams. High on purpose:
/// 「打印机卡纸了」 and 「打印机卡纸」 merge (0.8), 「打印机卡纸」 and 「打印机驱动」 do not (0.33),
/// nor 「VPN连不上」 and 「VPN账号怎么申请」.
pub const NEAR_DUPLICATE: f64 = 0.75;
/// Minimum hashes per band: a pair collides in a band with probability J^ROWS.
pub const ROWS: usize = 5;
/// Bands: a pair at the threshold is missed by all of them with probability
/// (1 − 0.75^5)^48 ≈ 2·10⁻⁶ (and then often still joined through a third key).
pub const BANDS: usize = 48;

/// Wording-only grouping: one label per key, numbered in order of first appearance.
pub fn wording_labels(keys: &[String]) -> Vec<usize> {
    near_duplicate_join(keys).labels
}

/// The result of [`near_duplicate_join`].
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// One label per key, numbered in order of first appearance.
    pub labels: Vec<usize>,
    /// Candidate pairs examined (a pair met in several bands counts each time): what the
    /// join costs beyond reading the keys.
    pub candidates: usize,
}

/// Groups near-duplicate keys (see the module docs).
pub fn near_duplicate_join(keys: &[String]) -> Join {
    let sets = BigramSets::of(keys);
    let fingerprints: Vec<Fingerprint> = (0..sets.len()).map(|i| Fingerprint::of(sets.get(i))).collect();
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    let mut candidates = 0;
    // A pass computes the bucket of every key in `GROUP` bands at once (the minimum hashes of
    // a pass vectorise), then sorts and checks each band's buckets, bands side by side.
    for first in (0..BANDS).step_by(GROUP) {
        let functions: [(u32, u32); GROUP * ROWS] = std::array::from_fn(|f| seed(first * ROWS + f));
        let buckets: Vec<[u32; GROUP]> =
            (0..sets.len()).into_par_iter().map(|i| group_buckets(&sets, i, &functions, first)).collect();
        let per_band: Vec<(Vec<(u32, u32)>, usize)> =
            (0..GROUP).into_par_iter().map(|band| band_pairs(&sets, &fingerprints, &buckets, band)).collect();
        for (pairs, examined) in per_band {
            candidates += examined;
            for (a, b) in pairs {
                union(&mut parent, a as usize, b as usize);
            }
        }
    }
    let roots: Vec<usize> = (0..keys.len()).map(|i| find(&mut parent, i)).collect();
    Join { labels: number(&roots), candidates }
}

/// Bands per pass of [`near_duplicate_join`].
const GROUP: usize = 8;

/// Every key's distinct bigrams as sorted token numbers, in one flat buffer.
struct BigramSets {
    tokens: Vec<u32>,
    /// `tokens[ends[i - 1]..ends[i]]` is key `i`'s set.
    ends: Vec<usize>,
    /// A well-mixed hash of each token number, the input of the minimum hashes (computed once,
    /// not once per band).
    hashes: Vec<u32>,
}

impl BigramSets {
    fn of(keys: &[String]) -> BigramSets {
        let mut numbers: HashMap<(char, char), u32> = HashMap::new();
        let mut tokens: Vec<u32> = Vec::new();
        let mut ends: Vec<usize> = Vec::with_capacity(keys.len());
        for key in keys {
            let start = tokens.len();
            for gram in bigrams(key) {
                let next = numbers.len() as u32;
                tokens.push(*numbers.entry(gram).or_insert(next));
            }
            tokens[start..].sort_unstable();
            let distinct = dedup_in_place(&mut tokens[start..]);
            tokens.truncate(start + distinct);
            ends.push(tokens.len());
        }
        let hashes = (0..numbers.len() as u64).map(|t| mix(t) as u32).collect();
        BigramSets { tokens, ends, hashes }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.tokens[start..self.ends[i]]
    }
}

/// Moves the distinct values of a sorted slice to its front; returns how many there are.
fn dedup_in_place(values: &mut [u32]) -> usize {
    let mut kept = 0;
    for i in 0..values.len() {
        if kept == 0 || values[i] != values[kept - 1] {
            values[kept] = values[i];
            kept += 1;
        }
    }
    kept
}

/// Character bigrams of a key (a one-character key is its own "bigram").
fn bigrams(key: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() == 1 {
        return vec![(chars[0], '\0')];
    }
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// A key's size and a 128-bit fingerprint of its bigrams: a bigram of `x` whose bit is not in
/// `y`'s fingerprint is certainly not in `y`, so `|x| − |bits of x not in y|` bounds the
/// overlap from above without reading either set.
#[derive(Clone, Copy)]
struct Fingerprint {
    size: u32,
    bits: [u64; 2],
}

impl Fingerprint {
    fn of(set: &[u32]) -> Fingerprint {
        let mut bits = [0u64; 2];
        for &token in set {
            let h = mix(u64::from(token));
            bits[(h >> 63) as usize] |= 1 << ((h >> 56) & 63);
        }
        Fingerprint { size: set.len() as u32, bits }
    }

    /// An upper bound on `|x ∩ y|`.
    fn overlap_bound(&self, other: &Fingerprint) -> u32 {
        let missing: u32 = self.bits.iter().zip(&other.bits).map(|(x, y)| (x & !y).count_ones()).sum();
        self.size - missing
    }
}

/// The overlap two sets of these sizes need for Jaccard ≥ [`NEAR_DUPLICATE`]:
/// `|x ∩ y| ≥ t/(1+t) · (|x| + |y|)`, i.e. `⌈3·(|x| + |y|)/7⌉` at t = 3/4.
fn needed_overlap(x: u32, y: u32) -> u32 {
    (3 * (x + y)).div_ceil(7)
}

/// The verified near-duplicate pairs among the keys that band `band` of a pass puts in one
/// bucket, and how many pairs it examined.
fn band_pairs(
    sets: &BigramSets,
    fingerprints: &[Fingerprint],
    buckets: &[[u32; GROUP]],
    band: usize,
) -> (Vec<(u32, u32)>, usize) {
    // Bucket and key in one word: sorting words is twice as fast as sorting pairs. Two
    // buckets that share their 32 bits merge (about n²/2³³ pairs more to check, harmless).
    let mut order: Vec<u64> = (0..sets.len())
        .filter(|&i| !sets.get(i).is_empty())
        .map(|i| (u64::from(buckets[i][band]) << 32) | i as u64)
        .collect();
    order.sort_unstable();
    let (mut pairs, mut examined) = (Vec::new(), 0);
    let mut members: Vec<(u32, Fingerprint)> = Vec::new();
    for bucket in order.chunk_by(|a, b| a >> 32 == b >> 32).filter(|b| b.len() > 1) {
        // The bucket's fingerprints side by side: its pairs read them from the cache.
        members.clear();
        members.extend(bucket.iter().map(|&w| (w as u32, fingerprints[w as u32 as usize])));
        for (at, (x, fx)) in members.iter().enumerate() {
            for (y, fy) in &members[at + 1..] {
                examined += 1;
                if near_duplicates(sets, fx, fy, *x as usize, *y as usize) {
                    pairs.push((*x, *y));
                }
            }
        }
    }
    (pairs, examined)
}

/// Jaccard ≥ [`NEAR_DUPLICATE`], exactly (the fingerprints only reject early).
fn near_duplicates(sets: &BigramSets, fx: &Fingerprint, fy: &Fingerprint, x: usize, y: usize) -> bool {
    let needed = needed_overlap(fx.size, fy.size);
    if fx.size.min(fy.size) < needed || fx.overlap_bound(fy) < needed || fy.overlap_bound(fx) < needed {
        return false;
    }
    jaccard(sets.get(x), sets.get(y)) >= NEAR_DUPLICATE
}

/// Key `i`'s buckets in bands `first..first + GROUP`: per band, a hash of the key's [`ROWS`]
/// minimum hashes under the band's functions.
fn group_buckets(
    sets: &BigramSets,
    i: usize,
    functions: &[(u32, u32); GROUP * ROWS],
    first: usize,
) -> [u32; GROUP] {
    let mut minimum = [u32::MAX; GROUP * ROWS];
    for &token in sets.get(i) {
        let h = sets.hashes[token as usize];
        for (m, &(a, c)) in minimum.iter_mut().zip(functions) {
            *m = (*m).min(h.wrapping_mul(a).wrapping_add(c));
        }
    }
    std::array::from_fn(|band| {
        let rows = &minimum[band * ROWS..(band + 1) * ROWS];
        (rows.iter().fold((first + band) as u64, |acc, &m| mix(acc ^ u64::from(m))) >> 32) as u32
    })
}

/// The multiplier (odd) and addend of minimum-hash function `i`: fixed, so the groups are the
/// same on every run and machine.
fn seed(i: usize) -> (u32, u32) {
    let h = mix(0x9e37_79b9_7f4a_7c15 ^ i as u64);
    ((h as u32) | 1, (h >> 32) as u32)
}

/// SplitMix64's finaliser: a cheap, well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Jaccard similarity of two sorted, duplicate-free token sets (two empty sets: 1).
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let all = a.len() + b.len() - shared;
    if all == 0 { 1.0 } else { shared as f64 / all as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECTS: &[&str] = &[
        "电脑",
        "笔记本",
        "打印机",
        "VPN",
        "邮箱",
        "企业微信",
        "WiFi",
        "显示器",
        "投影仪",
        "域账号",
        "Office",
        "Teams",
        "共享盘",
        "会议室大屏",
        "OA系统",
        "报销系统",
        "门禁卡",
        "扫描仪",
        "鼠标",
        "键盘",
    ];
    const PROBLEMS: &[&str] = &[
        "连不上",
        "打不开",
        "很慢",
        "蓝屏了",
        "没有声音",
        "登录失败",
        "密码忘了",
        "一直转圈",
        "报错",
        "闪退",
        "无法打印",
        "提示认证失败",
        "显示离线",
        "同步不了",
        "被锁定了",
        "黑屏",
    ];
    const CONTEXTS: &[&str] = &[
        "在家",
        "出差时",
        "今天早上",
        "开会前",
        "在三楼",
        "刚才",
        "换了新电脑后",
        "升级以后",
        "重启后",
        "下午",
    ];
    const ASKS: &[&str] =
        &["怎么办", "怎么处理", "能帮忙看下吗", "请问如何解决", "急", "谁能处理一下", "怎么弄"];

    /// Distinct help-desk questions built from common parts, so that most pairs share a
    /// bigram (「怎么」, 「连不」, 「电脑」) as real traffic does; a fifth are near-duplicates of
    /// earlier ones (a character dropped).
    fn questions(n: usize, seed: u64) -> Vec<String> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let pick =
            |rng: &mut rand_chacha::ChaCha8Rng, list: &[&'static str]| list[rng.random_range(0..list.len())];
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while out.len() < n {
            let mut q = format!(
                "{}{}{}{}，编号{}",
                pick(&mut rng, CONTEXTS),
                pick(&mut rng, SUBJECTS),
                pick(&mut rng, PROBLEMS),
                pick(&mut rng, ASKS),
                rng.random_range(0..100_000),
            );
            if rng.random_bool(0.2) && !out.is_empty() {
                let base: Vec<char> = out[rng.random_range(0..out.len())].chars().collect();
                let at = rng.random_range(0..base.len());
                q = base.iter().enumerate().filter(|&(i, _)| i != at).map(|(_, c)| *c).collect();
            }
            let key = wording_key(&q);
            if seen.insert(key.clone()) {
                out.push(key);
            }
        }
        out
    }

    /// Every pair compared: the grouping the join must reproduce.
    fn exhaustive_labels(keys: &[String]) -> Vec<usize> {
        let sets = BigramSets::of(keys);
        let mut parent: Vec<usize> = (0..keys.len()).collect();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                if jaccard(sets.get(i), sets.get(j)) >= NEAR_DUPLICATE {
                    union(&mut parent, i, j);
                }
            }
        }
        let roots: Vec<usize> = (0..keys.len()).map(|i| find(&mut parent, i)).collect();
        number(&roots)
    }

    #[test]
    fn near_duplicates_merge_and_different_needs_stay_apart() {
        let keys: Vec<String> =
            ["打印机卡纸了", "打印机卡纸", "打印机驱动", "vpn连不上", "vpn账号怎么申请", "vpn连不上了"]
                .iter()
                .map(|k| wording_key(k))
                .collect();
        let labels = wording_labels(&keys);
        assert_eq!(labels[0], labels[1]);
        assert_ne!(labels[1], labels[2]);
        assert_eq!(labels[3], labels[5]);
        assert_ne!(labels[3], labels[4]);
    }

    #[test]
    fn the_join_finds_the_groups_every_pair_finds() {
        for seed in 0..4 {
            let keys = questions(1_500, seed);
            let labels = wording_labels(&keys);
            let groups = labels.iter().max().map_or(0, |m| m + 1);
            assert!(groups < keys.len(), "seed {seed}: the set holds near-duplicates to find");
            assert_eq!(labels, exhaustive_labels(&keys), "seed {seed}");
        }
        // Short and degenerate keys: one character, repeated bigrams, an empty key.
        let keys: Vec<String> =
            ["a", "b", "ab", "aba", "abab", "ababab", "", "打印机卡纸了", "打印机卡纸", "ba"]
                .map(String::from)
                .to_vec();
        assert_eq!(wording_labels(&keys), exhaustive_labels(&keys));
    }

    #[test]
    fn the_join_stays_near_linear_on_questions_sharing_common_bigrams() {
        let n = 20_000;
        let keys = questions(n, 7);
        let join = near_duplicate_join(&keys);
        // Every pair that shares a bigram was a candidate before: here nearly all (「编号」,
        // n²/2), and a prefix filter over the rarest bigrams still met n²/93. Here: n²/475.
        assert!(join.candidates < n * n / 200, "{} candidate pairs for {n} questions", join.candidates);
    }

    #[test]
    fn the_fingerprint_bound_never_undercounts_the_overlap() {
        let keys = questions(300, 3);
        let sets = BigramSets::of(&keys);
        let prints: Vec<Fingerprint> = (0..sets.len()).map(|i| Fingerprint::of(sets.get(i))).collect();
        for x in 0..sets.len() {
            for y in 0..sets.len() {
                let shared = sets.get(x).iter().filter(|t| sets.get(y).contains(t)).count() as u32;
                assert!(prints[x].overlap_bound(&prints[y]) >= shared, "keys {x} and {y}");
            }
        }
    }

    #[test]
    fn the_needed_overlap_is_the_threshold() {
        for x in 1..40u32 {
            for y in 1..40u32 {
                let needed = needed_overlap(x, y);
                // With that overlap Jaccard reaches 3/4; with one less it does not.
                let jaccard = |o: u32| f64::from(o) / f64::from(x + y - o);
                if needed <= x.min(y) {
                    assert!(jaccard(needed) >= NEAR_DUPLICATE, "{x} {y}");
                }
                assert!(needed == 0 || jaccard(needed - 1) < NEAR_DUPLICATE, "{x} {y}");
            }
        }
    }
}
