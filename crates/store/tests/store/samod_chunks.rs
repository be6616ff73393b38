//! The store as samod's storage: chunks written under samod's keys keep the
//! index current in the same transaction, a document that is not ours is
//! kept but quarantined, and a document kept loaded for the next tap never
//! hides (then compacts away) a chunk samod wrote.

use maraude_core::ids::DeviceId;
use maraude_store::{ChunkWrite, Passphrase, ReadAhead, Store, document_id};
use samod_core::{CompactionHash, StorageKey};

use super::{TempStore, calais, give, nick, night_shift, puts_of};

/// A store for the same antenna on a device that has received nothing yet.
fn empty_store_of(one: &Store) -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create_empty(
        &dir.path().join("two.maraude"),
        &Passphrase::new(super::PASSPHRASE.into()),
        one.antenna_id(),
        DeviceId::new(),
    )
    .unwrap();
    TempStore { dir, store }
}

#[test]
fn samod_puts_index_what_they_bring_and_an_empty_store_fills_from_them() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 3, "dunes-north"))
        .unwrap();
    let mut two = empty_store_of(&one.store);
    let applied = two.store.apply_chunks(puts_of(&one.store)).unwrap();
    assert_eq!(applied.indexed.len(), 2, "the antenna and the shift");
    assert!(applied.quarantined.is_empty());
    assert_eq!(
        two.store.index_dump().unwrap(),
        one.store.index_dump().unwrap()
    );
    assert_eq!(two.store.entries(&shift).unwrap().len(), 1);
    assert!(two.store.changed_for("server-x").unwrap().len() == 2);
}

/// Another antenna's store (another antenna id, named Dunkerque) with a
/// night shift started.
fn another_antenna_with_a_shift() -> (TempStore, maraude_core::ids::ShiftId) {
    let mut dunkerque = super::calais();
    dunkerque
        .store
        .update_antenna(|a| {
            a.name = "Dunkerque".into();
            Ok(())
        })
        .unwrap();
    let shift = night_shift(&mut dunkerque.store);
    (dunkerque, shift)
}

#[test]
fn another_antennas_document_is_kept_but_quarantined_and_never_indexed() {
    let mut calais = calais();
    let (dunkerque, foreign_shift) = another_antenna_with_a_shift();
    let before = calais.store.index_dump().unwrap();
    let puts: Vec<ChunkWrite> = puts_of(&dunkerque.store);
    let applied = calais.store.apply_chunks(puts).unwrap();
    assert!(applied.indexed.is_empty(), "{applied:?}");
    assert_eq!(applied.quarantined.len(), 2);
    assert!(
        applied.quarantined[0].1.contains("another antenna"),
        "{applied:?}"
    );
    assert!(calais.store.shift(&foreign_shift).is_err());
    let listed = calais.store.quarantined().unwrap();
    assert_eq!(listed.len(), 2);
    // The index lists the documents as invalid, nothing else changed.
    let after = calais.store.index_dump().unwrap();
    assert_eq!(
        after.iter().filter(|l| !before.contains(l)).count(),
        2,
        "only the two `invalid` document rows are new"
    );
    // And a rebuild does not fail on them.
    calais.store.rebuild_index().unwrap();
    assert_eq!(calais.store.quarantined().unwrap().len(), 2);
}

#[test]
fn a_chunk_samod_writes_while_the_shift_is_kept_loaded_is_not_lost_by_the_next_taps() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    let mut two = super::merge::second_tablet(&one);
    // Tablet two logs; its change reaches tablet one as samod chunks while
    // tablet one keeps the shift loaded between taps.
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    two.store
        .log(&shift, &nick("Sam"), give("blanket", 2, "dunes-north"))
        .unwrap();
    one.store.apply_chunks(puts_of(&two.store)).unwrap();
    // Enough taps to pass the compaction threshold several times.
    for _ in 0..150 {
        one.store
            .log(&shift, &nick("Jo"), give("tea_coffee", 1, "dunes-north"))
            .unwrap();
    }
    let report = one
        .store
        .night_report(&shift, maraude_core::Lang::En)
        .unwrap();
    let blankets = report
        .distributions
        .iter()
        .find(|d| d.item.as_str() == "blanket")
        .unwrap();
    assert_eq!(blankets.quantity, 3, "tablet two's 2 blankets are kept");
}

