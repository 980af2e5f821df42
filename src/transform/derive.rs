//! The derivation of sessions (docs/metrics.md §3, §8): a pure function from the facts of some
//! users' messages and the rules in force to each message's session and one row per session.
//!
//! The pipeline hands in every included message of the affected users from their
//! [`super::sessions::restart_point`] on, with the verdicts [`super::messages::classify`] gave
//! them, their current operator marks and the session they are stored in. [`derive_sessions`]
//! returns what the warehouse must hold: every message's session and every session row from
//! there on. [`Derived::changed`] lists the stored messages whose session columns differ, so
//! the warehouse writes only those. Nothing here does I/O.

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use super::RulesInForce;
use super::messages::MessageState;
pub use super::sessions::SessionRow;
use super::time::from_epoch_days;
use super::{marks, sessions};
use crate::extract::frame::{from_micros, micros};

/// A message's session columns: the session id, its start (UTC) and its local date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCols {
    pub session_id: String,
    pub session_start: NaiveDateTime,
    pub session_date: NaiveDate,
}

/// What the derivation needs of one included message.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInput {
    pub message_id: String,
    pub user_key: String,
    pub created_at: NaiveDateTime,
    pub state: MessageState,
    /// The rule's verdicts.
    pub kb_hit: bool,
    pub transfer: bool,
    /// The current operator marks.
    pub kb_mark: Option<bool>,
    pub manual_mark: Option<bool>,
    /// The session columns stored with the message (`None`: not stored yet, or in no session).
    pub stored: Option<SessionCols>,
}

/// A message's derived session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub message_id: String,
    pub session: SessionCols,
}

/// The derived sessions of some users.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Every input message's session, sorted by user, time and id.
    pub assignments: Vec<Assignment>,
    /// Every session of the inputs, by start.
    pub sessions: Vec<SessionRow>,
}

impl Derived {
    /// The assignments of the given stored messages whose stored session columns differ from
    /// the derived ones: another session, or the same session with another start or local
    /// date (after a time zone change every date moves while the ids stay). Messages not in
    /// `stored` (a batch's own rows, written with their sessions) are left out.
    pub fn changed<'a>(&'a self, stored: &[SessionInput]) -> Vec<&'a Assignment> {
        self.changed_positions(stored).into_iter().map(|i| &self.assignments[i]).collect()
    }

    /// [`Derived::changed`] as positions in `assignments`, for a caller that keeps the result
    /// beyond the stored inputs.
    pub fn changed_positions(&self, stored: &[SessionInput]) -> Vec<usize> {
        // foldhash, not std's SipHash: a first load runs this on every batch's carried
        // sessions (docs/performance.md, "The first load").
        let before: foldhash::HashMap<&str, Option<&SessionCols>> =
            stored.iter().map(|i| (i.message_id.as_str(), i.stored.as_ref())).collect();
        let differs =
            |a: &Assignment| before.get(a.message_id.as_str()).is_some_and(|s| *s != Some(&a.session));
        (0..self.assignments.len()).filter(|&i| differs(&self.assignments[i])).collect()
    }
}

/// Derives the sessions of the given messages under `rules`: the messages of each user must
/// start at that user's restart point and run to their last message.
pub fn derive_sessions(inputs: &[SessionInput], rules: &RulesInForce) -> PolarsResult<Derived> {
    if inputs.is_empty() {
        return Ok(Derived::default());
    }
    let frame = df!(
        "message_id" => inputs.iter().map(|i| i.message_id.as_str()).collect::<Vec<_>>(),
        "user_key" => inputs.iter().map(|i| i.user_key.as_str()).collect::<Vec<_>>(),
        "created_at" => inputs.iter().map(|i| micros(i.created_at)).collect::<Vec<_>>(),
        "state" => inputs.iter().map(|i| i.state.as_str()).collect::<Vec<_>>(),
        "kb_hit" => inputs.iter().map(|i| i.kb_hit).collect::<Vec<_>>(),
        "transfer" => inputs.iter().map(|i| i.transfer).collect::<Vec<_>>(),
        "kb_mark" => inputs.iter().map(|i| i.kb_mark).collect::<Vec<_>>(),
        "manual_mark" => inputs.iter().map(|i| i.manual_mark).collect::<Vec<_>>(),
    )?;
    let with_sessions = sessions::assign(frame, rules)?;
    let effective = marks::apply(with_sessions.clone().lazy());
    let summary = sessions::summarize(effective).collect()?;
    Ok(Derived { assignments: assignments(&with_sessions)?, sessions: SessionRow::from_frame(&summary)? })
}

