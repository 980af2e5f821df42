//! `itstat gaps`: the period's knowledge gaps on their own (docs/gaps.md) — the unanswered
//! part of each topic, largest first, as a table, JSON, or CSV for the knowledge team's
//! tracker. The same list as the workbook's 知识缺口 sheet.
//!
//! The topics are placed first (`crate::topics::period::find`), which stores the period's new
//! questions: like `itstat topics`, it needs a warehouse it can write.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde_json::json;

use crate::calendar::Period;
use crate::cli::{GapsArgs, ListFormat};
use crate::config::Settings;
use crate::pipeline::{self, Access};
use crate::textsafe::short;
use crate::topics::gaps::{self, Gaps};
use crate::transform::gaps::Gap;

/// Runs `itstat gaps`.
pub async fn run(settings: &Settings, args: &GapsArgs) -> anyhow::Result<()> {
    let today = crate::clock::now().with_timezone(&settings.rules.tz).date_naive();
    let period =
        Period::resolve(args.period, args.date.as_deref(), args.from.as_deref(), args.to.as_deref(), today)?;
    let (wh, _rules) = pipeline::open_current(settings, Access::Use).await?;
    let found = match crate::topics::period::find(&wh, settings, &period).await {
        Ok(topics) => {
            if let Some(why) = &topics.unstored {
                eprintln!(
                    "warning: the new topics are not stored (their ids are provisional, negative): {why}"
                );
            }
            gaps::find(&wh, &period, &topics).await
        }
        Err(e) => Err(e),
    };
    wh.close().await;
    let mut found = found?;
    if let Some(limit) = args.limit {
        found.groups.truncate(limit);
    }
    if let Some(why) = &found.warning {
        eprintln!("warning: grouped by wording only: {why}");
    }
    match args.format {
        ListFormat::Table => print_table(&found, &period),
        ListFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&as_json(&found, &period, settings))?)
        }
        ListFormat::Csv => print_csv(&found.groups)?,
    }
    Ok(())
}

fn as_json(found: &Gaps, period: &Period, settings: &Settings) -> serde_json::Value {
    let tz = settings.rules.tz;
    let at = |t: chrono::NaiveDateTime| crate::report::json::local_time(tz, t);
    let groups: Vec<serde_json::Value> = found
        .groups
        .iter()
        .map(|g| {
            json!({
                "topic": g.topic, "title": g.title, "count": g.count, "users": g.users,
                "first_seen": at(g.first_seen), "last_seen": at(g.last_seen), "new": g.new,
                "examples": g.examples, "message_ids": g.message_ids,
            })
        })
        .collect();
    json!({
        "period": {"start": period.start.to_string(), "end": period.end.to_string(), "timezone": settings.rules.timezone},
        "grouped_by": found.grouped_by,
        "warning": found.warning,
        "gaps": groups,
    })
}

fn print_table(found: &Gaps, period: &Period) {
    if found.groups.is_empty() {
        println!("no unanswered questions from {} to {}", period.start, period.end);
        return;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(["#", "topic", "count", "users", "new", "last asked", "asked as"]);
    for (i, g) in found.groups.iter().enumerate() {
        let examples: Vec<String> = g.examples.iter().take(2).map(|e| short(e, 30)).collect();
        table.add_row([
            (i + 1).to_string(),
            short(&g.title, 40),
            g.count.to_string(),
            g.users.to_string(),
            if g.new { "new".into() } else { String::new() },
            g.last_seen.format("%m-%d %H:%M").to_string(),
            examples.join(" / "),
        ]);
    }
    println!("{table}");
    let total: i64 = found.groups.iter().map(|g| g.count).sum();
    println!(
        "{} groups, {total} unanswered messages, {} to {}, grouped by {}",
        found.groups.len(),
        period.start,
        period.end,
        found.grouped_by
    );
}

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@` (a formula in
/// Excel and LibreOffice) gets a leading `'`.
pub(crate) fn inert_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

fn print_csv(groups: &[Gap]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout());
    w.write_record([
        "topic",
        "title",
        "count",
        "users",
        "first_seen",
        "last_seen",
        "new",
        "examples",
        "message_ids",
    ])?;
    for g in groups {
        w.write_record([
            g.topic.to_string(),
            inert_cell(&g.title),
            g.count.to_string(),
            g.users.to_string(),
            g.first_seen.format("%Y-%m-%d %H:%M:%S").to_string(),
            g.last_seen.format("%Y-%m-%d %H:%M:%S").to_string(),
            g.new.to_string(),
            g.examples.iter().map(|e| inert_cell(e)).collect::<Vec<_>>().join("\n"),
            g.message_ids.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_inert_in_the_csv() {
        assert_eq!(inert_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(inert_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert_cell("VPN 连不上"), "VPN 连不上");
    }
}
