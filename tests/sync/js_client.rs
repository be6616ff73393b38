//! A standard JavaScript automerge-repo client — Node with the npm
//! packages as they ship, `tests/js/client.mjs` — enrolled in an antenna
//! reads a shift the Rust side wrote and adds an entry that the Rust side
//! then reports; a client of another antenna asking for the same document
//! gets nothing. Its WebSocket cannot carry the credential in a header, so
//! it opens the sync socket with a single-use ticket.
//!
//! Needs Node.js 20+ and `npm ci` in `tests/js` (`scripts/test.sh` does it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use maraude_core::entry::Entry;
use maraude_core::ids::{DeviceId, ShiftId};
use maraude_protocol::api::{self, Enrol, Enrolled, SyncTicket};
use serde_json::Value;

use crate::a_team_syncs::{distributed, open, register, sync};
use crate::server::Server;
use crate::tablet::{Answer, Tablet, finish_within, parse_json, succeeded, text};

/// Longer than the client's own 20 s waits: it must answer before this.
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// The client's exit code when the server says the document is not there
/// for this device.
const UNAVAILABLE: i32 = 3;

/// The client script, once its npm packages are installed.
fn client_script() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "the JavaScript client test needs Node.js 20 or later as `node` on the PATH: {node:?}"
    );
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").is_dir(),
        "no npm packages in {}: run `npm ci` there (scripts/test.sh does)",
        dir.display()
    );
    dir.join("client.mjs")
}

/// HTTP calls that hand back error answers too (status and JSON body).
fn post(server: &Server, path: &str, bearer: Option<&str>, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.post(format!("{}{path}", server.url));
    if let Some(credential) = bearer {
        request = request.header(api::AUTHORIZATION, format!("Bearer {credential}"));
    }
    let mut answer = request
        .send_json(body)
        .unwrap_or_else(|e| panic!("POST {path}: no answer: {e}"));
    let status = answer.status().as_u16();
    let body = answer.body_mut().read_json().unwrap_or(Value::Null);
    (status, body)
}

/// A device of an antenna that is a JavaScript program.
pub(crate) struct JsDevice {
    id: DeviceId,
    credential: String,
}

impl JsDevice {
    /// Enrolled with a code the coordinator's tablet asks for, through the
    /// REST call any client makes.
    pub(crate) fn enrol(coordinator: &Tablet, server: &Server, role: &str) -> Self {
        let code = coordinator.json(["enrolment-code", "--role", role]);
        let id = DeviceId::new();
        let request = Enrol {
            code: text(&code["code"]).to_string(),
            device: *id.as_uuid(),
            device_name: format!("automerge-repo JS ({role})"),
            public_key: None,
        };
        let (status, body) = post(
            server,
            "/v1/enrol",
            None,
            &serde_json::to_value(request).unwrap(),
        );
        assert_eq!(status, 200, "enrolment refused: {body}");
        let enrolled: Enrolled = serde_json::from_value(body).unwrap();
        JsDevice {
            id,
            credential: enrolled.credential,
        }
    }

    /// `node client.mjs MODE …` against `server` for `document`.
    pub(crate) fn run(
        &self,
        server: &Server,
        mode: &str,
        document: &str,
        extra: &[&str],
    ) -> Answer {
        let mut cmd = Command::new("node");
        cmd.arg(client_script())
            .arg(mode)
            .args(["--server", &server.url])
            .args(["--device", &self.id.to_string()])
            .args(["--document", document])
            .args(extra)
            .env("MARAUDE_CREDENTIAL", &self.credential);
        finish_within(cmd, CLIENT_LIMIT)
    }

    pub(crate) fn id(&self) -> DeviceId {
        self.id
    }

    fn ticket(&self, server: &Server) -> (u16, Value) {
        post(
            server,
            "/v1/sync/ticket",
            Some(&self.credential),
            &Value::Null,
        )
    }
}

/// The automerge-repo id of the tablet's current shift document.
fn shift_document(tablet: &Tablet) -> String {
    let shifts = tablet.json(["shift", "list"]);
    let shift: ShiftId = text(&shifts[0]["id"]).parse().unwrap();
    maraude_store::document_id(shift.as_uuid()).to_string()
}

/// A coordinator's tablet for `antenna` with tonight's shift open and
/// these distributions logged (item, quantity), registered on `server`
/// and synced.
fn antenna_on(server: &Server, antenna: &str, distributions: &[(&str, &str)]) -> Tablet {
    let coordinator = Tablet::for_antenna(antenna);
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    for (item, quantity) in distributions {
        coordinator.log(["distribution", item, quantity]);
    }
    register(&coordinator, server);
    sync(&coordinator);
    coordinator
}

