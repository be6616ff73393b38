//! A failed write to one antenna's store on the server stops that
//! antenna's store, not the server: the other antennas sync meanwhile,
//! and once the store can be written again it is opened from its file and
//! the tablets send what it lacks.
//!
//! The fault is real: another process holds the antenna file's write
//! lock (as a backup tool or an operator's `sqlite3` could) for longer
//! than the server's retries.

use std::time::{Duration, Instant};

use maraude_store::Passphrase;

use crate::a_team_syncs::{distributed, open, register, sync};
use crate::server::{SERVER_PASSPHRASE, Server};
use crate::tablet::{Tablet, finish_within};

/// Each write waits for SQLite's busy timeout (10 s), six times.
const STORE_GIVES_UP: Duration = Duration::from_secs(150);

#[test]
fn a_store_that_cannot_be_written_stops_its_antenna_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let calais = Tablet::for_antenna("Calais");
    calais.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=40"]);
    calais.log(["distribution", "blanket", "2"]);
    register(&calais, &server);
    sync(&calais);
    let dunkerque = Tablet::for_antenna("Dunkerque");
    dunkerque.ok(["shift", "start", "--lead", "Noor", "--load", "blanket=20"]);
    register(&dunkerque, &server);
    sync(&dunkerque);

    // Someone else holds the write lock on Calais's file on the server.
    let calais_antenna = open(&calais).antenna_id().to_string();
    let locker = maraude_store::open_encrypted_file(
        &server.antenna_store_path(&calais_antenna),
        &Passphrase::new(SERVER_PASSPHRASE.into()),
        false,
    )
    .unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();

    // Calais logs more and syncs: its changes cannot be written.
    calais.log(["distribution", "blanket", "3"]);
    let calais_sync = {
        let cmd = calais.command(["--json", "sync"]);
        std::thread::spawn(move || finish_within(cmd, STORE_GIVES_UP * 2))
    };
    let log = dir.path().join("server.log");
    let deadline = Instant::now() + STORE_GIVES_UP;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("this store stops")
    {
        assert!(
            Instant::now() < deadline,
            "the server never gave up writing Calais's store"
        );
        // Meanwhile Dunkerque is served as usual.
        std::thread::sleep(Duration::from_millis(500));
    }
    dunkerque.log(["distribution", "blanket", "4"]);
    let served = sync(&dunkerque);
    assert_eq!(served["documents_sent"], 1, "{served}");
    assert!(server.is_running(), "the server went down with one store");

    // The lock goes; Calais syncs again (or its sync got through on a
    // reconnection) and the server holds everything it logged.
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    let first = calais_sync.join().unwrap();
    assert!(server.is_running());
    if !first.succeeded() {
        assert!(
            first.stderr.contains("run the sync again"),
            "a failed sync says what to do: {} {}",
            first.stdout,
            first.stderr
        );
        sync(&calais);
    }
    let pulled = Tablet::blank();
    let code = calais.json(["enrolment-code", "--role", "lead"]);
    pulled.ok([
        "enrol",
        "--server",
        &server.url,
        "--code",
        code["code"].as_str().unwrap(),
        "--device-name",
        "lead",
    ]);
    sync(&pulled);
    assert_eq!(distributed(&pulled, "blanket"), 5, "Calais's 2 + 3");
    assert_eq!(distributed(&dunkerque, "blanket"), 4);
    assert!(server.is_running());
    server.kill();
}
