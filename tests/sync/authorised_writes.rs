//! What a volunteer's tablet may write, held by every receiver: its role
//! is the one its enrolment certified, never what the tablet says of
//! itself (`maraude_core::authority`, `maraude_sync::door`).

use maraude_core::access::Subject;
use serde_json::Value;

use crate::a_team_syncs::{distributed, join, open, register, sync};
use crate::js_client::JsDevice;
use crate::lying_teammate::LyingTeammate;
use crate::server::Server;
use crate::tablet::{Tablet, parse_json, succeeded, text};

const ALIAS: &str = "Rahim-K";

/// The coordinator's tablet with tonight's shift and an open case,
/// registered on `server`, and a volunteer's tablet enrolled with a code:
/// both synced.
fn a_team(server: &Server) -> (Tablet, Tablet, String) {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    let (_, case) = coordinator.open_case(["shelter", "--household", "2", "--alias", ALIAS]);
    register(&coordinator, server);
    let volunteer = join(&coordinator, server, "volunteer");
    sync(&coordinator);
    sync(&volunteer);
    (coordinator, volunteer, case)
}

fn refusals(summary: &Value) -> String {
    summary["refusals"]
        .as_array()
        .map(|r| r.iter().map(|l| text(l).to_string()).collect::<Vec<_>>())
        .unwrap_or_default()
        .join("\n")
}

/// A modified client: the same tablet telling its own store that it is
/// its antenna's coordinator (what a nickname or a patched app would
/// claim). Its credential and certificate still say volunteer.
pub fn claim_to_be_coordinator(tablet: &Tablet) {
    let mut store = open(tablet);
    let mut link = store.server_link().unwrap().unwrap();
    link.role = "coordinator".into();
    store.set_server_link(&link).unwrap();
}

#[test]
fn a_volunteers_tablet_neither_promotes_itself_nor_erases_a_case_even_modified() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, volunteer, case) = a_team(&server);

    // The stock command says no, and why.
    let said = volunteer.refused(["volunteer", "add", "Mallory", "--role", "coordinator"]);
    assert!(said.contains("ask a lead or a coordinator"), "{said}");
    let said = volunteer.refused(["--by", "Mira", "case", "erase", &case, "--confirm"]);
    assert!(
        said.contains("only a lead's or a coordinator's tablet"),
        "{said}"
    );

    // A modified client writes both into its antenna document, and logs
    // three blankets in tonight's shift.
    claim_to_be_coordinator(&volunteer);
    volunteer.ok(["volunteer", "add", "Mallory", "--role", "coordinator"]);
    volunteer.ok(["--by", "Mallory", "case", "erase", &case, "--confirm"]);
    volunteer.log(["--by", "Jo", "distribution", "blanket", "3"]);
    let got = sync(&volunteer);
    let said = refusals(&got);
    assert!(
        said.contains("reference_data") || said.contains("erasure_not_allowed"),
        "the server must say which rule refused the antenna document: {got}"
    );

    // The server and the coordinator follow none of it; the blankets,
    // which a volunteer may log, arrive.
    let on_server = server.antenna_store(&open(&coordinator).antenna_id().to_string());
    assert!(on_server.case(&case.parse().unwrap()).is_ok());
    assert!(on_server.erased_cases().unwrap().is_empty());
    let listed = on_server.antenna().unwrap().volunteers;
    assert!(
        !listed.contains_key(&"Mallory".parse().unwrap()),
        "{listed:?}"
    );
    sync(&coordinator);
    let shown = coordinator.ok(["case", "show", &case]);
    assert!(shown.contains(ALIAS), "{shown}");
    let volunteers = coordinator.ok(["volunteer", "list"]);
    assert!(!volunteers.contains("Mallory"), "{volunteers}");
    assert_eq!(distributed(&coordinator, "blanket"), 3);

    // Its next syncs still carry what it may write.
    volunteer.log(["--by", "Jo", "distribution", "blanket", "2"]);
    let again = sync(&volunteer);
    assert!(!refusals(&again).is_empty(), "still refused: {again}");
    sync(&coordinator);
    assert_eq!(distributed(&coordinator, "blanket"), 5);
}

