//! Detail tables of a report: unanswered questions and per-user counts.
//!
//! Inputs are frames loaded for the period (see `warehouse::report`), with marks already
//! applied by `marks::apply`. "Unanswered" means answered but a knowledge-base miss: the
//! questions the knowledge team should write articles for.

use polars::prelude::*;

use super::rules::nfkc;

/// A question as the Unanswered list groups it: NFKC, trimmed, inner whitespace collapsed.
pub fn normalise_question(text: &str) -> String {
    nfkc(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalised(expr: Expr) -> Expr {
    expr.map(
        |c| {
            let out: StringChunked = c.str()?.iter().map(|v| v.map(normalise_question)).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Answered knowledge-base misses grouped by normalised question, with `count` and
/// `last_asked` (max `local_time`), most frequent first, then most recent.
pub fn unanswered(messages: LazyFrame) -> LazyFrame {
    messages
        .filter(super::marks::unhit())
        .with_column(normalised(col("question")).alias("question"))
        .group_by([col("question")])
        .agg([len().cast(DataType::Int64).alias("count"), col("local_time").max().alias("last_asked")])
        .sort_by_exprs(
            [col("count"), col("last_asked"), col("question")],
            SortMultipleOptions::default().with_order_descending_multi([true, true, false]),
        )
}

/// Per user: `messages` (dated in the period), `sessions` (bot sessions starting in it plus
/// manual entries), `self_resolved` and `transfers` (sessions), most messages first.
pub fn users(messages: LazyFrame, sessions: LazyFrame, entries: LazyFrame) -> PolarsResult<LazyFrame> {
    let zero = || lit(0i64).cast(DataType::Int64);
    let count_if = |e: Expr| e.cast(DataType::Int64).sum();
    let from_messages = messages.group_by([col("user_key")]).agg([
        len().cast(DataType::Int64).alias("messages"),
        zero().alias("sessions"),
        zero().alias("self_resolved"),
        zero().alias("transfers"),
    ]);
    let from_sessions = sessions.group_by([col("user_key")]).agg([
        zero().alias("messages"),
        len().cast(DataType::Int64).alias("sessions"),
        count_if(col("is_self_resolved")).alias("self_resolved"),
        count_if(col("is_transfer")).alias("transfers"),
    ]);
    let from_entries = entries.group_by([col("user_name").alias("user_key")]).agg([
        zero().alias("messages"),
        len().cast(DataType::Int64).alias("sessions"),
        count_if(col("transfer_to_human").not().and(col("manual_intervention").not())).alias("self_resolved"),
        count_if(col("transfer_to_human")).alias("transfers"),
    ]);
    let all = concat([from_messages, from_sessions, from_entries], UnionArgs::default())?;
    Ok(all
        .group_by([col("user_key")])
        .agg([
            col("messages").sum(),
            col("sessions").sum(),
            col("self_resolved").sum(),
            col("transfers").sum(),
        ])
        .sort_by_exprs(
            [col("messages"), col("sessions"), col("user_key")],
            SortMultipleOptions::default().with_order_descending_multi([true, true, false]),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_group_by_normalised_text() {
        assert_eq!(normalise_question("  VPN　连不上？ \n"), "VPN 连不上?");
        let df = df!(
            "question" => ["VPN 连不上？", "VPN  连不上?", "打印机", "已解决"],
            "state" => ["answered", "answered", "answered", "answered"],
            "kb_hit" => [false, false, false, true],
            "local_time" => [1i64, 5, 3, 4],
        )
        .unwrap();
        let out = unanswered(df.lazy()).collect().unwrap();
        let q: Vec<&str> = out.column("question").unwrap().str().unwrap().iter().flatten().collect();
        let n: Vec<i64> = out.column("count").unwrap().i64().unwrap().iter().flatten().collect();
        assert_eq!(q, ["VPN 连不上?", "打印机"]);
        assert_eq!(n, [2, 1]);
        assert_eq!(out.column("last_asked").unwrap().i64().unwrap().get(0), Some(5));
    }

    #[test]
    fn users_add_up_messages_sessions_and_entries() {
        let messages = df!("user_key" => ["a", "a", "b"]).unwrap();
        let sessions = df!(
            "user_key" => ["a", "b"],
            "is_self_resolved" => [true, false],
            "is_transfer" => [false, true],
        )
        .unwrap();
        let entries = df!(
            "user_name" => ["c"],
            "transfer_to_human" => [false],
            "manual_intervention" => [false],
        )
        .unwrap();
        let out = users(messages.lazy(), sessions.lazy(), entries.lazy()).unwrap().collect().unwrap();
        let u: Vec<&str> = out.column("user_key").unwrap().str().unwrap().iter().flatten().collect();
        assert_eq!(u, ["a", "b", "c"]);
        let s: Vec<i64> = out.column("sessions").unwrap().i64().unwrap().iter().flatten().collect();
        assert_eq!(s, [1, 1, 1]);
        let r: Vec<i64> = out.column("self_resolved").unwrap().i64().unwrap().iter().flatten().collect();
        assert_eq!(r, [1, 0, 1]);
    }
}
