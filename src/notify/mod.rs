//! Telling people: alert notifications by mail to `[mail] owner` and to the WeCom group robot,
//! and the report summary posted to WeCom (docs/alerts.md).
//!
//! [`targets`] turns `[alerts] notify` and what is configured into the places to send to,
//! checked before anything is evaluated or sent; [`send`] delivers one text to one place;
//! [`group`] words one check's notification to one channel.
//! What was sent is recorded by the caller in the delivery log (`deliveries`), where the
//! recipient of a WeCom post is `wecom`.

pub mod group;
pub mod text;
pub mod wecom;

use lettre::Message;
use lettre::message::header::ContentType;

use crate::bail_user;
use crate::config::{Channel, Settings};

/// The delivery log's recipient for the WeCom group.
pub const WECOM_RECIPIENT: &str = "wecom";

/// One place to send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel: Channel,
    /// The owner's address, or [`WECOM_RECIPIENT`].
    pub recipient: String,
}

/// What one notification says.
pub struct Note<'a> {
    /// The mail subject.
    pub subject: &'a str,
    /// The mail body (plain text).
    pub plain: &'a str,
    /// The robot's Markdown.
    pub markdown: &'a str,
}

/// The places `check --notify` sends to: `[alerts] notify`, or every channel configured.
/// A channel named there but not configured is an error naming the setting.
pub fn targets(settings: &Settings) -> anyhow::Result<Vec<Target>> {
    let mail_ready =
        settings.mail.owner.is_some() && settings.mail.host.is_some() && settings.mail.from.is_some();
    let wecom_ready = settings.wecom.webhook.is_some();
    let channels = match &settings.alerts.notify {
        Some(list) => list.clone(),
        None => {
            let mut all = Vec::new();
            if mail_ready {
                all.push(Channel::Mail);
            }
            if wecom_ready {
                all.push(Channel::Wecom);
            }
            if all.is_empty() {
                bail_user!(
                    "`--notify` has nowhere to send: set `[mail] owner` (with `[mail] host` and `from`) or ITSTAT_WECOM_WEBHOOK (`[wecom] webhook`) in itstat.toml"
                );
            }
            all
        }
    };
    let mut out = Vec::new();
    for channel in channels {
        let recipient = match channel {
            Channel::Mail => {
                if !mail_ready {
                    bail_user!(
                        "`[alerts] notify` names mail, which needs `[mail] owner`, `[mail] host` and `[mail] from` in itstat.toml"
                    );
                }
                settings.mail.owner.as_ref().map(|m| m.email.to_string()).unwrap_or_default()
            }
            Channel::Wecom => {
                if !wecom_ready {
                    bail_user!(
                        "`[alerts] notify` names wecom, which needs ITSTAT_WECOM_WEBHOOK or `[wecom] webhook` in itstat.toml"
                    );
                }
                WECOM_RECIPIENT.to_string()
            }
        };
        let target = Target { channel, recipient };
        if !out.contains(&target) {
            out.push(target);
        }
    }
    Ok(out)
}

/// Sends `note` to `target`; the error is one line without secrets.
pub async fn send(settings: &Settings, target: &Target, note: &Note<'_>) -> anyhow::Result<()> {
    match target.channel {
        Channel::Mail => {
            let (Some(from), Some(owner)) = (&settings.mail.from, &settings.mail.owner) else {
                bail_user!("mail needs `[mail] from` and `[mail] owner` in itstat.toml");
            };
            let message = Message::builder()
                .from(from.clone())
                .to(owner.clone())
                .subject(note.subject)
                .header(ContentType::TEXT_PLAIN)
                .body(note.plain.to_string())?;
            crate::mail::send(&settings.mail, &message).await
        }
        Channel::Wecom => wecom::Robot::new(&settings.wecom)?.post_markdown(note.markdown).await,
    }
}
