//! The report email: subject, HTML summary with the KPI table and the trend chart, a
//! plain-text alternative and the workbook attached. Builds the message only; `mail` sends it.
//!
//! The MIME tree: `multipart/mixed` holding `multipart/alternative` (text/plain, then
//! `multipart/related` with the HTML and the chart PNG it shows by `cid:` [`CHART_ID`]) and the
//! workbook. The chart has no text (`chart`): its legend and scale are words in the HTML. Should
//! it fail to render, the mail goes without it (text/plain and text/html alone), with a warning
//! in the log: the numbers matter more than the picture.
//!
//! User text (the top unanswered questions) is made inert in both parts. In the HTML it is
//! escaped (`textsafe::html`: `<script>` arrives as text, `"` cannot close an attribute), and
//! control characters and direction marks are shown as visible `\u{…}` text, as on the
//! terminal and in the Markdown: a character reference such as `&#x1b;` would only put the
//! character back (and HTML turns C1 references into other characters), and an override such
//! as U+202E would reorder the text around it (`abc\u{202e}fdp.exe` reading as `abcexe.pdf`).
//! In the plain text, which may be read in a terminal mail client, the same characters are
//! shown the same way. A question is cut to [`SUMMARY_QUESTION_CHARS`]: the mail is a summary,
//! the workbook has the whole text.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::ReportData;
use super::chart::{self, COUNTS, Chart, HEIGHT, RATES, Series, WIDTH};
use super::detail::ReportDetail;
use super::format::{kpi_row, top_topics};
use super::labels::{HEADLINE, KPIS, kpi_label, report_title};
use crate::bail_user;
use crate::calendar::Lang;
use crate::textsafe::{self, cut, short};

/// How many unanswered questions the mail lists.
const TOP_UNANSWERED: usize = 5;
/// The most characters of a question the mail shows.
pub const SUMMARY_QUESTION_CHARS: usize = 200;
/// The Content-ID of the trend chart; the HTML shows it as `cid:trend@itstat`.
pub const CHART_ID: &str = "trend@itstat";

