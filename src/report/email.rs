//! The report email: subject, HTML summary with the KPI table, a plain-text alternative and
//! the workbook attached. Builds the message only; `mail` sends it.
//!
//! User text (the top unanswered questions) is made inert in both parts. In the HTML it is
//! escaped (`<script>` arrives as text, `"` cannot close an attribute), and control characters
//! and direction marks are shown as visible `\u{…}` text, as on the terminal and in the
//! Markdown: a character reference such as `&#x1b;` would only put the character back (and
//! HTML turns C1 references into other characters), and an override such as U+202E would
//! reorder the text around it (`abc\u{202e}fdp.exe` reading as `abcexe.pdf`). In the plain
//! text, which may be read in a terminal mail client, the same characters are shown the same
//! way. A question is cut to [`SUMMARY_QUESTION_CHARS`]: the mail is a summary, the workbook
//! has the whole text.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};

use super::ReportData;
use super::detail::ReportDetail;
use super::format::kpi_row;
use super::labels::{HEADLINE, KPIS, Lang, kpi_label, report_title};
use crate::bail_user;
use crate::textsafe::{acts, cut, push_visible, short};

/// How many unanswered questions the mail lists.
const TOP_UNANSWERED: usize = 5;
/// The most characters of a question the mail shows.
pub const SUMMARY_QUESTION_CHARS: usize = 200;

/// The subject: report name and period, e.g. `IT客服机器人日报 2026-11-22`, marked when the
/// numbers may be incomplete (docs/alerts.md), so it shows in the inbox list.
pub fn subject(data: &ReportData, lang: Lang) -> String {
    let mark =
        if data.warnings.is_empty() { "" } else { lang.pick("[数据不完整] ", "[incomplete data] ") };
    format!("{mark}{} {}", report_title(data.period.kind, lang), data.period.label())
}

/// Escapes text for HTML text and attribute values; line breaks and tabs become spaces
/// (HTML shows them as spaces anyway), other controls and direction marks visible `\u{…}`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if acts(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// "2026-11-16 – 2026-11-22", or one date for a day.
fn span(data: &ReportData) -> String {
    let p = &data.period;
    if p.start == p.end { p.start.to_string() } else { format!("{} – {}", p.start, p.end) }
}

/// The newest message the numbers include, or "–" before the first ingest.
fn through(data: &ReportData) -> String {
    data.data_through.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "–".into())
}

/// The list the mail shows: the five largest knowledge gaps (docs/gaps.md) when they were
/// computed, else the five most frequent unanswered questions; with its heading.
pub fn top_list(data: &ReportData, detail: &ReportDetail, lang: Lang) -> (&'static str, Vec<(String, i64)>) {
    match &data.gaps {
        Some(gaps) => (
            lang.pick("知识缺口（未命中问题按含义分组）", "Knowledge gaps (unanswered questions by meaning)"),
            gaps.groups.iter().take(TOP_UNANSWERED).map(|g| (g.title.clone(), g.count)).collect(),
        ),
        None => (
            lang.pick("未命中知识库的问题", "Top unanswered questions"),
            detail.unanswered.iter().take(TOP_UNANSWERED).map(|r| (r.question.clone(), r.count)).collect(),
        ),
    }
}

/// The warnings of the report (docs/alerts.md), one red paragraph each.
fn warnings_html(data: &ReportData) -> String {
    data.warnings
        .iter()
        .map(|w| format!("<p style=\"color:#c62828;font-weight:bold\">⚠ {}</p>\n", escape(&w.message)))
        .collect()
}

