//! Retry with backoff for the clients that talk to another service (the WeCom robot, the
//! embeddings and chat service of knowledge gaps, the SMTP server): [`run`] tries an attempt
//! until it succeeds, fails for good, or the attempts are used up, pausing between tries with
//! a pause that grows threefold. Each caller keeps its own counts, pauses, time limits and
//! words: the attempt decides what may be retried, the caller words the failure. An attempt
//! may also name the pause the other side asked for (HTTP 429's `Retry-After`, read by
//! [`retry_after`]); that pause replaces the backoff's for that one retry. [`unanswered`] is
//! the HTTP clients' one reading of a request that got no answer.

use std::future::Future;
use std::time::Duration;

/// How often and how patiently to try.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all: the first try and the retries.
    pub attempts: u32,
    /// Pause before the first retry; each later pause is three times longer.
    pub first_pause: Duration,
}

/// One attempt's failure: whether trying again may help, why it failed, and how long the
/// other side asked to be left alone before the next try. `(retryable, why)` converts to one
/// without a pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub retryable: bool,
    pub why: String,
    /// The pause before the next try, in place of the backoff's (a server's `Retry-After`).
    pub wait: Option<Duration>,
}

impl From<(bool, String)> for Failure {
    fn from((retryable, why): (bool, String)) -> Failure {
        Failure { retryable, why, wait: None }
    }
}

/// The failure that ended the tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp {
    /// The attempts made, the failing one included.
    pub attempts: u32,
    /// The last attempt's failure could have been retried (the attempts ran out).
    pub retryable: bool,
    /// Why the last attempt failed.
    pub why: String,
}

impl GaveUp {
    /// ` (after 3 attempts)` when more than one attempt was made, else nothing: the words the
    /// error messages add.
    pub fn after(&self) -> String {
        if self.attempts > 1 { format!(" (after {} attempts)", self.attempts) } else { String::new() }
    }
}

/// A request that got no answer (a timeout, a refused or dropped connection): worth retrying.
/// A timeout is said as such; reqwest's other errors are quoted without the URL, which may
/// carry a key.
pub fn unanswered(e: reqwest::Error) -> (bool, String) {
    (true, if e.is_timeout() { "no answer in time".to_string() } else { e.without_url().to_string() })
}

/// The pause an HTTP answer asks for in its `Retry-After` header, in its seconds form
/// (`Retry-After: 2`); the date form and anything else unreadable count as no pause asked,
/// leaving the backoff's.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Runs `attempt` until it succeeds, fails for good (not retryable) or `backoff.attempts`
/// are used up; before each retry, `on_retry(attempt number, why)` (the caller's log line)
/// and the pause: the one the failure asked for, else the backoff's. The caller bounds an
/// asked pause (a failure asking for longer than it will wait is not retryable).
pub async fn run<T, E, F, Fut>(
    backoff: Backoff,
    mut attempt: F,
    mut on_retry: impl FnMut(u32, &str),
) -> Result<T, GaveUp>
where
    E: Into<Failure>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut pause = backoff.first_pause;
    let mut attempts = 1;
    loop {
        let Failure { retryable, why, wait } = match attempt().await {
            Ok(done) => return Ok(done),
            Err(failure) => failure.into(),
        };
        if !retryable || attempts >= backoff.attempts {
            return Err(GaveUp { attempts, retryable, why });
        }
        on_retry(attempts, &why);
        tokio::time::sleep(wait.unwrap_or(pause)).await;
        pause *= 3;
        attempts += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const QUICK: Backoff = Backoff { attempts: 3, first_pause: Duration::from_millis(1) };

    /// Runs attempts that fail with `failures` in turn, then succeed.
    fn tries(failures: &[(bool, String)]) -> (Result<u32, GaveUp>, Vec<u32>) {
        let made = Cell::new(0usize);
        let mut retried = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let result = runtime.block_on(run(
            QUICK,
            || {
                let n = made.get();
                made.set(n + 1);
                let failure = failures.get(n).cloned();
                async move { failure.map_or(Ok(n as u32 + 1), |f| Err(Failure::from(f))) }
            },
            |attempt, _| retried.push(attempt),
        ));
        (result, retried)
    }

    #[test]
    fn transient_failures_are_retried_until_the_attempts_run_out() {
        assert_eq!(tries(&[]), (Ok(1), vec![]));
        assert_eq!(tries(&[(true, "busy".into())]), (Ok(2), vec![1]));
        let (result, retried) = tries(&[(true, "a".into()), (true, "b".into()), (true, "c".into())]);
        let gave_up = result.unwrap_err();
        assert_eq!((gave_up.attempts, gave_up.retryable, gave_up.why.as_str()), (3, true, "c"));
        assert_eq!((gave_up.after(), retried), (" (after 3 attempts)".to_string(), vec![1, 2]));
    }

    #[test]
    fn a_final_failure_ends_at_once() {
        let (result, retried) = tries(&[(false, "refused".into())]);
        let gave_up = result.unwrap_err();
        assert_eq!((gave_up.attempts, gave_up.retryable, gave_up.after()), (1, false, String::new()));
        assert!(retried.is_empty());
        let (result, _) = tries(&[(true, "busy".into()), (false, "refused".into())]);
        assert_eq!(result.unwrap_err().after(), " (after 2 attempts)");
    }

    #[test]
    fn a_pause_the_server_asks_for_replaces_the_backoffs() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let made = Cell::new(0u32);
        let started = std::time::Instant::now();
        let result = runtime.block_on(run(
            QUICK,
            || {
                made.set(made.get() + 1);
                let first = made.get() == 1;
                async move {
                    if first {
                        Err(Failure {
                            retryable: true,
                            why: "429".into(),
                            wait: Some(Duration::from_millis(300)),
                        })
                    } else {
                        Ok(())
                    }
                }
            },
            |_, _| {},
        ));
        assert_eq!((result, made.get()), (Ok(()), 2));
        assert!(started.elapsed() >= Duration::from_millis(300), "waited {:?}", started.elapsed());
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, " 2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), None, "the date form leaves the backoff's pause");
    }
}
