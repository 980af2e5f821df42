//! Knowledge gaps: the period's unanswered questions, grouped (docs/gaps.md).
//!
//! Which messages count is the Unanswered rule ([`super::marks::is_unhit`]: answered, a
//! knowledge-base miss after marks). This module owns what is independent of how the groups
//! are found: the wording key that makes `ＶＰＮ 连不上？` and `vpn连不上` one question, the
//! wording-only grouping (near-duplicate keys merged), and the assembly of groups from any
//! labelling — counts, users, first and last seen, `new`, examples and message ids, largest
//! first. The grouping by meaning (vectors) is in `crate::gaps`.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::Serialize;

use super::rules::nfkc;

/// How many distinct questions a group shows as examples.
pub const EXAMPLES: usize = 5;

/// One unanswered message, of the period or of the previous one.
#[derive(Debug, Clone, PartialEq)]
pub struct GapMessage {
    pub message_id: String,
    pub user_key: String,
    pub local_time: NaiveDateTime,
    /// The question as asked.
    pub question: String,
    /// Dated in the reported period (else in the previous period, which only decides `new`).
    pub in_period: bool,
}

/// One group of the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// A chat model's name for the group, or its most central question.
    pub title: String,
    /// Messages of the period in the group.
    pub count: i64,
    /// Distinct user keys among them.
    pub users: i64,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    /// No member in the previous period.
    pub new: bool,
    /// Up to [`EXAMPLES`] distinct questions, most asked first.
    pub examples: Vec<String>,
    pub message_ids: Vec<String>,
}

/// A distinct question (by [`wording_key`]) and its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Distinct {
    pub key: String,
    /// The most frequent way it was written (whitespace collapsed), shown to people.
    pub text: String,
    /// Indices into the messages.
    pub members: Vec<usize>,
}

/// The key questions are compared by: NFKC, lower case, and nothing but letters, digits and
/// CJK characters (punctuation, spaces and symbols dropped). Empty for a question of only
/// punctuation; such a question keeps its own NFKC text as key.
pub fn wording_key(question: &str) -> String {
    let folded: String =
        nfkc(question).chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    if folded.is_empty() { nfkc(question).trim().to_string() } else { folded }
}

/// The distinct questions of `messages`, in order of first appearance.
pub fn distinct(messages: &[GapMessage]) -> Vec<Distinct> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Distinct> = Vec::new();
    let mut spellings: Vec<HashMap<String, usize>> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let key = wording_key(&m.question);
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            out.push(Distinct { key, text: String::new(), members: Vec::new() });
            spellings.push(HashMap::new());
            out.len() - 1
        });
        out[slot].members.push(i);
        let shown = nfkc(&m.question).split_whitespace().collect::<Vec<_>>().join(" ");
        *spellings[slot].entry(shown).or_default() += 1;
    }
    for (d, spelled) in out.iter_mut().zip(spellings) {
        // The most frequent spelling; ties to the smallest, so the choice is stable.
        d.text = spelled
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(t, _)| t)
            .unwrap_or_default();
    }
    out
}

/// Near-duplicate threshold of the wording mode: Jaccard similarity of character bigrams.
/// High on purpose: 「打印机卡纸了」 and 「打印机卡纸」 merge (0.8), 「打印机卡纸」 and
/// 「打印机驱动」 do not (0.33), nor 「VPN连不上」 and 「VPN账号怎么申请」.
pub const NEAR_DUPLICATE: f64 = 0.75;

/// Wording-only grouping: distinct keys whose bigram sets are near-duplicates
/// ([`NEAR_DUPLICATE`]) are one group (transitively). One label per key.
pub fn wording_labels(keys: &[String]) -> Vec<usize> {
    near_duplicate_join(keys).0
}

