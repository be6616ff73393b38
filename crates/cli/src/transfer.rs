//! Export, import and the demo season.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use clap::{Args, ValueEnum};
use maraude_core::antenna::{CatalogueItem, Label, Place, PlaceKind};
use maraude_core::ids::{ItemId, PlaceId};
use maraude_store::Store;

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

fn is_json(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Read a CSV with a header; errors name the file and the line.
fn csv_rows(
    path: &std::path::Path,
    text: &str,
    min_columns: usize,
    columns: &str,
) -> Result<Vec<(usize, Vec<String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec =
            rec.with_context(|| format!("{}: line {line} is not valid CSV", path.display()))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if rec.len() < min_columns {
            bail!(
                "{}: line {line} has {} columns; expected {columns}",
                path.display(),
                rec.len()
            );
        }
        // What Maraude exported comes back as it was (see `read_cell`).
        rows.push((
            line,
            rec.iter()
                .map(|c| maraude_core::report::read_cell(c).to_string())
                .collect(),
        ));
    }
    if rows.is_empty() {
        bail!(
            "{}: no rows; expected a header line then {columns}",
            path.display()
        );
    }
    Ok(rows)
}

pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let json = is_json(&a.file);
    let mut store = ctx.open()?;
    let at = |line: usize| format!("{}: line {line}", a.file.display());
    match a.what {
        What::Entries => {
            bail!("entries arrive by sync, not by import; import takes catalogue or places")
        }
        What::Catalogue => {
            let items: BTreeMap<ItemId, CatalogueItem> = if json {
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{}: not a catalogue as `maraude export catalogue --format json` writes it",
                        a.file.display()
                    )
                })?
            } else {
                let mut items = BTreeMap::new();
                for (line, cols) in csv_rows(&a.file, &text, 3, "id,fr,en[,sizes]")? {
                    let id: ItemId = cols[0].parse().with_context(|| at(line))?;
                    let sizes = cols
                        .get(3)
                        .map(|s| {
                            s.split([';', ' '])
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let item = CatalogueItem {
                        label: Label {
                            fr: cols[1].clone(),
                            en: cols[2].clone(),
                        },
                        sizes,
                        active: true,
                        order: 0,
                    };
                    if items.insert(id.clone(), item).is_some() {
                        bail!("{}: item {id} appears twice", at(line));
                    }
                }
                items
            };
            for (id, item) in &items {
                item.label
                    .validate()
                    .with_context(|| format!("{}: item {id}", a.file.display()))?;
            }
            let n = items.len();
            store.update_antenna(|antenna| {
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
            output::done(
                ctx,
                &format!("{n} items imported"),
                &serde_json::json!({ "imported": n }),
            )
        }
        What::Places => {
            let places: BTreeMap<PlaceId, Place> = if json {
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{}: not places as `maraude export places --format json` writes them",
                        a.file.display()
                    )
                })?
            } else {
                let mut places = BTreeMap::new();
                for (line, cols) in csv_rows(&a.file, &text, 2, "id,name[,kind]")? {
                    let id: PlaceId = cols[0].parse().with_context(|| at(line))?;
                    let kind = match cols.get(2).filter(|k| !k.is_empty()) {
                        Some(k) => crate::entries::code::<PlaceKind>("place kind", k)
                            .with_context(|| at(line))?,
                        None => PlaceKind::LivingPlace,
                    };
                    if places
                        .insert(
                            id.clone(),
                            Place {
                                name: cols[1].clone(),
                                kind,
                                active: true,
                            },
                        )
                        .is_some()
                    {
                        bail!("{}: place {id} appears twice", at(line));
                    }
                }
                places
            };
            for (id, p) in &places {
                if p.name.trim().is_empty() {
                    bail!("{}: place {id} has no name", a.file.display());
                }
                maraude_core::limits::check_text(
                    "place name",
                    &p.name,
                    maraude_core::limits::SHORT_TEXT,
                )
                .with_context(|| format!("{}: place {id}", a.file.display()))?;
            }
            let n = places.len();
            store.update_antenna(|antenna| {
                antenna.places.extend(places);
                Ok(())
            })?;
            output::done(
                ctx,
                &format!("{n} places imported"),
                &serde_json::json!({ "imported": n }),
            )
        }
    }
}

pub fn demo(ctx: &Ctx, a: DemoArgs) -> Result<()> {
    let path = ctx.store_path()?;
    if path.exists() {
        bail!(
            "{} exists; the demo fills a new store: choose another --store",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let antenna = maraude_demo::demo_antenna(&a.antenna)?;
    // The season ends yesterday unless told otherwise, so that the demo's
    // follow-ups and last nights look like this week's.
    let plan = match a.start {
        Some(start) => maraude_demo::SeasonPlan::shifts(a.shifts, start, a.seed),
        None => {
            let yesterday = maraude_core::time::paris_date(Utc::now()) - chrono::Duration::days(1);
            maraude_demo::SeasonPlan::ending(a.shifts, yesterday, a.seed)
        }
    };
    let plan = maraude_demo::SeasonPlan {
        entries_per_shift: a.entries_per_shift,
        ..plan
    };
    let mut store = Store::create_for(&path, &crate::passphrase(true)?, &antenna)?;
    let season = maraude_demo::season(&antenna, &store.device(), &plan)?;
    let (shifts, entries, cases) = (season.shifts, season.entries, season.cases);
    store.insert_documents(season.documents)?;
    store.checkpoint()?;
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
