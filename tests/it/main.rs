//! Integration tests: the real `itstat` binary against a real PostgreSQL holding a
//! Dify-shaped schema, with both warehouse backends (a SQLite file and a PostgreSQL database).
//!
//! PostgreSQL comes from `ITSTAT_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); every test creates its own databases and
//! drops them when done. Expected numbers are computed by hand or by `reference`, an
//! independent implementation of docs/metrics.md written with plain loops.

mod reference;
#[macro_use]
mod support;

mod alerts;
mod alerts_habits;
mod cli;
mod derivation;
mod export;
mod gaps;
mod ingest;
mod operators;
mod reliability;
mod report;
mod reports;
mod rules_fuzz;
mod schema;
mod topics;
mod unattended;
