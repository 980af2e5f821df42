//! The workbook (`.xlsx`): overview with charts, the period's topics with their chart, daily
//! KPIs and detail sheets.
//!
//! [`workbook`] only lays out what `report::build` and the detail rows computed; the one number
//! it derives is the change between the two periods. All text enters through [`write_text`],
//! which writes a text cell (never a formula, so `=1+1` stays text), removes characters XML
//! cannot hold and cuts text past Excel's cell limit with a visible marker. Detail sheets are
//! streamed in constant-memory mode, strictly row by row, and continue on a `(2)` sheet past
//! Excel's row limit, so a large period never fails the report.

use std::borrow::Cow;

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{
    Chart, ChartAxisCrossing, ChartLegendPosition, ChartMarker, ChartSeries, Color, DocProperties, Format,
    FormatAlign, FormatBorder, IgnoreError, Workbook, Worksheet, XlsxError,
};

use super::ReportData;
use super::detail::{
    ManualKind, ManualRow, MessageDetail, Outcome, ReportDetail, SessionRow, UnansweredRow, UserRow,
};
use super::labels::{self, KPIS, KpiKind, KpiLabel};
use crate::calendar::Lang;
use crate::calendar::Period;
use crate::transform::RulesInForce;
use crate::transform::kpi::Kpis;
use crate::transform::rules::Identity;
use crate::transform::topics::TopicKpis;

/// Rows of an Excel sheet, the header row included.
const EXCEL_MAX_ROWS: u32 = 1_048_576;
/// Length limit of an Excel cell, in UTF-16 code units (what Excel and rust_xlsxwriter count).
const CELL_MAX_UNITS: usize = 32_767;
/// Estimated text past which the zip is written as ZIP64: without it a sheet part over 4 GiB
/// fails to pack, and XML escaping can make the part several times larger than the text.
const ZIP64_FROM_BYTES: usize = 512 << 20;
/// The fill of header rows (a light blue).
const HEADER_FILL: u32 = 0xDDEBF7;
/// The colour of secondary text ("–", notes).
const MUTED: u32 = 0x7F7F7F;
/// Most lines a data row is made tall for (see [`fit_height`]).
const MAX_ROW_LINES: usize = 8;
/// Most lines a header row is made tall for.
const MAX_HEADER_LINES: usize = 3;
/// The Overview row of the KPI table's header; rows above hold the title and the period.
const KPI_TOP: u32 = 8;
/// The Overview column where the charts start (after the KPI table and a gap).
const CHART_COL: u16 = 6;

/// The answers of the listed message ids, in their order: the Messages sheet asks for them a
/// block of [`ANSWERS_PER_BLOCK`] at a time (the warehouse's `answers_of`), so a period's
/// answers — most of its text — are never all in memory.
pub type Answers<'a> = dyn FnMut(&[&str]) -> anyhow::Result<Vec<String>> + 'a;

/// Rows of the Messages sheet per request for their answers.
const ANSWERS_PER_BLOCK: usize = 2_000;

/// Renders the report as the bytes of an `.xlsx` workbook with labels in `lang`.
pub fn workbook(
    data: &ReportData,
    detail: &ReportDetail,
    lang: Lang,
    answers: &mut Answers<'_>,
) -> anyhow::Result<Vec<u8>> {
    render(data, detail, lang, answers, EXCEL_MAX_ROWS)
}

/// [`workbook`] with at most `max_rows` rows per sheet, so tests can reach the continuation
/// sheets without writing a million rows.
fn render(
    data: &ReportData,
    detail: &ReportDetail,
    lang: Lang,
    answers: &mut Answers<'_>,
    max_rows: u32,
) -> anyhow::Result<Vec<u8>> {
    let ctx = Ctx { lang, max_rows: max_rows.max(2), styles: Styles::new(lang) };
    let mut book = Workbook::new();
    book.set_properties(&DocProperties::new().set_title(title(data, lang)).set_author("itstat"));
    book.use_zip_large_file(estimated_bytes(detail) > ZIP64_FROM_BYTES);
    overview(&mut book, &ctx, data).context("writing the overview sheet")?;
    topics(&mut book, &ctx, data.topics.as_ref().map(|t| t.topics.as_slice()))
        .context("writing the topics sheet")?;
    daily(&mut book, &ctx, &data.daily).context("writing the daily sheet")?;
    detail_sheets(&mut book, &ctx, data, detail, answers)?;
    definitions(&mut book, &ctx, data, detail).context("writing the definitions sheet")?;
    book.save_to_buffer().context("packing the workbook")
}

// ---- shared context ----------------------------------------------------------------------

/// What every sheet writer needs: the language, the row limit and the cell formats.
struct Ctx {
    lang: Lang,
    max_rows: u32,
    styles: Styles,
}

impl Ctx {
    fn pick(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.lang.pick(zh, en)
    }

    /// Appended to text cut at the cell limit, so a reader knows the cell is incomplete.
    fn cut_marker(&self) -> &'static str {
        self.pick("…[已截断]", "… [truncated]")
    }
}

/// The sheets, in workbook order.
#[derive(Debug, Clone, Copy)]
enum Sheet {
    Overview,
    Topics,
    Daily,
    Sessions,
    Messages,
    Unanswered,
    Gaps,
    Manual,
    Users,
    Definitions,
}

impl Sheet {
    fn name(self, lang: Lang) -> &'static str {
        match self {
            Sheet::Overview => lang.pick("概览", "Overview"),
            Sheet::Topics => labels::topic_words(lang).sheet,
            Sheet::Daily => lang.pick("每日", "Daily"),
            Sheet::Sessions => lang.pick("会话", "Sessions"),
            Sheet::Messages => lang.pick("消息", "Messages"),
            Sheet::Unanswered => lang.pick("未命中", "Unanswered"),
            Sheet::Gaps => lang.pick("知识缺口", "Knowledge gaps"),
            Sheet::Manual => lang.pick("人工", "Manual"),
            Sheet::Users => lang.pick("用户", "Users"),
            Sheet::Definitions => lang.pick("说明", "Definitions"),
        }
    }
}

/// How a column's cells look.
#[derive(Debug, Clone, Copy)]
enum Style {
    Text,
    Wrap,
    Center,
    Int,
    /// An identifier: digits only, no thousands separator.
    Id,
    /// A signed count change: `+3`, `-2`, `0`.
    Change,
    Percent,
    Seconds,
    Date,
    DateTime,
}

impl From<KpiKind> for Style {
    fn from(kind: KpiKind) -> Style {
        match kind {
            KpiKind::Count => Style::Int,
            KpiKind::Rate => Style::Percent,
            KpiKind::Seconds => Style::Seconds,
        }
    }
}

/// Every cell format, created once per workbook.
struct Styles {
    title: Format,
    label: Format,
    header: Format,
    text: Format,
    wrap: Format,
    center: Format,
    muted: Format,
    note: Format,
    warning: Format,
    int: Format,
    id: Format,
    percent: Format,
    seconds: Format,
    date: Format,
    datetime: Format,
    int_change: Format,
    pp_change: Format,
    seconds_change: Format,
}

impl Styles {
    fn new(lang: Lang) -> Styles {
        let top = || Format::new().set_align(FormatAlign::Top);
        // Rate changes are differences of percentages, i.e. percentage points, not percents.
        let pp =
            lang.pick(r#"+0.0" 个百分点";-0.0" 个百分点";0.0" 个百分点""#, r#"+0.0" pp";-0.0" pp";0.0" pp""#);
        Styles {
            title: Format::new().set_bold().set_font_size(16),
            label: top().set_bold(),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(HEADER_FILL))
                .set_border_bottom(FormatBorder::Thin),
            text: top(),
            wrap: top().set_text_wrap(),
            center: top().set_align(FormatAlign::Center),
            muted: top().set_align(FormatAlign::Right).set_font_color(Color::RGB(MUTED)),
            note: top().set_italic().set_font_color(Color::RGB(MUTED)),
            warning: Format::new().set_bold().set_font_color(Color::RGB(0xC62828)),
            int: top().set_num_format("#,##0"),
            id: top().set_num_format("0").set_align(FormatAlign::Left),
            percent: top().set_num_format("0.0%"),
            seconds: top().set_num_format("0.00"),
            date: top().set_num_format("yyyy-mm-dd").set_align(FormatAlign::Left),
            datetime: top().set_num_format("yyyy-mm-dd hh:mm:ss").set_align(FormatAlign::Left),
            int_change: top().set_num_format("+#,##0;-#,##0;0"),
            pp_change: top().set_num_format(pp),
            seconds_change: top().set_num_format("+0.00;-0.00;0.00"),
        }
    }

    fn of(&self, style: Style) -> &Format {
        match style {
            Style::Text => &self.text,
            Style::Wrap => &self.wrap,
            Style::Center => &self.center,
            Style::Int => &self.int,
            Style::Id => &self.id,
            Style::Change => &self.int_change,
            Style::Percent => &self.percent,
            Style::Seconds => &self.seconds,
            Style::Date => &self.date,
            Style::DateTime => &self.datetime,
        }
    }

    fn change(&self, kind: KpiKind) -> &Format {
        match kind {
            KpiKind::Count => &self.int_change,
            KpiKind::Rate => &self.pp_change,
            KpiKind::Seconds => &self.seconds_change,
        }
    }
}

/// A table column: its header, width (in characters) and cell style.
#[derive(Debug, Clone, Copy)]
struct Column {
    header: &'static str,
    width: f64,
    style: Style,
}

const fn col(header: &'static str, width: f64, style: Style) -> Column {
    Column { header, width, style }
}

/// One cell's value; text is always written as text.
enum Value<'a> {
    Text(Cow<'a, str>),
    /// `None` (a rate without denominator) leaves the cell blank, never 0.
    Num(Option<f64>),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

fn text(s: &str) -> Value<'_> {
    Value::Text(Cow::Borrowed(s))
}

fn int(n: i64) -> Value<'static> {
    Value::Num(Some(n as f64))
}

// ---- safe cells --------------------------------------------------------------------------

/// The one way text enters the workbook: a text cell, which Excel never evaluates, so `=1+1`,
/// `@SUM(A1)` or `-2+3` stay the text they were.
fn write_text(
    ws: &mut Worksheet,
    ctx: &Ctx,
    row: u32,
    col: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    ws.write_string_with_format(row, col, cell_text(text, ctx.cut_marker()), format).map(drop)
}

