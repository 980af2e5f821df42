//! The Markdown summary: headline KPIs against the previous period, the most frequent
//! unanswered questions, the largest topics and knowledge gaps, for chat tools and the
//! terminal.
//!
//! User text (questions, gap titles a chat model wrote, examples, warnings) is made inert
//! (`textsafe::markdown_cell`): pipes and newlines cannot break the table, links, emphasis
//! and code do not act, HTML is escaped, and control characters and direction marks are
//! shown as `\u{…}` escapes. A question is cut to the mail's [`SUMMARY_QUESTION_CHARS`], so a 1 MB paste does
//! not flood a chat or a terminal.

use std::fmt::Write;

use super::ReportData;
use super::detail::ReportDetail;
use super::email::SUMMARY_QUESTION_CHARS;
use super::format::{kpi_row, top_topics};
use super::labels::{HEADLINE, kpi_label, report_title};
use crate::calendar::Lang;
use crate::textsafe::{cut, markdown_cell as cell};

/// How many unanswered questions the summary lists.
const TOP_UNANSWERED: usize = 10;

/// A question as the summary shows it: cut, then made safe for a cell.
fn question(text: &str) -> String {
    cell(&cut(text, SUMMARY_QUESTION_CHARS))
}

/// Renders the summary.
pub fn render(data: &ReportData, detail: &ReportDetail, lang: Lang) -> String {
    let mut out = String::new();
    let title = report_title(data.period.kind, lang);
    let _ = writeln!(out, "# {title} {}\n", data.period.label());
    let through = data
        .data_through
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| lang.pick("无数据", "no data").to_string());
    let _ = writeln!(
        out,
        "{} {} – {} · {} {} · {} {}\n",
        lang.pick("统计期", "Period"),
        data.period.start,
        data.period.end,
        lang.pick("时区", "time zone"),
        data.rules.timezone,
        lang.pick("数据截至", "data through"),
        through
    );
    for w in &data.warnings {
        let _ = writeln!(out, "> **⚠ {}**\n", cell(&w.message));
    }
    let header = [
        lang.pick("指标", "KPI"),
        lang.pick("本期", "This period"),
        lang.pick("上期", "Previous"),
        lang.pick("变化", "Change"),
    ];
    let _ = writeln!(out, "| {} |\n|---|---:|---:|---:|", header.join(" | "));
    for key in HEADLINE {
        if let Some(label) = kpi_label(key) {
            let row = kpi_row(label, &data.totals, &data.previous, lang);
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
    }
    let _ = writeln!(out, "\n## {}\n", lang.pick("未命中知识库的问题（前 10）", "Top unanswered questions"));
    if detail.unanswered.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            lang.pick("本期没有未命中的问题。", "No unanswered questions in this period.")
        );
    } else {
        let head =
            [lang.pick("问题", "Question"), lang.pick("次数", "Count"), lang.pick("最近提问", "Last asked")];
        let _ = writeln!(out, "| # | {} |\n|---:|---|---:|---|", head.join(" | "));
        for (i, row) in detail.unanswered.iter().take(TOP_UNANSWERED).enumerate() {
            let last = row.last_asked.format("%Y-%m-%d %H:%M");
            let _ = writeln!(out, "| {} | {} | {} | {last} |", i + 1, question(&row.question), row.count);
        }
    }
    topics(&mut out, data, lang);
    gaps(&mut out, data, lang);
    out
}

/// The largest topics with their change against the previous period (docs/topics.md).
fn topics(out: &mut String, data: &ReportData, lang: Lang) {
    if data.topics.is_none() {
        return;
    }
    let _ = writeln!(out, "\n## {}\n", lang.pick("话题（前 5）", "Topics (top 5)"));
    let top = top_topics(data, lang);
    if top.is_empty() {
        let _ = writeln!(out, "{}", lang.pick("本期没有问题。", "No questions in this period."));
        return;
    }
    let head = [
        lang.pick("话题", "Topic"),
        lang.pick("次数", "Count"),
        lang.pick("变化", "Change"),
        lang.pick("命中率", "Hit rate"),
    ];
    let _ = writeln!(out, "| # | {} |\n|---:|---|---:|---:|---:|", head.join(" | "));
    for (i, t) in top.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            i + 1,
            question(&t.title),
            t.count,
            t.change,
            t.hit_rate
        );
    }
}

/// The knowledge gaps: the unanswered questions grouped by meaning (docs/gaps.md).
fn gaps(out: &mut String, data: &ReportData, lang: Lang) {
    let Some(gaps) = &data.gaps else { return };
    let _ = writeln!(out, "\n## {}\n", lang.pick("知识缺口（前 10）", "Knowledge gaps (top 10)"));
    if gaps.groups.is_empty() {
        let _ = writeln!(out, "{}", lang.pick("本期没有知识缺口。", "No knowledge gaps in this period."));
        return;
    }
    let head = [
        lang.pick("主题", "Topic"),
        lang.pick("次数", "Count"),
        lang.pick("用户数", "Users"),
        lang.pick("新", "New"),
        lang.pick("问法举例", "Asked as"),
    ];
    let _ = writeln!(out, "| # | {} |\n|---:|---|---:|---:|---|---|", head.join(" | "));
    for (i, g) in gaps.groups.iter().take(TOP_UNANSWERED).enumerate() {
        let new = if g.new { lang.pick("新", "new") } else { "" };
        let examples: Vec<String> = g.examples.iter().take(3).map(|e| question(e)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {new} | {} |",
            i + 1,
            question(&g.title),
            g.count,
            g.users,
            examples.join(" / ")
        );
    }
    if gaps.grouped_by == "wording" {
        let _ = writeln!(out, "\n{}", lang.pick("（按字面分组）", "(grouped by wording only)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_question_is_cut() {
        let shown = question(&"问".repeat(400_000));
        assert_eq!(shown.chars().count(), SUMMARY_QUESTION_CHARS);
        assert!(shown.ends_with('…'));
    }
}
