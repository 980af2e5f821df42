//! Settings: the config file and the environment, merged once.
//!
//! Precedence is flag > environment variable > config file > built-in default
//! (README, "Configuration"); the one command whose flags override settings
//! (`report --out/--lang`) puts them on top in `crate::cmd::run_with`. The file is parsed with
//! `deny_unknown_fields`, so a typo is an error naming the file, the line and the keys that
//! exist. Everything is validated and parsed here (durations, time zone, regexes, identity
//! source, language, TLS mode, mail addresses), so commands receive typed values and never
//! re-check them. Relative paths in a config file (a `sqlite://` warehouse, `[report] out_dir`,
//! and their defaults) are resolved against the file's folder, so `--config
//! some/dir/itstat.toml` works from any directory; the environment's and the flags' stay
//! relative to the working directory, as the user typed them. This module does no database or
//! network I/O.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;

use crate::bail_user;
use crate::calendar::Lang;
use crate::error::user_error;
use crate::schedule::ScheduleJob;
use crate::transform::alerts::Thresholds;
use crate::transform::alerts::calendar::{Calendar, DEFAULT_WORKING_HOURS, DayWindow, parse_weekday};
use crate::transform::rules::{AppSelection, RulesInForce, normalise_pattern};

/// The default config file, read when it exists and no other is named.
pub const DEFAULT_CONFIG_FILE: &str = "itstat.toml";

pub use crate::transform::rules::{Identity, SessionMode};

/// The warehouse when neither `ITSTAT_WAREHOUSE_URL` nor `[warehouse] url` names one: in the
/// working directory, or beside the config file when there is one.
const DEFAULT_WAREHOUSE_URL: &str = "sqlite://itstat.db";

/// The report folder when `[report] out_dir` is not set (resolved like the warehouse).
const DEFAULT_OUT_DIR: &str = "reports";

/// How the connection to the SMTP server is secured (`[mail] tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `starttls`: a plain connection that must be upgraded with STARTTLS (port 587).
    StartTls,
    /// `tls`: TLS from the first byte (port 465).
    Tls,
    /// `none`: no encryption, for a relay on localhost.
    None,
}

/// Settings for reading Dify.
#[derive(Debug, Clone)]
pub struct DifySettings {
    /// The Dify PostgreSQL URL, when one is configured.
    pub url: Option<String>,
    /// App ids or names; empty means every app.
    pub apps: Vec<String>,
    /// How far behind the cursor each run re-reads.
    pub lookback: Duration,
    /// How long a blank answer keeps being re-read.
    pub pending_max_age: Duration,
    /// How long Dify may stay silent (connecting, or between two rows) before a run gives up.
    pub timeout: Duration,
}

/// Report settings.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Folder for written reports.
    pub out_dir: PathBuf,
    /// Label language.
    pub lang: Lang,
}

/// Mail settings (used by `report --mail` and `schedule`). The addresses are parsed when the
/// config loads, so a typo stops every command at once, not the first report at night.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server.
    pub host: Option<String>,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: TlsMode,
    /// Login, when the server wants one.
    pub username: Option<String>,
    /// The password of the login (`ITSTAT_SMTP_PASSWORD` or `[mail] password`).
    pub password: Option<String>,
    /// The sender of reports and failure mail.
    pub from: Option<Mailbox>,
    /// The recipients of reports when `--to` gives none.
    pub to: Vec<Mailbox>,
    /// Who gets failure mail from `itstat schedule`.
    pub owner: Option<Mailbox>,
    /// How long one delivery attempt may take.
    pub timeout: Duration,
}

/// Where `itstat check --notify` sends an alert (`[alerts] notify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Mail to `[mail] owner`.
    Mail,
    /// The WeCom group robot of `[wecom] webhook`.
    Wecom,
}

impl Channel {
    /// The name in `[alerts] notify` and in the delivery log.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Wecom => "wecom",
        }
    }
}

/// The alerts of `itstat check` (`[alerts]`, docs/alerts.md): the thresholds of the rules
/// (`transform::alerts`) and where and how often they are sent.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// The thresholds; a rate threshold left unset turns its alert off.
    pub thresholds: Thresholds,
    /// Where `--notify` sends; `None` = every channel configured.
    pub notify: Option<Vec<Channel>>,
    /// An alert that keeps firing is not sent again sooner than this.
    pub repeat: Duration,
    /// Whether an episode that ends is told (`已恢复`) where it was sent.
    pub send_resolved: bool,
    /// `for`: how long a KPI condition must hold, across checks, before it fires.
    pub wait_for: Duration,
    /// Quiet hours, quiet days, holidays and working hours, in `timezone`.
    pub calendar: Calendar,
}

/// The WeCom group robot (`[wecom]`).
#[derive(Debug, Clone)]
pub struct WecomSettings {
    /// The robot's webhook URL with its key (`ITSTAT_WECOM_WEBHOOK` or `[wecom] webhook`): a
    /// secret, never printed.
    pub webhook: Option<String>,
    /// How long one post may take.
    pub timeout: Duration,
}

/// The services that group unanswered questions by meaning (`[gaps]`, docs/gaps.md). Both
/// speak the OpenAI API; without `embeddings_url` questions are grouped by wording only.
#[derive(Debug, Clone)]
pub struct GapsSettings {
    /// Base URL of an OpenAI-compatible embeddings service (`POST {base}/embeddings`).
    pub embeddings_url: Option<String>,
    pub embeddings_model: String,
    /// Base URL of an OpenAI-compatible chat service that names each group.
    pub chat_url: Option<String>,
    pub chat_model: Option<String>,
    /// The bearer key of both (`ITSTAT_GAPS_API_KEY`): a secret, never printed.
    pub api_key: Option<String>,
    /// How long one request may take.
    pub timeout: Duration,
}

