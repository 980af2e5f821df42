//! `itstat alerts list | silence | expire` (docs/alerts.md, "Silences"): the alerts as the last
//! check left them, and the silences that keep the robot quiet about a known problem.
//!
//! `list` reads the episodes and silences and gives each open episode the state a check
//! would (`transform::alerts::episodes::standing`); it writes nothing. `silence` records a
//! silence of a kind (about one subject, or any) from now for `--for`, with a reason and an
//! author; `expire` ends one now. Neither sends anything: the next `check --notify` does, and
//! an alert still firing when its silence ends is sent then.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeZone};
use serde_json::{Value, json};

use crate::bail_user;
use crate::cli::{AlertsArgs, AlertsCommand, CheckFormat};
use crate::config::Settings;
use crate::notify::text::span;
use crate::textsafe::inert;
use crate::transform::alerts::AlertKind;
use crate::transform::alerts::episodes::{self, Episode, Habits, Phase, Silence};
use crate::warehouse::alerts::NewSilence;
use crate::warehouse::{OpenMode, Warehouse};

/// How far back `list` shows ended episodes, and how many at most.
const RESOLVED_DAYS: i64 = 7;
const RESOLVED_SHOWN: i64 = 20;

/// The longest silence: a longer one is a setting, not a silence.
const MAX_SILENCE: Duration = Duration::from_secs(366 * 86400);

/// Runs `itstat alerts …`.
pub async fn run(settings: &Settings, args: &AlertsArgs) -> anyhow::Result<()> {
    match &args.what {
        AlertsCommand::List { format } => list(settings, *format).await,
        AlertsCommand::Silence { kind, subject, duration, reason, by, dry_run } => {
            let request = Request { kind, subject: subject.as_deref(), duration, reason, by: by.as_deref() };
            silence(settings, &request, *dry_run).await
        }
        AlertsCommand::Expire { id, dry_run } => expire(settings, *id, *dry_run).await,
    }
}

/// What `alerts silence` was asked.
struct Request<'a> {
    kind: &'a str,
    subject: Option<&'a str>,
    duration: &'a str,
    reason: &'a str,
    by: Option<&'a str>,
}

/// A naive UTC time as `YYYY-MM-DD HH:MM` in the configured zone.
fn local(settings: &Settings, utc: NaiveDateTime) -> String {
    crate::transform::time::to_local(settings.rules.tz, utc).format("%Y-%m-%d %H:%M").to_string()
}

/// A naive UTC time as RFC 3339 in the configured zone.
fn rfc3339(settings: &Settings, utc: NaiveDateTime) -> String {
    settings.rules.tz.from_utc_datetime(&utc).to_rfc3339()
}

/// Checks a silence request: a known kind, a subject only where alerts have one, a positive
/// duration, a reason.
fn validate(r: &Request<'_>) -> anyhow::Result<(AlertKind, Duration)> {
    let Some(kind) = AlertKind::parse(r.kind) else {
        let kinds: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
        bail_user!("`{}` is not an alert kind; use one of {}", r.kind, kinds.join(", "));
    };
    if r.subject.is_some() && kind != AlertKind::OneUserKey {
        bail_user!(
            "`--subject` applies only to one_user_key (its user key); alerts of {} have no subject, leave it out",
            kind.as_str()
        );
    }
    let duration = humantime::parse_duration(r.duration.trim()).map_err(|_| {
        crate::error::user_error(format!(
            "`--for`: \"{}\" is not a duration (use a number with s, m, h or d, e.g. \"2h\")",
            r.duration
        ))
    })?;
    if duration.is_zero() || duration > MAX_SILENCE {
        bail_user!(
            "`--for {}`: a silence lasts more than 0 and at most 366 days; to stop an alert for good, change `[alerts]`",
            r.duration
        );
    }
    if r.reason.trim().is_empty() {
        bail_user!("`--reason` is empty; say why (it is shown with the silenced alert)");
    }
    Ok((kind, duration))
}

