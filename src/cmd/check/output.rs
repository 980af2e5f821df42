//! What `itstat check` prints on stdout: one line per alert, pending condition, warning and
//! notification, or one JSON object (docs/alerts.md, "`itstat check`"). Both say the same:
//! each firing alert's `state` and `since`, the pending ones with when they fire, the
//! coverage warnings of the day, and what each channel was sent.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::Sent;
use crate::cli::CheckFormat;
use crate::config::Settings;
use crate::notify::text::severity_name;
use crate::report::warnings::ReportWarning;
use crate::textsafe::inert;
use crate::transform::alerts::episodes::{Judged, Judgement, Phase, Silence, State};
use crate::transform::alerts::{Firing, Staleness};

/// What a check judged, to be shown.
pub(super) struct Shown<'a> {
    pub settings: &'a Settings,
    pub date: NaiveDate,
    pub now: DateTime<Utc>,
    pub judgement: &'a Judgement,
    /// The message of each judged alert, in the report language.
    pub messages: &'a [String],
}

impl Shown<'_> {
    /// A naive UTC time as RFC 3339 in the configured zone.
    fn rfc3339(&self, utc: NaiveDateTime) -> String {
        self.settings.rules.tz.from_utc_datetime(&utc).to_rfc3339()
    }

    /// A naive UTC time as `YYYY-MM-DD HH:MM` in the configured zone.
    fn local(&self, utc: NaiveDateTime) -> String {
        crate::transform::time::to_local(self.settings.rules.tz, utc).format("%Y-%m-%d %H:%M").to_string()
    }

    /// When the quiet time holding muted alerts ends.
    fn held_until(&self) -> Option<NaiveDateTime> {
        self.settings.alerts.calendar.quiet_until(self.now.naive_utc())
    }
}

