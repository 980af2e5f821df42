//! Values as operators type them: yes/no flags in Chinese and English, and local times.

use chrono::NaiveDateTime;

use super::table::{Cell, shown};

/// Parses a flag: `是/否`, `命中/未命中`, `true/false`, `yes/no`, `y/n`, `1/0` (any case), a
/// boolean cell, or the numbers 1 and 0. An empty cell is `None`.
pub fn flag(cell: &Cell) -> Result<Option<bool>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Bool(b) => Ok(Some(*b)),
        Cell::Number(n) if *n == 1.0 => Ok(Some(true)),
        Cell::Number(n) if *n == 0.0 => Ok(Some(false)),
        Cell::Text(t) => flag_text(t),
        other => Err(format!(
            "{} — not a yes/no value (use 是/否, 命中/未命中, yes/no, true/false or 1/0)",
            other.shown()
        )),
    }
}

/// Parses a flag written as text (also used for the legacy database's text columns).
pub fn flag_text(text: &str) -> Result<Option<bool>, String> {
    let t = text.trim().to_lowercase();
    match t.as_str() {
        "" => Ok(None),
        "是" | "命中" | "true" | "yes" | "y" | "1" | "t" => Ok(Some(true)),
        "否" | "未命中" | "false" | "no" | "n" | "0" | "f" => Ok(Some(false)),
        _ => Err(format!(
            "\"{}\" — not a yes/no value (use 是/否, 命中/未命中, yes/no, true/false or 1/0)",
            shown(text)
        )),
    }
}

const TIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
];

/// Parses a local time: `YYYY-MM-DD HH:MM[:SS]`, `YYYY/MM/DD HH:MM[:SS]`, or a date cell.
pub fn time(cell: &Cell) -> Result<NaiveDateTime, String> {
    match cell {
        Cell::DateTime(t) => Ok(*t),
        Cell::Text(text) => time_text(text),
        Cell::Empty => Err("empty — a time is required (use YYYY-MM-DD HH:MM)".to_string()),
        other => Err(format!("{} — not a date and time (use YYYY-MM-DD HH:MM)", other.shown())),
    }
}

/// Parses a local time written as text.
pub fn time_text(text: &str) -> Result<NaiveDateTime, String> {
    let t = text.trim();
    TIME_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .ok_or_else(|| format!("\"{}\" — not a date and time (use YYYY-MM-DD HH:MM)", shown(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_every_spelling() {
        for (text, want) in [
            ("是", true),
            ("否", false),
            ("命中", true),
            ("未命中", false),
            ("TRUE", true),
            ("no", false),
            ("Y", true),
            ("0", false),
        ] {
            assert_eq!(flag(&Cell::Text(text.into())), Ok(Some(want)), "{text}");
        }
        assert_eq!(flag(&Cell::Number(1.0)), Ok(Some(true)));
        assert_eq!(flag(&Cell::Empty), Ok(None));
        assert!(flag(&Cell::Text("maybe".into())).unwrap_err().contains("\"maybe\""));
        assert!(flag(&Cell::Number(2.0)).is_err());
    }

    #[test]
    fn times_in_the_accepted_shapes() {
        let want = NaiveDateTime::parse_from_str("2026-11-02 09:05:00", "%Y-%m-%d %H:%M:%S").unwrap();
        for text in ["2026-11-02 09:05", "2026-11-02 09:05:00", "2026/11/02 09:05", " 2026/11/02 09:05:00 "] {
            assert_eq!(time(&Cell::Text(text.into())), Ok(want), "{text}");
        }
        assert!(time(&Cell::Text("2026-13-01 10:00".into())).unwrap_err().contains("not a date"));
        assert!(time(&Cell::Text("2026-02-30 10:00".into())).is_err());
        assert_eq!(time(&Cell::DateTime(want)), Ok(want));
        assert!(time(&Cell::Number(45000.0)).is_err());
    }
}
