//! The life of an alert between checks (docs/alerts.md): `for`, episodes, inhibition,
//! silences, quiet hours, what each channel is due, resolved notices, and the order of a group.
//!
//! An *episode* is one condition (an alert kind about one subject) from the check that first
//! saw it to the first check that found it gone. It is *pending* until it has held for
//! `[alerts] for` (the KPI conditions only), then *firing*. A firing alert is *inhibited*
//! while `stale_ingest` fires (if it comes from the warehouse's data), else *silenced* while a
//! silence matches it, else *muted* in quiet time, else *active*; only active alerts are sent.
//! What each recipient was told is kept per episode ([`Told`]): a firing post, a hold by quiet
//! hours, a resolved notice. Everything here is a pure function of those facts and "now"; the
//! warehouse stores them and `cmd::check` sends.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::calendar::Calendar;
use super::{AlertKind, Firing, Severity};

/// An episode as stored (`alert_episodes`).
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub id: i64,
    pub kind: AlertKind,
    /// The user key of `one_user_key`; empty for the others.
    pub subject: String,
    /// The check that first saw the condition.
    pub opened_at: NaiveDateTime,
    /// The check at which it started firing; `None` while pending.
    pub fired_at: Option<NaiveDateTime>,
    /// The latest check that saw it.
    pub last_seen_at: NaiveDateTime,
    /// The first check that found it gone; `None` while open.
    pub cleared_at: Option<NaiveDateTime>,
}

impl Episode {
    /// How long the problem lasted: from the first check that saw it to the first that did
    /// not (or to `now` while it goes on).
    pub fn lasted(&self, now: NaiveDateTime) -> Duration {
        (self.cleared_at.unwrap_or(now) - self.opened_at).to_std().unwrap_or(Duration::ZERO)
    }
}

/// A silence (`alert_silences`): alerts of a kind, about one subject or every one, are not
/// sent between its start and its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    pub id: i64,
    pub kind: AlertKind,
    /// `None`: every subject of the kind.
    pub subject: Option<String>,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub reason: String,
    pub created_by: String,
    /// When `itstat alerts expire` ended it early.
    pub expired_at: Option<NaiveDateTime>,
}

impl Silence {
    /// When it ends: its planned end, or when it was expired if that came first.
    pub fn end(&self) -> NaiveDateTime {
        self.expired_at.map_or(self.ends_at, |e| e.min(self.ends_at))
    }

    /// Whether it is in force at `now`.
    pub fn active_at(&self, now: NaiveDateTime) -> bool {
        self.starts_at <= now && now < self.end()
    }

    /// Whether it covers alerts of `kind` about `subject`.
    pub fn covers(&self, kind: AlertKind, subject: &str) -> bool {
        self.kind == kind && self.subject.as_deref().is_none_or(|s| s == subject)
    }
}

/// What a firing alert does now; only `Active` ones are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Sent (when due).
    Active,
    /// Computed from data while `stale_ingest` fires: shown, not sent.
    Inhibited,
    /// Covered by a silence: shown, not sent until the silence ends.
    Silenced,
    /// In quiet hours, on a quiet day or a holiday: held until the quiet time ends.
    Muted,
}

impl State {
    /// The JSON `state`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Inhibited => "inhibited",
            State::Silenced => "silenced",
            State::Muted => "muted",
        }
    }
}

/// Where a condition stands after this check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for `for`: it fires at `fires_at` if it still holds then.
    Pending { fires_at: NaiveDateTime },
    /// Firing, in this state; `silence` is the silence that covers it.
    Firing { state: State, silence: Option<i64> },
}

/// One condition as this check judges it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub firing: Firing,
    /// Its episode; `None` for a condition seen for the first time by a check that records
    /// nothing (`--dry-run`, no warehouse), until [`attach_new`] gives the new ones theirs.
    pub episode: Option<i64>,
    /// When the condition was first seen.
    pub since: NaiveDateTime,
    pub phase: Phase,
}

