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

/// aiosmtpd on loopback, saving every message into a Maildir (or answering as a handler of
/// the test's says).
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

/// An aiosmtpd handler that answers `RCPT TO` for the addresses in `$SMTP_REFUSE` (comma
/// separated; `*` for all) with the reply in `$SMTP_REPLY`, appending each refused address to
/// `$SMTP_LOG` (one line per attempt: how often the client tried), and keeps the messages to
/// the other recipients in the Maildir `$SMTP_BOX`.
const REFUSING_HANDLER: &str = r#"
import os, uuid

class Refuse:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refused = os.environ["SMTP_REFUSE"]
        if refused != "*" and address not in refused.split(","):
            envelope.rcpt_tos.append(address)
            return "250 OK"
        with open(os.environ["SMTP_LOG"], "a") as log:
            log.write(address + "\n")
        return os.environ["SMTP_REPLY"]

    async def handle_DATA(self, server, session, envelope):
        box = os.path.join(os.environ["SMTP_BOX"], "new")
        os.makedirs(box, exist_ok=True)
        with open(os.path.join(box, uuid.uuid4().hex), "wb") as f:
            f.write(envelope.original_content)
        return "250 OK"
"#;

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let maildir = tempfile::tempdir().unwrap();
        let target = maildir.path().join("box");
        SmtpServer::spawn(maildir, &["aiosmtpd.handlers.Mailbox", target.to_str().unwrap()], &[])
    }

    /// A server that refuses every recipient with `reply` (e.g. `550 5.1.1 …`); see
    /// [`SmtpServer::refusals`].
    pub fn refusing(reply: &str) -> SmtpServer {
        SmtpServer::refusing_only("*", reply)
    }

    /// A server that refuses the recipients `refused` (comma separated) with `reply` and takes
    /// mail for the others.
    pub fn refusing_only(refused: &str, reply: &str) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("refuse.py"), REFUSING_HANDLER).unwrap();
        let path = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
        let (pythonpath, log, boxdir) = (path(""), path("rcpt.log"), path("box"));
        let env = [
            ("PYTHONPATH", pythonpath.as_str()),
            ("SMTP_LOG", &log),
            ("SMTP_BOX", &boxdir),
            ("SMTP_REFUSE", refused),
            ("SMTP_REPLY", reply),
        ];
        SmtpServer::spawn(dir, &["refuse.Refuse"], &env)
    }

    fn spawn(maildir: tempfile::TempDir, handler: &[&str], env: &[(&str, &str)]) -> SmtpServer {
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c"])
            .args(handler)
            .envs(env.iter().copied())
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

    /// The recipients a [`SmtpServer::refusing`] server refused, one per attempt.
    pub fn refusals(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.maildir.path().join("rcpt.log")).unwrap_or_default();
        log.lines().map(str::to_string).collect()
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

/// A report mail taken apart by its MIME structure, not by a parser's guesses (mail_parser's
/// `body_text` makes text out of the HTML when there is no plain part).
struct ReportMail {
    subject: String,
    plain: String,
    html: String,
    attachment_name: String,
    attachment: Vec<u8>,
    /// The inline trend chart the HTML shows (`cid:`), PNG bytes.
    chart: Vec<u8>,
}

/// Parses `raw` and insists on the structure mail clients need: `multipart/mixed` holding a
/// `multipart/alternative` (text/plain, then `multipart/related` with the text/html, both
/// UTF-8, and the inline chart PNG the HTML shows by its Content-ID) and the workbook as an
/// attachment with the xlsx content type.
fn report_mail(raw: &[u8]) -> ReportMail {
    use mail_parser::PartType;
    let msg = mail_parser::MessageParser::default().parse(raw).expect("a MIME message");
    let kind = |i: usize| {
        let ct = msg.parts[i].content_type().expect("every part has a content type");
        format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
    };
    let utf8 = |i: usize| {
        let charset = msg.parts[i].content_type().and_then(|ct| ct.attribute("charset"));
        assert!(charset.is_some_and(|c| c.eq_ignore_ascii_case("utf-8")), "part {i}: {charset:?}");
    };
    let children = |i: usize| match &msg.parts[i].body {
        PartType::Multipart(ids) => ids.iter().map(|&id| id as usize).collect::<Vec<_>>(),
        other => panic!("part {i} ({}) is not multipart: {other:?}", kind(i)),
    };
    assert_eq!(kind(0), "multipart/mixed");
    let top = children(0);
    assert_eq!(top.len(), 2, "alternatives and one attachment");
    assert_eq!(kind(top[0]), "multipart/alternative");
    let alternatives = children(top[0]);
    assert_eq!(
        alternatives.iter().map(|&i| kind(i)).collect::<Vec<_>>(),
        ["text/plain", "multipart/related"]
    );
    let related = children(alternatives[1]);
    assert_eq!(related.iter().map(|&i| kind(i)).collect::<Vec<_>>(), ["text/html", "image/png"]);
    let plain = match &msg.parts[alternatives[0]].body {
        PartType::Text(t) => t.to_string(),
        other => panic!("the text/plain part holds {other:?}"),
    };
    let html = match &msg.parts[related[0]].body {
        PartType::Html(h) => h.to_string(),
        other => panic!("the text/html part holds {other:?}"),
    };
    [alternatives[0], related[0]].into_iter().for_each(utf8);
    let image = &msg.parts[related[1]];
    let cid = image.content_id().expect("the chart has a Content-ID");
    assert!(html.contains(&format!("<img src=\"cid:{cid}\"")), "the HTML shows the chart {cid}: {html}");
    assert_eq!(image.content_disposition().map(|d| d.ctype()), Some("inline"));
    let file = &msg.parts[top[1]];
    assert_eq!(kind(top[1]), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(file.content_disposition().map(|d| d.ctype()), Some("attachment"));
    ReportMail {
        subject: msg.subject().unwrap_or_default().to_string(),
        plain,
        html,
        attachment_name: file.attachment_name().unwrap_or_default().to_string(),
        attachment: file.contents().to_vec(),
        chart: image.contents().to_vec(),
    }
}

/// The width and height of a PNG, which must decode.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let mut reader = png::Decoder::new(Cursor::new(bytes)).read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut pixels).expect("PNG pixels");
    (frame.width, frame.height)
}

/// Characters that would act instead of showing: controls other than line breaks, and
/// direction marks.
fn acting(text: &str) -> Vec<char> {
    text.chars().filter(|&c| !matches!(c, '\n' | '\r') && itstat::textsafe::acts(c)).collect()
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
    assert_eq!(names, ["概览", "话题", "每日", "会话", "消息", "未命中", "知识缺口", "人工", "用户", "说明"]);
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
    overview_matches_both_periods(&mut book, &json);
}

/// The workbook's 话题 sheet lists what `itstat topics` lists for the same period: the same
/// ids in the same order, with the same counts and changes.
#[tokio::test(flavor = "multi_thread")]
async fn topics_sheet_matches_the_topics_command() {
    let data = generate(&GenConfig { messages: 400, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, "").await;
    env.ok(&["report", "--period", "week", "--date", "2026-11-18", "--format", "xlsx"]);
    let out = env.ok(&["topics", "--period", "week", "--date", "2026-11-18", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected: Vec<(f64, f64, f64)> = json["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let n = |key: &str| t[key].as_f64().unwrap();
            (n("id"), n("count"), n("count") - n("previous_count"))
        })
        .collect();
    assert!(expected.len() >= 5, "the fixture has topics: {expected:?}");
    let mut book = open_xlsx(&env.path().join("reports/itstat-week-2026-W47.xlsx"));
    assert_eq!(book.sheet_names()[1], "话题");
    let sheet = book.worksheet_range("话题").unwrap();
    let listed: Vec<(f64, f64, f64)> = sheet
        .rows()
        .skip(1)
        .map(|r| (cell_f64(&r[0]).unwrap(), cell_f64(&r[2]).unwrap(), cell_f64(&r[3]).unwrap()))
        .collect();
    assert_eq!(listed, expected);
}

/// Every KPI row of the Overview against the JSON: this period, the previous one, the change
/// (percentage points for rates) and its arrow; "–" where a rate has no denominator. Labels
/// are mapped to JSON keys by the Definitions sheet, which lists both.
fn overview_matches_both_periods(book: &mut Xlsx<Cursor<Vec<u8>>>, json: &serde_json::Value) {
    let definitions = book.worksheet_range("说明").unwrap();
    let key_of: std::collections::HashMap<String, String> =
        definitions.rows().skip(1).take(23).map(|r| (r[0].to_string(), r[1].to_string())).collect();
    let overview = book.worksheet_range("概览").unwrap();
    let kpi_rows: Vec<&[Data]> = overview
        .rows()
        .filter(|r| key_of.contains_key(&r.first().map(|c| c.to_string()).unwrap_or_default()))
        .collect();
    assert_eq!(kpi_rows.len(), json["totals"].as_object().unwrap().len(), "one row per KPI");
    let (mut compared, mut moved) = (0, 0);
    for row in kpi_rows {
        let key = &key_of[&row[0].to_string()];
        let (now, before) = (json["totals"][key].as_f64(), json["previous"][key].as_f64());
        for (cell, value) in [(&row[1], now), (&row[2], before)] {
            match value {
                Some(v) => assert!((cell_f64(cell).unwrap() - v).abs() < 1e-9, "{key}: {cell:?} ≠ {v}"),
                None => assert_eq!(cell.to_string(), "–", "{key}: a null is shown as –"),
            }
        }
        let (Some(now), Some(before)) = (now, before) else {
            assert_eq!((&row[3], &row[4]), (&Data::Empty, &Data::Empty), "{key}: no change without both");
            continue;
        };
        let change = if key.ends_with("_rate") { (now - before) * 100.0 } else { now - before };
        assert!((cell_f64(&row[3]).unwrap() - change).abs() < 1e-9, "{key}: change {:?} ≠ {change}", row[3]);
        let arrow = if change > 0.0 {
            "▲"
        } else if change < 0.0 {
            "▼"
        } else {
            "–"
        };
        assert_eq!(row[4].to_string(), arrow, "{key}");
        compared += 1;
        moved += usize::from(change != 0.0);
    }
    assert!(compared >= 15 && moved >= 10, "the fixture compares real numbers ({compared}, {moved})");
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
}

/// The mail shows user text only as the top unanswered questions, so that is where hostile
/// text is put: markup, an entity, escape sequences, a C1 control, direction overrides and
/// isolates, and a 1 MB paste.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_questions_reach_the_mail_inert() {
    let huge = format!("{}<b>end</b>", "问".repeat(350_000));
    let questions = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "AT&amp;T \u{1b}[31mred\u{1b}[0m \u{9b}2J \u{7}bell",
        "abc\u{202e}fdp.exe \u{2066}x\u{2067}y\u{2068}z\u{2069}",
        huge.as_str(),
    ];
    let times: Vec<String> = (0..questions.len()).map(|i| format!("2026-11-02 09:0{i}:00")).collect();
    let mut s = Small::new();
    for (question, at) in questions.iter().zip(&times) {
        s.msg(Msg {
            query: question, ..Msg::new("zhangsan", at, "抱歉，您的问题可能不在服务业务范围内")
        });
    }
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", &mail_config(1));
    env.ok(&["ingest"]);
    let md = env.ok(&["report", "--date", "2026-11-02", "--format", "md,xlsx", "--mail", "--dry-run"]);
    let raw = std::fs::read(env.path().join("reports/itstat-day-2026-11-02.eml")).unwrap();
    let mail = report_mail(&raw);

    let html = &mail.html;
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), "{html}");
    assert!(!html.contains("<script") && !html.contains("<b>end"), "{html}");
    assert_eq!(html.matches("<img").count(), 1, "the trend chart's alone: {html}");
    assert!(html.contains("AT&amp;amp;T"), "an entity typed by a user shows as typed: {html}");
    assert!(html.contains("\\u{1b}[31mred\\u{1b}[0m \\u{9b}2J \\u{7}bell"), "{html}");
    assert!(html.contains("abc\\u{202e}fdp.exe \\u{2066}x\\u{2067}y\\u{2068}z\\u{2069}"), "{html}");
    assert_eq!(acting(html), Vec::<char>::new(), "no raw control or direction mark in the HTML");
    assert!(html.contains(&format!("{}…", "问".repeat(199))), "the paste is cut");
    assert!(html.len() < 20_000, "the HTML holds {} bytes", html.len());

    let plain = &mail.plain;
    assert!(plain.contains("<script>alert(1)</script> (1)"), "plain text is not markup: {plain}");
    assert!(plain.contains("AT&amp;T \\u{1b}[31mred"), "{plain}");
    assert!(plain.contains("abc\\u{202e}fdp.exe"), "{plain}");
    assert_eq!(acting(plain), Vec::<char>::new(), "no raw control or direction mark in the text");
    assert!(plain.len() < 20_000 && !plain.contains("<b>end</b>"), "{} bytes", plain.len());

    assert!(md.contains("&lt;script&gt;") && md.contains("abc\\u{202e}fdp.exe"), "{md}");
    assert_eq!(acting(&md), Vec::<char>::new(), "no raw control or direction mark in the Markdown");
    assert!(md.len() < 20_000, "the Markdown holds {} bytes", md.len());
    // The workbook keeps what was asked, cut only at Excel's cell limit.
    let mut book = open_xlsx(&env.path().join("reports/itstat-day-2026-11-02.xlsx"));
    let unanswered = book.worksheet_range("未命中").unwrap();
    let cells: Vec<String> = unanswered.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert!(cells.contains(&"<script>alert(1)</script>".to_string()), "{cells:?}");
    assert!(cells.iter().any(|c| c.starts_with(&"问".repeat(30_000)) && c.ends_with("…[已截断]")));
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
    let to: Vec<&str> = msg.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, ["manager@example.com", "lead@example.com"]);
    let mail = report_mail(&received[0]);
    assert_eq!(mail.subject, "IT客服机器人日报 2026-11-20");
    assert_eq!(mail.attachment_name, "itstat-day-2026-11-20.xlsx");
    let workbook = std::fs::read(env.path().join("reports/itstat-day-2026-11-20.xlsx")).unwrap();
    assert_eq!(mail.attachment, workbook);
    // The plain part carries the numbers of the KPI JSON, each with the previous period's.
    let json = env.report(&["--date", "2026-11-20"]);
    let (t, p) = (&json["totals"], &json["previous"]);
    for (label, key) in [("消息数", "messages"), ("会话总数", "sessions"), ("用户数", "users")] {
        let line = format!("{label}: {} (上期 {}) ", t[key], p[key]);
        assert!(mail.plain.contains(&line), "{line:?} in {}", mail.plain);
    }
    let rate = t["kb_hit_rate"].as_f64().unwrap() * 100.0;
    assert!(mail.plain.contains(&format!("知识库命中率: {rate:.1}% (上期 ")), "{}", mail.plain);
    assert!(mail.html.contains("<table") && mail.html.contains(&format!("<b>{}</b>", t["messages"])));
    // The chart of a day report shows the fortnight ending on it, drawn without a font.
    let (width, height) = png_size(&mail.chart);
    assert_eq!((width, height), (1200, 600), "600×300 at twice the density");
    assert!(mail.html.contains("2026-11-07 – 2026-11-20</h3>"), "{}", mail.html);

    // A cron re-run sends nothing; --force sends again; a new recipient gets it once.
    let out = env.ok(&["report", "--date", "2026-11-20", "--mail"]);
    assert!(out.contains("already sent to manager@example.com"), "{out}");
    assert_eq!(smtp.messages().len(), 1);
    env.ok(&["report", "--date", "2026-11-20", "--mail", "--force"]);
    assert_eq!(smtp.messages().len(), 2);
    env.ok(&["report", "--date", "2026-11-20", "--mail", "--to", "new@example.com"]);
    env.ok(&["report", "--date", "2026-11-20", "--mail", "--to", "new@example.com"]);
    assert_eq!(smtp.messages().len(), 3);
    // Addresses are compared without case: the same recipient, written otherwise, has it.
    let out = env.ok(&["report", "--date", "2026-11-20", "--mail", "--to", "New@Example.COM"]);
    assert!(out.contains("already sent to New@Example.COM"), "{out}");
    assert_eq!(smtp.messages().len(), 3);
    // A list naming one recipient twice mails it once.
    let to = ["--to", "other@example.com", "--to", "Other@example.com"];
    let out = env.ok(&[&["report", "--date", "2026-11-20", "--mail"][..], &to[..]].concat());
    assert!(out.contains("\" to other@example.com\n"), "{out}");
    let received = smtp.messages();
    assert_eq!(received.len(), 4);
    // The maildir lists messages in no particular order: find the one to other@.
    let recipients: Vec<Vec<String>> = received
        .iter()
        .map(|raw| mail_parser::MessageParser::default().parse(raw).unwrap())
        .map(|m| m.to().unwrap().iter().filter_map(|a| a.address()).map(str::to_lowercase).collect())
        .filter(|to: &Vec<String>| to.iter().any(|a| a == "other@example.com"))
        .collect();
    assert_eq!(recipients, [["other@example.com"]], "one message, one recipient");
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

