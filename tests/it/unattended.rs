//! Running unattended: the scheduler, the demo, the file source, and the README's commands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use itstat::demo::generator::{GenConfig, generate};
use itstat::demo::pg::SchemaVersion;

use crate::reference;
use crate::support::*;

on_both_backends!(file_source_equals_the_database_source);

#[test]
fn demo_from_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_itstat"))
        .args(["demo", "--out", "demo"])
        .current_dir(dir.path())
        .env_remove("ITSTAT_WAREHOUSE_URL")
        .env_remove("ITSTAT_DIFY_URL")
        .env_remove("ITSTAT_CONFIG")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for file in [
        "dify-export.csv",
        "itstat.db",
        "itstat-day-2026-11-22.xlsx",
        "itstat-week-2026-W47.xlsx",
        "itstat-month-2026-11.xlsx",
        "itstat-day-2026-11-22.eml",
    ] {
        assert!(dir.path().join("demo").join(file).exists(), "{file} missing; stdout: {stdout}");
    }
    assert!(stdout.contains("wrote demo/itstat-month-2026-11.xlsx"), "{stdout}");
    // The demo's numbers are the metrics of the generated data, through the file source.
    let data = generate(&GenConfig {
        seed: 2026,
        messages: 6000,
        days: 60,
        last_day: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        users: 150,
    });
    let env = Env::new(None, &format!("sqlite://{}", dir.path().join("demo/itstat.db").display()), "");
    let week = env.report(&["--period", "week", "--date", "2026-11-22"]);
    // The demo's config file names its warehouse relative to itself: it works from any folder.
    let args = [
        "--config",
        "demo/itstat.toml",
        "report",
        "--format",
        "json",
        "--period",
        "week",
        "--date",
        "2026-11-22",
    ];
    let mut from_its_config = env.command(&args);
    let out = from_its_config.current_dir(dir.path()).env_remove("ITSTAT_WAREHOUSE_URL").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["totals"], week["totals"], "the demo's config file finds the demo warehouse");
    let from = chrono::NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
    let to = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    reference::assert_kpis_eq(
        &week["totals"],
        &reference::kpis(&reference::messages(&data), from, to),
        "demo week",
    );
}

