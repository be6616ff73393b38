//! `maraude-server backup`, `restore` and `migrate`: a backup taken while
//! the server runs, restored into a new folder, serves every tablet with
//! nothing lost and nothing sent again; the same after a move to
//! PostgreSQL and back; the backup reveals nothing without the passphrase;
//! one from a newer server is refused with its version; a restore into a
//! place that holds antennas is refused; a restore into PostgreSQL cut
//! half-way leaves nothing and runs again; a server restored from an older
//! backup gets back from the tablets what it lost.

use std::path::Path;

use crate::a_team_syncs::{distributed, join, open, register, sync};
use crate::server::Server;
use crate::tablet::Tablet;
use maraude_tests::postgres;

/// What each tablet's sync moves: documents it sent, changes it received.
type Moved = Vec<(u64, u64)>;

fn syncs(tablets: &[&Tablet]) -> Moved {
    tablets
        .iter()
        .map(|t| {
            let got = sync(t);
            (
                got["documents_sent"].as_u64().unwrap(),
                got["changes_received"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `maraude-server backup` of the server in `data` into `file`: what it said.
fn backup(data: &Path, file: &Path) -> String {
    on_folder(data, "backup", "--to", file).unwrap()
}

/// `maraude-server restore` of `file` into the folder `data`.
fn restore(file: &Path, data: &Path) -> Result<String, String> {
    on_folder(data, "restore", "--from", file)
}

fn on_folder(data: &Path, command: &str, flag: &str, file: &Path) -> Result<String, String> {
    let (data, file) = (data.to_str().unwrap(), file.to_str().unwrap());
    Server::command(&["--data-dir", data, command, flag, file], &[])
}

/// A coordinator's tablet for Calais whose night, led by Mira, gave two
/// blankets.
fn two_blankets_given() -> Tablet {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    coordinator.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=40"]);
    coordinator.log(["distribution", "blanket", "2"]);
    coordinator
}

/// Every tablet syncs, and moves what it moved before the restore, when
/// nothing had changed since its last sync: nothing is sent again.
fn nothing_sent_again(tablets: &[&Tablet], settled: &Moved) {
    let moved = syncs(tablets);
    assert_eq!(&moved, settled, "after the restore, the syncs moved more");
    assert!(moved.iter().all(|(sent, _)| *sent == 0), "{moved:?}");
}

#[test]
fn a_backup_restored_or_moved_serves_every_tablet_with_nothing_lost_or_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let mut server = Server::start(&first);
    let coordinator = two_blankets_given();
    let (_, case) =
        coordinator.open_case(["shelter", "--household", "2", "--alias", "Samir-Dunes"]);
    register(&coordinator, &server);
    let lead = join(&coordinator, &server, "lead");
    let volunteer = join(&coordinator, &server, "volunteer");
    let lost = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    sync(&lead);
    lead.log(["distribution", "blanket", "3"]);
    let team = [&coordinator, &lead, &volunteer];
    for _ in 0..2 {
        for t in team {
            sync(t);
        }
    }
    let lost_id = crate::a_team_syncs::last_device_of(&coordinator, "volunteer");
    coordinator.ok(["revoke", &lost_id]);
    // Everyone has everything (the revocation's news included), and the
    // server knows it: the baseline of "nothing sent again".
    for t in team {
        sync(t);
    }
    // What a sync moves once everyone has everything: the baseline.
    let settled = syncs(&team);
    let before: Vec<_> = team.iter().map(|t| open(t).index_dump().unwrap()).collect();

    // Online: the server runs.
    let file = dir.path().join("calais.backup");
    let file_arg = file.to_str().unwrap();
    let first_arg = first.to_str().unwrap();
    let said =
        Server::command(&["--data-dir", first_arg, "backup", "--to", file_arg], &[]).unwrap();
    assert!(said.contains("1 antenna"), "{said}");
    let bytes = std::fs::read(&file).unwrap();
    for secret in ["Samir-Dunes", "blanket", "Calais"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} readable in the backup"
        );
    }
    let wrong = Server::command(
        &[
            "--data-dir",
            dir.path().join("x").to_str().unwrap(),
            "restore",
            "--from",
            file_arg,
        ],
        &[("MARAUDE_SERVER_PASSPHRASE", "another server's passphrase")],
    )
    .unwrap_err();
    assert!(
        wrong.contains("does not open with this passphrase"),
        "{wrong}"
    );

    // From a folder that holds no server (a typo): refused, nothing made.
    let typo = dir.path().join("frist");
    let refused = Server::command(
        &[
            "--data-dir",
            typo.to_str().unwrap(),
            "backup",
            "--to",
            dir.path().join("typo.backup").to_str().unwrap(),
        ],
        &[],
    )
    .unwrap_err();
    assert!(refused.contains("no server's data in"), "{refused}");
    assert!(!typo.exists() && !dir.path().join("typo.backup").exists());

    // Into a folder that holds antennas: refused, nothing written.
    let refused = Server::command(
        &["--data-dir", first_arg, "restore", "--from", file_arg],
        &[],
    )
    .unwrap_err();
    assert!(refused.contains("already holds 1 antenna"), "{refused}");

    // Restored into a new folder, at the same address.
    let second = dir.path().join("second");
    restore(&file, &second).unwrap();
    server.move_to(&second, &[]);
    nothing_sent_again(&team, &settled);
    for (t, before) in team.iter().zip(&before) {
        assert_eq!(&open(t).index_dump().unwrap(), before);
    }
    let refused = lost.run(["sync"]);
    assert!(
        !refused.succeeded(),
        "a revoked tablet syncs after the restore"
    );
    volunteer.log(["distribution", "blanket", "4"]);
    sync(&volunteer);
    sync(&coordinator);
    assert_eq!(distributed(&coordinator, "blanket"), 9);
    for t in team {
        sync(t);
    }
    let settled = syncs(&team);

    // Moved to PostgreSQL (the server stopped), then back to a folder.
    server.kill();
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let moved = Server::command(
        &[
            "--data-dir",
            second.to_str().unwrap(),
            "migrate",
            "--to",
            &url,
        ],
        &[],
    )
    .unwrap();
    assert!(moved.contains("--database-url"), "{moved}");
    server.move_to(&dir.path().join("cache"), &[("MARAUDE_DATABASE_URL", &url)]);
    nothing_sent_again(&team, &settled);
    assert!(lead.ok(["case", "show", &case]).contains("Samir-Dunes"));
    coordinator.log(["distribution", "blanket", "1"]);
    for t in team {
        sync(t);
    }
    let settled = syncs(&team);
    server.kill();
    let third = dir.path().join("third");
    Server::command(
        &["migrate", "--to", third.to_str().unwrap()],
        &[("MARAUDE_DATABASE_URL", &url)],
    )
    .unwrap();
    server.move_to(&third, &[]);
    nothing_sent_again(&team, &settled);
    assert_eq!(distributed(&lead, "blanket"), 10);
    assert!(!lost.run(["sync"]).succeeded());
}

#[test]
fn a_backup_from_a_newer_server_is_refused_with_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let coordinator = Tablet::for_antenna("Calais");
    register(&coordinator, &server);
    sync(&coordinator);
    let file = dir.path().join("backup");
    backup(&data, &file);
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let newline = bytes.iter().position(|b| *b == b'\n').unwrap();
    let header = text[..newline].replace("\"version\":1", "\"version\":99");
    let mut newer = header.into_bytes();
    newer.extend_from_slice(&bytes[newline..]);
    std::fs::write(&file, newer).unwrap();
    let refused = Server::command(
        &[
            "--data-dir",
            dir.path().join("new").to_str().unwrap(),
            "restore",
            "--from",
            file.to_str().unwrap(),
        ],
        &[],
    )
    .unwrap_err();
    assert!(refused.contains("format 99"), "{refused}");
    // Refused before anything is written.
    assert!(!dir.path().join("new").exists());
}

#[test]
fn a_restore_into_postgresql_cut_half_way_leaves_nothing_and_runs_again() {
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data);
    let coordinator = two_blankets_given();
    register(&coordinator, &server);
    sync(&coordinator);
    let settled = syncs(&[&coordinator]);
    let file = dir.path().join("calais.backup");
    let file_arg = file.to_str().unwrap();
    backup(&data, &file);
    server.kill();

    // The database's tables, made by a server's first start on it; then
    // the database fails at the first document chunk, after the registry's
    // rows are written (a real fault of PostgreSQL's, raised by a trigger).
    server.move_to(&dir.path().join("cache"), &[("MARAUDE_DATABASE_URL", &url)]);
    server.kill();
    postgres::psql(
        &url,
        "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$;
         CREATE TRIGGER full_disk BEFORE INSERT ON chunks
           FOR EACH ROW EXECUTE FUNCTION full_disk()",
    );
    let database = [("MARAUDE_DATABASE_URL", url.as_str())];
    let cut = Server::command(&["restore", "--from", file_arg], &database).unwrap_err();
    assert!(cut.contains("No space left on device"), "{cut}");
    for table in ["antennas", "antenna_keys", "devices", "chunks"] {
        let rows = postgres::psql(&url, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(rows.trim(), "0", "{table} kept rows of the cut restore");
    }

    // Room again: the same restore goes through, and the tablet finds
    // everything there.
    postgres::psql(&url, "DROP TRIGGER full_disk ON chunks");
    Server::command(&["restore", "--from", file_arg], &database).unwrap();
    server.move_to(&dir.path().join("cache"), &database);
    nothing_sent_again(&[&coordinator], &settled);
    assert_eq!(distributed(&coordinator, "blanket"), 2);
}

#[test]
fn a_server_restored_from_an_older_backup_gets_back_what_it_lost_from_the_tablets() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let mut server = Server::start(&first);
    let coordinator = two_blankets_given();
    register(&coordinator, &server);
    let lead = join(&coordinator, &server, "lead");
    let (jo, sam) = (
        join(&coordinator, &server, "volunteer"),
        join(&coordinator, &server, "volunteer"),
    );
    let lost = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    sync(&lead);
    let file = dir.path().join("monday.backup");
    backup(&first, &file);
    // After Monday's backup, three more blankets reach the server.
    coordinator.log(["distribution", "blanket", "3"]);
    assert_eq!(sync(&coordinator)["documents_sent"], 1);
    // And a volunteer's tablet is lost, and revoked; so is one enrolled
    // after the backup (the restored server will never have known it).
    let lost_id = crate::a_team_syncs::last_device_of(&coordinator, "volunteer");
    coordinator.ok(["revoke", &lost_id]);
    let late = join(&coordinator, &server, "volunteer");
    let late_id = crate::a_team_syncs::last_device_of(&coordinator, "volunteer");
    assert_ne!(late_id, lost_id);
    coordinator.ok(["revoke", &late_id]);
    sync(&coordinator);
    let revoked = |t: &Tablet| {
        let list = open(t).revocations().unwrap().unwrap_or_default();
        maraude_protocol::identity::named_in(&list).map_or(0, |named| named.len())
    };
    assert_eq!(revoked(&coordinator), 2);

    // The server's disk dies; Monday's backup is all there is.
    let second = dir.path().join("second");
    restore(&file, &second).unwrap();
    server.move_to(&second, &[]);
    sync(&lead);
    assert_eq!(distributed(&lead, "blanket"), 2, "the restored server");
    // The morning after the restore, the lead revokes two other tablets:
    // the server's list names as many devices as the coordinator's,
    // other ones.
    for tablet in [&jo, &sam] {
        lead.ok(["revoke", &open(tablet).device().to_string()]);
    }
    // The coordinator's tablet changed nothing since, yet it holds a later
    // acknowledgement than the server: it sends everything again, once.
    let again = sync(&coordinator);
    assert!(again["documents_sent"].as_u64().unwrap() >= 1, "{again}");
    // And its summary tells the coordinator of the two revocations the
    // server had lost and took back.
    assert_eq!(again["revocations_restored"], 2, "{again}");
    assert_eq!(sync(&coordinator)["documents_sent"], 0);
    sync(&lead);
    assert_eq!(distributed(&lead, "blanket"), 5);
    // The restored server's list missed the coordinator's two: its tablet
    // kept its own and handed it back, and the server, which checked its
    // antenna's signature on it, revoked both tablets again.
    assert_eq!(revoked(&coordinator), 4);
    let refused = lost.run(["sync"]);
    assert!(
        !refused.succeeded(),
        "the lost tablet syncs after the restore"
    );
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);
    // Its teammates hear of it from the server, and so does a tablet
    // enrolled after the restore.
    sync(&lead);
    assert_eq!(revoked(&lead), 4);
    let newcomer = join(&coordinator, &server, "volunteer");
    sync(&newcomer);
    assert_eq!(revoked(&newcomer), 4);
    // The lead's list of tablets shows both as revoked, the late one as
    // known only from the list.
    let devices = lead.json(["devices"]);
    let revoked_at = |id: &str| {
        devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["device"] == id)
            .map(|d| (d["name"].clone(), !d["revoked_at"].is_null()))
    };
    assert_eq!(revoked_at(&lost_id).map(|d| d.1), Some(true));
    assert_eq!(
        revoked_at(&late_id),
        Some(("tablet known only from a revocation list".into(), true))
    );
    drop(late);
}
