//! Operator marks over rule verdicts (docs/metrics.md §2).
//!
//! A message's current marks arrive as two nullable columns: `kb_mark` (an explicit knowledge
//! verdict) and `manual_mark` (a human handled it). An explicit verdict overrides the rule; a
//! knowledge-base hit still needs an answered message, because `kb_hits` counts answered ones.
//! Which mark is current (the latest by `marked_at`, then `mark_id`) is decided once, by the
//! warehouse view `current_marks` (docs/warehouse.md); this module applies what it says.
//! [`unhit`] is the one definition of an unanswered question: the Unanswered sheet, the
//! email and `itstat messages --unhit` all use it.

use polars::prelude::*;

use super::messages::MessageState;

/// Replaces `kb_hit` with the effective verdict and adds `manual`.
pub fn apply(messages: LazyFrame) -> LazyFrame {
    let answered = MessageState::Answered.is();
    messages.with_columns([
        answered.and(coalesce(&[col("kb_mark"), col("kb_hit")])).alias("kb_hit"),
        col("manual_mark").fill_null(lit(false)).alias("manual"),
    ])
}

/// Expression over effective flags: an answered message the knowledge base missed (the
/// questions the knowledge team should write articles for).
pub fn unhit() -> Expr {
    MessageState::Answered.is().and(col("kb_hit").not())
}

/// [`apply`] for one message: (effective kb_hit, manual).
pub fn effective(
    state: MessageState,
    kb_rule: bool,
    kb_mark: Option<bool>,
    manual_mark: Option<bool>,
) -> (bool, bool) {
    (state == MessageState::Answered && kb_mark.unwrap_or(kb_rule), manual_mark.unwrap_or(false))
}

/// [`unhit`] for one message's effective kb_hit.
pub fn is_unhit(state: MessageState, effective_kb_hit: bool) -> bool {
    state == MessageState::Answered && !effective_kb_hit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_verdicts_override_the_rule() {
        let df = df!(
            "state" => ["answered", "answered", "answered", "error"],
            "kb_hit" => [true, false, true, false],
            "kb_mark" => [None, Some(true), Some(false), Some(true)],
            "manual_mark" => [None, Some(true), Some(false), None],
        )
        .unwrap();
        let out = apply(df.lazy()).collect().unwrap();
        let kb: Vec<Option<bool>> = out.column("kb_hit").unwrap().bool().unwrap().iter().collect();
        let manual: Vec<Option<bool>> = out.column("manual").unwrap().bool().unwrap().iter().collect();
        assert_eq!(kb, [Some(true), Some(true), Some(false), Some(false)]);
        assert_eq!(manual, [Some(false), Some(true), Some(false), Some(false)]);
        // The row form agrees with the frame form.
        let states =
            [MessageState::Answered, MessageState::Answered, MessageState::Answered, MessageState::Error];
        let rule = [true, false, true, false];
        let kb_marks = [None, Some(true), Some(false), Some(true)];
        let manual_marks = [None, Some(true), Some(false), None];
        for i in 0..4 {
            let (k, m) = effective(states[i], rule[i], kb_marks[i], manual_marks[i]);
            assert_eq!((Some(k), Some(m)), (kb[i], manual[i]), "row {i}");
        }
    }

    #[test]
    fn unhit_is_an_answered_miss() {
        assert!(is_unhit(MessageState::Answered, false));
        assert!(!is_unhit(MessageState::Answered, true));
        assert!(!is_unhit(MessageState::Error, false));
        assert!(!is_unhit(MessageState::Pending, false));
    }
}
