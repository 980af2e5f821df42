//! The alert rules of `itstat check` and the staleness warnings of reports (docs/alerts.md).
//!
//! Pure functions from facts the warehouse holds (the ingest runs, a day's KPIs, the day's
//! busiest user key, Dify's newest message) and the thresholds of `[alerts]` to what fires.
//! What a team's robot then does with it — quiet hours ([`calendar`]), `for`, inhibition,
//! silences, episodes, resolved notices and grouping ([`episodes`]) — is decided here too.
//! Wording belongs to the renderers (`crate::notify::text`); this module decides only
//! *whether*, *when* and *with what numbers*.

pub mod calendar;
pub mod episodes;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::time::Duration;

use self::calendar::Calendar;
use super::kpi::{Kpis, rate};

/// The thresholds of `[alerts]`. An unset rate threshold turns its alert off.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// `stale_ingest`: the longest a successful ingest may be ago.
    pub stale_after: Duration,
    /// `one_user_key`: the largest share of a day's messages one user key may hold…
    pub max_user_share: f64,
    /// …judged only on days with at least this many messages.
    pub min_messages: i64,
    pub min_kb_hit_rate: Option<f64>,
    pub max_transfer_rate: Option<f64>,
    pub max_error_rate: Option<f64>,
    /// `no_traffic`: the longest stretch of working time without a new message; unset = off.
    pub max_silence: Option<Duration>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            stale_after: Duration::from_secs(2 * 3600),
            max_user_share: 0.5,
            min_messages: 50,
            min_kb_hit_rate: None,
            max_transfer_rate: None,
            max_error_rate: None,
            max_silence: None,
        }
    }
}

/// What an alert is about; the JSON `kind`, named as docs/alerts.md names it. The order is
/// the order of a group within one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    StaleIngest,
    NoTraffic,
    ErrorRateHigh,
    OneUserKey,
    KbHitRateLow,
    TransferRateHigh,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 6] = [
        AlertKind::StaleIngest,
        AlertKind::NoTraffic,
        AlertKind::ErrorRateHigh,
        AlertKind::OneUserKey,
        AlertKind::KbHitRateLow,
        AlertKind::TransferRateHigh,
    ];

    /// The name in the JSON, the delivery log and the episode table.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::StaleIngest => "stale_ingest",
            AlertKind::NoTraffic => "no_traffic",
            AlertKind::OneUserKey => "one_user_key",
            AlertKind::KbHitRateLow => "kb_hit_rate_low",
            AlertKind::TransferRateHigh => "transfer_rate_high",
            AlertKind::ErrorRateHigh => "error_rate_high",
        }
    }

    /// The kind of a name, as [`AlertKind::as_str`] writes it.
    pub fn parse(name: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// How urgent alerts of this kind are: the same for every alert of a kind.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::StaleIngest | AlertKind::NoTraffic | AlertKind::ErrorRateHigh => Severity::Critical,
            AlertKind::OneUserKey | AlertKind::KbHitRateLow | AlertKind::TransferRateHigh => {
                Severity::Warning
            }
        }
    }

    /// Whether the alert is computed from the warehouse's data, and so means nothing while
    /// `stale_ingest` fires (it is inhibited then).
    pub fn from_data(self) -> bool {
        self != AlertKind::StaleIngest
    }

    /// Whether `[alerts] for` applies: the KPI conditions of a day. `stale_ingest` and
    /// `no_traffic` carry their own wait (`stale_after`, `max_silence`).
    pub fn waits_for(self) -> bool {
        matches!(
            self,
            AlertKind::OneUserKey
                | AlertKind::KbHitRateLow
                | AlertKind::TransferRateHigh
                | AlertKind::ErrorRateHigh
        )
    }
}

/// How urgent an alert is: `critical` means the numbers themselves cannot be trusted (no
/// fresh data, the bot failing); `warning` means they can, and say something is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
}

/// The ingest history `stale_ingest` and the report warnings judge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestHealth {
    /// When the last successful ingest started and finished (naive UTC).
    pub last_success: Option<(NaiveDateTime, NaiveDateTime)>,
    /// Finished runs since then that failed (`failed` or `aborted`), newest first counted.
    pub failures: i64,
    /// The newest failed run's error, already masked.
    pub last_error: Option<String>,
    /// Whether a warehouse exists at all.
    pub warehouse_exists: bool,
}

