//! The export dataset on disk: where each partition goes, what is already there, and the
//! manifest that says what each file holds.
//!
//! Layout (Hive-style, readable as one partitioned dataset by Spark, Trino and DuckDB):
//! `DIR/messages/date=YYYY-MM-DD/part-0.parquet`, the same under `DIR/sessions/`, and
//! `DIR/_itstat_export.json`. This module decides and names; it never reads the warehouse,
//! and the only files it touches are these.

pub mod manifest;
pub mod parquet;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;

/// The file name of every partition (one file per partition).
pub const PART_FILE: &str = "part-0.parquet";

/// The folder of one partition: `DIR/TABLE/date=YYYY-MM-DD`.
pub fn partition_dir(out: &Path, table: &str, date: NaiveDate) -> PathBuf {
    out.join(table).join(format!("date={}", date.format("%Y-%m-%d")))
}

/// The file of one partition: `DIR/TABLE/date=YYYY-MM-DD/part-0.parquet`.
pub fn partition_file(out: &Path, table: &str, date: NaiveDate) -> PathBuf {
    partition_dir(out, table, date).join(PART_FILE)
}

/// The date of a partition folder name, `date=YYYY-MM-DD`; `None` for any other name.
pub fn parse_partition_name(name: &str) -> Option<NaiveDate> {
    let date = name.strip_prefix("date=")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok().filter(|d| d.format("%Y-%m-%d").to_string() == date)
}

/// Dates whose partition file exists under `DIR/TABLE` (none when the folder does not).
pub fn partitions_on_disk(out: &Path, table: &str) -> anyhow::Result<BTreeSet<NaiveDate>> {
    let dir = out.join(table);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut dates = BTreeSet::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let date = entry.file_name().to_str().and_then(parse_partition_name);
        if let Some(date) = date.filter(|_| entry.path().join(PART_FILE).is_file()) {
            dates.insert(date);
        }
    }
    Ok(dates)
}

/// Removes a partition: its file, then its folder when nothing else is left in it. Returns
/// whether the folder is gone.
pub fn remove_partition(out: &Path, table: &str, date: NaiveDate) -> anyhow::Result<bool> {
    let file = partition_file(out, table, date);
    match std::fs::remove_file(&file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", file.display())),
    }
    let dir = partition_dir(out, table, date);
    match std::fs::remove_dir(&dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        // Someone else's files: leave them, the caller says so.
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn partitions_are_named_hive_style() {
        let file = partition_file(Path::new("/x/out"), "messages", d("2026-11-02"));
        assert_eq!(file, Path::new("/x/out/messages/date=2026-11-02/part-0.parquet"));
        assert_eq!(parse_partition_name("date=2026-11-02"), Some(d("2026-11-02")));
        for other in ["date=2026-11-2", "date=2026-13-01", "2026-11-02", "date=", ".date=2026-11-02"] {
            assert_eq!(parse_partition_name(other), None, "{other}");
        }
    }

    #[test]
    fn only_partitions_with_a_file_are_on_disk_and_removal_keeps_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        assert!(partitions_on_disk(out, "messages").unwrap().is_empty());
        for date in ["2026-11-01", "2026-11-02"] {
            std::fs::create_dir_all(partition_dir(out, "messages", d(date))).unwrap();
        }
        std::fs::write(partition_file(out, "messages", d("2026-11-02")), b"x").unwrap();
        std::fs::create_dir_all(out.join("messages/notes")).unwrap();
        assert_eq!(partitions_on_disk(out, "messages").unwrap(), BTreeSet::from([d("2026-11-02")]));
        std::fs::write(partition_dir(out, "messages", d("2026-11-02")).join("mine.txt"), b"x").unwrap();
        assert!(!remove_partition(out, "messages", d("2026-11-02")).unwrap());
        assert!(!partition_file(out, "messages", d("2026-11-02")).exists());
        assert!(remove_partition(out, "messages", d("2026-11-01")).unwrap());
        assert!(remove_partition(out, "messages", d("2026-10-01")).unwrap(), "already gone");
        assert!(!partition_dir(out, "messages", d("2026-11-01")).exists());
    }
}
