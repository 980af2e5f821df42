//! The declared tables (`table!`, `src/warehouse/table.rs`) against the columns the migrations
//! make, on both warehouse backends: a column declared but not migrated, migrated but not
//! declared, or of another type or nullability is named.

use itstat::warehouse::schema::declared_tables;
use itstat::warehouse::table::{Kind, Table};
use itstat::warehouse::{OpenMode, Warehouse};
use sqlx::{AssertSqlSafe, Row};

use crate::support::*;

on_both_backends!(migrations_make_the_declared_columns);
on_both_backends!(every_migrated_table_is_declared);

/// A column as the database reports it: name, type and whether it may be NULL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DbColumn {
    name: String,
    sql_type: String,
    nullable: bool,
}

/// The type a column of `kind` has in each backend's migrations (docs/warehouse.md, "Columns
/// and types").
fn sql_type(backend: Backend, kind: Kind) -> &'static str {
    match (backend, kind) {
        (Backend::Sqlite, Kind::Text | Kind::Time | Kind::Date) => "TEXT",
        (Backend::Sqlite, Kind::Int | Kind::Bool) => "INTEGER",
        (Backend::Sqlite, Kind::Real) => "REAL",
        (Backend::Postgres, Kind::Text) => "text",
        (Backend::Postgres, Kind::Int) => "bigint",
        (Backend::Postgres, Kind::Real) => "double precision",
        (Backend::Postgres, Kind::Bool) => "boolean",
        (Backend::Postgres, Kind::Time) => "timestamp without time zone",
        (Backend::Postgres, Kind::Date) => "date",
        (Backend::Sqlite, Kind::Bytes) => "BLOB",
        (Backend::Postgres, Kind::Bytes) => "bytea",
    }
}

fn declared(backend: Backend, table: &Table) -> Vec<DbColumn> {
    // The id the database assigns is a column too, NOT NULL, though no row writes it.
    let mut columns: Vec<DbColumn> = table
        .serial
        .iter()
        .chain(table.columns)
        .map(|c| DbColumn {
            name: c.name.into(),
            sql_type: sql_type(backend, c.kind).into(),
            nullable: c.nullable,
        })
        .collect();
    columns.sort();
    columns
}

/// The columns of `table` as the migrated database reports them (a key column counts as NOT
/// NULL: SQLite reports a text `PRIMARY KEY` as nullable).
async fn migrated(backend: Backend, url: &str, table: &str) -> Vec<DbColumn> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name, type, \"notnull\" = 0 AND pk = 0 AS nullable FROM pragma_table_info($1)"
        }
        Backend::Postgres => {
            "SELECT column_name::text, data_type::text, is_nullable = 'YES' AS nullable
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let read = |name: String, sql_type: String, nullable: bool| DbColumn { name, sql_type, nullable };
    let mut columns: Vec<DbColumn> = match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(table).fetch_all(&pool).await.unwrap();
            rows.iter().map(|r| read(r.get(0), r.get(1), r.get(2))).collect()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(table).fetch_all(&pool).await.unwrap();
            rows.iter().map(|r| read(r.get(0), r.get(1), r.get(2))).collect()
        }
    };
    columns.sort();
    columns
}

/// A fresh warehouse, migrated, has each declared table with exactly its declared columns,
/// types and nullability.
async fn migrations_make_the_declared_columns(backend: Backend) {
    let wh = TestWarehouse::new(backend).await;
    Warehouse::open(&wh.url, OpenMode::ReadWrite).await.unwrap().close().await;
    for table in declared_tables() {
        let want = declared(backend, table);
        let got = migrated(backend, &wh.url, table.name).await;
        assert!(!got.is_empty(), "{backend:?}: no table `{}`", table.name);
        let missing: Vec<_> = want.iter().filter(|c| !got.contains(c)).collect();
        let extra: Vec<_> = got.iter().filter(|c| !want.contains(c)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{backend:?} `{}`: declared but not migrated so: {missing:?}; migrated but not declared so: {extra:?}",
            table.name
        );
    }
}

/// The tables a migrated warehouse holds, but for the migrations' own bookkeeping.
async fn migrated_tables(backend: Backend, url: &str) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               AND table_name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY 1"
        }
    };
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap()
        }
    }
}

/// No table is made by the migrations without a declaration in code, so the check above
/// covers the whole schema.
async fn every_migrated_table_is_declared(backend: Backend) {
    let wh = TestWarehouse::new(backend).await;
    Warehouse::open(&wh.url, OpenMode::ReadWrite).await.unwrap().close().await;
    let mut declared: Vec<String> = declared_tables().iter().map(|t| t.name.to_string()).collect();
    declared.sort();
    assert_eq!(migrated_tables(backend, &wh.url).await, declared, "{backend:?}");
}

on_both_backends!(declared_rows_round_trip_and_skipped_duplicates_do_not_count);

/// Rows written through their declaration read back as written — an id the database assigns
/// (`serial`), bytes, an optional time — and a duplicate key under `Conflict::Skip` keeps the
/// stored row and is not counted.
async fn declared_rows_round_trip_and_skipped_duplicates_do_not_count(backend: Backend) {
    use itstat::warehouse::gaps::VectorRow;
    use itstat::warehouse::marks::MarkRow;
    use itstat::warehouse::write::Conflict;

    let wh = TestWarehouse::new(backend).await;
    let warehouse = Warehouse::open(&wh.url, OpenMode::ReadWrite).await.unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_milli_opt(9, 30, 0, 250).unwrap();
    let vector = |key: &str, bytes: Vec<u8>| VectorRow {
        model: "m".into(),
        question_key: key.into(),
        dims: (bytes.len() / 4) as i64,
        vector: bytes,
        created_at: at,
    };
    let mark = |id: &str| MarkRow {
        mark_id: 0,
        message_id: id.into(),
        field: "kb_hit".into(),
        value: None,
        operator: "op".into(),
        note: Some("n".into()),
        marked_at: at,
        source: "cli".into(),
    };
    let mut tx = warehouse.begin().await.unwrap();
    let first = [vector("a", vec![0, 0, 128, 63]), vector("b", vec![0, 0, 0, 64])];
    assert_eq!(tx.insert_rows(&first, Conflict::Skip).await.unwrap(), 2);
    let again = [vector("a", vec![0, 0, 64, 64]), vector("c", vec![0, 0, 64, 64])];
    assert_eq!(tx.insert_rows(&again, Conflict::Skip).await.unwrap(), 1, "only c is new");
    assert_eq!(tx.insert_rows(&[mark("m1"), mark("m2")], Conflict::None).await.unwrap(), 2);
    tx.commit().await.unwrap();

    let keys = ["a".to_string(), "b".to_string(), "c".to_string()];
    let cached = warehouse.cached_vectors("m", &keys).await.unwrap();
    assert_eq!(cached["a"], vec![1.0f32], "the stored vector is kept");
    assert_eq!(cached["c"], vec![3.0f32]);
    let marks = warehouse.mark_history("m2").await.unwrap();
    assert_eq!(marks.len(), 1);
    let m = &marks[0];
    assert_eq!((m.mark_id, m.value, m.note.as_deref(), m.marked_at), (2, None, Some("n"), at));
    warehouse.close().await;
}
