//! The store as samod's storage: chunks written under samod's keys keep the
//! index current in the same transaction, a document that is not ours is
//! kept but quarantined, and a document kept loaded for the next tap never
//! hides (then compacts away) a chunk samod wrote.

use maraude_core::ids::DeviceId;
use maraude_store::{ChunkWrite, Passphrase, Store};

use super::{calais, give, nick, night_shift, puts_of};

#[test]
fn samod_puts_index_what_they_bring_and_an_empty_store_fills_from_them() {
    let mut one = calais();
    let shift = night_shift(&mut one.store);
    one.store
        .log(&shift, &nick("Jo"), give("blanket", 3, "dunes-north"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut two = Store::create_empty(
        &dir.path().join("two.maraude"),
        &Passphrase::new(super::PASSPHRASE.into()),
        one.store.antenna_id(),
        DeviceId::new(),
    )
    .unwrap();
    let applied = two.apply_chunks(puts_of(&one.store)).unwrap();
    assert_eq!(applied.indexed.len(), 2, "the antenna and the shift");
    assert!(applied.quarantined.is_empty());
    assert_eq!(two.index_dump().unwrap(), one.store.index_dump().unwrap());
    assert_eq!(two.entries(&shift).unwrap().len(), 1);
    assert!(two.changed_for("server-x").unwrap().len() == 2);
}

#[test]
fn another_antennas_document_is_kept_but_quarantined_and_never_indexed() {
    let mut calais = calais();
    let mut dunkerque = super::calais();
    dunkerque
        .store
        .update_antenna(|a| {
            a.name = "Dunkerque".into();
            Ok(())
        })
        .unwrap();
    let foreign_shift = night_shift(&mut dunkerque.store);
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
