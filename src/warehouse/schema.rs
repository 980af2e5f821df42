//! The warehouse's schema as the code declares it: every table, each declared once with
//! `table!` beside the code that writes it. The migrations must make exactly these tables
//! with exactly these columns, types and nullability (`tests/it/schema.rs` checks both
//! backends), so a column added to one and not the other fails the tests, not an ingest.

use super::meta::MetaRow;
use super::table::{Row, Table};
use super::{alerts, deliveries, entries, gaps, jobs, marks, messages, runs, topics};
use crate::extract::FeedbackRow;
use crate::transform::derive::SessionRow;

/// Every table of the warehouse.
pub fn declared_tables() -> [&'static Table; 16] {
    [
        messages::messages_table(),
        SessionRow::table(),
        FeedbackRow::table(),
        marks::MarkRow::table(),
        entries::EntryRow::table(),
        runs::RunRecord::table(),
        MetaRow::table(),
        deliveries::DeliveryRow::table(),
        jobs::JobRunRecord::table(),
        alerts::EpisodeRow::table(),
        alerts::ToldRow::table(),
        alerts::SilenceRow::table(),
        gaps::VectorRow::table(),
        topics::TopicRow::table(),
        topics::TopicQuestionRow::table(),
        topics::TopicLogRow::table(),
    ]
}
