//! One declaration per table: a row type's columns, in order, with their kinds.
//!
//! [`table!`](crate::table) declares which fields of a Rust struct are the columns of a
//! warehouse table. From that one list come the column lists of the `INSERT` and of the
//! upsert's `SET` ([`Table::insert_sql`], [`Table::upsert_tail`]), the values each backend's
//! writer binds ([`Row::write`], fed to the SQLite binder and to the PostgreSQL `COPY`
//! encoder of `warehouse::write`), and the decoders that read rows back from either backend
//! ([`Decode`]). A field whose Rust type is not the declared one
//! does not compile. Every value a writer receives is checked against the table's next column
//! — its kind, whether it may be NULL, and that a row gives exactly as many values as the
//! table has columns — in release builds too ([`Checked`]): a drifted declaration is an
//! error naming the table and the column, never a row written into the wrong columns.

use chrono::{NaiveDate, NaiveDateTime};
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use super::sqlite_bulk::{get_opt_time, get_time};
use crate::transform::messages::MessageState;

/// How a column is stored (docs/warehouse.md, "Columns and types").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `TEXT` on both.
    Text,
    /// `BIGINT` / `INTEGER`.
    Int,
    /// `DOUBLE PRECISION` / `REAL`.
    Real,
    /// `BOOLEAN` / `INTEGER` 0 or 1.
    Bool,
    /// `TIMESTAMP` / `TEXT` as `%F %T%.f`, naive UTC or local as the column says.
    Time,
    /// `DATE` / `TEXT` as `%F`.
    Date,
    /// `BYTEA` / `BLOB`.
    Bytes,
}

/// One value of a row, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Time(Option<NaiveDateTime>),
    Date(Option<NaiveDate>),
    Bytes(Option<&'a [u8]>),
}

impl Value<'_> {
    /// The kind of column this value belongs in.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Text(_) => Kind::Text,
            Value::Int(_) => Kind::Int,
            Value::Real(_) => Kind::Real,
            Value::Bool(_) => Kind::Bool,
            Value::Time(_) => Kind::Time,
            Value::Date(_) => Kind::Date,
            Value::Bytes(_) => Kind::Bytes,
        }
    }

    /// Whether the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Text(v) => v.is_none(),
            Value::Int(v) => v.is_none(),
            Value::Real(v) => v.is_none(),
            Value::Bool(v) => v.is_none(),
            Value::Time(v) => v.is_none(),
            Value::Date(v) => v.is_none(),
            Value::Bytes(v) => v.is_none(),
        }
    }
}

/// A column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

/// A table's name, key and columns, in the order rows give their values.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    /// The conflict target of an upsert.
    pub key: &'static [&'static str],
    /// The id column the database assigns on insert (`INTEGER PRIMARY KEY AUTOINCREMENT` /
    /// `GENERATED ALWAYS AS IDENTITY`): read back, never written, so not among `columns`.
    pub serial: Option<Column>,
    pub columns: &'static [Column],
    /// Columns an upsert leaves as stored (e.g. when a row was first seen).
    pub keep_on_update: &'static [&'static str],
}

impl Table {
    /// `a, b, c`: the column names in order.
    pub fn column_list(&self) -> String {
        self.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
    }

    /// `INSERT INTO t (a, b, c) ` (the values follow).
    pub fn insert_head(&self) -> String {
        format!("INSERT INTO {} ({}) ", self.name, self.column_list())
    }

    /// `INSERT INTO t (a, b, c) VALUES ($1, $2, $3)`: one row.
    pub fn insert_sql(&self) -> String {
        let marks: Vec<String> = (1..=self.columns.len()).map(|i| format!("${i}")).collect();
        format!("{}VALUES ({})", self.insert_head(), marks.join(", "))
    }

    /// ` ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` for every column but the key and
    /// those kept on update.
    pub fn upsert_tail(&self) -> String {
        let set: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !self.key.contains(&c.name) && !self.keep_on_update.contains(&c.name))
            .map(|c| format!("{0} = excluded.{0}", c.name))
            .collect();
        format!(" ON CONFLICT ({}) DO UPDATE SET {}", self.key.join(", "), set.join(", "))
    }
}

