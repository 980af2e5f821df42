//! `itstat ingest` against a real Dify-shaped PostgreSQL, on both warehouse backends.

use chrono::{Duration, NaiveDate};
use itstat::demo::generator::{Dataset, GenConfig, generate};
use itstat::demo::pg::{self, SchemaVersion};
use rand::{Rng, SeedableRng};
use sqlx::Connection;

use crate::reference;
use crate::support::*;

on_both_backends!(
    generated_history_matches_the_reference,
    second_run_changes_nothing,
    incremental_runs_equal_one_full_run,
    late_answer_is_reclassified,
    blank_answers_are_re_read_until_pending_max_age,
    days_follow_the_configured_zone_across_daylight_saving,
    rows_committed_behind_the_cursor,
    message_exactly_one_window_after_the_start_opens_a_session,
    session_across_local_midnight_belongs_to_its_first_day,
    ties_on_created_at_are_ordered_by_id,
    debugger_and_excluded_users_are_left_out,
    hard_deleted_conversation_stays_counted,
    feedback_changed_removed_and_purged,
    narrowing_the_apps_leaves_the_others_out,
    a_bad_export_file_changes_nothing,
    old_dify_schema_without_optional_columns,
    rule_change_reclassifies_without_reading_dify,
    reclassify_in_small_groups_equals_a_fresh_load,
    reclassify_rewrites_verdicts_stored_wrong,
    #[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
    killed_ingest_resumes_to_the_same_warehouse,
    first_load_in_small_batches_equals_one_batch,
    marks_made_before_a_first_load_count_in_its_sessions,
    second_ingest_waits_then_gives_up,
    hashes_of_an_older_itstat_are_recomputed_once,
);

/// The secondary indexes of messages and sessions (migrations/*/0001, less 0004's).
pub(crate) const INDEXES: [&str; 7] = [
    "messages_created_at_idx",
    "messages_local_date_idx",
    "messages_pending_idx",
    "messages_session_date_idx",
    "messages_user_time_idx",
    "sessions_local_date_idx",
    "sessions_user_idx",
];

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn setup(data: &Dataset, backend: Backend, config: &str) -> (TestDb, Env, TestWarehouse) {
    let dify = dify_with(data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, config);
    (dify, env, wh)
}

