//! Test harness: throwaway databases, a temp work dir, and the binary run as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use itstat::demo::generator::Dataset;
use itstat::demo::pg::{self, SchemaVersion};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Runs `$name(backend)` once per warehouse backend, as separate tests `$name::sqlite` and
/// `$name::postgres`. Attributes written before a name (`#[cfg_attr(…, ignore)]`) go on both.
macro_rules! on_both_backends {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            $(#[$meta])*
            async fn sqlite() {
                super::$name(crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread")]
            $(#[$meta])*
            async fn postgres() {
                super::$name(crate::support::Backend::Postgres).await
            }
        }
    )*};
}

/// The server tests create their databases on.
pub fn base_url() -> String {
    std::env::var("ITSTAT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("ITSTAT_TEST_DATABASE_URL is a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// The legacy platform's tables that `itstat import legacy` reads (legacy.md), empty.
pub const LEGACY_SCHEMA: &str = "
    CREATE TABLE system_users (id serial, username text, password text);
    CREATE TABLE manual_intervention (message_id varchar(64), manual_intervention boolean,
        operation_user varchar(64), query text, user_name varchar(64), knowledge_status varchar(16),
        created_at timestamp, updated_at timestamp);
    CREATE TABLE manual_entry (id serial, user_name text, query text, answer text,
        consultation_time timestamp, entry_person text, knowledge_hit text,
        transfer_to_human text, manual_intervention text, operation_user text,
        created_at timestamp, updated_at timestamp);";

/// A PostgreSQL database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create(tag: &str) -> TestDb {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("itstat_{tag}_{}_{n}_{}", std::process::id(), rand_suffix());
        let mut admin = PgConnection::connect(&base_url()).await.expect("PostgreSQL for tests answers");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&mut admin).await.unwrap();
        admin.close().await.ok();
        let url = with_database(&base_url(), &name);
        TestDb { name, url }
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// Runs SQL (several statements allowed).
    pub async fn exec(&self, sql: &str) {
        let mut conn = self.connect().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        conn.close().await.ok();
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos() % 100_000
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async context: a small runtime on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&base_url()).await {
                    let _ = sqlx::query(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A Dify database holding a dataset.
pub async fn dify_with(data: &Dataset, version: SchemaVersion) -> TestDb {
    let db = TestDb::create("dify").await;
    let mut conn = db.connect().await;
    pg::create_schema(&mut conn, version).await.unwrap();
    pg::load(&mut conn, data, version).await.unwrap();
    conn.close().await.ok();
    db
}

/// Which warehouse a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A warehouse for one test.
pub struct TestWarehouse {
    pub url: String,
    pub backend: Backend,
    _db: Option<TestDb>,
    _dir: Option<tempfile::TempDir>,
}

impl TestWarehouse {
    pub async fn new(backend: Backend) -> TestWarehouse {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                TestWarehouse {
                    url: format!("sqlite://{}", dir.path().join("itstat.db").display()),
                    backend,
                    _db: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let db = TestDb::create("wh").await;
                TestWarehouse { url: db.url.clone(), backend, _db: Some(db), _dir: None }
            }
        }
    }

    /// A PostgreSQL warehouse in a database the caller created (and the warehouse now owns).
    pub fn postgres_at(db: TestDb) -> TestWarehouse {
        TestWarehouse { url: db.url.clone(), backend: Backend::Postgres, _db: Some(db), _dir: None }
    }

    /// A PostgreSQL warehouse at a URL the caller owns.
    pub fn postgres_at_url(url: &str) -> TestWarehouse {
        TestWarehouse { url: url.to_string(), backend: Backend::Postgres, _db: None, _dir: None }
    }

    /// A warehouse already at a SQLite file (the test does not own the file).
    pub fn sqlite_file(path: PathBuf) -> TestWarehouse {
        TestWarehouse {
            url: format!("sqlite://{}", path.display()),
            backend: Backend::Sqlite,
            _db: None,
            _dir: None,
        }
    }

    /// The SQLite file's folder (where its lock file lives).
    pub fn sqlite_dir(&self) -> Option<&Path> {
        self._dir.as_ref().map(|d| d.path())
    }

    /// Rows of a query, each column rendered as text and joined with `|`: a backend-neutral
    /// dump for comparing two warehouses of the same backend.
    pub async fn dump(&self, table: &str, columns: &[&str], order: &str) -> Vec<String> {
        let expr = columns
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '∅')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let sql = format!("SELECT {expr} AS row FROM {table} ORDER BY {order}");
        self.query_strings(&sql).await
    }

    /// A query returning one text column.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                let rows: Vec<(String,)> =
                    sqlx::query_as(AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.unwrap();
                rows.into_iter().map(|r| r.0).collect()
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(&self.url).await.unwrap();
                let rows: Vec<(String,)> =
                    sqlx::query_as(AssertSqlSafe(sql.to_string())).fetch_all(&mut conn).await.unwrap();
                rows.into_iter().map(|r| r.0).collect()
            }
        }
    }

    /// A query returning one integer.
    pub async fn count(&self, sql: &str) -> i64 {
        let text = format!("SELECT CAST(({sql}) AS TEXT)");
        self.query_strings(&text).await[0].parse().unwrap()
    }

    /// The names of the indexes of `messages` and `sessions` other than their keys, sorted.
    pub async fn index_names(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('messages', 'sessions') \
                 AND name NOT LIKE 'sqlite_autoindex%' \
                 AND name NOT IN ('messages_message_id_key', 'sessions_session_id_key') ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename IN ('messages', 'sessions') AND indexname NOT LIKE '%pkey' ORDER BY indexname"
            }
        };
        self.query_strings(sql).await
    }

    /// Whether `messages.message_id` and `sessions.session_id` are unique keys (SQLite: the
    /// indexes a first load drops and builds at its end; PostgreSQL: the primary keys).
    pub async fn has_keys(&self) -> bool {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT (SELECT COUNT(*) FROM pragma_index_list('messages') \
                   WHERE name = 'messages_message_id_key' AND \"unique\" = 1) \
                 + (SELECT COUNT(*) FROM pragma_index_list('sessions') \
                   WHERE name = 'sessions_session_id_key' AND \"unique\" = 1)"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() \
                 AND indexname IN ('messages_pkey', 'sessions_pkey')"
            }
        };
        self.count(sql).await == 2
    }

    /// Every stored message column except bookkeeping, one string per row.
    pub async fn messages_dump(&self) -> Vec<String> {
        self.dump("messages", MESSAGE_COLUMNS, "message_id").await
    }

    /// The sessions table, one string per row.
    pub async fn sessions_dump(&self) -> Vec<String> {
        self.dump("sessions", SESSION_COLUMNS, "session_id").await
    }
}

