//! `itstat report` as managers receive it: the workbook (read back with calamine), the
//! Markdown summary, and mail through a real SMTP server on loopback (aiosmtpd).

use std::io::Cursor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use itstat::demo::generator::{GenConfig, generate};
use itstat::demo::pg::SchemaVersion;
use mail_parser::MimeHeaders;

use crate::support::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// aiosmtpd on loopback, saving every message into a Maildir.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let port = free_port();
        let maildir = tempfile::tempdir().unwrap();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer { child, port, maildir }
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let new = self.maildir.path().join("box/new");
        let Ok(entries) = std::fs::read_dir(new) else { return Vec::new() };
        entries.map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mail_config(port: u16) -> String {
    format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"IT 数据 <itstat@example.com>\"\nto = [\"manager@example.com\", \"lead@example.com\"]\ntimeout = \"2s\"\n"
    )
}

async fn ingested(data: &itstat::demo::generator::Dataset, config: &str) -> (TestDb, Env) {
    let dify = dify_with(data, SchemaVersion::V1_14).await;
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", config);
    env.ok(&["ingest"]);
    (dify, env)
}

fn open_xlsx(path: &Path) -> Xlsx<Cursor<Vec<u8>>> {
    Xlsx::new(Cursor::new(std::fs::read(path).unwrap())).unwrap()
}

fn cell_f64(d: &Data) -> Option<f64> {
    match d {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        _ => None,
    }
}

/// The value in column B of the Overview row whose column A is `label`.
fn overview_value(book: &mut Xlsx<Cursor<Vec<u8>>>, sheet: &str, label: &str) -> Option<f64> {
    let range = book.worksheet_range(sheet).unwrap();
    range
        .rows()
        .find(|r| r.first().map(|c| c.to_string()) == Some(label.to_string()))
        .and_then(|r| cell_f64(&r[1]))
}

