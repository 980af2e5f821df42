//! Writing declared rows ([`table::Row`](super::table::Row)) in bulk, on either backend, in
//! the caller's transaction.
//!
//! - **PostgreSQL** takes rows by `COPY … FROM STDIN` in binary format: each value is encoded
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
use chrono::{NaiveDate, NaiveDateTime};
// AssertSqlSafe: every statement built here is made of the static table declarations' names.
use sqlx::{AssertSqlSafe, PgConnection, SqliteConnection};

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
    /// The stored row is kept and the new one dropped (`DO NOTHING`): rows another process
    /// may have written first, like a cached vector or an imported entry.
    Skip,
}

impl Conflict {
    /// The `ON CONFLICT …` clause of an insert into `table`.
    fn clause(self, table: &Table) -> String {
        match self {
            Conflict::None => String::new(),
            Conflict::Update => table.upsert_tail(),
            Conflict::Skip => format!(" ON CONFLICT ({}) DO NOTHING", table.key.join(", ")),
        }
    }
}

/// The COPY buffer is sent when it passes this size, so memory does not grow with the batch.
const COPY_CHUNK: usize = 1 << 20;

impl Tx {
    /// Writes `rows` into their table (see [`Conflict`]). On SQLite, rows are written in the
    /// order given: callers sort by key when the key index is there.
    pub async fn write_rows<R: Row>(&mut self, rows: &[R], conflict: Conflict) -> anyhow::Result<()> {
        self.insert_rows(rows, conflict).await.map(drop)
    }

