//! `itstat report`: the KPIs of a period as JSON, Markdown and a workbook, optionally mailed.
//!
//! Everything the user typed is checked before anything is computed or written: the period,
//! the formats, the recipients and the mail settings. Files are written atomically into the
//! output folder and named by kind and period (`itstat-day-2026-11-22.xlsx`). Mail goes only
//! to recipients the delivery log has not recorded for this report and period, unless
//! `--force`; `--dry-run` writes the `.eml` instead of sending and records nothing. Each
//! recipient's outcome is recorded on its own, so a refused address is tried again on the next
//! run and the others are not mailed twice. `--wecom` posts the summary to the WeCom group,
//! once per period in the same delivery log (recipient `wecom`). Numbers that may be
//! incomplete carry warnings in every format (docs/alerts.md).

use std::path::{Path, PathBuf};

use lettre::Message;
use lettre::message::Mailbox;

use crate::bail_user;
use crate::calendar::Lang;
use crate::calendar::Period;
use crate::calendar::PeriodKind;
use crate::cli::{ReportArgs, ReportFormat};
use crate::config::Settings;
use crate::fsutil::write_atomic;
use crate::notify::WECOM_RECIPIENT;
use crate::pipeline::{self, Access};
use crate::report::detail::ReportDetail;
use crate::report::{self, ReportData, email, json, markdown, warnings, xlsx};
use crate::warehouse::Warehouse;
use crate::warehouse::deliveries::Delivery;

/// Who gets the mail, validated before any work.
struct MailPlan {
    from: Mailbox,
    to: Vec<(String, Mailbox)>,
}

/// Runs `itstat report`.
pub async fn run(settings: &Settings, args: &ReportArgs) -> anyhow::Result<()> {
    let (dates, addresses): (Vec<&String>, Vec<&String>) = args.to.iter().partition(|v| !v.contains('@'));
    if dates.len() > 1 {
        bail_user!("`--to` takes one date (the end of a custom period); got {}", dates.len());
    }
    let today = crate::clock::now().with_timezone(&settings.rules.tz).date_naive();
    let to_date = dates.first().map(|s| s.as_str());
    let period = Period::resolve(args.period, args.date.as_deref(), args.from.as_deref(), to_date, today)?;
    let plan = if args.mail { Some(mail_plan(settings, &addresses)?) } else { None };
    if !addresses.is_empty() && plan.is_none() {
        bail_user!("`--to {}` is an address, which needs `--mail`", addresses[0]);
    }
    if args.wecom && !args.dry_run {
        // Checked before any work, as the mail settings are.
        crate::notify::wecom::Robot::new(&settings.wecom)?;
    }
    let formats = dedup(&args.format);
    let lang = settings.report.lang;
    let wants_detail = args.mail || args.wecom || formats.iter().any(|f| *f != ReportFormat::Json);

    // The numbers are those of the rules in force: a warehouse derived under others is
    // derived again first (docs/metrics.md §8).
    let (wh, rules) = pipeline::open_current(settings, Access::Use).await?;
    let (mut data, detail) = report::build(&wh, &rules, period, wants_detail).await?;
    // Shared with the workbook's thread rather than copied (a month's rows).
    let detail = std::sync::Arc::new(detail.unwrap_or_default());
    // No silent zeros: numbers that may be incomplete say so in every format (docs/alerts.md).
    data.warnings = warnings::gather(&wh, settings, &data.period, lang).await?;
    match topics_and_gaps(&wh, settings, &data.period).await {
        Ok((topics, gaps)) => {
            if let Some(why) = &topics.warning {
                data.warnings.push(warnings::gaps_by_wording(why, lang));
            }
            if let Some(why) = &topics.unstored {
                data.warnings.push(warnings::topics_not_stored(&wh.place, why, lang));
            }
            data.topics = Some(topics);
            data.gaps = Some(gaps);
        }
        Err(e) => return Err(e),
    }
    for w in &data.warnings {
        tracing::warn!(kind = w.kind, "{}", w.message);
    }
    let base = settings.report.out_dir.join(file_stem(&period));
    let prints_json = formats.contains(&ReportFormat::Json);
    if prints_json {
        println!("{}", json::render(&data));
    }
    let workbook = if formats.contains(&ReportFormat::Xlsx) || args.mail {
        let path = base.with_extension("xlsx");
        let bytes = write_workbook(&wh, &data, &detail, lang, &path).await?;
        println!("wrote {}", path.display());
        Some((path, bytes))
    } else {
        None
    };
    if formats.contains(&ReportFormat::Md) {
        let text = markdown::render(&data, &detail, lang);
        let path = base.with_extension("md");
        write_atomic(&path, text.as_bytes())?;
        if prints_json {
            println!("wrote {}", path.display());
        } else {
            print!("{text}");
        }
    }
    // Mail and WeCom are tried both, whatever the other did; the first error is the exit's.
    let mailed = match (plan, workbook) {
        (Some(plan), Some((path, bytes))) => {
            deliver(settings, &wh, &plan, args, (&data, &detail, lang), (&path, bytes)).await
        }
        _ => Ok(()),
    };
    let posted =
        if args.wecom { post_to_wecom(settings, &wh, args, (&data, &detail, lang)).await } else { Ok(()) };
    wh.close().await;
    mailed.and(posted)
}

