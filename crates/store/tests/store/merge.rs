use maraude_core::Lang;
use maraude_core::entry::EntryEdit;
use maraude_store::Store;

use super::*;

/// Copy every document of `from` into `to` through the merge API.
pub fn sync_one_way(from: &Store, to: &mut Store) {
    for (doc, _) in from.documents().unwrap() {
        let have = to.heads(&doc).unwrap_or_default();
        let bytes = from.changes_since(&doc, &have).unwrap();
        to.import(&doc, &bytes).unwrap();
    }
}

/// A second tablet of the same antenna: a new device, same documents.
pub fn second_tablet(first: &TempStore) -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let antenna = first.store.antenna().unwrap();
    let mut store =
        Store::create_for(&dir.path().join("calais.maraude"), &passphrase(), &antenna).unwrap();
    sync_one_way(&first.store, &mut store);
    TempStore { dir, store }
}

#[test]
fn two_tablets_logging_blankets_offline_sum_after_sync() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    let mut two = second_tablet(&one);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    two.store
        .log(&shift, &nick("Sam"), give("blanket", 1, "dunes-north"))
        .unwrap();
    sync_one_way(&one.store, &mut two.store);
    sync_one_way(&two.store, &mut one.store);
    for s in [&one.store, &two.store] {
        assert_eq!(
            s.night_report(&shift, Lang::En)
                .unwrap()
                .distributed("blanket"),
            2
        );
    }
    assert_eq!(
        one.store.index_dump().unwrap(),
        two.store.index_dump().unwrap()
    );
}

/// The tablet that started the shift logs in the shift document; a
/// teammate's first entry starts its own tablet log, linked from the
/// shift; a lead's correction, on the first tablet, of the teammate's
/// entry goes to the teammate's log, and both tablets end the same.
#[test]
fn a_teammate_logs_in_its_own_log_and_a_correction_goes_where_the_entry_is() {
    let kinds = |s: &Store| {
        let mut k: Vec<String> = s.documents().unwrap().into_iter().map(|(_, k)| k).collect();
        k.sort();
        k
    };
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    let mut two = second_tablet(&one);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    assert_eq!(kinds(&one.store), ["antenna", "shift"], "no log of its own");
    let theirs = two
        .store
        .log(&shift, &nick("Sam"), give("blanket", 2, "dunes-north"))
        .unwrap();
    two.store
        .log(&shift, &nick("Sam"), give("tea_coffee", 4, "dunes-north"))
        .unwrap();
    assert_eq!(kinds(&two.store), ["antenna", "shift", "tablet_log"]);
    sync_one_way(&two.store, &mut one.store);

    let edit = EntryEdit {
        at: theirs.at,
        place: theirs.place.clone(),
        content: give("blanket", 5, "dunes-north").content,
    };
    one.store
        .edit_entry(&theirs.id, &nick("Mira"), edit)
        .unwrap();
    assert_eq!(kinds(&one.store), ["antenna", "shift", "tablet_log"]);
    sync_one_way(&one.store, &mut two.store);
    sync_one_way(&two.store, &mut one.store);
    for s in [&one.store, &two.store] {
        let report = s.night_report(&shift, Lang::En).unwrap();
        assert_eq!(report.distributed("blanket"), 1 + 5);
        assert_eq!(report.distributed("tea_coffee"), 4);
        assert_eq!(s.entry(&theirs.id).unwrap().history.len(), 1);
    }
    assert_eq!(
        one.store.index_dump().unwrap(),
        two.store.index_dump().unwrap()
    );
}

#[test]
fn importing_the_same_changes_twice_changes_nothing() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    let mut two = second_tablet(&one);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    let doc = maraude_store::document_id(shift.as_uuid());
    let bytes = one.store.changes_since(&doc, &[]).unwrap();
    assert_eq!(two.store.import(&doc, &bytes).unwrap().changes_new, 1);
    assert_eq!(two.store.import(&doc, &bytes).unwrap().changes_new, 0);
    assert_eq!(
        two.store
            .night_report(&shift, Lang::En)
            .unwrap()
            .distributed("blanket"),
        1
    );
}

#[test]
fn another_antennas_document_and_garbage_are_refused_and_nothing_is_written() {
    let mut calais_store = calais();
    let mut dunkirk = {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(
            &dir.path().join("gs.maraude"),
            &passphrase(),
            "Grande-Synthe",
        )
        .unwrap();
        TempStore { dir, store }
    };
    let theirs = night_shift(&mut dunkirk.store);
    let doc = maraude_store::document_id(theirs.as_uuid());
    let bytes = dunkirk.store.changes_since(&doc, &[]).unwrap();
    let before = calais_store.store.index_dump().unwrap();
    let err = calais_store.store.import(&doc, &bytes).unwrap_err();
    assert!(
        err.to_string().contains("belongs to another antenna"),
        "{err}"
    );
    let err = calais_store
        .store
        .import(&doc, b"\x85\x6f\x4a\x83garbage")
        .unwrap_err();
    // Measured (core::wire) before Automerge decodes anything.
    assert!(err.to_string().contains("not a Maraude document"), "{err}");
    let truncated = &bytes[..bytes.len() / 2];
    assert!(calais_store.store.import(&doc, truncated).is_err());
    assert_eq!(calais_store.store.index_dump().unwrap(), before);
}

/// A document holding an object inside itself (found by the fuzzer) is
/// refused by a merge before anything reads it: reading it would recurse
/// until the stack overflowed and took the process down. Nothing written.
#[test]
fn a_document_with_an_object_inside_itself_is_refused_and_nothing_is_written() {
    let mut t = calais();
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/tests/fixtures/wire/automerge-object-inside-itself.bin"),
    )
    .unwrap();
    let before = t.store.index_dump().unwrap();
    let doc = maraude_store::document_id(&uuid::Uuid::now_v7());
    let err = t.store.import(&doc, &bytes).unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
    assert_eq!(t.store.index_dump().unwrap(), before);
}
