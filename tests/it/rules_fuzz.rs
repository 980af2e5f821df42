//! Property tests ("fuzz") of the rules as the config builds them: `messages::classify` over
//! arbitrary queries, answers and rule phrases never fails and agrees with `RulesInForce::explain_*` (the words `messages show`
//! prints); `sessions::openers` over arbitrary times keeps its invariants. Case count:
//! proptest's default (256), or `PROPTEST_CASES`.

use polars::prelude::*;
use proptest::prelude::*;

use itstat::config::{SessionMode, Settings};
use itstat::transform::RulesInForce;
use itstat::transform::messages::classify;
use itstat::transform::sessions::openers;

/// Text with the characters that matter to the rules: full-width forms NFKC folds, the
/// default phrases, the dify2openai marker, control and direction characters, anything.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("抱歉，您的问题可能不在服务业务范围内".to_string()),
        Just("抱歉,您的问题可能不在服务业务范围内".to_string()),
        Just("IT".to_string()),
        Just("ＩＴ".to_string()),
        Just("it".to_string()),
        Just("here is our talk history:\n'''\nuser: x\n'''\n\nhere is my question:\n".to_string()),
        Just("\u{202e}\u{1b}[31m\u{0}\r\n\t".to_string()),
        Just("ﬁ①㍿".to_string()),
        "\\PC{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(pieces, 0..4).prop_map(|v| v.concat())
}

fn phrase() -> impl Strategy<Value = String> {
    prop_oneof![Just("IT".to_string()), Just("，".to_string()), Just("ＩＴ热线".to_string()), "\\PC{1,4}"]
        .prop_filter("a phrase is not blank", |p| !p.trim().is_empty())
}

fn rules(kb_miss: Vec<String>, transfer: Vec<String>, with_regex: bool) -> RulesInForce {
    let quote = |v: &[String]| {
        v.iter().map(|p| toml::Value::String(p.clone()).to_string()).collect::<Vec<_>>().join(", ")
    };
    let regex = if with_regex {
        "transfer_regex = ['转(接)?人工', '(?i)^\\s*it\\b']\nkb_miss_regex = ['不知道$']\n"
    } else {
        ""
    };
    let config =
        format!("[rules]\nkb_miss = [{}]\ntransfer = [{}]\n{regex}", quote(&kb_miss), quote(&transfer));
    Settings::from_toml(&config).expect("valid rules").rules
}

fn frame(rows: &[(String, String, &str)]) -> DataFrame {
    let n = rows.len();
    df!(
        "message_id" => (0..n).map(|i| format!("m{i}")).collect::<Vec<_>>(),
        "created_at" => (0..n as i64).map(|i| 1_785_000_000_000_000 + i).collect::<Vec<_>>(),
        "query" => rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        "answer" => rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        "status" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "invoke_from" => vec![Some("service-api"); n],
        "from_account_id" => vec![None::<&str>; n],
        "account_email" => vec![None::<&str>; n],
        "end_user_session_id" => vec![Some("zhangsan"); n],
        "inputs" => rows.iter().map(|r| Some(r.0.as_str())).collect::<Vec<_>>(),
    )
    .expect("a raw frame")
}

fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().bool().unwrap().iter().collect()
}

proptest! {
    #[test]
    fn classify_agrees_with_explain(
        rows in prop::collection::vec(
            (text(), text(), prop_oneof![Just("normal"), Just("error"), Just("paused")]),
            1..6,
        ),
        kb_miss in prop::collection::vec(phrase(), 0..3),
        transfer in prop::collection::vec(phrase(), 0..3),
        with_regex in any::<bool>(),
    ) {
        let rules = rules(kb_miss, transfer, with_regex);
        let df = classify(frame(&rows), &rules).expect("classify never fails");
        let states: Vec<Option<&str>> = df.column("state").unwrap().str().unwrap().iter().collect();
        let (kb, tr) = (bools(&df, "kb_hit"), bools(&df, "transfer"));
        for (i, (_, answer, status)) in rows.iter().enumerate() {
            let answered = *status == "normal" && !answer.trim().is_empty();
            prop_assert_eq!(states[i] == Some("answered"), answered, "state of {:?}", answer);
            prop_assert_eq!(kb[i], Some(answered && rules.explain_kb_miss(answer).is_none()), "kb_hit of {:?}", answer);
            prop_assert_eq!(tr[i], Some(answered && rules.explain_transfer(answer).is_some()), "transfer of {:?}", answer);
        }
        let questions: Vec<Option<&str>> = df.column("question").unwrap().str().unwrap().iter().collect();
        prop_assert!(questions.iter().all(|q| q.is_some()), "every message has a question");
    }

    #[test]
    fn identity_from_inputs_or_query_never_fails(
        rows in prop::collection::vec((text(), text(), Just("normal")), 1..5),
        by_regex in any::<bool>(),
    ) {
        let identity = if by_regex {
            "[identity]\nsource = \"query_regex\"\npattern = '^\\[([^\\]]+)\\]'\n"
        } else {
            "[identity]\nsource = \"input\"\ninput = \"user_name\"\n"
        };
        let rules = Settings::from_toml(identity).unwrap().rules;
        let df = classify(frame(&rows), &rules).expect("classify never fails");
        let users: Vec<Option<&str>> = df.column("user_key").unwrap().str().unwrap().iter().collect();
        prop_assert!(users.iter().all(|u| u.is_some_and(|u| !u.is_empty())), "{:?}", users);
    }

    #[test]
    fn openers_keep_their_invariants(
        mut msgs in prop::collection::vec((0u8..4, -5_000_000_000i64..5_000_000_000), 0..60),
        window_us in 1i64..3_600_000_000,
        idle in any::<bool>(),
    ) {
        msgs.sort();
        let names = ["a", "b", "c", "d"];
        let users: Vec<&str> = msgs.iter().map(|(u, _)| names[*u as usize]).collect();
        let times: Vec<i64> = msgs.iter().map(|(_, t)| *t).collect();
        let mode = if idle { SessionMode::Idle } else { SessionMode::Anchored };
        let open = openers(&users, &times, window_us, mode);
        prop_assert_eq!(open.len(), times.len());
        for (i, &o) in open.iter().enumerate() {
            prop_assert!(o <= i);
            prop_assert_eq!(open[o], o, "each opener is its own opener");
            prop_assert_eq!(users[o], users[i], "a session never spans users");
            prop_assert!(o == i || open[i - 1] == o, "sessions are contiguous");
            if o == i {
                // A new session: the user's first message, or at least a window after the reference.
                let first = i == 0 || users[i - 1] != users[i];
                let reference = if idle { i.saturating_sub(1) } else { open[i.saturating_sub(1)] };
                prop_assert!(first || times[i] - times[reference] >= window_us);
            } else if idle {
                prop_assert!(times[i] - times[i - 1] < window_us, "idle gaps stay under the window");
            } else {
                prop_assert!(times[i] - times[o] < window_us, "anchored sessions last less than the window");
            }
        }
    }
}
