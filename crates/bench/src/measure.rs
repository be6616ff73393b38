//! The measuring process: it opens a store that already holds a season and
//! times what a device does with it, so that its peak memory is the
//! store's alone (generating the season, in the parent, would swamp it).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use maraude_core::Lang;
use maraude_core::antenna::{PlaceKind, Role};
use maraude_core::entry::{Composition, EntryContent, NewEntry, Quantity};
use maraude_core::ids::{ItemId, Nickname, PlaceId};
use maraude_core::shift::{NewShift, ShiftEnd, ShiftKind};
use maraude_store::Store;
use serde::{Deserialize, Serialize};

/// Opens timed (each derives the key with Argon2id).
const OPENS: usize = 5;
/// Period reports over the whole season.
const PERIOD_REPORTS: usize = 10;
/// Night reports, each on a different shift spread over the season.
const NIGHT_REPORTS: usize = 50;
/// Entries a shift gets before the bench ends it and starts another, as a
/// real night would (a document's size weighs on each log).
const ENTRIES_PER_BENCH_SHIFT: usize = 100;
/// The baseline row: about what one entry's JSON weighs.
const BARE_ROW_BYTES: usize = 300;

/// Raw samples in milliseconds, and what the store holds; the parent
/// computes medians and compares with the targets.
#[derive(Debug, Serialize, Deserialize)]
pub struct Measures {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub shifts: i64,
    pub entries: i64,
    pub documents: i64,
    pub chunks: i64,
    pub chunk_bytes: i64,
    /// Main file and write-ahead log, after a checkpoint.
    pub file_bytes: u64,
    pub open_ms: Vec<f64>,
    pub period_ms: Vec<f64>,
    /// Parts of the period report a caller can time from outside the
    /// store: reading the antenna, reading the season's shifts.
    pub period_antenna_ms: Vec<f64>,
    pub period_shifts_ms: Vec<f64>,
    pub night_ms: Vec<f64>,
    pub log_ms: Vec<f64>,
    pub bare_insert_ms: Vec<f64>,
    /// Peak resident memory (VmHWM) after each stage, in KiB.
    pub peak_after_open_kib: u64,
    pub peak_after_reports_kib: u64,
    pub peak_after_logs_kib: u64,
}

pub fn run(path: &Path, passphrase: &str, logs: usize) -> Result<Measures> {
    let pass = || maraude_store::Passphrase::new(passphrase.to_string());
    let mut open_ms = Vec::with_capacity(OPENS);
    for _ in 0..OPENS {
        let t = Instant::now();
        let store =
            Store::open(path, &pass()).with_context(|| format!("opening {}", path.display()))?;
        open_ms.push(ms(t));
        drop(store);
    }
    let mut store = Store::open(path, &pass())?;
    let peak_after_open_kib = peak_rss_kib()?;

    store.checkpoint()?;
    let stats = store.stats()?;
    let all = store.shifts(day(1970, 1, 1), day(9999, 12, 31))?;
    let (Some(newest), Some(oldest)) = (all.first(), all.last()) else {
        bail!("{} holds no shift: nothing to measure", path.display());
    };
    let (first_day, last_day) = (oldest.date, newest.date);

    let mut period_ms = Vec::with_capacity(PERIOD_REPORTS);
    let mut period_antenna_ms = Vec::with_capacity(PERIOD_REPORTS);
    let mut period_shifts_ms = Vec::with_capacity(PERIOD_REPORTS);
    for _ in 0..PERIOD_REPORTS {
        let t = Instant::now();
        black_box(store.period_report(first_day, last_day, Lang::Fr)?);
        period_ms.push(ms(t));
        let t = Instant::now();
        black_box(store.antenna()?);
        period_antenna_ms.push(ms(t));
        let t = Instant::now();
        black_box(store.shifts(first_day, last_day)?);
        period_shifts_ms.push(ms(t));
    }

    let step = (all.len() / NIGHT_REPORTS).max(1);
    let mut night_ms = Vec::with_capacity(NIGHT_REPORTS);
    for shift in all.iter().step_by(step).take(NIGHT_REPORTS) {
        let t = Instant::now();
        black_box(store.night_report(&shift.id, Lang::Fr)?);
        night_ms.push(ms(t));
    }
    drop(all);
    let peak_after_reports_kib = peak_rss_kib()?;

    let dir = path.parent().unwrap_or(Path::new("."));
    let mut bare = BareSqlite::create(&dir.join("bare-baseline.sqlite"))?;
    let (log_ms, bare_insert_ms) = log_entries(&mut store, &mut bare, logs)?;
    let peak_after_logs_kib = peak_rss_kib()?;

    Ok(Measures {
        first_day,
        last_day,
        shifts: stats.shifts,
        entries: stats.entries,
        documents: stats.documents,
        chunks: stats.chunks,
        chunk_bytes: stats.chunk_bytes,
        file_bytes: stats.file_bytes,
        open_ms,
        period_ms,
        period_antenna_ms,
        period_shifts_ms,
        night_ms,
        log_ms,
        bare_insert_ms,
        peak_after_open_kib,
        peak_after_reports_kib,
        peak_after_logs_kib,
    })
}

