//! The re-derivation plan (docs/metrics.md §8): which classified rows a batch writes, and from
//! where each user's sessions are derived again — the rule behind the incremental ingest, the
//! reclassification after a rule change, and `mark`.
//!
//! Sessions are a function of the rules and of each user's stored messages and marks, and an
//! opener depends only on the messages before it (docs/metrics.md §3). So a new, changed or
//! marked message changes only the sessions of its user (and, for a message that moved, of its
//! old user) from its position on; [`sessions::restart_point`](super::sessions::restart_point)
//! widens that position to the start of the session that held it. Only a rule that shapes
//! sessions themselves (the time zone, the window or mode) reaches every session
//! ([`SessionScope`]).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use super::RulesInForce;

/// A user whose sessions must be derived again from (`from_at`, `from_id`) on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Affected {
    pub user_key: String,
    pub from_at: NaiveDateTime,
    pub from_id: String,
}

/// Keeps, per user, the earliest (time, id) position.
pub fn earliest_per_user(items: impl IntoIterator<Item = Affected>) -> Vec<Affected> {
    let mut map: BTreeMap<String, (NaiveDateTime, String)> = BTreeMap::new();
    for a in items {
        let pos = (a.from_at, a.from_id);
        map.entry(a.user_key)
            .and_modify(|cur| {
                if pos < *cur {
                    *cur = pos.clone();
                }
            })
            .or_insert(pos);
    }
    map.into_iter().map(|(user_key, (from_at, from_id))| Affected { user_key, from_at, from_id }).collect()
}

/// What the plan needs to know of a message, classified or stored: where it stands in its
/// user's history and whether its content changed.
pub trait Placed {
    fn message_id(&self) -> &str;
    fn content_hash(&self) -> i64;
    fn user_key(&self) -> &str;
    fn created_at(&self) -> NaiveDateTime;
    /// Whether the message counts (docs/metrics.md §1): only included messages form sessions.
    fn included(&self) -> bool;
}

/// What a batch changes: the rows to write and the users whose sessions they touch.
pub struct WritePlan<'a, R> {
    pub rows: Vec<&'a R>,
    pub affected: Vec<Affected>,
    pub new: usize,
    pub changed: usize,
}

impl<'a, R> WritePlan<'a, R> {
    /// Every row written as new, no restart points: a first load into an empty warehouse,
    /// which carries its users' sessions itself.
    pub fn all_new(rows: &'a [R]) -> WritePlan<'a, R> {
        WritePlan { rows: rows.iter().collect(), affected: Vec::new(), new: rows.len(), changed: 0 }
    }
}

/// Compares classified rows with the stored state of their ids: new rows and rows whose
/// content changed are written, and the users they belong to (and, for a changed row,
/// belonged to) have their sessions derived again from that row on. With `rewrite`, every row
/// is written whatever its stored hash says: a reclassification's rows whose stored verdicts
/// differ from the rules', so a verdict stored wrong under a right hash is repaired too.
pub fn plan<'a, R: Placed, S: Placed>(
    rows: &'a [R],
    stored: &HashMap<String, S>,
    rewrite: bool,
) -> WritePlan<'a, R> {
    let mut plan = WritePlan { rows: Vec::new(), affected: Vec::new(), new: 0, changed: 0 };
    for row in rows {
        match stored.get(row.message_id()) {
            Some(old) if !rewrite && old.content_hash() == row.content_hash() => continue,
            Some(old) => {
                plan.changed += 1;
                if old.included() {
                    plan.affected.push(position(old.user_key(), old.created_at(), row.message_id()));
                }
            }
            None => plan.new += 1,
        }
        if row.included() {
            plan.affected.push(position(row.user_key(), row.created_at(), row.message_id()));
        }
        plan.rows.push(row);
    }
    plan.affected = earliest_per_user(std::mem::take(&mut plan.affected));
    plan
}

fn position(user_key: &str, from_at: NaiveDateTime, from_id: &str) -> Affected {
    Affected { user_key: user_key.to_string(), from_at, from_id: from_id.to_string() }
}

