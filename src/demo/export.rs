//! A generated [`Dataset`] written as the export file `itstat ingest --from-file` reads: the
//! columns the caller names (the file source's `extract::file::export_columns`, the columns of
//! `sql/export_messages.sql`), formatted as psql's `\copy … (FORMAT csv, HEADER)` prints them
//! (booleans `t`/`f`, timestamps with microseconds, NULL as an empty field). A column the
//! generator does not make is written empty, as Dify versions without it would export it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use uuid::Uuid;

use super::generator::{Dataset, Feedback, Message};

fn ts(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

fn id(u: Option<Uuid>) -> String {
    u.map(|u| u.to_string()).unwrap_or_default()
}

/// The generated rows that one message's export row is made of, looked up once per file.
struct Lookups<'a> {
    apps: HashMap<Uuid, &'a str>,
    users: HashMap<Uuid, &'a str>,
    emails: HashMap<Uuid, &'a str>,
    conversations: HashMap<Uuid, (&'a str, bool)>,
    feedback: HashMap<(Uuid, &'a str), &'a Feedback>,
}

impl<'a> Lookups<'a> {
    fn of(data: &'a Dataset) -> Lookups<'a> {
        Lookups {
            apps: data.apps.iter().map(|a| (a.id, a.name.as_str())).collect(),
            users: data.end_users.iter().map(|u| (u.id, u.session_id.as_str())).collect(),
            emails: data.accounts.iter().map(|a| (a.id, a.email.as_str())).collect(),
            conversations: data
                .conversations
                .iter()
                .map(|c| (c.id, (c.name.as_str(), c.is_deleted)))
                .collect(),
            feedback: data.feedbacks.iter().map(|f| ((f.message_id, f.from_source.as_str()), f)).collect(),
        }
    }

    /// The value of `column` in the export row of `m` (empty: NULL).
    fn value(&self, m: &Message, column: &str) -> String {
        let text = |v: Option<&str>| v.unwrap_or_default().to_string();
        let conv = self.conversations.get(&m.conversation_id);
        if let Some((source, field)) = column.split_once("_feedback") {
            let f = self.feedback.get(&(m.id, source));
            return match field {
                "" => text(f.map(|f| f.rating.as_str())),
                "_content" => text(f.and_then(|f| f.content.as_deref())),
                _ => f.map(|f| ts(f.created_at)).unwrap_or_default(),
            };
        }
        match column {
            "id" => m.id.to_string(),
            "app_id" => m.app_id.to_string(),
            "app_name" => text(self.apps.get(&m.app_id).copied()),
            "conversation_id" => m.conversation_id.to_string(),
            "created_at" => ts(m.created_at),
            "updated_at" => ts(m.updated_at),
            "query" => m.query.clone(),
            "answer" => m.answer.clone(),
            "status" => m.status.clone(),
            "error" => text(m.error.as_deref()),
            "from_source" => m.from_source.clone(),
            "from_end_user_id" => id(m.from_end_user_id),
            "from_account_id" => id(m.from_account_id),
            "invoke_from" => text(m.invoke_from.as_deref()),
            "inputs" => m.inputs.clone(),
            "message_tokens" => m.message_tokens.to_string(),
            "answer_tokens" => m.answer_tokens.to_string(),
            "latency_s" => m.latency_s.to_string(),
            "total_price" => m.total_price.to_string(),
            "currency" => m.currency.clone(),
            "parent_message_id" => id(m.parent_message_id),
            "app_mode" => text(m.app_mode.as_deref()),
            "end_user_session_id" => text(m.from_end_user_id.and_then(|u| self.users.get(&u).copied())),
            "account_email" => text(m.from_account_id.and_then(|a| self.emails.get(&a).copied())),
            "conversation_name" => text(conv.map(|c| c.0)),
            "conversation_deleted" => text(conv.map(|c| if c.1 { "t" } else { "f" })),
            _ => String::new(),
        }
    }
}

/// Writes the export CSV of `data` with these columns, in this order.
pub fn write_csv(data: &Dataset, path: &Path, columns: &[&str]) -> anyhow::Result<()> {
    let lookups = Lookups::of(data);
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(columns)?;
    for m in &data.messages {
        w.write_record(columns.iter().map(|c| lookups.value(m, c)))?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
