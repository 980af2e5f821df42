//! Error kinds and exit codes.
//!
//! itstat has two kinds of failure: the user's input is at fault (exit 1: a bad config key, an
//! impossible date, an unknown id) or something else is (exit 2: a database that does not
//! answer, an I/O error, a bug). Errors are `anyhow` chains; a [`UserError`] anywhere in the
//! chain marks the first kind. This module also owns [`redact_url`], the one place where a
//! connection URL is made safe to print.

use std::fmt;

/// An error caused by what the user typed or supplied; exits with code 1.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Builds an `anyhow::Error` that exits with code 1.
pub fn user_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(message.into()))
}

/// Returns early with a [`UserError`] built like `format!`.
#[macro_export]
macro_rules! bail_user {
    ($($arg:tt)*) => {
        return Err($crate::error::user_error(format!($($arg)*)))
    };
}

/// Not a failure: `itstat check` found alerts firing (exit 3, so cron and monitoring can act
/// on it). It has printed them; `main` adds no `error:` line.
#[derive(Debug)]
pub struct AlertsFired(pub usize);

impl fmt::Display for AlertsFired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} alert(s) fired", self.0)
    }
}

impl std::error::Error for AlertsFired {}

/// Whether `err` is [`AlertsFired`] (and nothing worse).
pub fn is_alerts_fired(err: &anyhow::Error) -> bool {
    err.downcast_ref::<AlertsFired>().is_some()
}

/// The process exit code for an error: 3 when alerts fired, 1 when the user is at fault, 2
/// otherwise.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if is_alerts_fired(err) {
        3
    } else if err.chain().any(|cause| cause.is::<UserError>()) {
        1
    } else {
        2
    }
}

/// Renders an error chain as one line, `outer: inner: innermost`, without repeated parts.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause_text(cause).replace(['\n', '\r'], " ");
        if !parts.iter().any(|p| p.contains(text.trim())) {
            parts.push(text.trim().to_string());
        }
    }
    parts.join(": ")
}

/// One cause's text. sqlx ends a PostgreSQL error with "at line N", N being the line of
/// PostgreSQL's own C source that raised it; a user would look for that line in their input,
/// so the server's message is shown alone.
fn cause_text(cause: &(dyn std::error::Error + 'static)) -> String {
    // sqlx's `Error::Database` gives its boxed error as its source.
    if let Some(db) = cause.downcast_ref::<Box<dyn sqlx::error::DatabaseError>>() {
        return db.message().to_string();
    }
    if let Some(sqlx::Error::Database(db)) = cause.downcast_ref::<sqlx::Error>() {
        return format!("error returned from database: {}", db.message());
    }
    cause.to_string()
}

/// The context of a SQLite error that ran out of disk: the warehouse's place and the fix.
#[derive(Debug)]
pub struct WarehouseDiskFull(pub String);

impl fmt::Display for WarehouseDiskFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the disk holding the warehouse {} (or SQLite's temp folder) is full; free space and run again (what was committed is kept)",
            self.0
        )
    }
}

/// Whether a SQLite statement in the chain failed with SQLITE_FULL (no space for the file,
/// its WAL or a temp file).
pub fn is_sqlite_full(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let db = match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) => Some(db.as_ref()),
            _ => cause.downcast_ref::<Box<dyn sqlx::error::DatabaseError>>().map(|b| b.as_ref()),
        };
        let sqlx_full = db.is_some_and(|db| {
            db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() && db.code().as_deref() == Some("13")
        });
        // The bulk readers use rusqlite on the same file (warehouse::sqlite_bulk).
        let rusqlite_full = matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DiskFull
        );
        sqlx_full || rusqlite_full
    })
}

/// Whether an error says the warehouse cannot be written by this process: a read-only SQLite
/// file or folder (SQLITE_READONLY and its extended codes, SQLITE_CANTOPEN of a journal, a
/// lock file it may not create), or a PostgreSQL account or transaction that may only read.
pub fn is_read_only(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let db = match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) => Some(db.as_ref()),
            _ => cause.downcast_ref::<Box<dyn sqlx::error::DatabaseError>>().map(|b| b.as_ref()),
        };
        let code = db.and_then(|db| db.code().map(|c| c.into_owned()));
        let sqlite = db.is_some_and(|db| db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some());
        // SQLite's primary code is the low byte of the extended one: 8 is SQLITE_READONLY.
        let sqlite_read_only =
            sqlite && code.as_deref().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 8);
        // 25006 read_only_sql_transaction, 42501 insufficient_privilege.
        let postgres_read_only = !sqlite && matches!(code.as_deref(), Some("25006") | Some("42501"));
        let rusqlite_read_only = matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ReadOnly
        );
        let io_denied = cause.downcast_ref::<std::io::Error>().is_some_and(|e| {
            matches!(e.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem)
        });
        sqlite_read_only || postgres_read_only || rusqlite_read_only || io_denied
    })
}

/// A database URL with its password replaced by `***`, safe for logs, errors and `status`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    // `key`: the WeCom robot's webhook carries its secret as `?key=…`.
                    let secret = k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("key");
                    (k.into_owned(), if secret { "***".to_string() } else { v.into_owned() })
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        // Not a URL the parser accepts (a bare file path, or a typo such as a port of 99999):
        // mask by shape, since such a URL is echoed in the very error that refuses it.
        Err(_) => mask_unparsed(raw),
    }
}

