//! The pipeline: extract → transform → warehouse, and the one path every command takes to
//! derived data (docs/metrics.md §8).
//!
//! Derived data — verdicts and sessions — is a function of the stored facts and the rules in
//! force. The warehouse records the rules it was derived under (meta `rules`). Before a
//! command reads or writes derived data it calls [`open_current`] (or [`ensure_current`]):
//! when the config's rules differ from the recorded ones, the warehouse is derived again
//! first ([`derive::reclassify`], under the ingest lock, logged once), or, when it cannot be
//! written, the command stops with exit 1 naming the fix. `ingest` ([`ingest`]) does the same
//! with the app selection it reads from Dify. Every write of derived data goes through
//! [`derive`].

pub mod derive;
pub mod ingest;
pub mod rehash;

use std::collections::HashSet;
use std::time::Duration;

use tracing::info;

use crate::bail_user;
use crate::config::Settings;
use crate::error::user_error;
use crate::transform::RulesInForce;
use crate::transform::rules::{AppSelection, changed_keys};
use crate::warehouse::runs::{APPS_CONFIG_KEY, APPS_KEY, RULES_KEY};
use crate::warehouse::{OpenMode, Warehouse};

/// How long a command waits for a running ingest before it derives the warehouse again
/// itself (the ingest re-derives it too, so usually there is nothing left to do).
const LOCK_WAIT: Duration = Duration::from_secs(120);

/// What a command does with derived data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads or writes it: a stale warehouse is derived again first.
    Use,
    /// A dry run: writes nothing, so a stale warehouse is an error naming the fix.
    DryRun,
}

/// Opens an existing warehouse and brings it up to the rules in force; returns it with those
/// rules.
pub async fn open_current(settings: &Settings, access: Access) -> anyhow::Result<(Warehouse, RulesInForce)> {
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
    match ensure_current(&wh, settings, access).await {
        Ok(rules) => Ok((wh, rules)),
        Err(e) => {
            wh.close().await;
            Err(e)
        }
    }
}

/// Brings the warehouse up to the rules in force (see the module docs) and returns them.
pub async fn ensure_current(
    wh: &Warehouse,
    settings: &Settings,
    access: Access,
) -> anyhow::Result<RulesInForce> {
    let rules = offline_rules(wh, settings).await?;
    let stored = wh.meta(RULES_KEY).await?;
    if stored.as_deref() == Some(rules.canonical().as_str()) || !wh.has_messages().await? {
        return Ok(rules);
    }
    let changed = changed_keys(stored.as_deref().unwrap_or_default(), &rules).join(", ");
    if access == Access::DryRun {
        bail_user!(
            "the warehouse {} was derived under other rules than itstat.toml's (changed: {changed}), and a dry run writes nothing; run `itstat ingest --reclassify` first",
            wh.place
        );
    }
    let lock = wh.lock_ingest(LOCK_WAIT).await.map_err(|e| cannot_write(e, wh, &changed))?;
    // A run that held the lock may have done it meanwhile.
    let result = if wh.meta(RULES_KEY).await?.as_deref() == Some(rules.canonical().as_str()) {
        Ok(0)
    } else {
        info!(changed = %changed, "The rules in itstat.toml changed since the warehouse was derived; deriving it again first (as `itstat ingest --reclassify` does).");
        derive::reclassify(wh, &rules, wh.default_batch_size()).await
    };
    lock.release().await;
    result.map_err(|e| cannot_write(e, wh, &changed))?;
    Ok(rules)
}

/// The rules in force for a warehouse when Dify is not read: app names resolve to the ids
/// the last complete read of Dify found for the same `[dify] apps`. A selection the stored
/// messages may not cover (a name not resolved yet, an app not read yet) needs Dify: an error
/// naming `itstat ingest`, never numbers that lack those apps.
pub async fn offline_rules(wh: &Warehouse, settings: &Settings) -> anyhow::Result<RulesInForce> {
    let rules = settings.rules.clone();
    let read = wh.meta(APPS_KEY).await?;
    let rules = match &rules.apps {
        AppSelection::Unresolved { names, .. } => {
            let same_config =
                wh.meta(APPS_CONFIG_KEY).await?.as_deref() == Some(settings.dify.apps.join("\n").as_str());
            match &read {
                Some(ids) if same_config => rules.clone().with_app_ids(split_ids(ids)),
                _ if !wh.has_messages().await? => rules,
                _ => bail_user!(
                    "`[dify] apps` names {} that the warehouse {} has not read from Dify yet; run `itstat ingest` first (it looks the names up and reads their messages)",
                    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
                    wh.place
                ),
            }
        }
        _ => rules,
    };
    if let (Some(wanted), Some(read)) = (rules.apps.ids(), read.as_deref()) {
        let covered: HashSet<String> = split_ids(read).collect();
        let missing: Vec<&String> = wanted.iter().filter(|id| !covered.contains(*id)).collect();
        // An empty read selection read every app.
        if !covered.is_empty() && !missing.is_empty() && wh.has_messages().await? {
            bail_user!(
                "`[dify] apps` selects {} whose messages the warehouse {} has not read from Dify yet; run `itstat ingest` first",
                missing.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", "),
                wh.place
            );
        }
    }
    Ok(rules)
}

fn split_ids(stored: &str) -> impl Iterator<Item = String> + '_ {
    stored.split(',').filter(|id| !id.is_empty()).map(str::to_string)
}

/// An error of bringing the warehouse up to date: when the warehouse cannot be written here
/// (read-only file, folder or account), the user's fix, exit 1; anything else as it is.
fn cannot_write(err: anyhow::Error, wh: &Warehouse, changed: &str) -> anyhow::Error {
    if !crate::error::is_read_only(&err) {
        return err;
    }
    user_error(format!(
        "the warehouse {} was derived under other rules than itstat.toml's (changed: {changed}) and cannot be written here ({}); run `itstat ingest --reclassify` as a user who can write it, or restore the rules",
        wh.place,
        crate::error::one_line(&err)
    ))
}