    /// [`Tx::write_rows`], returning how many rows were inserted or updated (those
    /// [`Conflict::Skip`] dropped do not count).
    pub async fn insert_rows<R: Row>(&mut self, rows: &[R], conflict: Conflict) -> anyhow::Result<u64> {
        if rows.is_empty() {
            return Ok(0);
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
) -> anyhow::Result<u64> {
    let marks = vec!["?"; table.columns.len()].join(", ");
    let sql = format!("{}VALUES ({marks}){}", table.insert_head(), conflict.clause(table));
    with_raw_connection(conn, |db| {
        let mut statement = db.prepare(&sql)?;
        let mut sink = Checked::new(table, SqliteBinder { statement: &mut statement, next: 1 });
        let mut written = 0;
        for row in rows {
            sink.inner.next = 1;
            row.write(&mut sink)?;
            sink.end_row()?;
            written += sink.inner.statement.raw_execute()? as u64;
        }
        Ok(written)
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
            Value::Time(v) => s.raw_bind_parameter(i, v.map(sqlx_time).as_deref())?,
            Value::Date(v) => s.raw_bind_parameter(i, v.map(sqlx_date).as_deref())?,
            Value::Bytes(v) => s.raw_bind_parameter(i, v)?,
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
) -> anyhow::Result<u64> {
    let columns = table.column_list();
    let target = match conflict {
        Conflict::None => table.name.to_string(),
        Conflict::Update | Conflict::Skip => {
            let stage = format!("itstat_stage_{}_{}", table.name, table.columns.len());
            let create = format!(
                "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS SELECT {columns} FROM {} WITH NO DATA",
                table.name
            );
            sqlx::raw_sql(AssertSqlSafe(create)).execute(&mut *conn).await?;
            stage
        }
    };
    let statement = format!("COPY {target} ({columns}) FROM STDIN WITH (FORMAT binary)");
    let mut copy = conn.copy_in_raw(&statement).await?;
    let mut sink = Checked::new(table, CopyBinary::default());
    sink.inner.header();
    let encoded = async {
        for row in rows {
            sink.inner.start_row(table.columns.len());
            row.write(&mut sink)?;
            sink.end_row()?;
            if sink.inner.buf.len() >= COPY_CHUNK {
                copy.send(std::mem::take(&mut sink.inner.buf)).await?;
            }
        }
        sink.inner.trailer();
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = encoded {
        // The connection must leave COPY mode before the transaction can roll back.
        copy.abort("itstat: a row could not be encoded").await.ok();
        return Err(e);
    }
    copy.send(std::mem::take(&mut sink.inner.buf)).await?;
    let copied = copy.finish().await?;
    if conflict == Conflict::None {
        return Ok(copied);
    }
    // One round trip; the TRUNCATE adds nothing to the rows affected.
    let insert = format!(
        "INSERT INTO {} ({columns}) SELECT {columns} FROM {target}{}; TRUNCATE {target}",
        table.name,
        conflict.clause(table)
    );
    Ok(sqlx::raw_sql(AssertSqlSafe(insert)).execute(&mut *conn).await?.rows_affected())
}

/// PostgreSQL's binary `COPY` format: a header, then per row the number of fields (i16) and
/// per field its length (i32, -1 for NULL) and bytes in the column type's binary form — all
/// big-endian — then a trailer. Binary spares the server parsing text (timestamps above
/// all): a first load of 300,000 messages took 6.4–6.7 s instead of 7.0–7.2 s with the text
/// format (three alternating pairs, docs/performance.md). The column types are the table's own: BIGINT, DOUBLE PRECISION, BOOLEAN,
/// TIMESTAMP, DATE, BYTEA and TEXT (migrations/postgres); a column of another type would make the
/// server refuse the copy, which the integration tests would show.
#[derive(Default)]
struct CopyBinary {
    buf: Vec<u8>,
}

/// The signature, flags and header extension length that open a binary COPY.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

impl CopyBinary {
    fn header(&mut self) {
        self.buf.extend_from_slice(COPY_HEADER);
    }

    fn start_row(&mut self, fields: usize) {
        self.buf.extend_from_slice(&(fields as i16).to_be_bytes());
    }

    fn trailer(&mut self) {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }
}

impl Sink for CopyBinary {
    fn put(&mut self, value: Value<'_>) -> anyhow::Result<()> {
        if value.is_null() {
            self.buf.extend_from_slice(&(-1i32).to_be_bytes());
            return Ok(());
        }
        match value {
            Value::Text(Some(s)) => {
                anyhow::ensure!(
                    s.len() <= i32::MAX as usize,
                    "a text of {} bytes is too long to copy",
                    s.len()
                );
                self.field(s.as_bytes())
            }
            Value::Int(Some(i)) => self.field(&i.to_be_bytes()),
            Value::Real(Some(f)) => self.field(&f.to_bits().to_be_bytes()),
            Value::Bool(Some(b)) => self.field(&[u8::from(b)]),
            Value::Bytes(Some(b)) => self.field(b),
            Value::Time(Some(t)) => self.field(&pg_micros(t)?.to_be_bytes()),
            Value::Date(Some(d)) => {
                let days = d.signed_duration_since(pg_epoch().date()).num_days();
                self.field(&i32::try_from(days)?.to_be_bytes())
            }
            _ => unreachable!("NULL handled above"),
        }
        Ok(())
    }
}

/// PostgreSQL's epoch, 2000-01-01 00:00:00.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

/// Microseconds since PostgreSQL's epoch, finer digits dropped — as sqlx encodes a time.
fn pg_micros(t: NaiveDateTime) -> anyhow::Result<i64> {
    (t - pg_epoch()).num_microseconds().ok_or_else(|| anyhow::anyhow!("the time {t} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(values: &[Value<'_>]) -> Vec<u8> {
        let mut c = CopyBinary::default();
        for v in values {
            c.put(*v).unwrap();
        }
        c.buf
    }

    #[test]
    fn copy_binary_writes_each_type_as_postgres_reads_it() {
        let t = NaiveDate::from_ymd_opt(2000, 1, 2).unwrap().and_hms_micro_opt(0, 0, 1, 5).unwrap();
        assert_eq!(encode(&[Value::Text(Some("ab"))]), [0, 0, 0, 2, b'a', b'b']);
        assert_eq!(encode(&[Value::Text(None)]), [255, 255, 255, 255]);
        assert_eq!(encode(&[Value::Int(Some(-2))]), [0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254]);
        assert_eq!(encode(&[Value::Real(Some(1.0))]), [0, 0, 0, 8, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode(&[Value::Bool(Some(true))]), [0, 0, 0, 1, 1]);
        // One day, one second and five microseconds after 2000-01-01.
        let micros: i64 = 86_400_000_000 + 1_000_005;
        let mut expected = vec![0, 0, 0, 8];
        expected.extend_from_slice(&micros.to_be_bytes());
        assert_eq!(encode(&[Value::Time(Some(t))]), expected);
        assert_eq!(encode(&[Value::Date(Some(t.date()))]), [0, 0, 0, 4, 0, 0, 0, 1]);
        let before = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        assert_eq!(encode(&[Value::Date(Some(before))]), [0, 0, 0, 4, 255, 255, 255, 255]);
    }

    #[test]
    fn nanoseconds_are_dropped_as_sqlx_drops_them() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_nano_opt(9, 5, 7, 120_999).unwrap();
        let truncated =
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_micro_opt(9, 5, 7, 120).unwrap();
        assert_eq!(pg_micros(t).unwrap(), pg_micros(truncated).unwrap());
    }
}
