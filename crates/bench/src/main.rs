//! # maraude-bench
//!
//! Measures the store against the performance targets of the field: a
//! volunteer's tap must be durable in a few milliseconds, the app must
//! open in half a second, the lead's night report and the coordinator's
//! yearly report must feel instant, and the whole must fit an old tablet's
//! memory.
//!
//! It writes a demo year of one antenna ([`maraude_demo`]) into an
//! encrypted store, then runs itself again (`--measure`) on a copy of that
//! store, so that the memory figure is the store's and not the demo
//! generator's. It prints a table of figures beside their targets, and
//! writes them as JSON with `--out`.
//!
//! It is wiring: the figures come from `maraude_store`'s public API only.

mod measure;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use maraude_demo::{SeasonPlan, demo_antenna, season};
use maraude_store::{Passphrase, Store};
use serde::Serialize;

use measure::Measures;

/// A benchmark store's passphrase: a constant, since nothing here is
/// secret.
const PASSPHRASE: &str = "maraude bench passphrase";

const HELP: &str = "\
maraude-bench: measure the store on a demo year of one antenna.

USAGE:
    cargo run --release -p maraude-bench -- [OPTIONS]

OPTIONS:
    --shifts N     shifts in the demo season (default 1000: a year, about
                   100,000 entries); --shifts 50 is a quick smoke run
    --seed N       the demo season's seed (default 2025)
    --logs N       entries logged one by one for the durable-log figure
                   (default 300)
    --store PATH   use the store at PATH if it exists (it is not modified:
                   the measures run on a copy), or keep the generated one
                   there; without it, the season lives in a temporary
                   directory
    --out FILE     also write the figures as JSON to FILE
    -h, --help     this help

The measures run in a child process (the same binary with --measure PATH)
so that its peak memory (VmHWM) is the store's, not the demo generator's.
Build with the release profile: debug figures mean nothing.";

#[derive(Debug)]
struct Args {
    shifts: usize,
    seed: u64,
    logs: usize,
    store: Option<PathBuf>,
    out: Option<PathBuf>,
    measure: Option<PathBuf>,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Self>> {
        let mut out = Args {
            shifts: SeasonPlan::YEAR_SHIFTS,
            seed: SeasonPlan::default().seed,
            logs: 300,
            store: None,
            out: None,
            measure: None,
        };
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("{arg} needs a value; see --help"))
            };
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--shifts" => out.shifts = number(&arg, &value()?)?,
                "--seed" => out.seed = number(&arg, &value()?)?,
                "--logs" => out.logs = number(&arg, &value()?)?,
                "--store" => out.store = Some(value()?.into()),
                "--out" => out.out = Some(value()?.into()),
                "--measure" => out.measure = Some(value()?.into()),
                _ => bail!("unknown option \"{arg}\"; see --help"),
            }
        }
        if out.shifts == 0 {
            bail!("--shifts must be at least 1");
        }
        Ok(Some(out))
    }
}

fn number<T: std::str::FromStr>(option: &str, given: &str) -> Result<T> {
    given
        .parse()
        .ok()
        .with_context(|| format!("{option} needs a whole number, got \"{given}\""))
}

fn main() -> Result<()> {
    let Some(args) = Args::parse(std::env::args().skip(1))? else {
        println!("{HELP}");
        return Ok(());
    };
    if let Some(path) = &args.measure {
        let measures = measure::run(path, PASSPHRASE, args.logs)?;
        println!("{}", serde_json::to_string(&measures)?);
        return Ok(());
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with --release for figures that mean something");
    }

    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let plan = SeasonPlan {
        shifts: args.shifts,
        seed: args.seed,
        ..SeasonPlan::default()
    };
    let (store_path, generation) = match &args.store {
        Some(path) if path.exists() => {
            eprintln!("using the store at {}", path.display());
            (path.clone(), None)
        }
        Some(path) => (path.clone(), Some(generate(path, &plan)?)),
        None => {
            let path = dir.path().join("year.maraude");
            (path.clone(), Some(generate(&path, &plan)?))
        }
    };

    let work = dir.path().join("measured.maraude");
    copy_store(&store_path, &work)?;
    eprintln!("measuring on a copy, in a child process…");
    let child = Command::new(std::env::current_exe().context("finding this program")?)
        .arg("--measure")
        .arg(&work)
        .arg("--logs")
        .arg(args.logs.to_string())
        .stderr(Stdio::inherit())
        .output()
        .context("running the measuring process")?;
    if !child.status.success() {
        bail!("the measuring process failed ({})", child.status);
    }
    let measures: Measures =
        serde_json::from_slice(&child.stdout).context("reading the measuring process's figures")?;

    let lead = dir.path().join("lead.maraude");
    copy_store(&store_path, &lead)?;
    eprintln!("minimising a copy as a lead's tablet at the end of the year…");
    let minimised = minimise_a_leads_tablet(&lead, &measures)?;

    let report = Report::new(&plan, generation, &measures, &minimised);
    report.print();
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", out.display()))?;
        eprintln!("figures written to {}", out.display());
    }
    Ok(())
}

