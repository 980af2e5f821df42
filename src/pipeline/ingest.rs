//! The ingest run: extract → transform → warehouse, batch by batch (`itstat ingest`).
//!
//! The run, in order: take the ingest lock; open Dify read-only and resolve the app selection;
//! derive the stored rows again if the rules in force (the selection included) changed;
//! re-read messages still pending; stream messages from the cursor minus the look-back window
//! (or from `--since`, or from the beginning with `--full`); for each batch, classify in
//! Polars and write the new and changed rows, the sessions of the users they touch and the
//! cursor in one transaction (`pipeline::derive`); finally mirror Dify's current feedback.
//! Every step is recorded in `ingest_runs`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use tracing::{debug, info, warn};

use super::derive::{self, FirstLoadSessions, SessionsAhead, plan_against};
use crate::config::Settings;
use crate::error::one_line;
use crate::extract::dify::{DifyReader, DifySource};
use crate::extract::file::{ExportFile, ExportRow};
use crate::extract::{FeedbackRow, RawMessage};
use crate::progress::Progress;
use crate::transform::RulesInForce;
use crate::transform::plan::WritePlan;
use crate::transform::rules::AppSelection;
use crate::warehouse::checkpoint::Checkpointer;
use crate::warehouse::feedback;
use crate::warehouse::lock::IngestLock;
use crate::warehouse::rows::{CONTENT_HASH_KEY, CONTENT_HASH_VERSION, MessageRow};
use crate::warehouse::runs::{APPS_CONFIG_KEY, APPS_KEY, RULES_KEY, RunCounts};
use crate::warehouse::{OpenMode, Tx, Warehouse};

/// Rows in the first batch a first load reads from Dify (later batches hold `--batch-size`).
const FIRST_BATCH: usize = 2_000;

/// Which part of Dify's history a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// From the cursor minus the look-back window (all history when there is no cursor).
    Incremental,
    /// All history.
    Full,
    /// From the start of a local date.
    Since(NaiveDate),
    /// No Dify read: recompute from stored text.
    Reclassify,
    /// An export file instead of Dify.
    File,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Incremental => "incremental",
            Scope::Full => "full",
            Scope::Since(_) => "since",
            Scope::Reclassify => "reclassify",
            Scope::File => "file",
        }
    }
}

/// What one ingest run does, as the command line asked.
#[derive(Debug, Clone)]
pub struct IngestPlan {
    /// Which part of Dify's history to read.
    pub scope: Scope,
    /// Rows per batch; `None`: the warehouse's default ([`Warehouse::default_batch_size`]).
    pub batch_size: Option<usize>,
    /// How long to wait for another ingest to finish.
    pub wait: Duration,
}

/// Runs an ingest.
pub async fn run(settings: &Settings, plan: &IngestPlan, from_file: Option<&Path>) -> anyhow::Result<()> {
    let scope = plan.scope;
    let rules = settings.rules.clone();
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ReadWrite).await?;
    let mut lock = wh.lock_ingest(plan.wait).await?;
    wh.abandon_stale_runs().await?;
    wh.ensure_indexes().await?;
    let cursor_before = wh.cursor().await?;
    let run_id = wh.start_run(scope.name(), cursor_before).await?;

    let started = Instant::now();
    let mut job = Ingest {
        wh: &wh,
        lock: &mut lock,
        settings,
        rules,
        batch_size: plan.batch_size.unwrap_or_else(|| wh.default_batch_size()),
        counts: RunCounts::default(),
        timings: Timings::default(),
        first_load: false,
        deriving_ahead: None,
        checkpointer: background_checkpoints(&wh),
    };
    let result = match from_file {
        Some(path) => job.run_file(path).await,
        None => job.run(scope).await,
    };
    // The last background checkpoint ends before the pool closes and copies back the rest.
    drop(job.checkpointer.take());
    let cursor_after = wh.cursor().await.unwrap_or(cursor_before);
    let counts = job.counts;
    let t = &job.timings;
    debug!(
        classify_s = t.classify.as_secs_f64(),
        compare_s = t.compare.as_secs_f64(),
        write_s = t.write.as_secs_f64(),
        commit_s = t.commit.as_secs_f64(),
        wait_s = t.wait.as_secs_f64(),
        derive_ahead_s = t.derive_ahead.as_secs_f64(),
        "Time spent."
    );
    match &result {
        Ok(()) => {
            wh.finish_run(run_id, "ok", counts, cursor_after, None).await?;
            info!(
                read = counts.rows_read,
                new = counts.rows_new,
                changed = counts.rows_changed,
                feedback = counts.feedback_changed,
                seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
                "Ingest finished."
            );
            println!(
                "ingest: read {} messages, {} new, {} changed, {} feedback changes ({:.1} s)",
                counts.rows_read,
                counts.rows_new,
                counts.rows_changed,
                counts.feedback_changed,
                started.elapsed().as_secs_f64()
            );
        }
        Err(err) => {
            let text = one_line(err);
            if let Err(e) = wh.finish_run(run_id, "failed", counts, cursor_after, Some(&text)).await {
                warn!(error = %e, "Could not record the failed run.");
            }
        }
    }
    lock.release().await;
    wh.close().await;
    result
}

