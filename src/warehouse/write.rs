//! Writing declared rows ([`table::Row`](super::table::Row)) in bulk, on either backend, in
//! the caller's transaction.
//!
//! - **PostgreSQL** takes rows by `COPY … FROM STDIN` in text format: each value is encoded
//!   once into a buffer sent in chunks of about 1 MiB, instead of being bound one by one
//!   into multi-row `INSERT`s (38 parameters × 400 rows a statement, parsed and planned each
//!   time). Rows that may already be stored go to a temporary copy of the columns first
//!   (`itstat_stage_*`, dropped at commit) and from there into the table with one
//!   `INSERT … SELECT … ON CONFLICT`; rows known to be new are copied straight into it.
//!   docs/performance.md has the before and after.
//! - **SQLite** takes rows through one prepared single-row statement on sqlx's own connection
//!   handle (`sqlite_bulk::with_raw_connection`), each value bound from the row.
//!
//! Both encoders read the values through [`Checked`], so a row type whose values do not
//! match its table's columns fails in every build.

use anyhow::Context;
use chrono::{NaiveDateTime, Timelike};
// Every statement built here is made of the static table declarations' names only.
use sqlx::SqliteConnection;
use sqlx::{AssertSqlSafe, PgConnection};

use super::Tx;
use super::sqlite_bulk::{sqlx_date, sqlx_time, with_raw_connection};
use super::table::{Checked, Row, Sink, Table, Value};

/// What happens when a row's key is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Nothing can be stored under these keys yet (a first load, a scratch table): a plain
    /// insert, which fails on a duplicate.
    None,
    /// The stored row is replaced but for the table's `keep_on_update` columns.
    Update,
}

/// The COPY buffer is sent when it passes this size, so memory does not grow with the batch.
const COPY_CHUNK: usize = 1 << 20;

impl Tx {
    /// Writes `rows` into their table (see [`Conflict`]). On SQLite, rows are written in the
    /// order given: callers sort by key when the key index is there.
    pub async fn write_rows<R: Row>(&mut self, rows: &[R], conflict: Conflict) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let table = R::table();
        match self {
            Tx::Sqlite(t) => write_sqlite(t, table, rows, conflict).await,
            Tx::Postgres(t) => write_postgres(t, table, rows, conflict).await,
        }
        .with_context(|| format!("writing `{}` to the warehouse", table.name))
    }
}

async fn write_sqlite<R: Row>(
    conn: &mut SqliteConnection,
    table: &Table,
    rows: &[R],
    conflict: Conflict,
) -> anyhow::Result<()> {
    let marks = vec!["?"; table.columns.len()].join(", ");
    let tail = if conflict == Conflict::Update { table.upsert_tail() } else { String::new() };
    let sql = format!("{}VALUES ({marks}){tail}", table.insert_head());
    with_raw_connection(conn, |db| {
        let mut statement = db.prepare(&sql)?;
        let mut sink = Checked::new(table, SqliteBinder { statement: &mut statement, next: 1 });
        for row in rows {
            sink.inner.next = 1;
            row.write(&mut sink)?;
            sink.end_row()?;
            sink.inner.statement.raw_execute()?;
        }
        Ok(())
    })
    .await
}

/// Binds values to a prepared statement's parameters in order, stored as sqlx stores them
/// (times `%F %T%.f`, dates `%F`, booleans 0/1), so both write paths give identical rows.
struct SqliteBinder<'s, 'c> {
    statement: &'s mut rusqlite::Statement<'c>,
    next: usize,
}

impl Sink for SqliteBinder<'_, '_> {
    fn put(&mut self, value: Value<'_>) -> anyhow::Result<()> {
        let (s, i) = (&mut *self.statement, self.next);
        match value {
            Value::Text(v) => s.raw_bind_parameter(i, v)?,
            Value::Int(v) => s.raw_bind_parameter(i, v)?,
            Value::Real(v) => s.raw_bind_parameter(i, v)?,
            Value::Bool(v) => s.raw_bind_parameter(i, v)?,
            Value::Time(v) => s.raw_bind_parameter(i, v.map(sqlx_time))?,
            Value::Date(v) => s.raw_bind_parameter(i, v.map(sqlx_date))?,
        }
        self.next += 1;
        Ok(())
    }
}

