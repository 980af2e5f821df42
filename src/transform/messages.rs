//! Per-message rules (docs/metrics.md §1–2): question, state, user key, local time and date,
//! inclusion, knowledge-base hit and transfer.
//!
//! [`classify`] takes the raw frame of `extract::frame` and adds the derived columns. It is
//! the only place these verdicts are made; the warehouse stores them and a reclassification
//! reruns this same function on stored rows.

use polars::prelude::*;

use super::RulesInForce;
use super::rules::{Identity, nfkc};
use super::time::{date_of_micros, local_micros};

/// A message's state (docs/metrics.md §2). Frames and the warehouse carry it as its
/// [`MessageState::as_str`] text; Rust code uses the enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    /// `status = 'normal'` and a non-blank answer.
    Answered,
    /// `status = 'error'`.
    Error,
    /// Anything else: a blank answer (still being generated, or never finished) or `paused`.
    Pending,
}

impl MessageState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Answered => "answered",
            MessageState::Error => "error",
            MessageState::Pending => "pending",
        }
    }

    /// The state of a stored text; anything unknown is pending (it is re-read).
    pub fn from_stored(text: &str) -> MessageState {
        match text {
            "answered" => MessageState::Answered,
            "error" => MessageState::Error,
            _ => MessageState::Pending,
        }
    }

    /// Expression: the frame's `state` column is this state.
    pub fn is(self) -> Expr {
        col("state").eq(lit(self.as_str()))
    }
}

impl std::fmt::Display for MessageState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for MessageState {
    fn from(text: String) -> MessageState {
        MessageState::from_stored(&text)
    }
}

/// The dify2openai shape: the question is what follows the last `here is my question:` line.
const DIFY2OPENAI_QUESTION: &str = r"(?s)^\s*here is our talk history:.*here is my question:[ \t]*\r?\n(.*)$";

/// Names of the derived columns [`classify`] adds.
pub const DERIVED_COLUMNS: &[&str] =
    &["question", "state", "user_key", "local_time", "local_date", "included", "kb_hit", "transfer"];

/// Adds the derived columns to a raw frame.
pub fn classify(raw: DataFrame, rules: &RulesInForce) -> PolarsResult<DataFrame> {
    raw.lazy()
        .with_columns([
            question().alias("question"),
            state().alias("state"),
            user_key(&rules.identity).alias("user_key"),
            local_micros(col("created_at"), rules.tz).alias("local_time"),
            normalised(col("answer")).alias("_answer_nfkc"),
        ])
        .with_columns([
            date_of_micros(col("local_time")).cast(DataType::Int32).cast(DataType::Date).alias("local_date"),
            included(rules).alias("included"),
            kb_hit(rules).alias("kb_hit"),
            transfer(rules).alias("transfer"),
        ])
        .drop(cols(["_answer_nfkc"]))
        .collect()
}

/// The question: the text after the last dify2openai marker, else the whole query.
fn question() -> Expr {
    let extracted = col("query").str().extract(lit(DIFY2OPENAI_QUESTION), 1).str().strip_chars(lit(NULL));
    coalesce(&[extracted, col("query")])
}

/// `error`, `answered` or `pending`.
fn state() -> Expr {
    let has_answer = not_blank(col("answer"));
    when(col("status").eq(lit("error")))
        .then(lit(MessageState::Error.as_str()))
        .when(col("status").eq(lit("normal")).and(has_answer))
        .then(lit(MessageState::Answered.as_str()))
        .otherwise(lit(MessageState::Pending.as_str()))
}

