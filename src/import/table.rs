//! A CSV or xlsx file as rows of cells, with the row numbers a spreadsheet shows (the header
//! is row 1) and the column letters (A, B, …).
//!
//! CSV must be UTF-8 (a byte-order mark is fine); anything else is refused with the fix, since
//! guessing an encoding could silently garble names.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDateTime;

use crate::bail_user;

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    /// An Excel error value such as `#DIV/0!`.
    Error(String),
}

/// A cell's text as an error message shows it: one line, control characters escaped, cut at
/// 60 characters (a 1 MB cell must not become a 1 MB error line).
pub fn shown(text: &str) -> String {
    crate::textsafe::short(text, 60)
}

impl Cell {
    /// The value as an error message shows it.
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => "empty".to_string(),
            Cell::Text(t) => format!("\"{}\"", shown(t)),
            Cell::Number(n) => format!("{n}"),
            Cell::Bool(b) => format!("{b}"),
            Cell::DateTime(t) => t.to_string(),
            Cell::Error(e) => e.clone(),
        }
    }

    /// The value as text (numbers without a trailing `.0`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => format!("{n}"),
            Cell::Bool(b) => format!("{b}"),
            Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// A data row with its spreadsheet row number.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<Cell>,
}

/// A read file: the header row and the non-empty data rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// The spreadsheet letter of a 0-based column.
pub fn column_letter(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Reads a `.csv` or `.xlsx` file.
pub fn read(path: &Path) -> anyhow::Result<Table> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| crate::error::user_error(format!("{name}: cannot read it: {e}")))?;
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    let table = match ext.as_str() {
        "csv" | "txt" => read_csv(&bytes, &name)?,
        "xlsx" | "xlsm" => read_xlsx(bytes, &name)?,
        _ => bail_user!("{name}: not a .csv or .xlsx file (save the sheet as CSV UTF-8 or Excel .xlsx)"),
    };
    if table.headers.iter().all(|h| h.is_empty()) {
        bail_user!("{name}: the file is empty; the first row must hold the column names");
    }
    Ok(table)
}

pub(crate) fn read_csv(bytes: &[u8], name: &str) -> anyhow::Result<Table> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        bail_user!("{name}: not UTF-8 text (perhaps GBK); save it as \"CSV UTF-8\" or as .xlsx");
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers = match records.next() {
        Some(Ok(r)) => r.iter().map(|h| h.trim().to_string()).collect(),
        Some(Err(e)) => bail_user!("{name}: row 1: {e}"),
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let number = i + 2;
        let record = record.map_err(|e| crate::error::user_error(format!("{name}: row {number}: {e}")))?;
        let cells: Vec<Cell> = record
            .iter()
            .map(|v| if v.trim().is_empty() { Cell::Empty } else { Cell::Text(v.to_string()) })
            .collect();
        if cells.iter().any(|c| *c != Cell::Empty) {
            rows.push(Row { number, cells });
        }
    }
    Ok(Table { headers, rows })
}

fn read_xlsx(bytes: Vec<u8>, name: &str) -> anyhow::Result<Table> {
    let mut book = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| crate::error::user_error(format!("{name}: not a readable .xlsx workbook ({e})")))?;
    let Some(first) = book.sheet_names().first().cloned() else {
        bail_user!("{name}: the workbook has no sheet");
    };
    let range = book
        .worksheet_range(&first)
        .map_err(|e| crate::error::user_error(format!("{name}: cannot read sheet {first}: {e}")))?;
    let (start_row, start_col) = range.start().map(|(r, c)| (r as usize, c as usize)).unwrap_or((0, 0));
    let mut rows_iter = range.rows();
    let pad = |cells: Vec<Cell>| -> Vec<Cell> {
        std::iter::repeat_n(Cell::Empty, start_col).chain(cells).collect()
    };
    let headers: Vec<String> = match rows_iter.next() {
        Some(r) => pad(r.iter().map(cell).collect()).iter().map(Cell::text).collect(),
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for (i, r) in rows_iter.enumerate() {
        let cells = pad(r.iter().map(cell).collect());
        if cells.iter().any(|c| *c != Cell::Empty) {
            rows.push(Row { number: start_row + i + 2, cells });
        }
    }
    Ok(Table { headers, rows })
}

fn cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) if s.trim().is_empty() => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(t) => t.as_datetime().map(Cell::DateTime).unwrap_or(Cell::Number(t.as_f64())),
        Data::DateTimeIso(s) => Cell::Text(s.replace('T', " ")),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(format!("{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn csv_with_bom_and_blank_lines() {
        let t = read_csv("\u{feff}用户名,问题\nzhangsan,VPN\n,\nlisi,打印机\n".as_bytes(), "f.csv").unwrap();
        assert_eq!(t.headers, ["用户名", "问题"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].number, 4, "row numbers as a spreadsheet shows them");
    }

    #[test]
    fn gbk_csv_is_refused_with_the_fix() {
        // "用户名" in GBK.
        let gbk = [0xD3u8, 0xC3, 0xBB, 0xA7, 0xC3, 0xFB, b'\n'];
        let err = read_csv(&gbk, "f.csv").unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }
}
