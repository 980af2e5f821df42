//! `itstat topics`: what people ask about (docs/topics.md) — every question of the period in
//! one stored topic, largest first, with each topic's numbers (docs/metrics.md §9) as a
//! table, JSON or CSV; and `itstat topics rename | merge | split`, the operators' curation.
//!
//! Listing places the period's new questions in the warehouse's topics and stores them (so
//! the ids are the same in every later listing and report): it needs a warehouse it can
//! write, and stops with the warehouse's error otherwise.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde_json::json;

use crate::calendar::Period;
use crate::cli::{ListFormat, TopicsAction, TopicsArgs};
use crate::cmd::gaps::inert_cell;
use crate::cmd::ids::operator;
use crate::config::Settings;
use crate::pipeline::{self, Access};
use crate::textsafe::short;
use crate::topics::curate::{self, Done};
use crate::topics::period::{self, Topics};
use crate::transform::topics::TopicKpis;

/// Runs `itstat topics`.
pub async fn run(settings: &Settings, args: &TopicsArgs) -> anyhow::Result<()> {
    if let Some(action) = &args.action {
        return curate_topics(settings, action).await;
    }
    let list = &args.list;
    let today = crate::clock::now().with_timezone(&settings.rules.tz).date_naive();
    let period =
        Period::resolve(list.period, list.date.as_deref(), list.from.as_deref(), list.to.as_deref(), today)?;
    let (wh, _rules) = pipeline::open_current(settings, Access::Use).await?;
    let found = period::find(&wh, settings, &period).await;
    wh.close().await;
    let mut found = found?;
    if let Some(why) = &found.warning {
        eprintln!("warning: some questions placed by wording only: {why}");
    }
    if let Some(why) = &found.unstored {
        eprintln!("warning: the new topics are not stored (their ids are provisional, negative): {why}");
    }
    if let Some(limit) = list.limit {
        found.topics.truncate(limit);
    }
    match list.format {
        ListFormat::Table => print_table(&found, &period),
        ListFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&as_json(&found, &period, settings))?)
        }
        ListFormat::Csv => print_csv(&found.topics)?,
    }
    Ok(())
}

async fn curate_topics(settings: &Settings, action: &TopicsAction) -> anyhow::Result<()> {
    let (wh, _rules) = pipeline::open_current(settings, Access::Use).await?;
    let done = match action {
        TopicsAction::Rename { id, name, by } => {
            curate::rename(&wh, *id, name, &operator(by.as_deref())).await
        }
        TopicsAction::Merge { id, into_id, by } => {
            curate::merge(&wh, *id, *into_id, &operator(by.as_deref())).await
        }
        TopicsAction::Split { id, by } => curate::split(&wh, *id, &operator(by.as_deref())).await,
    };
    wh.close().await;
    match done? {
        Done::Renamed { id, title } => println!("topic {id} is now named {title:?}"),
        Done::Merged { id, into } => println!("topic {id} merged into topic {into}"),
        Done::Split { id, kept, new } => {
            let ids: Vec<String> = new.iter().map(i64::to_string).collect();
            println!("topic {id} keeps {kept} question(s); new topics: {}", ids.join(", "))
        }
    }
    Ok(())
}

/// The JSON of one topic (docs/metrics.md §9 keys).
pub fn topic_json(t: &TopicKpis) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or_default()
}

fn as_json(found: &Topics, period: &Period, settings: &Settings) -> serde_json::Value {
    json!({
        "period": {"start": period.start.to_string(), "end": period.end.to_string(), "timezone": settings.rules.timezone},
        "grouped_by": found.grouped_by,
        "warning": found.warning,
        "topics": found.topics.iter().map(topic_json).collect::<Vec<_>>(),
    })
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "-".into())
}

fn print_table(found: &Topics, period: &Period) {
    if found.topics.is_empty() {
        println!("no questions from {} to {}", period.start, period.end);
        return;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(["id", "topic", "count", "change", "hit rate", "transfer rate", "dislikes", "new"]);
    for t in &found.topics {
        table.add_row([
            t.id.to_string(),
            short(&t.title, 40),
            t.count.to_string(),
            format!("{:+}", t.count - t.previous_count),
            percent(t.kb_hit_rate),
            percent(t.transfer_rate),
            t.dislikes.to_string(),
            if t.new { "new".into() } else { String::new() },
        ]);
    }
    println!("{table}");
    let total: i64 = found.topics.iter().map(|t| t.count).sum();
    println!(
        "{} topics ({} new this run), {total} messages, {} to {}, grouped by {}",
        found.topics.len(),
        found.created,
        period.start,
        period.end,
        found.grouped_by
    );
}

fn print_csv(topics: &[TopicKpis]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout());
    w.write_record([
        "id",
        "title",
        "count",
        "users",
        "sessions",
        "answered",
        "kb_hits",
        "kb_hit_rate",
        "transfers",
        "transfer_rate",
        "likes",
        "dislikes",
        "unanswered",
        "previous_count",
        "new",
        "examples",
        "message_ids",
    ])?;
    let rate = |r: Option<f64>| r.map(|r| r.to_string()).unwrap_or_default();
    for t in topics {
        let n = [t.count, t.users, t.sessions, t.answered, t.kb_hits].map(|v| v.to_string());
        w.write_record([
            t.id.to_string(),
            inert_cell(&t.title),
            n[0].clone(),
            n[1].clone(),
            n[2].clone(),
            n[3].clone(),
            n[4].clone(),
            rate(t.kb_hit_rate),
            t.transfers.to_string(),
            rate(t.transfer_rate),
            t.likes.to_string(),
            t.dislikes.to_string(),
            t.unanswered.to_string(),
            t.previous_count.to_string(),
            t.new.to_string(),
            t.examples.iter().map(|e| inert_cell(e)).collect::<Vec<_>>().join("\n"),
            t.message_ids.join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}
