//! Topics of a period: which stored topic each distinct question belongs to, and the numbers
//! of each topic (docs/topics.md, "Stored topics" and "Numbers").
//!
//! Pure rules. The warehouse gives the stored memberships (wording key → topic id) and the
//! period's messages with their effective verdicts; this module decides where the questions
//! that have no topic yet go — an existing topic when they are wording near-duplicates of one
//! of its questions ([`super::wording`]), else new topics grouped among themselves — and counts
//! each topic's messages with the rules of docs/metrics.md §5.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde::Serialize;

use super::gaps::{Distinct, EXAMPLES};
use super::kpi::rate;
use super::messages::MessageState;
use super::nfkc::nfkc;
use super::wording::near_duplicate_join;

/// A new topic: its title (the most asked question), its distinct questions (indices into the
/// period's distinct questions) and its earliest message.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTopic {
    pub title: String,
    pub members: Vec<usize>,
    pub first_seen: NaiveDateTime,
}

/// Where each distinct question of a period goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Per distinct question: `Ok(id)` a stored topic, `Err(k)` the k-th new topic.
    pub topics: Vec<Result<i64, usize>>,
    /// Largest first (messages), then by title.
    pub new_topics: Vec<NewTopic>,
}

/// Places the period's distinct questions (`questions`, with `sizes[i]` messages and the
/// earliest at `first[i]`) given the stored memberships. A stored question keeps its topic;
/// another joins the topic most of its near-duplicates' stored questions are in (ties: the
/// smallest id); the rest form new topics, one per group of near-duplicates.
pub fn place(questions: &[Distinct], first: &[NaiveDateTime], stored: &HashMap<String, i64>) -> Placement {
    let fresh: Vec<usize> =
        (0..questions.len()).filter(|&i| !stored.contains_key(&questions[i].key)).collect();
    let mut known: Vec<(&String, i64)> = stored.iter().map(|(k, &t)| (k, t)).collect();
    known.sort();
    let keys: Vec<String> = known
        .iter()
        .map(|(k, _)| (*k).clone())
        .chain(fresh.iter().map(|&i| questions[i].key.clone()))
        .collect();
    let labels = if fresh.is_empty() { Vec::new() } else { near_duplicate_join(&keys).labels };
    // Per component: the votes of its stored questions for their topics.
    let mut votes: HashMap<usize, HashMap<i64, usize>> = HashMap::new();
    for (j, (_, topic)) in known.iter().enumerate() {
        if let Some(&label) = labels.get(j) {
            *votes.entry(label).or_default().entry(*topic).or_default() += 1;
        }
    }
    let winner = |label: usize| {
        votes
            .get(&label)
            .and_then(|v| v.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(&t, _)| t))
    };
    let mut topics: Vec<Result<i64, usize>> =
        questions.iter().map(|q| stored.get(&q.key).copied().map(Ok).unwrap_or(Err(usize::MAX))).collect();
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (n, &i) in fresh.iter().enumerate() {
        let label = labels[known.len() + n];
        match winner(label) {
            Some(t) => topics[i] = Ok(t),
            None => groups.entry(label).or_default().push(i),
        }
    }
    let new_topics = new_topics(questions, first, groups.into_values().collect());
    for (k, topic) in new_topics.iter().enumerate() {
        for &i in &topic.members {
            topics[i] = Err(k);
        }
    }
    Placement { topics, new_topics }
}

/// New topics from groups of distinct questions, largest first, then by title.
pub fn new_topics(questions: &[Distinct], first: &[NaiveDateTime], groups: Vec<Vec<usize>>) -> Vec<NewTopic> {
    let mut out: Vec<(usize, NewTopic)> = groups
        .into_iter()
        .map(|mut members| {
            members.sort_unstable();
            let size = members.iter().map(|&i| questions[i].members.len()).sum();
            let title = members
                .iter()
                .max_by(|&&a, &&b| {
                    questions[a]
                        .members
                        .len()
                        .cmp(&questions[b].members.len())
                        .then(questions[b].text.cmp(&questions[a].text))
                })
                .map(|&i| questions[i].text.clone())
                .unwrap_or_default();
            let first_seen = members.iter().map(|&i| first[i]).min().unwrap_or_default();
            (size, NewTopic { title, members, first_seen })
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.title.cmp(&b.1.title)));
    out.into_iter().map(|(_, t)| t).collect()
}

/// A stored topic's questions (wording key, as written) grouped again by wording, for
/// `itstat topics split`: the groups of near-duplicates, most questions first (ties: the
/// group of the smallest key), each titled by its first question.
pub fn split_groups(questions: &[(String, String)]) -> Vec<NewTopic> {
    let keys: Vec<String> = questions.iter().map(|(k, _)| k.clone()).collect();
    let labels = near_duplicate_join(&keys).labels;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        if groups.len() <= label {
            groups.resize(label + 1, Vec::new());
        }
        groups[label].push(i);
    }
    // Labels are numbered in order of first appearance, so ties keep that order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|members| NewTopic {
            title: questions[members[0]].1.clone(),
            members,
            first_seen: NaiveDateTime::default(),
        })
        .collect()
}

