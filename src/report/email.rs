//! The report email: subject, HTML summary with the KPI table, a plain-text alternative and
//! the workbook attached. Builds the message only; `mail` sends it.
//!
//! Every piece of user text in the HTML is escaped, so a question holding `<script>` arrives
//! as text.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};

use super::ReportData;
use super::detail::ReportDetail;
use super::format::kpi_row;
use super::labels::{HEADLINE, KPIS, Lang, kpi_label, report_title};
use crate::bail_user;

/// The subject: report name and period, e.g. `IT客服机器人日报 2026-11-22`.
pub fn subject(data: &ReportData, lang: Lang) -> String {
    format!("{} {}", report_title(data.period.kind, lang), data.period.label())
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
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
    let mut unanswered = String::new();
    for row in detail.unanswered.iter().take(5) {
        unanswered.push_str(&format!("<li>{} ({})</li>\n", escape(&row.question), row.count));
    }
    let unanswered_block = if unanswered.is_empty() {
        String::new()
    } else {
        format!(
            "<h3 style=\"color:#1f4e79\">{}</h3>\n<ol>\n{unanswered}</ol>\n",
            lang.pick("未命中知识库的问题", "Top unanswered questions")
        )
    };
    let through =
        data.data_through.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "–".into());
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:Arial,'Microsoft YaHei',sans-serif;font-size:14px;color:#222\">\n\
<h2 style=\"color:#1f4e79\">{title}</h2>\n<p>{period_word} {start} – {end} · {tz_word} {tz} · {through_word} {through}</p>\n\
<table style=\"border-collapse:collapse\">\n<tr><th {th}>{k}</th><th {th}>{c}</th><th {th}>{p}</th><th {th}>{d}</th></tr>\n{rows}</table>\n\
{unanswered_block}<p style=\"color:#555\">{note}</p>\n</body></html>\n",
        title = escape(&subject(data, lang)),
        period_word = lang.pick("统计期", "Period"),
        start = data.period.start,
        end = data.period.end,
        tz_word = lang.pick("时区", "time zone"),
        tz = escape(&data.timezone),
        through_word = lang.pick("数据截至", "data through"),
        k = lang.pick("指标", "KPI"),
        c = lang.pick("本期", "This period"),
        p = lang.pick("上期", "Previous"),
        d = lang.pick("变化", "Change"),
        note = lang.pick("完整数据见附件工作簿。", "The attached workbook has every number and detail."),
    )
}

/// The plain-text alternative: every KPI with its previous value and change.
pub fn plain(data: &ReportData, lang: Lang) -> String {
    let mut out = format!(
        "{}\n{} – {} ({})\n\n",
        subject(data, lang),
        data.period.start,
        data.period.end,
        data.timezone
    );
    for label in KPIS {
        let [name, now, before, change] = kpi_row(label, &data.totals, &data.previous, lang);
        out.push_str(&format!("{name}: {now} ({} {before}) {change}\n", lang.pick("上期", "previous")));
    }
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
        .multipart(MultiPart::alternative_plain_html(plain(data, lang), html(data, detail, lang)))
        .singlepart(Attachment::new(workbook.0.to_string()).body(workbook.1, xlsx));
    Ok(builder.multipart(body)?)
}
