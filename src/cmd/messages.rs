//! `itstat messages`: find messages; `itstat messages show ID`: one message whole, with its
//! session and the reason for every flag.

use std::fmt::Write;

use chrono::{Duration, NaiveDateTime};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use super::ids::{resolve_one, short_ids};
use crate::bail_user;
use crate::calendar::{local_midnight_utc, parse_date};
use crate::cli::{ListFormat, MessagesArgs, MessagesCommand};
use crate::config::Settings;
use crate::error::user_error;
use crate::pipeline::{self, Access};
use crate::textsafe::{short, terminal};
use crate::transform::RulesInForce;
use crate::transform::marks;
use crate::transform::messages::MessageState;
use crate::warehouse::Warehouse;
use crate::warehouse::browse::{FullMessage, ListFilter};
use crate::warehouse::marks::MarkRow;

/// A listed message with effective flags, as printed.
#[derive(Debug, Serialize)]
struct Listed {
    id: String,
    time: String,
    user: String,
    question: String,
    answer: String,
    state: MessageState,
    kb_hit: bool,
    transfer: bool,
    manual: bool,
    session_id: Option<String>,
}

/// Runs `itstat messages`.
pub async fn run(settings: &Settings, args: &MessagesArgs) -> anyhow::Result<()> {
    let (wh, rules) = pipeline::open_current(settings, Access::Use).await?;
    let result = match &args.show {
        Some(MessagesCommand::Show { id }) => show(settings, &rules, &wh, id).await,
        None => list(settings, &wh, args).await,
    };
    wh.close().await;
    result
}

/// The UTC range of `--since` and `--until`.
fn range(settings: &Settings, args: &MessagesArgs) -> anyhow::Result<(NaiveDateTime, NaiveDateTime)> {
    let now = crate::clock::now().naive_utc();
    let since = args.since.as_deref().unwrap_or("1d");
    let from = if since.len() == 10 && since.as_bytes()[4] == b'-' {
        local_midnight_utc(settings.rules.tz, parse_date(since, "--since")?)
    } else {
        let d = humantime::parse_duration(since).map_err(|_| {
            user_error(format!(
                "`--since`: \"{since}\" is neither a duration (90m, 1d) nor a date (YYYY-MM-DD)"
            ))
        })?;
        now - Duration::from_std(d).unwrap_or_default()
    };
    let to = match &args.until {
        Some(d) => local_midnight_utc(settings.rules.tz, parse_date(d, "--until")? + Duration::days(1)),
        None => now + Duration::days(1),
    };
    if from >= to {
        bail_user!("`--since` is after `--until`; nothing can match");
    }
    Ok((from, to))
}

/// The columns of `--format csv`, which `itstat mark --from-file` also reads.
pub(crate) const CSV_COLUMNS: [&str; 10] =
    ["id", "time", "user", "question", "answer", "state", "kb_hit", "transfer", "manual", "session_id"];

/// A message's flags as stored: its state, the rule's kb_hit and its current marks.
pub(crate) struct Stored {
    pub state: MessageState,
    /// The rule's verdict.
    pub kb_hit: bool,
    /// The current operator verdict, if any.
    pub kb_mark: Option<bool>,
    /// The current manual mark, if any.
    pub manual_mark: Option<bool>,
}

impl Stored {
    /// Effective flags (`transform::marks::effective`): (kb_hit, manual).
    pub(crate) fn effective(&self) -> (bool, bool) {
        marks::effective(self.state, self.kb_hit, self.kb_mark, self.manual_mark)
    }
}