/// How the season was made, when this run made it.
#[derive(Debug, Clone, Serialize)]
struct Generation {
    season_seconds: f64,
    insert_seconds: f64,
    shifts: usize,
    entries: usize,
    cases: usize,
    /// The generating process's peak memory: the demo's, not the store's.
    peak_rss_mib: f64,
}

/// Write the demo season into a new store at `path`.
fn generate(path: &Path, plan: &SeasonPlan) -> Result<Generation> {
    let antenna = demo_antenna("Calais")?;
    let mut store = Store::create_for(path, &Passphrase::new(PASSPHRASE.into()), &antenna)
        .with_context(|| format!("creating {}", path.display()))?;
    eprintln!("writing a season of {} shifts…", plan.shifts);
    let t = Instant::now();
    let season = season(&antenna, &store.device(), plan)?;
    let season_seconds = t.elapsed().as_secs_f64();
    eprintln!(
        "  {} shifts, {} entries, {} cases in {season_seconds:.1} s; inserting…",
        season.shifts, season.entries, season.cases
    );
    let t = Instant::now();
    store.insert_documents(season.documents)?;
    store.checkpoint()?;
    let insert_seconds = t.elapsed().as_secs_f64();
    let stats = store.stats()?;
    if stats.entries != season.entries as i64 || stats.shifts != season.shifts as i64 {
        bail!(
            "the store holds {} shifts and {} entries, the season wrote {} and {}",
            stats.shifts,
            stats.entries,
            season.shifts,
            season.entries
        );
    }
    eprintln!("  inserted in {insert_seconds:.1} s");
    Ok(Generation {
        season_seconds,
        insert_seconds,
        shifts: season.shifts,
        entries: season.entries,
        cases: season.cases,
        peak_rss_mib: mib(measure::peak_rss_kib()?),
    })
}

/// A lead's tablet the day after the demo year's last shift, once the
/// server holds everything: what `Store::minimise` leaves of it.
#[derive(Debug, Clone, Serialize)]
struct Minimising {
    shifts: usize,
    seconds: f64,
    file_bytes: u64,
    /// The year's period report on it (median of 5).
    report_ms: f64,
}

fn minimise_a_leads_tablet(path: &Path, m: &Measures) -> Result<Minimising> {
    const SERVER: &str = "server-bench";
    let mut store = Store::open(path, &Passphrase::new(PASSPHRASE.into()))?;
    let year = |s: &Store| -> Result<serde_json::Value> {
        Ok(serde_json::to_value(s.period_report(
            m.first_day,
            m.last_day,
            maraude_core::Lang::En,
        )?)?)
    };
    let mut shared = Vec::new();
    for doc in store.changed_for(SERVER)? {
        let heads = store.recorded_heads(&doc)?.unwrap_or_default();
        shared.push((doc, heads));
    }
    store.mark_shared(SERVER, &shared)?;
    let now = (m.last_day + chrono::Days::new(1))
        .and_hms_opt(12, 0, 0)
        .context("a time of day")?
        .and_utc();
    // As a sync does: retention first (closed cases), then minimising.
    store.apply_retention(now)?;
    let before = year(&store)?;
    let t = Instant::now();
    let minimised = store.minimise(now, SERVER)?;
    let seconds = t.elapsed().as_secs_f64();
    if year(&store)? != before {
        bail!("the year's period report changed once the tablet was minimised");
    }
    store.checkpoint()?;
    let mut report_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        year(&store)?;
        report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Minimising {
        shifts: minimised.shifts,
        seconds,
        file_bytes: store.stats()?.file_bytes,
        report_ms: median(&report_ms),
    })
}

/// Copy a store file and its write-ahead log, if any.
fn copy_store(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    let wal = |p: &Path| PathBuf::from(format!("{}-wal", p.display()));
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to))
            .with_context(|| format!("copying {}", wal(from).display()))?;
    }
    Ok(())
}

