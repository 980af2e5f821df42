//! Reads for `itstat export`: a cheap fingerprint of every local date of `messages` and
//! `sessions`, and one date's rows as a Polars frame with proper types.
//!
//! Fingerprints come from one grouped query per table (`sql/warehouse/export_*_fingerprints.sql`)
//! and are only ever compared with earlier fingerprints of the same table, so they need to
//! change when the rows change, not to mean anything. Rows are streamed into typed column
//! builders, one date at a time, so an export never holds more than one partition. Nothing
//! here writes.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use futures_util::TryStreamExt;
use polars::prelude::*;
use sqlx::Row;

use super::Warehouse;
use super::messages::messages_table;
use super::table::Row as _;
use crate::extract::frame::micros;
use crate::transform::derive::SessionRow;
use crate::transform::time::epoch_days;
use crate::with_pool;

/// A table `itstat export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    /// `messages`, partitioned by `local_date`.
    Messages,
    /// `sessions`, partitioned by `local_date`.
    Sessions,
}

/// The Parquet type a column is written as: the kind its table declares (`warehouse/table.rs`):
/// text, a naive timestamp in microseconds (UTC or local, as `docs/warehouse.md` says), a date,
/// a boolean, a 64-bit integer or float.
pub use super::table::Kind;

use Kind::{Bool, Bytes, Date, Int, Real, Text, Time};

/// Bookkeeping columns of `messages`, exported after the session columns.
const MESSAGE_BOOKKEEPING: &[&str] = &["content_hash", "first_seen_at"];

/// The exported columns of `messages`, in file order: every declared column
/// ([`messages_table`]) but the bookkeeping ones, then those, then the current operator marks.
static MESSAGE_COLUMNS: LazyLock<Vec<(&'static str, Kind)>> = LazyLock::new(|| {
    let stored = messages_table().columns.iter().map(|c| (c.name, c.kind));
    let (bookkeeping, documented): (Vec<_>, Vec<_>) =
        stored.partition(|(name, _)| MESSAGE_BOOKKEEPING.contains(name));
    documented.into_iter().chain(bookkeeping).chain([("kb_mark", Bool), ("manual_mark", Bool)]).collect()
});

/// The exported columns of `sessions`, in file order: all of them, as declared.
static SESSION_COLUMNS: LazyLock<Vec<(&'static str, Kind)>> =
    LazyLock::new(|| SessionRow::table().columns.iter().map(|c| (c.name, c.kind)).collect());

/// `sql/warehouse/export_messages.sql` with its select list: the stored columns of
/// [`MESSAGE_COLUMNS`] (the marks are the file's own).
static MESSAGES_SQL: LazyLock<String> = LazyLock::new(|| {
    let stored: Vec<String> = MESSAGE_COLUMNS
        .iter()
        .filter(|(name, _)| !name.ends_with("_mark"))
        .map(|(name, _)| format!("m.{name}"))
        .collect();
    include_str!("../../sql/warehouse/export_messages.sql").replace("{{columns}}", &stored.join(", "))
});

/// `sql/warehouse/export_sessions.sql` with its select list.
static SESSIONS_SQL: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = SESSION_COLUMNS.iter().map(|(name, _)| *name).collect();
    include_str!("../../sql/warehouse/export_sessions.sql").replace("{{columns}}", &names.join(", "))
});

impl ExportTable {
    /// Both tables, in the order they are exported.
    pub const ALL: [ExportTable; 2] = [ExportTable::Messages, ExportTable::Sessions];

    /// The table's name: also its folder in the export.
    pub fn name(self) -> &'static str {
        match self {
            ExportTable::Messages => "messages",
            ExportTable::Sessions => "sessions",
        }
    }

    /// The columns written, with their types.
    pub fn columns(self) -> &'static [(&'static str, Kind)] {
        match self {
            ExportTable::Messages => &MESSAGE_COLUMNS,
            ExportTable::Sessions => &SESSION_COLUMNS,
        }
    }

    fn fingerprint_sql(self) -> &'static str {
        match self {
            ExportTable::Messages => include_str!("../../sql/warehouse/export_message_fingerprints.sql"),
            ExportTable::Sessions => include_str!("../../sql/warehouse/export_session_fingerprints.sql"),
        }
    }

    fn rows_sql(self) -> &'static str {
        match self {
            ExportTable::Messages => &MESSAGES_SQL,
            ExportTable::Sessions => &SESSIONS_SQL,
        }
    }
}

/// What one local date of a table holds, summarised: equal fingerprints mean the rows (very
/// probably) did not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// Rows dated that day.
    pub rows: i64,
    /// A hash of the row count and every aggregate of the fingerprint query.
    pub digest: u64,
}

impl Fingerprint {
    /// Digests the aggregates of one fingerprint row (the row count first).
    pub fn of(aggregates: &[i64]) -> Fingerprint {
        let bytes: Vec<u8> = aggregates.iter().flat_map(|v| v.to_le_bytes()).collect();
        Fingerprint {
            rows: aggregates.first().copied().unwrap_or(0),
            digest: xxhash_rust::xxh3::xxh3_64(&bytes),
        }
    }
}

/// The column values of one partition, as Polars wants them.
enum Values {
    Text(Vec<Option<String>>),
    Micros(Vec<Option<i64>>),
    Days(Vec<Option<i32>>),
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Bytes(Vec<Option<Vec<u8>>>),
}

impl Values {
    fn new(kind: Kind) -> Values {
        match kind {
            Text => Values::Text(Vec::new()),
            Time => Values::Micros(Vec::new()),
            Date => Values::Days(Vec::new()),
            Bool => Values::Bool(Vec::new()),
            Int => Values::Int(Vec::new()),
            Real => Values::Real(Vec::new()),
            Bytes => Values::Bytes(Vec::new()),
        }
    }

