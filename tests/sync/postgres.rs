//! The server with its registry in PostgreSQL (`--database-url`): a team
//! enrols and syncs as with the embedded store; the registry outlives the
//! server's folder; a dump of the database shows no secret; the database
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
    register(&coordinator, &server);
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    sync(&volunteer);
    assert_eq!(distributed(&volunteer, "blanket"), 2);

    // The registry is in the database, not in the server's folder.
    assert!(!dir.path().join("server/registry.maraude").exists());
    let devices = postgres::psql(&url, "SELECT count(*) FROM devices");
    assert_eq!(devices.trim(), "2");

    // A dump shows the antenna's authority key sealed (bytea is written
    // in hex).
    let antenna = open(&coordinator).antenna_id().to_string();
    let dump = postgres::dump(&url);
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

    // Restarted, the server knows the tablets: they sync on.
    server.restart();
    volunteer.log(["distribution", "blanket", "3"]);
    sync(&volunteer);
    sync(&coordinator);
    assert_eq!(distributed(&coordinator, "blanket"), 5);
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