/// `text` as a cell can hold it: without XML-illegal characters, and cut so that the kept
/// text plus `marker` fits Excel's limit.
fn cell_text<'a>(text: &'a str, marker: &str) -> Cow<'a, str> {
    let clean = strip_illegal(text);
    if utf16_len(&clean) <= CELL_MAX_UNITS {
        return clean;
    }
    let budget = CELL_MAX_UNITS.saturating_sub(utf16_len(marker));
    let mut used = 0;
    // Cut on a char boundary so a surrogate pair (an emoji) is never split.
    let cut = clean
        .char_indices()
        .find(|(_, c)| {
            used += c.len_utf16();
            used > budget
        })
        .map_or(clean.len(), |(i, _)| i);
    Cow::Owned(format!("{}{marker}", &clean[..cut]))
}

/// Removes the characters XML 1.0 cannot hold; written escaped, they would come back as
/// stray control characters or `_x0007_` text.
fn strip_illegal(text: &str) -> Cow<'_, str> {
    if text.contains(is_xml_illegal) {
        Cow::Owned(text.chars().filter(|c| !is_xml_illegal(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Control characters other than tab, LF and CR, and the non-characters U+FFFE/U+FFFF.
fn is_xml_illegal(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

fn write_value(
    ws: &mut Worksheet,
    ctx: &Ctx,
    (row, col): (u32, u16),
    value: &Value<'_>,
    format: &Format,
) -> Result<(), XlsxError> {
    match value {
        Value::Text(t) => write_text(ws, ctx, row, col, t, format),
        // Excel cannot store NaN or infinity; a blank is the honest rendering.
        Value::Num(Some(n)) if n.is_finite() => ws.write_number_with_format(row, col, *n, format).map(drop),
        Value::Num(_) => Ok(()),
        Value::Date(d) => ws.write_date_with_format(row, col, d, format).map(drop),
        Value::DateTime(t) => ws.write_datetime_with_format(row, col, t, format).map(drop),
    }
}

/// Writes one table row, each value in its column's style.
fn write_row(
    ws: &mut Worksheet,
    ctx: &Ctx,
    row: u32,
    columns: &[Column],
    values: &[Value<'_>],
) -> Result<(), XlsxError> {
    for (c, (column, value)) in columns.iter().zip(values).enumerate() {
        write_value(ws, ctx, (row, c as u16), value, ctx.styles.of(column.style))?;
    }
    let wrapped = columns.iter().zip(values).filter_map(|(column, value)| match (column.style, value) {
        (Style::Wrap, Value::Text(t)) => Some((t.as_ref(), column.width)),
        _ => None,
    });
    fit_height(ws, row, wrapped, MAX_ROW_LINES)
}

/// Sets the column widths and writes the header cells at `row`.
fn write_header(ws: &mut Worksheet, ctx: &Ctx, row: u32, columns: &[Column]) -> Result<(), XlsxError> {
    for (c, column) in columns.iter().enumerate() {
        ws.set_column_width(c as u16, column.width)?;
        write_text(ws, ctx, row, c as u16, column.header, &ctx.styles.header)?;
    }
    fit_height(ws, row, columns.iter().map(|c| (c.header, c.width)), MAX_HEADER_LINES)
}

/// Gives `row` the height of its tallest wrapped text, at most `cap` lines. Excel grows such
/// rows itself on opening, but LibreOffice keeps one line and hides the rest; the cap keeps a
/// long answer from turning a row into a page (the whole text stays in the cell).
fn fit_height<'t>(
    ws: &mut Worksheet,
    row: u32,
    texts: impl Iterator<Item = (&'t str, f64)>,
    cap: usize,
) -> Result<(), XlsxError> {
    let (lines, wide) = texts
        .map(|(text, width)| wrapped_lines(text, width, cap))
        .fold((1, false), |(lines, wide), (l, w)| (lines.max(l), wide || w));
    if lines > 1 {
        // CJK fallback fonts draw taller lines than Calibri's 15 points.
        let line = if wide { 17.0 } else { 15.0 };
        ws.set_row_height(row, lines as f64 * line + 2.0)?;
    }
    Ok(())
}

/// Estimated lines of `text` wrapped in a column `width` characters wide (wide characters
/// count two), stopping at `cap`; and whether it holds wide characters.
fn wrapped_lines(text: &str, width: f64, cap: usize) -> (usize, bool) {
    let per_line = (width - 1.0).max(1.0);
    let (mut lines, mut wide) = (0, false);
    for line in text.split('\n') {
        let units: usize = line.chars().map(|c| if c >= '\u{2E80}' { 2 } else { 1 }).sum();
        wide |= units > line.chars().count();
        lines += ((units as f64 / per_line).ceil() as usize).max(1);
        if lines >= cap {
            return (cap, wide);
        }
    }
    (lines, wide)
}

/// Header row at the top, frozen, with an autofilter over `data_rows` rows, printed landscape
/// one page wide with the header on every page.
fn start_table(ws: &mut Worksheet, ctx: &Ctx, columns: &[Column], data_rows: usize) -> Result<(), XlsxError> {
    write_header(ws, ctx, 0, columns)?;
    let last_col = columns.len().saturating_sub(1) as u16;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, data_rows as u32, last_col)?;
    if data_rows > 0 {
        // User keys such as `0042` are text on purpose; no green "number stored as text" marks.
        ws.ignore_error_range(1, 0, data_rows as u32, last_col, IgnoreError::NumberStoredAsText)?;
    }
    ws.set_repeat_rows(0, 0)?;
    ws.set_landscape().set_print_fit_to_pages(1, 0);
    Ok(())
}

// ---- tables past the row limit -----------------------------------------------------------

/// Writes `rows` as a table on the constant-memory sheet `name`, continued on `name (2)`,
/// `name (3)`… when they pass the row limit.
fn write_table<T>(
    book: &mut Workbook,
    ctx: &Ctx,
    name: &str,
    columns: &[Column],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<Value<'_>>,
) -> anyhow::Result<()> {
    let per_sheet = (ctx.max_rows - 1) as usize;
    for (part, chunk) in parts(rows, per_sheet).into_iter().enumerate() {
        let sheet = part_name(name, part);
        let ws = book
            .add_worksheet_with_constant_memory()
            .with_context(|| format!("creating sheet `{sheet}` (it needs a writable temporary folder)"))?;
        fill_table(ws, ctx, &sheet, columns, chunk, &cells)
            .with_context(|| format!("writing sheet `{sheet}`"))?;
    }
    Ok(())
}

/// Names the sheet and writes a header and `rows`, in row order as constant memory requires.
fn fill_table<T>(
    ws: &mut Worksheet,
    ctx: &Ctx,
    sheet: &str,
    columns: &[Column],
    rows: &[T],
    cells: &impl Fn(&T) -> Vec<Value<'_>>,
) -> Result<(), XlsxError> {
    ws.set_name(sheet)?;
    start_table(ws, ctx, columns, rows.len())?;
    for (i, row) in rows.iter().enumerate() {
        write_row(ws, ctx, i as u32 + 1, columns, &cells(row))?;
    }
    Ok(())
}

/// `rows` in chunks of `size`; an empty table still gets its one sheet with a header.
fn parts<T>(rows: &[T], size: usize) -> Vec<&[T]> {
    if rows.is_empty() { vec![rows] } else { rows.chunks(size).collect() }
}

/// `消息`, then `消息 (2)`, `消息 (3)`…
fn part_name(name: &str, part: usize) -> String {
    if part == 0 { name.to_string() } else { format!("{name} ({})", part + 1) }
}

/// A rough size of the detail text, to decide on ZIP64 before writing.
fn estimated_bytes(detail: &ReportDetail) -> usize {
    // An answer's characters take at most three bytes each (CJK); ZIP64 early is harmless.
    let messages: usize =
        detail.messages.iter().map(|m| m.question.len() + 3 * m.answer_chars.max(0) as usize + 400).sum();
    let unanswered: usize = detail.unanswered.iter().map(|u| u.question.len() + 100).sum();
    let manual: usize = detail.manual.iter().map(|m| m.question.len() + m.note.len() + 300).sum();
    messages + unanswered + manual + (detail.sessions.len() + detail.users.len()) * 400
}

// ---- Overview ----------------------------------------------------------------------------

/// "IT客服机器人周报 2026-W47".
fn title(data: &ReportData, lang: Lang) -> String {
    format!("{} {}", labels::report_title(data.period.kind, lang), data.period.label())
}

/// "2026-11-16 – 2026-11-22", or one date for a day.
fn span(period: &Period) -> String {
    if period.start == period.end {
        period.start.to_string()
    } else {
        format!("{} – {}", period.start, period.end)
    }
}

fn overview(book: &mut Workbook, ctx: &Ctx, data: &ReportData) -> anyhow::Result<()> {
    let ws = book.add_worksheet();
    ws.set_name(Sheet::Overview.name(ctx.lang))?;
    heading(ws, ctx, data)?;
    kpi_table(ws, ctx, data)?;
    let daily = Sheet::Daily.name(ctx.lang);
    ws.insert_chart(1, CHART_COL, &volume_chart(ctx, daily, data.daily.len())?)?;
    ws.insert_chart(17, CHART_COL, &rates_chart(ctx, daily, data.daily.len())?)?;
    ws.set_landscape().set_print_fit_to_pages(1, 1);
    Ok(())
}

/// The title, then what the numbers cover: periods, time zone and freshness.
fn heading(ws: &mut Worksheet, ctx: &Ctx, data: &ReportData) -> Result<(), XlsxError> {
    let s = &ctx.styles;
    write_text(ws, ctx, 0, 0, &title(data, ctx.lang), &s.title)?;
    ws.set_row_height(0, 24)?;
    // Incomplete numbers say so above everything else (docs/alerts.md).
    if !data.warnings.is_empty() {
        let line: Vec<String> = data.warnings.iter().map(|w| format!("⚠ {}", w.message)).collect();
        write_text(ws, ctx, 1, 0, &line.join("  "), &s.warning)?;
    }
    let through = match data.data_through {
        Some(t) => Value::DateTime(t.naive_local()),
        None => text(ctx.pick("暂无数据", "no data yet")),
    };
    let through_format = if data.data_through.is_some() { &s.datetime } else { &s.note };
    let rows = [
        (ctx.pick("统计期", "Period"), Value::Text(Cow::Owned(span(&data.period))), &s.text),
        (ctx.pick("对比期", "Compared with"), Value::Text(Cow::Owned(span(&data.previous_period))), &s.text),
        (ctx.pick("时区", "Time zone"), text(&data.rules.timezone), &s.text),
        (ctx.pick("生成时间", "Generated at"), Value::DateTime(data.generated_at.naive_local()), &s.datetime),
        (ctx.pick("数据截至", "Data through"), through, through_format),
    ];
    for (i, (label, value, format)) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        write_text(ws, ctx, row, 0, label, &s.label)?;
        write_value(ws, ctx, (row, 1), value, format)?;
    }
    Ok(())
}

fn kpi_columns(lang: Lang) -> [Column; 5] {
    [
        col(lang.pick("指标", "KPI"), 26.0, Style::Text),
        col(lang.pick("本期", "This period"), 20.0, Style::Int),
        col(lang.pick("上期", "Previous period"), 20.0, Style::Int),
        col(lang.pick("变化", "Change"), 16.0, Style::Int),
        col(lang.pick("趋势", "Trend"), 7.0, Style::Center),
    ]
}

/// One row per KPI: this period, the previous one, the change and its direction.
fn kpi_table(ws: &mut Worksheet, ctx: &Ctx, data: &ReportData) -> anyhow::Result<()> {
    write_header(ws, ctx, KPI_TOP, &kpi_columns(ctx.lang))?;
    let current = kpi_values(&data.totals)?;
    let previous = kpi_values(&data.previous)?;
    for (i, kpi) in KPIS.iter().enumerate() {
        kpi_row(ws, ctx, KPI_TOP + 1 + i as u32, kpi, (current[i], previous[i]))?;
    }
    let note = ctx.pick(
        "变化：计数为差值，比率为百分点之差；“–”表示分母为 0，无法计算。",
        "Change: the difference for counts, percentage points for rates; \"–\" means the rate has no denominator (0).",
    );
    write_text(ws, ctx, KPI_TOP + 2 + KPIS.len() as u32, 0, note, &ctx.styles.note)?;
    Ok(())
}

fn kpi_row(
    ws: &mut Worksheet,
    ctx: &Ctx,
    row: u32,
    kpi: &KpiLabel,
    (current, previous): (Option<f64>, Option<f64>),
) -> Result<(), XlsxError> {
    write_text(ws, ctx, row, 0, kpi.name(ctx.lang), &ctx.styles.text)?;
    kpi_value(ws, ctx, (row, 1), kpi.kind, current)?;
    kpi_value(ws, ctx, (row, 2), kpi.kind, previous)?;
    if let Some(change) = change(kpi.kind, current, previous) {
        ws.write_number_with_format(row, 3, change, ctx.styles.change(kpi.kind))?;
        write_text(ws, ctx, row, 4, trend(change), &ctx.styles.center)?;
    }
    Ok(())
}

/// A KPI in its format, or a grey "–" when it has no value (a rate of nothing is not 0%).
fn kpi_value(
    ws: &mut Worksheet,
    ctx: &Ctx,
    cell: (u32, u16),
    kind: KpiKind,
    value: Option<f64>,
) -> Result<(), XlsxError> {
    match value {
        Some(v) => write_value(ws, ctx, cell, &Value::Num(Some(v)), ctx.styles.of(kind.into())),
        None => write_text(ws, ctx, cell.0, cell.1, "–", &ctx.styles.muted),
    }
}

/// This period minus the previous one; percentage points for rates; `None` when either is
/// missing.
fn change(kind: KpiKind, current: Option<f64>, previous: Option<f64>) -> Option<f64> {
    let diff = current? - previous?;
    Some(if kind == KpiKind::Rate { diff * 100.0 } else { diff })
}

fn trend(change: f64) -> &'static str {
    if change > 0.0 {
        "▲"
    } else if change < 0.0 {
        "▼"
    } else {
        "–"
    }
}

/// The KPIs in [`KPIS`] order, read through serde so the order and keys cannot drift from
/// the JSON contract.
fn kpi_values(kpis: &Kpis) -> anyhow::Result<Vec<Option<f64>>> {
    let json = serde_json::to_value(kpis).context("reading the KPIs")?;
    KPIS.iter()
        .map(|k| {
            json.get(k.key).map(serde_json::Value::as_f64).with_context(|| format!("no KPI `{}`", k.key))
        })
        .collect()
}

// ---- charts ------------------------------------------------------------------------------

/// The Daily sheet column of a KPI (column A holds the date).
fn daily_col(key: &str) -> anyhow::Result<u16> {
    let index = KPIS.iter().position(|k| k.key == key).with_context(|| format!("no KPI `{key}`"))?;
    Ok(index as u16 + 1)
}

/// The last Daily row a chart reads; an empty period still points at one (empty) row, so
/// the chart shows empty instead of holding an invalid range.
fn last_daily_row(days: usize) -> u32 {
    days.max(1) as u32
}

/// Adds the Daily column `col` as a series named by its header, over the dates.
fn add_daily_series<'c>(chart: &'c mut Chart, sheet: &str, col: u16, days: usize) -> &'c mut ChartSeries {
    let last = last_daily_row(days);
    chart
        .add_series()
        .set_name((sheet, 0, col))
        .set_categories((sheet, 1, 0, last, 0))
        .set_values((sheet, 1, col, last, col))
}

/// Columns of messages and sessions per day.
fn volume_chart(ctx: &Ctx, sheet: &str, days: usize) -> anyhow::Result<Chart> {
    let mut chart = Chart::new_column();
    for key in ["messages", "sessions"] {
        add_daily_series(&mut chart, sheet, daily_col(key)?, days);
    }
    chart.title().set_name(ctx.pick("每日消息数与会话数", "Messages and sessions per day"));
    chart.y_axis().set_num_format("#,##0").set_min(0.0);
    finish_chart(&mut chart);
    Ok(chart)
}

/// Lines of the three headline rates per day; markers so a single day still shows.
fn rates_chart(ctx: &Ctx, sheet: &str, days: usize) -> anyhow::Result<Chart> {
    let mut chart = Chart::new_line();
    for key in ["kb_hit_rate", "self_resolution_rate", "transfer_rate"] {
        add_daily_series(&mut chart, sheet, daily_col(key)?, days)
            .set_marker(ChartMarker::new().set_automatic());
    }
    chart.title().set_name(ctx.pick("每日关键比率", "Key rates per day"));
    chart.y_axis().set_num_format("0%").set_min(0.0).set_max(1.0);
    finish_chart(&mut chart);
    Ok(chart)
}

fn finish_chart(chart: &mut Chart) {
    chart.x_axis().set_num_format("mm-dd");
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart.set_width(600).set_height(300);
}

// ---- Topics ------------------------------------------------------------------------------

/// The Topics column where the chart starts (after the table and a gap).
const TOPIC_CHART_COL: u16 = 9;
/// The topics the chart shows: the largest.
const TOPIC_CHART_BARS: usize = 10;

/// The columns of the Topics sheet. Nothing wraps: a long title is clipped at the next cell
/// (the whole title stays in the cell), so every row is one line.
fn topic_columns(lang: Lang) -> [Column; 8] {
    let w = labels::topic_words(lang);
    [
        col(w.id, 7.0, Style::Id),
        col(w.topic, 40.0, Style::Text),
        col(w.count, 10.0, Style::Int),
        col(w.change, 10.0, Style::Change),
        col(w.kb_hit_rate, 12.0, Style::Percent),
        col(w.transfer_rate, 12.0, Style::Percent),
        col(w.dislikes, 8.0, Style::Int),
        col(w.new, 6.0, Style::Center),
    ]
}

/// One topic: the change is against the previous period (docs/topics.md, "Numbers"); a rate
/// over nothing stays blank, never 0%.
fn topic_cells(t: &TopicKpis, lang: Lang) -> Vec<Value<'_>> {
    vec![
        int(t.id),
        text(&t.title),
        int(t.count),
        int(t.count.saturating_sub(t.previous_count)),
        Value::Num(t.kb_hit_rate),
        Value::Num(t.transfer_rate),
        int(t.dislikes),
        text(if t.new { labels::topic_words(lang).new_mark } else { "" }),
    ]
}