/// The subject: report name and period, e.g. `IT客服机器人日报 2026-11-22`, marked when the
/// numbers may be incomplete (docs/alerts.md), so it shows in the inbox list.
pub fn subject(data: &ReportData, lang: Lang) -> String {
    let mark =
        if data.warnings.is_empty() { "" } else { lang.pick("[数据不完整] ", "[incomplete data] ") };
    format!("{mark}{} {}", report_title(data.period.kind, lang), data.period.label())
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

/// The largest topics with their messages and change against the previous period
/// (docs/topics.md); empty when topics were not computed or the period has none.
fn topics_block(data: &ReportData, lang: Lang) -> String {
    let items: String = top_topics(data, lang)
        .iter()
        .map(|t| {
            let title = textsafe::html(&cut(&t.title, SUMMARY_QUESTION_CHARS));
            format!("<li>{title} ({}, {})</li>\n", t.count, textsafe::html(&t.change))
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    let heading = lang.pick("话题（前 5，次数与变化）", "Topics (top 5, messages and change)");
    format!("<h3 style=\"color:#1f4e79\">{heading}</h3>\n<ol>\n{items}</ol>\n")
}

/// The warnings of the report (docs/alerts.md), one red paragraph each.
fn warnings_html(data: &ReportData) -> String {
    data.warnings
        .iter()
        .map(|w| {
            format!("<p style=\"color:#c62828;font-weight:bold\">⚠ {}</p>\n", textsafe::html(&w.message))
        })
        .collect()
}

/// The HTML body: a heading, the headline KPIs against the previous period, the trend chart
/// (when there is one) with its legend and scale, the knowledge gaps or top unanswered
/// questions, and a pointer to the workbook.
pub fn html(data: &ReportData, detail: &ReportDetail, lang: Lang, chart: Option<&Chart>) -> String {
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
            textsafe::html(&name),
            textsafe::html(&now),
            textsafe::html(&before),
            textsafe::html(&change)
        ));
    }
    // The knowledge gaps when they were computed (the same questions, grouped by meaning),
    // else the unanswered questions by their text.
    let (heading, items) = top_list(data, detail, lang);
    let mut unanswered = String::new();
    for (question, count) in items {
        let question = textsafe::html(&cut(&question, SUMMARY_QUESTION_CHARS));
        unanswered.push_str(&format!("<li>{question} ({count})</li>\n"));
    }
    let unanswered_block = if unanswered.is_empty() {
        String::new()
    } else {
        format!("<h3 style=\"color:#1f4e79\">{heading}</h3>\n<ol>\n{unanswered}</ol>\n")
    };
    let unanswered_block = topics_block(data, lang) + &unanswered_block;
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:Arial,'Microsoft YaHei',sans-serif;font-size:14px;color:#222\">\n\
<h2 style=\"color:#1f4e79\">{title}</h2>\n<p>{period_word} {span} · {tz_word} {tz} · {through_word} {through}</p>\n{warnings}\
<table style=\"border-collapse:collapse\">\n<tr><th {th}>{k}</th><th {th}>{c}</th><th {th}>{p}</th><th {th}>{d}</th></tr>\n{rows}</table>\n\
{chart_block}{unanswered_block}<p style=\"color:#555\">{note}</p>\n</body></html>\n",
        title = textsafe::html(&subject(data, lang)),
        warnings = warnings_html(data),
        period_word = lang.pick("统计期", "Period"),
        span = span(data),
        tz_word = lang.pick("时区", "time zone"),
        tz = textsafe::html(&data.rules.timezone),
        through_word = lang.pick("数据截至", "data through"),
        through = through(data),
        k = lang.pick("指标", "KPI"),
        c = lang.pick("本期", "This period"),
        p = lang.pick("上期", "Previous"),
        d = lang.pick("变化", "Change"),
        note = lang.pick("完整数据见附件工作簿。", "The attached workbook has every number and detail."),
        chart_block = chart.map(|c| chart_block(data, c, lang)).unwrap_or_default(),
    )
}

/// The chart, shown by `cid:`, and in words what the picture leaves out: which colour is
/// which KPI, and the scale of each panel.
fn chart_block(data: &ReportData, chart: &Chart, lang: Lang) -> String {
    let small = "style=\"font-size:13px;color:#555;margin:4px 0\"";
    let [top, bottom] = panel_words(chart, lang);
    format!(
        "<h3 style=\"color:#1f4e79\">{heading} {days}</h3>\n\
<img src=\"cid:{CHART_ID}\" alt=\"{alt}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" style=\"display:block;width:100%;max-width:{WIDTH}px;height:auto;border:0\">\n\
<p {small}>{top}</p>\n<p {small}>{bottom}</p>\n",
        heading = lang.pick("每日趋势", "Daily trend"),
        days = trend_span(data),
        alt = lang.pick("每日消息数、会话数与比率趋势图", "Chart of the daily messages, sessions and rates"),
    )
}

/// "2026-11-09 – 2026-11-22": the days the chart shows.
fn trend_span(data: &ReportData) -> String {
    match (data.trend.first(), data.trend.last()) {
        (Some((first, _)), Some((last, _))) if first != last => format!("{first} – {last}"),
        (Some((first, _)), _) => first.to_string(),
        _ => String::new(),
    }
}

/// What each panel shows and its scale, for the lines under the chart.
fn panel_words(chart: &Chart, lang: Lang) -> [String; 2] {
    let (counts, rates) = (legend(&COUNTS, lang), legend(&RATES, lang));
    let (top, step) = (chart.count_top, chart.count_step);
    match lang {
        Lang::Zh => [
            format!("上图，每日：{counts}；纵轴 0–{top}，每格 {step}。"),
            format!(
                "下图，每日：{rates}；纵轴 0–100%，每格 25%。当天没有分母的比率不画，线在那里断开。竖线标出每周一。"
            ),
        ],
        Lang::En => [
            format!("Top, per day: {counts}; from 0 to {top}, a grid line every {step}."),
            format!(
                "Bottom, per day: {rates}; from 0 to 100%, a grid line every 25%. A rate with nothing to divide by that day is left out, so its line breaks there. Vertical lines mark Mondays."
            ),
        ],
    }
}

