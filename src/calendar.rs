//! The calendar: report periods (docs/metrics.md §6) — day, ISO week, calendar month, or
//! custom dates — and the label language. The bottom of the house: `cli`, `config`, `schedule`,
//! the pipeline and the reports all speak of periods, so the types live below all of them.
//!
//! All dates are local to the configured time zone. A period is resolved once from the flags
//! and knows its previous period, its days and its file-name label.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::bail_user;
use crate::error::user_error;

/// The kind of period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    /// One local calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// `--from A --to B`, both dates included.
    Custom,
}

/// The label language of reports: `[report] lang`, and the value of `report --lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese.
    Zh,
    /// English.
    En,
}

/// The longest custom period, in days. Every day of a period (and of the previous one) gets
/// its own KPI row, so the work grows with the length: three years take a few seconds,
/// `--from 0001-01-01 --to 9999-12-31` would run for hours in a cron job nobody watches.
pub const MAX_CUSTOM_DAYS: i64 = 1096;

/// A period of whole local dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Parses a `YYYY-MM-DD` date; an impossible date such as `2026-02-30` is an error naming
/// the flag.
pub fn parse_date(text: &str, flag: &str) -> anyhow::Result<NaiveDate> {
    let well_formed = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) if well_formed => Ok(date),
        _ => Err(user_error(format!("`{flag}`: \"{text}\" is not a date (use YYYY-MM-DD, e.g. 2026-11-02)"))),
    }
}

/// The UTC instant (naive) of a local date's midnight.
pub fn local_midnight_utc(tz: Tz, date: NaiveDate) -> NaiveDateTime {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    // A DST gap at midnight (some zones) moves the start to the first valid instant.
    tz.from_local_datetime(&midnight)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(midnight + chrono::Duration::hours(1))).earliest())
        .map(|t| t.naive_utc())
        .unwrap_or(midnight)
}

