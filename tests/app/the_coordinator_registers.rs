//! The coordinator creates an antenna on the tablet and registers it on
//! the association's server from Settings (a wrong token first), syncs it,
//! and makes a code with which another tablet joins and receives it.

use std::path::Path;

use anyhow::{Result, ensure};

use crate::server::{REGISTRATION_TOKEN, Server};
use crate::tablet::Tablet;
use crate::the_tablet_joins_its_server::PASSPHRASE;
use crate::webdriver::Session;
use crate::{FreshTablet, enabled, one_window_at_a_time};

#[test]
fn the_coordinator_registers_the_antenna_from_the_app() -> Result<()> {
    if !enabled("the_coordinator_registers_the_antenna_from_the_app") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server"));
    let tablet = FreshTablet::start(&[])?;
    tablet.run("register", |app, shots| register(app, shots, &server.url))
}

fn register(app: &Session, shots: &Path, server: &str) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    crate::day_mode(app)?;
    app.click("[data-e2e=choose-create]")?;
    app.type_into("[data-e2e=antenna-name]", "Grande-Synthe")?;
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.type_into("[data-e2e=passphrase-again]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;

    app.click("[data-e2e=nav-settings]")?;
    app.click("[data-e2e=register-open]")?;
    app.type_into("[data-e2e=register-address]", server)?;
    app.type_into("[data-e2e=register-token]", "not-the-token")?;
    app.type_into("[data-e2e=register-device-name]", "Tablette coordination")?;
    app.click("[data-e2e=register-submit]")?;
    app.wait_for_text_containing("[data-e2e=register-error]", "jeton")?;
    app.screenshot(shots, "26-register-wrong-token")?;
    app.clear(&app.find("[data-e2e=register-token]")?)?;
    app.type_into("[data-e2e=register-token]", REGISTRATION_TOKEN)?;
    app.click("[data-e2e=register-submit]")?;
    app.wait_for_text("[data-e2e=enrolment-role]", "Coordination")?;

    // The first sync takes the antenna to the server.
    app.click("[data-e2e=settings-sync]")?;
    app.wait_for_text_containing("[data-e2e=sync-status]", "Synchronisé à l’instant")?;

    // A code for a volunteer's tablet, which joins and receives the antenna.
    app.click("[data-e2e=code-role-volunteer]")?;
    app.click("[data-e2e=new-code]")?;
    let code = app.wait_until("the enrolment code", || {
        let shown = app.text("[data-e2e=enrolment-code]").unwrap_or_default();
        // Four groups of the server's code, three of the authority's mark.
        Ok((shown.len() == 34).then_some(shown))
    })?;
    let volunteer = Tablet::blank();
    volunteer.ok(["enrol", "--server", server, "--code", &code]);
    volunteer.ok(["sync"]);
    let status = volunteer.ok(["status"]);
    ensure!(
        status.contains("Grande-Synthe"),
        "the volunteer's tablet: {status}"
    );
    Ok(())
}
