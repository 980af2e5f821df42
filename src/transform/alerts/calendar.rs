//! The alerts' calendar (docs/alerts.md, "Quiet hours" and "`no_traffic`"): when notifications
//! are held (quiet hours, quiet days, holidays) and how much working time a silence spans
//! (working hours on working days), all in the configured time zone.
//!
//! Pure functions of naive UTC instants; local wall-clock times come from chrono-tz, so a day
//! that springs forward has 23 hours and one that falls back 25. Parsing the windows' text is
//! here too, so the config and the tests agree on what `"22:00-08:00"` means.

use std::fmt;
use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;

/// Minutes in a day: the end of a window written `24:00`.
const DAY_MINUTES: u32 = 24 * 60;

/// The longest stretch [`Calendar::working_time`] looks back over: a bot silent for longer has
/// long since fired, and the loop stays bounded whatever the warehouse holds.
const MAX_DAYS_LOOKED_AT: u64 = 400;

/// A daily window of local time, written `HH:MM-HH:MM`. It crosses midnight when its end is
/// not after its start (`22:00-08:00`); `00:00-24:00` is the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    /// Minutes after local midnight where it opens (0..1440).
    start: u32,
    /// Minutes after local midnight where it closes (1..=1440); on the next day when it is
    /// not after `start`.
    end: u32,
}

impl DayWindow {
    /// Parses `HH:MM-HH:MM` (`H:MM` too; `24:00` only as an end). The error says what is wrong,
    /// for a message that also names the key.
    pub fn parse(text: &str) -> Result<DayWindow, String> {
        let shape = || {
            format!("\"{text}\" is not a time window (write HH:MM-HH:MM in local time, e.g. \"22:00-08:00\")")
        };
        let (from, to) = text.split_once('-').ok_or_else(shape)?;
        let start = minute_of_day(from.trim(), false).ok_or_else(shape)?;
        let end = minute_of_day(to.trim(), true).ok_or_else(shape)?;
        if start == end {
            return Err(format!(
                "\"{text}\" opens and closes at the same time; write \"00:00-24:00\" for a whole day"
            ));
        }
        Ok(DayWindow { start, end })
    }

    /// Whether a local time of day lies inside the window (its start included, its end not).
    pub fn contains(&self, t: NaiveTime) -> bool {
        let m = t.hour() * 60 + t.minute();
        if self.start < self.end { m >= self.start && m < self.end } else { m >= self.start || m < self.end }
    }

    /// The window that opens on the local date `day`, as local date-times (its end on the next
    /// day when it crosses midnight).
    fn on(&self, day: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let at = |date: NaiveDate, minutes: u32| {
            let (date, minutes) = if minutes >= DAY_MINUTES {
                (date + Days::new(1), minutes - DAY_MINUTES)
            } else {
                (date, minutes)
            };
            date.and_hms_opt(minutes / 60, minutes % 60, 0).expect("a valid time of day")
        };
        let end_day = if self.end <= self.start { day + Days::new(1) } else { day };
        (at(day, self.start), at(end_day, self.end))
    }
}

impl fmt::Display for DayWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

/// `H:MM` or `HH:MM` as minutes after midnight; `24:00` only when `end`.
fn minute_of_day(text: &str, end: bool) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let digits = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (h, m) = (digits(h, 2)?, digits(m, 2).filter(|_| m.len() == 2)?);
    match (h, m) {
        (24, 0) if end => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// A weekday from its English name or its three-letter abbreviation, any case.
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    let lower = text.trim().to_ascii_lowercase();
    let days = [
        ("mon", "monday", Weekday::Mon),
        ("tue", "tuesday", Weekday::Tue),
        ("wed", "wednesday", Weekday::Wed),
        ("thu", "thursday", Weekday::Thu),
        ("fri", "friday", Weekday::Fri),
        ("sat", "saturday", Weekday::Sat),
        ("sun", "sunday", Weekday::Sun),
    ];
    days.iter().find(|(short, long, _)| lower == *short || lower == *long).map(|(_, _, d)| *d)
}

/// When notifications are held and which time counts as working time (`[alerts]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    /// The configured time zone: every window is local to it.
    pub tz: Tz,
    /// Daily windows in which notifications are held.
    pub quiet_hours: Vec<DayWindow>,
    /// Whole weekdays on which notifications are held and that are not working days.
    pub quiet_days: Vec<Weekday>,
    /// Whole dates likewise.
    pub holidays: Vec<NaiveDate>,
    /// The daily window in which a silent bot counts towards `no_traffic`.
    pub working_hours: DayWindow,
}

/// The default working hours, `08:30-18:00`.
pub const DEFAULT_WORKING_HOURS: DayWindow = DayWindow { start: 8 * 60 + 30, end: 18 * 60 };