/// The state of one ingest run.
struct Ingest<'a> {
    wh: &'a Warehouse,
    lock: &'a mut IngestLock,
    settings: &'a Settings,
    /// The rules in force, with the app selection this run resolved.
    rules: RulesInForce,
    batch_size: usize,
    counts: RunCounts,
    timings: Timings,
    /// Set while a first full load runs: the warehouse held no message when this read of all
    /// of Dify began. Such a load builds the secondary indexes once at its end.
    first_load: bool,
    /// Set while a first load's batches come with their sessions derived ahead on the reader's
    /// side (`derive::FirstLoadSessions`); every row is then known to be new (`plan_writes`).
    /// The flag is shared with the reader: cleared, it stops deriving
    /// ([`Ingest::stop_deriving_ahead`]).
    deriving_ahead: Option<Arc<AtomicBool>>,
    /// With a SQLite warehouse: copies committed batches from the WAL into the file on a
    /// thread of its own, beside the writer ([`background_checkpoints`]).
    checkpointer: Option<Checkpointer>,
}

/// Where a run's time goes, per step, summed over batches (logged at the end; see
/// docs/performance.md).
#[derive(Debug, Default)]
struct Timings {
    /// Polars rules.
    classify: Duration,
    /// Comparing the batch with the stored rows.
    compare: Duration,
    /// Sessions computed and rows written with them.
    write: Duration,
    /// Cursor, state and commit.
    commit: Duration,
    /// The writer waiting for the reader's next batch: when it is large, reading Dify and
    /// classifying is the slower side of the load.
    wait: Duration,
    /// A first load's sessions, derived on the reader's side.
    derive_ahead: Duration,
}

