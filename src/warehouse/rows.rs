//! Classified frames as warehouse rows, and back.
//!
//! [`MessageRow`] is one row of the `messages` table without its session columns (those are
//! written by `warehouse::sessions`), declared column by column with `table!`
//! (`warehouse/table.rs`). Its `content_hash` covers every stored field, so an
//! unchanged message re-read from Dify is recognised and not written again; it is computed
//! once, where the row is built (on the reader's side of an ingest, off the writer's path).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::extract::RawMessage;
use crate::extract::frame::{from_micros, micros};
use crate::transform::messages::MessageState;
use crate::transform::time::from_epoch_days;
use crate::warehouse::table::{Row, Sink, Value};

crate::table!(
    /// One message as stored, minus session columns and bookkeeping: the `messages` table
    /// (docs/warehouse.md) up to `content_hash`, in the order the hash and the export take them.
    /// Each field is a column (`warehouse/table.rs`).
    #[derive(Debug, Clone, PartialEq)]
    pub struct MessageRow => "messages", key(message_id), keep() {
        pub message_id: String,
        pub app_id: String,
        pub conversation_id: String,
        pub created_at: NaiveDateTime,
        pub updated_at: Option<NaiveDateTime>,
        pub local_time: NaiveDateTime,
        pub local_date: NaiveDate,
        pub user_key: String,
        pub query: String,
        pub question: String,
        pub answer: String,
        pub status: String,
        pub error: Option<String>,
        pub state: MessageState,
        pub kb_hit: bool,
        pub transfer: bool,
        pub included: bool,
        pub invoke_from: Option<String>,
        pub from_source: String,
        pub from_end_user_id: Option<String>,
        pub from_account_id: Option<String>,
        pub end_user_session_id: Option<String>,
        pub account_email: Option<String>,
        pub inputs: Option<String>,
        pub message_tokens: i64,
        pub answer_tokens: i64,
        pub latency_s: f64,
        pub total_price: Option<f64>,
        pub currency: Option<String>,
        pub parent_message_id: Option<String>,
        pub app_mode: Option<String>,
        pub conversation_name: Option<String>,
        pub conversation_deleted: Option<bool>,
        /// [`MessageRow::compute_content_hash`] of the fields above.
        pub content_hash: i64,
    }
);

/// The version of [`MessageRow::compute_content_hash`], stored in `meta` under
/// [`CONTENT_HASH_KEY`]. Raise it whenever the hashed bytes change (a column added to the
/// declaration above, or its order changed): the next ingest then hashes the stored rows again
/// (`pipeline::rehash`) instead of taking every row re-read from Dify for a changed one.
pub const CONTENT_HASH_VERSION: &str = "2";

/// The `meta` key of [`CONTENT_HASH_VERSION`].
pub const CONTENT_HASH_KEY: &str = "content_hash_version";

impl MessageRow {
    /// A hash of every stored field but the hash itself: equal rows give equal hashes, across
    /// runs, compiler versions and crate upgrades. The bytes hashed are explicit, in the
    /// declaration's column order (see [`HashBytes`]), and hashed with xxh3-64.
    pub fn compute_content_hash(&self) -> i64 {
        HashBytes::default().of(self)
    }
}

/// The bytes a row's hash covers: per value, a kind tag (0 for NULL), then the value —
/// text as its length (u64) and UTF-8 bytes, integers as i64, reals as their IEEE bits (u64),
/// booleans as one byte, times as seconds since 1970 (i64) and nanoseconds (u32), dates as
/// days since 0001-01-01 (i32) — all little-endian. The `content_hash` column is skipped.
#[derive(Default)]
struct HashBytes {
    buf: Vec<u8>,
    column: usize,
}

impl HashBytes {
    /// The content hash of `row`. The buffer is kept from row to row: a batch's rows are
    /// hashed with one buffer instead of growing a new one for each.
    fn of(&mut self, row: &MessageRow) -> i64 {
        self.buf.clear();
        self.column = 0;
        row.write(self).expect("hashing writes into memory");
        xxhash_rust::xxh3::xxh3_64(&self.buf) as i64
    }
}

