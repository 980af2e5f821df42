//! A reclassification's first read of the stored messages: the columns the rules read, and the
//! verdicts stored for them (docs/performance.md, "Reclassification").
//!
//! A stored row's content hash covers its Dify fields and its verdicts, and a reclassification
//! changes no Dify field: a row whose verdicts under the new rules equal the stored ones is
//! unchanged, and is neither rebuilt nor hashed. So each page is read as the frame the rules
//! run on, built straight from the stored text (no `String` per value), with the stored
//! verdicts beside it; only the rows whose verdicts differ are then read whole
//! (`Tx::stored_raw_of`) and go the way of an ingest's rows. Both backends read the same
//! columns (`sql/warehouse/messages_stored_verdicts.sql` and its SQLite twin, paged by rowid).

use std::sync::LazyLock;

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::{DataFrame, PolarsResult};
use rusqlite::types::ValueRef;
use sqlx::Row as _;

use super::Tx;
use super::rows::{Verdict, Verdicts};
use super::sqlite_bulk::{get_date, get_time, query_each};
use crate::extract::frame::{RULE_COLUMNS, RuleFrame, RuleInputs, micros};
use crate::transform::messages::{DERIVED_COLUMNS, MessageState};

const STORED_VERDICTS_SQL: &str = include_str!("../../sql/warehouse/messages_stored_verdicts.sql");
const STORED_VERDICTS_SQLITE_SQL: &str =
    include_str!("../../sql/warehouse/sqlite/messages_stored_verdicts.sql");

/// The columns of both SQL files, in order: the id (0), the columns the rules read (1–10),
/// the verdicts in `classify`'s order (11–18: question, state, user_key, local_time,
/// local_date, included, kb_hit, transfer) and the page position (19). The readers take them
/// by these positions; the SQLite reader checks the names on every page, a test the
/// PostgreSQL file's.
static COLUMNS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut columns = vec!["id"];
    columns.extend(RULE_COLUMNS);
    columns.extend(DERIVED_COLUMNS);
    columns.push("position");
    columns
});

/// Where the next page of [`Tx::stored_verdicts`] starts: after the last row read, by id in
/// PostgreSQL and by rowid in SQLite. A reclassification runs in one transaction and updates
/// rows in place (an upsert keeps the id, and in SQLite the rowid), so every row is read once.
#[derive(Debug, Default, Clone)]
pub struct StoredCursor {
    id: String,
    position: i64,
}

/// A page of stored messages: the rules' frame and what each row stores.
pub struct StoredPage {
    /// The rule inputs of the page's rows (`extract::frame::RULE_COLUMNS`), in page order.
    pub frame: DataFrame,
    /// The stored verdicts of the same rows.
    pub stored: StoredVerdicts,
    /// Where the next page starts; `None` when the page is empty (the last one).
    pub next: Option<StoredCursor>,
}

impl StoredPage {
    /// How many rows.
    pub fn len(&self) -> usize {
        self.stored.facts.len()
    }

    /// Whether the page has no rows.
    pub fn is_empty(&self) -> bool {
        self.stored.facts.is_empty()
    }
}

/// Each row's id and stored verdicts. Text lives in one buffer per column; a value that is
/// not what the writer stores (`None` here) counts as differing, so its row is rewritten.
#[derive(Default)]
pub struct StoredVerdicts {
    ids: Texts,
    user_keys: Texts,
    questions: Texts,
    facts: Vec<Facts>,
}

/// A stored row's verdicts other than text.
#[derive(Debug, Clone, Copy)]
struct Facts {
    local_time: Option<NaiveDateTime>,
    local_date: Option<NaiveDate>,
    state: Option<MessageState>,
    kb_hit: Option<bool>,
    transfer: Option<bool>,
    included: Option<bool>,
}

/// One stored row's verdicts, borrowed from its reader.
struct Stored<'a> {
    user_key: &'a str,
    question: &'a str,
    facts: Facts,
}

impl StoredVerdicts {
    fn push(&mut self, id: &str, stored: Stored<'_>) {
        self.ids.push(id);
        self.user_keys.push(stored.user_key);
        self.questions.push(stored.question);
        self.facts.push(stored.facts);
    }

    /// Row `i`'s message id.
    pub fn id(&self, i: usize) -> &str {
        self.ids.get(i)
    }

