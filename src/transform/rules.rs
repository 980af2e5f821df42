//! The rules in force (docs/metrics.md §8): every setting that decides a derived value, in one
//! type, built once from the config.
//!
//! Phrases and regex patterns are NFKC-normalised here, once, because answers are compared in
//! that form (docs/metrics.md §2: `，` matches `,`, `ＩＴ` matches `IT`). [`RulesInForce::values`]
//! is the canonical, hand-written description of the rules: the report's JSON shows it, the
//! warehouse stores it (meta `rules`), and [`RulesInForce::fingerprint`] hashes it. It is
//! written field by field, so it does not change with a compiler or crate upgrade. This module
//! does no I/O; which app ids a configured app *name* means is a fact the pipeline looks up
//! ([`RulesInForce::with_app_ids`]).

use std::time::Duration;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use super::nfkc::nfkc;

/// How messages are grouped into sessions (docs/metrics.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionMode {
    /// A session lasts `window` from its first message.
    Anchored,
    /// A session lasts while the gap between messages stays under `window`.
    Idle,
}

impl SessionMode {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            SessionMode::Anchored => "anchored",
            SessionMode::Idle => "idle",
        }
    }
}

/// Where a message's user key comes from (docs/metrics.md §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `end_users.session_id`, or the account email for console messages.
    EndUser,
    /// A key of `messages.inputs`.
    Input { key: String },
    /// The first capture group of a regex over `query` (the raw query, not normalised: the
    /// user key is taken as it was typed).
    QueryRegex { pattern: String },
}

/// Which apps' messages count (docs/metrics.md §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppSelection {
    /// `[dify] apps` is empty: every app.
    Every,
    /// These app ids (sorted, distinct).
    Ids(Vec<String>),
    /// `[dify] apps` names apps whose ids are not known yet; `ids` are the entries that are
    /// ids already. Only a pipeline that can look the names up makes this [`AppSelection::Ids`].
    Unresolved { ids: Vec<String>, names: Vec<String> },
}

impl AppSelection {
    /// The selection `[dify] apps` gives: ids (UUIDs, any case) and names.
    pub fn configured(entries: &[String]) -> AppSelection {
        if entries.is_empty() {
            return AppSelection::Every;
        }
        let (mut ids, mut names) = (Vec::new(), Vec::new());
        for entry in entries {
            match uuid::Uuid::parse_str(entry) {
                Ok(id) => ids.push(id.to_string()),
                Err(_) => names.push(entry.clone()),
            }
        }
        let ids = sorted(ids);
        if names.is_empty() { AppSelection::Ids(ids) } else { AppSelection::Unresolved { ids, names } }
    }

    /// Whether a message of this app is selected. `app_name` (an export file carries it)
    /// matches a configured name that is not resolved yet.
    pub fn admits(&self, app_id: &str, app_name: Option<&str>) -> bool {
        match self {
            AppSelection::Every => true,
            AppSelection::Ids(ids) => ids.iter().any(|id| id == app_id),
            AppSelection::Unresolved { ids, names } => {
                ids.iter().any(|id| id == app_id) || app_name.is_some_and(|n| names.iter().any(|m| m == n))
            }
        }
    }

    /// The configured names not resolved yet.
    pub fn names(&self) -> &[String] {
        match self {
            AppSelection::Unresolved { names, .. } => names,
            _ => &[],
        }
    }

    /// The app ids whose messages are included; `None` for every app. Names not resolved
    /// select nothing.
    pub fn ids(&self) -> Option<&[String]> {
        match self {
            AppSelection::Every => None,
            AppSelection::Ids(ids) | AppSelection::Unresolved { ids, .. } => Some(ids),
        }
    }
}

