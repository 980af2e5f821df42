//! `itstat check`: the alert rules for a day and the ingest's health, for cron and monitoring
//! (docs/alerts.md).
//!
//! Exit 0 when nothing fires, 3 when an alert fires (1 and 2 keep their meanings); a condition
//! still waiting for `[alerts] for` is *pending* and does not count. Every check but
//! `--dry-run` records its conditions as episodes (`alert_episodes`): when each was first seen
//! (for `for`), when it fired, when it ended. With `--notify`, what each channel is due goes
//! out as one post or mail per channel: the active firing alerts never sent there or last sent
//! `repeat` ago, most severe first, and the episodes that ended (`send_resolved`). Inhibited
//! (while `stale_ingest` fires) and silenced alerts are shown, never sent; in quiet time
//! everything is held for the first check after it. The rules are
//! `transform::alerts::episodes`; this module gathers the facts, sends and records. A missing
//! warehouse is itself an alert (`stale_ingest`); to keep its episode, `--notify` creates the
//! (empty) warehouse the first ingest would create.

mod output;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};

use crate::bail_user;
use crate::calendar::PeriodKind;
use crate::calendar::{Period, local_midnight_utc, parse_date};
use crate::cli::CheckArgs;
use crate::config::Settings;
use crate::error::{AlertsFired, one_line};
use crate::notify::group::{FiringEntry, Group};
use crate::notify::{self, Note, Target, text};
use crate::pipeline::{self, Access};
use crate::report::warnings::ReportWarning;
use crate::transform::alerts::episodes::{self, Episode, Habits, Judgement, Silence};
use crate::transform::alerts::{DayFacts, Firing, IngestHealth, TrafficFacts, evaluate, no_traffic};
use crate::warehouse::alerts::Notified;
use crate::warehouse::deliveries::Delivery;
use crate::warehouse::{OpenMode, Warehouse};

/// The `report_kind` of a check's notification in the delivery log.
const DELIVERY_KIND: &str = "alerts";

/// What happened to one channel's notification.
struct Sent {
    target: Target,
    /// `sent`, `failed`, `would_send` (`--dry-run`), `held` (quiet time) or `skipped`
    /// (nothing due: every firing alert went there within `repeat`, or is not active).
    status: &'static str,
    error: Option<String>,
    /// Indexes of the firing alerts it held.
    firing: Vec<usize>,
    /// The ended episodes it held.
    resolved: Vec<Episode>,
    /// The end of the quiet time that held it.
    held_until: Option<NaiveDateTime>,
}

/// What a check found: the conditions, and what the warehouse holds about them.
#[derive(Default)]
struct Facts {
    firings: Vec<Firing>,
    open: Vec<Episode>,
    silences: Vec<Silence>,
    warnings: Vec<ReportWarning>,
}

/// Runs `itstat check`.
pub async fn run(settings: &Settings, args: &CheckArgs) -> anyhow::Result<()> {
    let now = crate::clock::now();
    let at = now.naive_utc();
    let date = checked_date(settings, args.date.as_deref(), now)?;
    let targets = if args.notify { notify::targets(settings)? } else { Vec::new() };
    let records = !args.dry_run;
    let wh = open(settings, args.notify && records).await?;
    let facts = match &wh {
        None => Facts {
            firings: evaluate(&IngestHealth::default(), at, None, &settings.alerts.thresholds),
            ..Facts::default()
        },
        Some(wh) => gather(wh, settings, date, args.dry_run, at).await?,
    };
    let habits = habits(settings);
    // Shown in the order a group is sent in: most severe first.
    let mut firings = facts.firings;
    firings.sort_by_key(episodes::group_key);
    let mut judgement = episodes::judge(firings, &facts.open, &facts.silences, &habits, at);
    if let Some(wh) = wh.as_ref().filter(|_| records) {
        match wh.apply_episodes(&judgement.changes, at).await {
            Ok(ids) => episodes::attach_new(&mut judgement, &ids),
            // A monitoring account that may only read still gets its answer (as before
            // episodes were recorded by every check); `--notify` must record what it sends.
            Err(e) if !args.notify && crate::error::is_read_only(&e) => tracing::warn!(
                warehouse = %wh.place,
                "The warehouse cannot be written here: this check recorded nothing, so `[alerts] for` does not count it."
            ),
            Err(e) => return Err(e),
        }
    }
    let lang = settings.report.lang;
    let messages: Vec<String> = judgement.alerts.iter().map(|j| text::message(&j.firing, lang)).collect();
    let sent = if args.notify {
        let context = Deliver { settings, wh: wh.as_ref(), judgement: &judgement, messages: &messages, date };
        deliver(&context, &facts.open, &targets, now, args.dry_run).await?
    } else {
        Vec::new()
    };
    if let Some(wh) = wh {
        wh.close().await;
    }
    let shown = output::Shown { settings, date, now, judgement: &judgement, messages: &messages };
    output::print(args.format, &shown, &facts.silences, &facts.warnings, &sent);
    if let Some(failed) = sent.iter().find(|s| s.status == "failed") {
        anyhow::bail!(
            "could not notify {}: {}",
            failed.target.recipient,
            failed.error.as_deref().unwrap_or("")
        );
    }
    match judgement.alerts.iter().filter(|j| j.fires()).count() {
        0 => Ok(()),
        n => Err(AlertsFired(n).into()),
    }
}

