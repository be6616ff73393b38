//! A bad line between the tablets and the server ([`crate::fault_proxy`]):
//! a connection cut anywhere in a sync, a slow line, a message cut short
//! and followed by garbage, every message sent twice and whole sessions
//! replayed; and tablets whose clocks are hours apart. Whatever happens, a
//! sync goes through or fails with a sentence (no panic, no hang), the
//! server stays up, and the next good sync leaves every device and the
//! server with exactly what was logged: nothing lost, nothing twice.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use maraude_core::Lang;
use maraude_core::antenna::Antenna;
use maraude_core::document::{AnyDocument, EntryLog, ShiftDoc};
use maraude_core::entry::{Author, EntryContent, EntryEdit, NewEntry};
use maraude_core::ids::{EntryId, Nickname};
use maraude_store::Store;
use serde_json::Value;

use crate::a_team_syncs::{join_at, open, register_at, sync};
use crate::fault_proxy::{Fault, FaultProxy, Way};
use crate::random_schedules::{ITEMS, distribution};
use crate::server::Server;
use crate::tablet::{Tablet, parse_json, refused};

/// The request that opens the sync WebSocket (not `/v1/sync/pending`).
const SOCKET: &str = "GET /v1/sync ";
const PENDING: &str = "GET /v1/sync/pending";
const ACKED: &str = "POST /v1/sync/acked";

/// What an antenna holds of the night: its entries (voided ones
/// included) and the quantity given out per item.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Night {
    entries: usize,
    given: BTreeMap<String, i64>,
}

impl Night {
    fn of(store: &Store) -> Self {
        // Wide enough for entries stamped by a clock hours off.
        let today = maraude_core::time::paris_date(Utc::now());
        let (from, to) = (today - chrono::Days::new(1), today + chrono::Days::new(1));
        let report = store.period_report(from, to, Lang::En).unwrap();
        let entries = store
            .shifts(from, to)
            .unwrap()
            .iter()
            .map(|s| store.entries(&s.id).unwrap().len())
            .sum();
        Night {
            entries,
            given: report
                .items
                .iter()
                .filter(|i| i.distributed > 0)
                .map(|i| (i.item.as_str().to_string(), i64::from(i.distributed)))
                .collect(),
        }
    }

    fn add(&mut self, item: &str, qty: i64) {
        *self.given.entry(item.to_string()).or_insert(0) += qty;
    }
}

/// `n` distributions logged on the tablet as its app logs them, offline.
fn log_offline(tablet: &Tablet, n: usize, logged: &mut Night) {
    let mut store = open(tablet);
    let shift = store.current_shift().unwrap();
    let by: Nickname = "Jo".parse().unwrap();
    for i in 0..n {
        let (item, qty) = (ITEMS[i % ITEMS.len()], (i % 5 + 1) as i64);
        let new = NewEntry {
            at: None,
            place: None,
            content: distribution(item, qty),
        };
        store.log(&shift.id, &by, new).unwrap();
        logged.entries += 1;
        logged.add(item, qty);
    }
}

/// Change tonight's shift on the tablet as it would if its clock were
/// `skew` off: `Store::log` and the CLI read the system clock and nothing
/// lets a test set it, so this does what the store does with another
/// `now` (core's document, the store's merge).
fn with_clock<T>(
    tablet: &Tablet,
    skew: chrono::Duration,
    change: impl FnOnce(&mut ShiftDoc, &Antenna, &Author) -> T,
) -> T {
    let mut store = open(tablet);
    let shift = store.current_shift().unwrap();
    let doc = maraude_store::document_id(shift.id.as_uuid());
    let author = Author {
        by: "Sam".parse().unwrap(),
        device: store.device(),
        now: Utc::now() + skew,
    };
    let whole = store.changes_since(&doc, &[]).unwrap();
    let mut any = AnyDocument::load([whole.as_slice()], &store.device()).unwrap();
    let heads = any.automerge().get_heads();
    let AnyDocument::Shift(shift_doc) = &mut any else {
        panic!("tonight's shift is a shift document");
    };
    let out = change(shift_doc, &store.antenna().unwrap(), &author);
    let changes = any.automerge().save_after(&heads);
    store.import(&doc, &changes).unwrap();
    out
}

