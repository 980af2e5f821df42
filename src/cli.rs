//! The command line: every clap type, and nothing else.
//!
//! These types record what was typed; they do no I/O and hold no defaults that belong to the
//! config file. `config::Settings::load` merges them with the environment and the file.
//! Flag names are a contract with users' cron lines (README, "Commands").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::calendar::{Lang, PeriodKind};

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
#[derive(Debug, Clone, Args)]
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
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Read new Dify messages into the warehouse and apply the rules.
    Ingest(IngestArgs),
    /// Compute the KPIs of a period and write them as JSON, Markdown or a workbook.
    Report(ReportArgs),
    /// Find messages: a table of time, short id, user, question and flags.
    Messages(MessagesArgs),
    /// The period's unanswered questions grouped by meaning (knowledge gaps), largest first:
    /// what the knowledge base should answer next.
    Gaps(GapsArgs),
    /// What people ask about: every question of the period in one topic, with an id kept
    /// from week to week, and each topic's numbers; or rename, merge and split topics.
    Topics(TopicsArgs),
    /// Record that a human handled a message, or correct its knowledge-base verdict.
    Mark(MarkArgs),
    /// Import manual entries from a spreadsheet, write the template, or migrate the legacy
    /// platform's data.
    Import(ImportArgs),
    /// Show the warehouse, the cursor, row counts, the last ingest runs and each scheduled
    /// job's last run.
    Status(StatusArgs),
    /// Evaluate the alert rules for a day and the ingest's health; exit 3 when an alert fires.
    /// With `--notify`, tell `[mail] owner` and the WeCom group, once per alert episode.
    Check(CheckArgs),
    /// The alerts' episodes and silences: list them, silence an alert for a while, or end a
    /// silence early.
    Alerts(AlertsArgs),
    /// Run the `[[schedule]]` jobs of the config until stopped (SIGTERM or Ctrl-C).
    Schedule(ScheduleArgs),
    /// Build a demo from generated data: an export file, a warehouse, workbooks and an email,
    /// with no database and no network.
    Demo(DemoArgs),
    /// Write message and session facts as Parquet, partitioned by local date, for Spark,
    /// Trino or DuckDB; only partitions that changed since the last export are rewritten.
    Export(ExportArgs),
}

/// `itstat schedule`.
#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    /// Print every job's next fire times and exit.
    #[arg(long)]
    pub list: bool,

    /// Do not run missed report periods at start.
    #[arg(long)]
    pub no_catch_up: bool,
}

/// `itstat demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Folder for the demo's files (created when missing).
    #[arg(long, value_name = "DIR", default_value = "itstat-demo")]
    pub out: PathBuf,

    /// Messages to generate.
    #[arg(long, default_value_t = 6000, hide = true)]
    pub messages: usize,
}

/// Output formats of `itstat messages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for the terminal.
    Table,
    /// One JSON array.
    Json,
    /// CSV with a header row.
    Csv,
}

/// `itstat messages`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MessagesArgs {
    #[command(subcommand)]
    pub show: Option<MessagesCommand>,

    /// From this long ago (`90m`, `1d`) or this local date (YYYY-MM-DD). Default: `1d`.
    #[arg(long, value_name = "DUR|DATE")]
    pub since: Option<String>,

    /// Up to and including this local date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,

    /// Only this user key.
    #[arg(long, value_name = "KEY")]
    pub user: Option<String>,

    /// Only messages whose question or answer contains TEXT (any case).
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,

    /// Only answered messages that missed the knowledge base.
    #[arg(long)]
    pub unhit: bool,

    /// Only messages transferred to a human.
    #[arg(long)]
    pub transfer: bool,

    /// Only messages an operator marked as handled by a human.
    #[arg(long)]
    pub manual: bool,

    /// At most this many messages (the newest).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `itstat messages show`.
#[derive(Debug, Clone, Subcommand)]
pub enum MessagesCommand {
    /// Print one message whole, with its session and why each flag is what it is.
    Show {
        /// A message id or a unique prefix of at least 6 characters.
        #[arg(value_name = "ID_OR_PREFIX")]
        id: String,
    },
}

/// A knowledge-base verdict for `mark --kb-hit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KbVerdict {
    /// The answer came from the knowledge base.
    Yes,
    /// It did not.
    No,
    /// Remove the override: the rule decides again.
    Auto,
}

/// `itstat mark`.
#[derive(Debug, Clone, Args)]
pub struct MarkArgs {
    /// Message ids or unique prefixes (at least 6 characters).
    #[arg(value_name = "ID_OR_PREFIX", required_unless_present_any = ["from_file", "history"])]
    pub ids: Vec<String>,

    /// A human handled these messages (a manual consultation).
    #[arg(long, conflicts_with = "no_manual")]
    pub manual: bool,