/// Every rule that decides a derived value; cheap to clone. Lists are sorted and distinct
/// (their order never changes a verdict), phrases and patterns NFKC-normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesInForce {
    /// IANA name of the time zone of local times and dates.
    pub timezone: String,
    /// That time zone.
    pub tz: Tz,
    /// Which apps count.
    pub apps: AppSelection,
    /// Excluded `invoke_from` values.
    pub exclude_invoke_from: Vec<String>,
    /// Excluded user keys.
    pub exclude_users: Vec<String>,
    /// Where the user key comes from.
    pub identity: Identity,
    /// Session window.
    pub session_window: Duration,
    /// Session mode.
    pub session_mode: SessionMode,
    /// Knowledge-base miss phrases, NFKC.
    pub kb_miss: Vec<String>,
    /// Knowledge-base miss regexes, NFKC ([`normalise_pattern`]).
    pub kb_miss_regex: Vec<String>,
    /// Transfer phrases, NFKC.
    pub transfer: Vec<String>,
    /// Transfer regexes, NFKC ([`normalise_pattern`]).
    pub transfer_regex: Vec<String>,
}

/// A regex pattern in the NFKC form of the answers it runs on (docs/metrics.md §2): its
/// non-ASCII text is NFKC-normalised (`抱歉，.*范围` becomes `抱歉,.*范围`), and an ASCII
/// character that normalisation produces is escaped when it is regex syntax, so the pattern
/// keeps its meaning: `请联系（IT）` becomes `请联系\(IT\)`, matching the normalised answer
/// `请联系(IT)`, not a group. ASCII is already NFKC and is the pattern's syntax: kept as is.
pub fn normalise_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        for c in nfkc(run).chars() {
            if c.is_ascii_punctuation() {
                // `regex::escape` knows which characters are syntax.
                out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
            } else {
                out.push(c);
            }
        }
        run.clear();
    };
    for c in pattern.chars() {
        if c.is_ascii() {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

fn phrases(items: &[String]) -> Vec<String> {
    sorted(items.iter().map(|p| nfkc(p).into_owned()).collect())
}

fn patterns(items: &[String]) -> Vec<String> {
    sorted(items.iter().map(|p| normalise_pattern(p)).collect())
}

/// The version of [`RulesInForce::values`], leading the canonical text: a new one changes
/// every fingerprint, so every warehouse is derived again once.
const CANONICAL_PREFIX: &str = "itstat-rules/2 ";

impl RulesInForce {
    /// The rules as `config` parsed and validated them, in canonical form: lists sorted and
    /// distinct, phrases and patterns NFKC-normalised (their order and form never change a
    /// verdict, and the fingerprint must not change with them either).
    pub fn normalised(self) -> RulesInForce {
        RulesInForce {
            exclude_invoke_from: sorted(self.exclude_invoke_from),
            exclude_users: sorted(self.exclude_users),
            kb_miss: phrases(&self.kb_miss),
            kb_miss_regex: patterns(&self.kb_miss_regex),
            transfer: phrases(&self.transfer),
            transfer_regex: patterns(&self.transfer_regex),
            ..self
        }
    }

    /// These rules with the app names resolved to `ids` (the ids the config gives directly
    /// are kept). A selection of every app stays so.
    pub fn with_app_ids(mut self, resolved: impl IntoIterator<Item = String>) -> RulesInForce {
        if let AppSelection::Unresolved { ids, .. } = &self.apps {
            let all = ids.iter().cloned().chain(resolved).collect();
            self.apps = AppSelection::Ids(sorted(all));
        }
        self
    }

    /// The session window in microseconds, as frames carry times.
    pub fn window_us(&self) -> i64 {
        i64::try_from(self.session_window.as_micros()).unwrap_or(i64::MAX)
    }

    /// The canonical description of the rules: what `report --format json` shows as `rules`
    /// (with the fingerprint) and the warehouse stores. Keys and their order are fixed.
    pub fn values(&self) -> Value {
        let identity = match &self.identity {
            Identity::EndUser => json!({"source": "end_user"}),
            Identity::Input { key } => json!({"source": "input", "input": key}),
            Identity::QueryRegex { pattern } => json!({"source": "query_regex", "pattern": pattern}),
        };
        let apps: Vec<String> = match &self.apps {
            AppSelection::Every => Vec::new(),
            AppSelection::Ids(ids) => ids.clone(),
            AppSelection::Unresolved { ids, names } => ids.iter().chain(names).cloned().collect(),
        };
        json!({
            "timezone": self.timezone,
            "apps": apps,
            "exclude_invoke_from": self.exclude_invoke_from,
            "exclude_users": self.exclude_users,
            "identity": identity,
            "session": {
                "window": humantime::format_duration(self.session_window).to_string(),
                "mode": self.session_mode.name(),
            },
            "kb_miss": self.kb_miss,
            "kb_miss_regex": self.kb_miss_regex,
            "transfer": self.transfer,
            "transfer_regex": self.transfer_regex,
        })
    }

    /// [`RulesInForce::values`] as one line of text, after the version of its format: what
    /// the warehouse stores.
    pub fn canonical(&self) -> String {
        format!("{CANONICAL_PREFIX}{}", self.values())
    }

    /// A short stable hash of [`RulesInForce::canonical`]: 16 hex digits of xxh3-64.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.canonical())
    }

    /// The first knowledge-base-miss rule an answer matches, as `phrase "…"` or `regex /…/`.
    pub fn explain_kb_miss(&self, answer: &str) -> Option<String> {
        first_match(&nfkc(answer), &self.kb_miss, &self.kb_miss_regex)
    }

    /// The first transfer rule an answer matches.
    pub fn explain_transfer(&self, answer: &str) -> Option<String> {
        first_match(&nfkc(answer), &self.transfer, &self.transfer_regex)
    }
}

/// The fingerprint of a canonical rules text.
pub fn fingerprint_of(canonical: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(canonical.as_bytes()))
}