/// Exports Dify with the DBA's script (psql `\copy`), then compares ingesting the file (CSV
/// and Parquet) with ingesting the database directly.
async fn file_source_equals_the_database_source(backend: Backend) {
    let data = generate(&GenConfig { messages: 900, seed: 21, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let direct = TestWarehouse::new(backend).await;
    Env::new(Some(&dify.url), &direct.url, "").ok(&["ingest"]);

    let from_file = TestWarehouse::new(backend).await;
    let env = Env::new(None, &from_file.url, "");
    let csv = env.path().join("export.csv");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/export-dify.sh");
    let out = Command::new("bash").arg(script).arg(&dify.url).arg(&csv).output().unwrap();
    assert!(out.status.success(), "export failed: {}", String::from_utf8_lossy(&out.stderr));
    let first = env.ok(&["ingest", "--from-file", "export.csv"]);
    assert!(first.contains(&format!("{} new", data.messages.len())), "{first}");
    assert_eq!(from_file.messages_dump().await, direct.messages_dump().await, "messages differ");
    assert_eq!(from_file.sessions_dump().await, direct.sessions_dump().await, "sessions differ");
    let cols = ["message_id", "from_source", "rating", "content"];
    let order = "message_id, from_source";
    assert_eq!(from_file.dump("feedbacks", &cols, order).await, direct.dump("feedbacks", &cols, order).await);
    let again = env.ok(&["ingest", "--from-file", "export.csv"]);
    assert!(again.contains(" 0 new, 0 changed, 0 feedback changes"), "{again}");

    // The same export as Parquet gives the same warehouse.
    let parquet = env.path().join("export.parquet");
    to_parquet(&csv, &parquet);
    let third = TestWarehouse::new(backend).await;
    let env3 = Env::new(None, &third.url, "");
    env3.ok(&["ingest", "--from-file", parquet.to_str().unwrap(), "--dry-run"]);
    env3.ok(&["ingest", "--from-file", parquet.to_str().unwrap()]);
    assert_eq!(third.messages_dump().await, direct.messages_dump().await, "messages from Parquet differ");
    // A file that is no export is refused with the fix.
    std::fs::write(env.path().join("other.csv"), "a,b\n1,2\n").unwrap();
    let err = env.fails(&["ingest", "--from-file", "other.csv"], 1);
    assert!(error_line(&err).contains("no column id"), "{err}");
}

fn to_parquet(csv: &std::path::Path, parquet: &std::path::Path) {
    use polars::prelude::*;
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    let file = std::fs::File::create(parquet).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduler_runs_jobs_reports_failures_and_stops_on_sigterm() {
    let smtp = crate::reports::SmtpServer::start();
    let config = format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"itstat <itstat@example.com>\"\nowner = \"ops@example.com\"\ntimeout = \"5s\"\n\n\
         [[schedule]]\nname = \"tick\"\ncron = \"* * * * * *\"\nrun = [\"status\"]\n\n\
         [[schedule]]\nname = \"broken\"\ncron = \"* * * * * *\"\nrun = [\"ingest\"]\n\n\
         [[schedule]]\nname = \"workbook\"\ncron = \"* * * * * *\"\n\
         run = [\"report\", \"--period\", \"day\", \"--date\", \"2026-11-20\", \"--format\", \"xlsx\", \"--out\", \"out\"]\n",
        smtp.port
    );
    let env = Env::new(None, "sqlite://itstat.db", &config);
    env.ok(&["ingest", "--reclassify"]);
    let listed = env.ok(&["schedule", "--list"]);
    assert!(listed.contains("tick") && listed.contains("broken"), "{listed}");
    let (out, stopping) = schedule_then_sigterm(&env, &[]);
    assert!(stopping < Duration::from_secs(7), "stops within a few seconds");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stderr.contains("Scheduled.") && stderr.contains("job=tick next=20"),
        "logs next fire times: {stderr}"
    );
    assert!(stdout.matches("warehouse:").count() >= 2, "the status job ran every second: {stdout}");
    // A report job runs Polars, which blocks in place: that must work inside the scheduler.
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        env.path().join("out/itstat-day-2026-11-20.xlsx").exists(),
        "the report job wrote its workbook: {stderr}"
    );
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    assert!(wh.count("SELECT COUNT(*) FROM job_runs WHERE job = 'tick' AND outcome = 'ok'").await >= 2);
    assert!(wh.count("SELECT COUNT(*) FROM job_runs WHERE job = 'broken' AND outcome = 'failed'").await >= 2);
    assert!(wh.count("SELECT COUNT(*) FROM job_runs WHERE job = 'workbook' AND outcome = 'ok'").await >= 1);
    let errors = wh.query_strings("SELECT error FROM job_runs WHERE job = 'broken'").await;
    assert!(errors[0].contains("ITSTAT_DIFY_URL"), "{errors:?}");
    // Failing every second, the owner still gets one mail in 60 minutes.
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one failure mail per job in 60 minutes");
    let msg = mail_parser::MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(msg.subject(), Some("itstat: job broken failed"));
    // `status` shows each job's last run.
    let status = env.ok(&["status"]);
    let line =
        |job: &str| status.lines().find(|l| l.trim_start().starts_with(job)).unwrap_or_default().to_string();
    assert!(status.contains("scheduled jobs (last run of each):"), "{status}");
    assert!(line("broken ").contains(" failed ") && line("broken ").contains("ITSTAT_DIFY_URL"), "{status}");
    assert!(line("tick ").contains(" ok ") && line("workbook ").contains(" ok "), "{status}");
}

/// Runs `itstat schedule` (logging at info) for 3.5 s, then sends it SIGTERM; returns its
/// output and how long it took to stop.
fn schedule_then_sigterm(env: &Env, vars: &[(&str, &str)]) -> (std::process::Output, Duration) {
    schedule_then_signal(env, vars, "TERM")
}

/// [`schedule_then_sigterm`] with another signal (`INT` is what Ctrl-C sends).
fn schedule_then_signal(env: &Env, vars: &[(&str, &str)], signal: &str) -> (std::process::Output, Duration) {
    let mut command = env.command(&["schedule"]);
    command.env("ITSTAT_LOG", "itstat=info").stdout(Stdio::piped()).stderr(Stdio::piped());
    command.envs(vars.iter().copied());
    let child = command.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let out = child.wait_with_output().unwrap();
    (out, stopped.elapsed())
}