/// A night's quick logging, entry after entry, each durable before the
/// next; a bare SQLite commit after each, so both see the same disk.
fn log_entries(
    store: &mut Store,
    bare: &mut BareSqlite,
    logs: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let antenna = store.antenna()?;
    let lead: Nickname = antenna
        .volunteers
        .iter()
        .find(|(_, v)| v.role == Role::Lead)
        .map(|(n, _)| n.clone())
        .context("the store's antenna has no lead to log with")?;
    let places: Vec<PlaceId> = antenna
        .places
        .iter()
        .filter(|(_, p)| p.kind == PlaceKind::LivingPlace)
        .map(|(id, _)| id.clone())
        .collect();
    let items: Vec<(ItemId, i64)> = [
        ("blanket", 1),
        ("tea_coffee", 40),
        ("socks", 3),
        ("hygiene_kit_men", 2),
        ("sleeping_bag", 1),
        ("power_bank", 6),
    ]
    .into_iter()
    .map(|(slug, q)| Ok((antenna.item(slug)?, q)))
    .collect::<Result<_, maraude_core::Invalid>>()?;

    let mut log_ms = Vec::with_capacity(logs);
    let mut bare_ms = Vec::with_capacity(logs);
    let mut shift = None;
    for i in 0..logs {
        let id = match shift {
            Some(id) if i % ENTRIES_PER_BENCH_SHIFT != 0 => id,
            previous => {
                if let Some(id) = previous {
                    store.end_shift(&id, end())?;
                }
                let started = store.start_shift(NewShift {
                    kind: ShiftKind::NightMaraude,
                    started_at: None,
                    lead: lead.clone(),
                    team: Default::default(),
                    vehicle: Some("Van blanc".into()),
                    stock_loaded: Default::default(),
                })?;
                shift = Some(started.id);
                started.id
            }
        };
        let (item, quantity) = &items[i % items.len()];
        let entry = NewEntry {
            at: None,
            place: places.get(i % places.len().max(1)).cloned(),
            content: EntryContent::Distribution {
                what: None,
                item: item.clone(),
                size: None,
                quantity: Quantity::new(*quantity)?,
                people: None,
                composition: Composition::default(),
            },
        };
        let t = Instant::now();
        store.log(&id, &lead, entry)?;
        log_ms.push(ms(t));
        let t = Instant::now();
        bare.insert(i)?;
        bare_ms.push(ms(t));
    }
    if let Some(id) = shift {
        store.end_shift(&id, end())?;
    }
    Ok((log_ms, bare_ms))
}

fn end() -> ShiftEnd {
    ShiftEnd {
        ended_at: None,
        stock_returned: Default::default(),
        handover: String::new(),
    }
}

/// The least a durable write can cost here: one row, one commit, in an
/// unencrypted SQLite file with the store's journal settings.
#[derive(Debug)]
struct BareSqlite {
    conn: rusqlite::Connection,
}

impl BareSqlite {
    fn create(path: &Path) -> Result<Self> {
        let conn = rusqlite::Connection::open(path)
            .with_context(|| format!("creating the baseline {}", path.display()))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
        )?;
        Ok(Self { conn })
    }

    fn insert(&mut self, i: usize) -> Result<()> {
        let mut body = format!("{{\"n\":{i},\"kind\":\"distribution\",\"item\":\"blanket\"}}");
        body.extend(std::iter::repeat_n(
            ' ',
            BARE_ROW_BYTES.saturating_sub(body.len()),
        ));
        let tx = self.conn.transaction()?;
        tx.execute("INSERT INTO rows (body) VALUES (?1)", [body.as_bytes()])?;
        tx.commit()?;
        Ok(())
    }
}

/// The process's peak resident set (VmHWM), in KiB.
pub fn peak_rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("reading /proc/self/status (peak memory is measured on Linux only)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM line in /proc/self/status")
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}