/// The period's topics (placed and stored, docs/topics.md) and its knowledge gaps, the
/// unanswered part of the topics (docs/gaps.md).
async fn topics_and_gaps(
    wh: &Warehouse,
    settings: &Settings,
    period: &Period,
) -> anyhow::Result<(crate::topics::period::Topics, crate::topics::gaps::Gaps)> {
    let topics = crate::topics::period::find(wh, settings, period).await?;
    let gaps = crate::topics::gaps::find(wh, period, &topics).await?;
    Ok((topics, gaps))
}

/// Posts the period's summary to the WeCom group unless the delivery log has it already
/// (`--force` posts again); `--dry-run` prints it and posts nothing.
async fn post_to_wecom(
    settings: &Settings,
    wh: &Warehouse,
    args: &ReportArgs,
    (data, detail, lang): (&ReportData, &ReportDetail, Lang),
) -> anyhow::Result<()> {
    let kind = file_stem(&data.period);
    let label = data.period.label();
    let content = crate::notify::text::wecom_summary(data, detail, lang);
    if args.dry_run {
        println!("dry run: would post to WeCom:\n{content}");
        return Ok(());
    }
    if let Some(when) = wh.sent_at(&kind, &label, WECOM_RECIPIENT).await?
        && !args.force
    {
        let local = report::local(settings.rules.tz, when).format("%Y-%m-%d %H:%M");
        println!("already posted to WeCom on {local}; use --force to post again");
        return Ok(());
    }
    let robot = crate::notify::wecom::Robot::new(&settings.wecom)?;
    let result = robot.post_markdown(&content).await;
    let subject = email::subject(data, lang);
    let error = result.as_ref().err().map(crate::error::one_line);
    wh.record_delivery(&Delivery {
        report_kind: &kind,
        period_label: &label,
        recipient: WECOM_RECIPIENT,
        subject: &subject,
        attachment: None,
        status: if result.is_ok() { "sent" } else { "failed" },
        error: error.as_deref(),
    })
    .await?;
    result?;
    println!("posted \"{subject}\" to WeCom");
    Ok(())
}

fn dedup(formats: &[ReportFormat]) -> Vec<ReportFormat> {
    let mut out = Vec::new();
    for f in formats {
        if !out.contains(f) {
            out.push(*f);
        }
    }
    out
}

/// `itstat-day-2026-11-22`, `itstat-week-2026-W47`, `itstat-month-2026-11`.
fn file_stem(period: &Period) -> String {
    let kind = match period.kind {
        PeriodKind::Day => "day",
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
        PeriodKind::Custom => "custom",
    };
    format!("itstat-{kind}-{}", period.label())
}

fn mail_plan(settings: &Settings, addresses: &[&String]) -> anyhow::Result<MailPlan> {
    let mail = &settings.mail;
    if addresses.is_empty() && mail.to.is_empty() {
        bail_user!("`--mail` needs a recipient: give `--to ADDR` or set `[mail] to` in itstat.toml");
    }
    if mail.host.is_none() {
        bail_user!("`--mail` needs an SMTP server: set `[mail] host` in itstat.toml");
    }
    let Some(from) = mail.from.clone() else {
        bail_user!("`--mail` needs a sender: set `[mail] from` in itstat.toml");
    };
    // `--to` replaces `[mail] to` (parsed when the config loaded); only what was typed here
    // is parsed here.
    let listed = if addresses.is_empty() {
        mail.to.clone()
    } else {
        addresses.iter().map(|a| email::mailbox(a, "`--to`")).collect::<anyhow::Result<Vec<Mailbox>>>()?
    };
    let mut to: Vec<(String, Mailbox)> = Vec::new();
    for mailbox in listed {
        let address = mailbox.email.to_string();
        // One mailbox once, however its address is written (the delivery log compares them
        // without case too).
        if !to.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(&address)) {
            to.push((address, mailbox));
        }
    }
    Ok(MailPlan { from, to })
}

