//! `itstat check`, `--notify`, `report --wecom` and the stale-data warnings (docs/alerts.md),
//! against a real HTTP server on loopback shaped like the WeCom group robot and aiosmtpd.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use itstat::demo::pg::SchemaVersion;
use serde_json::Value;

use crate::reports::SmtpServer;
use crate::support::*;

/// The robot's key in the tests' webhook: it must never be printed.
pub const KEY: &str = "robot-key-5f0c1d2e";
const MISS_TRANSFER: &str = "抱歉，您的问题可能不在服务业务范围内，请联系IT服务台";
const HIT: &str = "请重启电脑";

/// How the robot answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    Ok,
    /// `{"errcode": N, "errmsg": …}`.
    Errcode(i64),
    /// An HTTP status with an empty body.
    Status(u16),
    /// Waits this long before answering OK.
    Slow(Duration),
    /// Reads the request and closes the connection without a word.
    Close,
    /// `200` with a body that is not JSON.
    Garbage,
    /// `errcode` 93000 with an `errmsg` that quotes the webhook URL and its key.
    EchoUrl,
}

/// A WeCom group robot on loopback: `POST /cgi-bin/webhook/send?key=KEY`, answered as the
/// robot does; every request's JSON body is kept.
pub struct Robot {
    pub port: u16,
    requests: Arc<Mutex<Vec<Value>>>,
    /// Answers for the next requests, in order; then `Ok`.
    script: Arc<Mutex<Vec<Answer>>>,
}

impl Robot {
    pub fn start() -> Robot {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(Vec::new()));
        let (r, s) = (requests.clone(), script.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let answer = {
                    let mut s = s.lock().unwrap();
                    if s.is_empty() { Answer::Ok } else { s.remove(0) }
                };
                let r = r.clone();
                std::thread::spawn(move || serve(stream, answer, &r));
            }
        });
        Robot { port, requests, script }
    }

    pub fn webhook(&self) -> String {
        format!("http://127.0.0.1:{}/cgi-bin/webhook/send?key={KEY}", self.port)
    }

    /// The answers to the next requests.
    pub fn then(&self, answers: &[Answer]) {
        self.script.lock().unwrap().extend_from_slice(answers);
    }

    /// Every request body received (failed ones too).
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    /// The markdown contents received.
    pub fn contents(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|b| b["markdown"]["content"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Reads one HTTP/1.1 request: its head (request line and headers) and body.
pub fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[header_end..].to_vec()))
}