async fn generated_history_matches_the_reference(backend: Backend) {
    let cfg = GenConfig { messages: 1500, days: 10, users: 40, ..GenConfig::default() };
    let data = generate(&cfg);
    let (_dify, env, _wh) = setup(&data, backend, "").await;
    env.ok(&["ingest"]);
    let msgs = reference::messages(&data);
    let week = env.report(&["--period", "week", "--date", "2026-11-18"]);
    assert_eq!(week["period"]["start"], "2026-11-16");
    reference::assert_kpis_eq(
        &week["totals"],
        &reference::kpis(&msgs, d("2026-11-16"), d("2026-11-22")),
        "week",
    );
    reference::assert_kpis_eq(
        &week["previous"],
        &reference::kpis(&msgs, d("2026-11-09"), d("2026-11-15")),
        "previous week",
    );
    let daily = week["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 7);
    for day in daily {
        let date = d(day["date"].as_str().unwrap());
        reference::assert_kpis_eq(day, &reference::kpis(&msgs, date, date), &format!("day {date}"));
    }
    // The data is not trivially empty: the comparison above means something.
    assert!(week["totals"]["messages"].as_i64().unwrap() > 500);
    assert!(week["totals"]["transfer_sessions"].as_i64().unwrap() > 10);
    assert!(week["totals"]["likes"].as_i64().unwrap() > 5);
}

async fn second_run_changes_nothing(backend: Backend) {
    let data = generate(&GenConfig { messages: 600, ..GenConfig::default() });
    let (_dify, env, wh) = setup(&data, backend, "").await;
    let first = env.ok(&["ingest"]);
    assert!(first.contains(&format!("{} new", data.messages.len())), "{first}");
    let (messages, sessions) = (wh.messages_dump().await, wh.sessions_dump().await);
    let second = env.ok(&["ingest"]);
    assert!(second.contains(" 0 new, 0 changed, 0 feedback changes"), "{second}");
    assert_eq!(wh.messages_dump().await, messages);
    assert_eq!(wh.sessions_dump().await, sessions);
    let runs = wh
        .query_strings("SELECT outcome || ':' || CAST(rows_new AS TEXT) FROM ingest_runs ORDER BY run_id")
        .await;
    assert_eq!(runs, vec![format!("ok:{}", data.messages.len()), "ok:0".to_string()]);
}

/// Dify receives the history step by step, with rows committed late behind the cursor and
/// answers filled in after the first read; ingest runs after each step with a random batch
/// size. The warehouse must equal one full run over the final Dify.
async fn incremental_runs_equal_one_full_run(backend: Backend) {
    let data = generate(&GenConfig { messages: 1200, days: 8, users: 30, seed: 11, ..GenConfig::default() });
    let dify = TestDb::create("dify").await;
    let mut conn = dify.connect().await;
    pg::create_schema(&mut conn, SchemaVersion::V1_14).await.unwrap();
    let base = Dataset { messages: vec![], feedbacks: vec![], ..data.clone() };
    pg::load(&mut conn, &base, SchemaVersion::V1_14).await.unwrap();

    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(backend as u64 + 3);
    let first = data.messages.first().unwrap().created_at;
    let last = data.messages.last().unwrap().created_at;
    let steps = 12;
    let step = (last - first) / steps;
    let mut loaded = std::collections::HashSet::new();
    let mut blank: Vec<uuid::Uuid> = Vec::new();
    for k in 1..=steps + 1 {
        let until = first + step * k;
        // Rows of this step, except ~5% that commit late (they arrive with the next step, up to
        // an hour behind the cursor, inside the two-hour look-back).
        let mut batch = Dataset::default();
        for m in &data.messages {
            if loaded.contains(&m.id) || m.created_at > until {
                continue;
            }
            let late = m.created_at > until - Duration::hours(1) && rng.random_bool(0.05) && k <= steps;
            if late {
                continue;
            }
            let mut row = m.clone();
            // ~10% of answered rows are first seen blank and answered one step later.
            if row.status == "normal" && !row.answer.is_empty() && rng.random_bool(0.1) && k <= steps {
                row.answer = String::new();
                blank.push(row.id);
            }
            loaded.insert(m.id);
            batch.messages.push(row);
        }
        pg::load(&mut conn, &batch, SchemaVersion::V1_14).await.unwrap();
        let size = rng.random_range(1..400).to_string();
        let mut cmd = env.command(&["ingest"]);
        cmd.env("ITSTAT_BATCH_SIZE", &size);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "step {k}: {}", String::from_utf8_lossy(&out.stderr));
        // Fill the answers of the rows that were blank at this read.
        for id in blank.drain(..) {
            let m = data.messages.iter().find(|m| m.id == id).unwrap();
            sqlx::query("UPDATE messages SET answer = $1 WHERE id = $2")
                .bind(&m.answer)
                .bind(id)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    assert_eq!(loaded.len(), data.messages.len());
    let feedback = Dataset { feedbacks: data.feedbacks.clone(), ..Dataset::default() };
    pg::load(&mut conn, &feedback, SchemaVersion::V1_14).await.unwrap();
    env.ok(&["ingest"]);

    let full_wh = TestWarehouse::new(backend).await;
    let full = Env::new(Some(&dify.url), &full_wh.url, "");
    let mut cmd = full.command(&["ingest"]);
    cmd.env("ITSTAT_BATCH_SIZE", "100000");
    assert!(cmd.output().unwrap().status.success());

    let (inc, one) = (wh.messages_dump().await, full_wh.messages_dump().await);
    assert_eq!(inc.len(), data.messages.len());
    assert_eq!(inc, one, "messages differ");
    assert_eq!(wh.sessions_dump().await, full_wh.sessions_dump().await, "sessions differ");
    let cols = ["message_id", "from_source", "rating"];
    let order = "message_id, from_source";
    assert_eq!(wh.dump("feedbacks", &cols, order).await, full_wh.dump("feedbacks", &cols, order).await);
    let a = env.report(&["--period", "custom", "--from", "2026-11-15", "--to", "2026-11-22"]);
    let b = full.report(&["--period", "custom", "--from", "2026-11-15", "--to", "2026-11-22"]);
    assert_eq!(a["totals"], b["totals"]);
    conn.close().await.ok();
}

async fn late_answer_is_reclassified(backend: Backend) {
    let mut s = Small::new();
    let pending = s.msg(Msg::new("zhangsan", "2026-11-02 10:00:00", ""));
    s.msg(Msg::new("zhangsan", "2026-11-02 10:05:00", "请重启电脑"));
    let (dify, env, _wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    let day = env.report(&["--date", "2026-11-02"]);
    assert_eq!(day["totals"]["pending"], 1);
    assert_eq!(day["totals"]["self_resolved_sessions"], 1);
    dify.exec(&format!(
        "UPDATE messages SET answer = '请联系IT服务台', message_tokens = 10 WHERE id = '{pending}'"
    ))
    .await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains("1 changed"), "{out}");
    let day = env.report(&["--date", "2026-11-02"]);
    assert_eq!(day["totals"]["pending"], 0);
    assert_eq!(day["totals"]["answered"], 2);
    assert_eq!(day["totals"]["transfer_messages"], 1);
    assert_eq!(day["totals"]["transfer_sessions"], 1);
    assert_eq!(day["totals"]["self_resolved_sessions"], 0);
}

/// dify.md §3: a blank answer is re-read by later runs, behind the look-back window, until it
/// is `pending_max_age` older than the cursor; past that it is final (only `--full` or
/// `--since` read it again).
async fn blank_answers_are_re_read_until_pending_max_age(backend: Backend) {
    let mut s = Small::new();
    let old = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", ""));
    let young = s.msg(Msg::new("lisi", "2026-11-02 10:30:00", ""));
    s.msg(Msg::new("wangwu", "2026-11-02 11:10:00", "请重启电脑"));
    let config = "[dify]\nlookback = \"10m\"\npending_max_age = \"1h\"\n";
    let (dify, env, _wh) = setup(&s.data, backend, config).await;
    env.ok(&["ingest"]);
    let totals = |env: &Env| {
        let t = env.report(&["--date", "2026-11-02"])["totals"].clone();
        (t["answered"].as_i64().unwrap(), t["pending"].as_i64().unwrap())
    };
    assert_eq!(totals(&env), (1, 2));
    // Both get their answers in Dify. The cursor is 11:10: the look-back reads from 11:00, and
    // pending messages from 10:10 on are re-read; 09:00 is past the age limit.
    dify.exec(&format!("UPDATE messages SET answer = '已处理' WHERE id IN ('{old}', '{young}')")).await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains("1 changed"), "{out}");
    assert_eq!(totals(&env), (2, 1), "the young blank was re-read, the old one is final");
    env.ok(&["ingest", "--full"]);
    assert_eq!(totals(&env), (3, 0), "--full reads it again");
}

/// docs/metrics.md §2, §6: dates are local to `timezone`, daylight saving included. Europe/Berlin
/// leaves summer time on 2026-10-25 (a 25-hour day; 02:30 happens twice).
async fn days_follow_the_configured_zone_across_daylight_saving(backend: Backend) {
    let mut s = Small::new();
    // `Msg` times are Shanghai's (UTC+8); the comments give UTC and Berlin.
    s.msg(Msg::new("zhangsan", "2026-10-25 05:50:00", "a")); // 10-24 21:50 UTC, 23:50 CEST
    s.msg(Msg::new("zhangsan", "2026-10-25 06:00:00", "a")); // 22:00 UTC, 10-25 00:00 CEST
    s.msg(Msg::new("lisi", "2026-10-25 08:30:00", "a")); // 10-25 00:30 UTC, 02:30 CEST
    s.msg(Msg::new("lisi", "2026-10-25 09:30:00", "a")); // 01:30 UTC, 02:30 CET
    s.msg(Msg::new("wangwu", "2026-10-26 06:30:00", "a")); // 10-25 22:30 UTC, 23:30 CET
    s.msg(Msg::new("wangwu", "2026-10-26 07:30:00", "a")); // 23:30 UTC, 10-26 00:30 CET
    let (_dify, env, _wh) = setup(&s.data, backend, "timezone = \"Europe/Berlin\"\n").await;
    env.ok(&["ingest"]);
    let r = env.report(&["--period", "custom", "--from", "2026-10-24", "--to", "2026-10-26"]);
    assert_eq!(r["period"]["timezone"], "Europe/Berlin");
    let days: Vec<(i64, i64)> = r["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["messages"].as_i64().unwrap(), d["bot_sessions"].as_i64().unwrap()))
        .collect();
    // zhangsan's session opens on the 24th and takes the midnight message; lisi's two 02:30s
    // are an hour apart, two sessions; wangwu's second message is on the 26th, an hour later.
    assert_eq!(days, [(1, 1), (4, 3), (1, 1)]);
    assert_eq!(r["data_through"], "2026-10-26T00:30:00+01:00");
    let week = env.report(&["--period", "week", "--date", "2026-10-25"]);
    assert_eq!(
        (week["period"]["start"].as_str(), week["period"]["end"].as_str()),
        (Some("2026-10-19"), Some("2026-10-25"))
    );
    assert_eq!(week["totals"]["messages"], 5);
    assert_eq!(week["totals"]["bot_sessions"], 4);
}

async fn rows_committed_behind_the_cursor(backend: Backend) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 12:00:00", "好的"));
    let (dify, env, wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    // Committed after the run, 90 minutes behind the cursor (inside the 2 h look-back) and
    // 3 hours behind it (outside: only `--since` finds it).
    let mut late = Small::more(1000);
    let inside = late.msg(Msg::new("lisi", "2026-11-02 10:30:00", "好的"));
    let outside = late.msg(Msg::new("wangwu", "2026-11-02 09:00:00", "好的"));
    let mut conn = dify.connect().await;
    pg::load(&mut conn, &late.data, SchemaVersion::V1_14).await.unwrap();
    env.ok(&["ingest"]);
    let has = |id: uuid::Uuid| {
        let wh = &wh;
        async move { wh.count(&format!("SELECT COUNT(*) FROM messages WHERE message_id = '{id}'")).await }
    };
    assert_eq!(has(inside).await, 1);
    assert_eq!(has(outside).await, 0);
    env.ok(&["ingest", "--since", "2026-11-02"]);
    assert_eq!(has(outside).await, 1);
    let cursor = wh.query_strings("SELECT value FROM meta WHERE key = 'cursor'").await;
    assert_eq!(cursor, vec!["2026-11-02 04:00:00.000000".to_string()], "the cursor never moves back");
}

async fn message_exactly_one_window_after_the_start_opens_a_session(backend: Backend) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    s.msg(Msg::new("zhangsan", "2026-11-02 09:14:59.999999", "b"));
    s.msg(Msg::new("zhangsan", "2026-11-02 09:15:00", "c"));
    s.msg(Msg::new("zhangsan", "2026-11-02 09:20:00", "d"));
    let (_dify, env, _wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["bot_sessions"], 2);
    // Idle mode counts gaps: 09:14:59 → 09:15:00 → 09:20:00 are all under 15 minutes apart.
    std::fs::write(env.path().join("itstat.toml"), "[session]\nmode = \"idle\"\n").unwrap();
    env.ok(&["ingest"]);
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["bot_sessions"], 1);
}

