//! The legacy platform's database (`legacy.md`): `manual_intervention` rows become marks,
//! `manual_entry` rows become manual entries; `system_users` is not migrated.
//!
//! Read inside a read-only transaction. Column types were never documented, so every column is
//! read as text and parsed like a spreadsheet cell; a value that is not a flag or a time is
//! reported with its table, row id and column, and nothing is migrated.

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use super::values::{flag_text, time_text};
use crate::error::url_place;
use crate::warehouse::entries::NewEntry;
use crate::warehouse::marks::NewMark;

#[derive(Debug, sqlx::FromRow)]
struct InterventionRow {
    message_id: Option<String>,
    manual_intervention: Option<String>,
    operation_user: Option<String>,
    knowledge_status: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct EntryRow {
    id: Option<String>,
    user_name: Option<String>,
    query: Option<String>,
    answer: Option<String>,
    consultation_time: Option<String>,
    entry_person: Option<String>,
    knowledge_hit: Option<String>,
    transfer_to_human: Option<String>,
    manual_intervention: Option<String>,
    operation_user: Option<String>,
}

/// What the legacy database holds, converted.
#[derive(Debug, Default)]
pub struct LegacyData {
    pub marks: Vec<NewMark>,
    pub entries: Vec<NewEntry>,
    /// Every value that could not be converted.
    pub problems: Vec<String>,
}

/// Reads and converts the legacy tables. Timestamps without a zone are local to `tz`.
pub async fn read(url: &str, tz: Tz) -> anyhow::Result<LegacyData> {
    let place = url_place(url);
    let options: PgConnectOptions = crate::db::postgres_options(url).map_err(|e| {
        crate::error::user_error(format!(
            "`--from`: not a postgres:// URL for {place} ({e}); fix `--from` or ITSTAT_LEGACY_URL"
        ))
    })?;
    let mut conn: PgConnection = options
        .application_name("itstat")
        .log_slow_statements(tracing::log::LevelFilter::Debug, crate::db::SLOW_STATEMENT)
        .connect()
        .await
        .with_context(|| format!("cannot connect to the legacy database at {place}"))?;
    let mut tx = conn.begin_with(include_str!("../../sql/legacy/begin.sql").trim()).await?;
    let interventions: Vec<InterventionRow> =
        sqlx::query_as(include_str!("../../sql/legacy/interventions.sql"))
            .fetch_all(&mut *tx)
            .await
            .with_context(|| format!("cannot read table manual_intervention at {place}"))?;
    let entries: Vec<EntryRow> = sqlx::query_as(include_str!("../../sql/legacy/entries.sql"))
        .fetch_all(&mut *tx)
        .await
        .with_context(|| format!("cannot read table manual_entry at {place}"))?;
    tx.rollback().await.ok();
    conn.close().await.ok();
    let mut data = LegacyData::default();
    for row in interventions {
        convert_intervention(row, tz, &mut data);
    }
    for row in entries {
        convert_entry(row, tz, &mut data);
    }
    Ok(data)
}

/// A legacy timestamp as text: with a zone it is converted, without one it is local to `tz`.
fn legacy_time(text: &str, tz: Tz) -> Result<NaiveDateTime, String> {
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text.trim(), format) {
            return Ok(t.with_timezone(&tz).naive_local());
        }
    }
    time_text(text)
}

/// Local time to naive UTC.
fn to_utc(local: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    tz.from_local_datetime(&local).earliest().map(|t| t.naive_utc()).unwrap_or(local)
}

fn convert_intervention(row: InterventionRow, tz: Tz, data: &mut LegacyData) {
    let id = row.message_id.clone().unwrap_or_default();
    let place = |col: &str| format!("legacy manual_intervention message_id={id}, column {col}");
    if id.is_empty() {
        data.problems.push(format!("{}: empty — the row names no message", place("message_id")));
        return;
    }
    // The row's value is what it was last set to: at updated_at, else when it was created.
    let when = [("updated_at", &row.updated_at), ("created_at", &row.created_at)].into_iter().find_map(
        |(col, v)| v.as_deref().filter(|t| !t.trim().is_empty()).map(|t| (col, legacy_time(t, tz))),
    );
    let (marked_at, dated) = match when {
        Some((_, Ok(t))) => (to_utc(t, tz), true),
        Some((col, Err(why))) => return data.problems.push(format!("{}: {why}", place(col))),
        // Dated later by its message (`cmd::import`), the epoch until then.
        None => (NaiveDateTime::default(), false),
    };
    let operator = row.operation_user.filter(|o| !o.trim().is_empty()).unwrap_or_else(|| "legacy".into());
    for (field, column, value) in [
        ("manual", "manual_intervention", &row.manual_intervention),
        ("kb_hit", "knowledge_status", &row.knowledge_status),
    ] {
        match value.as_deref().map(flag_text) {
            Some(Ok(Some(v))) => data.marks.push(NewMark {
                message_id: id.to_lowercase(),
                field,
                value: Some(v),
                operator: operator.clone(),
                note: Some("migrated from the legacy platform".into()),
                marked_at,
                dated,
                source: "legacy",
            }),
            Some(Err(why)) => data.problems.push(format!("{}: {why}", place(column))),
            _ => {}
        }
    }
}

fn convert_entry(row: EntryRow, tz: Tz, data: &mut LegacyData) {
    let id = row.id.clone().unwrap_or_default();
    let mut problems = Vec::new();
    let mut bad =
        |col: &str, why: String| problems.push(format!("legacy manual_entry id={id}, column {col}: {why}"));
    let text = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_string();
    let mut flag = |col: &str, v: &Option<String>| match flag_text(v.as_deref().unwrap_or_default()) {
        Ok(f) => f.unwrap_or(false),
        Err(why) => {
            bad(col, why);
            false
        }
    };
    let knowledge_hit = flag("knowledge_hit", &row.knowledge_hit);
    let transfer_to_human = flag("transfer_to_human", &row.transfer_to_human);
    let manual_intervention = flag("manual_intervention", &row.manual_intervention);
    let time = match row.consultation_time.as_deref().map(|t| legacy_time(t, tz)) {
        Some(Ok(t)) => Some(t),
        Some(Err(why)) => {
            bad("consultation_time", why);
            None
        }
        None => {
            bad("consultation_time", "empty — a time is required".into());
            None
        }
    };
    if text(&row.user_name).is_empty() {
        bad("user_name", "empty — every entry needs a user".into());
    }
    data.problems.extend(problems);
    if let Some(consultation_time) = time {
        let opt = |v: &Option<String>| Some(text(v)).filter(|s| !s.is_empty());
        data.entries.push(NewEntry {
            user_name: text(&row.user_name),
            query: text(&row.query),
            answer: text(&row.answer),
            consultation_time,
            entry_person: opt(&row.entry_person),
            filled_person: None,
            knowledge_hit,
            transfer_to_human,
            manual_intervention,
            operation_user: opt(&row.operation_user),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_times_with_and_without_zone() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(legacy_time("2026-11-02 09:00:00", tz).unwrap().to_string(), "2026-11-02 09:00:00");
        assert_eq!(legacy_time("2026-11-02 01:00:00+00", tz).unwrap().to_string(), "2026-11-02 09:00:00");
        assert_eq!(
            legacy_time("2026-11-02 09:00:00.25+08", tz).unwrap().to_string(),
            "2026-11-02 09:00:00.250"
        );
    }
}
