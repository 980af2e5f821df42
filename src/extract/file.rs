//! The file source: an export of `sql/export_messages.sql` (CSV from psql's `\copy`, or the
//! same columns as Parquet) read in batches, for sites where itstat cannot reach Dify.
//!
//! Every row becomes the same [`RawMessage`] the database source gives, plus the app's name
//! (so `[dify] apps` can select by name) and the message's current feedback. A value that
//! cannot be read stops the run with the file, row and column named.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use polars::prelude::*;

use super::text::FromText;
use super::{FeedbackRow, RawMessage};
use crate::bail_user;
use crate::error::user_error;

/// One exported row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub message: RawMessage,
    pub app_name: Option<String>,
    /// The message's current feedback (user and admin), as the export saw it.
    pub feedback: Vec<FeedbackRow>,
}

/// The columns of an export file, in the order of `sql/export_messages.sql`: the declared Dify
/// columns ([`RawMessage::COLUMNS`]), the app's name, then each message's current user and
/// admin feedback. Files are read by column name, so an export of an earlier itstat (the app's
/// name after its id) reads the same.
pub fn export_columns() -> Vec<&'static str> {
    let mut columns: Vec<&'static str> = RawMessage::COLUMNS.to_vec();
    columns.push("app_name");
    columns.extend(FEEDBACK_COLUMNS);
    columns
}

/// Whose feedback an export row carries ([`FEEDBACK_COLUMNS`] are `{source}_feedback…`).
const FEEDBACK_SOURCES: [&str; 2] = ["user", "admin"];
const FEEDBACK_COLUMNS: [&str; 6] = [
    "user_feedback",
    "user_feedback_content",
    "user_feedback_at",
    "admin_feedback",
    "admin_feedback_content",
    "admin_feedback_at",
];

/// Columns the file must have.
const REQUIRED: &[&str] =
    &["id", "app_id", "conversation_id", "created_at", "query", "answer", "status", "from_source"];

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

/// An export file being read.
pub struct ExportFile {
    path: PathBuf,
    name: String,
    format: Format,
}

impl ExportFile {
    /// Opens an export; the extension says the format.
    pub fn open(path: &Path) -> anyhow::Result<ExportFile> {
        let name = path.display().to_string();
        if !path.is_file() {
            bail_user!("`--from-file`: {name} does not exist (export it with scripts/export-dify.sh)");
        }
        let format = match path.extension().map(|e| e.to_string_lossy().to_lowercase()).as_deref() {
            Some("csv") => Format::Csv,
            Some("parquet") => Format::Parquet,
            _ => bail_user!("`--from-file`: {name} is neither .csv nor .parquet"),
        };
        Ok(ExportFile { path: path.to_path_buf(), name, format })
    }

