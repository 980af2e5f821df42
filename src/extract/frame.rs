//! Raw Dify rows as a Polars frame: the input of the per-message rules.
//!
//! Times are `Int64` microseconds since the epoch, naive UTC as Dify stores them; everything
//! else keeps Dify's meaning. The frame holds only the columns the rules read
//! ([`RULE_COLUMNS`]): the rows themselves stay in their `RawMessage`s, whose text moves into
//! the warehouse rows without being copied through the frame (docs/performance.md, "The first
//! load"). The warehouse reloads stored messages as `RawMessage`s, so a reclassification
//! runs the same code.

use chrono::NaiveDateTime;
use polars::prelude::*;

use super::RawMessage;

/// Names of the columns the rules read (`transform::messages`), in frame order.
pub const RULE_COLUMNS: &[&str] = &[
    "app_id",
    "created_at",
    "query",
    "answer",
    "status",
    "invoke_from",
    "from_account_id",
    "account_email",
    "end_user_session_id",
    "inputs",
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

/// Builds the frame the rules run on for a batch: one row per message, in order.
pub fn to_frame(rows: &[RawMessage]) -> PolarsResult<DataFrame> {
    let columns = vec![
        text("app_id", rows, |r| &r.app_id),
        Column::new("created_at".into(), rows.iter().map(|r| micros(r.created_at)).collect::<Vec<i64>>()),
        text("query", rows, |r| &r.query),
        text("answer", rows, |r| &r.answer),
        text("status", rows, |r| &r.status),
        opt_text("invoke_from", rows, |r| r.invoke_from.as_deref()),
        opt_text("from_account_id", rows, |r| r.from_account_id.as_deref()),
        opt_text("account_email", rows, |r| r.account_email.as_deref()),
        opt_text("end_user_session_id", rows, |r| r.end_user_session_id.as_deref()),
        opt_text("inputs", rows, |r| r.inputs.as_deref()),
    ];
    DataFrame::new(rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_has_the_rule_columns_in_order() {
        let df = to_frame(&[]).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, RULE_COLUMNS);
    }

    #[test]
    fn micros_round_trip() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_micro_opt(8, 0, 1, 5).unwrap();
        assert_eq!(from_micros(micros(t)), t);
    }
}