pub const MESSAGE_COLUMNS: &[&str] = &[
    "message_id",
    "app_id",
    "conversation_id",
    "created_at",
    "updated_at",
    "local_time",
    "local_date",
    "user_key",
    "query",
    "question",
    "answer",
    "status",
    "error",
    "state",
    "kb_hit",
    "transfer",
    "included",
    "invoke_from",
    "from_source",
    "end_user_session_id",
    "account_email",
    "message_tokens",
    "answer_tokens",
    "latency_s",
    "currency",
    "parent_message_id",
    "app_mode",
    "conversation_deleted",
    "session_id",
    "session_start",
    "session_date",
    "content_hash",
];

pub const SESSION_COLUMNS: &[&str] = &[
    "session_id",
    "user_key",
    "started_at",
    "ended_at",
    "local_date",
    "messages",
    "answered",
    "errors",
    "pending",
    "kb_hits",
    "transfer_messages",
    "manual_messages",
    "is_transfer",
    "is_manual",
    "is_self_resolved",
];

/// A temp work dir with a config file, where the binary runs.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub dify_url: Option<String>,
    pub warehouse_url: String,
    pub extra: Vec<(String, String)>,
}

impl Env {
    pub fn new(dify_url: Option<&str>, warehouse_url: &str, config: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("itstat.toml"), config).unwrap();
        Env {
            dir,
            dify_url: dify_url.map(str::to_string),
            warehouse_url: warehouse_url.to_string(),
            extra: Vec::new(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The binary with the environment a user's cron line would give it.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(Path::new(env!("CARGO_BIN_EXE_itstat")), args)
    }

    /// [`Env::command`] with another copy of the binary.
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("RUST_BACKTRACE", "0")
            .env("ITSTAT_LOG", "itstat=warn");
        for (k, _) in std::env::vars() {
            if k.starts_with("ITSTAT_") {
                cmd.env_remove(k);
            }
        }
        if let Some(url) = &self.dify_url {
            cmd.env("ITSTAT_DIFY_URL", url);
        }
        cmd.env("ITSTAT_WAREHOUSE_URL", &self.warehouse_url);
        for (k, v) in &self.extra {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary; returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the itstat binary runs")
    }

    /// Runs the binary and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "itstat {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        no_panic(&out);
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs the binary expecting failure with `code`; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "itstat {args:?}: stderr: {stderr}");
        no_panic(&out);
        stderr
    }

    /// `report --format json` for a period, parsed.
    pub fn report(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["report", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

fn no_panic(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "the binary panicked: {stderr}");
}

/// The `error:` line of a failed run: exactly one.
pub fn error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line expected in: {stderr}");
    lines[0].to_string()
}

