//! Formats frozen by golden files: a store written by an earlier version
//! (schema, encryption, key derivation, document format) must still open
//! and read the same. Regenerate only for a deliberate format change, with
//! `MARAUDE_WRITE_GOLDEN=1 cargo test -p maraude-store --test store golden`,
//! and keep the old file as a migration test.

use maraude_core::Lang;
use maraude_core::case::{CaseRequest, NewCase, Person};
use maraude_core::entry::Composition;
use maraude_store::Store;

use super::*;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/golden-v1.maraude"
);

fn write_golden() {
    let _ = std::fs::remove_file(GOLDEN);
    let mut store = Store::create(std::path::Path::new(GOLDEN), &passphrase(), "Calais").unwrap();
    store
        .update_antenna(|a| {
            a.places.insert(
                "dunes-north".parse()?,
                maraude_core::antenna::Place {
                    name: "Dunes nord".into(),
                    kind: maraude_core::antenna::PlaceKind::LivingPlace,
                    active: true,
                },
            );
            Ok(())
        })
        .unwrap();
    let shift = night_shift(&mut store);
    store
        .log(&shift, &nick("Jo"), give("blanket", 3, "dunes-north"))
        .unwrap();
    let e = store
        .log(&shift, &nick("Jo"), give("tea_coffee", 45, "dunes-north"))
        .unwrap();
    store.void_entry(&e.id, &nick("Mira"), "doublon").unwrap();
    let case = NewCase {
        person: Person {
            alias: "Golden".into(),
            age_group: None,
            languages: ["ar".to_string()].into(),
            phone: None,
        },
        request: CaseRequest::Shelter {
            household_size: 2,
            composition: Composition {
                women: 1,
                children: 1,
                ..Default::default()
            },
            vulnerabilities: Default::default(),
            called_115: true,
            answer_115: None,
        },
    };
    store
        .open_case(&shift, &nick("Jo"), case, None, None)
        .unwrap();
    store.checkpoint().unwrap();
}

#[test]
fn a_store_written_by_version_1_still_opens_and_reads_the_same() {
    if std::env::var("MARAUDE_WRITE_GOLDEN").is_ok() {
        write_golden();
    }
    // Work on a copy: opening may write (WAL, migrations).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("golden.maraude");
    std::fs::copy(GOLDEN, &copy).expect("the golden store is committed under tests/fixtures");
    let store = Store::open(&copy, &passphrase()).unwrap();
    assert_eq!(store.antenna().unwrap().name, "Calais");
    let shift = store
        .shifts(chrono::NaiveDate::MIN, chrono::NaiveDate::MAX)
        .unwrap()
        .pop()
        .unwrap();
    let r = store.night_report(&shift.id, Lang::En).unwrap();
    assert_eq!(r.distributed("blanket"), 3);
    assert_eq!(r.distributed("tea_coffee"), 0);
    assert_eq!(r.voided, 1);
    assert_eq!(r.shelter_requests.len(), 1);
    assert_eq!(store.follow_ups().unwrap()[0].alias, "Golden");
    assert_eq!(store.last_sync().unwrap(), None, "migrated: never synced");
    // The documents themselves, not only the index, still load.
    let index = store.index_dump().unwrap();
    drop(store);
    let mut store = Store::open(&copy, &passphrase()).unwrap();
    store.rebuild_index().unwrap();
    assert_eq!(store.index_dump().unwrap(), index);

    // Its entries live in the shift document (before tablet logs): one is
    // still corrected there, and a new one goes to this tablet's log; the
    // night counts both.
    let blankets = store
        .entries(&shift.id)
        .unwrap()
        .into_iter()
        .find(|e| !e.is_voided() && e.content.kind().as_str() == "distribution")
        .unwrap();
    let edit = maraude_core::entry::EntryEdit {
        at: blankets.at,
        place: blankets.place.clone(),
        content: give("blanket", 4, "dunes-north").content,
    };
    store.edit_entry(&blankets.id, &nick("Mira"), edit).unwrap();
    store
        .log(&shift.id, &nick("Jo"), give("blanket", 2, "dunes-north"))
        .unwrap();
    let r = store.night_report(&shift.id, Lang::En).unwrap();
    assert_eq!(r.distributed("blanket"), 4 + 2);
    let index = store.index_dump().unwrap();
    store.rebuild_index().unwrap();
    assert_eq!(store.index_dump().unwrap(), index);
}
