//! `itstat report --format json`: the shape of docs/metrics.md §7 and period handling.

use crate::support::*;
use itstat::demo::pg::SchemaVersion;

const KPI_KEYS: &[&str] = &[
    "messages",
    "answered",
    "errors",
    "pending",
    "kb_hits",
    "kb_hit_rate",
    "transfer_messages",
    "bot_sessions",
    "manual_entries",
    "sessions",
    "users",
    "transfer_sessions",
    "manual_sessions",
    "self_resolved_sessions",
    "self_resolution_rate",
    "transfer_rate",
    "manual_rate",
    "likes",
    "dislikes",
    "satisfaction_rate",
    "tokens",
    "latency_avg_s",
    "latency_p95_s",
];

async fn small_env() -> (TestDb, Env) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启"));
    s.msg(Msg::new("zhangsan", "2026-11-02 09:05:00", "抱歉，您的问题可能不在服务业务范围内"));
    s.msg(Msg { status: "error", ..Msg::new("lisi", "2026-11-02 10:00:00", "") });
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wh.db").display());
    let env = Env::new(Some(&dify.url), &url, "");
    std::mem::forget(dir);
    env.ok(&["ingest"]);
    (dify, env)
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn json_has_the_contract_shape() {
    let (_dify, env) = small_env().await;
    let mut cmd = env.command(&["report", "--format", "json", "--period", "week", "--date", "2026-11-04"]);
    cmd.env("ITSTAT_NOW", "2026-11-10T08:00:00+08:00");
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r["period"],
        serde_json::json!({"kind": "week", "start": "2026-11-02", "end": "2026-11-08", "timezone": "Asia/Shanghai"})
    );
    for part in ["totals", "previous"] {
        let keys: Vec<&String> = r[part].as_object().unwrap().keys().collect();
        assert_eq!(keys, KPI_KEYS, "{part} keys, in contract order");
    }
    let daily = r["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7, "every date, also empty ones");
    assert_eq!(daily[0]["date"], "2026-11-02");
    assert_eq!(daily[1]["messages"], 0);
    assert_eq!(daily[1]["kb_hit_rate"], serde_json::Value::Null, "rates over nothing are null");
    assert_eq!(r["generated_at"], "2026-11-10T08:00:00+08:00");
    assert_eq!(r["data_through"], "2026-11-02T10:00:00+08:00");
    let t = &r["totals"];
    assert_eq!(
        (t["messages"].as_i64(), t["answered"].as_i64(), t["errors"].as_i64()),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(t["kb_hit_rate"].as_f64(), Some(0.5));
    assert_eq!((t["bot_sessions"].as_i64(), t["users"].as_i64()), (Some(2), Some(2)));
    // zhangsan's session is answered without transfer; lisi's has only an error.
    assert_eq!(t["self_resolution_rate"].as_f64(), Some(0.5));
    assert_eq!(t["tokens"], 240);
    assert_eq!(t["latency_avg_s"].as_f64(), Some(2.0));
    assert_eq!(r["previous"]["messages"], 0);
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn without_a_date_the_last_complete_period() {
    let (_dify, env) = small_env().await;
    let mut cmd = env.command(&["report", "--format", "json"]);
    cmd.env("ITSTAT_NOW", "2026-11-03T00:30:00+08:00");
    let r: serde_json::Value = serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap();
    assert_eq!(r["period"]["start"], "2026-11-02");
    assert_eq!(r["totals"]["messages"], 3);
    let mut cmd = env.command(&["report", "--format", "json", "--period", "month"]);
    cmd.env("ITSTAT_NOW", "2026-12-01T09:00:00+08:00");
    let r: serde_json::Value = serde_json::from_slice(&cmd.output().unwrap().stdout).unwrap();
    assert_eq!(
        (r["period"]["start"].as_str(), r["period"]["end"].as_str()),
        (Some("2026-11-01"), Some("2026-11-30"))
    );
    assert_eq!(r["daily"].as_array().unwrap().len(), 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_periods_are_refused() {
    let (_dify, env) = small_env().await;
    let cases: &[(&[&str], &str)] = &[
        (&["report", "--date", "2026-02-30"], "\"2026-02-30\" is not a date"),
        (&["report", "--period", "custom", "--from", "2026-11-05", "--to", "2026-11-01"], "after"),
        (&["report", "--period", "custom", "--from", "2026-11-05"], "needs both"),
        (&["report", "--period", "fortnight"], "fortnight"),
        (&["report", "--format", "pdf"], "pdf"),
    ];
    for (args, needle) in cases {
        let err = env.fails(args, 1);
        assert!(error_line(&err).contains(needle), "{args:?}: {err}");
    }
}

on_both_backends!(report_rows_follow_the_token_and_feedback_rules);

/// The KPI input query and the detail query compute `tokens`, `has_like` and `has_dislike` in
/// SQL; they must say what `transform::kpi::{message_tokens, has_rating}` say of the same
/// stored rows, for every combination of feedback sources and ratings.
async fn report_rows_follow_the_token_and_feedback_rules(backend: Backend) {
    use itstat::transform::kpi::{has_rating, message_tokens};
    use itstat::warehouse::{OpenMode, Warehouse};
    // (user rating, admin rating) per message.
    let cases: [(Option<&str>, Option<&str>); 7] = [
        (None, None),
        (Some("like"), None),
        (Some("like"), Some("like")),
        (None, Some("dislike")),
        (Some("like"), Some("dislike")),
        (Some("dislike"), Some("dislike")),
        (Some("dislike"), Some("like")),
    ];
    let mut s = Small::new();
    let ids: Vec<String> = (0..cases.len())
        .map(|i| {
            s.msg(Msg::new("zhangsan", &format!("2026-11-02 09:{:02}:00", i * 3), "请重启电脑")).to_string()
        })
        .collect();
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let mut sql = String::new();
    let mut expected = std::collections::HashMap::new();
    for (i, (id, (user, admin))) in ids.iter().zip(cases).enumerate() {
        let (question_tokens, answer_tokens) = (7 * i as i64 + 1, 100 * i as i64);
        sql += &format!(
            "UPDATE messages SET message_tokens = {question_tokens}, answer_tokens = {answer_tokens} WHERE message_id = '{id}';\n"
        );
        for (source, rating) in [("user", user), ("admin", admin)] {
            if let Some(rating) = rating {
                sql += &format!(
                    "INSERT INTO feedbacks (message_id, from_source, rating, created_at) VALUES ('{id}', '{source}', '{rating}', '2026-11-02 10:00:00');\n"
                );
            }
        }
        let ratings = [user, admin];
        let rated = |r: &str| has_rating(ratings.iter().flatten().copied(), r);
        expected.insert(
            id.clone(),
            (message_tokens(question_tokens, answer_tokens), rated("like"), rated("dislike")),
        );
    }
    wh.exec(&sql).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let warehouse = Warehouse::open(&wh.url, OpenMode::ExistingOnly).await.unwrap();
    let kpi_rows = warehouse.report_messages(day, day).await.unwrap();
    let column = |name: &str| kpi_rows.column(name).unwrap().clone();
    let (message_ids, tokens) = (column("message_id"), column("tokens"));
    let (likes, dislikes) = (column("has_like"), column("has_dislike"));
    assert_eq!(kpi_rows.height(), ids.len());
    for i in 0..kpi_rows.height() {
        let id = message_ids.str().unwrap().get(i).unwrap();
        let got = (
            tokens.i64().unwrap().get(i).unwrap(),
            likes.bool().unwrap().get(i).unwrap(),
            dislikes.bool().unwrap().get(i).unwrap(),
        );
        assert_eq!(got, expected[id], "KPI input row of message {id}");
    }
    let detail = warehouse.detail_messages(day, day).await.unwrap();
    assert_eq!(detail.len(), ids.len());
    for m in detail {
        let (_, like, dislike) = expected[&m.head.message_id];
        assert_eq!(
            (m.has_like, m.has_dislike),
            (like, dislike),
            "detail row of message {}",
            m.head.message_id
        );
    }
    warehouse.close().await;
}
