//! The manifest `DIR/_itstat_export.json` and the plan made from it: which partitions to
//! rewrite and which to remove.
//!
//! The manifest records, per table and local date, the fingerprint of the rows the partition
//! file was written from. It is written last and atomically, so after a crash it is older
//! than the files, which only means more rewriting next time; a partition whose file is
//! missing is rewritten whatever the manifest says. A manifest that cannot be parsed, or of
//! another layout, is set aside (everything is rewritten) rather than trusted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::fsutil::write_atomic;
use crate::warehouse::export::Fingerprint;

/// The manifest's file name; the leading `_` makes Spark and Hive skip it.
pub const MANIFEST_FILE: &str = "_itstat_export.json";

/// The version of the columns and layout written. A manifest of another version is ignored,
/// so a release that changes the files rewrites every partition once.
pub const LAYOUT: u32 = 1;

/// What one partition file holds, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Rows in the file.
    pub rows: i64,
    /// The fingerprint digest of those rows, 16 hex digits.
    pub fingerprint: String,
}

impl From<Fingerprint> for Entry {
    fn from(f: Fingerprint) -> Entry {
        Entry { rows: f.rows, fingerprint: format!("{:016x}", f.digest) }
    }
}

/// Per local date, the entry of its partition (of one table).
pub type Partitions = BTreeMap<NaiveDate, Entry>;

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`LAYOUT`] when written.
    pub layout: u32,
    /// Per table name (`messages`, `sessions`), its partitions.
    pub tables: BTreeMap<String, Partitions>,
}

impl Default for Manifest {
    fn default() -> Manifest {
        Manifest { layout: LAYOUT, tables: BTreeMap::new() }
    }
}

/// The manifest's path in `out`.
pub fn path(out: &Path) -> PathBuf {
    out.join(MANIFEST_FILE)
}

impl Manifest {
    /// Reads the manifest of `out`: empty when there is none, or when it is unreadable as a
    /// manifest of this layout (with a warning). Fails only when the file cannot be read.
    pub fn load(out: &Path) -> anyhow::Result<Manifest> {
        let path = path(out);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        match serde_json::from_str::<Manifest>(&text) {
            Ok(m) if m.layout == LAYOUT => Ok(m),
            Ok(m) => {
                warn!(path = %path.display(), layout = m.layout, "Manifest of another layout; rewriting every partition.");
                Ok(Manifest::default())
            }
            Err(e) => {
                warn!(path = %path.display(), error = %e, "Manifest unreadable; rewriting every partition.");
                Ok(Manifest::default())
            }
        }
    }

    /// Writes the manifest into `out`, atomically.
    pub fn save(&self, out: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self).context("serialising the export manifest")?;
        text.push('\n');
        write_atomic(&path(out), text.as_bytes())
    }

    /// The recorded partitions of `table` (none when it was never exported).
    pub fn partitions(&self, table: &str) -> Partitions {
        self.tables.get(table).cloned().unwrap_or_default()
    }
}

/// What an export of one table does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Dates that have rows now: the partitions the table will have.
    pub partitions: usize,
    /// Dates whose file is (re)written, with their row counts.
    pub write: Vec<(NaiveDate, i64)>,
    /// Dates whose partition is removed: recorded or on disk, but without rows now.
    pub remove: Vec<NaiveDate>,
}

/// Compares the recorded partitions and the files on disk with the current fingerprints.
pub fn plan(recorded: &Partitions, on_disk: &BTreeSet<NaiveDate>, current: &Partitions) -> Plan {
    let write = current
        .iter()
        .filter(|(date, entry)| recorded.get(date) != Some(entry) || !on_disk.contains(date))
        .map(|(date, entry)| (*date, entry.rows))
        .collect();
    let gone: BTreeSet<NaiveDate> = recorded.keys().chain(on_disk).copied().collect();
    let remove = gone.into_iter().filter(|date| !current.contains_key(date)).collect();
    Plan { partitions: current.len(), write, remove }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn parts(items: &[(&str, i64, &str)]) -> Partitions {
        items
            .iter()
            .map(|(date, rows, f)| (d(date), Entry { rows: *rows, fingerprint: f.to_string() }))
            .collect()
    }

    #[test]
    fn only_changed_new_and_missing_partitions_are_written() {
        let recorded = parts(&[("2026-11-01", 3, "aa"), ("2026-11-02", 4, "bb"), ("2026-11-03", 5, "cc")]);
        let current = parts(&[
            ("2026-11-01", 3, "aa"), // unchanged
            ("2026-11-02", 4, "b2"), // same count, new fingerprint
            ("2026-11-03", 5, "cc"), // unchanged, but its file was deleted
            ("2026-11-04", 1, "dd"), // new
        ]);
        let on_disk = BTreeSet::from([d("2026-11-01"), d("2026-11-02")]);
        let p = plan(&recorded, &on_disk, &current);
        assert_eq!(p.partitions, 4);
        assert_eq!(p.write, vec![(d("2026-11-02"), 4), (d("2026-11-03"), 5), (d("2026-11-04"), 1)]);
        assert!(p.remove.is_empty());
    }

    #[test]
    fn dates_without_rows_are_removed_whether_recorded_or_only_on_disk() {
        let recorded = parts(&[("2026-11-01", 3, "aa"), ("2026-11-02", 4, "bb")]);
        let current = parts(&[("2026-11-02", 4, "bb")]);
        // 10-31 is a file a lost manifest no longer mentions.
        let on_disk = BTreeSet::from([d("2026-10-31"), d("2026-11-01"), d("2026-11-02")]);
        let p = plan(&recorded, &on_disk, &current);
        assert!(p.write.is_empty());
        assert_eq!(p.remove, vec![d("2026-10-31"), d("2026-11-01")]);
        let nothing = plan(&current, &BTreeSet::from([d("2026-11-02")]), &current);
        assert_eq!((nothing.write.len(), nothing.remove.len()), (0, 0));
    }

    #[test]
    fn manifest_round_trips_and_a_bad_one_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Manifest::default());
        let mut m = Manifest::default();
        m.tables.insert("messages".into(), parts(&[("2026-11-02", 4, "00000000000000bb")]));
        m.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert!(text.contains("\"2026-11-02\": {"), "{text}");
        assert_eq!(Manifest::load(dir.path()).unwrap(), m);
        std::fs::write(path(dir.path()), "{\"layout\": 1, \"tables\": ").unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Manifest::default());
        std::fs::write(path(dir.path()), "{\"layout\": 999, \"tables\": {}}").unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Manifest::default());
    }

    #[test]
    fn entries_carry_the_digest_as_hex() {
        let e = Entry::from(Fingerprint { rows: 2, digest: 0xab });
        assert_eq!(e, Entry { rows: 2, fingerprint: "00000000000000ab".into() });
    }
}
