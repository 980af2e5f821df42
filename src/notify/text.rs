//! The words of alerts and of the WeCom summary, in the report language (docs/alerts.md).
//!
//! The WeCom robot renders a small Markdown dialect (bold, quotes, links and
//! `<font color="info|comment|warning">`). Text that comes from users or from another
//! system (a user key, a question, a stored error) is made inert first (`textsafe::inert`),
//! so a question cannot post a link or fake an alert.

use std::fmt::Write;

use chrono::NaiveDate;

use crate::calendar::Lang;
use crate::report::ReportData;
use crate::report::detail::ReportDetail;
use crate::report::format::kpi_row;
use crate::report::labels::{HEADLINE, kpi_label, report_title};
use crate::textsafe::inert;
use crate::transform::alerts::{AlertKind, Firing, Severity, Staleness};

/// How many unanswered questions the WeCom summary lists.
const TOP_UNANSWERED: usize = 5;
/// The most characters of a question the WeCom summary shows.
const QUESTION_CHARS: usize = 80;

/// `0.4231` → `42.3%`.
fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// Hours as text: `1.5 h`, or `3 d 4 h` for long ones.
fn hours(h: f64, lang: Lang) -> String {
    if h >= 48.0 {
        let (d, rest) = ((h / 24.0).floor(), h % 24.0);
        format!("{d:.0} {} {rest:.0} {}", lang.pick("天", "d"), lang.pick("小时", "h"))
    } else {
        format!("{h:.1} {}", lang.pick("小时", "h"))
    }
}

/// The one-line message of an alert: what happened, with its numbers, and what to do.
pub fn message(f: &Firing, lang: Lang) -> String {
    let date = f.date.map(|d| d.to_string()).unwrap_or_default();
    let (n, total) = f.counts.unwrap_or((0, 0));
    let value = f.value.map(percent).unwrap_or_else(|| "–".into());
    let threshold = f.threshold.map(percent).unwrap_or_else(|| "–".into());
    match f.kind {
        AlertKind::StaleIngest => stale_message(f, lang),
        AlertKind::NoTraffic => no_traffic_message(f, lang),
        AlertKind::OneUserKey => {
            let key = inert(f.subject.as_deref().unwrap_or(""), 80);
            match lang {
                Lang::Zh => format!(
                    "{date} 有 {value} 的消息（{n}/{total}）来自同一个用户标识「{key}」，超过上限 {threshold}：企业微信桥接很可能把所有提问都用一个用户发送，会话数和用户数因此失真。请在 itstat.toml 的 [identity] 中设置 source = \"input\" 或 \"query_regex\"，让每个人分开计数。"
                ),
                Lang::En => format!(
                    "On {date}, one user key, \"{key}\", sent {value} of the messages ({n} of {total}), above the limit of {threshold}: the WeCom bridge probably sends every question under one user, so sessions and users collapse into one. Set `[identity]` in itstat.toml (source = \"input\" or \"query_regex\") so each person is counted."
                ),
            }
        }
        AlertKind::KbHitRateLow => match lang {
            Lang::Zh => format!(
                "{date} 知识库命中率 {value}（{n}/{total} 条已回答），低于 {threshold}：知识库是否刚更新或停止了检索？"
            ),
            Lang::En => format!(
                "Knowledge-base hit rate on {date} was {value} ({n} of {total} answered), below {threshold}: did a knowledge-base update stop the retrieval?"
            ),
        },
        AlertKind::TransferRateHigh => match lang {
            Lang::Zh => format!("{date} 转人工率 {value}（{n}/{total} 个会话），高于 {threshold}。"),
            Lang::En => {
                format!("Transfer rate on {date} was {value} ({n} of {total} sessions), above {threshold}.")
            }
        },
        AlertKind::ErrorRateHigh => match lang {
            Lang::Zh => format!(
                "{date} 出错率 {value}（{n}/{total} 条消息），高于 {threshold}：机器人在报错，请检查 Dify 应用和模型供应商。"
            ),
            Lang::En => format!(
                "Error rate on {date} was {value} ({n} of {total} messages), above {threshold}: the bot is failing; check the Dify app and its model provider."
            ),
        },
    }
}

fn no_traffic_message(f: &Firing, lang: Lang) -> String {
    let Some(silent) = &f.silent else { return String::new() };
    let newest = silent.newest_local.format("%Y-%m-%d %H:%M");
    let read = silent.read_local.format("%Y-%m-%d %H:%M");
    let working = span(silent.working, lang);
    let limit = span(std::time::Duration::from_secs_f64(f.threshold.unwrap_or(0.0) * 3600.0), lang);
    match lang {
        Lang::Zh => format!(
            "自 {newest} 起没有新的 Dify 消息：工作时间内已静默 {working}（上限 {limit}；以 {read} 的数据导入为准）。机器人、企业微信桥接（如 dify2openai）或 Dify 本身可能出了问题：请在企业微信里向机器人提一个问题试试，并查看桥接和 Dify 的日志。"
        ),
        Lang::En => format!(
            "No new Dify message since {newest}: {working} of working hours without one (limit {limit}; as read by the ingest at {read}). The bot, the WeCom bridge (such as dify2openai) or Dify itself may be down: ask the bot a question in WeCom, and look at the bridge's and Dify's logs."
        ),
    }
}

