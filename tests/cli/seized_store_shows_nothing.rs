//! A tablet is seized at an eviction, or stolen from the van. Whoever reads
//! its store file byte by byte finds none of what the team logged: not a
//! note, an alias, a phone number, an incident, a handover, a place or a
//! volunteer's nickname; not even that it is a SQLite database. That holds
//! while the app has the store open (the write-ahead log and its index are
//! on disk next to it) and after it closed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::tablet::{self, Tablet, found_in_clear, short, text};

/// What the team logs, each word distinctive enough that finding it in the
/// file could be no accident.
const LOGGED: &[&str] = &[
    // The antenna, its places and its people.
    "Grande-Synthe Nord",
    "Bois de l'Étoile",
    "bois-etoile",
    "Hangar Quetzal",
    "Zephyrine",
    "Balthazar",
    "Ysolde",
    "Kangoo Clementine",
    "Poncho Ocelot",
    // The shift log.
    "Generator Sirocco needs fuel",
    "Leaflet Heliotrope handed out",
    "CRS seized the tents of Opaline camp",
    "Observatoire Peridot",
    "Transmission Capucine: key under the pot",
    // Follow-up cases: the only place personal data may go.
    "Ouarda Belkacem",
    "+33 7 81 22 45 90",
    "Call back Mistral line",
    "Tesfaye Gebremariam",
    "Abscess, Quetzalcoatl clinic",
    "Appointment Labrador on Thursday",
];

/// The database's own structure, which would show what the file is.
const STRUCTURE: &[&str] = &["SQLite format 3", "CREATE TABLE", "incremental"];

/// A night at Grande-Synthe using every field that takes free text; the
/// ids of the two cases.
fn a_night_with_everything_written_down(t: &Tablet) -> (String, String) {
    t.ok(["place", "add", "bois-etoile", "--name", "Bois de l'Étoile"]);
    t.ok([
        "place",
        "add",
        "hangar",
        "--name",
        "Hangar Quetzal",
        "--kind",
        "other",
    ]);
    t.ok(["volunteer", "add", "Zephyrine", "--role", "lead"]);
    t.ok(["volunteer", "add", "Balthazar"]);
    t.ok([
        "catalogue",
        "add",
        "poncho",
        "--fr",
        "Poncho Ocelot",
        "--en",
        "Poncho Ocelot",
    ]);
    t.ok([
        "shift",
        "start",
        "--lead",
        "Zephyrine",
        "--team",
        "Balthazar,Ysolde",
        "--vehicle",
        "Kangoo Clementine",
        "--load",
        "poncho=20",
    ]);
    t.log([
        "--by",
        "Balthazar",
        "distribution",
        "poncho",
        "4",
        "--place",
        "bois-etoile",
    ]);
    t.log([
        "arrival",
        "6",
        "--place",
        "hangar",
        "--languages",
        "ti",
        "--info",
        "Leaflet Heliotrope handed out",
    ]);
    let (_, shelter) = t.open_case([
        "shelter",
        "--household",
        "2",
        "--alias",
        "Ouarda Belkacem",
        "--phone",
        "+33 7 81 22 45 90",
        "--called-115",
        "--answer-115",
        "Call back Mistral line",
        "--place",
        "bois-etoile",
    ]);
    let (_, referral) = t.open_case([
        "--by",
        "Ysolde",
        "referral",
        "--service",
        "pass_clinic",
        "--reason",
        "Abscess, Quetzalcoatl clinic",
        "--alias",
        "Tesfaye Gebremariam",
        "--accompanied-by",
        "Balthazar",
    ]);
    t.log([
        "incident",
        "--type",
        "eviction",
        "--people",
        "25",
        "--description",
        "CRS seized the tents of Opaline camp",
        "--witnesses",
        "Balthazar,Ysolde",
        "--reported-to",
        "Observatoire Peridot",
        "--place",
        "bois-etoile",
    ]);
    t.log(["note", "Generator Sirocco needs fuel"]);
    t.ok([
        "case",
        "note",
        short(&shelter),
        "Appointment Labrador on Thursday",
    ]);
    t.ok([
        "shift",
        "end",
        "--returned",
        "poncho=16",
        "--handover",
        "Transmission Capucine: key under the pot",
    ]);
    (shelter, referral)
}