/// The HTML body: a heading, the headline KPIs against the previous period, the top
/// unanswered questions, and a pointer to the workbook.
pub fn html(data: &ReportData, detail: &ReportDetail, lang: Lang) -> String {
    let th = "style=\"text-align:left;padding:4px 10px;border-bottom:2px solid #1f4e79;\"";
    let td = "style=\"padding:4px 10px;border-bottom:1px solid #ddd;\"";
    let num = "style=\"padding:4px 10px;border-bottom:1px solid #ddd;text-align:right;\"";
    let mut rows = String::new();
    for key in HEADLINE {
        let Some(label) = kpi_label(key) else { continue };
        let [name, now, before, change] = kpi_row(label, &data.totals, &data.previous, lang);
        let colour = if change.starts_with('▲') {
            "#2e7d32"
        } else if change.starts_with('▼') {
            "#c62828"
        } else {
            "#555"
        };
        rows.push_str(&format!(
            "<tr><td {td}>{}</td><td {num}><b>{}</b></td><td {num}>{}</td><td {num}><span style=\"color:{colour}\">{}</span></td></tr>\n",
            escape(&name),
            escape(&now),
            escape(&before),
            escape(&change)
        ));
    }
    // The knowledge gaps when they were computed (the same questions, grouped by meaning),
    // else the unanswered questions by their text.
    let (heading, items) = top_list(data, detail, lang);
    let mut unanswered = String::new();
    for (question, count) in items {
        let question = escape(&cut(&question, SUMMARY_QUESTION_CHARS));
        unanswered.push_str(&format!("<li>{question} ({count})</li>\n"));
    }
    let unanswered_block = if unanswered.is_empty() {
        String::new()
    } else {
        format!("<h3 style=\"color:#1f4e79\">{heading}</h3>\n<ol>\n{unanswered}</ol>\n")
    };
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:Arial,'Microsoft YaHei',sans-serif;font-size:14px;color:#222\">\n\
<h2 style=\"color:#1f4e79\">{title}</h2>\n<p>{period_word} {span} · {tz_word} {tz} · {through_word} {through}</p>\n{warnings}\
<table style=\"border-collapse:collapse\">\n<tr><th {th}>{k}</th><th {th}>{c}</th><th {th}>{p}</th><th {th}>{d}</th></tr>\n{rows}</table>\n\
{unanswered_block}<p style=\"color:#555\">{note}</p>\n</body></html>\n",
        title = escape(&subject(data, lang)),
        warnings = warnings_html(data),
        period_word = lang.pick("统计期", "Period"),
        span = span(data),
        tz_word = lang.pick("时区", "time zone"),
        tz = escape(&data.rules.timezone),
        through_word = lang.pick("数据截至", "data through"),
        through = through(data),
        k = lang.pick("指标", "KPI"),
        c = lang.pick("本期", "This period"),
        p = lang.pick("上期", "Previous"),
        d = lang.pick("变化", "Change"),
        note = lang.pick("完整数据见附件工作簿。", "The attached workbook has every number and detail."),
    )
}

/// The plain-text alternative: what the HTML says, and every KPI with its previous value and
/// change.
pub fn plain(data: &ReportData, detail: &ReportDetail, lang: Lang) -> String {
    let mut out = format!(
        "{}\n{} · {} {} · {} {}\n\n",
        subject(data, lang),
        span(data),
        lang.pick("时区", "time zone"),
        short(&data.rules.timezone, 64),
        lang.pick("数据截至", "data through"),
        through(data),
    );
    for w in &data.warnings {
        out.push_str(&format!("⚠ {}\n", w.message));
    }
    if !data.warnings.is_empty() {
        out.push('\n');
    }
    for label in KPIS {
        let [name, now, before, change] = kpi_row(label, &data.totals, &data.previous, lang);
        out.push_str(&format!("{name}: {now} ({} {before}) {change}\n", lang.pick("上期", "previous")));
    }
    let (heading, items) = top_list(data, detail, lang);
    if !items.is_empty() {
        out.push_str(&format!("\n{heading}\n"));
        for (i, (question, count)) in items.iter().enumerate() {
            let question = short(question, SUMMARY_QUESTION_CHARS);
            out.push_str(&format!("{}. {question} ({count})\n", i + 1));
        }
    }
    out.push_str(&format!(
        "\n{}\n",
        lang.pick("完整数据见附件工作簿。", "The attached workbook has every number and detail.")
    ));
    out
}

/// Parses a mailbox named by a config key or flag.
pub fn mailbox(text: &str, place: &str) -> anyhow::Result<Mailbox> {
    match text.parse::<Mailbox>() {
        Ok(m) => Ok(m),
        Err(e) => bail_user!("{place}: \"{text}\" is not an email address ({e})"),
    }
}

