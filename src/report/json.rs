//! The JSON object of docs/metrics.md §7, with `rules`: the rules in force the numbers were
//! computed under (their values and fingerprint, §8), and `warnings`: why they may be
//! incomplete (docs/alerts.md).

use serde::Serialize;

use super::ReportData;
use crate::transform::kpi::Kpis;

#[derive(Serialize)]
struct PeriodJson<'a> {
    kind: crate::cli::PeriodKind,
    start: String,
    end: String,
    timezone: &'a str,
}

#[derive(Serialize)]
struct DayJson<'a> {
    date: String,
    #[serde(flatten)]
    kpis: &'a Kpis,
}

#[derive(Serialize)]
struct ReportJson<'a> {
    period: PeriodJson<'a>,
    totals: &'a Kpis,
    previous: &'a Kpis,
    daily: Vec<DayJson<'a>>,
    generated_at: String,
    data_through: Option<String>,
    rules: serde_json::Value,
    /// Why the numbers may be incomplete (docs/alerts.md); `[]` when they are not.
    warnings: &'a [super::warnings::ReportWarning],
}

/// `rules`: the fingerprint first, then the values (`transform::rules::RulesInForce::values`).
fn rules_json(data: &ReportData) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("fingerprint".into(), data.rules.fingerprint().into());
    if let serde_json::Value::Object(values) = data.rules.values() {
        object.extend(values);
    }
    serde_json::Value::Object(object)
}

const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%:z";

/// Renders the report as pretty-printed JSON.
pub fn render(data: &ReportData) -> String {
    let doc = ReportJson {
        period: PeriodJson {
            kind: data.period.kind,
            start: data.period.start.to_string(),
            end: data.period.end.to_string(),
            timezone: &data.rules.timezone,
        },
        totals: &data.totals,
        previous: &data.previous,
        daily: data.daily.iter().map(|(d, k)| DayJson { date: d.to_string(), kpis: k }).collect(),
        generated_at: data.generated_at.format(TIME_FORMAT).to_string(),
        data_through: data.data_through.map(|t| t.format(TIME_FORMAT).to_string()),
        rules: rules_json(data),
        warnings: &data.warnings,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