impl Sink for HashBytes {
    fn put(&mut self, value: Value<'_>) -> anyhow::Result<()> {
        let column = MessageRow::table().columns[self.column].name;
        self.column += 1;
        if column == "content_hash" {
            return Ok(());
        }
        let out = &mut self.buf;
        match value {
            v if v.is_null() => out.push(0),
            Value::Text(Some(s)) => {
                out.push(1);
                out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Value::Int(Some(i)) => {
                out.push(2);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Real(Some(f)) => {
                out.push(3);
                out.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::Bool(Some(b)) => out.extend_from_slice(&[4, u8::from(b)]),
            Value::Time(Some(t)) => {
                let t = t.and_utc();
                out.push(5);
                out.extend_from_slice(&t.timestamp().to_le_bytes());
                out.extend_from_slice(&t.timestamp_subsec_nanos().to_le_bytes());
            }
            Value::Date(Some(d)) => {
                out.push(6);
                out.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
            }
            _ => unreachable!("NULL handled above"),
        }
        Ok(())
    }
}

fn strs<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

fn i64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    Ok(df.column(name)?.cast(&DataType::Int64)?.i64()?.iter().collect())
}

fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<bool>>> {
    Ok(df.column(name)?.bool()?.iter().collect())
}

fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.iter().collect())
}

/// A time as the frame carries it: whole microseconds (`extract::frame`).
fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    from_micros(micros(t))
}

/// The verdicts a classified frame (`transform::messages::classify`) gives each of its rows,
/// as a warehouse row stores them: the one reading of the frame, for [`message_rows`] and for
/// a reclassification's comparison with the stored verdicts (`warehouse::verdicts`).
pub struct Verdicts<'a> {
    local_time: Vec<Option<i64>>,
    local_date: Vec<Option<i32>>,
    user: Vec<Option<&'a str>>,
    question: Vec<Option<&'a str>>,
    state: Vec<Option<&'a str>>,
    kb_hit: Vec<Option<bool>>,
    transfer: Vec<Option<bool>>,
    included: Vec<Option<bool>>,
}

/// One row's [`Verdicts`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict<'a> {
    pub local_time: NaiveDateTime,
    pub local_date: NaiveDate,
    pub user_key: &'a str,
    pub question: &'a str,
    pub state: MessageState,
    pub kb_hit: bool,
    pub transfer: bool,
    pub included: bool,
}

impl<'a> Verdicts<'a> {
    /// The verdict columns of `classified`.
    pub fn of(classified: &'a DataFrame) -> PolarsResult<Verdicts<'a>> {
        Ok(Verdicts {
            local_time: i64s(classified, "local_time")?,
            local_date: dates(classified, "local_date")?,
            user: strs(classified, "user_key")?,
            question: strs(classified, "question")?,
            state: strs(classified, "state")?,
            kb_hit: bools(classified, "kb_hit")?,
            transfer: bools(classified, "transfer")?,
            included: bools(classified, "included")?,
        })
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.local_time.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.local_time.is_empty()
    }

    /// Row `i`'s verdicts, NULLs given the values a row stores for them.
    pub fn get(&self, i: usize) -> Verdict<'a> {
        Verdict {
            local_time: from_micros(self.local_time[i].unwrap_or_default()),
            local_date: from_epoch_days(self.local_date[i].unwrap_or_default()),
            user_key: self.user[i].unwrap_or("unknown"),
            question: self.question[i].unwrap_or_default(),
            state: MessageState::from_stored(self.state[i].unwrap_or_default()),
            kb_hit: self.kb_hit[i].unwrap_or(false),
            transfer: self.transfer[i].unwrap_or(false),
            included: self.included[i].unwrap_or(true),
        }
    }
}