/// `alerts silence`.
async fn silence(settings: &Settings, r: &Request<'_>, dry_run: bool) -> anyhow::Result<()> {
    let (kind, duration) = validate(r)?;
    let now = crate::clock::now().naive_utc();
    let ends_at = now + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
    let by = crate::cmd::ids::operator(r.by);
    let about = r.subject.map(|s| format!("about {}", inert(s, 80))).unwrap_or_else(|| "any subject".into());
    let what = format!(
        "{} ({about}) until {} ({}), by {}: {}",
        kind.as_str(),
        local(settings, ends_at),
        settings.rules.timezone,
        inert(&by, 40),
        inert(r.reason, 200)
    );
    if dry_run {
        println!("dry run: would silence {what}");
        return Ok(());
    }
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ReadWrite).await?;
    let silence = NewSilence {
        kind,
        subject: r.subject,
        starts_at: now,
        ends_at,
        reason: r.reason.trim(),
        created_by: &by,
    };
    let id = wh.add_silence(&silence).await?;
    wh.close().await;
    tracing::info!(silence = id, kind = kind.as_str(), by = %by, reason = %r.reason, "Silenced alerts.");
    println!("silence {id}: {what}");
    Ok(())
}

/// `alerts expire`.
async fn expire(settings: &Settings, id: i64, dry_run: bool) -> anyhow::Result<()> {
    let missing = || crate::error::user_error(format!("no silence {id}; `itstat alerts list` shows them"));
    if Warehouse::is_missing(&settings.warehouse_url) {
        return Err(missing());
    }
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
    let now = crate::clock::now().naive_utc();
    let Some(silence) = wh.silence(id).await? else {
        wh.close().await;
        return Err(missing());
    };
    if silence.end() <= now {
        println!("silence {id} already ended at {}", local(settings, silence.end()));
    } else if dry_run {
        println!("dry run: would end silence {id} ({})", silence.kind.as_str());
    } else {
        wh.expire_silence(id, now).await?;
        tracing::info!(silence = id, "Ended a silence.");
        println!("silence {id} ({}) ended", silence.kind.as_str());
    }
    wh.close().await;
    Ok(())
}

/// What `list` shows.
struct Listing {
    open: Vec<(Episode, Phase)>,
    resolved: Vec<Episode>,
    silences: Vec<Silence>,
    /// The latest check that saw an open episode.
    checked_at: Option<NaiveDateTime>,
}

/// `alerts list`.
async fn list(settings: &Settings, format: CheckFormat) -> anyhow::Result<()> {
    let now = crate::clock::now().naive_utc();
    let listing = if Warehouse::is_missing(&settings.warehouse_url) {
        Listing { open: Vec::new(), resolved: Vec::new(), silences: Vec::new(), checked_at: None }
    } else {
        let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
        let open = wh.open_episodes().await?;
        let silences = wh.active_silences(now).await?;
        let since = now - chrono::Duration::days(RESOLVED_DAYS);
        let resolved = wh.resolved_episodes(since, RESOLVED_SHOWN).await?;
        wh.close().await;
        let a = &settings.alerts;
        let habits = Habits {
            wait_for: a.wait_for,
            repeat: a.repeat,
            send_resolved: a.send_resolved,
            calendar: &a.calendar,
        };
        let phases = episodes::standing(&open, &silences, &habits, now);
        let checked_at = open.iter().map(|e| e.last_seen_at).max();
        Listing { open: open.into_iter().zip(phases).collect(), resolved, silences, checked_at }
    };
    match format {
        CheckFormat::Text => print!("{}", list_text(settings, &listing, now)),
        CheckFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&list_json(settings, &listing, now)).unwrap_or_default()
            )
        }
    }
    Ok(())
}

fn subject_of(e: &Episode) -> String {
    if e.subject.is_empty() { String::new() } else { format!(" · {}", inert(&e.subject, 80)) }
}