#[test]
fn a_javascript_client_reads_the_shift_and_its_blankets_reach_the_night_report() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = antenna_on(&server, "Calais", &[("blanket", "3"), ("tea_coffee", "5")]);
    let js = JsDevice::enrol(&coordinator, &server, "volunteer");
    let document = shift_document(&coordinator);

    let answer = js.run(
        &server,
        "log",
        &document,
        &["--item", "blanket", "--quantity", "2", "--by", "Nour"],
    );
    let read = parse_json(&succeeded(answer));
    // As records: the documents leave out what reads back by default (a
    // composition nobody counted), which the tablet's JSON spells out.
    let records = |v: &Value| serde_json::from_value::<Vec<Entry>>(v.clone()).unwrap();
    assert_eq!(
        records(&read["entries"]),
        records(&coordinator.json(["entries"])),
        "the JS client reads the entries exactly as the tablet wrote them"
    );
    assert_eq!(distributed(&coordinator, "blanket"), 3);

    let got = sync(&coordinator);
    assert_eq!(got["documents_received"], 1, "{got}");
    assert_eq!(
        distributed(&coordinator, "blanket"),
        5,
        "3 + the JS client's 2"
    );
    assert_eq!(distributed(&coordinator, "tea_coffee"), 5);
    let entries = coordinator.json(["entries"]);
    let logged = &read["logged"];
    let found = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == logged["id"])
        .unwrap_or_else(|| panic!("the JS entry {logged} is not in the tablet's log {entries}"));
    assert_eq!(found, logged, "the tablet reads the JS entry as written");
    assert_eq!(found["device"], js.id.to_string().as_str());
    let antenna = open(&coordinator).antenna_id().to_string();
    assert_eq!(
        server.antenna_store(&antenna).index_dump().unwrap(),
        open(&coordinator).index_dump().unwrap(),
        "the server indexed the JS entry as the tablet did"
    );
}

#[test]
fn a_javascript_client_of_another_antenna_cannot_obtain_the_shift() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let calais = antenna_on(&server, "Calais", &[("blanket", "7")]);
    let dunkerque = antenna_on(&server, "Dunkerque", &[]);
    let document = shift_document(&calais);
    let outsider = JsDevice::enrol(&dunkerque, &server, "coordinator");
    let calais_antenna = open(&calais).antenna_id().to_string();
    let dunkerque_antenna = open(&dunkerque).antenna_id().to_string();
    let before = server.antenna_store(&calais_antenna).index_dump().unwrap();

    let refused = outsider.run(&server, "find", &document, &[]);
    assert_eq!(
        refused.status.code(),
        Some(UNAVAILABLE),
        "a Dunkerque device must not obtain a Calais shift: {refused:?}"
    );
    assert!(refused.stderr.contains("unavailable"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);

    assert_eq!(server.get("/v1/health").0, 200, "the server stays up");
    assert_eq!(
        server.antenna_store(&calais_antenna).index_dump().unwrap(),
        before
    );
    let theirs = server
        .antenna_store(&dunkerque_antenna)
        .documents()
        .unwrap();
    assert_eq!(
        theirs.len(),
        2,
        "Dunkerque's store on the server holds its antenna and its shift: {theirs:?}"
    );
    assert!(
        theirs.iter().all(|(doc, _)| doc.to_string() != document),
        "the Calais shift reached Dunkerque's store"
    );
    // The same document, asked the same way by a device of Calais: there.
    let insider = JsDevice::enrol(&calais, &server, "volunteer");
    let read = parse_json(&succeeded(insider.run(&server, "find", &document, &[])));
    assert_eq!(read["entries"].as_array().map(Vec::len), Some(1), "{read}");
}

#[test]
fn a_sync_ticket_opens_one_connection_and_none_once_its_device_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = antenna_on(&server, "Calais", &[]);
    let js = JsDevice::enrol(&coordinator, &server, "volunteer");

    let (status, body) = js.ticket(&server);
    assert_eq!(status, 200, "{body}");
    let ticket: SyncTicket = serde_json::from_value(body).unwrap();
    assert_eq!(ticket.expires_in, 60);
    assert!(
        ticket.ticket.len() >= 22,
        "at least 128 bits: {}",
        ticket.ticket
    );
    let with_ticket = format!("/v1/sync?{}={}", api::TICKET_PARAM, ticket.ticket);
    // A plain GET is no WebSocket upgrade, but the ticket is spent on it.
    let (first, _) = server.get(&with_ticket);
    assert_ne!(first, 401, "a fresh ticket is accepted");
    let (again, said) = server.get(&with_ticket);
    assert_eq!(again, 401, "{said}");
    assert!(said.contains("already used"), "{said}");
    let (none, said) = server.get("/v1/sync");
    assert_eq!(none, 401, "{said}");
    assert!(said.contains("ticket"), "says how to connect: {said}");

    // A ticket issued before the device was revoked opens nothing after.
    let (_, body) = js.ticket(&server);
    let ticket: SyncTicket = serde_json::from_value(body).unwrap();
    coordinator.ok(["revoke", &js.id.to_string()]);
    let (status, said) = server.get(&format!("/v1/sync?ticket={}", ticket.ticket));
    assert_eq!(status, 401, "{said}");
    assert!(said.contains("revoked"), "{said}");
    let (status, said) = js.ticket(&server);
    assert_eq!(status, 401, "{said}");
    let refused = js.run(&server, "find", &shift_document(&coordinator), &[]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);
    assert!(server.is_running());
}
