//! `itstat export`: the Parquet dataset read back with Polars as one Hive-partitioned table,
//! incremental rewrites after marks and re-ingests, removal of dates without rows, and bad
//! input, on both warehouse backends.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use itstat::demo::generator::{GenConfig, generate};
use itstat::demo::pg::SchemaVersion;
use polars::prelude::*;

use crate::support::*;

on_both_backends!(
    export_round_trips_and_rewrites_only_changed_days,
    export_removes_days_without_rows_and_restores_missing_files,
    export_rejects_bad_flags_and_reports_io_errors,
);

/// A whole table of the export, read as one Hive-partitioned dataset (`date` from the path).
fn read_dataset(dir: &Path) -> DataFrame {
    let args = ScanArgsParquet { hive_options: HiveOptions::new_enabled(), ..Default::default() };
    LazyFrame::scan_parquet(PlRefPath::try_from_path(dir).unwrap(), args).unwrap().collect().unwrap()
}

/// `YYYY-MM-DD|rows` per `date` of a dataset, in date order.
fn rows_per_date(df: &DataFrame) -> Vec<String> {
    let counts = df
        .clone()
        .lazy()
        .group_by([col("date")])
        .agg([len().cast(DataType::Int64).alias("n")])
        .sort(["date"], Default::default())
        .select([col("date").cast(DataType::String), col("n")])
        .collect()
        .unwrap();
    let dates = counts.column("date").unwrap().str().unwrap().clone();
    let n = counts.column("n").unwrap().i64().unwrap().clone();
    dates.iter().zip(n.iter()).map(|(d, n)| format!("{}|{}", d.unwrap(), n.unwrap())).collect()
}

/// The same from the warehouse.
async fn warehouse_rows_per_date(wh: &TestWarehouse, table: &str) -> Vec<String> {
    wh.query_strings(&format!(
        "SELECT CAST(local_date AS TEXT) || '|' || CAST(COUNT(*) AS TEXT) FROM {table} \
         GROUP BY local_date ORDER BY local_date"
    ))
    .await
}

/// One row of a dataset, by a key column.
fn row_of(df: &DataFrame, key: &str, id: &str) -> DataFrame {
    let row = df.clone().lazy().filter(col(key).eq(lit(id))).collect().unwrap();
    assert_eq!(row.height(), 1, "{key} = {id}");
    row
}

fn text(row: &DataFrame, name: &str) -> Option<String> {
    row.column(name).unwrap().str().unwrap().get(0).map(str::to_string)
}

fn boolean(row: &DataFrame, name: &str) -> Option<bool> {
    row.column(name).unwrap().bool().unwrap().get(0)
}

/// A time column as microseconds, a date column as days since the epoch.
fn physical(row: &DataFrame, name: &str) -> Option<i64> {
    row.column(name).unwrap().to_physical_repr().cast(&DataType::Int64).unwrap().i64().unwrap().get(0)
}

/// The manifest's entries of one table: date → (rows, fingerprint).
fn manifest_entries(out: &Path, table: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(out.join("_itstat_export.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["tables"][table].as_object().unwrap().iter().map(|(d, e)| (d.clone(), e.to_string())).collect()
}

/// Dates whose entry differs between two manifests (or exists in only one).
fn changed_dates(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let all: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    all.into_iter().filter(|d| before.get(*d) != after.get(*d)).cloned().collect()
}

/// Modification times of every partition file of a table.
fn mtimes(out: &Path, table: &str) -> BTreeMap<String, SystemTime> {
    std::fs::read_dir(out.join(table))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let t = std::fs::metadata(e.path().join("part-0.parquet")).unwrap().modified().unwrap();
            (e.file_name().to_string_lossy().trim_start_matches("date=").to_string(), t)
        })
        .collect()
}

/// Dates whose file was rewritten between two snapshots.
fn touched(before: &BTreeMap<String, SystemTime>, after: &BTreeMap<String, SystemTime>) -> Vec<String> {
    after.iter().filter(|(d, t)| before.get(*d) != Some(*t)).map(|(d, _)| d.clone()).collect()
}