/// The merged, validated settings every command receives.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file read, if any.
    pub config_path: Option<PathBuf>,
    /// Dify source settings.
    pub dify: DifySettings,
    /// Warehouse URL (`sqlite://…` or `postgres://…`).
    pub warehouse_url: String,
    /// The rules in force, built once (docs/metrics.md §8). App names in `[dify] apps` are
    /// resolved to ids by the pipeline, which can look them up.
    pub rules: RulesInForce,
    /// Report settings.
    pub report: ReportSettings,
    /// Mail settings.
    pub mail: MailSettings,
    /// Alert rules.
    pub alerts: AlertSettings,
    /// The WeCom group robot.
    pub wecom: WecomSettings,
    /// Grouping unanswered questions by meaning.
    pub gaps: GapsSettings,
    /// Scheduled jobs.
    pub schedule: Vec<ScheduleJob>,
}

// ---- the file, as written ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    timezone: Option<String>,
    dify: DifyFile,
    warehouse: WarehouseFile,
    identity: IdentityFile,
    session: SessionFile,
    rules: RulesFile,
    report: ReportFile,
    mail: MailFile,
    alerts: AlertsFile,
    wecom: WecomFile,
    gaps: GapsFile,
    schedule: Vec<ScheduleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DifyFile {
    url: Option<String>,
    apps: Vec<String>,
    exclude_invoke_from: Vec<String>,
    exclude_users: Vec<String>,
    lookback: String,
    pending_max_age: String,
    timeout: String,
}