impl Ingest<'_> {
    /// Derives the stored rows again when asked to, or when the rules in force changed since
    /// they were derived (docs/metrics.md §8).
    ///
    /// Stored content hashes of an older version are brought to the current one first, so
    /// that the comparisons that follow see only real changes (`pipeline::rehash`).
    async fn reclassify_if_needed(&mut self, scope: Scope) -> anyhow::Result<()> {
        super::rehash::rehash_if_needed(self.wh, self.batch_size).await?;
        let stored_rules = self.wh.meta(RULES_KEY).await?;
        let changed = stored_rules.as_deref() != Some(self.rules.canonical().as_str());
        if changed && scope != Scope::Reclassify {
            let what = crate::transform::rules::changed_keys(
                stored_rules.as_deref().unwrap_or_default(),
                &self.rules,
            );
            info!(changed = %what.join(", "), "The rules in force changed since the last run; deriving the stored messages again.");
        }
        let asked = scope == Scope::Reclassify || scope == Scope::Full;
        // An empty warehouse (a first load) has nothing to derive again.
        if (changed || asked) && self.wh.has_messages().await? {
            self.counts.rows_changed +=
                derive::reclassify(self.wh, &self.rules, self.batch_size).await? as i64;
        }
        Ok(())
    }

    async fn run(&mut self, scope: Scope) -> anyhow::Result<()> {
        if scope == Scope::Reclassify {
            self.rules = super::offline_rules(self.wh, self.settings).await?;
            return self.reclassify_if_needed(scope).await;
        }
        let source = DifySource::connect(self.settings.dify_url()?, self.settings.dify.timeout).await?;
        let mut dify = source.reader().await?;
        debug!(optional = ?dify.optional_present, "Probed the Dify schema.");
        let apps = dify.resolve_apps(&self.settings.dify.apps).await?;
        self.rules = self.settings.rules.clone().with_app_ids(apps.clone());
        let apps_key = apps.join(",");
        let stored_apps = self.wh.meta(APPS_KEY).await?;
        let scope = match stored_apps {
            Some(stored) if stored != apps_key && scope != Scope::Full => {
                info!("The app selection changed; reading all of Dify's history.");
                Scope::Full
            }
            _ => scope,
        };
        // Stored messages of apps no longer selected leave the numbers here (their `included`
        // is part of the rules), and newly selected apps' history comes with the full read.
        self.reclassify_if_needed(scope).await?;
        let start = self.window_start(scope).await?;
        if let Some(start) = start {
            self.reread_pending(&mut dify, start).await?;
        }
        debug!(from = ?start, "Reading Dify messages.");
        let mut ahead = None;
        if start.is_none() && !self.wh.has_messages().await? {
            info!("The warehouse is empty: first full load, indexes built at the end.");
            self.wh.drop_indexes().await?;
            self.first_load = true;
            let mut tx = self.wh.begin().await?;
            let marks = tx.marks_snapshot().await?;
            let next_rowid = tx.next_session_rowid().await?;
            tx.commit().await?;
            let wanted = Arc::new(AtomicBool::new(true));
            self.deriving_ahead = Some(wanted.clone());
            ahead = Some(Ahead { sessions: FirstLoadSessions::new(marks, &self.rules, next_rowid), wanted });
        }
        let read = self.read_while_writing(dify, start, &apps, ahead).await;
        // Even when reading failed: the batches written are whole and deserve their indexes
        // (a killed load gets them from the next run's `ensure_indexes`). Dify's feedback is
        // read meanwhile: the index build keeps one core busy and leaves the other idle.
        let first_load = std::mem::take(&mut self.first_load);
        self.deriving_ahead = None;
        let mut dify = match read {
            Ok(dify) => dify,
            Err(read) => {
                // The read's error is the one to report; a failed build is redone next run.
                if let Err(e) = self.build_first_load_indexes(first_load).await {
                    warn!(error = %one_line(&e), "Could not build the indexes after a failed read; the next ingest builds them.");
                }
                return Err(read);
            }
        };
        let everything = scope == Scope::Full;
        let (indexed, feedback) = tokio::join!(
            self.build_first_load_indexes(first_load),
            read_feedback(self.wh, &mut dify, &apps, everything)
        );
        indexed?;
        // Only now: a full re-read for a changed selection that stops half-way is started
        // again by the next run, which still sees the old selection.
        self.record_apps(&apps_key).await?;
        self.store_feedback(&mut dify, feedback?).await?;
        dify.finish().await?;
        Ok(())
    }

    /// After a first load: builds the indexes it dropped and lets the checkpointer copy them.
    async fn build_first_load_indexes(&self, first_load: bool) -> anyhow::Result<()> {
        if !first_load {
            return Ok(());
        }
        let step = Instant::now();
        let built = self.wh.ensure_indexes().await;
        debug!(seconds = step.elapsed().as_secs_f64(), "Built the indexes.");
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.nudge();
        }
        built
    }

    /// Records the app selection a complete read of Dify was made with.
    async fn record_apps(&self, apps_key: &str) -> anyhow::Result<()> {
        let config = self.settings.dify.apps.join("\n");
        let stored = (self.wh.meta(APPS_KEY).await?, self.wh.meta(APPS_CONFIG_KEY).await?);
        if stored == (Some(apps_key.to_string()), Some(config.clone())) {
            return Ok(());
        }
        let mut tx = self.wh.begin().await?;
        tx.set_meta(APPS_KEY, apps_key).await?;
        tx.set_meta(APPS_CONFIG_KEY, &config).await?;
        tx.commit().await
    }

    /// The rules for an export file: `[dify] apps` names resolve to the ids the file gives them
    /// (`found`), or to those the last read of Dify found for the same names.
    async fn file_rules(&self, found: &HashSet<String>) -> anyhow::Result<RulesInForce> {
        let rules = self.settings.rules.clone();
        if !matches!(rules.apps, AppSelection::Unresolved { .. }) {
            return Ok(rules);
        }
        let wanted = &self.settings.dify.apps;
        let mut ids: Vec<String> = found.iter().cloned().collect();
        let same_names = self.wh.meta(APPS_CONFIG_KEY).await?.as_deref() == Some(&wanted.join("\n"));
        match self.wh.meta(APPS_KEY).await? {
            Some(stored) if same_names => {
                ids.extend(stored.split(',').filter(|id| !id.is_empty()).map(str::to_string))
            }
            _ if found.is_empty() => warn!(
                "`[dify] apps` names apps that were not read from Dify under these names yet; their messages count from the next `itstat ingest` from Dify."
            ),
            _ => {}
        }
        Ok(rules.with_app_ids(ids))
    }

    /// Streams Dify's messages from `start` and writes them batch by batch.
    ///
    /// Reading runs on a task of its own, so it overlaps writing on the other core; the task
    /// decodes Dify's rows while the batch before is classified (and, in a first load, its
    /// sessions derived: `ahead`) on a blocking thread. The channel holds one batch, which
    /// bounds memory to about five batches. When writing fails (or this future is dropped) the
    /// reader is stopped; when reading fails, the batches already read are still written (each
    /// is whole, with its cursor) and the read error is returned.
    async fn read_while_writing(
        &mut self,
        mut dify: DifyReader,
        start: Option<NaiveDateTime>,
        apps: &[String],
        mut ahead: Option<Ahead>,
    ) -> anyhow::Result<DifyReader> {
        let total = dify.count_since(start, apps).await?;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Batch>(1);
        let (rules, apps, batch_size) = (self.rules.clone(), apps.to_vec(), self.batch_size);
        let mut reader = AbortOnDrop(tokio::spawn(async move {
            let mut spent = Spent::default();
            let read = async {
                let mut rows = dify.messages_since(start, &apps);
                let mut raw = Vec::with_capacity(batch_size);
                // A first load's first batch is small, so that the writer starts early instead
                // of waiting for a whole batch to be read and classified. Into a warehouse that
                // holds messages every batch rewrites pages all over the indexes (their keys
                // are random ids and user keys), so there a run reads whole batches: 10,000 new
                // messages are one commit, not two that each rewrite the same pages
                // (docs/performance.md, "Incremental runs").
                let mut limit = if ahead.is_some() { batch_size.min(FIRST_BATCH) } else { batch_size };
                let mut preparing: Option<Preparing> = None;
                let send = async |batch: Batch| {
                    sender.send(batch).await.map_err(|_| anyhow::anyhow!("the batch writer stopped"))
                };
                loop {
                    let row = rows.next().await?;
                    let end = row.is_none();
                    raw.extend(row);
                    let full = raw.len() >= limit || (end && !raw.is_empty());
                    // A prepared batch goes to the writer as soon as it is ready, and the next
                    // one is prepared only after it: a first load derives batches in order.
                    let ready = preparing.as_ref().is_some_and(|p| p.0.is_finished());
                    let previous = match preparing.take() {
                        Some(p) if ready || full || end => Some(p.finish(&mut spent, &mut ahead).await?),
                        other => {
                            preparing = other;
                            None
                        }
                    };
                    if full {
                        limit = batch_size;
                        preparing = Some(Preparing::start(std::mem::take(&mut raw), &rules, ahead.take()));
                    }
                    if let Some(batch) = previous {
                        send(batch).await?;
                    }
                    if end {
                        if let Some(last) = preparing.take() {
                            send(last.finish(&mut spent, &mut ahead).await?).await?;
                        }
                        return anyhow::Ok(());
                    }
                }
            }
            .await;
            (dify, spent, read)
        }));
        let mut progress = Progress::start("Reading Dify", Some(total));
        loop {
            let waiting = Instant::now();
            let Some(batch) = receiver.recv().await else { break };
            self.timings.wait += waiting.elapsed();
            let rows = batch.rows.len() as u64;
            // On an error the reader is aborted as it is dropped.
            self.write_classified(batch).await?;
            progress.add(rows);
        }
        progress.finish();
        let (dify, spent, read) =
            (&mut reader.0).await.map_err(|e| anyhow::anyhow!("reading Dify stopped unexpectedly: {e}"))?;
        self.timings.classify += spent.classify;
        self.timings.derive_ahead += spent.derive;
        read?;
        Ok(dify)
    }

    /// Reads an export file: every row is upserted like a database row, and the feedback the
    /// file carries becomes the current feedback of its messages.
    async fn run_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let file = ExportFile::open(path)?;
        let configured = &self.settings.rules.apps;
        // The whole file is read once before anything is written: a bad row anywhere stops
        // the run with the warehouse as it was. The same pass finds the ids of the apps the
        // file names.
        let found = apps_named_in(&file, configured.names(), self.batch_size).await?;
        self.rules = self.file_rules(&found).await?;
        self.reclassify_if_needed(Scope::File).await?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut feedback: Vec<FeedbackRow> = Vec::new();
        let batch_size = self.batch_size;
        file.read(batch_size, async |rows: Vec<ExportRow>| {
            let mut messages = Vec::with_capacity(rows.len());
            for row in rows {
                if configured.admits(&row.message.app_id, row.app_name.as_deref()) {
                    seen.insert(row.message.id.clone());
                    feedback.extend(row.feedback);
                    messages.push(row.message);
                }
            }
            self.write_batch(messages).await
        })
        .await?;
        let stored: Vec<FeedbackRow> = self
            .wh
            .stored_feedback(None)
            .await?
            .into_iter()
            .filter(|f| seen.contains(&f.message_id))
            .collect();
        let diff = feedback::diff(feedback, stored);
        if !diff.upserts.is_empty() || !diff.missing.is_empty() {
            let mut tx = self.wh.begin().await?;
            tx.apply_feedback(&diff.upserts, &diff.missing).await?;
            tx.commit().await?;
            self.counts.feedback_changed += (diff.upserts.len() + diff.missing.len()) as i64;
        }
        Ok(())
    }

    /// Where this run starts reading, in naive UTC; `None` for all history.
    async fn window_start(&self, scope: Scope) -> anyhow::Result<Option<NaiveDateTime>> {
        read_start(self.settings, Some(self.wh), scope).await
    }

    /// Re-reads messages still pending that are older than the window but younger than
    /// `pending_max_age` (measured back from the cursor, the newest message seen).
    async fn reread_pending(&mut self, dify: &mut DifyReader, start: NaiveDateTime) -> anyhow::Result<()> {
        let Some(cursor) = self.wh.cursor().await? else { return Ok(()) };
        let max_age = chrono::Duration::from_std(self.settings.dify.pending_max_age).unwrap_or_default();
        let ids = self.wh.pending_ids(cursor - max_age, start).await?;
        if ids.is_empty() {
            return Ok(());
        }
        debug!(pending = ids.len(), "Re-reading pending messages.");
        for chunk in ids.chunks(self.batch_size) {
            let rows = dify.by_ids(chunk).await?;
            self.write_batch(rows).await?;
        }
        Ok(())
    }

    /// Classifies a batch and writes new and changed rows, their users' sessions and the
    /// cursor in one transaction.
    async fn write_batch(&mut self, rows: Vec<RawMessage>) -> anyhow::Result<()> {
        let mut spent = Spent::default();
        let batch = Preparing::start(rows, &self.rules, None).finish(&mut spent, &mut None).await?;
        self.timings.classify += spent.classify;
        self.write_classified(batch).await
    }

    /// Writes a classified batch; a connection lost on the way names the warehouse.
    async fn write_classified(&mut self, batch: Batch) -> anyhow::Result<()> {
        let place = self.wh.place.clone();
        let written = self.write_classified_in_tx(batch).await;
        // The batch's rows are freed now: hand their memory back, or it piles up across
        // malloc's arenas and the peak grows with the run (src/memory.rs).
        crate::memory::release_free_memory();
        written.map_err(|e| {
            let lost = e.chain().any(|c| matches!(c.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::Io(_))));
            if lost { e.context(format!("lost the connection to the warehouse at {place}")) } else { e }
        })
    }

    async fn write_classified_in_tx(&mut self, batch: Batch) -> anyhow::Result<()> {
        if batch.rows.is_empty() {
            return Ok(());
        }
        self.counts.rows_read += batch.rows.len() as i64;
        let Batch { rows: classified, newest, sessions } = batch;
        let step = Instant::now();
        let mut tx = self.wh.begin().await?;
        let ahead = match self.deriving_ahead {
            None => None,
            // Writers take turns, so the marks cannot change between this check and the commit.
            Some(_) => match sessions {
                Some(sessions) if sessions.marks_version == tx.marks_version().await? => Some(sessions),
                _ => {
                    tx.rollback().await?;
                    self.stop_deriving_ahead().await?;
                    tx = self.wh.begin().await?;
                    None
                }
            },
        };
        let plan = plan_writes(&mut tx, &classified, ahead.is_some()).await?;
        self.counts.rows_new += plan.new as i64;
        self.counts.rows_changed += plan.changed as i64;
        self.timings.compare += step.elapsed();
        let step = Instant::now();
        let now = chrono::Utc::now().naive_utc();
        let stats = match &ahead {
            Some(ahead) => derive::write_batch_ahead(&mut tx, &plan.rows, ahead, now).await?,
            None => derive::write_batch(&mut tx, &plan.rows, &plan.affected, &self.rules, now).await?,
        };
        self.timings.write += step.elapsed();
        let step = Instant::now();
        if let Some(newest) = newest {
            tx.advance_cursor(newest).await?;
        }
        tx.set_meta(RULES_KEY, &self.rules.canonical()).await?;
        self.lock.ensure_held(&self.wh.place).await?;
        crate::testing::maybe_hold_batch().await;
        tx.commit().await?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.nudge();
        }
        self.timings.commit += step.elapsed();
        debug!(
            rows = classified.len(),
            written = plan.rows.len(),
            sessions = stats.sessions_written,
            "Committed batch."
        );
        crate::testing::maybe_abort_after_batch();
        crate::testing::maybe_pause_after_batch().await;
        Ok(())
    }

    /// Marks changed while a first load ran (an operator marked messages it had written): its
    /// sessions, derived ahead under the marks of its start, no longer hold. The marked users'
    /// stored sessions were derived again by the mark itself, so the rest of the load is
    /// written as an incremental ingest writes: with the indexes, built now, and each batch's
    /// users' sessions read back from the warehouse.
    async fn stop_deriving_ahead(&mut self) -> anyhow::Result<()> {
        if let Some(wanted) = self.deriving_ahead.take() {
            wanted.store(false, Ordering::Relaxed);
        }
        info!(
            "Marks changed during the first load: building the indexes now, and deriving the rest of its sessions from the warehouse."
        );
        self.wh.ensure_indexes().await?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.nudge();
        }
        Ok(())
    }

    /// Brings the stored feedback to Dify's current state ([`read_feedback`] read it), and
    /// keeps Dify's summary for the next run.
    async fn store_feedback(&mut self, dify: &mut DifyReader, read: FeedbackRead) -> anyhow::Result<()> {
        let FeedbackRead { summary, buckets, current } = read;
        let Some(current) = current else {
            debug!(buckets = summary.len(), changed = 0, dify_rows = 0, "Feedback unchanged in Dify.");
            return Ok(());
        };
        let buckets = buckets.as_deref();
        let stored = self.wh.stored_feedback_in(self.rules.apps.ids(), buckets).await?;
        debug!(
            buckets = summary.len(),
            changed = buckets.map_or("all".to_string(), |b| b.len().to_string()),
            dify_rows = current.len(),
            stored_rows = stored.len(),
            "Comparing feedback."
        );
        let diff = feedback::diff(current, stored);
        let gone_ids: Vec<String> = diff.missing.iter().map(|(id, _)| id.clone()).collect();
        let still_in_dify = dify.existing_ids(&gone_ids).await?;
        let deletes: Vec<(String, String)> =
            diff.missing.into_iter().filter(|(id, _)| still_in_dify.contains(id)).collect();
        let mut tx = self.wh.begin().await?;
        if !diff.upserts.is_empty() || !deletes.is_empty() {
            tx.apply_feedback(&diff.upserts, &deletes).await?;
        }
        tx.keep_feedback_summary(&summary).await?;
        tx.commit().await?;
        self.counts.feedback_changed += (diff.upserts.len() + deletes.len()) as i64;
        Ok(())
    }
}