fn assignments(df: &DataFrame) -> PolarsResult<Vec<Assignment>> {
    let ids = df.column("message_id")?.str()?;
    let sids = df.column("session_id")?.str()?;
    let starts = df.column("session_start")?.i64()?;
    let dates = df.column("session_date")?.cast(&DataType::Int32)?;
    let dates = dates.i32()?;
    Ok((0..df.height())
        .map(|i| Assignment {
            message_id: ids.get(i).unwrap_or_default().to_string(),
            session: SessionCols {
                session_id: sids.get(i).unwrap_or_default().to_string(),
                session_start: from_micros(starts.get(i).unwrap_or_default()),
                session_date: from_epoch_days(dates.get(i).unwrap_or_default()),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::rules::tests::rules;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    fn input(id: &str, user: &str, t: NaiveDateTime, state: MessageState) -> SessionInput {
        SessionInput {
            message_id: id.into(),
            user_key: user.into(),
            created_at: t,
            state,
            kb_hit: true,
            transfer: false,
            kb_mark: None,
            manual_mark: None,
            stored: None,
        }
    }

    #[test]
    fn sessions_carry_marks_and_local_dates() {
        // 15:50 and 16:10 UTC are 23:50 and 00:10 in Shanghai: one session, dated by its start.
        let mut inputs = vec![
            input("a", "u", at(15, 50), MessageState::Answered),
            input("b", "u", at(16, 0), MessageState::Answered),
            input("c", "v", at(16, 10), MessageState::Error),
        ];
        inputs[1].manual_mark = Some(true);
        let derived = derive_sessions(&inputs, &rules("")).unwrap();
        let sids: Vec<&str> = derived.assignments.iter().map(|a| a.session.session_id.as_str()).collect();
        assert_eq!(sids, ["a", "a", "c"]);
        assert_eq!(derived.sessions.len(), 2);
        let first = &derived.sessions[0];
        assert_eq!(first.local_date, NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        assert!(first.is_manual && !first.is_self_resolved);
        assert_eq!(derived.sessions[1].local_date, NaiveDate::from_ymd_opt(2026, 11, 3).unwrap());
        assert_eq!((derived.sessions[1].errors, derived.sessions[1].is_self_resolved), (1, false));
    }

    #[test]
    fn a_date_that_moves_is_a_change_even_when_the_session_stays() {
        // 16:10 UTC is 00:10 on 11-03 in Shanghai, still 11-02 in UTC.
        let mut inputs = vec![input("a", "u", at(16, 10), MessageState::Answered)];
        let shanghai = derive_sessions(&inputs, &rules("")).unwrap();
        inputs[0].stored = Some(shanghai.assignments[0].session.clone());
        assert!(shanghai.changed(&inputs).is_empty(), "stored as derived: nothing to write");
        let utc = derive_sessions(&inputs, &rules("timezone = \"UTC\"")).unwrap();
        assert_eq!(utc.assignments[0].session.session_id, "a");
        assert_eq!(utc.changed(&inputs).len(), 1, "the session date moved from 11-03 to 11-02");
        let idle = derive_sessions(&inputs, &rules("[session]\nmode = \"idle\"")).unwrap();
        assert!(idle.changed(&inputs).is_empty());
    }
}