/// The top-level keys whose values differ between two canonical rules texts, for telling a
/// user what changed (`timezone, session`); every key when the stored text is not ours.
pub fn changed_keys(stored: &str, current: &RulesInForce) -> Vec<String> {
    let now = current.values();
    let Some(now) = now.as_object() else { return Vec::new() };
    let before = stored.strip_prefix(CANONICAL_PREFIX).and_then(|v| serde_json::from_str::<Value>(v).ok());
    match before.as_ref().and_then(Value::as_object) {
        Some(before) => {
            now.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect()
        }
        None => vec!["the rules format of an earlier itstat".to_string()],
    }
}

fn first_match(text: &str, phrases: &[String], regexes: &[String]) -> Option<String> {
    if let Some(p) = phrases.iter().find(|p| text.contains(p.as_str())) {
        return Some(format!("phrase \"{p}\""));
    }
    regexes
        .iter()
        .find(|r| regex::Regex::new(r).map(|re| re.is_match(text)).unwrap_or(false))
        .map(|r| format!("regex /{r}/"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Settings;

    /// The rules of a config text.
    pub(crate) fn rules(toml: &str) -> RulesInForce {
        Settings::from_toml(toml).expect("a valid config").rules
    }

    #[test]
    fn phrases_are_normalised() {
        let rules = rules("[rules]\ntransfer = [\"ＩＴ热线\"]");
        assert_eq!(rules.transfer, vec!["IT热线"]);
        assert_eq!(rules.explain_transfer("请拨打 IT热线"), Some("phrase \"IT热线\"".into()));
        assert_eq!(nfkc("抱歉，您的问题"), "抱歉,您的问题");
    }

    #[test]
    fn patterns_are_normalised_and_keep_their_meaning() {
        assert_eq!(normalise_pattern("抱歉，.*范围"), "抱歉,.*范围");
        assert_eq!(normalise_pattern("请联系（IT）"), r"请联系\(IT\)");
        assert_eq!(normalise_pattern("(?i)^ＩＴ\\d+[，。]"), "(?i)^IT\\d+[,。]");
        let miss = rules("[rules]\nkb_miss = []\nkb_miss_regex = ['抱歉，您的问题可能不在.*范围内']");
        assert!(miss.explain_kb_miss("抱歉，您的问题可能不在服务业务范围内").is_some());
        assert!(miss.explain_kb_miss("抱歉,您的问题可能不在服务业务范围内").is_some());
        let transfer = rules("[rules]\ntransfer = []\ntransfer_regex = ['请联系（IT）']");
        assert!(transfer.explain_transfer("请联系（IT）同事").is_some());
        assert!(transfer.explain_transfer("请联系IT同事").is_none(), "the parentheses are text, not a group");
    }

    #[test]
    fn the_fingerprint_follows_every_rule_and_only_the_rules() {
        let base = rules("");
        assert_eq!(base.fingerprint(), rules("").fingerprint());
        assert_eq!(base.fingerprint().len(), 16);
        let edits = [
            "timezone = \"UTC\"",
            "[dify]\napps = [\"IT 助手\"]",
            "[dify]\nexclude_invoke_from = []",
            "[dify]\nexclude_users = [\"test\"]",
            "[identity]\nsource = \"input\"\ninput = \"user\"",
            "[session]\nwindow = \"30m\"",
            "[session]\nmode = \"idle\"",
            "[rules]\nkb_miss = [\"不知道\"]",
            "[rules]\nkb_miss_regex = [\"不知道$\"]",
            "[rules]\ntransfer = [\"人工\"]",
            "[rules]\ntransfer_regex = [\"人工$\"]",
        ];
        for edit in edits {
            assert_ne!(rules(edit).fingerprint(), base.fingerprint(), "{edit}");
        }
        // Not rules: the look-back, the report language, the order of a list, a width.
        let same = ["[dify]\nlookback = \"5h\"", "[report]\nlang = \"en\"", "[rules]\ntransfer = [\"ＩＴ\"]"];
        for edit in same {
            assert_eq!(rules(edit).fingerprint(), base.fingerprint(), "{edit}");
        }
        let two = rules("[dify]\nexclude_users = [\"a\", \"b\"]");
        assert_eq!(two.fingerprint(), rules("[dify]\nexclude_users = [\"b\", \"a\", \"a\"]").fingerprint());
    }

    #[test]
    fn the_fingerprint_is_stable_across_releases() {
        // Pinned: a change here re-derives every warehouse once; bump VALUES_VERSION with it.
        assert_eq!(
            rules("").canonical(),
            r#"itstat-rules/2 {"timezone":"Asia/Shanghai","apps":[],"exclude_invoke_from":["debugger"],"exclude_users":[],"identity":{"source":"end_user"},"session":{"window":"15m","mode":"anchored"},"kb_miss":["抱歉,您的问题可能不在服务业务范围内"],"kb_miss_regex":[],"transfer":["IT"],"transfer_regex":[]}"#
        );
        assert_eq!(rules("").fingerprint(), fingerprint_of(&rules("").canonical()));
    }

    #[test]
    fn app_names_are_resolved_by_the_pipeline() {
        let named = rules("[dify]\napps = [\"IT 助手\", \"00000000-0000-4000-8000-00000000000A\"]");
        let id = "00000000-0000-4000-8000-00000000000a".to_string();
        assert_eq!(
            named.apps,
            AppSelection::Unresolved { ids: vec![id.clone()], names: vec!["IT 助手".into()] }
        );
        let resolved = named.clone().with_app_ids(["b".to_string()]);
        assert_eq!(resolved.apps, AppSelection::Ids(vec![id, "b".into()]));
        assert_ne!(resolved.fingerprint(), named.fingerprint());
        assert_eq!(rules("").with_app_ids(["x".to_string()]).apps, AppSelection::Every);
    }

    #[test]
    fn changed_keys_name_what_changed() {
        let before = rules("").canonical();
        assert_eq!(changed_keys(&before, &rules("[session]\nwindow = \"30m\"")), ["session"]);
        assert_eq!(
            changed_keys(&before, &rules("timezone = \"UTC\"\n[rules]\ntransfer = []")),
            ["timezone", "transfer"]
        );
        assert_eq!(changed_keys("{\"timezone\":\"x\"}\napps=a", &rules("")).len(), 1, "the old format");
    }
}