/// A 5xx reply is the server's final word: one attempt, the reply in the error, exit 2, the
/// workbook kept and the failure in `deliveries`. A 4xx reply is tried again, three times in all.
#[tokio::test(flavor = "multi_thread")]
async fn smtp_refusal_is_not_retried_but_a_transient_reply_is() {
    let reply = "550 5.1.1 <manager@example.com>: Recipient address rejected: User unknown";
    let smtp = SmtpServer::refusing(reply);
    let data = generate(&GenConfig { messages: 100, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, &mail_config(smtp.port)).await;
    let started = Instant::now();
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail"], 2);
    let line = error_line(&err);
    // The message once (refused at its first recipient), then each address alone, in case
    // only one was bad; none of them again.
    let once_each = ["manager@example.com", "manager@example.com", "lead@example.com"];
    assert_eq!(smtp.refusals(), once_each, "not retried: {err}");
    assert!(line.contains(&format!("127.0.0.1:{}", smtp.port)), "{line}");
    assert!(line.contains("550") && line.contains("Recipient address rejected: User unknown"), "{line}");
    assert!(!line.contains("attempts"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(15), "no retry pauses");
    assert!(env.path().join("reports/itstat-day-2026-11-20.xlsx").exists(), "the workbook stays");
    let wh = sqlite_at(&env.path());
    let rows = wh
        .query_strings(
            "SELECT recipient || '|' || status || '|' || error FROM deliveries ORDER BY delivery_id",
        )
        .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, who) in rows.iter().zip(["manager@example.com", "lead@example.com"]) {
        assert!(row.starts_with(&format!("{who}|failed|")) && row.contains("User unknown"), "{row}");
    }
    drop(smtp);

    let smtp = SmtpServer::refusing("451 4.3.0 Temporary lookup failure, try again later");
    std::fs::write(env.path().join("itstat.toml"), mail_config(smtp.port)).unwrap();
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail"], 2);
    assert_eq!(smtp.refusals().len(), 3, "a transient refusal is tried three times: {err}");
    let line = error_line(&err);
    assert!(line.contains("after 3 attempts") && line.contains("451"), "{line}");
}

/// A recipient the server refuses (a departed colleague's address) does not keep the report
/// from the others: they get it and are recorded `sent`, the refused one `failed` with the
/// server's reply, and the run exits 2; the next run tries only the refused address.
#[tokio::test(flavor = "multi_thread")]
async fn one_refused_recipient_does_not_stop_the_others() {
    let reply = "550 5.1.1 <manager@example.com>: Recipient address rejected: User unknown";
    let smtp = SmtpServer::refusing_only("manager@example.com", reply);
    let data = generate(&GenConfig { messages: 100, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, &mail_config(smtp.port)).await;
    let out = env.run(&["report", "--date", "2026-11-20", "--mail"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    let line = error_line(&stderr);
    assert!(line.contains("manager@example.com") && line.contains("User unknown"), "{line}");
    assert!(stdout.contains("sent \"IT客服机器人日报 2026-11-20\" to lead@example.com"), "{stdout}");
    let received = smtp.messages();
    assert_eq!(received.len(), 1, "lead@example.com got the report");
    assert_eq!(report_mail(&received[0]).attachment_name, "itstat-day-2026-11-20.xlsx");
    let wh = sqlite_at(&env.path());
    let rows = wh.query_strings("SELECT recipient || '|' || status FROM deliveries ORDER BY recipient").await;
    assert_eq!(rows, ["lead@example.com|sent", "manager@example.com|failed"]);

    let refused_before = smtp.refusals().len();
    let out = env.run(&["report", "--date", "2026-11-20", "--mail"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already sent to lead@example.com"));
    assert_eq!(smtp.refusals().len(), refused_before + 1, "only the refused address is tried again");
    assert_eq!(smtp.messages().len(), 1);
}

/// `--dry-run --mail` writes the message it would send and records nothing, so the real send
/// that follows is not taken for a re-run.
#[tokio::test(flavor = "multi_thread")]
async fn dry_run_mail_writes_the_eml_and_records_no_delivery() {
    let smtp = SmtpServer::start();
    let data = generate(&GenConfig { messages: 300, ..GenConfig::default() });
    let (_dify, env) = ingested(&data, &mail_config(smtp.port)).await;
    let out = env.ok(&["report", "--period", "week", "--date", "2026-11-18", "--mail", "--dry-run"]);
    assert!(out.contains("dry run: wrote reports/itstat-week-2026-W47.eml (not sent)"), "{out}");
    assert!(smtp.messages().is_empty(), "nothing sent");
    let wh = sqlite_at(&env.path());
    assert_eq!(wh.count("SELECT COUNT(*) FROM deliveries").await, 0, "nothing recorded");
    let raw = std::fs::read(env.path().join("reports/itstat-week-2026-W47.eml")).unwrap();
    let mail = report_mail(&raw);
    assert_eq!(mail.subject, "IT客服机器人周报 2026-W47");
    assert_eq!(mail.attachment_name, "itstat-week-2026-W47.xlsx");
    let workbook = std::fs::read(env.path().join("reports/itstat-week-2026-W47.xlsx")).unwrap();
    assert_eq!(mail.attachment, workbook, "the .eml holds the workbook written beside it");
    assert!(mail.html.contains("2026-11-16 – 2026-11-22</h3>"), "the week's days: {}", mail.html);
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let to: Vec<&str> = parsed.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, ["manager@example.com", "lead@example.com"]);

    let out = env.ok(&["report", "--period", "week", "--date", "2026-11-18", "--mail"]);
    assert!(out.contains("sent \"IT客服机器人周报 2026-W47\""), "the dry run did not count as sent: {out}");
    assert_eq!(smtp.messages().len(), 1);
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
    // Checked when the config loads: even a command that mails nothing refuses it.
    for args in [&["report", "--date", "2026-11-20", "--mail"][..], &["report", "--date", "2026-11-20"]] {
        let err = env.fails(args, 1);
        let line = error_line(&err);
        assert!(line.contains("itstat.toml") && line.contains("`mail.from`"), "{err}");
    }
    let err = env.fails(&["report", "--date", "2026-11-20", "--mail", "--to", "boss@"], 1);
    assert!(error_line(&err).contains("`mail.from`"), "the config first: {err}");
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
