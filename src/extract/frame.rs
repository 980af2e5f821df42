//! Raw Dify rows as a Polars frame: the input of the per-message rules.
//!
//! Times are `Int64` microseconds since the epoch, naive UTC as Dify stores them; everything
//! else keeps Dify's meaning. The frame holds only the columns the rules read
//! ([`RULE_COLUMNS`]): the rows themselves stay in their `RawMessage`s, whose text moves into
//! the warehouse rows without being copied through the frame (docs/performance.md, "The first
//! load"). A reclassification builds the same frame straight from stored rows ([`RuleFrame`],
//! `warehouse::verdicts`), so the rules run on the same columns either way.

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

/// A message's values in the columns the rules read ([`RULE_COLUMNS`]), borrowed: from a
/// [`RawMessage`], or straight from a stored row (a reclassification reads the rule inputs
/// without building `RawMessage`s, `warehouse::verdicts`).
#[derive(Debug, Clone, Copy)]
pub struct RuleInputs<'a> {
    pub app_id: &'a str,
    /// Microseconds since the epoch ([`micros`]).
    pub created_at: i64,
    pub query: &'a str,
    pub answer: &'a str,
    pub status: &'a str,
    pub invoke_from: Option<&'a str>,
    pub from_account_id: Option<&'a str>,
    pub account_email: Option<&'a str>,
    pub end_user_session_id: Option<&'a str>,
    pub inputs: Option<&'a str>,
}

impl RawMessage {
    /// This message's rule inputs.
    pub fn rule_inputs(&self) -> RuleInputs<'_> {
        RuleInputs {
            app_id: &self.app_id,
            created_at: micros(self.created_at),
            query: &self.query,
            answer: &self.answer,
            status: &self.status,
            invoke_from: self.invoke_from.as_deref(),
            from_account_id: self.from_account_id.as_deref(),
            account_email: self.account_email.as_deref(),
            end_user_session_id: self.end_user_session_id.as_deref(),
            inputs: self.inputs.as_deref(),
        }
    }
}

/// The frame the rules run on, built a row at a time: the text is copied once, into the
/// frame's own buffers.
pub struct RuleFrame {
    app_id: StringChunkedBuilder,
    created_at: Vec<i64>,
    query: StringChunkedBuilder,
    answer: StringChunkedBuilder,
    status: StringChunkedBuilder,
    invoke_from: StringChunkedBuilder,
    from_account_id: StringChunkedBuilder,
    account_email: StringChunkedBuilder,
    end_user_session_id: StringChunkedBuilder,
    inputs: StringChunkedBuilder,
}

impl RuleFrame {
    /// An empty frame with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> RuleFrame {
        let text = |name: &str| StringChunkedBuilder::new(name.into(), rows);
        RuleFrame {
            app_id: text("app_id"),
            created_at: Vec::with_capacity(rows),
            query: text("query"),
            answer: text("answer"),
            status: text("status"),
            invoke_from: text("invoke_from"),
            from_account_id: text("from_account_id"),
            account_email: text("account_email"),
            end_user_session_id: text("end_user_session_id"),
            inputs: text("inputs"),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: RuleInputs<'_>) {
        self.app_id.append_value(row.app_id);
        self.created_at.push(row.created_at);
        self.query.append_value(row.query);
        self.answer.append_value(row.answer);
        self.status.append_value(row.status);
        self.invoke_from.append_option(row.invoke_from);
        self.from_account_id.append_option(row.from_account_id);
        self.account_email.append_option(row.account_email);
        self.end_user_session_id.append_option(row.end_user_session_id);
        self.inputs.append_option(row.inputs);
    }

    /// The frame, its columns in [`RULE_COLUMNS`] order.
    pub fn finish(self) -> PolarsResult<DataFrame> {
        let height = self.created_at.len();
        let columns = vec![
            self.app_id.finish().into_column(),
            Column::new("created_at".into(), self.created_at),
            self.query.finish().into_column(),
            self.answer.finish().into_column(),
            self.status.finish().into_column(),
            self.invoke_from.finish().into_column(),
            self.from_account_id.finish().into_column(),
            self.account_email.finish().into_column(),
            self.end_user_session_id.finish().into_column(),
            self.inputs.finish().into_column(),
        ];
        DataFrame::new(height, columns)
    }
}

/// Builds the frame the rules run on for a batch: one row per message, in order.
pub fn to_frame(rows: &[RawMessage]) -> PolarsResult<DataFrame> {
    let mut frame = RuleFrame::with_capacity(rows.len());
    for row in rows {
        frame.push(row.rule_inputs());
    }
    frame.finish()
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