    /// The rows (by position) whose verdicts under the rules differ from the stored ones;
    /// `verdicts` are the page's rows classified, in page order.
    pub fn differing(&self, verdicts: &Verdicts<'_>) -> anyhow::Result<Vec<usize>> {
        anyhow::ensure!(
            verdicts.len() == self.facts.len(),
            "{} verdicts for {} stored messages",
            verdicts.len(),
            self.facts.len()
        );
        Ok((0..self.facts.len()).filter(|&i| !self.equals(i, &verdicts.get(i))).collect())
    }

    /// Whether row `i` stores exactly `new`.
    fn equals(&self, i: usize, new: &Verdict<'_>) -> bool {
        let f = &self.facts[i];
        f.local_time == Some(new.local_time)
            && f.local_date == Some(new.local_date)
            && f.state == Some(new.state)
            && f.kb_hit == Some(new.kb_hit)
            && f.transfer == Some(new.transfer)
            && f.included == Some(new.included)
            && self.user_keys.get(i) == new.user_key
            && self.questions.get(i) == new.question
    }
}

/// Strings end to end in one buffer: a page's values without an allocation each.
#[derive(Default)]
struct Texts {
    text: String,
    ends: Vec<usize>,
}

impl Texts {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// The state a stored text is written for, if it is one the writer writes.
fn state_of(text: &str) -> Option<MessageState> {
    [MessageState::Answered, MessageState::Error, MessageState::Pending]
        .into_iter()
        .find(|s| s.as_str() == text)
}

/// Builds a [`StoredPage`] a row at a time.
struct PageBuilder {
    frame: RuleFrame,
    stored: StoredVerdicts,
    last_position: Option<i64>,
}

impl PageBuilder {
    fn new(rows: usize) -> PageBuilder {
        PageBuilder {
            frame: RuleFrame::with_capacity(rows),
            stored: StoredVerdicts::default(),
            last_position: None,
        }
    }

    fn push(&mut self, id: &str, inputs: RuleInputs<'_>, stored: Stored<'_>, position: i64) {
        self.frame.push(inputs);
        self.stored.push(id, stored);
        self.last_position = Some(position);
    }