/// A hand-made Dify dataset for small cases with numbers worked out by hand.
pub struct Small {
    pub data: Dataset,
    app: uuid::Uuid,
    tenant: uuid::Uuid,
    n: u128,
}

/// A message of a [`Small`] dataset.
pub struct Msg<'a> {
    pub user: &'a str,
    /// Local time in Asia/Shanghai, `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    pub at: &'a str,
    pub query: &'a str,
    pub answer: &'a str,
    pub status: &'a str,
    pub invoke_from: Option<&'a str>,
}

impl<'a> Msg<'a> {
    pub fn new(user: &'a str, at: &'a str, answer: &'a str) -> Msg<'a> {
        Msg { user, at, query: "电脑蓝屏", answer, status: "normal", invoke_from: Some("service-api") }
    }
}

/// Local Shanghai time text to naive UTC.
pub fn shanghai_to_utc(at: &str) -> chrono::NaiveDateTime {
    let fmt = if at.contains('.') { "%Y-%m-%d %H:%M:%S%.f" } else { "%Y-%m-%d %H:%M:%S" };
    chrono::NaiveDateTime::parse_from_str(at, fmt).unwrap() - chrono::Duration::hours(8)
}

impl Small {
    pub fn new() -> Small {
        Small::numbered_from(0)
    }

    /// A second dataset for the same Dify: same app, ids from `first_id` on, no app row.
    pub fn more(first_id: u128) -> Small {
        let mut s = Small::numbered_from(first_id);
        s.data.apps.clear();
        s
    }

    fn numbered_from(first_id: u128) -> Small {
        let mut s =
            Small { data: Dataset::default(), app: uuid::Uuid::nil(), tenant: uuid::Uuid::nil(), n: 0 };
        s.app = s.next_id();
        s.tenant = s.next_id();
        s.n = first_id.max(s.n);
        s.data.apps.push(itstat::demo::generator::App {
            id: s.app,
            tenant_id: s.tenant,
            name: "IT 助手".into(),
            mode: "chat".into(),
        });
        s
    }

    /// Ids that sort in creation order (so tests can predict tie-breaks).
    pub fn next_id(&mut self) -> uuid::Uuid {
        self.n += 1;
        uuid::Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + self.n)
    }

    pub fn app_id(&self) -> uuid::Uuid {
        self.app
    }

