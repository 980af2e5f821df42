//! One module per subcommand: `run(&Settings, &Args)` does the work of that command.

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
