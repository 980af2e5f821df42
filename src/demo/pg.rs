//! Writes a generated [`Dataset`] into a Dify-shaped PostgreSQL database with `COPY`.
//!
//! The schema is `tests/fixtures/dify_schema.sql` (Dify 1.14), optionally turned into a Dify
//! 0.8 one (`dify_schema_0_8.sql`: no `parent_message_id`, no `app_mode`) or a 0.6 one
//! (`dify_schema_0_6.sql` on top: no `dialogue_count`, fewer `apps` columns). Used by the
//! integration tests and the benchmark; never by a command that touches a real Dify.

use anyhow::Context;
use chrono::NaiveDateTime;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

use super::generator::Dataset;

/// The Dify 1.14-shaped schema.
pub const SCHEMA_SQL: &str = include_str!("../../tests/fixtures/dify_schema.sql");
/// Turns [`SCHEMA_SQL`] into a Dify 0.8 schema.
pub const SCHEMA_0_8_SQL: &str = include_str!("../../tests/fixtures/dify_schema_0_8.sql");
/// Turns a 0.8 schema into a Dify 0.6.0 one.
pub const SCHEMA_0_6_SQL: &str = include_str!("../../tests/fixtures/dify_schema_0_6.sql");

/// Which Dify schema to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaVersion {
    V1_14,
    V0_8,
    V0_6,
}

/// A CSV field for `COPY … (FORMAT csv)`: NULL is an empty unquoted field.
fn field(value: Option<&str>) -> String {
    match value {
        None => String::new(),
        Some(v) => format!("\"{}\"", v.replace('"', "\"\"")),
    }
}

fn id(v: Uuid) -> String {
    v.to_string()
}

