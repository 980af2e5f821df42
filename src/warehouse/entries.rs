//! Manual entries: consultations handled outside the bot, added by `itstat import`.
//!
//! Each entry has a natural key, a hash of its content as the file (or the legacy row) gives
//! it, so importing the same rows again adds nothing, whoever imports them. The key is xxh3
//! over a canonical serialisation that this module writes by hand, so it does not change
//! with the Rust toolchain or a crate's `Hash` impl.
//!
//! Warehouses written before this key hold keys of the old formula (std `Hash` of the row
//! with `entry_person` already filled in). Those are matched as they are, not re-keyed: a
//! stored row does not record whether its `entry_person` came from the file or from
//! `--operator`, so its new key cannot be recomputed. See [`StoredKeys::holds`].

use std::collections::HashSet;
use std::fmt::Write;
use std::hash::{Hash, Hasher};

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime, Timelike};

use super::write::Conflict;
use super::{Tx, Warehouse};
use crate::{with_conn, with_pool};

/// One manual entry, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub user_name: String,
    pub query: String,
    pub answer: String,
    /// Local time.
    pub consultation_time: NaiveDateTime,
    /// Who entered it, as the file gives it (`None` when empty).
    pub entry_person: Option<String>,
    /// Stored instead of an empty `entry_person`: the operator who imports. Not part of the key.
    pub filled_person: Option<String>,
    pub knowledge_hit: bool,
    pub transfer_to_human: bool,
    pub manual_intervention: bool,
    pub operation_user: Option<String>,
}

crate::table!(
    /// A stored manual entry: the `manual_entries` table's columns (`entry_id` is 0 in an
    /// entry about to be written; the database assigns it).
    #[derive(Debug, Clone)]
    pub struct EntryRow => "manual_entries", serial(pub entry_id: i64), key(natural_key), keep() {
        pub natural_key: String,
        pub user_name: String,
        pub query: String,
        pub answer: String,
        pub consultation_time: NaiveDateTime,
        pub local_date: NaiveDate,
        pub entry_person: Option<String>,
        pub knowledge_hit: bool,
        pub transfer_to_human: bool,
        pub manual_intervention: bool,
        pub operation_user: Option<String>,
        pub imported_at: NaiveDateTime,
        pub source: String,
    }
);

/// Versions the canonical serialisation: a future change of it must change this tag.
const KEY_FORMAT: &str = "itstat-entry-v2";

impl NewEntry {
    /// The natural key: xxh3-128 of the row's content as given, as 32 hex digits (keys of the
    /// old formula have 16).
    pub fn natural_key(&self) -> String {
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(self.canonical().as_bytes()))
    }

    /// Every field as given, each text length-prefixed (so no separator can be forged by a
    /// cell), the time to the nanosecond; `-` for an absent text.
    fn canonical(&self) -> String {
        let mut out = String::from(KEY_FORMAT);
        let mut text = |t: Option<&str>| match t {
            Some(t) => {
                let _ = write!(out, "|{}:{t}", t.len());
            }
            None => out.push_str("|-"),
        };
        text(Some(&self.user_name));
        text(Some(&self.query));
        text(Some(&self.answer));
        text(self.entry_person.as_deref());
        text(self.operation_user.as_deref());
        let t = self.consultation_time;
        let _ = write!(
            out,
            "|{}.{:09}|{}{}{}",
            t.format("%Y-%m-%d %H:%M:%S"),
            t.nanosecond(),
            u8::from(self.knowledge_hit),
            u8::from(self.transfer_to_human),
            u8::from(self.manual_intervention)
        );
        out
    }

    /// The key itstat gave this row before [`NewEntry::natural_key`], with `person` as the
    /// stored `entry_person`: std `Hash` of the fields into xxh3, 16 hex digits. Kept only to
    /// recognise rows imported before the upgrade; a unit test pins its values.
    fn old_key(&self, person: Option<&str>) -> String {
        let person: Option<String> = person.map(str::to_string);
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        (&self.user_name, &self.query, &self.answer, self.consultation_time).hash(&mut h);
        (&person, self.knowledge_hit, self.transfer_to_human, self.manual_intervention).hash(&mut h);
        self.operation_user.hash(&mut h);
        format!("{:016x}", h.finish())
    }

    /// The `entry_person` stored: as given, else the importing operator.
    pub fn stored_person(&self) -> Option<&str> {
        self.entry_person.as_deref().or(self.filled_person.as_deref())
    }

    /// The local date it counts on.
    pub fn local_date(&self) -> NaiveDate {
        self.consultation_time.date()
    }
}

/// The natural keys already stored, to tell which entries are new.
#[derive(Debug, Default)]
pub struct StoredKeys {
    keys: HashSet<String>,
    /// The `entry_person` values of rows keyed by the old formula: the candidates an empty
    /// `entry_person` may have been filled with.
    old_persons: Vec<String>,
}

impl StoredKeys {
    /// Whether the entry is stored: under its key, or under the old formula's key of the same
    /// row. The old formula hashed `entry_person` as stored: the given value, `None` for an
    /// empty one from the legacy platform, or whoever imported a file whose cell was empty.
    pub fn holds(&self, e: &NewEntry) -> bool {
        if self.keys.contains(&e.natural_key()) {
            return true;
        }
        let old = |person: Option<&str>| self.keys.contains(&e.old_key(person));
        match e.entry_person.as_deref() {
            Some(given) => old(Some(given)),
            None => old(None) || self.old_persons.iter().any(|p| old(Some(p))),
        }
    }

    /// Records an entry as stored (a file may repeat a row).
    fn add(&mut self, e: &NewEntry) {
        self.keys.insert(e.natural_key());
    }
}

