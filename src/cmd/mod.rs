//! One module per subcommand: `run(&Settings, &Args)` does the work of that command.

pub mod ingest;
pub mod report;
pub mod status;