    /// Withdraw a manual mark.
    #[arg(long)]
    pub no_manual: bool,

    /// Override the knowledge-base verdict, or `auto` to let the rule decide again.
    #[arg(long, value_enum, value_name = "yes|no|auto")]
    pub kb_hit: Option<KbVerdict>,

    /// Who decides. Default: `$ITSTAT_OPERATOR`, else the OS user.
    #[arg(long, env = "ITSTAT_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,

    /// Why (kept in the history).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,

    /// Ids from a file: one per line, or CSV with a header (`id`, and optionally `manual`,
    /// `kb_hit`, `note`; the other columns of `itstat messages --format csv` are ignored). Only
    /// cells that differ from a message's current value are marked.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,

    /// Show what would be marked; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Show the marks recorded for one message instead.
    #[arg(long, value_name = "ID_OR_PREFIX", conflicts_with_all = ["ids", "manual", "no_manual", "kb_hit", "from_file"])]
    pub history: Option<String>,
}

/// `itstat import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportCommand,
}

/// What `itstat import` imports.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportCommand {
    /// Consultations handled outside the bot, from a .csv or .xlsx file.
    ManualEntries {
        /// The file; columns by English or Chinese name, in any order.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Fills an empty entry_person. Default: `$ITSTAT_OPERATOR`, else the OS user.
        #[arg(long, env = "ITSTAT_OPERATOR", value_name = "NAME")]
        operator: Option<String>,
        /// Validate and show what would be added; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write an empty manual-entry workbook to fill in.
    Template {
        /// Where to write it (.xlsx).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Migrate the legacy platform's marks and manual entries.
    Legacy {
        /// The legacy database, `postgres://…/intervention_db`. Default: `$ITSTAT_LEGACY_URL`,
        /// which keeps its password off the command line (and out of the shell's history).
        // The value is never shown in `--help`: it may hold a password.
        #[arg(long = "from", env = "ITSTAT_LEGACY_URL", hide_env_values = true, value_name = "POSTGRES_URL")]
        from: Option<String>,
        /// Read and convert everything; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `itstat ingest`.
#[derive(Debug, Clone, Args)]
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

    /// Read an export file (`sql/export_messages.sql` as .csv or .parquet) instead of Dify.
    #[arg(long, value_name = "EXPORT", conflicts_with_all = ["full", "since", "reclassify"])]
    pub from_file: Option<PathBuf>,

    /// Read and classify everything, print the counts, write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Messages per batch (one warehouse transaction each); by default 10,000 into SQLite and
    /// 15,000 into PostgreSQL, which keeps a first load under 256 MiB (docs/performance.md).
    #[arg(long, env = "ITSTAT_BATCH_SIZE", hide = true)]
    pub batch_size: Option<usize>,

    /// Seconds to wait for another ingest to finish before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub wait: u64,
}

/// Output formats of `itstat report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The workbook: overview with charts, daily KPIs and detail sheets.
    Xlsx,
    /// Print the KPI object of docs/metrics.md §7 on stdout; writes no file.
    Json,
    /// A Markdown summary (headline KPIs, top unanswered questions), written as a file and
    /// printed on stdout unless JSON is printed too.
    Md,
}

/// `itstat report`.
#[derive(Debug, Clone, Args)]
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

    /// Last local date of a custom period (YYYY-MM-DD), included; with `--mail`, also a
    /// recipient address (values holding `@` are addresses). Repeatable.
    #[arg(long, value_name = "DATE|ADDR", action = clap::ArgAction::Append)]
    pub to: Vec<String>,

    /// Output formats (repeat or separate with commas).
    #[arg(long, value_enum, value_delimiter = ',', num_args = 1.., default_value = "xlsx")]
    pub format: Vec<ReportFormat>,

    /// Folder for written files. Default: `[report] out_dir`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Label language. Default: `[report] lang`.
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,

    /// Email the report (with the workbook) to `--to` addresses or `[mail] to`.
    #[arg(long)]
    pub mail: bool,

    /// Post the period's summary (headline KPIs, top unanswered questions) to the WeCom group
    /// robot (`ITSTAT_WECOM_WEBHOOK` or `[wecom] webhook`), once per period unless `--force`.
    #[arg(long)]
    pub wecom: bool,

    /// With `--mail`: write the `.eml` next to the workbook and send nothing; with `--wecom`:
    /// print the summary and post nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// With `--mail` or `--wecom`: send even when this report already went out.
    #[arg(long)]
    pub force: bool,
}

/// `itstat gaps`.
#[derive(Debug, Clone, Args)]
pub struct GapsArgs {
    /// Period kind. Without `--date`, the last complete one (yesterday, last week, last month).
    #[arg(long, value_enum, default_value_t = PeriodKind::Week)]
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