async fn session_across_local_midnight_belongs_to_its_first_day(backend: Backend) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 23:55:00", "请重启"));
    s.msg(Msg::new("zhangsan", "2026-11-03 00:05:00", "请联系IT同事"));
    let (_dify, env, _wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    let r = env.report(&["--period", "custom", "--from", "2026-11-02", "--to", "2026-11-03"]);
    let (d2, d3) = (&r["daily"][0], &r["daily"][1]);
    assert_eq!((d2["messages"].as_i64(), d2["bot_sessions"].as_i64()), (Some(1), Some(1)));
    assert_eq!((d3["messages"].as_i64(), d3["bot_sessions"].as_i64()), (Some(1), Some(0)));
    // The transfer on the 3rd belongs to the session of the 2nd.
    assert_eq!(d2["transfer_sessions"], 1);
    assert_eq!(d2["transfer_messages"], 0);
    assert_eq!(d3["transfer_messages"], 1);
    assert_eq!(d3["transfer_rate"], serde_json::Value::Null);
    assert_eq!(r["totals"]["sessions"], 1);
}

async fn ties_on_created_at_are_ordered_by_id(backend: Backend) {
    let mut s = Small::new();
    let a = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let b = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "b"));
    let c = s.msg(Msg::new("zhangsan", "2026-11-02 09:15:00", "c"));
    assert!(a < b);
    let (_dify, env, wh) = setup(&s.data, backend, "").await;
    let mut cmd = env.command(&["ingest"]);
    cmd.env("ITSTAT_BATCH_SIZE", "1");
    assert!(cmd.output().unwrap().status.success());
    let sessions = wh.query_strings("SELECT session_id FROM messages ORDER BY message_id").await;
    assert_eq!(sessions, vec![a.to_string(), a.to_string(), c.to_string()]);
}

async fn debugger_and_excluded_users_are_left_out(backend: Backend) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    s.msg(Msg { invoke_from: Some("debugger"), ..Msg::new("admin@example.com", "2026-11-02 09:01:00", "a") });
    s.msg(Msg { invoke_from: Some("explore"), ..Msg::new("admin@example.com", "2026-11-02 09:02:00", "a") });
    s.msg(Msg { invoke_from: None, ..Msg::new("legacy", "2026-11-02 09:03:00", "a") });
    s.msg(Msg::new("tester", "2026-11-02 09:04:00", "a"));
    let (_dify, env, wh) = setup(&s.data, backend, "[dify]\nexclude_users = [\"tester\"]\n").await;
    env.ok(&["ingest"]);
    let t = &env.report(&["--date", "2026-11-02"])["totals"];
    // zhangsan, the explore message (user key = the account email) and the pre-0.6 NULL row.
    assert_eq!(t["messages"], 3);
    assert_eq!(t["users"], 3);
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, 5, "excluded rows are stored, not counted");
}

async fn hard_deleted_conversation_stays_counted(backend: Backend) {
    let mut s = Small::new();
    let id = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    s.msg(Msg::new("lisi", "2026-11-02 09:00:00", "b"));
    let (dify, env, _wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    dify.exec(&format!(
        "DELETE FROM conversations WHERE id = (SELECT conversation_id FROM messages WHERE id = '{id}');
         DELETE FROM messages WHERE id = '{id}';"
    ))
    .await;
    env.ok(&["ingest"]);
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["messages"], 2);
    env.ok(&["ingest", "--full"]);
    assert_eq!(
        env.report(&["--date", "2026-11-02"])["totals"]["messages"],
        2,
        "--full re-reads but never deletes"
    );
}

