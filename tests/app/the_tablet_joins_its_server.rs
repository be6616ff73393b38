//! A new tablet joins its antenna's base server with a code, receives the
//! antenna, a lead erases a case on it, and the sync takes the erasure to
//! the server and the coordinator's tablet. The lead then enrols one more
//! tablet with a code made in Settings, and revokes it there. A place
//! added in the field reaches the coordinator's tablet. Last, the
//! app's tablet is erased from Settings and is back at its first start.

use std::path::Path;

use anyhow::{Context, Result, ensure};

use crate::server::{REGISTRATION_TOKEN, Server};
use crate::tablet::{Tablet, finish, succeeded};
use crate::webdriver::Session;
use crate::{FreshTablet, enabled, one_window_at_a_time};

pub const PASSPHRASE: &str = "phare de Gravelines 2026";
const ALIAS: &str = "Amina-Zeta";
/// A note of tonight's shift, which the server holds.
const TONIGHT: &str = "Bache-bleue-pres-du-canal-6620";

#[test]
fn the_tablet_joins_its_server_and_a_lead_erases_a_case() -> Result<()> {
    if !enabled("the_tablet_joins_its_server_and_a_lead_erases_a_case") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server"));
    // The coordinator's tablet (the `maraude` command): an antenna with Mira
    // as lead, tonight's shift led by her, a shelter request; registered on
    // the server, synced; a code for one lead's tablet.
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    let (_, case) = coordinator.open_case(["shelter", "--household", "2", "--alias", ALIAS]);
    coordinator.log(["note", TONIGHT]);
    let code = register_for_a_lead(&coordinator, &server)?;

    let tablet = FreshTablet::start(&[])?;
    let store = tablet.data().join("fr.maraude.field/antenna.maraude");
    tablet.run("server", |app, shots| {
        join_erase_sync(app, shots, &server.url, &code, &case)?;
        a_place_found_in_the_field(app, &coordinator)?;
        enrol_then_revoke(app, shots, &server.url)?;
        // The coordinator's tablet learns the erasure at its next sync.
        coordinator.json(["sync"]);
        let open = coordinator.ok(["follow-ups"]);
        ensure!(
            !open.contains(ALIAS),
            "erased on the app, still on the coordinator's tablet: {open}"
        );
        clear_the_tablet(app, shots, &store)?;
        erase_the_tablet(app, shots, &store, &coordinator)
    })
}

pub fn register_for_a_lead(coordinator: &Tablet, server: &Server) -> Result<String> {
    let mut register = coordinator.command(["register", "--server", &server.url]);
    register.env("MARAUDE_REGISTRATION_TOKEN", REGISTRATION_TOKEN);
    succeeded(finish(register));
    coordinator.json(["sync"]);
    let code = coordinator.json(["enrolment-code", "--role", "lead"]);
    Ok(code["code"].as_str().context("a code")?.to_string())
}

/// The first screen's "Join an antenna with a code", filled in (the app
/// in French), not yet sent.
pub fn fill_in_join(app: &Session, server: &str, code: &str) -> Result<()> {
    app.click("[data-e2e=choose-join]")?;
    app.type_into("[data-e2e=server-address]", server)?;
    app.type_into("[data-e2e=enrol-code]", code)?;
    app.type_into("[data-e2e=device-name]", "Tablette camion 2")?;
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.type_into("[data-e2e=passphrase-again]", PASSPHRASE)
}