#[tokio::test(flavor = "multi_thread")]
async fn workbook_numbers_match_the_json() {
    let data = generate(&GenConfig { messages: 800, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, "").await;
    let out = env.ok(&["report", "--period", "week", "--date", "2026-11-18", "--format", "xlsx,json"]);
    let json_end = out.rfind('}').unwrap();
    let json: serde_json::Value = serde_json::from_str(&out[..=json_end]).unwrap();
    let path = env.path().join("reports/itstat-week-2026-W47.xlsx");
    assert!(out.contains("wrote reports/itstat-week-2026-W47.xlsx"), "{out}");
    let mut book = open_xlsx(&path);
    let names = book.sheet_names().to_vec();
    assert_eq!(names, ["概览", "每日", "会话", "消息", "未命中", "人工", "用户", "说明"]);
    let t = &json["totals"];
    assert_eq!(overview_value(&mut book, "概览", "消息数"), t["messages"].as_f64());
    assert_eq!(overview_value(&mut book, "概览", "会话总数"), t["sessions"].as_f64());
    let rate = overview_value(&mut book, "概览", "知识库命中率").unwrap();
    assert!((rate - t["kb_hit_rate"].as_f64().unwrap()).abs() < 1e-12);
    // Daily: one row per date, messages in the KPI order's first column after the date.
    let daily = book.worksheet_range("每日").unwrap();
    let rows: Vec<_> = daily.rows().skip(1).collect();
    assert_eq!(rows.len(), 7);
    for (row, day) in rows.iter().zip(json["daily"].as_array().unwrap()) {
        assert_eq!(cell_f64(&row[1]), day["messages"].as_f64());
    }
    // Messages sheet: one row per message dated in the week.
    let messages = book.worksheet_range("消息").unwrap();
    assert_eq!(messages.rows().count() - 1, t["messages"].as_i64().unwrap() as usize);
    let sessions = book.worksheet_range("会话").unwrap();
    assert_eq!(sessions.rows().count() - 1, t["bot_sessions"].as_i64().unwrap() as usize);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_stays_inert_everywhere() {
    let mut s = Small::new();
    s.msg(Msg {
        query: "=1+1",
        ..Msg::new(
            "=HYPERLINK(\"x\")",
            "2026-11-02 09:00:00",
            "<script>alert(1)</script>抱歉，您的问题可能不在服务业务范围内",
        )
    });
    s.msg(Msg {
        query: "@SUM(A1)|x\u{202e}",
        ..Msg::new("lisi", "2026-11-02 09:00:00", "+cmd|' /C calc'!A0")
    });
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", &mail_config(1));
    env.ok(&["ingest"]);
    let md = env.ok(&["report", "--date", "2026-11-02", "--format", "md,xlsx", "--mail", "--dry-run"]);
    assert!(md.contains("=1+1"), "{md}");
    let mut book = open_xlsx(&env.path().join("reports/itstat-day-2026-11-02.xlsx"));
    let range = book.worksheet_range("消息").unwrap();
    let texts: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(texts.contains(&"=1+1".to_string()), "{texts:?}");
    assert!(texts.contains(&"=HYPERLINK(\"x\")".to_string()));
    assert!(texts.contains(&"+cmd|' /C calc'!A0".to_string()));
    let formulas = book.worksheet_formula("消息").unwrap();
    assert!(formulas.cells().all(|(_, _, f)| f.is_empty()), "no formulas in user text");
    let eml = std::fs::read_to_string(env.path().join("reports/itstat-day-2026-11-02.eml")).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(eml.as_bytes()).unwrap();
    let html = parsed.body_html(0).unwrap();
    assert!(!html.contains("<script>"), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_goes_once_per_period_unless_forced() {
    let smtp = SmtpServer::start();
    let data = generate(&GenConfig { messages: 300, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, &mail_config(smtp.port)).await;
    let out = env.ok(&["report", "--date", "2026-11-20", "--mail"]);
    assert!(
        out.contains("sent \"IT客服机器人日报 2026-11-20\" to manager@example.com, lead@example.com"),
        "{out}"
    );
    let received = smtp.messages();
    assert_eq!(received.len(), 1);
    let msg = mail_parser::MessageParser::default().parse(&received[0]).unwrap();
    assert_eq!(msg.subject(), Some("IT客服机器人日报 2026-11-20"));
    let to: Vec<&str> = msg.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, ["manager@example.com", "lead@example.com"]);
    let attachment = msg.attachment(0).unwrap();
    assert_eq!(attachment.attachment_name(), Some("itstat-day-2026-11-20.xlsx"));
    let bytes = attachment.contents().to_vec();
    assert_eq!(bytes, std::fs::read(env.path().join("reports/itstat-day-2026-11-20.xlsx")).unwrap());
    assert!(msg.body_text(0).unwrap().contains("消息数"));
    assert!(msg.body_html(0).unwrap().contains("<table"));

    // A cron re-run sends nothing; --force sends again; a new recipient gets it once.
    let out = env.ok(&["report", "--date", "2026-11-20", "--mail"]);
    assert!(out.contains("already sent to manager@example.com"), "{out}");
    assert_eq!(smtp.messages().len(), 1);
    env.ok(&["report", "--date", "2026-11-20", "--mail", "--force"]);
    assert_eq!(smtp.messages().len(), 2);
    env.ok(&["report", "--date", "2026-11-20", "--mail", "--to", "new@example.com"]);
    env.ok(&["report", "--date", "2026-11-20", "--mail", "--to", "new@example.com"]);
    assert_eq!(smtp.messages().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn smtp_down_keeps_the_workbook_and_exits_two() {
    let data = generate(&GenConfig { messages: 100, ..GenConfig::default() });
    let port = free_port(); // nothing listens there
    let (_dify, env) = ingested(&data, &mail_config(port)).await;
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail"], 2);
    assert!(error_line(&err).contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(error_line(&err).contains("3 attempts"), "{err}");
    assert!(env.path().join("reports/itstat-day-2026-11-20.xlsx").exists(), "the workbook stays");
    let wh = sqlite_at(&env.path());
    assert_eq!(wh.count("SELECT COUNT(*) FROM deliveries WHERE status = 'failed'").await, 2);
    // A server that accepts but never answers times out the same way.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::fs::write(env.path().join("itstat.toml"), mail_config(port)).unwrap();
    let started = Instant::now();
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail"], 2);
    assert!(error_line(&err).contains("3 attempts"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(silent);
}

fn sqlite_at(dir: &Path) -> TestWarehouse {
    TestWarehouse::sqlite_file(PathBuf::from(dir).join("itstat.db"))
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_mistakes_are_refused_before_any_work() {
    let data = generate(&GenConfig { messages: 50, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, "").await;
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail"], 1);
    assert!(error_line(&err).contains("`--mail` needs a recipient"), "{err}");
    let err = env.fails(&["report", "--date", "2026-11-20", "--to", "boss@example.com"], 1);
    assert!(error_line(&err).contains("needs `--mail`"), "{err}");
    std::fs::write(
        env.path().join("itstat.toml"),
        mail_config(1).replace("IT 数据 <itstat@example.com>", "not an address"),
    )
    .unwrap();
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail"], 1);
    assert!(error_line(&err).contains("`[mail] from`"), "{err}");
    assert!(!env.path().join("reports").exists(), "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_period_gives_a_workbook_that_says_so() {
    let data = generate(&GenConfig { messages: 50, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, "[report]\nlang = \"en\"\n").await;
    env.ok(&["report", "--period", "month", "--date", "2026-01-15"]);
    let mut book = open_xlsx(&env.path().join("reports/itstat-month-2026-01.xlsx"));
    assert_eq!(book.sheet_names()[0], "Overview");
    assert_eq!(overview_value(&mut book, "Overview", "Messages"), Some(0.0));
    let daily = book.worksheet_range("Daily").unwrap();
    assert_eq!(daily.rows().count() - 1, 31);
    let md =
        env.ok(&["report", "--period", "month", "--date", "2026-01-15", "--format", "md", "--lang", "zh"]);
    assert!(md.contains("# IT客服机器人月报 2026-01"), "{md}");
    assert!(md.contains("本期没有未命中的问题"), "{md}");
}