/// One finished ingest run that read data (a reclassify reads none), newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFact {
    /// Whether it ended `ok`.
    pub succeeded: bool,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// Its error, masked.
    pub error: Option<String>,
}

impl IngestHealth {
    /// The health of a warehouse whose finished runs are `runs`, newest first: the newest
    /// success, and the failures after it.
    pub fn from_runs(runs: impl IntoIterator<Item = RunFact>) -> IngestHealth {
        let mut health = IngestHealth { warehouse_exists: true, ..IngestHealth::default() };
        for run in runs {
            if run.succeeded {
                health.last_success = Some((run.started_at, run.finished_at.unwrap_or(run.started_at)));
                break;
            }
            health.failures += 1;
            if health.last_error.is_none() {
                health.last_error = run.error;
            }
        }
        health
    }
}

/// Why `stale_ingest` fired.
#[derive(Debug, Clone, PartialEq)]
pub enum Staleness {
    /// No ingest ever succeeded (or there is no warehouse).
    Never,
    /// The last runs failed (at least one since the last success).
    Failing { failures: i64, last_error: Option<String>, since_success: Option<Duration> },
    /// The last success is older than `stale_after`.
    Old { since_success: Duration },
}

/// The facts of the day `check` looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct DayFacts {
    pub date: NaiveDate,
    pub kpis: Kpis,
    /// The user key with the most included messages that day, and its count.
    pub top_user: Option<(String, i64)>,
}

/// One alert that fires, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub kind: AlertKind,
    pub severity: Severity,
    /// The measured value (a rate, a share, or hours since the last success).
    pub value: Option<f64>,
    /// The threshold it crossed.
    pub threshold: Option<f64>,
    /// The day judged (`None` for `stale_ingest`, which is about now).
    pub date: Option<NaiveDate>,
    /// What the alert is about beyond its kind: the user key of `one_user_key`.
    pub subject: Option<String>,
    /// The details of `stale_ingest`.
    pub staleness: Option<Staleness>,
    /// The counts behind a rate: (numerator, denominator).
    pub counts: Option<(i64, i64)>,
    /// The details of `no_traffic`.
    pub silent: Option<Silent>,
}

/// Why `no_traffic` fired: the newest message and the read that saw it, in local time.
#[derive(Debug, Clone, PartialEq)]
pub struct Silent {
    /// Dify's newest included message, local wall-clock time.
    pub newest_local: NaiveDateTime,
    /// When the last successful ingest read Dify, local wall-clock time.
    pub read_local: NaiveDateTime,
    /// The working time between the two.
    pub working: Duration,
}

/// What `no_traffic` judges: Dify's newest included message as the last successful ingest
/// saw it (both naive UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrafficFacts {
    /// The newest `created_at` of an included message in the warehouse.
    pub newest: Option<NaiveDateTime>,
    /// When the newest successful ingest started reading.
    pub read_at: Option<NaiveDateTime>,
}

impl Firing {
    fn new(kind: AlertKind, severity: Severity) -> Firing {
        Firing {
            kind,
            severity,
            value: None,
            threshold: None,
            date: None,
            subject: None,
            staleness: None,
            counts: None,
            silent: None,
        }
    }

    /// The episode key: an alert of the same kind about the same subject that keeps firing is
    /// one episode (docs/alerts.md, "Notifications").
    pub fn subject_key(&self) -> &str {
        self.subject.as_deref().unwrap_or("")
    }
}

/// `no_traffic`: no new included message for more than `max_silence` of working time, from
/// the newest message to the last successful read of Dify. Off when `max_silence` is unset;
/// quiet while the warehouse holds no message at all (`stale_ingest` speaks for an ingest that
/// never ran).
pub fn no_traffic(traffic: &TrafficFacts, t: &Thresholds, calendar: &Calendar) -> Option<Firing> {
    let max = t.max_silence?;
    let (newest, read_at) = (traffic.newest?, traffic.read_at?);
    let working = calendar.working_time(newest, read_at);
    if working <= max {
        return None;
    }
    let mut f = Firing::new(AlertKind::NoTraffic, Severity::Critical);
    f.value = Some(working.as_secs_f64() / 3600.0);
    f.threshold = Some(max.as_secs_f64() / 3600.0);
    f.silent =
        Some(Silent { newest_local: calendar.local(newest), read_local: calendar.local(read_at), working });
    Some(f)
}

