//! Reliability: the promises of `product.md` ("nothing is lost", "exactly the same warehouse
//! as one full run", "bad input changes nothing", "secrets never appear") tested by breaking
//! things on purpose: killed processes, terminated database connections, locked and read-only
//! files, concurrent commands, a corpus of bad input, and hostile text. `docs/reliability.md`
//! maps each promise to the tests here.
//!
//! Randomised tests print their seed (`seed=…`); set `ITSTAT_TEST_SEED` to replay one.

use std::collections::HashSet;
use std::io::Cursor;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calamine::{Reader, Xlsx};
use itstat::demo::generator::{Dataset, GenConfig, generate};
use itstat::demo::pg::{self, SchemaVersion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{AssertSqlSafe, Connection};

use crate::support::*;

// ---- helpers -------------------------------------------------------------------------------

/// A seeded RNG; the seed is printed so a failure can be replayed with `ITSTAT_TEST_SEED`.
fn rng(test: &str) -> ChaCha8Rng {
    let seed = std::env::var("ITSTAT_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("{test}: seed={seed}");
    ChaCha8Rng::seed_from_u64(seed)
}

/// Starts the binary with piped output.
fn spawn(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Child {
    let mut cmd = env.command(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the itstat binary starts")
}

/// Runs the binary with extra variables.
fn run_with(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Output {
    spawn(env, args, vars).wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// SIGKILL, as `kill -9` does: no unwinding, no cleanup, no destructor.
fn kill_9(child: &mut Child) -> Output {
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut out = Output { status, stdout: Vec::new(), stderr: Vec::new() };
    if let Some(mut s) = child.stderr.take() {
        let _ = std::io::Read::read_to_end(&mut s, &mut out.stderr);
    }
    out
}

/// A count that is `None` while the warehouse cannot be read yet (the file not created, say).
async fn try_count(wh: &TestWarehouse, sql: &str) -> Option<i64> {
    let sql = format!("SELECT CAST(({sql}) AS TEXT)");
    let rows: Result<Vec<(String,)>, sqlx::Error> = match wh.backend {
        Backend::Sqlite => match sqlx::SqliteConnection::connect(&format!("{}?mode=ro", wh.url)).await {
            Ok(mut c) => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(&mut c).await,
            Err(e) => Err(e),
        },
        Backend::Postgres => match sqlx::PgConnection::connect(&wh.url).await {
            Ok(mut c) => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(&mut c).await,
            Err(e) => Err(e),
        },
    };
    rows.ok().and_then(|r| r.first().and_then(|(v,)| v.parse().ok()))
}

/// Polls until `sql` counts at least `n`, or the child ends; true when reached while running.
async fn wait_for_count(wh: &TestWarehouse, sql: &str, n: i64, child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if try_count(wh, sql).await.is_some_and(|c| c >= n) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    panic!("`{sql}` did not reach {n} within {limit:?}");
}

/// A Dify database holding `data`.
async fn dify(data: &Dataset) -> TestDb {
    dify_with(data, SchemaVersion::V1_14).await
}

/// A clean warehouse filled by one uninterrupted full run over `dify`.
async fn full_run(dify: &TestDb, backend: Backend) -> TestWarehouse {
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let out = run_with(&env, &["ingest"], &[("ITSTAT_BATCH_SIZE", "100000")]);
    assert!(out.status.success(), "the clean run: {}", stderr(&out));
    wh
}

/// The warehouse equals one clean full run over the same Dify: messages, sessions, feedback.
async fn assert_equals_full_run(wh: &TestWarehouse, dify: &TestDb, expected_rows: usize) {
    let clean = full_run(dify, wh.backend).await;
    let (got, want) = (wh.messages_dump().await, clean.messages_dump().await);
    assert_eq!(got.len(), expected_rows, "every Dify message is stored once");
    if got != want {
        let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(3).collect();
        let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(3).collect();
        panic!("messages differ from a full run:\n extra {extra:#?}\n missing {missing:#?}");
    }
    assert!(wh.sessions_dump().await == clean.sessions_dump().await, "sessions differ from a full run");
    let cols = ["message_id", "from_source", "rating", "content"];
    assert_eq!(
        wh.dump("feedbacks", &cols, "message_id, from_source").await,
        clean.dump("feedbacks", &cols, "message_id, from_source").await,
        "feedback differs from a full run"
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM ingest_runs WHERE outcome = 'running'").await, 0);
}

fn parse_time(text: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// What a committed state must satisfy whatever happened to the run that wrote it:
/// the stored messages are exactly the first rows of Dify in reading order (none lost or
/// skipped), the cursor is the newest stored `created_at`, and the sessions are whole.
async fn assert_committed_state_is_whole(wh: &TestWarehouse, data: &Dataset) -> usize {
    let stored: HashSet<String> =
        wh.query_strings("SELECT message_id FROM messages").await.into_iter().collect();
    let n = stored.len();
    let prefix: HashSet<String> = data.messages.iter().take(n).map(|m| m.id.to_string()).collect();
    assert!(stored == prefix, "the stored rows are not the first {n} Dify rows: a row was skipped");
    if n == 0 {
        return 0;
    }
    let cursor = wh.query_strings("SELECT value FROM meta WHERE key = 'cursor'").await;
    let newest = wh.query_strings("SELECT CAST(MAX(created_at) AS TEXT) FROM messages").await;
    assert_eq!(parse_time(&cursor[0]), parse_time(&newest[0]), "cursor = newest stored message");
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages WHERE included AND session_id IS NULL").await, 0);
    assert_eq!(
        wh.count("SELECT COUNT(DISTINCT session_id) FROM messages WHERE included").await,
        wh.count("SELECT COUNT(*) FROM sessions").await,
        "one sessions row per session"
    );
    assert_eq!(
        wh.count("SELECT COALESCE(SUM(messages), 0) FROM sessions").await,
        wh.count("SELECT COUNT(*) FROM messages WHERE included").await,
        "every included message is in exactly one session row"
    );
    n
}

// ---- 1. crash safety -----------------------------------------------------------------------

on_both_backends!(
    #[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
    ingest_aborted_after_random_batches_resumes_to_a_full_run,
    kill_9_mid_ingest_resumes_to_a_full_run,
    import_and_mark_killed_mid_way_write_all_or_nothing,
);

/// The abort hook (`ITSTAT_TEST_ABORT_AFTER_BATCHES`) kills the process right after a commit,
/// three times in a row at random batch counts; each committed state is whole, and the final
/// run ends where one clean run ends.
async fn ingest_aborted_after_random_batches_resumes_to_a_full_run(backend: Backend) {
    let mut rng = rng("ingest_aborted_after_random_batches");
    let data = generate(&GenConfig { messages: 1500, days: 10, users: 50, seed: 31, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let batch: usize = rng.random_range(40..120);
    let mut stored = 0;
    for round in 0..3 {
        let abort_after = match round {
            0 => 1,
            _ => rng.random_range(1..6),
        };
        let out = run_with(
            &env,
            &["ingest"],
            &[
                ("ITSTAT_BATCH_SIZE", &batch.to_string()),
                ("ITSTAT_TEST_ABORT_AFTER_BATCHES", &abort_after.to_string()),
            ],
        );
        assert!(!out.status.success(), "round {round}: the hook aborts the run");
        let now = assert_committed_state_is_whole(&wh, &data).await;
        if round == 0 {
            assert_eq!(now, batch, "exactly one whole batch is committed before the first abort");
        }
        assert!(now >= stored, "round {round}: rows were lost ({stored} → {now})");
        stored = now;
    }
    env.ok(&["ingest"]);
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
    let runs = wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id").await;
    assert_eq!(runs, ["aborted", "aborted", "aborted", "ok"]);
}

/// A real `kill -9` at random moments of a 20k-message ingest with small batches (so the kill
/// lands before, inside and after commits), three times; then a run to the end.
async fn kill_9_mid_ingest_resumes_to_a_full_run(backend: Backend) {
    let mut rng = rng("kill_9_mid_ingest");
    let data =
        generate(&GenConfig { messages: 20_000, days: 14, users: 300, seed: 41, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let mut stored = 0i64;
    let mut kills = 0;
    for round in 0..3 {
        // Batches of 100: 200 commits. Wait until a random number of rows is stored (at most
        // half of what is left, so the run is still going), then a random few milliseconds
        // more, so the kill lands before, inside or after a commit. A random sleep from the
        // first commit would miss: a first load of 20k rows ends within a second.
        let mut child = spawn(&env, &["ingest"], &[("ITSTAT_BATCH_SIZE", "100")]);
        let remaining = data.messages.len() as i64 - stored;
        let target = stored + 1 + rng.random_range(0..(remaining / 2).max(1));
        let running =
            wait_for_count(&wh, "SELECT COUNT(*) FROM messages", target, &mut child, Duration::from_secs(60))
                .await;
        if running {
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..30))).await;
        }
        let out = kill_9(&mut child);
        no_panic(&out);
        // A kill that lands after the run recorded its outcome (the process was exiting)
        // interrupts nothing.
        let outcome = wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id DESC LIMIT 1").await;
        if out.status.success() || outcome == ["ok"] {
            println!("round {round}: the run ended before the kill");
            break;
        }
        kills += 1;
        let now = assert_committed_state_is_whole(&wh, &data).await as i64;
        assert!(now >= stored, "round {round}: rows were lost ({stored} → {now})");
        println!("round {round}: killed with {now} of {} rows stored", data.messages.len());
        stored = now;
    }
    assert!(kills > 0, "no run was killed mid-way; make the dataset larger");
    env.ok(&["ingest"]);
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
    let runs = wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id").await;
    assert_eq!(runs.iter().filter(|o| *o == "aborted").count(), kills, "{runs:?}");
    assert_eq!(runs.last().map(String::as_str), Some("ok"));
}

fn no_panic(out: &Output) {
    assert!(!stderr(out).contains("panicked"), "the binary panicked: {}", stderr(out));
}

/// `import manual-entries` and `mark --from-file` are one transaction each: killed at random
/// moments, they leave all of their rows or none.
async fn import_and_mark_killed_mid_way_write_all_or_nothing(backend: Backend) {
    let mut rng = rng("import_and_mark_killed");
    let data = generate(&GenConfig { messages: 600, seed: 51, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);

    let rows = 8000;
    let mut csv = String::from("用户名,问题,咨询时间,是否转人工\n");
    for i in 0..rows {
        csv.push_str(&format!("user{i},问题 {i},2026-11-{:02} 10:{:02},否\n", 1 + i % 20, i % 60));
    }
    std::fs::write(env.path().join("walkins.csv"), csv).unwrap();
    let started = Instant::now();
    env.ok(&["import", "manual-entries", "walkins.csv"]);
    let took = started.elapsed();
    let mut seen = HashSet::new();
    for i in 0..8 {
        clear(&wh, "manual_entries").await;
        let mut child = spawn(&env, &["import", "manual-entries", "walkins.csv"], &[]);
        let at = took.mul_f64((i as f64 + rng.random::<f64>()) / 8.0);
        tokio::time::sleep(at).await;
        let out = kill_9(&mut child);
        settle(&wh).await;
        let n = wh.count("SELECT COUNT(*) FROM manual_entries").await;
        assert!(n == 0 || n == rows, "import killed after {at:?}: {n} of {rows} rows written");
        seen.insert((out.status.success(), n));
    }
    println!("import outcomes (finished, rows): {seen:?}");

    let ids = wh.query_strings("SELECT message_id FROM messages ORDER BY message_id").await;
    std::fs::write(env.path().join("ids.txt"), ids.join("\n")).unwrap();
    let started = Instant::now();
    env.ok(&["mark", "--from-file", "ids.txt", "--manual", "--operator", "ops"]);
    let took = started.elapsed();
    for i in 0..6 {
        clear(&wh, "marks").await;
        let mut child = spawn(&env, &["mark", "--from-file", "ids.txt", "--manual"], &[]);
        tokio::time::sleep(took.mul_f64((i as f64 + rng.random::<f64>()) / 6.0)).await;
        kill_9(&mut child);
        settle(&wh).await;
        let n = wh.count("SELECT COUNT(*) FROM marks").await;
        assert!(n == 0 || n == ids.len() as i64, "mark killed: {n} of {} marks written", ids.len());
    }
}

/// Waits until the killed process's PostgreSQL sessions are gone: the server notices a dead
/// client only later, and a COMMIT it had already received still lands meanwhile (it made a
/// count taken at once, and the next round's DELETE, race with it). SQLite has no server.
async fn settle(wh: &TestWarehouse) {
    if wh.backend != Backend::Postgres {
        return;
    }
    let sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'itstat'";
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while wh.count(sql).await > 0 {
        assert!(Instant::now() < deadline, "the killed process's sessions did not end");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn clear(wh: &TestWarehouse, table: &str) {
    let sql = format!("DELETE FROM {table}");
    match wh.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&wh.url).await.unwrap();
            sqlx::query(AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&wh.url).await.unwrap();
            sqlx::query(AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        }
    }
}

/// `report` killed with `kill -9` at moments spread over its run: where the workbook goes
/// there is either nothing or a complete workbook, never a torn one.
#[tokio::test(flavor = "multi_thread")]
async fn killed_report_never_leaves_a_torn_workbook() {
    let mut rng = rng("killed_report");
    let data =
        generate(&GenConfig { messages: 6000, days: 20, users: 200, seed: 61, ..GenConfig::default() });
    let dify = dify(&data).await;
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", "");
    env.ok(&["ingest"]);
    let args = ["report", "--period", "month", "--date", "2026-11-15"];
    let path = env.path().join("reports/itstat-month-2026-11.xlsx");
    let started = Instant::now();
    env.ok(&args);
    let took = started.elapsed();
    let reference = sheet_sizes(&path).expect("the uninterrupted report is readable");
    let (mut absent, mut complete) = (0, 0);
    for i in 0..12 {
        std::fs::remove_file(&path).ok();
        let mut child = spawn(&env, &args, &[]);
        tokio::time::sleep(took.mul_f64((i as f64 + rng.random::<f64>()) / 10.0)).await;
        kill_9(&mut child);
        if path.exists() {
            let sizes = sheet_sizes(&path).unwrap_or_else(|e| panic!("kill {i}: a torn workbook: {e}"));
            assert_eq!(sizes, reference, "kill {i}: the workbook is incomplete");
            complete += 1;
        } else {
            absent += 1;
        }
    }
    println!("report took {took:?}; after the kills: {absent} absent, {complete} complete");
    let names: Vec<String> = std::fs::read_dir(env.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".xlsx"))
        .collect();
    assert!(names.len() <= 1, "no other workbook-looking file is left: {names:?}");
}

/// Sheet names and row counts of a workbook, or why it cannot be read.
fn sheet_sizes(path: &Path) -> Result<Vec<(String, usize)>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| book.worksheet_range(&n).map(|r| (n, r.rows().count())).map_err(|e| e.to_string()))
        .collect()
}

// ---- 2. faults -----------------------------------------------------------------------------

on_both_backends!(dify_terminated_mid_ingest_fails_cleanly_and_resumes);

/// Terminates every backend of `database` that itstat opened; returns how many.
async fn terminate_itstat_backends(database: &str) -> i64 {
    let mut admin = sqlx::PgConnection::connect(&base_url()).await.unwrap();
    let rows: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'itstat' AND datname = $1",
    )
    .bind(database)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    rows.len() as i64
}

/// Dify's connection is terminated by the server in the middle of a run: exit 2 with one
/// clear error line, only whole batches committed, the run recorded as failed; the next run
/// succeeds and the warehouse equals a full run.
async fn dify_terminated_mid_ingest_fails_cleanly_and_resumes(backend: Backend) {
    let data =
        generate(&GenConfig { messages: 12_000, days: 14, users: 200, seed: 71, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let batch = 100;
    let mut child = spawn(&env, &["ingest"], &[("ITSTAT_BATCH_SIZE", "100")]);
    let running =
        wait_for_count(&wh, "SELECT COUNT(*) FROM messages", 500, &mut child, Duration::from_secs(60)).await;
    assert!(running, "the ingest ended before the fault; make the dataset larger");
    assert!(terminate_itstat_backends(&dify.name).await >= 1, "itstat's Dify connection was found");
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    no_panic(&out);
    let line = error_line(&err);
    println!("{line}");
    assert!(line.contains("Dify") && line.contains(&dify.name), "names the source: {line}");
    let n = assert_committed_state_is_whole(&wh, &data).await;
    assert!(n > 0 && n < data.messages.len(), "{n}");
    assert_eq!(n % batch, 0, "only whole batches are committed");
    let failed = wh.query_strings("SELECT outcome || ': ' || COALESCE(error, '') FROM ingest_runs").await;
    assert!(failed.len() == 1 && failed[0].starts_with("failed: "), "{failed:?}");
    env.ok(&["ingest"]);
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
}

/// The PostgreSQL warehouse's connections are terminated in the middle of a run, repeatedly
/// until the run ends: exit 2 with one clear error line (or, if the pool reconnected after
/// every termination, success), whole batches only; the next run equals a full run.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_warehouse_terminated_mid_ingest_fails_cleanly_and_resumes() {
    let data =
        generate(&GenConfig { messages: 12_000, days: 14, users: 200, seed: 72, ..GenConfig::default() });
    let dify = dify(&data).await;
    let db = TestDb::create("wh").await;
    let wh_name = db.name.clone();
    let wh = TestWarehouse::postgres_at(db);
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let mut child = spawn(&env, &["ingest"], &[("ITSTAT_BATCH_SIZE", "100")]);
    let running =
        wait_for_count(&wh, "SELECT COUNT(*) FROM messages", 500, &mut child, Duration::from_secs(60)).await;
    assert!(running, "the ingest ended before the fault; make the dataset larger");
    assert!(terminate_itstat_backends(&wh_name).await >= 1);
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = error_line(&err);
    println!("{line}");
    // Between batches the lock check names the warehouse; inside a batch the failing
    // statement says what it was writing and that the server ended the connection.
    let clear = line.contains(&wh_name) || line.contains("terminating connection");
    assert!(clear, "says what happened: {line}");
    let n = assert_committed_state_is_whole(&wh, &data).await;
    assert_eq!(n % 100, 0, "only whole batches are committed");
    env.ok(&["ingest"]);
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
    let runs = wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id").await;
    assert!(matches!(runs[0].as_str(), "failed" | "aborted"), "{runs:?}");
}

/// A TCP relay to the test PostgreSQL server that can go silent: after [`SilentLink::cut`] it
/// forwards nothing in either direction and closes nothing, as a network dropping packets
/// does (no reset, no FIN), so a client waiting for an answer would wait forever. Dropping the
/// link closes every socket it holds, which ends the server's side too.
struct SilentLink {
    port: u16,
    cut: Arc<AtomicBool>,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentLink {
    fn new() -> SilentLink {
        let server = url::Url::parse(&base_url()).unwrap();
        let upstream = format!("{}:{}", server.host_str().unwrap(), server.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let (cut2, sockets2) = (cut.clone(), sockets.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                sockets2.lock().unwrap().push(client.try_clone().unwrap());
                if cut2.load(Ordering::SeqCst) {
                    continue; // accepted and then never answered, like a blackholed server
                }
                let Ok(server) = TcpStream::connect(&upstream) else { return };
                sockets2.lock().unwrap().push(server.try_clone().unwrap());
                for (from, to) in
                    [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    let cut = cut2.clone();
                    std::thread::spawn(move || relay(from, to, &cut));
                }
            }
        });
        SilentLink { port, cut, sockets }
    }

    /// `url` (a database on the test server) reached through this link.
    fn url(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).unwrap();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.set_port(Some(self.port)).unwrap();
        u.to_string()
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }
}

/// Copies bytes until either side closes; once the link is cut, stops reading and writing
/// (the bytes in hand are dropped) and keeps both sockets open.
fn relay(mut from: TcpStream, mut to: TcpStream, cut: &AtomicBool) {
    use std::io::{Read, Write};
    let mut buf = [0u8; 8192];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if cut.load(Ordering::SeqCst) {
            return; // `from` and `to` stay open in the link's list until it is dropped
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    if !cut.load(Ordering::SeqCst) {
        let _ = to.shutdown(Shutdown::Write);
    }
}

impl Drop for SilentLink {
    fn drop(&mut self) {
        for socket in self.sockets.lock().unwrap().drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

/// Waits for the child at most `limit`; kills it and fails the test when it is still running.
fn wait_at_most(mut child: Child, limit: Duration, what: &str) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let out = kill_9(&mut child);
            panic!("{what}: still running after {limit:?}, it hangs: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

on_both_backends!(dify_network_going_silent_times_out_and_resumes);

/// The network to Dify goes silent, first before a run (the connection never gets an answer)
/// and then in the middle of one (rows stop arriving). Without a bound the run would wait
/// forever holding the ingest lock; with `[dify] timeout = "2s"` each stops with exit 2 and
/// one clear line naming Dify, having committed whole batches only; the next run over a
/// working network ends where one clean full run ends.
async fn dify_network_going_silent_times_out_and_resumes(backend: Backend) {
    let data =
        generate(&GenConfig { messages: 12_000, days: 14, users: 200, seed: 73, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let link = SilentLink::new();
    let config = "[dify]\ntimeout = \"2s\"\n";
    let mut env = Env::new(Some(&link.url(&dify.url)), &wh.url, config);
    let place = format!("127.0.0.1:{}/{}", link.port, dify.name);

    let silent = SilentLink::new();
    silent.cut();
    let before = Env::new(Some(&silent.url(&dify.url)), &wh.url, config);
    let child = spawn(&before, &["ingest"], &[]);
    let out = wait_at_most(child, Duration::from_secs(60), "an ingest whose Dify never answers");
    let line = error_line(&stderr(&out));
    println!("silent before the run: {line}");
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(
        line.contains("cannot connect to the Dify database") && line.contains("no answer for 2s"),
        "{line}"
    );

    let mut child = spawn(&env, &["ingest"], &[("ITSTAT_BATCH_SIZE", "100")]);
    let running =
        wait_for_count(&wh, "SELECT COUNT(*) FROM messages", 500, &mut child, Duration::from_secs(60)).await;
    assert!(running, "the ingest ended before the fault; make the dataset larger");
    link.cut();
    let out = wait_at_most(child, Duration::from_secs(60), "an ingest whose Dify went silent");
    no_panic(&out);
    let line = error_line(&stderr(&out));
    println!("silent in the middle: {line}");
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(line.contains(&place) && line.contains("no answer for 2s"), "names Dify and the wait: {line}");
    let n = assert_committed_state_is_whole(&wh, &data).await;
    assert!(n > 0 && n < data.messages.len(), "{n}");
    assert_eq!(n % 100, 0, "only whole batches are committed");
    let runs = wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id").await;
    assert_eq!(runs.last().map(String::as_str), Some("failed"), "{runs:?}");

    env.dify_url = Some(dify.url.clone());
    env.ok(&["ingest"]);
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
}

/// Another process holds SQLite's write lock (`BEGIN EXCLUSIVE`): readers still work (WAL);
/// writers wait the busy timeout (30 s, so this test takes about 30 s) and then fail with one
/// clear line and exit 2, having written nothing.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_locked_by_another_process_is_a_clear_error() {
    let mut s = Small::new();
    let id = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启"));
    let dify = dify(&s.data).await;
    let wh = TestWarehouse::new(Backend::Sqlite).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let mut holder = sqlx::SqliteConnection::connect(&wh.url).await.unwrap();
    sqlx::raw_sql("BEGIN EXCLUSIVE").execute(&mut holder).await.unwrap();
    let started = Instant::now();
    let writers = [spawn(&env, &["ingest"], &[]), spawn(&env, &["mark", &id.to_string(), "--manual"], &[])];
    // Reading is not blocked by a writer in WAL mode; the report's new topic waits for the
    // writer (the busy timeout), then is shown with a provisional id and a warning.
    let day = env.report(&["--date", "2026-11-02"]);
    assert_eq!(day["totals"]["messages"], 1);
    assert_eq!(day["topics"][0]["id"], -1, "{day}");
    assert_eq!(day["warnings"][0]["kind"], "topics_not_stored", "{day}");
    for child in writers {
        let out = child.wait_with_output().unwrap();
        no_panic(&out);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        let line = error_line(&err);
        println!("{line}");
        assert!(line.contains("itstat.db") && line.contains("locked"), "names the file and the lock: {line}");
    }
    println!("writers gave up after {:?}", started.elapsed());
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, 0);
    assert_eq!(wh.query_strings("SELECT outcome FROM ingest_runs ORDER BY run_id").await, ["ok"]);
    env.ok(&["ingest"]);
    env.ok(&["mark", &id.to_string(), "--manual"]);
}

/// Whether this process runs as root (which ignores file modes, so the test drops to
/// `nobody` to meet a read-only file the way an operator would).
/// A warehouse file and folder the user may not write, and a report folder the user may not
/// write: one clear error line, exit 2, no panic; reading still works.
#[tokio::test(flavor = "multi_thread")]
async fn read_only_warehouse_and_report_folder_are_clear_errors() {
    let mut s = Small::new();
    let id = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启"));
    let dify = dify(&s.data).await;
    let env = Env::new(Some(&dify.url), "sqlite://data/itstat.db", "");
    std::fs::create_dir(env.path().join("data")).unwrap();
    std::fs::create_dir(env.path().join("ro-reports")).unwrap();
    env.ok(&["ingest"]);
    let json = env.ok(&["report", "--date", "2026-11-02", "--format", "json"]); // settle the WAL
    let written: serde_json::Value = serde_json::from_str(&json).unwrap();
    let totals = written["totals"].clone();
    chmod(&env.path(), 0o755);
    chmod(&env.path().join("itstat.toml"), 0o644);
    chmod(&env.path().join("ro-reports"), 0o555);
    let data = env.path().join("data");
    chmod(&data, 0o777);
    for f in std::fs::read_dir(&data).unwrap() {
        chmod(&f.unwrap().path(), 0o666);
    }
    let out = run_unprivileged(&env, &["report", "--date", "2026-11-02", "--out", "ro-reports"]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = error_line(&stderr(&out));
    println!("read-only report folder: {line}");
    assert!(line.contains("ro-reports"), "names the folder: {line}");
    assert_eq!(std::fs::read_dir(env.path().join("ro-reports")).unwrap().count(), 0);
    for f in std::fs::read_dir(&data).unwrap() {
        chmod(&f.unwrap().path(), 0o444);
    }
    chmod(&data, 0o555);
    let id = id.to_string();
    for args in [vec!["ingest"], vec!["mark", &id[..], "--manual"]] {
        let out = run_unprivileged(&env, &args);
        no_panic(&out);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let line = error_line(&err);
        println!("{args:?}: {line}");
        let clear = line.contains("itstat.db") || line.contains("readonly database");
        assert!(clear, "{args:?}: says which file or that it is read-only: {line}");
    }
    // Reading a read-only warehouse works while SQLite finds its `-shm` file readable;
    // otherwise it is a clear error. Either way, never a wrong number.
    let out = run_unprivileged(&env, &["report", "--date", "2026-11-02", "--format", "json"]);
    println!("report on a read-only warehouse: {:?} {}", out.status.code(), stderr(&out));
    no_panic(&out);
    match out.status.code() {
        Some(0) => {
            let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(read["totals"], totals, "the same numbers as from the writable warehouse");
            // The writable report stored the topic; reading it needs no write and says nothing.
            // (A run that must store new topics and cannot shows them with provisional ids:
            // `sqlite_locked_by_another_process_is_a_clear_error`.)
            let kinds: Vec<&str> =
                read["warnings"].as_array().unwrap().iter().filter_map(|w| w["kind"].as_str()).collect();
            assert!(!kinds.contains(&"topics_not_stored"), "{kinds:?}");
            assert_eq!(
                read["topics"], written["topics"],
                "the stored topics, as the writable report gave them"
            );
            assert!(read["topics"][0]["id"].as_i64().unwrap() > 0, "{read}");
            for list in ["topics", "gaps"] {
                let out = run_with_read_only_data(&env, &[list, "--date", "2026-11-02", "--format", "json"]);
                no_panic(&out);
                assert_eq!(out.status.code(), Some(0), "{list}: {}", stderr(&out));
                assert!(!stderr(&out).contains("not stored"), "{list}: {}", stderr(&out));
            }
        }
        code => {
            assert_eq!(code, Some(2), "{}", stderr(&out));
            assert!(error_line(&stderr(&out)).contains("itstat.db"), "{}", stderr(&out));
        }
    }
    chmod(&env.path().join("data"), 0o755);
    assert_eq!(
        TestWarehouse::sqlite_file(env.path().join("data/itstat.db"))
            .count("SELECT COUNT(*) FROM marks")
            .await,
        0
    );
}

/// A small filesystem of its own (tmpfs) for one test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` when this process may not mount (not root); the caller skips, saying so.
    fn mount(bytes: u64) -> Option<SmallDisk> {
        if !running_as_root() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let size = format!("size={}k,mode=0755", bytes.div_ceil(1024));
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "itstat-test"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "root could not mount a tmpfs at {}", dir.path().display());
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, bytes: u64) {
        let size = format!("remount,size={}k", bytes.div_ceil(1024));
        let status =
            std::process::Command::new("mount").args(["-o", &size]).arg(self.path()).status().unwrap();
        assert!(status.success());
    }

    /// Fills what is left with one file, so that the next write fails.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&block[..512]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// The warehouse's disk fills up in the middle of a first load, and then the report folder's:
/// each run stops with exit 2 and one line naming the file, the ingest having committed whole
/// batches only, the report having left no file behind. Once there is room again the next
/// ingest ends where one clean full run ends. Needs root (to mount a small tmpfs); skipped,
/// saying so, otherwise.
#[tokio::test(flavor = "multi_thread")]
async fn full_disk_stops_cleanly_and_resumes() {
    let data =
        generate(&GenConfig { messages: 12_000, days: 14, users: 200, seed: 74, ..GenConfig::default() });
    let dify = dify(&data).await;
    let clean = full_run(&dify, Backend::Sqlite).await;
    let clean_file = clean.sqlite_dir().unwrap().join("itstat.db");
    let full_size = std::fs::metadata(&clean_file).unwrap().len();
    let Some(disk) = SmallDisk::mount(full_size / 2) else {
        println!("skipped: mounting a small tmpfs needs root");
        return;
    };
    let wh = TestWarehouse::sqlite_file(disk.path().join("itstat.db"));
    let env = Env::new(Some(&dify.url), &wh.url, "");

    let out = run_with(&env, &["ingest"], &[("ITSTAT_BATCH_SIZE", "100")]);
    no_panic(&out);
    let line = error_line(&stderr(&out));
    println!("warehouse disk full ({full_size} bytes needed, half given): {line}");
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(line.contains("itstat.db") && line.contains("full"), "names the file and the cause: {line}");
    let n = assert_committed_state_is_whole(&wh, &data).await;
    println!("{n} of {} messages committed before the disk filled", data.messages.len());
    assert!(n > 0 && n < data.messages.len(), "{n}");
    assert_eq!(n % 100, 0, "only whole batches are committed");

    let filler = disk.fill();
    let reports = disk.path().join("reports");
    let args = ["report", "--period", "month", "--format", "xlsx", "--out", reports.to_str().unwrap()];
    let out = run_with(&env, &args, &[]);
    no_panic(&out);
    let line = error_line(&stderr(&out));
    println!("report folder full: {line}");
    assert_eq!(out.status.code(), Some(2), "{line}");
    let left: Vec<_> = if reports.exists() { walk(&reports) } else { Vec::new() };
    let left: Vec<_> = left.into_iter().filter(|p| p.is_file()).collect();
    assert!(left.is_empty(), "nothing is left where the workbook goes: {left:?}");

    std::fs::remove_file(filler).unwrap();
    disk.resize(full_size * 4);
    env.ok(&["ingest"]);
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
    env.ok(&["report", "--period", "month", "--format", "xlsx", "--out", reports.to_str().unwrap()]);
    assert_eq!(walk(&reports).len(), 1, "one workbook once there is room");
}

// ---- 3. concurrency ------------------------------------------------------------------------

on_both_backends!(
    ingests_started_together_end_as_one_full_run,
    #[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
    report_during_ingest_sees_the_state_before_or_after,
    #[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
    marks_during_ingest_are_all_kept,
    #[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
    marks_during_a_first_load_are_all_kept,
    operators_marking_at_once_lose_nothing,
);

/// Three ingests started at once (two that wait, one that does not): each exits 0, or 1 with
/// "another ingest is running"; the warehouse equals one full run.
async fn ingests_started_together_end_as_one_full_run(backend: Backend) {
    let data = generate(&GenConfig { messages: 3000, days: 10, users: 80, seed: 81, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    let batch = [("ITSTAT_BATCH_SIZE", "150")];
    let children = [
        spawn(&env, &["ingest"], &batch),
        spawn(&env, &["ingest", "--wait", "60"], &batch),
        spawn(&env, &["ingest", "--wait", "0"], &batch),
    ];
    let mut codes = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        no_panic(&out);
        let code = out.status.code().unwrap();
        if code == 1 {
            assert!(error_line(&stderr(&out)).contains("another ingest is running"), "{}", stderr(&out));
        } else {
            assert_eq!(code, 0, "{}", stderr(&out));
        }
        codes.push(code);
    }
    println!("exit codes: {codes:?}");
    assert_eq!(codes[1], 0, "the run that waits long enough runs");
    assert_equals_full_run(&wh, &dify, data.messages.len()).await;
    let runs = wh.count("SELECT COUNT(*) FROM ingest_runs").await;
    assert_eq!(runs as usize, codes.iter().filter(|c| **c == 0).count(), "refused runs record nothing");
}

/// A warehouse holding the first half of a generated dataset (ingested from Dify), and the
/// second half, which a test adds to Dify with [`HalfIngested::load_rest`] before it starts
/// an ingest that runs beside other commands.
struct HalfIngested {
    dify: TestDb,
    wh: TestWarehouse,
    env: Env,
    rest: Dataset,
}

async fn first_half_ingested(backend: Backend, config: &GenConfig) -> HalfIngested {
    let data = generate(config);
    let half = data.messages.len() / 2;
    let first = Dataset { messages: data.messages[..half].to_vec(), feedbacks: vec![], ..data.clone() };
    let dify = dify(&first).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let rest = Dataset { messages: data.messages[half..].to_vec(), ..Dataset::default() };
    HalfIngested { dify, wh, env, rest }
}

impl HalfIngested {
    async fn load_rest(&self) {
        let mut conn = self.dify.connect().await;
        pg::load(&mut conn, &self.rest, SchemaVersion::V1_14).await.unwrap();
    }
}

/// A report running while an ingest commits new data (in one transaction) shows the numbers
/// of the state before the ingest or after it, never a mixture.
async fn report_during_ingest_sees_the_state_before_or_after(backend: Backend) {
    let config = GenConfig { messages: 3000, days: 10, users: 80, seed: 91, ..GenConfig::default() };
    let half = first_half_ingested(backend, &config).await;
    let env = &half.env;
    let args = ["--period", "custom", "--from", "2026-11-01", "--to", "2026-11-30"];
    let before = env.report(&args)["totals"].clone();
    half.load_rest().await;
    // The rest is one batch, whose transaction stays open for two seconds before it commits:
    // the reports below are sure to meet it.
    let mut child = spawn(env, &["ingest"], &[("ITSTAT_TEST_HOLD_BATCH_MS", "2000")]);
    let mut seen = Vec::new();
    while child.try_wait().unwrap().is_none() {
        seen.push(env.report(&args)["totals"].clone());
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after = env.report(&args)["totals"].clone();
    assert_ne!(before, after);
    let (b, a) =
        (seen.iter().filter(|t| **t == before).count(), seen.iter().filter(|t| **t == after).count());
    println!("{} reports during the ingest: {b} before, {a} after", seen.len());
    assert_eq!(b + a, seen.len(), "a report saw a state that is neither before nor after the ingest");
    assert!(b >= 2, "reports ran while the ingest's transaction was open: {b}");
}

/// Operators mark messages while an ingest writes new messages of the same users: every mark
/// command succeeds, every mark is kept, and the sessions table equals what a recomputation
/// from scratch gives.
async fn marks_during_ingest_are_all_kept(backend: Backend) {
    let config = GenConfig { messages: 4000, days: 8, users: 30, seed: 101, ..GenConfig::default() };
    let half = first_half_ingested(backend, &config).await;
    let (env, wh) = (&half.env, &half.wh);
    let ids = wh
        .query_strings(
            "SELECT message_id FROM messages WHERE included ORDER BY created_at DESC, message_id LIMIT 120",
        )
        .await;
    half.load_rest().await;
    // Each batch holds its transaction for 300 ms: the ingest takes seconds, and the marks
    // have to wait for its batches' commits, or slip in between them.
    let hold = [("ITSTAT_BATCH_SIZE", "200"), ("ITSTAT_TEST_HOLD_BATCH_MS", "300")];
    let mut ingest = spawn(env, &["ingest"], &hold);
    let mut marked = 0;
    let mut marked_while_running = 0;
    for chunk in ids.chunks(4) {
        let mut args = vec!["mark", "--manual", "--operator", "ops"];
        args.extend(chunk.iter().map(String::as_str));
        let out = run_with(env, &args, &[]);
        no_panic(&out);
        assert!(out.status.success(), "mark during ingest: {}", stderr(&out));
        marked += chunk.len();
        if ingest.try_wait().unwrap().is_none() {
            marked_while_running += chunk.len();
        }
    }
    println!("{marked} marks written, {marked_while_running} while the ingest ran");
    assert!(marked_while_running >= 4, "marks were written while the ingest ran");
    let out = ingest.wait_with_output().unwrap();
    assert!(out.status.success(), "ingest during marks: {}", stderr(&out));
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, ids.len() as i64, "every mark is kept");
    assert_sessions_follow_the_marks(env, wh).await;
}

/// Operators mark messages a first load has written while it goes on. The load derives its
/// sessions ahead of writing them, under the marks of its start; once the marks change it
/// must write the rest from the warehouse's sessions, or its next batch would undo what the
/// marks did. Every mark is kept and the sessions table follows the marks.
async fn marks_during_a_first_load_are_all_kept(backend: Backend) {
    let data = generate(&GenConfig { messages: 4000, days: 8, users: 30, seed: 103, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    // Each batch holds its transaction for 100 ms and pauses 300 ms after its commit: a first
    // load's writer begins the next batch at once, and a SQLite writer waiting for its turn
    // (its busy handler polls) could otherwise wait for the whole load.
    let hold = [
        ("ITSTAT_BATCH_SIZE", "200"),
        ("ITSTAT_TEST_HOLD_BATCH_MS", "100"),
        ("ITSTAT_TEST_PAUSE_AFTER_BATCH_MS", "300"),
    ];
    let mut ingest = spawn(&env, &["ingest"], &hold);
    // The newest messages written so far: those in the users' open sessions, which the load
    // carries in memory.
    let newest =
        "SELECT message_id FROM messages WHERE included ORDER BY created_at DESC, message_id LIMIT 8";
    let started =
        wait_for_count(&wh, "SELECT COUNT(*) FROM messages", 400, &mut ingest, Duration::from_secs(60)).await;
    assert!(started, "the first load wrote two batches and goes on");
    let mut marked: HashSet<String> = HashSet::new();
    let mut marked_while_running = 0;
    while marked_while_running < 24 && ingest.try_wait().unwrap().is_none() {
        let ids: Vec<String> =
            wh.query_strings(newest).await.into_iter().filter(|id| !marked.contains(id)).collect();
        if ids.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let mut args = vec!["mark", "--manual", "--operator", "ops"];
        args.extend(ids.iter().map(String::as_str));
        let out = run_with(&env, &args, &[]);
        no_panic(&out);
        assert!(out.status.success(), "mark during a first load: {}", stderr(&out));
        if ingest.try_wait().unwrap().is_none() {
            marked_while_running += ids.len();
        }
        marked.extend(ids);
    }
    println!("{} marks written, {marked_while_running} while the first load ran", marked.len());
    assert!(marked_while_running >= 8, "marks were written while the first load ran");
    let out = ingest.wait_with_output().unwrap();
    assert!(out.status.success(), "first load during marks: {}", stderr(&out));
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, marked.len() as i64, "every mark is kept");
    assert_eq!(wh.count("SELECT COUNT(*) FROM messages").await, data.messages.len() as i64);
    assert_eq!(wh.index_names().await, crate::ingest::INDEXES, "the indexes are built");
    assert_sessions_follow_the_marks(&env, &wh).await;
}

/// The sessions table and every message's session equal a recomputation from the stored
/// messages and current marks. The stored rules are forgotten first: under unchanged rules,
/// `ingest --reclassify` derives again only the sessions of users with a changed message
/// (none here), and the comparison would hold whatever the sessions were.
async fn assert_sessions_follow_the_marks(env: &Env, wh: &TestWarehouse) {
    let (sessions, messages) = (wh.sessions_dump().await, wh.messages_dump().await);
    wh.exec("DELETE FROM meta WHERE key = 'rules'").await;
    env.ok(&["ingest", "--reclassify"]);
    let recomputed = wh.sessions_dump().await;
    let stale: Vec<_> = sessions.iter().filter(|s| !recomputed.contains(s)).take(3).collect();
    assert!(stale.is_empty(), "sessions rows do not follow the marks: {stale:#?}");
    assert_eq!(sessions.len(), recomputed.len());
    let recomputed = wh.messages_dump().await;
    let moved: Vec<_> = messages.iter().filter(|m| !recomputed.contains(m)).take(3).collect();
    assert!(moved.is_empty(), "messages are not in the sessions the marks give: {moved:#?}");
}

/// Eight operators mark messages of the same users at the same moment: all succeed, all
/// marks are kept, the sessions table follows them.
async fn operators_marking_at_once_lose_nothing(backend: Backend) {
    let data = generate(&GenConfig { messages: 1500, days: 5, users: 10, seed: 111, ..GenConfig::default() });
    let dify = dify(&data).await;
    let wh = TestWarehouse::new(backend).await;
    let env = Env::new(Some(&dify.url), &wh.url, "");
    env.ok(&["ingest"]);
    let ids = wh
        .query_strings("SELECT message_id FROM messages WHERE included ORDER BY user_key, created_at")
        .await;
    let operators = 8;
    let per = 6;
    for round in 0..3 {
        let mut children = Vec::new();
        for o in 0..operators {
            let mut args: Vec<String> =
                vec!["mark".into(), "--manual".into(), "--operator".into(), format!("op{o}")];
            // Operator o takes every `operators`-th message: all of them touch the same users.
            args.extend(ids.iter().skip(round * operators * per + o).step_by(operators).take(per).cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            children.push(spawn(&env, &args, &[]));
        }
        for child in children {
            let out = child.wait_with_output().unwrap();
            no_panic(&out);
            assert!(out.status.success(), "a concurrent mark failed: {}", stderr(&out));
        }
    }
    assert_eq!(wh.count("SELECT COUNT(*) FROM marks").await, (3 * operators * per) as i64, "a mark was lost");
    assert_sessions_follow_the_marks(&env, &wh).await;
}

// ---- 4. bad input --------------------------------------------------------------------------

/// One bad input: files to write first, extra environment, the command, and what the single
/// `error:` line must contain (the place: file and line, key, flag, row and column, or id).
struct Bad {
    files: Vec<(&'static str, Vec<u8>)>,
    env: Vec<(&'static str, &'static str)>,
    args: Vec<String>,
    needle: &'static str,
}

fn bad(args: &[&str], needle: &'static str) -> Bad {
    Bad { files: Vec::new(), env: Vec::new(), args: args.iter().map(|a| a.to_string()).collect(), needle }
}

fn bad_config(text: &str, needle: &'static str) -> Bad {
    bad_config_bytes(text.as_bytes().to_vec(), needle)
}

fn bad_config_bytes(bytes: Vec<u8>, needle: &'static str) -> Bad {
    Bad { files: vec![("case.toml", bytes)], ..bad(&["--config", "case.toml", "ingest"], needle) }
}

fn bad_file(name: &'static str, bytes: Vec<u8>, args: &[&str], needle: &'static str) -> Bad {
    Bad { files: vec![(name, bytes)], ..bad(args, needle) }
}

fn import(name: &'static str, bytes: Vec<u8>, needle: &'static str) -> Bad {
    bad_file(name, bytes, &["import", "manual-entries", name], needle)
}

/// A workbook whose first sheet holds `rows` (strings; `=…` written as a formula).
fn xlsx_bytes(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if let Some(f) = v.strip_prefix('=') {
                sheet.write_formula(r as u32, c as u16, format!("={f}").as_str()).unwrap();
            } else {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Everything a bad input could have changed: the warehouse's rows and the work folder.
async fn snapshot(env: &Env, wh: &TestWarehouse, ignore: &[&str]) -> Vec<String> {
    let mut state = wh.messages_dump().await;
    state.extend(wh.sessions_dump().await);
    for table in ["marks", "manual_entries", "ingest_runs", "feedbacks", "meta", "deliveries"] {
        state.push(format!("{table}: {}", wh.count(&format!("SELECT COUNT(*) FROM {table}")).await));
    }
    state.extend(wh.query_strings("SELECT key || '=' || value FROM meta ORDER BY key").await);
    for entry in walk(&env.path()) {
        let name = entry.strip_prefix(env.path()).unwrap().to_string_lossy().to_string();
        if !ignore.iter().any(|i| name.starts_with(i)) && !name.starts_with("itstat.db") {
            state.push(format!("file {name} {}", std::fs::metadata(&entry).map(|m| m.len()).unwrap_or(0)));
        }
    }
    state
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.push(p.clone());
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The corpus: broken config files, every key with a wrong type, impossible dates and periods,
/// malformed import files, ids of the wrong shape. Each: exit 1, exactly one `error:` line
/// naming the place, no panic, no raw escape character or overlong line on the terminal, and
/// nothing written.
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_corpus_is_refused_cleanly_and_changes_nothing() {
    let mut s = Small::new();
    let id = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启")).to_string();
    let dify = dify(&s.data).await;
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", "");
    env.ok(&["ingest"]);
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    let big = "9".repeat(1 << 20);
    let gbk = b"\xd3\xc3\xbb\xa7\xc3\xfb,\xce\xca\xcc\xe2,\xd7\xc9\xd1\xaf\xca\xb1\xbc\xe4\nzs,VPN,2026-11-02 10:00\n".to_vec();
    let header = "用户名,问题,咨询时间\n";
    let cases: Vec<Bad> = vec![
        // Config files that are not TOML, and every kind of key with a value of the wrong type.
        bad_config("[dify\nurl = 1\n", "case.toml:1"),
        bad_config_bytes(b"\xff\xfe[dify]\n".to_vec(), "case.toml"),
        bad_config("timezone = \"UTC\"\ntimezone = \"UTC\"\n", "case.toml:2"),
        bad_config("dify = 5\n", "case.toml:1"),
        bad_config("timezone = 8\n", "case.toml:1"),
        bad_config("[dify]\nlookback = 5\n", "case.toml:2"),
        bad_config("[dify]\napps = \"x\"\n", "case.toml:2"),
        bad_config("[dify]\nexclude_users = [1, 2]\n", "case.toml:2"),
        bad_config("[dify]\npending_max_age = \"-1h\"\n", "`dify.pending_max_age`"),
        bad_config("[warehouse]\nurl = 5\n", "case.toml:2"),
        Bad {
            env: vec![("ITSTAT_WAREHOUSE_URL", "")],
            ..bad_config("[warehouse]\nurl = \"mysql://root@db/itstat\"\n", "case.toml: warehouse URL")
        },
        bad_config("[identity]\nsource = \"ldap\"\n", "`identity.source`"),
        bad_config("[identity]\nsource = \"query_regex\"\npattern = \"(unclosed\"\n", "`identity.pattern`"),
        bad_config("[session]\nwindow = true\n", "case.toml:2"),
        bad_config("[session]\nwindow = \"0s\"\n", "`session.window`"),
        bad_config("[mail]\ntimeout = \"0s\"\n", "`mail.timeout` must be longer than 0"),
        bad_config("[session]\nmode = 1\n", "case.toml:2"),
        bad_config("[rules]\nkb_miss = \"抱歉\"\n", "case.toml:2"),
        bad_config("[rules]\ntransfer_regex = [\"(?<\"]\n", "`rules.transfer_regex[0]`"),
        bad_config("[rules]\ntransfer = [\"  \"]\n", "`rules.transfer[0]`"),
        bad_config("[report]\nlang = \"fr\"\n", "`report.lang`"),
        bad_config("[report]\nout_dir = []\n", "case.toml:2"),
        bad_config("[mail]\nport = \"x\"\n", "case.toml:2"),
        bad_config("[mail]\nport = 70000\n", "case.toml:2"),
        bad_config("[mail]\ntls = \"ssl\"\n", "`mail.tls`"),
        bad_config("[mail]\ntimeout = \"soon\"\n", "`mail.timeout`"),
        bad_config("[mail]\nto = \"boss@example.com\"\n", "case.toml:2"),
        bad_config("[[schedule]]\nname = \"x\"\n", "case.toml"),
        bad_config("[[schedule]]\nname = \"x\"\ncron = 5\nrun = []\n", "case.toml:3"),
        // The rest of the keys, each with a value of the wrong type or shape.
        bad_config("[dify]\nurl = 5\n", "case.toml:2"),
        bad_config("[dify]\nexclude_invoke_from = \"debugger\"\n", "case.toml:2"),
        bad_config("[dify]\ntimeout = 5\n", "case.toml:2"),
        bad_config("[dify]\ntimeout = \"0s\"\n", "`dify.timeout`"),
        bad_config("[dify]\nlookback = \"2 hours ago\"\n", "`dify.lookback`"),
        bad_config("[identity]\nsource = \"input\"\ninput = 5\n", "case.toml:3"),
        bad_config("[identity]\nsource = \"query_regex\"\npattern = 1\n", "case.toml:3"),
        bad_config("[rules]\nkb_miss_regex = 1\n", "case.toml:2"),
        bad_config("[rules]\nkb_miss_regex = [\"[\"]\n", "`rules.kb_miss_regex[0]`"),
        bad_config("[rules]\ntransfer = \"IT\"\n", "case.toml:2"),
        bad_config("[report]\nlang = 1\n", "case.toml:2"),
        bad_config("[warehouse]\nurl = \"sqlite://x.db\"\npool = 4\n", "case.toml:3"),
        bad_config("[mail]\nhost = 5\n", "case.toml:2"),
        bad_config("[mail]\nusername = true\n", "case.toml:2"),
        bad_config("[mail]\npassword = 1\n", "case.toml:2"),
        bad_config("[mail]\nfrom = []\n", "case.toml:2"),
        bad_config("[mail]\nowner = 1\n", "case.toml:2"),
        bad_config("[mail]\nto = [1]\n", "case.toml:2"),
        bad_config("[mail]\nfrom = \"IT 数据\"\n", "`mail.from`"),
        bad_config("[mail]\nto = [\"boss@example.com\", \"lead\"]\n", "`mail.to[1]`"),
        bad_config("[mail]\nowner = \"ops@\"\n", "`mail.owner`"),
        bad_config("[[schedule]]\nname = 1\ncron = \"* * * * * *\"\nrun = [\"status\"]\n", "case.toml:2"),
        bad_config("[[schedule]]\nname = \"x\"\ncron = \"* * * * * *\"\nrun = \"status\"\n", "case.toml:4"),
        bad_config(
            "[[schedule]]\nname = \"x\"\ncron = \"every day\"\nrun = [\"status\"]\n",
            "`schedule[0].cron`",
        ),
        bad_config(
            "[[schedule]]\nname = \"x\"\ncron = \"* * * * * *\"\nrun = [\"frobnicate\"]\n",
            "`schedule[0].run`",
        ),
        bad_config(
            "[[schedule]]\nname = \"x\"\ncron = \"* * * * * *\"\nrun = [\"status\"]\nwhen = 1\n",
            "case.toml:5",
        ),
        bad(&["--config", "nowhere/itstat.toml", "status"], "nowhere/itstat.toml"),
        bad(&["--config", ".", "status"], "cannot read the config file"),
        Bad {
            env: vec![("ITSTAT_DIFY_URL", "postgres://ro:pw@db:notaport/dify")],
            ..bad(&["ingest"], "Dify URL")
        },
        Bad {
            env: vec![("ITSTAT_DIFY_URL", "mysql://ro:pw@127.0.0.1/dify")],
            ..bad(&["ingest"], "must start with postgres://")
        },
        bad(
            &["import", "legacy", "--from", "mysql://root@127.0.0.1/legacy"],
            "`--from`: not a postgres:// URL",
        ),
        Bad {
            env: vec![("ITSTAT_WAREHOUSE_URL", "postgres://wh@127.0.0.1:5432/x?sslmode=bogus")],
            ..bad(&["status"], "warehouse URL")
        },
        // Impossible dates and periods.
        bad(&["report", "--date", "2026-13-01"], "`--date`"),
        bad(&["report", "--date", "yesterday"], "`--date`"),
        bad(&["report", "--date", "2026-2-3"], "`--date`"),
        bad(&["report", "--period", "custom", "--from", "2026-11-01", "--to", "2026-11-31"], "`--to`"),
        bad(&["report", "--period", "custom", "--from", "2026-11-05", "--to", "2026-11-01"], "after"),
        bad(
            &["report", "--period", "custom", "--from", "0001-01-01", "--to", "9999-12-31"],
            "at most 1096 days",
        ),
        bad(&["report", "--period", "quarter"], "quarter"),
        bad(&["ingest", "--since", "2026-02-30"], "`--since`"),
        bad(&["messages", "--since", "2026-02-30"], "`--since`"),
        bad(&["messages", "--since", "5 parsecs"], "`--since`"),
        bad(&["messages", "--until", "2026-13-01"], "`--until`"),
        bad(&["messages", "--since", "2026-11-05", "--until", "2026-11-01"], "`--until`"),
        bad(&["messages", "--limit", "-1"], "'-1'"),
        bad(&["messages", "--limit", "many"], "--limit"),
        // Manual-entry files.
        import("gbk.csv", gbk.clone(), "gbk.csv: not UTF-8"),
        import("bom.csv", b"\xEF\xBB\xBF".to_vec(), "bom.csv: the file is empty"),
        import("empty.csv", Vec::new(), "empty.csv: the file is empty"),
        import("header.csv", header.as_bytes().to_vec(), "header.csv: no data rows"),
        import("missing.csv", "用户名,问题\nzs,VPN\n".into(), "missing.csv: no column for consultation_time"),
        import(
            "extra.csv",
            format!("{}备注\n", header.trim_end().to_owned() + ",").into(),
            "extra.csv: column D (\"备注\") is not a known column",
        ),
        import(
            "twice.csv",
            "用户名,user_name,问题,咨询时间\na,a,q,2026-11-02 10:00\n".into(),
            "twice.csv: column B (\"user_name\") repeats",
        ),
        import(
            "huge.csv",
            format!("{header}zs,VPN,{big}\n").into(),
            "huge.csv: row 2, column 咨询时间: \"99999",
        ),
        import(
            "escape.csv",
            format!("{header}zs,VPN,\u{1b}[2J\u{7}2026\n").into(),
            "escape.csv: row 2, column 咨询时间: \"\\u{1b}[2J\\u{7}2026\"",
        ),
        import(
            "formula.xlsx",
            xlsx_bytes(&[&["用户名", "问题", "咨询时间"], &["zs", "VPN", "=NOW()"]]),
            "formula.xlsx: row 2, column 咨询时间",
        ),
        import("renamed.xlsx", b"user_name,query\nzs,VPN\n".to_vec(), "renamed.xlsx: not a readable .xlsx"),
        import("sheet.ods", b"PK\x03\x04".to_vec(), "sheet.ods: not a .csv or .xlsx"),
        bad(&["import", "manual-entries", "absent.csv"], "absent.csv: cannot read it"),
        bad(&["import", "manual-entries", "."], "cannot read it: Is a directory"),
        // Ids of the wrong shape, alone, in a list and in a file.
        bad(&["mark", "abc", "--manual"], "`abc` is not a message id"),
        bad(&["mark", "zzzzzzzz", "--manual"], "`zzzzzzzz` is not a message id"),
        bad(&["mark", "'; DROP TABLE marks; --", "--manual"], "is not a message id"),
        bad(&["mark", "", "--manual"], "is not a message id"),
        bad(&["mark", "三三三三三三", "--manual"], "`三三三三三三` is not a message id"),
        bad(&["mark", "\u{1b}[31mdeadbeef", "--manual"], "is not a message id"),
        bad(&["mark", &id, "ffffffff-ffff-ffff-ffff-ffffffffffff", "--manual"], "no message has this id"),
        bad(&["mark", &id, "--kb-hit", "maybe"], "maybe"),
        bad(&["mark", "--history", "zz"], "`zz` is not a message id"),
        bad_file(
            "ids.txt",
            format!("{id}\nnot-an-id\n").into(),
            &["mark", "--from-file", "ids.txt", "--manual"],
            "`not-an-id`",
        ),
        bad_file(
            "ids.csv",
            format!("id,manual\n{id},perhaps\n").into(),
            &["mark", "--from-file", "ids.csv"],
            "ids.csv: row 2, column manual",
        ),
        bad_file(
            "ids2.csv",
            format!("id,who\n{id},x\n").into(),
            &["mark", "--from-file", "ids2.csv", "--manual"],
            "ids2.csv: column \"who\"",
        ),
        bad_file(
            "ids3.txt",
            gbk,
            &["mark", "--from-file", "ids3.txt", "--manual"],
            "ids3.txt: cannot read it",
        ),
        bad(&["mark", "--from-file", "absent.txt", "--manual"], "absent.txt: cannot read it"),
        bad(&["messages", "show", "abc"], "`abc` is not a message id"),
        bad(&["messages", "show", "ffffffffffff"], "no message has this id"),
    ];
    let total = cases.len();
    for case in cases {
        let inputs: Vec<&str> = case.files.iter().map(|(n, _)| *n).collect();
        for (name, bytes) in &case.files {
            std::fs::write(env.path().join(name), bytes).unwrap();
        }
        let before = snapshot(&env, &wh, &inputs).await;
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = run_with(&env, &args, &case.env);
        let err = stderr(&out);
        let what = format!(
            "{} {:?}",
            case.needle,
            args.iter().map(|a| a.chars().take(40).collect::<String>()).collect::<Vec<_>>()
        );
        assert!(!err.contains("panicked"), "{what}: panicked: {err}");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what}: exit code; stderr: {}",
            err.chars().take(600).collect::<String>()
        );
        let line = error_line(&err);
        // A file with problems lists each (file, row, column) above one summary error line.
        let named = line.contains(case.needle) || (line.contains("problem") && err.contains(case.needle));
        assert!(named, "{what}: the error does not name `{}`: {err}", case.needle);
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{7}'),
            "{what}: raw control characters on the terminal"
        );
        assert!(err.lines().all(|l| l.chars().count() < 1000), "{what}: an overlong stderr line");
        assert!(out.stdout.is_empty() || args[0] == "import", "{what}: printed results: {}", stdout_of(&out));
        assert_eq!(snapshot(&env, &wh, &inputs).await, before, "{what}: something was written");
        for name in inputs {
            let _ = std::fs::remove_file(env.path().join(name));
        }
    }
    println!("{total} bad inputs refused");
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

// ---- 5. security ---------------------------------------------------------------------------

/// Arguments and extra environment of one run.
type Invocation<'a> = (Vec<&'a str>, Vec<(&'a str, String)>);

const DIFY_PW: &str = "Dfy-Pw-7731x";
const WH_PW: &str = "Wh-Pw-9154x";
const SMTP_PW: &str = "Smtp-Pw-4420x";
const FILE_PW: &str = "Cfg-Pw-5521x";

fn with_password(url: &str, user: &str, password: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_username(user).unwrap();
    u.set_password(Some(password)).unwrap();
    u.to_string()
}

/// Distinctive passwords in ITSTAT_DIFY_URL, ITSTAT_WAREHOUSE_URL (a PostgreSQL role with a
/// password), ITSTAT_SMTP_PASSWORD and `[mail] password`; every command at trace level, its
/// errors, `status`, the dry runs, the `.eml` and the warehouse's own error columns are
/// searched for them. The config file, readable by others, gets the chmod warning.
#[tokio::test(flavor = "multi_thread")]
async fn passwords_never_appear_in_logs_errors_status_or_mail() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "请重启"));
    let dify = dify(&s.data).await;
    let wh_db = TestDb::create("wh").await;
    let role = format!("sec_{}", wh_db.name);
    let mut admin = sqlx::PgConnection::connect(&base_url()).await.unwrap();
    for sql in [
        format!("CREATE ROLE {role} LOGIN PASSWORD '{WH_PW}'"),
        format!("ALTER DATABASE \"{}\" OWNER TO {role}", wh_db.name),
    ] {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
    }
    dify.exec(&format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")).await;
    let dify_url = with_password(&dify.url, &role, DIFY_PW);
    let wh_url = with_password(&wh_db.url, &role, WH_PW);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {closed}\ntls = \"none\"\nusername = \"itstat\"\npassword = \"{FILE_PW}\"\nfrom = \"itstat@example.com\"\nto = [\"boss@example.com\"]\ntimeout = \"1s\"\n"
    );
    let mut env = Env::new(Some(&dify_url), &wh_url, &config);
    chmod(&env.path().join("itstat.toml"), 0o644);
    env.extra.push(("ITSTAT_SMTP_PASSWORD".into(), SMTP_PW.into()));
    env.extra.push(("ITSTAT_LOG".into(), "trace".into()));

    let day = ["--date", "2026-11-02"];
    let runs: Vec<Invocation> = vec![
        (vec!["-vv", "ingest"], vec![]),
        (vec!["-vv", "ingest", "--dry-run"], vec![]),
        (vec!["-vv", "ingest", "--full"], vec![]),
        (vec!["-vv", "status"], vec![]),
        (vec!["-vv", "status", "--json"], vec![]),
        (vec!["-vv", "messages", "--since", "2026-11-01", "--format", "json"], vec![]),
        ([&["-vv", "report", "--format", "json"][..], &day[..]].concat(), vec![]),
        ([&["-vv", "report", "--mail", "--dry-run"][..], &day[..]].concat(), vec![]),
        ([&["-vv", "report", "--mail"][..], &day[..]].concat(), vec![]),
        // Unreachable servers: the errors name host and database, never the password.
        (
            vec!["-vv", "ingest"],
            vec![("ITSTAT_DIFY_URL", with_password("postgres://h@127.0.0.1:1/dify", &role, DIFY_PW))],
        ),
        (
            vec!["-vv", "status"],
            vec![("ITSTAT_WAREHOUSE_URL", with_password("postgres://h@127.0.0.1:1/wh", &role, WH_PW))],
        ),
        (
            vec!["-vv", "ingest"],
            vec![("ITSTAT_DIFY_URL", format!("postgres://{role}:{DIFY_PW}@127.0.0.1:99999/dify"))],
        ),
    ];
    let mut seen = String::new();
    let mut codes = Vec::new();
    for (args, vars) in &runs {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = run_with(&env, args, &vars);
        no_panic(&out);
        codes.push(out.status.code());
        seen.push_str(&stdout_of(&out));
        seen.push_str(&stderr(&out));
    }
    println!("exit codes: {codes:?}; {} bytes of output searched", seen.len());
    assert_eq!(&codes[..8], [Some(0); 8], "the commands that should work work");
    assert!(codes[8..].iter().all(|c| *c != Some(0)), "the failing ones fail: {codes:?}");
    assert!(
        seen.contains("TRACE") && seen.contains("SELECT"),
        "trace logs were on (the search means something)"
    );
    assert!(seen.contains(&format!("{role}:***@")), "URLs are shown masked");
    assert!(seen.contains("chmod 600"), "the readable config file holding a password is warned about");
    let eml = std::fs::read_to_string(env.path().join("reports/itstat-day-2026-11-02.eml")).unwrap();
    seen.push_str(&eml);
    let wh = TestWarehouse::postgres_at_url(&wh_db.url);
    seen.extend(
        wh.query_strings("SELECT COALESCE(error, '') FROM ingest_runs").await.into_iter().map(|e| e + "\n"),
    );
    seen.extend(
        wh.query_strings("SELECT COALESCE(error, '') FROM deliveries").await.into_iter().map(|e| e + "\n"),
    );
    seen.extend(wh.query_strings("SELECT key || value FROM meta").await);
    for pw in [DIFY_PW, WH_PW, SMTP_PW, FILE_PW] {
        let found: Vec<&str> = seen.lines().filter(|l| l.contains(pw)).take(3).collect();
        assert!(found.is_empty(), "the password {pw} appears: {found:#?}");
    }
    // Once the file is private, no warning.
    chmod(&env.path().join("itstat.toml"), 0o600);
    let out = run_with(&env, &["status"], &[]);
    assert!(!stderr(&out).contains("chmod"), "{}", stderr(&out));
    env.extra.clear();
    drop(wh);
    drop(wh_db);
    dify.exec(&format!("DROP OWNED BY {role}")).await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP ROLE IF EXISTS {role}"))).execute(&mut admin).await.ok();
}

/// Questions and answers holding escape sequences, bells, right-to-left overrides, formulas,
/// HTML and a 1 MB answer: the terminal outputs show control characters escaped, JSON keeps
/// the text exact, and `messages show` prints the whole answer.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_stays_inert_on_the_terminal() {
    let mut s = Small::new();
    let query = "=HYPERLINK(\"http://evil\")<script>alert(1)</script>\u{1b}]0;pwned\u{7}\u{202e}fdp.exe";
    let answer = format!("<img src=x onerror=alert(1)>\u{1b}[31m{}\u{9b}31m", "长".repeat(350_000));
    let id = s.msg(Msg { query, ..Msg::new("mallory\u{1b}[2J", "2026-11-02 09:00:00", &answer) }).to_string();
    let dify = dify(&s.data).await;
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", "");
    env.ok(&["ingest"]);
    std::fs::write(
        env.path().join("walkins.csv"),
        "用户名,问题,咨询时间\nx\u{1b}[31m,\u{202e}q\u{7},2026-11-02 10:00\n",
    )
    .unwrap();
    let raw = ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'];
    let terminal = [
        vec!["messages", "--since", "2026-11-01"],
        vec!["messages", "show", &id],
        vec!["mark", &id, "--manual", "--note", "\u{1b}[5mblink\u{7}"],
        vec!["mark", "--history", &id],
        vec!["import", "manual-entries", "walkins.csv", "--dry-run"],
    ];
    for args in &terminal {
        let out = env.ok(args);
        let bad: Vec<char> = out.chars().filter(|c| raw.contains(c)).collect();
        assert!(bad.is_empty(), "{args:?}: raw control characters reach the terminal: {bad:?}");
        assert!(
            out.contains("\\u{"),
            "{args:?}: control characters are shown escaped:\n{}",
            &out[..out.len().min(800)]
        );
    }
    let show = env.ok(&["messages", "show", &id]);
    assert_eq!(show.matches('长').count(), 350_000, "the whole 1 MB answer is shown");
    assert!(show.contains("=HYPERLINK(\"http://evil\")<script>alert(1)</script>"), "text is shown as text");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["messages", "--since", "2026-11-01", "--format", "json"])).unwrap();
    assert_eq!(json[0]["question"], query, "JSON keeps the text exact (escaped by JSON itself)");
    assert_eq!(json[0]["answer"].as_str().map(str::len), Some(answer.len()));
}

/// A config file holding a password and readable by others gets one WARN line naming the
/// file and the fix; a private file, or a secret kept in the environment, gets none.
#[test]
fn config_file_holding_a_password_readable_by_others_is_warned_about() {
    let env = Env::new(None, "sqlite://itstat.db", &format!("[mail]\npassword = \"{FILE_PW}\"\n"));
    let config = env.path().join("itstat.toml");
    chmod(&config, 0o644);
    let err = env.fails(&["status"], 1);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("chmod 600 itstat.toml") && warnings[0].contains("[mail] password"),
        "{err}"
    );
    assert!(!err.contains(FILE_PW), "{err}");
    chmod(&config, 0o600);
    assert!(!env.fails(&["status"], 1).contains("WARN"));
    std::fs::write(&config, "[mail]\nhost = \"smtp.example.com\"\n").unwrap();
    chmod(&config, 0o644);
    let mut cmd = env.command(&["status"]);
    let out = cmd.env("ITSTAT_SMTP_PASSWORD", FILE_PW).output().unwrap();
    assert!(!stderr(&out).contains("WARN"), "{}", stderr(&out));
}
