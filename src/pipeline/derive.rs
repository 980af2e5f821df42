//! Applying the derivation (docs/metrics.md §8) to the warehouse: the one path by which
//! verdicts and sessions reach it, for every command.
//!
//! Each function loads the facts the derivation needs from the warehouse, calls the pure
//! functions of `transform` (`messages::classify`, `sessions::restart_point`,
//! `derive::derive_sessions`) and hands the result back to the warehouse, inside the caller's
//! transaction:
//! - [`write_batch`]: an ingest batch's new and changed messages with their users' sessions;
//! - [`FirstLoadSessions`] and [`write_batch_ahead`]: the same for a first full load, whose
//!   sessions are derived ahead of the writer;
//! - [`rederive_users`]: the sessions of users whose marks changed (`mark`, `import legacy`);
//! - [`reclassify`]: every stored message and every session, after the rules changed.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDateTime;
// The maps built per batch on the writer's path hash message ids and user keys by the
// thousand: foldhash instead of std's SipHash (docs/performance.md, "The first load").
use foldhash::{HashMap as FastMap, HashSet as FastSet};
use polars::prelude::PolarsResult;
use tracing::{debug, info};

use crate::extract::{RawMessage, frame};
use crate::progress::Progress;
use crate::transform::derive::{Assignment, Derived, SessionCols, SessionInput, SessionRow, derive_sessions};
use crate::transform::plan::{self, Affected, SessionScope, WritePlan, earliest_per_user};
use crate::transform::{RulesInForce, messages, sessions};
use crate::warehouse::messages::Stored;
use crate::warehouse::rows::{MessageRow, Verdicts, message_rows};
use crate::warehouse::runs::RULES_KEY;
use crate::warehouse::sessions::{InputLookup, MarksSnapshot, MessageMarks, groups_by_rows, user_groups};
use crate::warehouse::verdicts::{StoredCursor, StoredPage};
use crate::warehouse::{Tx, Warehouse};

/// What a derivation pass wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct SessionStats {
    /// Stored messages whose session columns changed.
    pub messages_moved: usize,
    /// Session rows written.
    pub sessions_written: usize,
}

/// Runs the per-message rules on raw rows: the warehouse rows with their verdicts.
pub fn classify(rows: Vec<RawMessage>, rules: &RulesInForce) -> PolarsResult<Vec<MessageRow>> {
    let classified = messages::classify(frame::to_frame(&rows)?, rules)?;
    message_rows(rows, &classified)
}

/// [`classify`] off the async runtime (it is CPU-bound).
pub async fn classify_off_runtime(
    rows: Vec<RawMessage>,
    rules: &RulesInForce,
) -> anyhow::Result<Vec<MessageRow>> {
    let rules = rules.clone();
    tokio::task::spawn_blocking(move || classify(rows, &rules))
        .await
        .context("classifying messages")?
        .context("classifying messages")
}

/// Where each affected user's sessions are derived again from (`transform::sessions::restart_point`).
async fn restart_points(tx: &mut Tx, affected: &[Affected]) -> anyhow::Result<Vec<Affected>> {
    let anchors = tx.restart_anchors(affected).await?;
    Ok(anchors
        .into_iter()
        .map(|a| {
            let previous = a.previous_start.zip(a.previous_id);
            let (from_at, from_id) = sessions::restart_point((a.from_at, a.from_id), previous);
            Affected { user_key: a.user_key, from_at, from_id }
        })
        .collect())
}

/// Derives the sessions of `inputs` off the async runtime.
async fn derive(
    inputs: Vec<SessionInput>,
    rules: &RulesInForce,
) -> anyhow::Result<(Vec<SessionInput>, Derived)> {
    let rules = rules.clone();
    tokio::task::spawn_blocking(move || {
        let derived = derive_sessions(&inputs, &rules)?;
        Ok::<_, polars::prelude::PolarsError>((inputs, derived))
    })
    .await
    .context("computing sessions")?
    .context("computing sessions")
}

