//! Enrolment, devices and sync with the antenna's base server.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use clap::Args;
use maraude_core::access::Role;
use maraude_device::enrolment::{self, PlainHttp, ServerAddress};
use maraude_device::erasure::Withdrawal;
use maraude_device::sync::Partner;
use maraude_device::teammates;
use maraude_store::{ServerLink, Store};
use maraude_sync::{Patience, StoreHandle, enrol as server};
use uuid::Uuid;

use crate::{Ctx, output, passphrase};

#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The base server, e.g. sync.example.org (https:// unless given)
    #[arg(long, env = "MARAUDE_SERVER")]
    server: String,
    /// Allow an http:// address on another machine: unencrypted, so only
    /// on a network you trust (the warehouse's own Wi-Fi).
    #[arg(long)]
    plain_http: bool,
    /// The enrolment code a lead or coordinator gave you.
    #[arg(long)]
    code: String,
    /// A name for this device in the antenna's list (e.g. "tablette van 2").
    #[arg(long, default_value = "device")]
    device_name: String,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// A teammate's tablet serving with `maraude serve-peer`: the address
    /// it shows, e.g. 192.168.1.12:8471, or `auto` for the first tablet of
    /// this antenna found serving on the same network.
    #[arg(long)]
    peer: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServePeerArgs {
    /// Address and port to listen on; 0.0.0.0 takes the van's or the
    /// warehouse's network.
    #[arg(long, env = "MARAUDE_PEER_LISTEN", default_value = "0.0.0.0:8471")]
    listen: std::net::SocketAddr,
    /// Do not announce this tablet on the network (teammates then type
    /// its address).
    #[arg(long)]
    no_announce: bool,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The base server, e.g. sync.example.org (https:// unless given)
    #[arg(long, env = "MARAUDE_SERVER")]
    server: String,
    /// Allow an http:// address on another machine: unencrypted, so only
    /// on a network you trust (the warehouse's own Wi-Fi).
    #[arg(long)]
    plain_http: bool,
    #[arg(long, default_value = "coordinator device")]
    device_name: String,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn address(typed: &str, plain_http: bool) -> Result<ServerAddress> {
    Ok(ServerAddress::parse(
        typed,
        PlainHttp::if_trusted(plain_http),
    )?)
}

fn link(ctx: &Ctx) -> Result<ServerLink> {
    Ok(ctx
        .open()?
        .server_link()?
        .ok_or(maraude_sync::SyncError::NotEnrolled)?)
}

pub fn enrol(ctx: &Ctx, args: EnrolArgs) -> Result<()> {
    let path = ctx.store_path()?;
    if path.exists() {
        bail!(
            "a store already exists at {}; enrol into a new file (--store), or sync this one",
            path.display()
        );
    }
    let server = address(&args.server, args.plain_http)?;
    // Asked before the code is spent: a refused passphrase must not cost
    // the code (the device API checks it first).
    let pass = passphrase(true)?;
    let (store, joined) = runtime()?.block_on(enrolment::join(
        &path,
        &pass,
        &server,
        &args.code,
        &args.device_name,
    ))?;
    let device = store.device();
    output::done(
        ctx,
        &format!(
            "Enrolled in antenna {} as {}; store created at {}. Now run `maraude sync`.",
            joined.antenna_name,
            joined.role,
            path.display()
        ),
        &serde_json::json!({
            "antenna": joined.antenna,
            "antenna_name": joined.antenna_name,
            "role": joined.role,
            "device": device,
            "store": path.display().to_string(),
        }),
    )
}

pub fn register(ctx: &Ctx, args: RegisterArgs) -> Result<()> {
    let server = address(&args.server, args.plain_http)?;
    let store = ctx.open()?;
    if let Some(existing) = store.server_link()? {
        bail!(
            "this store is already linked to {}; nothing changed",
            existing.url
        );
    }
    let token = std::env::var("MARAUDE_REGISTRATION_TOKEN").context(
        "set MARAUDE_REGISTRATION_TOKEN to the token the server's administrator gave you",
    )?;
    let runtime = runtime()?;
    let (handle, thread) = StoreHandle::spawn(store);
    let joined = runtime.block_on(enrolment::register(
        &handle,
        &server,
        &token,
        &args.device_name,
    ));
    drop(handle);
    let _ = thread.join();
    let joined = joined?;
    output::done(
        ctx,
        &format!(
            "Antenna {} registered on {}; this device is its {}. Enrol others with `maraude enrolment-code`, then `maraude sync`.",
            joined.antenna_name, joined.server, joined.role
        ),
        &serde_json::json!({ "antenna": joined.antenna, "role": joined.role }),
    )
}

pub fn sync(ctx: &Ctx, args: SyncArgs) -> Result<()> {
    let store = ctx.open()?;
    let runtime = runtime()?;
    if args.peer.as_deref() == Some("auto") {
        // Told before looking, not after a search that cannot succeed.
        has_certificate(&store)?;
    }
    let (handle, thread) = StoreHandle::spawn(store);
    let peer = match peer_addresses(ctx, &runtime, &handle, args.peer.as_deref()) {
        Ok(peer) => peer,
        Err(e) => {
            // The store closed before the process ends, not under it.
            drop(handle);
            let _ = thread.join();
            return Err(e);
        }
    };

    let show_progress = !ctx.json && std::io::stderr().is_terminal();
    let progress = |done, total| {
        if show_progress {
            eprint!("\rSyncing: {done}/{total} documents");
            let _ = std::io::stderr().flush();
        }
    };
    let partner = match peer {
        Some(addresses) => Partner::Teammate(addresses),
        None => Partner::Server,
    };
    let result = runtime.block_on(maraude_device::sync::sync(
        &handle,
        &partner,
        Patience::default(),
        progress,
    ));
    if show_progress {
        eprintln!();
    }
    // samod's tasks left in the runtime hold the store too: drop them
    // before waiting for the store's thread to close it.
    drop(runtime);
    drop(handle);
    let _ = thread.join();
    let summary = result?;
    let other = match (&args.peer, &summary.teammate) {
        // The name the antenna's authority certified, never one the
        // other tablet gives itself.
        (Some(_), Some(name)) => format!("\"{name}\""),
        (Some(_), None) => "the other tablet".to_string(),
        (None, _) => "the server".to_string(),
    };
    let human = if summary.documents_sent == 0 && summary.documents_received == 0 {
        format!("Already in sync: nothing to send, nothing new on {other}.")
    } else {
        format!(
            "Synced: {} documents sent, {} received ({} changes){}{}.",
            summary.documents_sent,
            summary.documents_received,
            summary.changes_received,
            if summary.documents_refused > 0 {
                format!(", {} out of this device's scope", summary.documents_refused)
            } else {
                String::new()
            },
            if summary.reconnections > 0 {
                format!(", after {} reconnections", summary.reconnections)
            } else {
                String::new()
            }
        )
    };
    let human = match summary.cases_erased {
        0 => human,
        n => format!(
            "{human} {n} follow-up case(s) erased on this tablet (retention or a lead's erasure)."
        ),
    };
    let human = match summary.revocations_restored {
        0 => human,
        n => format!(
            "{human} The server had lost {n} revoked tablet(s) (restored from an older backup?): it revokes them again from this tablet's list."
        ),
    };
    let human = if summary.refusals.is_empty() {
        human
    } else {
        format!(
            "{human}\n{other} refused changes of this tablet that its role may not make (they stay here, unsent):\n  {}",
            summary.refusals.join("\n  ")
        )
    };
    output::done(ctx, &human, &summary)
}

/// The teammate's addresses `--peer` names (`auto`: those found on the
/// network); `None`: the server.
fn peer_addresses(
    ctx: &Ctx,
    runtime: &tokio::runtime::Runtime,
    handle: &StoreHandle,
    peer: Option<&str>,
) -> Result<Option<Vec<SocketAddr>>> {
    Ok(match peer {
        Some("auto") => {
            let found = runtime.block_on(teammates::find(handle, None))?;
            // Every address of every tablet found, tried in turn: one may
            // be this very tablet serving from another process, or a
            // network not reachable from here.
            let addresses: Vec<SocketAddr> =
                found.iter().flat_map(|c| c.addresses.clone()).collect();
            if addresses.is_empty() {
                return Err(maraude_sync::SyncError::NoTeammateFound.into());
            }
            if !ctx.json {
                let shown: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
                eprintln!("Tablets of the antenna serving at {}.", shown.join(", "));
            }
            Some(addresses)
        }
        Some(typed) => Some(
            runtime
                .block_on(teammates::teammate_addresses(typed))
                .with_context(|| format!("--peer {typed}"))?,
        ),
        None => None,
    })
}

/// A tablet without a certificate is told so before it serves or looks for
/// teammates, not after.
fn has_certificate(store: &Store) -> Result<()> {
    if store.server_link()?.and_then(|l| l.certificate).is_none() {
        bail!(maraude_sync::SyncError::NoCertificate);
    }
    Ok(())
}

pub fn serve_peer(ctx: &Ctx, args: ServePeerArgs) -> Result<()> {
    let store = ctx.open()?;
    let device = store.device();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (handle, thread) = StoreHandle::spawn(store);
    let served = runtime.block_on(async {
        let serving =
            teammates::Serving::open(&handle, Some(args.listen), !args.no_announce).await?;
        if let Some(why) = &serving.not_announced {
            eprintln!("Not announced on the network ({why}): teammates type the address.");
        }
        let shown = serving.shown;
        let on_theirs = if serving.announced() {
            format!("maraude sync --peer auto (or --peer {shown})")
        } else {
            format!("maraude sync --peer {shown}")
        };
        output::done(
            ctx,
            &format!(
                "Serving teammates at {shown} (this tablet: {device}). On theirs: {on_theirs}. Ctrl-C to stop."
            ),
            &serde_json::json!({
                "address": shown.to_string(),
                "device": device,
                "announced": serving.announced(),
            }),
        )?;
        let _ = std::io::stdout().flush();
        serving.run(stop()).await?;
        Ok(())
    });
    // The store closes before the process ends, not under it: samod's
    // tasks left in the runtime hold it too.
    drop(handle);
    drop(runtime);
    let _ = thread.join();
    served
}

/// Tablets of this antenna serving their teammates on the same network.
pub fn teammates(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let runtime = runtime()?;
    let (handle, thread) = StoreHandle::spawn(store);
    let found = runtime.block_on(teammates::find(&handle, None));
    drop(handle);
    let _ = thread.join();
    let found = found?;
    output::show(ctx, &found, || {
        if found.is_empty() {
            return format!("{}\n", maraude_sync::SyncError::NoTeammateFound);
        }
        let mut out = String::new();
        for candidate in &found {
            let addresses: Vec<String> =
                candidate.addresses.iter().map(|a| a.to_string()).collect();
            out.push_str(&format!("{}  {}\n", candidate.name, addresses.join(", ")));
        }
        out
    })
}

/// Ctrl-C or SIGTERM.
async fn stop() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub fn enrolment_code(ctx: &Ctx, role: Role) -> Result<()> {
    let link = link(ctx)?;
    let code = runtime()?.block_on(server::enrolment_code(&link, role))?;
    output::done(
        ctx,
        &format!(
            "Enrolment code for one {} device: {}\nValid until {} (single use). On the new device: maraude enrol --server {} --code {}",
            code.role,
            code.code,
            maraude_core::time::paris(code.expires_at),
            link.url,
            code.code
        ),
        &code,
    )
}

pub fn devices(ctx: &Ctx) -> Result<()> {
    let link = link(ctx)?;
    let list = runtime()?.block_on(server::devices(&link))?;
    output::show(ctx, &list, || devices_table(&list))
}

/// The antenna's tablets, one a line, each column as wide as its longest
/// value: a tablet known only from a revocation list has a long name, and
/// the role prints without padding of its own.
fn devices_table(list: &[maraude_protocol::api::DeviceInfo]) -> String {
    let role_w = list
        .iter()
        .map(|d| d.role.as_str().len())
        .max()
        .unwrap_or(0);
    let name_w = list
        .iter()
        .map(|d| d.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for d in list {
        let state = match (d.revoked_at, d.last_sync) {
            (Some(at), _) => format!("REVOKED {}", maraude_core::time::paris(at)),
            (None, Some(at)) => format!("last sync {}", maraude_core::time::paris(at)),
            (None, None) => "never synced".into(),
        };
        out.push_str(&format!(
            "{}  {:<role_w$}  {:<name_w$}  {state}\n",
            d.device,
            d.role.as_str(),
            d.name
        ));
    }
    out
}

pub fn revoke(ctx: &Ctx, device: Uuid) -> Result<()> {
    let link = link(ctx)?;
    let d = runtime()?.block_on(server::revoke(&link, device))?;
    output::done(
        ctx,
        &format!(
            "Device {} ({}) revoked: it can no longer sync.",
            d.device, d.name
        ),
        &d,
    )
}

pub fn erase_device(ctx: &Ctx, confirm: &str) -> Result<()> {
    let path = ctx.store_path()?;
    let (name, link, device) = {
        let store = ctx.open()?;
        (store.antenna()?.name, store.server_link()?, store.device())
    };
    if !confirm.trim().eq_ignore_ascii_case(name.trim()) {
        bail!("--confirm must be the antenna's name, \"{name}\": nothing was erased");
    }
    let withdrawal = runtime()?.block_on(maraude_device::erasure::erase_this_tablet(
        &path,
        link.as_ref(),
        device,
        // A store the app also opened may have a PIN set.
        &maraude_device::keystore::SystemKeystore::open(),
    ))?;
    let server = match &withdrawal {
        Withdrawal::NotEnrolled => "it was not enrolled with a server".to_string(),
        Withdrawal::Revoked => "the server revoked it".to_string(),
        Withdrawal::AlreadyRevoked => "the server had revoked it already".to_string(),
        Withdrawal::NotReached { why } => format!(
            "the server could not be told ({why}): ask a lead or a coordinator to revoke device {} (`maraude revoke`)",
            device.as_uuid()
        ),
        Withdrawal::Refused { why, .. } => format!("the server kept it enrolled: {why}"),
    };
    output::done(
        ctx,
        &format!("Store {} erased; {server}.", path.display()),
        &withdrawal,
    )
}

pub fn clear(ctx: &Ctx, confirm: &str) -> Result<()> {
    let mut store = ctx.open()?;
    let name = store.antenna()?.name;
    if !confirm.trim().eq_ignore_ascii_case(name.trim()) {
        bail!("--confirm must be the antenna's name, \"{name}\": nothing was cleared");
    }
    let cleared = maraude_device::erasure::clear_what_the_server_holds(&mut store)?;
    output::done(
        ctx,
        &format!(
            "Cleared {} documents the server holds; {} kept, not sent yet (sync them before clearing, if you can).",
            cleared.documents, cleared.kept
        ),
        &cleared,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use maraude_protocol::api::DeviceInfo;

    fn device(name: &str, role: Role, revoked: bool, synced: bool) -> DeviceInfo {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 21, 30, 0).unwrap();
        DeviceInfo {
            device: Uuid::new_v4(),
            name: name.into(),
            role,
            enrolled_at: at,
            revoked_at: revoked.then_some(at),
            last_sync: synced.then_some(at),
        }
    }

    #[test]
    fn the_devices_table_keeps_its_columns_under_a_long_name() {
        let list = [
            device("Tablette du van", Role::Lead, false, true),
            device(
                "tablet known only from a revocation list",
                Role::Volunteer,
                true,
                false,
            ),
            device("Équipe é", Role::Coordinator, false, false),
        ];
        let table = devices_table(&list);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        // Where each line's word starts, in characters: the same on every
        // line for a column that is aligned.
        let starts = |words: [&str; 3]| -> Vec<usize> {
            lines
                .iter()
                .zip(words)
                .map(|(line, word)| {
                    let at = line
                        .find(word)
                        .unwrap_or_else(|| panic!("{word} in {line}"));
                    line[..at].chars().count()
                })
                .collect()
        };
        for words in [
            ["Tablette", "tablet known", "Équipe"],
            ["last sync", "REVOKED", "never synced"],
        ] {
            let at = starts(words);
            assert!(at.iter().all(|c| *c == at[0]), "{words:?} in\n{table}");
        }
    }
}