/// `errors / messages` of a day: the share of bot messages that ended in an error.
pub fn error_rate(kpis: &Kpis) -> Option<f64> {
    rate(kpis.errors, kpis.messages)
}

/// Whether the ingest is stale at `now` (naive UTC), and why.
pub fn staleness(health: &IngestHealth, now: NaiveDateTime, stale_after: Duration) -> Option<Staleness> {
    let Some((_, finished)) = health.last_success.filter(|_| health.warehouse_exists) else {
        return Some(Staleness::Never);
    };
    let since = (now - finished).to_std().unwrap_or(Duration::ZERO);
    if health.failures > 0 {
        return Some(Staleness::Failing {
            failures: health.failures,
            last_error: health.last_error.clone(),
            since_success: Some(since),
        });
    }
    (since > stale_after).then_some(Staleness::Old { since_success: since })
}

/// Every alert that fires: `stale_ingest` about now, the others about `day`.
pub fn evaluate(
    health: &IngestHealth,
    now: NaiveDateTime,
    day: Option<&DayFacts>,
    t: &Thresholds,
) -> Vec<Firing> {
    let mut out = Vec::new();
    if let Some(why) = staleness(health, now, t.stale_after) {
        let mut f = Firing::new(AlertKind::StaleIngest, Severity::Critical);
        f.threshold = Some(t.stale_after.as_secs_f64() / 3600.0);
        f.value = match &why {
            Staleness::Never => None,
            Staleness::Failing { since_success, .. } => since_success.map(|d| d.as_secs_f64() / 3600.0),
            Staleness::Old { since_success } => Some(since_success.as_secs_f64() / 3600.0),
        };
        f.staleness = Some(why);
        out.push(f);
    }
    if let Some(day) = day {
        out.extend(day_alerts(day, t));
    }
    out
}

/// The alerts about one day's numbers.
fn day_alerts(day: &DayFacts, t: &Thresholds) -> Vec<Firing> {
    let k = &day.kpis;
    let mut out = Vec::new();
    let on_day = |mut f: Firing, value: f64, threshold: f64, counts: (i64, i64)| {
        f.date = Some(day.date);
        f.value = Some(value);
        f.threshold = Some(threshold);
        f.counts = Some(counts);
        f
    };
    if let Some((key, n)) = &day.top_user
        && k.messages >= t.min_messages
        && k.messages > 0
    {
        let share = *n as f64 / k.messages as f64;
        if share > t.max_user_share {
            let mut f = on_day(
                Firing::new(AlertKind::OneUserKey, Severity::Warning),
                share,
                t.max_user_share,
                (*n, k.messages),
            );
            f.subject = Some(key.clone());
            out.push(f);
        }
    }
    if let (Some(min), Some(value)) = (t.min_kb_hit_rate, k.kb_hit_rate)
        && value < min
    {
        let f = Firing::new(AlertKind::KbHitRateLow, Severity::Warning);
        out.push(on_day(f, value, min, (k.kb_hits, k.answered)));
    }
    if let (Some(max), Some(value)) = (t.max_transfer_rate, k.transfer_rate)
        && value > max
    {
        let f = Firing::new(AlertKind::TransferRateHigh, Severity::Warning);
        out.push(on_day(f, value, max, (k.transfer_sessions, k.sessions)));
    }
    if let (Some(max), Some(value)) = (t.max_error_rate, error_rate(k))
        && value > max
    {
        let f = Firing::new(AlertKind::ErrorRateHigh, Severity::Critical);
        out.push(on_day(f, value, max, (k.errors, k.messages)));
    }
    out
}

/// Why a report's numbers may be incomplete (the JSON `warnings`, docs/alerts.md).
#[derive(Debug, Clone, PartialEq)]
pub enum DataWarning {
    /// The ingest is stale (see [`staleness`]).
    Stale(Staleness),
    /// The period ends after the data was last read in full: the last successful ingest
    /// started before the period's end (`period_end`, naive UTC).
    PeriodNotCovered { read_at: Option<NaiveDateTime> },
}