/// Derives again the sessions of `affected` users from their restart points on, and stores
/// them; their messages are found by `lookup`.
pub async fn rederive_users(
    tx: &mut Tx,
    affected: &[Affected],
    rules: &RulesInForce,
    lookup: InputLookup,
) -> anyhow::Result<SessionStats> {
    if affected.is_empty() {
        return Ok(SessionStats::default());
    }
    let started = Instant::now();
    let restart = restart_points(tx, affected).await?;
    tx.set_restart_points(&restart).await?;
    let restarted = started.elapsed();
    let inputs = tx.session_inputs(lookup).await?;
    let loaded = started.elapsed();
    let (inputs, derived) = derive(inputs, rules).await?;
    let derived_at = started.elapsed();
    let changed = derived.changed(&inputs);
    tx.apply_sessions(&changed, &derived.sessions).await?;
    debug!(
        users = affected.len(),
        messages = inputs.len(),
        restart = ?restarted,
        load = ?(loaded - restarted),
        derive = ?(derived_at - loaded),
        write = ?(started.elapsed() - derived_at),
        "Derived users' sessions again."
    );
    Ok(SessionStats { messages_moved: changed.len(), sessions_written: derived.sessions.len() })
}

/// The last session of every user seen so far in a first full load, carried from batch to
/// batch. A first load reads Dify oldest first, so a batch can only extend a user's last
/// session or open new ones after it: the messages of that session are all the next batch
/// needs, and carrying them spares re-reading them through the (user, time) index, which the
/// load builds only at its end.
#[derive(Debug, Default)]
struct OpenSessions {
    by_user: FastMap<String, OpenSession>,
}

/// A user's last session in a first load: its row as written, under which rowid, and the
/// inputs of its messages.
#[derive(Debug)]
struct OpenSession {
    rowid: i64,
    row: SessionRow,
    inputs: Vec<SessionInput>,
}

impl OpenSessions {
    /// The carried open sessions of the batch's users, taken out: their messages' inputs, and
    /// their rows with their rowids by session id.
    fn take_users(&mut self, rows: &[MessageRow]) -> (Vec<SessionInput>, FastMap<String, (i64, SessionRow)>) {
        let users: FastSet<&str> = rows.iter().filter(|r| r.included).map(|r| r.user_key.as_str()).collect();
        let mut inputs = Vec::new();
        let mut carried = FastMap::default();
        for open in users.iter().filter_map(|u| self.by_user.remove(*u)) {
            inputs.extend(open.inputs);
            carried.insert(open.row.session_id.clone(), (open.rowid, open.row));
        }
        (inputs, carried)
    }

    /// Keeps, for each user, their last derived session: its row and rowid (`rowids` runs
    /// beside `derived.sessions`) and the inputs of its messages, as stored in it.
    ///
    /// Runs once per batch, so it looks up only what it keeps: a session's id is the id of its
    /// first message, unique across users, so the last sessions are a set of ids and their
    /// messages are found by one pass over the assignments.
    fn keep_last(&mut self, inputs: Vec<SessionInput>, derived: &Derived, rowids: &[i64]) {
        // A user's sessions follow each other: the last is the one that started last.
        let mut last: FastMap<&str, usize> = FastMap::default();
        for (i, session) in derived.sessions.iter().enumerate() {
            let entry = last.entry(session.user_key.as_str()).or_insert(i);
            let kept = &derived.sessions[*entry];
            if (session.started_at, &session.session_id) > (kept.started_at, &kept.session_id) {
                *entry = i;
            }
        }
        for &i in last.values() {
            let row = derived.sessions[i].clone();
            let open = OpenSession { rowid: rowids[i], row, inputs: Vec::new() };
            self.by_user.insert(open.row.user_key.clone(), open);
        }
        let last_ids: FastSet<&str> =
            last.values().map(|&i| derived.sessions[i].session_id.as_str()).collect();
        let kept: FastMap<&str, &SessionCols> = derived
            .assignments
            .iter()
            .filter(|a| last_ids.contains(a.session.session_id.as_str()))
            .map(|a| (a.message_id.as_str(), &a.session))
            .collect();
        for mut input in inputs {
            if let Some(session) = kept.get(input.message_id.as_str()) {
                input.stored = Some((*session).clone());
                if let Some(open) = self.by_user.get_mut(input.user_key.as_str()) {
                    open.inputs.push(input);
                }
            }
        }
    }
}