/// [`wording_labels`] and the number of candidate pairs whose Jaccard similarity it computed.
///
/// A prefix filter (docs/gaps.md, "Grouping by wording") keeps this near-linear whatever the
/// text: each key's bigrams are ordered rarest first, and two sets with Jaccard ≥ t share a
/// bigram among the first `|x| − ⌈t·|x|⌉ + 1` of each. Only those prefixes are indexed and
/// probed, so a common bigram (「怎么」, 「连不」) is in almost no prefix and never makes every
/// pair a candidate, as an index of every bigram did.
pub fn near_duplicate_join(keys: &[String]) -> (Vec<usize>, usize) {
    let sets = ranked_bigram_sets(keys);
    // Sizes ascending: a probe only meets sets no larger than its own, so one length bound
    // (`|y| ≥ t·|x|`) prunes the rest.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (sets[i].len(), i));
    let mut index: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    let mut candidates = 0;
    let mut seen: Vec<usize> = vec![usize::MAX; keys.len()];
    for &x in &order {
        let set = &sets[x];
        let prefix = &set[..prefix_len(set.len())];
        let least = (NEAR_DUPLICATE * set.len() as f64).ceil() as usize;
        for token in prefix {
            for &y in index.get(token).map(Vec::as_slice).unwrap_or_default() {
                if seen[y] == x || sets[y].len() < least {
                    continue;
                }
                seen[y] = x;
                candidates += 1;
                if jaccard(&sets[x], &sets[y]) >= NEAR_DUPLICATE {
                    union(&mut parent, x, y);
                }
            }
        }
        for token in prefix {
            index.entry(*token).or_default().push(x);
        }
    }
    let roots: Vec<usize> = (0..keys.len()).map(|i| find(&mut parent, i)).collect();
    (number(&roots), candidates)
}

/// How many of a set's rarest bigrams two near-duplicates must share one of:
/// `|x| − ⌈t·|x|⌉ + 1` (none for an empty set).
fn prefix_len(size: usize) -> usize {
    let needed = (NEAR_DUPLICATE * size as f64).ceil() as usize;
    (size + 1).saturating_sub(needed.max(1)).min(size)
}

