//! A tablet that joined an antenna and never received it (a wrong server,
//! a code revoked before its first sync) is not stuck: its waiting screen
//! erases it, the server is told (it revokes the tablet), and the first
//! screen comes back to join again.

use anyhow::{Context, Result, ensure};

use crate::server::Server;
use crate::tablet::{PASSPHRASE, Tablet, finish, succeeded};
use crate::the_tablet_joins_its_server::register_for_a_lead;
use crate::{FreshTablet, enabled, one_window_at_a_time};

#[test]
fn a_tablet_waiting_for_its_antenna_can_start_again() -> Result<()> {
    if !enabled("a_tablet_waiting_for_its_antenna_can_start_again") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    let code = register_for_a_lead(&coordinator, &server)?;

    // The app's store joined with the code (as `maraude enrol` does), and
    // never synced: it holds no antenna.
    let tablet = FreshTablet::start(&[])?;
    let store = tablet.data().join("fr.maraude.field/antenna.maraude");
    let mut enrol = Tablet::blank().command([
        "--json",
        "enrol",
        "--server",
        &server.url,
        "--code",
        &code,
        "--device-name",
        "tablette-perdue",
    ]);
    enrol.env("MARAUDE_STORE", &store);
    let enrolled = maraude_tests::tablet::parse_json(&succeeded(finish(enrol)));
    let device = enrolled["device"]
        .as_str()
        .context("the tablet's id")?
        .to_string();

    tablet.run("start-again", |app, shots| {
        app.resize(1280, 800)?;
        crate::language(app, "en")?;
        crate::day_mode(app)?;
        app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
        app.click("[data-e2e=submit]")?;
        app.find("[data-e2e=waiting]")?;
        app.click("[data-e2e=start-again] summary")?;
        app.screenshot(shots, "34-start-again")?;
        app.click("[data-e2e=start-again-confirm]")?;
        app.wait_for_text_containing("[data-e2e=erased-notice]", "the server revoked it")?;
        app.find("[data-e2e=choose-join]")?;
        ensure!(!store.exists(), "the store is still at {}", store.display());
        Ok(())
    })?;

    let devices = coordinator.json(["devices"]);
    let row = devices
        .as_array()
        .and_then(|all| all.iter().find(|d| d["device"] == device.as_str()))
        .with_context(|| format!("the tablet in the antenna's list: {devices}"))?;
    ensure!(
        row["revoked_at"].is_string(),
        "the server did not revoke the erased tablet: {row}"
    );
    Ok(())
}
