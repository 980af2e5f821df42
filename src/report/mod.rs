//! Report: the KPIs of a period, gathered once, rendered in each format.
//!
//! [`build`] loads the period and its previous period from the warehouse and computes every
//! number with `transform::kpi`; renderers ([`json`]) only format what it computed, so
//! the formats can never disagree.

pub mod detail;
pub mod email;
pub mod format;
pub mod json;
pub mod labels;
pub mod markdown;
pub mod period;
pub mod warnings;
pub mod xlsx;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::transform::RulesInForce;
use crate::transform::kpi::{self, Kpis};
use crate::warehouse::Warehouse;
use detail::ReportDetail;
use period::Period;

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub period: Period,
    pub previous_period: Period,
    /// The rules in force the numbers were computed under (the JSON's `rules`, the
    /// Definitions sheet); its `timezone` is the report's.
    pub rules: RulesInForce,
    pub totals: Kpis,
    pub previous: Kpis,
    pub daily: Vec<(NaiveDate, Kpis)>,
    pub generated_at: DateTime<Tz>,
    /// The newest Dify message stored, local time.
    pub data_through: Option<DateTime<Tz>>,
    /// Why the numbers may be incomplete (`warnings::gather`); empty when they are not.
    pub warnings: Vec<warnings::ReportWarning>,
    /// The knowledge gaps (`crate::gaps::find`), when computed.
    pub gaps: Option<crate::gaps::Gaps>,
}

/// A naive UTC time in the report's time zone.
pub fn local(tz: Tz, utc: NaiveDateTime) -> DateTime<Tz> {
    tz.from_utc_datetime(&utc)
}

/// Computes the KPIs of `period` (and the detail rows when `with_detail`) from a warehouse
/// derived under `rules` (`pipeline::open_current`).
pub async fn build(
    wh: &Warehouse,
    rules: &RulesInForce,
    period: Period,
    with_detail: bool,
) -> anyhow::Result<(ReportData, Option<ReportDetail>)> {
    let tz = rules.tz;
    let previous_period = period.previous();
    let messages = wh.report_messages(previous_period.start, period.end).await?;
    let entries = wh.report_entries(previous_period.start, period.end).await?;
    let newest = wh.newest_message().await?;
    let detail_rows = if with_detail {
        Some((
            wh.detail_messages(period.start, period.end).await?,
            wh.detail_entries(period.start, period.end).await?,
            wh.detail_marks(period.start, period.end).await?,
        ))
    } else {
        None
    };
    let (totals, previous, daily, detail) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let messages = kpi::prepare(messages)?;
        let totals = kpi::compute(&messages, &entries, period.start, period.end)?;
        let previous = kpi::compute(&messages, &entries, previous_period.start, previous_period.end)?;
        let daily = period
            .days()
            .map(|d| Ok((d, kpi::compute(&messages, &entries, d, d)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let detail = match detail_rows {
            Some((messages_rows, entry_rows, mark_rows)) => Some(detail::assemble(
                tz,
                &period,
                detail::DetailInputs {
                    kpi_messages: messages,
                    kpi_entries: entries,
                    messages: messages_rows,
                    entries: entry_rows,
                    marks: mark_rows,
                },
            )?),
            None => None,
        };
        Ok((totals, previous, daily, detail))
    })
    .await
    .context("computing the KPIs")??;
    let data = ReportData {
        period,
        previous_period,
        rules: rules.clone(),
        totals,
        previous,
        daily,
        generated_at: crate::clock::now().with_timezone(&tz),
        data_through: newest.map(|t| local(tz, t)),
        warnings: Vec::new(),
        gaps: None,
    };
    Ok((data, detail))
}
