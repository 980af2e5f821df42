//! An independent implementation of docs/metrics.md for the default rules, written with plain loops
//! over the generated Dify rows (no Polars, no warehouse), to check the binary's numbers.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use itstat::demo::generator::Dataset;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

/// One message as the rules see it.
#[derive(Debug, Clone)]
pub struct RefMessage {
    pub id: String,
    pub user: String,
    pub utc: NaiveDateTime,
    pub date: NaiveDate,
    pub state: &'static str,
    pub kb_hit: bool,
    pub transfer: bool,
    pub included: bool,
    pub tokens: i64,
    pub latency: f64,
    pub like: bool,
    pub dislike: bool,
}

fn nfkc(s: &str) -> String {
    s.nfkc().collect()
}

/// The messages of a dataset under the default rules (Asia/Shanghai is UTC+8 all year).
pub fn messages(data: &Dataset) -> Vec<RefMessage> {
    let users: HashMap<_, _> = data.end_users.iter().map(|u| (u.id, u.session_id.clone())).collect();
    let emails: HashMap<_, _> = data.accounts.iter().map(|a| (a.id, a.email.clone())).collect();
    let miss = nfkc("抱歉，您的问题可能不在服务业务范围内");
    let mut out = Vec::new();
    for m in &data.messages {
        let user = match (m.from_account_id, m.from_end_user_id) {
            (Some(a), _) => emails.get(&a).cloned(),
            (None, Some(u)) => users.get(&u).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| "unknown".into());
        let state = if m.status == "error" {
            "error"
        } else if m.status == "normal" && !m.answer.trim().is_empty() {
            "answered"
        } else {
            "pending"
        };
        let answer = nfkc(&m.answer);
        let local = m.created_at + Duration::hours(8);
        let like = data.feedbacks.iter().any(|f| f.message_id == m.id && f.rating == "like");
        let dislike = data.feedbacks.iter().any(|f| f.message_id == m.id && f.rating == "dislike");
        out.push(RefMessage {
            id: m.id.to_string(),
            user,
            utc: m.created_at,
            date: local.date(),
            state,
            kb_hit: state == "answered" && !answer.contains(&miss),
            transfer: state == "answered" && answer.contains("IT"),
            included: m.invoke_from.as_deref() != Some("debugger"),
            tokens: (m.message_tokens + m.answer_tokens) as i64,
            latency: m.latency_s,
            like,
            dislike,
        });
    }
    out
}

/// Anchored sessions with a 15-minute window: session id → (start date, message indexes).
pub fn sessions(msgs: &[RefMessage]) -> BTreeMap<String, (NaiveDate, Vec<usize>)> {
    let mut by_user: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, m) in msgs.iter().enumerate().filter(|(_, m)| m.included) {
        by_user.entry(&m.user).or_default().push(i);
    }
    let mut out = BTreeMap::new();
    for (_, mut idx) in by_user {
        idx.sort_by(|a, b| (msgs[*a].utc, &msgs[*a].id).cmp(&(msgs[*b].utc, &msgs[*b].id)));
        let mut current: Option<(String, NaiveDateTime)> = None;
        for i in idx {
            let m = &msgs[i];
            let open = match &current {
                None => true,
                Some((_, start)) => m.utc >= *start + Duration::minutes(15),
            };
            if open {
                current = Some((m.id.clone(), m.utc));
                out.insert(m.id.clone(), (m.date, Vec::new()));
            }
            let sid = current.as_ref().unwrap().0.clone();
            out.get_mut(&sid).unwrap().1.push(i);
        }
    }
    out
}

fn rate(n: i64, d: i64) -> Value {
    if d == 0 { Value::Null } else { json!(n as f64 / d as f64) }
}

fn p95(mut v: Vec<f64>) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pos = 0.95 * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    json!(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Every KPI of docs/metrics.md §5 for local dates `from..=to` (no marks, no manual entries).
pub fn kpis(msgs: &[RefMessage], from: NaiveDate, to: NaiveDate) -> Value {
    let inr = |d: NaiveDate| d >= from && d <= to;
    let dated: Vec<&RefMessage> = msgs.iter().filter(|m| m.included && inr(m.date)).collect();
    let count = |f: &dyn Fn(&RefMessage) -> bool| dated.iter().filter(|m| f(m)).count() as i64;
    let answered = count(&|m| m.state == "answered");
    let kb_hits = count(&|m| m.kb_hit);
    let likes = count(&|m| m.like);
    let dislikes = count(&|m| m.dislike);
    let latencies: Vec<f64> = dated.iter().filter(|m| m.state == "answered").map(|m| m.latency).collect();
    let avg = if latencies.is_empty() {
        Value::Null
    } else {
        json!(latencies.iter().sum::<f64>() / latencies.len() as f64)
    };
    let (mut bot, mut transfer_s, mut self_s) = (0i64, 0i64, 0i64);
    for (date, idx) in sessions(msgs).values() {
        if !inr(*date) {
            continue;
        }
        bot += 1;
        let has_transfer = idx.iter().any(|i| msgs[*i].transfer);
        let has_answer = idx.iter().any(|i| msgs[*i].state == "answered");
        transfer_s += has_transfer as i64;
        self_s += (has_answer && !has_transfer) as i64;
    }
    let users: HashSet<&str> = dated.iter().map(|m| m.user.as_str()).collect();
    json!({
        "messages": dated.len(),
        "answered": answered,
        "errors": count(&|m| m.state == "error"),
        "pending": count(&|m| m.state == "pending"),
        "kb_hits": kb_hits,
        "kb_hit_rate": rate(kb_hits, answered),
        "transfer_messages": count(&|m| m.transfer),
        "bot_sessions": bot,
        "manual_entries": 0,
        "sessions": bot,
        "users": users.len(),
        "transfer_sessions": transfer_s,
        "manual_sessions": 0,
        "self_resolved_sessions": self_s,
        "self_resolution_rate": rate(self_s, bot),
        "transfer_rate": rate(transfer_s, bot),
        "manual_rate": rate(0, bot),
        "likes": likes,
        "dislikes": dislikes,
        "satisfaction_rate": rate(likes, likes + dislikes),
        "tokens": dated.iter().map(|m| m.tokens).sum::<i64>(),
        "latency_avg_s": avg,
        "latency_p95_s": p95(latencies),
    })
}

/// Asserts two KPI objects agree: counts exactly, rates within 1e-9.
pub fn assert_kpis_eq(actual: &Value, expected: &Value, what: &str) {
    let exp = expected.as_object().unwrap();
    for (key, want) in exp {
        let got = &actual[key];
        match (got.as_f64(), want.as_f64()) {
            (Some(g), Some(w)) if want.is_f64() || got.is_f64() => {
                assert!((g - w).abs() < 1e-9, "{what}: `{key}` is {got}, expected {want}")
            }
            _ => assert_eq!(got, want, "{what}: `{key}`"),
        }
    }
}
