//! The workbook (`.xlsx`): overview with charts, daily KPIs and detail sheets.