    /// Reads the file in batches of at most `batch_size` rows, handing each to `on_batch`.
    pub async fn read(
        &self,
        batch_size: usize,
        mut on_batch: impl AsyncFnMut(Vec<ExportRow>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        match self.format {
            Format::Csv => self.read_csv(batch_size, &mut on_batch).await,
            Format::Parquet => self.read_parquet(batch_size, &mut on_batch).await,
        }
    }

    async fn read_csv(
        &self,
        batch_size: usize,
        on_batch: &mut impl AsyncFnMut(Vec<ExportRow>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(&self.path)
            .map_err(|e| user_error(format!("{}: cannot read it: {e}", self.name)))?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(&self.name, 1, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        self.check_columns(&headers)?;
        let mut batch = Vec::with_capacity(batch_size);
        for (i, record) in reader.records().enumerate() {
            let row = i + 2;
            let record = record.map_err(|e| csv_error(&self.name, row, &e))?;
            let get = |col: &str| {
                headers.iter().position(|h| h == col).and_then(|p| record.get(p)).filter(|v| !v.is_empty())
            };
            batch
                .push(parse_row(&get).map_err(|why| user_error(format!("{}: row {row}, {why}", self.name)))?);
            if batch.len() >= batch_size {
                on_batch(std::mem::replace(&mut batch, Vec::with_capacity(batch_size))).await?;
            }
        }
        if !batch.is_empty() {
            on_batch(batch).await?;
        }
        Ok(())
    }

    async fn read_parquet(
        &self,
        batch_size: usize,
        on_batch: &mut impl AsyncFnMut(Vec<ExportRow>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let open = || {
            LazyFrame::scan_parquet(
                PlRefPath::new(self.path.to_string_lossy().to_string()),
                ScanArgsParquet::default(),
            )
            .map_err(|e| user_error(format!("{}: not a readable Parquet file ({e})", self.name)))
        };
        let schema = open()?.collect_schema().map_err(|e| user_error(format!("{}: {e}", self.name)))?;
        let headers: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        self.check_columns(&headers)?;
        let as_text: Vec<Expr> = headers.iter().map(|h| col(h.as_str()).cast(DataType::String)).collect();
        let mut offset = 0usize;
        loop {
            let frame = open()?
                .slice(offset as i64, batch_size as IdxSize)
                .select(as_text.clone())
                .collect()
                .map_err(|e| user_error(format!("{}: {e}", self.name)))?;
            if frame.height() == 0 {
                break;
            }
            let columns: Vec<&StringChunked> =
                headers.iter().map(|h| frame.column(h).and_then(|c| c.str())).collect::<PolarsResult<_>>()?;
            let mut batch = Vec::with_capacity(frame.height());
            for i in 0..frame.height() {
                let get = |c: &str| {
                    headers
                        .iter()
                        .position(|h| h == c)
                        .and_then(|p| columns[p].get(i))
                        .filter(|v| !v.is_empty())
                };
                let row = offset + i + 1;
                batch.push(
                    parse_row(&get).map_err(|why| user_error(format!("{}: row {row}, {why}", self.name)))?,
                );
            }
            offset += frame.height();
            on_batch(batch).await?;
        }
        Ok(())
    }

    fn check_columns(&self, headers: &[String]) -> anyhow::Result<()> {
        let missing: Vec<&str> =
            REQUIRED.iter().filter(|c| !headers.iter().any(|h| h == *c)).copied().collect();
        if !missing.is_empty() {
            bail_user!(
                "{}: no column {} — is it an export of sql/export_messages.sql (with its header row)?",
                self.name,
                missing.join(", ")
            );
        }
        Ok(())
    }
}

/// A CSV row that cannot be read, saying what to do about the usual cause.
fn csv_error(name: &str, row: usize, err: &csv::Error) -> anyhow::Error {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => user_error(format!(
            "{name}: row {row}: not UTF-8 text (perhaps GBK); export it with scripts/export-dify.sh, which writes UTF-8"
        )),
        _ => user_error(format!("{name}: row {row}: {err}")),
    }
}

/// One row from a column getter (empty values come as `None`).
fn parse_row<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Result<ExportRow, String> {
    let text = |c: &str| get(c).map(str::to_string);
    let time = |c: &str| Option::<NaiveDateTime>::from_text(c, get(c));
    let message = RawMessage::from_text(get)?;
    let (id, created_at) = (message.id.clone(), message.created_at);
    let mut feedback = Vec::new();
    for source in FEEDBACK_SOURCES {
        let col = format!("{source}_feedback");
        if let Some(rating) = get(&col) {
            feedback.push(FeedbackRow {
                message_id: id.clone(),
                from_source: source.to_string(),
                rating: rating.to_string(),
                content: text(&format!("{col}_content")),
                created_at: time(&format!("{col}_at"))?.unwrap_or(created_at),
                updated_at: None,
            });
        }
    }
    Ok(ExportRow { message, app_name: text("app_name"), feedback })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_like_psql_prints_them() {
        let values = [
            ("id", "0b6f3a1e-0000-4000-8000-000000000001"),
            ("app_id", "a"),
            ("app_name", "IT 助手"),
            ("conversation_id", "c"),
            ("created_at", "2026-11-02 01:00:00.123456"),
            ("query", "VPN"),
            ("answer", "重启"),
            ("status", "normal"),
            ("from_source", "api"),
            ("message_tokens", "12"),
            ("latency_s", "1.5"),
            ("conversation_deleted", "f"),
            ("user_feedback", "like"),
        ];
        let get = |c: &str| values.iter().find(|(k, _)| *k == c).map(|(_, v)| *v);
        let row = parse_row(&get).unwrap();
        assert_eq!(row.message.created_at.to_string(), "2026-11-02 01:00:00.123456");
        assert_eq!(row.message.conversation_deleted, Some(false));
        assert_eq!(row.message.message_tokens, 12);
        assert_eq!(row.feedback.len(), 1);
        assert_eq!(row.app_name.as_deref(), Some("IT 助手"));
        let bad = |c: &str| if c == "created_at" { Some("yesterday") } else { get(c) };
        assert!(parse_row(&bad).unwrap_err().contains("column created_at: \"yesterday\""));
    }

    /// `(expression, alias)` of each `expr AS alias` select-list line of a SQL file.
    fn select_list(sql: &str) -> Vec<(String, String)> {
        sql.lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .filter_map(|l| l.trim().trim_end_matches(',').rsplit_once(" AS "))
            .map(|(expr, alias)| (expr.trim().to_string(), alias.trim().to_string()))
            .collect()
    }

    /// The export file the DBA makes must carry what the extract reads from Dify: the script
    /// puts the extract's own select list in place of `{{columns}}`, so only what follows it
    /// is the export's own, and the two together are the file's declared columns.
    #[test]
    fn export_query_reads_the_columns_of_the_extract() {
        let extract = select_list(include_str!("../../sql/dify/message_columns.sql"));
        let aliases = |cols: &[(String, String)]| cols.iter().map(|c| c.1.clone()).collect::<Vec<_>>();
        assert_eq!(aliases(&extract), RawMessage::COLUMNS, "the extract reads the declared columns");
        let export_sql = include_str!("../../sql/export_messages.sql");
        let (_, own) =
            export_sql.split_once("SELECT\n    {{columns}},").expect("the export selects {{columns}} first");
        let mut file = aliases(&extract);
        file.extend(aliases(&select_list(own)));
        assert_eq!(file, export_columns(), "the file's columns are the ones declared");
    }
}
