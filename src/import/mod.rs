//! Operator files: manual-entry spreadsheets (CSV or xlsx), their template, and the legacy
//! platform's database.
//!
//! [`table`] reads a file into cells with the row numbers a spreadsheet shows; [`values`]
//! parses flags and times the way operators type them; [`entries`] maps headers and validates
//! a whole file before anything is written; [`template`] writes an empty workbook to fill in;
//! [`legacy`] reads the legacy platform's tables.

pub mod entries;
pub mod legacy;
pub mod table;
pub mod template;
pub mod values;

#[cfg(test)]
mod fuzz;
