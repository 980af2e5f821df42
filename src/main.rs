//! The `itstat` binary: parse the command line, set up logging, run, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 the user's input is at fault, 2 anything else, 3 `itstat check`
//! found alerts firing. Errors are one line on stderr, `error: …`; stdout carries only results.

use clap::Parser;
use itstat::cli::Cli;
use itstat::error::{exit_code, one_line};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => std::process::exit(clap_exit(err)),
    };
    init_tracing(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = match runtime.block_on(itstat::cmd::run(cli)) {
        Ok(()) => 0,
        // `check` printed its alerts on stdout; exit 3 says the rest.
        Err(err) if itstat::error::is_alerts_fired(&err) => 3,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            exit_code(&err)
        }
    };
    std::process::exit(code);
}

/// Help and version print normally (exit 0); a usage error is one line (exit 1).
fn clap_exit(err: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            0
        }
        _ => {
            let rendered = err.render().to_string();
            eprintln!("{} (see `itstat --help`)", first_line(&rendered));
            1
        }
    }
}

/// The first line of clap's message and the indented lines right under it (the missing
/// arguments, the possible values), so the one line still says what to type.
fn first_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("error: invalid arguments");
    let details: Vec<&str> = lines.take_while(|l| l.starts_with(' ')).map(str::trim).collect();
    if details.is_empty() { first.to_string() } else { format!("{first} {}", details.join(", ")) }
}

fn init_tracing(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "info",
        (_, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ITSTAT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("itstat={default},warn")));
    // Colours only on a terminal: cron and Docker logs stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}