impl Calendar {
    /// A calendar with no quiet time and the default working hours.
    pub fn new(tz: Tz) -> Calendar {
        Calendar {
            tz,
            quiet_hours: Vec::new(),
            quiet_days: Vec::new(),
            holidays: Vec::new(),
            working_hours: DEFAULT_WORKING_HOURS,
        }
    }

    /// The local wall-clock time of a naive UTC instant.
    pub fn local(&self, utc: NaiveDateTime) -> NaiveDateTime {
        self.tz.from_utc_datetime(&utc).naive_local()
    }

    /// Whether a local date is a quiet day or a holiday (and so not a working day).
    pub fn is_day_off(&self, day: NaiveDate) -> bool {
        self.quiet_days.contains(&day.weekday()) || self.holidays.contains(&day)
    }

    /// Whether notifications are held at `utc`: a quiet day, a holiday, or inside quiet hours.
    pub fn is_quiet(&self, utc: NaiveDateTime) -> bool {
        let local = self.local(utc);
        self.is_day_off(local.date()) || self.quiet_hours.iter().any(|w| w.contains(local.time()))
    }

    /// When the quiet time around `utc` ends (naive UTC): the first instant after it at which
    /// [`Calendar::is_quiet`] no longer holds. `None` when `utc` is not quiet, or when every
    /// day of the next year is quiet.
    pub fn quiet_until(&self, utc: NaiveDateTime) -> Option<NaiveDateTime> {
        if !self.is_quiet(utc) {
            return None;
        }
        // Quiet time can only end at a local midnight or at the end of a quiet window.
        let first = self.local(utc).date();
        let mut candidates: Vec<NaiveDateTime> = Vec::new();
        for day in (0..=366).filter_map(|n| first.checked_add_days(Days::new(n))) {
            candidates.push(self.to_utc(day.and_hms_opt(0, 0, 0).expect("midnight")));
            for w in &self.quiet_hours {
                candidates.push(self.to_utc(w.on(day).1));
            }
        }
        candidates.sort();
        candidates.into_iter().find(|&c| c > utc && !self.is_quiet(c))
    }

    /// How much working time lies between two naive UTC instants: the parts of `[from, to)`
    /// inside working hours on working days (days that are neither quiet days nor holidays).
    pub fn working_time(&self, from: NaiveDateTime, to: NaiveDateTime) -> Duration {
        if to <= from {
            return Duration::ZERO;
        }
        let span_start = (to - chrono::Duration::days(MAX_DAYS_LOOKED_AT as i64)).max(from);
        // A window that crosses midnight may have opened the day before.
        let first = self.local(span_start).date() - Days::new(1);
        let last = self.local(to).date();
        let mut total = Duration::ZERO;
        let mut day = first;
        while day <= last {
            if !self.is_day_off(day) {
                let (open, close) = self.working_hours.on(day);
                let (open, close) = (self.to_utc(open).max(span_start), self.to_utc(close).min(to));
                total += (close - open).to_std().unwrap_or(Duration::ZERO);
            }
            day = day + Days::new(1);
        }
        total
    }

