//! Manual-entry files: columns by English or Chinese name in any order, every cell validated
//! before anything is written.
//!
//! A file with any bad cell imports nothing; every problem is listed as
//! `FILE: row N, column C: value — why`, with the row numbers a spreadsheet shows. A row equal
//! to the template's example row is skipped, and said so.

use std::path::Path;

use super::table::{self, Cell, Table, column_letter};
use super::values;
use crate::warehouse::entries::NewEntry;

/// The fields of a manual entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    UserName,
    Query,
    Answer,
    ConsultationTime,
    EntryPerson,
    KnowledgeHit,
    TransferToHuman,
    ManualIntervention,
    OperationUser,
}

/// Each field's English name and accepted Chinese headers.
pub const FIELDS: &[(Field, &str, &[&str])] = &[
    (Field::UserName, "user_name", &["用户名", "用户"]),
    (Field::Query, "query", &["问题"]),
    (Field::Answer, "answer", &["回复", "答案"]),
    (Field::ConsultationTime, "consultation_time", &["咨询时间"]),
    (Field::EntryPerson, "entry_person", &["录入人员"]),
    (Field::KnowledgeHit, "knowledge_hit", &["知识库命中", "知识库是否命中"]),
    (Field::TransferToHuman, "transfer_to_human", &["是否转人工", "转人工"]),
    (Field::ManualIntervention, "manual_intervention", &["人工处理", "人工操作"]),
    (Field::OperationUser, "operation_user", &["操作用户"]),
];

/// Fields every row needs.
const REQUIRED: &[Field] = &[Field::UserName, Field::Query, Field::ConsultationTime];

fn field_of(header: &str) -> Option<Field> {
    let h = header.trim();
    FIELDS.iter().find(|(_, en, zh)| en.eq_ignore_ascii_case(h) || zh.contains(&h)).map(|(f, _, _)| *f)
}

fn names(field: Field) -> String {
    FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, en, zh)| format!("{en} ({})", zh.join("/")))
        .unwrap_or_default()
}

/// A validated file: the entries and the rows skipped (each with the line that says so), or
/// every problem found.
#[derive(Debug)]
pub enum Checked {
    Valid { entries: Vec<NewEntry>, skipped: Vec<String> },
    Invalid(Vec<String>),
}

/// Reads and validates a manual-entry file. `default_person` is stored for an empty
/// `entry_person` (the entry keeps it apart, see [`NewEntry::filled_person`]).
pub fn read_file(path: &Path, default_person: &str) -> anyhow::Result<Checked> {
    let table = table::read(path)?;
    Ok(check(&table, &path.display().to_string(), default_person))
}

/// Validates a read table.
pub fn check(table: &Table, name: &str, default_person: &str) -> Checked {
    let columns = match columns(table, name) {
        Ok(columns) => columns,
        Err(problems) => return Checked::Invalid(problems),
    };
    if table.rows.is_empty() {
        return Checked::Invalid(vec![format!("{name}: no data rows below the header")]);
    }
    let example = super::template::example();
    let (mut entries, mut skipped, mut problems) = (Vec::new(), Vec::new(), Vec::new());
    for row in &table.rows {
        let Some(entry) = entry(table, &columns, row, &mut |header: &str, why: String| {
            problems.push(format!("{name}: row {}, column {header}: {why}", row.number))
        }) else {
            continue;
        };
        if entry == example {
            skipped.push(format!("{name}: row {}: the template's example row, skipped", row.number));
            continue;
        }
        let filled_person = entry.entry_person.is_none().then(|| default_person.to_string());
        entries.push(NewEntry { filled_person, ..entry });
    }
    if problems.is_empty() { Checked::Valid { entries, skipped } } else { Checked::Invalid(problems) }
}

