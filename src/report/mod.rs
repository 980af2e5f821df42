//! Report: the KPIs of a period, gathered once, rendered in each format.
//!
//! [`build`] loads the period and its previous period from the warehouse and computes every
//! number with `transform::kpi`; renderers ([`json`]) only format what it computed, so
//! the formats can never disagree.

pub mod chart;
pub mod detail;
pub mod email;
pub mod format;
pub mod json;
pub mod labels;
pub mod markdown;
pub mod warnings;
pub mod xlsx;

use anyhow::Context;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::calendar::Period;
use crate::transform::RulesInForce;
use crate::transform::kpi::{self, Kpis};
use crate::warehouse::Warehouse;
use detail::ReportDetail;

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
    /// The days the mail's trend chart shows (`chart`): the period's days, or for a one-day
    /// period the [`TREND_DAYS`] ending on it, since one point shows no trend.
    pub trend: Vec<(NaiveDate, Kpis)>,
    pub generated_at: DateTime<Tz>,
    /// The newest Dify message stored, local time.
    pub data_through: Option<DateTime<Tz>>,
    /// Why the numbers may be incomplete (`warnings::gather`); empty when they are not.
    pub warnings: Vec<warnings::ReportWarning>,
    /// The knowledge gaps (`crate::topics::gaps::find`), when computed.
    pub gaps: Option<crate::topics::gaps::Gaps>,
    /// The topics of the period (`crate::topics::period::find`), when computed.
    pub topics: Option<crate::topics::period::Topics>,
}

/// How many days the trend chart of a one-day period shows, ending on that day.
pub const TREND_DAYS: u64 = 14;

/// The first day of the trend chart: the period's start, or [`TREND_DAYS`] back for a
/// one-day period (as far as the calendar goes).
fn trend_start(period: &Period) -> NaiveDate {
    if period.start != period.end {
        return period.start;
    }
    period.end.checked_sub_days(Days::new(TREND_DAYS - 1)).unwrap_or(period.start)
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
    let trend_from = trend_start(&period);
    // Sessions are stored with their start date, so loading more days changes no number of
    // the period: each is computed for its own dates (docs/metrics.md §3).
    let load_from = previous_period.start.min(trend_from);
    let messages = wh.report_messages(load_from, period.end).await?;
    let entries = wh.report_entries(load_from, period.end).await?;
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
    let (totals, previous, daily, trend, detail) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let messages = kpi::prepare(messages)?;
            let totals = kpi::compute(&messages, &entries, period.start, period.end)?;
            let previous = kpi::compute(&messages, &entries, previous_period.start, previous_period.end)?;
            let per_day = |days: Period| {
                days.days()
                    .map(|d| Ok((d, kpi::compute(&messages, &entries, d, d)?)))
                    .collect::<anyhow::Result<Vec<_>>>()
            };
            let daily = per_day(period)?;
            let trend_period = Period { start: trend_from, ..period };
            let trend = if trend_period == period { daily.clone() } else { per_day(trend_period)? };
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
            Ok((totals, previous, daily, trend, detail))
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
        trend,
        generated_at: crate::clock::now().with_timezone(&tz),
        data_through: newest.map(|t| local(tz, t)),
        warnings: Vec::new(),
        gaps: None,
        topics: None,
    };
    Ok((data, detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::PeriodKind;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    #[test]
    fn a_day_trend_shows_the_fortnight_ending_on_it_and_longer_periods_their_own_days() {
        let day = Period::containing(PeriodKind::Day, date(2026, 11, 22));
        assert_eq!(trend_start(&day), date(2026, 11, 9), "14 days: 9th to 22nd");
        let custom_day = Period { kind: PeriodKind::Custom, start: date(2026, 3, 5), end: date(2026, 3, 5) };
        assert_eq!(trend_start(&custom_day), date(2026, 2, 20), "one day is one day, however asked for");
        let week = Period::containing(PeriodKind::Week, date(2026, 11, 18));
        assert_eq!(trend_start(&week), week.start);
        let month = Period::containing(PeriodKind::Month, date(2026, 11, 18));
        assert_eq!(trend_start(&month), month.start);
        // The first day the calendar has: no fortnight before it, and no panic.
        let first = Period { kind: PeriodKind::Day, start: NaiveDate::MIN, end: NaiveDate::MIN };
        assert_eq!(trend_start(&first), NaiveDate::MIN);
    }
}