/// samod, each time it loads a document of more than ten changes (every
/// document a sync asks for), stores it again compacted: a snapshot of the
/// same heads, then deletes the chunks it replaces. Nothing is derived
/// again; a change that is new is.
#[test]
fn samod_storing_again_what_it_loaded_derives_no_row_again_but_a_new_change_does() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    for _ in 0..12 {
        one.store
            .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
            .unwrap();
    }
    let mut two = empty_store_of(&one.store);
    two.store.apply_chunks(puts_of(&one.store)).unwrap();
    let indexed = two.store.index_dump().unwrap();

    // samod loads the shift and compacts it.
    let doc = document_id(shift.as_uuid());
    let heads = two.store.heads(&doc).unwrap();
    let old_keys: Vec<String> = two
        .store
        .chunks_under(&[doc.to_string()])
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let snapshot = StorageKey::snapshot_path(&doc, &CompactionHash::new(&heads)).to_string();
    let mut compaction = vec![ChunkWrite::Put {
        key: snapshot.clone(),
        data: two.store.changes_since(&doc, &[]).unwrap(),
    }];
    compaction.extend(
        old_keys
            .into_iter()
            .filter(|k| *k != snapshot)
            .map(|key| ChunkWrite::Delete { key }),
    );
    let applied = two.store.apply_chunks(compaction).unwrap();
    assert!(applied.indexed.is_empty(), "{applied:?}");
    // And again, now that the snapshot is the only chunk: an incremental
    // put of a change it holds changes no heads either.
    let applied = two.store.apply_chunks(puts_of(&two.store)).unwrap();
    assert!(applied.indexed.is_empty(), "{applied:?}");
    assert_eq!(two.store.index_dump().unwrap(), indexed);
    assert_eq!(two.store.entries(&shift).unwrap().len(), 12);

    // A new entry from tablet one is indexed.
    one.store
        .log(&shift, &nick("Jo"), give("tea_coffee", 2, "dunes-north"))
        .unwrap();
    let applied = two.store.apply_chunks(puts_of(&one.store)).unwrap();
    assert_eq!(applied.indexed, vec![doc], "only the shift changed");
    assert_eq!(two.store.entries(&shift).unwrap().len(), 13);
    assert_eq!(
        two.store.index_dump().unwrap(),
        one.store.index_dump().unwrap()
    );
    let incremental = two.store.index_dump().unwrap();
    two.store.rebuild_index().unwrap();
    assert_eq!(two.store.index_dump().unwrap(), incremental);
}

#[test]
fn the_last_sync_with_the_server_survives_closing_the_store_and_rebuilding_its_index() {
    let mut t = calais();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T21:40:12.345678Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let summary = r#"{"documents_sent":3,"documents_received":1}"#;
    // Not enrolled: no sync to attach it to, nothing recorded.
    t.store.record_sync(at, summary).unwrap();
    assert_eq!(t.store.last_sync().unwrap(), None);

    t.store
        .set_server_link(&maraude_store::ServerLink {
            url: "http://192.168.1.10:8470/".into(),
            role: "volunteer".into(),
            credential: secrecy::SecretString::from("credential".to_string()),
            certificate: None,
        })
        .unwrap();
    assert_eq!(t.store.last_sync().unwrap(), None, "enrolled, never synced");
    t.store.record_sync(at, summary).unwrap();
    let path = t.path();
    drop(t.store);
    let mut store = Store::open(&path, &Passphrase::new(super::PASSPHRASE.into())).unwrap();
    store.rebuild_index().unwrap();
    let recorded = store.last_sync().unwrap().expect("recorded");
    assert_eq!((recorded.at, recorded.summary.as_str()), (at, summary));
    // A later one replaces it; enrolling again keeps it.
    let later = at + chrono::Duration::hours(2);
    store.record_sync(later, "{}").unwrap();
    let link = store.server_link().unwrap().unwrap();
    store.set_server_link(&link).unwrap();
    assert_eq!(store.last_sync().unwrap().unwrap().at, later);
}

/// What samod puts when it stores `store`'s document `doc` whole, with the
/// same bytes read ahead, as the sync layer reads them on another thread.
fn snapshot_read_ahead(store: &Store, doc: &maraude_store::DocumentId) -> (ChunkWrite, ReadAhead) {
    let heads = store.heads(doc).unwrap();
    let key = StorageKey::snapshot_path(doc, &CompactionHash::new(&heads)).to_string();
    let data = store.changes_since(doc, &[]).unwrap();
    let ahead = ReadAhead::of(&key, &data, &DeviceId::new()).expect("a snapshot is read ahead");
    (ChunkWrite::Put { key, data }, ahead)
}

