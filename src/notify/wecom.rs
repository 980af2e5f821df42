//! The WeCom (企业微信) group robot: `POST {webhook}` with
//! `{"msgtype": "markdown", "markdown": {"content": …}}`, the answer's `errcode` checked
//! (docs/alerts.md, "WeCom").
//!
//! The webhook URL carries the robot's key, which lets anyone post into the group: it is never
//! printed. Errors name the robot by host only, reqwest's own errors are stripped of the URL,
//! and whatever the robot answers (an `errmsg` may echo the URL) is quoted with the key and
//! every URL's secrets masked, so the key reaches neither stderr, `check`'s JSON nor the
//! delivery log. A post that times out, cannot connect or gets a 5xx is tried three times in all
//! (pauses of 1 s and 3 s); an `errcode` is the robot's verdict on the message and is not
//! retried, except 45009 (too many posts this minute), after a pause.

use std::time::Duration;

use serde::Deserialize;
use tracing::warn;

use crate::config::WecomSettings;
use crate::error::user_error;
use crate::retry::{self, Backoff};

/// The most bytes of markdown content the robot accepts.
pub const MAX_CONTENT_BYTES: usize = 4096;
/// Three attempts per post (the first try and two retries), pausing 1 s, then 3 s.
const BACKOFF: Backoff = Backoff { attempts: 3, first_pause: Duration::from_secs(1) };
/// The robot's "too many messages this minute".
const RATE_LIMITED: i64 = 45009;

/// The robot's answer.
#[derive(Debug, Deserialize)]
struct Answer {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// A robot to post to.
pub struct Robot {
    client: reqwest::Client,
    url: String,
    /// The webhook's `key`, to be masked wherever an answer quotes it.
    key: Option<String>,
    /// Where the robot is, safe to print: scheme and host.
    pub shown: String,
}

impl Robot {
    /// The robot of the settings, or an error naming where to configure it.
    pub fn new(settings: &WecomSettings) -> anyhow::Result<Robot> {
        let Some(url) = settings.webhook.clone() else {
            return Err(user_error(
                "no WeCom robot configured: set ITSTAT_WECOM_WEBHOOK (or `[wecom] webhook` in itstat.toml) to the group robot's webhook address",
            ));
        };
        let shown = shown_place(&url);
        let key = url::Url::parse(&url).ok().and_then(|u| {
            u.query_pairs().find(|(k, _)| k.eq_ignore_ascii_case("key")).map(|(_, v)| v.into_owned())
        });
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("setting up HTTPS for the WeCom robot: {}", e.without_url()))?;
        Ok(Robot { client, url, key: key.filter(|k| !k.is_empty()), shown })
    }

    /// Posts `content` (cut to [`MAX_CONTENT_BYTES`]) as a markdown message.
    pub async fn post_markdown(&self, content: &str) -> anyhow::Result<()> {
        let body = serde_json::json!({
            "msgtype": "markdown",
            "markdown": { "content": fit(content, MAX_CONTENT_BYTES) },
        });
        let body = &body;
        let attempt =
            || async move { self.attempt(body).await.map_err(|(retry, error)| (retry, self.masked(&error))) };
        let on_retry = |attempt: u32, error: &str| {
            warn!(attempt, robot = %self.shown, error = %error, "Posting to WeCom failed; retrying.");
        };
        retry::run(BACKOFF, attempt, on_retry).await.map_err(|gave_up| {
            anyhow::anyhow!(
                "cannot post to the WeCom robot at {}{}: {}",
                self.shown,
                gave_up.after(),
                gave_up.why
            )
        })
    }

    /// Text quoted from the robot or the connection, with the key and every URL's secrets
    /// masked.
    fn masked(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some(key) = &self.key {
            let encoded: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
            out = out.replace(key.as_str(), "***").replace(&encoded, "***");
        }
        crate::error::mask_secrets(&out)
    }

    /// One post: `Ok`, or whether to retry and why not.
    async fn attempt(&self, body: &serde_json::Value) -> Result<(), (bool, String)> {
        let response = self.client.post(&self.url).json(body).send().await.map_err(retry::unanswered)?;
        let status = response.status();
        let text = response.text().await.map_err(|e| (true, e.without_url().to_string()))?;
        if status.is_server_error() {
            return Err((true, format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err((false, format!("HTTP {status}; check the webhook address")));
        }
        let answer: Answer = serde_json::from_str(&text).map_err(|_| {
            (true, format!("the answer is not the robot's JSON: {}", crate::textsafe::short(&text, 120)))
        })?;
        match answer.errcode {
            0 => Ok(()),
            code => Err((
                code == RATE_LIMITED,
                format!(
                    "the robot refused the message: errcode {code}: {}",
                    crate::textsafe::short(&answer.errmsg, 200)
                ),
            )),
        }
    }
}

/// `https://host` of a webhook URL: enough to say which robot, without its key.
fn shown_place(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        }
        Err(_) => "the configured webhook".to_string(),
    }
}

/// `text` cut to at most `max` bytes on a character boundary, ending in `…` when cut (the
/// robot refuses longer content outright).
pub fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let ellipsis = "\n…";
    let mut end = max - ellipsis.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ellipsis}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_cut_on_a_character_boundary_within_the_limit() {
        let text = "知识库".repeat(2000);
        let cut = fit(&text, MAX_CONTENT_BYTES);
        assert!(cut.len() <= MAX_CONTENT_BYTES && cut.ends_with('…'), "{}", cut.len());
        assert_eq!(fit("short", MAX_CONTENT_BYTES), "short");
    }

    #[test]
    fn what_the_robot_quotes_is_masked() {
        let settings = WecomSettings {
            webhook: Some("https://robot.example/cgi-bin/webhook/send?key=k3y-5ecret".into()),
            timeout: Duration::from_secs(1),
        };
        let robot = Robot::new(&settings).unwrap();
        let echoed = robot.masked(
            "invalid webhook url https://robot.example/cgi-bin/webhook/send?key=k3y-5ecret, key: k3y-5ecret",
        );
        assert!(!echoed.contains("k3y-5ecret"), "{echoed}");
        assert!(echoed.contains("key=***") && echoed.ends_with("key: ***"), "{echoed}");
    }

    #[test]
    fn the_robot_is_shown_without_its_key() {
        assert_eq!(
            shown_place("https://robot.example/cgi-bin/webhook/send?key=SECRET"),
            "https://robot.example"
        );
        assert_eq!(shown_place("http://127.0.0.1:8080/send?key=SECRET"), "http://127.0.0.1:8080");
        assert!(!shown_place("not a url key=SECRET").contains("SECRET"));
    }
}
