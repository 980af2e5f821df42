//! itstat: ETL and reports for an IT help desk chatbot running on Dify.
//!
//! The data flows one way: [`extract`] reads Dify → [`transform`] applies the rules in Polars
//! → [`warehouse`] stores rows, sessions and runs → [`report`] turns a period into numbers.
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
pub mod import;
pub mod mail;
pub mod report;
pub mod testing;
pub mod textsafe;
pub mod transform;
pub mod warehouse;

use cli::{Cli, Command};
use config::{FlagOverrides, Settings};

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let flags = match &cli.command {
        Command::Report(args) => FlagOverrides {
            out_dir: args.out.clone(),
            lang: args.lang.map(|l| match l {
                cli::LangArg::Zh => "zh".to_string(),
                cli::LangArg::En => "en".to_string(),
            }),
        },
        _ => FlagOverrides::default(),
    };
    let settings = Settings::load(cli.global.config.as_deref(), &flags)?;
    match &cli.command {
        Command::Ingest(args) => cmd::ingest::run(&settings, args).await,
        Command::Report(args) => cmd::report::run(&settings, args).await,
        Command::Messages(args) => cmd::messages::run(&settings, args).await,
        Command::Mark(args) => cmd::mark::run(&settings, args).await,
        Command::Import(args) => cmd::import::run(&settings, args).await,
        Command::Status(args) => cmd::status::run(&settings, args).await,
        Command::Export(args) => cmd::export::run(&settings, args).await,
    }
}
