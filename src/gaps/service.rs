//! The OpenAI-compatible services of knowledge gaps (docs/gaps.md): `POST {base}/embeddings`
//! for vectors and `POST {base}/chat/completions` for a topic's name, with the bearer key of
//! `ITSTAT_GAPS_API_KEY`.
//!
//! Requests are batched ([`BATCH`] questions), bounded by `[gaps] timeout` each, and tried
//! three times in all on a timeout, a dropped connection or a 5xx (pauses of 0.5 s and 1.5 s),
//! or a 429 (after the pause its `Retry-After` asks for, when that fits in the timeout).
//! An answer is checked before it is used: one finite vector per input, all of one length,
//! none all zeros, and not one vector for every input of a batch — a service that answers
//! those is broken, and grouping by them would be grouping by nothing ([`degenerate`]).
//! Errors name the service by scheme and host only (no key, no path), and never panic: the
//! caller falls back to grouping by wording. A body they quote has every configured secret
//! masked first: a service may echo the bearer key in its error, and the error becomes the
//! report's warning (stderr, JSON, workbook, Markdown, mail).

use std::time::Duration;

use serde::Deserialize;
use tracing::warn;

use crate::config::Settings;
use crate::retry::{self, Backoff, Failure};

/// Questions per embeddings request.
pub const BATCH: usize = 64;
/// Three attempts per request, pausing 0.5 s, then 1.5 s.
const BACKOFF: Backoff = Backoff { attempts: 3, first_pause: Duration::from_millis(500) };

/// One OpenAI-compatible endpoint.
pub struct Service {
    client: reqwest::Client,
    base: String,
    key: Option<String>,
    /// Every configured secret, masked in what the service writes (`Settings::secrets`).
    secrets: Vec<String>,
    /// `[gaps] timeout`: also the longest pause a 429 may ask for.
    timeout: Duration,
    /// Scheme and host, safe to print.
    pub shown: String,
}

#[derive(Deserialize)]
struct EmbeddingAnswer {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct ChatAnswer {
    choices: Vec<ChatChoice>,
}

#[derive(Deserialize)]
struct ChatChoice {
    message: ChatMessage,
}

#[derive(Deserialize)]
struct ChatMessage {
    content: String,
}

impl Service {
    /// The service at `base` (e.g. `http://rag-host/v1`).
    pub fn new(base: &str, all: &Settings) -> anyhow::Result<Service> {
        let settings = &all.gaps;
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("setting up HTTP: {}", e.without_url()))?;
        let shown = match url::Url::parse(base) {
            Ok(u) => format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or("?"),
                u.port().map(|p| format!(":{p}")).unwrap_or_default()
            ),
            Err(_) => "the configured service".to_string(),
        };
        Ok(Service {
            client,
            base: base.trim_end_matches('/').to_string(),
            key: settings.api_key.clone(),
            secrets: all.secrets(),
            timeout: settings.timeout,
            shown,
        })
    }

    /// One vector per text, in order.
    pub async fn embed(&self, model: &str, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let mut out: Vec<Vec<f32>> = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            let body = serde_json::json!({ "model": model, "input": batch });
            let answer: EmbeddingAnswer = self.post("embeddings", &body).await?;
            let vectors = ordered(answer, batch.len()).map_err(|why| self.error(&why))?;
            if let (Some(first), Some(v)) = (out.first(), vectors.first())
                && first.len() != v.len()
            {
                return Err(self.error("the vectors changed length between two requests"));
            }
            out.extend(vectors);
        }
        Ok(out)
    }

    /// A short name for a topic's questions, in the report language.
    pub async fn name(&self, model: &str, examples: &[String], chinese: bool) -> anyhow::Result<String> {
        let ask = if chinese {
            "下面是员工向 IT 服务台提出的几个问题，它们问的是同一件事。请用不超过 15 个字概括这件事，只输出概括本身。"
        } else {
            "These questions to an IT help desk ask the same thing. Name that thing in at most 8 words; answer with the name only."
        };
        let list: Vec<String> =
            examples.iter().map(|e| format!("- {}", crate::textsafe::short(e, 200))).collect();
        let body = serde_json::json!({
            "model": model,
            "temperature": 0,
            "max_tokens": 40,
            "messages": [
                {"role": "system", "content": ask},
                {"role": "user", "content": list.join("\n")},
            ],
        });
        let answer: ChatAnswer = self.post("chat/completions", &body).await?;
        let text = answer.choices.into_iter().next().map(|c| c.message.content).unwrap_or_default();
        // Reasoning models may think aloud first; only the last line is the name.
        let name =
            text.rsplit("</think>").next().unwrap_or_default().lines().rev().find(|l| !l.trim().is_empty());
        let name = name.unwrap_or_default().trim().trim_matches(['"', '“', '”', '「', '」', '*']).to_string();
        if name.is_empty() {
            return Err(self.error("the chat model answered nothing"));
        }
        // A title is quoted everywhere the report goes; a model that repeats the key must not.
        Ok(crate::textsafe::short(&crate::error::mask_configured(&name, &self.secrets), 60))
    }

    /// POSTs `body` to `{base}/{path}` with retries; the answer parsed as `T`.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<T> {
        let url = format!("{}/{path}", self.base);
        let url = url.as_str();
        let attempt = || async move {
            let text = self.attempt(url, body).await?;
            serde_json::from_str::<T>(&text)
                .map_err(|e| Failure::from((false, format!("the answer is not the expected JSON ({e})"))))
        };
        let on_retry = |attempt: u32, why: &str| {
            warn!(attempt, service = %self.shown, error = %why, "A gaps service request failed; retrying.");
        };
        retry::run(BACKOFF, attempt, on_retry)
            .await
            .map_err(|gave_up| self.error(&format!("{path}{}: {}", gave_up.after(), gave_up.why)))
    }

    /// One request: the answer's text, or whether to retry, why not and after what pause.
    async fn attempt(&self, url: &str, body: &serde_json::Value) -> Result<String, Failure> {
        let mut request = self.client.post(url).json(body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(retry::unanswered)?;
        let status = response.status();
        let asked = retry::retry_after(response.headers());
        let text = response.text().await.map_err(retry::unanswered)?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(self.busy(status, asked));
        }
        if status.is_server_error() {
            return Err((true, format!("HTTP {status}")).into());
        }
        if !status.is_success() {
            let quoted = crate::error::mask_configured(&text, &self.secrets);
            return Err((false, format!("HTTP {status}: {}", crate::textsafe::short(&quoted, 200))).into());
        }
        Ok(text)
    }

    /// A 429 ("too many requests"): tried again after the pause the service asks for when it
    /// fits in `[gaps] timeout` (a report does not wait longer than a request may take), after
    /// the backoff's when it asks for none.
    fn busy(&self, status: reqwest::StatusCode, asked: Option<Duration>) -> Failure {
        match asked {
            Some(wait) if wait > self.timeout => Failure {
                retryable: false,
                why: format!(
                    "HTTP {status}, retry after {} s: longer than `gaps.timeout` ({})",
                    wait.as_secs(),
                    humantime::format_duration(self.timeout)
                ),
                wait: None,
            },
            wait => Failure { retryable: true, why: format!("HTTP {status}"), wait },
        }
    }

    fn error(&self, why: &str) -> anyhow::Error {
        anyhow::anyhow!("{}: {why}", self.shown)
    }
}