fn join_erase_sync(
    app: &Session,
    shots: &Path,
    server: &str,
    code: &str,
    case_id: &str,
) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    crate::day_mode(app)?;

    // First start: join with the code; the antenna arrives with the first
    // sync, and the shift Mira leads is open.
    fill_in_join(app, server, code)?;
    app.screenshot(shots, "17-join-an-antenna")?;
    app.click("[data-e2e=submit]")?;
    app.wait_for_text_containing("[data-e2e=sync-status]", "Synchronisé à l’instant")?;
    app.find("[data-e2e=logging-as]")
        .context("the shift Mira leads is not open on the tablet")?;
    app.screenshot(shots, "18-synced")?;

    // Mira, a lead, erases the case after a plain warning.
    app.click("[data-e2e=nav-follow_ups]")?;
    let case = format!("[data-e2e=case][data-case=\"{case_id}\"]");
    ensure!(app.text(&case)?.contains(ALIAS), "the case shows its alias");
    app.click(&format!("{case} [data-e2e=erase]"))?;
    let warning = app.text("[data-e2e=erase-confirmation]")?;
    ensure!(
        warning.contains("définitivement") && warning.contains("prochaine synchronisation"),
        "the warning says {warning:?}"
    );
    app.click("[data-e2e=erase-confirm]")?;
    app.wait_for_text_containing("[role=status]", "effacé")?;
    ensure!(app.count(&case)? == 0, "the erased case is still listed");

    // The erasure waits to be sent; the sync sends it.
    app.wait_for_text_containing("[data-e2e=sync-status]", "1 document à envoyer")?;
    app.click("[data-e2e=sync-now]")?;
    let said = app.wait_for_text_containing("[data-e2e=sync-result]", "envoyé")?;
    ensure!(said.contains("1 document envoyé"), "the sync said {said:?}");
    app.wait_for_text_containing("[data-e2e=sync-status]", "Synchronisé à l’instant")?;
    app.screenshot(shots, "19-sync-summary")?;

    // Upright, so that the Server section shows whole.
    app.resize(800, 1280)?;
    app.click("[data-e2e=nav-settings]")?;
    app.wait_for_text("[data-e2e=enrolment-role]", "Responsable")?;
    app.screenshot(shots, "20-settings-server")?;
    app.resize(1280, 800)?;
    Ok(())
}

/// A camp found tonight: added from the quick log's place picker, the team
/// is there at once; the sync takes it to the server, and the
/// coordinator's tablet has it at its next sync.
fn a_place_found_in_the_field(app: &Session, coordinator: &Tablet) -> Result<()> {
    app.click("[data-e2e=nav-quick_log]")?;
    app.click("[data-e2e=place]")?;
    app.click("[data-e2e=add-place]")?;
    app.type_into("[data-e2e=new-place-name]", "Parking Lidl")?;
    app.click("[data-e2e=new-place-add]")?;
    app.wait_for_text("[data-e2e=place]", "Parking Lidl")?;
    app.click("[data-e2e=item-blanket]")?;
    app.click("[data-e2e=sync-now]")?;
    // The place, and the blanket given there in tonight's figures.
    app.wait_until("the place on the coordinator's tablet", || {
        coordinator.json(["sync"]);
        let places = coordinator.json(["place", "list"]);
        let report = coordinator.ok(["report", "night"]);
        Ok(
            (places["parking-lidl"]["name"] == "Parking Lidl" && report.contains("Parking Lidl"))
                .then_some(()),
        )
    })?;
    Ok(())
}

/// Settings, as the lead: a code for a volunteer's tablet, which enrols
/// with it (the `maraude` command); the list shows it; revoked there, it
/// is refused by the server.
fn enrol_then_revoke(app: &Session, shots: &Path, server: &str) -> Result<()> {
    app.click("[data-e2e=nav-settings]")?;
    app.click("[data-e2e=code-role-volunteer]")?;
    app.click("[data-e2e=new-code]")?;
    let code = app.wait_until("the enrolment code", || {
        let shown = app.text("[data-e2e=enrolment-code]").unwrap_or_default();
        // Four groups of the server's code, three of the authority's mark.
        Ok((shown.len() == 34).then_some(shown))
    })?;
    let newcomer = Tablet::blank();
    let enrolled = newcomer.json([
        "enrol",
        "--server",
        server,
        "--code",
        &code,
        "--device-name",
        "tablette-3",
    ]);
    // Never synced: it holds no antenna yet, and says so.
    let status = newcomer.refused(["status"]);
    ensure!(status.contains("maraude sync"), "{status}");
    let device = enrolled["device"]
        .as_str()
        .context("the new tablet's id")?
        .to_string();
    // Settings again: the list is the server's, read when it opens.
    app.click("[data-e2e=nav-report]")?;
    app.click("[data-e2e=nav-settings]")?;
    let row = format!("[data-e2e=tablet][data-device=\"{device}\"]");
    app.wait_for_text_containing(&row, "tablette-3")?;
    app.click(&format!("{row} [data-e2e=revoke]"))?;
    // The click brought the list into view: the confirmation shows.
    app.screenshot(shots, "25-settings-tablets")?;
    app.click(&format!("{row} [data-e2e=revoke-confirm]"))?;
    app.wait_for_text_containing(&row, "révoquée")?;
    let refused = newcomer.refused(["sync"]);
    ensure!(
        refused.contains("revoked"),
        "the revoked tablet's sync: {refused}"
    );
    Ok(())
}

