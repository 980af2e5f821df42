//! itstat: ETL and reports for an IT help desk chatbot running on Dify.
//!
//! The data flows one way: [`extract`] reads Dify → [`transform`] applies the rules in Polars
//! → [`warehouse`] stores rows, sessions and runs → [`report`] turns a period into numbers.
//! [`pipeline`] runs that flow and is the one path to derived data for every command.
//! [`cli`] and [`config`] turn what the user typed into [`config::Settings`]; [`cmd`] holds
//! one module per subcommand and the dispatch ([`cmd::run`]). docs/architecture.md draws the
//! layers and the rule for what may import what.

pub mod calendar;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod db;
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
pub mod retry;
pub mod schedule;
pub mod testing;
pub mod textsafe;
pub mod topics;
pub mod transform;
pub mod warehouse;
