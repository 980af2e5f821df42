//! `itstat mark`: operators record that a human handled a message, or correct its
//! knowledge-base verdict. Marks are appended, never changed; `--history` shows them.
//!
//! Every id is resolved before anything is written: one unknown or ambiguous id and the whole
//! call changes nothing. Ids, the messages' current flags and the marks are read and written
//! in batches, so a file of thousands of ids costs a few queries (docs/warehouse.md,
//! "Operator commands"). `--from-file` takes a list of ids or a CSV, also the one
//! `itstat messages --format csv` prints: only the values a row changes are marked.

use std::collections::HashMap;
use std::path::Path;

use crate::bail_user;
use crate::cli::{KbVerdict, MarkArgs};
use crate::cmd::ids::{operator, resolve_all, resolve_one};
use crate::cmd::messages::{CSV_COLUMNS, Stored};
use crate::config::Settings;
use crate::error::user_error;
use crate::import::values::flag_text;
use crate::pipeline::{self, Access};
use crate::textsafe::short;
use crate::transform::RulesInForce;
use crate::transform::messages::MessageState;
use crate::warehouse::browse::MarkTarget;
use crate::warehouse::marks::NewMark;
use crate::warehouse::sessions::InputLookup;
use crate::warehouse::{OpenMode, Warehouse};

/// What one request sets.
#[derive(Debug, Clone, Default, PartialEq)]
struct Fields {
    manual: Option<bool>,
    /// `Some(None)` is `auto`.
    kb_hit: Option<Option<bool>>,
    note: Option<String>,
}

impl Fields {
    fn is_empty(&self) -> bool {
        self.manual.is_none() && self.kb_hit.is_none()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.manual {
            parts.push(format!("manual={}", if m { "yes" } else { "no" }));
        }
        match self.kb_hit {
            Some(Some(v)) => parts.push(format!("kb_hit={}", if v { "yes" } else { "no" })),
            Some(None) => parts.push("kb_hit=auto".to_string()),
            None => {}
        }
        parts.join(" ")
    }
}

/// Runs `itstat mark`.
pub async fn run(settings: &Settings, args: &MarkArgs) -> anyhow::Result<()> {
    if let Some(id) = &args.history {
        // The marks as recorded: facts, nothing derived.
        let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
        let result = history(settings, &wh, id).await;
        wh.close().await;
        return result;
    }
    // A mark changes sessions, which must be derived under the rules in force; the flags a
    // file row is compared with are derived ones too (docs/metrics.md §8).
    let access = if args.dry_run { Access::DryRun } else { Access::Use };
    let (wh, rules) = pipeline::open_current(settings, access).await?;
    let result = mark(&rules, &wh, args).await;
    wh.close().await;
    result
}

fn defaults(args: &MarkArgs) -> Fields {
    Fields {
        manual: if args.manual {
            Some(true)
        } else if args.no_manual {
            Some(false)
        } else {
            None
        },
        kb_hit: args.kb_hit.map(|v| match v {
            KbVerdict::Yes => Some(true),
            KbVerdict::No => Some(false),
            KbVerdict::Auto => None,
        }),
        note: args.note.clone(),
    }
}

/// One id to mark, with what its file row says (nothing for a typed id or a plain list).
#[derive(Debug, Clone, PartialEq)]
struct Request {
    typed: String,
    /// The row's cells; `None` where it has no such column or leaves it empty.
    row: Fields,
}

/// A message's current flags, marks applied.
#[derive(Debug, Clone, Copy, Default)]
struct Current {
    manual: bool,
    kb_hit: bool,
    /// Whether an operator's verdict decides kb_hit (else the rule does).
    kb_marked: bool,
}

async fn mark(rules: &RulesInForce, wh: &Warehouse, args: &MarkArgs) -> anyhow::Result<()> {
    let base = defaults(args);
    let requests = requests(args, &base)?;
    let typed: Vec<String> = requests.iter().map(|r| r.typed.clone()).collect();
    // Every id is resolved (a few queries for any number) before anything is written.
    let ids = resolve_all(wh, &typed).await?;
    let targets = targets(wh, &ids).await?;
    let who = operator(args.operator.as_deref());
    let (marks, lines) = plan(&base, &requests, &ids, &targets, &who);
    if args.dry_run {
        for (marks, l) in &lines {
            println!("{}{l}", if *marks { "would mark " } else { "" });
        }
        println!("dry run: nothing written");
        return Ok(());
    }
    if !marks.is_empty() {
        let mut tx = wh.begin().await?;
        let (_, affected) = tx.append_marks(&marks, false).await?;
        pipeline::derive::rederive_users(&mut tx, &affected, rules, InputLookup::ByUser).await?;
        tx.commit().await?;
    }
    for (marks, l) in &lines {
        match marks {
            true => println!("marked {l} by {who}"),
            false => println!("{l}"),
        }
    }
    if marks.is_empty() {
        println!("nothing to mark: every row already holds the values the file gives");
    }
    Ok(())
}