/// Dify's current feedback, read for [`Ingest::store_feedback`].
struct FeedbackRead {
    /// Dify's summary per bucket of message ids.
    summary: feedback::Summary,
    /// The buckets whose feedback changed since the kept summary (`None`: every bucket).
    buckets: Option<Vec<String>>,
    /// Dify's feedback rows in those buckets; `None` when no bucket changed.
    current: Option<Vec<FeedbackRow>>,
}

/// A thread that copies a SQLite warehouse's WAL back into the file after each batch's commit
/// (`warehouse::checkpoint`), so that the copy overlaps the run's next batch and its feedback
/// instead of following them when the pool closes: a first load's whole WAL, and an
/// incremental run's rewritten index pages (docs/performance.md, "Incremental runs"). Only a
/// speed-up: without it the close copies the WAL back.
fn background_checkpoints(wh: &Warehouse) -> Option<Checkpointer> {
    let path = wh.sqlite_path.as_deref()?;
    Checkpointer::start(path).inspect_err(|e| debug!(error = %e, "No background checkpoints.")).ok()
}

/// Reads Dify's feedback in the buckets of message ids whose feedback changed since the last
/// run (`warehouse::feedback`); `everything` (`--full`) reads every bucket, whatever the kept
/// summary says. Writes nothing, so it can run beside the index build.
async fn read_feedback(
    wh: &Warehouse,
    dify: &mut DifyReader,
    apps: &[String],
    everything: bool,
) -> anyhow::Result<FeedbackRead> {
    let summary = feedback::Summary::new(apps, dify.feedback_summary(apps, feedback::BUCKET_CHARS).await?);
    let kept = if everything { None } else { wh.feedback_summary().await? };
    let buckets = summary.changed_since(kept.as_ref());
    if buckets.as_ref().is_some_and(Vec::is_empty) {
        return Ok(FeedbackRead { summary, buckets, current: None });
    }
    let current = dify.feedbacks(apps, feedback::BUCKET_CHARS, buckets.as_deref()).await?;
    Ok(FeedbackRead { summary, buckets, current: Some(current) })
}