/// The Topics sheet, right after the overview: every topic of the period, largest first as
/// given, and a bar chart of the largest beside them. A standard (not constant-memory) sheet
/// so the chart gets cached values; `None` (not computed) and an empty list leave the header
/// and a note.
fn topics(book: &mut Workbook, ctx: &Ctx, topics: Option<&[TopicKpis]>) -> anyhow::Result<()> {
    let words = labels::topic_words(ctx.lang);
    let columns = topic_columns(ctx.lang);
    let name = Sheet::Topics.name(ctx.lang);
    let ws = book.add_worksheet();
    ws.set_name(name)?;
    let all = topics.unwrap_or_default();
    let shown = topic_rows(all, ctx.max_rows);
    start_table(ws, ctx, &columns, shown.len())?;
    for (i, t) in shown.iter().enumerate() {
        write_row(ws, ctx, i as u32 + 1, &columns, &topic_cells(t, ctx.lang))?;
    }
    let note = match topics {
        None => Some(Cow::Borrowed(words.not_computed)),
        Some([]) => Some(Cow::Borrowed(words.none)),
        Some(_) if shown.len() < all.len() => {
            Some(Cow::Owned(left_out_note(ctx.lang, all.len() - shown.len())))
        }
        Some(_) => None,
    };
    if let Some(note) = note {
        write_text(ws, ctx, shown.len() as u32 + 1, 0, &note, &ctx.styles.note)?;
    }
    if !shown.is_empty() {
        ws.insert_chart(1, TOPIC_CHART_COL, &topics_chart(name, words.chart_title, shown.len()))?;
    }
    Ok(())
}

/// The topics one sheet holds: all of them, or when they pass the row limit the largest,
/// leaving a row for the note that says how many more there are.
fn topic_rows(topics: &[TopicKpis], max_rows: u32) -> &[TopicKpis] {
    let room = (max_rows - 1) as usize;
    if topics.len() <= room { topics } else { &topics[..room - 1] }
}

fn left_out_note(lang: Lang, more: usize) -> String {
    match lang {
        Lang::Zh => {
            format!("另有 {more} 个话题超出工作表行数上限未列出；itstat topics --format csv 列出全部。")
        }
        Lang::En => {
            format!(
                "{more} more topics pass the sheet's row limit; itstat topics --format csv lists them all."
            )
        }
    }
}

/// Bars of the largest topics' message counts, named by their titles, the largest on top.
fn topics_chart(sheet: &str, title: &str, rows: usize) -> Chart {
    let last = rows.min(TOPIC_CHART_BARS) as u32;
    let mut chart = Chart::new_bar();
    chart
        .add_series()
        .set_name((sheet, 0, 2))
        .set_categories((sheet, 1, 1, last, 1))
        .set_values((sheet, 1, 2, last, 2));
    chart.title().set_name(title);
    // A bar chart's category axis is its y axis; reversed, the first (largest) row is on top,
    // and crossed at its last category the counts' axis stays at the bottom.
    chart.y_axis().set_reverse().set_crossing(ChartAxisCrossing::Max);
    chart.x_axis().set_num_format("#,##0").set_min(0.0);
    chart.legend().set_hidden();
    chart.set_width(640).set_height(360);
    chart
}