/// Writes an HTTP/1.1 answer and closes.
pub fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn serve(mut stream: TcpStream, answer: Answer, requests: &Mutex<Vec<Value>>) {
    let Some((head, body)) = read_request(&mut stream) else { return };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    requests.lock().unwrap().push(body.clone());
    let right_key = head.starts_with(&format!("POST /cgi-bin/webhook/send?key={KEY} "));
    let (status, text) = match answer {
        _ if !right_key => (200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#.to_string()),
        Answer::Close => return,
        Answer::Slow(d) => {
            std::thread::sleep(d);
            (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
        }
        Answer::Ok if body["msgtype"] != "markdown" => {
            (200, r#"{"errcode":40008,"errmsg":"invalid message type"}"#.to_string())
        }
        Answer::Ok if body["markdown"]["content"].as_str().is_none_or(|c| c.len() > 4096) => {
            (200, r#"{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}"#.to_string())
        }
        Answer::Ok => (200, r#"{"errcode":0,"errmsg":"ok"}"#.to_string()),
        Answer::Errcode(code) => (200, format!(r#"{{"errcode":{code},"errmsg":"refused by the test"}}"#)),
        Answer::Status(code) => (code, String::new()),
        Answer::Garbage => (200, "<html>gateway</html>".to_string()),
        Answer::EchoUrl => {
            let path = head.split_whitespace().nth(1).unwrap_or_default();
            (
                200,
                format!(
                    r#"{{"errcode":93000,"errmsg":"invalid webhook url http://127.0.0.1{path}, key {KEY}"}}"#
                ),
            )
        }
    };
    respond(&mut stream, status, &text);
}

/// 60 messages on 2026-11-02 made to fire every day alert: 40 from one user key ("bridge",
/// 2/3 of the day), 6 errors (10 %), and of the 54 answered, 30 knowledge-base misses that
/// also send the user to IT (hit rate 24/54, transfers in 30 of 60 sessions).
pub fn troubled_day() -> Small {
    let mut s = Small::new();
    let times: Vec<String> = (0..60)
        .map(|i| {
            let minutes = if i < 40 { i * 20 } else { 14 * 60 + (i - 40) * 10 };
            format!("2026-11-02 {:02}:{:02}:00", minutes / 60, minutes % 60)
        })
        .collect();
    let users: Vec<String> =
        (0..60).map(|i| if i < 40 { "bridge".to_string() } else { format!("user{i}") }).collect();
    for i in 0..60 {
        let error = i % 10 == 9;
        let answer = if error {
            ""
        } else if i % 2 == 0 {
            MISS_TRANSFER
        } else {
            HIT
        };
        let mut m = Msg::new(&users[i], &times[i], answer);
        if error {
            m.status = "error";
        }
        s.msg(m);
    }
    s
}

const TIGHT: &str = "[alerts]\nmin_kb_hit_rate = 0.6\nmax_transfer_rate = 0.4\nmax_error_rate = 0.05\n";
const LOOSE: &str =
    "[alerts]\nmax_user_share = 0.7\nmin_kb_hit_rate = 0.4\nmax_transfer_rate = 0.6\nmax_error_rate = 0.2\n";

pub async fn setup(s: &Small, backend: Backend, config: &str) -> (TestDb, TestWarehouse, Env) {
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, config);
    env.ok(&["ingest"]);
    (dify, wh, env)
}

/// `check` with `args`, expecting exit `code`; returns stdout.
fn check(env: &Env, args: &[&str], code: i32) -> String {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let out = env.run(&all);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "itstat {all:?}\nstdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stdout.contains(KEY) && !stderr.contains(KEY),
        "the webhook key was printed:\n{stdout}\n{stderr}"
    );
    stdout.to_string()
}

pub fn kinds(json: &Value) -> Vec<String> {
    let mut k: Vec<String> =
        json["alerts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_string()).collect();
    k.sort();
    k
}

on_both_backends!(
    each_kind_fires_on_data_made_for_it_and_stays_quiet_otherwise,
    a_failed_ingest_fires_stale_ingest_and_marks_every_report_format,
    notifications_go_once_per_episode_to_mail_and_wecom,
);

async fn each_kind_fires_on_data_made_for_it_and_stays_quiet_otherwise(backend: Backend) {
    let (_dify, _wh, env) = setup(&troubled_day(), backend, TIGHT).await;
    let json: Value =
        serde_json::from_str(&check(&env, &["--date", "2026-11-02", "--format", "json"], 3)).unwrap();
    assert_eq!(kinds(&json), ["error_rate_high", "kb_hit_rate_low", "one_user_key", "transfer_rate_high"]);
    let by_kind =
        |k: &str| json["alerts"].as_array().unwrap().iter().find(|a| a["kind"] == k).unwrap().clone();
    let one = by_kind("one_user_key");
    assert_eq!(
        (&one["user_key"], &one["count"], &one["total"]),
        (&Value::from("bridge"), &Value::from(40), &Value::from(60))
    );
    assert!((one["value"].as_f64().unwrap() - 40.0 / 60.0).abs() < 1e-9);
    assert_eq!(one["threshold"], 0.5);
    assert!(one["message"].as_str().unwrap().contains("[identity]"), "names the fix: {one}");
    assert_eq!((&one["subject"], &one["state"]), (&Value::from("bridge"), &Value::from("active")));
    assert!(one["since"].as_str().unwrap().ends_with("+08:00"), "local time: {one}");
    assert_eq!(json["pending"], Value::Array(vec![]));
    assert_eq!(json["warnings"], Value::Array(vec![]), "the day is covered by the data");
    let kb = by_kind("kb_hit_rate_low");
    assert_eq!(
        (&kb["count"], &kb["total"], &kb["threshold"]),
        (&Value::from(24), &Value::from(54), &Value::from(0.6))
    );
    let errors = by_kind("error_rate_high");
    assert_eq!((&errors["value"], &errors["severity"]), (&Value::from(0.1), &Value::from("critical")));
    assert_eq!((&errors["subject"], &errors["state"]), (&Value::Null, &Value::from("active")));
    // The rates are the report's own numbers for that day.
    let report = env.report(&["--date", "2026-11-02"]);
    assert_eq!(by_kind("transfer_rate_high")["value"], report["totals"]["transfer_rate"]);
    assert_eq!(kb["value"], report["totals"]["kb_hit_rate"]);
    assert!(report["totals"]["transfer_rate"].as_f64().unwrap() > 0.4);

    let text = check(&env, &["--date", "2026-11-02"], 3);
    assert_eq!(text.lines().filter(|l| l.starts_with("CRITICAL error_rate_high:")).count(), 1, "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");

    // A quiet day, and the same day under loose thresholds: nothing fires, exit 0.
    let quiet: Value =
        serde_json::from_str(&check(&env, &["--date", "2026-11-03", "--format", "json"], 0)).unwrap();
    assert_eq!(quiet["alerts"], Value::Array(vec![]));
    std::fs::write(env.path().join("itstat.toml"), LOOSE).unwrap();
    assert!(check(&env, &["--date", "2026-11-02"], 0).starts_with("ok: no alert fires"));
    // Unset thresholds do not run; one_user_key does, with its defaults.
    std::fs::write(env.path().join("itstat.toml"), "").unwrap();
    let defaults: Value =
        serde_json::from_str(&check(&env, &["--date", "2026-11-02", "--format", "json"], 3)).unwrap();
    assert_eq!(kinds(&defaults), ["one_user_key"]);
}

async fn a_failed_ingest_fires_stale_ingest_and_marks_every_report_format(backend: Backend) {
    let smtp = SmtpServer::start();
    let config = format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"itstat@example.com\"\nto = [\"boss@example.com\"]\n[report]\nlang = \"en\"\n",
        smtp.port
    );
    let (_dify, _wh, mut env) = setup(&troubled_day(), backend, &config).await;
    let day = ["--date", "2026-11-02"];
    assert_eq!(env.report(&day)["warnings"], Value::Array(vec![]), "fresh data: no warning");
    check(&env, &["--date", "2026-11-03"], 0);

    // Dify goes away (a refused port; the URL's password must not leak into any alert).
    env.dify_url = Some("postgres://ro:s3cret-pw@127.0.0.1:1/dify".into());
    env.fails(&["ingest"], 2);
    let json: Value =
        serde_json::from_str(&check(&env, &["--date", "2026-11-03", "--format", "json"], 3)).unwrap();
    assert_eq!(kinds(&json), ["stale_ingest"]);
    let stale = &json["alerts"][0];
    assert_eq!(stale["failures"], 1);
    let all = json.to_string();
    assert!(!all.contains("s3cret-pw"), "{all}");
    assert!(stale["message"].as_str().unwrap().contains("itstat ingest"), "{stale}");

    // Every format of the report says the numbers may be old.
    let report = env.report(&day);
    assert_eq!(report["warnings"][0]["kind"], "stale_ingest", "{}", report["warnings"]);
    let md = env.ok(&["report", "--date", "2026-11-02", "--format", "md"]);
    assert!(md.contains("⚠ The last 1 ingest run(s) failed"), "{md}");
    env.ok(&["report", "--date", "2026-11-02"]);
    let mut book =
        calamine::open_workbook_auto(env.path().join("reports/itstat-day-2026-11-02.xlsx")).unwrap();
    use calamine::Reader;
    let overview = book.worksheet_range_at(0).unwrap().unwrap();
    let banner = overview.get_value((1, 0)).map(|v| v.to_string()).unwrap_or_default();
    assert!(banner.starts_with("⚠ The last 1 ingest run(s) failed"), "{banner}");
    // The Messages sheet reads its answers apart from its rows: each row has its own.
    let listed: Value = serde_json::from_str(&env.ok(&[
        "messages",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-02",
        "--limit",
        "1000",
        "--format",
        "json",
    ]))
    .unwrap();
    let answer_of: std::collections::HashMap<&str, &str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["answer"].as_str().unwrap()))
        .collect();
    let messages = book.worksheet_range("Messages").unwrap();
    let rows: Vec<_> = messages.rows().skip(1).collect();
    assert_eq!(rows.len(), answer_of.len(), "{backend:?}");
    for row in rows {
        assert_eq!(row[3].to_string(), answer_of[row[12].to_string().as_str()], "{backend:?}");
    }
    let out = env.run(&["report", "--date", "2026-11-02", "--mail"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WARN") && stderr.contains("ingest run(s) failed"), "a logged warning: {stderr}");
    let mail = smtp.messages();
    let parsed = mail_parser::MessageParser::default().parse(&mail[0]).unwrap();
    assert!(parsed.subject().unwrap().starts_with("[incomplete data] "), "{:?}", parsed.subject());
    assert!(parsed.body_html(0).unwrap().contains("⚠ The last 1 ingest run(s) failed"));
}

async fn notifications_go_once_per_episode_to_mail_and_wecom(backend: Backend) {
    let (smtp, robot) = (SmtpServer::start(), Robot::start());
    let config = |alerts: &str| {
        format!(
            "{alerts}repeat = \"1h\"\n[mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"itstat@example.com\"\nowner = \"ops@example.com\"\n",
            smtp.port
        )
    };
    let (_dify, wh, mut env) =
        setup(&troubled_day(), backend, &config("[alerts]\nmax_error_rate = 0.05\n")).await;
    env.extra.push(("ITSTAT_WECOM_WEBHOOK".into(), robot.webhook()));
    let day = ["--date", "2026-11-02", "--notify"];

    // A dry run says what it would send — one post per channel — and sends and records nothing.
    let dry = check(&env, &["--date", "2026-11-02", "--notify", "--dry-run"], 3);
    assert_eq!(dry.matches(": would send (2 alert(s), 0 resolved)").count(), 2, "{dry}");
    assert!(robot.requests().is_empty() && smtp.messages().is_empty());
    assert_eq!(wh.count("SELECT COUNT(*) FROM deliveries").await, 0);
    assert_eq!(wh.count("SELECT COUNT(*) FROM alert_episodes").await, 0);

    // Two alerts: one post and one mail, most severe first.
    let first = check(&env, &day, 3);
    assert_eq!(first.matches(": sent (2 alert(s), 0 resolved)").count(), 2, "{first}");
    let posts = robot.contents();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let post = &posts[0];
    assert!(
        post.starts_with("**itstat 告警 · 2 条**\n<font color=\"warning\">error_rate_high · critical</font>"),
        "{post}"
    );
    assert!(post.contains("10.0%") && post.contains("one_user_key · warning · bridge"), "{post}");
    assert!(post.find("error_rate_high") < post.find("one_user_key"), "critical first: {post}");
    assert_eq!(robot.requests()[0]["msgtype"], "markdown");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let parsed = mail_parser::MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(parsed.subject(), Some("[itstat 告警] error_rate_high (critical) +1"));
    assert_eq!(parsed.to().unwrap().first().unwrap().address().unwrap(), "ops@example.com");
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains("[CRITICAL] error_rate_high · critical") && body.contains("bridge"), "{body}");
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM deliveries WHERE report_kind = 'alerts' AND status = 'sent'").await,
        2
    );

    // Still firing within `repeat`: nothing new.
    let again = check(&env, &day, 3);
    assert_eq!(again.matches("nothing due").count(), 2, "{again}");
    assert_eq!((robot.requests().len(), smtp.messages().len()), (1, 1));

    ends_then_fires_again(&env, &wh, &robot, &smtp, &config).await;
}

/// The error alert of `notifications_go_once_per_episode_to_mail_and_wecom` ends, fires
/// again, and is reminded after `repeat`.
async fn ends_then_fires_again(
    env: &Env,
    wh: &TestWarehouse,
    robot: &Robot,
    smtp: &SmtpServer,
    config: &dyn Fn(&str) -> String,
) {
    let day = ["--date", "2026-11-02", "--notify"];
    // The error alert stops (its threshold loosened): its episode ends and both channels are
    // told so, once; one_user_key's episode stays open.
    std::fs::write(env.path().join("itstat.toml"), config("[alerts]\nmax_error_rate = 0.5\n")).unwrap();
    let ended = check(env, &day, 3);
    assert_eq!(ended.matches(": sent (0 alert(s), 1 resolved)").count(), 2, "{ended}");
    let resolved = &robot.contents()[1];
    assert!(
        resolved
            .starts_with("**itstat 已恢复**\n<font color=\"info\">✓ error_rate_high</font> 已恢复，持续 "),
        "{resolved}"
    );
    assert!(!resolved.contains("one_user_key"), "{resolved}");
    // (The maildir is not in order.)
    let subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| {
            mail_parser::MessageParser::default().parse(m).unwrap().subject().unwrap_or_default().to_string()
        })
        .collect();
    assert!(subjects.iter().any(|s| s == "[itstat 已恢复] error_rate_high"), "{subjects:?}");
    assert_eq!(wh.count("SELECT COUNT(*) FROM alert_episodes WHERE cleared_at IS NULL").await, 1);
    check(env, &day, 3);
    assert_eq!(robot.requests().len(), 2, "a resolved notice goes once");

    // …and fires again: a new episode, sent at once.
    std::fs::write(env.path().join("itstat.toml"), config("[alerts]\nmax_error_rate = 0.05\n")).unwrap();
    check(env, &day, 3);
    let contents = robot.contents();
    assert_eq!(contents.len(), 3);
    assert!(
        contents[2].contains("error_rate_high") && !contents[2].contains("one_user_key"),
        "{}",
        contents[2]
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM alert_episodes").await, 3);

    // After `repeat`, one reminder with both.
    std::fs::write(
        env.path().join("itstat.toml"),
        config("[alerts]\nmax_error_rate = 0.05\n").replace("repeat = \"1h\"", "repeat = \"1s\""),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    check(env, &day, 3);
    let contents = robot.contents();
    assert_eq!(contents.len(), 4, "both alerts reminded in one post");
    assert!(
        contents[3].contains("error_rate_high") && contents[3].contains("one_user_key"),
        "{}",
        contents[3]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_robot_failing_is_exit_two_and_retried_by_the_next_check() {
    let robot = Robot::start();
    let config = "[alerts]\nmax_error_rate = 0.05\nmax_user_share = 1.0\nnotify = [\"wecom\"]\n[wecom]\ntimeout = \"1s\"\n";
    let (_dify, wh, mut env) = setup(&troubled_day(), Backend::Sqlite, config).await;
    env.extra.push(("ITSTAT_WECOM_WEBHOOK".into(), robot.webhook()));
    let day = ["check", "--date", "2026-11-02", "--notify"];

    // The robot's verdict is not retried; the error names it, never the key.
    robot.then(&[Answer::Errcode(93000)]);
    let err = error_line(&env.fails(&day, 2));
    assert!(err.contains("errcode 93000") && err.contains("http://127.0.0.1"), "{err}");
    assert!(!err.contains(KEY), "{err}");
    assert_eq!(robot.requests().len(), 1);
    assert_eq!(wh.count("SELECT COUNT(*) FROM deliveries WHERE status = 'failed'").await, 1);

    // A 5xx and a dropped connection are retried: the third attempt goes through.
    robot.then(&[Answer::Status(502), Answer::Close]);
    check(&env, &day[1..], 3);
    assert_eq!(robot.requests().len(), 4);
    assert_eq!(wh.count("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'").await, 1);

    // A robot that does not answer in time, or answers garbage, three times: exit 2. Two alerts
    // are one post: three attempts in all, each bounded by the timeout (not six).
    std::fs::write(
        env.path().join("itstat.toml"),
        config
            .replace("[alerts]\n", "[alerts]\nrepeat = \"1s\"\nmax_user_share = 0.5\n")
            .replace("max_user_share = 1.0\n", ""),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    robot.then(&[Answer::Slow(Duration::from_secs(3)); 3]);
    let before = robot.requests().len();
    let out = env.run(&["check", "--date", "2026-11-02", "--notify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = error_line(&String::from_utf8_lossy(&out.stderr));
    assert!(err.contains("after 3 attempts") && err.contains("no answer in time"), "{err}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["alerts"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["notifications"][0]["status"], "failed");
    assert_eq!(json["notifications"][0]["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(robot.requests().len() - before, 3, "one post, three attempts");
    robot.then(&[Answer::Garbage; 3]);
    let err = error_line(&env.fails(&day, 2));
    assert!(err.contains("not the robot's JSON"), "{err}");

    // A robot whose answer echoes the webhook: the key is masked on stderr, in the JSON and in
    // the delivery log.
    robot.then(&[Answer::EchoUrl]);
    let out = env.run(&["check", "--date", "2026-11-02", "--notify", "--format", "json"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("key=***") && !stderr.contains(KEY), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let error = json["notifications"][0]["error"].as_str().unwrap();
    assert!(error.contains("errcode 93000") && !error.contains(KEY), "{error}");
    let logged = wh.query_strings("SELECT error FROM deliveries WHERE status = 'failed'").await;
    assert!(
        logged.iter().all(|e| !e.contains(KEY)) && logged.iter().any(|e| e.contains("key=***")),
        "{logged:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn report_wecom_posts_the_summary_once_per_period_with_questions_inert() {
    let robot = Robot::start();
    let mut s = troubled_day();
    let mut hostile = Msg::new("mallory", "2026-11-02 20:00:00", MISS_TRANSFER);
    hostile.query = "[点我](http://evil.example) <font color=\"warning\">假告警</font>";
    s.msg(hostile);
    let (_dify, wh, mut env) = setup(&s, Backend::Sqlite, "").await;
    env.extra.push(("ITSTAT_WECOM_WEBHOOK".into(), robot.webhook()));
    let day = ["report", "--date", "2026-11-02", "--format", "json", "--wecom"];

    let dry = env.ok(&["report", "--date", "2026-11-02", "--format", "md", "--wecom", "--dry-run"]);
    assert!(dry.contains("dry run: would post to WeCom"), "{dry}");
    assert!(robot.requests().is_empty());

    env.ok(&day);
    let posts = robot.contents();
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert!(post.starts_with("**IT客服机器人日报 2026-11-02**"), "{post}");
    assert!(post.contains("消息数") || post.contains("messages"), "{post}");
    assert!(!post.contains("](http") && !post.contains("<font color=\"warning\">假"), "inert: {post}");
    assert!(post.contains("\\[点我\\]"), "{post}");

    let again = env.ok(&day);
    assert!(again.contains("already posted to WeCom"), "{again}");
    assert_eq!(robot.requests().len(), 1);
    env.ok(&["report", "--date", "2026-11-02", "--format", "json", "--wecom", "--force"]);
    assert_eq!(robot.requests().len(), 2);
    assert_eq!(
        wh.count("SELECT COUNT(*) FROM deliveries WHERE recipient = 'wecom' AND status = 'sent'").await,
        2
    );

    // No robot configured: exit 1 before any work, naming the setting.
    env.extra.clear();
    let err = error_line(&env.fails(&day, 1));
    assert!(err.contains("ITSTAT_WECOM_WEBHOOK"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_dify_check_fires_and_report_writes_no_zeros() {
    let env = Env::new(None, "sqlite://itstat.db", "");
    env.fails(&["ingest"], 1);
    let json: Value = serde_json::from_str(&check(&env, &["--format", "json"], 3)).unwrap();
    assert_eq!(kinds(&json), ["stale_ingest"]);
    assert!(json["alerts"][0]["message"].as_str().unwrap().contains("[dify] url"), "{json}");
    assert!(!env.path().join("itstat.db").exists(), "a check without --notify creates nothing");
    let err = error_line(&env.fails(&["report"], 1));
    assert!(err.contains("run `itstat ingest` first"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_check_that_finds_alerts_is_not_a_failed_job() {
    let job = "[[schedule]]\nname = \"check\"\ncron = \"* * * * * *\"\nrun = [\"check\", \"--date\", \"2026-11-02\"]\n";
    let (_dify, wh, env) = setup(&troubled_day(), Backend::Sqlite, job).await;
    let mut child = env
        .command(&["schedule", "--no-catch-up"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while wh.count("SELECT COUNT(*) FROM job_runs WHERE finished_at IS NOT NULL").await == 0 {
        assert!(std::time::Instant::now() < deadline, "the check job did not run");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let outcomes = wh.query_strings("SELECT outcome FROM job_runs WHERE finished_at IS NOT NULL").await;
    assert!(outcomes.iter().all(|o| o == "ok"), "{outcomes:?}");
    let stdout = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert!(stdout.contains("one_user_key"), "the job printed its alert: {stdout}");
}
