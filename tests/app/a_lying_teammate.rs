//! In the van, the lead's tablet (the app) syncs with a volunteer's tablet
//! whose serving code was modified to list, as changed on its side, a
//! closed case it never had: the app hands it nothing of the case, as the
//! `maraude` command does (`tests/sync/authorised_writes.rs`).

use anyhow::{Context, Result, ensure};
use maraude_core::access::Subject;

use crate::lying_teammate::LyingTeammate;
use crate::server::Server;
use crate::tablet::Tablet;
use crate::the_tablet_joins_its_server::{fill_in_join, register_for_a_lead};
use crate::{FreshTablet, enabled, one_window_at_a_time};

#[test]
fn the_leads_app_hands_a_lying_teammate_no_closed_case() -> Result<()> {
    if !enabled("the_leads_app_hands_a_lying_teammate_no_closed_case") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    let (_, case) = coordinator.open_case(["shelter", "--household", "2", "--alias", "Rahim-K"]);
    coordinator.ok(["case", "close", &case, "--outcome", "no_place"]);
    let lead_code = register_for_a_lead(&coordinator, &server)?;
    let volunteer_code = coordinator.json(["enrolment-code", "--role", "volunteer"]);
    let volunteer = Tablet::blank();
    volunteer.ok([
        "enrol",
        "--server",
        &server.url,
        "--code",
        volunteer_code["code"].as_str().context("a code")?,
        "--device-name",
        "volunteer",
    ]);
    volunteer.json(["sync"]);
    let case_id: maraude_core::ids::CaseId = case.parse()?;
    let document = maraude_store::document_id(case_id.as_uuid()).to_string();
    let liar = LyingTeammate::start(&volunteer, vec![document.clone()]);

    let tablet = FreshTablet::start(&[])?;
    tablet.run("lying-teammate", |app, _| {
        app.resize(1280, 800)?;
        crate::language(app, "fr")?;
        crate::day_mode(app)?;
        fill_in_join(app, &server.url, &lead_code)?;
        app.click("[data-e2e=submit]")?;
        app.wait_for_text_containing("[data-e2e=sync-status]", "Synchronisé à l’instant")?;
        app.click("[data-e2e=nav-teammates]")?;
        app.type_into("[data-e2e=teammates-address-input]", &liar.address)?;
        app.click("[data-e2e=teammates-sync-now]")?;
        // What the volunteer's role receives (tonight's shift) is offered;
        // the closed case is not (checked in its store below).
        app.wait_for_text_containing(
            "[data-e2e=teammates-sync-result]",
            "Partagé avec la tablette «",
        )?;
        Ok(())
    })?;
    ensure!(
        liar.holds(&document) == Subject::Unknown,
        "the lead's app handed a closed case to a volunteer's tablet"
    );
    Ok(())
}