async fn list(settings: &Settings, wh: &Warehouse, args: &MessagesArgs) -> anyhow::Result<()> {
    let (from, to) = range(settings, args)?;
    let filter = ListFilter {
        from,
        to,
        user: args.user.clone(),
        grep: args.grep.clone(),
        unhit: args.unhit,
        transfer: args.transfer,
        manual: args.manual,
        limit: args.limit,
    };
    let mut listed: Vec<Listed> = wh
        .list_messages(&filter)
        .await?
        .into_iter()
        .map(|r| Listed {
            id: r.head.message_id,
            time: r.head.local_time.format("%Y-%m-%d %H:%M:%S").to_string(),
            user: r.head.user_key,
            question: r.head.question,
            answer: r.answer,
            state: r.head.state,
            kb_hit: r.kb_hit,
            transfer: r.transfer,
            manual: r.manual,
            session_id: r.session_id,
        })
        .collect();
    listed.reverse(); // oldest first, like a log
    match args.format {
        ListFormat::Json => println!("{}", serde_json::to_string_pretty(&listed)?),
        ListFormat::Csv => print_csv(&listed)?,
        ListFormat::Table => {
            let ids: Vec<String> = listed.iter().map(|r| r.id.clone()).collect();
            print_table(&listed, &short_ids(wh, &ids).await?)
        }
    }
    Ok(())
}

fn yes(v: bool) -> &'static str {
    if v { "yes" } else { "-" }
}