impl Judged {
    /// Whether it fires (past `for`).
    pub fn fires(&self) -> bool {
        matches!(self.phase, Phase::Firing { .. })
    }

    /// Its state, when it fires.
    pub fn state(&self) -> Option<State> {
        match self.phase {
            Phase::Firing { state, .. } => Some(state),
            Phase::Pending { .. } => None,
        }
    }
}

/// An episode a check opens.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEpisode {
    /// The index of its condition in [`Judgement::alerts`].
    pub alert: usize,
    pub kind: AlertKind,
    pub subject: String,
    /// Set when it fires at once (no `for` to wait).
    pub fired: bool,
}

/// What a check writes to `alert_episodes` (all at `now`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeChanges {
    pub open: Vec<NewEpisode>,
    /// Open episodes whose condition still holds.
    pub seen: Vec<i64>,
    /// Pending episodes that have now held for `for`.
    pub fire: Vec<i64>,
    /// Firing episodes whose condition is gone: cleared, and due a resolved notice where they
    /// were told.
    pub clear: Vec<i64>,
    /// Pending episodes whose condition went away before `for`: not news, deleted.
    pub forget: Vec<i64>,
}

/// A check's verdict on every condition, and the episode changes it implies.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Every condition that holds, in evaluation order.
    pub alerts: Vec<Judged>,
    pub changes: EpisodeChanges,
}

/// The habits of `[alerts]` that [`judge`] and [`due`] apply.
#[derive(Debug, Clone, Copy)]
pub struct Habits<'a> {
    /// `for`: how long a KPI condition must hold before it fires.
    pub wait_for: Duration,
    /// An alert that keeps firing is sent again after this long.
    pub repeat: Duration,
    /// Whether ended episodes get a resolved notice.
    pub send_resolved: bool,
    pub calendar: &'a Calendar,
}

/// Judges the conditions that hold now against the open episodes and the silences.
pub fn judge(
    firings: Vec<Firing>,
    open: &[Episode],
    silences: &[Silence],
    habits: &Habits<'_>,
    now: NaiveDateTime,
) -> Judgement {
    let context = Context {
        stale: firings.iter().any(|f| f.kind == AlertKind::StaleIngest),
        quiet: habits.calendar.is_quiet(now),
        silences,
        now,
    };
    let mut changes = EpisodeChanges::default();
    let mut alerts = Vec::new();
    for (i, firing) in firings.into_iter().enumerate() {
        let stored = open.iter().find(|e| e.kind == firing.kind && e.subject == firing.subject_key());
        let since = stored.map_or(now, |e| e.opened_at);
        let fire_time = fires_at(firing.kind, since, habits.wait_for);
        let fires = stored.is_some_and(|e| e.fired_at.is_some()) || now >= fire_time;
        match stored {
            Some(e) => {
                changes.seen.push(e.id);
                if fires && e.fired_at.is_none() {
                    changes.fire.push(e.id);
                }
            }
            None => changes.open.push(NewEpisode {
                alert: i,
                kind: firing.kind,
                subject: firing.subject_key().to_string(),
                fired: fires,
            }),
        }
        let phase = phase_of(&firing.kind, firing.subject_key(), fires, fire_time, &context);
        alerts.push(Judged { firing, episode: stored.map(|e| e.id), since, phase });
    }
    for e in open {
        if !changes.seen.contains(&e.id) {
            if e.fired_at.is_some() { changes.clear.push(e.id) } else { changes.forget.push(e.id) }
        }
    }
    Judgement { alerts, changes }
}

/// What decides a firing alert's state besides the alert itself.
struct Context<'a> {
    /// Whether `stale_ingest` fires (it inhibits what comes from data).
    stale: bool,
    /// Whether it is quiet time now.
    quiet: bool,
    silences: &'a [Silence],
    now: NaiveDateTime,
}