async fn feedback_changed_removed_and_purged(backend: Backend) {
    let mut s = Small::new();
    let m1 = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let m2 = s.msg(Msg::new("lisi", "2026-11-02 09:00:00", "b"));
    let m3 = s.msg(Msg::new("wangwu", "2026-11-02 09:00:00", "c"));
    let (dify, env, _wh) = setup(&s.data, backend, "").await;
    let app = s.app_id();
    dify.exec(&format!(
        "INSERT INTO message_feedbacks (app_id, conversation_id, message_id, rating, from_source) VALUES
         ('{app}', '{app}', '{m1}', 'like', 'user'), ('{app}', '{app}', '{m1}', 'like', 'admin'),
         ('{app}', '{app}', '{m2}', 'like', 'user'), ('{app}', '{app}', '{m3}', 'dislike', 'user');"
    ))
    .await;
    env.ok(&["ingest"]);
    let t = env.report(&["--date", "2026-11-02"])["totals"].clone();
    assert_eq!((t["likes"].as_i64(), t["dislikes"].as_i64()), (Some(2), Some(1)));
    // m1's user like becomes a dislike (admin like stays), m2's like is withdrawn, m3 is purged
    // from Dify with its feedback: its vote stays with it.
    dify.exec(&format!(
        "UPDATE message_feedbacks SET rating = 'dislike' WHERE message_id = '{m1}' AND from_source = 'user';
         DELETE FROM message_feedbacks WHERE message_id = '{m2}';
         DELETE FROM message_feedbacks WHERE message_id = '{m3}';
         DELETE FROM messages WHERE id = '{m3}';"
    ))
    .await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains("2 feedback changes"), "{out}");
    let t = env.report(&["--date", "2026-11-02"])["totals"].clone();
    assert_eq!((t["likes"].as_i64(), t["dislikes"].as_i64()), (Some(1), Some(2)));
    assert_eq!(t["satisfaction_rate"].as_f64(), Some(1.0 / 3.0));
}

/// docs/metrics.md §1: only the configured apps count. Narrowing `[dify] apps` after a load of
/// every app must leave the other app's stored messages out of every number (they stay
/// stored, and their feedback stays Dify's), and widening it again brings them back.
async fn narrowing_the_apps_leaves_the_others_out(backend: Backend) {
    let data = generate(&GenConfig { messages: 900, days: 7, users: 30, seed: 5, ..GenConfig::default() });
    let it_app = data.apps.iter().find(|a| a.name == "IT 助手").unwrap().id;
    let only_it = Dataset {
        messages: data.messages.iter().filter(|m| m.app_id == it_app).cloned().collect(),
        ..data.clone()
    };
    assert!(only_it.messages.len() < data.messages.len() - 30, "both apps have messages");
    let (_dify, env, wh) = setup(&data, backend, "").await;
    env.ok(&["ingest"]);
    let feedback_rows = wh.count("SELECT COUNT(*) FROM feedbacks").await;
    let week = |env: &Env| env.report(&["--period", "week", "--date", "2026-11-18"])["totals"].clone();
    let (start, end) = (d("2026-11-16"), d("2026-11-22"));
    let all = reference::kpis(&reference::messages(&data), start, end);
    reference::assert_kpis_eq(&week(&env), &all, "every app");

    std::fs::write(env.path().join("itstat.toml"), "[dify]\napps = [\"IT 助手\"]\n").unwrap();
    env.ok(&["ingest"]);
    let it = reference::kpis(&reference::messages(&only_it), start, end);
    reference::assert_kpis_eq(&week(&env), &it, "IT 助手 only");
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM messages").await,
        data.messages.len() as i64,
        "nothing deleted"
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM feedbacks").await, feedback_rows, "feedback kept");
    // A reclassification without Dify keeps the selection it was given.
    env.ok(&["ingest", "--reclassify"]);
    reference::assert_kpis_eq(&week(&env), &it, "IT 助手 only, reclassified");

    std::fs::write(env.path().join("itstat.toml"), "").unwrap();
    env.ok(&["ingest"]);
    reference::assert_kpis_eq(&week(&env), &all, "every app again");
}

/// `ingest --from-file` checks the whole file before it writes: a bad row after many good
/// batches, a GBK file or an empty one stops the run (exit 1, naming the file and row) with
/// the warehouse as it was; a BOM-prefixed export (Excel's "CSV UTF-8") loads.
async fn a_bad_export_file_changes_nothing(backend: Backend) {
    let data = generate(&GenConfig { messages: 400, seed: 8, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(None, &wh.url, "");
    let csv_path = env.path().join("export.csv");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/export-dify.sh");
    let out = std::process::Command::new("bash").arg(script).arg(&dify.url).arg(&csv_path).output().unwrap();
    assert!(out.status.success(), "export failed: {}", String::from_utf8_lossy(&out.stderr));
    let good = std::fs::read(&csv_path).unwrap();

    // The last row's created_at is no timestamp.
    let mut reader = csv::Reader::from_reader(good.as_slice());
    let headers = reader.headers().unwrap().clone();
    let at = headers.iter().position(|h| h == "created_at").unwrap();
    let mut records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let last = records.len() - 1;
    records[last] =
        records[last].iter().enumerate().map(|(i, v)| if i == at { "yesterday" } else { v }).collect();
    let mut writer = csv::Writer::from_path(env.path().join("bad.csv")).unwrap();
    writer.write_record(&headers).unwrap();
    records.iter().for_each(|r| writer.write_record(r).unwrap());
    writer.flush().unwrap();
    let with_batches = |file: &str| {
        env.command(&["ingest", "--from-file", file]).env("ITSTAT_BATCH_SIZE", "50").output().unwrap()
    };
    let out = with_batches("bad.csv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains(&format!("bad.csv: row {}, column created_at: \"yesterday\"", records.len() + 1)),
        "{line}"
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, 0, "no batch of the bad file was written");

    // GBK bytes in a field, and an empty file.
    let mut gbk = good.clone();
    let cut = gbk.len() - 3;
    gbk.splice(cut..cut, [0xb4, 0xf2, 0xd3, 0xa1]);
    std::fs::write(env.path().join("gbk.csv"), &gbk).unwrap();
    let line = error_line(&String::from_utf8_lossy(&with_batches("gbk.csv").stderr));
    assert!(line.contains("gbk.csv: row") && line.contains("not UTF-8 text (perhaps GBK)"), "{line}");
    std::fs::write(env.path().join("empty.csv"), "").unwrap();
    let line = error_line(&env.fails(&["ingest", "--from-file", "empty.csv"], 1));
    assert!(line.contains("empty.csv: no column id"), "{line}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, 0);

    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend_from_slice(&good);
    std::fs::write(env.path().join("bom.csv"), bom).unwrap();
    assert!(with_batches("bom.csv").status.success());
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, data.messages.len() as i64);
}

async fn old_dify_schema_without_optional_columns(backend: Backend) {
    let data = generate(&GenConfig { messages: 300, ..GenConfig::default() });
    for version in [SchemaVersion::V0_8, SchemaVersion::V0_6] {
        let dify = dify_with(&data, version).await;
        if version == SchemaVersion::V0_6 {
            // A 0.6 database holds rows from before 0.6 (no invoke_from) and NULL inputs.
            dify.exec(
                "UPDATE messages SET invoke_from = NULL WHERE invoke_from = 'service-api' AND random() < 0.3;
                 UPDATE messages SET inputs = NULL WHERE random() < 0.3;",
            )
            .await;
        }
        let wh = TestWarehouse::new(backend).await;
        let env = Env::new(Some(&dify.url), &wh.url, "");
        env.ok(&["ingest"]);
        assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, data.messages.len() as i64);
        assert_eq!(
            wh.count(
                "SELECT COUNT(*) FROM messages WHERE parent_message_id IS NOT NULL OR app_mode IS NOT NULL"
            )
            .await,
            0
        );
        let msgs = reference::messages(&data);
        let r = env.report(&["--period", "week", "--date", "2026-11-20"]);
        reference::assert_kpis_eq(
            &r["totals"],
            &reference::kpis(&msgs, d("2026-11-16"), d("2026-11-22")),
            &format!("{version:?} schema"),
        );
    }
}

