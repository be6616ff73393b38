//! # maraude-sync-bench
//!
//! Measures sync with the base server against the targets of issue #4, on
//! loopback: a real `maraude-server` process, devices with their own
//! encrypted stores syncing through the same library calls as
//! `maraude sync`, and a TCP proxy in between that counts the wire bytes.
//!
//! For each scenario it reports the wire bytes beside the physical floor —
//! the JSON, and the gzip'ed JSON, of the entries each side did not have —
//! and the time. Scenarios, in the order they run on one antenna:
//!
//! 1. night: three devices log 100 entries each offline in the same
//!    shift, then sync one after the other; then they catch up with each
//!    other;
//! 2. +50 entries on one device, synced;
//! 3. no-op: the same device syncs again;
//! 4. season: ten devices log 1,000 entries each over ten past shifts,
//!    then sync one after the other;
//! 5. no-op with a whole season held;
//! 6. a fresh device pulls the season (three of them, the median);
//! 7. fifty devices sync at once: errors, time, the server's peak memory.
//!
//! `--crowd-only` runs the last one alone (`crowd`), with hundreds of
//! devices, against one server or several on one PostgreSQL database.
//!
//! Build both binaries in release: `scripts/bench-sync.sh`.

mod crowd;
mod device;
mod floor;
mod proxy;
mod server;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Duration, Utc};
use maraude_core::access::Role;
use maraude_core::entry::Entry;
use maraude_core::ids::EntryId;
use maraude_demo::demo_antenna;
use serde::Serialize;

use device::Device;
use floor::Floor;
use proxy::{Proxy, Wire};
use server::Server;

const HELP: &str = "\
maraude-sync-bench: measure sync with the base server on loopback.

USAGE:
    scripts/bench-sync.sh [OPTIONS]
    (builds maraude-server and this bench in release, then runs it)

OPTIONS:
    --quick        a smoke run: season of 3 x 200 entries, 10 devices at once
    --crowd N      devices syncing at once, 20 entries each (default 50)
    --per-antenna K  with --crowd-only: the devices are the tablets of
                   antennas of K tablets each (default 20; --per-antenna N
                   puts them all in one antenna, the worst case)
    --cold         with --crowd-only: the servers restart once the tablets
                   are ready, so that the crowd opens every antenna again
    --crowd-only   only that scenario, with the time of each device (median,
                   p95), the servers' peak memory and CPU seconds
    --database URL with --crowd-only: the servers keep everything in this
                   PostgreSQL database (an empty one)
    --servers K    with --database: K servers behind a load balancer
                   without sticky sessions (default 1)
    --out FILE     also write the figures as JSON to FILE
    --trace        print every read crossing the proxy (about one per
                   message), its time since the start, and the HTTP
                   request and status lines
    -h, --help     this help";

#[derive(Debug, Clone, Copy)]
struct Plan {
    night: usize,
    incremental: usize,
    season_devices: usize,
    season_entries: usize,
    crowd: usize,
    crowd_entries: usize,
}

impl Plan {
    const FULL: Plan = Plan {
        night: 100,
        incremental: 50,
        season_devices: 10,
        season_entries: 1000,
        crowd: 50,
        crowd_entries: 20,
    };
    const QUICK: Plan = Plan {
        season_devices: 3,
        season_entries: 200,
        crowd: 10,
        ..Plan::FULL
    };
}