    /// The naive UTC instant of a local wall-clock time: the earlier one when the clock falls
    /// back; in a spring-forward gap, the time an hour later (as report periods do).
    fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        let found = self
            .tz
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| self.tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest());
        found.map(|t| t.naive_utc()).unwrap_or(local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    fn window(text: &str) -> DayWindow {
        DayWindow::parse(text).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn windows_parse_strictly_and_print_back() {
        assert_eq!(window("22:00-08:00").to_string(), "22:00-08:00");
        assert_eq!(window("8:30 - 18:00").to_string(), "08:30-18:00");
        assert_eq!(window("00:00-24:00").to_string(), "00:00-24:00");
        for bad in ["25:00-8", "22:00", "22:00-8", "22:60-08:00", "24:00-08:00", "a-b", "22:00-08:00-09:00"] {
            assert!(DayWindow::parse(bad).is_err(), "{bad}");
        }
        assert!(DayWindow::parse("08:00-08:00").unwrap_err().contains("same time"));
        assert!(DayWindow::parse("25:00-8").unwrap_err().contains("HH:MM-HH:MM"));
    }

    #[test]
    fn a_window_across_midnight_holds_both_sides_of_it() {
        let night = window("22:00-08:00");
        assert!(night.contains(t(22, 0)) && night.contains(t(23, 59)) && night.contains(t(0, 0)));
        assert!(night.contains(t(7, 59)));
        assert!(!night.contains(t(8, 0)) && !night.contains(t(21, 59)) && !night.contains(t(12, 0)));
        let day = window("08:30-18:00");
        assert!(day.contains(t(8, 30)) && day.contains(t(17, 59)));
        assert!(!day.contains(t(18, 0)) && !day.contains(t(8, 29)));
        assert!(window("00:00-24:00").contains(t(23, 59)));
    }

    fn shanghai_nights() -> Calendar {
        let mut c = Calendar::new(chrono_tz::Asia::Shanghai);
        c.quiet_hours = vec![window("22:00-08:00")];
        c.quiet_days = vec![Weekday::Sat, Weekday::Sun];
        c.holidays = vec![NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()];
        c
    }

    #[test]
    fn quiet_hours_days_and_holidays_are_local_to_the_zone() {
        let c = shanghai_nights();
        // 2026-11-03 is a Tuesday; Shanghai is UTC+8 all year.
        assert!(c.is_quiet(utc("2026-11-02 23:59")), "07:59 local");
        assert!(!c.is_quiet(utc("2026-11-03 00:00")), "08:00 local");
        assert!(!c.is_quiet(utc("2026-11-03 13:59")), "21:59 local");
        assert!(c.is_quiet(utc("2026-11-03 14:00")), "22:00 local");
        assert!(c.is_quiet(utc("2026-11-07 04:00")), "Saturday noon");
        assert!(c.is_quiet(utc("2026-10-01 04:00")), "a holiday");
        assert_eq!(c.quiet_until(utc("2026-11-03 15:00")), Some(utc("2026-11-04 00:00")));
        // Friday night runs into the weekend: quiet until Monday 08:00.
        assert_eq!(c.quiet_until(utc("2026-11-06 15:00")), Some(utc("2026-11-09 00:00")));
        assert_eq!(c.quiet_until(utc("2026-11-03 04:00")), None);
    }

    #[test]
    fn berlin_quiet_hours_follow_the_clock_across_daylight_saving() {
        let mut c = Calendar::new(chrono_tz::Europe::Berlin);
        c.quiet_hours = vec![window("01:00-04:00")];
        // 2026-03-29: 02:00 CET becomes 03:00 CEST. 00:30 UTC is 01:30 CET, 01:30 UTC 03:30 CEST.
        assert!(c.is_quiet(utc("2026-03-29 00:30")) && c.is_quiet(utc("2026-03-29 01:30")));
        assert!(!c.is_quiet(utc("2026-03-29 02:00")), "04:00 CEST");
        assert_eq!(c.quiet_until(utc("2026-03-29 00:30")), Some(utc("2026-03-29 02:00")));
        // A winter night: 04:00 CET is 03:00 UTC.
        assert_eq!(c.quiet_until(utc("2026-01-10 00:30")), Some(utc("2026-01-10 03:00")));
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 04:00 CET is 03:00 UTC.
        assert!(c.is_quiet(utc("2026-10-25 02:30")));
        assert_eq!(c.quiet_until(utc("2026-10-25 00:30")), Some(utc("2026-10-25 03:00")));
    }

    #[test]
    fn working_time_counts_only_working_hours_on_working_days() {
        let c = shanghai_nights();
        let hours = |from: &str, to: &str| c.working_time(utc(from), utc(to)).as_secs_f64() / 3600.0;
        // Tuesday 09:00 to 12:00 local.
        assert_eq!(hours("2026-11-03 01:00", "2026-11-03 04:00"), 3.0);
        // Tuesday 17:00 to Wednesday 09:30 local: 1 h in the evening, 1 h in the morning.
        assert_eq!(hours("2026-11-03 09:00", "2026-11-04 01:30"), 2.0);
        // Friday 17:30 to Monday 09:00 local: the weekend does not count.
        assert_eq!(hours("2026-11-06 09:30", "2026-11-09 01:00"), 1.0);
        assert_eq!(hours("2026-11-03 04:00", "2026-11-03 01:00"), 0.0);
        // A whole working week: 5 × 9.5 h.
        assert_eq!(hours("2026-11-01 16:00", "2026-11-08 16:00"), 47.5);
    }

    #[test]
    fn working_time_in_berlin_has_23_and_25_hour_days() {
        let mut c = Calendar::new(chrono_tz::Europe::Berlin);
        c.working_hours = window("00:00-24:00");
        let hours =
            |c: &Calendar, from: &str, to: &str| c.working_time(utc(from), utc(to)).as_secs_f64() / 3600.0;
        // Local midnight to local midnight: 23 h in spring, 25 h in autumn.
        assert_eq!(hours(&c, "2026-03-28 23:00", "2026-03-29 22:00"), 23.0);
        assert_eq!(hours(&c, "2026-10-24 22:00", "2026-10-25 23:00"), 25.0);
        // Night shifts across midnight: 22:00-06:00 opening on each day.
        c.working_hours = window("22:00-06:00");
        assert_eq!(hours(&c, "2026-01-10 00:00", "2026-01-11 00:00"), 8.0);
    }

    #[test]
    fn weekdays_by_name() {
        assert_eq!(parse_weekday("Sat"), Some(Weekday::Sat));
        assert_eq!(parse_weekday("sunday"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("Sa"), None);
    }
}
