//! Enrolment, devices and sync with the antenna's base server.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result, bail};
use clap::Args;
use maraude_core::access::Role;
use maraude_core::ids::{AntennaId, DeviceId};
use maraude_store::{ServerLink, Store};
use maraude_sync::api::RegisterAntenna;
use maraude_sync::{Patience, StoreHandle, enrol as server};
use uuid::Uuid;

use crate::{Ctx, output, passphrase};

#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The base server, e.g. http://192.168.1.10:8470
    #[arg(long, env = "MARAUDE_SERVER")]
    server: String,
    /// The enrolment code a lead or coordinator gave you.
    #[arg(long)]
    code: String,
    /// A name for this device in the antenna's list (e.g. "tablette van 2").
    #[arg(long, default_value = "device")]
    device_name: String,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[arg(long, env = "MARAUDE_SERVER")]
    server: String,
    #[arg(long, default_value = "coordinator device")]
    device_name: String,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn link(ctx: &Ctx) -> Result<ServerLink> {
    ctx.open()?.server_link()?.context(
        "this device is not enrolled with a server; `maraude enrol` or `maraude register` first",
    )
}

pub fn enrol(ctx: &Ctx, args: EnrolArgs) -> Result<()> {
    let path = ctx.store_path()?;
    if path.exists() {
        bail!(
            "a store already exists at {}; enrol into a new file (--store), or sync this one",
            path.display()
        );
    }
    // Checked before the code is spent: a refused passphrase must not cost
    // the code.
    let pass = passphrase(true)?;
    if !pass.is_strong_enough() {
        bail!(maraude_store::StoreError::WeakPassphrase {
            min: maraude_store::Passphrase::MIN_CHARS
        });
    }
    let device = DeviceId::new();
    let (link, enrolled) = runtime()?.block_on(server::join(
        &args.server,
        &args.code,
        *device.as_uuid(),
        &args.device_name,
    ))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut store =
        Store::create_empty(&path, &pass, AntennaId::from_uuid(enrolled.antenna), device)?;
    store.set_server_link(&link)?;
    output::done(
        ctx,
        &format!(
            "Enrolled in antenna {} as {}; store created at {}. Now run `maraude sync`.",
            enrolled.antenna_name,
            enrolled.role,
            path.display()
        ),
        &serde_json::json!({
            "antenna": enrolled.antenna,
            "antenna_name": enrolled.antenna_name,
            "role": enrolled.role,
            "device": device,
            "store": path.display().to_string(),
        }),
    )
}

pub fn register(ctx: &Ctx, args: RegisterArgs) -> Result<()> {
    let mut store = ctx.open()?;
    if let Some(existing) = store.server_link()? {
        bail!(
            "this store is already linked to {}; nothing changed",
            existing.url
        );
    }
    let token = std::env::var("MARAUDE_REGISTRATION_TOKEN").context(
        "set MARAUDE_REGISTRATION_TOKEN to the token the server's administrator gave you",
    )?;
    let antenna = store.antenna()?;
    let request = RegisterAntenna {
        antenna: *antenna.id.as_uuid(),
        name: antenna.name.clone(),
        device: *store.device().as_uuid(),
        device_name: args.device_name,
    };
    let (link, enrolled) =
        runtime()?.block_on(server::register_antenna(&args.server, &token, &request))?;
    store.set_server_link(&link)?;
    output::done(
        ctx,
        &format!(
            "Antenna {} registered on {}; this device is its {}. Enrol others with `maraude enrolment-code`, then `maraude sync`.",
            enrolled.antenna_name, args.server, enrolled.role
        ),
        &serde_json::json!({ "antenna": enrolled.antenna, "role": enrolled.role }),
    )
}

pub fn sync(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let (handle, thread) = StoreHandle::spawn(store);
    let show_progress = !ctx.json && std::io::stderr().is_terminal();
    let result = runtime()?.block_on(maraude_sync::sync_with_server(
        &handle,
        Patience::default(),
        |done, total| {
            if show_progress {
                eprint!("\rSyncing: {done}/{total} documents");
                let _ = std::io::stderr().flush();
            }
        },
    ));
    if show_progress {
        eprintln!();
    }
    drop(handle);
    let _ = thread.join();
    let summary = result?;
    let human = if summary.documents_sent == 0 && summary.documents_received == 0 {
        "Already in sync: nothing to send, nothing new on the server.".to_string()
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
    output::done(ctx, &human, &summary)
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
    output::show(ctx, &list, || {
        let mut out = String::new();
        for d in &list {
            let state = match (d.revoked_at, d.last_sync) {
                (Some(at), _) => format!("REVOKED {}", maraude_core::time::paris(at)),
                (None, Some(at)) => format!("last sync {}", maraude_core::time::paris(at)),
                (None, None) => "never synced".into(),
            };
            out.push_str(&format!(
                "{}  {:<11}  {:<24}  {state}\n",
                d.device, d.role, d.name
            ));
        }
        out
    })
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
