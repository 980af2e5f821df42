//! `itstat check`: the alert rules for a day and the ingest's health, for cron and monitoring
//! (docs/alerts.md).
//!
//! Exit 0 when nothing fires, 3 when an alert fires (1 and 2 keep their meanings). With
//! `--notify`, each firing alert goes to the configured channels once per episode: an alert
//! that keeps firing is sent again only after `[alerts] repeat`; one that stops firing closes
//! its episode, so the next firing is news again. Episodes live in `alert_episodes`, every
//! post or mail in the delivery log. `--dry-run` says what would be sent and writes nothing.
//! A missing warehouse is itself an alert (`stale_ingest`: no ingest ever succeeded); to keep
//! its episode, `--notify` creates the (empty) warehouse the first ingest would create.

use chrono::{DateTime, Days, NaiveDateTime, Utc};
use serde_json::{Value, json};

use crate::cli::{CheckArgs, CheckFormat, PeriodKind};
use crate::config::Settings;
use crate::error::{AlertsFired, one_line};
use crate::notify::{self, Note, Target, text};
use crate::pipeline::{self, Access};
use crate::report::period::{Period, parse_date};
use crate::transform::alerts::{DayFacts, Firing, IngestHealth, evaluate};
use crate::warehouse::deliveries::Delivery;
use crate::warehouse::{OpenMode, Warehouse};

/// What happened to one notification.
struct Sent {
    kind: &'static str,
    target: Target,
    /// `sent`, `failed`, `skipped` (sent in this episode within `repeat`) or `would_send`.
    status: &'static str,
    error: Option<String>,
}

/// Runs `itstat check`.
pub async fn run(settings: &Settings, args: &CheckArgs) -> anyhow::Result<()> {
    let now = crate::clock::now();
    let today = now.with_timezone(&settings.rules.tz).date_naive();
    let date = match &args.date {
        Some(text) => parse_date(text, "--date")?,
        None => today.checked_sub_days(Days::new(1)).unwrap_or(today),
    };
    let targets = if args.notify { notify::targets(settings)? } else { Vec::new() };
    let records = args.notify && !args.dry_run;
    let thresholds = &settings.alerts.thresholds;

    let wh = if Warehouse::is_missing(&settings.warehouse_url) && !records {
        None
    } else {
        let mode = if records { OpenMode::ReadWrite } else { OpenMode::ExistingOnly };
        Some(Warehouse::open(&settings.warehouse_url, mode).await?)
    };
    let firings = match &wh {
        None => evaluate(&IngestHealth::default(), now.naive_utc(), None, thresholds),
        Some(wh) => {
            let access = if args.dry_run { Access::DryRun } else { Access::Use };
            let rules = pipeline::ensure_current(wh, settings, access).await?;
            let health = wh.ingest_health().await?;
            let period = Period::containing(PeriodKind::Day, date);
            let (data, _) = crate::report::build(wh, &rules, period, false).await?;
            let day = DayFacts { date, kpis: data.totals, top_user: wh.top_user(date).await? };
            evaluate(&health, now.naive_utc(), Some(&day), thresholds)
        }
    };
    let lang = settings.report.lang;
    let messages: Vec<(Firing, String)> =
        firings.into_iter().map(|f| (text::message(&f, lang), f)).map(|(m, f)| (f, m)).collect();

    let sent = match &wh {
        Some(wh) if args.notify => deliver(settings, wh, &messages, &targets, now, args.dry_run).await?,
        None if args.notify => {
            // A dry run without a warehouse: nothing recorded, so everything would be sent.
            would_send_all(&messages, &targets)
        }
        _ => Vec::new(),
    };
    if let Some(wh) = wh {
        wh.close().await;
    }
    print(args.format, date, now, &messages, &sent);
    if let Some(failed) = sent.iter().find(|s| s.status == "failed") {
        anyhow::bail!(
            "could not notify {} of {}: {}",
            failed.target.recipient,
            failed.kind,
            failed.error.as_deref().unwrap_or("")
        );
    }
    if messages.is_empty() { Ok(()) } else { Err(AlertsFired(messages.len()).into()) }
}