/// A length of time as people say it: `2 小时 5 分` / `2 h 5 min`, `3 天 4 小时` / `3 d 4 h`,
/// `45 分` / `45 min`.
pub fn span(d: std::time::Duration, lang: Lang) -> String {
    let minutes = d.as_secs() / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let (d_, h_, m_) = (lang.pick("天", "d"), lang.pick("小时", "h"), lang.pick("分", "min"));
    match (days, hours, mins) {
        (0, 0, m) => format!("{m} {m_}"),
        (0, h, 0) => format!("{h} {h_}"),
        (0, h, m) => format!("{h} {h_} {m} {m_}"),
        (d, 0, _) => format!("{d} {d_}"),
        (d, h, _) => format!("{d} {d_} {h} {h_}"),
    }
}

fn stale_message(f: &Firing, lang: Lang) -> String {
    let limit = hours(f.threshold.unwrap_or(0.0), lang);
    match &f.staleness {
        Some(Staleness::Failing { failures, last_error, since_success }) => {
            let error = inert(last_error.as_deref().unwrap_or("–"), 300);
            let age = since_success.map(|d| hours(d.as_secs_f64() / 3600.0, lang));
            match lang {
                Lang::Zh => format!(
                    "最近 {failures} 次数据导入（itstat ingest）失败，最后的错误：{error}。{}报表中的数字可能过时；请修复后运行 itstat ingest。",
                    age.map(|a| format!("上次成功在 {a} 前。")).unwrap_or_default()
                ),
                Lang::En => format!(
                    "The last {failures} ingest run(s) failed; the last error: {error}. {}Reports may show old numbers; fix it and run `itstat ingest`.",
                    age.map(|a| format!("The last success was {a} ago. ")).unwrap_or_default()
                ),
            }
        }
        Some(Staleness::Old { since_success }) => {
            let age = hours(since_success.as_secs_f64() / 3600.0, lang);
            match lang {
                Lang::Zh => format!(
                    "已经 {age} 没有成功的数据导入（上限 {limit}）：cron 任务或 itstat schedule 是否还在运行？"
                ),
                Lang::En => format!(
                    "No successful ingest for {age} (limit {limit}): is the cron job or `itstat schedule` still running?"
                ),
            }
        }
        Some(Staleness::Never) | None => match lang {
            Lang::Zh => "还没有一次成功的数据导入：报表只会显示零。请配置 [dify] url（或 ITSTAT_DIFY_URL）并运行 itstat ingest。".to_string(),
            Lang::En => "No ingest has succeeded yet: reports would show only zeros. Configure `[dify] url` (or ITSTAT_DIFY_URL) and run `itstat ingest`.".to_string(),
        },
    }
}

/// `critical` / `warning`, as the JSON and the text output say it.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
    }
}

/// The period's summary as the WeCom group sees it: the headline KPIs with their change, the
/// warnings, the largest topics and the top unanswered questions.
pub fn wecom_summary(data: &ReportData, detail: &ReportDetail, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**{} {}**", report_title(data.period.kind, lang), data.period.label());
    for w in &data.warnings {
        let _ = writeln!(out, "<font color=\"warning\">⚠ {}</font>", inert(&w.message, 300));
    }
    for key in HEADLINE {
        let Some(label) = kpi_label(key) else { continue };
        let [name, now, _before, change] = kpi_row(label, &data.totals, &data.previous, lang);
        let change = if change.is_empty() {
            String::new()
        } else {
            format!(" <font color=\"comment\">{change}</font>")
        };
        let _ = writeln!(out, "> {name}: **{now}**{change}");
    }
    // The largest topics with their change, then the top knowledge gaps when computed, else
    // the top unanswered questions (as the mail).
    let topics = crate::report::format::top_topics(data, lang);
    if !topics.is_empty() {
        let _ = writeln!(out, "\n{}:", lang.pick("话题（前 5）", "Topics (top 5)"));
        for (i, t) in topics.iter().enumerate() {
            let _ =
                writeln!(out, "{}. {} ({}, {})", i + 1, inert(&t.title, QUESTION_CHARS), t.count, t.change);
        }
    }
    let (heading, items) = crate::report::email::top_list(data, detail, lang);
    if !items.is_empty() {
        let _ = writeln!(out, "\n{heading}:");
        for (i, (question, count)) in items.iter().take(TOP_UNANSWERED).enumerate() {
            let _ = writeln!(out, "{}. {} ({count})", i + 1, inert(question, QUESTION_CHARS));
        }
    }
    out
}

/// The coverage warning of a checked day before the oldest message stored.
pub fn before_data(day: NaiveDate, first: chrono::NaiveDateTime, lang: Lang) -> String {
    let first = first.format("%Y-%m-%d %H:%M");
    match lang {
        Lang::Zh => format!("{day} 早于仓库中最早的消息（{first}）：这一天没有数据，结果不说明任何问题。"),
        Lang::En => format!(
            "{day} is before the oldest message in the warehouse ({first}): there is no data for it, so the check says nothing about it."
        ),
    }
}