impl Default for DifyFile {
    fn default() -> Self {
        Self {
            url: None,
            apps: Vec::new(),
            exclude_invoke_from: vec!["debugger".into()],
            exclude_users: Vec::new(),
            lookback: "2h".into(),
            pending_max_age: "24h".into(),
            timeout: "10m".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WarehouseFile {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct IdentityFile {
    source: Option<String>,
    input: Option<String>,
    pattern: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SessionFile {
    window: String,
    mode: String,
}

impl Default for SessionFile {
    fn default() -> Self {
        Self { window: "15m".into(), mode: "anchored".into() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RulesFile {
    kb_miss: Vec<String>,
    kb_miss_regex: Vec<String>,
    transfer: Vec<String>,
    transfer_regex: Vec<String>,
}

impl Default for RulesFile {
    fn default() -> Self {
        Self {
            kb_miss: vec!["抱歉，您的问题可能不在服务业务范围内".into()],
            kb_miss_regex: Vec::new(),
            transfer: vec!["IT".into()],
            transfer_regex: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ReportFile {
    out_dir: Option<PathBuf>,
    lang: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct MailFile {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<String>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    owner: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AlertsFile {
    stale_after: Option<String>,
    max_user_share: Option<f64>,
    min_messages: Option<i64>,
    min_kb_hit_rate: Option<f64>,
    max_transfer_rate: Option<f64>,
    max_error_rate: Option<f64>,
    notify: Option<Vec<String>>,
    repeat: Option<String>,
    send_resolved: Option<bool>,
    quiet_hours: Option<Vec<String>>,
    quiet_days: Option<Vec<String>>,
    holidays: Option<Vec<String>>,
    r#for: Option<String>,
    max_silence: Option<String>,
    working_hours: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GapsFile {
    embeddings_url: Option<String>,
    embeddings_model: Option<String>,
    chat_url: Option<String>,
    chat_model: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WecomFile {
    webhook: Option<String>,
    timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    name: String,
    cron: String,
    run: Vec<String>,
}

// ---- loading -------------------------------------------------------------------------------

/// Reads an environment variable, treating an empty value as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Settings {
    /// Loads the config file (`--config`/`$ITSTAT_CONFIG` already resolved by clap into `path`,
    /// else `./itstat.toml` when it exists), applies the environment, validates. A command's
    /// own flags go on top in `crate::cmd::run_with`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Settings> {
        let (file, config_path) = match path {
            Some(p) => (read_checked(p)?, Some(p.to_path_buf())),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                (read_checked(&p)?, Some(p))
            }
            None => (FileConfig::default(), None),
        };
        let place =
            config_path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "defaults".to_string());
        build(file, config_path, &place)
    }

    /// Settings from a TOML string, for tests. Its relative paths stay relative to the working
    /// directory: there is no file for them to be beside.
    pub fn from_toml(text: &str) -> anyhow::Result<Settings> {
        let file = parse_toml(text, "config")?;
        build(file, None, "config")
    }

    /// Every secret configured (the gaps services' key, the SMTP password, the WeCom webhook
    /// and its key, the databases' passwords), for masking text another service wrote, which
    /// may echo one back (`error::mask_configured`).
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = [&self.gaps.api_key, &self.mail.password, &self.wecom.webhook]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let urls =
            [self.wecom.webhook.as_deref(), self.dify.url.as_deref(), Some(self.warehouse_url.as_str())];
        for url in urls.into_iter().flatten().filter_map(|u| url::Url::parse(u).ok()) {
            let password = url
                .password()
                .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
            let in_query = url
                .query_pairs()
                .filter(|(k, _)| k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("key"))
                .map(|(_, v)| v.into_owned());
            out.extend(password.into_iter().chain(in_query));
        }
        out.retain(|s| !s.is_empty());
        out
    }

    /// The Dify URL, or an error that says where to set it.
    pub fn dify_url(&self) -> anyhow::Result<&str> {
        self.dify.url.as_deref().ok_or_else(|| {
            user_error("no Dify database configured: set `[dify] url` in itstat.toml or ITSTAT_DIFY_URL")
        })
    }
}

/// Reads the file and warns when it holds a password that others may read.
fn read_checked(path: &Path) -> anyhow::Result<FileConfig> {
    let file = read_file(path)?;
    if let Some(warning) = exposed_secrets_warning(path, &file) {
        tracing::warn!(file = %path.display(), "{warning}");
    }
    Ok(file)
}

/// The keys of the file that hold a password: a database URL with one, or `[mail] password`.
fn secret_keys(file: &FileConfig) -> Vec<&'static str> {
    let has_password = |url: &Option<String>| {
        url.as_deref().and_then(|u| url::Url::parse(u).ok()).is_some_and(|u| {
            u.password().is_some_and(|p| !p.is_empty())
                || u.query_pairs().any(|(k, v)| k.eq_ignore_ascii_case("password") && !v.is_empty())
        })
    };
    let mut keys = Vec::new();
    if has_password(&file.dify.url) {
        keys.push("[dify] url");
    }
    if has_password(&file.warehouse.url) {
        keys.push("[warehouse] url");
    }
    if file.mail.password.as_deref().is_some_and(|p| !p.is_empty()) {
        keys.push("[mail] password");
    }
    if file.wecom.webhook.as_deref().is_some_and(|w| !w.is_empty()) {
        keys.push("[wecom] webhook");
    }
    keys
}

/// On Unix, a warning when the file holds a password and its mode lets the group or others
/// read it. It names the keys and the fix, never the secret.
#[cfg(unix)]
fn exposed_secrets_warning(path: &Path, file: &FileConfig) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let keys = secret_keys(file);
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    if keys.is_empty() || mode & 0o044 == 0 {
        return None;
    }
    let shown = path.display();
    Some(format!(
        "{shown} holds a password ({}) but other users can read it (mode {mode:03o}); run `chmod 600 {shown}`, or move the secret to ITSTAT_DIFY_URL, ITSTAT_WAREHOUSE_URL, ITSTAT_SMTP_PASSWORD or ITSTAT_WECOM_WEBHOOK",
        keys.join(", ")
    ))
}

#[cfg(not(unix))]
fn exposed_secrets_warning(_path: &Path, _file: &FileConfig) -> Option<String> {
    None
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        user_error(format!(
            "{}: cannot read the config file: {e} (check `--config` or ITSTAT_CONFIG)",
            path.display()
        ))
    })?;
    parse_toml(&text, &path.display().to_string())
}

fn parse_toml(text: &str, place: &str) -> anyhow::Result<FileConfig> {
    toml::from_str(text).map_err(|e| {
        let start = e.span().map(|s| s.start.min(text.len()));
        let line = start.map(|s| text[..s].matches('\n').count() + 1);
        let at = line.map(|l| format!(":{l}")).unwrap_or_default();
        let message = e.message().replace('\n', " ");
        // A value of the wrong type: say whose (toml names only the line).
        let key = start.and_then(|s| key_at(text, s)).map(|k| format!("`{k}`: ")).unwrap_or_default();
        user_error(format!("{place}{at}: {key}{message}"))
    })
}

/// The dotted key (`alerts.min_kb_hit_rate`) whose value starts at byte `offset` of a TOML
/// text: the `key =` before it on its line, under the nearest `[table]` header above. `None`
/// when the offset is not in a value on a `key = value` line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = text[line_start..offset].split_once('=')?;
    let key = key.trim().trim_matches('"');
    let bare = |k: &str| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c));
    if !bare(key) {
        return None;
    }
    let header = text[..line_start]
        .lines()
        .rev()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| l.starts_with('[') && l.ends_with(']') && !l.contains('=') && !l.contains('"'));
    let table = header.map(|h| h.trim_matches(|c| c == '[' || c == ']').trim()).filter(|t| bare(t));
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

fn build(file: FileConfig, config_path: Option<PathBuf>, place: &str) -> anyhow::Result<Settings> {
    // The folder the file's relative paths are relative to (`""` for `./itstat.toml`).
    let base = config_path.as_deref().and_then(Path::parent);
    let timezone = file.timezone.unwrap_or_else(|| "Asia/Shanghai".into());
    let tz = parse_tz(&timezone).map_err(|m| user_error(format!("{place}: `timezone`: {m}")))?;
    let lookback = parse_duration(&file.dify.lookback, place, "dify.lookback")?;
    let pending_max_age = parse_duration(&file.dify.pending_max_age, place, "dify.pending_max_age")?;
    let dify_timeout = parse_positive_duration(&file.dify.timeout, place, "dify.timeout", "10m")?;
    let (session_window, session_mode) = build_session(&file.session, place)?;
    let identity = build_identity(&file.identity, place)?;
    check_rules(&file.rules, place)?;

    let warehouse_url = build_warehouse_url(file.warehouse.url, base, place)?;
    let dify_url = env_var("ITSTAT_DIFY_URL").or(file.dify.url);
    if let Some(url) = &dify_url {
        check_dify_url(url, place)?;
    }

    let lang = build_lang(file.report.lang.as_deref(), place)?;
    let out_dir = file.report.out_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_OUT_DIR));
    let out_dir = match base {
        Some(dir) => path_beside(&out_dir, dir),
        None => out_dir,
    };
    let mail = build_mail(file.mail, place)?;
    let alerts = build_alerts(file.alerts, place, tz)?;
    let wecom = build_wecom(file.wecom, place)?;
    let gaps = build_gaps(file.gaps, place)?;
    let schedule = build_schedule(file.schedule, place)?;

    let dify_apps = file.dify.apps.clone();
    Ok(Settings {
        config_path,
        dify: DifySettings {
            url: dify_url,
            apps: file.dify.apps,
            lookback,
            pending_max_age,
            timeout: dify_timeout,
        },
        warehouse_url,
        rules: RulesInForce {
            timezone,
            tz,
            apps: AppSelection::configured(&dify_apps),
            exclude_invoke_from: file.dify.exclude_invoke_from,
            exclude_users: file.dify.exclude_users,
            identity,
            session_window,
            session_mode,
            kb_miss: file.rules.kb_miss,
            kb_miss_regex: file.rules.kb_miss_regex,
            transfer: file.rules.transfer,
            transfer_regex: file.rules.transfer_regex,
        }
        .normalised(),
        report: ReportSettings { out_dir, lang },
        mail,
        alerts,
        wecom,
        gaps,
        schedule,
    })
}

/// The `[session]` window and mode.
fn build_session(file: &SessionFile, place: &str) -> anyhow::Result<(Duration, SessionMode)> {
    let window = parse_positive_duration(&file.window, place, "session.window", "15m")?;
    let mode = match file.mode.as_str() {
        "anchored" => SessionMode::Anchored,
        "idle" => SessionMode::Idle,
        other => bail_user!("{place}: `session.mode` is \"{other}\"; use \"anchored\" or \"idle\""),
    };
    Ok((window, mode))
}

/// Checks the `[rules]` phrases and patterns, so a bad one is named before any run.
fn check_rules(rules: &RulesFile, place: &str) -> anyhow::Result<()> {
    check_phrases(&rules.kb_miss, place, "rules.kb_miss")?;
    check_phrases(&rules.transfer, place, "rules.transfer")?;
    check_regexes(&rules.kb_miss_regex, place, "rules.kb_miss_regex")?;
    check_regexes(&rules.transfer_regex, place, "rules.transfer_regex")
}

/// The warehouse URL: `ITSTAT_WAREHOUSE_URL`, else `[warehouse] url` or the default, a SQLite
/// file's path taken beside the config file (`base`); checked.
fn build_warehouse_url(
    configured: Option<String>,
    base: Option<&Path>,
    place: &str,
) -> anyhow::Result<String> {
    let url = match env_var("ITSTAT_WAREHOUSE_URL") {
        Some(url) => url,
        None => {
            let url = configured.unwrap_or_else(|| DEFAULT_WAREHOUSE_URL.into());
            match base {
                Some(dir) => sqlite_url_beside(&url, dir),
                None => url,
            }
        }
    };
    check_warehouse_url(&url, place)?;
    Ok(url)
}

/// The `[report] lang`, Chinese unless set.
fn build_lang(lang: Option<&str>, place: &str) -> anyhow::Result<Lang> {
    Ok(match lang.unwrap_or("zh") {
        "zh" => Lang::Zh,
        "en" => Lang::En,
        other => bail_user!("{place}: `report.lang` is \"{other}\"; use \"zh\" or \"en\""),
    })
}

fn build_identity(file: &IdentityFile, place: &str) -> anyhow::Result<Identity> {
    match file.source.as_deref().unwrap_or("end_user") {
        "end_user" => Ok(Identity::EndUser),
        "input" => match &file.input {
            Some(key) if !key.is_empty() => Ok(Identity::Input { key: key.clone() }),
            _ => bail_user!(
                "{place}: `identity.source = \"input\"` needs `identity.input`, the inputs key that holds the user"
            ),
        },
        "query_regex" => {
            let Some(pattern) = &file.pattern else {
                bail_user!(
                    "{place}: `identity.source = \"query_regex\"` needs `identity.pattern`, a regex with one capture group"
                );
            };
            let re = compile_regex(pattern, place, "identity.pattern")?;
            if re.captures_len() < 2 {
                bail_user!(
                    "{place}: `identity.pattern` has no capture group; put the user in parentheses, e.g. '^\\[([^\\]]+)\\]'"
                );
            }
            Ok(Identity::QueryRegex { pattern: pattern.clone() })
        }
        other => bail_user!(
            "{place}: `identity.source` is \"{other}\"; use \"end_user\", \"input\" or \"query_regex\""
        ),
    }
}

fn build_schedule(jobs: Vec<ScheduleFile>, place: &str) -> anyhow::Result<Vec<ScheduleJob>> {
    let mut names: Vec<&str> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let key = format!("schedule[{i}]");
        if job.name.trim().is_empty() {
            bail_user!("{place}: `{key}.name` is empty; give every job a name");
        }
        if names.contains(&job.name.as_str()) {
            bail_user!("{place}: two `[[schedule]]` jobs are named \"{}\"; names must differ", job.name);
        }
        names.push(&job.name);
        if let Err(why) = crate::schedule::parse_cron(&job.cron) {
            bail_user!(
                "{place}: `{key}.cron` (\"{}\") is not a cron line ({why}); use six fields with seconds, e.g. \"0 */10 * * * *\"",
                job.cron
            );
        }
        if let Err(why) = crate::schedule::parse_run(&job.run) {
            bail_user!("{place}: `{key}.run` {why}");
        }
    }
    Ok(jobs.into_iter().map(|s| ScheduleJob { name: s.name, cron: s.cron, run: s.run }).collect())
}

