//! A frame as the bytes of one Parquet file: zstd-compressed, with column statistics, naive
//! timestamps (`isAdjustedToUTC = false`) in microseconds and dates as dates.
//!
//! CPU-bound: callers run it in `spawn_blocking`. Writing the bytes to disk is the caller's.

use polars::prelude::*;

/// The Parquet file of `df`, whole, in memory.
pub fn to_bytes(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).with_compression(ParquetCompression::Zstd(None)).finish(df)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn types_and_values_round_trip() {
        let mut df = df!(
            "id" => ["a", "b"],
            "at" => [Some(1_762_075_800_000_000i64), None],
            "day" => [20_394i32, 20_395],
            "ok" => [Some(true), None],
            "n" => [1i64, 2],
            "s" => [0.5f64, 1.5],
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("at").cast(DataType::Datetime(TimeUnit::Microseconds, None)),
            col("day").cast(DataType::Date),
        ])
        .collect()
        .unwrap();
        let bytes = to_bytes(&mut df).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let back = ParquetReader::new(Cursor::new(bytes)).finish().unwrap();
        assert!(back.equals_missing(&df), "{back}");
        assert_eq!(back.column("at").unwrap().dtype(), &DataType::Datetime(TimeUnit::Microseconds, None));
        assert_eq!(back.column("day").unwrap().dtype(), &DataType::Date);
    }
}
