//! Sends mail over SMTP (lettre): TLS `starttls`, `tls` or `none`, optional login, bounded
//! retries with backoff on transient failures (no answer, a dropped connection, a 4xx reply);
//! a permanent refusal (a 5xx reply) fails at once with the server's words.
//!
//! The password comes from `ITSTAT_SMTP_PASSWORD` or `[mail] password` and is never printed.

use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::warn;

use crate::bail_user;
use crate::config::MailSettings;

/// Attempts per message: the first try and two retries.
const ATTEMPTS: u32 = 3;
/// Pause before the first retry; each later pause is three times longer.
const FIRST_PAUSE: Duration = Duration::from_secs(1);

/// Builds the SMTP transport of the settings.
fn transport(mail: &MailSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let Some(host) = mail.host.as_deref() else {
        bail_user!("`[mail] host` is not set in the config; it names the SMTP server");
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(mail.port)
        .timeout(Some(mail.timeout));
    builder = match mail.tls.as_str() {
        "none" => builder.tls(Tls::None),
        mode => {
            let params = TlsParameters::new(host.to_string()).context("setting up TLS")?;
            builder.tls(if mode == "tls" { Tls::Wrapper(params) } else { Tls::Required(params) })
        }
    };
    if let Some(user) = &mail.username {
        builder =
            builder.credentials(Credentials::new(user.clone(), mail.password.clone().unwrap_or_default()));
    }
    Ok(builder.build())
}

/// Sends `message`, retrying transient failures with a growing pause. The error names the
/// server and quotes its reply, never the password.
pub async fn send(mail: &MailSettings, message: &Message) -> anyhow::Result<()> {
    let smtp = transport(mail)?;
    let server = format!("{}:{}", mail.host.as_deref().unwrap_or_default(), mail.port);
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        // lettre bounds only the TCP connect; a server that accepts and then stays silent
        // would hang forever, so the whole attempt is bounded.
        let (permanent, error) = match tokio::time::timeout(mail.timeout, smtp.send(message.clone())).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => (e.is_permanent(), e.to_string()),
            Err(_) => (false, format!("no answer within {}", humantime::format_duration(mail.timeout))),
        };
        // A permanent refusal (5xx: unknown recipient, bad login, message too large) will not
        // change on retry; say so, and quote the server, whose reply names the cause.
        if permanent {
            anyhow::bail!("cannot send mail through {server}: the server refused it (not retried): {error}");
        }
        if attempt == ATTEMPTS {
            anyhow::bail!("cannot send mail through {server} (after {attempt} attempts): {error}");
        }
        warn!(attempt, server = %server, error = %error, "Sending mail failed; retrying.");
        tokio::time::sleep(pause).await;
        pause *= 3;
        attempt += 1;
    }
}
