//! The server with PostgreSQL (`--database-url`): a team enrols and syncs
//! as with the embedded store; the registry and the documents outlive the
//! server's folder; a dump of the database shows no entry, case, alias,
//! note or key; the database
//! out of reach at start and mid-run: the server says so, refuses with a
//! time to retry, and recovers by itself once it is back.

use std::time::{Duration, Instant};

use maraude_tests::postgres::{self, Cluster};

use crate::a_team_syncs::{distributed, join, open, register, sync};
use crate::server::Server;
use crate::tablet::{Tablet, finish};

fn on_database(url: &str) -> [(&'static str, String); 1] {
    [("MARAUDE_DATABASE_URL", url.to_string())]
}

fn start(dir: &std::path::Path, url: &str) -> Server {
    let env = on_database(url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(dir, &env)
}

#[test]
fn a_team_syncs_through_a_server_whose_registry_is_in_postgresql() {
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(&dir.path().join("server"), &url);
    assert_eq!(server.get("/v1/ready").0, 200);
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=40"]);
    coordinator.log(["distribution", "blanket", "2"]);
    coordinator.log(["note", "Tente-bleue-derriere-le-hangar"]);
    register(&coordinator, &server);
    let volunteer = join(&coordinator, &server, "volunteer");
    let (_, case) =
        coordinator.open_case(["shelter", "--household", "2", "--alias", "Samir-Dunes"]);
    coordinator.ok(["case", "note", &case, "rappeler-avant-mardi"]);
    sync(&coordinator);
    sync(&volunteer);
    assert_eq!(distributed(&volunteer, "blanket"), 2);

    // The registry is in the database, not in the server's folder.
    assert!(!dir.path().join("server/registry.maraude").exists());
    let devices = postgres::psql(&url, "SELECT count(*) FROM devices");
    assert_eq!(devices.trim(), "2");

    // A dump of the database, as an operator's backup holds it, shows no
    // entry, case, alias, note, nor the authority's key (bytea is written
    // in hex: both forms are looked for).
    let antenna = open(&coordinator).antenna_id().to_string();
    let dump = postgres::dump(&url);
    let chunks = postgres::psql(&url, "SELECT count(*) FROM chunks");
    // Documents' chunks only: a server's own keys (samod's storage id)
    // stay with it.
    let not_documents = postgres::psql(
        &url,
        "SELECT count(*) FROM chunks WHERE position('/' in key) = 0",
    );
    assert_eq!(not_documents.trim(), "0");
    assert!(
        chunks.trim().parse::<u32>().unwrap() > 0,
        "the documents are in the database"
    );
    for secret in [
        "Tente-bleue-derriere-le-hangar",
        "Samir-Dunes",
        "rappeler-avant-mardi",
        "blanket",
    ] {
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(
            !contains(&dump, secret.as_bytes()) && !contains(&dump, hex.as_bytes()),
            "{secret} is readable in a dump"
        );
    }
    assert!(
        // An Ed25519 key in PKCS#8 v1 or v2 begins so.
        !contains(&dump, &[0x30, 0x2e, 0x02, 0x01, 0x00])
            && !contains(&dump, &[0x30, 0x53, 0x02, 0x01, 0x01])
            && !contains(&dump, b"302e020100")
            && !contains(&dump, b"3053020101"),
        "the authority's key is sealed in a dump"
    );
    assert!(
        contains(&dump, antenna.as_bytes()),
        "the dump is of this database"
    );

    // Restarted without its folder (a new machine), the server knows the
    // tablets and holds what they logged: a new tablet receives it all.
    server.kill();
    std::fs::remove_dir_all(dir.path().join("server")).unwrap();
    server.restart();
    volunteer.log(["distribution", "blanket", "3"]);
    sync(&volunteer);
    sync(&coordinator);
    assert_eq!(distributed(&coordinator, "blanket"), 5);
    let lead = join(&coordinator, &server, "lead");
    sync(&lead);
    assert_eq!(distributed(&lead, "blanket"), 5);
    let shown = lead.ok(["case", "show", &case]);
    assert!(
        shown.contains("Samir-Dunes") && shown.contains("rappeler-avant-mardi"),
        "{shown}"
    );
    server.kill();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_database_out_of_reach_is_said_refused_with_a_time_to_retry_and_recovered() {
    let Some(mut cluster) = Cluster::new() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The database is not started: the server starts all the same, alive
    // but not ready.
    let server = start(&dir.path().join("server"), &cluster.url());
    assert_eq!(server.get("/v1/health").0, 200);
    let (status, body) = server.get("/v1/ready");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database"), "{body}");
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=40"]);
    coordinator.log(["distribution", "blanket", "2"]);
    let mut cmd = coordinator.command(["register", "--server", &server.url]);
    cmd.env(
        "MARAUDE_REGISTRATION_TOKEN",
        crate::server::REGISTRATION_TOKEN,
    );
    let refused = finish(cmd);
    assert!(!refused.succeeded());
    assert!(
        refused.stderr.contains("cannot reach its database")
            || refused.stderr.contains("in a minute"),
        "{}",
        refused.stderr
    );
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("the database cannot be reached"), "{log}");

    // The database comes up: the server finds it by itself.
    cluster.start();
    wait_ready(&server, true);
    register(&coordinator, &server);
    sync(&coordinator);

    // Lost mid-run: syncs are refused with a time to retry, the server
    // stays up; back, they go through with nothing lost.
    cluster.stop();
    coordinator.log(["distribution", "blanket", "3"]);
    let during = coordinator.run(["sync"]);
    assert!(!during.succeeded(), "{}", during.stdout);
    assert!(
        during.stderr.contains("database") || during.stderr.contains("in a minute"),
        "{}",
        during.stderr
    );
    assert_eq!(server.get("/v1/health").0, 200);
    wait_ready(&server, false);
    cluster.start();
    wait_ready(&server, true);
    sync(&coordinator);
    let lead = join(&coordinator, &server, "lead");
    sync(&lead);
    assert_eq!(distributed(&lead, "blanket"), 5);
}

fn wait_ready(server: &Server, ready: bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let want = if ready { 200 } else { 503 };
    while server.get("/v1/ready").0 != want {
        assert!(
            Instant::now() < deadline,
            "the server's readiness did not turn {want} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_wrong_passphrase_or_a_plain_remote_database_stops_the_server_at_start_with_why() {
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("first"), &url);
    drop(server);
    let run = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(crate::server::server_bin())
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("second"))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let wrong = run(&[
        ("MARAUDE_DATABASE_URL", url.as_str()),
        ("MARAUDE_SERVER_PASSPHRASE", "another server's passphrase"),
    ]);
    assert!(
        wrong.contains("the passphrase does not open this database's keys"),
        "{wrong}"
    );
    let remote = run(&[
        (
            "MARAUDE_DATABASE_URL",
            "postgres://maraude@db.example.org/maraude",
        ),
        ("MARAUDE_SERVER_PASSPHRASE", "whatever"),
    ]);
    assert!(remote.contains("sslmode=verify-full"), "{remote}");
}

/// A case a lead erases through one server is gone from the database and
/// from the other server's copy; a tablet that has not heard yet, syncing
/// through that other server, does not bring it back.
#[test]
fn a_case_erased_through_one_server_is_gone_from_the_database_and_the_other() {
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = start(&dir.path().join("first"), &url);
    let second = start(&dir.path().join("second"), &url);
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    let (_, case) =
        coordinator.open_case(["shelter", "--household", "2", "--alias", "Samir-Dunes"]);
    register(&coordinator, &first);
    sync(&coordinator);
    let lead = crate::a_team_syncs::join_at(&coordinator, &second.url, "lead");
    sync(&lead);
    assert!(lead.ok(["case", "show", &case]).contains("Samir-Dunes"));
    let case_doc = maraude_store::document_id(&case.parse().unwrap()).to_string();
    let chunks_of_case = || {
        postgres::psql(
            &url,
            &format!("SELECT count(*) FROM chunks WHERE split_part(key, '/', 1) = '{case_doc}'"),
        )
        .trim()
        .to_string()
    };
    assert_ne!(chunks_of_case(), "0");

    // The coordinator, offline, notes on the case; the lead erases it.
    coordinator.ok(["case", "note", &case, "rappeler-avant-mardi"]);
    lead.ok(["case", "erase", &case, "--confirm", "--by", "Mira"]);
    sync(&lead);
    assert_eq!(chunks_of_case(), "0");
    let erased = postgres::psql(&url, "SELECT document FROM erased_documents");
    assert_eq!(erased.trim(), case_doc);

    // The first server's copy forgets it too, once the antenna document
    // with the tombstone reaches it.
    let antenna = open(&coordinator).antenna_id().to_string();
    first.wait_for_an_erasure(&antenna, Duration::from_secs(10));
    // The coordinator has not heard: it syncs through the first server,
    // and the case does not come back, in the database nor on tablets.
    sync(&coordinator);
    sync(&coordinator);
    assert_eq!(chunks_of_case(), "0");
    let shown = coordinator.refused(["case", "show", &case]);
    assert!(shown.contains("no case"), "{shown}");
    for server in [&first, &second] {
        assert!(
            !server.readable(&antenna, "Samir-Dunes"),
            "the alias is readable in a server's copy"
        );
    }
}

/// A lost tablet holds a sync socket open on the second server; the
/// coordinator revokes it through the first: the second closes it at once,
/// not when the socket's idle time runs out.
#[test]
fn a_tablet_revoked_through_one_server_loses_its_socket_on_the_other() {
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = start(&dir.path().join("first"), &url);
    let second = start(&dir.path().join("second"), &url);
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register(&coordinator, &first);
    let lost = join(&coordinator, &first, "volunteer");
    sync(&coordinator);
    sync(&lost);
    let credential = {
        let link = open(&lost).server_link().unwrap().unwrap();
        secrecy::ExposeSecret::expose_secret(&link.credential).to_string()
    };
    let lost_id = crate::a_team_syncs::last_device_of(&coordinator, "volunteer");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ws_url = format!("{}/v1/sync", second.url.replacen("http://", "ws://", 1));
    let mut socket = runtime
        .block_on(
            yawc::WebSocket::connect(ws_url.parse().unwrap())
                .with_options(maraude_sync::socket::options())
                .with_request(
                    yawc::HttpRequestBuilder::new()
                        .header("authorization", format!("Bearer {credential}")),
                ),
        )
        .expect("the lost tablet's socket on the second server");
    // Open, and quiet: nothing closes it for a while on its own.
    assert!(!runtime.block_on(crate::bad_messages::closed_within(
        &mut socket,
        Duration::from_millis(500)
    )));

    coordinator.ok(["revoke", &lost_id]);
    assert!(
        runtime.block_on(crate::bad_messages::closed_within(
            &mut socket,
            Duration::from_secs(5)
        )),
        "the second server kept the revoked tablet's socket open"
    );
    let refused = lost.run(["sync"]);
    assert!(!refused.succeeded());
}
