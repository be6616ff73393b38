//! The store's stories, on real SQLCipher files in temporary directories.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod erasure;
mod field;
mod golden;
mod locked_memory;
mod merge;
mod minimising;
mod protection;
mod replicas;
mod samod_chunks;
mod warehouse;

use std::path::PathBuf;

use maraude_core::antenna::{Place, PlaceKind};
use maraude_core::entry::{Composition, EntryContent, NewEntry, Quantity};
use maraude_core::ids::{Nickname, ShiftId};
use maraude_core::shift::{NewShift, ShiftKind};
use maraude_store::{ChunkWrite, Passphrase, Store};

pub const PASSPHRASE: &str = "dunes du nord 2026";

pub fn passphrase() -> Passphrase {
    Passphrase::new(PASSPHRASE.into())
}

#[derive(Debug)]
pub struct TempStore {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

impl TempStore {
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("calais.maraude")
    }
}

/// A Calais store with two places.
pub fn calais() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        Store::create(&dir.path().join("calais.maraude"), &passphrase(), "Calais").unwrap();
    store
        .update_antenna(|a| {
            for (id, name) in [
                ("dunes-north", "Dunes nord"),
                ("hospital-bridge", "Pont de l'hôpital"),
            ] {
                a.places.insert(
                    id.parse()?,
                    Place {
                        name: name.into(),
                        kind: PlaceKind::LivingPlace,
                        active: true,
                    },
                );
            }
            Ok(())
        })
        .unwrap();
    TempStore { dir, store }
}

pub fn nick(s: &str) -> Nickname {
    s.parse().unwrap()
}

pub fn night_shift(store: &mut Store) -> ShiftId {
    store
        .start_shift(NewShift {
            kind: ShiftKind::NightMaraude,
            started_at: None,
            lead: nick("Mira"),
            team: [nick("Jo"), nick("Sam")].into(),
            vehicle: Some("Trafic blanc".into()),
            stock_loaded: [
                ("blanket".parse().unwrap(), 40),
                ("tea_coffee".parse().unwrap(), 200),
            ]
            .into(),
        })
        .unwrap()
        .id
}

pub fn give(item: &str, n: i64, place: &str) -> NewEntry {
    NewEntry {
        at: None,
        place: Some(place.parse().unwrap()),
        content: EntryContent::Distribution {
            what: None,
            item: item.parse().unwrap(),
            size: None,
            quantity: Quantity::new(n).unwrap(),
            people: None,
            composition: Composition::default(),
        },
    }
}

/// Every document of `store` with its heads: what a peer holding all of
/// it shares.
pub fn every_document_with_heads(
    store: &Store,
) -> Vec<(maraude_store::DocumentId, Vec<automerge::ChangeHash>)> {
    store
        .documents()
        .unwrap()
        .into_iter()
        .map(|(doc, _)| {
            let heads = store.recorded_heads(&doc).unwrap().unwrap();
            (doc, heads)
        })
        .collect()
}

/// What samod would put for every chunk of `from`'s documents.
pub fn puts_of(from: &Store) -> Vec<ChunkWrite> {
    let mut out = Vec::new();
    for (doc, _) in from.documents().unwrap() {
        for (key, data) in from.chunks_under(&[doc.to_string()]).unwrap() {
            out.push(ChunkWrite::Put { key, data });
        }
    }
    out
}
