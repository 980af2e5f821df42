//! Shared by the operator commands: message ids typed as git-style prefixes, and who the
//! operator is.

use crate::error::user_error;
use crate::warehouse::Warehouse;
use crate::warehouse::marks::Resolved;

/// The shortest prefix accepted.
pub const MIN_PREFIX: usize = 6;

/// The operator: `--operator` (or `ITSTAT_OPERATOR`, bound by clap), else the OS user.
pub fn operator(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Resolves one id or prefix, or says why it cannot be.
pub async fn resolve_one(wh: &Warehouse, typed_raw: &str) -> Result<String, String> {
    // Shown back in errors: one line, control characters escaped, bounded.
    let typed = crate::textsafe::short(typed_raw, 40);
    let prefix = typed_raw.trim().to_lowercase();
    if prefix.len() < MIN_PREFIX || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(format!(
            "`{typed}` is not a message id (use the id `itstat messages` shows, at least {MIN_PREFIX} hex characters)"
        ));
    }
    match wh.resolve_id(&prefix).await.map_err(|e| crate::error::one_line(&e))? {
        Resolved::One(id) => Ok(id),
        Resolved::None => Err(format!("`{typed}`: no message has this id (find it with `itstat messages`)")),
        Resolved::Many(ids) => {
            let shown: Vec<&str> = ids.iter().take(10).map(|s| s.as_str()).collect();
            let more = if ids.len() > 10 { ", …" } else { "" };
            Err(format!("`{typed}` is ambiguous, it starts {}{more}; type more characters", shown.join(", ")))
        }
    }
}

/// The shortest prefix of `id` (8 characters or more, as git does) that names only it.
pub async fn short_id(wh: &Warehouse, id: &str) -> anyhow::Result<String> {
    for len in [8, 13, 18, 23] {
        let prefix: String = id.chars().take(len).collect();
        if matches!(wh.resolve_id(&prefix).await?, Resolved::One(_)) {
            return Ok(prefix);
        }
    }
    Ok(id.to_string())
}

/// Resolves every id; on any problem, prints each on stderr and fails with nothing done.
pub async fn resolve_all(wh: &Warehouse, typed: &[String]) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(typed.len());
    let mut problems = Vec::new();
    for t in typed {
        match resolve_one(wh, t).await {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(why) => problems.push(why),
        }
    }
    match problems.len() {
        0 => Ok(ids),
        1 => Err(user_error(format!("{}; nothing was changed", problems[0]))),
        n => {
            for p in &problems {
                eprintln!("{p}");
            }
            Err(user_error(format!("{n} ids cannot be used (listed above); nothing was changed")))
        }
    }
}
