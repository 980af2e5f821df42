//! Knowledge gaps: the period's unanswered questions, one group per topic (docs/gaps.md).
//!
//! Which messages count is the Unanswered rule ([`super::marks::is_unhit`]: answered, a
//! knowledge-base miss after marks). This module owns the distinct questions (by the wording
//! key of [`super::wording`], which makes `ＶＰＮ 连不上？` and `vpn连不上` one question,
//! topics' unit too) and the assembly of groups from a labelling — counts, users, first and
//! last seen, `new`, examples and message ids, largest first. The labels are the topics
//! (`crate::gaps`).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::Serialize;

use super::nfkc::nfkc;
pub use super::unionfind::{find, number, union};
pub use super::wording::{NEAR_DUPLICATE, near_duplicate_join, wording_key, wording_labels};

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
    /// The id of the topic whose unanswered part this is (negative: a provisional topic,
    /// docs/topics.md).
    pub topic: i64,
    /// The topic's title.
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

/// The groups of a labelling of `distinct` (one label per distinct question) with the topic
/// id and title of each label (`topics[label]`). Only groups with a member in the period are
/// listed; largest first (messages), then the most recent, then by title.
pub fn assemble(
    messages: &[GapMessage],
    distinct: &[Distinct],
    labels: &[usize],
    topics: &[(i64, String)],
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
            let (topic, title) = topics.get(label).cloned().unwrap_or_default();
            let mut gap = group(messages, distinct, ds, title)?;
            gap.topic = topic;
            Some(gap)
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
        topic: 0,
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
        let gaps = assemble(&messages, &d, &labels, &[(4, String::new())]);
        assert_eq!(gaps.len(), 2, "the previous period's own question is not listed");
        assert_eq!((gaps[0].count, gaps[0].users, gaps[0].new), (2, 2, true));
        assert_eq!(gaps[0].message_ids, ["m1", "m2"]);
        assert_eq!(gaps[0].title, gaps[0].examples[0]);
        assert_eq!((gaps[0].topic, gaps[1].topic), (4, 0), "a label's topic id; none given, 0");
        assert_eq!((gaps[1].count, gaps[1].new), (1, false), "asked in the previous period too");
    }
}
