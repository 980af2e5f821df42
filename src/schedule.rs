//! Scheduled jobs: cron lines with seconds, evaluated in the configured time zone, and the
//! catch-up rule for report jobs. Pure functions of a given "now", so they are tested with a
//! fake clock; `cmd::schedule` runs them against the real one.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use clap::Parser;

use crate::calendar::Period;
use crate::cli::{Cli, Command};
use crate::error::redact_url;

/// One `[[schedule]]` job.
#[derive(Debug, Clone)]
pub struct ScheduleJob {
    pub name: String,
    pub cron: String,
    pub run: Vec<String>,
}

/// A job ready to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub schedule: cron::Schedule,
    /// The command line after `itstat`.
    pub argv: Vec<String>,
    /// The parsed command.
    pub command: Command,
}

impl Job {
    /// Whether the job reads new data into the warehouse (an `ingest` that writes): the
    /// catch-up at start waits for one, so a missed report holds current data.
    pub fn is_ingest(&self) -> bool {
        matches!(&self.command, Command::Ingest(args) if !args.dry_run)
    }

    /// The command line as the scheduler shows it (logs, `--list`, the owner's mail,
    /// `job_runs`): a job may carry a URL with its password (`import legacy --from …`), which
    /// must never be printed, so every URL in it is masked, also in `--flag=URL`.
    pub fn command_line(&self) -> String {
        shown_command(&self.argv)
    }
}

/// `argv` joined with spaces, the password of every URL in it replaced by `***`.
pub fn shown_command(argv: &[String]) -> String {
    let shown: Vec<String> =
        argv.iter().map(|arg| if arg.contains("://") { redact_url(arg) } else { arg.clone() }).collect();
    shown.join(" ")
}

/// Parses a cron line with seconds (`sec min hour day month weekday [year]`).
pub fn parse_cron(line: &str) -> Result<cron::Schedule, String> {
    cron::Schedule::from_str(line).map_err(|e| e.to_string())
}

/// Parses a job's command line as `itstat` would.
pub fn parse_run(run: &[String]) -> Result<Command, String> {
    match run.first().map(String::as_str) {
        None => return Err("is empty; give an itstat command line, e.g. [\"ingest\"]".into()),
        Some("schedule" | "demo") => return Err(format!("cannot run `{}` from the scheduler", run[0])),
        _ => {}
    }
    Cli::try_parse_from(std::iter::once("itstat".to_string()).chain(run.iter().cloned()))
        .map(|cli| cli.command)
        .map_err(|e| {
            e.render()
                .to_string()
                .lines()
                .next()
                .unwrap_or("invalid")
                .trim_start_matches("error: ")
                .to_string()
        })
}

/// The jobs of the settings (already validated by `config`).
pub fn jobs(jobs: &[ScheduleJob]) -> anyhow::Result<Vec<Job>> {
    jobs.iter()
        .map(|j| {
            Ok(Job {
                name: j.name.clone(),
                schedule: parse_cron(&j.cron).map_err(|e| anyhow::anyhow!("job {}: {e}", j.name))?,
                argv: j.run.clone(),
                command: parse_run(&j.run).map_err(|e| anyhow::anyhow!("job {}: {e}", j.name))?,
            })
        })
        .collect()
}