/// One included bot message of the period or of the previous one, with its effective
/// verdicts (marks applied, `super::marks::effective`).
#[derive(Debug, Clone, PartialEq)]
pub struct TopicMessage {
    pub message_id: String,
    pub user_key: String,
    pub local_time: NaiveDateTime,
    pub session_id: Option<String>,
    pub question: String,
    pub state: MessageState,
    /// Effective: an explicit knowledge mark overrides the rule.
    pub kb_hit: bool,
    /// The rule's transfer verdict.
    pub transfer: bool,
    pub has_like: bool,
    pub has_dislike: bool,
    /// Dated in the reported period (else in the previous one: `previous_count` only).
    pub in_period: bool,
}

/// A stored topic as the numbers need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicInfo {
    pub title: String,
    /// The earliest message the warehouse has seen in it.
    pub first_seen: NaiveDateTime,
}

/// One topic's numbers for a period (docs/metrics.md §9).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicKpis {
    pub id: i64,
    pub title: String,
    pub count: i64,
    pub users: i64,
    pub sessions: i64,
    pub answered: i64,
    pub kb_hits: i64,
    pub kb_hit_rate: Option<f64>,
    pub transfers: i64,
    pub transfer_rate: Option<f64>,
    pub likes: i64,
    pub dislikes: i64,
    pub unanswered: i64,
    pub previous_count: i64,
    pub new: bool,
    pub examples: Vec<String>,
    pub message_ids: Vec<String>,
}

