//! Night and period reports, as text, JSON or CSV.

use anyhow::Result;
use chrono::{Datelike, NaiveDate, Utc};
use clap::{Subcommand, ValueEnum};
use maraude_core::report;

use crate::{Ctx, output, shifts};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// The summary to paste into the team's messaging group.
    Text,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The night's log on one screen: for the lead at the end of a shift.
    Night {
        /// Default: the current shift, else the latest one.
        #[arg(long)]
        shift: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Totals and monthly trends over a date range.
    Period {
        /// First day (YYYY-MM-DD). Default: the first of this month.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (YYYY-MM-DD). Default: today.
        #[arg(long)]
        to: Option<NaiveDate>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

fn format(ctx: &Ctx, f: Format) -> Format {
    if ctx.json { Format::Json } else { f }
}

pub fn run(ctx: &Ctx, c: ReportCommand) -> Result<()> {
    let store = ctx.open()?;
    match c {
        ReportCommand::Night { shift, format: f } => {
            let id = shifts::pick_for_review(&store, shift.as_deref())?;
            let r = store.night_report(&id, ctx.lang)?;
            match format(ctx, f) {
                Format::Text => output::print(&report::night_text(&r, ctx.lang))?,
                Format::Json => output::print(&format!("{}\n", serde_json::to_string_pretty(&r)?))?,
                Format::Csv => output::print(&report::night_csv(&r))?,
            }
        }
        ReportCommand::Period {
            from,
            to,
            format: f,
        } => {
            let today = maraude_core::time::paris_date(Utc::now());
            let to = to.unwrap_or(today);
            let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
            if to < from {
                anyhow::bail!("--to ({to}) is before --from ({from})");
            }
            let r = store.period_report(from, to, ctx.lang)?;
            match format(ctx, f) {
                Format::Text => output::print(&report::period_text(&r, ctx.lang))?,
                Format::Json => output::print(&format!("{}\n", serde_json::to_string_pretty(&r)?))?,
                Format::Csv => output::print(&report::period_csv(&r))?,
            }
        }
    }
    Ok(())
}