    /// A Polars column with the Parquet-facing dtype.
    fn into_column(self, name: &str) -> PolarsResult<Column> {
        let name = PlSmallStr::from(name);
        Ok(match self {
            Values::Text(v) => Column::new(name, v),
            Values::Micros(v) => {
                Column::new(name, v).cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
            }
            Values::Days(v) => Column::new(name, v).cast(&DataType::Date)?,
            Values::Bool(v) => Column::new(name, v),
            Values::Int(v) => Column::new(name, v),
            Values::Real(v) => Column::new(name, v),
            Values::Bytes(v) => Column::new(name, v),
        })
    }
}

/// Appends one database row to the column builders, decoding each column by name.
fn push_row<'r, R>(columns: &[(&'static str, Kind)], values: &mut [Values], row: &'r R) -> sqlx::Result<()>
where
    R: Row,
    &'static str: sqlx::ColumnIndex<R>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<NaiveDateTime>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<NaiveDate>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<f64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    for ((name, _), out) in columns.iter().zip(values.iter_mut()) {
        match out {
            Values::Text(v) => v.push(row.try_get(*name)?),
            Values::Micros(v) => v.push(row.try_get::<Option<NaiveDateTime>, _>(*name)?.map(micros)),
            Values::Days(v) => v.push(row.try_get::<Option<NaiveDate>, _>(*name)?.map(epoch_days)),
            Values::Bool(v) => v.push(row.try_get(*name)?),
            Values::Int(v) => v.push(row.try_get(*name)?),
            Values::Real(v) => v.push(row.try_get(*name)?),
            Values::Bytes(v) => v.push(row.try_get(*name)?),
        }
    }
    Ok(())
}

/// The row count and aggregates of one fingerprint row: every column after the date.
fn aggregates<'r, R>(row: &'r R) -> sqlx::Result<(NaiveDate, Vec<i64>)>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let date = row.try_get(0)?;
    let values = (1..row.len()).map(|i| row.try_get::<i64, _>(i)).collect::<sqlx::Result<Vec<_>>>()?;
    Ok((date, values))
}

impl Warehouse {
    /// The fingerprint of every local date that has rows in `table`.
    pub async fn export_fingerprints(
        &self,
        table: ExportTable,
    ) -> anyhow::Result<BTreeMap<NaiveDate, Fingerprint>> {
        let rows = with_pool!(self, pool, Db => {
            sqlx::query(table.fingerprint_sql())
                .fetch_all(pool)
                .await
                .and_then(|rows| rows.iter().map(aggregates).collect::<sqlx::Result<Vec<_>>>())
        })
        .with_context(|| format!("reading what changed in `{}`", table.name()))?;
        Ok(rows.into_iter().map(|(date, values)| (date, Fingerprint::of(&values))).collect())
    }

    /// The rows of `table` dated `date`, oldest first, with the columns of
    /// [`ExportTable::columns`].
    pub async fn export_partition(&self, table: ExportTable, date: NaiveDate) -> anyhow::Result<DataFrame> {
        let columns = table.columns();
        let mut values: Vec<Values> = columns.iter().map(|(_, kind)| Values::new(*kind)).collect();
        let mut height = 0;
        let loaded: sqlx::Result<()> = with_pool!(self, pool, Db => {
            async {
                let mut rows = sqlx::query(table.rows_sql()).bind(date).fetch(pool);
                while let Some(row) = rows.try_next().await? {
                    push_row(columns, &mut values, &row)?;
                    height += 1;
                }
                sqlx::Result::Ok(())
            }
            .await
        });
        loaded.with_context(|| format!("reading `{}` of {date}", table.name()))?;
        let built = columns.iter().zip(values).map(|((name, _), v)| v.into_column(name));
        let built = built.collect::<PolarsResult<Vec<Column>>>()?;
        Ok(DataFrame::new(height, built)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_parquet_types() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let time = date.and_hms_opt(9, 30, 0).unwrap();
        let cols = [
            Values::Text(vec![Some("a".into()), None]).into_column("t").unwrap(),
            Values::Micros(vec![Some(micros(time)), None]).into_column("ts").unwrap(),
            Values::Days(vec![Some(epoch_days(date)), None]).into_column("d").unwrap(),
            Values::Bool(vec![Some(true), None]).into_column("b").unwrap(),
            Values::Int(vec![Some(1), None]).into_column("i").unwrap(),
            Values::Real(vec![Some(0.5), None]).into_column("r").unwrap(),
        ];
        let dtypes: Vec<DataType> = cols.iter().map(|c| c.dtype().clone()).collect();
        assert_eq!(
            dtypes,
            [
                DataType::String,
                DataType::Datetime(TimeUnit::Microseconds, None),
                DataType::Date,
                DataType::Boolean,
                DataType::Int64,
                DataType::Float64,
            ]
        );
        assert_eq!(cols[1].get(0).unwrap().to_string(), "2026-11-02 09:30:00");
    }

    #[test]
    fn fingerprints_differ_when_any_aggregate_does() {
        let a = Fingerprint::of(&[3, 10, 20]);
        assert_eq!(a, Fingerprint::of(&[3, 10, 20]));
        assert_eq!(a.rows, 3);
        assert_ne!(a, Fingerprint::of(&[3, 20, 10]), "order matters");
        assert_ne!(a, Fingerprint::of(&[3, 10, 21]));
    }

    #[test]
    fn column_lists_have_no_duplicates() {
        for table in ExportTable::ALL {
            let mut names: Vec<_> = table.columns().iter().map(|(n, _)| *n).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), table.columns().len(), "{}", table.name());
        }
    }
}
