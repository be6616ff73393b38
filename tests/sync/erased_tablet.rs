//! Erasing a tablet tells the server first: its credential stops working,
//! even from a copy of its store taken before (a seized tablet's disk);
//! without a network the store goes all the same, and the answer says the
//! server was not told, so that a lead revokes the tablet. Clearing it in
//! a hurry keeps only what the server does not hold yet.

use serde_json::Value;

use crate::a_team_syncs::{join, open, sync};
use crate::ranks::coordinator_on;
use crate::server::Server;
use crate::tablet::Tablet;

/// A copy of `tablet`'s store files, as someone who took its disk has.
fn copy_of(tablet: &Tablet) -> Tablet {
    let copy = Tablet::blank();
    std::fs::copy(tablet.store(), copy.store()).unwrap();
    if tablet.wal().exists() {
        std::fs::copy(tablet.wal(), copy.wal()).unwrap();
    }
    copy
}

/// The coordinator's view of the tablet `device` on the server.
fn on_server(coordinator: &Tablet, device: &str) -> Value {
    let devices = coordinator.json(["devices"]);
    devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == device)
        .cloned()
        .unwrap_or_else(|| panic!("{device} not in {devices}"))
}

/// A server in `dir`, Calais's coordinator on tonight's shift and a
/// volunteer's tablet, both synced.
fn calais_with_a_volunteer(dir: &std::path::Path) -> (Server, Tablet, Tablet) {
    let server = Server::start(&dir.join("server"));
    let coordinator = coordinator_on(&server);
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    sync(&volunteer);
    (server, coordinator, volunteer)
}

#[test]
fn an_erased_tablet_is_revoked_and_a_copy_of_its_store_syncs_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, coordinator, volunteer) = calais_with_a_volunteer(dir.path());
    let device = open(&volunteer).device().to_string();
    let taken = copy_of(&volunteer);

    // A wrong confirmation erases nothing and tells the server nothing.
    let said = volunteer.refused(["erase-device", "--confirm", "Dunkerque"]);
    assert!(said.contains("nothing was erased"), "{said}");
    assert!(volunteer.store().exists());
    assert!(on_server(&coordinator, &device)["revoked_at"].is_null());

    let erased = volunteer.json(["erase-device", "--confirm", "calais"]);
    assert_eq!(erased["server"], "revoked", "{erased}");
    assert!(!volunteer.store().exists() && !volunteer.wal().exists());
    assert!(!on_server(&coordinator, &device)["revoked_at"].is_null());
    let said = taken.refused(["sync"]);
    assert!(said.contains("revoked"), "{said}");

    // The antenna's last coordinator tablet: erased all the same, and the
    // server, which keeps it enrolled, is said to have refused.
    let erased = coordinator.json(["erase-device", "--confirm", "Calais"]);
    assert_eq!(erased["server"], "refused", "{erased}");
    assert_eq!(erased["code"], "last_coordinator", "{erased}");
    assert!(!coordinator.store().exists());
}

#[test]
fn a_tablet_erased_out_of_reach_is_erased_and_says_the_server_was_not_told() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let lead = join(&coordinator, &server, "lead");
    sync(&coordinator);
    sync(&lead);
    let device = open(&lead).device().to_string();

    server.kill();
    let erased = lead.json(["erase-device", "--confirm", "Calais"]);
    assert_eq!(erased["server"], "not_reached", "{erased}");
    assert!(!lead.store().exists());

    // The server never heard of it: the tablet is still enrolled there,
    // for a coordinator to revoke by hand, as the answer said.
    server.restart();
    assert!(on_server(&coordinator, &device)["revoked_at"].is_null());
    coordinator.ok(["revoke", &device]);
    assert!(!on_server(&coordinator, &device)["revoked_at"].is_null());
}

/// A checkpoint ahead: the volunteer clears the tablet. What the server
/// holds (tonight's shift with the coordinator's incident) is no longer in
/// the decrypted store; what it did not hold yet (the volunteer's own
/// entry) stays, and reaches the server at the next sync.
#[test]
fn a_cleared_tablet_keeps_only_what_the_server_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, coordinator, volunteer) = calais_with_a_volunteer(dir.path());
    // The volunteer's tablet logs in a log of its own, linked from the
    // shift: both reach the server.
    volunteer.log(["note", "Premiere-note-envoyee"]);
    sync(&volunteer);
    // The coordinator's incident reaches the volunteer's tablet.
    let seen = "Expulsion-vue-par-la-coordination-8812";
    coordinator.log([
        "incident",
        "--type",
        "eviction",
        "--people",
        "12",
        "--description",
        seen,
    ]);
    sync(&coordinator);
    sync(&volunteer);
    let passphrase = maraude_store::Passphrase::new(crate::tablet::PASSPHRASE.into());
    let readable = |needle: &str| {
        maraude_store::forensic::readable(volunteer.store(), &passphrase, needle).unwrap()
    };
    assert!(readable(seen));
    // Not sent yet: only the tablet's own log changes.
    let own = "Note-du-benevole-pas-encore-envoyee-3307";
    volunteer.log(["note", own]);

    let said = volunteer.refused(["clear", "--confirm", "Dunkerque"]);
    assert!(said.contains("nothing was cleared"), "{said}");
    let cleared = volunteer.json(["clear", "--confirm", "calais"]);
    assert!(cleared["documents"].as_u64().unwrap() >= 1, "{cleared}");
    assert!(
        !readable(seen),
        "the server's incident is still on the tablet"
    );
    assert!(readable(own), "what was not sent was lost");

    sync(&volunteer);
    sync(&coordinator);
    let notes = coordinator.ok(["entries"]);
    assert!(notes.contains(own), "{notes}");
}