/// What was asked: the ids typed and the file's rows, each with something to mark.
fn requests(args: &MarkArgs, base: &Fields) -> anyhow::Result<Vec<Request>> {
    let mut requests: Vec<Request> =
        args.ids.iter().map(|id| Request { typed: id.clone(), row: Fields::default() }).collect();
    if let Some(file) = &args.from_file {
        requests.extend(read_file(file)?);
    }
    if requests.is_empty() {
        bail_user!("no ids to mark: give ids or `--from-file FILE`");
    }
    if let Some(r) = requests.iter().find(|r| base.is_empty() && r.row.is_empty()) {
        bail_user!(
            "nothing to mark for `{}`: add `--manual`, `--no-manual` or `--kb-hit yes|no|auto`",
            r.typed
        );
    }
    Ok(requests)
}

/// The marks to write and, in the order of the requests, (whether it marks, the line that
/// says what).
fn plan(
    base: &Fields,
    requests: &[Request],
    ids: &[String],
    targets: &HashMap<String, MarkTarget>,
    who: &str,
) -> (Vec<NewMark>, Vec<(bool, String)>) {
    let now = chrono::Utc::now().naive_utc();
    let (mut marks, mut lines) = (Vec::new(), Vec::new());
    for (r, id) in requests.iter().zip(ids) {
        let target = targets.get(id);
        let brief = target
            .map(|m| {
                format!(
                    "{}, {}, {}",
                    short(&m.head.user_key, 20),
                    m.head.local_time.format("%m-%d %H:%M"),
                    short(&m.head.question, 30)
                )
            })
            .unwrap_or_default();
        let fields = if r.row.is_empty() {
            Fields { note: r.row.note.clone().or_else(|| base.note.clone()), ..base.clone() }
        } else {
            wanted(base, &r.row, current(target))
        };
        if fields.is_empty() {
            lines.push((
                false,
                format!("unchanged {} ({brief}): the file's values are already current", &id[..8]),
            ));
            continue;
        }
        lines.push((true, format!("{} ({brief}): {}", &id[..8], fields.describe())));
        let new = |field: &'static str, value: Option<bool>| NewMark {
            message_id: id.clone(),
            field,
            value,
            operator: who.to_string(),
            note: fields.note.clone(),
            marked_at: now,
            dated: true,
            source: "cli",
        };
        marks.extend(fields.manual.map(|v| new("manual", Some(v))));
        marks.extend(fields.kb_hit.map(|v| new("kb_hit", v)));
    }
    (marks, lines)
}

/// The messages to mark, by id, read in a few queries for any number of ids.
async fn targets(wh: &Warehouse, ids: &[String]) -> anyhow::Result<HashMap<String, MarkTarget>> {
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    Ok(wh.mark_targets(&distinct).await?.into_iter().map(|t| (t.head.message_id.clone(), t)).collect())
}

/// The message's current flags: its latest marks over the rules' verdicts.
fn current(target: Option<&MarkTarget>) -> Current {
    let stored = match target {
        Some(t) => {
            Stored { state: t.head.state, kb_hit: t.kb_hit, kb_mark: t.kb_mark, manual_mark: t.manual_mark }
        }
        None => Stored { state: MessageState::Pending, kb_hit: false, kb_mark: None, manual_mark: None },
    };
    let (kb_hit, manual) = stored.effective();
    Current { manual, kb_hit, kb_marked: stored.kb_mark.is_some() }
}

/// What a file row asks for. A cell equal to the message's current value is as if empty: a
/// file that `itstat messages --format csv` printed holds every current value, and only what
/// the operator edited is a change. A cell that differs wins over the command line; elsewhere
/// the command line applies.
fn wanted(base: &Fields, row: &Fields, now: Current) -> Fields {
    let manual = match row.manual {
        Some(v) if v != now.manual => Some(v),
        _ => base.manual,
    };
    let kb_hit = match row.kb_hit {
        Some(Some(v)) if v != now.kb_hit => Some(Some(v)),
        Some(None) if now.kb_marked => Some(None),
        _ => base.kb_hit,
    };
    Fields { manual, kb_hit, note: row.note.clone().or_else(|| base.note.clone()) }
}

/// The columns a `--from-file` CSV may set.
const READ: [&str; 4] = ["id", "manual", "kb_hit", "note"];