/// One scenario's figures.
#[derive(Debug, Serialize)]
struct Row {
    scenario: String,
    wire: Wire,
    floor: Floor,
    millis: u64,
    target: &'static str,
    met: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Report {
    rows: Vec<Row>,
    crowd_devices: usize,
    crowd_errors: usize,
    server_peak_kib_crowd: u64,
    server_peak_kib_run: u64,
}

fn main() -> Result<()> {
    let mut plan = Plan::FULL;
    let mut out: Option<PathBuf> = None;
    let mut trace = false;
    let mut crowd_only = false;
    let mut crowd: Option<usize> = None;
    let mut database: Option<String> = None;
    let mut servers = 1;
    let mut per_antenna = crowd::PER_ANTENNA;
    let mut cold = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => plan = Plan::QUICK,
            "--crowd" => crowd = Some(args.next().context("--crowd needs a number")?.parse()?),
            "--crowd-only" => crowd_only = true,
            "--database" => database = Some(args.next().context("--database needs a URL")?),
            "--servers" => servers = args.next().context("--servers needs a number")?.parse()?,
            "--per-antenna" => {
                per_antenna = args
                    .next()
                    .context("--per-antenna needs a number")?
                    .parse()?;
                if per_antenna == 0 {
                    bail!("--per-antenna needs at least 1 tablet");
                }
            }
            "--cold" => cold = true,
            "--trace" => trace = true,
            "--out" => out = Some(args.next().context("--out needs a file")?.into()),
            "-h" | "--help" => {
                println!("{HELP}");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n\n{HELP}"),
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; its figures mean nothing (use scripts/bench-sync.sh)");
    }
    if let Some(n) = crowd {
        plan.crowd = n;
    }
    if servers > 1 && database.is_none() {
        bail!("--servers needs --database: servers share one only through PostgreSQL");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if crowd_only {
        let report = runtime.block_on(crowd::run(
            crowd::Crowd {
                devices: plan.crowd,
                per_antenna,
                entries: plan.crowd_entries,
                cold,
            },
            database,
            servers,
        ));
        drop(runtime);
        device::wait_for_stores();
        let report = report?;
        report.print();
        if let Some(path) = out {
            std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if report.errors > 0 {
            bail!("{} of {} devices failed", report.errors, report.devices);
        }
        return Ok(());
    }
    let report = runtime.block_on(run(plan, trace));
    // The devices' stores close on their own threads: not under exit.
    drop(runtime);
    device::wait_for_stores();
    let report = report?;
    print(&report);
    if let Some(path) = out {
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if report.crowd_errors > 0 {
        bail!(
            "{} of {} devices syncing at once failed",
            report.crowd_errors,
            report.crowd_devices
        );
    }
    Ok(())
}

/// Everything the server holds, as far as the bench knows: what each
/// device had when it last synced.
#[derive(Debug, Default)]
struct ServerHas(HashSet<EntryId>);

struct Bench {
    proxy: Proxy,
    server_has: ServerHas,
}

impl Bench {
    /// Sync `devices` one after the other, and measure.
    async fn syncs(&mut self, devices: &[&Device]) -> Result<(Wire, Floor, u64)> {
        let mut payload = 0;
        let mut before = Vec::new();
        for d in devices {
            before.push(d.entries().await?);
        }
        self.proxy.take();
        let started = Instant::now();
        for d in devices {
            let summary = d.sync().await?;
            payload += summary.bytes_sent + summary.bytes_received;
        }
        eprintln!("  sync payload {payload} B (before deflate)");
        let millis = started.elapsed().as_millis() as u64;
        let wire = self.proxy.take();
        let mut floor = Floor::default();
        for (d, before) in devices.iter().zip(&before) {
            let after = d.entries().await?;
            floor.received(before, &after);
            let uploaded: Vec<&Entry> = before
                .iter()
                .filter(|(id, _)| !self.server_has.0.contains(id))
                .map(|(_, e)| e)
                .collect();
            floor.add(&uploaded);
            self.server_has.0.extend(after.keys().copied());
        }
        Ok((wire, floor, millis))
    }
}

async fn run(plan: Plan, trace: bool) -> Result<Report> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server"))?;
    let proxy = Proxy::start(server.addr, trace).await?;
    let url = format!("http://{}", proxy.addr);
    let mut bench = Bench {
        proxy,
        server_has: ServerHas::default(),
    };
    let mut rows = Vec::new();
    let antenna = demo_antenna("Calais")?;
    let now = Utc::now();

    eprintln!("night: 3 devices x {} entries", plan.night);
    let coordinator = Device::coordinator(dir.path(), &url, &antenna).await?;
    let mut team = vec![coordinator];
    for i in 1..3 {
        team.push(
            Device::enrolled(dir.path(), &format!("lead-{i}"), &url, &team[0], Role::Lead).await?,
        );
    }
    let night = team[0].start_shift(now - Duration::hours(3)).await?;
    for d in &team {
        d.sync().await?;
    }
    for (i, d) in team.iter().enumerate() {
        d.log(night, plan.night, now - Duration::hours(3), i as u64)
            .await?;
    }
    let three: Vec<&Device> = team.iter().collect();
    let (wire, floor, millis) = bench.syncs(&three).await?;
    rows.push(Row {
        scenario: format!("night upload, 3 x {} (one after the other)", plan.night),
        wire,
        floor,
        millis,
        target: "<= 2x gzip floor",
        met: Some(wire.total() <= 2 * floor.gzip),
    });
    let (wire, floor, millis) = bench.syncs(&three).await?;
    rows.push(Row {
        scenario: "night: the three catch up with each other".into(),
        wire,
        floor,
        millis,
        target: "<= 2x gzip floor",
        met: Some(wire.total() <= 2 * floor.gzip),
    });

    eprintln!("incremental and no-op");
    team[0]
        .log(night, plan.incremental, now - Duration::minutes(60), 99)
        .await?;
    let (wire, floor, millis) = bench.syncs(&three[..1]).await?;
    rows.push(Row {
        scenario: format!("+{} entries after a full sync", plan.incremental),
        wire,
        floor,
        millis,
        target: "<= 8 KB",
        met: Some(wire.total() <= 8 * 1024),
    });
    let (wire, floor, millis) = bench.syncs(&three[..1]).await?;
    rows.push(Row {
        scenario: "no-op reconnect after a night".into(),
        wire,
        floor,
        millis,
        target: "<= 2 KB, one round trip",
        met: Some(wire.total() <= 2048 && wire.connections == 1),
    });

    eprintln!(
        "season: {} devices x {} entries",
        plan.season_devices, plan.season_entries
    );
    for i in team.len()..plan.season_devices {
        team.push(
            Device::enrolled(dir.path(), &format!("lead-{i}"), &url, &team[0], Role::Lead).await?,
        );
        team[i].sync().await?;
    }
    let shifts_each = plan.season_entries.div_ceil(100);
    for (i, d) in team.iter().enumerate() {
        for s in 0..shifts_each {
            let days = (i * shifts_each + s + 1) as i64;
            let start = now - Duration::days(days);
            let shift = d.start_shift(start).await?;
            let n = 100.min(plan.season_entries - s * 100);
            d.log(shift, n, start, (1000 * i + s) as u64).await?;
        }
    }
    let all: Vec<&Device> = team.iter().collect();
    let (wire, floor, millis) = bench.syncs(&all).await?;
    rows.push(Row {
        scenario: format!(
            "season upload, {} x {} (one after the other)",
            plan.season_devices, plan.season_entries
        ),
        wire,
        floor,
        millis,
        target: "<= 2x gzip floor",
        met: Some(wire.total() <= 2 * floor.gzip),
    });
    // The coordinator takes the rest of the season, then reconnects.
    bench.syncs(&all[..1]).await?;
    let (wire, floor, millis) = bench.syncs(&all[..1]).await?;
    rows.push(Row {
        scenario: "no-op reconnect holding the season".into(),
        wire,
        floor,
        millis,
        target: "<= 2 KB, one round trip",
        met: Some(wire.total() <= 2048 && wire.connections == 1),
    });

    // Three fresh devices one after the other: the median, since a
    // shared machine's timings drift.
    eprintln!("fresh devices");
    let mut fresh = Vec::new();
    for i in 0..3 {
        let device = Device::enrolled(
            dir.path(),
            &format!("fresh-{i}"),
            &url,
            &team[0],
            Role::Lead,
        )
        .await?;
        fresh.push(bench.syncs(&[&device]).await?);
    }
    fresh.sort_by_key(|(_, _, millis)| *millis);
    let (wire, floor, millis) = fresh.swap_remove(1);
    rows.push(Row {
        scenario: "fresh device pulls the season (median of 3)".into(),
        wire,
        floor,
        millis,
        target: "<= 650 ms, <= 2x gzip floor",
        met: Some(millis <= 650 && wire.total() <= 2 * floor.gzip),
    });

    eprintln!("{} devices at once", plan.crowd);
    let mut crowd = Vec::new();
    for i in 0..plan.crowd {
        let d = Device::enrolled(
            dir.path(),
            &format!("tablet-{i}"),
            &url,
            &team[0],
            Role::Volunteer,
        )
        .await?;
        d.sync().await?;
        let shift = d.start_shift(now - Duration::minutes(90)).await?;
        d.log(
            shift,
            plan.crowd_entries,
            now - Duration::minutes(90),
            5000 + i as u64,
        )
        .await?;
        crowd.push(d);
    }
    let server_peak_kib_run = server.peak_kib()?;
    server.reset_peak()?;
    bench.proxy.take();
    let started = Instant::now();
    let results = futures::future::join_all(crowd.iter().map(|d| d.sync())).await;
    let millis = started.elapsed().as_millis() as u64;
    let wire = bench.proxy.take();
    let crowd_errors = results.iter().filter(|r| r.is_err()).count();
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        eprintln!("  a device's sync failed: {e:#}");
    }
    let server_peak_kib_crowd = server.peak_kib()?;
    rows.push(Row {
        scenario: format!(
            "{} devices sync at once, {} entries each",
            plan.crowd, plan.crowd_entries
        ),
        wire,
        floor: Floor::default(),
        millis,
        target: "no error",
        met: Some(crowd_errors == 0),
    });
    Ok(Report {
        rows,
        crowd_devices: plan.crowd,
        crowd_errors,
        server_peak_kib_crowd,
        server_peak_kib_run: server_peak_kib_run.max(server_peak_kib_crowd),
    })
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

fn print(report: &Report) {
    println!(
        "| scenario | wire bytes (up / down, connections) | floor: JSON / gzip (entries) | wire / gzip | time | target |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &report.rows {
        let ratio = if r.floor.gzip > 0 {
            format!("{:.2}", r.wire.total() as f64 / r.floor.gzip as f64)
        } else {
            "-".into()
        };
        let met = match r.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "| {} | {} ({} / {}, {}) | {} / {} ({}) | {} | {} ms | {} {} |",
            r.scenario,
            kb(r.wire.total()),
            kb(r.wire.up),
            kb(r.wire.down),
            r.wire.connections,
            kb(r.floor.json),
            kb(r.floor.gzip),
            r.floor.entries,
            ratio,
            r.millis,
            r.target,
            met
        );
    }
    println!(
        "\n{} devices at once: {} errors; server peak memory {:.1} MiB during it, {:.1} MiB over the whole run",
        report.crowd_devices,
        report.crowd_errors,
        report.server_peak_kib_crowd as f64 / 1024.0,
        report.server_peak_kib_run as f64 / 1024.0
    );
}