/// True when a text column's value has a character other than white space (NULL stays NULL).
/// Tested in place, where `strip_chars` would copy every answer into a new column first.
fn not_blank(expr: Expr) -> Expr {
    expr.map(
        |c| {
            let out: BooleanChunked = c.str()?.iter().map(|v| v.map(|s| !s.trim().is_empty())).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// The user key by the configured source; `unknown` when it cannot be found.
fn user_key(identity: &Identity) -> Expr {
    let key = match identity {
        Identity::EndUser => when(col("from_account_id").is_not_null())
            .then(col("account_email"))
            .otherwise(col("end_user_session_id")),
        Identity::Input { key } => input_value(col("inputs"), key.clone()),
        Identity::QueryRegex { pattern } => col("query").str().extract(lit(pattern.as_str()), 1),
    };
    when(key.clone().is_null().or(key.clone().eq(lit("")))).then(lit("unknown")).otherwise(key)
}

/// The value under `key` of a JSON-object column, as text (numbers and booleans too).
fn input_value(inputs: Expr, key: String) -> Expr {
    inputs.map(
        move |c| {
            let ca = c.str()?;
            let key = key.as_str();
            let out: StringChunked = ca.iter().map(|v| v.and_then(|text| json_key(text, key))).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

fn json_key(text: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match value.get(key)? {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// NFKC form of a string column.
fn normalised(expr: Expr) -> Expr {
    expr.map(
        |c| Ok(c.str()?.apply_values(nfkc).into_column()),
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Included: of a selected app, not an excluded `invoke_from` (NULL is included) and not an
/// excluded user.
fn included(rules: &RulesInForce) -> Expr {
    let excluded_source = any_equal(col("invoke_from"), &rules.exclude_invoke_from).fill_null(lit(false));
    let excluded_user = any_equal(col("user_key"), &rules.exclude_users);
    let selected_app = match rules.apps.ids() {
        Some(ids) => any_equal(col("app_id"), ids),
        None => lit(true),
    };
    selected_app.and(excluded_source.or(excluded_user).not())
}

fn any_equal(expr: Expr, values: &[String]) -> Expr {
    values.iter().fold(lit(false), |acc, v| acc.or(expr.clone().eq(lit(v.as_str()))))
}

/// True when the normalised answer contains a phrase or matches a regex.
fn any_match(phrases: &[String], regexes: &[String]) -> Expr {
    let text = || col("_answer_nfkc");
    let by_phrase =
        phrases.iter().fold(lit(false), |acc, p| acc.or(text().str().contains_literal(lit(p.as_str()))));
    regexes.iter().fold(by_phrase, |acc, r| acc.or(text().str().contains(lit(r.as_str()), true)))
}

fn answered() -> Expr {
    MessageState::Answered.is()
}

/// Knowledge-base hit by rule: answered and no miss phrase or regex.
fn kb_hit(rules: &RulesInForce) -> Expr {
    answered().and(any_match(&rules.kb_miss, &rules.kb_miss_regex).not())
}

/// Transfer to a human by rule: answered and a transfer phrase or regex.
fn transfer(rules: &RulesInForce) -> Expr {
    answered().and(any_match(&rules.transfer, &rules.transfer_regex))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::rules::tests::rules;

    fn raw(rows: &[(&str, &str, &str, Option<&str>)]) -> DataFrame {
        // (query, answer, status, invoke_from)
        let n = rows.len();
        df!(
            "message_id" => (0..n).map(|i| format!("m{i}")).collect::<Vec<_>>(),
            "app_id" => (0..n).map(|i| if i % 2 == 0 { "app-a" } else { "app-b" }).collect::<Vec<_>>(),
            "created_at" => vec![1_785_000_000_000_000i64; n],
            "query" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "answer" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "status" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "invoke_from" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "from_account_id" => vec![None::<&str>; n],
            "account_email" => vec![None::<&str>; n],
            "end_user_session_id" => vec![Some("zhangsan"); n],
            "inputs" => vec![Some("{\"user_name\": \"lisi\"}"); n],
        )
        .unwrap()
    }

    fn strings(df: &DataFrame, name: &str) -> Vec<String> {
        df.column(name).unwrap().str().unwrap().iter().map(|v| v.unwrap_or("∅").to_string()).collect()
    }

    fn bools(df: &DataFrame, name: &str) -> Vec<bool> {
        df.column(name).unwrap().bool().unwrap().iter().map(|v| v.unwrap()).collect()
    }

    #[test]
    fn state_follows_status_and_trimmed_answer() {
        let df = classify(
            raw(&[
                ("q", "答案", "normal", Some("service-api")),
                ("q", "  \n\u{3000}", "normal", Some("service-api")),
                ("q", "", "error", Some("service-api")),
                ("q", "部分", "paused", Some("service-api")),
            ]),
            &rules(""),
        )
        .unwrap();
        assert_eq!(strings(&df, "state"), ["answered", "pending", "error", "pending"]);
    }

    #[test]
    fn kb_hit_and_transfer_compare_nfkc_text() {
        let df = classify(
            raw(&[
                ("q", "抱歉，您的问题可能不在服务业务范围内", "normal", None),
                ("q", "抱歉,您的问题可能不在服务业务范围内", "normal", None),
                ("q", "请联系ＩＴ同事", "normal", None),
                ("q", "请联系 it 同事", "normal", None),
                ("q", "", "error", None),
            ]),
            &rules(""),
        )
        .unwrap();
        assert_eq!(bools(&df, "kb_hit"), [false, false, true, true, false]);
        assert_eq!(bools(&df, "transfer"), [false, false, true, false, false]);
    }

    #[test]
    fn regex_rules_see_normalised_text() {
        let df = classify(
            raw(&[("q", "转接人工客服，工单号 A12", "normal", None), ("q", "已解决", "normal", None)]),
            &rules("[rules]\ntransfer = []\ntransfer_regex = ['人工客服,工单号 [A-Z]\\d+']"),
        )
        .unwrap();
        assert_eq!(bools(&df, "transfer"), [true, false]);
    }

    #[test]
    fn dify2openai_question_is_the_last_turn() {
        let q = "here is our talk history:\n'''\nsystem: 你是IT助手\nuser: 打印机坏了\nassistant: 请重启\nhere is my question: 旧的\n'''\n\nhere is my question:\n  VPN 连不上怎么办？ \n";
        let df = classify(raw(&[(q, "a", "normal", None), ("直接的问题", "a", "normal", None)]), &rules(""))
            .unwrap();
        assert_eq!(strings(&df, "question"), ["VPN 连不上怎么办？", "直接的问题"]);
    }

    #[test]
    fn debugger_and_excluded_users_are_left_out() {
        let df = classify(
            raw(&[
                ("q", "a", "normal", Some("debugger")),
                ("q", "a", "normal", None),
                ("q", "a", "normal", Some("web-app")),
            ]),
            &rules(""),
        )
        .unwrap();
        assert_eq!(bools(&df, "included"), [false, true, true]);
        let df =
            classify(raw(&[("q", "a", "normal", None)]), &rules("[dify]\nexclude_users = [\"zhangsan\"]"))
                .unwrap();
        assert_eq!(bools(&df, "included"), [false]);
    }

    fn with_apps(ids: &[&str]) -> RulesInForce {
        let mut rules = rules("");
        rules.apps = crate::transform::rules::AppSelection::Ids(ids.iter().map(|s| s.to_string()).collect());
        rules
    }

    #[test]
    fn only_the_selected_apps_are_included() {
        let rows =
            [("q", "a", "normal", None), ("q", "a", "normal", None), ("q", "a", "normal", Some("debugger"))];
        let df = classify(raw(&rows), &with_apps(&["app-a"])).unwrap();
        assert_eq!(bools(&df, "included"), [true, false, false]);
        let df = classify(raw(&rows), &with_apps(&["app-a", "app-b"])).unwrap();
        assert_eq!(bools(&df, "included"), [true, true, false]);
        let df = classify(raw(&rows), &rules("")).unwrap();
        assert_eq!(bools(&df, "included"), [true, true, false]);
    }

    #[test]
    fn user_key_sources() {
        let df = classify(
            raw(&[("[王五] 密码忘了", "a", "normal", None), ("没有前缀", "a", "normal", None)]),
            &rules(""),
        )
        .unwrap();
        assert_eq!(strings(&df, "user_key"), ["zhangsan", "zhangsan"]);
        let df = classify(
            raw(&[("q", "a", "normal", None)]),
            &rules("[identity]\nsource = \"input\"\ninput = \"user_name\""),
        )
        .unwrap();
        assert_eq!(strings(&df, "user_key"), ["lisi"]);
        let df = classify(
            raw(&[("[王五] 密码忘了", "a", "normal", None), ("没有前缀", "a", "normal", None)]),
            &rules("[identity]\nsource = \"query_regex\"\npattern = '^\\[(?P<user>[^\\]]+)\\]'"),
        )
        .unwrap();
        assert_eq!(strings(&df, "user_key"), ["王五", "unknown"]);
    }
}