/// One measured figure beside its target.
#[derive(Debug, Serialize)]
struct Figure {
    key: &'static str,
    label: String,
    value: f64,
    unit: &'static str,
    /// At most this (from the performance issue).
    target: Option<f64>,
    met: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Report {
    cores: usize,
    seed: u64,
    first_day: String,
    last_day: String,
    shifts: i64,
    entries: i64,
    documents: i64,
    generation: Option<Generation>,
    figures: Vec<Figure>,
}

impl Report {
    fn new(
        plan: &SeasonPlan,
        generation: Option<Generation>,
        m: &Measures,
        minimised: &Minimising,
    ) -> Self {
        let mut figures = Vec::new();
        let mut add = |key, label: String, value: f64, unit, target: Option<f64>| {
            figures.push(Figure {
                key,
                label,
                value,
                unit,
                target,
                met: target.map(|t| value <= t),
            });
        };
        let log = median(&m.log_ms);
        let bare = median(&m.bare_insert_ms);
        let n = |v: &[f64]| v.len();
        add(
            "log_median_ms",
            format!("log one entry, durable (median of {})", n(&m.log_ms)),
            log,
            "ms",
            Some(5.0),
        );
        add(
            "log_p95_ms",
            "log one entry, durable (p95)".into(),
            percentile(&m.log_ms, 0.95),
            "ms",
            None,
        );
        add(
            "bare_insert_median_ms",
            "  baseline: bare SQLite INSERT+COMMIT (median)".into(),
            bare,
            "ms",
            None,
        );
        add(
            "bare_insert_p95_ms",
            "  baseline: bare SQLite INSERT+COMMIT (p95)".into(),
            percentile(&m.bare_insert_ms, 0.95),
            "ms",
            None,
        );
        add(
            "log_over_bare",
            "  store log / bare commit (medians)".into(),
            if bare > 0.0 { log / bare } else { 0.0 },
            "×",
            None,
        );
        add(
            "open_median_ms",
            format!("open the store, Argon2id (median of {})", n(&m.open_ms)),
            median(&m.open_ms),
            "ms",
            Some(500.0),
        );
        add(
            "period_report_median_ms",
            format!(
                "period report over the season (median of {})",
                n(&m.period_ms)
            ),
            median(&m.period_ms),
            "ms",
            Some(200.0),
        );
        add(
            "period_report_first_ms",
            "period report, the first after opening (cold cache)".into(),
            m.period_ms.first().copied().unwrap_or_default(),
            "ms",
            Some(200.0),
        );
        add(
            "period_antenna_median_ms",
            "  beside it: reading the antenna (median)".into(),
            median(&m.period_antenna_ms),
            "ms",
            None,
        );
        add(
            "period_shifts_median_ms",
            "  beside it: reading the season's shifts (median)".into(),
            median(&m.period_shifts_ms),
            "ms",
            None,
        );
        add(
            "night_report_median_ms",
            format!("night report (median over {} shifts)", n(&m.night_ms)),
            median(&m.night_ms),
            "ms",
            Some(20.0),
        );
        add(
            "night_report_p95_ms",
            "night report (p95)".into(),
            percentile(&m.night_ms, 0.95),
            "ms",
            None,
        );
        add(
            "peak_rss_mib",
            "peak memory of the measuring process (VmHWM)".into(),
            mib(m.peak_after_logs_kib),
            "MiB",
            Some(150.0),
        );
        add(
            "peak_rss_after_open_mib",
            "  peak after opening".into(),
            mib(m.peak_after_open_kib),
            "MiB",
            None,
        );
        add(
            "peak_rss_after_reports_mib",
            "  peak after the reports".into(),
            mib(m.peak_after_reports_kib),
            "MiB",
            None,
        );
        add(
            "store_mib",
            "store on disk after checkpoint (file + WAL)".into(),
            m.file_bytes as f64 / (1024.0 * 1024.0),
            "MiB",
            None,
        );
        add(
            "chunk_mib",
            "  of which Automerge chunks".into(),
            m.chunk_bytes as f64 / (1024.0 * 1024.0),
            "MiB",
            None,
        );
        add(
            "lead_store_mib",
            format!(
                "a lead's tablet once minimised ({} days in detail, {} shifts as figures)",
                maraude_core::access::DETAIL_DAYS,
                minimised.shifts
            ),
            minimised.file_bytes as f64 / (1024.0 * 1024.0),
            "MiB",
            Some(20.0),
        );
        add(
            "minimise_s",
            "  minimising it, the first time".into(),
            minimised.seconds,
            "s",
            None,
        );
        add(
            "lead_period_report_ms",
            "  the year's period report on it (median of 5)".into(),
            minimised.report_ms,
            "ms",
            Some(200.0),
        );
        Report {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            seed: plan.seed,
            first_day: m.first_day.to_string(),
            last_day: m.last_day.to_string(),
            shifts: m.shifts,
            entries: m.entries,
            documents: m.documents,
            generation,
            figures,
        }
    }