/// A first full load's sessions, derived batch by batch on the reader's side of the load, so
/// that deriving batch N+1 overlaps writing batch N (docs/performance.md, "The first load").
///
/// Each user's open session is carried in memory ([`OpenSessions`]), and the marks are those
/// of a snapshot taken when the load began: the writer checks, inside each batch's
/// transaction, that the marks are still at the snapshot's version ([`SessionsAhead`]). A mark
/// made meanwhile (an operator's `itstat mark` during the load) makes the rest of the load an
/// incremental one, whose sessions come from the warehouse (`pipeline::ingest`).
///
/// Each session row gets a rowid here, in the order sessions appear, and keeps it when a later
/// batch extends the session: SQLite writes rows under these rowids
/// ([`Tx::write_first_load_sessions`]) while the key on session ids is dropped.
#[derive(Debug)]
pub struct FirstLoadSessions {
    open: OpenSessions,
    marks: MarksSnapshot,
    rules: RulesInForce,
    /// The rowid of the next new session row ([`Tx::next_session_rowid`]).
    next_rowid: i64,
}

/// A first-load batch's sessions, derived ahead of its write by [`FirstLoadSessions`].
#[derive(Debug)]
pub struct SessionsAhead {
    /// The version of the marks they were derived under ([`Tx::marks_version`]).
    pub marks_version: i64,
    derived: Derived,
    /// Positions in `derived.assignments` of the carried messages whose session changed.
    changed: Vec<usize>,
    /// Positions in `derived.assignments` of the batch's messages.
    batch: Vec<usize>,
    /// The session rows to write, as positions in `derived.sessions` with their rowids: new
    /// sessions and carried ones that changed (a carried session the batch left as it was is
    /// already stored).
    write: Vec<(usize, i64)>,
    /// Carried sessions no longer derived (ids).
    vanished: Vec<String>,
}

impl FirstLoadSessions {
    /// Starts a first load's derivation under `marks` (mostly none: marks made before the
    /// first load come from the legacy platform's migration), numbering new session rows from
    /// `next_rowid` on.
    pub fn new(marks: MarksSnapshot, rules: &RulesInForce, next_rowid: i64) -> FirstLoadSessions {
        FirstLoadSessions { open: OpenSessions::default(), marks, rules: rules.clone(), next_rowid }
    }

    /// Derives the sessions of the next batch of the load (CPU-bound: call it off the async
    /// runtime), batches in the order they are read.
    pub fn derive(&mut self, rows: &[MessageRow]) -> PolarsResult<SessionsAhead> {
        let (mut inputs, mut carried) = self.open.take_users(rows);
        let n_stored = inputs.len();
        inputs.extend(batch_inputs(rows.iter(), &self.marks.marks));
        let derived = derive_sessions(&inputs, &self.rules)?;
        let changed = derived.changed_positions(&inputs[..n_stored]);
        let carried_ids: FastSet<&str> = inputs[..n_stored].iter().map(|i| i.message_id.as_str()).collect();
        let batch = (0..derived.assignments.len())
            .filter(|&i| !carried_ids.contains(derived.assignments[i].message_id.as_str()))
            .collect();
        let mut rowids = Vec::with_capacity(derived.sessions.len());
        let mut write = Vec::new();
        for (i, session) in derived.sessions.iter().enumerate() {
            let rowid = match carried.remove(&session.session_id) {
                Some((rowid, stored)) if stored == *session => rowid,
                Some((rowid, _)) => {
                    write.push((i, rowid));
                    rowid
                }
                None => {
                    let rowid = self.next_rowid;
                    self.next_rowid += 1;
                    write.push((i, rowid));
                    rowid
                }
            };
            rowids.push(rowid);
        }
        let vanished = carried.into_keys().collect();
        self.open.keep_last(inputs, &derived, &rowids);
        Ok(SessionsAhead { marks_version: self.marks.version, derived, changed, batch, write, vanished })
    }
}