/// Exports into `lake` and returns stdout.
fn export(env: &Env) -> String {
    env.ok(&["export", "--format", "parquet", "--out", "lake"])
}

fn summary_line(table: &str, partitions: usize, rewritten: usize, removed: usize) -> String {
    format!("{table}: {partitions} partitions, {rewritten} rewritten, {removed} removed (lake/{table})")
}

async fn export_round_trips_and_rewrites_only_changed_days(backend: Backend) {
    let data = generate(&GenConfig { messages: 500, days: 6, users: 25, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let lake = env.path().join("lake");
    let message_days = warehouse_rows_per_date(&wh, "messages").await;
    let session_days = warehouse_rows_per_date(&wh, "sessions").await;
    assert!(message_days.len() >= 6, "{message_days:?}");

    // First export: every day written; read back as one dataset, rows per day as stored.
    let out = export(&env);
    assert!(out.contains(&summary_line("messages", message_days.len(), message_days.len(), 0)), "{out}");
    assert!(out.contains(&summary_line("sessions", session_days.len(), session_days.len(), 0)), "{out}");
    let messages = read_dataset(&lake.join("messages"));
    let sessions = read_dataset(&lake.join("sessions"));
    assert_eq!(rows_per_date(&messages), message_days);
    assert_eq!(rows_per_date(&sessions), session_days);
    assert_eq!(messages.height() as i64, wh.count("SELECT COUNT(*) FROM messages").await);
    assert_eq!(sessions.height() as i64, wh.count("SELECT COUNT(*) FROM sessions").await);
    let schema = messages.schema();
    let naive_us = DataType::Datetime(TimeUnit::Microseconds, None);
    for (name, dtype) in [
        ("created_at", &naive_us),
        ("local_time", &naive_us),
        ("session_start", &naive_us),
        ("local_date", &DataType::Date),
        ("session_date", &DataType::Date),
        ("date", &DataType::Date),
        ("kb_hit", &DataType::Boolean),
        ("manual_mark", &DataType::Boolean),
        ("message_tokens", &DataType::Int64),
        ("content_hash", &DataType::Int64),
        ("latency_s", &DataType::Float64),
        ("answer", &DataType::String),
    ] {
        assert_eq!(schema.get(name), Some(dtype), "messages.{name}");
    }
    assert_eq!(sessions.schema().get("ended_at"), Some(&naive_us));
    assert_eq!(sessions.schema().get("is_self_resolved"), Some(&DataType::Boolean));
    // The partition column is the file's local date.
    let mismatched = messages.clone().lazy().filter(col("date").neq(col("local_date"))).collect().unwrap();
    assert_eq!(mismatched.height(), 0);

    // A known message round-trips: Dify's values, the warehouse's derived ones.
    let m = data
        .messages
        .iter()
        .find(|m| {
            m.status == "normal" && !m.answer.is_empty() && m.invoke_from.as_deref() == Some("service-api")
        })
        .unwrap();
    let id = m.id.to_string();
    let row = row_of(&messages, "message_id", &id);
    assert_eq!(text(&row, "query").as_deref(), Some(m.query.as_str()));
    assert_eq!(text(&row, "answer").as_deref(), Some(m.answer.as_str()));
    assert_eq!(text(&row, "conversation_id"), Some(m.conversation_id.to_string()));
    assert_eq!(physical(&row, "created_at"), Some(itstat::extract::frame::micros(m.created_at)));
    let local_date = (m.created_at + chrono::Duration::hours(8)).date();
    assert_eq!(physical(&row, "local_date"), Some(itstat::transform::time::epoch_days(local_date) as i64));
    assert_eq!(row.column("message_tokens").unwrap().i64().unwrap().get(0), Some(m.message_tokens as i64));
    assert_eq!(row.column("latency_s").unwrap().f64().unwrap().get(0), Some(m.latency_s));
    assert_eq!(boolean(&row, "included"), Some(true));
    assert_eq!(boolean(&row, "manual_mark"), None);
    let stored = wh
        .query_strings(&format!(
            "SELECT session_id || '|' || user_key || '|' || CAST(content_hash AS TEXT) FROM messages WHERE message_id = '{id}'"
        ))
        .await;
    let exported = format!(
        "{}|{}|{}",
        text(&row, "session_id").unwrap(),
        text(&row, "user_key").unwrap(),
        row.column("content_hash").unwrap().i64().unwrap().get(0).unwrap()
    );
    assert_eq!(vec![exported], stored);

    // Nothing changed: nothing rewritten, not even the manifest.
    let (m0, s0) = (mtimes(&lake, "messages"), mtimes(&lake, "sessions"));
    let manifest0 = std::fs::read(lake.join("_itstat_export.json")).unwrap();
    let out = export(&env);
    assert!(out.contains(&summary_line("messages", message_days.len(), 0, 0)), "{out}");
    assert!(out.contains(&summary_line("sessions", session_days.len(), 0, 0)), "{out}");
    assert_eq!((mtimes(&lake, "messages"), mtimes(&lake, "sessions")), (m0.clone(), s0.clone()));
    assert_eq!(std::fs::read(lake.join("_itstat_export.json")).unwrap(), manifest0);

    // An operator mark changes no content_hash, but one day's message and session rows.
    let picked = wh
        .query_strings(
            "SELECT m.message_id || '|' || CAST(m.local_date AS TEXT) || '|' || m.session_id FROM messages m \
             WHERE m.session_id IS NOT NULL AND m.session_date = m.local_date AND NOT EXISTS \
             (SELECT 1 FROM messages o WHERE o.session_id = m.session_id AND o.local_date <> m.local_date) \
             ORDER BY m.message_id LIMIT 1",
        )
        .await;
    let parts: Vec<&str> = picked[0].split('|').collect();
    let (marked, day, session) = (parts[0], parts[1].to_string(), parts[2]);
    let (before_m, before_s) = (manifest_entries(&lake, "messages"), manifest_entries(&lake, "sessions"));
    env.ok(&["mark", marked, "--manual", "--operator", "wang"]);
    let out = export(&env);
    assert!(out.contains(&summary_line("messages", message_days.len(), 1, 0)), "{out}");
    assert!(out.contains(&summary_line("sessions", session_days.len(), 1, 0)), "{out}");
    assert_eq!(changed_dates(&before_m, &manifest_entries(&lake, "messages")), vec![day.clone()]);
    assert_eq!(changed_dates(&before_s, &manifest_entries(&lake, "sessions")), vec![day.clone()]);
    assert_eq!(touched(&m0, &mtimes(&lake, "messages")), vec![day.clone()]);
    assert_eq!(touched(&s0, &mtimes(&lake, "sessions")), vec![day.clone()]);
    let messages = read_dataset(&lake.join("messages"));
    assert_eq!(boolean(&row_of(&messages, "message_id", marked), "manual_mark"), Some(true));
    let sessions = read_dataset(&lake.join("sessions"));
    assert_eq!(boolean(&row_of(&sessions, "session_id", session), "is_manual"), Some(true));

    // Dify changes an old answer; a re-ingest of its day reaches the export as that day only.
    let picked = wh
        .query_strings(&format!(
            "SELECT s.session_id || '|' || CAST(s.local_date AS TEXT) FROM sessions s \
             WHERE s.messages = 1 AND s.answered = 1 AND s.local_date <> '{day}' ORDER BY s.session_id LIMIT 1"
        ))
        .await;
    let parts: Vec<&str> = picked[0].split('|').collect();
    let (changed, day2) = (parts[0], parts[1].to_string());
    dify.exec(&format!("UPDATE messages SET answer = answer || '（已更新）' WHERE id = '{changed}'")).await;
    env.ok(&["ingest", "--since", &day2]);
    let (m1, s1) = (mtimes(&lake, "messages"), mtimes(&lake, "sessions"));
    let (before_m, before_s) = (manifest_entries(&lake, "messages"), manifest_entries(&lake, "sessions"));
    let out = export(&env);
    assert!(out.contains(&summary_line("messages", message_days.len(), 1, 0)), "{out}");
    assert!(out.contains(&summary_line("sessions", session_days.len(), 1, 0)), "{out}");
    assert_eq!(changed_dates(&before_m, &manifest_entries(&lake, "messages")), vec![day2.clone()]);
    assert_eq!(changed_dates(&before_s, &manifest_entries(&lake, "sessions")), vec![day2.clone()]);
    assert_eq!(touched(&m1, &mtimes(&lake, "messages")), vec![day2.clone()]);
    assert_eq!(touched(&s1, &mtimes(&lake, "sessions")), vec![day2]);
    let messages = read_dataset(&lake.join("messages"));
    assert!(text(&row_of(&messages, "message_id", changed), "answer").unwrap().ends_with("（已更新）"));
}

/// zhangsan asks on the 2nd, lisi on the 3rd.
async fn two_days(backend: Backend) -> (TestDb, Env, TestWarehouse) {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启电脑"));
    s.msg(Msg::new("lisi", "2026-11-03 10:00:00", "请联系IT同事"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    (dify, env, wh)
}

async fn export_removes_days_without_rows_and_restores_missing_files(backend: Backend) {
    let (_dify, env, _wh) = two_days(backend).await;
    let lake = env.path().join("lake");
    // A dry run lists the plan and writes nothing.
    let out = env.ok(&["export", "--format", "parquet", "--out", "lake", "--dry-run"]);
    assert!(out.contains("would write lake/messages/date=2026-11-02/part-0.parquet (1 rows)"), "{out}");
    assert!(
        out.contains("sessions: 2 partitions, 2 to rewrite, 0 to remove (lake/sessions) [dry run]"),
        "{out}"
    );
    assert!(!lake.exists());
    let out = export(&env);
    assert!(out.contains(&summary_line("sessions", 2, 2, 0)), "{out}");
    let day3 = lake.join("sessions/date=2026-11-03");
    assert!(day3.join("part-0.parquet").is_file());

    // lisi becomes an excluded user: his message stays (not included), his session goes.
    std::fs::write(env.path().join("itstat.toml"), "[dify]\nexclude_users = [\"lisi\"]\n").unwrap();
    env.ok(&["ingest"]);
    let out = export(&env);
    assert!(out.contains(&summary_line("messages", 2, 1, 0)), "{out}");
    assert!(out.contains(&summary_line("sessions", 1, 0, 1)), "{out}");
    assert!(!day3.exists(), "the empty day's folder is gone");
    assert_eq!(manifest_entries(&lake, "sessions").keys().collect::<Vec<_>>(), ["2026-11-02"]);
    let messages = read_dataset(&lake.join("messages"));
    let included: Vec<Option<bool>> = messages
        .sort(["local_date"], Default::default())
        .unwrap()
        .column("included")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(included, [Some(true), Some(false)]);

    // A partition file deleted by hand is written again, though the manifest knows it.
    std::fs::remove_file(lake.join("messages/date=2026-11-02/part-0.parquet")).unwrap();
    let out = export(&env);
    assert!(out.contains(&summary_line("messages", 2, 1, 0)), "{out}");
    assert_eq!(read_dataset(&lake.join("messages")).height(), 2);
}

async fn export_rejects_bad_flags_and_reports_io_errors(backend: Backend) {
    let (_dify, env, _wh) = two_days(backend).await;
    let err = env.fails(&["export", "--format", "csv", "--out", "lake"], 1);
    assert!(error_line(&err).contains("'csv' for '--format <FORMAT>' [possible values: parquet]"), "{err}");
    let err = env.fails(&["export", "--format", "parquet"], 1);
    assert!(error_line(&err).contains("not provided: --out <DIR>"), "{err}");
    assert!(!env.path().join("lake").exists());
    // A file where the folder should be: an I/O error (exit 2) naming the path.
    std::fs::write(env.path().join("blocker"), b"not a folder").unwrap();
    let err = env.fails(&["export", "--format", "parquet", "--out", "blocker"], 2);
    assert!(error_line(&err).contains("blocker/"), "{err}");
    assert_eq!(std::fs::read(env.path().join("blocker")).unwrap(), b"not a folder");
}
