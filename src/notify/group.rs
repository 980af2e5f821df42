//! One check's notification to one channel, as one WeCom post or one mail (docs/alerts.md,
//! "Grouping"): the firing alerts that are due, most severe first, then the episodes that
//! ended (`已恢复`, with how long they lasted). The order is decided by
//! `transform::alerts::episodes`; this module only words it and keeps a post within the
//! robot's 4,096 bytes by leaving out whole entries (and saying how many), never cutting one.

use std::fmt::Write;

use chrono::NaiveDateTime;
use chrono_tz::Tz;

use super::text::{severity_name, span};
use super::wecom::{MAX_CONTENT_BYTES, fit};
use crate::calendar::Lang;
use crate::textsafe::inert;
use crate::transform::alerts::Firing;
use crate::transform::alerts::episodes::Episode;

/// A firing alert of the group: the alert, its message and when its condition was first seen.
pub struct FiringEntry<'a> {
    pub firing: &'a Firing,
    pub message: &'a str,
    pub since: NaiveDateTime,
}

/// What one post or mail holds.
pub struct Group<'a> {
    /// Most severe first.
    pub firing: Vec<FiringEntry<'a>>,
    /// Oldest end first.
    pub resolved: &'a [Episode],
    pub tz: Tz,
    pub lang: Lang,
}