/// Which column holds which field; every unknown, repeated or missing column is a problem.
fn columns(table: &Table, name: &str) -> Result<Vec<(usize, Field)>, Vec<String>> {
    let mut problems = Vec::new();
    let mut columns: Vec<(usize, Field)> = Vec::new();
    for (i, header) in table.headers.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        match field_of(header) {
            Some(f) if columns.iter().any(|(_, g)| *g == f) => problems.push(format!(
                "{name}: column {} (\"{}\") repeats {}; keep one",
                column_letter(i),
                table::shown(header),
                names(f)
            )),
            Some(f) => columns.push((i, f)),
            None => problems.push(format!(
                "{name}: column {} (\"{}\") is not a known column (known: {})",
                column_letter(i),
                table::shown(header),
                FIELDS
                    .iter()
                    .map(|(_, en, zh)| format!("{en}/{}", zh.join("/")))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    for field in REQUIRED {
        if !columns.iter().any(|(_, f)| f == field) {
            problems.push(format!("{name}: no column for {}; add it to the first row", names(*field)));
        }
    }
    if problems.is_empty() { Ok(columns) } else { Err(problems) }
}

/// One row as an entry (without `filled_person`), every bad cell told to `bad`; `None` when
/// the row has no valid time.
fn entry(
    table: &Table,
    columns: &[(usize, Field)],
    row: &table::Row,
    bad: &mut dyn FnMut(&str, String),
) -> Option<NewEntry> {
    let get = |field: Field| -> (String, Cell) {
        let (i, _) = columns.iter().find(|(_, f)| *f == field).copied().unwrap_or((usize::MAX, field));
        let header = table.headers.get(i).cloned().unwrap_or_default();
        (header, row.cells.get(i).cloned().unwrap_or(Cell::Empty))
    };
    let mut text = |field: Field| -> String {
        let (header, cell) = get(field);
        if REQUIRED.contains(&field) && cell.text().is_empty() {
            bad(&header, "empty — this column is required".to_string());
        }
        cell.text()
    };
    let user_name = text(Field::UserName);
    let query = text(Field::Query);
    let answer = text(Field::Answer);
    let entry_person = text(Field::EntryPerson);
    let operation_user = text(Field::OperationUser);
    let (time_header, time_cell) = get(Field::ConsultationTime);
    let time = values::time(&time_cell).map_err(|why| bad(&time_header, why)).ok();
    let mut flag = |field: Field| -> bool {
        let (header, cell) = get(field);
        values::flag(&cell).map_err(|why| bad(&header, why)).ok().flatten().unwrap_or(false)
    };
    let knowledge_hit = flag(Field::KnowledgeHit);
    let transfer_to_human = flag(Field::TransferToHuman);
    let manual_intervention = flag(Field::ManualIntervention);
    Some(NewEntry {
        user_name,
        query,
        answer,
        consultation_time: time?,
        entry_person: (!entry_person.is_empty()).then_some(entry_person),
        filled_person: None,
        knowledge_hit,
        transfer_to_human,
        manual_intervention,
        operation_user: (!operation_user.is_empty()).then_some(operation_user),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::table::Row;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| Row {
                    number: i + 2,
                    cells: r
                        .iter()
                        .map(|c| if c.is_empty() { Cell::Empty } else { Cell::Text(c.to_string()) })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn chinese_headers_in_any_order() {
        let t = table(
            &["咨询时间", "问题", "用户", "是否转人工", "知识库是否命中"],
            &[&["2026-11-02 09:00", "VPN", "zhangsan", "是", "未命中"]],
        );
        let Checked::Valid { entries: e, .. } = check(&t, "f.csv", "ops") else { panic!() };
        assert_eq!(e[0].user_name, "zhangsan");
        assert!(e[0].transfer_to_human && !e[0].knowledge_hit && !e[0].manual_intervention);
        // An empty entry_person is filled in, and the entry still says it was empty (its key
        // must not depend on who imports).
        assert_eq!((e[0].entry_person.as_deref(), e[0].stored_person()), (None, Some("ops")));
    }

    #[test]
    fn every_bad_cell_is_reported() {
        let t = table(
            &["user_name", "query", "consultation_time", "manual_intervention"],
            &[
                &["a", "q", "2026-13-01 10:00", "yes"],
                &["", "q", "2026-11-02 10:00", "maybe"],
                &["b", "q", "2026-11-02 10:00", "1"],
            ],
        );
        let Checked::Invalid(p) = check(&t, "f.csv", "ops") else { panic!() };
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].starts_with("f.csv: row 2, column consultation_time: \"2026-13-01 10:00\""), "{p:?}");
        assert!(p[1].starts_with("f.csv: row 3, column user_name: empty"), "{p:?}");
        assert!(p[2].starts_with("f.csv: row 3, column manual_intervention: \"maybe\""), "{p:?}");
    }

    #[test]
    fn unknown_and_missing_columns() {
        let t = table(&["user_name", "query", "知识库命中率"], &[&["a", "q", "1"]]);
        let Checked::Invalid(p) = check(&t, "f.csv", "ops") else { panic!() };
        assert!(p.iter().any(|m| m.contains("column C (\"知识库命中率\") is not a known column")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("no column for consultation_time")), "{p:?}");
    }
}