/// Writes a first-load batch with the sessions [`FirstLoadSessions`] derived for it, in `tx`:
/// the rows with their sessions, the carried messages whose session changed, and the new and
/// changed session rows. The caller has checked that the marks are still at
/// `ahead.marks_version`.
pub async fn write_batch_ahead(
    tx: &mut Tx,
    rows: &[&MessageRow],
    ahead: &SessionsAhead,
    now: NaiveDateTime,
) -> anyhow::Result<SessionStats> {
    let assignments = &ahead.derived.assignments;
    let batch_sessions: FastMap<&str, &SessionCols> =
        ahead.batch.iter().map(|&i| (assignments[i].message_id.as_str(), &assignments[i].session)).collect();
    tx.upsert_messages(rows, now, Some(&batch_sessions), true).await?;
    let changed: Vec<&Assignment> = ahead.changed.iter().map(|&i| &assignments[i]).collect();
    let vanished: Vec<&str> = ahead.vanished.iter().map(String::as_str).collect();
    let sessions: Vec<(i64, &SessionRow)> =
        ahead.write.iter().map(|&(i, rowid)| (rowid, &ahead.derived.sessions[i])).collect();
    tx.write_first_load_sessions(&changed, &vanished, &sessions).await?;
    Ok(SessionStats { messages_moved: changed.len(), sessions_written: sessions.len() })
}

/// Writes a batch's new and changed rows together with their users' sessions, in `tx`.
///
/// The sessions are derived first, from the stored messages of the affected users (from their
/// restart points on) merged with the batch, so each row is written once with its session;
/// stored rows whose session columns changed are updated, and the users' session rows
/// replaced. `affected` holds the position of every batch row (and the old position of
/// changed ones).
pub async fn write_batch(
    tx: &mut Tx,
    rows: &[&MessageRow],
    affected: &[Affected],
    rules: &RulesInForce,
    now: NaiveDateTime,
) -> anyhow::Result<SessionStats> {
    if rows.is_empty() {
        return Ok(SessionStats::default());
    }
    let started = Instant::now();
    let batch_ids: FastSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    let restart = restart_points(tx, affected).await?;
    tx.set_restart_points(&restart).await?;
    let loaded = tx.session_inputs(InputLookup::ByUser).await?;
    let mut inputs: Vec<SessionInput> =
        loaded.into_iter().filter(|i| !batch_ids.contains(i.message_id.as_str())).collect();
    let n_stored = inputs.len();
    let marks = batch_marks(tx, rows).await?;
    inputs.extend(batch_inputs(rows.iter().copied(), &marks));
    let (inputs, derived) = derive(inputs, rules).await?;
    let loaded = started.elapsed();
    let batch_sessions: FastMap<&str, &SessionCols> = derived
        .assignments
        .iter()
        .filter(|a| batch_ids.contains(a.message_id.as_str()))
        .map(|a| (a.message_id.as_str(), &a.session))
        .collect();
    tx.upsert_messages(rows, now, Some(&batch_sessions), false).await?;
    let changed: Vec<&Assignment> = derived.changed(&inputs[..n_stored]);
    tx.apply_sessions(&changed, &derived.sessions).await?;
    let stats = SessionStats { messages_moved: changed.len(), sessions_written: derived.sessions.len() };
    debug!(derive = ?loaded, write = ?(started.elapsed() - loaded), "Wrote batch with sessions.");
    Ok(stats)
}

