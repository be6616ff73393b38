//! Export, import and the demo season.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, ValueEnum};
use maraude_core::import;

use crate::reports::Format;
use crate::{Ctx, output};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum What {
    /// Entries as anonymous rows (one per entry), over --from/--to.
    Entries,
    Catalogue,
    Places,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    what: What,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    #[arg(long)]
    from: Option<NaiveDate>,
    #[arg(long)]
    to: Option<NaiveDate>,
    /// Write to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// catalogue or places
    #[arg(value_enum)]
    what: What,
    /// A .csv file (catalogue: id,fr,en[,sizes separated by ;] — places:
    /// id,name[,kind]) or a .json file as `maraude export` writes it.
    file: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The demo antenna's name.
    #[arg(long, default_value = "Calais (démo)")]
    antenna: String,
    /// How many shifts: about 1,000 make a year.
    #[arg(long, default_value_t = 120)]
    shifts: usize,
    /// Entries per shift, on average.
    #[arg(long, default_value_t = 100)]
    entries_per_shift: usize,
    /// The same seed gives the same season.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// The first day (YYYY-MM-DD); by default the season ends yesterday (or
    /// a day or two before, when the shifts do not fill whole days).
    #[arg(long)]
    start: Option<NaiveDate>,
}

pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<()> {
    let store = ctx.open()?;
    let antenna = store.antenna()?;
    let format = if ctx.json { Format::Json } else { a.format };
    let text = match (a.what, format) {
        (_, Format::Text) => bail!("export writes csv or json; use `maraude report` for text"),
        (What::Entries, f) => {
            let to =
                a.to.unwrap_or_else(|| maraude_core::time::paris_date(Utc::now()));
            let from = a.from.unwrap_or(NaiveDate::MIN);
            let mut rows = Vec::new();
            store.for_each_row(from, to, |r| rows.push(r.clone()))?;
            rows.sort_by_key(|r| (r.at, r.entry));
            if f == Format::Json {
                serde_json::to_string_pretty(&rows)?
            } else {
                maraude_core::report::entries_csv(&rows)
            }
        }
        (What::Catalogue, Format::Json) => serde_json::to_string_pretty(&antenna.catalogue)?,
        (What::Places, Format::Json) => serde_json::to_string_pretty(&antenna.places)?,
        (What::Catalogue, _) => maraude_core::report::catalogue_csv(&antenna),
        (What::Places, _) => maraude_core::report::places_csv(&antenna),
    };
    match a.out {
        Some(path) => {
            std::fs::write(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            output::done(
                ctx,
                &format!("Written to {}", path.display()),
                &serde_json::json!({
                    "written": path.display().to_string(),
                    "bytes": text.len(),
                }),
            )
        }
        None => output::print(&text),
    }
}

/// The file's text, read no further than an import takes: a huge file
/// (a wrong one) is refused, not read whole into memory.
fn read_import(path: &Path) -> Result<String> {
    let cannot_read = || format!("cannot read {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot_read)?;
    let mut bytes = Vec::new();
    file.take(import::MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(cannot_read)?;
    if bytes.len() > import::MAX_BYTES {
        let too_large = import::ImportError::TooLarge {
            max: import::MAX_BYTES,
        };
        bail!("{}: {too_large}", path.display());
    }
    String::from_utf8(bytes).with_context(|| {
        format!(
            "cannot read {}: not UTF-8 text; save it as UTF-8 (\"CSV UTF-8\" in a spreadsheet)",
            path.display()
        )
    })
}

/// JSON for a `.json` file; any other is read as CSV.
fn format_of(path: &Path) -> import::Format {
    let json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json {
        import::Format::Json
    } else {
        import::Format::Csv
    }
}

pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    let in_file =
        |e: import::ImportError| anyhow::Error::new(e).context(a.file.display().to_string());
    let (n, what) = match a.what {
        What::Entries => {
            bail!("entries arrive by sync, not by import; import takes catalogue or places")
        }
        What::Catalogue => {
            let text = read_import(&a.file)?;
            let items = import::catalogue(&text, format_of(&a.file)).map_err(in_file)?;
            let n = items.len();
            ctx.open()?.update_antenna(|antenna| {
                // An item already there keeps its position on the
                // quick-log screen; a new one comes last.
                for (id, mut item) in items {
                    item.order = antenna
                        .catalogue
                        .get(&id)
                        .map(|i| i.order)
                        .unwrap_or(antenna.catalogue.len() as u32);
                    antenna.catalogue.insert(id, item);
                }
                Ok(())
            })?;
            (n, "items")
        }
        What::Places => {
            let text = read_import(&a.file)?;
            let places = import::places(&text, format_of(&a.file)).map_err(in_file)?;
            let n = places.len();
            ctx.open()?.update_antenna(|antenna| {
                antenna.places.extend(places);
                Ok(())
            })?;
            (n, "places")
        }
    };
    output::done(
        ctx,
        &format!("{n} {what} imported"),
        &serde_json::json!({ "imported": n }),
    )
}

pub fn demo(ctx: &Ctx, a: DemoArgs) -> Result<()> {
    let path = ctx.store_path()?;
    if path.exists() {
        bail!(
            "{} exists; the demo fills a new store: choose another --store",
            path.display()
        );
    }
    // The season ends yesterday unless told otherwise, so that the demo's
    // follow-ups and last nights look like this week's.
    let plan = match a.start {
        Some(start) => maraude_demo::SeasonPlan::shifts(a.shifts, start, a.seed),
        None => maraude_device::demo::ending_yesterday(a.shifts, a.seed, Utc::now()),
    };
    let plan = maraude_demo::SeasonPlan {
        entries_per_shift: a.entries_per_shift,
        ..plan
    };
    let (store, season) =
        maraude_device::demo::create(&path, &crate::passphrase(true)?, &a.antenna, &plan)?;
    let (shifts, entries, cases) = (season.shifts, season.entries, season.cases);
    let stats = store.stats()?;
    let record = serde_json::json!({
        "store": path.display().to_string(),
        "antenna": a.antenna,
        "first_day": season.first_day,
        "last_day": season.last_day,
        "shifts": shifts,
        "entries": entries,
        "cases": cases,
        "stats": stats,
    });
    output::done(
        ctx,
        &format!(
            "Demo antenna {} at {}: {shifts} shifts from {} to {}, {entries} entries, {cases} cases ({} KiB)",
            a.antenna,
            path.display(),
            season.first_day,
            season.last_day,
            stats.file_bytes / 1024
        ),
        &record,
    )
}