async fn rule_change_reclassifies_without_reading_dify(backend: Backend) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请拨打热线 8888"));
    s.msg(Msg::new("lisi", "2026-11-02 09:00:00", "请联系IT"));
    let (dify, env, wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["transfer_messages"], 1);
    drop(dify); // Dify is gone: a reclassification must not need it.
    std::fs::write(env.path().join("itstat.toml"), "[rules]\ntransfer = [\"热线\"]\n").unwrap();
    let mut cmd = env.command(&["ingest", "--reclassify"]);
    cmd.env_remove("ITSTAT_DIFY_URL");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = env.report(&["--date", "2026-11-02"])["totals"].clone();
    assert_eq!(t["transfer_messages"], 1);
    let transfers = wh.query_strings("SELECT user_key FROM messages WHERE transfer = TRUE").await;
    assert_eq!(transfers, vec!["zhangsan".to_string()]);
}

/// A reclassification rebuilds the sessions a group of users at a time (memory stays flat):
/// with batches of 37 the groups hold a few users each, and after a change of the session
/// rules, the phrases and the excluded users, the warehouse must equal a fresh load under the
/// new rules, marks included.
async fn reclassify_in_small_groups_equals_a_fresh_load(backend: Backend) {
    let data = generate(&GenConfig { messages: 1500, days: 6, users: 40, seed: 29, ..GenConfig::default() });
    let (dify, env, wh) = setup(&data, backend, "").await;
    env.ok(&["ingest"]);
    let marked =
        wh.query_strings("SELECT message_id FROM messages WHERE state = 'answered' AND included AND user_key <> 'lisi' ORDER BY message_id LIMIT 1").await;
    env.ok(&["mark", &marked[0], "--manual", "--operator", "tester"]);
    let before = wh.sessions_dump().await;

    let rules = "[dify]\nexclude_users = [\"lisi\"]\n[session]\nmode = \"idle\"\nwindow = \"7m\"\n\
                 [rules]\ntransfer = [\"人工\", \"IT\"]\n";
    std::fs::write(env.path().join("itstat.toml"), rules).unwrap();
    let mut cmd = env.command(&["ingest", "--reclassify"]);
    cmd.env("ITSTAT_BATCH_SIZE", "37");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(wh.sessions_dump().await, before, "the new rules change the sessions");

    let fresh = TestWarehouse::new(backend).await;
    let fresh_env = Env::new(Some(&dify.url), &fresh.url, rules);
    fresh_env.ok(&["ingest"]);
    fresh_env.ok(&["mark", &marked[0], "--manual", "--operator", "tester"]);
    assert_eq!(wh.messages_dump().await, fresh.messages_dump().await, "messages differ");
    assert_eq!(wh.sessions_dump().await, fresh.sessions_dump().await, "sessions differ");
    assert_eq!(wh.count("SELECT COUNT(*) FROM sessions WHERE user_key = 'lisi'").await, 0);
    assert_eq!(wh.count("SELECT COUNT(*) FROM sessions WHERE is_manual").await, 1);
}

/// A reclassification compares each stored row's verdicts with the rules' verdicts
/// (docs/warehouse.md, "Content hash"), not only its hash: verdicts stored wrong under a right
/// hash (here by hand) are written again, and a state the writer never writes counts as
/// wrong. Nothing else changes.
async fn reclassify_rewrites_verdicts_stored_wrong(backend: Backend) {
    let data = generate(&GenConfig { messages: 300, seed: 31, ..GenConfig::default() });
    let (_dify, env, wh) = setup(&data, backend, "").await;
    env.ok(&["ingest"]);
    let (messages, sessions) = (wh.messages_dump().await, wh.sessions_dump().await);
    let ids = wh
        .query_strings("SELECT message_id FROM messages WHERE state = 'answered' AND included ORDER BY message_id LIMIT 2")
        .await;
    wh.exec(&format!(
        "UPDATE messages SET transfer = NOT transfer, question = question || '?' WHERE message_id = '{}';
         UPDATE messages SET state = 'answered ' WHERE message_id = '{}'",
        ids[0], ids[1]
    ))
    .await;
    assert_ne!(wh.messages_dump().await, messages);
    let out = env.command(&["ingest", "--reclassify"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(", 2 changed,"), "{stdout}");
    assert_eq!(wh.messages_dump().await, messages, "the two rows are as a fresh ingest wrote them");
    assert_eq!(wh.sessions_dump().await, sessions);
}

async fn killed_ingest_resumes_to_the_same_warehouse(backend: Backend) {
    let data = generate(&GenConfig { messages: 800, seed: 5, ..GenConfig::default() });
    let (dify, env, wh) = setup(&data, backend, "").await;
    let mut cmd = env.command(&["ingest"]);
    cmd.env("ITSTAT_BATCH_SIZE", "100").env("ITSTAT_TEST_ABORT_AFTER_BATCHES", "3");
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "the hook aborts the run");
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, 300, "three whole batches committed");
    assert!(wh.index_names().await.is_empty(), "a first load builds its indexes at its end");
    assert_eq!(wh.has_keys().await, backend == Backend::Postgres, "SQLite's keys too");
    // An operator marks a message the killed load wrote, before the next run (in SQLite the
    // mark builds the keys it stores sessions by).
    let marked = wh
        .query_strings(
            "SELECT message_id FROM messages WHERE included ORDER BY created_at DESC, message_id LIMIT 1",
        )
        .await;
    env.ok(&["mark", &marked[0], "--manual", "--operator", "tester"]);
    assert!(wh.has_keys().await);
    env.ok(&["ingest"]);
    assert_eq!(wh.index_names().await, INDEXES, "the next run builds the indexes the killed load could not");
    let clean = TestWarehouse::new(backend).await;
    let clean_env = Env::new(Some(&dify.url), &clean.url, "");
    clean_env.ok(&["ingest"]);
    clean_env.ok(&["mark", &marked[0], "--manual", "--operator", "tester"]);
    assert_eq!(wh.messages_dump().await, clean.messages_dump().await);
    assert_eq!(wh.sessions_dump().await, clean.sessions_dump().await);
    let outcomes = wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id").await;
    assert_eq!(outcomes, vec!["aborted".to_string(), "ok".to_string()]);
}

