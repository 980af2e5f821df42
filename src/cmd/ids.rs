//! Shared by the operator commands: message ids typed as git-style prefixes, and who the
//! operator is.
//!
//! Ids are resolved in batches (`Warehouse::resolve_ids`: one key-range query per few hundred
//! typed ids) and short ids of a listing come from each id's neighbours in key order
//! (`Warehouse::id_neighbours`), so neither costs a query per id (docs/warehouse.md,
//! "Operator commands").

use std::collections::HashMap;

use crate::error::user_error;
use crate::warehouse::Warehouse;
use crate::warehouse::marks::{Neighbours, Resolved};

/// The shortest prefix accepted.
pub const MIN_PREFIX: usize = 6;

/// The lengths a short id is shown with: the groups of a UUID, as git shows 8 characters or
/// more.
const SHOWN_LENGTHS: [usize; 4] = [8, 13, 18, 23];

/// The operator: `--operator` (or `ITSTAT_OPERATOR`, bound by clap), else the OS user.
pub fn operator(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// A typed id, checked: the prefix to look up, or why it is not an id.
fn checked(typed_raw: &str) -> Result<String, String> {
    let prefix = typed_raw.trim().to_lowercase();
    if prefix.len() < MIN_PREFIX || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(format!(
            "`{}` is not a message id (use the id `itstat messages` shows, at least {MIN_PREFIX} hex characters)",
            shown(typed_raw)
        ));
    }
    Ok(prefix)
}

/// A typed text as errors show it: one line, control characters escaped, bounded.
fn shown(typed_raw: &str) -> String {
    crate::textsafe::short(typed_raw, 40)
}

/// What a lookup found for a typed id, or why it cannot be used.
fn verdict(typed_raw: &str, resolved: Option<&Resolved>) -> Result<String, String> {
    let typed = shown(typed_raw);
    match resolved.unwrap_or(&Resolved::None) {
        Resolved::One(id) => Ok(id.clone()),
        Resolved::None => Err(format!("`{typed}`: no message has this id (find it with `itstat messages`)")),
        Resolved::Many(ids) => {
            let shown: Vec<&str> = ids.iter().take(10).map(|s| s.as_str()).collect();
            let more = if ids.len() > 10 { ", …" } else { "" };
            Err(format!("`{typed}` is ambiguous, it starts {}{more}; type more characters", shown.join(", ")))
        }
    }
}

/// Resolves one id or prefix, or says why it cannot be.
pub async fn resolve_one(wh: &Warehouse, typed_raw: &str) -> Result<String, String> {
    let prefix = checked(typed_raw)?;
    let resolved = wh.resolve_id(&prefix).await.map_err(|e| crate::error::one_line(&e))?;
    verdict(typed_raw, Some(&resolved))
}

/// Resolves each typed id or prefix (in the order given) in a few queries: `Ok(id)`, or why
/// it cannot be used. Fails only when the warehouse cannot be read.
pub async fn resolve_each(wh: &Warehouse, typed: &[String]) -> anyhow::Result<Vec<Result<String, String>>> {
    let checked: Vec<Result<String, String>> = typed.iter().map(|t| checked(t)).collect();
    let prefixes: Vec<String> = checked.iter().filter_map(|c| c.as_ref().ok().cloned()).collect();
    let found = wh.resolve_ids(&prefixes).await?;
    Ok(typed.iter().zip(checked).map(|(t, c)| c.and_then(|prefix| verdict(t, found.get(&prefix)))).collect())
}

/// Resolves every id; on any problem, prints each on stderr and fails with nothing done.
/// Returns the ids in the order typed, one per typed id (repeats included).
pub async fn resolve_all(wh: &Warehouse, typed: &[String]) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(typed.len());
    let mut problems = Vec::new();
    for r in resolve_each(wh, typed).await? {
        match r {
            Ok(id) => ids.push(id),
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

/// The short id of each stored id (in the order given): its shortest prefix of
/// [`SHOWN_LENGTHS`] that names only it, else the whole id. Costs one query per few hundred
/// ids, whatever the warehouse holds.
pub async fn short_ids(wh: &Warehouse, ids: &[String]) -> anyhow::Result<Vec<String>> {
    let neighbours: HashMap<String, Neighbours> =
        wh.id_neighbours(ids).await?.into_iter().map(|n| (n.message_id.clone(), n)).collect();
    Ok(ids
        .iter()
        .map(|id| {
            let n = neighbours.get(id);
            let before = n.and_then(|n| n.before_id.as_deref());
            let after = n.and_then(|n| n.after_id.as_deref());
            short_id(id, before, after)
        })
        .collect())
}

/// The short id of `id` between its neighbours in key order. Every stored id sharing a prefix
/// with `id` sorts next to it, so a prefix names only `id` when neither neighbour starts with
/// it: when it is longer than what `id` shares with either.
fn short_id(id: &str, before: Option<&str>, after: Option<&str>) -> String {
    let shared = [before, after].into_iter().flatten().map(|n| common_prefix(id, n)).max().unwrap_or(0);
    let len = id.chars().count();
    SHOWN_LENGTHS
        .into_iter()
        .map(|l| l.min(len))
        .find(|&l| l > shared)
        .map_or_else(|| id.to_string(), |l| id.chars().take(l).collect())
}

/// How many leading characters two texts share.
fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_grow_by_uuid_groups_until_unique() {
        let id = "1a2b3c4d-0000-4000-8000-000000000001";
        assert_eq!(short_id(id, None, None), "1a2b3c4d");
        assert_eq!(short_id(id, Some("1a2b3c00-ffff-4000-8000-000000000001"), None), "1a2b3c4d");
        // Shares 8 characters with the next id: 13 are shown.
        assert_eq!(short_id(id, None, Some("1a2b3c4d-0001-4000-8000-000000000000")), "1a2b3c4d-0000");
        assert_eq!(short_id(id, Some("1a2b3c4d-0000-3fff-8000-000000000001"), None), "1a2b3c4d-0000-4000");
        // Shares 23 or more: the whole id.
        assert_eq!(short_id(id, Some("1a2b3c4d-0000-4000-8000-000000000000"), None), id);
        // An id shorter than a shown length is shown whole once unique.
        assert_eq!(short_id("abcdef0", None, Some("abcdef1")), "abcdef0");
        assert_eq!(short_id("abcdef", None, Some("abcdef1")), "abcdef");
    }

    #[test]
    fn typed_ids_are_checked_before_any_lookup() {
        assert_eq!(checked(" 1A2B3C4D "), Ok("1a2b3c4d".to_string()));
        assert!(checked("abc").unwrap_err().contains("`abc` is not a message id"));
        assert!(checked("zzzzzzzz").unwrap_err().contains("is not a message id"));
    }
}
