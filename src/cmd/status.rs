//! `itstat status`: where the warehouse is, how fresh it is, and how the last runs went.

use serde::Serialize;

use crate::cli::StatusArgs;
use crate::config::Settings;
use crate::error::redact_url;
use crate::report::local;
use crate::transform::rules::changed_keys;
use crate::warehouse::jobs::JobRunRecord;
use crate::warehouse::runs::{RULES_KEY, RunRecord};
use crate::warehouse::status::Counts;
use crate::warehouse::{OpenMode, Warehouse};

#[derive(Serialize)]
struct Status {
    warehouse: String,
    backend: &'static str,
    dify: Option<String>,
    timezone: String,
    rules: RulesStatus,
    cursor: Option<String>,
    newest_message: Option<String>,
    counts: Counts,
    last_runs: Vec<RunRecord>,
    /// The last run of each `itstat schedule` job.
    last_jobs: Vec<JobRunRecord>,
}

/// The rules in force against those the warehouse was derived under.
#[derive(Serialize)]
struct RulesStatus {
    /// The fingerprint of the rules in force (as `report --format json` shows it).
    fingerprint: String,
    /// What changed since the warehouse was derived; empty when it is current.
    changed: Vec<String>,
}

/// The rules status: status only looks, it derives nothing (the next command that reads the
/// numbers does, docs/metrics.md §8).
async fn rules_status(wh: &Warehouse, settings: &Settings) -> anyhow::Result<RulesStatus> {
    let rules = match crate::pipeline::offline_rules(wh, settings).await {
        Ok(rules) => rules,
        Err(e) if crate::error::exit_code(&e) == 1 => settings.rules.clone(),
        Err(e) => return Err(e),
    };
    let changed = match wh.meta(RULES_KEY).await? {
        Some(stored) if stored != rules.canonical() && wh.has_messages().await? => {
            changed_keys(&stored, &rules)
        }
        _ => Vec::new(),
    };
    Ok(RulesStatus { fingerprint: rules.fingerprint(), changed })
}

/// Runs `itstat status`.
pub async fn run(settings: &Settings, args: &StatusArgs) -> anyhow::Result<()> {
    crate::testing::maybe_panic("status");
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
    let tz = settings.rules.tz;
    let fmt = |t: chrono::NaiveDateTime| local(tz, t).format("%Y-%m-%d %H:%M:%S %Z").to_string();
    let status = Status {
        warehouse: wh.shown_url.clone(),
        backend: wh.backend(),
        dify: settings.dify.url.as_deref().map(redact_url),
        timezone: settings.rules.timezone.clone(),
        rules: rules_status(&wh, settings).await?,
        cursor: wh.cursor().await?.map(fmt),
        newest_message: wh.newest_message().await?.map(fmt),
        counts: wh.counts().await?,
        last_runs: wh.last_runs(5).await?,
        last_jobs: wh.last_job_runs().await?,
    };
    wh.close().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", render_text(&status, &fmt));
    }
    Ok(())
}

fn render_text(s: &Status, fmt: &dyn Fn(chrono::NaiveDateTime) -> String) -> String {
    let mut out = String::new();
    let none = || "-".to_string();
    out.push_str(&format!("warehouse:      {} ({})\n", s.warehouse, s.backend));
    out.push_str(&format!("dify:           {}\n", s.dify.clone().unwrap_or_else(|| "not configured".into())));
    out.push_str(&format!("timezone:       {}\n", s.timezone));
    out.push_str(&format!("rules:          {}", s.rules.fingerprint));
    if s.rules.changed.is_empty() {
        out.push('\n');
    } else {
        out.push_str(&format!(
            " — changed since the warehouse was derived ({}); the next report, `messages`, `mark` or `ingest` derives it again\n",
            s.rules.changed.join(", ")
        ));
    }
    out.push_str(&format!("cursor:         {}\n", s.cursor.clone().unwrap_or_else(none)));
    out.push_str(&format!("newest message: {}\n", s.newest_message.clone().unwrap_or_else(none)));
    let c = &s.counts;
    out.push_str(&format!(
        "rows:           {} messages ({} included, {} pending), {} sessions, {} feedback, {} marks, {} manual entries\n",
        c.messages, c.included, c.pending, c.sessions, c.feedbacks, c.marks, c.manual_entries
    ));
    out.push_str("last runs:\n");
    if s.last_runs.is_empty() {
        out.push_str("  none yet\n");
    }
    for r in &s.last_runs {
        out.push_str(&format!(
            "  #{} {} {:<11} {:<8} read {} new {} changed {}{}{}\n",
            r.run_id,
            fmt(r.started_at),
            r.mode,
            r.outcome,
            r.rows_read,
            r.rows_new,
            r.rows_changed,
            seconds(r.started_at, r.finished_at).map(|s| format!(" in {s:.1} s")).unwrap_or_default(),
            r.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default(),
        ));
    }
    if !s.last_jobs.is_empty() {
        out.push_str("scheduled jobs (last run of each):\n");
    }
    for j in &s.last_jobs {
        let line = format!(
            "  {:<16} {} {:<8}{}{}",
            j.job,
            fmt(j.started_at),
            j.outcome,
            seconds(j.started_at, j.finished_at).map(|s| format!(" in {s:.1} s")).unwrap_or_default(),
            j.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default(),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// How long a run took, if it finished.
fn seconds(started_at: chrono::NaiveDateTime, finished_at: Option<chrono::NaiveDateTime>) -> Option<f64> {
    finished_at.map(|f| (f - started_at).num_milliseconds() as f64 / 1000.0)
}