// ---- Daily -------------------------------------------------------------------------------

fn daily_columns(lang: Lang) -> Vec<Column> {
    let mut columns = vec![col(lang.pick("日期", "Date"), 12.0, Style::Date)];
    columns.extend(KPIS.iter().map(|k| col(k.name(lang), 12.0, k.kind.into())));
    columns
}

/// One row per date with every KPI; a standard sheet so the charts get cached values.
fn daily(book: &mut Workbook, ctx: &Ctx, days: &[(NaiveDate, Kpis)]) -> anyhow::Result<()> {
    let columns = daily_columns(ctx.lang);
    let ws = book.add_worksheet();
    ws.set_name(Sheet::Daily.name(ctx.lang))?;
    start_table(ws, ctx, &columns, days.len())?;
    // Keep the date in view while scrolling through 23 KPI columns.
    ws.set_freeze_panes(1, 1)?;
    for (i, (date, kpis)) in days.iter().enumerate() {
        let mut values = vec![Value::Date(*date)];
        values.extend(kpi_values(kpis)?.into_iter().map(Value::Num));
        write_row(ws, ctx, i as u32 + 1, &columns, &values)?;
    }
    Ok(())
}

// ---- detail sheets -----------------------------------------------------------------------

fn detail_sheets(
    book: &mut Workbook,
    ctx: &Ctx,
    data: &ReportData,
    detail: &ReportDetail,
    answers: &mut Answers<'_>,
) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let name = |sheet: Sheet| sheet.name(lang);
    write_table(book, ctx, name(Sheet::Sessions), &session_columns(lang), &detail.sessions, |s| {
        session_cells(s, lang)
    })?;
    write_messages(book, ctx, &detail.messages, answers)?;
    write_table(
        book,
        ctx,
        name(Sheet::Unanswered),
        &unanswered_columns(lang),
        &detail.unanswered,
        unanswered_cells,
    )?;
    // The same questions grouped by meaning (docs/gaps.md); empty when not computed.
    let gaps = data.gaps.as_ref().map(|g| g.groups.as_slice()).unwrap_or_default();
    write_table(book, ctx, name(Sheet::Gaps), &gap_columns(lang), gaps, |g| gap_cells(g, lang))?;
    write_table(book, ctx, name(Sheet::Manual), &manual_columns(lang), &detail.manual, |m| {
        manual_cells(m, lang)
    })?;
    write_table(book, ctx, name(Sheet::Users), &user_columns(lang), &detail.users, user_cells)
}

fn session_columns(lang: Lang) -> Vec<Column> {
    let p = |zh, en| lang.pick(zh, en);
    vec![
        col(p("用户", "User"), 20.0, Style::Text),
        col(p("开始时间", "Start"), 19.0, Style::DateTime),
        col(p("结束时间", "End"), 19.0, Style::DateTime),
        col(p("日期", "Local date"), 11.0, Style::Date),
        col(p("消息数", "Messages"), 10.0, Style::Int),
        col(p("已回答", "Answered"), 10.0, Style::Int),
        col(p("知识库命中", "KB hits"), 10.0, Style::Int),
        col(p("转人工消息", "Transfer messages"), 10.0, Style::Int),
        col(p("人工处理消息", "Manual messages"), 10.0, Style::Int),
        col(p("转人工", "Transfer"), 9.0, Style::Center),
        col(p("人工处理", "Manual"), 9.0, Style::Center),
        col(p("自助解决", "Self-resolved"), 10.0, Style::Center),
        col(p("结果", "Outcome"), 12.0, Style::Text),
        col(p("会话 ID", "Session ID"), 38.0, Style::Text),
    ]
}

fn session_cells(s: &SessionRow, lang: Lang) -> Vec<Value<'_>> {
    vec![
        text(&s.user_key),
        Value::DateTime(s.started_at),
        Value::DateTime(s.ended_at),
        Value::Date(s.local_date),
        int(s.messages),
        int(s.answered),
        int(s.kb_hits),
        int(s.transfer_messages),
        int(s.manual_messages),
        text(labels::yes_no(s.is_transfer, lang)),
        text(labels::yes_no(s.is_manual, lang)),
        text(labels::yes_no(s.is_self_resolved, lang)),
        text(outcome_name(s.outcome(), lang)),
        text(&s.session_id),
    ]
}

fn outcome_name(outcome: Outcome, lang: Lang) -> &'static str {
    match outcome {
        Outcome::SelfResolved => lang.pick("自助解决", "self-resolved"),
        Outcome::Transfer => lang.pick("转人工", "transfer"),
        Outcome::Manual => lang.pick("人工处理", "manual"),
        Outcome::Unresolved => lang.pick("未解决", "unresolved"),
    }
}

fn message_columns(lang: Lang) -> Vec<Column> {
    let p = |zh, en| lang.pick(zh, en);
    vec![
        col(p("时间", "Time"), 19.0, Style::DateTime),
        col(p("用户", "User"), 20.0, Style::Text),
        col(p("问题", "Question"), 50.0, Style::Wrap),
        col(p("回答", "Answer"), 50.0, Style::Wrap),
        col(p("状态", "State"), 9.0, Style::Center),
        col(p("知识库命中", "KB hit"), 12.0, Style::Center),
        col(p("转人工", "Transfer"), 9.0, Style::Center),
        col(p("人工处理", "Manual"), 9.0, Style::Center),
        col(p("人工处理人", "Manual operator"), 14.0, Style::Text),
        col(p("反馈", "Feedback"), 10.0, Style::Center),
        col(p("响应时间（秒）", "Latency (s)"), 10.0, Style::Seconds),
        col(p("会话 ID", "Session ID"), 38.0, Style::Text),
        col(p("Dify 消息 ID", "Dify message ID"), 38.0, Style::Text),
    ]
}

/// The Messages sheet(s): like [`write_table`], with each block of rows' answers asked for
/// just before the block is written.
fn write_messages(
    book: &mut Workbook,
    ctx: &Ctx,
    messages: &[MessageDetail],
    answers: &mut Answers<'_>,
) -> anyhow::Result<()> {
    let name = Sheet::Messages.name(ctx.lang);
    let columns = message_columns(ctx.lang);
    for (part, chunk) in parts(messages, (ctx.max_rows - 1) as usize).into_iter().enumerate() {
        let sheet = part_name(name, part);
        let ws = book
            .add_worksheet_with_constant_memory()
            .with_context(|| format!("creating sheet `{sheet}` (it needs a writable temporary folder)"))?;
        ws.set_name(&sheet)?;
        start_table(ws, ctx, &columns, chunk.len())?;
        let mut row = 1;
        for block in chunk.chunks(ANSWERS_PER_BLOCK) {
            let ids: Vec<&str> = block.iter().map(|m| m.message_id.as_str()).collect();
            let texts = answers(&ids)?;
            anyhow::ensure!(texts.len() == ids.len(), "{} answers for {} messages", texts.len(), ids.len());
            for (m, answer) in block.iter().zip(&texts) {
                write_row(ws, ctx, row, &columns, &message_cells(m, answer, ctx.lang))
                    .with_context(|| format!("writing sheet `{sheet}`"))?;
                row += 1;
            }
        }
    }
    Ok(())
}

fn message_cells<'a>(m: &'a MessageDetail, answer: &'a str, lang: Lang) -> Vec<Value<'a>> {
    vec![
        Value::DateTime(m.local_time),
        text(&m.user_key),
        text(&m.question),
        text(answer),
        text(labels::state_name(m.state, lang)),
        Value::Text(kb_hit_text(m.kb_hit, m.kb_overridden, lang)),
        text(labels::yes_no(m.transfer, lang)),
        text(labels::yes_no(m.manual, lang)),
        text(m.manual_operator.as_deref().unwrap_or_default()),
        text(feedback_name(m.liked, m.disliked, lang)),
        Value::Num(Some(m.latency_s)),
        text(m.session_id.as_deref().unwrap_or_default()),
        text(&m.message_id),
    ]
}

/// Yes/no, marked when an operator's verdict decided it rather than the rules.
fn kb_hit_text(hit: bool, overridden: bool, lang: Lang) -> Cow<'static, str> {
    let word = labels::yes_no(hit, lang);
    if overridden {
        Cow::Owned(format!("{word}{}", lang.pick("（人工）", " (operator)")))
    } else {
        Cow::Borrowed(word)
    }
}

fn feedback_name(liked: bool, disliked: bool, lang: Lang) -> &'static str {
    match (liked, disliked) {
        (true, true) => lang.pick("赞、踩", "both"),
        (true, false) => lang.pick("赞", "like"),
        (false, true) => lang.pick("踩", "dislike"),
        (false, false) => "",
    }
}

fn unanswered_columns(lang: Lang) -> Vec<Column> {
    vec![
        col(lang.pick("问题", "Question"), 70.0, Style::Wrap),
        col(lang.pick("次数", "Count"), 8.0, Style::Int),
        col(lang.pick("最近提问", "Last asked"), 19.0, Style::DateTime),
    ]
}

fn unanswered_cells(u: &UnansweredRow) -> Vec<Value<'_>> {
    vec![text(&u.question), int(u.count), Value::DateTime(u.last_asked)]
}

fn gap_columns(lang: Lang) -> Vec<Column> {
    let p = |zh, en| lang.pick(zh, en);
    vec![
        col(p("主题", "Topic"), 36.0, Style::Wrap),
        col(p("次数", "Count"), 8.0, Style::Int),
        col(p("用户数", "Users"), 8.0, Style::Int),
        col(p("首次提问", "First asked"), 19.0, Style::DateTime),
        col(p("最近提问", "Last asked"), 19.0, Style::DateTime),
        col(p("新", "New"), 6.0, Style::Center),
        col(p("问法举例", "Examples"), 60.0, Style::Wrap),
        // Last and on one line: ids are for operators (who also get them from `itstat gaps
        // --format csv`), and wrapped they made every row ten lines tall.
        col(p("消息 ID", "Message IDs"), 38.0, Style::Text),
    ]
}

