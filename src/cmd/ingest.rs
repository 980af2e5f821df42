//! `itstat ingest`: what the command line asked, handed to the pipeline (`pipeline::ingest`).
//!
//! Reading Dify needs a Dify URL: without one (and without `--from-file` or `--reclassify`,
//! which do not read Dify) the command stops before it creates or touches a warehouse.

use std::time::Duration;

use crate::cli::IngestArgs;
use crate::config::Settings;
use crate::pipeline::ingest::{self, IngestPlan, Scope};

/// Which part of Dify's history the flags ask for.
fn scope(args: &IngestArgs) -> anyhow::Result<Scope> {
    Ok(if args.from_file.is_some() {
        Scope::File
    } else if args.full {
        Scope::Full
    } else if args.reclassify {
        Scope::Reclassify
    } else if let Some(date) = &args.since {
        Scope::Since(crate::calendar::parse_date(date, "--since")?)
    } else {
        Scope::Incremental
    })
}

/// Runs `itstat ingest`.
pub async fn run(settings: &Settings, args: &IngestArgs) -> anyhow::Result<()> {
    let plan = IngestPlan {
        scope: scope(args)?,
        batch_size: args.batch_size.map(|n| n.max(1)),
        wait: Duration::from_secs(args.wait),
    };
    if !matches!(plan.scope, Scope::File | Scope::Reclassify) {
        // Before anything is opened: no Dify, no run, no empty warehouse left behind.
        settings.dify_url()?;
    }
    let from_file = args.from_file.as_deref();
    if args.dry_run {
        ingest::dry_run(settings, &plan, from_file).await
    } else {
        ingest::run(settings, &plan, from_file).await
    }
}