/// The store file and whichever of its `-wal` and `-shm` files exist.
fn files_on_disk(t: &Tablet) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut p = t.store().as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        })
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect()
}

fn assert_nothing_in_clear(when: &str, files: &[(PathBuf, Vec<u8>)]) {
    let main = &files[0];
    assert!(
        !main.1.starts_with(b"SQLite format 3"),
        "{when}: {} is a plain SQLite file",
        main.0.display()
    );
    for (path, bytes) in files {
        let found = found_in_clear(bytes, LOGGED);
        assert!(
            found.is_empty(),
            "{when}: {} shows {found:?} in clear",
            path.display()
        );
        let found = found_in_clear(bytes, STRUCTURE);
        assert!(
            found.is_empty(),
            "{when}: {} shows its structure ({found:?}) in clear",
            path.display()
        );
    }
}

/// A plain SQLite copy of the database `app` has open (SQLCipher's own
/// export), as bytes.
fn decrypted_copy(app: &rusqlite::Connection, to: &Path) -> Vec<u8> {
    let to = to.to_str().expect("a UTF-8 temporary path");
    assert!(!to.contains('\''), "{to}");
    app.execute_batch(&format!(
        "ATTACH DATABASE '{to}' AS decrypted KEY '';
         SELECT sqlcipher_export('decrypted');
         DETACH DATABASE decrypted;"
    ))
    .expect("sqlcipher_export");
    std::fs::read(to).expect("the decrypted copy")
}

#[test]
fn nothing_logged_can_be_read_from_the_store_file_or_its_wal() {
    let t = Tablet::for_antenna("Grande-Synthe Nord");
    // The tablet app keeps the store open all night: the write-ahead log
    // stays next to the file instead of being folded in when the CLI exits.
    let app = tablet::open_behind_the_cli(t.store());
    let (shelter, referral) = a_night_with_everything_written_down(&t);

    // Everything was written, and the CLI shows it back to the team.
    let mut shown = String::new();
    for args in [
        &["status"][..],
        &["place", "list"],
        &["volunteer", "list"],
        &["catalogue", "list"],
        &["shift", "list"],
        &["entries"],
        &["case", "show", short(&shelter)],
        &["case", "show", short(&referral)],
    ] {
        shown.push_str(&t.json(args).to_string());
    }
    let all: BTreeSet<&str> = LOGGED.iter().copied().collect();
    assert_eq!(found_in_clear(shown.as_bytes(), LOGGED), all, "{shown}");
    let case = t.json(["case", "show", short(&shelter)]);
    assert_eq!(text(&case["person"]["phone"]), "+33 7 81 22 45 90");

    let files = files_on_disk(&t);
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    assert_eq!(
        files.len(),
        3,
        "the store, its WAL and its index: {names:?}"
    );
    assert!(
        files[1].1.len() > 4096,
        "the WAL holds the night's pages ({} bytes)",
        files[1].1.len()
    );
    assert_nothing_in_clear("while the app has the store open", &files);
    // The control: the same database decrypted with the passphrase shows
    // every one of them, so the search above would have found them.
    let decrypted = decrypted_copy(&app, &t.dir().join("decrypted.db"));
    assert_eq!(found_in_clear(&decrypted, LOGGED), all);
    assert_eq!(
        found_in_clear(&decrypted, STRUCTURE),
        STRUCTURE.iter().copied().collect()
    );

    // The app closes; one last look from the CLI, which then ends too.
    drop(app);
    let status = t.json(["status"]);
    assert_eq!(status["antenna"], "Grande-Synthe Nord");
    assert_eq!(status["stats"]["entries"], 6);
    let files = files_on_disk(&t);
    assert!(
        !t.wal().exists(),
        "the WAL is folded in once nobody has the store open"
    );
    assert_nothing_in_clear("after every process ended", &files);
}