/// A job that panics (a bug; `ITSTAT_TEST_PANIC` makes `status` panic) fails like any other:
/// recorded `failed` with the panic's message, the owner mailed once, the job run again at its
/// next time. A job still running when the scheduler stops (an ingest waiting on a Dify that
/// never answers) is recorded `aborted`, not left `running`.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn scheduler_records_a_panicking_job_and_an_abandoned_one() {
    let smtp = crate::reports::SmtpServer::start();
    // Connections to it complete (the kernel's backlog) but never get an answer.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dify_url = format!("postgres://reader@127.0.0.1:{}/dify", silent.local_addr().unwrap().port());
    let config = format!(
        "[dify]\ntimeout = \"60s\"\n\n\
         [mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"itstat <itstat@example.com>\"\nowner = \"ops@example.com\"\ntimeout = \"5s\"\n\n\
         [[schedule]]\nname = \"bug\"\ncron = \"* * * * * *\"\nrun = [\"status\"]\n\n\
         [[schedule]]\nname = \"stuck\"\ncron = \"* * * * * *\"\nrun = [\"ingest\"]\n",
        smtp.port
    );
    let env = Env::new(Some(&dify_url), "sqlite://itstat.db", &config);
    let (out, stopping) = schedule_then_sigterm(&env, &[("ITSTAT_TEST_PANIC", "status")]);
    assert!(stopping < Duration::from_secs(10), "stops within a few seconds");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    assert!(
        wh.count("SELECT COUNT(*) FROM job_runs WHERE job = 'bug' AND outcome = 'failed'").await >= 2,
        "{stderr}"
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM job_runs WHERE outcome = 'running'").await, 0, "{stderr}");
    let errors = wh.query_strings("SELECT error FROM job_runs WHERE job = 'bug'").await;
    assert!(errors[0].contains("panicked") && errors[0].contains("ITSTAT_TEST_PANIC=status"), "{errors:?}");
    let stuck = wh.query_strings("SELECT outcome || ' ' || error FROM job_runs WHERE job = 'stuck'").await;
    assert_eq!(
        stuck,
        ["aborted the scheduler stopped before the job ended"],
        "one run, never overlapped: {stderr}"
    );
    assert_eq!(wh.count("SELECT COUNT(*) FROM job_runs WHERE finished_at IS NULL").await, 0);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one failure mail in 60 minutes: {stderr}");
    let msg = mail_parser::MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(msg.subject(), Some("itstat: job bug failed"));
    let status: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    let jobs: Vec<(&str, &str)> = status["last_jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["job"].as_str().unwrap(), j["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(jobs, [("bug", "failed"), ("stuck", "aborted")]);
    drop(silent);
}

/// The deployment's main job: a scheduled ingest from Dify (its sessions are computed in
/// Polars, in the scheduler's job thread) loads what a direct `itstat ingest` loads.
#[tokio::test(flavor = "multi_thread")]
async fn scheduled_ingest_equals_a_direct_one() {
    let data = generate(&GenConfig { messages: 300, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let config = "[[schedule]]\nname = \"ingest\"\ncron = \"* * * * * *\"\nrun = [\"ingest\"]\n";
    let scheduled = Env::new(Some(&dify.url), "sqlite://itstat.db", config);
    let log_path = scheduled.path().join("schedule.log");
    let child = scheduled
        .command(&["schedule"])
        .env("ITSTAT_LOG", "itstat=info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("Job finished.") || log.contains("Job failed") || log.contains("panicked") {
            break log;
        }
        assert!(Instant::now() < deadline, "no scheduled ingest finished in 60 s: {log}");
        std::thread::sleep(Duration::from_millis(200));
    };
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let mut child = child;
    assert_eq!(child.wait().unwrap().code(), Some(0), "{log}");
    assert!(log.contains("Job finished.") && !log.contains("panicked"), "{log}");
    let wh = TestWarehouse::sqlite_file(scheduled.path().join("itstat.db"));
    let direct = Env::new(Some(&dify.url), "sqlite://itstat.db", "");
    direct.ok(&["ingest"]);
    let reference = TestWarehouse::sqlite_file(direct.path().join("itstat.db"));
    assert!(wh.count("SELECT COUNT(*) FROM messages").await >= 300);
    assert_eq!(wh.messages_dump().await, reference.messages_dump().await);
    assert_eq!(wh.sessions_dump().await, reference.sessions_dump().await);
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn scheduler_catches_up_a_missed_report_once() {
    let smtp = crate::reports::SmtpServer::start();
    let data = generate(&GenConfig { messages: 200, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let config = format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"itstat <itstat@example.com>\"\nto = [\"boss@example.com\"]\n\n\
         [[schedule]]\nname = \"daily\"\ncron = \"0 0 8 * * *\"\nrun = [\"report\", \"--period\", \"day\", \"--mail\"]\n",
        smtp.port
    );
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", &config);
    env.ok(&["ingest"]);
    for _ in 0..2 {
        // 09:30 on the 21st: the 08:00 run was due to send the 20th's report.
        let (child, log) = spawn_schedule(&env, &[MORNING_AFTER]);
        // Signalled only once it listens (a signal before that kills it, as any process).
        wait_until(|| logged(&log, "Running until SIGTERM"), Duration::from_secs(20), &log, "start");
        let deadline = Instant::now() + Duration::from_secs(20);
        while smtp.messages().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(stop_scheduler(child, "TERM").0, Some(0));
    }
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "caught up once, not again on the next start");
    let msg = mail_parser::MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(msg.subject(), Some("IT客服机器人日报 2026-11-20"));
}

/// The `[mail]` section of the scheduler tests: an SMTP server on `port`, the owner who gets
/// failure mail and the manager who gets reports.
fn scheduler_mail(port: u16, timeout: &str) -> String {
    format!(
        "[mail]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"itstat <itstat@example.com>\"\n\
         owner = \"ops@example.com\"\nto = [\"boss@example.com\"]\ntimeout = \"{timeout}\"\n\n"
    )
}

/// A daily report job that mails, and so is caught up at start.
const DAILY_REPORT_JOB: &str = "[[schedule]]\nname = \"daily\"\ncron = \"0 0 8 * * *\"\nrun = [\"report\", \"--period\", \"day\", \"--mail\"]\n\n";

/// At 09:30 on the 21st the 08:00 run was due to send the 20th's report.
const MORNING_AFTER: (&str, &str) = ("ITSTAT_NOW", "2026-11-21T09:30:00+08:00");

/// Starts `itstat schedule` logging at info into a file; returns the child and the log's path.
fn spawn_schedule(env: &Env, vars: &[(&str, &str)]) -> (std::process::Child, std::path::PathBuf) {
    let log = env.path().join("schedule.log");
    let child = env
        .command(&["schedule"])
        .env("ITSTAT_LOG", "itstat=info")
        .envs(vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (child, log)
}

/// Waits until `done` holds, for at most `within`; panics with the log otherwise.
fn wait_until(done: impl Fn() -> bool, within: Duration, log: &std::path::Path, what: &str) {
    let deadline = Instant::now() + within;
    while !done() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(Instant::now() < deadline, "{what} did not happen in {within:?}: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the log holds `text`.
fn logged(log: &std::path::Path, text: &str) -> bool {
    std::fs::read_to_string(log).unwrap_or_default().contains(text)
}

/// Sends `signal` to the scheduler; returns its exit code (None: killed by the signal) and how
/// long it took to stop.
fn stop_scheduler(mut child: std::process::Child, signal: &str) -> (Option<i32>, Duration) {
    assert!(
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let code = child.wait().unwrap().code();
    (code, stopped.elapsed())
}

/// The plain-text line of a mailed report for `kpi` (`消息数: 12 (上期 9) ▲ 33.3%`).
fn mailed_kpi_line(raw: &[u8], kpi: &str) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let text = msg.body_text(0).unwrap().to_string();
    text.lines()
        .find(|l| l.starts_with(&format!("{kpi}:")))
        .unwrap_or_else(|| panic!("no {kpi} in {text}"))
        .to_string()
}

/// After an outage the report the scheduler catches up must hold the messages Dify got while
/// it was down: the ingest jobs run once first (recorded in `job_runs`), then the report. It
/// was built from the warehouse as it was before the outage, and then logged as delivered.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn a_caught_up_report_is_built_after_a_fresh_ingest() {
    let smtp = crate::reports::SmtpServer::start();
    let data = generate(&GenConfig { messages: 200, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    // The ingest job's own time never comes during the test.
    let config = format!(
        "{}[[schedule]]\nname = \"ingest\"\ncron = \"0 0 3 1 1 * 2099\"\nrun = [\"ingest\"]\n\n{DAILY_REPORT_JOB}",
        scheduler_mail(smtp.port, "5s")
    );
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", &config);
    // The warehouse as the outage left it: none of Dify's messages read yet.
    env.ok(&["ingest", "--reclassify"]);
    let (child, log) = spawn_schedule(&env, &[MORNING_AFTER]);
    wait_until(|| !smtp.messages().is_empty(), Duration::from_secs(30), &log, "the catch-up mail");
    let (code, _) = stop_scheduler(child, "TERM");
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(0), "{log}");
    // What the report says once every message is read.
    env.ok(&["ingest"]);
    let fresh = env.report(&["--period", "day", "--date", "2026-11-20"]);
    let messages = fresh["totals"]["messages"].as_i64().unwrap();
    assert!(messages > 0, "the dataset has messages on the 20th");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{log}");
    let line = mailed_kpi_line(&mails[0], "消息数");
    assert!(line.starts_with(&format!("消息数: {messages} ")), "the report predates the ingest: {line}");
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    let runs = wh.query_strings("SELECT job || ' ' || outcome FROM job_runs ORDER BY run_id").await;
    assert_eq!(runs, ["ingest ok", "daily ok"], "{log}");
}

/// Renames a PostgreSQL database (as an outage of Dify's database looks to itstat: it is not
/// there); retries while the connection that created it is still closing.
async fn rename_database(from: &str, to: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&base_url()).await.unwrap();
    let sql = format!("ALTER DATABASE \"{from}\" RENAME TO \"{to}\"");
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(&mut admin).await {
        assert!(Instant::now() < deadline, "{sql}: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    admin.close().await.ok();
}

/// When the ingest before the catch-up fails (Dify not up yet after a reboot), the missed
/// report is not sent from old data, nor lost: it waits for the first ingest that succeeds.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn a_catch_up_waits_for_the_first_ingest_that_succeeds() {
    let smtp = crate::reports::SmtpServer::start();
    let data = generate(&GenConfig { messages: 200, ..GenConfig::default() });
    let dify = dify_with(&data, SchemaVersion::V1_14).await;
    let away = format!("{}_away", dify.name);
    rename_database(&dify.name, &away).await;
    let config = format!(
        "{}[[schedule]]\nname = \"ingest\"\ncron = \"*/2 * * * * *\"\nrun = [\"ingest\"]\n\n{DAILY_REPORT_JOB}",
        scheduler_mail(smtp.port, "5s")
    );
    let env = Env::new(Some(&dify.url), "sqlite://itstat.db", &config);
    env.ok(&["ingest", "--reclassify"]);
    let (child, log) = spawn_schedule(&env, &[MORNING_AFTER]);
    wait_until(|| logged(&log, "Job failed."), Duration::from_secs(20), &log, "the first ingest");
    std::thread::sleep(Duration::from_millis(1500));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        smtp.messages().iter().all(|m| !String::from_utf8_lossy(m).contains("boss@")),
        "sent from old data: {text}"
    );
    rename_database(&away, &dify.name).await;
    let reports = || smtp.messages().iter().filter(|m| String::from_utf8_lossy(m).contains("boss@")).count();
    wait_until(|| reports() > 0, Duration::from_secs(30), &log, "the catch-up mail");
    std::thread::sleep(Duration::from_millis(2500));
    let (code, _) = stop_scheduler(child, "TERM");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(reports(), 1, "caught up once: {text}");
    env.ok(&["ingest"]);
    let fresh = env.report(&["--period", "day", "--date", "2026-11-20"]);
    let messages = fresh["totals"]["messages"].as_i64().unwrap();
    let report = smtp.messages().into_iter().find(|m| String::from_utf8_lossy(m).contains("boss@")).unwrap();
    let line = mailed_kpi_line(&report, "消息数");
    assert!(line.starts_with(&format!("消息数: {messages} ")), "{line}");
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    let first = wh.query_strings("SELECT job || ' ' || outcome FROM job_runs ORDER BY run_id LIMIT 1").await;
    assert_eq!(first, ["ingest failed"], "{text}");
}

/// Without a warehouse and without an ingest job a catch-up has nothing to report from: it is
/// skipped with a warning that says what to do, instead of mailing an empty report (or
/// failing) and logging the period as delivered.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn without_a_warehouse_or_an_ingest_job_catch_up_is_skipped_with_a_warning() {
    let smtp = crate::reports::SmtpServer::start();
    let config = format!("{}{DAILY_REPORT_JOB}", scheduler_mail(smtp.port, "5s"));
    let env = Env::new(None, "sqlite://itstat.db", &config);
    let (child, log) = spawn_schedule(&env, &[MORNING_AFTER]);
    wait_until(
        || logged(&log, "Not catching up") || logged(&log, "Job finished.") || logged(&log, "Job failed."),
        Duration::from_secs(20),
        &log,
        "the catch-up",
    );
    std::thread::sleep(Duration::from_millis(500));
    let (code, _) = stop_scheduler(child, "TERM");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(0), "{text}");
    let warning = text.lines().find(|l| l.contains("Not catching up")).unwrap_or_else(|| panic!("{text}"));
    assert!(warning.contains("WARN") && warning.contains("`itstat ingest`"), "names the fix: {warning}");
    assert!(!text.contains("ERROR") && !text.contains("Job started."), "{text}");
    assert!(smtp.messages().is_empty(), "no report from an empty warehouse: {text}");
}

/// A stop during the catch-up (here its mail waits on an SMTP server that never answers: 3
/// attempts of 20 s) ends the scheduler with exit 0 within seconds, the report recorded
/// `aborted`. The signal handler was installed after the catch-up, so SIGTERM killed it and
/// the run stayed `running`.
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
async fn a_stop_during_catch_up_exits_0_and_records_the_report_aborted() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = format!("{}{DAILY_REPORT_JOB}", scheduler_mail(silent.local_addr().unwrap().port(), "20s"));
    let env = Env::new(None, "sqlite://itstat.db", &config);
    env.ok(&["ingest", "--reclassify"]);
    let (child, log) = spawn_schedule(&env, &[MORNING_AFTER]);
    wait_until(|| logged(&log, "Job started."), Duration::from_secs(20), &log, "the catch-up");
    std::thread::sleep(Duration::from_secs(2));
    let (code, stopping) = stop_scheduler(child, "TERM");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(0), "exit 0, not killed by the signal: {text}");
    assert!(stopping < Duration::from_secs(10), "stopped in {stopping:?}");
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    let runs = wh.query_strings("SELECT job || ' ' || outcome || ' ' || error FROM job_runs").await;
    assert_eq!(runs, ["daily aborted the scheduler stopped before the job ended"], "{text}");
    drop(silent);
}

/// A PostgreSQL warehouse that is down fails every job; the owner must still hear of it (at
/// most once per job in 60 minutes, counted in memory since the warehouse cannot record it).
/// The owner mail needed the warehouse, so nobody was told.
#[tokio::test(flavor = "multi_thread")]
async fn the_owner_is_mailed_when_the_warehouse_cannot_be_opened() {
    let smtp = crate::reports::SmtpServer::start();
    let mut missing = url::Url::parse(&base_url()).unwrap();
    missing.set_path(&format!("/itstat_no_such_warehouse_{}", std::process::id()));
    let config = format!(
        "{}[[schedule]]\nname = \"tick\"\ncron = \"* * * * * *\"\nrun = [\"status\"]\n",
        scheduler_mail(smtp.port, "5s")
    );
    let env = Env::new(None, missing.as_str(), &config);
    let (out, _) = schedule_then_sigterm(&env, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.matches("Job failed.").count() >= 2, "the job ran every second: {stderr}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one mail however often it fails: {stderr}");
    let msg = mail_parser::MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(msg.subject(), Some("itstat: job tick failed"));
    let body = msg.body_text(0).unwrap();
    assert!(body.contains("itstat_no_such_warehouse") && body.contains("does not exist"), "{body}");
}

/// A scheduled command line holding a URL with a password (`import legacy --from …`) is shown
/// with the password masked wherever the scheduler shows it: `--list`, the logs, the owner's
/// mail, `job_runs` and `status`.
#[tokio::test(flavor = "multi_thread")]
async fn scheduled_command_lines_never_show_a_password() {
    let smtp = crate::reports::SmtpServer::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret = "Leg4cyS3cret";
    let config = format!(
        "{}[[schedule]]\nname = \"legacy\"\ncron = \"* * * * * *\"\n\
         run = [\"import\", \"legacy\", \"--from\", \"postgres://olduser:{secret}@127.0.0.1:{closed}/intervention_db\", \"--dry-run\"]\n",
        scheduler_mail(smtp.port, "5s")
    );
    let env = Env::new(None, "sqlite://itstat.db", &config);
    let listed = env.ok(&["schedule", "--list"]);
    assert!(listed.contains("olduser:***@127.0.0.1") && !listed.contains(secret), "{listed}");
    let (out, _) = schedule_then_sigterm(&env, &[]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret), "stdout: {stdout}\nstderr: {stderr}");
    for line in ["Scheduled.", "Job started."] {
        let shown = stderr.lines().find(|l| l.contains(line)).unwrap_or_else(|| panic!("{stderr}"));
        assert!(shown.contains("olduser:***@127.0.0.1"), "{shown}");
    }
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{stderr}");
    let msg = mail_parser::MessageParser::default().parse(&mails[0]).unwrap();
    let body = msg.body_text(0).unwrap();
    assert!(body.contains("olduser:***@127.0.0.1") && !body.contains(secret), "{body}");
    assert!(!String::from_utf8_lossy(&mails[0]).contains(secret));
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    let stored = wh.query_strings("SELECT command || ' ' || COALESCE(error, '') FROM job_runs").await;
    assert!(!stored.is_empty() && stored.iter().all(|c| !c.contains(secret)), "{stored:?}");
    for args in [&["status"][..], &["status", "--json"]] {
        let status = env.ok(args);
        assert!(!status.contains(secret), "{status}");
    }
}

