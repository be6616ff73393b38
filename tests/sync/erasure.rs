//! Erasing a follow-up case through sync: a lead erases it on one tablet, or
//! the server erases it by retention; afterwards its alias and phone cannot
//! be read in any decrypted store, the server's included, a teammate's
//! offline note on it does not bring it back, and the period figures are
//! unchanged.

use std::time::Duration;

use maraude_store::Passphrase;
use serde_json::Value;

use crate::a_team_syncs::{join, open, register, sync};
use crate::server::{SERVER_PASSPHRASE, Server};
use crate::tablet::{PASSPHRASE, Tablet};
use maraude_store::forensic::readable;

const ALIAS: &str = "Amina-Zeta-4471";
const PHONE: &str = "+33 6 71 44 90 12";

fn tablet_pass() -> Passphrase {
    Passphrase::new(PASSPHRASE.into())
}

fn server_pass() -> Passphrase {
    Passphrase::new(SERVER_PASSPHRASE.into())
}

/// A coordinator's tablet with Mira as lead, tonight's shift, and a
/// shelter request for [`ALIAS`]; the case id.
fn coordinator_with_a_case() -> (Tablet, String) {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    let (_, case) = coordinator.open_case([
        "shelter",
        "--household",
        "2",
        "--alias",
        ALIAS,
        "--phone",
        PHONE,
    ]);
    (coordinator, case)
}

fn cases_opened(tablet: &Tablet) -> Value {
    let year = tablet.json(["report", "period", "--from", "2000-01-01"]);
    year["cases"].clone()
}

fn antenna_of(tablet: &Tablet) -> String {
    open(tablet).antenna_id().to_string()
}

#[test]
fn a_case_a_lead_erases_leaves_every_store_and_the_server_and_does_not_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, case) = coordinator_with_a_case();
    register(&coordinator, &server);
    let lead = join(&coordinator, &server, "lead");
    let volunteer = join(&coordinator, &server, "volunteer");
    for t in [&coordinator, &lead, &volunteer] {
        sync(t);
    }
    let server_store = server.antenna_store_path(&antenna_of(&coordinator));
    let figures = cases_opened(&coordinator);
    assert_eq!(figures["shelter_requests_opened"], 1, "{figures}");
    assert_eq!(figures["still_open"], 1, "{figures}");
    for (path, pass) in [
        (volunteer.store().to_path_buf(), tablet_pass()),
        (server_store.clone(), server_pass()),
    ] {
        assert!(
            readable(&path, &pass, ALIAS).unwrap(),
            "the check sees the alias at first"
        );
    }

    // Offline, the volunteer adds a note while the lead erases the case.
    volunteer.ok(["case", "note", &case, "rappeler demain matin"]);
    let refused = lead.refused(["case", "erase", &case, "--by", "Mira"]);
    assert!(refused.contains("--confirm"), "{refused}");
    let not_a_lead = lead.refused(["case", "erase", &case, "--confirm", "--by", "Jo"]);
    assert!(not_a_lead.contains("only an active lead"), "{not_a_lead}");
    lead.ok(["case", "erase", &case, "--confirm", "--by", "Mira"]);

    sync(&lead);
    let erased_on_volunteer = sync(&volunteer);
    assert_eq!(
        erased_on_volunteer["cases_erased"], 1,
        "{erased_on_volunteer}"
    );
    for t in [&coordinator, &lead, &volunteer, &coordinator] {
        sync(t);
    }

    let tablets = [&coordinator, &lead, &volunteer];
    for t in tablets {
        let shown = t.refused(["case", "show", &case]);
        assert!(shown.contains("no case"), "{shown}");
        let after = cases_opened(t);
        assert_eq!(
            after["shelter_requests_opened"], 1,
            "the figures stay: {after}"
        );
        assert_eq!(after["still_open"], 0, "{after}");
        assert_eq!(after["outcomes"]["erased_while_open"], 1, "{after}");
        for needle in [ALIAS, PHONE, "rappeler demain"] {
            assert!(
                !readable(t.store(), &tablet_pass(), needle).unwrap(),
                "{needle} readable on a tablet"
            );
        }
    }
    for needle in [ALIAS, PHONE, "rappeler demain"] {
        assert!(
            !readable(&server_store, &server_pass(), needle).unwrap(),
            "{needle} readable on the server"
        );
    }
    let dump = open(&coordinator).index_dump().unwrap();
    for t in [&lead, &volunteer] {
        assert_eq!(open(t).index_dump().unwrap(), dump);
    }
    let on_server = server.antenna_store(&antenna_of(&coordinator));
    assert_eq!(on_server.index_dump().unwrap(), dump);
    assert_eq!(on_server.erased_cases().unwrap().len(), 1);
}

#[test]
fn the_server_erases_a_case_past_retention_and_the_tablets_follow() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &dir.path().join("server"),
        &[("MARAUDE_RETENTION_CHECK_SECS", "1")],
    );
    let (coordinator, case) = coordinator_with_a_case();
    register(&coordinator, &server);
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    sync(&volunteer);
    let antenna = antenna_of(&coordinator);

    // The coordinator shortens the antenna's retention to nothing while
    // the case is still open; a volunteer closes it in the field. A
    // volunteer's tablet writes no tombstone: the server's retention
    // erases the case once it holds the closing.
    open(&coordinator)
        .update_antenna(|a| {
            a.settings.retention_days = 0;
            Ok(())
        })
        .unwrap();
    sync(&coordinator);
    volunteer.ok(["case", "close", &case, "--outcome", "no_place"]);
    let got = sync(&volunteer);
    assert_eq!(got["cases_erased"], 0, "{got}");
    server.wait_for_an_erasure(&antenna, Duration::from_secs(20));
    let server_store = server.antenna_store_path(&antenna);
    assert!(!readable(&server_store, &server_pass(), ALIAS).unwrap());
    assert!(!readable(&server_store, &server_pass(), PHONE).unwrap());

    // The coordinator still has it, open (the closing and the tombstone
    // come in the same sync).
    let got = sync(&coordinator);
    assert_eq!(got["cases_erased"], 1, "{got}");
    assert!(!readable(coordinator.store(), &tablet_pass(), ALIAS).unwrap());
    let erased = open(&coordinator).erased_cases().unwrap();
    assert_eq!(
        erased[0].1.erased_because,
        Some(maraude_core::erasure::ErasedBecause::Retention)
    );
    assert_eq!(cases_opened(&coordinator)["outcomes"]["no_place"], 1);
}
