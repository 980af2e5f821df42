//! `itstat import`: manual entries from a spreadsheet, the empty template, and the legacy
//! platform's data (its URL from `--from` or `ITSTAT_LEGACY_URL`, so a password need not go
//! on a command line). Everything is validated before anything is written.

use std::path::Path;

use crate::bail_user;
use crate::cli::{ImportArgs, ImportCommand};
use crate::cmd::ids::operator;
use crate::config::Settings;
use crate::error::user_error;
use crate::fsutil::write_atomic;
use crate::import::entries::{Checked, read_file};
use crate::import::{legacy, template};
use crate::pipeline::Access;
use crate::warehouse::marks::NewMark;
use crate::warehouse::{OpenMode, Warehouse};

/// Runs `itstat import`.
pub async fn run(settings: &Settings, args: &ImportArgs) -> anyhow::Result<()> {
    match &args.what {
        ImportCommand::ManualEntries { file, operator: who, dry_run } => {
            manual_entries(settings, file, who.as_deref(), *dry_run).await
        }
        ImportCommand::Template { file } => {
            let bytes = template::template()?;
            write_atomic(file, &bytes)?;
            println!(
                "wrote {} (fill in one consultation per row, then `itstat import manual-entries`; the example row is never imported)",
                file.display()
            );
            Ok(())
        }
        ImportCommand::Legacy { from: Some(url), dry_run } => legacy_import(settings, url, *dry_run).await,
        // Checked here rather than by clap, whose message would not name the variable.
        ImportCommand::Legacy { from: None, .. } => bail_user!(
            "`import legacy` needs the legacy database: give `--from postgres://…/intervention_db` or set ITSTAT_LEGACY_URL"
        ),
    }
}

async fn manual_entries(
    settings: &Settings,
    file: &Path,
    who: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let entries = match read_file(file, &operator(who))? {
        Checked::Valid { entries, skipped } => {
            for line in &skipped {
                println!("{line}");
            }
            entries
        }
        Checked::Invalid(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            return Err(user_error(format!(
                "{}: {} problem{} (listed above); nothing was imported",
                file.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            )));
        }
    };
    let mode = if dry_run { OpenMode::ExistingOnly } else { OpenMode::ReadWrite };
    let wh = Warehouse::open(&settings.warehouse_url, mode).await?;
    let source = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if dry_run {
        let new = wh.new_entries(&entries).await?;
        // What would be added, one line each; the rows already imported only counted.
        for (e, _) in entries.iter().zip(&new).filter(|(_, new)| **new) {
            println!(
                "{}  {}  {}",
                e.consultation_time.format("%Y-%m-%d %H:%M"),
                crate::textsafe::short(&e.user_name, 20),
                crate::textsafe::short(&e.query, 40)
            );
        }
        let added = new.iter().filter(|n| **n).count();
        println!(
            "dry run: {} rows valid, {added} would be added, {} already imported; nothing written",
            entries.len(),
            entries.len() - added
        );
        wh.close().await;
        return Ok(());
    }
    // Entries are facts, but the warehouse they join must be derived under the rules in force
    // like after every command that writes (docs/metrics.md §8).
    crate::pipeline::ensure_current(&wh, settings, Access::Use).await?;
    let mut tx = wh.begin().await?;
    let added = tx.add_entries(&entries, &source).await?;
    tx.commit().await?;
    wh.close().await;
    println!(
        "imported {added} manual entries from {} ({} already there)",
        file.display(),
        entries.len() - added
    );
    Ok(())
}

async fn legacy_import(settings: &Settings, url: &str, dry_run: bool) -> anyhow::Result<()> {
    let mut data = legacy::read(url, settings.rules.tz).await?;
    if !data.problems.is_empty() {
        for p in &data.problems {
            eprintln!("{p}");
        }
        return Err(user_error(format!(
            "the legacy database has {} values itstat cannot read (listed above); nothing was migrated",
            data.problems.len()
        )));
    }
    let mode = if dry_run { OpenMode::ExistingOnly } else { OpenMode::ReadWrite };
    let wh = Warehouse::open(&settings.warehouse_url, mode).await?;
    date_by_their_messages(&wh, &mut data.marks).await?;
    if dry_run {
        let marks = wh.count_new_marks(&data.marks).await?;
        let entries = wh.new_entries(&data.entries).await?.into_iter().filter(|n| *n).count();
        println!(
            "dry run: would migrate {marks} marks (of {}) and {entries} manual entries (of {}); nothing written",
            data.marks.len(),
            data.entries.len()
        );
        wh.close().await;
        return Ok(());
    }
    // Marks change sessions, derived under the rules in force (docs/metrics.md §8).
    let rules = crate::pipeline::ensure_current(&wh, settings, Access::Use).await?;
    let mut tx = wh.begin().await?;
    let (marks, affected) = tx.append_marks(&data.marks, true).await?;
    crate::pipeline::derive::rederive_users(
        &mut tx,
        &affected,
        &rules,
        crate::warehouse::sessions::InputLookup::ByUser,
    )
    .await?;
    let entries = tx.add_entries(&data.entries, "legacy").await?;
    tx.commit().await?;
    wh.close().await;
    println!(
        "migrated {marks} marks (of {}) and {entries} manual entries (of {}) from the legacy platform",
        data.marks.len(),
        data.entries.len()
    );
    Ok(())
}

/// Dates the legacy marks that carry no time with their message's `created_at`: the earliest
/// moment the operator could have acted, so any mark with a time (a later legacy row, or one
/// made in itstat) overrides them. A message not in the warehouse leaves the epoch.
async fn date_by_their_messages(wh: &Warehouse, marks: &mut [NewMark]) -> anyhow::Result<()> {
    for m in marks.iter_mut().filter(|m| !m.dated) {
        if let Some(asked) = wh.message_time(&m.message_id).await? {
            m.marked_at = asked;
        }
    }
    Ok(())
}