fn build_mail(file: MailFile, place: &str) -> anyhow::Result<MailSettings> {
    let tls = match file.tls.as_deref().unwrap_or("starttls") {
        "starttls" => TlsMode::StartTls,
        "tls" => TlsMode::Tls,
        "none" => TlsMode::None,
        other => bail_user!("{place}: `mail.tls` is \"{other}\"; use \"starttls\", \"tls\" or \"none\""),
    };
    // Parsed here, not when the first report is mailed (or, for the owner, when the first job
    // fails, at night): a typo is an error at once.
    let from = file.from.as_deref().map(|a| parse_mailbox(a, place, "mail.from")).transpose()?;
    let owner = file.owner.as_deref().map(|a| parse_mailbox(a, place, "mail.owner")).transpose()?;
    let to = file.to.iter().enumerate().map(|(i, a)| parse_mailbox(a, place, &format!("mail.to[{i}]")));
    let to = to.collect::<anyhow::Result<Vec<Mailbox>>>()?;
    Ok(MailSettings {
        host: file.host,
        port: file.port.unwrap_or(587),
        tls,
        username: file.username,
        password: env_var("ITSTAT_SMTP_PASSWORD").or(file.password),
        from,
        to,
        owner,
        timeout: parse_positive_duration(
            file.timeout.as_deref().unwrap_or("60s"),
            place,
            "mail.timeout",
            "60s",
        )?,
    })
}

