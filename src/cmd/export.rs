//! `itstat export`: message and session facts as Parquet, partitioned by local date, for
//! engines that read a folder of files (Spark, Trino, DuckDB).
//!
//! Incremental: one grouped query per table fingerprints every local date, the manifest of the
//! last export says what each file was written from, and only partitions that changed (or
//! whose file is missing) are rewritten, one at a time, each atomically; dates without rows
//! any more are removed. The manifest is written last. `--dry-run` prints the plan and writes
//! nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use polars::prelude::{DataFrame, PolarsResult};
use tracing::{debug, info, warn};

use crate::cli::{ExportArgs, ExportFormat};
use crate::config::Settings;
use crate::export::manifest::{self, Manifest, Partitions, Plan};
use crate::export::{self as dataset, parquet};
use crate::fsutil::write_atomic;
use crate::pipeline::Access;
use crate::warehouse::Warehouse;
use crate::warehouse::export::ExportTable;

/// Turns one partition's frame into the bytes of its file.
type Encoder = fn(&mut DataFrame) -> PolarsResult<Vec<u8>>;

/// Runs `itstat export`.
pub async fn run(settings: &Settings, args: &ExportArgs) -> anyhow::Result<()> {
    let encode: Encoder = match args.format {
        ExportFormat::Parquet => parquet::to_bytes,
    };
    let out = args.out.as_path();
    // The files hold derived columns: those of the rules in force (docs/metrics.md §8).
    let access = if args.dry_run { Access::DryRun } else { Access::Use };
    let (wh, _) = crate::pipeline::open_current(settings, access).await?;
    let before = Manifest::load(out)?;
    let mut manifest = before.clone();
    for table in ExportTable::ALL {
        let current: Partitions =
            wh.export_fingerprints(table).await?.into_iter().map(|(date, f)| (date, f.into())).collect();
        let on_disk = dataset::partitions_on_disk(out, table.name())?;
        let plan = manifest::plan(&manifest.partitions(table.name()), &on_disk, &current);
        if args.dry_run {
            print_dry_run(out, table, &plan);
            continue;
        }
        write_partitions(&wh, out, table, &plan, encode).await?;
        remove_partitions(out, table, &plan)?;
        manifest.tables.insert(table.name().to_string(), current);
        println!("{}", summary(out, table, &plan, false));
    }
    wh.close().await;
    if !args.dry_run && (manifest != before || !manifest::path(out).exists()) {
        manifest.save(out)?;
    }
    Ok(())
}

/// `messages: 14 partitions, 3 rewritten, 0 removed (DIR/messages)`.
fn summary(out: &Path, table: ExportTable, plan: &Plan, dry_run: bool) -> String {
    let (written, removed) = if dry_run { ("to rewrite", "to remove") } else { ("rewritten", "removed") };
    format!(
        "{}: {} partitions, {} {written}, {} {removed} ({}){}",
        table.name(),
        plan.partitions,
        plan.write.len(),
        plan.remove.len(),
        out.join(table.name()).display(),
        if dry_run { " [dry run]" } else { "" },
    )
}

fn print_dry_run(out: &Path, table: ExportTable, plan: &Plan) {
    for (date, rows) in &plan.write {
        println!("would write {} ({rows} rows)", dataset::partition_file(out, table.name(), *date).display());
    }
    for date in &plan.remove {
        println!("would remove {}", dataset::partition_dir(out, table.name(), *date).display());
    }
    println!("{}", summary(out, table, plan, true));
}

/// Loads, encodes and writes the planned partitions, one at a time.
async fn write_partitions(
    wh: &Warehouse,
    out: &Path,
    table: ExportTable,
    plan: &Plan,
    encode: Encoder,
) -> anyhow::Result<()> {
    let mut progress = Progress::new(table, plan.write.len());
    for (date, _) in &plan.write {
        let df = wh.export_partition(table, *date).await?;
        let rows = df.height();
        write_file(df, dataset::partition_file(out, table.name(), *date), encode).await?;
        debug!(table = table.name(), %date, rows, "Wrote partition.");
        progress.tick();
    }
    if !plan.write.is_empty() {
        info!(table = table.name(), partitions = plan.write.len(), "Wrote partitions.");
    }
    Ok(())
}

/// Encodes off the async runtime (CPU-bound), then writes atomically.
async fn write_file(mut df: DataFrame, path: PathBuf, encode: Encoder) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || {
        let bytes = encode(&mut df).with_context(|| format!("cannot encode {}", path.display()))?;
        write_atomic(&path, &bytes)
    })
    .await
    .context("the file writer stopped")?
}

fn remove_partitions(out: &Path, table: ExportTable, plan: &Plan) -> anyhow::Result<()> {
    for date in &plan.remove {
        if !dataset::remove_partition(out, table.name(), *date)? {
            let dir = dataset::partition_dir(out, table.name(), *date);
            warn!(path = %dir.display(), "Removed the partition file; left the folder, which holds other files.");
        }
    }
    Ok(())
}

/// Logs how far a long table export is, at most every few seconds.
struct Progress {
    table: ExportTable,
    total: usize,
    done: usize,
    last: Instant,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(5);

    fn new(table: ExportTable, total: usize) -> Progress {
        Progress { table, total, done: 0, last: Instant::now() }
    }

    fn tick(&mut self) {
        self.done += 1;
        if self.last.elapsed() >= Self::EVERY {
            info!(table = self.table.name(), done = self.done, of = self.total, "Writing partitions.");
            self.last = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn summary_reads_as_one_line_per_table() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let plan = Plan { partitions: 14, write: vec![(d, 5); 3], remove: vec![] };
        let out = Path::new("lake");
        assert_eq!(
            summary(out, ExportTable::Messages, &plan, false),
            "messages: 14 partitions, 3 rewritten, 0 removed (lake/messages)"
        );
        assert_eq!(
            summary(out, ExportTable::Sessions, &plan, true),
            "sessions: 14 partitions, 3 to rewrite, 0 to remove (lake/sessions) [dry run]"
        );
    }
}