impl Table {
    /// This table with more columns after its own, for a row type that writes a declared
    /// row and then values of its own. Made once per row type (into a `static`), so the
    /// columns are leaked on purpose.
    pub fn extended(&'static self, extra: &[Column], keep_on_update: &'static [&'static str]) -> Table {
        let columns: Vec<Column> = self.columns.iter().chain(extra).copied().collect();
        Table { columns: Box::leak(columns.into_boxed_slice()), keep_on_update, ..*self }
    }
}

/// A receiver of a row's values, one column after the other.
pub trait Sink {
    /// Takes the next value.
    fn put(&mut self, value: Value<'_>) -> anyhow::Result<()>;
}

/// A row of a declared table.
pub trait Row {
    /// The table and its columns.
    fn table() -> &'static Table;

    /// Gives the row's values to `sink`, in column order.
    fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()>;
}

impl<R: Row> Row for &R {
    fn table() -> &'static Table {
        R::table()
    }

    fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()> {
        (**self).write(sink)
    }
}

/// A row type read back from either backend, its columns in the table's order.
pub trait Decode: Sized {
    /// Reads a row a SQLite query returned, its columns in the table's order.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;

    /// Reads a row a PostgreSQL query returned, its columns in the table's order.
    fn from_pg(row: &PgRow) -> sqlx::Result<Self>;
}

/// Wraps a sink so that each value is checked against the table's next column, and a row
/// against the number of columns ([`Checked::end_row`]).
pub struct Checked<'t, S> {
    pub table: &'t Table,
    pub inner: S,
    next: usize,
}

impl<'t, S: Sink> Checked<'t, S> {
    pub fn new(table: &'t Table, inner: S) -> Self {
        Checked { table, inner, next: 0 }
    }

    /// Ends a row: it must have given one value per column.
    pub fn end_row(&mut self) -> anyhow::Result<()> {
        let (given, columns) = (self.next, self.table.columns.len());
        self.next = 0;
        anyhow::ensure!(
            given == columns,
            "a row of `{}` gave {given} values for its {columns} columns",
            self.table.name
        );
        Ok(())
    }
}

impl<S: Sink> Sink for Checked<'_, S> {
    fn put(&mut self, value: Value<'_>) -> anyhow::Result<()> {
        let table = self.table;
        let Some(column) = table.columns.get(self.next) else {
            anyhow::bail!(
                "a row of `{}` gave more values than its {} columns",
                table.name,
                table.columns.len()
            );
        };
        anyhow::ensure!(
            value.kind() == column.kind,
            "`{}.{}` is a {:?} column, the row gave a {:?} value",
            table.name,
            column.name,
            column.kind,
            value.kind()
        );
        anyhow::ensure!(
            column.nullable || !value.is_null(),
            "`{}.{}` cannot be NULL, the row gave NULL",
            table.name,
            column.name
        );
        self.next += 1;
        self.inner.put(value)
    }
}

/// A Rust type a column can hold.
pub trait Field: Sized {
    const KIND: Kind;
    const NULLABLE: bool;
    fn value(&self) -> Value<'_>;
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn from_pg(row: &PgRow, i: usize) -> sqlx::Result<Self>;
}

/// `Field` for a type both drivers decode themselves, and for its `Option`; SQLite's decoders
/// default to rusqlite's own (`row.get`).
macro_rules! field {
    ($ty:ty, $kind:ident, |$v:ident| $value:expr) => {
        field!($ty, $kind, |$v| $value, |row, i| row.get(i), |row, i| row.get(i));
    };
    ($ty:ty, $kind:ident, |$v:ident| $value:expr, $sqlite:expr, $sqlite_opt:expr) => {
        impl Field for $ty {
            const KIND: Kind = Kind::$kind;
            const NULLABLE: bool = false;
            fn value(&self) -> Value<'_> {
                let $v = self;
                Value::$kind(Some($value))
            }
            fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                let read: fn(&rusqlite::Row<'_>, usize) -> rusqlite::Result<Self> = $sqlite;
                read(row, i)
            }
            fn from_pg(row: &PgRow, i: usize) -> sqlx::Result<Self> {
                row.try_get(i)
            }
        }
        impl Field for Option<$ty> {
            const KIND: Kind = Kind::$kind;
            const NULLABLE: bool = true;
            fn value(&self) -> Value<'_> {
                Value::$kind(self.as_ref().map(|$v| $value))
            }
            fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                let read: fn(&rusqlite::Row<'_>, usize) -> rusqlite::Result<Self> = $sqlite_opt;
                read(row, i)
            }
            fn from_pg(row: &PgRow, i: usize) -> sqlx::Result<Self> {
                row.try_get(i)
            }
        }
    };
}