/// A fresh device receives each document whole and reads it before the
/// store's thread writes it: the index is the one the thread would derive.
#[test]
fn documents_read_ahead_are_indexed_as_the_store_would_index_them() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    for n in 1..=12 {
        one.store
            .log(&shift, &nick("Jo"), give("blanket", n, "dunes-north"))
            .unwrap();
    }
    let mut two = empty_store_of(&one.store);
    let (puts, ahead): (Vec<_>, Vec<_>) = one
        .store
        .documents()
        .unwrap()
        .iter()
        .map(|(doc, _)| snapshot_read_ahead(&one.store, doc))
        .unzip();
    let applied = two.store.apply_chunks_read_ahead(puts, ahead).unwrap();
    assert_eq!(applied.indexed.len(), 2, "the antenna and the shift");
    assert_eq!(
        two.store.index_dump().unwrap(),
        one.store.index_dump().unwrap()
    );
    assert_eq!(two.store.entries(&shift).unwrap().len(), 12);
}

/// A tablet's store with a night shift where one blanket was given.
fn a_shift_with_a_blanket() -> (
    TempStore,
    maraude_core::ids::ShiftId,
    maraude_store::DocumentId,
) {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    (one, shift, document_id(shift.as_uuid()))
}

/// A snapshot that lacks changes the store already holds (a stale one)
/// is not all there is: the document is read from every chunk.
#[test]
fn a_document_read_ahead_that_lacks_what_the_store_holds_is_read_again_whole() {
    let (mut one, shift, doc) = a_shift_with_a_blanket();
    let (stale, stale_ahead) = snapshot_read_ahead(&one.store, &doc);
    for _ in 0..3 {
        one.store
            .log(&shift, &nick("Jo"), give("tea_coffee", 1, "dunes-north"))
            .unwrap();
    }
    let mut two = empty_store_of(&one.store);
    two.store.apply_chunks(puts_of(&one.store)).unwrap();
    let heads = two.store.recorded_heads(&doc).unwrap();
    let indexed = two.store.index_dump().unwrap();

    two.store
        .apply_chunks_read_ahead(vec![stale], vec![stale_ahead])
        .unwrap();
    assert_eq!(two.store.recorded_heads(&doc).unwrap(), heads);
    assert_eq!(two.store.index_dump().unwrap(), indexed);
    assert_eq!(two.store.entries(&shift).unwrap().len(), 4);
}

/// A batch that also puts another chunk of the document (a change not in
/// the snapshot read) does not index from what was read.
#[test]
fn a_document_read_ahead_beside_another_chunk_of_it_in_the_batch_is_read_again_whole() {
    let (mut one, shift, doc) = a_shift_with_a_blanket();
    let mut two = empty_store_of(&one.store);
    two.store.apply_chunks(puts_of(&one.store)).unwrap();
    // The snapshot holds everything two has indexed, not the next change.
    let (snapshot, ahead) = snapshot_read_ahead(&one.store, &doc);
    let before: Vec<String> = puts_of(&one.store)
        .into_iter()
        .filter_map(|p| match p {
            ChunkWrite::Put { key, .. } => Some(key),
            ChunkWrite::Delete { .. } => None,
        })
        .collect();
    one.store
        .log(&shift, &nick("Jo"), give("tea_coffee", 2, "dunes-north"))
        .unwrap();
    let mut batch: Vec<ChunkWrite> = puts_of(&one.store)
        .into_iter()
        .filter(|p| matches!(p, ChunkWrite::Put { key, .. } if !before.contains(key)))
        .collect();
    assert!(!batch.is_empty(), "the new change's chunk");
    batch.push(snapshot);
    two.store
        .apply_chunks_read_ahead(batch, vec![ahead])
        .unwrap();
    assert_eq!(two.store.entries(&shift).unwrap().len(), 2);
    assert_eq!(
        two.store.index_dump().unwrap(),
        one.store.index_dump().unwrap()
    );
}

/// What is read ahead is checked as what the thread reads: another
/// antenna's documents are kept but quarantined, never indexed.
#[test]
fn another_antennas_document_read_ahead_is_still_quarantined() {
    let mut calais = calais();
    let (dunkerque, foreign_shift) = another_antenna_with_a_shift();
    let (puts, ahead): (Vec<_>, Vec<_>) = dunkerque
        .store
        .documents()
        .unwrap()
        .iter()
        .map(|(doc, _)| snapshot_read_ahead(&dunkerque.store, doc))
        .unzip();
    let applied = calais.store.apply_chunks_read_ahead(puts, ahead).unwrap();
    assert!(applied.indexed.is_empty(), "{applied:?}");
    assert_eq!(applied.quarantined.len(), 2);
    assert!(
        applied.quarantined[0].1.contains("another antenna"),
        "{applied:?}"
    );
    assert!(calais.store.shift(&foreign_shift).is_err());
}
