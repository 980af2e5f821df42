//! `itstat schedule`: runs the `[[schedule]]` jobs in-process until SIGTERM or Ctrl-C.
//!
//! Each job has its own timer, which reads the wall clock at least every 30 s (so a clock step
//! or a resumed VM moves its fire time with it); a job still running when its next time comes
//! is skipped with a warning, so it never overlaps itself (ingest jobs also take the ingest
//! lock). Every run is recorded in `job_runs`; a failure is logged, mailed to `[mail] owner`
//! at most once per job in any 60 minutes (also when the warehouse is down and records
//! nothing), and the scheduler carries on; a job that panics (a bug) is a failure like any
//! other. At start it logs every job's next fire time and catches up report periods missed
//! while it was down, after the ingest jobs ran once, so the reports hold current data (see
//! `catch_up_reports`). It listens for signals before it runs anything: on one it stops
//! starting jobs, lets a running job (a catch-up too) finish for a few seconds, records it
//! `aborted`, then exits 0 (an abandoned ingest rolls back its open batch; committed batches
//! are whole).

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use lettre::Message;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::bail_user;
use crate::cli::ScheduleArgs;
use crate::config::Settings;
use crate::error::{exit_code, one_line};
use crate::schedule::{Job, catch_up, jobs, next_fire, owner_mail_due, parse_run, sleep_until_wall};
use crate::warehouse::deliveries::Delivery;
use crate::warehouse::{OpenMode, Warehouse};

/// How long a running job may finish after a stop signal.
const GRACE: Duration = Duration::from_secs(5);

/// How long the scheduler, stopping, tries to record the runs it abandons (an abandoned
/// ingest may hold SQLite's write lock until the process ends).
const RECORD_ABANDONED: Duration = Duration::from_secs(2);

/// The runs in progress: how many, and the `job_runs` ids of those recorded.
#[derive(Default)]
struct InProgress {
    count: AtomicUsize,
    run_ids: Mutex<BTreeSet<i64>>,
}

/// One run counted in [`InProgress`] for as long as it is held; dropping it (the run ended,
/// or its task went away) uncounts it.
struct Running(Arc<Shared>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.in_progress.count.fetch_sub(1, Ordering::SeqCst);
    }
}

impl InProgress {
    /// The recorded ids; a job that panicked holding the lock leaves the set intact.
    fn ids(&self) -> std::sync::MutexGuard<'_, BTreeSet<i64>> {
        self.run_ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add_id(&self, run_id: i64) {
        self.ids().insert(run_id);
    }

    /// Forgets a run id; false if it was not there (the stopping scheduler took it).
    fn remove_id(&self, run_id: i64) -> bool {
        self.ids().remove(&run_id)
    }

    fn take_ids(&self) -> Vec<i64> {
        std::mem::take(&mut *self.ids()).into_iter().collect()
    }

    fn any(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }
}

/// What every job of one `itstat schedule` shares.
struct Shared {
    settings: Settings,
    /// Runs a job's command: the dispatcher of `cmd`, handed in (it runs `schedule` too).
    runner: Runner,
    in_progress: InProgress,
    /// When this process last mailed the owner about each job, by job name.
    owner_mailed: Mutex<HashMap<String, DateTime<Utc>>>,
    /// Catch-up reports waiting for an ingest that succeeds.
    pending_catch_ups: Mutex<Vec<Job>>,
}

impl Shared {
    fn new(settings: &Settings, runner: Runner) -> Shared {
        Shared {
            settings: settings.clone(),
            runner,
            in_progress: InProgress::default(),
            owner_mailed: Mutex::default(),
            pending_catch_ups: Mutex::default(),
        }
    }

