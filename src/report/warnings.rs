//! Why a report's numbers may be incomplete: no fresh ingest, or a period that ends after the
//! data was last read (docs/alerts.md, "No silent zeros"). The rule is
//! `transform::alerts::data_warnings`; this module gathers its facts and words it. Every format
//! shows the warnings: the JSON `warnings`, the workbook's overview, the Markdown, the mail's
//! subject and body, the WeCom summary; `report --mail` logs them.

use chrono::Days;
use serde::Serialize;

use crate::calendar::Lang;
use crate::calendar::{Period, local_midnight_utc};
use crate::config::Settings;
use crate::transform::alerts::{DataWarning, Staleness, data_warnings};
use crate::transform::time::to_local;
use crate::warehouse::Warehouse;

/// One warning, as every format shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportWarning {
    /// `stale_ingest`, `period_not_covered` or `gaps_by_wording`.
    pub kind: &'static str,
    /// The sentence, in the report language.
    pub message: String,
}

/// The warnings of a report of `period` made now.
pub async fn gather(
    wh: &Warehouse,
    settings: &Settings,
    period: &Period,
    lang: Lang,
) -> anyhow::Result<Vec<ReportWarning>> {
    let tz = settings.rules.tz;
    let health = wh.ingest_health().await?;
    let now = crate::clock::now().naive_utc();
    let day_after = period.end.checked_add_days(Days::new(1)).unwrap_or(period.end);
    let end = local_midnight_utc(tz, day_after);
    let warnings = data_warnings(&health, now, end, settings.alerts.thresholds.stale_after);
    Ok(warnings
        .iter()
        .map(|w| ReportWarning { kind: w.kind(), message: wording(w, lang, tz, period) })
        .collect())
}

/// The warning of knowledge gaps grouped by wording only because the embeddings service
/// failed (docs/gaps.md).
pub fn gaps_by_wording(why: &str, lang: Lang) -> ReportWarning {
    let message = match lang {
        Lang::Zh => format!("知识缺口仅按字面分组（grouped by wording only）：{why}"),
        Lang::En => format!("Knowledge gaps grouped by wording only: {why}"),
    };
    ReportWarning { kind: "gaps_by_wording", message }
}

/// The warning of a report whose new topics could not be stored (the warehouse cannot be
/// written here, or another process holds it): their ids are provisional (docs/topics.md,
/// "Stored topics").
pub fn topics_not_stored(place: &str, why: &str, lang: Lang) -> ReportWarning {
    let message = match lang {
        Lang::Zh => format!(
            "本期新话题未能存入仓库 {place}（{why}）：它们的编号是临时的（负数），下次能写仓库时会正式编号。"
        ),
        Lang::En => format!(
            "The new topics of this report could not be stored in the warehouse {place} ({why}): their ids are provisional (negative) until a run that can write it stores them."
        ),
    };
    ReportWarning { kind: "topics_not_stored", message }
}

fn wording(w: &DataWarning, lang: Lang, tz: chrono_tz::Tz, period: &Period) -> String {
    let hours = |d: std::time::Duration| format!("{:.1}", d.as_secs_f64() / 3600.0);
    match w {
        DataWarning::Stale(Staleness::Never) => lang
            .pick(
                "还没有一次成功的数据导入：这些数字不完整。",
                "No ingest has succeeded yet: these numbers are incomplete.",
            )
            .to_string(),
        DataWarning::Stale(Staleness::Failing { failures, .. }) => match lang {
            Lang::Zh => {
                format!("最近 {failures} 次数据导入失败：这些数字可能已过时（itstat status 显示错误）。")
            }
            Lang::En => format!(
                "The last {failures} ingest run(s) failed: these numbers may be out of date (`itstat status` shows the error)."
            ),
        },
        DataWarning::Stale(Staleness::Old { since_success }) => match lang {
            Lang::Zh => {
                format!("上次成功的数据导入在 {} 小时前：这些数字可能已过时。", hours(*since_success))
            }
            Lang::En => format!(
                "The last successful ingest was {} h ago: these numbers may be out of date.",
                hours(*since_success)
            ),
        },
        DataWarning::PeriodNotCovered { read_at } => {
            let read = read_at
                .map(|t| to_local(tz, t).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "–".to_string());
            match lang {
                Lang::Zh => format!(
                    "数据最后读取于 {read}，早于统计期结束（{} 24:00）：统计期的数据不完整。",
                    period.end
                ),
                Lang::En => format!(
                    "The data was last read at {read}, before the period ends ({} 24:00): the period is not complete.",
                    period.end
                ),
            }
        }
    }
}