fn list_text(settings: &Settings, l: &Listing, now: NaiveDateTime) -> String {
    let mut out = String::new();
    if let Some(at) = l.checked_at {
        out.push_str(&format!("as of the check at {} ({})\n", local(settings, at), settings.rules.timezone));
    }
    let firing: Vec<String> = l
        .open
        .iter()
        .filter_map(|(e, p)| match p {
            Phase::Firing { state, silence } => Some(format!(
                "  #{} {} {}{}  {}{}  since {}",
                e.id,
                crate::notify::text::severity_name(e.kind.severity()).to_uppercase(),
                e.kind.as_str(),
                subject_of(e),
                state.as_str(),
                silence.map(|s| format!(" (silence {s})")).unwrap_or_default(),
                local(settings, e.opened_at)
            )),
            Phase::Pending { .. } => None,
        })
        .collect();
    section(&mut out, "firing", &firing);
    let pending: Vec<String> = l
        .open
        .iter()
        .filter_map(|(e, p)| match p {
            Phase::Pending { fires_at } => Some(format!(
                "  #{} {}{}  seen since {}, fires at {} if it still holds",
                e.id,
                e.kind.as_str(),
                subject_of(e),
                local(settings, e.opened_at),
                local(settings, *fires_at)
            )),
            Phase::Firing { .. } => None,
        })
        .collect();
    section(&mut out, "pending", &pending);
    let resolved: Vec<String> = l
        .resolved
        .iter()
        .map(|e| {
            let end = e.cleared_at.unwrap_or(now);
            format!(
                "  #{} {}{}  {} – {} ({})",
                e.id,
                e.kind.as_str(),
                subject_of(e),
                local(settings, e.opened_at),
                local(settings, end),
                span(e.lasted(end), crate::calendar::Lang::En)
            )
        })
        .collect();
    section(&mut out, &format!("ended in the last {RESOLVED_DAYS} days"), &resolved);
    let silences: Vec<String> = l
        .silences
        .iter()
        .map(|s| {
            let about = s.subject.as_deref().map(|x| format!(" · {}", inert(x, 80))).unwrap_or_default();
            format!(
                "  silence {} {}{about} until {}, by {}: {}",
                s.id,
                s.kind.as_str(),
                local(settings, s.end()),
                inert(&s.created_by, 40),
                inert(&s.reason, 200)
            )
        })
        .collect();
    section(&mut out, "silences", &silences);
    out
}

/// `title:` and its lines, or `title: none`.
fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        out.push_str(&format!("{title}: none\n"));
    } else {
        out.push_str(&format!("{title}:\n{}\n", lines.join("\n")));
    }
}

fn list_json(settings: &Settings, l: &Listing, now: NaiveDateTime) -> Value {
    let t = |utc: NaiveDateTime| rfc3339(settings, utc);
    let subject = |e: &Episode| (!e.subject.is_empty()).then(|| e.subject.clone());
    let base = |e: &Episode| {
        json!({"episode": e.id, "kind": e.kind.as_str(), "severity": crate::notify::text::severity_name(e.kind.severity()),
               "subject": subject(e), "since": t(e.opened_at), "last_seen": t(e.last_seen_at)})
    };
    let mut alerts = Vec::new();
    let mut pending = Vec::new();
    for (e, p) in &l.open {
        let mut v = base(e);
        match p {
            Phase::Firing { state, silence } => {
                v["state"] = json!(state.as_str());
                v["silence"] = json!(silence);
                alerts.push(v);
            }
            Phase::Pending { fires_at } => {
                v["fires_at"] = json!(t(*fires_at));
                pending.push(v);
            }
        }
    }
    let resolved: Vec<Value> = l
        .resolved
        .iter()
        .map(|e| {
            let mut v = base(e);
            let end = e.cleared_at.unwrap_or(now);
            v["ended"] = json!(t(end));
            v["lasted_s"] = json!(e.lasted(end).as_secs());
            v
        })
        .collect();
    let silences: Vec<Value> = l
        .silences
        .iter()
        .map(|s| {
            json!({"id": s.id, "kind": s.kind.as_str(), "subject": s.subject, "starts_at": t(s.starts_at),
                   "ends_at": t(s.end()), "reason": s.reason, "by": s.created_by})
        })
        .collect();
    json!({
        "checked_at": l.checked_at.map(t),
        "alerts": alerts,
        "pending": pending,
        "resolved": resolved,
        "silences": silences,
    })
}