/// Reads a whole export file, checking every row, and returns the ids of the apps it names
/// among `names` (the `[dify] apps` entries that are not ids).
async fn apps_named_in(
    file: &ExportFile,
    names: &[String],
    batch_size: usize,
) -> anyhow::Result<HashSet<String>> {
    let mut found = HashSet::new();
    file.read(batch_size, async |rows: Vec<ExportRow>| {
        for row in rows {
            if row.app_name.as_ref().is_some_and(|n| names.contains(n)) {
                found.insert(row.message.app_id);
            }
        }
        Ok(())
    })
    .await?;
    Ok(found)
}

/// A spawned task that is aborted when its handle is dropped: when the ingest stops early
/// (a write failed, or the scheduler abandoned the job), the Dify reader stops with it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A batch of classified rows, the newest Dify time it holds and, in a first load, its
/// sessions derived ahead.
struct Batch {
    rows: Vec<MessageRow>,
    newest: Option<NaiveDateTime>,
    sessions: Option<SessionsAhead>,
}

/// A first load's derivation of sessions on the reader's side, and the writer's say whether it
/// is still wanted ([`Ingest::stop_deriving_ahead`]).
struct Ahead {
    sessions: FirstLoadSessions,
    wanted: Arc<AtomicBool>,
}

/// Time the reader's blocking work took.
#[derive(Debug, Default)]
struct Spent {
    classify: Duration,
    derive: Duration,
}