/// The numbers of every topic with a message in the period, largest first (then by id).
/// `topic_of[i]` is message `i`'s topic; `period_start` decides `new` with the topic's stored
/// `first_seen`.
pub fn numbers(
    messages: &[TopicMessage],
    topic_of: &[i64],
    topics: &HashMap<i64, TopicInfo>,
    period_start: NaiveDateTime,
) -> Vec<TopicKpis> {
    let mut members: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, &t) in topic_of.iter().enumerate() {
        members.entry(t).or_default().push(i);
    }
    let mut out: Vec<TopicKpis> = members
        .into_iter()
        .filter_map(|(id, ms)| {
            let info = topics.get(&id)?;
            let rows: Vec<&TopicMessage> = ms.iter().map(|&i| &messages[i]).collect();
            let mut kpis = count(&rows, id, &info.title)?;
            kpis.new = info.first_seen >= period_start && kpis.previous_count == 0;
            Some(kpis)
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    out
}

/// The counts of one topic's messages, or `None` when none is in the period.
fn count(rows: &[&TopicMessage], id: i64, title: &str) -> Option<TopicKpis> {
    let (current, previous): (Vec<&TopicMessage>, Vec<&TopicMessage>) =
        rows.iter().partition(|m| m.in_period);
    if current.is_empty() {
        return None;
    }
    let answered = |m: &&&TopicMessage| m.state == MessageState::Answered;
    let n = |f: &dyn Fn(&&&TopicMessage) -> bool| current.iter().filter(|m| f(m)).count() as i64;
    let answered_n = n(&answered);
    let kb_hits = n(&|m| answered(m) && m.kb_hit);
    let transfers = n(&|m| answered(m) && m.transfer);
    let users: BTreeSet<&str> = current.iter().map(|m| m.user_key.as_str()).collect();
    let sessions: BTreeSet<&str> = current.iter().filter_map(|m| m.session_id.as_deref()).collect();
    let mut ordered = current.clone();
    ordered.sort_by(|a, b| a.local_time.cmp(&b.local_time).then(a.message_id.cmp(&b.message_id)));
    Some(TopicKpis {
        id,
        title: title.to_string(),
        count: current.len() as i64,
        users: users.len() as i64,
        sessions: sessions.len() as i64,
        answered: answered_n,
        kb_hits,
        kb_hit_rate: rate(kb_hits, answered_n),
        transfers,
        transfer_rate: rate(transfers, answered_n),
        likes: n(&|m| m.has_like),
        dislikes: n(&|m| m.has_dislike),
        unanswered: answered_n - kb_hits,
        previous_count: previous.len() as i64,
        new: false,
        examples: examples(&current),
        message_ids: ordered.iter().map(|m| m.message_id.clone()).collect(),
    })
}

/// Up to [`EXAMPLES`] distinct questions (NFKC, whitespace collapsed, as knowledge gaps show
/// them), most asked first.
fn examples(current: &[&TopicMessage]) -> Vec<String> {
    let mut asked: HashMap<String, usize> = HashMap::new();
    for m in current {
        *asked.entry(nfkc(&m.question).split_whitespace().collect::<Vec<_>>().join(" ")).or_default() += 1;
    }
    let mut asked: Vec<(String, usize)> = asked.into_iter().collect();
    asked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    asked.into_iter().take(EXAMPLES).map(|(q, _)| q).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::transform::gaps::{GapMessage, distinct};
    use chrono::NaiveDate;

    fn at(hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(hour, 0, 0).unwrap()
    }

    /// A topic of `count` answered messages asked by one user in one session, none before,
    /// no hit, transfer or feedback: the renderers' tests set the numbers they show.
    pub(crate) fn topic_kpis(id: i64, title: &str, count: i64) -> TopicKpis {
        TopicKpis {
            id,
            title: title.to_string(),
            count,
            users: 1,
            sessions: 1,
            answered: count,
            kb_hits: 0,
            kb_hit_rate: None,
            transfers: 0,
            transfer_rate: None,
            likes: 0,
            dislikes: 0,
            unanswered: 0,
            previous_count: 0,
            new: false,
            examples: vec![title.to_string()],
            message_ids: Vec::new(),
        }
    }

    /// The distinct questions of one 09:00 message per text (also `topics::place`'s tests).
    pub(crate) fn questions(texts: &[&str]) -> Vec<Distinct> {
        let messages: Vec<GapMessage> = texts
            .iter()
            .enumerate()
            .map(|(i, q)| GapMessage {
                message_id: format!("m{i}"),
                user_key: "u".into(),
                local_time: at(9),
                question: q.to_string(),
                in_period: true,
            })
            .collect();
        distinct(&messages)
    }

    #[test]
    fn stored_questions_keep_their_topic_and_near_duplicates_join_it() {
        let qs = questions(&[
            "打印机卡纸了",
            "VPN连不上怎么办",
            "VPN连不上怎么办呢",
            "报销流程",
            "报销流程",
            "报销流程",
            "打印机卡纸了吗",
        ]);
        let first = vec![at(9); qs.len()];
        let stored: HashMap<String, i64> =
            [("打印机卡纸了".to_string(), 7), ("vpn连不上".to_string(), 3)].into();
        let placed = place(&qs, &first, &stored);
        assert_eq!(placed.topics[0], Ok(7), "stored");
        assert_eq!(placed.topics[qs.len() - 1], Ok(7), "a near-duplicate of a stored question");
        // 「VPN连不上怎么办」 is not near 「vpn连不上」 (0.62): the two new wordings form one topic.
        assert_eq!(placed.topics[1], placed.topics[2]);
        assert!(placed.topics[1].is_err());
        assert_eq!(placed.new_topics.len(), 2);
        assert_eq!(placed.new_topics[0].title, "报销流程", "the largest new topic first");
        assert_eq!(place(&qs, &first, &stored), placed, "the same input, the same placement");
    }

    #[test]
    fn a_split_regroups_by_wording_largest_first() {
        let q = |k: &str| (k.to_string(), k.to_string());
        let groups = split_groups(&[q("报销流程"), q("vpn连不上了"), q("vpn连不上了吗"), q("vpn连不上了呢")]);
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].members.clone(), groups[0].title.as_str()), (vec![1, 2, 3], "vpn连不上了"));
        assert_eq!(groups[1].members, [0]);
        assert_eq!(split_groups(&[q("报销流程")]).len(), 1);
    }

    fn msg(id: &str, q: &str, state: MessageState, kb: bool, in_period: bool) -> TopicMessage {
        TopicMessage {
            message_id: id.into(),
            user_key: format!("user-{id}"),
            local_time: at(10),
            session_id: Some(format!("s-{id}")),
            question: q.into(),
            state,
            kb_hit: kb,
            transfer: !kb,
            has_like: kb,
            has_dislike: false,
            in_period,
        }
    }

    #[test]
    fn topic_numbers_follow_the_rules() {
        let messages = vec![
            msg("a", "VPN", MessageState::Answered, true, true),
            msg("b", "VPN", MessageState::Answered, false, true),
            msg("c", "VPN", MessageState::Error, false, true),
            msg("d", "VPN", MessageState::Answered, true, false),
            msg("e", "打印", MessageState::Pending, false, true),
        ];
        let topics: HashMap<i64, TopicInfo> = [
            (1, TopicInfo { title: "VPN".into(), first_seen: at(1) }),
            (2, TopicInfo { title: "打印".into(), first_seen: at(10) }),
        ]
        .into();
        let got = numbers(&messages, &[1, 1, 1, 1, 2], &topics, at(5));
        assert_eq!(got.len(), 2);
        let vpn = &got[0];
        assert_eq!((vpn.id, vpn.count, vpn.answered, vpn.kb_hits, vpn.unanswered), (1, 3, 2, 1, 1));
        assert_eq!((vpn.transfers, vpn.likes, vpn.users, vpn.sessions, vpn.previous_count), (1, 1, 3, 3, 1));
        assert_eq!(vpn.kb_hit_rate, Some(0.5));
        assert!(!vpn.new);
        assert_eq!(vpn.message_ids, ["a", "b", "c"]);
        let print = &got[1];
        assert_eq!((print.count, print.answered, print.kb_hit_rate, print.new), (1, 0, None, true));
    }
}