    fn finish(self) -> PolarsResult<StoredPage> {
        let last = self.stored.facts.len().checked_sub(1);
        let next = last
            .zip(self.last_position)
            .map(|(i, position)| StoredCursor { id: self.stored.id(i).to_string(), position });
        Ok(StoredPage { frame: self.frame.finish()?, stored: self.stored, next })
    }
}

impl Tx {
    /// Stored messages after `after`, at most `limit`, as the rules' frame with the stored
    /// verdicts beside it; the first page starts after `StoredCursor::default()`.
    pub async fn stored_verdicts(
        &mut self,
        after: &StoredCursor,
        limit: usize,
    ) -> anyhow::Result<StoredPage> {
        let mut page = PageBuilder::new(limit);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match self {
            Tx::Sqlite(t) => {
                query_each(t, STORED_VERDICTS_SQLITE_SQL, &[&after.position, &limit], &COLUMNS, |row| {
                    read_sqlite_row(row, &mut page).map_err(anyhow::Error::from)
                })
                .await
            }
            Tx::Postgres(t) => {
                let rows =
                    sqlx::query(STORED_VERDICTS_SQL).bind(&after.id).bind(limit).fetch_all(&mut **t).await?;
                rows.iter().try_for_each(|row| read_pg_row(row, &mut page).map_err(anyhow::Error::from))
            }
        }
        .context("reading stored messages")?;
        Ok(page.finish()?)
    }
}

/// A row of `sqlite/messages_stored_verdicts.sql` into `page`.
fn read_sqlite_row(row: &rusqlite::Row<'_>, page: &mut PageBuilder) -> rusqlite::Result<()> {
    let text = |i: usize| -> rusqlite::Result<&str> { Ok(row.get_ref(i)?.as_str()?) };
    let opt_text = |i: usize| -> rusqlite::Result<Option<&str>> { Ok(row.get_ref(i)?.as_str_or_null()?) };
    let flag = |i: usize| match row.get_ref(i) {
        Ok(ValueRef::Integer(n)) => Some(n != 0),
        _ => None,
    };
    let inputs = RuleInputs {
        app_id: text(1)?,
        created_at: micros(get_time(row, 2)?),
        query: text(3)?,
        answer: text(4)?,
        status: text(5)?,
        invoke_from: opt_text(6)?,
        from_account_id: opt_text(7)?,
        account_email: opt_text(8)?,
        end_user_session_id: opt_text(9)?,
        inputs: opt_text(10)?,
    };
    let stored = Stored {
        question: text(11)?,
        user_key: text(13)?,
        facts: Facts {
            state: text(12).ok().and_then(state_of),
            local_time: get_time(row, 14).ok(),
            local_date: get_date(row, 15).ok(),
            included: flag(16),
            kb_hit: flag(17),
            transfer: flag(18),
        },
    };
    page.push(text(0)?, inputs, stored, row.get(19)?);
    Ok(())
}

/// A row of `messages_stored_verdicts.sql` into `page`.
fn read_pg_row(row: &sqlx::postgres::PgRow, page: &mut PageBuilder) -> sqlx::Result<()> {
    let created_at: NaiveDateTime = row.try_get(2)?;
    let inputs = RuleInputs {
        app_id: row.try_get(1)?,
        created_at: micros(created_at),
        query: row.try_get(3)?,
        answer: row.try_get(4)?,
        status: row.try_get(5)?,
        invoke_from: row.try_get(6)?,
        from_account_id: row.try_get(7)?,
        account_email: row.try_get(8)?,
        end_user_session_id: row.try_get(9)?,
        inputs: row.try_get(10)?,
    };
    let stored = Stored {
        question: row.try_get(11)?,
        user_key: row.try_get(13)?,
        facts: Facts {
            state: row.try_get::<&str, _>(12).ok().and_then(state_of),
            local_time: row.try_get(14).ok(),
            local_date: row.try_get(15).ok(),
            included: row.try_get(16).ok(),
            kb_hit: row.try_get(17).ok(),
            transfer: row.try_get(18).ok(),
        },
    };
    page.push(row.try_get(0)?, inputs, stored, row.try_get(19)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn verdict() -> Verdict<'static> {
        Verdict {
            local_time: time("2026-11-02 17:00:00"),
            local_date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            user_key: "zhangsan",
            question: "VPN 连不上",
            state: MessageState::Answered,
            kb_hit: true,
            transfer: false,
            included: true,
        }
    }

    fn stored_as(v: &Verdict<'_>) -> StoredVerdicts {
        let mut out = StoredVerdicts::default();
        let facts = Facts {
            local_time: Some(v.local_time),
            local_date: Some(v.local_date),
            state: Some(v.state),
            kb_hit: Some(v.kb_hit),
            transfer: Some(v.transfer),
            included: Some(v.included),
        };
        out.push("m1", Stored { user_key: v.user_key, question: v.question, facts });
        out
    }

    /// Every verdict a row stores takes part in the comparison: a change in any one of them
    /// makes the row differ, and an unreadable stored value does too.
    #[test]
    fn a_row_differs_when_any_verdict_does() {
        let v = verdict();
        let stored = stored_as(&v);
        assert!(stored.equals(0, &v));
        let changed = [
            Verdict { local_time: time("2026-11-02 17:00:01"), ..v },
            Verdict { local_date: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(), ..v },
            Verdict { user_key: "lisi", ..v },
            Verdict { question: "VPN 连不上 ", ..v },
            Verdict { state: MessageState::Pending, ..v },
            Verdict { kb_hit: false, ..v },
            Verdict { transfer: true, ..v },
            Verdict { included: false, ..v },
        ];
        for new in changed {
            assert!(!stored.equals(0, &new), "{new:?}");
        }
        let mut unreadable = stored_as(&v);
        unreadable.facts[0].state = state_of("answered?");
        assert!(!unreadable.equals(0, &v));
    }

    /// Only the SQLite reader checks the columns it is given (`query_each`): the PostgreSQL
    /// file must name the same ones.
    #[test]
    fn both_sql_files_return_the_reader_s_columns() {
        let returned = |sql: &str| -> Vec<String> {
            let body: Vec<&str> = sql.lines().filter(|l| !l.starts_with("--")).collect();
            let body = body.join(" ");
            let list = body.split(" FROM ").next().unwrap().trim_start_matches("SELECT");
            list.split(',').map(|c| c.split_whitespace().last().unwrap().to_string()).collect()
        };
        assert_eq!(returned(STORED_VERDICTS_SQL), *COLUMNS);
        assert_eq!(returned(STORED_VERDICTS_SQLITE_SQL), *COLUMNS);
    }

    #[test]
    fn texts_come_back_in_order() {
        let mut texts = Texts::default();
        for s in ["a", "", "咨询 VPN", "b"] {
            texts.push(s);
        }
        assert_eq!((0..4).map(|i| texts.get(i)).collect::<Vec<_>>(), ["a", "", "咨询 VPN", "b"]);
    }
}