/// Sends each firing alert to each target unless this episode already went there within
/// `[alerts] repeat`, and closes the episodes of alerts that no longer fire.
async fn deliver(
    settings: &Settings,
    wh: &Warehouse,
    firings: &[(Firing, String)],
    targets: &[Target],
    now: DateTime<Utc>,
    dry_run: bool,
) -> anyhow::Result<Vec<Sent>> {
    let at = now.naive_utc();
    let lang = settings.report.lang;
    let mut out = Vec::new();
    for (firing, message) in firings {
        let kind = firing.kind.as_str();
        let subject = firing.subject_key();
        let episode = match wh.open_episode(kind, subject).await? {
            Some((id, _)) if dry_run => Some(id),
            Some((id, _)) => {
                wh.episode_seen(id, at).await?;
                Some(id)
            }
            None if dry_run => None,
            None => Some(wh.start_episode(kind, subject, at).await?),
        };
        let report_kind = format!("alert:{kind}");
        let label = episode.map(|id| format!("episode {id}")).unwrap_or_default();
        let plain = plain_body(firing, message, settings);
        let markdown = text::wecom_alert(firing, lang);
        let subject_line = text::mail_subject(firing, lang);
        let note = Note { subject: &subject_line, plain: &plain, markdown: &markdown };
        for target in targets {
            let last = match episode {
                Some(_) => wh.sent_at(&report_kind, &label, &target.recipient).await?,
                None => None,
            };
            if last.is_some_and(|t| within(t, at, settings.alerts.repeat)) {
                out.push(Sent { kind, target: target.clone(), status: "skipped", error: None });
                continue;
            }
            if dry_run {
                out.push(Sent { kind, target: target.clone(), status: "would_send", error: None });
                continue;
            }
            let result = notify::send(settings, target, &note).await.map_err(|e| one_line(&e));
            wh.record_delivery(&Delivery {
                report_kind: &report_kind,
                period_label: &label,
                recipient: &target.recipient,
                subject: &subject_line,
                attachment: None,
                status: if result.is_ok() { "sent" } else { "failed" },
                error: result.as_ref().err().map(String::as_str),
            })
            .await?;
            let status = if result.is_ok() { "sent" } else { "failed" };
            out.push(Sent { kind, target: target.clone(), status, error: result.err() });
        }
    }
    if !dry_run {
        for open in wh.open_episodes().await? {
            let still =
                firings.iter().any(|(f, _)| f.kind.as_str() == open.kind && f.subject_key() == open.subject);
            if !still {
                wh.clear_episode(open.episode_id, at).await?;
            }
        }
    }
    Ok(out)
}

/// Whether `sent` is less than `repeat` before `now`.
fn within(sent: NaiveDateTime, now: NaiveDateTime, repeat: std::time::Duration) -> bool {
    (now - sent).to_std().is_ok_and(|age| age < repeat) || sent > now
}

fn would_send_all(firings: &[(Firing, String)], targets: &[Target]) -> Vec<Sent> {
    let mut out = Vec::new();
    for (f, _) in firings {
        for t in targets {
            out.push(Sent { kind: f.kind.as_str(), target: t.clone(), status: "would_send", error: None });
        }
    }
    out
}

/// The alert mail's body: the message, and where it came from.
fn plain_body(firing: &Firing, message: &str, settings: &Settings) -> String {
    let lang = settings.report.lang;
    let mut body = format!("{message}\n\n");
    body.push_str(&format!(
        "{}: {} ({})\n",
        lang.pick("告警", "Alert"),
        firing.kind.as_str(),
        text::severity_name(firing.severity)
    ));
    if let Some(d) = firing.date {
        body.push_str(&format!("{}: {d} ({})\n", lang.pick("日期", "Day"), settings.rules.timezone));
    }
    body.push_str(lang.pick(
        "itstat check 发送；同一告警持续期间按 [alerts] repeat 重复提醒。\n",
        "Sent by `itstat check`; while it keeps firing it is sent again after `[alerts] repeat`.\n",
    ));
    body
}

/// Prints the result on stdout: one line per alert and per notification, or one JSON object.
fn print(
    format: CheckFormat,
    date: chrono::NaiveDate,
    now: DateTime<Utc>,
    firings: &[(Firing, String)],
    sent: &[Sent],
) {
    match format {
        CheckFormat::Text => {
            print!("{}", text::check_text(date, firings));
            for s in sent {
                let error = s.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
                println!("notify {} {}: {}{error}", s.target.recipient, s.kind, s.status.replace('_', " "));
            }
        }
        CheckFormat::Json => {
            let alerts: Vec<Value> = firings.iter().map(|(f, m)| alert_json(f, m)).collect();
            let notifications: Vec<Value> = sent
                .iter()
                .map(|s| {
                    json!({
                        "kind": s.kind,
                        "channel": s.target.channel.as_str(),
                        "recipient": s.target.recipient,
                        "status": s.status,
                        "error": s.error,
                    })
                })
                .collect();
            let out = json!({
                "date": date.to_string(),
                "checked_at": now.to_rfc3339(),
                "alerts": alerts,
                "notifications": notifications,
            });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
}

/// One alert of the JSON: `kind`, `severity`, `message`, `value`, `threshold`, and what else
/// it has (`date`, `user_key`, `count`/`total`, `failures`/`last_error`).
fn alert_json(f: &Firing, message: &str) -> Value {
    let mut obj = serde_json::Map::new();
    obj.insert("kind".into(), json!(f.kind.as_str()));
    obj.insert("severity".into(), json!(text::severity_name(f.severity)));
    obj.insert("message".into(), json!(message));
    obj.insert("value".into(), json!(f.value));
    obj.insert("threshold".into(), json!(f.threshold));
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
    if let Some(crate::transform::alerts::Staleness::Failing { failures, last_error, .. }) = &f.staleness {
        obj.insert("failures".into(), json!(failures));
        obj.insert("last_error".into(), json!(last_error));
    }
    Value::Object(obj)
}