/// The whole message with the workbook attached.
pub fn message(
    from: &Mailbox,
    to: &[Mailbox],
    data: &ReportData,
    detail: &ReportDetail,
    lang: Lang,
    workbook: (&str, Vec<u8>),
) -> anyhow::Result<Message> {
    let mut builder = Message::builder().from(from.clone()).subject(subject(data, lang));
    for m in to {
        builder = builder.to(m.clone());
    }
    let xlsx = ContentType::parse("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")?;
    let body = MultiPart::mixed()
        .multipart(MultiPart::alternative_plain_html(plain(data, detail, lang), html(data, detail, lang)))
        .singlepart(Attachment::new(workbook.0.to_string()).body(workbook.1, xlsx));
    Ok(builder.multipart(body)?)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::Asia::Shanghai;
    use mail_parser::{MessageParser, MimeHeaders, PartType};

    use super::*;
    use crate::cli::PeriodKind;
    use crate::report::detail::UnansweredRow;
    use crate::report::period::Period;
    use crate::transform::kpi::Kpis;

    /// Questions an attacker (or a careless paste) can put in front of a manager.
    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "AT&amp;T \u{1b}[31mred\u{1b}[0m \u{9b}2J \u{7}",
        "abc\u{202e}fdp.exe \u{2066}x\u{2067}y\u{2068}z\u{2069} \u{200f}",
    ];

    fn day() -> ReportData {
        let period = Period { kind: PeriodKind::Day, start: date(22), end: date(22) };
        ReportData {
            period,
            previous_period: period.previous(),
            rules: crate::transform::rules::tests::rules(""),
            totals: Kpis { messages: 120, sessions: 40, kb_hit_rate: Some(0.75), ..Kpis::default() },
            previous: Kpis { messages: 100, sessions: 44, kb_hit_rate: Some(0.5), ..Kpis::default() },
            daily: vec![(date(22), Kpis::default())],
            generated_at: Shanghai.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            data_through: Some(Shanghai.with_ymd_and_hms(2026, 11, 22, 23, 59, 0).unwrap()),
            warnings: Vec::new(),
            gaps: None,
        }
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn unanswered(questions: &[&str]) -> ReportDetail {
        let last_asked = date(22).and_hms_opt(10, 0, 0).unwrap();
        let unanswered = questions
            .iter()
            .map(|q| UnansweredRow { question: q.to_string(), count: 3, last_asked })
            .collect();
        ReportDetail { unanswered, ..ReportDetail::default() }
    }

    /// Characters that act instead of showing: controls (but line breaks) and direction marks.
    fn acting(text: &str) -> Vec<char> {
        text.chars()
            .filter(|&c| (c.is_control() && c != '\n' && c != '\r') || crate::textsafe::is_bidi_control(c))
            .collect()
    }

    #[test]
    fn escape_leaves_markup_inert_and_shows_controls_and_direction_marks() {
        assert_eq!(escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(escape("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(escape("it's &amp;"), "it&#39;s &amp;amp;");
        // A character reference would only bring the character back (and HTML maps C1 ones to
        // other characters: &#x9b; is "›"), so controls are shown as text, as on the terminal.
        assert_eq!(escape("a\u{1b}[31m\u{9b}\u{7}\u{0}"), "a\\u{1b}[31m\\u{9b}\\u{7}\\u{0}");
        assert_eq!(
            escape("x\u{202e}y\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{61c}"),
            "x\\u{202e}y\\u{2066}\\u{2067}\\u{2068}\\u{2069}\\u{200e}\\u{61c}"
        );
        assert_eq!(escape("two\nlines\tand\rtab"), "two lines and tab");
        assert_eq!(escape("普通的问题 ▲ 20"), "普通的问题 ▲ 20");
    }

    #[test]
    fn html_holds_the_questions_inert() {
        let html = html(&day(), &unanswered(HOSTILE), Lang::Zh);
        assert!(html.contains("<li>&lt;script&gt;alert(1)&lt;/script&gt; (3)</li>"), "{html}");
        assert!(html.contains("<li>&quot;&gt;&lt;img src=x onerror=alert(1)&gt; (3)</li>"), "{html}");
        assert!(html.contains("AT&amp;amp;T \\u{1b}[31mred\\u{1b}[0m \\u{9b}2J \\u{7}"), "{html}");
        assert!(html.contains("abc\\u{202e}fdp.exe"), "{html}");
        assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        assert_eq!(acting(&html), Vec::<char>::new());
    }

    #[test]
    fn plain_text_lists_the_kpis_and_the_questions_inert() {
        let plain = plain(&day(), &unanswered(HOSTILE), Lang::Zh);
        assert!(plain.starts_with("IT客服机器人日报 2026-11-22\n"), "{plain}");
        assert!(plain.contains("消息数: 120 (上期 100) ▲ 20\n"), "{plain}");
        assert!(plain.contains("知识库命中率: 75.0% (上期 50.0%) ▲ 25.0 个百分点\n"), "{plain}");
        // Plain text is not markup: the tags stay as typed, but nothing acts on a terminal.
        assert!(plain.contains("1. <script>alert(1)</script> (3)\n"), "{plain}");
        assert!(plain.contains("3. AT&amp;T \\u{1b}[31mred"), "{plain}");
        assert!(plain.contains("4. abc\\u{202e}fdp.exe"), "{plain}");
        assert_eq!(acting(&plain), Vec::<char>::new());
    }

    #[test]
    fn a_huge_question_is_cut_in_the_summary() {
        let huge = format!("{}<b>end</b>", "问".repeat(400_000));
        let detail = unanswered(&[&huge]);
        let html = html(&day(), &detail, Lang::Zh);
        assert!(html.len() < 20_000, "the summary holds {} bytes", html.len());
        assert!(html.contains(&format!("<li>{}… (3)</li>", "问".repeat(SUMMARY_QUESTION_CHARS - 1))));
        let plain = plain(&day(), &detail, Lang::Zh);
        assert!(plain.len() < 20_000, "the plain text holds {} bytes", plain.len());
        assert!(!plain.contains("end"));
    }

    #[test]
    fn message_is_text_and_html_alternatives_with_the_workbook_attached() {
        let from = mailbox("IT 数据 <itstat@example.com>", "from").unwrap();
        let to = [mailbox("boss@example.com", "to").unwrap()];
        let workbook = ("itstat-day-2026-11-22.xlsx", b"PK\x03\x04 not really a workbook".to_vec());
        let msg = message(&from, &to, &day(), &unanswered(HOSTILE), Lang::Zh, workbook).unwrap();
        let raw = msg.formatted();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("IT客服机器人日报 2026-11-22"));
        let kind = |i: usize| {
            let ct = parsed.parts[i].content_type().unwrap();
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
        };
        let children = |i: usize| match &parsed.parts[i].body {
            PartType::Multipart(ids) => ids.iter().map(|&id| id as usize).collect::<Vec<_>>(),
            other => panic!("part {i} is not multipart: {other:?}"),
        };
        assert_eq!(kind(0), "multipart/mixed");
        let top = children(0);
        assert_eq!(top.len(), 2, "the alternatives and the attachment");
        assert_eq!(kind(top[0]), "multipart/alternative");
        let alternatives = children(top[0]);
        assert_eq!(alternatives.iter().map(|&i| kind(i)).collect::<Vec<_>>(), ["text/plain", "text/html"]);
        match &parsed.parts[alternatives[0]].body {
            PartType::Text(text) => assert!(text.contains("消息数: 120 (上期 100) ▲ 20"), "{text}"),
            other => panic!("the plain part is {other:?}"),
        }
        match &parsed.parts[alternatives[1]].body {
            PartType::Html(html) => assert!(html.contains("&lt;script&gt;"), "{html}"),
            other => panic!("the html part is {other:?}"),
        }
        let attachment = &parsed.parts[top[1]];
        assert_eq!(kind(top[1]), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert_eq!(attachment.content_disposition().map(|d| d.ctype()), Some("attachment"));
        assert_eq!(attachment.attachment_name(), Some("itstat-day-2026-11-22.xlsx"));
        assert_eq!(attachment.contents(), b"PK\x03\x04 not really a workbook");
    }
}
