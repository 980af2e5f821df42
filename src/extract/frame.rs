//! Raw Dify rows as a Polars frame: the input of every transform.
//!
//! Times are `Int64` microseconds since the epoch, naive UTC as Dify stores them; everything
//! else keeps Dify's meaning. The column names are listed in [`RAW_COLUMNS`]; the warehouse
//! reloads stored messages into the same shape so a reclassification runs the same code.

use chrono::NaiveDateTime;
use polars::prelude::*;

use super::RawMessage;

/// Names of the raw columns, in frame order.
pub const RAW_COLUMNS: &[&str] = &[
    "message_id",
    "app_id",
    "conversation_id",
    "created_at",
    "updated_at",
    "query",
    "answer",
    "status",
    "error",
    "from_source",
    "from_end_user_id",
    "from_account_id",
    "invoke_from",
    "inputs",
    "message_tokens",
    "answer_tokens",
    "latency_s",
    "total_price",
    "currency",
    "parent_message_id",
    "app_mode",
    "end_user_session_id",
    "account_email",
    "conversation_name",
    "conversation_deleted",
];

/// Microseconds since the epoch of a naive UTC time.
pub fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

/// The naive UTC time of microseconds since the epoch.
pub fn from_micros(us: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(us).map(|t| t.naive_utc()).unwrap_or_default()
}

fn text<'a>(name: &str, rows: &'a [RawMessage], f: impl Fn(&'a RawMessage) -> &'a str) -> Column {
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<&str>>())
}

fn opt_text<'a>(name: &str, rows: &'a [RawMessage], f: impl Fn(&'a RawMessage) -> Option<&'a str>) -> Column {
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<Option<&str>>>())
}

/// Builds the raw frame of a batch.
pub fn to_frame(rows: &[RawMessage]) -> PolarsResult<DataFrame> {
    let columns = vec![
        text("message_id", rows, |r| &r.id),
        text("app_id", rows, |r| &r.app_id),
        text("conversation_id", rows, |r| &r.conversation_id),
        Column::new("created_at".into(), rows.iter().map(|r| micros(r.created_at)).collect::<Vec<i64>>()),
        Column::new(
            "updated_at".into(),
            rows.iter().map(|r| r.updated_at.map(micros)).collect::<Vec<Option<i64>>>(),
        ),
        text("query", rows, |r| &r.query),
        text("answer", rows, |r| &r.answer),
        text("status", rows, |r| &r.status),
        opt_text("error", rows, |r| r.error.as_deref()),
        text("from_source", rows, |r| &r.from_source),
        opt_text("from_end_user_id", rows, |r| r.from_end_user_id.as_deref()),
        opt_text("from_account_id", rows, |r| r.from_account_id.as_deref()),
        opt_text("invoke_from", rows, |r| r.invoke_from.as_deref()),
        opt_text("inputs", rows, |r| r.inputs.as_deref()),
        Column::new("message_tokens".into(), rows.iter().map(|r| r.message_tokens).collect::<Vec<i64>>()),
        Column::new("answer_tokens".into(), rows.iter().map(|r| r.answer_tokens).collect::<Vec<i64>>()),
        Column::new("latency_s".into(), rows.iter().map(|r| r.latency_s).collect::<Vec<f64>>()),
        Column::new("total_price".into(), rows.iter().map(|r| r.total_price).collect::<Vec<Option<f64>>>()),
        opt_text("currency", rows, |r| r.currency.as_deref()),
        opt_text("parent_message_id", rows, |r| r.parent_message_id.as_deref()),
        opt_text("app_mode", rows, |r| r.app_mode.as_deref()),
        opt_text("end_user_session_id", rows, |r| r.end_user_session_id.as_deref()),
        opt_text("account_email", rows, |r| r.account_email.as_deref()),
        opt_text("conversation_name", rows, |r| r.conversation_name.as_deref()),
        Column::new(
            "conversation_deleted".into(),
            rows.iter().map(|r| r.conversation_deleted).collect::<Vec<Option<bool>>>(),
        ),
    ];
    DataFrame::new(rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_the_raw_columns_in_order() {
        let df = to_frame(&[]).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, RAW_COLUMNS);
    }

    #[test]
    fn micros_round_trip() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_micro_opt(8, 0, 1, 5).unwrap();
        assert_eq!(from_micros(micros(t)), t);
    }
}