impl Period {
    /// The period of `kind` that contains `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Period {
        match kind {
            PeriodKind::Day | PeriodKind::Custom => Period { kind, start: date, end: date },
            PeriodKind::Week => {
                let start = date - Days::new(date.weekday().num_days_from_monday() as u64);
                Period { kind, start, end: start + Days::new(6) }
            }
            PeriodKind::Month => {
                let start = date.with_day(1).expect("day 1 exists");
                let end = start + Months::new(1) - Days::new(1);
                Period { kind, start, end }
            }
        }
    }

    /// Resolves the flags: `--date` picks the period holding that date, `--from/--to` a
    /// custom one, and nothing the last complete period before `today`.
    pub fn resolve(
        kind: PeriodKind,
        date: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> anyhow::Result<Period> {
        if kind == PeriodKind::Custom || from.is_some() || to.is_some() {
            let (Some(from), Some(to)) = (from, to) else {
                bail_user!("a custom period needs both `--from DATE` and `--to DATE`");
            };
            let (start, end) = (parse_date(from, "--from")?, parse_date(to, "--to")?);
            if start > end {
                bail_user!("`--from` {start} is after `--to` {end}; swap them");
            }
            let days = (end - start).num_days() + 1;
            if days > MAX_CUSTOM_DAYS {
                bail_user!(
                    "`--from` {start} to `--to` {end} spans {days} days; a custom period is at most {MAX_CUSTOM_DAYS} days (3 years): report it in parts, or query the warehouse"
                );
            }
            return Ok(Period { kind: PeriodKind::Custom, start, end });
        }
        match date {
            Some(d) => Ok(Period::containing(kind, parse_date(d, "--date")?)),
            None => Ok(Period::containing(kind, today).previous()),
        }
    }

    /// The period of the same kind and length just before.
    pub fn previous(&self) -> Period {
        match self.kind {
            PeriodKind::Month => Period::containing(PeriodKind::Month, self.start - Days::new(1)),
            _ => {
                let len = (self.end - self.start).num_days() as u64 + 1;
                Period { kind: self.kind, start: self.start - Days::new(len), end: self.start - Days::new(1) }
            }
        }
    }

    /// Every date of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.start.iter_days().take_while(|d| *d <= self.end)
    }

    /// The name used in file names and subjects: `2026-11-22`, `2026-W47`, `2026-11`,
    /// `2026-11-01_2026-11-07`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Day => self.start.format("%Y-%m-%d").to_string(),
            PeriodKind::Week => {
                let w = self.start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => self.start.format("%Y-%m").to_string(),
            PeriodKind::Custom => format!("{}_{}", self.start, self.end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s, "test").unwrap()
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in ["2026-02-30", "2026-13-01", "2026/11/02", "20261102", "2026-1-2"] {
            let err = parse_date(bad, "--date").unwrap_err();
            assert_eq!(crate::error::exit_code(&err), 1, "{bad}");
            assert!(err.to_string().contains(bad));
        }
    }

    #[test]
    fn weeks_are_iso_and_named_by_any_date() {
        let p = Period::resolve(PeriodKind::Week, Some("2026-11-19"), None, None, d("2026-12-01")).unwrap();
        assert_eq!((p.start, p.end), (d("2026-11-16"), d("2026-11-22")));
        assert_eq!(p.label(), "2026-W47");
        assert_eq!(p.previous().start, d("2026-11-09"));
    }

    #[test]
    fn months_and_their_previous() {
        let p = Period::resolve(PeriodKind::Month, Some("2026-03-31"), None, None, d("2026-12-01")).unwrap();
        assert_eq!((p.start, p.end), (d("2026-03-01"), d("2026-03-31")));
        assert_eq!((p.previous().start, p.previous().end), (d("2026-02-01"), d("2026-02-28")));
        assert_eq!(p.label(), "2026-03");
    }

    #[test]
    fn without_a_date_the_last_complete_period() {
        let today = d("2026-11-24");
        let day = Period::resolve(PeriodKind::Day, None, None, None, today).unwrap();
        assert_eq!(day.start, d("2026-11-23"));
        let week = Period::resolve(PeriodKind::Week, None, None, None, today).unwrap();
        assert_eq!((week.start, week.end), (d("2026-11-16"), d("2026-11-22")));
        let month = Period::resolve(PeriodKind::Month, None, None, None, today).unwrap();
        assert_eq!((month.start, month.end), (d("2026-10-01"), d("2026-10-31")));
    }

    #[test]
    fn custom_periods_and_their_previous() {
        let p = Period::resolve(
            PeriodKind::Custom,
            None,
            Some("2026-11-05"),
            Some("2026-11-07"),
            d("2026-12-01"),
        )
        .unwrap();
        assert_eq!(p.days().count(), 3);
        assert_eq!((p.previous().start, p.previous().end), (d("2026-11-02"), d("2026-11-04")));
        let err = Period::resolve(
            PeriodKind::Custom,
            None,
            Some("2026-11-07"),
            Some("2026-11-05"),
            d("2026-12-01"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("after"));
    }

    #[test]
    fn custom_periods_are_at_most_three_years() {
        let resolve =
            |from, to| Period::resolve(PeriodKind::Custom, None, Some(from), Some(to), d("2026-12-01"));
        assert_eq!(resolve("2024-01-01", "2026-12-31").unwrap().days().count(), 1096);
        let err = resolve("0001-01-01", "9999-12-31").unwrap_err();
        assert_eq!(crate::error::exit_code(&err), 1);
        assert!(err.to_string().contains("spans 3652059 days"), "{err}");
    }

    #[test]
    fn midnight_in_shanghai_is_sixteen_utc() {
        let t = local_midnight_utc(chrono_tz::Asia::Shanghai, d("2026-11-02"));
        assert_eq!(t.to_string(), "2026-11-01 16:00:00");
    }
}