/// Text (an error stored by an earlier run, a server's reply) with every URL in it passed
/// through [`redact_url`], before it goes to a chat group or a mail.
pub fn mask_secrets(text: &str) -> String {
    static URL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>()\[\]{}]+"#).expect("a valid pattern")
    });
    URL.replace_all(text, |c: &regex::Captures<'_>| redact_url(&c[0])).into_owned()
}

/// Text another service wrote (an error body, which may echo the request's bearer key) with
/// each of `secrets` masked as `***` — as written, JSON-escaped and URL-encoded — and then
/// every URL's secrets ([`mask_secrets`]). Mask before cutting: a cut secret would leave its
/// first characters unmasked.
pub fn mask_configured(text: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    // The longest first: a webhook URL before the key inside it.
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in sorted {
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"');
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for form in [secret.as_str(), json, encoded.as_str()] {
            if !form.is_empty() {
                out = out.replace(form, "***");
            }
        }
    }
    mask_secrets(&out)
}

/// `scheme://user:secret@host…` → `scheme://user:***@host…`, and `password=…` query values
/// masked, for text the URL parser rejected.
fn mask_unparsed(raw: &str) -> String {
    let Some(start) = raw.find("://").map(|i| i + 3) else { return raw.to_string() };
    let (head, rest) = raw.split_at(start);
    let mut out = head.to_string();
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            out.push_str(user);
            if userinfo.contains(':') {
                out.push_str(":***");
            }
            &rest[at..]
        }
        None => rest,
    };
    match rest.split_once('?') {
        Some((path, query)) => {
            let masked: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("key") => {
                        format!("{k}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            out.push_str(path);
            out.push('?');
            out.push_str(&masked.join("&"));
        }
        None => out.push_str(rest),
    }
    out
}

/// Where a database URL points, for messages: `host:port/db` or the SQLite path, no secrets.
pub fn url_place(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(parsed) if parsed.scheme().starts_with("postgres") => {
            let host = parsed.host_str().unwrap_or("localhost");
            let port = parsed.port().unwrap_or(5432);
            format!("{host}:{port}{}", parsed.path())
        }
        _ if raw.contains("://") && !raw.starts_with("sqlite:") => {
            // A URL the parser rejected: what follows the user part, never the user part.
            let rest = &raw[raw.find("://").map(|i| i + 3).unwrap_or(0)..];
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let host_start = rest[..authority_end].rfind('@').map(|i| i + 1).unwrap_or(0);
            rest[host_start..].split('?').next().unwrap_or_default().to_string()
        }
        _ => raw.trim_start_matches("sqlite://").trim_start_matches("sqlite:").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_inside_text_are_masked() {
        let text = "cannot reach postgres://ro:s3cret@db:5432/dify (timeout); posting to https://robot.example/send?key=abc-123 failed";
        let masked = mask_secrets(text);
        assert!(!masked.contains("s3cret") && !masked.contains("abc-123"), "{masked}");
        assert!(masked.contains("postgres://ro:***@db:5432/dify (timeout)"), "{masked}");
        assert!(masked.contains("key=***"), "{masked}");
    }

    #[test]
    fn configured_secrets_are_masked_in_every_spelling() {
        let secrets = vec!["sk-a/b+c\"d".to_string(), String::new()];
        let body = r#"{"error": "bad key sk-a/b+c\"d, or sk-a%2Fb%2Bc%22d"} sk-a/b+c"d"#;
        let masked = mask_configured(body, &secrets);
        assert_eq!(masked, r#"{"error": "bad key ***, or ***"} ***"#);
        assert_eq!(mask_configured("see https://h/x?password=pw", &[]), "see https://h/x?password=***");
    }

    #[test]
    fn password_is_masked() {
        let shown = redact_url("postgres://ro:s3cret@db.example:5432/dify");
        assert_eq!(shown, "postgres://ro:***@db.example:5432/dify");
        let shown = redact_url("postgres://ro@db/dify?password=s3cret&sslmode=require");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("sslmode=require"));
    }

    #[test]
    fn password_is_masked_in_urls_the_parser_rejects() {
        let raw = "postgres://ro:s3cret@db.example:99999/dify?sslmode=require&password=s3cret";
        let shown = redact_url(raw);
        assert_eq!(shown, "postgres://ro:***@db.example:99999/dify?sslmode=require&password=***");
        assert_eq!(url_place(raw), "db.example:99999/dify");
        assert_eq!(redact_url("postgres://a:b:c@h:x/d"), "postgres://a:***@h:x/d");
        assert_eq!(redact_url("sqlite://data/itstat.db"), "sqlite://data/itstat.db");
        assert_eq!(redact_url("no url at all"), "no url at all");
    }

    #[test]
    fn place_names_host_and_database() {
        assert_eq!(url_place("postgres://ro:pw@db.example/dify"), "db.example:5432/dify");
        assert_eq!(url_place("sqlite://itstat.db"), "itstat.db");
    }

    #[test]
    fn user_errors_exit_one() {
        let err = user_error("bad").context("while loading");
        assert_eq!(exit_code(&err), 1);
        assert_eq!(exit_code(&anyhow::anyhow!("io")), 2);
    }
}
