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

/// Character bigrams of a key (a one-character key is its own "bigram").
fn bigrams(key: &str) -> BTreeSet<(char, char)> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() == 1 {
        return [(chars[0], '\0')].into();
    }
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Near-duplicate threshold of the wording mode: Jaccard similarity of character bigrams.
/// High on purpose: 「打印机卡纸了」 and 「打印机卡纸」 merge (0.8), 「打印机卡纸」 and
/// 「打印机驱动」 do not (0.33), nor 「VPN连不上」 and 「VPN账号怎么申请」.
pub const NEAR_DUPLICATE: f64 = 0.75;

/// Wording-only grouping: distinct keys whose bigram sets are near-duplicates
/// ([`NEAR_DUPLICATE`]) are one group (transitively). One label per key.
pub fn wording_labels(keys: &[String]) -> Vec<usize> {
    let grams: Vec<BTreeSet<(char, char)>> = keys.iter().map(|k| bigrams(k)).collect();
    // Candidates share a bigram: an inverted index keeps this far from n².
    let mut by_gram: HashMap<(char, char), Vec<usize>> = HashMap::new();
    for (i, g) in grams.iter().enumerate() {
        for b in g {
            by_gram.entry(*b).or_default().push(i);
        }
    }
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    for i in 0..keys.len() {
        let mut seen = BTreeSet::new();
        for b in &grams[i] {
            for &j in by_gram.get(b).map(Vec::as_slice).unwrap_or_default() {
                if j > i && seen.insert(j) && jaccard(&grams[i], &grams[j]) >= NEAR_DUPLICATE {
                    union(&mut parent, i, j);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..keys.len()).map(|i| find(&mut parent, i)).collect();
    number(&roots)
}

fn jaccard(a: &BTreeSet<(char, char)>, b: &BTreeSet<(char, char)>) -> f64 {
    let shared = a.intersection(b).count();
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
