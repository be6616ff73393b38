//! How long the store takes to index what a fresh device receives: each
//! document of a season arrives whole, as one samod snapshot put, and
//! `Store::apply_chunks` stores it and derives its index rows in the same
//! transaction. This is the device's side of the sync bench's "fresh
//! device pulls the season", without the network, the server or samod, so
//! that a change to the indexing path can be measured (and profiled) in a
//! few seconds.
//!
//! `cargo bench -p maraude-store --bench received -- [SHIFTS] [ROUNDS]`
//! (default 100 shifts of 100 entries, 3 rounds into fresh stores; the
//! median is printed last). Each round also indexes the season with every
//! document read ahead first (`ReadAhead`, as the sync layer does on
//! another thread), and times the store's thread alone. Entries are a night's kind, each logged as its
//! own Automerge change as the app does.

use std::time::{Duration, Instant};

use automerge::ChangeHash;
use chrono::{TimeZone, Utc};
use maraude_core::antenna::{Antenna, Place, PlaceKind};
use maraude_core::document::{AntennaDoc, Document, EntryLog, ShiftDoc};
use maraude_core::entry::{Author, EntryContent, NewEntry, Quantity};
use maraude_core::ids::{DeviceId, Nickname};
use maraude_core::shift::{NewShift, ShiftKind};
use maraude_store::{ChunkWrite, Passphrase, ReadAhead, Store, document_id};
use samod_core::{CompactionHash, StorageKey};

const ENTRIES_PER_SHIFT: usize = 100;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .map(|a| a.parse::<usize>().expect("SHIFTS and ROUNDS are numbers"));
    let shifts = args.next().unwrap_or(100);
    let rounds = args.next().unwrap_or(3).max(1);

    let (antenna, puts) = season(shifts);
    let entries = shifts * ENTRIES_PER_SHIFT;
    let mut times = Vec::new();
    let mut written = Vec::new();
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut store = fresh_store(&dir, "fresh", &antenna);
        // One transaction per document: the worst case of the sync, where
        // each document's put is committed before the next one arrives.
        let started = Instant::now();
        for put in &puts {
            store
                .apply_chunks(vec![put.clone()])
                .expect("the season is indexed");
        }
        let took = started.elapsed();
        let stats = store.stats().expect("figures");
        assert_eq!(stats.entries as usize, entries, "every entry indexed");
        // The same, each document read ahead first as the sync layer reads
        // it on another thread (`ReadAhead`): what is left to the store's
        // thread is the writing.
        let mut ahead_store = fresh_store(&dir, "ahead", &antenna);
        let reading = Instant::now();
        let read: Vec<_> = puts
            .iter()
            .map(|put| match put {
                ChunkWrite::Put { key, data } => {
                    ReadAhead::of(key, data, &ahead_store.device()).expect("read")
                }
                ChunkWrite::Delete { .. } => unreachable!("only puts"),
            })
            .collect();
        let reading = reading.elapsed();
        let writing = Instant::now();
        for (put, read) in puts.iter().zip(read) {
            ahead_store
                .apply_chunks_read_ahead(vec![put.clone()], vec![read])
                .expect("the season is indexed");
        }
        let writing = writing.elapsed();
        assert_eq!(
            ahead_store.index_dump().expect("an index"),
            store.index_dump().expect("an index"),
            "read ahead or not, the same index"
        );
        // samod puts a snapshot again when it compacts what it already
        // stored: the same heads, nothing new to index.
        let again = Instant::now();
        store.apply_chunks(puts.clone()).expect("the season again");
        let again = again.elapsed();
        let rebuild = Instant::now();
        store.rebuild_index().expect("a rebuild");
        let rebuild = rebuild.elapsed();
        println!(
            "round {round}: {} documents, {entries} entries indexed in {} ({:.2} ms a document); \
             read ahead {} then written {}; the same snapshots again in one batch {}; rebuild {}",
            puts.len(),
            ms(took),
            took.as_secs_f64() * 1000.0 / puts.len() as f64,
            ms(reading),
            ms(writing),
            ms(again),
            ms(rebuild),
        );
        times.push(took);
        written.push(writing);
    }
    times.sort();
    written.sort();
    println!(
        "median: {}; read ahead, the store's thread: {}",
        ms(times[times.len() / 2]),
        ms(written[written.len() / 2])
    );
}

