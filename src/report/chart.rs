//! The trend chart of the report mail: a PNG of the daily messages and sessions (top panel)
//! and the three rates of docs/metrics.md §5 (bottom panel), so a manager sees the trend on a
//! phone without opening the workbook.
//!
//! The image holds no text at all, only lines, dots and grid lines: text would need a font,
//! and a server without fonts would draw a different picture (or none). The words — the
//! legend and the scale — are in the mail's HTML next to the image ([`COUNTS`], [`RATES`]
//! and [`Chart`] give `email` the colours and the scale to state), in the reader's language
//! and font. Drawn with `plotters` into an RGB buffer, encoded with `png`: the same days give
//! the same bytes.

use anyhow::{Context, anyhow};
use chrono::{Datelike, NaiveDate, Weekday};
use plotters::backend::{BitMapBackend, RGBPixel};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::transform::kpi::Kpis;

/// The width the mail shows the chart at, in CSS pixels: fits a phone held upright.
pub const WIDTH: u32 = 600;
/// The height the mail shows the chart at, in CSS pixels.
pub const HEIGHT: u32 = 300;
/// Pixels per CSS pixel: drawn at twice the size, so lines stay sharp on high-density
/// (phone) screens.
const DENSITY: u32 = 2;
/// Space around each panel's plot, in image pixels.
const MARGIN: u32 = 10 * DENSITY;
/// Lines, dots and grid strokes, in image pixels.
const LINE: u32 = 2 * DENSITY;
const DOT: i32 = 3 * DENSITY as i32;
const GRID: u32 = DENSITY;
/// Grid lines per panel: a line every quarter of the rates' 0–100 %.
const RATE_STEPS: u32 = 4;

const GRID_COLOUR: RGBColor = RGBColor(0xe3, 0xe3, 0xe3);
const BASE_COLOUR: RGBColor = RGBColor(0xa0, 0xa0, 0xa0);
const MONDAY_COLOUR: RGBColor = RGBColor(0xc8, 0xc8, 0xc8);

/// One line of the chart: the KPI it draws (its key names it in `labels::KPIS`), its colour,
/// and how to read its value of a day.
#[derive(Clone, Copy)]
pub struct Series {
    pub key: &'static str,
    pub rgb: (u8, u8, u8),
    value: fn(&Kpis) -> Option<f64>,
}

impl Series {
    /// The colour as HTML writes it, `#rrggbb`.
    pub fn hex(&self) -> String {
        let (r, g, b) = self.rgb;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    fn colour(&self) -> RGBColor {
        RGBColor(self.rgb.0, self.rgb.1, self.rgb.2)
    }
}

// Okabe–Ito colours: told apart by readers with the common colour-vision deficiencies.
/// The top panel: counts of a day.
pub const COUNTS: [Series; 2] = [
    Series { key: "messages", rgb: (0x00, 0x72, 0xb2), value: |k| Some(k.messages as f64) },
    Series { key: "sessions", rgb: (0xe6, 0x9f, 0x00), value: |k| Some(k.sessions as f64) },
];

/// The bottom panel: rates in [0, 1]; `None` (nothing to divide by that day) is a gap.
pub const RATES: [Series; 3] = [
    Series { key: "kb_hit_rate", rgb: (0x00, 0x9e, 0x73), value: |k| k.kb_hit_rate },
    Series { key: "self_resolution_rate", rgb: (0xcc, 0x79, 0xa7), value: |k| k.self_resolution_rate },
    Series { key: "transfer_rate", rgb: (0xd5, 0x5e, 0x00), value: |k| k.transfer_rate },
];

/// A rendered chart and the scale of its top panel, which the HTML states in words.
#[derive(Debug, Clone)]
pub struct Chart {
    pub png: Vec<u8>,
    /// The top panel runs from 0 to `count_top`…
    pub count_top: i64,
    /// …with a grid line every `count_step`.
    pub count_step: i64,
}

/// Renders the days (oldest first) as a PNG of `WIDTH`×`HEIGHT` CSS pixels at `DENSITY`.
/// Any days render, none or one included; the error is only the drawing library's.
pub fn render(days: &[(NaiveDate, Kpis)]) -> anyhow::Result<Chart> {
    let top = days.iter().flat_map(|(_, k)| COUNTS.iter().filter_map(|s| (s.value)(k))).fold(0.0, f64::max);
    let (count_top, count_step) = count_scale(top as i64);
    let (w, h) = (WIDTH * DENSITY, HEIGHT * DENSITY);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    draw(&mut rgb, (w, h), days, (count_top, count_step)).map_err(|e| anyhow!("drawing the chart: {e}"))?;
    Ok(Chart { png: encode(&rgb, (w, h))?, count_top, count_step })
}

/// A round top for the counts and a round grid step, so the HTML can state the scale in a
/// few words: the step is 1, 2 or 5 × 10ⁿ, with at most four steps to the top.
fn count_scale(max: i64) -> (i64, i64) {
    let max = max.max(0);
    let mut base: i64 = 1;
    let step = 'found: loop {
        for m in [1, 2, 5] {
            let step = base.saturating_mul(m);
            if step.saturating_mul(4) >= max {
                break 'found step;
            }
        }
        base = base.saturating_mul(10);
    };
    let steps = (max / step + i64::from(max % step != 0)).max(1);
    (steps.saturating_mul(step), step)
}

type DrawResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Draws both panels into `rgb` (3 bytes a pixel, rows top down).
fn draw(rgb: &mut [u8], size: (u32, u32), days: &[(NaiveDate, Kpis)], (top, step): (i64, i64)) -> DrawResult {
    let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(rgb, size)?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let (upper, lower) = root.split_vertically(size.1 / 2);
    let count_lines = (top / step).max(1) as u32;
    panel(&upper, days, &COUNTS, top as f64, count_lines)?;
    panel(&lower, days, &RATES, 1.0, RATE_STEPS)?;
    root.present()?;
    Ok(())
}

/// One panel: grid, Monday lines, then each series as a line broken at gaps, with a dot per
/// day (a lone day between gaps, or a one-day chart, still shows).
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    days: &[(NaiveDate, Kpis)],
    series: &[Series],
    top: f64,
    grid_lines: u32,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    // Half a day of room at each end centres every day in its slot; a little room above and
    // below keeps a line at 0 or at the top whole.
    let x_end = days.len().max(1) as f64 - 0.5;
    let pad = top * 0.04;
    let mut chart = ChartBuilder::on(area).margin(MARGIN).build_cartesian_2d(-0.5..x_end, -pad..top + pad)?;
    let grid = (0..=grid_lines).map(|i| {
        let y = top * f64::from(i) / f64::from(grid_lines);
        let colour = if i == 0 { BASE_COLOUR } else { GRID_COLOUR };
        PathElement::new(vec![(-0.5, y), (x_end, y)], colour.stroke_width(GRID))
    });
    chart.draw_series(grid)?;
    let mondays = days.iter().enumerate().filter(|(_, (d, _))| d.weekday() == Weekday::Mon);
    let mondays = mondays.map(|(i, _)| {
        let x = i as f64 - 0.5;
        PathElement::new(vec![(x, -pad), (x, top + pad)], MONDAY_COLOUR.stroke_width(GRID))
    });
    chart.draw_series(mondays)?;
    for s in series {
        let points = values(days, s, top);
        let style = s.colour().stroke_width(LINE);
        chart.draw_series(runs(&points).into_iter().map(|run| PathElement::new(run, style)))?;
        let dots = points.iter().flatten().map(|&p| Circle::new(p, DOT, s.colour().filled()));
        chart.draw_series(dots)?;
    }
    Ok(())
}

/// The series' point of each day, `None` where it has no value. A value outside 0..=top
/// (a rate is a fraction; only a bug could make it more) is held at the edge rather than
/// drawn over the other panel; a non-finite one is a gap.
fn values(days: &[(NaiveDate, Kpis)], series: &Series, top: f64) -> Vec<Option<(f64, f64)>> {
    days.iter()
        .enumerate()
        .map(|(i, (_, k))| {
            let v = (series.value)(k).filter(|v| v.is_finite())?;
            Some((i as f64, v.clamp(0.0, top)))
        })
        .collect()
}

