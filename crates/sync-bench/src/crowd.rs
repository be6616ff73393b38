//! Many devices syncing with the server at once, as when the night's
//! shifts come back to the warehouses of a network of antennas: each
//! device's time (median, p95), errors, and what the servers spent (peak
//! memory, CPU seconds). Against one server on its embedded store, or
//! several on one PostgreSQL database behind a load balancer without
//! sticky sessions.
//!
//! Each device is a volunteer's tablet that started its own shift, so it
//! receives the other open shifts of its antenna: in one antenna of 500
//! tablets, each would pull up to 499 shifts. An antenna has about thirty
//! volunteers a day sharing a few tablets (the field guide), so the
//! devices are spread over antennas of [`PER_ANTENNA`] tablets, already
//! more than a city's; `--per-antenna` changes it.

use std::time::Instant;

use anyhow::Result;
use chrono::{Duration, Utc};
use maraude_core::access::Role;
use maraude_demo::demo_antenna;
use serde::Serialize;

use crate::device::Device;
use crate::proxy::Proxy;
use crate::server::Server;

/// Tablets per antenna by default.
pub const PER_ANTENNA: usize = 20;

/// Who syncs at once.
#[derive(Debug, Clone, Copy)]
pub struct Crowd {
    pub devices: usize,
    pub per_antenna: usize,
    /// Entries each device logged since its last sync.
    pub entries: usize,
    /// The servers restart once the tablets are ready: the crowd opens
    /// every antenna, as the first evening after a restart or an update.
    pub cold: bool,
}

#[derive(Debug, Serialize)]
pub struct CrowdReport {
    pub backend: String,
    pub servers: usize,
    pub devices: usize,
    pub antennas: usize,
    pub entries_each: usize,
    pub errors: usize,
    pub median_ms: u64,
    pub p95_ms: u64,
    pub all_done_ms: u64,
    /// The servers' peak resident memory during the crowd, added up.
    pub peak_mib: f64,
    /// The servers' CPU seconds during the crowd, added up.
    pub cpu_seconds: f64,
    /// The devices' CPU seconds during the crowd (this process's).
    pub devices_cpu_seconds: f64,
}

impl CrowdReport {
    pub fn print(&self) {
        println!(
            "| backend | servers | devices at once (antennas) | errors | per device: median / p95 | all done | servers' peak memory | servers' CPU | devices' CPU |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        println!(
            "| {} | {} | {} ({}) x {} entries | {} | {} / {} ms | {} ms | {:.0} MiB | {:.1} s | {:.1} s |",
            self.backend,
            self.servers,
            self.devices,
            self.antennas,
            self.entries_each,
            self.errors,
            self.median_ms,
            self.p95_ms,
            self.all_done_ms,
            self.peak_mib,
            self.cpu_seconds,
            self.devices_cpu_seconds
        );
    }
}