/// When a condition first seen at `since` fires if it still holds: after `for` for the KPI
/// conditions, at once for the others.
fn fires_at(kind: AlertKind, since: NaiveDateTime, wait_for: Duration) -> NaiveDateTime {
    let wait = if kind.waits_for() { wait_for } else { Duration::ZERO };
    chrono::Duration::from_std(wait)
        .ok()
        .and_then(|w| since.checked_add_signed(w))
        .unwrap_or(NaiveDateTime::MAX)
}

/// A condition's phase: pending until `fires_at`, then firing in the first state that
/// applies — inhibited, silenced, muted, active.
fn phase_of(kind: &AlertKind, subject: &str, fires: bool, fires_at: NaiveDateTime, c: &Context<'_>) -> Phase {
    if !fires {
        return Phase::Pending { fires_at };
    }
    let silence = c.silences.iter().find(|s| s.active_at(c.now) && s.covers(*kind, subject)).map(|s| s.id);
    let state = if c.stale && kind.from_data() {
        State::Inhibited
    } else if silence.is_some() {
        State::Silenced
    } else if c.quiet {
        State::Muted
    } else {
        State::Active
    };
    Phase::Firing { state, silence }
}

/// The phase of each stored open episode as of `now`, for `itstat alerts list`: the same
/// states a check gives, from what the last check stored.
pub fn standing(
    open: &[Episode],
    silences: &[Silence],
    habits: &Habits<'_>,
    now: NaiveDateTime,
) -> Vec<Phase> {
    let context = Context {
        stale: open.iter().any(|e| e.kind == AlertKind::StaleIngest && e.fired_at.is_some()),
        quiet: habits.calendar.is_quiet(now),
        silences,
        now,
    };
    open.iter()
        .map(|e| {
            let at = fires_at(e.kind, e.opened_at, habits.wait_for);
            phase_of(&e.kind, &e.subject, e.fired_at.is_some(), at, &context)
        })
        .collect()
}

/// Gives the conditions of newly opened episodes their ids (`ids` in the order of
/// [`EpisodeChanges::open`]).
pub fn attach_new(judgement: &mut Judgement, ids: &[i64]) {
    for (new, id) in judgement.changes.open.iter().zip(ids) {
        judgement.alerts[new.alert].episode = Some(*id);
    }
}

/// What one recipient was told about one episode (`alert_notifications`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Told {
    pub episode: i64,
    /// The latest post or mail that said it fires.
    pub firing_sent_at: Option<NaiveDateTime>,
    /// The first check that held it for quiet time (so its end is told even if it ended
    /// inside the quiet time).
    pub held_at: Option<NaiveDateTime>,
    /// When it was told that the episode ended (or passed over: `send_resolved = false`).
    pub resolved_sent_at: Option<NaiveDateTime>,
}

/// What one recipient is due from this check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Due {
    /// Firing alerts to send now (indexes into the judged alerts), most severe first.
    pub firing: Vec<usize>,
    /// Ended episodes to tell, oldest end first.
    pub resolved: Vec<Episode>,
    /// Quiet time: nothing is sent; `firing` and `resolved` are what is held. The episodes of
    /// `firing` are recorded as held.
    pub held: bool,
    /// Ended episodes whose resolved notice is passed over (`send_resolved = false`).
    pub settle: Vec<i64>,
}

impl Due {
    /// Whether there is nothing to send or hold.
    pub fn is_empty(&self) -> bool {
        self.firing.is_empty() && self.resolved.is_empty()
    }
}