/// The current marks of a batch's rows (none asked for when no mark exists at all).
async fn batch_marks(tx: &mut Tx, rows: &[&MessageRow]) -> anyhow::Result<HashMap<String, MessageMarks>> {
    if !tx.has_marks().await? {
        return Ok(HashMap::new());
    }
    tx.current_marks(&rows.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>()).await
}

/// The included rows as session inputs, with their marks.
fn batch_inputs<'a>(
    rows: impl Iterator<Item = &'a MessageRow>,
    marks: &HashMap<String, MessageMarks>,
) -> impl Iterator<Item = SessionInput> {
    rows.filter(|r| r.included).map(|r| {
        let (kb_mark, manual_mark) = marks.get(r.message_id.as_str()).copied().unwrap_or_default();
        SessionInput {
            message_id: r.message_id.clone(),
            user_key: r.user_key.clone(),
            created_at: r.created_at,
            state: r.state,
            kb_hit: r.kb_hit,
            transfer: r.transfer,
            kb_mark,
            manual_mark,
            stored: None,
        }
    })
}

/// Compares classified rows with their stored state ([`plan::plan`]): what an ingest batch
/// writes, and from where its users' sessions are derived again.
pub fn plan_against<'a>(
    rows: &'a [MessageRow],
    stored: &HashMap<String, Stored>,
) -> WritePlan<'a, MessageRow> {
    plan::plan(rows, stored, false)
}

/// What the rules say of a page of stored messages ([`screen`]).
struct Screened {
    /// Ids of the rows whose verdicts differ from the stored ones.
    differing: Vec<String>,
    /// Included messages per user under the rules.
    included: Vec<(String, usize)>,
}

/// Classifies a page of stored messages and compares the verdicts with the stored ones.
fn screen(page: StoredPage, rules: &RulesInForce) -> anyhow::Result<Screened> {
    let classified = messages::classify(page.frame, rules)?;
    let verdicts = Verdicts::of(&classified)?;
    let differing = page.stored.differing(&verdicts)?;
    let mut included: FastMap<&str, usize> = FastMap::default();
    for v in (0..verdicts.len()).map(|i| verdicts.get(i)).filter(|v| v.included) {
        *included.entry(v.user_key).or_default() += 1;
    }
    Ok(Screened {
        differing: differing.into_iter().map(|i| page.stored.id(i).to_string()).collect(),
        included: included.into_iter().map(|(user, n)| (user.to_string(), n)).collect(),
    })
}

/// [`screen`] on a blocking thread: it runs beside the read of the next page.
fn start_screen(page: StoredPage, rules: &RulesInForce) -> tokio::task::JoinHandle<anyhow::Result<Screened>> {
    let rules = rules.clone();
    tokio::task::spawn_blocking(move || screen(page, &rules))
}

/// Reads the stored messages of `ids` (rows [`screen`] found with other verdicts) whole,
/// classifies them and writes them as an ingest writes changed rows ([`plan_rewrite`]).
async fn rewrite_stored(tx: &mut Tx, ids: &[String], rules: &RulesInForce) -> anyhow::Result<Rewritten> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let page = tx.stored_raw_of(&ids).await?;
    let stored: HashMap<String, Stored> = page.iter().map(|p| (p.raw.id.clone(), p.stored())).collect();
    let raw: Vec<RawMessage> = page.into_iter().map(|p| p.raw).collect();
    let classified = classify_off_runtime(raw, rules).await?;
    let plan = plan::plan(&classified, &stored, true);
    tx.upsert_messages(&plan.rows, chrono::Utc::now().naive_utc(), None::<&HashMap<_, _>>, false).await?;
    Ok(Rewritten { changed: plan.changed, affected: plan.affected })
}

/// What [`rewrite_stored`] changed.
struct Rewritten {
    changed: usize,
    affected: Vec<Affected>,
}

