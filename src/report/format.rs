//! Values and changes in words, shared by the Markdown summary, the email and the WeCom
//! summary.

use super::ReportData;
use super::labels::{KpiKind, KpiLabel};
use crate::calendar::Lang;
use crate::transform::kpi::Kpis;

/// How many topics the summaries (mail, Markdown, WeCom) show (docs/topics.md).
pub const TOP_TOPICS: usize = 5;

/// One of the period's largest topics as a summary shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopTopic {
    pub title: String,
    /// Messages of the period.
    pub count: i64,
    /// Against the previous period: `+12`, `-3`, `+0`; or `新`/`new` for a topic with no
    /// message before the period.
    pub change: String,
    /// The knowledge-base hit rate as a percent, `–` when nothing was answered.
    pub hit_rate: String,
}

/// The [`TOP_TOPICS`] largest topics of the report, largest first; empty when topics were not
/// computed or the period has none.
pub fn top_topics(data: &ReportData, lang: Lang) -> Vec<TopTopic> {
    let Some(topics) = &data.topics else { return Vec::new() };
    topics
        .topics
        .iter()
        .take(TOP_TOPICS)
        .map(|t| TopTopic {
            title: t.title.clone(),
            count: t.count,
            change: if t.new {
                lang.pick("新", "new").to_string()
            } else {
                format!("{:+}", t.count - t.previous_count)
            },
            hit_rate: value_text(KpiKind::Rate, t.kb_hit_rate),
        })
        .collect()
}

/// A KPI's value as a number, by key (`None` for a null rate or latency).
pub fn value(kpis: &Kpis, key: &str) -> Option<f64> {
    serde_json::to_value(kpis).ok()?.get(key)?.as_f64()
}

/// A value as text: counts as integers, rates as percents, seconds with two decimals.
pub fn value_text(kind: KpiKind, v: Option<f64>) -> String {
    match (kind, v) {
        (_, None) => "–".to_string(),
        (KpiKind::Count, Some(v)) => format!("{}", v as i64),
        (KpiKind::Rate, Some(v)) => format!("{:.1}%", v * 100.0),
        (KpiKind::Seconds, Some(v)) => format!("{v:.2}"),
    }
}

/// The change from the previous period: an arrow and the difference (percentage points for
/// rates); empty when either side is missing.
pub fn change_text(kind: KpiKind, current: Option<f64>, previous: Option<f64>, lang: Lang) -> String {
    let (Some(c), Some(p)) = (current, previous) else { return String::new() };
    let diff = c - p;
    let arrow = if diff > 0.0 {
        "▲"
    } else if diff < 0.0 {
        "▼"
    } else {
        "–"
    };
    let amount = match kind {
        KpiKind::Count => format!("{}", diff.abs() as i64),
        KpiKind::Rate => format!("{:.1} {}", diff.abs() * 100.0, lang.pick("个百分点", "pp")),
        KpiKind::Seconds => format!("{:.2}", diff.abs()),
    };
    if diff == 0.0 { arrow.to_string() } else { format!("{arrow} {amount}") }
}

/// One row of a KPI table: label, this period, previous period, change.
pub fn kpi_row(label: &KpiLabel, totals: &Kpis, previous: &Kpis, lang: Lang) -> [String; 4] {
    let (c, p) = (value(totals, label.key), value(previous, label.key));
    [
        label.name(lang).to_string(),
        value_text(label.kind, c),
        value_text(label.kind, p),
        change_text(label.kind, c, p, lang),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_changes() {
        assert_eq!(value_text(KpiKind::Rate, Some(0.8254)), "82.5%");
        assert_eq!(value_text(KpiKind::Rate, None), "–");
        assert_eq!(change_text(KpiKind::Count, Some(120.0), Some(100.0), Lang::En), "▲ 20");
        assert_eq!(change_text(KpiKind::Rate, Some(0.5), Some(0.75), Lang::En), "▼ 25.0 pp");
        assert_eq!(change_text(KpiKind::Rate, Some(0.5), None, Lang::En), "");
        assert_eq!(change_text(KpiKind::Count, Some(3.0), Some(3.0), Lang::Zh), "–");
    }
}
