//! Progress of long runs — a first load, a full read of Dify, a reclassification (README,
//! "Progress"): rows done, rate and time left.
//!
//! On a terminal it is a bar on stderr (indicatif), cleared at the end; anywhere else (cron,
//! Docker, a pipe) it is a log line at the start and then every [`LOG_EVERY`], so a log
//! shows how far a run got and how long it had left. `--quiet` shows neither.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing::info;

/// How often a run that is not on a terminal logs its progress.
pub const LOG_EVERY: Duration = Duration::from_secs(5);

/// The progress of one long step.
pub struct Progress {
    what: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_log: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts showing the progress of `what` ("Reading Dify", "Reclassifying") over `total`
    /// rows, when known.
    pub fn start(what: &'static str, total: Option<u64>) -> Progress {
        let shown = tracing::enabled!(tracing::Level::INFO);
        let bar = (shown && std::io::stderr().is_terminal()).then(|| bar(what, total));
        let now = Instant::now();
        let progress = Progress { what, total, done: 0, started: now, last_log: now, bar };
        if shown && progress.bar.is_none() {
            match total {
                Some(total) => info!("{what}: {} rows to go.", thousands(total)),
                None => info!("{what}…"),
            }
        }
        progress
    }

    /// Counts `rows` more rows done.
    pub fn add(&mut self, rows: u64) {
        self.done += rows;
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.last_log.elapsed() >= LOG_EVERY => {
                self.last_log = Instant::now();
                info!("{}", self.line());
            }
            None => {}
        }
    }

    /// The log line: `Reading Dify: 120,000 of 300,000 rows (40%), 45,000 rows/s, about 4s left`.
    pub fn line(&self) -> String {
        status_line(self.what, self.done, self.total, self.started.elapsed())
    }

    /// Ends the display (the caller prints the run's summary).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn bar(what: &'static str, total: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4));
    let template = match total {
        Some(_) => "{msg}: {wide_bar} {human_pos}/{human_len} rows, {per_sec}, {eta} left",
        None => "{msg}: {human_pos} rows, {per_sec}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}

/// See [`Progress::line`].
pub fn status_line(what: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let rate_text = format!("{} rows/s", thousands(rate.round() as u64));
    match total {
        Some(total) if total > 0 => {
            let percent = (done.min(total) as f64 * 100.0 / total as f64).floor();
            let left = match total.saturating_sub(done) {
                0 => "done".to_string(),
                _ if rate <= 0.0 => "time left unknown".to_string(),
                rest => format!(
                    "about {} left",
                    humantime::format_duration(Duration::from_secs((rest as f64 / rate).ceil() as u64))
                ),
            };
            format!(
                "{what}: {} of {} rows ({percent}%), {rate_text}, {left}",
                thousands(done),
                thousands(total)
            )
        }
        _ => format!("{what}: {} rows, {rate_text}", thousands(done)),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_rows_rate_and_time_left() {
        let line = status_line("Reading Dify", 120_000, Some(300_000), Duration::from_secs(4));
        assert_eq!(line, "Reading Dify: 120,000 of 300,000 rows (40%), 30,000 rows/s, about 6s left");
        let line = status_line("Reclassifying", 300_000, Some(300_000), Duration::from_secs(3));
        assert_eq!(line, "Reclassifying: 300,000 of 300,000 rows (100%), 100,000 rows/s, done");
        let line = status_line("Reading Dify", 5, None, Duration::from_secs(1));
        assert_eq!(line, "Reading Dify: 5 rows, 5 rows/s");
        assert_eq!(
            status_line("x", 0, Some(10), Duration::ZERO),
            "x: 0 of 10 rows (0%), 0 rows/s, time left unknown"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
