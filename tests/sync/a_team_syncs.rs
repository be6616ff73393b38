use maraude_store::{Passphrase, Store};
use serde_json::Value;

use crate::server::{REGISTRATION_TOKEN, Server};
use crate::tablet::{PASSPHRASE, Tablet, finish, succeeded};

/// A tablet enrolled on `server`: the coordinator's registers its antenna;
/// the others join with a code it issues.
pub fn register(tablet: &Tablet, server: &Server) {
    register_at(tablet, &server.url);
}

/// [`register`] with the server at `url` (a proxy in front of it, say).
pub fn register_at(tablet: &Tablet, url: &str) {
    let mut cmd = tablet.command(["register", "--server", url]);
    cmd.env("MARAUDE_REGISTRATION_TOKEN", REGISTRATION_TOKEN);
    succeeded(finish(cmd));
}

pub fn join(coordinator: &Tablet, server: &Server, role: &str) -> Tablet {
    join_at(coordinator, &server.url, role)
}

pub fn join_at(coordinator: &Tablet, url: &str, role: &str) -> Tablet {
    let code = coordinator.json(["enrolment-code", "--role", role]);
    let code = code["code"].as_str().unwrap().to_string();
    let tablet = Tablet::blank();
    tablet.ok([
        "enrol",
        "--server",
        url,
        "--code",
        &code,
        "--device-name",
        role,
    ]);
    tablet
}

/// The id of the antenna's last enrolled tablet of `role`, as the
/// coordinator's `maraude devices` lists it.
pub fn last_device_of(coordinator: &Tablet, role: &str) -> String {
    coordinator
        .json(["devices"])
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|d| d["role"] == role)
        .map(|d| d["device"].as_str().unwrap().to_string())
        .unwrap()
}

pub fn sync(tablet: &Tablet) -> Value {
    tablet.json(["sync"])
}

pub fn open(tablet: &Tablet) -> Store {
    Store::open(tablet.store(), &Passphrase::new(PASSPHRASE.into())).unwrap()
}

/// How many of `item` the tablet's night report counts.
pub fn distributed(tablet: &Tablet, item: &str) -> u64 {
    let report = tablet.json(["report", "night"]);
    report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == item)
        .map(|i| i["quantity"].as_u64().unwrap())
        .unwrap_or(0)
}

#[test]
fn three_tablets_log_offline_and_converge_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok([
        "shift",
        "start",
        "--lead",
        "Mira",
        "--team",
        "Jo,Sam",
        "--load",
        "blanket=40",
    ]);
    coordinator.log(["distribution", "blanket", "2"]);
    register(&coordinator, &server);
    let lead = join(&coordinator, &server, "lead");
    let volunteer = join(&coordinator, &server, "volunteer");
    let first = sync(&coordinator);
    assert_eq!(
        first["documents_sent"], 2,
        "the antenna and the shift: {first}"
    );

    // The others receive the antenna and tonight's shift.
    for tablet in [&lead, &volunteer] {
        assert!(open(tablet).last_sync().unwrap().is_none());
        let got = sync(tablet);
        assert_eq!(got["documents_received"], 2, "{got}");
        assert_eq!(distributed(tablet, "blanket"), 2);
        // Recorded in the store, for the app's "synced 2 h ago".
        assert!(open(tablet).last_sync().unwrap().is_some());
    }

    // Offline, all three log into the same shift at once.
    lead.log(["distribution", "blanket", "3"]);
    volunteer.log(["distribution", "tea_coffee", "5"]);
    coordinator.log(["distribution", "blanket", "1"]);
    for tablet in [&lead, &volunteer, &coordinator, &lead, &volunteer] {
        sync(tablet);
    }
    for tablet in [&coordinator, &lead, &volunteer] {
        assert_eq!(distributed(tablet, "blanket"), 6);
        assert_eq!(distributed(tablet, "tea_coffee"), 5);
    }
    let dumps: Vec<Vec<String>> = [&coordinator, &lead, &volunteer]
        .iter()
        .map(|t| open(t).index_dump().unwrap())
        .collect();
    assert_eq!(dumps[0], dumps[1]);
    assert_eq!(dumps[0], dumps[2]);
    let antenna = open(&coordinator).antenna_id().to_string();
    assert_eq!(
        server.antenna_store(&antenna).index_dump().unwrap(),
        dumps[0]
    );

    // Nothing new: one request, nothing exchanged.
    let again = sync(&lead);
    assert_eq!(again["documents_sent"], 0, "{again}");
    assert_eq!(again["documents_received"], 0, "{again}");
    assert_eq!(again["bytes_sent"], 0, "{again}");
}

#[test]
fn a_revoked_tablet_and_a_wrong_credential_get_nothing_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register(&coordinator, &server);
    let lost = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    sync(&lost);
    let lost_id = last_device_of(&coordinator, "volunteer");
    coordinator.ok(["revoke", &lost_id]);
    coordinator.log(["distribution", "blanket", "4"]);
    sync(&coordinator);

    let refused = lost.refused(["sync"]);
    assert!(refused.contains("revoked"), "{refused}");
    assert_eq!(distributed(&lost, "blanket"), 0, "nothing reached it");
    let listed = coordinator.json(["devices"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["device"] == lost_id.as_str() && !d["revoked_at"].is_null()),
        "{listed}"
    );

    // No credential, or a made-up one: 401 with a sentence, server up.
    let (status, body) = server.get("/v1/sync/pending");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("credential"), "{body}");
    assert!(server.is_running());

    // A volunteer cannot enrol devices.
    let volunteer = join(&coordinator, &server, "volunteer");
    let refused = volunteer.refused(["enrolment-code"]);
    assert!(refused.contains("lead or a coordinator"), "{refused}");
}

#[test]
fn another_antenna_on_the_same_server_receives_nothing_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let calais = Tablet::for_antenna("Calais");
    calais.ok(["shift", "start", "--lead", "Mira"]);
    calais.log(["distribution", "blanket", "7"]);
    register(&calais, &server);
    sync(&calais);
    let dunkerque = Tablet::for_antenna("Dunkerque");
    register(&dunkerque, &server);
    let got = sync(&dunkerque);
    assert_eq!(got["documents_received"], 0, "{got}");
    assert_eq!(distributed(&calais, "blanket"), 7);
    let store = open(&dunkerque);
    assert_eq!(store.documents().unwrap().len(), 1, "only its own antenna");
    let err = dunkerque.refused(["report", "night"]);
    assert!(!err.is_empty());
}

#[test]
fn a_tablet_whose_server_is_down_is_told_to_check_the_network_and_keeps_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register(&coordinator, &server);
    sync(&coordinator);
    server.kill();
    coordinator.log(["distribution", "blanket", "2"]);

    let said = coordinator.refused(["sync"]);
    assert!(
        said.contains("cannot reach the server") && said.contains("check the network"),
        "{said}"
    );
    assert_eq!(
        coordinator.entry_ids().len(),
        1,
        "the entry logged offline stays"
    );
    server.restart();
    assert_eq!(sync(&coordinator)["documents_sent"], 1);
}