pub async fn run(crowd: Crowd, database: Option<String>, count: usize) -> Result<CrowdReport> {
    let Crowd {
        devices,
        per_antenna,
        entries,
        cold,
    } = crowd;
    let dir = tempfile::tempdir()?;
    // Every device is on this machine's address: the limits per address
    // and in all are raised to let them all in at once (two sockets each).
    let mut env = vec![
        ("MARAUDE_MAX_CONNECTIONS_PER_IP", (4 * devices).to_string()),
        ("MARAUDE_MAX_CONNECTIONS", (4 * devices).to_string()),
    ];
    if let Some(url) = &database {
        env.push(("MARAUDE_DATABASE_URL", url.clone()));
    }
    let mut servers = Vec::new();
    for i in 0..count {
        servers.push(Server::start_with(
            &dir.path().join(format!("server-{i}")),
            &env,
        )?);
    }
    let proxy = Proxy::start_balanced(servers.iter().map(|s| s.addr).collect(), false).await?;
    let url = format!("http://{}", proxy.addr);
    let now = Utc::now();
    // Each real tablet writes to its own storage; here they all share
    // this machine's disk, and 500 of them waiting on each other's fsyncs
    // measured the disk, not the server (a tablet's store took 40 s to
    // close). Their stores are in memory where the machine has it
    // (/dev/shm); the servers' stay on the disk.
    let tablets = match tempfile::tempdir_in("/dev/shm") {
        Ok(in_memory) => in_memory,
        Err(_) => tempfile::tempdir()?,
    };

    let antennas = devices.div_ceil(per_antenna);
    eprintln!("{devices} devices in {antennas} antennas: enrolling, each logs {entries} entries");
    let mut crowd = Vec::new();
    for a in 0..antennas {
        let antenna = demo_antenna(&format!("Antenne {a}"))?;
        let folder = tablets.path().join(format!("antenna-{a}"));
        std::fs::create_dir(&folder)?;
        let coordinator = Device::coordinator(&folder, &url, &antenna).await?;
        coordinator.sync().await?;
        for i in (a * per_antenna)..((a + 1) * per_antenna).min(devices) {
            let d = Device::enrolled(
                &folder,
                &format!("tablet-{i}"),
                &url,
                &coordinator,
                Role::Volunteer,
            )
            .await?;
            d.sync().await?;
            let shift = d.start_shift(now - Duration::minutes(90)).await?;
            d.log(shift, entries, now - Duration::minutes(90), 5000 + i as u64)
                .await?;
            crowd.push(d);
            if (i + 1) % 100 == 0 {
                eprintln!("  {} ready", i + 1);
            }
        }
    }
    if cold {
        eprintln!("servers restart: every antenna opens again with the crowd");
        for s in &mut servers {
            s.restart()?;
        }
    }
    let mut cpu_before = 0.0;
    for s in &servers {
        s.reset_peak()?;
        cpu_before += s.cpu_seconds()?;
    }
    let devices_cpu_before = crate::server::cpu_seconds(std::process::id())?;
    eprintln!("{devices} devices sync at once");
    let started = Instant::now();
    // Each device its own task, as each tablet is its own process: polled
    // together in one task, 500 devices took turns on one thread.
    let crowd: Vec<std::sync::Arc<Device>> = crowd.into_iter().map(std::sync::Arc::new).collect();
    let tasks: Vec<_> = crowd
        .iter()
        .map(|d| {
            let d = d.clone();
            tokio::spawn(async move {
                let began = Instant::now();
                let result = d.sync().await;
                (result, began.elapsed().as_millis() as u64)
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await?);
    }
    let all_done_ms = started.elapsed().as_millis() as u64;
    let devices_cpu_seconds = crate::server::cpu_seconds(std::process::id())? - devices_cpu_before;
    let mut cpu_after = 0.0;
    let mut peak_kib = 0;
    for s in &servers {
        cpu_after += s.cpu_seconds()?;
        peak_kib += s.peak_kib()?;
    }
    let errors = results.iter().filter(|(r, _)| r.is_err()).count();
    let done: Vec<_> = results
        .iter()
        .filter_map(|(r, _)| r.as_ref().ok())
        .collect();
    eprintln!(
        "  each device on average: {:.1} documents received ({:.1} changes), {:.1} sent, {:.1} KB",
        done.iter().map(|s| s.documents_received).sum::<usize>() as f64 / done.len().max(1) as f64,
        done.iter().map(|s| s.changes_received).sum::<usize>() as f64 / done.len().max(1) as f64,
        done.iter().map(|s| s.documents_sent).sum::<usize>() as f64 / done.len().max(1) as f64,
        done.iter()
            .map(|s| s.bytes_sent + s.bytes_received)
            .sum::<u64>() as f64
            / 1000.0
            / done.len().max(1) as f64,
    );
    for (e, _) in results.iter().filter(|(r, _)| r.is_err()) {
        if let Err(e) = e {
            eprintln!("  a device's sync failed: {e:#}");
        }
    }
    let mut times: Vec<u64> = results.iter().map(|(_, ms)| *ms).collect();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    Ok(CrowdReport {
        backend: if database.is_some() {
            "PostgreSQL"
        } else {
            "embedded"
        }
        .into(),
        servers: count,
        devices,
        antennas,
        entries_each: entries,
        errors,
        median_ms: at(0.5),
        p95_ms: at(0.95),
        all_done_ms,
        peak_mib: peak_kib as f64 / 1024.0,
        cpu_seconds: cpu_after - cpu_before,
        devices_cpu_seconds,
    })
}
