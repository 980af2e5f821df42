//! The rules in force, compiled once from the settings.
//!
//! Phrases are stored NFKC-normalised because answers are compared in that form
//! (metrics.md §2: `，` matches `,`, `ＩＴ` matches `IT`). Regexes are kept as written and run
//! on the normalised answer. [`Rules::explain`] says which rule decided a verdict, for
//! `itstat messages show`.

use std::borrow::Cow;

use chrono_tz::Tz;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use crate::config::{Identity, RuleSettings, SessionMode, Settings};

/// Compiled rules; cheap to clone.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Time zone of local times and dates.
    pub tz: Tz,
    /// Where the user key comes from.
    pub identity: Identity,
    /// Session window, microseconds.
    pub window_us: i64,
    /// Session mode.
    pub mode: SessionMode,
    /// Knowledge-base miss phrases, NFKC.
    pub kb_miss: Vec<String>,
    /// Knowledge-base miss regexes.
    pub kb_miss_regex: Vec<String>,
    /// Transfer phrases, NFKC.
    pub transfer: Vec<String>,
    /// Transfer regexes.
    pub transfer_regex: Vec<String>,
    /// Excluded `invoke_from` values.
    pub exclude_invoke_from: Vec<String>,
    /// Excluded user keys.
    pub exclude_users: Vec<String>,
    /// The selected apps' ids (metrics.md §1); `None` selects every app. `[dify] apps` may
    /// name apps, so the ids are known only once they are resolved ([`Rules::with_apps`]).
    pub apps: Option<Vec<String>>,
    /// Canonical text of the settings these rules came from, the app selection included.
    pub fingerprint: String,
}

/// NFKC form of a text, borrowing when it already is.
pub fn nfkc(text: &str) -> Cow<'_, str> {
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfkc().collect())
    }
}

impl Rules {
    /// Compiles the rules of the settings.
    pub fn new(settings: &Settings) -> Rules {
        Rules::from_rule_settings(settings.tz, &settings.rules)
    }

    /// Compiles rules from their settings section.
    pub fn from_rule_settings(tz: Tz, r: &RuleSettings) -> Rules {
        let norm = |v: &[String]| v.iter().map(|p| nfkc(p).into_owned()).collect();
        Rules {
            tz,
            identity: r.identity.clone(),
            window_us: r.session_window.as_micros() as i64,
            mode: r.session_mode,
            kb_miss: norm(&r.kb_miss),
            kb_miss_regex: r.kb_miss_regex.clone(),
            transfer: norm(&r.transfer),
            transfer_regex: r.transfer_regex.clone(),
            exclude_invoke_from: r.exclude_invoke_from.clone(),
            exclude_users: r.exclude_users.clone(),
            apps: None,
            fingerprint: r.fingerprint(),
        }
    }

    /// These rules for a resolved app selection (`None`: every app). The selection is part
    /// of the fingerprint, so narrowing or widening it reclassifies the stored messages;
    /// every app (the default) leaves the fingerprint as the rules alone give it.
    pub fn with_apps(mut self, apps: Option<Vec<String>>) -> Rules {
        let base = self.fingerprint.split("\napps=").next().unwrap_or_default().to_string();
        self.fingerprint = match &apps {
            Some(ids) => format!("{base}\napps={}", ids.join(",")),
            None => base,
        };
        self.apps = apps;
        self
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
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn phrases_are_normalised() {
        let s = Settings::from_toml("[rules]\ntransfer = [\"ＩＴ热线\"]").unwrap();
        let rules = Rules::new(&s);
        assert_eq!(rules.transfer, vec!["IT热线"]);
        assert_eq!(rules.explain_transfer("请拨打 IT热线"), Some("phrase \"IT热线\"".into()));
        assert_eq!(nfkc("抱歉，您的问题"), "抱歉,您的问题");
    }

    #[test]
    fn the_app_selection_is_part_of_the_fingerprint() {
        let rules = Rules::new(&Settings::from_toml("").unwrap());
        let every = rules.clone().with_apps(None);
        assert_eq!(every.fingerprint, rules.fingerprint, "the default changes nothing stored");
        let one = rules.clone().with_apps(Some(vec!["a".into()]));
        assert_ne!(one.fingerprint, rules.fingerprint);
        assert_eq!(one.clone().with_apps(None).fingerprint, rules.fingerprint);
        assert_ne!(one.with_apps(Some(vec!["a".into(), "b".into()])).fingerprint, rules.fingerprint);
    }
}
