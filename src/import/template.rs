//! `itstat import template FILE.xlsx`: an empty manual-entry workbook with the Chinese
//! headers, yes/no drop-downs on the flag columns, a date format on the time column and one
//! example row to overwrite. The importer recognises the example row ([`example`]) and skips
//! it, so a template imported as written adds nothing.

use chrono::{NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{DataValidation, Format, FormatAlign, Workbook, XlsxError};

use super::values::flag_text;
use crate::warehouse::entries::NewEntry;

/// Rows that get the drop-downs and formats.
const ROWS: u32 = 2000;

/// (header, width, is a yes/no flag)
const COLUMNS: &[(&str, f64, bool)] = &[
    ("用户名", 14.0, false),
    ("问题", 40.0, false),
    ("回复", 40.0, false),
    ("咨询时间", 18.0, false),
    ("录入人员", 12.0, false),
    ("知识库命中", 12.0, true),
    ("是否转人工", 12.0, true),
    ("人工处理", 12.0, true),
    ("操作用户", 12.0, false),
];

/// The example row's cells, in [`COLUMNS`] order (the time, column D, is [`example_time`]).
const EXAMPLE_TEXTS: [&str; 9] =
    ["zhangsan", "打印机卡纸了怎么办（示例，请覆盖）", "已到现场处理", "", "运维", "否", "是", "是", "lisi"];

fn example_time() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 2).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap_or_default()
}

/// The example row as the importer reads it, so that it can skip the row when an operator
/// leaves it in the file (the template must show one, it must not become data).
pub fn example() -> NewEntry {
    let flag = |text: &str| flag_text(text).ok().flatten().unwrap_or(false);
    NewEntry {
        user_name: EXAMPLE_TEXTS[0].into(),
        query: EXAMPLE_TEXTS[1].into(),
        answer: EXAMPLE_TEXTS[2].into(),
        consultation_time: example_time(),
        entry_person: Some(EXAMPLE_TEXTS[4].into()),
        filled_person: None,
        knowledge_hit: flag(EXAMPLE_TEXTS[5]),
        transfer_to_human: flag(EXAMPLE_TEXTS[6]),
        manual_intervention: flag(EXAMPLE_TEXTS[7]),
        operation_user: Some(EXAMPLE_TEXTS[8].into()),
    }
}

/// The template's bytes.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("人工录入")?;
    let header = Format::new()
        .set_bold()
        .set_background_color("#1F4E79")
        .set_font_color("#FFFFFF")
        .set_align(FormatAlign::Center);
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let wrap = Format::new().set_text_wrap();
    let yes_no = DataValidation::new()
        .allow_list_strings(&["是", "否"])?
        .set_input_message("是 或 否")?
        .set_error_message("请选择 是 或 否")?;
    for (col, (name, width, is_flag)) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *name, &header)?;
        sheet.set_column_width(col, *width)?;
        if *is_flag {
            sheet.add_data_validation(1, col, ROWS, col, &yes_no)?;
        }
    }
    sheet.set_column_format(3, &time)?;
    sheet.set_column_format(1, &wrap)?;
    sheet.set_column_format(2, &wrap)?;
    sheet.set_freeze_panes(1, 0)?;
    for (col, text) in EXAMPLE_TEXTS.iter().enumerate() {
        if col == 3 {
            sheet.write_datetime_with_format(1, 3, example_time(), &time)?;
        } else {
            sheet.write_string(1, col as u16, *text)?;
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::entries::{Checked, check};

    #[test]
    fn the_template_reads_back_as_its_example_row_which_is_skipped() {
        let bytes = template().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let table = crate::import::table::read(&path).unwrap();
        assert_eq!(table.headers[0], "用户名");
        let Checked::Valid { entries, skipped } = check(&table, "t.xlsx", "ops") else {
            panic!("the example row is valid")
        };
        assert!(entries.is_empty(), "{entries:?}");
        assert_eq!(skipped, ["t.xlsx: row 2: the template's example row, skipped"]);
        // The written row is the one `example` describes.
        let e = example();
        assert_eq!(e.consultation_time.to_string(), "2026-11-02 09:30:00");
        assert!(e.transfer_to_human && e.manual_intervention && !e.knowledge_hit);
    }
}