/// The vectors of an answer in input order, checked: one per input, finite, one length.
fn ordered(answer: EmbeddingAnswer, expected: usize) -> Result<Vec<Vec<f32>>, String> {
    if answer.data.len() != expected {
        return Err(format!("{} vectors for {expected} questions", answer.data.len()));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (i, item) in answer.data.into_iter().enumerate() {
        let at = item.index.unwrap_or(i);
        match out.get_mut(at) {
            Some(slot @ None) => *slot = Some(item.embedding),
            _ => return Err(format!("a vector with a bad or repeated index {at}")),
        }
    }
    let vectors: Vec<Vec<f32>> = out.into_iter().flatten().collect();
    let dims = vectors.first().map_or(0, Vec::len);
    if dims == 0 || vectors.iter().any(|v| v.len() != dims) {
        return Err("vectors of different or zero length".into());
    }
    if vectors.iter().flatten().any(|x| !x.is_finite()) {
        return Err("a vector with a value that is not a number".into());
    }
    match degenerate(&vectors) {
        Some(why) => Err(why),
        None => Ok(vectors),
    }
}

/// Why a batch of vectors carries no meaning, if it does not: a vector of zeros (no direction
/// to compare), or the same vector for every one of two or more questions (all of them one
/// group). Cached, such a batch would outlive the fault that produced it.
pub fn degenerate(vectors: &[Vec<f32>]) -> Option<String> {
    if let Some(i) = vectors.iter().position(|v| v.iter().all(|&x| x == 0.0)) {
        return Some(format!("an all-zero vector (question {} of {})", i + 1, vectors.len()));
    }
    let first = vectors.first()?;
    (vectors.len() > 1 && vectors.iter().all(|v| v == first))
        .then(|| format!("the same vector for all {} questions", vectors.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(items: &[(Option<usize>, Vec<f32>)]) -> EmbeddingAnswer {
        EmbeddingAnswer {
            data: items
                .iter()
                .map(|(index, v)| EmbeddingItem { index: *index, embedding: v.clone() })
                .collect(),
        }
    }

    #[test]
    fn answers_are_put_in_order_and_checked() {
        let ok = answer(&[(Some(1), vec![0.0, 1.0]), (Some(0), vec![1.0, 0.0])]);
        assert_eq!(ordered(ok, 2).unwrap(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert!(ordered(answer(&[(None, vec![1.0])]), 2).is_err(), "too few");
        assert!(ordered(answer(&[(Some(0), vec![1.0]), (Some(0), vec![1.0])]), 2).is_err(), "repeated");
        assert!(ordered(answer(&[(None, vec![1.0]), (None, vec![1.0, 2.0])]), 2).is_err(), "lengths");
        assert!(ordered(answer(&[(None, vec![f32::NAN])]), 1).is_err(), "NaN");
        assert!(ordered(answer(&[(Some(5), vec![1.0])]), 1).is_err(), "index out of range");
    }

    #[test]
    fn a_batch_of_identical_or_zero_vectors_is_refused() {
        let same = answer(&[(None, vec![0.6, 0.8]), (None, vec![0.6, 0.8]), (None, vec![0.6, 0.8])]);
        assert_eq!(ordered(same, 3).unwrap_err(), "the same vector for all 3 questions");
        let zero = answer(&[(None, vec![0.6, 0.8]), (None, vec![0.0, -0.0])]);
        assert_eq!(ordered(zero, 2).unwrap_err(), "an all-zero vector (question 2 of 2)");
        assert!(ordered(answer(&[(None, vec![0.6, 0.8])]), 1).is_ok(), "one question is not a sign");
        let two = answer(&[(None, vec![0.6, 0.8]), (None, vec![0.6, 0.8]), (None, vec![0.8, 0.6])]);
        assert!(ordered(two, 3).is_ok(), "two paraphrases may share a vector");
    }
}