/// Ids from a file: one per line (`#` comments allowed), or CSV whose header has `id` and
/// optionally `manual`, `kb_hit`, `note`. The other columns `itstat messages --format csv`
/// prints are ignored, so its output can be filtered, edited and marked as it is; any other
/// column is an error.
fn read_file(path: &Path) -> anyhow::Result<Vec<Request>> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| user_error(format!("{name}: cannot read it: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    if !first.split(',').any(|h| h.trim().eq_ignore_ascii_case("id")) {
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| Request { typed: l.to_string(), row: Fields::default() })
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_lowercase()).collect();
    if let Some(bad) =
        headers.iter().find(|h| !READ.contains(&h.as_str()) && !CSV_COLUMNS.contains(&h.as_str()))
    {
        bail_user!(
            "{name}: column \"{}\" is not one of id, manual, kb_hit, note (nor another column of `itstat messages --format csv`, which are ignored); remove or rename it",
            short(bad, 40)
        );
    }
    let col = |row: &csv::StringRecord, name: &str| -> String {
        headers.iter().position(|h| h == name).and_then(|i| row.get(i)).unwrap_or_default().trim().to_string()
    };
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| user_error(format!("{name}: row {}: {e}", i + 2)))?;
        let bad =
            |column: &str, why: String| user_error(format!("{name}: row {}, column {column}: {why}", i + 2));
        let mut fields = Fields::default();
        let manual = col(&row, "manual");
        fields.manual = flag_text(&manual).map_err(|why| bad("manual", why))?;
        let kb = col(&row, "kb_hit");
        if kb.eq_ignore_ascii_case("auto") {
            fields.kb_hit = Some(None);
        } else if !kb.is_empty() {
            fields.kb_hit = Some(flag_text(&kb).map_err(|why| bad("kb_hit", why))?);
        }
        fields.note = Some(col(&row, "note")).filter(|n| !n.is_empty());
        out.push(Request { typed: col(&row, "id"), row: fields });
    }
    Ok(out)
}

async fn history(settings: &Settings, wh: &Warehouse, typed: &str) -> anyhow::Result<()> {
    let id = resolve_one(wh, typed).await.map_err(user_error)?;
    let marks = wh.mark_history(&id).await?;
    println!("marks of {id}");
    if marks.is_empty() {
        println!("  none: the rules decide every flag");
        return Ok(());
    }
    for k in &marks {
        let value = match k.value {
            Some(true) => "yes",
            Some(false) => "no",
            None => "auto",
        };
        let when = crate::report::local(settings.rules.tz, k.marked_at).format("%Y-%m-%d %H:%M:%S");
        let note = k.note.as_deref().map(|n| format!("  — {}", short(n, 60))).unwrap_or_default();
        println!(
            "  #{:<5} {when}  {:<12} {}={value}  ({}){note}",
            k.mark_id,
            short(&k.operator, 12),
            k.field,
            k.source
        );
    }
    let current = |field: &str| marks.iter().rev().find(|k| k.field == field).map(|k| k.value);
    let manual = match current("manual") {
        Some(Some(true)) => "yes",
        _ => "no",
    };
    let kb = match current("kb_hit") {
        Some(Some(true)) => "yes (operator)",
        Some(Some(false)) => "no (operator)",
        _ => "by the rule",
    };
    println!("current: manual={manual}, kb_hit {kb}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_cells_change_nothing_and_edited_ones_win() {
        let now = Current { manual: false, kb_hit: true, kb_marked: false };
        let kept = Fields { manual: Some(false), kb_hit: Some(Some(true)), note: None };
        assert!(wanted(&Fields::default(), &kept, now).is_empty());
        let base = Fields { manual: Some(true), ..Fields::default() };
        assert_eq!(wanted(&base, &kept, now).manual, Some(true), "the command line applies over kept cells");
        let edited = Fields { manual: Some(true), kb_hit: Some(Some(false)), note: None };
        let no_manual = Fields { manual: Some(false), ..Fields::default() };
        assert_eq!(
            wanted(&no_manual, &edited, now),
            Fields { manual: Some(true), kb_hit: Some(Some(false)), note: None }
        );
        let auto = Fields { kb_hit: Some(None), ..Fields::default() };
        assert!(wanted(&Fields::default(), &auto, now).is_empty(), "the rule decides already");
        assert_eq!(wanted(&Fields::default(), &auto, Current { kb_marked: true, ..now }).kb_hit, Some(None));
    }

    #[test]
    fn the_csv_messages_prints_is_read_and_other_columns_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        let row =
            "10000000-0000-4000-8000-000000000005,2026-11-02 09:00:00,zs,q,a,answered,true,false,false,x";
        std::fs::write(&path, format!("{}\n{row}\n", CSV_COLUMNS.join(","))).unwrap();
        let requests = read_file(&path).unwrap();
        let row = Fields { manual: Some(false), kb_hit: Some(Some(true)), note: None };
        assert_eq!(requests, [Request { typed: "10000000-0000-4000-8000-000000000005".into(), row }]);
        std::fs::write(&path, "id,kb_hit,colour\nabc,auto,red\n").unwrap();
        let err = read_file(&path).unwrap_err().to_string();
        assert!(err.contains("m.csv: column \"colour\" is not one of id, manual, kb_hit, note"), "{err}");
    }
}
