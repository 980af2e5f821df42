//! One module per subcommand: `run(&Settings, &Args)` does the work of that command; [`run`]
//! loads the settings and dispatches a parsed command line to it.

pub mod alerts;
pub mod check;
pub mod demo;
pub mod export;
pub mod gaps;
pub mod ids;
pub mod import;
pub mod ingest;
pub mod mark;
pub mod messages;
pub mod report;
pub mod schedule;
pub mod status;
pub mod topics;

use crate::cli::{Cli, Command};
use crate::config::Settings;
use crate::error;
use schedule::CommandFuture;

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

/// [`run_with`], boxed: the [`schedule::Runner`] that `schedule` and `demo` run commands in-process with.
pub fn run_boxed<'a>(settings: &'a Settings, command: &'a Command) -> CommandFuture<'a> {
    Box::pin(run_with(settings, command))
}

/// Runs a parsed command with given settings (used by `schedule` and `demo`, which run
/// itstat commands in-process).
pub async fn run_with(settings: &Settings, command: &Command) -> anyhow::Result<()> {
    let settings = with_command_flags(settings, command);
    let settings = &settings;
    let result = match command {
        Command::Ingest(args) => ingest::run(settings, args).await,
        Command::Report(args) => report::run(settings, args).await,
        Command::Messages(args) => messages::run(settings, args).await,
        Command::Gaps(args) => gaps::run(settings, args).await,
        Command::Topics(args) => topics::run(settings, args).await,
        Command::Mark(args) => mark::run(settings, args).await,
        Command::Import(args) => import::run(settings, args).await,
        Command::Status(args) => status::run(settings, args).await,
        Command::Check(args) => check::run(settings, args).await,
        Command::Alerts(args) => alerts::run(settings, args).await,
        Command::Schedule(args) => schedule::run(settings, args, run_boxed).await,
        Command::Demo(args) => demo::run(settings, args, run_boxed).await,
        Command::Export(args) => export::run(settings, args).await,
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
