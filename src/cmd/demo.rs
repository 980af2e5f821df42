//! `itstat demo`: generated data → export file → file-source ingest into a SQLite warehouse →
//! daily, weekly and monthly workbooks and a dry-run email, all under one folder. No database,
//! no network; the same generator the tests use, so the output is the same on every machine.

use std::path::Path;

use anyhow::Context;
use clap::Parser;

use super::schedule::Runner;
use crate::cli::{Cli, DemoArgs};
use crate::config::Settings;
use crate::demo::export::write_csv;
use crate::demo::generator::{GenConfig, generate};

/// The demo's data ends on this (local) day; its reports cover it.
const LAST_DAY: &str = "2026-11-22";

/// Runs `itstat demo`.
pub async fn run(_settings: &Settings, args: &DemoArgs, runner: Runner) -> anyhow::Result<()> {
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let last_day = chrono::NaiveDate::parse_from_str(LAST_DAY, "%Y-%m-%d")?;
    let data = generate(&GenConfig { seed: 2026, messages: args.messages, days: 60, last_day, users: 150 });
    let export = dir.join("dify-export.csv");
    write_csv(&data, &export, &crate::extract::file::export_columns())?;
    println!(
        "wrote {} ({} Dify messages, {} feedback rows)",
        export.display(),
        data.messages.len(),
        data.feedbacks.len()
    );
    let settings = demo_settings(dir)?;
    in_process(runner, &settings, &["ingest", "--from-file", &export.to_string_lossy()]).await?;
    // The day's Markdown summary is printed as a taste; the workbooks hold everything.
    in_process(runner, &settings, &["report", "--period", "day", "--date", LAST_DAY, "--format", "xlsx,md"])
        .await?;
    for period in ["week", "month"] {
        in_process(
            runner,
            &settings,
            &["report", "--period", period, "--date", LAST_DAY, "--format", "xlsx"],
        )
        .await?;
    }
    in_process(runner, &settings, &["report", "--period", "day", "--date", LAST_DAY, "--mail", "--dry-run"])
        .await?;
    println!(
        "demo ready in {}: open the .xlsx workbooks; try `ITSTAT_CONFIG={}/itstat.toml itstat messages --since 2026-11-20 --unhit`",
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// The demo's config file. Its paths are relative to its folder, where the config loader
/// resolves them, so it works from any directory and wherever the folder is moved.
const DEMO_CONFIG: &str = "# Written by `itstat demo`; paths are relative to this folder.\n\
     [warehouse]\nurl = \"sqlite://itstat.db\"\n\n[report]\nout_dir = \".\"\n\n\
     [mail]\nhost = \"smtp.example.com\"\nfrom = \"IT 数据 <itstat@example.com>\"\nto = [\"manager@example.com\"]\n";

/// Settings for the demo folder, written as `DIR/itstat.toml` and loaded from there: the
/// demo runs with the settings the user then explores the demo warehouse with
/// (`--config DIR/itstat.toml`).
fn demo_settings(dir: &Path) -> anyhow::Result<Settings> {
    let path = dir.join("itstat.toml");
    std::fs::write(&path, DEMO_CONFIG).with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut settings = Settings::load(Some(&path))?;
    // The environment must not point the demo at a real warehouse or Dify.
    settings.warehouse_url = format!("sqlite://{}", dir.join("itstat.db").display());
    settings.dify.url = None;
    Ok(settings)
}

/// Runs an itstat command line in this process with the demo's settings.
async fn in_process(runner: Runner, settings: &Settings, args: &[&str]) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("itstat").chain(args.iter().copied()))
        .map_err(|e| anyhow::anyhow!("demo command {args:?}: {e}"))?;
    runner(settings, &cli.command).await
}