fn gap_cells(g: &crate::transform::gaps::Gap, lang: Lang) -> Vec<Value<'_>> {
    vec![
        text(&g.title),
        int(g.count),
        int(g.users),
        Value::DateTime(g.first_seen),
        Value::DateTime(g.last_seen),
        text(if g.new { lang.pick("新", "new") } else { "" }),
        Value::Text(Cow::Owned(g.examples.join("\n"))),
        Value::Text(Cow::Owned(g.message_ids.join(" "))),
    ]
}

fn manual_columns(lang: Lang) -> Vec<Column> {
    let p = |zh, en| lang.pick(zh, en);
    vec![
        col(p("类型", "Kind"), 10.0, Style::Text),
        col(p("时间", "Time"), 19.0, Style::DateTime),
        col(p("用户", "User"), 20.0, Style::Text),
        col(p("问题", "Question"), 50.0, Style::Wrap),
        col(p("内容", "What"), 24.0, Style::Wrap),
        col(p("处理人", "Operator"), 14.0, Style::Text),
        col(p("备注", "Note"), 40.0, Style::Wrap),
        col(p("消息 ID", "Message ID"), 38.0, Style::Text),
    ]
}

fn manual_cells(m: &ManualRow, lang: Lang) -> Vec<Value<'_>> {
    let kind = match m.kind {
        ManualKind::Entry => lang.pick("人工录入", "entry"),
        ManualKind::Mark => lang.pick("人工标记", "mark"),
    };
    vec![
        text(kind),
        Value::DateTime(m.time),
        text(&m.user),
        text(&m.question),
        text(&m.what),
        text(&m.operator),
        text(&m.note),
        text(m.message_id.as_deref().unwrap_or_default()),
    ]
}

fn user_columns(lang: Lang) -> Vec<Column> {
    let p = |zh, en| lang.pick(zh, en);
    vec![
        col(p("用户", "User"), 24.0, Style::Text),
        col(p("消息数", "Messages"), 10.0, Style::Int),
        col(p("会话数", "Sessions"), 10.0, Style::Int),
        col(p("自助解决", "Self-resolved"), 10.0, Style::Int),
        col(p("转人工", "Transfers"), 10.0, Style::Int),
    ]
}

fn user_cells(u: &UserRow) -> Vec<Value<'_>> {
    vec![text(&u.user_key), int(u.messages), int(u.sessions), int(u.self_resolved), int(u.transfers)]
}

// ---- Definitions -------------------------------------------------------------------------

fn definition_columns(lang: Lang) -> [Column; 3] {
    [
        col(lang.pick("指标", "KPI"), 26.0, Style::Text),
        col(lang.pick("JSON 键", "JSON key"), 26.0, Style::Text),
        col(lang.pick("定义", "Definition"), 90.0, Style::Wrap),
    ]
}

/// What each KPI means, then the rules in force and the version, so a reader can tell how
/// the numbers were made. Constant memory because rules are configured text, like user text.
fn definitions(
    book: &mut Workbook,
    ctx: &Ctx,
    data: &ReportData,
    detail: &ReportDetail,
) -> anyhow::Result<()> {
    let columns = definition_columns(ctx.lang);
    let ws = book.add_worksheet_with_constant_memory().context("creating the definitions sheet")?;
    ws.set_name(Sheet::Definitions.name(ctx.lang))?;
    start_table(ws, ctx, &columns, KPIS.len())?;
    for (i, kpi) in KPIS.iter().enumerate() {
        let values = [text(kpi.name(ctx.lang)), text(kpi.key), text(kpi.definition(ctx.lang))];
        write_row(ws, ctx, i as u32 + 1, &columns, &values)?;
    }
    let mut row = KPIS.len() as u32 + 2;
    write_text(ws, ctx, row, 0, ctx.pick("生效规则", "Rules in force"), &ctx.styles.header)?;
    for (label, key, value) in rules_rows(&data.rules, ctx.lang) {
        row += 1;
        write_text(ws, ctx, row, 0, label, &ctx.styles.label)?;
        write_text(ws, ctx, row, 1, key, &ctx.styles.text)?;
        write_text(ws, ctx, row, 2, &value, &ctx.styles.wrap)?;
        fit_height(ws, row, [(value.as_ref(), columns[2].width)].into_iter(), MAX_ROW_LINES)?;
    }
    row += 2;
    write_text(ws, ctx, row, 0, ctx.pick("itstat 版本", "itstat version"), &ctx.styles.label)?;
    write_text(ws, ctx, row, 2, &detail.version, &ctx.styles.text)?;
    Ok(())
}