/// `--date`, or yesterday (the last complete local day); a day after today is refused.
fn checked_date(settings: &Settings, date: Option<&str>, now: DateTime<Utc>) -> anyhow::Result<NaiveDate> {
    let today = now.with_timezone(&settings.rules.tz).date_naive();
    let Some(text) = date else { return Ok(today.checked_sub_days(Days::new(1)).unwrap_or(today)) };
    let date = parse_date(text, "--date")?;
    if date > today {
        bail_user!(
            "`--date {date}` is in the future (today is {today} in {}); check a day up to today",
            settings.rules.timezone
        );
    }
    Ok(date)
}

/// The warehouse: `None` when it is missing and need not be created (only a recording
/// `--notify` creates it, to keep the episode of "no ingest ever succeeded").
async fn open(settings: &Settings, create: bool) -> anyhow::Result<Option<Warehouse>> {
    if Warehouse::is_missing(&settings.warehouse_url) && !create {
        return Ok(None);
    }
    let mode = if create { OpenMode::ReadWrite } else { OpenMode::ExistingOnly };
    Ok(Some(Warehouse::open(&settings.warehouse_url, mode).await?))
}

/// The habits of `[alerts]`.
fn habits(settings: &Settings) -> Habits<'_> {
    let a = &settings.alerts;
    Habits { wait_for: a.wait_for, repeat: a.repeat, send_resolved: a.send_resolved, calendar: &a.calendar }
}

/// Everything a check judges, from a warehouse brought up to the rules in force: the ingest's
/// health, the day's numbers, Dify's newest message, the open episodes and the silences, and
/// whether the day is covered by the data.
async fn gather(
    wh: &Warehouse,
    settings: &Settings,
    date: NaiveDate,
    dry_run: bool,
    now: NaiveDateTime,
) -> anyhow::Result<Facts> {
    let thresholds = &settings.alerts.thresholds;
    let access = if dry_run { Access::DryRun } else { Access::Use };
    let rules = pipeline::ensure_current(wh, settings, access).await?;
    let health = wh.ingest_health().await?;
    let period = Period::containing(PeriodKind::Day, date);
    let (data, _) = crate::report::build(wh, &rules, period, false).await?;
    let day = DayFacts { date, kpis: data.totals, top_user: wh.top_user(date).await? };
    let mut firings = evaluate(&health, now, Some(&day), thresholds);
    let traffic =
        TrafficFacts { newest: wh.newest_traffic().await?, read_at: health.last_success.map(|(s, _)| s) };
    firings.extend(no_traffic(&traffic, thresholds, &settings.alerts.calendar));
    let warnings = coverage(wh, settings, &period).await?;
    Ok(Facts { firings, open: wh.open_episodes().await?, silences: wh.active_silences(now).await?, warnings })
}

/// Whether the checked day is covered by the data: the report's `period_not_covered` (read
/// before the day ended), or the day before the oldest message stored. The report's
/// `stale_ingest` warning is left out: the alert of that name says it.
async fn coverage(
    wh: &Warehouse,
    settings: &Settings,
    period: &Period,
) -> anyhow::Result<Vec<ReportWarning>> {
    let lang = settings.report.lang;
    let mut warnings = crate::report::warnings::gather(wh, settings, period, lang).await?;
    warnings.retain(|w| w.kind != "stale_ingest");
    let day_end = local_midnight_utc(settings.rules.tz, period.end + Days::new(1));
    if let Some(oldest) = wh.oldest_message().await?
        && day_end <= oldest
    {
        let first = crate::transform::time::to_local(settings.rules.tz, oldest);
        let message = text::before_data(period.end, first, lang);
        warnings.push(ReportWarning { kind: "period_not_covered", message });
    }
    Ok(warnings)
}

/// What [`deliver`] works from.
struct Deliver<'a> {
    settings: &'a Settings,
    wh: Option<&'a Warehouse>,
    judgement: &'a Judgement,
    messages: &'a [String],
    date: NaiveDate,
}