/// The SQL that reads [`StoredKeys`].
const KEYS_SQL: &str = include_str!("../../sql/warehouse/entry_keys.sql");
const OLD_PERSONS_SQL: &str = include_str!("../../sql/warehouse/entry_old_persons.sql");

fn stored_keys(keys: Vec<(String,)>, persons: Vec<(String,)>) -> StoredKeys {
    StoredKeys {
        keys: keys.into_iter().map(|(k,)| k).collect(),
        old_persons: persons.into_iter().map(|(p,)| p).collect(),
    }
}

impl Warehouse {
    /// Which of these entries are not stored yet, in order (a row the file repeats is new
    /// once): what [`Tx::add_entries`] would add.
    pub async fn new_entries(&self, entries: &[NewEntry]) -> anyhow::Result<Vec<bool>> {
        let (keys, persons) = with_pool!(self, pool, Db => {
            let keys = sqlx::query_as(KEYS_SQL).fetch_all(pool).await?;
            let persons = sqlx::query_as(OLD_PERSONS_SQL).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((keys, persons))
        })
        .context("reading manual entries")?;
        let mut stored = stored_keys(keys, persons);
        let mut new = Vec::with_capacity(entries.len());
        for e in entries {
            new.push(!stored.holds(e));
            stored.add(e);
        }
        Ok(new)
    }
}

impl Tx {
    /// Adds the entries not stored yet; returns how many were added.
    pub async fn add_entries(&mut self, entries: &[NewEntry], source: &str) -> anyhow::Result<usize> {
        let (keys, persons) = with_conn!(self, conn, Db => {
            let keys = sqlx::query_as(KEYS_SQL).fetch_all(&mut *conn).await?;
            let persons = sqlx::query_as(OLD_PERSONS_SQL).fetch_all(&mut *conn).await?;
            Ok::<_, sqlx::Error>((keys, persons))
        })
        .context("reading manual entries")?;
        let mut stored = stored_keys(keys, persons);
        let now = chrono::Utc::now().naive_utc();
        let mut rows = Vec::new();
        for e in entries {
            if stored.holds(e) {
                continue;
            }
            stored.add(e);
            rows.push(EntryRow {
                entry_id: 0,
                natural_key: e.natural_key(),
                user_name: e.user_name.clone(),
                query: e.query.clone(),
                answer: e.answer.clone(),
                consultation_time: e.consultation_time,
                local_date: e.local_date(),
                entry_person: e.stored_person().map(str::to_owned),
                knowledge_hit: e.knowledge_hit,
                transfer_to_human: e.transfer_to_human,
                manual_intervention: e.manual_intervention,
                operation_user: e.operation_user.clone(),
                imported_at: now,
                source: source.into(),
            });
        }
        // A row another import added since the keys were read is skipped, not counted.
        let added = self.insert_rows(&rows, Conflict::Skip).await.context("writing manual entries")?;
        Ok(added as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wangwu's row of the operator tests' walk-in file.
    fn wangwu() -> NewEntry {
        NewEntry {
            user_name: "wangwu".into(),
            query: "显示器不亮".into(),
            answer: "换线".into(),
            consultation_time: NaiveDateTime::parse_from_str("2026-11-02 14:00", "%Y-%m-%d %H:%M").unwrap(),
            entry_person: None,
            filled_person: Some("ops".into()),
            knowledge_hit: false,
            transfer_to_human: false,
            manual_intervention: true,
            operation_user: None,
        }
    }

    #[test]
    fn old_formula_keys_are_those_the_previous_release_stored() {
        // Read from warehouses the previous release wrote: a file row imported by `ops`, and a
        // legacy row without entry_person. If a toolchain or chrono update changes std `Hash`,
        // this fails, and rows imported before the upgrade would no longer be recognised.
        assert_eq!(wangwu().old_key(Some("ops")), "0f624f314d5d8e67");
        let legacy = NewEntry { operation_user: Some("zhou".into()), ..wangwu() };
        assert_eq!(legacy.old_key(None), "72e86ca5c705e129");
    }

    #[test]
    fn the_key_is_the_content_as_given() {
        let e = wangwu();
        assert_eq!(
            e.natural_key(),
            "467305dd33feb9116055b8b9ecbf2010",
            "the key of a stored row never changes"
        );
        let other_operator = NewEntry { filled_person: Some("li".into()), ..wangwu() };
        assert_eq!(other_operator.natural_key(), e.natural_key());
        let given = NewEntry { entry_person: Some("ops".into()), ..wangwu() };
        assert_ne!(given.natural_key(), e.natural_key(), "a given entry_person is content");
        // Moving text from one field to the next changes the key.
        let shifted = NewEntry { user_name: "wangwu显示器".into(), query: "不亮".into(), ..wangwu() };
        assert_ne!(shifted.natural_key(), e.natural_key());
        let later = NewEntry {
            consultation_time: e.consultation_time + chrono::Duration::nanoseconds(1),
            ..wangwu()
        };
        assert_ne!(later.natural_key(), e.natural_key());
    }

    #[test]
    fn rows_under_old_keys_are_recognised() {
        let e = wangwu();
        let mut stored =
            StoredKeys { keys: [e.old_key(Some("ops"))].into(), old_persons: vec!["ops".into()] };
        assert!(stored.holds(&e));
        assert!(stored.holds(&NewEntry { filled_person: Some("li".into()), ..wangwu() }), "whoever imports");
        assert!(!stored.holds(&NewEntry { answer: "重启".into(), ..wangwu() }));
        let legacy = NewEntry { filled_person: None, ..wangwu() };
        stored.keys = [legacy.old_key(None)].into();
        assert!(stored.holds(&legacy));
        stored.keys.clear();
        assert!(!stored.holds(&e));
        stored.add(&e);
        assert!(stored.holds(&e));
    }
}
