//! Operator marks over rule verdicts (metrics.md §2).
//!
//! A message's current marks arrive as two nullable columns: `kb_mark` (an explicit knowledge
//! verdict) and `manual_mark` (a human handled it). An explicit verdict overrides the rule; a
//! knowledge-base hit still needs an answered message, because `kb_hits` counts answered ones.

use polars::prelude::*;

/// Replaces `kb_hit` with the effective verdict and adds `manual`.
pub fn apply(messages: LazyFrame) -> LazyFrame {
    let answered = col("state").eq(lit("answered"));
    messages.with_columns([
        answered.and(coalesce(&[col("kb_mark"), col("kb_hit")])).alias("kb_hit"),
        col("manual_mark").fill_null(lit(false)).alias("manual"),
    ])
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
    }
}