/// A coloured square and the KPI's name for each series, in the colours of the chart.
fn legend(series: &[Series], lang: Lang) -> String {
    let items: Vec<String> = series
        .iter()
        .filter_map(|s| {
            let label = kpi_label(s.key)?;
            Some(format!(
                "<span style=\"color:{}\">■</span>&nbsp;{}",
                s.hex(),
                textsafe::html(label.name(lang))
            ))
        })
        .collect();
    items.join(lang.pick("、", ", "))
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
    let topics = top_topics(data, lang);
    if !topics.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            lang.pick("话题（前 5，次数与变化）", "Topics (top 5, messages and change)")
        ));
        for (i, t) in topics.iter().enumerate() {
            let title = short(&t.title, SUMMARY_QUESTION_CHARS);
            out.push_str(&format!("{}. {title} ({}, {})\n", i + 1, t.count, t.change));
        }
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

/// The whole message with the trend chart and the workbook attached.
pub fn message(
    from: &Mailbox,
    to: &[Mailbox],
    data: &ReportData,
    detail: &ReportDetail,
    lang: Lang,
    workbook: (&str, Vec<u8>),
) -> anyhow::Result<Message> {
    compose(from, to, (data, detail, lang), chart_or_none(data).as_ref(), workbook)
}

/// The trend chart of the report's days, or `None` with a warning: a mail without the picture
/// is better than no mail.
fn chart_or_none(data: &ReportData) -> Option<Chart> {
    match chart::render(&data.trend) {
        Ok(chart) => Some(chart),
        Err(error) => {
            tracing::warn!("the mail goes without its trend chart: {error:#}");
            None
        }
    }
}