fn build_alerts(file: AlertsFile, place: &str, tz: chrono_tz::Tz) -> anyhow::Result<AlertSettings> {
    let fraction = |value: Option<f64>, key: &str| -> anyhow::Result<Option<f64>> {
        match value {
            Some(v) if !(0.0..=1.0).contains(&v) => {
                bail_user!("{place}: `alerts.{key}` is {v}; write a fraction from 0 to 1 (0.6 for 60 %)")
            }
            v => Ok(v),
        }
    };
    let max_user_share = fraction(file.max_user_share, "max_user_share")?.unwrap_or(0.5);
    let min_messages = file.min_messages.unwrap_or(50);
    if min_messages < 0 {
        bail_user!("{place}: `alerts.min_messages` is {min_messages}; write a count of 0 or more");
    }
    let notify = match &file.notify {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .enumerate()
                .map(|(i, name)| match name.as_str() {
                    "mail" => Ok(Channel::Mail),
                    "wecom" => Ok(Channel::Wecom),
                    other => {
                        bail_user!("{place}: `alerts.notify[{i}]` is \"{other}\"; use \"mail\" or \"wecom\"")
                    }
                })
                .collect::<anyhow::Result<Vec<Channel>>>()?,
        ),
    };
    let stale_after = file.stale_after.as_deref().unwrap_or("2h");
    let repeat = file.repeat.as_deref().unwrap_or("24h");
    let max_silence = file
        .max_silence
        .as_deref()
        .map(|m| parse_positive_duration(m, place, "alerts.max_silence", "2h"))
        .transpose()?;
    Ok(AlertSettings {
        thresholds: Thresholds {
            stale_after: parse_positive_duration(stale_after, place, "alerts.stale_after", "2h")?,
            max_user_share,
            min_messages,
            min_kb_hit_rate: fraction(file.min_kb_hit_rate, "min_kb_hit_rate")?,
            max_transfer_rate: fraction(file.max_transfer_rate, "max_transfer_rate")?,
            max_error_rate: fraction(file.max_error_rate, "max_error_rate")?,
            max_silence,
        },
        notify,
        // 0 would post every alert again at every check: the habit that gets a robot muted.
        repeat: parse_positive_duration(repeat, place, "alerts.repeat", "24h")?,
        send_resolved: file.send_resolved.unwrap_or(true),
        wait_for: parse_duration(file.r#for.as_deref().unwrap_or("0s"), place, "alerts.for")?,
        calendar: build_calendar(&file, place, tz)?,
    })
}

/// Quiet hours, quiet days, holidays and working hours of `[alerts]`.
fn build_calendar(file: &AlertsFile, place: &str, tz: chrono_tz::Tz) -> anyhow::Result<Calendar> {
    let window = |text: &str, key: &str| {
        DayWindow::parse(text).map_err(|why| user_error(format!("{place}: `alerts.{key}`: {why}")))
    };
    let quiet_hours = file.quiet_hours.iter().flatten().enumerate();
    let quiet_hours = quiet_hours.map(|(i, w)| window(w, &format!("quiet_hours[{i}]")));
    let quiet_days = file.quiet_days.iter().flatten().enumerate().map(|(i, d)| {
        parse_weekday(d).ok_or_else(|| {
            user_error(format!(
                "{place}: `alerts.quiet_days[{i}]` is \"{d}\", not a weekday (write \"Mon\" … \"Sun\", e.g. [\"Sat\", \"Sun\"])"
            ))
        })
    });
    let mut holidays = Vec::new();
    for (i, text) in file.holidays.iter().flatten().enumerate() {
        holidays.extend(parse_holiday(text).ok_or_else(|| {
            user_error(format!(
                "{place}: `alerts.holidays[{i}]` is \"{text}\", not a date (write YYYY-MM-DD, or FIRST..LAST for a run of days, e.g. \"2026-10-01..2026-10-07\")"
            ))
        })?);
    }
    let working_hours = match &file.working_hours {
        Some(text) => window(text, "working_hours")?,
        None => DEFAULT_WORKING_HOURS,
    };
    Ok(Calendar {
        tz,
        quiet_hours: quiet_hours.collect::<anyhow::Result<_>>()?,
        quiet_days: quiet_days.collect::<anyhow::Result<_>>()?,
        holidays,
        working_hours,
    })
}

/// `YYYY-MM-DD`, or `FIRST..LAST` (both included, at most a year): the dates it names.
fn parse_holiday(text: &str) -> Option<Vec<chrono::NaiveDate>> {
    let date = |s: &str| {
        let s = s.trim();
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().filter(|_| s.len() == 10)
    };
    let (first, last) = match text.split_once("..") {
        Some((a, b)) => (date(a)?, date(b)?),
        None => (date(text)?, date(text)?),
    };
    let days = (last - first).num_days();
    (0..=366).contains(&days).then(|| first.iter_days().take(days as usize + 1).collect())
}

fn build_wecom(file: WecomFile, place: &str) -> anyhow::Result<WecomSettings> {
    let webhook = env_var("ITSTAT_WECOM_WEBHOOK").or(file.webhook).filter(|w| !w.is_empty());
    if let Some(url) = &webhook
        && !matches!(url::Url::parse(url).map(|u| u.scheme().to_string()).as_deref(), Ok("https" | "http"))
    {
        // The URL is a secret: the message names the key, not the value.
        bail_user!(
            "{place}: `wecom.webhook` (or ITSTAT_WECOM_WEBHOOK) is not an http(s) URL; copy the robot's webhook address from the WeCom group settings"
        );
    }
    let timeout = file.timeout.as_deref().unwrap_or("10s");
    Ok(WecomSettings { webhook, timeout: parse_positive_duration(timeout, place, "wecom.timeout", "10s")? })
}

