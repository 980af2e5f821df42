//! Realistic, deterministic Dify-shaped data: the generator the tests, the benchmark and
//! `itstat demo` share, and a loader that writes it into a Dify-shaped PostgreSQL database.

pub mod export;
pub mod generator;
pub mod pg;