/// Settings: clearing the tablet (a checkpoint ahead) takes tonight's
/// shift, which the server holds, off it and locks the app at once.
fn clear_the_tablet(app: &Session, shots: &Path, store: &Path) -> Result<()> {
    let passphrase = maraude_store::Passphrase::new(PASSPHRASE.into());
    let readable = |needle: &str| maraude_store::forensic::readable(store, &passphrase, needle);
    ensure!(
        readable(TONIGHT)?,
        "tonight's note never reached the tablet"
    );
    app.click("[data-e2e=nav-settings]")?;
    app.find("[data-e2e=tablet]")?;
    app.click("[data-e2e=clear-tablet-open]")?;
    app.find("[data-e2e=clear-tablet][open]")?;
    app.type_into("[data-e2e=clear-tablet-name]", "Calais")?;
    app.screenshot(shots, "30-clear-tablet")?;
    app.click("[data-e2e=clear-tablet-confirm]")?;
    app.find("[data-e2e=unlock-screen]")?;
    ensure!(!readable(TONIGHT)?, "tonight's note is still on the tablet");
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    // Tonight's shift left with the rest: no shift is open.
    app.find("[data-e2e=start-shift]")?;
    // Settings: wait until what loads after (the server's status, the
    // antenna's tablets) is on screen, so that nothing moves under the
    // next tap.
    app.click("[data-e2e=nav-settings]")?;
    app.find("[data-e2e=clear-tablet-open]")?;
    app.find("[data-e2e=tablet]")?;
    Ok(())
}

/// Settings: erasing the tablet asks for the antenna's name; then the
/// server revokes it, the store file is gone and the app is at its first
/// start, saying the server revoked it.
fn erase_the_tablet(app: &Session, shots: &Path, store: &Path, coordinator: &Tablet) -> Result<()> {
    ensure!(store.is_file(), "no store at {}", store.display());
    let active = |devices: &serde_json::Value| {
        devices
            .as_array()
            .map(|all| all.iter().filter(|d| d["revoked_at"].is_null()).count())
            .unwrap_or_default()
    };
    let before = active(&coordinator.json(["devices"]));
    app.click("[data-e2e=nav-settings]")?;
    app.click("[data-e2e=erase-tablet-open]")?;
    app.find("[data-e2e=erase-tablet][open]")?;
    app.type_into("[data-e2e=erase-tablet-name]", "Dunkerque")?;
    app.click("[data-e2e=erase-tablet-confirm]")?;
    app.wait_for_text_containing("[data-e2e=erase-tablet-error]", "nom de l’antenne")?;
    app.screenshot(shots, "27-erase-tablet")?;
    ensure!(store.is_file(), "erased without the right name");
    app.clear(&app.find("[data-e2e=erase-tablet-name]")?)?;
    app.type_into("[data-e2e=erase-tablet-name]", "Calais")?;
    app.click("[data-e2e=erase-tablet-confirm]")?;
    app.find("[data-e2e=choose-join]")?;
    ensure!(!store.exists(), "the store is still at {}", store.display());
    app.wait_for_text_containing("[data-e2e=erased-notice]", "le serveur l’a révoquée")?;
    app.screenshot(shots, "28-erased")?;
    let after = active(&coordinator.json(["devices"]));
    ensure!(
        after + 1 == before,
        "the server still counts {after} active tablets, {before} before the erasure"
    );
    Ok(())
}