/// The owner gets no more than one failure mail per job in any 60 minutes, counted from the
/// last one sent: a mail 30 minutes ago holds the next one back even though it was sent in
/// another clock hour, and one 61 minutes ago does not. The rule was keyed on the clock hour,
/// so mails at 10:59 and 11:00 both went.
#[tokio::test(flavor = "multi_thread")]
async fn the_owner_gets_at_most_one_mail_per_job_in_any_60_minutes() {
    use sqlx::Connection;
    let smtp = crate::reports::SmtpServer::start();
    let config = format!(
        "{}[[schedule]]\nname = \"recent\"\ncron = \"* * * * * *\"\nrun = [\"ingest\"]\n\n\
         [[schedule]]\nname = \"stale\"\ncron = \"* * * * * *\"\nrun = [\"ingest\"]\n",
        scheduler_mail(smtp.port, "5s")
    );
    let env = Env::new(None, "sqlite://itstat.db", &config);
    env.ok(&["ingest", "--reclassify"]);
    let url = format!("sqlite://{}", env.path().join("itstat.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let now = chrono::Utc::now().naive_utc();
    for (job, ago) in [("recent", 30), ("stale", 61)] {
        sqlx::query(
            "INSERT INTO deliveries (report_kind, period_label, recipient, subject, status, attempted_at) \
             VALUES ($1, '2000-01-01T00', 'ops@example.com', $2, 'sent', $3)",
        )
        .bind(format!("failure:{job}"))
        .bind(format!("itstat: job {job} failed"))
        .bind(now - chrono::Duration::minutes(ago))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.ok();
    let (out, _) = schedule_then_sigterm(&env, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| mail_parser::MessageParser::default().parse(m).unwrap().subject().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ["itstat: job stale failed"], "{stderr}");
}

/// Ctrl-C (SIGINT) stops the scheduler as SIGTERM does: exit 0 within a few seconds.
#[tokio::test(flavor = "multi_thread")]
async fn scheduler_stops_on_sigint_with_exit_0() {
    let config = "[[schedule]]\nname = \"tick\"\ncron = \"* * * * * *\"\nrun = [\"status\"]\n";
    let env = Env::new(None, "sqlite://itstat.db", config);
    let (out, stopping) = schedule_then_signal(&env, &[], "INT");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stopping < Duration::from_secs(7), "stopped in {stopping:?}");
    assert!(stderr.contains("Stopping: no new jobs start."), "{stderr}");
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    assert!(
        wh.count("SELECT COUNT(*) FROM job_runs WHERE job = 'tick' AND outcome = 'ok'").await >= 2,
        "{stderr}"
    );
}

/// A job still running at its next fire time (an ingest waiting on a Dify that never answers)
/// is not started again: the scheduler warns that it skipped the run, and the job ran once.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_still_running_at_its_next_time_is_skipped_with_a_warning() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dify_url = format!("postgres://reader@127.0.0.1:{}/dify", silent.local_addr().unwrap().port());
    let config = "[dify]\ntimeout = \"60s\"\n\n[[schedule]]\nname = \"stuck\"\ncron = \"* * * * * *\"\nrun = [\"ingest\"]\n";
    let env = Env::new(Some(&dify_url), "sqlite://itstat.db", config);
    let (out, _) = schedule_then_sigterm(&env, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let skipped = stderr
        .lines()
        .filter(|l| {
            l.contains("WARN")
                && l.contains("job=stuck")
                && l.contains("The previous run is still going; skipped this one.")
        })
        .count();
    assert!(skipped >= 2, "a warning each second it was still running: {stderr}");
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    assert_eq!(wh.count("SELECT COUNT(*) FROM job_runs WHERE job = 'stuck'").await, 1, "ran once: {stderr}");
    drop(silent);
}

/// The README's "Try it" walkthrough and its operator story, run line by line as a newcomer
/// would (with the test binary for `cargo run --release --` and `./target/release/itstat`), in
/// an empty folder: every line must succeed. The operator story runs on the demo warehouse,
/// "now" pinned to the morning after the demo's last day, with the README's illustrative id
/// replaced by the id its first command printed.
#[test]
#[cfg_attr(not(feature = "test-hooks"), ignore = "needs --features test-hooks (scripts/test.sh)")]
fn readme_walkthrough_runs() {
    let readme = include_str!("../../README.md");
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = vec![("ITSTAT_NOW".into(), "2026-11-23T08:00:00+08:00".into())];
    let try_it = shell_lines(section(readme, "## Try it"));
    assert!(try_it.iter().any(|l| l.ends_with(" demo")), "{try_it:?}");
    for line in &try_it {
        if line.starts_with("bash scripts/test.sh") {
            continue; // the suite running this test
        }
        run_readme_line(line, dir.path(), &mut env);
    }
    env.push(("ITSTAT_CONFIG".into(), "itstat-demo/itstat.toml".into()));
    let operators = shell_lines(section(readme, "### Operators"));
    let first = run_readme_line(&operators[0], dir.path(), &mut env);
    // The short id is the table's only word of eight hex digits.
    let is_id = |w: &&str| w.len() == 8 && w.chars().all(|c| c.is_ascii_hexdigit());
    let id = first.split_whitespace().find(is_id);
    let id = id.unwrap_or_else(|| panic!("`{}` printed no id: {first}", operators[0]));
    let mut ran = 1;
    for line in &operators[1..] {
        if line.contains("import legacy") {
            continue; // needs the legacy platform's database: operators::legacy_platform_migrates_once
        }
        let out = run_readme_line(&line.replace("3f2a91c0", id), dir.path(), &mut env);
        if line.contains("--history") {
            assert!(out.contains("电话支持"), "the history shows the note: {out}");
        }
        ran += 1;
    }
    assert!(ran >= 7, "only {ran} operator commands ran");
    assert!(dir.path().join("walkins.xlsx").exists());
}

/// The text of the README from `heading` to the next heading of the same or a higher level.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme.find(heading).unwrap_or_else(|| panic!("README has no `{heading}`"));
    let level = heading.split(' ').next().unwrap().len();
    let rest = &readme[start + heading.len()..];
    let end = rest
        .match_indices("\n#")
        .find(|(i, _)| rest[i + 1..].chars().take_while(|c| *c == '#').count() <= level)
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// The command lines of the shell blocks of `text`, comments removed.
fn shell_lines(text: &str) -> Vec<String> {
    let mut in_shell = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_shell = line.trim() == "```sh";
            continue;
        }
        let line = line.split(" #").next().unwrap_or("").trim();
        if in_shell && !line.is_empty() {
            lines.push(line.to_string());
        }
    }
    lines
}

