//! itstat: ETL and reports for an IT help desk chatbot running on Dify.
//!
//! The data flows one way: [`extract`] reads Dify → [`transform`] applies the rules in Polars
//! → [`warehouse`] stores rows, sessions and runs → [`report`] turns a period into numbers.
//! [`pipeline`] runs that flow and is the one path to derived data for every command.
//! [`cli`] and [`config`] turn what the user typed into [`config::Settings`]; [`cmd`] holds
//! one module per subcommand.

pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod extract;
pub mod fsutil;
pub mod gaps;
pub mod import;
pub mod mail;
pub mod memory;
pub mod notify;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod schedule;
pub mod testing;
pub mod textsafe;
pub mod transform;
pub mod warehouse;

use cli::{Cli, Command};
use config::Settings;

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = load_settings(&cli)?;
    run_with(&settings, &cli.command).await
}

/// Loads the settings of a command line: its config file and the environment.
pub fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    Settings::load(cli.global.config.as_deref())
}

/// The settings with the command's own flags (`report --out/--lang`) on top: flags win. The
/// one place flags override settings; `--out` stays relative to the working directory.
fn with_command_flags(settings: &Settings, command: &Command) -> Settings {
    let mut settings = settings.clone();
    if let Command::Report(args) = command {
        if let Some(out) = &args.out {
            settings.report.out_dir = out.clone();
        }
        if let Some(lang) = args.lang {
            settings.report.lang = lang;
        }
    }
    settings
}

/// A boxed future of a command: lets `schedule` and `demo` run commands in-process (the
/// recursion needs a named future type). Not `Send`: the scheduler runs each job on a thread
/// of its own.
pub type CommandFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + 'a>>;

/// [`run_with`], boxed.
pub fn run_boxed<'a>(settings: &'a Settings, command: &'a Command) -> CommandFuture<'a> {
    Box::pin(run_with(settings, command))
}

/// Runs a parsed command with given settings (used by `schedule` and `demo`, which run
/// itstat commands in-process).
pub async fn run_with(settings: &Settings, command: &Command) -> anyhow::Result<()> {
    let settings = with_command_flags(settings, command);
    let settings = &settings;
    let result = match command {
        Command::Ingest(args) => cmd::ingest::run(settings, args).await,
        Command::Report(args) => cmd::report::run(settings, args).await,
        Command::Messages(args) => cmd::messages::run(settings, args).await,
        Command::Gaps(args) => cmd::gaps::run(settings, args).await,
        Command::Mark(args) => cmd::mark::run(settings, args).await,
        Command::Import(args) => cmd::import::run(settings, args).await,
        Command::Status(args) => cmd::status::run(settings, args).await,
        Command::Check(args) => cmd::check::run(settings, args).await,
        Command::Alerts(args) => cmd::alerts::run(settings, args).await,
        Command::Schedule(args) => cmd::schedule::run(settings, args).await,
        Command::Demo(args) => cmd::demo::run(settings, args).await,
        Command::Export(args) => cmd::export::run(settings, args).await,
    };
    // SQLite says only "database or disk is full", wherever the statement was: say which
    // disk (once: `demo` and `schedule` run commands, with their own settings, in here).
    result.map_err(|err| {
        if error::is_sqlite_full(&err) && err.downcast_ref::<error::WarehouseDiskFull>().is_none() {
            err.context(error::WarehouseDiskFull(error::url_place(&settings.warehouse_url)))
        } else {
            err
        }
    })
}