    /// Output format: a table, JSON, or CSV for the knowledge team's tracker.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,

    /// Show at most this many groups (the largest); N is 1 or more, and without --limit
    /// every group is shown.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub limit: Option<usize>,
}

/// `itstat topics`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TopicsArgs {
    #[command(subcommand)]
    pub action: Option<TopicsAction>,

    #[command(flatten)]
    pub list: GapsArgs,
}

/// `itstat topics rename | merge | split`.
#[derive(Debug, Clone, Subcommand)]
pub enum TopicsAction {
    /// Give a topic a name of your own; later reports keep it.
    Rename {
        /// The topic's id (`itstat topics` lists them).
        id: i64,
        /// The new title.
        name: String,
        /// Who. Default: `$ITSTAT_OPERATOR`, else the OS user.
        #[arg(long, env = "ITSTAT_OPERATOR", value_name = "NAME")]
        by: Option<String>,
    },
    /// Move every question of topic ID into topic INTO_ID (ID is kept as merged).
    Merge {
        id: i64,
        into_id: i64,
        /// Who. Default: `$ITSTAT_OPERATOR`, else the OS user.
        #[arg(long, env = "ITSTAT_OPERATOR", value_name = "NAME")]
        by: Option<String>,
    },
    /// Group a topic's questions again by wording: the group of the question its title came
    /// from (else the largest) keeps the id, each other group becomes a new topic.
    Split {
        id: i64,
        /// Who. Default: `$ITSTAT_OPERATOR`, else the OS user.
        #[arg(long, env = "ITSTAT_OPERATOR", value_name = "NAME")]
        by: Option<String>,
    },
}

/// A count of 1 or more (`gaps --limit`): 0 would show nothing of a period full of gaps.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("N is a whole number of 1 or more (leave --limit out to show every group)".into()),
    }
}

/// Output formats of `itstat check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per alert.
    Text,
    /// `{"date": …, "alerts": [{"kind", "severity", "subject", "state", "since", "message",
    /// …}], "pending": […], …}`.
    Json,
}

/// `itstat check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The local day whose numbers are checked (YYYY-MM-DD). Default: yesterday, the last
    /// complete day. The ingest's health is always checked as of now.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    /// Send what is due to `[alerts] notify` (default: `[mail] owner` and the WeCom robot,
    /// whichever are configured) as one post or mail per channel: firing alerts once per
    /// episode and again after `[alerts] repeat`, and the episodes that ended; held in quiet
    /// hours, never for inhibited or silenced alerts.
    #[arg(long)]
    pub notify: bool,

    /// Say what would be sent; send nothing and record nothing (not even when a condition was
    /// first seen, which every other check records for `[alerts] for`).
    #[arg(long)]
    pub dry_run: bool,
}

/// `itstat alerts`.
#[derive(Debug, Clone, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub what: AlertsCommand,
}

/// The subcommands of `itstat alerts`.
#[derive(Debug, Clone, Subcommand)]
pub enum AlertsCommand {
    /// Firing, pending, silenced and muted alerts as the last check left them, the episodes
    /// that ended in the last 7 days, and the silences in force.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Do not send alerts of KIND (about one subject, or any) for a while; `check` still shows
    /// them, as `silenced`. When the silence ends and the alert still fires, it is sent.
    Silence {
        /// The alert kind: stale_ingest, no_traffic, error_rate_high, one_user_key,
        /// kb_hit_rate_low or transfer_rate_high.
        #[arg(value_name = "KIND")]
        kind: String,

        /// Only alerts about this subject (the user key of one_user_key). Default: any.
        #[arg(long, value_name = "S")]
        subject: Option<String>,

        /// How long, from now (`90m`, `2h`, `1d`).
        #[arg(long = "for", value_name = "DUR")]
        duration: String,

        /// Why: shown by `check`, `alerts list` and in the log (e.g. "Dify upgrade until 14:00").
        #[arg(long, value_name = "TEXT")]
        reason: String,

        /// Who. Default: `$ITSTAT_OPERATOR`, else the OS user.
        #[arg(long, env = "ITSTAT_OPERATOR", value_name = "NAME")]
        by: Option<String>,

        /// Say what would be silenced; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// End a silence now (its id is in `alerts list`).
    Expire {
        /// The silence's id.
        #[arg(value_name = "ID")]
        id: i64,

        /// Say what would end; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `itstat status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Print the status as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// File formats of `itstat export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet, Hive-style partitions `date=YYYY-MM-DD/part-0.parquet`.
    Parquet,
}

/// `itstat export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// File format (only `parquet` for now).
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,

    /// Folder of the dataset: `messages/` and `sessions/` and the manifest go in it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Print which partitions would be written and removed; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}