    /// The catch-ups waiting for an ingest; a job that panicked holding the lock leaves them.
    fn pending_catch_ups(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.pending_catch_ups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The owner-mail times; a job that panicked holding the lock leaves them intact.
    fn owner_mailed(&self) -> std::sync::MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        self.owner_mailed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a run as in progress until the returned guard is dropped. Taken before the run's
    /// task is spawned, so a stop that comes meanwhile waits for it.
    fn running(self: &Arc<Self>) -> Running {
        self.in_progress.count.fetch_add(1, Ordering::SeqCst);
        Running(self.clone())
    }
}

/// A boxed future of a command run in-process (the recursion — `schedule` runs commands and
/// is one — needs a named future type). Not `Send`: the scheduler runs each job on a thread
/// of its own.
pub type CommandFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + 'a>>;

/// What runs one parsed command with given settings: `cmd::run_boxed`, handed to the commands
/// that run others (`schedule`, `demo`) so that they need not import the dispatcher above them.
pub type Runner = for<'a> fn(&'a Settings, &'a crate::cli::Command) -> CommandFuture<'a>;

/// Runs `itstat schedule`, each job's command through `runner`.
pub async fn run(settings: &Settings, args: &ScheduleArgs, runner: Runner) -> anyhow::Result<()> {
    let jobs = jobs(&settings.schedule)?;
    if jobs.is_empty() {
        bail_user!("no `[[schedule]]` jobs in the config; see itstat.example.toml for examples");
    }
    for job in &jobs {
        let next = next_fire(&job.schedule, settings.rules.tz, Utc::now()).map(|t| t.to_rfc3339());
        let next = next.unwrap_or_else(|| "never".to_string());
        info!(job = %job.name, next = %next, command = %job.command_line(), "Scheduled.");
    }
    if args.list {
        print_list(&jobs, settings);
        return Ok(());
    }
    // Listening before any job runs: a signal during the catch-up (a report waiting on SMTP)
    // killed the process by default, and its run stayed `running`.
    let signal = stop_signal()?;
    info!(jobs = jobs.len(), "Running until SIGTERM or Ctrl-C.");
    let shared = Arc::new(Shared::new(settings, runner));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(start(shared.clone(), jobs, !args.no_catch_up, stop_rx));
    signal.await;
    info!("Stopping: no new jobs start.");
    let _ = stop_tx.send(true);
    let deadline = tokio::time::Instant::now() + GRACE;
    while shared.in_progress.any() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if shared.in_progress.any() {
        warn!("A job was still running; abandoned (its open transaction rolls back).");
        record_abandoned(&shared.settings, shared.in_progress.take_ids()).await;
    }
    Ok(())
}

/// Catches up missed reports, then starts every job's timer, unless a stop came first.
async fn start(shared: Arc<Shared>, jobs: Vec<Job>, catch_up: bool, stop: watch::Receiver<bool>) {
    if catch_up {
        catch_up_reports(&shared, &jobs, &stop).await;
    }
    for job in jobs {
        if *stop.borrow() {
            return;
        }
        tokio::spawn(job_loop(shared.clone(), job, stop.clone()));
    }
}

/// Marks the runs the scheduler abandons `aborted` in `job_runs`, as far as it can in
/// [`RECORD_ABANDONED`]; what it cannot record stays `running`.
async fn record_abandoned(settings: &Settings, run_ids: Vec<i64>) {
    if run_ids.is_empty() {
        return;
    }
    let record = async {
        let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
        for id in run_ids {
            wh.finish_job(id, "aborted", Some("the scheduler stopped before the job ended")).await?;
        }
        wh.close().await;
        anyhow::Ok(())
    };
    match tokio::time::timeout(RECORD_ABANDONED, record).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!(error = %one_line(&e), "Could not record the abandoned job."),
        Err(_) => warn!("Could not record the abandoned job in time; its run stays 'running'."),
    }
}

fn print_list(jobs: &[Job], settings: &Settings) {
    for job in jobs {
        let times: Vec<String> = job
            .schedule
            .after(&Utc::now().with_timezone(&settings.rules.tz))
            .take(3)
            .map(|t| t.to_rfc3339())
            .collect();
        println!("{:<16} {:<24} next: {}", job.name, job.command_line(), times.join(", "));
    }
}

/// Registers for SIGTERM and SIGINT (Ctrl-C) now; the future ends when one arrives.
#[cfg(unix)]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Ctrl-C; it registers when first polled, which `run` does before any job starts.
#[cfg(not(unix))]
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Catches up the reports missed while the scheduler was down, from current data: the ingest
/// jobs run once first (as jobs: recorded, abandoned on a stop). If none of them succeeds
/// (Dify not up yet after a reboot), the reports wait for the first scheduled ingest that
/// does, rather than go out from old data and be logged as delivered. With no ingest job the
/// reports come from the warehouse as it is; without a warehouse there is nothing to report
/// from, and the catch-up is skipped with a warning.
async fn catch_up_reports(shared: &Arc<Shared>, jobs: &[Job], stop: &watch::Receiver<bool>) {
    let due = due_catch_ups(jobs, shared.settings.rules.tz);
    if due.is_empty() {
        return;
    }
    let ingests: Vec<&Job> = jobs.iter().filter(|j| j.is_ingest()).collect();
    if ingests.is_empty() {
        if let Err(e) = Warehouse::open(&shared.settings.warehouse_url, OpenMode::ExistingOnly).await
            && exit_code(&e) == 1
        {
            warn!(
                error = %one_line(&e),
                "Not catching up missed reports: no warehouse and no ingest job to fill it; add an ingest job to `[[schedule]]`, or run `itstat ingest` and then `itstat report --date DATE --mail`."
            );
            return;
        }
        run_catch_ups(shared, due, stop).await;
        return;
    }
    info!(reports = due.len(), "Ingesting first, so the missed reports hold current data.");
    let mut fresh = false;
    for job in ingests {
        if *stop.borrow() {
            return;
        }
        let _running = shared.running();
        fresh |= run_job_on_thread(shared.clone(), job.clone()).await;
    }
    if fresh {
        run_catch_ups(shared, due, stop).await;
    } else {
        warn!("No ingest succeeded; the missed reports wait for the first scheduled ingest that does.");
        *shared.pending_catch_ups() = due;
    }
}