#[test]
fn a_javascript_client_with_a_volunteers_ticket_cannot_erase_bump_the_schema_or_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, _volunteer, case) = a_team(&server);
    // A closed case: volunteers do not even receive it.
    coordinator.ok(["case", "close", &case, "--outcome", "no_place"]);
    sync(&coordinator);
    let js = JsDevice::enrol(&coordinator, &server, "volunteer");
    let antenna = open(&coordinator).antenna_id();
    let antenna_doc = maraude_store::document_id(antenna.as_uuid()).to_string();
    let case_uuid = case
        .parse::<maraude_core::ids::CaseId>()
        .unwrap()
        .to_string();

    for what in ["tombstone", "schema", "retention"] {
        let answer = js.run(
            &server,
            "forge",
            &antenna_doc,
            &["--what", what, "--case", &case_uuid, "--by", "Mira"],
        );
        let answer = succeeded(answer);
        assert_eq!(
            parse_json(&answer)["held"],
            false,
            "the server confirmed a forged {what}: {}",
            answer.stderr
        );
    }

    let on_server = server.antenna_store(&antenna.to_string());
    assert!(on_server.case(&case.parse().unwrap()).is_ok());
    assert!(on_server.erased_cases().unwrap().is_empty());
    assert_eq!(on_server.antenna().unwrap().settings.retention_days, 30);
    // The coordinator's tablet goes on as before: the case is there, and
    // a new shift starts (an antenna document of a newer schema would
    // stop it).
    let got = sync(&coordinator);
    assert_eq!(got["cases_erased"], 0, "{got}");
    let shown = coordinator.ok(["case", "show", &case]);
    assert!(shown.contains(ALIAS), "{shown}");
    coordinator.ok(["shift", "end"]);
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    assert_eq!(
        open(&coordinator)
            .antenna()
            .unwrap()
            .settings
            .retention_days,
        30
    );
    assert_eq!(
        on_server
            .subject(&maraude_store::document_id(antenna.as_uuid()))
            .unwrap(),
        Subject::Antenna
    );
}

#[test]
fn a_leads_tablet_hands_a_lying_teammate_no_closed_case_and_takes_none_of_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, volunteer, case) = a_team(&server);
    let lead = join(&coordinator, &server, "lead");
    // A second case, closed before the volunteer's tablet ever had it.
    let (_, other) = coordinator.open_case(["shelter", "--household", "1", "--alias", "Samir-B"]);
    coordinator.ok(["case", "close", &other, "--outcome", "no_place"]);
    sync(&coordinator);
    // Offline, the volunteer adds a note to the first case, still open on
    // its tablet, while a lead closes it.
    volunteer.ok(["case", "note", &case, "rappeler demain"]);
    sync(&lead);
    lead.ok([
        "--by",
        "Mira",
        "case",
        "close",
        &case,
        "--outcome",
        "no_place",
    ]);
    sync(&lead);
    let doc_of = |case: &str| {
        let id: maraude_core::ids::CaseId = case.parse().unwrap();
        maraude_store::document_id(id.as_uuid()).to_string()
    };
    let (first, second) = (doc_of(&case), doc_of(&other));

    // The volunteer's modified tablet lists both as changed on its side,
    // and hands out a team secret of its own.
    let team_secret = |tablet: &Tablet| {
        use secrecy::ExposeSecret;
        let link = open(tablet).server_link().unwrap().unwrap();
        let secret = link.certificate.unwrap().team_secret.unwrap();
        secret.expose_secret().to_vec()
    };
    let secret_before = team_secret(&lead);
    let liar = LyingTeammate::start(&volunteer, vec![first.clone(), second.clone()]);
    let got = lead.json(["sync", "--peer", &liar.address]);
    assert_eq!(got["documents_received"], 0, "{got}");
    assert_eq!(
        team_secret(&lead),
        secret_before,
        "the lead's tablet took a teammate's team secret"
    );
    assert_eq!(
        liar.holds(&second),
        Subject::Unknown,
        "the lead's tablet handed a closed case to a volunteer's"
    );
    // The volunteer's copy stays as it was: open, without the closing.
    assert_eq!(liar.holds(&first), Subject::Case { open: true });
    // Its start_over did not make the lead's tablet forget what they
    // share: a second sync has nothing to compare again.
    let again = lead.json(["sync", "--peer", &liar.address]);
    assert_eq!(again["documents_sent"], 0, "{again}");
    drop(liar);
    // And the lead's copy has no note of the volunteer's.
    let shown = lead.ok(["case", "show", &case]);
    assert!(!shown.contains("rappeler demain"), "{shown}");
    // Nor what it shares with the server: nothing new to send there.
    let again = sync(&lead);
    assert_eq!(again["documents_sent"], 0, "{again}");
}