async fn write_workbook(
    wh: &Warehouse,
    data: &ReportData,
    detail: &std::sync::Arc<ReportDetail>,
    lang: Lang,
    path: &Path,
) -> anyhow::Result<Vec<u8>> {
    let (wh, data, detail) = (wh.clone(), data.clone(), detail.clone());
    let runtime = tokio::runtime::Handle::current();
    let bytes = tokio::task::spawn_blocking(move || {
        // The Messages sheet asks for its answers a block at a time (xlsx::Answers).
        let mut answers = |ids: &[&str]| runtime.block_on(wh.answers_of(ids));
        xlsx::workbook(&data, &detail, lang, &mut answers)
    })
    .await??;
    write_atomic(path, &bytes)?;
    Ok(bytes)
}

/// Mails the report to the recipients that have not had it, or writes the `.eml` on a dry run.
async fn deliver(
    settings: &Settings,
    wh: &Warehouse,
    plan: &MailPlan,
    args: &ReportArgs,
    (data, detail, lang): (&ReportData, &ReportDetail, Lang),
    (path, bytes): (&PathBuf, Vec<u8>),
) -> anyhow::Result<()> {
    let kind = file_stem(&data.period);
    let label = data.period.label();
    let mut todo = Vec::new();
    for (address, mailbox) in &plan.to {
        match wh.sent_at(&kind, &label, address).await? {
            Some(when) if !args.force => {
                let local = report::local(settings.rules.tz, when).format("%Y-%m-%d %H:%M");
                println!("already sent to {address} on {local}; use --force to send again");
            }
            _ => todo.push(mailbox.clone()),
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    let file_name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let message = email::message(&plan.from, &todo, data, detail, lang, (&file_name, bytes))?;
    if args.dry_run {
        let eml = path.with_extension("eml");
        write_atomic(&eml, &message.formatted())?;
        println!("dry run: wrote {} (not sent)", eml.display());
        return Ok(());
    }
    let subject = email::subject(data, lang);
    let outcomes = send_to_each(settings, &message, &todo).await;
    for (mailbox, outcome) in todo.iter().zip(&outcomes) {
        let address = mailbox.email.to_string();
        wh.record_delivery(&Delivery {
            report_kind: &kind,
            period_label: &label,
            recipient: &address,
            subject: &subject,
            attachment: Some(&file_name),
            status: if outcome.is_ok() { "sent" } else { "failed" },
            error: outcome.as_ref().err().map(String::as_str),
        })
        .await?;
    }
    let names: Vec<String> =
        todo.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()).map(|(m, _)| m.email.to_string()).collect();
    if !names.is_empty() {
        println!("sent \"{subject}\" to {}", names.join(", "));
    }
    match outcomes.into_iter().find_map(Result::err) {
        Some(error) => Err(anyhow::anyhow!(error)),
        None => Ok(()),
    }
}

/// Sends `message` to `todo` and says, per recipient, whether it went (or the one-line error).
/// One SMTP transaction normally; when the server refuses it (a 5xx, usually one bad
/// address), once more to each recipient alone, so one departed colleague's address does
/// not keep the report from everyone else. A transient failure is the same for everyone.
async fn send_to_each(settings: &Settings, message: &Message, todo: &[Mailbox]) -> Vec<Result<(), String>> {
    let error = match crate::mail::send(&settings.mail, message).await {
        Ok(()) => return todo.iter().map(|_| Ok(())).collect(),
        Err(e) => e,
    };
    if todo.len() < 2 || !error.is::<crate::mail::Refused>() {
        let line = crate::error::one_line(&error);
        return todo.iter().map(|_| Err(line.clone())).collect();
    }
    let mut outcomes = Vec::with_capacity(todo.len());
    for mailbox in todo {
        let sent = crate::mail::send_to(&settings.mail, message, &mailbox.email).await;
        outcomes.push(sent.map_err(|e| format!("{}: {}", mailbox.email, crate::error::one_line(&e))));
    }
    outcomes
}