/// `n` distributions logged by a tablet whose clock is `skew` off; their ids.
fn log_with_clock(
    tablet: &Tablet,
    skew: chrono::Duration,
    n: usize,
    logged: &mut Night,
) -> Vec<EntryId> {
    with_clock(tablet, skew, |doc, antenna, author| {
        (0..n)
            .map(|i| {
                let (item, qty) = (ITEMS[i % ITEMS.len()], (i % 4 + 1) as i64);
                let entry = NewEntry {
                    at: None,
                    place: None,
                    content: distribution(item, qty),
                }
                .into_entry(antenna, author)
                .unwrap();
                doc.log(&entry, &doc.shift().unwrap()).unwrap();
                logged.entries += 1;
                logged.add(item, qty);
                entry.id
            })
            .collect()
    })
}

/// A sync over a bad line: its summary when it went through, else the
/// sentence it failed with (exit code 1, a message; a panic or a hang
/// fails the test).
fn sync_or_sentence(tablet: &Tablet) -> Result<Value, String> {
    let answer = tablet.run(["--json", "sync"]);
    if answer.succeeded() {
        Ok(parse_json(&answer))
    } else {
        Err(refused(answer))
    }
}

/// The server, a proxy in front of it, and a coordinator and a volunteer
/// enrolled through the proxy, both holding tonight's shift.
struct Team {
    server: Server,
    proxy: FaultProxy,
    coordinator: Tablet,
    volunteer: Tablet,
    antenna: String,
}

impl Team {
    fn behind_a_proxy(dir: &std::path::Path) -> Self {
        let server = Server::start(&dir.join("server"));
        let proxy = FaultProxy::start(&server.url);
        let coordinator = Tablet::for_antenna("Calais");
        coordinator.ok(["shift", "start", "--lead", "Mira"]);
        register_at(&coordinator, &proxy.url);
        let volunteer = join_at(&coordinator, &proxy.url, "volunteer");
        sync(&coordinator);
        sync(&volunteer);
        proxy.take();
        let antenna = open(&coordinator).antenna_id().to_string();
        Team {
            server,
            proxy,
            coordinator,
            volunteer,
            antenna,
        }
    }

    /// What the server holds of the night.
    fn on_server(&self) -> Night {
        Night::of(&self.server.antenna_store(&self.antenna))
    }

    /// Both tablets sync on a good line; then they and the server hold
    /// what was logged.
    fn sync_and_check(&self, logged: &Night, after: &str) {
        self.proxy.set(Fault::None);
        sync(&self.coordinator);
        sync(&self.volunteer);
        assert_converged(
            &self.server,
            &self.antenna,
            &[&self.coordinator, &self.volunteer],
            logged,
            after,
        );
    }
}

fn assert_server_up(server: &Server, after: &str) {
    assert_eq!(
        server.get("/v1/health").0,
        200,
        "{after}: the server must stay up; its log: {}",
        std::fs::read_to_string(server.data_dir.with_extension("log")).unwrap_or_default()
    );
}

/// The server holds what was logged, and each tablet what the server holds.
fn assert_converged(
    server: &Server,
    antenna: &str,
    tablets: &[&Tablet],
    logged: &Night,
    after: &str,
) {
    assert_server_up(server, after);
    let on_server = server.antenna_store(antenna);
    assert_eq!(
        Night::of(&on_server),
        *logged,
        "{after}: the server's night"
    );
    assert_eq!(
        on_server.quarantined().unwrap(),
        Vec::new(),
        "{after}: the server quarantined a document"
    );
    let dump = on_server.index_dump().unwrap();
    for (i, tablet) in tablets.iter().enumerate() {
        let store = open(tablet);
        assert_eq!(Night::of(&store), *logged, "{after}: tablet {i}'s night");
        assert_eq!(
            store.quarantined().unwrap(),
            Vec::new(),
            "{after}: tablet {i}"
        );
        assert_eq!(
            store.index_dump().unwrap(),
            dump,
            "{after}: tablet {i} differs from the server"
        );
    }
}

/// The bytes the device sent on the sync WebSocket of the last sync.
fn upload_bytes(proxy: &FaultProxy) -> u64 {
    let wires = proxy.take();
    wires
        .iter()
        .filter(|w| w.request.starts_with(SOCKET))
        .map(|w| w.up)
        .max()
        .unwrap_or_else(|| panic!("the sync opened no WebSocket: {wires:?}"))
}