/// A batch being classified, and in a first load its sessions derived, on a blocking thread.
struct Preparing(tokio::task::JoinHandle<(anyhow::Result<Batch>, Option<Ahead>, Spent)>);

impl Preparing {
    fn start(rows: Vec<RawMessage>, rules: &RulesInForce, ahead: Option<Ahead>) -> Preparing {
        let rules = rules.clone();
        Preparing(tokio::task::spawn_blocking(move || {
            let mut spent = Spent::default();
            let step = Instant::now();
            let newest = rows.iter().map(|r| r.created_at).max();
            let classified = derive::classify(rows, &rules).context("classifying messages");
            spent.classify = step.elapsed();
            let mut ahead = ahead.filter(|a| a.wanted.load(Ordering::Relaxed));
            let batch = classified.and_then(|rows| {
                let step = Instant::now();
                let sessions = match ahead.as_mut() {
                    Some(a) => Some(a.sessions.derive(&rows).context("computing sessions")?),
                    None => None,
                };
                spent.derive = step.elapsed();
                Ok(Batch { rows, newest, sessions })
            });
            (batch, ahead, spent)
        }))
    }

    /// Waits for the batch; the first load's derivation comes back into `ahead`.
    async fn finish(self, spent: &mut Spent, ahead: &mut Option<Ahead>) -> anyhow::Result<Batch> {
        let (batch, back, took) = self.0.await.context("preparing a batch")?;
        spent.classify += took.classify;
        spent.derive += took.derive;
        *ahead = back;
        batch
    }
}