fn build_gaps(file: GapsFile, place: &str) -> anyhow::Result<GapsSettings> {
    let check = |url: &Option<String>, key: &str| -> anyhow::Result<()> {
        if let Some(u) = url
            && !matches!(url::Url::parse(u).map(|u| u.scheme().to_string()).as_deref(), Ok("https" | "http"))
        {
            bail_user!("{place}: `gaps.{key}` is \"{u}\", not an http(s) URL (e.g. \"http://rag-host/v1\")");
        }
        Ok(())
    };
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let (embeddings_url, chat_url) = (nonempty(file.embeddings_url), nonempty(file.chat_url));
    check(&embeddings_url, "embeddings_url")?;
    check(&chat_url, "chat_url")?;
    let chat_model = nonempty(file.chat_model);
    if chat_url.is_some() && chat_model.is_none() {
        bail_user!(
            "{place}: `gaps.chat_url` is set but `gaps.chat_model` is not; name the chat model (e.g. \"Qwen3-30B-A3B-Instruct\")"
        );
    }
    let timeout = file.timeout.as_deref().unwrap_or("30s");
    Ok(GapsSettings {
        embeddings_url,
        embeddings_model: nonempty(file.embeddings_model).unwrap_or_else(|| "bge-m3".to_string()),
        chat_url,
        chat_model,
        api_key: env_var("ITSTAT_GAPS_API_KEY"),
        timeout: parse_positive_duration(timeout, place, "gaps.timeout", "30s")?,
    })
}

fn parse_mailbox(address: &str, place: &str, key: &str) -> anyhow::Result<Mailbox> {
    address.parse::<Mailbox>().map_err(|e| {
        user_error(format!(
            "{place}: `{key}` (\"{address}\") is not an email address ({e}); write it as name@example.com or \"Name <name@example.com>\""
        ))
    })
}

/// `path` as seen from the working directory, when it was written relative to `dir`.
fn path_beside(path: &Path, dir: &Path) -> PathBuf {
    // `.` components are dropped, so `out_dir = "."` in `itstat-demo/itstat.toml` prints as
    // `itstat-demo/…`, not `itstat-demo/./…`.
    dir.join(path).components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// A `sqlite://` URL whose relative file path was written relative to `dir`, as seen from the
/// working directory; other URLs (PostgreSQL, an absolute or in-memory SQLite) as they are.
fn sqlite_url_beside(url: &str, dir: &Path) -> String {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return url.to_string();
    };
    let (file, query) = rest.split_once('?').map_or((rest, None), |(f, q)| (f, Some(q)));
    if file.is_empty() || file == ":memory:" || Path::new(file).is_absolute() || dir.as_os_str().is_empty() {
        return url.to_string();
    }
    // sqlx percent-decodes the path, so the folder's own `%`, `?` and `#` are encoded.
    let dir = dir.to_string_lossy().replace('%', "%25").replace('?', "%3F").replace('#', "%23");
    let joined = path_beside(Path::new(file), Path::new(&dir));
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("sqlite://{}{query}", joined.display())
}

/// Parses an IANA time zone name.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("unknown time zone \"{name}\" (use an IANA name such as \"Asia/Shanghai\" or \"UTC\")")
    })
}

/// Parses a duration such as `90s`, `15m`, `2h` or `1d`.
pub fn parse_duration(text: &str, place: &str, key: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(text.trim()).map_err(|_| {
        user_error(format!(
            "{place}: `{key}` is \"{text}\", not a duration (use a number with s, m, h or d, e.g. \"15m\")"
        ))
    })
}

/// [`parse_duration`] for a wait or a window, which must be longer than 0.
fn parse_positive_duration(text: &str, place: &str, key: &str, example: &str) -> anyhow::Result<Duration> {
    let duration = parse_duration(text, place, key)?;
    if duration.is_zero() {
        bail_user!("{place}: `{key}` must be longer than 0 (for example \"{example}\")");
    }
    Ok(duration)
}

fn check_phrases(phrases: &[String], place: &str, key: &str) -> anyhow::Result<()> {
    if let Some(i) = phrases.iter().position(|p| p.trim().is_empty()) {
        bail_user!("{place}: `{key}[{i}]` is empty, which would match every answer; remove it");
    }
    Ok(())
}

/// Each pattern must compile as written and in the NFKC form it is applied in
/// (docs/metrics.md §2).
fn check_regexes(patterns: &[String], place: &str, key: &str) -> anyhow::Result<()> {
    for (i, pattern) in patterns.iter().enumerate() {
        compile_regex(pattern, place, &format!("{key}[{i}]"))?;
        compile_regex(&normalise_pattern(pattern), place, &format!("{key}[{i}] (NFKC-normalised)"))?;
    }
    Ok(())
}

fn compile_regex(pattern: &str, place: &str, key: &str) -> anyhow::Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|e| {
        let why = e.to_string().lines().last().unwrap_or("invalid").trim().to_string();
        user_error(format!(
            "{place}: `{key}` is not a valid regex ({why}); fix the pattern (Rust regex syntax)"
        ))
    })
}

fn check_warehouse_url(url: &str, place: &str) -> anyhow::Result<()> {
    if url.starts_with("sqlite:") || crate::db::is_postgres_url(url) {
        return Ok(());
    }
    Err(user_error(format!(
        "{place}: warehouse URL \"{}\" is neither sqlite://FILE nor postgres://…; fix `[warehouse] url` or ITSTAT_WAREHOUSE_URL",
        crate::error::redact_url(url)
    )))
}