/// The runs of consecutive days with a value: each is drawn as one line, so a day without a
/// value breaks the line instead of pulling it to 0.
fn runs(points: &[Option<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
    points
        .split(Option::is_none)
        .map(|run| run.iter().flatten().copied().collect::<Vec<_>>())
        .filter(|run| run.len() > 1)
        .collect()
}

/// PNG-encodes an RGB buffer.
fn encode(rgb: &[u8], (w, h): (u32, u32)) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().context("encoding the chart")?;
    writer.write_image_data(rgb).context("encoding the chart")?;
    writer.finish().context("encoding the chart")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("a November date")
    }

    /// A fortnight with varied numbers, a day without sessions (rates `None`) in the middle.
    fn fortnight() -> Vec<(NaiveDate, Kpis)> {
        (9..=22)
            .map(|d| {
                let k = if d == 15 {
                    Kpis { messages: 4, sessions: 0, kb_hit_rate: Some(0.5), ..Kpis::default() }
                } else {
                    let n = i64::from(d);
                    Kpis {
                        messages: 20 + n * 3,
                        sessions: 8 + n,
                        kb_hit_rate: Some(0.6 + f64::from(d % 4) / 20.0),
                        self_resolution_rate: Some(0.5 + f64::from(d % 3) / 10.0),
                        transfer_rate: Some(0.1 + f64::from(d % 5) / 50.0),
                        ..Kpis::default()
                    }
                };
                (date(d), k)
            })
            .collect()
    }

    /// The decoded image: (width, height, RGB bytes).
    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut buf).expect("a PNG frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn pixels_of(rgb: &[u8], colour: (u8, u8, u8)) -> usize {
        rgb.chunks_exact(3).filter(|p| (p[0], p[1], p[2]) == colour).count()
    }

    /// Pixels of `colour` in rows `rows` (image pixels).
    fn pixels_in_rows(rgb: &[u8], width: u32, rows: std::ops::Range<u32>, colour: (u8, u8, u8)) -> usize {
        let row = (width * 3) as usize;
        pixels_of(&rgb[rows.start as usize * row..rows.end as usize * row], colour)
    }

    #[test]
    fn the_png_decodes_at_twice_the_shown_size_with_every_series_drawn() {
        let chart = render(&fortnight()).unwrap();
        let (w, h, rgb) = decode(&chart.png);
        assert_eq!((w, h), (WIDTH * DENSITY, HEIGHT * DENSITY));
        // Counts in the top half, rates in the bottom half.
        for s in COUNTS {
            assert!(pixels_in_rows(&rgb, w, 0..h / 2, s.rgb) > 500, "{} drawn on top", s.key);
            assert_eq!(pixels_in_rows(&rgb, w, h / 2..h, s.rgb), 0, "{} not below", s.key);
        }
        for s in RATES {
            assert!(pixels_in_rows(&rgb, w, h / 2..h, s.rgb) > 500, "{} drawn below", s.key);
            assert_eq!(pixels_in_rows(&rgb, w, 0..h / 2, s.rgb), 0, "{} not on top", s.key);
        }
        assert!(pixels_of(&rgb, (255, 255, 255)) > rgb.len() / 3 / 2, "mostly background");
    }

    #[test]
    fn the_same_days_give_the_same_bytes() {
        assert_eq!(render(&fortnight()).unwrap().png, render(&fortnight()).unwrap().png);
    }

    #[test]
    fn a_day_without_a_rate_is_a_gap_not_a_zero() {
        // Transfer rate on days 1–2 and 4–5, none on day 3: two short lines, and nothing at
        // the bottom of the panel where a 0 would be drawn.
        let mut days: Vec<(NaiveDate, Kpis)> = (1..=5)
            .map(|d| (date(d), Kpis { transfer_rate: Some(0.5), sessions: 10, ..Kpis::default() }))
            .collect();
        days[2].1.transfer_rate = None;
        let (w, h, rgb) = decode(&render(&days).unwrap().png);
        let orange = RATES[2].rgb;
        let panel_bottom = h - MARGIN - 4 * DENSITY..h;
        assert_eq!(pixels_in_rows(&rgb, w, panel_bottom, orange), 0, "no point at 0");
        // Across the middle of the gap (day 3, x = 2 of -0.5..4.5) no column holds the colour.
        let x = |day: f64| (MARGIN as f64 + (day + 0.5) / 5.0 * f64::from(w - 2 * MARGIN)) as u32;
        let column_has = |cx: u32| {
            (h / 2..h).any(|y| {
                let i = ((y * w + cx) * 3) as usize;
                (rgb[i], rgb[i + 1], rgb[i + 2]) == orange
            })
        };
        assert!(column_has(x(0.5)) && column_has(x(3.5)), "the lines either side are drawn");
        assert!(!column_has(x(1.6)) && !column_has(x(2.4)), "the gap is empty");
    }

    #[test]
    fn runs_break_at_gaps_and_keep_lone_points_for_the_dots() {
        let p = |x: f64| Some((x, 0.5));
        let points = [p(0.0), p(1.0), None, p(3.0), None, None, p(6.0), p(7.0), p(8.0)];
        let runs = runs(&points);
        assert_eq!(runs, [vec![(0.0, 0.5), (1.0, 0.5)], vec![(6.0, 0.5), (7.0, 0.5), (8.0, 0.5)]]);
        assert!(super::runs(&[None, None]).is_empty());
    }

    #[test]
    fn all_zero_days_one_day_and_no_days_render() {
        let zeros: Vec<(NaiveDate, Kpis)> = (1..=7).map(|d| (date(d), Kpis::default())).collect();
        let chart = render(&zeros).unwrap();
        assert_eq!((chart.count_top, chart.count_step), (1, 1));
        let (_, _, rgb) = decode(&chart.png);
        // Both counts are 0: the sessions line, drawn last, covers the messages line.
        assert!(pixels_of(&rgb, COUNTS[1].rgb) > 0, "the zero line is drawn");
        assert_eq!(pixels_of(&rgb, RATES[0].rgb), 0, "no rate without a denominator");

        let one = [(date(22), Kpis { messages: 7, sessions: 3, kb_hit_rate: Some(1.0), ..Kpis::default() })];
        let (w, h, rgb) = decode(&render(&one).unwrap().png);
        assert_eq!((w, h), (WIDTH * DENSITY, HEIGHT * DENSITY));
        assert!(pixels_of(&rgb, COUNTS[0].rgb) > 0 && pixels_of(&rgb, RATES[0].rgb) > 0, "dots");

        let (w, h, _) = decode(&render(&[]).unwrap().png);
        assert_eq!((w, h), (WIDTH * DENSITY, HEIGHT * DENSITY));
    }

    #[test]
    fn out_of_range_and_huge_values_do_not_panic() {
        let k = Kpis {
            messages: i64::MAX,
            sessions: -5,
            kb_hit_rate: Some(f64::NAN),
            self_resolution_rate: Some(7.0),
            transfer_rate: Some(f64::NEG_INFINITY),
            ..Kpis::default()
        };
        render(&[(date(1), k.clone()), (date(2), k)]).unwrap();
    }

    #[test]
    fn the_count_scale_is_round() {
        assert_eq!(count_scale(0), (1, 1));
        assert_eq!(count_scale(3), (3, 1));
        assert_eq!(count_scale(4), (4, 1));
        assert_eq!(count_scale(5), (6, 2));
        assert_eq!(count_scale(123), (150, 50));
        assert_eq!(count_scale(200), (200, 50));
        assert_eq!(count_scale(201), (300, 100));
        assert_eq!(count_scale(4_321), (6_000, 2_000));
        let (top, step) = count_scale(i64::MAX);
        assert!(top >= step && step > 0);
    }
}
