//! What the Dify reader, the legacy import and the PostgreSQL warehouse share about a
//! PostgreSQL connection: how its URL is read and when a statement counts as slow. A leaf,
//! so that `extract` and `import` need not reach up into `config` or `warehouse` for it.

use std::time::Duration;

/// Statements slower than this are logged at debug level. sqlx warns about them by default,
/// with the whole SQL text, and reading all of Dify in one streamed query is slow by nature.
pub const SLOW_STATEMENT: Duration = Duration::from_secs(1);

/// Parses a `postgres://` or `postgresql://` URL. sqlx alone takes any scheme (`mysql://…`
/// would be tried as PostgreSQL and fail later as an unreachable host).
pub fn postgres_options(url: &str) -> Result<sqlx::postgres::PgConnectOptions, String> {
    use std::str::FromStr;
    if !is_postgres_url(url) {
        return Err("it must start with postgres://".to_string());
    }
    sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| e.to_string())
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
