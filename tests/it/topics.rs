//! Stored topics (docs/topics.md) through the real binary on both warehouses: ids kept from
//! one week to the next and on re-runs, new topics flagged, the numbers summing to the
//! report's totals (marks applied), and the operators' rename, merge and split surviving
//! later listings; a bad id changes nothing. By meaning, with the loopback embeddings and
//! chat service of `crate::gaps`: a later period's paraphrases join their topics, a new need
//! makes a new topic named once, and a service failing half-way leaves provisional topics
//! that the next healthy run stores.

use std::collections::{HashMap, HashSet};

use itstat::demo::pg::SchemaVersion;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::gaps::{INTENTS, LATER, Mode, Service, config, gaps_agree_with_topics, intent_name, labelled_day};
use crate::support::*;

const MISS: &str = "抱歉，您的问题可能不在服务业务范围内";

/// Week 1 (2026-10-26 … 11-01) and week 2 (11-02 … 11-08) of a small help desk. Returns the
/// dataset and the id of week 2's first 「打印机卡纸了」 message (marked a hit by the test).
fn two_weeks() -> (Small, uuid::Uuid) {
    let mut s = Small::new();
    let asked = [
        ("a", "2026-10-27 09:00:00", "VPN连不上", MISS),
        ("b", "2026-10-28 10:00:00", "VPN连不上", "请联系IT处理"),
        ("c", "2026-10-29 11:00:00", "打印机卡纸", "打开后盖取出纸张"),
        ("a", "2026-11-03 09:00:00", "vpn连不上！", MISS),
        ("d", "2026-11-03 09:30:00", "VPN 连不上", "请联系IT处理"),
        ("e", "2026-11-04 14:00:00", "报销流程是什么", "登录费控系统提交"),
        ("f", "2026-11-04 15:00:00", "报销流程是什么", MISS),
    ];
    for (user, at, q, answer) in asked {
        let mut m = Msg::new(user, at, answer);
        m.query = q;
        s.msg(m);
    }
    let mut jam = Msg::new("c", "2026-11-05 10:00:00", MISS);
    jam.query = "打印机卡纸了";
    let marked = s.msg(jam);
    let mut failed = Msg::new("g", "2026-11-05 11:00:00", "");
    failed.query = "打印机卡纸了";
    failed.status = "error";
    s.msg(failed);
    (s, marked)
}

async fn setup(backend: Backend) -> (TestDb, TestWarehouse, Env) {
    let (s, marked) = two_weeks();
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    env.ok(&["mark", &marked.to_string(), "--kb-hit", "yes", "--operator", "kim"]);
    (dify, wh, env)
}

fn topics(env: &Env, date: &str) -> Vec<Value> {
    let out = env.ok(&["topics", "--date", date, "--format", "json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    json["topics"].as_array().unwrap().clone()
}

fn topic_of<'a>(topics: &'a [Value], question: &str) -> &'a Value {
    topics
        .iter()
        .find(|t| t["examples"].as_array().unwrap().iter().any(|e| e == question))
        .unwrap_or_else(|| panic!("{question} is in no topic: {topics:?}"))
}

on_both_backends!(topics_keep_their_ids_and_their_numbers_sum_to_the_totals);