fn print_table(rows: &[Listed], short_ids: &[String]) {
    if rows.is_empty() {
        println!("no messages match (widen `--since`, or drop a filter)");
        return;
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(["time", "id", "user", "question", "state", "kb", "transfer", "manual"]);
    for (r, id) in rows.iter().zip(short_ids) {
        table.add_row([
            r.time[5..16].to_string(),
            id.clone(),
            short(&r.user, 20),
            short(&r.question, 40),
            r.state.to_string(),
            if r.state == MessageState::Answered { yes(r.kb_hit).to_string() } else { "".to_string() },
            yes(r.transfer).to_string(),
            yes(r.manual).to_string(),
        ]);
    }
    println!("{table}");
    println!("{} messages; `itstat messages show ID` for one, `itstat mark ID --manual` to mark", rows.len());
}

fn print_csv(rows: &[Listed]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout());
    w.write_record(CSV_COLUMNS)?;
    for r in rows {
        w.write_record([
            r.id.as_str(),
            &r.time,
            &r.user,
            &r.question,
            &r.answer,
            r.state.as_str(),
            &r.kb_hit.to_string(),
            &r.transfer.to_string(),
            &r.manual.to_string(),
            r.session_id.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(())
}

async fn show(settings: &Settings, rules: &RulesInForce, wh: &Warehouse, typed: &str) -> anyhow::Result<()> {
    let id = resolve_one(wh, typed).await.map_err(user_error)?;
    let Some(m) = wh.full_message(&id).await? else { bail_user!("`{typed}`: no message has this id") };
    let current = wh.current_marks_of(&id).await?;
    let feedback = wh.message_feedback(&id).await?;
    let mut out = String::new();
    describe_message(&mut out, rules, &m);
    describe_verdicts(&mut out, settings, rules, &m, &current);
    describe_feedback(&mut out, &m, &feedback);
    if let (Some(sid), Some(start)) = (&m.session_id, m.session_start) {
        let members = wh.session_members(sid, &m.head.user_key, start).await?;
        let _ = writeln!(out, "\nsession   {sid} ({} messages)", members.len());
        for s in members {
            let here = if s.message_id == m.head.message_id { "→" } else { " " };
            let _ = writeln!(
                out,
                " {here} {}  {}  {:<8}  {}",
                s.local_time.format("%m-%d %H:%M:%S"),
                &s.message_id[..8],
                s.state,
                short(&s.question, 50)
            );
        }
    }
    print!("{out}");
    Ok(())
}

/// Where the message comes from and what was asked and answered.
fn describe_message(out: &mut String, rules: &RulesInForce, m: &FullMessage) {
    let _ = writeln!(out, "message   {}", m.head.message_id);
    let _ = writeln!(out, "time      {} ({})", m.head.local_time, rules.timezone);
    let _ = writeln!(out, "user      {}", terminal(&m.head.user_key, false));
    let gone = match m.conversation_deleted {
        Some(true) => " (deleted in Dify)",
        None => " (gone from Dify)",
        _ => "",
    };
    let _ = writeln!(out, "app       {}   conversation {}{gone}", m.app_id, m.conversation_id);
    let _ = writeln!(
        out,
        "source    {}{}",
        m.invoke_from.as_deref().unwrap_or("(none, Dify < 0.6)"),
        if m.included { "" } else { "  — excluded from the numbers" }
    );
    let indented = |text: &str| terminal(text, true).replace('\n', "\n  ");
    let _ = writeln!(out, "\nquestion\n  {}", indented(&m.head.question));
    if m.query != m.head.question {
        let _ = writeln!(out, "\nfull query\n  {}", indented(&m.query));
    }
    let _ = writeln!(out, "\nanswer\n  {}", indented(&m.answer));
    let error = m.error.as_deref().map(|e| format!(": {}", terminal(e, false))).unwrap_or_default();
    let _ = writeln!(out, "\nstate     {} (Dify status {}{error})", m.head.state, m.status);
}

/// Each flag with the reason for it: the rule's verdict, and the operator's mark where one
/// decides it — the effective verdict of `transform::marks::effective`, as every number has it.
fn describe_verdicts(
    out: &mut String,
    settings: &Settings,
    rules: &RulesInForce,
    m: &FullMessage,
    current: &[MarkRow],
) {
    let latest = |field: &str| current.iter().find(|k| k.field == field);
    let answered = m.head.state == MessageState::Answered;
    let miss = rules.explain_kb_miss(&m.answer);
    let kb_rule = match (answered, &miss) {
        (false, _) => "no — not answered".to_string(),
        (true, Some(why)) => format!("no — the answer matches the miss {why}"),
        (true, None) => "yes — the answer matches no miss phrase or regex".to_string(),
    };
    let kb_mark = latest("kb_hit").filter(|k| k.value.is_some());
    let manual_mark = latest("manual");
    let (kb_hit, manual) = marks::effective(
        m.head.state,
        miss.is_none(),
        kb_mark.and_then(|k| k.value),
        manual_mark.and_then(|k| k.value),
    );
    let yes = |v: bool| if v { "yes" } else { "no" };
    let _ = match kb_mark {
        Some(k) => writeln!(
            out,
            "kb hit    {} — operator {} marked kb_hit={} on {} (the rule says: {kb_rule})",
            yes(kb_hit),
            k.operator,
            yes(k.value == Some(true)),
            fmt_utc(settings, k.marked_at)
        ),
        None => writeln!(out, "kb hit    {kb_rule}"),
    };
    let transfer = match (answered, rules.explain_transfer(&m.answer)) {
        (false, _) => "no — not answered".to_string(),
        (true, Some(why)) => format!("yes — the answer matches the transfer {why}"),
        (true, None) => "no — the answer matches no transfer phrase or regex".to_string(),
    };
    let _ = writeln!(out, "transfer  {transfer}");
    let _ = match manual_mark {
        Some(k) if manual => writeln!(
            out,
            "manual    yes — marked by {} on {}{}",
            k.operator,
            fmt_utc(settings, k.marked_at),
            k.note.as_deref().map(|n| format!(": {}", terminal(n, false))).unwrap_or_default()
        ),
        Some(k) => {
            writeln!(out, "manual    no — withdrawn by {} on {}", k.operator, fmt_utc(settings, k.marked_at))
        }
        None => writeln!(out, "manual    no — no operator mark"),
    };
}

/// Likes and dislikes, latency and tokens.
fn describe_feedback(out: &mut String, m: &FullMessage, feedback: &[(String, String, Option<String>)]) {
    let likes: Vec<String> = feedback
        .iter()
        .map(|(s, r, c)| {
            format!(
                "{r} ({s}){}",
                c.as_deref().map(|c| format!(": {}", terminal(c, false))).unwrap_or_default()
            )
        })
        .collect();
    let shown = if likes.is_empty() { "none".to_string() } else { likes.join(", ") };
    let _ = writeln!(out, "feedback  {shown}");
    let _ =
        writeln!(out, "latency   {:.2} s   tokens {} + {}", m.latency_s, m.message_tokens, m.answer_tokens);
}

fn fmt_utc(settings: &Settings, t: NaiveDateTime) -> String {
    crate::report::local(settings.rules.tz, t).format("%Y-%m-%d %H:%M").to_string()
}