/// The first fire time strictly after `now`, in `tz`.
pub fn next_fire(schedule: &cron::Schedule, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Tz>> {
    schedule.after(&now.with_timezone(&tz)).next()
}

/// The last fire time at or before `now`, in `tz`.
pub fn previous_fire(schedule: &cron::Schedule, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Tz>> {
    let now = now.with_timezone(&tz);
    if schedule.includes(now) {
        return Some(now);
    }
    schedule.after(&now).next_back()
}

/// For a mailing report job without explicit dates: the command line that sends the report
/// its last fire time was due to send (`--date` of that period). Run at start, it catches up
/// a report missed while the scheduler was down; the delivery log makes it a no-op when the
/// report already went out.
pub fn catch_up(job: &Job, tz: Tz, now: DateTime<Utc>) -> Option<Vec<String>> {
    let Command::Report(args) = &job.command else { return None };
    if !args.mail || args.date.is_some() || args.from.is_some() || !args.to.iter().all(|t| t.contains('@')) {
        return None;
    }
    let fired = previous_fire(&job.schedule, tz, now)?;
    let period = Period::resolve(args.period, None, None, None, fired.date_naive()).ok()?;
    let mut argv = job.argv.clone();
    argv.extend(["--date".to_string(), period.start.to_string()]);
    Some(argv)
}

/// The least time between two failure mails about one job: while a job keeps failing (every
/// ten minutes, every second) its owner hears of it once in any 60 minutes, not once per
/// failure, nor twice across the turn of a clock hour.
pub const OWNER_MAIL_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(60);

/// Whether a failure mail may go at `now`, the last one having been sent at `last_sent`.
pub fn owner_mail_due(last_sent: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_sent.is_none_or(|last| now - last >= OWNER_MAIL_EVERY)
}

/// The longest the scheduler sleeps before it reads the wall clock again. Timers run on the
/// monotonic clock, which a step of the wall clock (an NTP correction, an operator's `date -s`)
/// does not move and a suspended VM does not advance: sleeping the whole wait at once would fire
/// a job early after a step back and late after a suspend or a step forward.
pub const CLOCK_CHECK: Duration = Duration::from_secs(30);

/// Sleeps until the wall clock `now` reads `at` or later, reading it at least every
/// [`CLOCK_CHECK`]; after a step or a suspend the job fires within that much of its time.
pub async fn sleep_until_wall(at: DateTime<Utc>, now: impl Fn() -> DateTime<Utc>) {
    // A negative wait (the time has passed) does not convert: return at once.
    while let Ok(left) = (at - now()).to_std() {
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(CLOCK_CHECK)).await;
    }
}

/// `now` as UTC, for callers holding a zoned time.
pub fn utc<T: TimeZone>(t: DateTime<T>) -> DateTime<Utc> {
    t.with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(cron: &str, run: &[&str]) -> Job {
        let argv: Vec<String> = run.iter().map(|s| s.to_string()).collect();
        Job {
            name: "j".into(),
            schedule: parse_cron(cron).unwrap(),
            command: parse_run(&argv).unwrap(),
            argv,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    /// A wall clock over tokio's paused clock that the test can step, as NTP or a resumed VM
    /// would: `start` + monotonic time elapsed + the steps so far.
    #[derive(Clone)]
    struct SteppedWall {
        start: DateTime<Utc>,
        origin: tokio::time::Instant,
        step: std::sync::Arc<std::sync::Mutex<chrono::Duration>>,
    }

    impl SteppedWall {
        fn new(start: DateTime<Utc>) -> SteppedWall {
            let step = std::sync::Arc::new(std::sync::Mutex::new(chrono::Duration::zero()));
            SteppedWall { start, origin: tokio::time::Instant::now(), step }
        }

        fn now(&self) -> DateTime<Utc> {
            let elapsed = chrono::Duration::from_std(self.origin.elapsed()).unwrap();
            self.start + elapsed + *self.step.lock().unwrap()
        }

        /// Steps the wall clock by `by` once `after` of monotonic time has passed.
        fn step_after(&self, after: Duration, by: chrono::Duration) {
            let step = self.step.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                *step.lock().unwrap() += by;
            });
        }

        /// Sleeps until the wall clock reads `at`; returns the monotonic time it took.
        async fn sleep_until(&self, at: DateTime<Utc>) -> Duration {
            let clock = self.clone();
            sleep_until_wall(at, move || clock.now()).await;
            self.origin.elapsed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_stepped_back_does_not_fire_a_job_early() {
        let wall = SteppedWall::new(at("2026-11-24T23:59:00Z"));
        wall.step_after(Duration::from_secs(20), chrono::Duration::hours(-1));
        let took = wall.sleep_until(at("2026-11-25T00:00:00Z")).await;
        assert!(wall.now() >= at("2026-11-25T00:00:00Z"));
        // One minute of waiting plus the hour the clock went back, and no more than one check.
        let due = Duration::from_secs(3600 + 60);
        assert!(took >= due && took <= due + CLOCK_CHECK, "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_stepped_forward_or_a_resumed_vm_fires_the_job_on_time() {
        let wall = SteppedWall::new(at("2026-11-24T22:00:00Z"));
        // Two hours to wait; after ten seconds the wall clock jumps an hour ahead (as it does
        // when a VM paused for an hour resumes): the job is due 50 min later, not 110.
        wall.step_after(Duration::from_secs(10), chrono::Duration::hours(1));
        let took = wall.sleep_until(at("2026-11-25T00:00:00Z")).await;
        let due = Duration::from_secs(3600 - 10);
        assert!(took >= due && took <= due + CLOCK_CHECK, "{took:?}");
        assert!(wall.now() - at("2026-11-25T00:00:00Z") <= chrono::Duration::seconds(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_time_already_past_does_not_wait() {
        let wall = SteppedWall::new(at("2026-11-25T00:00:05Z"));
        assert_eq!(wall.sleep_until(at("2026-11-25T00:00:00Z")).await, Duration::ZERO);
        assert_eq!(wall.sleep_until(at("2026-11-25T00:00:05Z")).await, Duration::ZERO);
    }

    #[test]
    fn next_fire_is_in_the_configured_zone() {
        let daily = parse_cron("0 0 8 * * *").unwrap();
        // 07:59 in Shanghai is 23:59 UTC the day before.
        let next = next_fire(&daily, SHANGHAI, at("2026-11-23T23:59:00Z")).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-11-24T08:00:00+08:00");
        let every_ten = parse_cron("0 */10 * * * *").unwrap();
        assert_eq!(
            next_fire(&every_ten, SHANGHAI, at("2026-11-24T00:10:00Z")).unwrap().to_rfc3339(),
            "2026-11-24T08:20:00+08:00"
        );
    }

    #[test]
    fn a_missed_daily_report_is_caught_up_once_for_its_period() {
        let j = job("0 0 8 * * *", &["report", "--period", "day", "--mail"]);
        // Started at 09:30 on the 24th: the 08:00 run was due to send the 23rd.
        let argv = catch_up(&j, SHANGHAI, at("2026-11-24T01:30:00Z")).unwrap();
        assert_eq!(argv.join(" "), "report --period day --mail --date 2026-11-23");
        // Started at 07:00: the last due run (the 23rd at 08:00) was for the 22nd.
        let argv = catch_up(&j, SHANGHAI, at("2026-11-23T23:00:00Z")).unwrap();
        assert!(argv.ends_with(&["--date".to_string(), "2026-11-22".to_string()]));
    }

    #[test]
    fn weekly_and_monthly_catch_up() {
        let weekly = job("0 0 8 * * Mon", &["report", "--period", "week", "--mail"]);
        let argv = catch_up(&weekly, SHANGHAI, at("2026-11-25T02:00:00Z")).unwrap();
        assert!(argv.ends_with(&["--date".to_string(), "2026-11-16".to_string()]), "{argv:?}");
        let monthly = job("0 0 8 1 * *", &["report", "--period", "month", "--mail"]);
        let argv = catch_up(&monthly, SHANGHAI, at("2026-11-20T02:00:00Z")).unwrap();
        assert!(argv.ends_with(&["--date".to_string(), "2026-10-01".to_string()]), "{argv:?}");
    }

    #[test]
    fn only_mailing_reports_without_dates_catch_up() {
        let now = at("2026-11-24T01:30:00Z");
        assert!(catch_up(&job("0 */10 * * * *", &["ingest"]), SHANGHAI, now).is_none());
        assert!(catch_up(&job("0 0 8 * * *", &["report", "--period", "day"]), SHANGHAI, now).is_none());
        assert!(
            catch_up(&job("0 0 8 * * *", &["report", "--mail", "--date", "2026-11-01"]), SHANGHAI, now)
                .is_none()
        );
    }

    #[test]
    fn owner_mail_goes_once_in_any_60_minutes_not_once_per_clock_hour() {
        assert!(owner_mail_due(None, at("2026-11-24T10:59:00Z")));
        let last = Some(at("2026-11-24T10:59:00Z"));
        // The next clock hour has begun, but only a minute has passed.
        assert!(!owner_mail_due(last, at("2026-11-24T11:00:00Z")));
        assert!(!owner_mail_due(last, at("2026-11-24T11:58:59Z")));
        assert!(owner_mail_due(last, at("2026-11-24T11:59:00Z")));
        // A clock stepped back before the last mail holds the next one back too.
        assert!(!owner_mail_due(last, at("2026-11-24T10:30:00Z")));
    }

    #[test]
    fn command_lines_mask_passwords() {
        let j = job("* * * * * *", &["import", "legacy", "--from", "postgres://old:pw1@db:5432/legacy"]);
        assert_eq!(j.command_line(), "import legacy --from postgres://old:***@db:5432/legacy");
        let argv: Vec<String> =
            ["import", "legacy", "--from=postgres://old:pw1@db/legacy?password=pw2"].map(String::from).into();
        assert_eq!(shown_command(&argv), "import legacy --from=postgres://old:***@db/legacy?password=***");
        let plain = job("* * * * * *", &["report", "--period", "day", "--to", "a@example.com"]);
        assert_eq!(plain.command_line(), "report --period day --to a@example.com");
    }

    #[test]
    fn ingest_jobs_are_those_that_write() {
        assert!(job("* * * * * *", &["ingest"]).is_ingest());
        assert!(job("* * * * * *", &["ingest", "--from-file", "x.csv"]).is_ingest());
        assert!(!job("* * * * * *", &["ingest", "--dry-run"]).is_ingest());
        assert!(!job("* * * * * *", &["report", "--mail"]).is_ingest());
    }

    #[test]
    fn bad_jobs_say_why() {
        assert!(parse_cron("every day").is_err());
        assert!(parse_run(&["schedule".to_string()]).unwrap_err().contains("cannot run"));
        assert!(parse_run(&["report".to_string(), "--perod".to_string()]).unwrap_err().contains("--perod"));
        assert!(parse_run(&[]).unwrap_err().contains("empty"));
    }
}