/// The catch-up runs of the mailing report jobs (see [`catch_up`]).
fn due_catch_ups(jobs: &[Job], tz: chrono_tz::Tz) -> Vec<Job> {
    let mut due = Vec::new();
    for job in jobs {
        let Some(argv) = catch_up(job, tz, crate::clock::now()) else { continue };
        match parse_run(&argv) {
            Ok(command) => due.push(Job { command, argv, ..job.clone() }),
            Err(e) => warn!(job = %job.name, error = %e, "Cannot catch up."),
        }
    }
    due
}

/// Runs catch-up reports one after the other, like jobs; none starts once a stop came.
async fn run_catch_ups(shared: &Arc<Shared>, due: Vec<Job>, stop: &watch::Receiver<bool>) {
    for catch in due {
        if *stop.borrow() {
            return;
        }
        info!(job = %catch.name, command = %catch.command_line(), "Catching up the last report period.");
        let _running = shared.running();
        run_job_on_thread(shared.clone(), catch).await;
    }
}

/// Runs the catch-ups left waiting for an ingest that succeeds, once one has.
async fn run_pending_catch_ups(shared: &Arc<Shared>, stop: &watch::Receiver<bool>) {
    let due = std::mem::take(&mut *shared.pending_catch_ups());
    if !due.is_empty() {
        info!(reports = due.len(), "An ingest succeeded: catching up the missed reports.");
        run_catch_ups(shared, due, stop).await;
    }
}

async fn job_loop(shared: Arc<Shared>, job: Job, mut stop: watch::Receiver<bool>) {
    let busy = Arc::new(AtomicBool::new(false));
    let tz = shared.settings.rules.tz;
    loop {
        let Some(next) = next_fire(&job.schedule, tz, Utc::now()) else {
            info!(job = %job.name, "No more fire times.");
            return;
        };
        tokio::select! {
            _ = sleep_until_wall(next.with_timezone(&Utc), Utc::now) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if busy.swap(true, Ordering::SeqCst) {
            warn!(job = %job.name, "The previous run is still going; skipped this one.");
            continue;
        }
        let running = shared.running();
        let (shared, job, busy, stop) = (shared.clone(), job.clone(), busy.clone(), stop.clone());
        tokio::spawn(async move {
            let ok = run_job_on_thread(shared.clone(), job.clone()).await;
            // Still `busy`: the ingest does not run again under the reports it freshened.
            if ok && job.is_ingest() {
                run_pending_catch_ups(&shared, &stop).await;
            }
            busy.store(false, Ordering::SeqCst);
            drop(running);
        });
    }
}

/// Runs one job on a blocking thread of its own, entered into the runtime. Commands are not
/// `Send`, so they cannot move between worker threads; and Polars blocks in place (tokio's
/// `block_in_place`), which tokio refuses on a `LocalSet` — a report job run there panicked.
/// A job that panics all the same (a bug) fails like a job that returns an error: it is
/// recorded `failed`, the owner is told, and the scheduler goes on.
async fn run_job_on_thread(shared: Arc<Shared>, job: Job) -> bool {
    let runtime = tokio::runtime::Handle::current();
    let name = job.name.clone();
    match tokio::task::spawn_blocking(move || runtime.block_on(run_job(&shared, &job))).await {
        Ok(ok) => ok,
        Err(e) => {
            error!(job = %name, error = %e, "Job failed: it stopped unexpectedly.");
            false
        }
    }
}

/// Runs a job's command with the config file as it is now: an edit of `itstat.toml` (a rule,
/// a recipient) counts from the next job on, without restarting the scheduler, and the rules
/// of every job are those the file says (docs/metrics.md §8). A file that no longer loads
/// fails the job with its error. The jobs' times (`[[schedule]]`, `timezone`) are read at
/// start. Settings made without a file (tests, `demo`) are used as they are.
async fn run_current(shared: &Shared, command: &crate::cli::Command) -> anyhow::Result<()> {
    let (settings, runner) = (&shared.settings, shared.runner);
    let Some(path) = &settings.config_path else {
        return runner(settings, command).await;
    };
    let current = Settings::load(Some(path))
        .map_err(|e| e.context(format!("{} no longer loads, so the job did not run", path.display())))?;
    runner(&current, command).await
}

/// Runs one job in-process, records it, and reports a failure; true if it succeeded. A
/// warehouse that does not open (a PostgreSQL warehouse down) leaves the run unrecorded, but
/// the job still runs and its failure still reaches the owner.
async fn run_job(shared: &Shared, job: &Job) -> bool {
    let (settings, in_progress) = (&shared.settings, &shared.in_progress);
    let command_line = job.command_line();
    info!(job = %job.name, command = %command_line, "Job started.");
    let wh = match Warehouse::open(&settings.warehouse_url, OpenMode::ReadWrite).await {
        Ok(wh) => Some(wh),
        Err(e) => {
            warn!(job = %job.name, error = %one_line(&e), "Cannot record the job: the warehouse does not open.");
            None
        }
    };
    let run_id = match &wh {
        Some(wh) => wh.start_job(&job.name, &command_line).await.ok(),
        None => None,
    };
    if let Some(id) = run_id {
        in_progress.add_id(id);
    }
    let error = match AssertUnwindSafe(run_current(shared, &job.command)).catch_unwind().await {
        // A `check` that finds alerts did its job (it has notified); the job did not fail.
        Ok(result) => result.as_ref().err().filter(|e| !crate::error::is_alerts_fired(e)).map(one_line),
        Err(panic) => {
            Some(format!("itstat panicked (a bug; please report it): {}", panic_text(panic.as_ref())))
        }
    };
    if let (Some(wh), Some(id)) = (&wh, run_id)
        && in_progress.remove_id(id)
    {
        let outcome = if error.is_some() { "failed" } else { "ok" };
        if let Err(e) = wh.finish_job(id, outcome, error.as_deref()).await {
            warn!(job = %job.name, error = %e, "Could not record the job.");
        }
    }
    let ok = error.is_none();
    match error {
        None => info!(job = %job.name, "Job finished."),
        Some(text) => {
            error!(job = %job.name, error = %text, "Job failed.");
            if let Err(e) = tell_owner(shared, wh.as_ref(), job, &text).await {
                warn!(job = %job.name, error = %one_line(&e), "Could not mail the owner.");
            }
        }
    }
    if let Some(wh) = wh {
        wh.close().await;
    }
    ok
}

/// The message a panic carries (`panic!` makes a `&str` or a `String`).
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text
    } else {
        "no message"
    }
}

