//! Two tablets in the van, the server out of reach: the app and a
//! teammate's tablet (the `maraude` command) sync with each other both
//! ways, the app finding the other on the network (mDNS, on loopback
//! here) or typing its address, then showing its own; the last sync with
//! the server is still shown after the app restarts.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};

use crate::server::Server;
use crate::tablet::{Tablet, spawn};
use crate::the_tablet_joins_its_server::{PASSPHRASE, fill_in_join, register_for_a_lead};
use crate::webdriver::Session;
use crate::{FreshTablet, enabled, one_window_at_a_time};

#[test]
fn the_app_and_a_teammates_tablet_sync_both_ways_without_the_server() -> Result<()> {
    if !enabled("the_app_and_a_teammates_tablet_sync_both_ways_without_the_server") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let dir = tempfile::tempdir()?;
    let mut server = Server::start(&dir.path().join("server"));
    // Mira's tablet (the `maraude` command) leads tonight's shift.
    let teammate = Tablet::for_antenna("Calais");
    teammate.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    teammate.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    let code = register_for_a_lead(&teammate, &server)?;

    // mDNS on loopback: the only network a test has (see
    // `maraude_sync::discovery`).
    let tablet = FreshTablet::start(&[(maraude_sync::discovery::LOOPBACK_VAR, Path::new("1"))])?;
    tablet.run("teammates", |app, shots| {
        in_the_van(app, shots, &mut server, &teammate, &code)
    })?;
    // The app again, after a restart: it still says since when it is in
    // sync with the server, which is down.
    tablet.run("restarted", |app, _| restarted(app))
}

fn in_the_van(
    app: &Session,
    shots: &Path,
    server: &mut Server,
    teammate: &Tablet,
    code: &str,
) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    crate::day_mode(app)?;
    fill_in_join(app, &server.url, code)?;
    app.click("[data-e2e=submit]")?;
    app.wait_for_text_containing("[data-e2e=sync-status]", "Synchronisé à l’instant")?;

    // The night: no server. Mira's tablet logs 3 blankets and lets the
    // app sync with it.
    server.kill();
    teammate.log(["distribution", "blanket", "3"]);
    app.click("[data-e2e=nav-teammates]")?;
    // Nobody serves yet: the search says so, and what to do.
    app.click("[data-e2e=teammates-find]")?;
    app.wait_for_text_containing("[data-e2e=teammates-none-found]", "Aucune tablette")?;
    let serving = ServingTeammates::start(teammate)?;
    // A mistyped address first (nothing listens on port 9): a sentence.
    app.type_into("[data-e2e=teammates-address-input]", "127.0.0.1:9")?;
    app.click("[data-e2e=teammates-sync-now]")?;
    app.wait_for_text_containing(
        "[data-e2e=teammates-sync-result]",
        "Impossible de joindre l’autre tablette",
    )?;
    app.screenshot(shots, "21-teammates-unreachable")?;
    // Found on the network, synced with one tap.
    app.click("[data-e2e=teammates-find]")?;
    let found =
        app.wait_for_text_containing("[data-e2e=teammates-found]", "Tablette d’un coéquipier")?;
    ensure!(
        found.contains(&serving.address.to_string()),
        "the tablets found: {found:?}, Mira's serves at {}",
        serving.address
    );
    app.screenshot(shots, "22-teammates-found")?;
    app.click("[data-e2e=teammates-found-tablet]")?;
    // Mira's tablet by the name its certificate carries.
    let said = app.wait_for_text_containing(
        "[data-e2e=teammates-sync-result]",
        "Partagé avec la tablette «",
    )?;
    ensure!(
        said.contains("reçu"),
        "the sync with Mira's tablet said {said:?}"
    );
    app.screenshot(shots, "22-teammates-synced")?;
    // The address typed reaches the same tablet: nothing new.
    app.clear(&app.find("[data-e2e=teammates-address-input]")?)?;
    app.type_into(
        "[data-e2e=teammates-address-input]",
        &serving.address.to_string(),
    )?;
    app.click("[data-e2e=teammates-sync-now]")?;
    app.wait_for_text_containing("[data-e2e=teammates-sync-result]", "Déjà à jour")?;
    drop(serving);
    app.click("[data-e2e=nav-report]")?;
    app.wait_for_text("tr[data-item=blanket] [data-e2e=quantity]", "3")?;

    // The other way: the app logs a blanket, lets Mira's tablet sync with
    // it, and logs a tea meanwhile.
    app.click("[data-e2e=nav-quick_log]")?;
    app.click("[data-e2e=item-blanket]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "4")?;
    app.click("[data-e2e=nav-teammates]")?;
    app.click("[data-e2e=teammates-start]")?;
    let address = app.wait_until("the address the app shows", || {
        Ok(app
            .text("[data-e2e=teammates-address]")?
            .parse::<SocketAddr>()
            .ok())
    })?;
    app.find("[data-e2e=teammates-announced]")?;
    // Serving and searching at once: the app does not find itself.
    app.click("[data-e2e=teammates-find]")?;
    app.wait_for_text_containing("[data-e2e=teammates-none-found]", "Aucune tablette")?;
    app.screenshot(shots, "23-teammates-serving")?;
    app.resize(800, 1280)?;
    app.screenshot(shots, "24-teammates-serving-portrait")?;
    app.resize(1280, 800)?;
    app.wait_for_attribute(
        "[data-e2e=nav-teammates]",
        "aria-label",
        "Ouvert aux coéquipiers",
    )?;
    app.click("[data-e2e=nav-quick_log]")?;
    app.click("[data-e2e=item-tea_coffee]")?;
    app.wait_for_text("[data-e2e=count-tea_coffee]", "1")?;
    let synced = teammate.json(["sync", "--peer", &address.to_string()]);
    ensure!(synced["documents_received"].as_u64() >= Some(1), "{synced}");
    let got = handed_out(teammate);
    ensure!(
        got.get("blanket") == Some(&4) && got.get("tea_coffee") == Some(&1),
        "Mira's tablet counts {got:?}"
    );

    app.click("[data-e2e=nav-teammates]")?;
    app.click("[data-e2e=teammates-stop]")?;
    app.find("[data-e2e=teammates-start]")?;
    ensure!(
        TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_err(),
        "the app still listens at {address} after Stop"
    );
    Ok(())
}

fn restarted(app: &Session) -> Result<()> {
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    let said = app.wait_for_text_containing("[data-e2e=sync-status]", "Synchronisé")?;
    ensure!(!said.contains("Pas encore"), "after a restart: {said:?}");
    Ok(())
}

/// Each item the tablet's night report counts, and how many.
fn handed_out(tablet: &Tablet) -> BTreeMap<String, u64> {
    let report = tablet.json(["report", "night"]);
    let lines = report["distributions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    lines
        .iter()
        .filter_map(|line| {
            Some((
                line["item"].as_str()?.to_string(),
                line["quantity"].as_u64()?,
            ))
        })
        .collect()
}

/// `maraude serve-peer` on a free port of loopback; killed when dropped.
struct ServingTeammates {
    child: Child,
    address: SocketAddr,
}

impl ServingTeammates {
    fn start(tablet: &Tablet) -> Result<Self> {
        let address = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let mut cmd = tablet.command(["serve-peer", "--listen", &address.to_string()]);
        let serving = Self {
            child: spawn(&mut cmd),
            address,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(address).is_err() {
            if Instant::now() > deadline {
                bail!("maraude serve-peer does not listen at {address}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(serving)
    }
}

impl Drop for ServingTeammates {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
