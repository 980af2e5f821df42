//! `itstat mark`: operators record that a human handled a message, or correct its
//! knowledge-base verdict. Marks are appended, never changed; `--history` shows them.
//!
//! Every id is resolved before anything is written: one unknown or ambiguous id and the whole
//! call changes nothing.

use std::path::Path;

use crate::bail_user;
use crate::cli::{KbVerdict, MarkArgs};
use crate::cmd::ids::{operator, resolve_all, resolve_one};
use crate::config::Settings;
use crate::error::user_error;
use crate::import::values::flag_text;
use crate::textsafe::short;
use crate::transform::Rules;
use crate::warehouse::marks::NewMark;
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
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
    let result = match &args.history {
        Some(id) => history(settings, &wh, id).await,
        None => mark(settings, &wh, args).await,
    };
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

async fn mark(settings: &Settings, wh: &Warehouse, args: &MarkArgs) -> anyhow::Result<()> {
    let base = defaults(args);
    let mut requests: Vec<(String, Fields)> = args.ids.iter().map(|id| (id.clone(), base.clone())).collect();
    if let Some(file) = &args.from_file {
        requests.extend(read_file(file, &base)?);
    }
    if requests.is_empty() {
        bail_user!("no ids to mark: give ids or `--from-file FILE`");
    }
    if let Some((id, _)) = requests.iter().find(|(_, f)| f.is_empty()) {
        bail_user!("nothing to mark for `{id}`: add `--manual`, `--no-manual` or `--kb-hit yes|no|auto`");
    }
    let typed: Vec<String> = requests.iter().map(|(id, _)| id.clone()).collect();
    resolve_all(wh, &typed).await?;
    let who = operator(args.operator.as_deref());
    let now = chrono::Utc::now().naive_utc();
    let mut marks = Vec::new();
    let mut lines = Vec::new();
    for (typed, fields) in &requests {
        let id = resolve_one(wh, typed).await.map_err(user_error)?;
        let brief = match wh.full_message(&id).await? {
            Some(m) => format!(
                "{}, {}, {}",
                short(&m.user_key, 20),
                m.local_time.format("%m-%d %H:%M"),
                short(&m.question, 30)
            ),
            None => String::new(),
        };
        lines.push(format!("{} ({brief}): {}", &id[..8], fields.describe()));
        let new = |field: &'static str, value: Option<bool>| NewMark {
            message_id: id.clone(),
            field,
            value,
            operator: who.clone(),
            note: fields.note.clone(),
            marked_at: now,
            dated: true,
            source: "cli",
        };
        if let Some(v) = fields.manual {
            marks.push(new("manual", Some(v)));
        }
        if let Some(v) = fields.kb_hit {
            marks.push(new("kb_hit", v));
        }
    }
    if args.dry_run {
        for l in &lines {
            println!("would mark {l}");
        }
        println!("dry run: nothing written");
        return Ok(());
    }
    let mut tx = wh.begin().await?;
    tx.append_marks(&marks, false, &Rules::new(settings)).await?;
    tx.commit().await?;
    for l in &lines {
        println!("marked {l} by {who}");
    }
    Ok(())
}

/// Ids from a file: one per line (`#` comments allowed), or CSV whose header has `id` and
/// optionally `manual`, `kb_hit`, `note` (empty cells take the command-line values).
fn read_file(path: &Path, base: &Fields) -> anyhow::Result<Vec<(String, Fields)>> {
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
            .map(|l| (l.to_string(), base.clone()))
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_lowercase()).collect();
    if let Some(bad) = headers.iter().find(|h| !["id", "manual", "kb_hit", "note"].contains(&h.as_str())) {
        bail_user!("{name}: column \"{bad}\" is not one of id, manual, kb_hit, note");
    }
    let col = |row: &csv::StringRecord, name: &str| -> String {
        headers.iter().position(|h| h == name).and_then(|i| row.get(i)).unwrap_or_default().trim().to_string()
    };
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| user_error(format!("{name}: row {}: {e}", i + 2)))?;
        let mut fields = base.clone();
        let manual = col(&row, "manual");
        if !manual.is_empty() {
            fields.manual = flag_text(&manual)
                .map_err(|why| user_error(format!("{name}: row {}, column manual: {why}", i + 2)))?;
        }
        let kb = col(&row, "kb_hit");
        if kb.eq_ignore_ascii_case("auto") {
            fields.kb_hit = Some(None);
        } else if !kb.is_empty() {
            let v = flag_text(&kb)
                .map_err(|why| user_error(format!("{name}: row {}, column kb_hit: {why}", i + 2)))?;
            fields.kb_hit = Some(v);
        }
        let note = col(&row, "note");
        if !note.is_empty() {
            fields.note = Some(note);
        }
        out.push((col(&row, "id"), fields));
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
        let when = crate::report::local(settings.tz, k.marked_at).format("%Y-%m-%d %H:%M:%S");
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