/// A Dify URL that cannot be parsed is refused here, before any command starts a run.
fn check_dify_url(url: &str, place: &str) -> anyhow::Result<()> {
    crate::db::postgres_options(url).map(|_| ()).map_err(|e| {
        user_error(format!(
            "{place}: the Dify URL \"{}\" is not a valid postgres:// URL ({e}); fix `[dify] url` or ITSTAT_DIFY_URL",
            crate::error::redact_url(url)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<Settings> {
        Settings::from_toml(text)
    }

    #[test]
    fn the_example_config_is_valid_and_says_the_defaults() {
        let example = load(include_str!("../itstat.example.toml")).unwrap();
        let defaults = load("").unwrap();
        assert_eq!(example.rules, defaults.rules);
        assert_eq!(example.warehouse_url, defaults.warehouse_url);
        assert_eq!(example.mail.port, 587);
        assert_eq!(example.dify.timeout, defaults.dify.timeout);
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = load("").unwrap();
        assert_eq!(s.rules.timezone, "Asia/Shanghai");
        assert_eq!(s.rules.session_window, Duration::from_secs(900));
        assert_eq!(s.rules.session_mode, SessionMode::Anchored);
        assert_eq!(s.rules.kb_miss, vec!["抱歉,您的问题可能不在服务业务范围内"], "NFKC");
        assert_eq!(s.rules.transfer, vec!["IT"]);
        assert_eq!(s.rules.exclude_invoke_from, vec!["debugger"]);
        assert_eq!(s.dify.lookback, Duration::from_secs(7200));
        assert_eq!(s.dify.pending_max_age, Duration::from_secs(86400));
        assert_eq!(s.dify.timeout, Duration::from_secs(600));
        assert_eq!(s.report.lang, Lang::Zh);
        assert_eq!(s.report.out_dir, PathBuf::from("reports"));
        assert_eq!(s.mail.tls, TlsMode::StartTls);
        // Only the two alerts that need no tuning run by default (docs/alerts.md).
        assert_eq!(s.alerts.thresholds, Thresholds::default());
        assert_eq!(s.alerts.thresholds.stale_after, Duration::from_secs(7200));
        assert_eq!((s.alerts.thresholds.max_user_share, s.alerts.thresholds.min_messages), (0.5, 50));
        assert_eq!(s.alerts.repeat, Duration::from_secs(86400));
        assert!(s.alerts.send_resolved && s.alerts.wait_for.is_zero());
        assert_eq!(s.alerts.calendar, Calendar::new(chrono_tz::Asia::Shanghai));
        assert_eq!(s.alerts.calendar.working_hours.to_string(), "08:30-18:00");
        assert!(s.alerts.notify.is_none() && s.wecom.webhook.is_none());
    }

    #[test]
    fn every_configured_secret_is_listed_for_masking() {
        let s = load(
            "[dify]\nurl = \"postgres://ro:p%40ss@db/dify\"\n[mail]\npassword = \"m41l\"\n\
             [wecom]\nwebhook = \"https://qyapi.example/send?key=abc-123\"\n",
        )
        .unwrap();
        let secrets = s.secrets();
        for secret in ["p@ss", "m41l", "abc-123", "https://qyapi.example/send?key=abc-123"] {
            assert!(secrets.iter().any(|s| s == secret), "{secret} in {secrets:?}");
        }
    }

    #[test]
    fn the_alert_habits_are_parsed_in_the_time_zone() {
        let s = load(
            "timezone = \"Europe/Berlin\"\n[alerts]\nquiet_hours = [\"22:00-08:00\", \"12:00-13:00\"]\n\
             quiet_days = [\"Sat\", \"sunday\"]\nholidays = [\"2026-12-24..2026-12-26\", \"2027-01-01\"]\n\
             for = \"30m\"\nmax_silence = \"2h\"\nworking_hours = \"09:00-17:30\"\nsend_resolved = false\n",
        )
        .unwrap();
        let a = &s.alerts;
        assert_eq!(
            (a.wait_for, a.thresholds.max_silence),
            (Duration::from_secs(1800), Some(Duration::from_secs(7200)))
        );
        assert!(!a.send_resolved);
        assert_eq!(a.calendar.tz, chrono_tz::Europe::Berlin);
        let hours: Vec<String> = a.calendar.quiet_hours.iter().map(|w| w.to_string()).collect();
        assert_eq!(hours, ["22:00-08:00", "12:00-13:00"]);
        assert_eq!(a.calendar.quiet_days, [chrono::Weekday::Sat, chrono::Weekday::Sun]);
        let days: Vec<String> = a.calendar.holidays.iter().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"]);
        assert_eq!(a.calendar.working_hours.to_string(), "09:00-17:30");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        assert_eq!(
            key_at("[alerts]\nmin_kb_hit_rate = \"abc\"\n", 27).as_deref(),
            Some("alerts.min_kb_hit_rate")
        );
        assert_eq!(key_at("timezone = 8\n", 11).as_deref(), Some("timezone"));
        assert_eq!(key_at("[[schedule]]\nname = 1\n", 20).as_deref(), Some("schedule.name"));
        assert_eq!(key_at("[alerts]\nwindw = 1\n", 9), None, "an unknown key is told by toml itself");
    }

    #[test]
    fn unknown_key_names_the_line_and_the_known_keys() {
        let err = load("[session]\nwindow = \"15m\"\nwindw = \"1m\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("config:3:"), "{text}");
        assert!(text.contains("windw") && text.contains("window"), "{text}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            ("timezone = \"Asia/Shangai\"", "`timezone`"),
            ("[dify]\nlookback = \"2 parsecs\"", "`dify.lookback`"),
            ("[dify]\ntimeout = \"0s\"", "`dify.timeout` must be longer than 0"),
            ("[mail]\ntimeout = \"0s\"", "`mail.timeout` must be longer than 0"),
            ("[session]\nmode = \"sliding\"", "`session.mode`"),
            ("[alerts]\nmin_kb_hit_rate = 60", "`alerts.min_kb_hit_rate` is 60"),
            ("[alerts]\nnotify = [\"sms\"]", "`alerts.notify[0]`"),
            ("[alerts]\nstale_after = \"0s\"", "`alerts.stale_after` must be longer than 0"),
            ("[alerts]\nrepeat = \"0s\"", "`alerts.repeat` must be longer than 0"),
            ("[alerts]\nmax_silence = \"0s\"", "`alerts.max_silence` must be longer than 0"),
            ("[alerts]\nmin_kb_hit_rate = \"abc\"", "`alerts.min_kb_hit_rate`: invalid type"),
            (
                "[alerts]\nquiet_hours = [\"22:00-08:00\", \"25:00-8\"]",
                "`alerts.quiet_hours[1]`: \"25:00-8\"",
            ),
            ("[alerts]\nworking_hours = \"9-18\"", "`alerts.working_hours`"),
            ("[alerts]\nfor = \"soon\"", "`alerts.for` is \"soon\""),
            ("[alerts]\nquiet_days = [\"Sat\", \"Sonntag\"]", "`alerts.quiet_days[1]`"),
            ("[alerts]\nholidays = [\"2026-10-01..2026-09-30\"]", "`alerts.holidays[0]`"),
            ("[alerts]\nsend_resolved = \"yes\"", "`alerts.send_resolved`: invalid type"),
            ("[wecom]\nwebhook = \"qyapi key\"", "`wecom.webhook`"),
            ("[gaps]\nembeddings_url = \"rag-host\"", "`gaps.embeddings_url`"),
            ("[gaps]\nchat_url = \"http://rag-host/v1\"", "`gaps.chat_model`"),
            ("[gaps]\ntimeout = \"0s\"", "`gaps.timeout` must be longer than 0"),
            ("[rules]\ntransfer_regex = [\"(\"]", "`rules.transfer_regex[0]`"),
            ("[rules]\nkb_miss = [\"\"]", "`rules.kb_miss[0]`"),
            ("[identity]\nsource = \"input\"", "`identity.input`"),
            ("[identity]\nsource = \"query_regex\"\npattern = \"x\"", "capture group"),
            ("[session]\nwindow = 15", "invalid type"),
            ("[[schedule]]\nname = \"x\"\ncron = \"0 8 * * *\"\nrun = [\"ingest\"]", "`schedule[0].cron`"),
            (
                "[[schedule]]\nname = \"x\"\ncron = \"0 0 8 * * *\"\nrun = [\"report\", \"--perod\"]",
                "`schedule[0].run`",
            ),
        ];
        for (text, needle) in cases {
            let err = load(text).expect_err(text);
            assert!(err.to_string().contains(needle), "{text}: {err}");
            assert_eq!(crate::error::exit_code(&err), 1);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_password_in_a_file_others_can_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("itstat.toml");
        let check = |text: &str, mode: u32| {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let file = read_file(&path).unwrap();
            exposed_secrets_warning(&path, &file)
        };
        let secret =
            "[mail]\npassword = \"m41l-s3cret\"\n[dify]\nurl = \"postgres://ro:d1fy-s3cret@db/dify\"\n";
        let warning = check(secret, 0o644).expect("a world-readable secret is warned about");
        assert!(warning.contains(&format!("chmod 600 {}", path.display())), "{warning}");
        assert!(warning.contains("[dify] url, [mail] password") && warning.contains("mode 644"), "{warning}");
        assert!(!warning.contains("s3cret"), "the warning never shows the secret: {warning}");
        assert!(check(secret, 0o640).is_some(), "group-readable counts too");
        assert_eq!(check(secret, 0o600), None);
        assert_eq!(check("[warehouse]\nurl = \"postgres://wh:pw@db/itstat\"\n", 0o600), None);
        assert!(check("[warehouse]\nurl = \"postgres://wh@db/itstat?password=pw\"\n", 0o604).is_some());
        assert_eq!(check("[dify]\nurl = \"postgres://ro@db/dify\"\n[mail]\nhost = \"smtp\"\n", 0o644), None);
    }

    #[test]
    fn language_tls_and_addresses_are_parsed_once() {
        let s = load(
            "[report]\nlang = \"en\"\n[mail]\ntls = \"none\"\nfrom = \"IT 数据 <itstat@example.com>\"\n\
             to = [\"boss@example.com\", \"Lead <lead@example.com>\"]\nowner = \"ops@example.com\"\n",
        )
        .unwrap();
        assert_eq!(s.report.lang, Lang::En);
        assert_eq!(s.mail.tls, TlsMode::None);
        let from = s.mail.from.unwrap();
        assert_eq!(
            (from.name.as_deref(), from.email.to_string().as_str()),
            (Some("IT 数据"), "itstat@example.com")
        );
        let to: Vec<String> = s.mail.to.iter().map(|m| m.email.to_string()).collect();
        assert_eq!(to, ["boss@example.com", "lead@example.com"]);
        assert_eq!(s.mail.owner.unwrap().email.to_string(), "ops@example.com");
        assert_eq!(load("[mail]\ntls = \"tls\"").unwrap().mail.tls, TlsMode::Tls);
    }

    #[test]
    fn relative_paths_in_a_file_are_beside_it() {
        let dir = Path::new("some/dir");
        assert_eq!(sqlite_url_beside("sqlite://itstat.db", dir), "sqlite://some/dir/itstat.db");
        assert_eq!(sqlite_url_beside("sqlite:wh/x.db?mode=ro", dir), "sqlite://some/dir/wh/x.db?mode=ro");
        assert_eq!(sqlite_url_beside("sqlite://./itstat.db", dir), "sqlite://some/dir/itstat.db");
        assert_eq!(sqlite_url_beside("sqlite://../itstat.db", dir), "sqlite://some/dir/../itstat.db");
        assert_eq!(sqlite_url_beside("sqlite://wh.db", Path::new("a?b%")), "sqlite://a%3Fb%25/wh.db");
        for unchanged in ["sqlite:///var/lib/itstat.db", "sqlite::memory:", "postgres://wh@db/itstat"] {
            assert_eq!(sqlite_url_beside(unchanged, dir), unchanged);
        }
        assert_eq!(sqlite_url_beside("sqlite://itstat.db", Path::new("")), "sqlite://itstat.db");
        assert_eq!(path_beside(Path::new("."), dir), PathBuf::from("some/dir"));
        assert_eq!(path_beside(Path::new("reports"), dir), PathBuf::from("some/dir/reports"));
        assert_eq!(path_beside(Path::new("/srv/reports"), dir), PathBuf::from("/srv/reports"));
    }
}
