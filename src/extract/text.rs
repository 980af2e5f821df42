//! How an export file's text becomes a value (`itstat ingest --from-file`): the rules the
//! `raw_message!` declaration and the file source's feedback columns read each cell by.

use chrono::NaiveDateTime;

/// Parses a timestamp as PostgreSQL and Polars print them.
fn timestamp(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim().replace('T', " ");
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&t, f).ok())
}

fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "t" | "true" | "1" => Some(true),
        "f" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// How an export file's text becomes a `RawMessage` field of this type (empty values come
/// as `None`): required text and times are an error when empty, numbers count as 0, a
/// boolean that is not one is unknown. `column` names the column in an error.
pub trait FromText: Sized {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String>;
}

impl FromText for String {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String> {
        value.map(str::to_string).ok_or_else(|| format!("column {column}: empty — it is required"))
    }
}

impl FromText for Option<String> {
    fn from_text(_: &str, value: Option<&str>) -> Result<Self, String> {
        Ok(value.map(str::to_string))
    }
}

impl FromText for Option<NaiveDateTime> {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String> {
        value
            .map(|v| timestamp(v).ok_or_else(|| format!("column {column}: \"{v}\" is not a timestamp")))
            .transpose()
    }
}

impl FromText for NaiveDateTime {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String> {
        Option::<NaiveDateTime>::from_text(column, value)?
            .ok_or_else(|| format!("column {column}: empty — it is required"))
    }
}

impl FromText for i64 {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String> {
        value
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| format!("column {column}: \"{v}\" is not an integer"))
            })
            .unwrap_or(Ok(0))
    }
}

impl FromText for Option<f64> {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String> {
        value
            .map(|v| v.trim().parse::<f64>().map_err(|_| format!("column {column}: \"{v}\" is not a number")))
            .transpose()
    }
}

impl FromText for f64 {
    fn from_text(column: &str, value: Option<&str>) -> Result<Self, String> {
        Ok(Option::<f64>::from_text(column, value)?.unwrap_or(0.0))
    }
}

impl FromText for Option<bool> {
    fn from_text(_: &str, value: Option<&str>) -> Result<Self, String> {
        Ok(value.and_then(boolean))
    }
}

/// Text that may be empty (a query or an answer): empty when absent.
pub fn or_empty(_: &str, value: Option<&str>) -> Result<String, String> {
    Ok(value.unwrap_or_default().to_string())
}