/// A re-derivation takes users in groups of about this many batches' worth of messages
/// (100,000 into SQLite by default): a few hundred MiB at most, whatever the size of the
/// table. At 300,000 messages a group is a third of the table, read in one pass
/// (`InputLookup`); groups of 1,000 users instead held up to 159,417 messages of the bench's
/// very active users and peaked at 251 MiB (docs/performance.md, "Reclassification").
const SESSION_GROUP_BATCHES: usize = 10;
/// ... and at most this many, whatever the batch size: PostgreSQL's default batches of 15,000
/// made groups of 150,000 that peaked at 263 MiB in `reclassify-flip` (300k).
const SESSION_GROUP_MAX: usize = 100_000;

/// Derives every stored message and every session again under `rules`, in one transaction,
/// and records the rules: the warehouse then equals a fresh full ingest under them (for the
/// messages it holds). Classifying a page of stored rows runs beside reading the next one;
/// sessions are derived a group of users at a time, so memory stays flat however big the
/// table. Returns how many stored messages changed.
pub async fn reclassify(wh: &Warehouse, rules: &RulesInForce, batch_size: usize) -> anyhow::Result<usize> {
    // Compared by content hash below: stored hashes of an older version first become current.
    super::rehash::rehash_if_needed(wh, batch_size).await?;
    let started = Instant::now();
    let sessions_scope = SessionScope::after(wh.meta(RULES_KEY).await?.as_deref(), rules);
    let mut tx = wh.begin().await?;
    let mut affected: Vec<Affected> = Vec::new();
    // Included messages per user, to group the users and size each group's share of the table.
    let mut per_user: HashMap<String, usize> = HashMap::new();
    let (mut after, mut total, mut changed) = (StoredCursor::default(), 0usize, 0usize);
    let mut screening: Option<tokio::task::JoinHandle<anyhow::Result<Screened>>> = None;
    let mut progress = Progress::start("Reclassifying", Some(tx.message_count().await?));
    loop {
        let page = tx.stored_verdicts(&after, batch_size).await?;
        if let Some(next) = &page.next {
            after = next.clone();
        }
        total += page.len();
        progress.add(page.len() as u64);
        crate::memory::release_free_memory();
        let next = (!page.is_empty()).then(|| start_screen(page, rules));
        if let Some(done) = screening.take() {
            let screened = done.await.context("classifying messages")?.context("classifying messages")?;
            for (user, n) in screened.included {
                *per_user.entry(user).or_default() += n;
            }
            if !screened.differing.is_empty() {
                let written = rewrite_stored(&mut tx, &screened.differing, rules).await?;
                changed += written.changed;
                affected.extend(written.affected);
            }
        }
        match next {
            Some(next) => screening = Some(next),
            None => break,
        }
    }
    progress.finish();
    let reclassified = started.elapsed();
    let group_rows = batch_size.saturating_mul(SESSION_GROUP_BATCHES).min(SESSION_GROUP_MAX);
    let stats = match sessions_scope {
        SessionScope::All => rederive_all(&mut tx, rules, group_rows).await?,
        SessionScope::Changed => {
            tx.clear_excluded_sessions().await?;
            let affected = earliest_per_user(affected);
            let mut stats = SessionStats::default();
            let rows_of = |a: &Affected| per_user.get(&a.user_key).copied().unwrap_or(0);
            let included: usize = per_user.values().sum();
            for group in groups_by_rows(&affected, rows_of, group_rows.max(1)) {
                let rows = group.iter().map(rows_of).sum();
                let lookup = InputLookup::for_share(rows, included);
                let done = rederive_users(&mut tx, group, rules, lookup).await?;
                stats.messages_moved += done.messages_moved;
                stats.sessions_written += done.sessions_written;
            }
            stats
        }
    };
    let sessions = started.elapsed();
    tx.set_meta(RULES_KEY, &rules.canonical()).await?;
    tx.commit().await?;
    debug!(
        reclassify_s = reclassified.as_secs_f64(),
        sessions_s = (sessions - reclassified).as_secs_f64(),
        commit_s = (started.elapsed() - sessions).as_secs_f64(),
        moved = stats.messages_moved,
        "Reclassify time spent."
    );
    info!(messages = total, changed, "Re-derived every stored message under the rules in force.");
    Ok(changed)
}