/// Mails `[mail] owner` about a failure, unless a mail about this job went in the last 60
/// minutes ([`owner_mail_due`]). The last time is what this process sent (kept in memory, so
/// the rule holds when the warehouse is down) or what the delivery log holds (so it holds
/// across restarts), whichever is later.
async fn tell_owner(
    shared: &Shared,
    wh: Option<&Warehouse>,
    job: &Job,
    error_text: &str,
) -> anyhow::Result<()> {
    let settings = &shared.settings;
    let (Some(owner), Some(from)) = (&settings.mail.owner, &settings.mail.from) else { return Ok(()) };
    // The log holds the bare address, as for reports, however `[mail] owner` writes it.
    let recipient = owner.email.to_string();
    let kind = format!("failure:{}", job.name);
    let now = Utc::now();
    let logged = match wh {
        // A log that cannot be read leaves the memory to keep the rule.
        Some(wh) => wh.last_sent(&kind, &recipient).await.ok().flatten().map(|t| t.and_utc()),
        None => None,
    };
    let remembered = shared.owner_mailed().get(&job.name).copied();
    if !owner_mail_due(logged.max(remembered), now) {
        return Ok(());
    }
    let subject = format!("itstat: job {} failed", job.name);
    let unrecorded = if wh.is_none() {
        " (the warehouse could not be opened, so this run is not in job_runs)"
    } else {
        ""
    };
    let body = format!(
        "The scheduled job \"{}\" (itstat {}) failed at {}{unrecorded}:\n\n{error_text}\n\n\
         itstat keeps running; while the job keeps failing you get at most one such mail per job in any 60 minutes.\n",
        job.name,
        job.command_line(),
        now.with_timezone(&settings.rules.tz).format("%Y-%m-%d %H:%M:%S %Z"),
    );
    let message = Message::builder().from(from.clone()).to(owner.clone()).subject(&subject).body(body)?;
    let result = crate::mail::send(&settings.mail, &message).await;
    if result.is_ok() {
        shared.owner_mailed().insert(job.name.clone(), now);
    }
    if let Some(wh) = wh {
        // The label is informational (docs/warehouse.md: the local hour); the rule reads the time.
        let hour = now.with_timezone(&settings.rules.tz).format("%Y-%m-%dT%H").to_string();
        let error = result.as_ref().err().map(one_line);
        wh.record_delivery(&Delivery {
            report_kind: &kind,
            period_label: &hour,
            recipient: &recipient,
            subject: &subject,
            attachment: None,
            status: if result.is_ok() { "sent" } else { "failed" },
            error: error.as_deref(),
        })
        .await?;
    }
    result
}
