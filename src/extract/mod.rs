//! Extract: reads Dify's messages and feedback. Never writes anywhere.
//!
//! [`dify::DifySource`] talks to Dify's PostgreSQL inside one read-only transaction and hands
//! out batches of [`RawMessage`]; [`frame`] turns a batch into the Polars frame the transform
//! works on. Nothing here applies a help-desk rule: the rows come out as Dify stored them.
//! [`RawMessage`]'s columns are declared once (`raw_message!` below); its readers and the
//! column lists built from it follow.

pub mod dify;
pub mod file;
pub mod frame;
pub mod text;

use chrono::NaiveDateTime;
use sqlx::postgres::PgRow;

/// Declares [`RawMessage`], each Dify column itstat reads once: `field: Type`, or
/// `field: Type [how]` where an export file's empty value is read by `text::how` instead of
/// the type's own rule (`text::FromText`). From this one list come the struct, its column
/// names ([`RawMessage::COLUMNS`], which the warehouse's stored-row query and the demo's export
/// file are built from), and its readers: from Dify's PostgreSQL (`sql/dify/message_columns.sql`,
/// by position, else by name), from an export file's text (`extract::file`) and from a stored
/// SQLite row (`warehouse::messages`). A new Dify column is a line here and one in the SQL.
macro_rules! raw_message {
    ($(#[$meta:meta])* pub struct RawMessage {
        $($(#[$doc:meta])* $field:ident: $ty:ty $([$how:ident])?),+ $(,)?
    }) => {
        $(#[$meta])*
        pub struct RawMessage {
            $($(#[$doc])* pub $field: $ty,)+
        }

        impl RawMessage {
            /// The column names, in the struct's (and the Dify query's) order.
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            /// A message of an export file, from a getter of its columns by name (empty values
            /// come as `None`); the error names the column.
            pub fn from_text<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Result<RawMessage, String> {
                Ok(RawMessage { $($field: text_field!($ty, stringify!($field), get $(, $how)?)?,)+ })
            }

            /// A message of a SQLite row whose columns from `first` on are [`RawMessage::COLUMNS`].
            pub fn from_sqlite(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<RawMessage> {
                let mut at = first;
                let mut next = || {
                    at += 1;
                    at - 1
                };
                Ok(RawMessage { $($field: row.get(next())?,)+ })
            }
        }

        /// Decodes by position where the query's columns come in the struct's order (Dify's
        /// `sql/dify/message_columns.sql`), by name otherwise (the PostgreSQL warehouse's stored
        /// rows). Looking every column up by name took 5.6 % of a first load's instructions
        /// (docs/performance.md, "The first load").
        impl<'r> sqlx::FromRow<'r, PgRow> for RawMessage {
            fn from_row(row: &'r PgRow) -> Result<RawMessage, sqlx::Error> {
                let mut c = Columns { row, at: 0 };
                Ok(RawMessage { $($field: c.next(stringify!($field))?,)+ })
            }
        }
    };
}

/// One field of [`RawMessage::from_text`]: by its type's rule, or by the named one.
macro_rules! text_field {
    ($ty:ty, $name:expr, $get:expr) => {
        <$ty as text::FromText>::from_text($name, $get($name))
    };
    ($ty:ty, $name:expr, $get:expr, $how:ident) => {
        text::$how($name, $get($name))
    };
}

raw_message! {
    /// One Dify message with the joined fields the metrics need, as Dify stores it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct RawMessage {
        /// `messages.id`
        id: String,
        app_id: String,
        conversation_id: String,
        /// Naive UTC, as Dify stores it.
        created_at: NaiveDateTime,
        updated_at: Option<NaiveDateTime>,
        query: String [or_empty],
        answer: String [or_empty],
        status: String,
        error: Option<String>,
        from_source: String,
        from_end_user_id: Option<String>,
        from_account_id: Option<String>,
        invoke_from: Option<String>,
        /// `messages.inputs` as JSON text.
        inputs: Option<String>,
        message_tokens: i64,
        answer_tokens: i64,
        /// `provider_response_latency`, seconds.
        latency_s: f64,
        total_price: Option<f64>,
        currency: Option<String>,
        /// Absent before Dify 0.9.0.
        parent_message_id: Option<String>,
        /// Absent before Dify 1.9.2.
        app_mode: Option<String>,
        /// `end_users.session_id` of `from_end_user_id`.
        end_user_session_id: Option<String>,
        /// `accounts.email` of `from_account_id`.
        account_email: Option<String>,
        conversation_name: Option<String>,
        /// `conversations.is_deleted`; `None` when the conversation row is gone.
        conversation_deleted: Option<bool>,
    }
}

/// A row's columns in the order [`RawMessage`] declares them.
struct Columns<'r> {
    row: &'r PgRow,
    at: usize,
}

impl<'r> Columns<'r> {
    /// The value of column `name`, expected at the next position.
    fn next<T>(&mut self, name: &str) -> Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::{Column, Row};
        let i = self.at;
        self.at += 1;
        match self.row.columns().get(i) {
            Some(column) if column.name() == name => self.row.try_get(i),
            _ => self.row.try_get(name),
        }
    }
}

/// One row of Dify's `message_feedbacks`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FeedbackRow {
    pub message_id: String,
    /// `user` or `admin`.
    pub from_source: String,
    /// `like` or `dislike`.
    pub rating: String,
    pub content: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}