/// A first load carries each user's open session from batch to batch in memory: with batches
/// of 37 messages, many sessions cross a border, and the result must equal one batch, with
/// every index in place.
async fn first_load_in_small_batches_equals_one_batch(backend: Backend) {
    let data = generate(&GenConfig { messages: 1500, days: 6, users: 12, seed: 23, ..GenConfig::default() });
    let (dify, env, wh) = setup(&data, backend, "").await;
    let mut cmd = env.command(&["ingest"]);
    cmd.env("ITSTAT_BATCH_SIZE", "37");
    assert!(cmd.output().unwrap().status.success());
    let one = TestWarehouse::new(backend).await;
    let one_env = Env::new(Some(&dify.url), &one.url, "");
    let mut cmd = one_env.command(&["ingest"]);
    cmd.env("ITSTAT_BATCH_SIZE", "100000");
    assert!(cmd.output().unwrap().status.success());
    let sessions = wh.sessions_dump().await;
    let spanning = wh
        .count(
            "SELECT COUNT(*) FROM (SELECT session_id FROM messages WHERE session_id IS NOT NULL \
             GROUP BY session_id HAVING COUNT(*) > 1) s",
        )
        .await;
    assert!(spanning > 100, "the data has multi-message sessions ({spanning})");
    assert_eq!(wh.messages_dump().await, one.messages_dump().await, "messages differ");
    assert_eq!(sessions, one.sessions_dump().await, "sessions differ");
    assert_eq!(wh.index_names().await, INDEXES);
    assert_eq!(one.index_names().await, INDEXES);
    assert!(wh.has_keys().await && one.has_keys().await);
}

/// A first load carries open sessions in memory from batch to batch; marks that exist when
/// it writes (here the legacy platform's, migrated before the first ingest) must count in
/// them. Loading in batches of 37 after the migration equals loading first and migrating
/// after.
async fn marks_made_before_a_first_load_count_in_its_sessions(backend: Backend) {
    let data = generate(&GenConfig { messages: 1500, days: 6, users: 12, seed: 29, ..GenConfig::default() });
    let (dify, env, wh) = setup(&data, backend, "").await;
    let legacy = TestDb::create("legacy").await;
    let rows: Vec<String> = data
        .messages
        .iter()
        .step_by(40)
        .enumerate()
        .map(|(i, m)| {
            let kb = if i % 2 == 0 { "'命中'" } else { "NULL" };
            format!("('{}', {}, 'zhou', 'q', 'u', {kb}, '2026-11-20 11:00', NULL)", m.id, i % 3 != 2)
        })
        .collect();
    legacy
        .exec(&format!("{LEGACY_SCHEMA}\nINSERT INTO manual_intervention VALUES {};", rows.join(", ")))
        .await;
    env.ok(&["import", "legacy", "--from", &legacy.url]);
    let mut cmd = env.command(&["ingest"]);
    cmd.env("ITSTAT_BATCH_SIZE", "37");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = TestWarehouse::new(backend).await;
    let after_env = Env::new(Some(&dify.url), &after.url, "");
    after_env.ok(&["ingest"]);
    after_env.ok(&["import", "legacy", "--from", &legacy.url]);
    let manual = wh.count("SELECT COUNT(*) FROM sessions WHERE is_manual").await;
    assert!(manual > 10, "the marks make sessions manual ({manual})");
    assert_eq!(wh.messages_dump().await, after.messages_dump().await, "messages differ");
    assert_eq!(wh.sessions_dump().await, after.sessions_dump().await, "sessions differ");
}

async fn second_ingest_waits_then_gives_up(backend: Backend) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let (_dify, env, wh) = setup(&s.data, backend, "").await;
    env.ok(&["ingest"]);
    // Hold the lock the way another ingest would.
    let _held: Box<dyn std::any::Any> = match backend {
        Backend::Sqlite => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(wh.sqlite_dir().unwrap().join("itstat.db.lock"))
                .unwrap();
            f.lock().unwrap();
            Box::new(f)
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&wh.url).await.unwrap();
            sqlx::query("SELECT pg_advisory_lock(hashtext('itstat ingest'))").execute(&mut c).await.unwrap();
            Box::new(c)
        }
    };
    let err = env.fails(&["ingest", "--wait", "1"], 1);
    assert!(error_line(&err).contains("another ingest is running"), "{err}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM ingest_runs").await, 1, "the refused run records nothing");
}

/// The SQLite migrations after 0009 that add a column to `messages` or `sessions`: an old
/// warehouse rebuilt from 0001's tables runs them again.
fn added_columns_migrations() -> Vec<i64> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let version: i64 = name.split('_').next().unwrap().parse().unwrap();
        let adds =
            ["messages", "sessions"].iter().any(|t| sql.contains(&format!("ALTER TABLE {t} ADD COLUMN")));
        if version > 9 && adds {
            versions.push(version);
        }
    }
    versions
}