#[test]
fn a_sync_cut_anywhere_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let team = Team::behind_a_proxy(dir.path());
    let (proxy, coordinator) = (&team.proxy, &team.coordinator);
    let mut logged = Night::default();
    // A hundred entries on a good line: how many bytes the upload of a
    // hundred entries takes, to cut the next ones inside it.
    log_offline(coordinator, 100, &mut logged);
    sync(coordinator);
    let upload = upload_bytes(proxy);

    let cuts = [
        ("in the request for what changed", PENDING, 10),
        ("in the WebSocket upgrade", SOCKET, 40),
        ("a third into the upload", SOCKET, upload / 3),
        ("near the end of the upload", SOCKET, upload * 3 / 4),
        ("in the acknowledgement", ACKED, 30),
    ];
    for (fired, (when, request, after)) in (1..).zip(cuts) {
        log_offline(coordinator, 100, &mut logged);
        proxy.set(Fault::Cut {
            request,
            way: Way::Up,
            after,
            garbage: 0,
        });
        let outcome = sync_or_sentence(coordinator);
        eprintln!("cut {when} (byte {after} of {upload}): {outcome:?}");
        assert_eq!(proxy.cuts(), fired, "cut {when}: the cut never came");
        if request == SOCKET {
            // The client dials again and takes up what is not in sync yet.
            let summary = outcome.unwrap_or_else(|e| panic!("cut {when}: {e}"));
            assert_eq!(summary["documents_sent"], 1, "cut {when}: {summary}");
        } else if let Err(sentence) = &outcome {
            // A REST call cut short is said plainly, with what to do.
            assert!(
                sentence.contains("was cut during the sync")
                    && sentence.contains("run the sync again"),
                "cut {when}: {sentence}"
            );
        }
        proxy.set(Fault::None);
        sync(coordinator);
        assert_converged(
            &team.server,
            &team.antenna,
            &[coordinator],
            &logged,
            &format!("cut {when}"),
        );
    }

    // The volunteer downloads the six hundred entries; the line drops in
    // the middle.
    proxy.set(Fault::Cut {
        request: SOCKET,
        way: Way::Down,
        after: upload * 2,
        garbage: 0,
    });
    let outcome = sync_or_sentence(&team.volunteer);
    eprintln!("cut in the download (byte {}): {outcome:?}", upload * 2);
    assert_eq!(proxy.cuts(), 6, "the download was never cut");
    let summary = outcome.unwrap_or_else(|e| panic!("cut in the download: {e}"));
    assert_eq!(summary["documents_received"], 1, "{summary}");
    team.sync_and_check(&logged, "cut in the download");
}

#[test]
fn a_slow_line_still_brings_every_tablet_to_the_same_night() {
    let dir = tempfile::tempdir().unwrap();
    let team = Team::behind_a_proxy(dir.path());
    let latency = Duration::from_millis(150);
    team.proxy.set(Fault::Slow {
        latency,
        bytes_per_second: 32 * 1024,
    });
    let mut logged = Night::default();
    log_offline(&team.coordinator, 60, &mut logged);
    log_offline(&team.volunteer, 40, &mut logged);
    for tablet in [&team.coordinator, &team.volunteer, &team.coordinator] {
        let summary = sync(tablet);
        // What changed, the upgrade, the handshake, the documents both
        // ways, the acknowledgement: four round trips at least.
        let millis = summary["millis"].as_u64().unwrap();
        assert!(
            millis >= 8 * latency.as_millis() as u64,
            "the line was not slow: {summary}"
        );
    }
    // On the slow line still.
    assert_converged(
        &team.server,
        &team.antenna,
        &[&team.coordinator, &team.volunteer],
        &logged,
        "a slow line",
    );
}

#[test]
fn a_message_cut_short_and_followed_by_garbage_leaves_the_server_up_and_its_store_whole() {
    let dir = tempfile::tempdir().unwrap();
    let team = Team::behind_a_proxy(dir.path());
    let mut logged = Night::default();
    log_offline(&team.coordinator, 80, &mut logged);
    sync(&team.coordinator);
    let upload = upload_bytes(&team.proxy);
    team.sync_and_check(&logged, "a good line");

    let faults = [
        ("the request for what changed", PENDING, Way::Up, 25),
        ("an upload", SOCKET, Way::Up, upload / 2),
        ("the acknowledgement", ACKED, Way::Up, 40),
        ("a download", SOCKET, Way::Down, upload / 2),
    ];
    for (fired, (what, request, way, after)) in (1..).zip(faults) {
        let before = logged.clone();
        log_offline(&team.coordinator, 80, &mut logged);
        let tablet = match way {
            Way::Up => &team.coordinator,
            Way::Down => {
                // What the volunteer will download.
                sync(&team.coordinator);
                &team.volunteer
            }
        };
        team.proxy.set(Fault::Cut {
            request,
            way,
            after,
            garbage: 4096,
        });
        let outcome = sync_or_sentence(tablet);
        let after_fault = format!("{what} cut short, then garbage");
        eprintln!("{after_fault}: {outcome:?}");
        assert_eq!(team.proxy.cuts(), fired, "{what}: the cut never came");
        assert_server_up(&team.server, &after_fault);
        let night = team.on_server();
        assert!(
            night == before || night == logged,
            "{after_fault}: the server holds part of an upload: {night:?}"
        );
        team.sync_and_check(&logged, &after_fault);
    }
}