/// What one recipient is due: the active firing alerts never sent there or last sent at least
/// `repeat` ago, and the ended episodes it was told about (or had held) and not yet told
/// ended. In quiet time the same is held, not sent.
pub fn due(
    alerts: &[Judged],
    ended: &[Episode],
    told: &[Told],
    habits: &Habits<'_>,
    now: NaiveDateTime,
) -> Due {
    let told_of = |id: Option<i64>| id.and_then(|id| told.iter().find(|t| t.episode == id));
    let held = habits.calendar.is_quiet(now);
    let mut firing: Vec<usize> = alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| matches!(a.state(), Some(State::Active) | Some(State::Muted)))
        .filter(|(_, a)| {
            let last = told_of(a.episode).and_then(|t| t.firing_sent_at);
            last.is_none_or(|sent| (now - sent).to_std().is_ok_and(|age| age >= habits.repeat))
        })
        .map(|(i, _)| i)
        .collect();
    firing.sort_by_key(|&i| group_key(&alerts[i].firing));
    let mut to_tell: Vec<Episode> = ended
        .iter()
        .filter(|e| e.cleared_at.is_some())
        .filter(|e| {
            told_of(Some(e.id)).is_some_and(|t| {
                (t.firing_sent_at.is_some() || t.held_at.is_some()) && t.resolved_sent_at.is_none()
            })
        })
        .cloned()
        .collect();
    to_tell.sort_by_key(|e| (e.cleared_at, e.id));
    if !habits.send_resolved {
        let settle = to_tell.iter().map(|e| e.id).collect();
        return Due { firing, resolved: Vec::new(), held, settle };
    }
    Due { firing, resolved: to_tell, held, settle: Vec::new() }
}