/// Sends each target what it is due, as one post or mail; holds it in quiet time; records
/// each notification with what it told (`--dry-run`: says what it would send).
async fn deliver(
    c: &Deliver<'_>,
    open: &[Episode],
    targets: &[Target],
    now: DateTime<Utc>,
    dry_run: bool,
) -> anyhow::Result<Vec<Sent>> {
    let at = now.naive_utc();
    let habits = habits(c.settings);
    let mut ended = match c.wh {
        Some(wh) => wh.untold_episodes().await?,
        None => Vec::new(),
    };
    if dry_run {
        // What this check would have closed, as if it had.
        let closing = open.iter().filter(|e| c.judgement.changes.clear.contains(&e.id));
        ended.extend(closing.map(|e| Episode { cleared_at: Some(at), ..e.clone() }));
    }
    let mut out = Vec::new();
    for target in targets {
        let told = match c.wh {
            Some(wh) => wh.told(&target.recipient).await?,
            None => Vec::new(),
        };
        let due = episodes::due(&c.judgement.alerts, &ended, &told, &habits, at);
        if let Some(wh) = c.wh.filter(|_| !dry_run && !due.settle.is_empty()) {
            wh.record_settled(&due.settle, &target.recipient, at).await?;
        }
        let mut sent = Sent {
            target: target.clone(),
            status: "skipped",
            error: None,
            firing: due.firing.clone(),
            resolved: due.resolved.clone(),
            held_until: None,
        };
        if due.is_empty() {
            if c.judgement.alerts.iter().any(|j| j.fires()) {
                out.push(sent);
            }
            continue;
        }
        if due.held {
            sent.status = "held";
            sent.held_until = c.settings.alerts.calendar.quiet_until(at);
            if let Some(wh) = c.wh.filter(|_| !dry_run) {
                wh.record_held(&episode_ids(c.judgement, &due.firing), &target.recipient, at).await?;
            }
            out.push(sent);
            continue;
        }
        if dry_run {
            sent.status = "would_send";
            out.push(sent);
            continue;
        }
        send_one(c, &mut sent, at).await?;
        out.push(sent);
    }
    Ok(out)
}

/// The episode ids of the judged alerts at `indexes`.
fn episode_ids(judgement: &Judgement, indexes: &[usize]) -> Vec<i64> {
    indexes.iter().filter_map(|&i| judgement.alerts[i].episode).collect()
}

/// Sends one channel's post or mail and records it, with what it told, in one transaction.
async fn send_one(c: &Deliver<'_>, sent: &mut Sent, at: NaiveDateTime) -> anyhow::Result<()> {
    let settings = c.settings;
    let group = Group {
        firing: sent
            .firing
            .iter()
            .map(|&i| {
                let j = &c.judgement.alerts[i];
                FiringEntry { firing: &j.firing, message: &c.messages[i], since: j.since }
            })
            .collect(),
        resolved: &sent.resolved,
        tz: settings.rules.tz,
        lang: settings.report.lang,
    };
    let subject = group.mail_subject();
    let plain = group.mail_body(&footer(settings, c.date));
    let markdown = group.wecom();
    let note = Note { subject: &subject, plain: &plain, markdown: &markdown };
    let result = notify::send(settings, &sent.target, &note).await.map_err(|e| one_line(&e));
    if result.is_ok() {
        crate::testing::maybe_abort_after_send();
    }
    sent.status = if result.is_ok() { "sent" } else { "failed" };
    sent.error = result.err();
    let firing = episode_ids(c.judgement, &sent.firing);
    let resolved: Vec<i64> = sent.resolved.iter().map(|e| e.id).collect();
    let label = delivery_label(&firing, &resolved);
    if let Some(wh) = c.wh {
        let delivery = Delivery {
            report_kind: DELIVERY_KIND,
            period_label: &label,
            recipient: &sent.target.recipient,
            subject: &subject,
            attachment: None,
            status: sent.status,
            error: sent.error.as_deref(),
        };
        wh.record_notification(&Notified { delivery, firing: &firing, resolved: &resolved, at }).await?;
    }
    Ok(())
}

/// The delivery log's `period_label` of a notification: the episodes it told of,
/// `firing 3,5; resolved 2`.
fn delivery_label(firing: &[i64], resolved: &[i64]) -> String {
    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut parts = Vec::new();
    if !firing.is_empty() {
        parts.push(format!("firing {}", list(firing)));
    }
    if !resolved.is_empty() {
        parts.push(format!("resolved {}", list(resolved)));
    }
    parts.join("; ")
}

/// The end of an alert mail: the day checked and where the mail came from.
fn footer(settings: &Settings, date: NaiveDate) -> String {
    let lang = settings.report.lang;
    let mut out = format!("{}: {date} ({})\n", lang.pick("检查日期", "Day checked"), settings.rules.timezone);
    out.push_str(lang.pick(
        "itstat check 发送；同一告警持续期间按 [alerts] repeat 重复提醒，结束时发送“已恢复”。\n",
        "Sent by `itstat check`; while an alert keeps firing it is sent again after `[alerts] repeat`, and its end is told.\n",
    ));
    out
}