/// Derives every session again: drops every session row, then derives and writes the
/// sessions of the users a group of about `group_rows` messages at a time.
async fn rederive_all(tx: &mut Tx, rules: &RulesInForce, group_rows: usize) -> anyhow::Result<SessionStats> {
    tx.clear_sessions().await?;
    let users = tx.user_extents().await?;
    let total: usize = users.iter().map(|u| usize::try_from(u.messages).unwrap_or(0)).sum();
    let mut stats = SessionStats::default();
    for group in user_groups(&users, group_rows.max(1)) {
        let rows = group.iter().map(|u| usize::try_from(u.messages).unwrap_or(0)).sum();
        // From each user's first message on: there is no earlier session to restart from.
        let from_start: Vec<Affected> = group
            .iter()
            .map(|u| Affected { user_key: u.user_key.clone(), from_at: u.first_at, from_id: String::new() })
            .collect();
        tx.set_restart_points(&from_start).await?;
        let inputs = tx.session_inputs(InputLookup::for_share(rows, total)).await?;
        let (inputs, derived) = derive(inputs, rules).await?;
        let changed = derived.changed(&inputs);
        tx.apply_sessions(&changed, &derived.sessions).await?;
        stats.messages_moved += changed.len();
        stats.sessions_written += derived.sessions.len();
    }
    debug!(users = users.len(), moved = stats.messages_moved, "Derived all sessions again.");
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::rules::tests::rules;
    use crate::warehouse::rows::tests::row;

    fn message(id: &str, user: &str, at: &str) -> MessageRow {
        let created_at = NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap();
        MessageRow { message_id: id.into(), user_key: user.into(), created_at, ..row() }
    }

    /// The written session rows of a batch: (rowid, session id, messages).
    fn written(ahead: &SessionsAhead) -> Vec<(i64, &str, i64)> {
        let sessions = &ahead.derived.sessions;
        ahead
            .write
            .iter()
            .map(|&(i, rowid)| (rowid, sessions[i].session_id.as_str(), sessions[i].messages))
            .collect()
    }

    /// SQLite writes a first load's session rows by rowid (`Tx::write_first_load_sessions`): a
    /// session keeps its rowid when a later batch extends it, a carried session the batch
    /// leaves as it was is not written again, and new sessions take the next rowids.
    #[test]
    fn a_first_load_numbers_its_sessions_and_writes_only_what_changed() {
        let mut load = FirstLoadSessions::new(MarksSnapshot::default(), &rules(""), 7);
        let first = [
            message("a1", "a", "2026-11-02 09:00"),
            message("a2", "a", "2026-11-02 09:05"),
            message("b1", "b", "2026-11-02 09:01"),
        ];
        let ahead = load.derive(&first).unwrap();
        assert_eq!(written(&ahead), [(7, "a1", 2), (8, "b1", 1)]);
        let second = [
            message("a3", "a", "2026-11-02 09:10"),
            message("b2", "b", "2026-11-02 10:00"),
            message("c1", "c", "2026-11-02 09:30"),
        ];
        let ahead = load.derive(&second).unwrap();
        // a's session grows (same rowid); b's first is unchanged, b's second and c's are new.
        assert_eq!(written(&ahead), [(7, "a1", 3), (9, "c1", 1), (10, "b2", 1)]);
        assert!(ahead.changed.is_empty() && ahead.vanished.is_empty());
        let third = [message("b3", "b", "2026-11-02 10:05")];
        assert_eq!(written(&load.derive(&third).unwrap()), [(10, "b2", 2)], "b's last session is carried");
    }
}