/// A SQLite warehouse made before migrations 0005 and 0009 (messages and sessions keyed by
/// their tables' PRIMARY KEYs) is migrated when itstat opens it: the same rows, each key an
/// index of its own, and later runs update rows in place instead of adding them again.
#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_warehouse_keyed_the_old_way_is_upgraded() {
    let mut s = Small::new();
    let late = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", ""));
    s.msg(Msg::new("lisi", "2026-11-02 09:05:00", "请重启"));
    let (dify, env, wh) = setup(&s.data, Backend::Sqlite, "").await;
    env.ok(&["ingest"]);
    let (messages, sessions) = (wh.messages_dump().await, wh.sessions_dump().await);
    // Back to the schema of migrations 0001–0004.
    let init = include_str!("../../migrations/sqlite/0001_init.sql");
    let old_table = |name: &str| {
        let start = init.find(&format!("CREATE TABLE {name} (")).unwrap();
        let table = &init[start..start + init[start..].find(");").unwrap() + 2];
        let old = table.replace(&format!("CREATE TABLE {name} ("), &format!("CREATE TABLE {name}_old ("));
        // The columns of 0001 only: a later migration's columns come back when it runs again.
        let columns: Vec<&str> = table.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
        let columns =
            columns.into_iter().filter(|c| *c != ");" && *c != "PRIMARY").collect::<Vec<_>>().join(", ");
        format!(
            "{old}\nINSERT INTO {name}_old SELECT {columns} FROM {name}; DROP TABLE {name};
             ALTER TABLE {name}_old RENAME TO {name};"
        )
    };
    let rerun: Vec<String> =
        added_columns_migrations().into_iter().chain([5, 9]).map(|v| v.to_string()).collect();
    let secondary: String = include_str!("../../migrations/sqlite/0005_message_key_index.sql")
        .lines()
        .chain(include_str!("../../migrations/sqlite/0009_session_key_index.sql").lines())
        .filter(|l| l.starts_with("CREATE INDEX"))
        .collect::<Vec<_>>()
        .join("\n");
    wh.exec(&format!(
        "{}\n{}\n{secondary}\nDELETE FROM _sqlx_migrations WHERE version IN ({});",
        old_table("messages"),
        old_table("sessions"),
        rerun.join(", ")
    ))
    .await;
    const OLD_KEYS: &str = "SELECT COUNT(*) FROM sqlite_master WHERE tbl_name IN ('messages', 'sessions') \
                            AND name LIKE 'sqlite_autoindex%'";
    assert_eq!(wh.count(OLD_KEYS).await, 2);
    assert!(!wh.has_keys().await);
    env.ok(&["status"]);
    assert!(wh.has_keys().await, "migrated on opening");
    assert_eq!(wh.count(OLD_KEYS).await, 0);
    assert_eq!(wh.messages_dump().await, messages);
    assert_eq!(wh.sessions_dump().await, sessions);
    assert_eq!(wh.index_names().await, INDEXES);
    dify.exec(&format!("UPDATE messages SET answer = '好的' WHERE id = '{late}'")).await;
    env.ok(&["ingest"]);
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, 2, "updated in place");
    assert_eq!(wh.count("SELECT COUNT(*) FROM sessions").await, 2, "updated in place");
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["answered"], 2);
}

/// A warehouse whose rows carry content hashes of an older itstat (made with
/// `std::hash::Hash`, before the hash version was recorded) is hashed again once, before the
/// next ingest compares anything: no stored row looks changed, every hash equals the one a
/// fresh load computes, and the following run has nothing to re-hash.
async fn hashes_of_an_older_itstat_are_recomputed_once(backend: Backend) {
    use itstat::progress::thousands;
    let data = generate(&GenConfig { messages: 900, ..GenConfig::default() });
    let (_dify, env, wh) = setup(&data, backend, "").await;
    env.ok(&["ingest"]);
    let hashes = "SELECT message_id || ' ' || CAST(content_hash AS TEXT) FROM messages ORDER BY message_id";
    let fresh = wh.query_strings(hashes).await;
    let (messages, sessions) = (wh.messages_dump().await, wh.sessions_dump().await);
    // As an older itstat left it: other hashes, no version.
    wh.exec("UPDATE messages SET content_hash = content_hash / 2 + 7; DELETE FROM meta WHERE key = 'content_hash_version'")
        .await;
    assert_ne!(wh.query_strings(hashes).await, fresh);
    let out = env.command(&["ingest", "--full"]).env("ITSTAT_LOG", "itstat=info").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(" 0 new, 0 changed"), "{stdout}");
    // Not on a terminal: the progress of the read is logged, starting with its size.
    assert!(
        stderr.contains(&format!("Reading Dify: {} rows to go.", thousands(data.messages.len() as u64))),
        "{stderr}"
    );
    assert!(stderr.contains("Hashed the stored messages again"), "{stderr}");
    assert_eq!(wh.query_strings(hashes).await, fresh);
    assert_eq!(wh.messages_dump().await, messages);
    assert_eq!(wh.sessions_dump().await, sessions);
    let version = wh.query_strings("SELECT value FROM meta WHERE key = 'content_hash_version'").await;
    assert_eq!(version, [itstat::warehouse::rows::CONTENT_HASH_VERSION]);
    let again = env.command(&["ingest"]).env("ITSTAT_LOG", "itstat=info").output().unwrap();
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stderr).contains("Hashed the stored messages again"));
}

on_both_backends!(
    feedback_updated_in_place_is_seen,
    feedback_withdrawn_is_dropped,
    feedback_withdrawn_and_added_in_one_interval,
    unchanged_feedback_buckets_are_not_read_again,
    feedback_from_an_export_file_is_compared_again,
);

/// Dify's current feedback, one text per row, as the warehouse should mirror it.
async fn dify_feedback(dify: &TestDb) -> Vec<String> {
    let mut conn = dify.connect().await;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT message_id::text || '|' || from_source || '|' || rating || '|' || COALESCE(content, '∅')
         FROM message_feedbacks ORDER BY message_id, from_source",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}

/// The stored feedback, in [`dify_feedback`]'s form.
async fn stored_feedback(wh: &TestWarehouse) -> Vec<String> {
    wh.dump("feedbacks", &["message_id", "from_source", "rating", "content"], "message_id, from_source").await
}

/// Three messages of one app with a user like on each; the feedback is ingested.
async fn three_liked(backend: Backend) -> (TestDb, Env, TestWarehouse, [uuid::Uuid; 3]) {
    let mut s = Small::new();
    let m1 = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let m2 = s.msg(Msg::new("lisi", "2026-11-02 09:10:00", "b"));
    let m3 = s.msg(Msg::new("wangwu", "2026-11-02 09:20:00", "c"));
    let (dify, env, wh) = setup(&s.data, backend, "").await;
    let app = s.app_id();
    dify.exec(&format!(
        "INSERT INTO message_feedbacks (app_id, conversation_id, message_id, rating, from_source) VALUES
         ('{app}', '{app}', '{m1}', 'like', 'user'), ('{app}', '{app}', '{m2}', 'like', 'user'),
         ('{app}', '{app}', '{m3}', 'like', 'user');"
    ))
    .await;
    env.ok(&["ingest"]);
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    (dify, env, wh, [m1, m2, m3])
}

/// Dify before 1.10 changes a rating in place without touching `updated_at`: the change is
/// seen all the same, and so is a changed reason alone.
async fn feedback_updated_in_place_is_seen(backend: Backend) {
    let (dify, env, wh, [m1, m2, _]) = three_liked(backend).await;
    dify.exec(&format!("UPDATE message_feedbacks SET rating = 'dislike' WHERE message_id = '{m1}'")).await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains(" 1 feedback changes"), "{out}");
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    dify.exec(&format!("UPDATE message_feedbacks SET content = '太慢' WHERE message_id = '{m2}'")).await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains(" 1 feedback changes"), "{out}");
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    assert!(stored_feedback(&wh).await.iter().any(|r| r.ends_with("|like|太慢")));
    let t = env.report(&["--date", "2026-11-02"])["totals"].clone();
    assert_eq!((t["likes"].as_i64(), t["dislikes"].as_i64()), (Some(2), Some(1)));
}