/// The warehouse rows of a batch: each raw message with the verdicts of its row of
/// `classified` (the frame `transform::messages::classify` made of the same messages, in the
/// same order). The raw text moves into the row instead of being copied back out of the
/// frame: most of a row's bytes are its query and answer.
pub fn message_rows(raw: Vec<RawMessage>, classified: &DataFrame) -> PolarsResult<Vec<MessageRow>> {
    if classified.height() != raw.len() {
        polars_bail!(ShapeMismatch: "{} verdicts for {} messages", classified.height(), raw.len());
    }
    let verdicts = Verdicts::of(classified)?;
    let mut hash = HashBytes::default();
    Ok(raw
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let v = verdicts.get(i);
            let mut row = MessageRow {
                message_id: m.id,
                app_id: m.app_id,
                conversation_id: m.conversation_id,
                created_at: to_micros(m.created_at),
                updated_at: m.updated_at.map(to_micros),
                local_time: v.local_time,
                local_date: v.local_date,
                user_key: v.user_key.to_string(),
                query: m.query,
                question: v.question.to_string(),
                answer: m.answer,
                status: m.status,
                error: m.error,
                state: v.state,
                kb_hit: v.kb_hit,
                transfer: v.transfer,
                included: v.included,
                invoke_from: m.invoke_from,
                from_source: m.from_source,
                from_end_user_id: m.from_end_user_id,
                from_account_id: m.from_account_id,
                end_user_session_id: m.end_user_session_id,
                account_email: m.account_email,
                inputs: m.inputs,
                message_tokens: m.message_tokens,
                answer_tokens: m.answer_tokens,
                latency_s: m.latency_s,
                total_price: m.total_price,
                currency: m.currency,
                parent_message_id: m.parent_message_id,
                app_mode: m.app_mode,
                conversation_name: m.conversation_name,
                conversation_deleted: m.conversation_deleted,
                content_hash: 0,
            };
            row.content_hash = hash.of(&row);
            row
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn row() -> MessageRow {
        let at = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_micro_opt(1, 2, 3, 456_789).unwrap();
        MessageRow {
            message_id: "0b6c1a52-7f0e-4a53-9c55-2d1e8f0a4b11".into(),
            app_id: "app".into(),
            conversation_id: "conv".into(),
            created_at: at,
            updated_at: None,
            local_time: at + chrono::Duration::hours(8),
            local_date: at.date(),
            user_key: "zhangsan".into(),
            query: "VPN 连不上".into(),
            question: "VPN 连不上".into(),
            answer: "请重启电脑".into(),
            status: "normal".into(),
            error: None,
            state: MessageState::Answered,
            kb_hit: true,
            transfer: false,
            included: true,
            invoke_from: Some("service-api".into()),
            from_source: "api".into(),
            from_end_user_id: Some("eu".into()),
            from_account_id: None,
            end_user_session_id: Some("zhangsan".into()),
            account_email: None,
            inputs: Some("{}".into()),
            message_tokens: 12,
            answer_tokens: 34,
            latency_s: 1.25,
            total_price: Some(0.0001),
            currency: Some("USD".into()),
            parent_message_id: None,
            app_mode: Some("chat".into()),
            conversation_name: Some("VPN".into()),
            conversation_deleted: Some(false),
            content_hash: 0,
        }
    }

    /// The hash is a fixed function of the row: this value may change only together with
    /// CONTENT_HASH_VERSION (a stored warehouse would otherwise take every row for changed).
    #[test]
    fn the_content_hash_is_pinned() {
        assert_eq!(CONTENT_HASH_VERSION, "2");
        assert_eq!(row().compute_content_hash(), PINNED);
    }

    const PINNED: i64 = -1_758_736_329_065_424_750;

    type Edit = Box<dyn Fn(&mut MessageRow)>;

    #[test]
    fn every_field_but_the_hash_changes_the_hash() {
        let base = row().compute_content_hash();
        let mut r = row();
        r.content_hash = 42;
        assert_eq!(r.compute_content_hash(), base, "the stored hash is not hashed");
        let edits: Vec<Edit> = vec![
            Box::new(|r| r.answer.push('。')),
            Box::new(|r| r.updated_at = Some(r.created_at)),
            Box::new(|r| r.created_at += chrono::Duration::microseconds(1)),
            Box::new(|r| r.kb_hit = false),
            Box::new(|r| r.state = MessageState::Pending),
            Box::new(|r| r.total_price = None),
            Box::new(|r| r.latency_s = 1.2500000000000002),
            Box::new(|r| r.conversation_deleted = None),
            Box::new(|r| r.local_date = r.local_date.succ_opt().unwrap()),
            // Text boundaries are in the bytes: moving a character between fields changes it.
            Box::new(|r| {
                r.query = "VPN 连不".into();
                r.question = "上VPN 连不上".into();
            }),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut r = row();
            edit(&mut r);
            assert_ne!(r.compute_content_hash(), base, "edit {i}");
        }
    }
}
