//! Local time: Dify's naive UTC timestamps seen in the configured time zone.
//!
//! Frames carry times as `Int64` microseconds since the epoch; local times are the same
//! encoding of the naive local wall-clock time, and local dates are Polars `Date`s.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::extract::frame::{from_micros, micros};

/// The local wall-clock time of a naive UTC time.
pub fn to_local(tz: Tz, utc: NaiveDateTime) -> NaiveDateTime {
    tz.from_utc_datetime(&utc).naive_local()
}

/// Days since 1970-01-01 of a date, as Polars stores `Date`.
pub fn epoch_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}

/// Expression: the rows whose local date column (a Polars `Date`) lies in `from..=to` — the
/// one rule of which rows a period holds (docs/metrics.md §6), for the KPIs and the detail sheets.
pub fn in_dates(column: &str, from: NaiveDate, to: NaiveDate) -> Expr {
    let days = col(column).cast(DataType::Int32);
    days.clone().gt_eq(lit(epoch_days(from))).and(days.lt_eq(lit(epoch_days(to))))
}

/// The date of Polars' day number.
pub fn from_epoch_days(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
        + chrono::Days::new(0)
        + chrono::Duration::days(days as i64)
}

/// Expression: local wall-clock microseconds of a UTC-microseconds column.
pub fn local_micros(expr: Expr, tz: Tz) -> Expr {
    expr.map(
        move |c| {
            let ca = c.i64()?;
            let out: Int64Chunked = ca.apply_values(|us| micros(to_local(tz, from_micros(us))));
            Ok(out.into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Int64)),
    )
}

/// Expression: the `Date` of a local-microseconds column.
pub fn date_of_micros(expr: Expr) -> Expr {
    let day = 86_400_000_000i64;
    // Floor division keeps dates before 1970 right; they do not occur, but it costs nothing.
    (expr.clone() - (expr % lit(day) + lit(day)) % lit(day)) / lit(day)
}

/// Expression: the local `Date` of a UTC-microseconds column.
pub fn local_date(expr: Expr, tz: Tz) -> Expr {
    date_of_micros(local_micros(expr, tz)).cast(DataType::Int32).cast(DataType::Date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_eight_hours_ahead() {
        let utc = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(16, 30, 0).unwrap();
        let local = to_local(chrono_tz::Asia::Shanghai, utc);
        assert_eq!(local.to_string(), "2026-11-02 00:30:00");
    }

    #[test]
    fn local_date_crosses_midnight() {
        let t = |h| micros(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(h, 0, 0).unwrap());
        let df = df!("t" => [t(15), t(16)]).unwrap();
        let out =
            df.lazy().select([local_date(col("t"), chrono_tz::Asia::Shanghai).alias("d")]).collect().unwrap();
        let days: Vec<Option<i32>> = out.column("d").unwrap().date().unwrap().physical().iter().collect();
        let want = |d| Some(epoch_days(NaiveDate::from_ymd_opt(2026, 11, d).unwrap()));
        assert_eq!(days, vec![want(1), want(2)]);
        assert_eq!(
            from_epoch_days(epoch_days(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap())).to_string(),
            "2026-02-28"
        );
    }
}
