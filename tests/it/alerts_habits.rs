//! The habits of `itstat check --notify` a team keeps switched on (docs/alerts.md): inhibition
//! while the ingest is stale, silences with a reason, quiet hours that hold and then send,
//! `for`, `no_traffic`, a kill during a notification, and a checked day outside the data.
//! The real binary against the WeCom-shaped robot of `alerts` on loopback, "now" pinned with
//! `ITSTAT_NOW` (the test-hooks feature), on both warehouses.

use itstat::demo::pg::{self, SchemaVersion};
use serde_json::Value;

use crate::alerts::{KEY, Robot, kinds, setup, troubled_day};
use crate::support::*;

/// Runs itstat at a pinned Shanghai wall-clock time (`2026-11-03T09:00:00`), expecting exit
/// `code`; returns stdout. Nothing may panic or print the robot's key.
fn at(env: &Env, now: &str, args: &[&str], code: i32) -> String {
    let out = env.command(args).env("ITSTAT_NOW", format!("{now}+08:00")).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "itstat {args:?} at {now}\nstdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY), "the key was printed: {stdout}{stderr}");
    stdout.to_string()
}

/// `check --format json` at a pinned time, with `args` after it.
fn check_json(env: &Env, now: &str, args: &[&str], code: i32) -> Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&at(env, now, &all, code)).unwrap()
}

/// The alert of `kind` in a check's JSON.
fn alert<'a>(json: &'a Value, kind: &str) -> &'a Value {
    let all = json["alerts"].as_array().unwrap();
    all.iter().find(|a| a["kind"] == kind).unwrap_or_else(|| panic!("no {kind} in {json}"))
}

/// A troubled day's warehouse whose robot is the only channel.
async fn troubled(backend: Backend, alerts: &str) -> (TestDb, TestWarehouse, Env, Robot) {
    let robot = Robot::start();
    let config = format!("[alerts]\n{alerts}notify = [\"wecom\"]\n");
    let (dify, wh, mut env) = setup(&troubled_day(), backend, &config).await;
    env.extra.push(("ITSTAT_WECOM_WEBHOOK".into(), robot.webhook()));
    (dify, wh, env, robot)
}

const DAY: [&str; 3] = ["--date", "2026-11-02", "--notify"];

on_both_backends!(
    stale_ingest_inhibits_what_is_computed_from_data,
    a_silence_with_a_reason_holds_an_alert_back_until_it_ends,
    quiet_hours_hold_notifications_and_the_first_check_after_sends_them,
    for_keeps_a_condition_pending_until_it_held_long_enough,
    no_traffic_fires_when_dify_hears_nothing_in_working_hours,
    a_kill_during_a_notification_sends_once_more_and_never_loses_a_resolved_notice,
    a_checked_day_outside_the_data_is_warned_about_and_the_future_refused,
    an_upgrade_neither_resends_open_episodes_nor_tells_old_ones_ended,
);

async fn stale_ingest_inhibits_what_is_computed_from_data(backend: Backend) {
    let (_dify, _wh, mut env, robot) = troubled(backend, "max_error_rate = 0.05\n").await;
    let dify_url = env.dify_url.clone();
    env.dify_url = Some("postgres://ro:pw@127.0.0.1:1/dify".into());
    env.fails(&["ingest"], 2);
    let json = check_json(&env, "2026-11-03T09:00:00", &DAY, 3);
    assert_eq!(kinds(&json), ["error_rate_high", "one_user_key", "stale_ingest"]);
    assert_eq!(alert(&json, "stale_ingest")["state"], "active");
    assert_eq!(alert(&json, "error_rate_high")["state"], "inhibited");
    assert_eq!(alert(&json, "one_user_key")["state"], "inhibited");
    let posts = robot.contents();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].contains("stale_ingest") && !posts[0].contains("error_rate_high"), "{}", posts[0]);
    assert!(!posts[0].contains("one_user_key"), "inhibited alerts are not sent: {}", posts[0]);
    let text = at(&env, "2026-11-03T09:05:00", &["check", "--date", "2026-11-02"], 3);
    assert!(text.lines().any(|l| l.starts_with("WARNING one_user_key [inhibited]: ")), "{text}");

    // Dify is back: the alerts from data go out, and stale_ingest is told ended — one post.
    env.dify_url = dify_url;
    env.ok(&["ingest"]);
    let json = check_json(&env, "2026-11-03T09:30:00", &DAY, 3);
    assert_eq!(kinds(&json), ["error_rate_high", "one_user_key"]);
    let posts = robot.contents();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let post = &posts[1];
    assert!(post.starts_with("**itstat 告警 · 2 条**"), "{post}");
    assert!(post.contains("✓ stale_ingest</font> 已恢复，持续 30 分（11-03 09:00 – 09:30）"), "{post}");
}