impl Group<'_> {
    fn local(&self, utc: NaiveDateTime, format: &str) -> String {
        crate::transform::time::to_local(self.tz, utc).format(format).to_string()
    }

    /// `kind · severity[ · subject]`.
    fn title(&self, f: &Firing) -> String {
        let subject = f.subject.as_deref().map(|s| format!(" · {}", inert(s, 80))).unwrap_or_default();
        format!("{} · {}{subject}", f.kind.as_str(), severity_name(f.severity))
    }

    /// How long an ended episode lasted, and from when to when.
    fn lasted(&self, e: &Episode) -> String {
        let end = e.cleared_at.unwrap_or(e.last_seen_at);
        let from = self.local(e.opened_at, "%m-%d %H:%M");
        let same_day = self.local(e.opened_at, "%F") == self.local(end, "%F");
        let to = self.local(end, if same_day { "%H:%M" } else { "%m-%d %H:%M" });
        let lasted = span(e.lasted(end), self.lang);
        match self.lang {
            Lang::Zh => format!("已恢复，持续 {lasted}（{from} – {to}）"),
            Lang::En => format!("resolved after {lasted} ({from} – {to})"),
        }
    }

    fn subject_of(e: &Episode) -> String {
        if e.subject.is_empty() { String::new() } else { format!(" · {}", inert(&e.subject, 80)) }
    }

    fn firing_markdown(&self, entry: &FiringEntry<'_>) -> String {
        let colour = match entry.firing.severity {
            crate::transform::alerts::Severity::Critical => "warning",
            crate::transform::alerts::Severity::Warning => "comment",
        };
        let since = self.local(entry.since, "%m-%d %H:%M");
        let since = self.lang.pick("自", "since").to_string() + " " + &since;
        format!("<font color=\"{colour}\">{}</font> · {since}\n> {}", self.title(entry.firing), entry.message)
    }

    fn resolved_markdown(&self, e: &Episode) -> String {
        format!("<font color=\"info\">✓ {}{}</font> {}", e.kind.as_str(), Self::subject_of(e), self.lasted(e))
    }

    fn heading(&self, resolved: bool, n: usize) -> String {
        let what = match (resolved, self.lang) {
            (false, Lang::Zh) => "itstat 告警",
            (false, Lang::En) => "itstat alert",
            (true, Lang::Zh) => "itstat 已恢复",
            (true, Lang::En) => "itstat resolved",
        };
        match (n, self.lang) {
            (0 | 1, _) => format!("**{what}**"),
            (n, Lang::Zh) => format!("**{what} · {n} 条**"),
            (n, Lang::En) => format!("**{what} · {n}**"),
        }
    }

    /// The post as the WeCom group sees it, within [`MAX_CONTENT_BYTES`]: as many whole
    /// entries as fit, in order, and a line saying how many were left out.
    pub fn wecom(&self) -> String {
        let total = self.firing.len() + self.resolved.len();
        (1..=total)
            .rev()
            .map(|shown| self.wecom_with(shown))
            .find(|post| post.len() <= MAX_CONTENT_BYTES)
            .unwrap_or_else(|| fit(&self.wecom_with(1), MAX_CONTENT_BYTES))
    }

    /// The post with only the first `shown` entries.
    fn wecom_with(&self, shown: usize) -> String {
        let mut out = String::new();
        let firing = self.firing.len().min(shown);
        if firing > 0 {
            let _ = writeln!(out, "{}", self.heading(false, self.firing.len()));
            for entry in &self.firing[..firing] {
                let _ = writeln!(out, "{}", self.firing_markdown(entry));
            }
        }
        let resolved = self.resolved.len().min(shown - firing);
        if resolved > 0 {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", self.heading(true, self.resolved.len()));
            for e in &self.resolved[..resolved] {
                let _ = writeln!(out, "{}", self.resolved_markdown(e));
            }
        }
        let left_out = self.firing.len() + self.resolved.len() - firing - resolved;
        if left_out > 0 {
            let _ = match self.lang {
                Lang::Zh => writeln!(out, "\n…另有 {left_out} 条未显示：运行 itstat alerts list 查看。"),
                Lang::En => writeln!(out, "\n…and {left_out} more: run `itstat alerts list`."),
            };
        }
        out.trim_end().to_string()
    }

    /// The mail's subject: the most severe alert, how many more, how many ended.
    pub fn mail_subject(&self) -> String {
        let (alert, resolved) = match self.lang {
            Lang::Zh => ("itstat 告警", "itstat 已恢复"),
            Lang::En => ("itstat alert", "itstat resolved"),
        };
        let ended = self.resolved.len();
        match self.firing.first() {
            Some(first) => {
                let f = first.firing;
                let mut subject = format!("[{alert}] {} ({})", f.kind.as_str(), severity_name(f.severity));
                if self.firing.len() > 1 {
                    let _ = write!(subject, " +{}", self.firing.len() - 1);
                }
                if ended > 0 {
                    let _ = match self.lang {
                        Lang::Zh => write!(subject, "，{ended} 条已恢复"),
                        Lang::En => write!(subject, ", {ended} resolved"),
                    };
                }
                subject
            }
            None => {
                let first = self.resolved.first().map(|e| e.kind.as_str()).unwrap_or_default();
                let more = if ended > 1 { format!(" +{}", ended - 1) } else { String::new() };
                format!("[{resolved}] {first}{more}")
            }
        }
    }

    /// The mail's plain-text body: every entry in full, then where it came from.
    pub fn mail_body(&self, footer: &str) -> String {
        let mut out = String::new();
        for entry in &self.firing {
            let since = self.local(entry.since, "%Y-%m-%d %H:%M");
            let since = format!("{} {since}", self.lang.pick("自", "since"));
            let _ = writeln!(
                out,
                "[{}] {} ({since})\n{}\n",
                severity_name(entry.firing.severity).to_uppercase(),
                self.title(entry.firing),
                entry.message
            );
        }
        if !self.resolved.is_empty() {
            let _ = writeln!(out, "{}:", self.lang.pick("已恢复", "Resolved"));
            for e in self.resolved {
                let _ = writeln!(out, "✓ {}{} {}", e.kind.as_str(), Self::subject_of(e), self.lasted(e));
            }
            out.push('\n');
        }
        out.push_str(footer);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::alerts::{AlertKind, Severity};
    use chrono::NaiveDate;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 3).unwrap().and_hms_opt(h, m, 0).unwrap()
    }

    fn firing(kind: AlertKind, subject: Option<&str>) -> Firing {
        let mut f = crate::transform::alerts::evaluate(
            &crate::transform::alerts::IngestHealth::default(),
            at(1, 0),
            None,
            &crate::transform::alerts::Thresholds::default(),
        )
        .remove(0);
        f.kind = kind;
        f.severity = kind.severity();
        f.subject = subject.map(String::from);
        f
    }

    fn ended(id: i64, kind: AlertKind) -> Episode {
        Episode {
            id,
            kind,
            subject: String::new(),
            opened_at: at(1, 0),
            fired_at: Some(at(1, 0)),
            last_seen_at: at(3, 0),
            cleared_at: Some(at(3, 5)),
        }
    }

    #[test]
    fn a_group_shows_firing_then_resolved_with_how_long_it_lasted() {
        let (a, b) = (firing(AlertKind::ErrorRateHigh, None), firing(AlertKind::OneUserKey, Some("bri*dge")));
        let resolved = [ended(4, AlertKind::KbHitRateLow)];
        let g = Group {
            firing: vec![
                FiringEntry { firing: &a, message: "errors", since: at(1, 0) },
                FiringEntry { firing: &b, message: "one key", since: at(1, 0) },
            ],
            resolved: &resolved,
            tz: chrono_tz::Asia::Shanghai,
            lang: Lang::Zh,
        };
        let post = g.wecom();
        assert!(post.starts_with("**itstat 告警 · 2 条**\n<font color=\"warning\">error_rate_high · critical</font> · 自 11-03 09:00\n> errors\n"), "{post}");
        assert!(post.contains("one_user_key · warning · bri\\*dge"), "{post}");
        assert!(post.ends_with("**itstat 已恢复**\n<font color=\"info\">✓ kb_hit_rate_low</font> 已恢复，持续 2 小时 5 分（11-03 09:00 – 11:05）"), "{post}");
        assert_eq!(g.mail_subject(), "[itstat 告警] error_rate_high (critical) +1，1 条已恢复");
        let only_resolved = Group { firing: Vec::new(), ..g };
        assert_eq!(only_resolved.mail_subject(), "[itstat 已恢复] kb_hit_rate_low");
        assert!(only_resolved.wecom().starts_with("**itstat 已恢复**"));
    }

    #[test]
    fn a_long_group_leaves_out_whole_entries_and_says_how_many() {
        let alerts: Vec<Firing> =
            (0..40).map(|i| firing(AlertKind::OneUserKey, Some(&format!("key{i}")))).collect();
        let message = "知识库".repeat(100);
        let g = Group {
            firing: alerts
                .iter()
                .map(|f| FiringEntry { firing: f, message: &message, since: at(1, 0) })
                .collect(),
            resolved: &[],
            tz: chrono_tz::Asia::Shanghai,
            lang: Lang::En,
        };
        let post = g.wecom();
        assert!(post.len() <= MAX_CONTENT_BYTES, "{}", post.len());
        let shown = post.matches("one_user_key · warning").count();
        assert!((3..40).contains(&shown), "{shown}");
        assert!(post.ends_with(&format!("…and {} more: run `itstat alerts list`.", 40 - shown)), "{post}");
        assert!(post.starts_with("**itstat alert · 40**"));
        assert_eq!(alerts[0].severity, Severity::Warning);
    }
}