/// Compares a batch with the stored rows ([`plan_against`]).
///
/// `known_new` skips the comparison: a full read into a warehouse that was empty when the run
/// began meets every message id once, so nothing can be stored yet.
async fn plan_writes<'a>(
    tx: &mut Tx,
    rows: &'a [MessageRow],
    known_new: bool,
) -> anyhow::Result<WritePlan<'a, MessageRow>> {
    if known_new {
        // Every row is written; a first load carries its users' sessions (`OpenSessions`) and
        // needs no restart points.
        return Ok(WritePlan::all_new(rows));
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    let stored = tx.existing(&ids).await?;
    Ok(plan_against(rows, &stored))
}

/// Where a run of `scope` starts reading Dify, in naive UTC; `None` for all history (and for an
/// incremental run without a warehouse to hold a cursor).
async fn read_start(
    settings: &Settings,
    wh: Option<&Warehouse>,
    scope: Scope,
) -> anyhow::Result<Option<NaiveDateTime>> {
    Ok(match (wh, scope) {
        (_, Scope::Since(date)) => Some(crate::calendar::local_midnight_utc(settings.rules.tz, date)),
        (Some(wh), Scope::Incremental) => {
            let lookback = chrono::Duration::from_std(settings.dify.lookback).unwrap_or_default();
            wh.cursor().await?.map(|c| c - lookback)
        }
        _ => None,
    })
}