async fn a_silence_with_a_reason_holds_an_alert_back_until_it_ends(backend: Backend) {
    let (_dify, _wh, env, robot) = troubled(backend, "").await;
    let t0 = "2026-11-03T09:00:00";
    let reason = "桥接修复中，11:00 前完成";
    let silence =
        ["alerts", "silence", "one_user_key", "--subject", "bridge", "--for", "2h", "--reason", reason];
    let mut args = silence.to_vec();
    args.extend(["--by", "张三"]);
    let made = at(&env, t0, &args, 0);
    assert_eq!(
        made.trim(),
        format!(
            "silence 1: one_user_key (about bridge) until 2026-11-03 11:00 (Asia/Shanghai), by 张三: {reason}"
        )
    );
    // Silenced: shown with its reason, not sent.
    let json = check_json(&env, "2026-11-03T09:10:00", &DAY, 3);
    let one = alert(&json, "one_user_key");
    assert_eq!(one["state"], "silenced");
    assert_eq!(
        (&one["silence"]["reason"], &one["silence"]["by"]),
        (&Value::from(reason), &Value::from("张三"))
    );
    assert_eq!(one["silence"]["until"], "2026-11-03T11:00:00+08:00");
    assert!(robot.requests().is_empty());
    assert_eq!(json["notifications"][0]["status"], "skipped");
    let text = at(&env, "2026-11-03T09:15:00", &["check", "--date", "2026-11-02"], 3);
    let tag = format!("WARNING one_user_key [silenced #1 by 张三 until 2026-11-03 11:00: {reason}]: ");
    assert!(text.contains(&tag), "{text}");
    let list = at(&env, "2026-11-03T09:20:00", &["alerts", "list"], 0);
    assert!(list.contains("one_user_key · bridge  silenced (silence 1)  since 2026-11-03 09:10"), "{list}");
    assert!(
        list.contains(&format!("silence 1 one_user_key · bridge until 2026-11-03 11:00, by 张三: {reason}")),
        "{list}"
    );
    let listed: Value =
        serde_json::from_str(&at(&env, "2026-11-03T09:20:00", &["alerts", "list", "--format", "json"], 0))
            .unwrap();
    assert_eq!(
        (&listed["alerts"][0]["state"], &listed["silences"][0]["reason"]),
        (&Value::from("silenced"), &Value::from(reason))
    );

    // The silence ends and it still fires: sent.
    at(&env, "2026-11-03T11:01:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    let posts = robot.contents();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0].contains("one_user_key · warning · bridge") && posts[0].contains("自 11-03 09:10"),
        "{}",
        posts[0]
    );

    // `expire` ends a silence early; an unknown id is exit 1.
    at(
        &env,
        "2026-11-03T11:02:00",
        &["alerts", "silence", "stale_ingest", "--for", "1d", "--reason", "upgrade"],
        0,
    );
    assert_eq!(
        at(&env, "2026-11-03T11:03:00", &["alerts", "expire", "2"], 0).trim(),
        "silence 2 (stale_ingest) ended"
    );
    assert!(
        at(&env, "2026-11-03T11:04:00", &["alerts", "expire", "2"], 0)
            .contains("already ended at 2026-11-03 11:03")
    );
    assert!(at(&env, "2026-11-03T11:04:00", &["alerts", "list"], 0).contains("silences: none"));
    let err = error_line(&env.fails(&["alerts", "expire", "99"], 1));
    assert!(err.contains("no silence 99"), "{err}");
}