/// Which sessions a reclassification derives again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionScope {
    /// Every session: a rule that shapes sessions themselves changed (the time zone, the
    /// session window or mode), or the stored rules are unknown or of an earlier itstat.
    All,
    /// Those of the users with a changed message, from their first changed one on (the
    /// incremental ingest's rule): sessions are a function of the rules and the stored
    /// messages and marks, so a user none of whose messages changed keeps the same sessions.
    Changed,
}

impl SessionScope {
    /// The scope after a change from the `stored` rules (their JSON, as recorded by the last
    /// derivation) to `rules`.
    pub fn after(stored: Option<&str>, rules: &RulesInForce) -> SessionScope {
        let Some(stored) = stored else { return SessionScope::All };
        let changed = super::rules::changed_keys(stored, rules);
        let shaping = ["timezone", "session"];
        // changed_keys names a key it cannot compare ("the rules format of an earlier itstat").
        let keys = rules.values();
        let earlier_format = changed.iter().any(|k| !keys.as_object().is_some_and(|o| o.contains_key(k)));
        if earlier_format || changed.iter().any(|k| shaping.contains(&k.as_str())) {
            SessionScope::All
        } else {
            SessionScope::Changed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Msg {
        id: &'static str,
        hash: i64,
        user: &'static str,
        at: u32,
        included: bool,
    }

    impl Placed for Msg {
        fn message_id(&self) -> &str {
            self.id
        }
        fn content_hash(&self) -> i64 {
            self.hash
        }
        fn user_key(&self) -> &str {
            self.user
        }
        fn created_at(&self) -> NaiveDateTime {
            chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(9, self.at, 0).unwrap()
        }
        fn included(&self) -> bool {
            self.included
        }
    }

    fn msg(id: &'static str, hash: i64, user: &'static str, at: u32) -> Msg {
        Msg { id, hash, user, at, included: true }
    }

    #[test]
    fn new_and_changed_rows_restart_their_users_and_the_old_owner() {
        let stored: HashMap<String, Msg> = [
            ("same".to_string(), msg("same", 1, "a", 1)),
            ("edited".to_string(), msg("edited", 1, "a", 5)),
            ("moved".to_string(), msg("moved", 1, "b", 2)),
        ]
        .into_iter()
        .collect();
        let rows = [
            msg("same", 1, "a", 1),
            msg("edited", 2, "a", 5),
            msg("moved", 2, "c", 8),
            msg("fresh", 7, "a", 3),
            Msg { included: false, ..msg("excluded", 9, "d", 4) },
        ];
        let plan = plan(&rows, &stored, false);
        let written: Vec<&str> = plan.rows.iter().map(|r| r.id).collect();
        assert_eq!(written, ["edited", "moved", "fresh", "excluded"], "an unchanged row is not written");
        assert_eq!((plan.new, plan.changed), (2, 2));
        let restart: Vec<(&str, u32, &str)> = plan
            .affected
            .iter()
            .map(|a| (a.user_key.as_str(), chrono::Timelike::minute(&a.from_at), a.from_id.as_str()))
            .collect();
        // a from its earliest new or changed message; b, which lost "moved", from where it
        // stood; c from where it stands now; d not at all (excluded messages form no session).
        assert_eq!(restart, [("a", 3, "fresh"), ("b", 2, "moved"), ("c", 8, "moved")]);
    }

    #[test]
    fn a_rewrite_writes_rows_whatever_their_hash() {
        let stored: HashMap<String, Msg> =
            [("same".to_string(), msg("same", 1, "a", 1))].into_iter().collect();
        let rows = [msg("same", 1, "a", 1)];
        let plan = plan(&rows, &stored, true);
        assert_eq!((plan.rows.len(), plan.changed, plan.affected.len()), (1, 1, 1));
    }

    #[test]
    fn earliest_position_per_user() {
        let at = |m| chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(9, m, 0).unwrap();
        let a = |u: &str, m, id: &str| Affected { user_key: u.into(), from_at: at(m), from_id: id.into() };
        let kept = earliest_per_user([a("x", 5, "b"), a("x", 5, "a"), a("y", 1, "z"), a("x", 7, "0")]);
        assert_eq!(kept, [a("x", 5, "a"), a("y", 1, "z")]);
    }
}