/// Stock on hand of `item` as `tablet`'s `maraude stock show` says.
fn on_hand(tablet: &Tablet, item: &str) -> Option<i64> {
    let stock = tablet.json(["stock", "show"]);
    stock["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == item)
        .map(|l| l["on_hand"].as_i64().unwrap())
}

#[test]
fn the_warehouse_is_the_leads_and_coordinators_a_volunteers_tablet_neither_writes_nor_gets_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, volunteer, _case) = a_team(&server);
    let lead = join(&coordinator, &server, "lead");
    sync(&lead);

    // The volunteer's tablet says no; modified, it records 500 tents
    // received and sends its warehouse first.
    let said = volunteer.refused(["stock", "receive", "tent", "500"]);
    assert!(said.contains("may not create a new warehouse"), "{said}");
    claim_to_be_coordinator(&volunteer);
    volunteer.ok(["stock", "receive", "tent", "500"]);
    let got = sync(&volunteer);
    assert!(
        refusals(&got).contains("new_document_refused"),
        "the server must refuse a volunteer's warehouse: {got}"
    );

    // A lead records a donation at the warehouse; the coordinator's tablet
    // gets it, with none of the volunteer's tents.
    lead.ok([
        "stock",
        "receive",
        "sleeping_bag",
        "80",
        "--from",
        "Secours populaire",
    ]);
    sync(&lead);
    sync(&coordinator);
    assert_eq!(on_hand(&coordinator, "sleeping_bag"), Some(80));
    assert_eq!(on_hand(&coordinator, "tent"), None);

    // The volunteer's next sync brings it no warehouse: its own forged one
    // is all it holds, and the server says at once that it is not the
    // volunteer's (it used to stay silent, and the sync hung).
    let again = sync(&volunteer);
    assert!(
        refusals(&again).contains("out_of_scope"),
        "still refused: {again}"
    );
    assert_eq!(on_hand(&volunteer, "sleeping_bag"), None);
}

#[test]
fn a_leads_modified_client_cannot_sign_a_donation_with_another_tablets_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, _volunteer, _case) = a_team(&server);
    let lead = join(&coordinator, &server, "lead");
    sync(&lead);
    lead.ok(["stock", "receive", "blanket", "10"]);
    sync(&lead);
    // A lead's ticket in a program of its own: it writes straight into
    // the warehouse document, around every check of the app.
    let js = JsDevice::enrol(&coordinator, &server, "lead");
    let antenna = open(&coordinator).antenna_id();
    let warehouse = maraude_store::document_id(&maraude_core::warehouse::warehouse_id(antenna));
    let forge = |signed: maraude_core::ids::DeviceId, quantity: &str| {
        let answer = js.run(
            &server,
            "forge",
            &warehouse.to_string(),
            &[
                "--what",
                "movement",
                "--signed",
                &signed.to_string(),
                "--quantity",
                quantity,
            ],
        );
        parse_json(&succeeded(answer))["held"] == true
    };
    assert!(
        !forge(open(&coordinator).device(), "500"),
        "the server took 500 blankets signed as the coordinator's tablet"
    );
    assert!(
        !forge(open(&lead).device(), "300"),
        "the server took 300 blankets signed as the lead's tablet"
    );
    // The control: the same program signing as itself is heard.
    assert!(
        forge(js.id(), "40"),
        "the server refused an honest donation"
    );

    sync(&coordinator);
    assert_eq!(on_hand(&coordinator, "blanket"), Some(50));
    let movements = server
        .antenna_store(&antenna.to_string())
        .movements()
        .unwrap();
    assert_eq!(movements.len(), 2, "{movements:?}");
}

#[test]
fn the_warehouse_goes_through_the_server_never_between_teammates() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, _volunteer, _case) = a_team(&server);
    let (first, second) = (
        join(&coordinator, &server, "lead"),
        join(&coordinator, &server, "lead"),
    );
    sync(&first);
    sync(&second);
    first.ok(["stock", "receive", "blanket", "10"]);
    second.ok(["stock", "receive", "blanket", "5"]);
    let shifts = |tablet: &Tablet| tablet.json(["shift", "list"]).as_array().unwrap().len();
    let held = shifts(&second);
    {
        let serving = crate::teammates::Serving::start(&second);
        first.ok(["shift", "start", "--lead", "Mira"]);
        let got = first.json(["sync", "--peer", &serving.address]);
        assert!(refusals(&got).is_empty(), "{got}");
    }
    // The shift went across; the warehouse stayed on each tablet.
    assert_eq!(on_hand(&first, "blanket"), Some(10));
    assert_eq!(on_hand(&second, "blanket"), Some(5));
    assert_eq!(shifts(&second), held + 1);
    // Through the server, both donations reach both.
    sync(&first);
    sync(&second);
    sync(&first);
    assert_eq!(on_hand(&first, "blanket"), Some(15));
    assert_eq!(on_hand(&second, "blanket"), Some(15));
}