/// An empty store of `antenna` in `dir`, as a device has before its
/// first sync.
fn fresh_store(dir: &tempfile::TempDir, name: &str, antenna: &Antenna) -> Store {
    Store::create_empty(
        &dir.path().join(format!("{name}.maraude")),
        &Passphrase::new("maraude bench passphrase".into()),
        antenna.id,
        DeviceId::new(),
    )
    .expect("a fresh store")
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// An antenna with places, and `shifts` shift documents of a hundred
/// entries each, as the snapshot puts samod makes of documents it receives
/// whole (the antenna document first).
fn season(shifts: usize) -> (Antenna, Vec<ChunkWrite>) {
    let device = DeviceId::new();
    let mut antenna = Antenna::new("Calais").expect("a valid name");
    for (id, name) in [
        ("dunes-north", "Dunes nord"),
        ("hospital-bridge", "Pont de l'hôpital"),
        ("old-station", "Ancienne gare"),
    ] {
        antenna.places.insert(
            id.parse().expect("a place id"),
            Place {
                name: name.into(),
                kind: PlaceKind::LivingPlace,
                active: true,
            },
        );
    }
    let items: Vec<_> = antenna
        .catalogue
        .iter()
        .filter(|(_, item)| item.active && item.sizes.is_empty())
        .map(|(id, _)| id.clone())
        .collect();
    let places: Vec<_> = antenna.places.keys().cloned().collect();
    let lead: Nickname = "Mira".parse().expect("a nickname");
    let mut antenna_doc = AntennaDoc::create(&antenna, &device).expect("an antenna document");
    let mut puts = vec![snapshot(*antenna.id.as_uuid(), &mut antenna_doc)];
    let first_night = Utc
        .with_ymd_and_hms(2025, 11, 1, 20, 0, 0)
        .single()
        .expect("a time");
    // A cheap, fixed sequence instead of a random generator.
    let mut n: usize = 7;
    for s in 0..shifts {
        let start = first_night + chrono::Duration::days(s as i64);
        let shift = NewShift {
            kind: ShiftKind::NightMaraude,
            started_at: Some(start),
            lead: lead.clone(),
            team: Default::default(),
            vehicle: Some("van".into()),
            stock_loaded: Default::default(),
        }
        .into_shift(&antenna, Utc::now())
        .expect("a valid shift");
        let mut doc = ShiftDoc::create(&shift, &device).expect("a shift document");
        for i in 0..ENTRIES_PER_SHIFT {
            n = n.wrapping_mul(31).wrapping_add(17) % 10_007;
            let at = start + chrono::Duration::minutes(i as i64);
            let content = match n % 10 {
                0 => EntryContent::Note {
                    text: format!("Thé servi, ambiance calme ({})", n % 40),
                },
                1 => EntryContent::Headcount {
                    people: (n % 70 + 3) as u32,
                    composition: Default::default(),
                    vulnerable: (n % 4) as u32,
                },
                _ => EntryContent::Distribution {
                    // An "other" says what it was, as the app asks.
                    what: items[n % items.len()]
                        .is_other()
                        .then(|| "lampe torche".to_string()),
                    item: items[n % items.len()].clone(),
                    size: None,
                    quantity: Quantity::new((n % 11 + 1) as i64).expect("in range"),
                    people: Some((n % 11 + 1) as u32),
                    composition: Default::default(),
                },
            };
            let author = Author {
                by: lead.clone(),
                device,
                now: at,
            };
            let entry = NewEntry {
                at: Some(at),
                place: Some(places[n % places.len()].clone()),
                content,
            }
            .into_entry(&antenna, &author)
            .expect("a valid entry");
            // One tablet, which started the shift: it logs in the shift.
            doc.log(&entry, &shift).expect("logged");
        }
        puts.push(snapshot(*shift.id.as_uuid(), &mut doc));
    }
    (antenna, puts)
}

/// The put samod makes when it stores a document whole.
fn snapshot<D: Document>(record: uuid::Uuid, doc: &mut D) -> ChunkWrite {
    let heads: Vec<ChangeHash> = doc.heads();
    let key = StorageKey::snapshot_path(&document_id(&record), &CompactionHash::new(&heads));
    ChunkWrite::Put {
        key: key.to_string(),
        data: doc.save(),
    }
}