async fn write_postgres<R: Row>(
    conn: &mut PgConnection,
    table: &Table,
    rows: &[R],
    conflict: Conflict,
) -> anyhow::Result<()> {
    let columns = table.column_list();
    let target = match conflict {
        Conflict::None => table.name.to_string(),
        Conflict::Update => {
            let stage = format!("itstat_stage_{}_{}", table.name, table.columns.len());
            let create = format!(
                "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS SELECT {columns} FROM {} WITH NO DATA",
                table.name
            );
            sqlx::raw_sql(AssertSqlSafe(create)).execute(&mut *conn).await?;
            stage
        }
    };
    let mut copy = conn.copy_in_raw(&format!("COPY {target} ({columns}) FROM STDIN")).await?;
    let mut sink = Checked::new(table, CopyText::default());
    let encoded = async {
        for row in rows {
            row.write(&mut sink)?;
            sink.end_row()?;
            sink.inner.end_row();
            if sink.inner.buf.len() >= COPY_CHUNK {
                copy.send(std::mem::take(&mut sink.inner.buf)).await?;
            }
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = encoded {
        // The connection must leave COPY mode before the transaction can roll back.
        copy.abort("itstat: a row could not be encoded").await.ok();
        return Err(e);
    }
    copy.send(std::mem::take(&mut sink.inner.buf)).await?;
    copy.finish().await?;
    if conflict == Conflict::Update {
        let insert = format!(
            "INSERT INTO {} ({columns}) SELECT {columns} FROM {target}{}; TRUNCATE {target}",
            table.name,
            table.upsert_tail()
        );
        sqlx::raw_sql(AssertSqlSafe(insert)).execute(&mut *conn).await?;
    }
    Ok(())
}

/// PostgreSQL's `COPY` text format: values separated by tabs, rows ended by a newline,
/// `\N` for NULL, and backslash escapes for backslash, tab, newline and carriage return.
#[derive(Default)]
struct CopyText {
    buf: Vec<u8>,
    started: bool,
}

impl CopyText {
    fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.started = false;
    }

    fn text(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut plain = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                _ => continue,
            };
            self.buf.extend_from_slice(&bytes[plain..i]);
            self.buf.extend_from_slice(escaped);
            plain = i + 1;
        }
        self.buf.extend_from_slice(&bytes[plain..]);
    }
}

impl Sink for CopyText {
    fn put(&mut self, value: Value<'_>) -> anyhow::Result<()> {
        use std::io::Write;
        if self.started {
            self.buf.push(b'\t');
        }
        self.started = true;
        if value.is_null() {
            self.buf.extend_from_slice(b"\\N");
            return Ok(());
        }
        match value {
            Value::Text(Some(s)) => self.text(s),
            Value::Int(Some(i)) => write!(self.buf, "{i}")?,
            Value::Real(Some(f)) => real(&mut self.buf, f)?,
            Value::Bool(Some(b)) => self.buf.push(if b { b't' } else { b'f' }),
            Value::Time(Some(t)) => self.buf.extend_from_slice(sqlx_time(to_micros(t)).as_bytes()),
            Value::Date(Some(d)) => self.buf.extend_from_slice(sqlx_date(d).as_bytes()),
            _ => unreachable!("NULL handled above"),
        }
        Ok(())
    }
}

/// A float as PostgreSQL reads it back to the same bits: Rust's shortest round-trip form.
fn real(buf: &mut Vec<u8>, f: f64) -> std::io::Result<()> {
    use std::io::Write;
    match f {
        f if f.is_nan() => buf.extend_from_slice(b"NaN"),
        f64::INFINITY => buf.extend_from_slice(b"Infinity"),
        f64::NEG_INFINITY => buf.extend_from_slice(b"-Infinity"),
        f => write!(buf, "{f:?}")?,
    }
    Ok(())
}

/// PostgreSQL keeps microseconds; sqlx's binary encoding truncates finer digits, and so does
/// this one (the text format would round).
fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(values: &[Value<'_>]) -> String {
        let mut c = CopyText::default();
        for v in values {
            c.put(*v).unwrap();
        }
        c.end_row();
        String::from_utf8(c.buf).unwrap()
    }

    #[test]
    fn copy_text_escapes_and_marks_nulls() {
        let t =
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_nano_opt(9, 5, 7, 120_999).unwrap();
        let row = [
            Value::Text(Some("a\tb\nc\\d\re")),
            Value::Text(None),
            Value::Int(Some(-42)),
            Value::Real(Some(0.1)),
            Value::Real(Some(f64::NAN)),
            Value::Bool(Some(false)),
            Value::Time(Some(t)),
            Value::Date(Some(t.date())),
        ];
        assert_eq!(
            encode(&row),
            "a\\tb\\nc\\\\d\\re\t\\N\t-42\t0.1\tNaN\tf\t2026-11-02 09:05:07.000120\t2026-11-02\n"
        );
    }

    #[test]
    fn reals_keep_every_bit() {
        for f in [1e300, 1e-7, -0.0, 123456.789, f64::MIN_POSITIVE, 2.0f64.powi(60)] {
            let mut buf = Vec::new();
            real(&mut buf, f).unwrap();
            let back: f64 = String::from_utf8(buf).unwrap().parse().unwrap();
            assert_eq!(back.to_bits(), f.to_bits());
        }
    }
}
