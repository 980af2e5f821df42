//! A generated [`Dataset`] written as the export file `itstat ingest --from-file` reads: the
//! columns of `sql/export_messages.sql`, formatted as psql's `\copy … (FORMAT csv, HEADER)`
//! prints them (booleans `t`/`f`, timestamps with microseconds, NULL as an empty field).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use uuid::Uuid;

use super::generator::{Dataset, Feedback};

/// The header of the export, in the order of `sql/export_messages.sql`.
pub const COLUMNS: &[&str] = &[
    "id",
    "app_id",
    "app_name",
    "conversation_id",
    "created_at",
    "updated_at",
    "query",
    "answer",
    "status",
    "error",
    "from_source",
    "from_end_user_id",
    "from_account_id",
    "invoke_from",
    "inputs",
    "message_tokens",
    "answer_tokens",
    "latency_s",
    "total_price",
    "currency",
    "parent_message_id",
    "app_mode",
    "end_user_session_id",
    "account_email",
    "conversation_name",
    "conversation_deleted",
    "user_feedback",
    "user_feedback_content",
    "user_feedback_at",
    "admin_feedback",
    "admin_feedback_content",
    "admin_feedback_at",
];

fn ts(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

fn id(u: Option<Uuid>) -> String {
    u.map(|u| u.to_string()).unwrap_or_default()
}

fn feedback_fields(f: Option<&&Feedback>) -> [String; 3] {
    match f {
        Some(f) => [f.rating.clone(), f.content.clone().unwrap_or_default(), ts(f.created_at)],
        None => Default::default(),
    }
}

/// Writes the export CSV of `data`.
pub fn write_csv(data: &Dataset, path: &Path) -> anyhow::Result<()> {
    let apps: HashMap<Uuid, &str> = data.apps.iter().map(|a| (a.id, a.name.as_str())).collect();
    let users: HashMap<Uuid, &str> = data.end_users.iter().map(|u| (u.id, u.session_id.as_str())).collect();
    let emails: HashMap<Uuid, &str> = data.accounts.iter().map(|a| (a.id, a.email.as_str())).collect();
    let conversations: HashMap<Uuid, (&str, bool)> =
        data.conversations.iter().map(|c| (c.id, (c.name.as_str(), c.is_deleted))).collect();
    let by_message: HashMap<(Uuid, &str), &Feedback> =
        data.feedbacks.iter().map(|f| ((f.message_id, f.from_source.as_str()), f)).collect();
    let mut w = csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(COLUMNS)?;
    for m in &data.messages {
        let conv = conversations.get(&m.conversation_id);
        let [uf, ufc, ufa] = feedback_fields(by_message.get(&(m.id, "user")));
        let [af, afc, afa] = feedback_fields(by_message.get(&(m.id, "admin")));
        w.write_record([
            m.id.to_string(),
            m.app_id.to_string(),
            apps.get(&m.app_id).map(|s| s.to_string()).unwrap_or_default(),
            m.conversation_id.to_string(),
            ts(m.created_at),
            ts(m.updated_at),
            m.query.clone(),
            m.answer.clone(),
            m.status.clone(),
            m.error.clone().unwrap_or_default(),
            m.from_source.clone(),
            id(m.from_end_user_id),
            id(m.from_account_id),
            m.invoke_from.clone().unwrap_or_default(),
            m.inputs.clone(),
            m.message_tokens.to_string(),
            m.answer_tokens.to_string(),
            m.latency_s.to_string(),
            m.total_price.to_string(),
            m.currency.clone(),
            id(m.parent_message_id),
            m.app_mode.clone().unwrap_or_default(),
            m.from_end_user_id.and_then(|u| users.get(&u)).map(|s| s.to_string()).unwrap_or_default(),
            m.from_account_id.and_then(|a| emails.get(&a)).map(|s| s.to_string()).unwrap_or_default(),
            conv.map(|c| c.0.to_string()).unwrap_or_default(),
            conv.map(|c| if c.1 { "t" } else { "f" }.to_string()).unwrap_or_default(),
            uf,
            ufc,
            ufa,
            af,
            afc,
            afa,
        ])?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
