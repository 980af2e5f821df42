//! Sends mail over SMTP (lettre): TLS `starttls`, `tls` or `none`, optional login, bounded
//! retries with backoff on transient failures (no answer, a dropped connection, a 4xx reply);
//! a permanent refusal (a 5xx reply) fails at once with the server's words, as a [`Refused`]
//! so a caller can still try the other recipients one by one ([`send_to`]).
//!
//! The password comes from `ITSTAT_SMTP_PASSWORD` or `[mail] password` and is never printed.

use std::time::Duration;

use anyhow::Context;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::response::Response;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::warn;

use crate::bail_user;
use crate::config::{MailSettings, TlsMode};
use crate::retry::{self, Backoff};

/// Three attempts per message (the first try and two retries), pausing 1 s, then 3 s.
const BACKOFF: Backoff = Backoff { attempts: 3, first_pause: Duration::from_secs(1) };

/// Builds the SMTP transport of the settings.
fn transport(mail: &MailSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let Some(host) = mail.host.as_deref() else {
        bail_user!("`[mail] host` is not set in the config; it names the SMTP server");
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(mail.port)
        .timeout(Some(mail.timeout));
    let params = || TlsParameters::new(host.to_string()).context("setting up TLS");
    builder = match mail.tls {
        TlsMode::None => builder.tls(Tls::None),
        TlsMode::Tls => builder.tls(Tls::Wrapper(params()?)),
        TlsMode::StartTls => builder.tls(Tls::Required(params()?)),
    };
    if let Some(user) = &mail.username {
        builder =
            builder.credentials(Credentials::new(user.clone(), mail.password.clone().unwrap_or_default()));
    }
    Ok(builder.build())
}

/// A permanent refusal by the SMTP server (a 5xx reply: an unknown recipient, a bad login, a
/// message too large): trying again would get the same answer. Callers find it with
/// `error.is::<Refused>()`.
#[derive(Debug, thiserror::Error)]
#[error("cannot send mail through {server}: the server refused it (not retried): {reply}")]
pub struct Refused {
    server: String,
    reply: String,
}

/// Sends `message` to every recipient of its envelope in one SMTP transaction, retrying
/// transient failures with a growing pause. The error names the server and quotes its reply,
/// never the password; a 5xx reply is a [`Refused`].
pub async fn send(mail: &MailSettings, message: &Message) -> anyhow::Result<()> {
    let smtp = transport(mail)?;
    with_retries(mail, || smtp.send(message.clone())).await
}

/// Sends `message` (headers unchanged) to `to` alone, as [`send`] does: when one recipient is
/// refused, the others can still get it.
pub async fn send_to(mail: &MailSettings, message: &Message, to: &Address) -> anyhow::Result<()> {
    let smtp = transport(mail)?;
    let envelope =
        Envelope::new(message.envelope().from().cloned(), vec![to.clone()]).context("addressing the mail")?;
    let raw = message.formatted();
    with_retries(mail, || smtp.send_raw(&envelope, &raw)).await
}

/// Runs `attempt_once` up to [`BACKOFF`]`.attempts` times while it fails transiently.
async fn with_retries<F, Fut>(mail: &MailSettings, mut attempt_once: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Response, lettre::transport::smtp::Error>>,
{
    let server = format!("{}:{}", mail.host.as_deref().unwrap_or_default(), mail.port);
    // lettre bounds only the TCP connect; a server that accepts and then stays silent would
    // hang forever, so the whole attempt is bounded.
    let attempt = || {
        let once = attempt_once();
        async move {
            match tokio::time::timeout(mail.timeout, once).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err((!e.is_permanent(), e.to_string())),
                Err(_) => {
                    Err((true, format!("no answer within {}", humantime::format_duration(mail.timeout))))
                }
            }
        }
    };
    let on_retry = |attempt: u32, error: &str| {
        warn!(attempt, server = %server, error = %error, "Sending mail failed; retrying.");
    };
    match retry::run(BACKOFF, attempt, on_retry).await {
        Ok(()) => Ok(()),
        // A permanent refusal (5xx) will not change on retry; the server's reply names the
        // cause, so it is quoted.
        Err(gave_up) if !gave_up.retryable => Err(Refused { server, reply: gave_up.why }.into()),
        Err(gave_up) => {
            anyhow::bail!("cannot send mail through {server}{}: {}", gave_up.after(), gave_up.why)
        }
    }
}
