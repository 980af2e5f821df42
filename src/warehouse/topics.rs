//! Stored topics (`topics`, `topic_questions`, `topic_log`, docs/warehouse.md): the topics
//! with their ids and titles, which topic each distinct question belongs to, and the
//! operators' curation. Everything that changes them runs in one write transaction ([`Tx`]),
//! so two reports placing the same new question cannot give it two topics.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};

use super::browse::MessageHead;
use super::sqlite_bulk::FromSqliteRow;
use super::write::Conflict;
use super::{Tx, Warehouse};
use crate::{with_conn, with_pool};

crate::table!(
    /// A topic: its id, title and where the title came from (`question`: its most asked
    /// question when it was made; `chat`: the chat model's name when it was made; `operator`:
    /// `itstat topics rename`), its earliest message,
    /// and the topic it was merged into.
    #[derive(Debug, Clone)]
    pub struct TopicRow => "topics", serial(pub topic_id: i64), key(topic_id), keep() {
        pub title: String,
        pub title_source: String,
        pub first_seen: NaiveDateTime,
        pub created_at: NaiveDateTime,
        pub merged_into: Option<i64>,
    }
);

crate::table!(
    /// A distinct question (its wording key) and its topic.
    #[derive(Debug, Clone)]
    pub struct TopicQuestionRow => "topic_questions", key(question_key), keep() {
        pub question_key: String,
        pub topic_id: i64,
        /// How it was written when it was placed.
        pub question: String,
        pub assigned_at: NaiveDateTime,
    }
);

crate::table!(
    /// One operator's curation: `rename` (`name`), `merge` (into `other_id`) or `split`
    /// (`other_id`: the first new topic).
    #[derive(Debug, Clone)]
    pub struct TopicLogRow => "topic_log", serial(pub log_id: i64), key(log_id), keep() {
        pub action: String,
        pub topic_id: i64,
        pub other_id: Option<i64>,
        pub name: Option<String>,
        pub operator: String,
        pub at: NaiveDateTime,
    }
);

/// A message as topics count it (`topic_messages.sql`).
#[derive(Debug, sqlx::FromRow)]
pub struct TopicCandidate {
    #[sqlx(flatten)]
    pub head: MessageHead,
    pub kb_hit: bool,
    pub transfer: bool,
    pub session_id: Option<String>,
    pub kb_mark: Option<bool>,
    pub has_like: bool,
    pub has_dislike: bool,
}

impl FromSqliteRow for TopicCandidate {
    const COLUMNS: &'static [&'static str] = &[
        "message_id",
        "local_time",
        "user_key",
        "question",
        "state",
        "kb_hit",
        "transfer",
        "session_id",
        "kb_mark",
        "has_like",
        "has_dislike",
    ];

    /// A row of `topic_messages.sql`, in its column order, as sqlx would decode it.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<TopicCandidate> {
        Ok(TopicCandidate {
            head: MessageHead::from_sqlite(row)?,
            kb_hit: row.get(5)?,
            transfer: row.get(6)?,
            session_id: row.get(7)?,
            kb_mark: row.get(8)?,
            has_like: row.get(9)?,
            has_dislike: row.get(10)?,
        })
    }
}

impl Warehouse {
    /// Included messages of every state dated in `from..=to`, oldest first ([`TopicCandidate`]).
    pub async fn topic_messages(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> anyhow::Result<Vec<TopicCandidate>> {
        self.dated_rows(include_str!("../../sql/warehouse/topic_messages.sql"), from, to).await
    }

    /// Every stored membership, read outside a write transaction (a writer holding the
    /// warehouse does not block it, a read-only warehouse serves it).
    pub async fn topic_memberships(&self) -> anyhow::Result<HashMap<String, i64>> {
        let sql = include_str!("../../sql/warehouse/topic_memberships.sql");
        let rows: Vec<(String, i64)> = with_pool!(self, pool, Db => {
            sqlx::query_as(sql).fetch_all(pool).await
        })
        .context("reading topic_questions")?;
        Ok(rows.into_iter().collect())
    }

    /// Every topic, merged ones too, read outside a write transaction.
    pub async fn all_topics(&self) -> anyhow::Result<Vec<TopicRow>> {
        let sql = include_str!("../../sql/warehouse/topics_all.sql");
        let rows: Vec<TopicTuple> = with_pool!(self, pool, Db => {
            sqlx::query_as(sql).fetch_all(pool).await
        })
        .context("reading topics")?;
        Ok(rows.into_iter().map(TopicRow::from).collect())
    }
}

/// A `topics` row as `topics_all.sql` selects it.
type TopicTuple = (i64, String, String, NaiveDateTime, NaiveDateTime, Option<i64>);

impl From<TopicTuple> for TopicRow {
    fn from((topic_id, title, title_source, first_seen, created_at, merged_into): TopicTuple) -> TopicRow {
        TopicRow { topic_id, title, title_source, first_seen, created_at, merged_into }
    }
}

impl Tx {
    /// Every stored membership: wording key → topic id.
    pub async fn topic_memberships(&mut self) -> anyhow::Result<HashMap<String, i64>> {
        let sql = include_str!("../../sql/warehouse/topic_memberships.sql");
        let rows: Vec<(String, i64)> = with_conn!(self, conn, Db => {
            sqlx::query_as(sql).fetch_all(&mut *conn).await
        })
        .context("reading topic_questions")?;
        Ok(rows.into_iter().collect())
    }