async fn quiet_hours_hold_notifications_and_the_first_check_after_sends_them(backend: Backend) {
    let quiet = "quiet_hours = [\"22:00-08:00\"]\n";
    let (_dify, _wh, env, robot) = troubled(backend, &format!("max_error_rate = 0.05\n{quiet}")).await;
    let text = at(&env, "2026-11-03T23:00:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    assert!(text.contains("CRITICAL error_rate_high [muted until 2026-11-04 08:00]: "), "{text}");
    assert!(text.contains("notify wecom: held until 2026-11-04 08:00 (2 alert(s), 0 resolved)"), "{text}");
    assert!(robot.requests().is_empty());
    let json = check_json(&env, "2026-11-03T23:30:00", &DAY, 3);
    assert_eq!(alert(&json, "one_user_key")["state"], "muted");
    assert_eq!(alert(&json, "one_user_key")["held_until"], "2026-11-04T08:00:00+08:00");

    // The error alert ends inside the quiet hours: nothing is posted at night…
    let loose = format!("[alerts]\nmax_error_rate = 0.5\n{quiet}notify = [\"wecom\"]\n");
    std::fs::write(env.path().join("itstat.toml"), loose).unwrap();
    at(&env, "2026-11-04T02:00:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    assert!(robot.requests().is_empty());
    // …and the first check after them sends what still fires and that the other ended.
    at(&env, "2026-11-04T08:05:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    let posts = robot.contents();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].starts_with(
            "**itstat 告警**\n<font color=\"comment\">one_user_key · warning · bridge</font> · 自 11-03 23:00"
        ),
        "{}",
        posts[0]
    );
    assert!(
        posts[0].contains("✓ error_rate_high</font> 已恢复，持续 3 小时（11-03 23:00 – 11-04 02:00）"),
        "{}",
        posts[0]
    );
    at(&env, "2026-11-04T08:10:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    assert_eq!(robot.requests().len(), 1, "sent once");
}

async fn for_keeps_a_condition_pending_until_it_held_long_enough(backend: Backend) {
    let alerts = "max_error_rate = 0.05\nmax_user_share = 1.0\nfor = \"30m\"\n";
    let (_dify, wh, env, robot) = troubled(backend, alerts).await;
    // A dry run records nothing: the condition is not "seen" by it.
    let dry = check_json(&env, "2026-11-03T08:00:00", &["--date", "2026-11-02", "--notify", "--dry-run"], 0);
    assert_eq!(dry["pending"][0]["since"], "2026-11-03T08:00:00+08:00");
    assert_eq!(wh.count("SELECT COUNT(*) FROM alert_episodes").await, 0);
    // Any other check records when it was first seen, with or without --notify.
    let text = at(&env, "2026-11-03T09:00:00", &["check", "--date", "2026-11-02"], 0);
    assert!(
        text.starts_with("ok: no alert fires (day checked: 2026-11-02)\nPENDING error_rate_high: "),
        "{text}"
    );
    assert!(
        text.contains("(seen since 2026-11-03 09:00; fires at 2026-11-03 09:30 if it still holds)"),
        "{text}"
    );
    let json = check_json(&env, "2026-11-03T09:29:00", &DAY, 0);
    assert_eq!(json["alerts"], Value::Array(vec![]));
    let pending = &json["pending"][0];
    assert_eq!(
        (&pending["kind"], &pending["fires_at"]),
        (&Value::from("error_rate_high"), &Value::from("2026-11-03T09:30:00+08:00"))
    );
    assert!(robot.requests().is_empty());
    let json = check_json(&env, "2026-11-03T09:31:00", &DAY, 3);
    let fired = alert(&json, "error_rate_high");
    assert_eq!(
        (&fired["state"], &fired["since"]),
        (&Value::from("active"), &Value::from("2026-11-03T09:00:00+08:00"))
    );
    assert_eq!(json["pending"], Value::Array(vec![]));
    assert_eq!(robot.contents().len(), 1);
    assert!(
        robot.contents()[0].contains("error_rate_high · critical</font> · 自 11-03 09:00"),
        "{:?}",
        robot.contents()
    );
}

async fn no_traffic_fires_when_dify_hears_nothing_in_working_hours(backend: Backend) {
    let robot = Robot::start();
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-03 08:40:00", "请重启电脑"));
    s.msg(Msg::new("lisi", "2026-11-03 09:00:00", "请重启电脑"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let mut env =
        Env::new(Some(&dify.url), &wh.url, "[alerts]\nmax_silence = \"2h\"\nnotify = [\"wecom\"]\n");
    env.extra.push(("ITSTAT_WECOM_WEBHOOK".into(), robot.webhook()));
    // 1.5 h of working time without a message: quiet.
    at(&env, "2026-11-03T10:30:00", &["ingest"], 0);
    at(&env, "2026-11-03T10:31:00", &["check", "--notify"], 0);
    // 2.5 h: the bridge (or the bot, or Dify) is down.
    at(&env, "2026-11-03T11:30:00", &["ingest"], 0);
    let json = check_json(&env, "2026-11-03T11:31:00", &["--notify"], 3);
    assert_eq!(kinds(&json), ["no_traffic"]);
    let silent = alert(&json, "no_traffic");
    assert_eq!(
        (&silent["severity"], &silent["value"], &silent["threshold"]),
        (&Value::from("critical"), &Value::from(2.5), &Value::from(2.0))
    );
    assert_eq!(
        (&silent["newest_message"], &silent["read_at"]),
        (&Value::from("2026-11-03T09:00:00"), &Value::from("2026-11-03T11:30:00"))
    );
    let post = &robot.contents()[0];
    assert!(post.starts_with("**itstat 告警**\n<font color=\"warning\">no_traffic · critical</font> · 自 11-03 11:31\n> 自 2026-11-03 09:00 起没有新的 Dify 消息"), "{post}");
    assert!(post.contains("企业微信桥接") && post.contains("dify2openai"), "names the likely causes: {post}");

    // A question arrives: the next ingest sees it, and the group is told it is over.
    let mut more = Small::more(1000);
    more.msg(Msg::new("wangwu", "2026-11-03 11:40:00", "请重启电脑"));
    pg::load(&mut dify.connect().await, &more.data, SchemaVersion::V1_14).await.unwrap();
    at(&env, "2026-11-03T11:45:00", &["ingest"], 0);
    at(&env, "2026-11-03T11:46:00", &["check", "--notify"], 0);
    let posts = robot.contents();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[1],
        "**itstat 已恢复**\n<font color=\"info\">✓ no_traffic</font> 已恢复，持续 15 分（11-03 11:31 – 11:46）"
    );
}

async fn a_kill_during_a_notification_sends_once_more_and_never_loses_a_resolved_notice(backend: Backend) {
    let alerts = "max_error_rate = 0.05\nmax_user_share = 1.0\n";
    let (_dify, wh, env, robot) = troubled(backend, alerts).await;
    let killed = |now: &str| {
        let out = env
            .command(&["check", "--date", "2026-11-02", "--notify"])
            .env("ITSTAT_NOW", format!("{now}+08:00"))
            .env("ITSTAT_TEST_ABORT_AFTER_SENDS", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "killed: {}", String::from_utf8_lossy(&out.stderr));
    };
    // Killed after the post went out, before it was recorded: sent once more, then no more.
    killed("2026-11-03T09:00:00");
    assert_eq!(robot.requests().len(), 1);
    assert_eq!(wh.count("SELECT COUNT(*) FROM deliveries").await, 0);
    at(&env, "2026-11-03T09:10:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    at(&env, "2026-11-03T09:20:00", &["check", "--date", "2026-11-02", "--notify"], 3);
    assert_eq!(robot.requests().len(), 2);
    // The alert ends; killed after the resolved notice went out: it goes out again, once.
    let loose = "[alerts]\nmax_error_rate = 0.5\nmax_user_share = 1.0\nnotify = [\"wecom\"]\n";
    std::fs::write(env.path().join("itstat.toml"), loose).unwrap();
    killed("2026-11-03T09:30:00");
    assert_eq!(robot.requests().len(), 3);
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM alert_notifications WHERE resolved_sent_at IS NOT NULL").await,
        0
    );
    at(&env, "2026-11-03T09:40:00", &["check", "--date", "2026-11-02", "--notify"], 0);
    at(&env, "2026-11-03T09:50:00", &["check", "--date", "2026-11-02", "--notify"], 0);
    let posts = robot.contents();
    assert_eq!(posts.len(), 4, "{posts:?}");
    assert!(posts[2].contains("已恢复") && posts[3] == posts[2], "{posts:?}");
}

async fn a_checked_day_outside_the_data_is_warned_about_and_the_future_refused(backend: Backend) {
    let (_dify, _wh, env, _robot) = troubled(backend, "").await;
    let now = "2026-11-05T10:30:00";
    // Today, read at 10:00: the day is not over, its data is not complete.
    at(&env, "2026-11-05T10:00:00", &["ingest"], 0);
    let today = check_json(&env, now, &["--date", "2026-11-05"], 0);
    assert_eq!(today["warnings"][0]["kind"], "period_not_covered", "{today}");
    let before = at(&env, now, &["check", "--date", "2026-10-01"], 0);
    assert!(before.starts_with("ok: no alert fires (day checked: 2026-10-01)\nwarning period_not_covered: 2026-10-01 早于仓库中最早的消息（2026-11-02 00:00）"), "{before}");
    let err = error_line(&env.fails(&["check", "--date", "2099-01-01"], 1));
    assert!(err.contains("`--date 2099-01-01` is in the future"), "{err}");
    let covered = check_json(&env, now, &["--date", "2026-11-02"], 3);
    assert_eq!(covered["warnings"], Value::Array(vec![]));
}

async fn an_upgrade_neither_resends_open_episodes_nor_tells_old_ones_ended(backend: Backend) {
    let (_dify, wh, env, robot) = troubled(backend, "max_error_rate = 0.05\nmax_user_share = 1.0\n").await;
    // Back to the schema before migration 0010, with what a check of then left: an open
    // episode posted 30 minutes ago and a closed one.
    wh.exec(
        "DROP TABLE alert_notifications; DROP TABLE alert_silences;
         ALTER TABLE alert_episodes DROP COLUMN fired_at;
         DELETE FROM _sqlx_migrations WHERE version = 10;
         INSERT INTO alert_episodes (kind, subject, opened_at, last_seen_at, cleared_at) VALUES
           ('error_rate_high', '', '2026-11-03 00:00:00', '2026-11-03 00:30:00', NULL),
           ('kb_hit_rate_low', '', '2026-11-02 00:00:00', '2026-11-02 01:00:00', '2026-11-02 02:00:00');
         INSERT INTO deliveries (report_kind, period_label, recipient, subject, status, attempted_at) VALUES
           ('alert:error_rate_high', 'episode 1', 'wecom', 'x', 'sent', '2026-11-03 00:30:00'),
           ('alert:kb_hit_rate_low', 'episode 2', 'wecom', 'x', 'sent', '2026-11-02 00:00:00');",
    )
    .await;
    let json = check_json(&env, "2026-11-03T09:00:00", &DAY, 3);
    assert_eq!(alert(&json, "error_rate_high")["since"], "2026-11-03T08:00:00+08:00", "the same episode");
    assert_eq!(json["notifications"][0]["status"], "skipped", "{json}");
    assert!(robot.requests().is_empty(), "{:?}", robot.contents());
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM alert_notifications WHERE resolved_sent_at IS NOT NULL").await,
        1
    );
    let list = at(&env, "2026-11-03T09:05:00", &["alerts", "list"], 0);
    assert!(list.contains("#2 kb_hit_rate_low  2026-11-02 08:00 – 2026-11-02 10:00 (2 h)"), "{list}");
}

/// A plain check on a warehouse it may only read still answers (as before every check
/// recorded its episodes), and says it recorded nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_cannot_write_the_warehouse_still_answers() {
    use sqlx::Connection;
    let dify = dify_with(&troubled_day().data, SchemaVersion::V1_14).await;
    let env = Env::new(Some(&dify.url), "sqlite://data/itstat.db", "");
    std::fs::create_dir(env.path().join("data")).unwrap();
    env.ok(&["ingest"]);
    // Held open so SQLite keeps its -wal and -shm files, which a read-only reader needs.
    let wh = TestWarehouse::sqlite_file(env.path().join("data/itstat.db"));
    let mut holder = sqlx::SqliteConnection::connect(&wh.url).await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM messages").execute(&mut holder).await.unwrap();
    let out = run_with_read_only_data(&env, &["check", "--date", "2026-11-02"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.starts_with("WARNING one_user_key: "), "{stdout}");
    assert!(stderr.contains("this check recorded nothing"), "{stderr}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM alert_episodes").await, 0);
    holder.close().await.ok();
}

#[test]
fn a_silence_needs_a_known_kind_a_duration_and_a_reason() {
    let env = Env::new(None, "sqlite://itstat.db", "");
    for (bad, needle) in [
        (vec!["alerts", "silence", "one_user", "--for", "2h", "--reason", "x"], "one_user_key"),
        (
            vec!["alerts", "silence", "stale_ingest", "--subject", "x", "--for", "2h", "--reason", "x"],
            "--subject",
        ),
        (vec!["alerts", "silence", "stale_ingest", "--for", "soon", "--reason", "x"], "`--for`"),
        (vec!["alerts", "silence", "stale_ingest", "--for", "0s", "--reason", "x"], "more than 0"),
        (vec!["alerts", "silence", "stale_ingest", "--for", "2h", "--reason", " "], "`--reason`"),
        (vec!["alerts", "silence", "stale_ingest", "--for", "2h"], "--reason"),
    ] {
        let err = error_line(&env.fails(&bad, 1));
        assert!(err.contains(needle), "{bad:?}: {err}");
    }
    assert!(!env.path().join("itstat.db").exists(), "nothing was created");
    let dry =
        env.ok(&["alerts", "silence", "stale_ingest", "--for", "2h", "--reason", "upgrade", "--dry-run"]);
    assert!(dry.starts_with("dry run: would silence stale_ingest (any subject) until "), "{dry}");
    assert!(!env.path().join("itstat.db").exists(), "a dry run creates nothing");
    assert!(env.ok(&["alerts", "list"]).contains("firing: none"));
}

#[test]
fn malformed_habits_name_their_key() {
    let env = Env::new(None, "sqlite://itstat.db", "");
    for (alerts, needle) in [
        ("quiet_hours = [\"25:00-8\"]", "`alerts.quiet_hours[0]`: \"25:00-8\" is not a time window"),
        ("for = \"soon\"", "`alerts.for` is \"soon\""),
        ("repeat = \"0s\"", "`alerts.repeat` must be longer than 0"),
        ("min_kb_hit_rate = \"abc\"", "`alerts.min_kb_hit_rate`: invalid type"),
        ("working_hours = \"8-18\"", "`alerts.working_hours`"),
    ] {
        std::fs::write(env.path().join("itstat.toml"), format!("[alerts]\n{alerts}\n")).unwrap();
        let err = error_line(&env.fails(&["check"], 1));
        assert!(err.contains(needle), "{alerts}: {err}");
    }
}