/// Each key's distinct bigrams as token numbers sorted rarest first (by how many keys hold
/// them, then by number), the order the prefix filter needs.
fn ranked_bigram_sets(keys: &[String]) -> Vec<Vec<u32>> {
    let mut tokens: HashMap<(char, char), u32> = HashMap::new();
    let mut sets: Vec<Vec<u32>> = keys
        .iter()
        .map(|key| {
            let mut set: Vec<u32> = bigrams(key)
                .into_iter()
                .map(|b| {
                    let next = tokens.len() as u32;
                    *tokens.entry(b).or_insert(next)
                })
                .collect();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    let mut frequency = vec![0u32; tokens.len()];
    sets.iter().flatten().for_each(|&t| frequency[t as usize] += 1);
    let mut by_rarity: Vec<u32> = (0..tokens.len() as u32).collect();
    by_rarity.sort_by_key(|&t| (frequency[t as usize], t));
    let mut rank = vec![0u32; tokens.len()];
    for (r, &t) in by_rarity.iter().enumerate() {
        rank[t as usize] = r as u32;
    }
    for set in &mut sets {
        set.iter_mut().for_each(|t| *t = rank[*t as usize]);
        set.sort_unstable();
    }
    sets
}

/// Character bigrams of a key (a one-character key is its own "bigram").
fn bigrams(key: &str) -> Vec<(char, char)> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() == 1 {
        return vec![(chars[0], '\0')];
    }
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Jaccard similarity of two sorted, duplicate-free token sets.
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

/// The root of `i` in a union-find forest (`parent[i] == i` at a root), halving paths.
pub fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Joins the sets of `a` and `b`; the smaller index becomes the root.
pub fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// Any labels renumbered 0.. in order of first appearance.
pub fn number(labels: &[usize]) -> Vec<usize> {
    let mut ids: HashMap<usize, usize> = HashMap::new();
    labels
        .iter()
        .map(|l| {
            let next = ids.len();
            *ids.entry(*l).or_insert(next)
        })
        .collect()
}

/// The groups of a labelling of `distinct` (one label per distinct question) with a title per
/// label (`titles[label]`). Only groups with a member in the period are listed; largest first
/// (messages), then the most recent, then by title.
pub fn assemble(
    messages: &[GapMessage],
    distinct: &[Distinct],
    labels: &[usize],
    titles: &[String],
) -> Vec<Gap> {
    let groups = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for (d, &label) in labels.iter().enumerate() {
        if let Some(g) = members.get_mut(label) {
            g.push(d);
        }
    }
    let mut out: Vec<Gap> = members
        .iter()
        .enumerate()
        .filter_map(|(label, ds)| {
            group(messages, distinct, ds, titles.get(label).cloned().unwrap_or_default())
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen)).then(a.title.cmp(&b.title)));
    out
}

/// One group from its distinct questions, or `None` when none is from the period.
fn group(messages: &[GapMessage], distinct: &[Distinct], ds: &[usize], title: String) -> Option<Gap> {
    let mut in_period: Vec<&GapMessage> = Vec::new();
    let mut new = true;
    let mut examples: Vec<(usize, &str)> = Vec::new();
    for &d in ds {
        let Some(question) = distinct.get(d) else { continue };
        let current =
            question.members.iter().filter_map(|&i| messages.get(i)).filter(|m| m.in_period).count();
        if current < question.members.len() {
            new = false;
        }
        if current > 0 {
            examples.push((current, &question.text));
        }
        in_period.extend(question.members.iter().filter_map(|&i| messages.get(i)).filter(|m| m.in_period));
    }
    let first_seen = in_period.iter().map(|m| m.local_time).min()?;
    let last_seen = in_period.iter().map(|m| m.local_time).max()?;
    in_period.sort_by(|a, b| a.local_time.cmp(&b.local_time).then(a.message_id.cmp(&b.message_id)));
    examples.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let users: BTreeSet<&str> = in_period.iter().map(|m| m.user_key.as_str()).collect();
    let examples: Vec<String> = examples.iter().take(EXAMPLES).map(|(_, t)| t.to_string()).collect();
    let title = if title.trim().is_empty() { examples.first().cloned().unwrap_or_default() } else { title };
    Some(Gap {
        title,
        count: in_period.len() as i64,
        users: users.len() as i64,
        first_seen,
        last_seen,
        new,
        examples,
        message_ids: in_period.iter().map(|m| m.message_id.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn msg(id: &str, user: &str, hour: u32, question: &str, in_period: bool) -> GapMessage {
        GapMessage {
            message_id: id.into(),
            user_key: user.into(),
            local_time: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(hour, 0, 0).unwrap(),
            question: question.into(),
            in_period,
        }
    }

    #[test]
    fn the_wording_key_folds_width_case_space_and_punctuation() {
        assert_eq!(wording_key("ＶＰＮ 连不上？"), "vpn连不上");
        assert_eq!(wording_key("vpn连不上!!"), "vpn连不上");
        assert_eq!(wording_key("？？"), "??");
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

    /// Distinct help-desk questions built from common parts, so that most pairs share a
    /// bigram (「怎么」, 「连不」, 「电脑」) as real traffic does; some are near-duplicates of
    /// others (a character dropped or added).
    fn questions(n: usize, seed: u64) -> Vec<String> {
        use rand::{Rng, SeedableRng};
        const SUBJECTS: &[&str] = &[
            "电脑", "笔记本", "打印机", "VPN", "邮箱", "企业微信", "WiFi", "显示器", "投影仪", "域账号",
            "Office", "Teams", "共享盘", "会议室大屏", "OA系统", "报销系统", "门禁卡", "扫描仪", "鼠标", "键盘",
        ];
        const PROBLEMS: &[&str] = &[
            "连不上", "打不开", "很慢", "蓝屏了", "没有声音", "登录失败", "密码忘了", "一直转圈", "报错",
            "闪退", "无法打印", "提示认证失败", "显示离线", "同步不了", "被锁定了", "黑屏",
        ];
        const CONTEXTS: &[&str] = &[
            "在家", "出差时", "今天早上", "开会前", "在三楼", "刚才", "换了新电脑后", "升级以后", "重启后", "下午",
        ];
        const ASKS: &[&str] = &["怎么办", "怎么处理", "能帮忙看下吗", "请问如何解决", "急", "谁能处理一下", "怎么弄"];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while out.len() < n {
            let mut q = format!(
                "{}{}{}{}，编号{}",
                CONTEXTS[rng.random_range(0..CONTEXTS.len())],
                SUBJECTS[rng.random_range(0..SUBJECTS.len())],
                PROBLEMS[rng.random_range(0..PROBLEMS.len())],
                ASKS[rng.random_range(0..ASKS.len())],
                rng.random_range(0..100_000),
            );
            if rng.random_bool(0.2) && !out.is_empty() {
                // A near-duplicate of an earlier question: one character dropped.
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

    /// Every pair compared: the grouping the prefix filter must reproduce.
    fn exhaustive_labels(keys: &[String]) -> Vec<usize> {
        let sets = ranked_bigram_sets(keys);
        let mut parent: Vec<usize> = (0..keys.len()).collect();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                if jaccard(&sets[i], &sets[j]) >= NEAR_DUPLICATE {
                    union(&mut parent, i, j);
                }
            }
        }
        let roots: Vec<usize> = (0..keys.len()).map(|i| find(&mut parent, i)).collect();
        number(&roots)
    }

    #[test]
    fn the_prefix_filter_finds_the_groups_every_pair_finds() {
        for seed in 0..4 {
            let keys = questions(1_500, seed);
            let (labels, _) = near_duplicate_join(&keys);
            let groups = labels.iter().max().map_or(0, |m| m + 1);
            assert!(groups < keys.len(), "seed {seed}: the set holds near-duplicates to find");
            assert_eq!(labels, exhaustive_labels(&keys), "seed {seed}");
        }
        // Short and degenerate keys: one character, repeated bigrams, an empty key.
        let keys: Vec<String> =
            ["a", "b", "ab", "aba", "abab", "ababab", "", "打印机卡纸了", "打印机卡纸"].map(String::from).to_vec();
        assert_eq!(near_duplicate_join(&keys).0, exhaustive_labels(&keys));
    }

    #[test]
    fn the_wording_join_stays_near_linear_on_questions_sharing_common_bigrams() {
        let n = 20_000;
        let keys = questions(n, 7);
        let (_, candidates) = near_duplicate_join(&keys);
        // Indexing every bigram made nearly every pair a candidate here (they share 「，编号」).
        assert!(candidates < n * n / 100, "{candidates} candidate pairs for {n} questions");
    }

    #[test]
    fn groups_count_period_members_and_know_what_is_new() {
        let messages = vec![
            msg("m1", "a", 9, "VPN连不上", true),
            msg("m2", "b", 10, "ｖｐｎ连不上？", true),
            msg("m3", "a", 11, "打印机卡纸", true),
            msg("m0", "c", 8, "打印机卡纸", false),
            msg("m9", "c", 8, "旧问题", false),
        ];
        let d = distinct(&messages);
        assert_eq!(d.len(), 3, "{d:?}");
        let labels = wording_labels(&d.iter().map(|q| q.key.clone()).collect::<Vec<_>>());
        let gaps = assemble(&messages, &d, &labels, &[]);
        assert_eq!(gaps.len(), 2, "the previous period's own question is not listed");
        assert_eq!((gaps[0].count, gaps[0].users, gaps[0].new), (2, 2, true));
        assert_eq!(gaps[0].message_ids, ["m1", "m2"]);
        assert_eq!(gaps[0].title, gaps[0].examples[0]);
        assert_eq!((gaps[1].count, gaps[1].new), (1, false), "asked in the previous period too");
    }
}