/// Runs one README line in `dir` (`export K=V` sets `env` for the next lines); insists on
/// success and returns stdout.
fn run_readme_line(line: &str, dir: &std::path::Path, env: &mut Vec<(String, String)>) -> String {
    if let Some((k, v)) = line.strip_prefix("export ").and_then(|kv| kv.split_once('=')) {
        env.push((k.to_string(), v.to_string()));
        return String::new();
    }
    // What precedes `&&` would be skipped silently: such a line needs this test extended.
    let rest = itstat_args(line)
        .filter(|_| !line.contains("&&"))
        .unwrap_or_else(|| panic!("README line `{line}` is not a plain itstat command"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_itstat"));
    cmd.args(shell_words(rest)).current_dir(dir).env("RUST_BACKTRACE", "0");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ITSTAT_")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().cloned());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "README line `{line}` failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.trim().is_empty(), "README line `{line}` printed nothing");
    stdout
}

/// Every `itstat …` line in the README's shell blocks is a command line itstat accepts.
#[test]
fn readme_commands_parse() {
    use clap::Parser;
    let mut checked = 0;
    for line in shell_lines(include_str!("../../README.md")) {
        let Some(rest) = itstat_args(&line) else { continue };
        let args = shell_words(rest);
        itstat::cli::Cli::try_parse_from(std::iter::once("itstat".to_string()).chain(args))
            .unwrap_or_else(|e| panic!("README: `{line}` does not parse: {e}"));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} README commands found");
}

/// The arguments of a README line that runs itstat (`itstat …`, `./target/release/itstat …`,
/// `cargo run --release -- …`, also after `&&`); `None` for other lines.
fn itstat_args(line: &str) -> Option<&str> {
    ["./target/release/itstat ", "itstat ", "cargo run --release -- "]
        .iter()
        .find_map(|p| line.strip_prefix(p).or_else(|| line.split_once(&format!("&& {p}")).map(|(_, r)| r)))
}

/// Splits a command line on spaces, keeping '…' and "…" quoted parts together.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, ' ') if !current.is_empty() => words.push(std::mem::take(&mut current)),
            (None, ' ') => {}
            (None, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `docs/warehouse.md` documents every table and column of the warehouse (a BI tool's
/// interface), as the migrations create them.
#[tokio::test(flavor = "multi_thread")]
async fn warehouse_doc_lists_every_table_and_column() {
    let doc = include_str!("../../docs/warehouse.md");
    let env = Env::new(None, "sqlite://itstat.db", "");
    env.ok(&["ingest", "--reclassify"]);
    let wh = TestWarehouse::sqlite_file(env.path().join("itstat.db"));
    let tables = wh
        .query_strings(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY name",
        )
        .await;
    assert!(tables.len() >= 9, "{tables:?}");
    let mut undocumented = Vec::new();
    for table in &tables {
        let heading = format!("## `{table}`");
        if !doc.contains(&heading) {
            undocumented.push(table.clone());
            continue;
        }
        let text = section(doc, &heading);
        let columns = wh.query_strings(&format!("SELECT name FROM pragma_table_info('{table}')")).await;
        for column in columns {
            if !text.contains(&format!("`{column}`")) {
                undocumented.push(format!("{table}.{column}"));
            }
        }
    }
    assert!(undocumented.is_empty(), "docs/warehouse.md lacks {undocumented:?}");
}