#[test]
fn messages_sent_twice_and_whole_sessions_replayed_add_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let team = Team::behind_a_proxy(dir.path());
    let (proxy, coordinator, volunteer) = (&team.proxy, &team.coordinator, &team.volunteer);
    proxy.set(Fault::Twice);
    let mut logged = Night::default();
    log_offline(coordinator, 30, &mut logged);
    log_offline(volunteer, 20, &mut logged);
    for tablet in [coordinator, volunteer, coordinator] {
        sync(tablet);
    }
    assert!(proxy.doubled() >= 6, "{} messages doubled", proxy.doubled());
    let both = [coordinator, volunteer];
    let on_server = || {
        team.server
            .antenna_store(&team.antenna)
            .index_dump()
            .unwrap()
    };
    assert_converged(
        &team.server,
        &team.antenna,
        &both,
        &logged,
        "every message sent twice",
    );

    // Every session again, byte for byte, as a device that lost its
    // answers and sent it all a second time.
    let before = on_server();
    let answered = proxy.replay();
    assert_eq!(answered.len(), 3, "one WebSocket per sync: {answered:?}");
    assert!(
        answered.iter().all(|bytes| *bytes > 0),
        "the server answered no replayed session: {answered:?}"
    );
    assert_eq!(on_server(), before, "a replay changed the server's store");
    for tablet in both {
        let again = sync(tablet);
        assert_eq!(again["documents_received"], 0, "{again}");
    }
    assert_converged(
        &team.server,
        &team.antenna,
        &both,
        &logged,
        "whole sessions replayed",
    );
}

#[test]
fn tablets_whose_clocks_are_hours_apart_still_sum_the_same_night() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register_at(&coordinator, &server.url);
    let ahead = join_at(&coordinator, &server.url, "lead");
    let behind = join_at(&coordinator, &server.url, "volunteer");
    let tablets = [&coordinator, &ahead, &behind];
    for tablet in tablets {
        sync(tablet);
    }

    // Three hours fast, ninety minutes slow (within the shift's margin),
    // and one on time.
    let (fast, slow) = (chrono::Duration::hours(3), chrono::Duration::minutes(-90));
    let mut logged = Night::default();
    let from_ahead = log_with_clock(&ahead, fast, 10, &mut logged);
    let from_behind = log_with_clock(&behind, slow, 10, &mut logged);
    log_offline(&coordinator, 10, &mut logged);
    for tablet in tablets {
        sync(tablet);
    }
    for tablet in tablets {
        sync(tablet);
    }

    // Each corrects or voids what the other logged "hours later".
    let corrected = from_behind[0];
    let old = open(&ahead).entry(&corrected).unwrap();
    with_clock(&ahead, fast, |doc, antenna, author| {
        let edit = EntryEdit {
            at: old.at,
            place: None,
            content: distribution(ITEMS[0], 7),
        };
        doc.edit(&corrected, edit, &doc.shift().unwrap(), antenna, author)
            .unwrap();
    });
    let EntryContent::Distribution { quantity, .. } = old.content else {
        panic!("a distribution");
    };
    logged.add(ITEMS[0], 7 - i64::from(quantity.get()));
    let voided = from_ahead[1];
    let gone = open(&behind).entry(&voided).unwrap();
    with_clock(&behind, slow, |doc, _, author| {
        doc.void(&voided, "logged twice", author).unwrap();
    });
    let EntryContent::Distribution { item, quantity, .. } = gone.content else {
        panic!("a distribution");
    };
    logged.add(item.as_str(), -i64::from(quantity.get()));
    for _round in 0..2 {
        for tablet in tablets {
            sync(tablet);
        }
    }
    let antenna = open(&coordinator).antenna_id().to_string();
    assert_converged(&server, &antenna, &tablets, &logged, "clocks hours apart");
    // Nobody's clock rewrote anybody's times.
    let seen_late = open(&behind).entry(&from_ahead[0]).unwrap();
    assert!(
        seen_late.at > Utc::now() + chrono::Duration::hours(2),
        "{seen_late:?}"
    );
}