    /// Every topic, merged ones too.
    pub async fn all_topics(&mut self) -> anyhow::Result<Vec<TopicRow>> {
        let sql = include_str!("../../sql/warehouse/topics_all.sql");
        let rows: Vec<TopicTuple> = with_conn!(self, conn, Db => {
            sqlx::query_as(sql).fetch_all(&mut *conn).await
        })
        .context("reading topics")?;
        Ok(rows.into_iter().map(TopicRow::from).collect())
    }

    /// Makes a topic and returns its id; `source` is where its title came from (`question` or
    /// `chat`, [`TopicRow`]).
    pub async fn create_topic(
        &mut self,
        title: &str,
        source: &str,
        first_seen: NaiveDateTime,
        now: NaiveDateTime,
    ) -> anyhow::Result<i64> {
        let sql = include_str!("../../sql/warehouse/topic_create.sql");
        let (id,): (i64,) = with_conn!(self, conn, Db => {
            sqlx::query_as(sql).bind(title).bind(first_seen).bind(now).bind(source).fetch_one(&mut *conn).await
        })
        .context("writing topics")?;
        Ok(id)
    }

    /// Moves `first_seen` of a topic back to `at` when `at` is earlier.
    pub async fn lower_first_seen(&mut self, topic: i64, at: NaiveDateTime) -> anyhow::Result<()> {
        let sql = include_str!("../../sql/warehouse/topic_first_seen.sql");
        with_conn!(self, conn, Db => {
            sqlx::query(sql).bind(at).bind(topic).execute(&mut *conn).await.map(drop)
        })
        .context("writing topics")?;
        Ok(())
    }

    /// Writes memberships; a question already stored moves to the topic given.
    pub async fn place_questions(&mut self, rows: &[TopicQuestionRow]) -> anyhow::Result<()> {
        self.write_rows(rows, Conflict::Update).await
    }

    /// Renames a topic (`title_source` becomes `operator`).
    pub async fn rename_topic(&mut self, topic: i64, title: &str) -> anyhow::Result<()> {
        let sql = include_str!("../../sql/warehouse/topic_rename.sql");
        with_conn!(self, conn, Db => {
            sqlx::query(sql).bind(title).bind(topic).execute(&mut *conn).await.map(drop)
        })
        .context("writing topics")?;
        Ok(())
    }

    /// Merges `topic` into `into`: its questions move, it keeps its row with `merged_into`, and
    /// `into`'s first message is the earlier of the two.
    pub async fn merge_topic(&mut self, topic: i64, into: i64) -> anyhow::Result<()> {
        let steps = [
            include_str!("../../sql/warehouse/topic_merge_questions.sql"),
            include_str!("../../sql/warehouse/topic_merge_mark.sql"),
            include_str!("../../sql/warehouse/topic_merge_first_seen.sql"),
        ];
        for sql in steps {
            with_conn!(self, conn, Db => {
                sqlx::query(sql).bind(topic).bind(into).execute(&mut *conn).await.map(drop)
            })
            .context("writing topics")?;
        }
        Ok(())
    }

    /// The distinct questions of a topic: (wording key, as written), by key.
    pub async fn topic_questions(&mut self, topic: i64) -> anyhow::Result<Vec<(String, String)>> {
        let sql = include_str!("../../sql/warehouse/topic_questions_of.sql");
        with_conn!(self, conn, Db => {
            sqlx::query_as(sql).bind(topic).fetch_all(&mut *conn).await
        })
        .context("reading topic_questions")
    }

    /// Records an operator's curation.
    pub async fn log_topic(&mut self, row: TopicLogRow) -> anyhow::Result<()> {
        self.write_rows(&[row], Conflict::None).await
    }
}
