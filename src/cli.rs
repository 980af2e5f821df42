//! The command line: every clap type, and nothing else.
//!
//! These types record what was typed; they do no I/O and hold no defaults that belong to the
//! config file. `config::Settings::load` merges them with the environment and the file.
//! Flag names are a contract with users' cron lines (`../shared/spec/config.md`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// ETL and reports for an IT help desk chatbot running on Dify.
///
/// Reads Dify's messages incrementally into a local warehouse, applies the help desk's rules
/// (sessions, knowledge-base hits, transfers to a human, operator marks) and reports the KPIs.
#[derive(Debug, Parser)]
#[command(name = "itstat", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (TOML). Default: `$ITSTAT_CONFIG`, else `./itstat.toml` when it exists.
    #[arg(long, global = true, env = "ITSTAT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// More log output on stderr (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read new Dify messages into the warehouse and apply the rules.
    Ingest(IngestArgs),
    /// Compute the KPIs of a period and write them as JSON, Markdown or a workbook.
    Report(ReportArgs),
    /// Show the warehouse, the cursor, the last runs and row counts.
    Status(StatusArgs),
}

/// `itstat ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Re-read all of Dify's history and recompute every rule and session.
    #[arg(long, conflicts_with_all = ["since", "reclassify"])]
    pub full: bool,

    /// Re-read Dify from this local date (YYYY-MM-DD) instead of from the cursor.
    #[arg(long, value_name = "DATE", conflicts_with = "reclassify")]
    pub since: Option<String>,

    /// Recompute flags and sessions from the stored text, without reading Dify.
    #[arg(long)]
    pub reclassify: bool,

    /// Read and classify everything, print the counts, write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Messages per batch (one warehouse transaction each).
    #[arg(long, env = "ITSTAT_BATCH_SIZE", default_value_t = 5000, hide = true)]
    pub batch_size: usize,

    /// Seconds to wait for another ingest to finish before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub wait: u64,
}

/// The kind of period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    /// One local calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// `--from A --to B`, both dates included.
    Custom,
}

/// Output formats of `itstat report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Print the KPI object of metrics.md §7 on stdout; writes no file.
    Json,
}

/// `itstat report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Period kind. Without `--date`, the last complete one (yesterday, last week, last month).
    #[arg(long, value_enum, default_value_t = PeriodKind::Day)]
    pub period: PeriodKind,

    /// Any local date inside the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", conflicts_with = "from")]
    pub date: Option<String>,

    /// First local date of a custom period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,

    /// Last local date of a custom period (YYYY-MM-DD), included.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,

    /// Output formats (repeat or separate with commas).
    #[arg(long, value_enum, value_delimiter = ',', num_args = 1.., default_value = "json")]
    pub format: Vec<ReportFormat>,
}

/// `itstat status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