field!(String, Text, |v| v.as_str());
field!(i64, Int, |v| *v);
field!(f64, Real, |v| *v);
field!(bool, Bool, |v| *v);
field!(NaiveDate, Date, |v| *v);
field!(Vec<u8>, Bytes, |v| v.as_slice());
// Times from SQLite parsed by hand, not by chrono's format strings (`sqlite_bulk::get_time`).
field!(NaiveDateTime, Time, |v| *v, get_time, get_opt_time);

impl Field for MessageState {
    const KIND: Kind = Kind::Text;
    const NULLABLE: bool = false;
    fn value(&self) -> Value<'_> {
        Value::Text(Some(self.as_str()))
    }
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        Ok(MessageState::from_stored(&row.get::<_, String>(i)?))
    }
    fn from_pg(row: &PgRow, i: usize) -> sqlx::Result<Self> {
        Ok(MessageState::from_stored(&row.try_get::<String, _>(i)?))
    }
}

/// Declares the columns of a table as fields of a row type:
///
/// ```ignore
/// table!(SessionRow => "sessions", key(session_id), keep() {
///     session_id: String,
///     user_key: String,
///     …
/// });
/// ```
///
/// Each `field: Type` is a column of that name; the type must be the field's own (checked by
/// the compiler) and gives the column's kind and nullability (see [`Field`]).
///
/// Or, declaring the struct itself, so that each field is written once:
///
/// ```ignore
/// table!(#[derive(Debug)] pub struct MessageRow => "messages", key(message_id), keep() {
///     pub message_id: String,
///     …
/// });
/// ```
///
/// A table whose id the database assigns names it first, as `serial(pub id: i64)`: the struct
/// holds it and the decoders read it (the first column of the query), but an insert leaves it
/// out. Its `key` is what an upsert or a skipped duplicate is decided by.
///
/// ```ignore
/// table!(#[derive(Debug)] pub struct MarkRow => "marks", serial(pub mark_id: i64), key(mark_id), keep() {
///     pub message_id: String,
///     …
/// });
/// ```
#[macro_export]
macro_rules! table {
    (@serial) => { None };
    (@serial $id:ident: $idty:ty) => {
        Some(Column { name: stringify!($id), kind: <$idty as Field>::KIND, nullable: false })
    };
    (@impl $row:ty => $name:literal, serial($($id:ident: $idty:ty)?), key($($key:ident),*), keep($($keep:ident),*) {
        $($field:ident: $ty:ty),+
    }) => {
        impl $crate::warehouse::table::Row for $row {
            fn table() -> &'static $crate::warehouse::table::Table {
                use $crate::warehouse::table::{Column, Field, Table};
                static TABLE: Table = Table {
                    name: $name,
                    key: &[$(stringify!($key)),*],
                    keep_on_update: &[$(stringify!($keep)),*],
                    serial: $crate::table!(@serial $($id: $idty)?),
                    columns: &[$(Column {
                        name: stringify!($field),
                        kind: <$ty as Field>::KIND,
                        nullable: <$ty as Field>::NULLABLE,
                    }),+],
                };
                &TABLE
            }

            fn write(&self, sink: &mut impl $crate::warehouse::table::Sink) -> anyhow::Result<()> {
                $(sink.put(<$ty as $crate::warehouse::table::Field>::value(&self.$field))?;)+
                Ok(())
            }
        }

        impl $crate::warehouse::table::Decode for $row {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                let mut i = 0usize;
                let mut next = || {
                    i += 1;
                    i - 1
                };
                Ok(Self {
                    $($id: <$idty as $crate::warehouse::table::Field>::from_sqlite(row, next())?,)?
                    $($field: <$ty as $crate::warehouse::table::Field>::from_sqlite(row, next())?),+
                })
            }

            fn from_pg(row: &sqlx::postgres::PgRow) -> sqlx::Result<Self> {
                let mut i = 0usize;
                let mut next = || {
                    i += 1;
                    i - 1
                };
                Ok(Self {
                    $($id: <$idty as $crate::warehouse::table::Field>::from_pg(row, next())?,)?
                    $($field: <$ty as $crate::warehouse::table::Field>::from_pg(row, next())?),+
                })
            }
        }
    };
    ($(#[$meta:meta])* pub struct $row:ident => $name:literal, serial(pub $id:ident: $idty:ty), key($($key:ident),*), keep($($keep:ident),*) {
        $($(#[$doc:meta])* pub $field:ident: $ty:ty),+ $(,)?
    }) => {
        $(#[$meta])*
        pub struct $row {
            pub $id: $idty,
            $($(#[$doc])* pub $field: $ty,)+
        }

        $crate::table!(@impl $row => $name, serial($id: $idty), key($($key),*), keep($($keep),*) { $($field: $ty),+ });
    };
    ($(#[$meta:meta])* pub struct $row:ident => $name:literal, key($($key:ident),*), keep($($keep:ident),*) {
        $($(#[$doc:meta])* pub $field:ident: $ty:ty),+ $(,)?
    }) => {
        $(#[$meta])*
        pub struct $row {
            $($(#[$doc])* pub $field: $ty,)+
        }

        $crate::table!(@impl $row => $name, serial(), key($($key),*), keep($($keep),*) { $($field: $ty),+ });
    };
    ($row:ty => $name:literal, key($($key:ident),*), keep($($keep:ident),*) { $($field:ident: $ty:ty),+ $(,)? }) => {
        $crate::table!(@impl $row => $name, serial(), key($($key),*), keep($($keep),*) { $($field: $ty),+ });
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe {
        id: String,
        n: i64,
        at: Option<NaiveDateTime>,
    }

    crate::table!(Probe => "probe", key(id), keep() { id: String, n: i64, at: Option<NaiveDateTime> });

    /// Writes one value too few, as a declaration that drifted from its writer would.
    struct Short(Probe);

    impl Row for Short {
        fn table() -> &'static Table {
            Probe::table()
        }
        fn write(&self, sink: &mut impl Sink) -> anyhow::Result<()> {
            sink.put(self.0.id.value())?;
            sink.put(self.0.n.value())
        }
    }

    #[derive(Default)]
    struct Collect(Vec<String>);

    impl Sink for Collect {
        fn put(&mut self, value: Value<'_>) -> anyhow::Result<()> {
            self.0.push(format!("{value:?}"));
            Ok(())
        }
    }

    fn probe() -> Probe {
        Probe { id: "a".into(), n: 3, at: None }
    }

    #[test]
    fn the_declaration_gives_the_sql() {
        let t = Probe::table();
        assert_eq!(t.insert_sql(), "INSERT INTO probe (id, n, at) VALUES ($1, $2, $3)");
        assert_eq!(t.upsert_tail(), " ON CONFLICT (id) DO UPDATE SET n = excluded.n, at = excluded.at");
        assert_eq!(t.columns[2], Column { name: "at", kind: Kind::Time, nullable: true });
    }

    #[test]
    fn a_full_row_passes_the_check() {
        let mut sink = Checked::new(Probe::table(), Collect::default());
        probe().write(&mut sink).unwrap();
        sink.end_row().unwrap();
        assert_eq!(sink.inner.0, ["Text(Some(\"a\"))", "Int(Some(3))", "Time(None)"]);
    }

    /// The bind count is checked in every build, not only by a debug assertion.
    #[test]
    fn a_wrong_bind_count_is_an_error() {
        let mut sink = Checked::new(Short::table(), Collect::default());
        Short(probe()).write(&mut sink).unwrap();
        let err = sink.end_row().unwrap_err().to_string();
        assert_eq!(err, "a row of `probe` gave 2 values for its 3 columns");
        let mut sink = Checked::new(Probe::table(), Collect::default());
        probe().write(&mut sink).unwrap();
        let err = sink.put(Value::Int(Some(1))).unwrap_err().to_string();
        assert!(err.contains("more values than its 3 columns"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_kind_or_a_null_in_a_required_column_is_an_error() {
        let mut sink = Checked::new(Probe::table(), Collect::default());
        let err = sink.put(Value::Int(Some(1))).unwrap_err().to_string();
        assert_eq!(err, "`probe.id` is a Text column, the row gave a Int value");
        let mut sink = Checked::new(Probe::table(), Collect::default());
        let err = sink.put(Value::Text(None)).unwrap_err().to_string();
        assert_eq!(err, "`probe.id` cannot be NULL, the row gave NULL");
    }
}
