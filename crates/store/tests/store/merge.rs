use maraude_core::Lang;
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

#[test]
fn importing_the_same_changes_twice_changes_nothing() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    let mut two = second_tablet(&one);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    // The tablet's first entry in the shift starts its log (its creation
    // and the entry) and links it from the shift (one change).
    let log = only_tablet_log(&one.store);
    let bytes = one.store.changes_since(&log, &[]).unwrap();
    assert_eq!(two.store.import(&log, &bytes).unwrap().changes_new, 2);
    assert_eq!(two.store.import(&log, &bytes).unwrap().changes_new, 0);
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
    assert!(err.to_string().contains("cannot decode"), "{err}");
    let truncated = &bytes[..bytes.len() / 2];
    assert!(calais_store.store.import(&doc, truncated).is_err());
    assert_eq!(calais_store.store.index_dump().unwrap(), before);
}