/// The message of [`message`], with `chart` shown in the HTML or, without one, the HTML alone.
fn compose(
    from: &Mailbox,
    to: &[Mailbox],
    (data, detail, lang): (&ReportData, &ReportDetail, Lang),
    chart: Option<&Chart>,
    workbook: (&str, Vec<u8>),
) -> anyhow::Result<Message> {
    let mut builder = Message::builder().from(from.clone()).subject(subject(data, lang));
    for m in to {
        builder = builder.to(m.clone());
    }
    let html = html(data, detail, lang, chart);
    let alternatives = MultiPart::alternative().singlepart(SinglePart::plain(plain(data, detail, lang)));
    let alternatives = match chart {
        Some(chart) => {
            let png = ContentType::parse("image/png")?;
            let image = Attachment::new_inline_with_name(CHART_ID.to_string(), "trend.png".to_string())
                .body(chart.png.clone(), png);
            alternatives.multipart(MultiPart::related().singlepart(SinglePart::html(html)).singlepart(image))
        }
        None => alternatives.singlepart(SinglePart::html(html)),
    };
    let xlsx = ContentType::parse("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")?;
    let body = MultiPart::mixed()
        .multipart(alternatives)
        .singlepart(Attachment::new(workbook.0.to_string()).body(workbook.1, xlsx));
    Ok(builder.multipart(body)?)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::Asia::Shanghai;
    use mail_parser::{MessageParser, MimeHeaders, PartType};

    use super::*;
    use crate::calendar::Period;
    use crate::calendar::PeriodKind;
    use crate::report::detail::UnansweredRow;
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
            trend: fortnight(),
            generated_at: Shanghai.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            data_through: Some(Shanghai.with_ymd_and_hms(2026, 11, 22, 23, 59, 0).unwrap()),
            warnings: Vec::new(),
            gaps: None,
            topics: None,
        }
    }

    /// The 14 days a day report's chart shows; the 15th had no sessions (rates `None`).
    fn fortnight() -> Vec<(NaiveDate, Kpis)> {
        (9..=22)
            .map(|d| {
                let n = i64::from(d);
                let rate = (d != 15).then(|| f64::from(d) / 30.0);
                let k = Kpis {
                    messages: 5 * n,
                    sessions: 2 * n,
                    kb_hit_rate: rate,
                    self_resolution_rate: rate,
                    transfer_rate: rate.map(|r| 1.0 - r),
                    ..Kpis::default()
                };
                (date(d), k)
            })
            .collect()
    }

    fn chart() -> Chart {
        chart::render(&fortnight()).unwrap()
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

    /// A day whose topics include a hostile title, a new one and one that shrank.
    fn with_topics() -> ReportData {
        use crate::transform::topics::TopicKpis;
        let topic = |id: i64, title: &str, count: i64, previous_count: i64, new: bool| TopicKpis {
            kb_hits: count / 2,
            kb_hit_rate: Some((count / 2) as f64 / count as f64),
            transfer_rate: Some(0.0),
            unanswered: count - count / 2,
            previous_count,
            new,
            ..crate::transform::topics::tests::topic_kpis(id, title, count)
        };
        let topics = (0..7).map(|i| topic(10 + i, &format!("话题{i}"), 9 - i, 3, false));
        let mut all = vec![topic(1, "VPN连不上", 42, 30, false), topic(2, HOSTILE[0], 20, 0, true)];
        all.extend(topics);
        let topics = crate::topics::period::Topics {
            topics: all,
            created: 0,
            grouped_by: "wording",
            warning: None,
            of_question: Default::default(),
            unstored: None,
        };
        ReportData { topics: Some(topics), ..day() }
    }

    #[test]
    fn every_summary_lists_the_five_largest_topics_with_their_change() {
        let data = with_topics();
        let mail = html(&data, &unanswered(&["问题"]), Lang::Zh, None);
        assert!(mail.contains("<li>VPN连不上 (42, +12)</li>"), "{mail}");
        assert!(mail.contains("<li>&lt;script&gt;alert(1)&lt;/script&gt; (20, 新)</li>"), "{mail}");
        assert!(mail.contains("<li>话题2 (7, +4)</li>"), "{mail}");
        assert!(!mail.contains("话题3"), "five topics only: {mail}");
        assert!(!mail.contains("<script"), "{mail}");
        let md = crate::report::markdown::render(&data, &unanswered(&["问题"]), Lang::En);
        assert!(md.contains("## Topics (top 5)"), "{md}");
        assert!(md.contains("| 1 | VPN连不上 | 42 | +12 | 50.0% |"), "{md}");
        assert!(md.contains("| 2 | &lt;script&gt;alert(1)&lt;/script&gt; | 20 | new | 50.0% |"), "{md}");
        assert!(!md.contains("话题3"), "{md}");
        let wecom = crate::notify::text::wecom_summary(&data, &unanswered(&["问题"]), Lang::Zh);
        assert!(wecom.contains("话题（前 5）:\n1. VPN连不上 (42, +12)\n"), "{wecom}");
        assert!(wecom.contains("5. 话题2 (7, +4)"), "{wecom}");
        assert!(!wecom.contains("话题3"), "{wecom}");
        let text = plain(&data, &unanswered(&["问题"]), Lang::Zh);
        assert!(text.contains("1. VPN连不上 (42, +12)\n2. <script>alert(1)</script> (20, 新)\n"), "{text}");
        let plain = html(&day(), &unanswered(&["问题"]), Lang::Zh, None);
        assert!(!plain.contains("话题"), "no topics computed, no heading: {plain}");
    }

    #[test]
    fn html_holds_the_questions_inert() {
        let html = html(&day(), &unanswered(HOSTILE), Lang::Zh, Some(&chart()));
        assert!(html.contains("<li>&lt;script&gt;alert(1)&lt;/script&gt; (3)</li>"), "{html}");
        assert!(html.contains("<li>&quot;&gt;&lt;img src=x onerror=alert(1)&gt; (3)</li>"), "{html}");
        assert!(html.contains("AT&amp;amp;T \\u{1b}[31mred\\u{1b}[0m \\u{9b}2J \\u{7}"), "{html}");
        assert!(html.contains("abc\\u{202e}fdp.exe"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert_eq!(html.matches("<img").count(), 1, "the chart's alone: {html}");
        assert!(html.contains("<img src=\"cid:trend@itstat\""), "{html}");
        assert_eq!(acting(&html), Vec::<char>::new());
    }

    #[test]
    fn html_shows_the_chart_after_the_kpis_with_its_legend_and_scale_in_words() {
        let chart = chart();
        assert_eq!((chart.count_top, chart.count_step), (150, 50), "110 messages on the 22nd");
        let zh = html(&day(), &unanswered(&["问题"]), Lang::Zh, Some(&chart));
        let (table, img, questions) = (zh.find("</table>"), zh.find("<img"), zh.find("<ol>"));
        assert!(table < img && img < questions, "between the KPIs and the questions: {zh}");
        assert!(zh.contains("<h3 style=\"color:#1f4e79\">每日趋势 2026-11-09 – 2026-11-22</h3>"), "{zh}");
        assert!(zh.contains("alt=\"每日消息数、会话数与比率趋势图\" width=\"600\" height=\"300\""), "{zh}");
        assert!(zh.contains("max-width:600px;height:auto"), "fits a phone: {zh}");
        for (colour, name) in [
            ("#0072b2", "消息数"),
            ("#e69f00", "会话总数"),
            ("#009e73", "知识库命中率"),
            ("#cc79a7", "自助解决率"),
            ("#d55e00", "转人工率"),
        ] {
            assert!(
                zh.contains(&format!("<span style=\"color:{colour}\">■</span>&nbsp;{name}")),
                "{name}: {zh}"
            );
        }
        assert!(zh.contains("纵轴 0–150，每格 50。"), "{zh}");
        assert!(zh.contains("纵轴 0–100%，每格 25%。") && zh.contains("线在那里断开"), "{zh}");

        let en = html(&day(), &unanswered(&[]), Lang::En, Some(&chart));
        assert!(en.contains(">Daily trend 2026-11-09 – 2026-11-22</h3>"), "{en}");
        assert!(en.contains("&nbsp;Messages, <span") && en.contains("&nbsp;Transfer rate;"), "{en}");
        assert!(en.contains("from 0 to 150, a grid line every 50."), "{en}");
        assert!(en.contains("from 0 to 100%, a grid line every 25%."), "{en}");

        let without = html(&day(), &unanswered(&[]), Lang::Zh, None);
        assert!(!without.contains("<img") && !without.contains("每日趋势"), "{without}");
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
        let html = html(&day(), &detail, Lang::Zh, Some(&chart()));
        assert!(html.len() < 20_000, "the summary holds {} bytes", html.len());
        assert!(html.contains(&format!("<li>{}… (3)</li>", "问".repeat(SUMMARY_QUESTION_CHARS - 1))));
        let plain = plain(&day(), &detail, Lang::Zh);
        assert!(plain.len() < 20_000, "the plain text holds {} bytes", plain.len());
        assert!(!plain.contains("end"));
    }

    /// A parsed message's parts, by MIME type and tree.
    struct Tree<'a>(mail_parser::Message<'a>);

    impl Tree<'_> {
        fn kind(&self, i: usize) -> String {
            let ct = self.0.parts[i].content_type().unwrap();
            format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
        }

        fn children(&self, i: usize) -> Vec<usize> {
            match &self.0.parts[i].body {
                PartType::Multipart(ids) => ids.iter().map(|&id| id as usize).collect(),
                other => panic!("part {i} is not multipart: {other:?}"),
            }
        }

        fn kinds(&self, parts: &[usize]) -> Vec<String> {
            parts.iter().map(|&i| self.kind(i)).collect()
        }

        fn text(&self, i: usize) -> &str {
            match &self.0.parts[i].body {
                PartType::Text(text) | PartType::Html(text) => text,
                other => panic!("part {i} is {other:?}"),
            }
        }

        /// Checks the workbook attachment, the second child of `multipart/mixed`.
        fn assert_workbook(&self, top: &[usize]) {
            let attachment = &self.0.parts[top[1]];
            assert_eq!(
                self.kind(top[1]),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            );
            assert_eq!(attachment.content_disposition().map(|d| d.ctype()), Some("attachment"));
            assert_eq!(attachment.attachment_name(), Some("itstat-day-2026-11-22.xlsx"));
            assert_eq!(attachment.contents(), b"PK\x03\x04 not really a workbook");
        }
    }

    fn sample(chart: Option<&Chart>) -> Vec<u8> {
        let from = mailbox("IT 数据 <itstat@example.com>", "from").unwrap();
        let to = [mailbox("boss@example.com", "to").unwrap()];
        let workbook = ("itstat-day-2026-11-22.xlsx", b"PK\x03\x04 not really a workbook".to_vec());
        let parts = (&day(), &unanswered(HOSTILE), Lang::Zh);
        let msg = match chart {
            Some(_) => message(&from, &to, parts.0, parts.1, parts.2, workbook).unwrap(),
            None => compose(&from, &to, parts, None, workbook).unwrap(),
        };
        msg.formatted()
    }

    #[test]
    fn message_is_text_and_html_with_an_inline_chart_and_the_workbook_attached() {
        let raw = sample(Some(&chart()));
        let tree = Tree(MessageParser::default().parse(&raw).unwrap());
        assert_eq!(tree.0.subject(), Some("IT客服机器人日报 2026-11-22"));
        assert_eq!(tree.kind(0), "multipart/mixed");
        let top = tree.children(0);
        assert_eq!(tree.kinds(&top)[0], "multipart/alternative", "the alternatives, then the workbook");
        assert_eq!(top.len(), 2);
        let alternatives = tree.children(top[0]);
        assert_eq!(tree.kinds(&alternatives), ["text/plain", "multipart/related"]);
        assert!(tree.text(alternatives[0]).contains("消息数: 120 (上期 100) ▲ 20"));
        let related = tree.children(alternatives[1]);
        assert_eq!(tree.kinds(&related), ["text/html", "image/png"]);
        let html = tree.text(related[0]);
        assert!(html.contains("&lt;script&gt;") && html.contains("src=\"cid:trend@itstat\""), "{html}");
        let image = &tree.0.parts[related[1]];
        assert_eq!(image.content_id(), Some(CHART_ID));
        assert_eq!(image.content_disposition().map(|d| d.ctype()), Some("inline"));
        assert_eq!(image.contents(), chart().png, "the chart of the report's days");
        let decoder = png::Decoder::new(std::io::Cursor::new(image.contents()));
        let info = decoder.read_info().expect("a PNG").info().clone();
        assert_eq!((info.width, info.height), (2 * WIDTH, 2 * HEIGHT));
        tree.assert_workbook(&top);
    }

    #[test]
    fn a_mail_without_a_chart_is_text_and_html_alone() {
        let raw = sample(None);
        let tree = Tree(MessageParser::default().parse(&raw).unwrap());
        let top = tree.children(0);
        let alternatives = tree.children(top[0]);
        assert_eq!(tree.kinds(&alternatives), ["text/plain", "text/html"]);
        let html = tree.text(alternatives[1]);
        assert!(!html.contains("cid:") && !html.contains("<img"), "{html}");
        tree.assert_workbook(&top);
    }
}
