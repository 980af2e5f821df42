//! Stored topics (docs/topics.md) through the real binary on both warehouses: ids kept from
//! one week to the next and on re-runs, new topics flagged, the numbers summing to the
//! report's totals (marks applied), and the operators' rename, merge and split surviving
//! later listings; a bad id changes nothing.

use itstat::demo::pg::SchemaVersion;
use serde_json::Value;

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