/// `--dry-run`: reads and classifies, counts what would change, writes nothing.
pub async fn dry_run(settings: &Settings, plan: &IngestPlan, from_file: Option<&Path>) -> anyhow::Result<()> {
    let wh = existing_warehouse(settings).await?;
    let default_batch =
        wh.as_ref().map_or(crate::warehouse::DEFAULT_BATCH_SIZE_SQLITE, Warehouse::default_batch_size);
    let (scope, batch_size) = (plan.scope, plan.batch_size.unwrap_or(default_batch));
    let (rules, dify) = dry_run_source(settings, scope, batch_size, from_file).await?;
    let (mut read, mut new, mut changed) = (0usize, 0usize, 0usize);
    let mut count = async |rows: Vec<RawMessage>| -> anyhow::Result<()> {
        read += rows.len();
        let classified = derive::classify_off_runtime(rows, &rules).await?;
        match &wh {
            Some(wh) => {
                let mut tx = wh.begin().await?;
                let plan = plan_writes(&mut tx, &classified, false).await?;
                new += plan.new;
                changed += plan.changed;
            }
            None => new += classified.len(),
        }
        Ok(())
    };
    if let Some(path) = from_file {
        let file = ExportFile::open(path)?;
        let configured = &settings.rules.apps;
        let selected = |row: &ExportRow| configured.admits(&row.message.app_id, row.app_name.as_deref());
        file.read(batch_size, async |rows: Vec<ExportRow>| {
            count(rows.into_iter().filter(|r| selected(r)).map(|r| r.message).collect()).await
        })
        .await?;
    } else if let Some((mut reader, apps)) = dify {
        let start = read_start(settings, wh.as_ref(), scope).await?;
        reader
            .stream_since(start, &apps, batch_size, async |rows: Vec<RawMessage>| count(rows).await)
            .await?;
        reader.finish().await?;
    }
    print_dry_run(wh.as_ref(), &rules, scope, (read, new, changed)).await
}

/// The warehouse a dry run compares with; `None` when there is none yet (every row is new).
async fn existing_warehouse(settings: &Settings) -> anyhow::Result<Option<Warehouse>> {
    match Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await {
        Ok(wh) => Ok(Some(wh)),
        Err(e) if crate::error::exit_code(&e) == 1 => Ok(None),
        Err(e) => Err(e),
    }
}

/// The rules with the app selection a dry run reads with, and Dify's reader with the apps it
/// reads (none for a file or a reclassification, which read no Dify).
async fn dry_run_source(
    settings: &Settings,
    scope: Scope,
    batch_size: usize,
    from_file: Option<&Path>,
) -> anyhow::Result<(RulesInForce, Option<(DifyReader, Vec<String>)>)> {
    let rules = settings.rules.clone();
    if let Some(path) = from_file {
        let file = ExportFile::open(path)?;
        let found = apps_named_in(&file, settings.rules.apps.names(), batch_size).await?;
        return Ok((rules.with_app_ids(found), None));
    }
    if scope == Scope::Reclassify {
        return Ok((rules, None));
    }
    let source = DifySource::connect(settings.dify_url()?, settings.dify.timeout).await?;
    let mut reader = source.reader().await?;
    let apps = reader.resolve_apps(&settings.dify.apps).await?;
    Ok((rules.with_app_ids(apps.clone()), Some((reader, apps))))
}

/// Prints the dry run's counts (`read`, `new`, `changed`), and whether the stored rows' hashes
/// are of an older version or the stored messages would be reclassified.
async fn print_dry_run(
    wh: Option<&Warehouse>,
    rules: &RulesInForce,
    scope: Scope,
    (read, new, changed): (usize, usize, usize),
) -> anyhow::Result<()> {
    let stale_hashes = match wh {
        Some(wh) => {
            wh.meta(CONTENT_HASH_KEY).await?.as_deref() != Some(CONTENT_HASH_VERSION)
                && wh.has_messages().await?
        }
        None => false,
    };
    if stale_hashes {
        // Their hashes are of another version: every compared row looks changed.
        println!(
            "dry run: the stored messages carry content hashes of an older itstat; the next ingest hashes them again first, and the counts below take every stored row read for changed"
        );
    }
    let reclassify = match wh {
        Some(wh) => {
            wh.meta(RULES_KEY).await?.is_some_and(|r| r != rules.canonical()) || scope == Scope::Reclassify
        }
        None => false,
    };
    println!(
        "dry run: read {read} messages: {new} new, {changed} changed, {} unchanged{}; nothing written",
        read - new - changed,
        if reclassify { "; stored messages would be reclassified" } else { "" }
    );
    Ok(())
}
