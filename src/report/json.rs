//! The JSON object of docs/metrics.md §7, with `rules`: the rules in force the numbers were
//! computed under (their values and fingerprint, §8), and `warnings`: why they may be
//! incomplete (docs/alerts.md).

use serde::Serialize;

use super::ReportData;
use crate::transform::kpi::Kpis;

#[derive(Serialize)]
struct PeriodJson<'a> {
    kind: crate::calendar::PeriodKind,
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
    /// The knowledge gaps, largest first (docs/gaps.md); absent when not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    gaps: Option<Vec<GapJson<'a>>>,
    /// `meaning` or `wording`.
    #[serde(skip_serializing_if = "Option::is_none")]
    gaps_grouped_by: Option<&'static str>,
    /// Every topic with a message in the period, largest first (docs/topics.md, numbers as
    /// docs/metrics.md §9); absent when not computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    topics: Option<&'a [crate::transform::topics::TopicKpis]>,
}

#[derive(Serialize)]
struct GapJson<'a> {
    /// The topic whose unanswered part the gap is (docs/gaps.md).
    topic: i64,
    title: &'a str,
    count: i64,
    users: i64,
    first_seen: String,
    last_seen: String,
    new: bool,
    examples: &'a [String],
    message_ids: &'a [String],
}

/// A local wall-clock time with its offset (`2026-11-02T09:00:00+08:00`); a time a DST change
/// skipped is shown without one.
pub fn local_time(tz: chrono_tz::Tz, t: chrono::NaiveDateTime) -> String {
    chrono::TimeZone::from_local_datetime(&tz, &t)
        .earliest()
        .map(|l| l.format(TIME_FORMAT).to_string())
        .unwrap_or_else(|| t.format("%Y-%m-%dT%H:%M:%S").to_string())
}

fn gaps_json(data: &ReportData) -> Option<Vec<GapJson<'_>>> {
    let tz = data.rules.tz;
    let at = |t: chrono::NaiveDateTime| local_time(tz, t);
    let gaps = data.gaps.as_ref()?;
    Some(
        gaps.groups
            .iter()
            .map(|g| GapJson {
                topic: g.topic,
                title: &g.title,
                count: g.count,
                users: g.users,
                first_seen: at(g.first_seen),
                last_seen: at(g.last_seen),
                new: g.new,
                examples: &g.examples,
                message_ids: &g.message_ids,
            })
            .collect(),
    )
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
        gaps: gaps_json(data),
        gaps_grouped_by: data.gaps.as_ref().map(|g| g.grouped_by),
        topics: data.topics.as_ref().map(|t| t.topics.as_slice()),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
