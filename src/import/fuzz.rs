//! Property tests ("fuzz") of the operator-file parser: whatever bytes, cells or tables come
//! in, the parser never panics; it returns valid entries or a list of problems, and every
//! problem is one bounded, terminal-safe line naming the file. Case count: proptest's default
//! (256), or `PROPTEST_CASES`.

use proptest::prelude::*;

use super::entries::{Checked, FIELDS, check};
use super::table::{Cell, Row, Table, read_csv};
use super::values::{flag, time};

/// Text that looks like what operators type, plus anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("是".to_string()),
        Just("否".to_string()),
        Just("未命中".to_string()),
        Just("yes".to_string()),
        Just("2026-11-02 09:30".to_string()),
        Just("2026/02/30 09:30".to_string()),
        "[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?",
        "\\PC{0,12}",
        any::<String>(),
    ]
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        Just(Cell::Empty),
        text().prop_map(Cell::Text),
        any::<f64>().prop_map(Cell::Number),
        prop_oneof![Just(0.0), Just(1.0), Just(45000.5)].prop_map(Cell::Number),
        any::<bool>().prop_map(Cell::Bool),
        (0i64..4_000_000_000).prop_map(|s| Cell::DateTime(
            chrono::DateTime::from_timestamp(s, 0).unwrap_or_default().naive_utc()
        )),
        "#[A-Z/0!?]{2,7}".prop_map(Cell::Error),
    ]
}

/// A header: a known column name (English or Chinese, in any case or padding) or anything.
fn header() -> impl Strategy<Value = String> {
    let known: Vec<String> = FIELDS
        .iter()
        .flat_map(|(_, en, zh)| std::iter::once(en.to_string()).chain(zh.iter().map(|z| z.to_string())))
        .collect();
    prop_oneof![
        4 => proptest::sample::select(known.clone()),
        1 => proptest::sample::select(known).prop_map(|h| format!(" {} ", h.to_uppercase())),
        1 => text(),
    ]
}

fn table() -> impl Strategy<Value = Table> {
    (prop::collection::vec(header(), 0..8), prop::collection::vec(prop::collection::vec(cell(), 0..9), 0..6))
        .prop_map(|(headers, rows)| Table {
            headers,
            rows: rows.into_iter().enumerate().map(|(i, cells)| Row { number: i + 2, cells }).collect(),
        })
}

/// A problem line as the terminal shows it: one line, no control characters, bounded.
fn assert_printable(line: &str) {
    assert!(!line.contains('\n') && !line.chars().any(|c| c.is_control()), "{line:?}");
    assert!(line.chars().count() < 2_000, "overlong: {} chars", line.chars().count());
}

proptest! {
    #[test]
    fn flags_never_panic_and_explain_refusals(c in cell()) {
        match flag(&c) {
            Ok(None) => prop_assert!(c == Cell::Empty || c.text().is_empty()),
            Ok(Some(_)) => {}
            Err(why) => {
                assert_printable(&why);
                prop_assert!(why.contains("not a yes/no value"));
            }
        }
    }

    #[test]
    fn times_never_panic_and_round_trip(c in cell()) {
        match time(&c) {
            Ok(t) => {
                // What was accepted reads back the same once formatted.
                let again = time(&Cell::Text(t.format("%Y-%m-%d %H:%M:%S%.f").to_string()));
                prop_assert_eq!(again, Ok(t));
            }
            Err(why) => assert_printable(&why),
        }
    }

    #[test]
    fn check_returns_entries_or_problems(t in table()) {
        match check(&t, "walkins.csv", "ops") {
            Checked::Valid { entries, skipped } => {
                prop_assert!(!t.rows.is_empty());
                prop_assert_eq!(entries.len() + skipped.len(), t.rows.len(), "one entry per row, or a skip");
                for e in &entries {
                    prop_assert!(!e.user_name.is_empty() && !e.query.is_empty());
                    prop_assert!(e.stored_person().is_some_and(|p| !p.is_empty()));
                }
            }
            Checked::Invalid(problems) => {
                prop_assert!(!problems.is_empty());
                for p in &problems {
                    prop_assert!(p.starts_with("walkins.csv: "), "{}", p);
                    assert_printable(p);
                }
            }
        }
    }

    #[test]
    fn valid_tables_in_any_column_order_are_accepted(
        order in Just((0..5).collect::<Vec<usize>>()).prop_shuffle(),
        rows in prop::collection::vec(("[a-z]{1,8}", "\\PC{1,10}", 0u32..28, 0u32..24, 0u32..60, any::<bool>()), 1..6),
    ) {
        let headers = ["用户名", "问题", "咨询时间", "是否转人工", "knowledge_hit"];
        let t = Table {
            headers: order.iter().map(|&i| headers[i].to_string()).collect(),
            rows: rows.iter().enumerate().map(|(n, (user, query, day, hour, minute, flag))| {
                let values = [
                    Cell::Text(user.clone()),
                    Cell::Text(format!("q{query}")),
                    Cell::Text(format!("2026-11-{:02} {hour:02}:{minute:02}", day + 1)),
                    Cell::Text(if *flag { "是" } else { "否" }.to_string()),
                    Cell::Bool(!flag),
                ];
                Row { number: n + 2, cells: order.iter().map(|&i| values[i].clone()).collect() }
            }).collect(),
        };
        let Checked::Valid { entries, .. } = check(&t, "f.csv", "ops") else {
            return Err(TestCaseError::fail(format!("refused a valid table: {t:?}")));
        };
        for (e, (user, _, _, _, _, flag)) in entries.iter().zip(&rows) {
            prop_assert_eq!(&e.user_name, user);
            prop_assert_eq!(e.transfer_to_human, *flag);
            prop_assert_eq!(e.knowledge_hit, !flag);
        }
    }

    #[test]
    fn csv_reading_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(t) = read_csv(&bytes, "f.csv") {
            let numbers: Vec<usize> = t.rows.iter().map(|r| r.number).collect();
            prop_assert!(numbers.windows(2).all(|w| w[0] < w[1]) && numbers.iter().all(|n| *n >= 2));
            prop_assert!(t.rows.iter().all(|r| r.cells.iter().any(|c| *c != Cell::Empty)));
        }
    }

    #[test]
    fn csv_text_is_read_then_checked_without_panic(
        lines in prop::collection::vec(prop::collection::vec(text(), 0..6), 0..6),
        bom in any::<bool>(),
    ) {
        let body: String = lines.iter().map(|l| l.join(",") + "\n").collect();
        let bytes = if bom { format!("\u{feff}{body}") } else { body }.into_bytes();
        match read_csv(&bytes, "f.csv") {
            Ok(t) => { let _ = check(&t, "f.csv", "ops"); }
            Err(e) => assert_printable(&e.to_string()),
        }
    }
}