    fn print(&self) {
        println!();
        println!(
            "Maraude store benchmark: {} shifts, {} entries, {} documents ({} to {}), seed {}, {} cores",
            self.shifts,
            self.entries,
            self.documents,
            self.first_day,
            self.last_day,
            self.seed,
            self.cores
        );
        if let Some(g) = &self.generation {
            println!(
                "demo season written in {:.1} s, inserted in {:.1} s (generator peak memory {:.0} MiB)",
                g.season_seconds, g.insert_seconds, g.peak_rss_mib
            );
        }
        println!();
        let width = self
            .figures
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(0);
        println!("{:width$}  {:>12}  {:>10}", "figure", "measured", "target");
        println!("{}", "-".repeat(width + 34));
        for f in &self.figures {
            let value = format!("{} {}", shown(f.value), f.unit);
            let target = f
                .target
                .map(|t| format!("≤ {} {}", shown(t), f.unit))
                .unwrap_or_default();
            let verdict = match f.met {
                Some(true) => "ok",
                Some(false) => "MISSED",
                None => "",
            };
            println!("{:width$}  {value:>12}  {target:>10}  {verdict}", f.label);
        }
        let missed: Vec<&str> = self
            .figures
            .iter()
            .filter(|f| f.met == Some(false))
            .map(|f| f.key)
            .collect();
        println!();
        if missed.is_empty() {
            println!("every target met");
        } else {
            println!("targets missed: {}", missed.join(", "));
        }
    }
}

fn shown(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

/// The nearest-rank percentile; 0 for no samples.
fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use maraude_core::Lang;
    use maraude_core::ids::DeviceId;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(median(&v), 50.0);
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn options_are_read_and_mistakes_named() {
        let parse = |s: &str| Args::parse(s.split_whitespace().map(str::to_string));
        let a = parse("--shifts 50 --out f.json")
            .expect("valid options")
            .expect("not --help");
        assert_eq!((a.shifts, a.logs), (50, 300));
        assert_eq!(a.out, Some(PathBuf::from("f.json")));
        let err = parse("--shifts fifty")
            .expect_err("not a number")
            .to_string();
        assert!(err.contains("--shifts needs a whole number"), "{err}");
        assert!(parse("--help").expect("help").is_none());
    }

    /// The demo's totals, counted as it wrote the season, are what the
    /// store reports once the documents are inserted.
    #[test]
    fn a_demo_fortnight_inserted_in_a_store_reports_its_expected_totals() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let antenna = demo_antenna("Calais").expect("a valid name");
        let mut store = Store::create_for(
            &dir.path().join("calais.maraude"),
            &Passphrase::new(PASSPHRASE.into()),
            &antenna,
        )
        .expect("a new store");
        let plan = SeasonPlan {
            shifts: 40,
            entries_per_shift: 20,
            ..SeasonPlan::default()
        };
        let s = season(&antenna, &DeviceId::new(), &plan).expect("a season");
        store
            .insert_documents(s.documents)
            .expect("documents inserted");
        let stats = store.stats().expect("stats");
        assert_eq!(stats.entries as usize, s.entries);
        assert_eq!(stats.shifts as usize, s.shifts);
        assert_eq!(stats.open_cases as u32, s.totals.cases_still_open);

        let r = store
            .period_report(s.first_day, s.last_day, Lang::En)
            .expect("a period report");
        let t = &s.totals;
        assert_eq!(r.shifts, t.shifts());
        assert_eq!(r.shifts_by_kind, t.shifts_by_kind);
        for (item, n) in &t.distributed {
            assert_eq!(r.distributed(item.as_str()), *n, "{item}");
        }
        assert_eq!(
            r.items.iter().map(|i| i.distributed).sum::<u32>(),
            t.distributed.values().sum::<u32>()
        );
        for i in &r.items {
            assert_eq!(i.loaded, t.loaded.get(&i.item).copied().unwrap_or(0));
            assert_eq!(i.returned, t.returned.get(&i.item).copied().unwrap_or(0));
        }
        assert_eq!(r.people_met, t.people_met);
        assert_eq!(r.arrivals_people, t.arrivals_people);
        assert_eq!(
            r.incidents.values().sum::<u32>(),
            t.incidents.values().sum::<u32>()
        );
        assert_eq!(r.cases.shelter_requests_opened, t.shelter_requests);
        assert_eq!(r.cases.referrals_opened, t.referrals);
        assert_eq!(r.cases.outcomes, t.outcomes);
    }
}
