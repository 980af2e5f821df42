//! Report: the KPIs of a period, gathered once, rendered in each format.
//!
//! [`build`] loads the period and its previous period from the warehouse and computes every
//! number with `transform::kpi`; renderers ([`json`]) only format what it computed, so
//! the formats can never disagree.

pub mod detail;
pub mod json;
pub mod labels;
pub mod period;
pub mod xlsx;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::transform::kpi::{self, Kpis};
use crate::warehouse::Warehouse;
use period::Period;

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub period: Period,
    pub previous_period: Period,
    pub timezone: String,
    pub totals: Kpis,
    pub previous: Kpis,
    pub daily: Vec<(NaiveDate, Kpis)>,
    pub generated_at: DateTime<Tz>,
    /// The newest Dify message stored, local time.
    pub data_through: Option<DateTime<Tz>>,
}

/// A naive UTC time in the report's time zone.
pub fn local(tz: Tz, utc: NaiveDateTime) -> DateTime<Tz> {
    tz.from_utc_datetime(&utc)
}

/// Computes the report of `period`.
pub async fn build(wh: &Warehouse, tz: Tz, timezone: &str, period: Period) -> anyhow::Result<ReportData> {
    let previous_period = period.previous();
    let messages = wh.report_messages(previous_period.start, period.end).await?;
    let entries = wh.report_entries(previous_period.start, period.end).await?;
    let newest = wh.newest_message().await?;
    let (totals, previous, daily) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let messages = kpi::prepare(messages)?;
        let totals = kpi::compute(&messages, &entries, period.start, period.end)?;
        let previous = kpi::compute(&messages, &entries, previous_period.start, previous_period.end)?;
        let daily = period
            .days()
            .map(|d| Ok((d, kpi::compute(&messages, &entries, d, d)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((totals, previous, daily))
    })
    .await
    .context("computing the KPIs")??;
    Ok(ReportData {
        period,
        previous_period,
        timezone: timezone.to_string(),
        totals,
        previous,
        daily,
        generated_at: crate::clock::now().with_timezone(&tz),
        data_through: newest.map(|t| local(tz, t)),
    })
}
