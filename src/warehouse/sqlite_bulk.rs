//! Bulk work on a SQLite warehouse through rusqlite, on sqlx's own connection handle
//! ([`with_raw_connection`]): the writer of `warehouse/write.rs` and the bulk reader
//! [`query_rows`].
//!
//! sqlx binds a multi-row statement by copying every value into an argument buffer of its own
//! and hands it to SQLite on its worker thread; for the big batches of an ingest that
//! copying, not SQLite, was most of the writer's time (docs/performance.md). The writer binds
//! each row straight from the batch into one prepared statement, executed once per row — the
//! way SQLite is fastest — on the same connection and inside the same transaction as
//! everything else the batch writes. Reading is the mirror image: sqlx hands each row from its
//! worker thread to the caller over a channel and decodes it there, which made the report's
//! read of 100,000 messages three and a half times slower. The SQL is the same text the
//! PostgreSQL path runs (`$N` placeholders, which SQLite numbers the same way); values are
//! encoded exactly as sqlx encodes them (times `%F %T%.f`, dates `%F`, booleans 0/1), so both
//! paths store identical rows.

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use sqlx::SqliteConnection;

/// Runs `f` on a rusqlite connection over sqlx's own handle of `conn`, which stays locked
/// meanwhile (sqlx's worker thread cannot use it). On a multi-threaded runtime `f` runs under
/// `block_in_place`, so the tasks queued on this worker (the Dify reader) move to another one
/// instead of waiting behind a batch's writes.
///
/// Why not sqlx: it copies every bound value into an argument buffer of its own and hands
/// rows across threads one by one; binding straight from the batch made writing a batch's
/// 20,000 message rows 0.45 → 0.1 s, and reading the month report's rows 1.96 → 0.5 s
/// (docs/performance.md, "The first load" item 2 and "Reading through rusqlite").
pub async fn with_raw_connection<T>(
    conn: &mut SqliteConnection,
    f: impl FnOnce(&rusqlite::Connection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut handle = conn.lock_handle().await.context("locking the SQLite connection")?;
    // SAFETY: the handle is locked for as long as `db` lives, so sqlx does not use the
    // connection meanwhile, and `from_handle` neither takes ownership nor closes it. The
    // measurements above are why this is not sqlx's API.
    let db = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread { tokio::task::block_in_place(|| f(&db)) } else { f(&db) }
}

/// A row type read by position from a SQLite query ([`query_rows`]).
pub trait FromSqliteRow: Sized {
    /// The columns the query must return, in the order [`FromSqliteRow::from_sqlite`] reads them.
    const COLUMNS: &'static [&'static str];

    /// The row, decoded as sqlx would decode it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Runs a query with `params` bound to `$1`, `$2`, … and reads each row as a `T`. The query
/// must return exactly `T::COLUMNS`, in that order (checked once per call, so a reader and
/// its SQL file cannot drift apart unnoticed).
pub async fn query_rows<T: FromSqliteRow>(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    query_each(conn, sql, params, T::COLUMNS, |row| {
        out.push(T::from_sqlite(row)?);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// Runs a query like [`query_rows`] and hands each row to `f`, which may copy its text out
/// without a `String` per value (a reclassification's rule inputs, `warehouse::verdicts`). The
/// query must return exactly `columns`, in that order.
pub async fn query_each(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    columns: &[&str],
    mut f: impl FnMut(&rusqlite::Row<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    with_raw_connection(conn, |db| {
        let mut statement = db.prepare(sql)?;
        let returned = statement.column_names();
        anyhow::ensure!(
            returned == columns,
            "the query returns {returned:?}, its reader expects {columns:?}"
        );
        for (i, value) in params.iter().enumerate() {
            statement.raw_bind_parameter(i + 1, value)?;
        }
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next()? {
            f(row)?;
        }
        Ok(())
    })
    .await
}

/// `rows` parenthesised lists of `width` numbered placeholders, `($1, $2), ($3, $4)` for two
/// rows of two: the values of an `IN (…)` or `VALUES` list, in text both backends run
/// (`$N` numbers the same in SQLite and PostgreSQL).
pub fn numbered_lists(rows: usize, width: usize) -> String {
    let list = |row: usize| {
        let numbers: Vec<String> = (1..=width).map(|i| format!("${}", row * width + i)).collect();
        format!("({})", numbers.join(", "))
    };
    (0..rows).map(list).collect::<Vec<_>>().join(", ")
}

/// A time or date as text, on the stack: the writer formats five times and dates per message
/// row, and a `String` each cost an allocation and a free on the writer's path. 40 bytes
/// hold any `NaiveDateTime` chrono represents (at most 33: a signed six-digit year, a leap
/// second and nine fraction digits).
pub type TimeText = arrayvec::ArrayString<40>;

/// `t` as sqlx writes a time to SQLite, `t.format("%F %T%.f")`: the fraction has 0, 3, 6 or 9
/// digits, as few as keep it exact. Written by hand because chrono's general formatter took a
/// tenth of an ingest's writing time; times chrono would print differently (years outside
/// 0–9999, leap seconds) go through chrono.
pub fn sqlx_time(t: NaiveDateTime) -> TimeText {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let (year, nano) = (t.year(), t.nanosecond());
    let mut out = TimeText::new();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        // Fits: see `TimeText` (tested at chrono's extremes).
        write!(out, "{}", t.format("%F %T%.f")).ok();
        return out;
    }
    push_digits(&mut out, year as u32, 4);
    for (sep, value) in
        [('-', t.month()), ('-', t.day()), (' ', t.hour()), (':', t.minute()), (':', t.second())]
    {
        out.push(sep);
        push_digits(&mut out, value, 2);
    }
    if nano != 0 {
        out.push('.');
        if nano % 1_000_000 == 0 {
            push_digits(&mut out, nano / 1_000_000, 3);
        } else if nano % 1_000 == 0 {
            push_digits(&mut out, nano / 1_000, 6);
        } else {
            push_digits(&mut out, nano, 9);
        }
    }
    out
}

/// `d` as sqlx writes a date to SQLite, `d.format("%F")`.
pub fn sqlx_date(d: NaiveDate) -> TimeText {
    use chrono::Datelike;
    use std::fmt::Write;
    let mut out = TimeText::new();
    if !(0..=9999).contains(&d.year()) {
        write!(out, "{}", d.format("%F")).ok();
        return out;
    }
    push_digits(&mut out, d.year() as u32, 4);
    for value in [d.month(), d.day()] {
        out.push('-');
        push_digits(&mut out, value, 2);
    }
    out
}

/// A time column read back: text as [`sqlx_time`] writes it is parsed by hand, anything else
/// (another shape, a NULL in a non-NULL column) as rusqlite reads it. rusqlite parses through
/// chrono's format strings, which took a twentieth of a reclassification's CPU
/// (docs/performance.md, "Reclassification").
pub fn get_time(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<NaiveDateTime> {
    if let rusqlite::types::ValueRef::Text(text) = row.get_ref(i)?
        && let Some(t) = parse_sqlx_time(text)
    {
        return Ok(t);
    }
    row.get(i)
}

/// [`get_time`] of a column that may be NULL.
pub fn get_opt_time(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<NaiveDateTime>> {
    match row.get_ref(i)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => get_time(row, i).map(Some),
    }
}

/// A date column read back: text as [`sqlx_date`] writes it is parsed by hand, anything else
/// as rusqlite reads it (see [`get_time`]).
pub fn get_date(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<NaiveDate> {
    if let rusqlite::types::ValueRef::Text(text) = row.get_ref(i)?
        && let Some(d) = parse_sqlx_date(text)
    {
        return Ok(d);
    }
    row.get(i)
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1–9 digits, the shape of [`sqlx_time`];
/// `None` for any other text or an impossible time (chrono then says why).
fn parse_sqlx_time(text: &[u8]) -> Option<NaiveDateTime> {
    let (head, fraction) = match text.get(19) {
        None if text.len() == 19 => (text, &[][..]),
        Some(b'.') if (21..=29).contains(&text.len()) => (&text[..19], &text[20..]),
        _ => return None,
    };
    let separators = [(10, b' '), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, sep)| head[at] != sep) {
        return None;
    }
    let nano = digits(fraction)? * 10u32.pow(9 - fraction.len() as u32);
    parse_sqlx_date(&head[..10])?.and_hms_nano_opt(
        digits(&head[11..13])?,
        digits(&head[14..16])?,
        digits(&head[17..19])?,
        nano,
    )
}

/// `YYYY-MM-DD`, the shape of [`sqlx_date`]; `None` for any other text or an impossible date.
fn parse_sqlx_date(text: &[u8]) -> Option<NaiveDate> {
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(&text[..4])? as i32, digits(&text[5..7])?, digits(&text[8..10])?)
}

/// The number written by `bytes`, all ASCII digits (at most 9 of them); `None` otherwise.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
}

/// Appends the last `width` decimal digits of `value`, zero-padded (the callers' widths add up
/// to at most 29 bytes, within `TimeText`).
fn push_digits(out: &mut TimeText, value: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut v = value;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    for &b in &buf[..width] {
        out.push(b as char);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Timelike};
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, PartialEq)]
    struct Probe(NaiveDateTime, NaiveDate, bool);

    impl FromSqliteRow for Probe {
        const COLUMNS: &'static [&'static str] = &["at", "day", "flag"];
        fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Probe> {
            Ok(Probe(row.get(0)?, row.get(1)?, row.get(2)?))
        }
    }

    /// Reads the same columns in another order than the query returns them.
    #[derive(Debug)]
    struct Misread;

    impl FromSqliteRow for Misread {
        const COLUMNS: &'static [&'static str] = &["at", "flag", "day"];
        fn from_sqlite(_: &rusqlite::Row<'_>) -> rusqlite::Result<Misread> {
            Ok(Misread)
        }
    }

    /// Values come back as sqlx wrote them, and a reader whose columns are not the query's is
    /// refused instead of reading the wrong values.
    #[test]
    fn query_rows_reads_what_sqlx_wrote_and_checks_the_columns() {
        use sqlx::Connection;
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
            let t = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_micro_opt(9, 5, 7, 120).unwrap();
            sqlx::query("CREATE TABLE t (at TEXT, day TEXT, flag INTEGER)").execute(&mut conn).await.unwrap();
            sqlx::query("INSERT INTO t VALUES ($1, $2, $3)")
                .bind(t)
                .bind(t.date())
                .bind(true)
                .execute(&mut conn)
                .await
                .unwrap();
            let sql = "SELECT at, day, flag FROM t WHERE day >= $1";
            let day = sqlx_date(t.date());
            let day = day.as_str();
            let rows: Vec<Probe> = query_rows(&mut conn, sql, &[&day]).await.unwrap();
            assert_eq!(rows, vec![Probe(t, t.date(), true)]);
            let err = query_rows::<Misread>(&mut conn, sql, &[&day]).await.unwrap_err();
            assert!(err.to_string().contains("its reader expects"), "{err}");
        });
    }

    #[test]
    fn numbered_lists_count_on_from_row_to_row() {
        assert_eq!(numbered_lists(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(numbered_lists(1, 3), "($1, $2, $3)");
        assert_eq!(numbered_lists(0, 2), "");
    }

    #[test]
    fn fractions_keep_as_few_digits_as_chrono() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        for nano in [0, 1, 1_000, 120_000, 500_000_000, 123_456_789, 999_999_999] {
            let t = day.and_hms_nano_opt(9, 5, 7, nano).unwrap();
            assert_eq!(sqlx_time(t).as_str(), t.format("%F %T%.f").to_string());
        }
        assert_eq!(
            sqlx_time(day.and_hms_micro_opt(9, 5, 7, 120).unwrap()).as_str(),
            "2026-11-02 09:05:07.000120"
        );
    }

    #[test]
    fn the_extremes_of_chrono_fit_the_stack_text() {
        for t in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
            let leap = t.with_nanosecond(1_999_999_999).unwrap_or(t);
            for t in [t, leap] {
                assert_eq!(sqlx_time(t).as_str(), t.format("%F %T%.f").to_string());
                assert_eq!(sqlx_date(t.date()).as_str(), t.date().format("%F").to_string());
            }
        }
    }

    /// The hand parser reads what [`sqlx_time`] writes, and declines what it does not write,
    /// leaving it to chrono.
    #[test]
    fn times_read_back_as_written() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        for nano in [0, 1, 1_000, 120_000, 500_000_000, 123_456_789, 999_999_999] {
            let t = day.and_hms_nano_opt(9, 5, 7, nano).unwrap();
            assert_eq!(parse_sqlx_time(sqlx_time(t).as_bytes()), Some(t));
        }
        assert_eq!(parse_sqlx_time(b"2026-11-02 09:05:07.5"), day.and_hms_milli_opt(9, 5, 7, 500));
        for other in [
            "2026-11-02T09:05:07",
            "2026-11-02 09:05",
            "2026-11-02 09:05:07.",
            "2026-11-02 09:05:07.1234567890",
            "2026-11-02 09:05:07Z",
            "2026-13-02 09:05:07",
            "2026-11-02 24:05:07",
            "2026-11-02 09:05:60",
            "2026-11-0a 09:05:07",
            "+2026-11-02 09:05:07",
        ] {
            assert_eq!(parse_sqlx_time(other.as_bytes()), None, "{other}");
        }
        assert_eq!(parse_sqlx_date(sqlx_date(day).as_bytes()), Some(day));
        for other in ["2026-11-2", "2026-11-02 ", "2026/11/02", "2026-02-30", "+2026-11-02", "20261102"] {
            assert_eq!(parse_sqlx_date(other.as_bytes()), None, "{other}");
        }
    }

    /// A `T` between date and time, as some tools write, still reads (through chrono), and a
    /// NULL is `None`.
    #[test]
    fn other_shapes_read_through_rusqlite() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let row = |sql: &str| db.query_row(sql, [], |r| Ok((get_time(r, 0)?, get_opt_time(r, 1)?))).unwrap();
        let t = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(9, 5, 7).unwrap();
        assert_eq!(row("SELECT '2026-11-02T09:05:07', NULL"), (t, None));
        assert_eq!(row("SELECT '2026-11-02 09:05:07', '2026-11-02 09:05:07'"), (t, Some(t)));
    }

    proptest! {
        #[test]
        fn parses_as_chrono(secs in 0i64..250_000_000_000i64, nano in 0u32..1_000_000_000u32) {
            let t = DateTime::from_timestamp(secs, nano).unwrap().naive_utc();
            let text = sqlx_time(t);
            prop_assert_eq!(parse_sqlx_time(text.as_bytes()), Some(t));
            let chrono = NaiveDateTime::parse_from_str(text.as_str(), "%F %T%.f").ok();
            prop_assert_eq!(parse_sqlx_time(text.as_bytes()), chrono);
        }

        #[test]
        fn parses_dates_as_chrono(days in 1i32..3_652_060i32) {
            let d = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let text = sqlx_date(d);
            let chrono = NaiveDate::parse_from_str(text.as_str(), "%F").ok();
            prop_assert_eq!(parse_sqlx_date(text.as_bytes()), chrono);
        }

        #[test]
        fn matches_chrono(secs in -70_000_000_000i64..300_000_000_000i64, nano in 0u32..2_000_000_000u32) {
            if let Some(t) = DateTime::from_timestamp(secs, nano).map(|t| t.naive_utc()) {
                prop_assert_eq!(sqlx_time(t).to_string(), t.format("%F %T%.f").to_string());
                prop_assert_eq!(sqlx_date(t.date()).to_string(), t.date().format("%F").to_string());
            }
        }

        #[test]
        fn matches_chrono_at_round_fractions(secs in 0i64..4_000_000_000i64, micros in 0u32..1_000_000u32, millis in any::<bool>()) {
            let nano = if millis { micros / 1_000 * 1_000_000 } else { micros * 1_000 };
            let t = DateTime::from_timestamp(secs, nano).unwrap().naive_utc();
            prop_assert_eq!(sqlx_time(t).to_string(), t.format("%F %T%.f").to_string());
        }
    }
}