    /// Adds a message; the asker is an end user `user` (created once), or a console account
    /// when `user` contains `@`.
    pub fn msg(&mut self, m: Msg) -> uuid::Uuid {
        use itstat::demo::generator::{Account, Conversation, EndUser, Message};
        let t = shanghai_to_utc(m.at);
        let (end_user, account) = if m.user.contains('@') {
            let found = self.data.accounts.iter().find(|a| a.email == m.user).map(|a| a.id);
            let id = match found {
                Some(id) => id,
                None => {
                    let id = self.next_id();
                    self.data.accounts.push(Account { id, name: m.user.into(), email: m.user.into() });
                    id
                }
            };
            (None, Some(id))
        } else {
            let found = self.data.end_users.iter().find(|u| u.session_id == m.user).map(|u| u.id);
            let id = match found {
                Some(id) => id,
                None => {
                    let id = self.next_id();
                    self.data.end_users.push(EndUser {
                        id,
                        tenant_id: self.tenant,
                        app_id: Some(self.app),
                        kind: "service-api".into(),
                        external_user_id: Some(m.user.into()),
                        session_id: m.user.into(),
                        is_anonymous: false,
                    });
                    id
                }
            };
            (Some(id), None)
        };
        let conv = self.next_id();
        let source = if account.is_some() { "console" } else { "api" };
        self.data.conversations.push(Conversation {
            id: conv,
            app_id: self.app,
            mode: "chat".into(),
            name: "New conversation".into(),
            from_source: source.into(),
            from_end_user_id: end_user,
            from_account_id: account,
            created_at: t,
            is_deleted: false,
            invoke_from: m.invoke_from.map(str::to_string),
        });
        let id = self.next_id();
        let answered = m.status == "normal" && !m.answer.trim().is_empty();
        self.data.messages.push(Message {
            id,
            app_id: self.app,
            conversation_id: conv,
            inputs: "{}".into(),
            query: m.query.into(),
            answer: m.answer.into(),
            message_tokens: if answered { 100 } else { 0 },
            answer_tokens: if answered { 20 } else { 0 },
            latency_s: if answered { 2.0 } else { 0.0 },
            total_price: 0.0,
            currency: "USD".into(),
            from_source: source.into(),
            from_end_user_id: end_user,
            from_account_id: account,
            created_at: t,
            updated_at: t,
            status: m.status.into(),
            error: (m.status == "error").then(|| "Run failed".to_string()),
            invoke_from: m.invoke_from.map(str::to_string),
            parent_message_id: None,
            app_mode: Some("chat".into()),
        });
        id
    }
}

impl TestWarehouse {
    /// Runs SQL on the warehouse: to leave it as an older itstat would have.
    pub async fn exec(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            }
        }
    }
}

/// Whether this process runs as root (which ignores file modes: a run then drops to `nobody`
/// to meet a read-only file the way an operator would).
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs the binary as an unprivileged user when the tests run as root. The binary is copied
/// into the (world-readable) work dir first: the build folder may sit in a private checkout
/// (CI clones into a 0700 temp dir) that `nobody` cannot enter.
pub fn run_unprivileged(env: &Env, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    if !running_as_root() {
        return env.command(args).output().unwrap();
    }
    let copy = env.path().join("itstat-unprivileged");
    if !copy.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_itstat"), &copy).unwrap();
        chmod(&copy, 0o755);
    }
    let mut cmd = env.command_of(&copy, args);
    cmd.uid(65534).gid(65534);
    cmd.output().unwrap()
}

/// Runs `args` while the warehouse folder `data` of `env` and its files may only be read (the
/// work dir and config stay readable to an unprivileged user); the folder is writable again
/// after.
pub fn run_with_read_only_data(env: &Env, args: &[&str]) -> Output {
    chmod(&env.path(), 0o755);
    chmod(&env.path().join("itstat.toml"), 0o644);
    let data = env.path().join("data");
    for f in std::fs::read_dir(&data).unwrap() {
        chmod(&f.unwrap().path(), 0o444);
    }
    chmod(&data, 0o555);
    let out = run_unprivileged(env, args);
    chmod(&data, 0o755);
    out
}