async fn feedback_withdrawn_is_dropped(backend: Backend) {
    let (dify, env, wh, [_, m2, _]) = three_liked(backend).await;
    dify.exec(&format!("DELETE FROM message_feedbacks WHERE message_id = '{m2}'")).await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains(" 1 feedback changes"), "{out}");
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    assert_eq!(wh.count("SELECT COUNT(*) FROM feedbacks").await, 2);
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["likes"], 2);
}

/// One vote withdrawn and another given between two runs, on messages of the same bucket:
/// Dify holds as many rows as before, and the warehouse still follows.
async fn feedback_withdrawn_and_added_in_one_interval(backend: Backend) {
    let (dify, env, wh, [m1, m2, _]) = three_liked(backend).await;
    let app: String = {
        let mut conn = dify.connect().await;
        sqlx::query_scalar("SELECT app_id::text FROM message_feedbacks LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    dify.exec(&format!(
        "DELETE FROM message_feedbacks WHERE message_id = '{m2}';
         INSERT INTO message_feedbacks (app_id, conversation_id, message_id, rating, from_source)
         VALUES ('{app}', '{app}', '{m1}', 'dislike', 'admin');"
    ))
    .await;
    let out = env.ok(&["ingest"]);
    assert!(out.contains(" 2 feedback changes"), "{out}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM feedbacks").await, 3, "as many rows as before");
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    let t = env.report(&["--date", "2026-11-02"])["totals"].clone();
    assert_eq!((t["likes"].as_i64(), t["dislikes"].as_i64()), (Some(2), Some(1)));
}

/// The `Comparing feedback.` debug line of an ingest's stderr: how many Dify rows it read.
fn feedback_rows_read(stderr: &str) -> Option<usize> {
    let line = stderr.lines().find(|l| l.contains("Comparing feedback."))?;
    let field = line.split_whitespace().find_map(|w| w.strip_prefix("dify_rows="))?;
    Some(field.parse().unwrap())
}

/// An ingest with debug logs; returns stderr.
fn ingest_logged(env: &Env) -> String {
    let out = env.command(&["ingest"]).env("ITSTAT_LOG", "itstat=debug").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// A run reads from Dify only the feedback of the buckets of message ids whose feedback
/// changed: none when nothing changed, one bucket's rows for one new vote.
async fn unchanged_feedback_buckets_are_not_read_again(backend: Backend) {
    let data =
        generate(&GenConfig { messages: 3_000, days: 10, users: 60, seed: 11, ..GenConfig::default() });
    assert!(data.feedbacks.len() > 100, "{} feedback rows", data.feedbacks.len());
    let (dify, env, wh) = setup(&data, backend, "").await;
    let first = ingest_logged(&env);
    assert_eq!(feedback_rows_read(&first), Some(data.feedbacks.len()), "a first run compares all: {first}");
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    let second = ingest_logged(&env);
    assert!(second.contains("Feedback unchanged in Dify."), "{second}");
    assert_eq!(feedback_rows_read(&second), None, "{second}");
    // One rating changes in place: only its bucket (1/256 of the ids) is read again.
    let voted = data.feedbacks[0].message_id;
    dify.exec(&format!(
        "UPDATE message_feedbacks SET rating = CASE rating WHEN 'like' THEN 'dislike' ELSE 'like' END
         WHERE message_id = '{voted}'"
    ))
    .await;
    let third = ingest_logged(&env);
    let read = feedback_rows_read(&third).unwrap();
    let bucket = &voted.to_string()[..2];
    let in_bucket = data.feedbacks.iter().filter(|f| f.message_id.to_string().starts_with(bucket)).count();
    assert_eq!(read, in_bucket, "{third}");
    assert!(read < data.feedbacks.len() / 4, "{read} of {}", data.feedbacks.len());
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
}

/// An export file writes feedback too (it becomes the current feedback of its messages);
/// the next run from Dify compares all feedback again, so the warehouse ends up with Dify's
/// although Dify's feedback did not change.
async fn feedback_from_an_export_file_is_compared_again(backend: Backend) {
    let mut s = Small::new();
    let m1 = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let (dify, env, wh) = setup(&s.data, backend, "").await;
    let m = s.data.messages[0].clone();
    let vote = |rating: &str| itstat::demo::generator::Feedback {
        id: uuid::Uuid::from_u128(0xfeed),
        app_id: m.app_id,
        conversation_id: m.conversation_id,
        message_id: m1,
        rating: rating.into(),
        content: None,
        from_source: "user".into(),
        from_end_user_id: m.from_end_user_id,
        from_account_id: None,
        created_at: m.created_at + Duration::minutes(1),
    };
    dify.exec(&format!(
        "INSERT INTO message_feedbacks (app_id, conversation_id, message_id, rating, from_source)
         VALUES ('{}', '{}', '{m1}', 'like', 'user')",
        m.app_id, m.conversation_id
    ))
    .await;
    env.ok(&["ingest"]);
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
    let disliked = Dataset { feedbacks: vec![vote("dislike")], ..s.data.clone() };
    let columns = itstat::extract::file::export_columns();
    itstat::demo::export::write_csv(&disliked, &env.path().join("export.csv"), &columns).unwrap();
    env.ok(&["ingest", "--from-file", "export.csv"]);
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM feedbacks WHERE rating = 'dislike'").await,
        1,
        "the file's vote"
    );
    let out = env.ok(&["ingest"]);
    assert!(out.contains(" 1 feedback changes"), "{out}");
    assert_eq!(stored_feedback(&wh).await, dify_feedback(&dify).await);
}

/// Dify's read turns PostgreSQL's JIT off for its own transaction and leaves the session's
/// setting as it was after it (sql/dify/no_jit.sql; a read-only account may run it:
/// `cli::read_only_dify_account_is_enough`).
#[tokio::test(flavor = "multi_thread")]
async fn the_dify_read_turns_jit_off_for_its_transaction_only() {
    let dify = TestDb::create("jit").await;
    let mut conn = dify.connect().await;
    sqlx::query("SET jit = on").execute(&mut conn).await.unwrap();
    let jit = async |conn: &mut sqlx::PgConnection| -> String {
        sqlx::query_scalar("SHOW jit").fetch_one(conn).await.unwrap()
    };
    sqlx::raw_sql(include_str!("../../sql/dify/begin.sql")).execute(&mut conn).await.unwrap();
    sqlx::query(include_str!("../../sql/dify/no_jit.sql")).execute(&mut conn).await.unwrap();
    assert_eq!(jit(&mut conn).await, "off", "inside the read");
    sqlx::raw_sql("COMMIT").execute(&mut conn).await.unwrap();
    assert_eq!(jit(&mut conn).await, "on", "after the read");
    conn.close().await.ok();
}