async fn topics_keep_their_ids_and_their_numbers_sum_to_the_totals(backend: Backend) {
    let (_dify, wh, env) = setup(backend).await;
    let week1 = topics(&env, "2026-10-28");
    assert_eq!(week1.len(), 2, "{week1:?}");
    let week2 = topics(&env, "2026-11-04");
    let vpn = topic_of(&week2, "vpn连不上!");
    assert_eq!(vpn["id"], topic_of(&week1, "VPN连不上")["id"], "the same question, the same topic");
    let jam = topic_of(&week2, "打印机卡纸了");
    assert_eq!(jam["id"], topic_of(&week1, "打印机卡纸")["id"], "a near-duplicate joins the stored topic");
    let expense = topic_of(&week2, "报销流程是什么");
    assert_eq!((expense["new"].as_bool(), expense["previous_count"].as_i64()), (Some(true), Some(0)));
    assert_eq!(
        (vpn["new"].as_bool(), vpn["previous_count"].as_i64(), vpn["count"].as_i64()),
        (Some(false), Some(2), Some(2))
    );
    assert_eq!(
        (vpn["answered"].as_i64(), vpn["kb_hits"].as_i64(), vpn["transfers"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(vpn["kb_hit_rate"].as_f64(), Some(0.5));
    // The mark made the missed 「打印机卡纸了」 a hit; the error counts but is not answered.
    assert_eq!(
        (jam["count"].as_i64(), jam["answered"].as_i64(), jam["kb_hits"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!((jam["unanswered"].as_i64(), jam["new"].as_bool()), (Some(0), Some(false)));
    assert_eq!(wh.count("SELECT COUNT(*) FROM topics").await, 3);

    // The topics' numbers add up to the report's totals, marks applied.
    let report = env.report(&["--period", "week", "--date", "2026-11-04"]);
    for (total, key) in [
        ("messages", "count"),
        ("answered", "answered"),
        ("kb_hits", "kb_hits"),
        ("transfer_messages", "transfers"),
        ("likes", "likes"),
        ("dislikes", "dislikes"),
    ] {
        let sum: i64 = week2.iter().map(|t| t[key].as_i64().unwrap()).sum();
        assert_eq!(sum, report["totals"][total].as_i64().unwrap(), "{key}");
    }

    // Re-running a past period gives the same ids and makes nothing.
    assert_eq!(topics(&env, "2026-10-28"), week1);
    assert_eq!(topics(&env, "2026-11-04"), week2);
    assert_eq!(wh.count("SELECT COUNT(*) FROM topics").await, 3);
}

on_both_backends!(rename_merge_and_split_survive_later_listings);

async fn rename_merge_and_split_survive_later_listings(backend: Backend) {
    let (_dify, wh, env) = setup(backend).await;
    let week2 = topics(&env, "2026-11-04");
    let id = |q: &str| topic_of(&week2, q)["id"].as_i64().unwrap().to_string();
    let (vpn, jam, expense) = (id("VPN 连不上"), id("打印机卡纸了"), id("报销流程是什么"));
    let (vpn, jam, expense) = (vpn.as_str(), jam.as_str(), expense.as_str());

    // Bad ids: one line, exit 1, nothing changed.
    let before = wh.count("SELECT COUNT(*) FROM topic_log").await;
    for args in [
        vec!["topics", "rename", "999", "x"],
        vec!["topics", "merge", vpn, "999"],
        vec!["topics", "merge", vpn, vpn],
        vec!["topics", "split", "999"],
        vec!["topics", "split", vpn],
        vec!["topics", "rename", "abc", "x"],
    ] {
        let stderr = env.fails(&args, 1);
        assert!(!error_line(&stderr).is_empty());
    }
    assert_eq!(wh.count("SELECT COUNT(*) FROM topic_log").await, before);
    assert_eq!(topics(&env, "2026-11-04"), week2);

    env.ok(&["topics", "rename", vpn, "VPN 故障", "--by", "kim"]);
    env.ok(&["topics", "merge", jam, expense, "--by", "kim"]);
    let merged = topics(&env, "2026-11-04");
    assert_eq!(topic_of(&merged, "vpn连不上!")["title"], "VPN 故障");
    assert_eq!(topic_of(&merged, "打印机卡纸了")["id"].as_i64().unwrap().to_string(), expense);
    assert_eq!(merged.len(), 2);
    env.fails(&["topics", "rename", jam, "x"], 1);

    // Split undoes the merge by wording: the group of the question the title came from keeps
    // the id.
    let said = env.ok(&["topics", "split", expense, "--by", "lee"]);
    assert!(said.contains("new topics"), "{said}");
    let split = topics(&env, "2026-11-04");
    assert_eq!(split.len(), 3);
    assert_eq!(topic_of(&split, "报销流程是什么")["id"].as_i64().unwrap().to_string(), expense);
    assert_ne!(topic_of(&split, "打印机卡纸了")["id"].as_i64().unwrap().to_string(), expense);
    assert_eq!(topic_of(&split, "vpn连不上!")["title"], "VPN 故障", "the rename survives");
    let log = wh.count("SELECT COUNT(*) FROM topic_log WHERE operator IN ('kim', 'lee')").await;
    assert_eq!(log, 3);
    let table = env.ok(&["topics", "--date", "2026-11-04", "--limit", "1"]);
    assert!(table.contains("VPN 故障") || table.contains("报销"), "{table}");
}

/// Asks each of `questions` once on `date`, missed by the knowledge base, from its own user.
fn ask(s: &mut Small, date: &str, questions: &[&str]) {
    for (n, q) in questions.iter().enumerate() {
        let at = format!("{date} {:02}:{:02}:00", 8 + n / 60, n % 60);
        let user = format!("u-{date}-{n}");
        let mut m = Msg::new(&user, &at, MISS);
        m.query = *q;
        s.msg(m);
    }
}

async fn with_service(
    backend: Backend,
    s: &Small,
    service: &Service,
    chat: bool,
) -> (TestDb, TestWarehouse, Env) {
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let extra = if chat {
        format!("chat_url = \"{}\"\nchat_model = \"Qwen3-30B-A3B-Instruct\"\n", service.url())
    } else {
        String::new()
    };
    let mut env = Env::new(Some(&dify.url), &wh.url, &config(service, &extra));
    env.extra.push(("ITSTAT_GAPS_API_KEY".into(), "gaps-key".into()));
    env.ok(&["ingest"]);
    (dify, wh, env)
}

fn ids(topics: &[Value]) -> HashSet<i64> {
    topics.iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

on_both_backends!(a_later_periods_paraphrases_join_their_topics_by_meaning);

/// Day 1 asks all but the last wording of each intent; day 2 asks those last wordings (no
/// wording in common with day 1) and a need nobody had. The paraphrases join their intent's
/// topic by meaning, the new need is a new topic the chat model names once, and re-running
/// day 1 gives the same ids and asks nothing.
async fn a_later_periods_paraphrases_join_their_topics_by_meaning(backend: Backend) {
    let service = Service::start();
    let mut s = Small::new();
    let (mut day1, mut day2, mut recurring) = (Vec::new(), Vec::new(), Vec::new());
    for (intent, _, questions) in INTENTS {
        if questions.len() >= 3 {
            day1.extend_from_slice(&questions[..questions.len() - 1]);
            day2.push(questions[questions.len() - 1]);
            recurring.push((questions[0], questions[questions.len() - 1], *intent));
        } else {
            day1.extend_from_slice(questions);
        }
    }
    day2.extend_from_slice(LATER[0].2);
    ask(&mut s, "2026-11-02", &day1);
    ask(&mut s, "2026-11-03", &day2);
    let (_dify, wh, env) = with_service(backend, &s, &service, true).await;
    let listing = |date: &str| -> Value {
        serde_json::from_str(&env.ok(&["topics", "--period", "day", "--date", date, "--format", "json"]))
            .unwrap()
    };
    let first = listing("2026-11-02");
    assert_eq!(first["grouped_by"], "meaning", "{first}");
    let week1 = first["topics"].as_array().unwrap().clone();
    let model = wh.count("SELECT COUNT(*) FROM meta WHERE key = 'topics_model:bge-m3'").await;
    assert_eq!(model, 1, "the model is stored the first time");
    let chats = service.chats();

    let second = listing("2026-11-03");
    assert_eq!(second["grouped_by"], "meaning", "{second}");
    let week2 = second["topics"].as_array().unwrap().clone();
    for (asked_first, asked_later, intent) in &recurring {
        assert_eq!(
            topic_of(&week2, asked_later)["id"],
            topic_of(&week1, asked_first)["id"],
            "{intent}: a paraphrase joins its topic"
        );
        assert_eq!(topic_of(&week2, asked_later)["new"], false, "{intent}");
    }
    let fresh = topic_of(&week2, LATER[0].2[0]);
    assert!(!ids(&week1).contains(&fresh["id"].as_i64().unwrap()), "{fresh}");
    assert_eq!((fresh["new"].as_bool(), fresh["count"].as_i64()), (Some(true), Some(3)), "{fresh}");
    assert_eq!(fresh["title"], intent_name(LATER[0].0), "named by the chat model");
    assert_eq!(service.chats(), chats + 1, "only the new topic is named");

    // Re-running day 1 gives the same ids and titles, and asks the services nothing.
    let (requests, chats) = (service.requests(), service.chats());
    assert_eq!(listing("2026-11-02")["topics"], first["topics"]);
    assert_eq!((service.requests(), service.chats()), (requests, chats));
    let titled = wh.count("SELECT COUNT(*) FROM topics WHERE title_source = 'chat'").await;
    assert_eq!(titled as usize, chats);
}

on_both_backends!(a_service_failing_half_way_leaves_provisional_topics_the_next_run_stores);

/// The labelled day and 40 unrelated questions: 73 distinct questions, two batches of
/// vectors. The service answers the first and fails the second: the report comes out with
/// the warning, every question in exactly one topic (the ones without a vector in provisional
/// topics, negative ids, not stored), gaps agreeing with topics, the first batch cached. The
/// next run with the service healthy asks only for the rest, and stores them by meaning.
async fn a_service_failing_half_way_leaves_provisional_topics_the_next_run_stores(backend: Backend) {
    let service = Service::start();
    let mut s = labelled_day();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let others: Vec<String> = (0..40)
        .map(|_| (0..8).map(|_| char::from_u32(0x4e00 + rng.random_range(0..2000)).unwrap()).collect())
        .collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    ask(&mut s, "2026-11-02", &others);
    let (_dify, wh, env) = with_service(backend, &s, &service, false).await;
    let distinct = INTENTS.iter().map(|(_, _, q)| q.len()).sum::<usize>() + 1 + others.len();
    let batch = 64;

    service.set(Mode::FailAfter(1));
    let report = env.report(&["--date", "2026-11-02"]);
    assert_eq!(report["gaps_grouped_by"], "wording");
    let warning = &report["warnings"][0];
    assert_eq!(warning["kind"], "gaps_by_wording", "{}", report["warnings"]);
    assert!(warning["message"].as_str().unwrap().contains("HTTP 500"), "{warning}");
    let topics = report["topics"].as_array().unwrap();
    let mut messages: Vec<&str> = topics
        .iter()
        .flat_map(|t| t["message_ids"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()))
        .collect();
    let listed = messages.len();
    messages.sort_unstable();
    messages.dedup();
    assert_eq!(messages.len(), listed, "no message in two topics");
    assert_eq!(listed as i64, report["totals"]["messages"].as_i64().unwrap(), "every message in a topic");
    assert!(topics.iter().any(|t| t["id"].as_i64().unwrap() < 0), "provisional topics");
    gaps_agree_with_topics(&report);
    assert_eq!(wh.count("SELECT COUNT(*) FROM gap_vectors").await, batch, "the first batch is cached");
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM topic_questions").await,
        batch,
        "only those with a vector are stored"
    );

    service.set(Mode::Ok);
    let embedded = service.embedded().len();
    let healed = env.report(&["--date", "2026-11-02"]);
    assert_eq!(healed["gaps_grouped_by"], "meaning", "{}", healed["warnings"]);
    assert_eq!(healed["warnings"], Value::Array(vec![]));
    assert_eq!(service.embedded().len() - embedded, distinct - batch as usize, "only the rest is asked for");
    assert_eq!(wh.count("SELECT COUNT(*) FROM topic_questions").await, distinct as i64);
    assert_eq!(wh.count("SELECT COUNT(*) FROM gap_vectors").await, distinct as i64);
    let healed_topics = healed["topics"].as_array().unwrap();
    assert!(healed_topics.iter().all(|t| t["id"].as_i64().unwrap() > 0), "nothing provisional");
    gaps_agree_with_topics(&healed);
    // What the first run stored kept its topic.
    let before: HashMap<i64, &Value> = topics
        .iter()
        .filter(|t| t["id"].as_i64().unwrap() > 0)
        .map(|t| (t["id"].as_i64().unwrap(), t))
        .collect();
    for t in healed_topics {
        if let Some(old) = before.get(&t["id"].as_i64().unwrap()) {
            assert_eq!(old["title"], t["title"]);
        }
    }
    assert_eq!(env.report(&["--date", "2026-11-02"])["topics"], healed["topics"], "stable once stored");
}
