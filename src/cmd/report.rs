//! `itstat report`: the KPIs of a period in the requested formats.

use crate::cli::{ReportArgs, ReportFormat};
use crate::config::Settings;
use crate::report::{self, json, period::Period};
use crate::warehouse::{OpenMode, Warehouse};

/// Runs `itstat report`.
pub async fn run(settings: &Settings, args: &ReportArgs) -> anyhow::Result<()> {
    let today = crate::clock::now().with_timezone(&settings.tz).date_naive();
    let period =
        Period::resolve(args.period, args.date.as_deref(), args.from.as_deref(), args.to.as_deref(), today)?;
    let wh = Warehouse::open(&settings.warehouse_url, OpenMode::ExistingOnly).await?;
    let data = report::build(&wh, settings.tz, &settings.rules.timezone, period).await?;
    for format in &args.format {
        match format {
            ReportFormat::Json => println!("{}", json::render(&data)),
        }
    }
    wh.close().await;
    Ok(())
}