/// The rules as (label, config key, value), the values as `report --format json` shows them
/// (phrases and patterns NFKC-normalised, as applied); lists joined with "; ".
fn rules_rows(rules: &RulesInForce, lang: Lang) -> Vec<(&'static str, &'static str, Cow<'_, str>)> {
    let p = |zh, en| lang.pick(zh, en);
    let list = |items: &[String]| {
        if items.is_empty() { Cow::Borrowed(p("（无）", "(none)")) } else { Cow::Owned(items.join("; ")) }
    };
    let identity = match &rules.identity {
        Identity::EndUser => Cow::Borrowed("end_user"),
        Identity::Input { key } => Cow::Owned(format!("input: {key}")),
        Identity::QueryRegex { pattern } => Cow::Owned(format!("query_regex: {pattern}")),
    };
    let apps = match rules.apps.ids() {
        None => Cow::Borrowed(p("（全部）", "(every app)")),
        Some(ids) => list(ids),
    };
    vec![
        (p("时区", "Time zone"), "timezone", Cow::Borrowed(rules.timezone.as_str())),
        (p("应用", "Apps"), "dify.apps", apps),
        (p("用户识别", "User identity"), "identity", identity),
        (
            p("会话窗口", "Session window"),
            "session.window",
            Cow::Owned(humantime::format_duration(rules.session_window).to_string()),
        ),
        (p("会话模式", "Session mode"), "session.mode", Cow::Borrowed(rules.session_mode.name())),
        (p("未命中话术", "KB miss phrases"), "rules.kb_miss", list(&rules.kb_miss)),
        (p("未命中正则", "KB miss regexes"), "rules.kb_miss_regex", list(&rules.kb_miss_regex)),
        (p("转人工话术", "Transfer phrases"), "rules.transfer", list(&rules.transfer)),
        (p("转人工正则", "Transfer regexes"), "rules.transfer_regex", list(&rules.transfer_regex)),
        (
            p("排除的调用来源", "Excluded invoke_from"),
            "dify.exclude_invoke_from",
            list(&rules.exclude_invoke_from),
        ),
        (p("排除的用户", "Excluded users"), "dify.exclude_users", list(&rules.exclude_users)),
        (p("规则指纹", "Rules fingerprint"), "rules", Cow::Owned(rules.fingerprint())),
    ]
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::Asia::Shanghai;

    use super::*;
    use crate::calendar::PeriodKind;
    use crate::transform::messages::MessageState;

    const HOSTILE: &[&str] = &[
        "=1+1",
        "@SUM(A1)",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "<script>alert(1)</script>",
        "_x0041_ is not an A",
        "0042",
        "  leading and trailing  ",
    ];

    type Book = Xlsx<Cursor<Vec<u8>>>;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        date(d).and_hms_opt(h, m, 0).unwrap()
    }

    /// A busy day: rates are defined.
    fn busy(n: i64) -> Kpis {
        Kpis {
            messages: 10 * n,
            answered: 8 * n,
            kb_hits: 6 * n,
            kb_hit_rate: Some(0.75),
            sessions: 4 * n,
            bot_sessions: 4 * n,
            self_resolved_sessions: 2 * n,
            self_resolution_rate: Some(0.5),
            transfer_sessions: n,
            transfer_rate: Some(0.25),
            manual_rate: Some(0.0),
            latency_avg_s: Some(2.5),
            ..Kpis::default()
        }
    }

    fn week() -> ReportData {
        let period = Period { kind: PeriodKind::Week, start: date(16), end: date(22) };
        // Wednesday and Saturday had no traffic: all zeros, rates null.
        let daily: Vec<(NaiveDate, Kpis)> = (16..=22)
            .map(|d| (date(d), if d == 18 || d == 21 { Kpis::default() } else { busy(1) }))
            .collect();
        ReportData {
            period,
            previous_period: period.previous(),
            rules: crate::transform::rules::tests::rules(
                "[rules]\nkb_miss = [\"抱歉\", \"=not a formula\"]\ntransfer_regex = []",
            ),
            totals: Kpis { satisfaction_rate: None, ..busy(5) },
            previous: Kpis { kb_hit_rate: Some(0.6), ..busy(4) },
            trend: daily.clone(),
            daily,
            generated_at: Shanghai.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
            data_through: Some(Shanghai.with_ymd_and_hms(2026, 11, 22, 23, 59, 0).unwrap()),
            warnings: Vec::new(),
            gaps: None,
            topics: Some(topic_list(fixture_topics())),
        }
    }

    /// The report's topics from a list (the one place a test builds `Topics`).
    fn topic_list(topics: Vec<TopicKpis>) -> crate::topics::period::Topics {
        crate::topics::period::Topics {
            topics,
            created: 0,
            grouped_by: "wording",
            warning: None,
            of_question: Default::default(),
            unstored: None,
        }
    }

    /// A topic with the numbers the sheet shows; the others are not shown.
    fn topic(
        id: i64,
        title: &str,
        (count, previous): (i64, i64),
        rates: (Option<f64>, Option<f64>),
    ) -> TopicKpis {
        TopicKpis {
            kb_hit_rate: rates.0,
            transfer_rate: rates.1,
            dislikes: id % 5,
            previous_count: previous,
            new: previous == 0,
            message_ids: vec![format!("msg-{id}")],
            ..crate::transform::topics::tests::topic_kpis(id, title, count)
        }
    }

    const HOSTILE_TITLE: &str = "=HYPERLINK(\"http://x\",\"点我\")";

    /// Thirteen topics, largest first: one grown, one new with a hostile title and no answered
    /// message (rates null), one shrunk, then ten small ones, so the chart shows ten of them.
    fn fixture_topics() -> Vec<TopicKpis> {
        let mut topics = vec![
            topic(7, "VPN连不上", (40, 33), (Some(0.5), Some(0.25))),
            topic(3, HOSTILE_TITLE, (25, 0), (None, None)),
            topic(12, "打印机卡纸", (20, 23), (Some(1.0), Some(0.0))),
        ];
        topics.extend((0..10).map(|i| topic(100 + i, &format!("话题 {i}"), (10 - i, 1), (Some(0.75), None))));
        topics
    }

    /// The fixture's answer of message `msg-{i}`: a long one, a short one, else 好的.
    fn answer_of(id: &str) -> String {
        let i: usize = id.trim_start_matches("msg-").parse().unwrap_or(0);
        match i.checked_sub(HOSTILE.len()) {
            Some(0) => "答".repeat(40_000),
            Some(1) => "ok".into(),
            _ => "好的".into(),
        }
    }

    /// The fixture's answers, read as the warehouse gives them: a block of ids at a time.
    fn answers(ids: &[&str]) -> anyhow::Result<Vec<String>> {
        Ok(ids.iter().map(|id| answer_of(id)).collect())
    }

    fn workbook(data: &ReportData, detail: &ReportDetail, lang: Lang) -> anyhow::Result<Vec<u8>> {
        super::workbook(data, detail, lang, &mut answers)
    }

    fn message(i: usize, question: &str) -> MessageDetail {
        MessageDetail {
            message_id: format!("msg-{i}"),
            local_time: at(16, 9, i as u32 % 60),
            user_key: question.to_string(),
            question: question.to_string(),
            answer_chars: answer_of(&format!("msg-{i}")).chars().count() as i64,
            state: MessageState::Answered,
            kb_hit: i.is_multiple_of(2),
            kb_overridden: i == 1,
            transfer: false,
            manual: false,
            manual_operator: Some(question.to_string()),
            liked: true,
            disliked: false,
            latency_s: 1.25,
            session_id: Some(format!("s-{i}")),
        }
    }

    fn detail() -> ReportDetail {
        let mut messages: Vec<MessageDetail> =
            HOSTILE.iter().enumerate().map(|(i, q)| message(i, q)).collect();
        messages.push(message(HOSTILE.len(), "long"));
        messages.push(message(HOSTILE.len() + 1, "bell\u{7}ring"));
        ReportDetail {
            sessions: vec![SessionRow {
                session_id: "s-0".into(),
                user_key: "=1+1".into(),
                started_at: at(16, 9, 0),
                ended_at: at(16, 9, 5),
                local_date: date(16),
                messages: 2,
                answered: 2,
                errors: 0,
                pending: 0,
                kb_hits: 1,
                transfer_messages: 0,
                manual_messages: 0,
                is_transfer: false,
                is_manual: false,
                is_self_resolved: true,
            }],
            messages,
            unanswered: HOSTILE
                .iter()
                .map(|q| UnansweredRow { question: q.to_string(), count: 2, last_asked: at(17, 10, 0) })
                .collect(),
            manual: vec![ManualRow {
                kind: ManualKind::Entry,
                time: at(18, 11, 0),
                user: "@SUM(A1)".into(),
                question: "-2+3".into(),
                what: "transfer".into(),
                operator: "+cmd|' /C calc'!A0".into(),
                note: "=HYPERLINK(\"http://x\")".into(),
                message_id: None,
            }],
            users: HOSTILE
                .iter()
                .map(|u| UserRow {
                    user_key: u.to_string(),
                    messages: 3,
                    sessions: 1,
                    self_resolved: 1,
                    transfers: 0,
                })
                .collect(),
            version: "0.1.0".into(),
        }
    }

    fn open(bytes: Vec<u8>) -> Book {
        open_workbook_from_rs(Cursor::new(bytes)).expect("calamine opens the workbook")
    }

    fn sheet(book: &mut Book, name: &str) -> calamine::Range<Data> {
        book.worksheet_range(name).unwrap_or_else(|e| panic!("sheet `{name}`: {e}"))
    }

    fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
        range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
    }

    fn string(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
        match cell(range, row, col) {
            Data::String(s) => s,
            other => panic!("({row}, {col}) is not text: {other:?}"),
        }
    }

    fn number(range: &calamine::Range<Data>, row: u32, col: u32) -> f64 {
        match cell(range, row, col) {
            Data::Float(f) => f,
            Data::Int(i) => i as f64,
            other => panic!("({row}, {col}) is not a number: {other:?}"),
        }
    }

    /// Every formula of a sheet: must be none, whatever the text.
    fn formulas(book: &mut Book, name: &str) -> Vec<String> {
        let range = book.worksheet_formula(name).unwrap();
        range.used_cells().map(|(_, _, f)| f.clone()).filter(|f| !f.is_empty()).collect()
    }

    #[test]
    fn sheets_are_named_in_the_language_in_order() {
        let zh = open(workbook(&week(), &detail(), Lang::Zh).unwrap());
        assert_eq!(
            zh.sheet_names(),
            ["概览", "话题", "每日", "会话", "消息", "未命中", "知识缺口", "人工", "用户", "说明"]
        );
        let en = open(workbook(&week(), &detail(), Lang::En).unwrap());
        assert_eq!(
            en.sheet_names(),
            [
                "Overview",
                "Topics",
                "Daily",
                "Sessions",
                "Messages",
                "Unanswered",
                "Knowledge gaps",
                "Manual",
                "Users",
                "Definitions"
            ]
        );
    }

    #[test]
    fn overview_shows_both_periods_and_the_change() {
        let data = week();
        let mut book = open(workbook(&data, &detail(), Lang::En).unwrap());
        let overview = sheet(&mut book, "Overview");
        assert_eq!(string(&overview, 0, 0), "IT help desk bot weekly report 2026-W47");
        assert_eq!(string(&overview, 2, 1), "2026-11-16 – 2026-11-22");
        let row_of = |key: &str| KPI_TOP + 1 + KPIS.iter().position(|k| k.key == key).unwrap() as u32;

        let messages = row_of("messages");
        assert_eq!(string(&overview, messages, 0), "Messages");
        assert_eq!(number(&overview, messages, 1), data.totals.messages as f64);
        assert_eq!(number(&overview, messages, 2), data.previous.messages as f64);
        assert_eq!(number(&overview, messages, 3), 10.0);
        assert_eq!(string(&overview, messages, 4), "▲");

        let kb = row_of("kb_hit_rate");
        assert_eq!(number(&overview, kb, 1), 0.75);
        assert_eq!(number(&overview, kb, 2), 0.6);
        assert!((number(&overview, kb, 3) - 15.0).abs() < 1e-9, "change in percentage points");

        let satisfaction = row_of("satisfaction_rate");
        assert_eq!(string(&overview, satisfaction, 1), "–", "a null rate is not 0");
        assert_eq!(cell(&overview, satisfaction, 3), Data::Empty, "no change without both sides");
    }

    #[test]
    fn daily_has_one_row_per_date_and_blank_null_rates() {
        let data = week();
        let mut book = open(workbook(&data, &detail(), Lang::Zh).unwrap());
        let daily = sheet(&mut book, "每日");
        assert_eq!(daily.height(), 1 + 7);
        assert_eq!(string(&daily, 0, 0), "日期");
        assert!(matches!(cell(&daily, 1, 0), Data::DateTime(_)));
        let kb = daily_col("kb_hit_rate").unwrap() as u32;
        assert_eq!(number(&daily, 1, kb), 0.75);
        assert_eq!(cell(&daily, 3, kb), Data::Empty, "2026-11-18 had no answers");
        assert_eq!(number(&daily, 3, daily_col("messages").unwrap() as u32), 0.0);
    }

    #[test]
    fn hostile_text_stays_text() {
        let mut book = open(workbook(&week(), &detail(), Lang::Zh).unwrap());
        let messages = sheet(&mut book, "消息");
        let users = sheet(&mut book, "用户");
        let unanswered = sheet(&mut book, "未命中");
        for (i, hostile) in HOSTILE.iter().enumerate() {
            let row = i as u32 + 1;
            assert_eq!(string(&messages, row, 1), *hostile, "user");
            assert_eq!(string(&messages, row, 2), *hostile, "question");
            assert_eq!(string(&messages, row, 8), *hostile, "operator");
            assert_eq!(string(&users, row, 0), *hostile);
            assert_eq!(string(&unanswered, row, 0), *hostile);
        }
        let manual = sheet(&mut book, "人工");
        assert_eq!(string(&manual, 1, 2), "@SUM(A1)");
        assert_eq!(string(&manual, 1, 3), "-2+3");
        assert_eq!(string(&manual, 1, 5), "+cmd|' /C calc'!A0");
        assert_eq!(string(&manual, 1, 6), "=HYPERLINK(\"http://x\")");
        assert_eq!(string(&sheet(&mut book, "会话"), 1, 0), "=1+1");
        assert_eq!(string(&sheet(&mut book, "话题"), 2, 1), HOSTILE_TITLE);
        for name in ["概览", "话题", "每日", "会话", "消息", "未命中", "知识缺口", "人工", "用户", "说明"]
        {
            assert!(formulas(&mut book, name).is_empty(), "sheet `{name}` has formulas");
        }
    }

    #[test]
    fn control_characters_are_removed() {
        let mut book = open(workbook(&week(), &detail(), Lang::Zh).unwrap());
        let messages = sheet(&mut book, "消息");
        assert_eq!(string(&messages, HOSTILE.len() as u32 + 2, 2), "bellring");
    }

    #[test]
    fn long_answer_is_cut_with_a_marker() {
        let mut book = open(workbook(&week(), &detail(), Lang::Zh).unwrap());
        let answer = string(&sheet(&mut book, "消息"), HOSTILE.len() as u32 + 1, 3);
        assert!(answer.encode_utf16().count() <= CELL_MAX_UNITS);
        assert!(answer.ends_with("…[已截断]"), "ends with {:?}", &answer[answer.len() - 20..]);
        assert!(answer.starts_with(&"答".repeat(30_000)));
    }

    #[test]
    fn cut_never_splits_a_character() {
        let text = "😀".repeat(20_000); // 40,000 UTF-16 units
        let cut = cell_text(&text, "… [truncated]");
        assert!(utf16_len(&cut) <= CELL_MAX_UNITS);
        assert!(cut.trim_end_matches("… [truncated]").chars().all(|c| c == '😀'));
        assert_eq!(cell_text("short", "…"), "short");
    }

    /// The Messages sheet never asks for more than a block of answers at once, and each
    /// answer lands in its message's row.
    #[test]
    fn answers_are_asked_for_a_block_at_a_time() {
        let n = 2 * ANSWERS_PER_BLOCK + 7;
        let messages: Vec<MessageDetail> = (0..n).map(|i| message(i + 100, "q")).collect();
        let detail = ReportDetail { messages, ..ReportDetail::default() };
        let mut asked = Vec::new();
        let mut source = |ids: &[&str]| {
            asked.push(ids.len());
            Ok(ids.iter().map(|id| format!("answer of {id}")).collect())
        };
        let bytes = super::workbook(&week(), &detail, Lang::En, &mut source).unwrap();
        assert_eq!(asked, [ANSWERS_PER_BLOCK, ANSWERS_PER_BLOCK, 7]);
        let range = sheet(&mut open(bytes), "Messages");
        for row in [1, ANSWERS_PER_BLOCK as u32 + 1, n as u32] {
            assert_eq!(string(&range, row, 3), format!("answer of {}", string(&range, row, 12)));
        }
        let mut short = |ids: &[&str]| Ok(vec![String::new(); ids.len() - 1]);
        assert!(
            super::workbook(&week(), &detail, Lang::En, &mut short).is_err(),
            "a missing answer is an error"
        );
    }

    #[test]
    fn rows_past_the_limit_continue_on_the_next_sheet() {
        let detail = detail();
        // Three rows a sheet: a header and two messages.
        let mut book = open(render(&week(), &detail, Lang::Zh, &mut answers, 3).unwrap());
        let names = book.sheet_names();
        let continued: Vec<&str> =
            names.iter().map(String::as_str).filter(|n| n.starts_with("消息")).collect();
        assert_eq!(continued, ["消息", "消息 (2)", "消息 (3)", "消息 (4)", "消息 (5)"]);
        let mut ids = Vec::new();
        for name in continued {
            let range = sheet(&mut book, name);
            assert_eq!(string(&range, 0, 12), "Dify 消息 ID", "header on `{name}`");
            ids.extend((1..range.height() as u32).map(|row| string(&range, row, 12)));
        }
        let expected: Vec<String> = detail.messages.iter().map(|m| m.message_id.clone()).collect();
        assert_eq!(ids, expected, "no message lost or repeated");
        let users: Vec<&String> = names.iter().filter(|n| n.starts_with("用户")).collect();
        assert_eq!(users.len(), 4, "8 users, 2 a sheet");
    }

    /// The XML parts of a workbook, by path inside the zip.
    struct Parts(std::collections::HashMap<String, String>);

    impl Parts {
        fn of(bytes: &[u8]) -> Parts {
            use std::io::Read;
            let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("an xlsx is a zip");
            let mut parts = std::collections::HashMap::new();
            for i in 0..zip.len() {
                let mut file = zip.by_index(i).unwrap();
                let mut text = String::new();
                file.read_to_string(&mut text).unwrap();
                parts.insert(file.name().unwrap().to_string(), text);
            }
            Parts(parts)
        }

        fn get(&self, path: &str) -> &str {
            self.0.get(path).unwrap_or_else(|| panic!("no part {path}"))
        }

        /// The targets of a part's relationships (`xl/_rels/workbook.xml.rels` for
        /// `xl/workbook.xml`), by id, resolved against the part's folder.
        fn relations(&self, part: &str) -> Vec<(String, String)> {
            let (folder, file) = part.rsplit_once('/').unwrap();
            let Some(rels) = self.0.get(&format!("{folder}/_rels/{file}.rels")) else { return Vec::new() };
            let re =
                regex::Regex::new(r#"<Relationship Id="([^"]+)" Type="[^"]+" Target="([^"]+)""#).unwrap();
            re.captures_iter(rels).map(|c| (c[1].to_string(), resolve(folder, &c[2]))).collect()
        }

        /// The worksheet part of the sheet named `name`.
        fn sheet(&self, name: &str) -> String {
            let workbook = self.get("xl/workbook.xml");
            let re = regex::Regex::new(&format!(
                r#"<sheet name="{}" sheetId="\d+" r:id="([^"]+)""#,
                regex::escape(name)
            ))
            .unwrap();
            let id = &re.captures(workbook).unwrap_or_else(|| panic!("no sheet {name}"))[1];
            let rels = self.relations("xl/workbook.xml");
            rels.into_iter().find(|(i, _)| i == id).map(|(_, t)| t).unwrap()
        }

        /// The chart parts drawn on the sheet named `name`.
        fn charts_on(&self, name: &str) -> Vec<String> {
            let drawings: Vec<String> = self
                .relations(&self.sheet(name))
                .into_iter()
                .map(|(_, target)| target)
                .filter(|t| t.starts_with("xl/drawings/"))
                .collect();
            drawings
                .iter()
                .flat_map(|d| self.relations(d))
                .map(|(_, target)| target)
                .filter(|t| t.starts_with("xl/charts/"))
                .collect()
        }
    }

    /// `../charts/chart1.xml` seen from `xl/drawings` is `xl/charts/chart1.xml`.
    fn resolve(folder: &str, target: &str) -> String {
        let mut path: Vec<&str> = folder.split('/').collect();
        for piece in target.split('/') {
            match piece {
                ".." => drop(path.pop()),
                p => path.push(p),
            }
        }
        path.join("/")
    }

    /// A chart series: its name, categories and values as the formulas Excel reads.
    #[derive(Debug)]
    struct Series {
        name: String,
        categories: String,
        values: String,
    }

    fn series(chart: &str) -> Vec<Series> {
        let f = |block: &str, tag: &str| {
            let re = regex::Regex::new(&format!(r"(?s)<c:{tag}>.*?<c:f>([^<]+)</c:f>")).unwrap();
            re.captures(block).map(|c| c[1].replace("&apos;", "'")).unwrap_or_default()
        };
        chart
            .split("<c:ser>")
            .skip(1)
            .map(|ser| Series { name: f(ser, "tx"), categories: f(ser, "cat"), values: f(ser, "val") })
            .collect()
    }

    /// `'每日'!$B$2:$B$8` as the sheet and the (row, column) corners, zero-based.
    fn range_ref(formula: &str) -> (String, (u32, u32), (u32, u32)) {
        let (sheet, cells) = formula.rsplit_once('!').unwrap();
        let corner = |a1: &str| {
            let a1 = a1.replace('$', "");
            let split = a1.find(|c: char| c.is_ascii_digit()).unwrap();
            let col = a1[..split].bytes().fold(0, |n, b| n * 26 + u32::from(b - b'A' + 1)) - 1;
            (a1[split..].parse::<u32>().unwrap() - 1, col)
        };
        let (first, last) = cells.split_once(':').unwrap_or((cells, cells));
        (sheet.trim_matches('\'').to_string(), corner(first), corner(last))
    }

    #[test]
    fn charts_are_drawn_on_the_overview_from_the_daily_columns() {
        let data = week();
        let bytes = workbook(&data, &detail(), Lang::Zh).unwrap();
        let parts = Parts::of(&bytes);
        let charts = parts.charts_on("概览");
        assert_eq!(charts.len(), 2, "{charts:?}");
        for other in ["每日", "会话", "消息", "未命中", "人工", "用户", "说明"] {
            assert!(parts.charts_on(other).is_empty(), "a chart on `{other}`");
        }
        let (column, line): (Vec<&String>, Vec<&String>) =
            charts.iter().partition(|c| parts.get(c).contains("<c:barChart>"));
        let (column, line) = (parts.get(column[0]), parts.get(line[0]));
        assert!(column.contains(r#"<c:barDir val="col"/>"#), "columns, not bars");
        assert!(line.contains("<c:lineChart>") && !line.contains("<c:barChart>"));
        assert!(line.contains(r#"<c:numFmt formatCode="0%""#), "rates as percents");

        let mut book = open(bytes.clone());
        let daily = sheet(&mut book, "每日");
        let days = data.daily.len() as u32;
        // Each series is a named Daily column over every date, next to the dates.
        let check = |chart: &str, names: &[&str]| {
            let found = series(chart);
            let shown: Vec<String> = found
                .iter()
                .map(|s| {
                    let (sheet, (row, col), end) = range_ref(&s.name);
                    assert_eq!((sheet.as_str(), row, (row, col) == end), ("每日", 0, true), "{s:?}");
                    let (sheet, first, last) = range_ref(&s.values);
                    assert_eq!((sheet.as_str(), first, last), ("每日", (1, col), (days, col)), "{s:?}");
                    let (sheet, first, last) = range_ref(&s.categories);
                    assert_eq!((sheet.as_str(), first, last), ("每日", (1, 0), (days, 0)), "{s:?}");
                    string(&daily, row, col)
                })
                .collect();
            assert_eq!(shown, names);
        };
        check(column, &["消息数", "会话总数"]);
        check(line, &["知识库命中率", "自助解决率", "转人工率"]);
    }

    #[test]
    fn tables_have_frozen_headers_and_filters_over_their_rows() {
        let parts = Parts::of(&workbook(&week(), &detail(), Lang::Zh).unwrap());
        let frozen = |sheet: &str| {
            let xml = parts.get(&parts.sheet(sheet));
            let re = regex::Regex::new(r#"<pane ([^>]*)state="frozen""#).unwrap();
            re.captures(xml).map(|c| c[1].trim().to_string()).unwrap_or_default()
        };
        let filter = |sheet: &str| {
            let xml = parts.get(&parts.sheet(sheet));
            let re = regex::Regex::new(r#"<autoFilter ref="([^"]+)""#).unwrap();
            re.captures(xml).map(|c| c[1].to_string()).unwrap_or_default()
        };
        // The filter spans the header and every data row, over every column.
        let tables = [
            ("话题", "A1:H14"),
            ("会话", "A1:N2"),
            ("消息", "A1:M11"),
            ("未命中", "A1:C9"),
            ("人工", "A1:H2"),
            ("用户", "A1:E9"),
            ("说明", "A1:C24"),
        ];
        for (sheet, range) in tables {
            assert_eq!(frozen(sheet), r#"ySplit="1" topLeftCell="A2" activePane="bottomLeft""#, "`{sheet}`");
            assert_eq!(filter(sheet), range, "`{sheet}`");
        }
        assert_eq!(
            frozen("每日"),
            r#"xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight""#,
            "the header and the date stay in view"
        );
        assert_eq!(filter("每日"), "A1:X8", "24 columns: the date and 23 KPIs, 7 days");
    }

    #[test]
    fn a_single_day_and_an_empty_period_render() {
        let mut day = week();
        day.period = Period { kind: PeriodKind::Day, start: date(22), end: date(22) };
        day.daily.truncate(1);
        let bytes = workbook(&day, &ReportDetail::default(), Lang::Zh).unwrap();
        assert_eq!(Parts::of(&bytes).charts_on("概览").len(), 2);
        let mut book = open(bytes);
        assert_eq!(sheet(&mut book, "每日").height(), 2);
        assert_eq!(sheet(&mut book, "消息").height(), 1, "header only");

        let mut empty = week();
        empty.totals = Kpis::default();
        empty.previous = Kpis::default();
        empty.daily.clear();
        empty.data_through = None;
        let mut book = open(workbook(&empty, &ReportDetail::default(), Lang::En).unwrap());
        let overview = sheet(&mut book, "Overview");
        assert_eq!(string(&overview, 6, 1), "no data yet");
        assert_eq!(book.sheet_names().len(), 10);
    }

    #[test]
    fn definitions_list_every_kpi_and_the_rules() {
        let mut book = open(workbook(&week(), &detail(), Lang::En).unwrap());
        let defs = sheet(&mut book, "Definitions");
        for (i, kpi) in KPIS.iter().enumerate() {
            assert_eq!(string(&defs, i as u32 + 1, 1), kpi.key);
        }
        let rules = KPIS.len() as u32 + 2;
        assert_eq!(string(&defs, rules, 0), "Rules in force");
        assert_eq!(string(&defs, rules + 2, 2), "(every app)");
        assert_eq!(string(&defs, rules + 6, 2), "=not a formula; 抱歉", "sorted, as applied");
        assert_eq!(string(&defs, rules + 7, 2), "(none)");
        assert_eq!(string(&defs, rules + 12, 2), week().rules.fingerprint(), "the JSON's fingerprint");
        assert_eq!(string(&defs, rules + 14, 2), "0.1.0");
    }

    #[test]
    fn topics_follow_the_overview_with_each_topics_numbers() {
        let mut book = open(workbook(&week(), &detail(), Lang::En).unwrap());
        assert_eq!(book.sheet_names()[..2], ["Overview", "Topics"]);
        let topics = sheet(&mut book, "Topics");
        let header: Vec<String> = (0..8).map(|c| string(&topics, 0, c)).collect();
        assert_eq!(
            header,
            ["ID", "Topic", "Messages", "Change", "KB hit rate", "Transfer rate", "Dislikes", "New"]
        );
        assert_eq!(topics.height(), 1 + 13, "every topic, no note");
        // (row, id, title, count, change, hit rate, transfer rate, dislikes, new)
        let grown = (1, 7.0, "VPN连不上", 40.0, 7.0, Some(0.5), Some(0.25), 2.0, "");
        let new = (2, 3.0, HOSTILE_TITLE, 25.0, 25.0, None, None, 3.0, "new");
        let shrunk = (3, 12.0, "打印机卡纸", 20.0, -3.0, Some(1.0), Some(0.0), 2.0, "");
        for (row, id, title, count, change, hit, transfer, dislikes, mark) in [grown, new, shrunk] {
            assert_eq!(number(&topics, row, 0), id);
            assert_eq!(string(&topics, row, 1), title, "a title is text, whatever it looks like");
            assert_eq!((number(&topics, row, 2), number(&topics, row, 3)), (count, change), "row {row}");
            for (col, rate) in [(4, hit), (5, transfer)] {
                match rate {
                    Some(r) => assert_eq!(number(&topics, row, col), r, "row {row}"),
                    None => assert_eq!(cell(&topics, row, col), Data::Empty, "a null rate is blank, not 0%"),
                }
            }
            assert_eq!(number(&topics, row, 6), dislikes);
            match mark {
                "" => assert_eq!(cell(&topics, row, 7), Data::Empty),
                mark => assert_eq!(string(&topics, row, 7), mark),
            }
        }
        assert!(formulas(&mut book, "Topics").is_empty());
        let zh = sheet(&mut open(workbook(&week(), &detail(), Lang::Zh).unwrap()), "话题");
        assert_eq!((string(&zh, 0, 1), string(&zh, 2, 7)), ("话题".to_string(), "新".to_string()));
    }

    /// The `<xf>` of cell `a1` on `sheet`: its number format, alignment and wrapping.
    fn cell_format(parts: &Parts, sheet: &str, a1: &str) -> String {
        let xml = parts.get(&parts.sheet(sheet));
        let re = regex::Regex::new(&format!(r#"<c r="{a1}" s="(\d+)""#)).unwrap();
        let index: usize = re.captures(xml).unwrap_or_else(|| panic!("no styled {a1}"))[1].parse().unwrap();
        let styles = parts.get("xl/styles.xml");
        let xfs = regex::Regex::new(r"(?s)<cellXfs[^>]*>(.*?)</cellXfs>").unwrap().captures(styles).unwrap();
        let xf = regex::Regex::new(r"(?s)<xf [^>]*?(?:/>|>.*?</xf>)").unwrap();
        xf.find_iter(&xfs[1]).nth(index).unwrap().as_str().to_string()
    }

    /// The height set on a row (one-based as in the sheet XML), if any.
    fn row_height(parts: &Parts, sheet: &str, row: u32) -> Option<String> {
        let xml = parts.get(&parts.sheet(sheet));
        let re = regex::Regex::new(&format!(r#"<row r="{row}"[^>]*?ht="([^"]+)""#)).unwrap();
        re.captures(xml).map(|c| c[1].to_string())
    }

    #[test]
    fn topic_rows_are_one_line_and_rates_are_percents() {
        let parts = Parts::of(&workbook(&week(), &detail(), Lang::Zh).unwrap());
        assert!(!cell_format(&parts, "话题", "B2").contains("wrapText"), "titles do not wrap");
        assert_eq!(row_height(&parts, "话题", 2), None, "rows keep the default height");
        let styles = parts.get("xl/styles.xml");
        let percent = regex::Regex::new(r#"<numFmt numFmtId="(\d+)" formatCode="0.0%"/>"#).unwrap();
        let id = &percent.captures(styles).expect("a percent format")[1];
        for a1 in ["E2", "F2"] {
            assert!(cell_format(&parts, "话题", a1).contains(&format!(r#"numFmtId="{id}""#)), "{a1}");
        }
        let change = cell_format(&parts, "话题", "D2");
        let signed =
            regex::Regex::new(r#"<numFmt numFmtId="(\d+)" formatCode="\+#,##0;-#,##0;0"/>"#).unwrap();
        let signed = &signed.captures(styles).expect("a signed format")[1];
        assert!(change.contains(&format!(r#"numFmtId="{signed}""#)), "{change}");
    }

    #[test]
    fn a_bar_chart_of_the_ten_largest_topics_is_beside_the_table() {
        let parts = Parts::of(&workbook(&week(), &detail(), Lang::En).unwrap());
        let charts = parts.charts_on("Topics");
        assert_eq!(charts.len(), 1, "{charts:?}");
        let chart = parts.get(&charts[0]);
        assert!(chart.contains(r#"<c:barDir val="bar"/>"#), "horizontal bars: {chart}");
        assert!(chart.contains(r#"<c:orientation val="maxMin"/>"#), "the largest on top");
        let found = series(chart);
        assert_eq!(found.len(), 1, "{found:?}");
        let s = &found[0];
        assert_eq!(range_ref(&s.name), ("Topics".to_string(), (0, 2), (0, 2)), "named by the count header");
        assert_eq!(range_ref(&s.categories), ("Topics".to_string(), (1, 1), (10, 1)), "the titles");
        assert_eq!(range_ref(&s.values), ("Topics".to_string(), (1, 2), (10, 2)), "the counts");
        let drawing = parts
            .relations(&parts.sheet("Topics"))
            .into_iter()
            .map(|(_, t)| t)
            .find(|t| t.starts_with("xl/drawings/"))
            .unwrap();
        let from_col = regex::Regex::new(r"<xdr:from><xdr:col>(\d+)</xdr:col>").unwrap();
        let col = &from_col.captures(parts.get(&drawing)).unwrap()[1];
        assert_eq!(col.parse::<u16>().unwrap(), TOPIC_CHART_COL, "beside the eight columns");
    }

    #[test]
    fn no_topics_leave_the_header_and_a_note() {
        let mut none = week();
        none.topics = None;
        let mut empty = week();
        empty.topics = Some(topic_list(Vec::new()));
        for (data, note) in
            [(none, "Topics were not computed for this report."), (empty, "No topics in this period.")]
        {
            let bytes = workbook(&data, &ReportDetail::default(), Lang::En).unwrap();
            assert!(Parts::of(&bytes).charts_on("Topics").is_empty(), "no chart of nothing");
            let topics = sheet(&mut open(bytes), "Topics");
            assert_eq!(string(&topics, 0, 1), "Topic");
            assert_eq!(string(&topics, 1, 0), note);
            assert_eq!(topics.height(), 2);
        }
    }

    #[test]
    fn topics_past_the_row_limit_say_how_many_are_left_out() {
        // Five rows a sheet: the header, the three largest topics and the note.
        let mut book = open(render(&week(), &ReportDetail::default(), Lang::En, &mut answers, 5).unwrap());
        let topics = sheet(&mut book, "Topics");
        let ids: Vec<f64> = (1..4).map(|r| number(&topics, r, 0)).collect();
        assert_eq!(ids, [7.0, 3.0, 12.0]);
        assert_eq!(
            string(&topics, 4, 0),
            "10 more topics pass the sheet's row limit; itstat topics --format csv lists them all."
        );
        assert_eq!(topics.height(), 5);
    }

    #[test]
    fn gap_message_ids_are_one_line_in_the_last_column() {
        use crate::transform::gaps::{GapMessage, assemble, distinct};
        let messages: Vec<GapMessage> = (0..10)
            .map(|i| GapMessage {
                message_id: format!("5f0c6c5e-0000-4000-8000-00000000000{i}"),
                user_key: format!("u{i}"),
                local_time: at(17, 9, i),
                question: if i % 2 == 0 { "VPN连不上" } else { "VPN连不上了" }.to_string(),
                in_period: true,
            })
            .collect();
        let questions = distinct(&messages);
        let groups = assemble(&messages, &questions, &[0, 0], &[(7, "VPN".to_string())]);
        let ids = groups[0].message_ids.join(" ");
        let mut data = week();
        data.gaps = Some(crate::topics::gaps::Gaps { groups, grouped_by: "wording", warning: None });
        let bytes = workbook(&data, &detail(), Lang::Zh).unwrap();
        let parts = Parts::of(&bytes);
        let gaps = sheet(&mut open(bytes), "知识缺口");
        assert_eq!((string(&gaps, 0, 7), string(&gaps, 1, 7)), ("消息 ID".to_string(), ids));
        assert!(string(&gaps, 1, 6).contains('\n'), "the examples still wrap");
        assert!(!cell_format(&parts, "知识缺口", "H2").contains("wrapText"), "ids do not wrap");
        // Two examples, two CJK lines (17 points each): the ids no longer make it eight.
        assert_eq!(row_height(&parts, "知识缺口", 2).as_deref(), Some("36"));
    }
}