/// Prints the result on stdout.
pub(super) fn print(
    format: CheckFormat,
    shown: &Shown<'_>,
    silences: &[Silence],
    warnings: &[ReportWarning],
    sent: &[Sent],
) {
    match format {
        CheckFormat::Text => print!("{}", as_text(shown, silences, warnings, sent)),
        CheckFormat::Json => {
            let out = as_json(shown, silences, warnings, sent);
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
}

fn as_text(shown: &Shown<'_>, silences: &[Silence], warnings: &[ReportWarning], sent: &[Sent]) -> String {
    let mut out = String::new();
    let alerts = &shown.judgement.alerts;
    if !alerts.iter().any(Judged::fires) {
        out.push_str(&format!("ok: no alert fires (day checked: {})\n", shown.date));
    }
    for (j, message) in alerts.iter().zip(shown.messages) {
        let line = match j.phase {
            Phase::Firing { state, silence } => {
                let silence = silence.and_then(|id| silences.iter().find(|s| s.id == id));
                let tag = state_tag(shown, state, silence);
                format!(
                    "{} {}{tag}: {message} (since {})",
                    severity_name(j.firing.severity).to_uppercase(),
                    j.firing.kind.as_str(),
                    shown.local(j.since)
                )
            }
            Phase::Pending { fires_at } => format!(
                "PENDING {}: {message} (seen since {}; fires at {} if it still holds)",
                j.firing.kind.as_str(),
                shown.local(j.since),
                shown.local(fires_at)
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for w in warnings {
        out.push_str(&format!("warning {}: {}\n", w.kind, w.message));
    }
    for s in sent {
        out.push_str(&notify_line(shown, s));
        out.push('\n');
    }
    out
}

/// ` [inhibited]`, ` [silenced #3 by ops until …: reason]`, ` [muted until …]`, or nothing.
fn state_tag(shown: &Shown<'_>, state: State, silence: Option<&Silence>) -> String {
    match (state, silence) {
        (State::Active, _) => String::new(),
        (State::Silenced, Some(s)) => format!(
            " [silenced #{} by {} until {}: {}]",
            s.id,
            inert(&s.created_by, 40),
            shown.local(s.end()),
            inert(&s.reason, 200)
        ),
        (State::Muted, _) => match shown.held_until() {
            Some(until) => format!(" [muted until {}]", shown.local(until)),
            None => " [muted]".to_string(),
        },
        (state, _) => format!(" [{}]", state.as_str()),
    }
}

/// `notify wecom: sent (2 alerts, 1 resolved)`, `…: held until …`, `…: failed: why`.
fn notify_line(shown: &Shown<'_>, s: &Sent) -> String {
    let what = format!("{} alert(s), {} resolved", s.firing.len(), s.resolved.len());
    let status = s.status.replace('_', " ");
    match (s.status, &s.error, s.held_until) {
        (_, Some(error), _) => format!("notify {}: {status} ({what}): {error}", s.target.recipient),
        ("held", None, Some(until)) => {
            format!("notify {}: held until {} ({what})", s.target.recipient, shown.local(until))
        }
        ("skipped", None, _) => format!("notify {}: nothing due", s.target.recipient),
        _ => format!("notify {}: {status} ({what})", s.target.recipient),
    }
}

fn as_json(shown: &Shown<'_>, silences: &[Silence], warnings: &[ReportWarning], sent: &[Sent]) -> Value {
    let pairs = || shown.judgement.alerts.iter().zip(shown.messages);
    let alerts: Vec<Value> =
        pairs().filter(|(j, _)| j.fires()).map(|(j, m)| alert_json(shown, j, m, silences)).collect();
    let pending: Vec<Value> =
        pairs().filter(|(j, _)| !j.fires()).map(|(j, m)| alert_json(shown, j, m, silences)).collect();
    let notifications: Vec<Value> = sent.iter().map(|s| notification_json(shown, s)).collect();
    json!({
        "date": shown.date.to_string(),
        "checked_at": shown.now.to_rfc3339(),
        "alerts": alerts,
        "pending": pending,
        "warnings": warnings,
        "notifications": notifications,
    })
}

fn notification_json(shown: &Shown<'_>, s: &Sent) -> Value {
    let alert = |i: &usize| {
        let f = &shown.judgement.alerts[*i].firing;
        json!({"kind": f.kind.as_str(), "subject": f.subject})
    };
    let resolved: Vec<Value> = s
        .resolved
        .iter()
        .map(|e| {
            let subject = (!e.subject.is_empty()).then_some(&e.subject);
            json!({"kind": e.kind.as_str(), "subject": subject, "since": shown.rfc3339(e.opened_at),
                   "ended": e.cleared_at.map(|t| shown.rfc3339(t))})
        })
        .collect();
    let mut obj = json!({
        "channel": s.target.channel.as_str(),
        "recipient": s.target.recipient,
        "status": s.status,
        "error": s.error,
        "alerts": s.firing.iter().map(alert).collect::<Vec<_>>(),
        "resolved": resolved,
    });
    if let Some(until) = s.held_until {
        obj["held_until"] = json!(shown.rfc3339(until));
    }
    obj
}

/// One alert (or pending condition) of the JSON: `kind`, `severity`, `subject`, `state`
/// (`pending` ones: `fires_at` instead), `since`, `message`, `value`, `threshold`, and what
/// else it has.
fn alert_json(shown: &Shown<'_>, j: &Judged, message: &str, silences: &[Silence]) -> Value {
    let f = &j.firing;
    let mut obj = serde_json::Map::new();
    obj.insert("kind".into(), json!(f.kind.as_str()));
    obj.insert("severity".into(), json!(severity_name(f.severity)));
    obj.insert("subject".into(), json!(f.subject));
    match j.phase {
        Phase::Firing { state, silence } => {
            obj.insert("state".into(), json!(state.as_str()));
            if let Some(s) = silence.and_then(|id| silences.iter().find(|s| s.id == id)) {
                obj.insert(
                    "silence".into(),
                    json!({"id": s.id, "reason": s.reason, "by": s.created_by, "until": shown.rfc3339(s.end())}),
                );
            }
            if let (State::Muted, Some(until)) = (state, shown.held_until()) {
                obj.insert("held_until".into(), json!(shown.rfc3339(until)));
            }
        }
        Phase::Pending { fires_at } => {
            obj.insert("fires_at".into(), json!(shown.rfc3339(fires_at)));
        }
    }
    obj.insert("since".into(), json!(shown.rfc3339(j.since)));
    obj.insert("message".into(), json!(message));
    obj.insert("value".into(), json!(f.value));
    obj.insert("threshold".into(), json!(f.threshold));
    details(&mut obj, f);
    Value::Object(obj)
}

/// What an alert has beyond the common fields: `date`, `user_key`, `count`/`total`,
/// `failures`/`last_error`, `newest_message`/`read_at`.
fn details(obj: &mut serde_json::Map<String, Value>, f: &Firing) {
    if let Some(d) = f.date {
        obj.insert("date".into(), json!(d.to_string()));
    }
    if let Some(key) = &f.subject {
        obj.insert("user_key".into(), json!(key));
    }
    if let Some((n, total)) = f.counts {
        obj.insert("count".into(), json!(n));
        obj.insert("total".into(), json!(total));
    }
    if let Some(Staleness::Failing { failures, last_error, .. }) = &f.staleness {
        obj.insert("failures".into(), json!(failures));
        obj.insert("last_error".into(), json!(last_error));
    }
    if let Some(silent) = &f.silent {
        obj.insert(
            "newest_message".into(),
            json!(silent.newest_local.format("%Y-%m-%dT%H:%M:%S").to_string()),
        );
        obj.insert("read_at".into(), json!(silent.read_local.format("%Y-%m-%dT%H:%M:%S").to_string()));
    }
}
