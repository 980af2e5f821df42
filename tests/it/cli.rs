//! The command line as a user meets it: help, bad config, bad URLs, unreachable databases,
//! dry runs and status. Every failure is one `error:` line, the right exit code, no panic,
//! and nothing written.

use crate::support::*;
use itstat::demo::pg::SchemaVersion;

fn sqlite_env(config: &str, dify: Option<&str>) -> Env {
    Env::new(dify, "sqlite://itstat.db", config)
}

#[test]
fn help_and_version_exit_zero() {
    let env = sqlite_env("", None);
    let help = env.ok(&["--help"]);
    for cmd in ["ingest", "report", "status"] {
        assert!(help.contains(cmd), "{help}");
    }
    assert!(env.ok(&["ingest", "--help"]).contains("--dry-run"));
    assert!(env.ok(&["--version"]).starts_with("itstat "));
}

#[test]
fn unknown_flag_is_one_line_exit_one() {
    let env = sqlite_env("", None);
    let err = env.fails(&["ingest", "--fulll"], 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--fulll"));
}

#[test]
fn config_mistakes_name_the_file_and_key() {
    let cases = [
        ("[session]\nwindw = \"15m\"\n", "itstat.toml:2: unknown field `windw`"),
        ("timezone = \"Mars/Olympus\"\n", "`timezone`"),
        ("[dify]\nlookback = \"soon\"\n", "`dify.lookback`"),
        ("[rules]\nkb_miss_regex = [\"[未命中\"]\n", "`rules.kb_miss_regex[0]`"),
        ("timezone = \n", "itstat.toml:1"),
    ];
    for (config, needle) in cases {
        let env = sqlite_env(config, Some("postgres://nobody@127.0.0.1:1/none"));
        let err = env.fails(&["ingest"], 1);
        assert!(error_line(&err).contains(needle), "{config}: {err}");
        assert!(!env.path().join("itstat.db").exists(), "a bad config writes nothing");
    }
}

#[test]
fn a_warehouse_url_of_another_database_is_refused() {
    let env = Env::new(None, "mysql://root@localhost/itstat", "");
    let err = env.fails(&["status"], 1);
    assert!(error_line(&err).contains("neither sqlite"), "{err}");
}

#[test]
fn missing_config_file_named_by_flag_is_an_error() {
    let env = sqlite_env("", None);
    let err = env.fails(&["--config", "nope.toml", "status"], 1);
    assert!(error_line(&err).contains("nope.toml"), "{err}");
    // `--config` also works after the subcommand.
    let err = env.fails(&["status", "--config", "nope.toml"], 1);
    assert!(error_line(&err).contains("nope.toml"), "{err}");
}

#[test]
fn unreachable_dify_exits_two_naming_the_host_not_the_password() {
    let env = sqlite_env("", Some("postgres://reader:s3cr3t-pw@127.0.0.1:1/dify"));
    let err = env.fails(&["ingest"], 2);
    let line = error_line(&err);
    assert!(line.contains("127.0.0.1:1/dify"), "{line}");
    assert!(!err.contains("s3cr3t-pw"), "password leaked: {err}");
    let status = env.ok(&["status"]);
    assert!(!status.contains("s3cr3t-pw"), "{status}");
    assert!(status.contains("reader:***@127.0.0.1:1/dify"), "{status}");
    assert!(status.contains("failed"), "the failed run is recorded: {status}");
    assert!(status.contains(" 0 messages"), "{status}");
}

#[test]
fn server_errors_read_as_the_server_wrote_them() {
    // PostgreSQL refuses an unknown role. Its error carries the line of PostgreSQL's own C
    // source that raised it, which sqlx appends as "at line N": a user would look for that
    // line in their config. The message is shown without it.
    let mut url = url::Url::parse(&base_url()).unwrap();
    url.set_username("itstat_no_such_role").unwrap();
    let env = sqlite_env("", Some(url.as_str()));
    let line = error_line(&env.fails(&["ingest"], 2));
    assert!(line.contains(r#"role "itstat_no_such_role" does not exist"#), "{line}");
    assert!(!line.contains("at line"), "{line}");
    let err = env.fails(&["import", "legacy", "--from", url.as_str()], 2);
    assert!(!error_line(&err).contains("at line"), "{err}");
}

#[test]
fn unreachable_postgres_warehouse_exits_two() {
    let env = Env::new(Some(&base_url()), "postgres://wh:hunter2@127.0.0.1:1/itstat", "");
    std::fs::write(
        env.path().join("walkins.csv"),
        "用户名,问题,咨询时间\nzhangsan,打印机,2026-11-02 09:00\n",
    )
    .unwrap();
    for args in [
        &["report", "--format", "json", "--date", "2026-11-02"][..],
        &["ingest"],
        &["status"],
        &["mark", "3f2a91c0", "--manual"],
        &["import", "manual-entries", "walkins.csv"],
    ] {
        let err = env.fails(args, 2);
        assert!(error_line(&err).contains("127.0.0.1:1/itstat"), "{args:?}: {err}");
        assert!(!err.contains("hunter2"), "{args:?}: {err}");
    }
}

/// config.md: a flag beats the environment, which beats the file. The file names a
/// warehouse and a Dify that are not to be used; the environment's are used.
#[tokio::test(flavor = "multi_thread")]
async fn the_environment_overrides_the_config_file() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let config = "[dify]\nurl = \"postgres://nobody:pw@127.0.0.1:1/from-file\"\n\
                  [warehouse]\nurl = \"sqlite://from-file.db\"\n";
    let env = Env::new(Some(&dify.url), "sqlite://from-env.db", config);
    env.ok(&["ingest"]);
    assert!(env.path().join("from-env.db").exists() && !env.path().join("from-file.db").exists());
    assert_eq!(env.report(&["--date", "2026-11-02"])["totals"]["messages"], 1);
    // Without the environment, the file's values are used.
    let out = env
        .command(&["ingest"])
        .env_remove("ITSTAT_DIFY_URL")
        .env_remove("ITSTAT_WAREHOUSE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(error_line(&String::from_utf8_lossy(&out.stderr)).contains("127.0.0.1:1/from-file"));
    assert!(env.path().join("from-file.db").exists());
    // `--config` beats ITSTAT_CONFIG, which beats ./itstat.toml.
    std::fs::write(env.path().join("other.toml"), "timezone = \"Europe/Berlin\"\n").unwrap();
    std::fs::write(env.path().join("third.toml"), "timezone = \"UTC\"\n").unwrap();
    let zone = |cmd: &mut std::process::Command| -> String {
        let out = cmd.output().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        json["period"]["timezone"].as_str().unwrap_or_default().to_string()
    };
    let report = ["report", "--format", "json", "--date", "2026-11-02"];
    assert_eq!(zone(&mut env.command(&report)), "Asia/Shanghai");
    assert_eq!(zone(env.command(&report).env("ITSTAT_CONFIG", "other.toml")), "Europe/Berlin");
    let mut flagged = vec!["--config", "third.toml"];
    flagged.extend(report);
    assert_eq!(zone(env.command(&flagged).env("ITSTAT_CONFIG", "other.toml")), "UTC");
}

/// Relative paths in a config file are beside the file: `--config some/dir/itstat.toml`, run
/// from elsewhere, keeps its warehouse and writes its reports there (also the defaults, when
/// the file leaves them out); paths from the environment and from flags stay relative to the
/// working directory, and so do the defaults when there is no config file.
#[tokio::test(flavor = "multi_thread")]
async fn paths_in_a_config_file_are_relative_to_its_folder() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let env = sqlite_env("", Some(&dify.url));
    let root = env.path();
    for dir in ["some/dir", "defaults", "elsewhere", "bare"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let config = "[warehouse]\nurl = \"sqlite://wh.db\"\n[report]\nout_dir = \"out\"\n";
    std::fs::write(root.join("some/dir/itstat.toml"), config).unwrap();
    std::fs::write(root.join("defaults/itstat.toml"), "timezone = \"Asia/Shanghai\"\n").unwrap();
    // The binary run in `cwd` (under the work dir) without ITSTAT_WAREHOUSE_URL.
    let run = |cwd: &str, args: &[&str]| -> String {
        let out = env
            .command(args)
            .current_dir(root.join(cwd))
            .env_remove("ITSTAT_WAREHOUSE_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{cwd}: itstat {args:?}: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    };
    let day = ["report", "--date", "2026-11-02"];
    let json = ["report", "--date", "2026-11-02", "--format", "json"];
    let messages = |stdout: String| {
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["totals"]["messages"].clone()
    };

    run(".", &["--config", "some/dir/itstat.toml", "ingest"]);
    assert!(root.join("some/dir/wh.db").exists() && !root.join("wh.db").exists());
    let out = run(".", &[&["--config", "some/dir/itstat.toml"][..], &day].concat());
    assert!(out.contains("wrote some/dir/out/itstat-day-2026-11-02.xlsx"), "{out}");
    assert!(root.join("some/dir/out/itstat-day-2026-11-02.xlsx").exists());
    // The same file from its own folder and from a third one: the same warehouse.
    assert_eq!(messages(run("some/dir", &[&["--config", "itstat.toml"][..], &json].concat())), 1);
    assert_eq!(
        messages(run("elsewhere", &[&["--config", "../some/dir/itstat.toml"][..], &json].concat())),
        1
    );
    // `--out` is relative to where it was typed.
    run("elsewhere", &[&["--config", "../some/dir/itstat.toml"][..], &day, &["--out", "here"]].concat());
    assert!(root.join("elsewhere/here/itstat-day-2026-11-02.xlsx").exists());
    // ITSTAT_WAREHOUSE_URL too: `sqlite://itstat.db` is in the working directory.
    env.ok(&["--config", "some/dir/itstat.toml", "ingest"]);
    assert!(root.join("itstat.db").exists() && !root.join("some/dir/itstat.db").exists());
    // A config file without the keys: the defaults are beside it as well.
    run(".", &["--config", "defaults/itstat.toml", "ingest"]);
    run(".", &[&["--config", "defaults/itstat.toml"][..], &day].concat());
    assert!(root.join("defaults/itstat.db").exists());
    assert!(root.join("defaults/reports/itstat-day-2026-11-02.xlsx").exists());
    // No config file at all: the defaults are in the working directory.
    run("bare", &["ingest"]);
    run("bare", &day);
    assert!(
        root.join("bare/itstat.db").exists() && root.join("bare/reports/itstat-day-2026-11-02.xlsx").exists()
    );
}

/// `import legacy` takes the legacy database from ITSTAT_LEGACY_URL when `--from` is not
/// given, so its password need not go on a command line; `--from` wins; `--help` names the
/// variable but never shows its value; with neither, the error says both.
#[tokio::test(flavor = "multi_thread")]
async fn import_legacy_reads_its_url_from_the_environment() {
    let mut s = Small::new();
    let id = s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a")).to_string();
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let mut env = sqlite_env("", Some(&dify.url));
    env.ok(&["ingest"]);
    let legacy = TestDb::create("legacy").await;
    legacy
        .exec(&format!(
            "{LEGACY_SCHEMA}
             INSERT INTO manual_intervention VALUES
                 ('{id}', true, 'zhou', 'q', 'zhangsan', NULL, '2026-11-02 11:00', NULL);"
        ))
        .await;
    let err = env.fails(&["import", "legacy"], 1);
    let line = error_line(&err);
    assert!(line.contains("`--from") && line.contains("ITSTAT_LEGACY_URL"), "{err}");

    env.extra.push(("ITSTAT_LEGACY_URL".into(), legacy.url.clone()));
    let out = env.ok(&["import", "legacy", "--dry-run"]);
    assert!(out.contains("would migrate 1 marks (of 1)"), "{out}");
    let out = env.ok(&["import", "legacy"]);
    assert!(out.contains("migrated 1 marks (of 1)"), "{out}");

    let unreachable = "postgres://ro:s3cr3t-pw@127.0.0.1:1/legacy";
    env.extra = vec![("ITSTAT_LEGACY_URL".into(), unreachable.into())];
    let out = env.ok(&["import", "legacy", "--from", &legacy.url]);
    assert!(out.contains("migrated 0 marks (of 1)"), "`--from` wins over the environment: {out}");
    let help = env.ok(&["import", "legacy", "--help"]);
    assert!(help.contains("ITSTAT_LEGACY_URL"), "{help}");
    assert!(!help.contains("s3cr3t-pw"), "--help shows the variable's value: {help}");
    let err = env.fails(&["import", "legacy"], 2);
    assert!(error_line(&err).contains("127.0.0.1:1/legacy") && !err.contains("s3cr3t-pw"), "{err}");
}

#[test]
fn report_before_any_ingest_says_what_to_do() {
    let env = sqlite_env("", None);
    let err = env.fails(&["report", "--format", "json", "--date", "2026-11-02"], 1);
    assert!(error_line(&err).contains("run `itstat ingest` first"), "{err}");
    assert!(!env.path().join("itstat.db").exists());
}

#[test]
fn ingest_without_a_dify_url_says_where_to_set_it() {
    let env = sqlite_env("", None);
    let err = env.fails(&["ingest"], 1);
    assert!(error_line(&err).contains("ITSTAT_DIFY_URL"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_app_name_lists_the_apps() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let env = sqlite_env("[dify]\napps = [\"IT 助理\"]\n", Some(&dify.url));
    let err = env.fails(&["ingest"], 1);
    let line = error_line(&err);
    assert!(line.contains("\"IT 助理\"") && line.contains("IT 助手"), "{line}");
    // By name, and by id, it works.
    std::fs::write(env.path().join("itstat.toml"), "[dify]\napps = [\"IT 助手\"]\n").unwrap();
    env.ok(&["ingest"]);
    std::fs::write(env.path().join("itstat.toml"), format!("[dify]\napps = [\"{}\"]\n", s.app_id())).unwrap();
    env.ok(&["ingest"]);
    // A mistyped id is refused too, instead of ingesting nothing.
    let typo = "0b9e8a52-1111-4111-8111-111111111111";
    std::fs::write(env.path().join("itstat.toml"), format!("[dify]\napps = [\"{typo}\"]\n")).unwrap();
    let line = error_line(&env.fails(&["ingest"], 1));
    assert!(line.contains(typo) && line.contains("IT 助手"), "{line}");
    // The id of an app deleted before Dify 0.6.13, whose messages stayed, is accepted.
    dify.exec("DELETE FROM apps").await;
    std::fs::write(env.path().join("itstat.toml"), format!("[dify]\napps = [\"{}\"]\n", s.app_id())).unwrap();
    env.ok(&["ingest"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn dify_without_a_required_column_exits_two_naming_it() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    dify.exec("ALTER TABLE messages DROP COLUMN status").await;
    let env = sqlite_env("", Some(&dify.url));
    let err = env.fails(&["ingest"], 2);
    assert!(error_line(&err).contains("`messages.status`"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_reads_everything_and_writes_nothing() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    s.msg(Msg::new("lisi", "2026-11-02 09:00:00", "b"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let env = sqlite_env("", Some(&dify.url));
    let out = env.ok(&["ingest", "--dry-run"]);
    assert!(out.contains("read 2 messages: 2 new"), "{out}");
    assert!(!env.path().join("itstat.db").exists(), "dry run created the warehouse");
    env.ok(&["ingest"]);
    let out = env.ok(&["ingest", "--dry-run"]);
    assert!(out.contains("0 new, 0 changed, 2 unchanged"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_dify_account_is_enough() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let role = format!("ro_{}", dify.name);
    dify.exec(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'ro-pass';
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
    ))
    .await;
    let mut url = url::Url::parse(&dify.url).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(Some("ro-pass")).unwrap();
    let env = sqlite_env("", Some(url.as_str()));
    let out = env.ok(&["ingest"]);
    assert!(out.contains("1 new"), "{out}");
    dify.exec(&format!("DROP OWNED BY {role}; DROP ROLE {role};")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_shows_the_warehouse_and_runs() {
    let mut s = Small::new();
    s.msg(Msg::new("zhangsan", "2026-11-02 09:00:00", "a"));
    let dify = dify_with(&s.data, SchemaVersion::V1_14).await;
    let env = sqlite_env("", Some(&dify.url));
    env.ok(&["ingest"]);
    let text = env.ok(&["status"]);
    assert!(text.contains("cursor:         2026-11-02 09:00:00 CST"), "{text}");
    assert!(text.contains("1 messages (1 included, 0 pending), 1 sessions"), "{text}");
    assert!(text.contains("incremental ok"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    assert_eq!(json["counts"]["messages"], 1);
    assert_eq!(json["last_runs"][0]["rows_new"], 1);
}