impl DataWarning {
    /// The JSON `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            DataWarning::Stale(_) => "stale_ingest",
            DataWarning::PeriodNotCovered { .. } => "period_not_covered",
        }
    }
}

/// The warnings of a report of a period ending at `period_end` (naive UTC, exclusive).
pub fn data_warnings(
    health: &IngestHealth,
    now: NaiveDateTime,
    period_end: NaiveDateTime,
    stale_after: Duration,
) -> Vec<DataWarning> {
    let mut out = Vec::new();
    if let Some(why) = staleness(health, now, stale_after) {
        out.push(DataWarning::Stale(why));
    }
    let read_at = health.last_success.map(|(started, _)| started);
    // Data read from Dify before the period ended cannot hold all of it. (Not "the newest
    // message is older than the end": a quiet evening is not missing data.)
    if health.warehouse_exists && read_at.is_none_or(|r| r < period_end) {
        out.push(DataWarning::PeriodNotCovered { read_at });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    fn healthy(finished: NaiveDateTime) -> IngestHealth {
        IngestHealth {
            last_success: Some((finished - chrono::Duration::minutes(1), finished)),
            failures: 0,
            last_error: None,
            warehouse_exists: true,
        }
    }

    fn day(messages: i64, top: i64) -> DayFacts {
        let kpis = Kpis { messages, answered: messages, ..Kpis::default() };
        DayFacts {
            date: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            kpis,
            top_user: Some(("u1".into(), top)),
        }
    }

    fn kinds(f: &[Firing]) -> Vec<AlertKind> {
        f.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn health_counts_the_failures_after_the_newest_success() {
        let run = |succeeded: bool, h: u32, error: Option<&str>| RunFact {
            succeeded,
            started_at: at(h, 0),
            finished_at: Some(at(h, 1)),
            error: error.map(String::from),
        };
        let h = IngestHealth::from_runs([
            run(false, 12, Some("newest")),
            run(false, 11, Some("older")),
            run(true, 10, None),
            run(false, 9, Some("before the success")),
        ]);
        assert_eq!(h.failures, 2);
        assert_eq!(h.last_error.as_deref(), Some("newest"));
        assert_eq!(h.last_success, Some((at(10, 0), at(10, 1))));
        assert!(h.warehouse_exists);
    }

    #[test]
    fn a_fresh_successful_ingest_is_quiet_and_an_old_one_fires() {
        let t = Thresholds::default();
        assert!(evaluate(&healthy(at(9, 0)), at(10, 59), None, &t).is_empty());
        let fired = evaluate(&healthy(at(9, 0)), at(11, 1), None, &t);
        assert_eq!(kinds(&fired), [AlertKind::StaleIngest]);
        assert!(matches!(fired[0].staleness, Some(Staleness::Old { .. })));
        assert!((fired[0].value.unwrap() - 2.0167).abs() < 0.001);
        assert_eq!(fired[0].threshold, Some(2.0));
    }

    #[test]
    fn failed_runs_since_the_last_success_fire_at_once_with_their_count() {
        let mut h = healthy(at(9, 0));
        h.failures = 3;
        h.last_error = Some("Dify unreachable".into());
        let fired = evaluate(&h, at(9, 30), None, &Thresholds::default());
        assert_eq!(
            fired[0].staleness,
            Some(Staleness::Failing {
                failures: 3,
                last_error: Some("Dify unreachable".into()),
                since_success: Some(Duration::from_secs(1800))
            })
        );
    }

    #[test]
    fn no_warehouse_or_no_success_is_never() {
        let t = Thresholds::default();
        let none = IngestHealth::default();
        assert_eq!(evaluate(&none, at(9, 0), None, &t)[0].staleness, Some(Staleness::Never));
        let failed_only = IngestHealth { failures: 2, warehouse_exists: true, ..IngestHealth::default() };
        assert_eq!(evaluate(&failed_only, at(9, 0), None, &t)[0].staleness, Some(Staleness::Never));
    }

    #[test]
    fn one_user_key_needs_more_than_the_share_and_enough_messages() {
        let t = Thresholds::default();
        let h = healthy(at(9, 0));
        assert!(evaluate(&h, at(9, 1), Some(&day(100, 50)), &t).is_empty(), "exactly half is allowed");
        let fired = evaluate(&h, at(9, 1), Some(&day(100, 51)), &t);
        assert_eq!(kinds(&fired), [AlertKind::OneUserKey]);
        assert_eq!((fired[0].value, fired[0].subject.as_deref()), (Some(0.51), Some("u1")));
        assert_eq!(fired[0].counts, Some((51, 100)));
        assert!(evaluate(&h, at(9, 1), Some(&day(49, 49)), &t).is_empty(), "below min_messages");
    }

    #[test]
    fn rate_alerts_run_only_when_their_threshold_is_set_and_never_on_a_null_rate() {
        let h = healthy(at(9, 0));
        let mut d = day(10, 1);
        d.kpis.kb_hits = 5;
        d.kpis.kb_hit_rate = Some(0.5);
        d.kpis.errors = 2;
        d.kpis.transfer_rate = None;
        assert!(evaluate(&h, at(9, 1), Some(&d), &Thresholds::default()).is_empty());
        let t = Thresholds {
            min_kb_hit_rate: Some(0.6),
            max_transfer_rate: Some(0.0),
            max_error_rate: Some(0.1),
            ..Thresholds::default()
        };
        let fired = evaluate(&h, at(9, 1), Some(&d), &t);
        assert_eq!(kinds(&fired), [AlertKind::KbHitRateLow, AlertKind::ErrorRateHigh]);
        assert_eq!(fired[0].counts, Some((5, 10)));
        assert_eq!((fired[1].value, fired[1].severity), (Some(0.2), Severity::Critical));
        let at_threshold = Thresholds { min_kb_hit_rate: Some(0.5), max_error_rate: Some(0.2), ..t };
        assert!(
            evaluate(&h, at(9, 1), Some(&d), &at_threshold).is_empty(),
            "a rate at its threshold is allowed"
        );
    }

    #[test]
    fn no_traffic_counts_the_working_time_without_a_message() {
        let calendar = Calendar::new(chrono_tz::Asia::Shanghai);
        let t = Thresholds { max_silence: Some(Duration::from_secs(2 * 3600)), ..Thresholds::default() };
        // 2026-12-03: newest message at 09:00 local (01:00 UTC).
        let traffic = |read_h: u32, read_m: u32| TrafficFacts {
            newest: Some(at(1, 0)),
            read_at: Some(at(read_h, read_m)),
        };
        let fired = no_traffic(&traffic(3, 30), &t, &calendar).expect("2.5 h of working time");
        assert_eq!((fired.kind, fired.severity), (AlertKind::NoTraffic, Severity::Critical));
        assert_eq!((fired.value, fired.threshold), (Some(2.5), Some(2.0)));
        let silent = fired.silent.unwrap();
        assert_eq!((silent.newest_local, silent.read_local), (at(9, 0), at(11, 30)));
        assert!(no_traffic(&traffic(3, 0), &t, &calendar).is_none(), "exactly max_silence is allowed");
        assert!(no_traffic(&traffic(3, 30), &Thresholds::default(), &calendar).is_none(), "off by default");
        assert!(
            no_traffic(&TrafficFacts { newest: None, read_at: Some(at(3, 30)) }, &t, &calendar).is_none()
        );
        // 17:00 local to 09:00 the next morning: 1 h + 0.5 h of working time.
        let night =
            TrafficFacts { newest: Some(at(9, 0)), read_at: Some(at(1, 0) + chrono::Duration::days(1)) };
        assert!(no_traffic(&night, &t, &calendar).is_none());
    }

    #[test]
    fn a_report_warns_when_the_period_ends_after_the_last_successful_read() {
        let end = at(16, 0);
        let stale = Duration::from_secs(7200);
        assert!(data_warnings(&healthy(at(16, 5)), at(16, 10), end, stale).is_empty());
        let early = healthy(at(15, 50));
        assert_eq!(
            data_warnings(&early, at(16, 10), end, stale),
            [DataWarning::PeriodNotCovered { read_at: Some(at(15, 49)) }]
        );
        let mut failing = healthy(at(16, 5));
        failing.failures = 1;
        assert_eq!(data_warnings(&failing, at(16, 10), end, stale)[0].kind(), "stale_ingest");
    }
}
