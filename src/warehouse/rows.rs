//! Classified frames as warehouse rows, and back.
//!
//! [`MessageRow`] is one row of the `messages` table without its session columns (those are
//! written by `warehouse::sessions`). Its `content_hash` covers every stored field, so an
//! unchanged message re-read from Dify is recognised and not written again; it is computed
//! once, where the row is built (on the reader's side of an ingest, off the writer's path).

use std::hash::{Hash, Hasher};

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::extract::frame::from_micros;
use crate::transform::messages::MessageState;
use crate::transform::time::from_epoch_days;

/// One message as stored, minus session columns and bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
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

impl MessageRow {
    /// A hash of every stored field: equal rows give equal hashes across runs.
    pub fn compute_content_hash(&self) -> i64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        (&self.message_id, &self.app_id, &self.conversation_id).hash(&mut h);
        (self.created_at, self.updated_at, self.local_time, self.local_date).hash(&mut h);
        (&self.user_key, &self.query, &self.question, &self.answer, &self.status, &self.error).hash(&mut h);
        (self.state.as_str(), self.kb_hit, self.transfer, self.included, &self.invoke_from).hash(&mut h);
        (&self.from_source, &self.from_end_user_id, &self.from_account_id).hash(&mut h);
        (&self.end_user_session_id, &self.account_email, &self.inputs).hash(&mut h);
        (self.message_tokens, self.answer_tokens, self.latency_s.to_bits()).hash(&mut h);
        (self.total_price.map(f64::to_bits), &self.currency, &self.parent_message_id).hash(&mut h);
        (&self.app_mode, &self.conversation_name, self.conversation_deleted).hash(&mut h);
        h.finish() as i64
    }
}

fn strs<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

fn i64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    Ok(df.column(name)?.cast(&DataType::Int64)?.i64()?.iter().collect())
}

fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<bool>>> {
    Ok(df.column(name)?.bool()?.iter().collect())
}

fn f64s(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    Ok(df.column(name)?.cast(&DataType::Float64)?.f64()?.iter().collect())
}

fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.iter().collect())
}

/// Rows of a classified frame (raw columns plus `transform::messages::DERIVED_COLUMNS`).
pub fn message_rows(df: &DataFrame) -> PolarsResult<Vec<MessageRow>> {
    let id = strs(df, "message_id")?;
    let app = strs(df, "app_id")?;
    let conv = strs(df, "conversation_id")?;
    let created = i64s(df, "created_at")?;
    let updated = i64s(df, "updated_at")?;
    let local_time = i64s(df, "local_time")?;
    let local_date = dates(df, "local_date")?;
    let user = strs(df, "user_key")?;
    let query = strs(df, "query")?;
    let question = strs(df, "question")?;
    let answer = strs(df, "answer")?;
    let status = strs(df, "status")?;
    let error = strs(df, "error")?;
    let state = strs(df, "state")?;
    let kb_hit = bools(df, "kb_hit")?;
    let transfer = bools(df, "transfer")?;
    let included = bools(df, "included")?;
    let invoke_from = strs(df, "invoke_from")?;
    let from_source = strs(df, "from_source")?;
    let end_user = strs(df, "from_end_user_id")?;
    let account = strs(df, "from_account_id")?;
    let session_key = strs(df, "end_user_session_id")?;
    let email = strs(df, "account_email")?;
    let inputs = strs(df, "inputs")?;
    let m_tokens = i64s(df, "message_tokens")?;
    let a_tokens = i64s(df, "answer_tokens")?;
    let latency = f64s(df, "latency_s")?;
    let price = f64s(df, "total_price")?;
    let currency = strs(df, "currency")?;
    let parent = strs(df, "parent_message_id")?;
    let app_mode = strs(df, "app_mode")?;
    let conv_name = strs(df, "conversation_name")?;
    let conv_deleted = bools(df, "conversation_deleted")?;

    Ok((0..df.height())
        .map(|i| {
            let mut row = MessageRow {
                message_id: id[i].unwrap_or_default().to_string(),
                app_id: app[i].unwrap_or_default().to_string(),
                conversation_id: conv[i].unwrap_or_default().to_string(),
                created_at: from_micros(created[i].unwrap_or_default()),
                updated_at: updated[i].map(from_micros),
                local_time: from_micros(local_time[i].unwrap_or_default()),
                local_date: from_epoch_days(local_date[i].unwrap_or_default()),
                user_key: user[i].unwrap_or("unknown").to_string(),
                query: query[i].unwrap_or_default().to_string(),
                question: question[i].unwrap_or_default().to_string(),
                answer: answer[i].unwrap_or_default().to_string(),
                status: status[i].unwrap_or_default().to_string(),
                error: owned(error[i]),
                state: MessageState::from_stored(state[i].unwrap_or_default()),
                kb_hit: kb_hit[i].unwrap_or(false),
                transfer: transfer[i].unwrap_or(false),
                included: included[i].unwrap_or(true),
                invoke_from: owned(invoke_from[i]),
                from_source: from_source[i].unwrap_or_default().to_string(),
                from_end_user_id: owned(end_user[i]),
                from_account_id: owned(account[i]),
                end_user_session_id: owned(session_key[i]),
                account_email: owned(email[i]),
                inputs: owned(inputs[i]),
                message_tokens: m_tokens[i].unwrap_or_default(),
                answer_tokens: a_tokens[i].unwrap_or_default(),
                latency_s: latency[i].unwrap_or_default(),
                total_price: price[i],
                currency: owned(currency[i]),
                parent_message_id: owned(parent[i]),
                app_mode: owned(app_mode[i]),
                conversation_name: owned(conv_name[i]),
                conversation_deleted: conv_deleted[i],
                content_hash: 0,
            };
            row.content_hash = row.compute_content_hash();
            row
        })
        .collect())
}