fn opt_id(v: Option<Uuid>) -> String {
    v.map(|u| u.to_string()).unwrap_or_default()
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

async fn copy(conn: &mut PgConnection, statement: &str, lines: Vec<String>) -> anyhow::Result<()> {
    let mut copy = conn.copy_in_raw(statement).await.with_context(|| statement.to_string())?;
    for chunk in lines.chunks(5000) {
        let mut buf = chunk.join("\n");
        buf.push('\n');
        copy.send(buf.into_bytes()).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Creates the schema.
pub async fn create_schema(conn: &mut PgConnection, version: SchemaVersion) -> anyhow::Result<()> {
    sqlx::raw_sql(SCHEMA_SQL).execute(&mut *conn).await.context("creating the Dify schema")?;
    if version != SchemaVersion::V1_14 {
        sqlx::raw_sql(SCHEMA_0_8_SQL).execute(&mut *conn).await.context("making it a 0.8 schema")?;
    }
    if version == SchemaVersion::V0_6 {
        sqlx::raw_sql(SCHEMA_0_6_SQL).execute(&mut *conn).await.context("making it a 0.6 schema")?;
    }
    Ok(())
}

/// Copies every row of `data` into the (already created) schema.
pub async fn load(conn: &mut PgConnection, data: &Dataset, version: SchemaVersion) -> anyhow::Result<()> {
    load_apps_and_people(conn, data).await?;
    load_conversations(conn, data).await?;
    load_messages(conn, data, version).await?;
    load_feedbacks(conn, data).await
}

/// Apps, console accounts and end users.
async fn load_apps_and_people(conn: &mut PgConnection, data: &Dataset) -> anyhow::Result<()> {
    let apps = data
        .apps
        .iter()
        .map(|a| {
            format!(
                "{},{},{},{},true,true",
                id(a.id),
                id(a.tenant_id),
                field(Some(&a.name)),
                field(Some(&a.mode))
            )
        })
        .collect();
    copy(
        conn,
        "COPY apps (id, tenant_id, name, mode, enable_site, enable_api) FROM STDIN WITH (FORMAT csv)",
        apps,
    )
    .await?;
    let accounts = data
        .accounts
        .iter()
        .map(|a| format!("{},{},{}", id(a.id), field(Some(&a.name)), field(Some(&a.email))))
        .collect();
    copy(conn, "COPY accounts (id, name, email) FROM STDIN WITH (FORMAT csv)", accounts).await?;
    let users = data
        .end_users
        .iter()
        .map(|u| {
            format!(
                "{},{},{},{},{},{},{}",
                id(u.id),
                id(u.tenant_id),
                opt_id(u.app_id),
                field(Some(&u.kind)),
                field(u.external_user_id.as_deref()),
                u.is_anonymous,
                field(Some(&u.session_id))
            )
        })
        .collect();
    copy(
        conn,
        "COPY end_users (id, tenant_id, app_id, type, external_user_id, is_anonymous, session_id) FROM STDIN WITH (FORMAT csv)",
        users,
    )
    .await
}

async fn load_conversations(conn: &mut PgConnection, data: &Dataset) -> anyhow::Result<()> {
    let conversations = data
        .conversations
        .iter()
        .map(|c| {
            format!(
                "{},{},{},{},\"{{}}\",normal,{},{},{},{},{},{},{}",
                id(c.id),
                id(c.app_id),
                field(Some(&c.mode)),
                field(Some(&c.name)),
                field(Some(&c.from_source)),
                opt_id(c.from_end_user_id),
                opt_id(c.from_account_id),
                ts(c.created_at),
                ts(c.created_at),
                c.is_deleted,
                field(c.invoke_from.as_deref())
            )
        })
        .collect();
    copy(
        conn,
        "COPY conversations (id, app_id, mode, name, inputs, status, from_source, from_end_user_id, from_account_id, created_at, updated_at, is_deleted, invoke_from) FROM STDIN WITH (FORMAT csv)",
        conversations,
    )
    .await
}

async fn load_feedbacks(conn: &mut PgConnection, data: &Dataset) -> anyhow::Result<()> {
    let feedbacks = data
        .feedbacks
        .iter()
        .map(|f| {
            format!(
                "{},{},{},{},{},{},{},{},{},{},{}",
                id(f.id),
                id(f.app_id),
                id(f.conversation_id),
                id(f.message_id),
                field(Some(&f.rating)),
                field(f.content.as_deref()),
                field(Some(&f.from_source)),
                opt_id(f.from_end_user_id),
                opt_id(f.from_account_id),
                ts(f.created_at),
                ts(f.created_at)
            )
        })
        .collect();
    copy(
        conn,
        "COPY message_feedbacks (id, app_id, conversation_id, message_id, rating, content, from_source, from_end_user_id, from_account_id, created_at, updated_at) FROM STDIN WITH (FORMAT csv)",
        feedbacks,
    )
    .await
}

async fn load_messages(
    conn: &mut PgConnection,
    data: &Dataset,
    version: SchemaVersion,
) -> anyhow::Result<()> {
    let modern = version == SchemaVersion::V1_14;
    let lines = data
        .messages
        .iter()
        .map(|m| {
            let mut line = format!(
                "{},{},{},{},{},\"\"\"\"\"\",{},0,{},{},0,{},{},{},{},{},{},{},{},{},{},{}",
                id(m.id),
                id(m.app_id),
                id(m.conversation_id),
                field(Some(&m.inputs)),
                field(Some(&m.query)),
                m.message_tokens,
                field(Some(&m.answer)),
                m.answer_tokens,
                m.latency_s,
                m.total_price,
                field(Some(&m.currency)),
                field(Some(&m.from_source)),
                opt_id(m.from_end_user_id),
                opt_id(m.from_account_id),
                ts(m.created_at),
                ts(m.updated_at),
                field(Some(&m.status)),
                field(m.error.as_deref()),
                field(m.invoke_from.as_deref())
            );
            if modern {
                line.push_str(&format!(",{},{}", opt_id(m.parent_message_id), field(m.app_mode.as_deref())));
            }
            line
        })
        .collect();
    let columns = "id, app_id, conversation_id, inputs, query, message, message_tokens, message_unit_price, answer, answer_tokens, answer_unit_price, provider_response_latency, total_price, currency, from_source, from_end_user_id, from_account_id, created_at, updated_at, status, error, invoke_from";
    let statement = if modern {
        format!("COPY messages ({columns}, parent_message_id, app_mode) FROM STDIN WITH (FORMAT csv)")
    } else {
        format!("COPY messages ({columns}) FROM STDIN WITH (FORMAT csv)")
    };
    copy(conn, &statement, lines).await
}
