//! `itstat import template FILE.xlsx`: an empty manual-entry workbook with the Chinese
//! headers, yes/no drop-downs on the flag columns, a date format on the time column and one
//! example row to overwrite.

use chrono::NaiveDate;
use rust_xlsxwriter::{DataValidation, Format, FormatAlign, Workbook, XlsxError};

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
    let example =
        NaiveDate::from_ymd_opt(2026, 11, 2).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap_or_default();
    let texts = [
        "zhangsan",
        "打印机卡纸了怎么办（示例，请覆盖）",
        "已到现场处理",
        "",
        "运维",
        "否",
        "是",
        "是",
        "lisi",
    ];
    for (col, text) in texts.iter().enumerate() {
        if col == 3 {
            sheet.write_datetime_with_format(1, 3, example, &time)?;
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
    fn the_template_imports_its_example_row() {
        let bytes = template().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        std::fs::write(&path, bytes).unwrap();
        let table = crate::import::table::read(&path).unwrap();
        assert_eq!(table.headers[0], "用户名");
        let Checked::Valid(entries) = check(&table, "t.xlsx", "ops") else {
            panic!("the example row is valid")
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].consultation_time.to_string(), "2026-11-02 09:30:00");
        assert!(entries[0].transfer_to_human && entries[0].manual_intervention && !entries[0].knowledge_hit);
    }
}