/// The order within a group: most severe first, then by kind, then by subject.
pub fn group_key(f: &Firing) -> (Severity, AlertKind, String) {
    (f.severity, f.kind, f.subject_key().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::alerts::calendar::DayWindow;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        // 2026-11-03 is a Tuesday; times are naive UTC, Shanghai is UTC+8.
        NaiveDate::from_ymd_opt(2026, 11, 3).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    fn firing(kind: AlertKind, subject: Option<&str>) -> Firing {
        let mut f = Firing::new(kind, kind.severity());
        f.subject = subject.map(String::from);
        f
    }

    fn episode(id: i64, kind: AlertKind, opened: NaiveDateTime, fired: bool) -> Episode {
        Episode {
            id,
            kind,
            subject: String::new(),
            opened_at: opened,
            fired_at: fired.then_some(opened),
            last_seen_at: opened,
            cleared_at: None,
        }
    }

    fn calendar() -> Calendar {
        let mut c = Calendar::new(chrono_tz::Asia::Shanghai);
        c.quiet_hours = vec![DayWindow::parse("22:00-08:00").unwrap()];
        c
    }

    fn habits(c: &Calendar) -> Habits<'_> {
        Habits {
            wait_for: Duration::from_secs(30 * 60),
            repeat: Duration::from_secs(4 * 3600),
            send_resolved: true,
            calendar: c,
        }
    }

    #[test]
    fn a_kpi_condition_is_pending_until_it_held_for_the_wait_then_fires() {
        let c = calendar();
        let h = habits(&c);
        let first = judge(vec![firing(AlertKind::ErrorRateHigh, None)], &[], &[], &h, at(2, 0));
        assert_eq!(first.alerts[0].phase, Phase::Pending { fires_at: at(2, 30) });
        assert!(!first.changes.open[0].fired);
        let pending = [episode(7, AlertKind::ErrorRateHigh, at(2, 0), false)];
        let early = judge(vec![firing(AlertKind::ErrorRateHigh, None)], &pending, &[], &h, at(2, 29));
        assert!(!early.alerts[0].fires());
        assert_eq!((early.changes.seen.clone(), early.changes.fire.clone()), (vec![7], vec![]));
        let late = judge(vec![firing(AlertKind::ErrorRateHigh, None)], &pending, &[], &h, at(2, 30));
        assert_eq!(late.alerts[0].state(), Some(State::Active));
        assert_eq!((late.alerts[0].since, late.changes.fire.clone()), (at(2, 0), vec![7]));
        // Gone before `for`: forgotten, not cleared (no resolved notice for what never fired).
        let gone = judge(vec![], &pending, &[], &h, at(2, 20));
        assert_eq!((gone.changes.forget.clone(), gone.changes.clear.clone()), (vec![7], vec![]));
    }

    #[test]
    fn stale_ingest_fires_at_once_and_inhibits_what_comes_from_data() {
        let c = calendar();
        let h = Habits { wait_for: Duration::ZERO, ..habits(&c) };
        let j = judge(
            vec![
                firing(AlertKind::StaleIngest, None),
                firing(AlertKind::ErrorRateHigh, None),
                firing(AlertKind::NoTraffic, None),
            ],
            &[],
            &[],
            &h,
            at(2, 0),
        );
        let states: Vec<_> = j.alerts.iter().map(|a| a.state()).collect();
        assert_eq!(states, [Some(State::Active), Some(State::Inhibited), Some(State::Inhibited)]);
        assert!(j.changes.open.iter().all(|n| n.fired));
    }

    fn silence(kind: AlertKind, subject: Option<&str>, from: NaiveDateTime, to: NaiveDateTime) -> Silence {
        Silence {
            id: 3,
            kind,
            subject: subject.map(String::from),
            starts_at: from,
            ends_at: to,
            reason: "Dify upgrade".into(),
            created_by: "ops".into(),
            expired_at: None,
        }
    }

    #[test]
    fn a_silence_covers_its_kind_and_subject_while_in_force() {
        let c = calendar();
        let h = Habits { wait_for: Duration::ZERO, ..habits(&c) };
        let one = |s: &Silence, now| {
            judge(vec![firing(AlertKind::OneUserKey, Some("bridge"))], &[], std::slice::from_ref(s), &h, now)
                .alerts[0]
                .phase
        };
        let any = silence(AlertKind::OneUserKey, None, at(2, 0), at(4, 0));
        assert_eq!(one(&any, at(3, 0)), Phase::Firing { state: State::Silenced, silence: Some(3) });
        assert_eq!(one(&any, at(4, 0)), Phase::Firing { state: State::Active, silence: None }, "ended");
        let other = silence(AlertKind::OneUserKey, Some("apiuser"), at(2, 0), at(4, 0));
        assert_eq!(one(&other, at(3, 0)), Phase::Firing { state: State::Active, silence: None });
        let mut expired = any.clone();
        expired.expired_at = Some(at(2, 30));
        assert_eq!(one(&expired, at(3, 0)), Phase::Firing { state: State::Active, silence: None });
    }

    #[test]
    fn quiet_hours_mute_and_hold_then_the_first_check_after_sends() {
        let c = calendar();
        let h = Habits { wait_for: Duration::ZERO, ..habits(&c) };
        // 23:00 local (15:00 UTC): muted, held.
        let night = judge(vec![firing(AlertKind::StaleIngest, None)], &[], &[], &h, at(15, 0));
        assert_eq!(night.alerts[0].state(), Some(State::Muted));
        let mut alerts = night.alerts.clone();
        alerts[0].episode = Some(1);
        let held = due(&alerts, &[], &[], &h, at(15, 0));
        assert_eq!((held.firing.clone(), held.held), (vec![0], true));
        // 08:00 local the next day: active and due (never sent).
        let morning = at(0, 0) + chrono::Duration::days(1);
        let open = [episode(1, AlertKind::StaleIngest, at(15, 0), true)];
        let j = judge(vec![firing(AlertKind::StaleIngest, None)], &open, &[], &h, morning);
        let told = [Told { episode: 1, held_at: Some(at(15, 0)), ..Told::default() }];
        let d = due(&j.alerts, &[], &told, &h, morning);
        assert_eq!((d.firing.clone(), d.held), (vec![0], false));
    }

    #[test]
    fn an_alert_that_fired_and_ended_inside_quiet_time_is_told_ended_afterwards() {
        let c = calendar();
        let h = habits(&c);
        let mut ended = episode(1, AlertKind::StaleIngest, at(15, 0), true);
        ended.cleared_at = Some(at(17, 0));
        let held = [Told { episode: 1, held_at: Some(at(15, 0)), ..Told::default() }];
        let night = due(&[], std::slice::from_ref(&ended), &held, &h, at(18, 0));
        assert!(night.held && night.resolved.len() == 1, "held, not dropped: {night:?}");
        let morning =
            due(&[], std::slice::from_ref(&ended), &held, &h, at(0, 30) + chrono::Duration::days(1));
        assert_eq!((morning.resolved.len(), morning.held), (1, false));
        // Told already, or never told: nothing.
        let done = [Told { resolved_sent_at: Some(at(23, 0)), ..held[0].clone() }];
        assert!(due(&[], std::slice::from_ref(&ended), &done, &h, at(23, 30)).is_empty());
        assert!(due(&[], std::slice::from_ref(&ended), &[], &h, at(23, 30)).is_empty());
        // send_resolved = false: passed over and settled.
        let off = Habits { send_resolved: false, ..h };
        let d = due(&[], std::slice::from_ref(&ended), &held, &off, at(23, 30) + chrono::Duration::days(1));
        assert_eq!((d.resolved.len(), d.settle.clone()), (0, vec![1]));
    }

    #[test]
    fn repeat_reminds_and_a_group_is_most_severe_first() {
        let c = calendar();
        let h = Habits { wait_for: Duration::ZERO, ..habits(&c) };
        let kinds = [AlertKind::KbHitRateLow, AlertKind::OneUserKey, AlertKind::ErrorRateHigh];
        let open: Vec<Episode> =
            kinds.iter().enumerate().map(|(i, k)| episode(i as i64 + 1, *k, at(1, 0), true)).collect();
        let firings = kinds.iter().map(|k| firing(*k, None)).collect();
        let j = judge(firings, &open, &[], &h, at(5, 0));
        let sent = |id: i64, t| Told { episode: id, firing_sent_at: Some(t), ..Told::default() };
        let told = [sent(1, at(1, 0)), sent(2, at(2, 0))];
        let d = due(&j.alerts, &[], &told, &h, at(5, 0));
        // kb_hit_rate_low was sent 4 h ago (due again), one_user_key 3 h ago (not yet),
        // error_rate_high never: critical first.
        let order: Vec<AlertKind> = d.firing.iter().map(|&i| j.alerts[i].firing.kind).collect();
        assert_eq!(order, [AlertKind::ErrorRateHigh, AlertKind::KbHitRateLow]);
    }

    #[test]
    fn the_list_sees_stored_episodes_in_the_states_a_check_gives() {
        let c = calendar();
        let h = habits(&c);
        let open = [
            episode(1, AlertKind::StaleIngest, at(1, 0), true),
            episode(2, AlertKind::KbHitRateLow, at(1, 0), true),
            episode(3, AlertKind::ErrorRateHigh, at(1, 50), false),
        ];
        let phases = standing(&open, &[], &h, at(2, 0));
        assert_eq!(phases[0], Phase::Firing { state: State::Active, silence: None });
        assert_eq!(phases[1], Phase::Firing { state: State::Inhibited, silence: None });
        assert_eq!(phases[2], Phase::Pending { fires_at: at(2, 20) });
        let muted = standing(&open[..1], &[], &h, at(15, 0));
        assert_eq!(muted[0], Phase::Firing { state: State::Muted, silence: None });
    }

    #[test]
    fn inhibited_and_silenced_alerts_are_never_due() {
        let c = calendar();
        let h = Habits { wait_for: Duration::ZERO, ..habits(&c) };
        let s = silence(AlertKind::StaleIngest, None, at(1, 0), at(9, 0));
        let j = judge(
            vec![firing(AlertKind::StaleIngest, None), firing(AlertKind::ErrorRateHigh, None)],
            &[],
            &[s],
            &h,
            at(2, 0),
        );
        assert!(due(&j.alerts, &[], &[], &h, at(2, 0)).is_empty());
    }
}
