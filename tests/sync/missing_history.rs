//! A sync message tells the other side what its sender holds with a Bloom
//! filter. About once in a hundred syncs the filter claims a change its
//! sender lacks: the other side leaves that change out and sends the
//! changes built on it. The receiver's door cannot judge changes whose
//! history it lacks; it holds them and asks the sender for that history
//! (`maraude_sync::door`). It used to refuse them, and since every later
//! sync met the same filter, those entries never reached the server (CI
//! met it as a sync test failing now and then).
//!
//! Here a tablet logs, on purpose, an entry whose change the other side's
//! filter claims, then a few more. Whichever side receives them (the
//! server, a teammate serving, a teammate syncing with the tablet) ends
//! with all of them, in one sync, with no refusal.

use std::collections::BTreeSet;
use std::time::Duration;

use automerge::sync::BloomFilter;
use automerge::transaction::Transactable;
use automerge::{ChangeHash, ReadDoc};
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use maraude_core::document::{AnyDocument, EntryLog};
use maraude_core::entry::{Author, NewEntry};
use maraude_core::ids::EntryId;
use secrecy::ExposeSecret;
use serde_json::Value;
use yawc::{Frame, WebSocket};

use crate::a_team_syncs::{join, open, register, sync};
use crate::compression_bomb::{Field, cbor, runtime, say_join};
use crate::random_schedules::{ITEMS, distribution};
use crate::server::Server;
use crate::tablet::Tablet;
use crate::teammates::Serving;

/// A coordinator's night of three entries on `server`, and a volunteer's
/// tablet that synced it.
fn three_entries_and_a_volunteer(server: &Server) -> (Tablet, Tablet) {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    log_offline(&coordinator, 3);
    register(&coordinator, server);
    sync(&coordinator);
    let volunteer = join(&coordinator, server, "volunteer");
    sync(&volunteer);
    (coordinator, volunteer)
}

/// Entries logged before the planted ones: the filter holds their changes.
const LOGGED: usize = 30;
/// Entries logged on top of the one the filter claims.
const ON_TOP: usize = 4;

/// `n` distributions logged on the tablet as its app logs them.
fn log_offline(tablet: &Tablet, n: usize) {
    let mut store = open(tablet);
    let shift = store.current_shift().unwrap();
    let by = "Jo".parse().unwrap();
    for i in 0..n {
        let new = NewEntry {
            at: None,
            place: None,
            content: distribution(ITEMS[i % ITEMS.len()], 1),
        };
        store.log(&shift.id, &by, new).unwrap();
    }
}

/// The ids of tonight's entries in the tablet's store.
fn entries(tablet: &Tablet) -> BTreeSet<EntryId> {
    entries_in(&open(tablet))
}

fn entries_in(store: &maraude_store::Store) -> BTreeSet<EntryId> {
    let shift = store.current_shift().unwrap();
    store
        .entries(&shift.id)
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect()
}

/// On `tablet`, whose shift document is the one the other side holds:
/// an entry whose change that side's Bloom filter claims to hold (a
/// side's first sync message, on a fresh sync state, puts every change
/// of the document in its filter), then [`ON_TOP`] entries on top of it.
/// Logged as the app logs, with new entry ids until one collides.
fn plant_an_entry_the_filter_claims(tablet: &Tablet) {
    let mut store = open(tablet);
    let shift = store.current_shift().unwrap();
    let doc = maraude_store::document_id(shift.id.as_uuid());
    let whole = store.changes_since(&doc, &[]).unwrap();
    let device = store.device();
    let mut base = AnyDocument::load([whole.as_slice()], &device).unwrap();
    let base_heads = base.automerge().get_heads();
    let held: Vec<ChangeHash> = base
        .automerge()
        .get_changes(&[])
        .iter()
        .map(|c| c.hash())
        .collect();
    let filter = BloomFilter::from_hashes(held.iter());
    let antenna = store.antenna().unwrap();
    let author = Author {
        by: "Jo".parse().unwrap(),
        device,
        now: Utc::now(),
    };
    let log = |doc: &mut AnyDocument, i: usize| {
        let AnyDocument::Shift(shift_doc) = doc else {
            panic!("tonight's shift is a shift document");
        };
        let entry = NewEntry {
            at: None,
            place: None,
            content: distribution(ITEMS[i % ITEMS.len()], 1 + (i % 3) as i64),
        }
        .into_entry(&antenna, &author)
        .unwrap();
        shift_doc.log(&entry, &shift_doc.shift().unwrap()).unwrap();
    };
    // About one entry in a hundred; 20,000 tries miss with a chance of
    // 1 in 10^80.
    for attempt in 0..20_000 {
        let mut planted = AnyDocument::load([whole.as_slice()], &device).unwrap();
        log(&mut planted, attempt);
        let new = planted.automerge().get_changes(&base_heads);
        let first = new.first().expect("logging makes a change").hash();
        if !filter.contains_hash(&first) {
            continue;
        }
        for i in 0..ON_TOP {
            log(&mut planted, i);
        }
        let changes = planted.automerge().save_after(&base_heads);
        store.import(&doc, &changes).unwrap();
        return;
    }
    panic!("no entry's change was claimed by the filter in 20,000 tries");
}

/// Plant on `planted_on`; `syncing` syncs with `serving`, which serves;
/// then both hold every entry.
fn planted_then_synced(planted_on: &Tablet, serving: &Tablet, syncing: &Tablet, what: &str) {
    plant_an_entry_the_filter_claims(planted_on);
    let logged = entries(planted_on);
    {
        let serving = Serving::start(serving);
        let summary = syncing.json(["sync", "--peer", &serving.address]);
        assert!(refusals(&summary).is_empty(), "{what}: {summary}");
    }
    for tablet in [serving, syncing] {
        assert_eq!(entries(tablet), logged, "{what}'s entries");
    }
}

fn refusals(summary: &Value) -> &Vec<Value> {
    summary["refusals"].as_array().unwrap()
}

#[test]
fn changes_built_on_one_the_servers_filter_claims_all_reach_the_server_in_one_sync() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let tablet = Tablet::for_antenna("Calais");
    tablet.ok(["shift", "start", "--lead", "Mira"]);
    register(&tablet, &server);
    log_offline(&tablet, LOGGED);
    sync(&tablet);

    // A sync starts from the heads both sides recorded at the last one,
    // and its filters cover only what came since: nothing, here. A tablet
    // without that record (its first sync of a document the server holds,
    // say one a teammate handed it) starts from nothing, and the server's
    // first filter covers the whole history, in which the entry is planted.
    let antenna = open(&tablet).antenna_id();
    open(&tablet)
        .forget_shared(&maraude_protocol::api::server_peer(antenna.as_uuid()))
        .unwrap();
    plant_an_entry_the_filter_claims(&tablet);
    let logged = entries(&tablet);
    assert_eq!(logged.len(), LOGGED + 1 + ON_TOP);
    let summary = sync(&tablet);
    assert!(refusals(&summary).is_empty(), "{summary}");
    assert_eq!(summary["documents_refused"], 0, "{summary}");

    let held = entries_in(&server.antenna_store(&antenna.to_string()));
    assert_eq!(
        held, logged,
        "the server holds every entry the tablet logged"
    );
    // The door did ask (else the filter did not claim the change, and
    // this test proved nothing).
    let log = std::fs::read_to_string(server.data_dir.with_extension("log")).unwrap();
    assert!(
        log.contains("changes held: the sender is asked"),
        "the server's log: {log}"
    );
    // And nothing is left to send.
    let again = sync(&tablet);
    assert_eq!(again["documents_sent"], 0, "{again}");
}

#[test]
fn between_teammates_either_side_asks_for_what_the_filter_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register(&coordinator, &server);
    log_offline(&coordinator, LOGGED);
    sync(&coordinator);
    let lead = join(&coordinator, &server, "lead");
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&lead);
    sync(&volunteer);

    // The lead's tablet syncs with the volunteer's, which serves: the
    // serving side's door asks the lead's tablet.
    planted_then_synced(&lead, &volunteer, &lead, "the serving teammate");
    // The coordinator's tablet syncs with the lead's, which serves the
    // entries: the coordinator's door asks the serving tablet. (Both
    // first hold the same document, whose filter the entry must fool.)
    sync(&lead);
    sync(&coordinator);
    planted_then_synced(&lead, &lead, &coordinator, "the syncing teammate");
}

/// What the server answers about `document`: the missing changes it asks
/// for, or the code of the refusal it sends (`None` after 10 s).
enum Answer {
    Asked(Vec<ChangeHash>),
    Refused(String),
}

async fn answer<S>(socket: &mut WebSocket<S>, document: &str) -> Option<Answer>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let reading = async {
        while let Some(frame) = socket.next().await {
            let bytes = frame.payload().to_vec();
            let Ok(read) = maraude_core::wire::envelope::envelope(&bytes) else {
                continue;
            };
            let about = match read.document {
                Some(maraude_core::wire::envelope::DocumentRef::Text(d)) => d == document,
                _ => false,
            };
            if !about {
                continue;
            }
            if read.kind == maraude_sync::door::NOTICE_TYPE {
                return Some(Answer::Refused(read.code.unwrap_or_default().to_string()));
            }
            let message = read
                .data
                .and_then(|d| automerge::sync::Message::decode(d).ok());
            if let Some(message) = message
                && !message.need.is_empty()
            {
                return Some(Answer::Asked(message.need));
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(10), reading)
        .await
        .ok()
        .flatten()
}

/// A sync socket to `url` with the device's `credential`, past the
/// handshake as the peer `me`: what a modified client holds.
async fn joined(
    url: &str,
    credential: &str,
    me: &str,
) -> WebSocket<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> {
    let mut socket = WebSocket::connect(url.parse().unwrap())
        .with_options(maraude_sync::socket::options())
        .with_request(
            yawc::HttpRequestBuilder::new().header("authorization", format!("Bearer {credential}")),
        )
        .await
        .expect("the upgrade succeeds with a volunteer's credential");
    say_join(&mut socket, me).await;
    socket
}

/// A volunteer's modified client sends the server a change that removes
/// an entry of the shift, built on a change it keeps back (a new entry of
/// its own). The server asks for that change; the client sends it; the
/// server judges both together and refuses them: nothing of either is
/// merged, the removed entry is still there. What a client is asked for
/// is no way around the door.
#[test]
fn a_modified_client_cannot_slip_a_removal_past_the_door_in_the_history_it_was_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (_coordinator, volunteer) = three_entries_and_a_volunteer(&server);

    // On the volunteer's copy of the shift: a new entry (kept back), then
    // the removal of the first entry, built on it.
    let (antenna, document, doc_id, device, credential) = {
        let store = open(&volunteer);
        let shift = store.current_shift().unwrap();
        let link = store.server_link().unwrap().unwrap();
        (
            *store.antenna_id().as_uuid(),
            maraude_store::document_id(shift.id.as_uuid()).to_string(),
            maraude_store::document_id(shift.id.as_uuid()),
            *store.device().as_uuid(),
            link.credential.expose_secret().to_string(),
        )
    };
    let before = entries(&volunteer);
    let removed = *before.iter().next().unwrap();
    let (kept_back, removal) = {
        let store = open(&volunteer);
        let whole = store.changes_since(&doc_id, &[]).unwrap();
        let mut doc = AnyDocument::load([whole.as_slice()], &store.device()).unwrap();
        let base = doc.automerge().get_heads();
        let AnyDocument::Shift(shift_doc) = &mut doc else {
            panic!("a shift document");
        };
        let entry = NewEntry {
            at: None,
            place: None,
            content: distribution("blanket", 1),
        }
        .into_entry(
            &store.antenna().unwrap(),
            &Author {
                by: "Jo".parse().unwrap(),
                device: store.device(),
                now: Utc::now(),
            },
        )
        .unwrap();
        shift_doc.log(&entry, &shift_doc.shift().unwrap()).unwrap();
        let am = doc.automerge();
        let first = am.get_changes(&base)[0].raw_bytes().to_vec();
        let after_entry = am.get_heads();
        let (_, entries_map) = am
            .get(automerge::ROOT, "entries")
            .unwrap()
            .expect("a shift has entries");
        am.delete(&entries_map, removed.to_string()).unwrap();
        am.commit();
        let second = am.get_changes(&after_entry)[0].raw_bytes().to_vec();
        (first, second)
    };

    let rt = runtime();
    let url = format!("{}/v1/sync", server.url.replacen("http://", "ws://", 1));
    let me = maraude_protocol::api::device_peer(&device);
    let them = maraude_protocol::api::server_peer(&antenna);
    let sync_message = |changes: Vec<Vec<u8>>, heads: Vec<ChangeHash>| {
        let data = automerge::sync::Message {
            heads,
            need: vec![],
            have: vec![],
            changes: automerge::sync::ChunkList::from(changes),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        }
        .encode();
        cbor(&[
            ("type", Field::Text("sync")),
            ("senderId", Field::Text(&me)),
            ("targetId", Field::Text(&them)),
            ("documentId", Field::Text(&document)),
            ("data", Field::Bytes(&data)),
        ])
    };
    let removal_hash = automerge::Change::try_from(removal.as_slice())
        .unwrap()
        .hash();
    let kept_back_hash = automerge::Change::try_from(kept_back.as_slice())
        .unwrap()
        .hash();
    let answers = rt.block_on(async {
        let mut socket = joined(&url, &credential, &me).await;
        socket
            .send(Frame::binary(sync_message(
                vec![removal.clone()],
                vec![removal_hash],
            )))
            .await
            .unwrap();
        let first = answer(&mut socket, &document).await;
        socket
            .send(Frame::binary(sync_message(
                vec![kept_back.clone()],
                vec![removal_hash],
            )))
            .await
            .unwrap();
        let second = answer(&mut socket, &document).await;
        (first, second)
    });
    match answers.0 {
        Some(Answer::Asked(need)) => assert_eq!(need, vec![kept_back_hash]),
        Some(Answer::Refused(code)) => panic!("refused at once ({code}), not asked"),
        None => panic!("the server neither asked nor refused"),
    }
    match answers.1 {
        Some(Answer::Refused(code)) => assert_eq!(code, "evidence_rewritten"),
        Some(Answer::Asked(need)) => panic!("asked again for {need:?}"),
        None => panic!("the server did not refuse the removal"),
    }
    let held = entries_in(&server.antenna_store(&antenna.to_string()));
    assert_eq!(
        held, before,
        "the server's entries: none removed, none added"
    );
    // The stock client of the same tablet still syncs.
    let summary = sync(&volunteer);
    assert!(refusals(&summary).is_empty(), "{summary}");
}

/// A volunteer's modified client claims, in its first message, to have
/// last synced the shift at heads it does not hold (the server's newest).
/// The server starts from that claim (it holds those heads, and the
/// volunteer may read the shift; automerge alone would also take the
/// claim when choosing what to send): it sends none of the changes the
/// claim covers, and that is all the lie does. Nothing is written, and
/// the stock client of the same tablet, which starts from its own record,
/// then receives everything.
#[test]
fn a_claimed_last_sync_costs_the_liar_the_changes_it_claimed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let (coordinator, volunteer) = three_entries_and_a_volunteer(&server);
    log_offline(&coordinator, 2);
    sync(&coordinator);
    let all = entries(&coordinator);
    assert_eq!(entries(&volunteer).len(), 3);

    let (antenna, document, device, credential, own_heads) = {
        let store = open(&volunteer);
        let shift = store.current_shift().unwrap();
        let doc = maraude_store::document_id(shift.id.as_uuid());
        let link = store.server_link().unwrap().unwrap();
        (
            *store.antenna_id().as_uuid(),
            doc.to_string(),
            *store.device().as_uuid(),
            link.credential.expose_secret().to_string(),
            store.recorded_heads(&doc).unwrap().unwrap(),
        )
    };
    let server_heads = {
        let store = open(&coordinator);
        let doc = maraude_store::document_id(store.current_shift().unwrap().id.as_uuid());
        store.recorded_heads(&doc).unwrap().unwrap()
    };
    assert_ne!(own_heads, server_heads);

    let rt = runtime();
    let url = format!("{}/v1/sync", server.url.replacen("http://", "ws://", 1));
    let me = maraude_protocol::api::device_peer(&device);
    let them = maraude_protocol::api::server_peer(&antenna);
    let data = automerge::sync::Message {
        heads: own_heads,
        need: vec![],
        have: vec![automerge::sync::Have {
            last_sync: server_heads,
            bloom: BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
        }],
        changes: automerge::sync::ChunkList::from(Vec::<Vec<u8>>::new()),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode();
    let request = cbor(&[
        ("type", Field::Text("request")),
        ("senderId", Field::Text(&me)),
        ("targetId", Field::Text(&them)),
        ("documentId", Field::Text(&document)),
        ("data", Field::Bytes(&data)),
    ]);
    let (answered, changes_sent) = rt.block_on(async {
        let mut socket = joined(&url, &credential, &me).await;
        socket.send(Frame::binary(request)).await.unwrap();
        let (mut answered, mut changes) = (false, 0usize);
        let reading = async {
            while let Some(frame) = socket.next().await {
                let bytes = frame.payload().to_vec();
                let Ok(read) = maraude_core::wire::envelope::envelope(&bytes) else {
                    continue;
                };
                if let Some(message) = read
                    .data
                    .and_then(|d| automerge::sync::Message::decode(d).ok())
                {
                    answered = true;
                    let mut doc = automerge::Automerge::new();
                    for chunk in message.changes.iter() {
                        let _ = doc.load_incremental(chunk);
                    }
                    changes += doc.get_changes(&[]).len();
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), reading).await;
        (answered, changes)
    });
    assert!(answered, "the server answered the request");
    assert_eq!(
        changes_sent, 0,
        "the server sent changes the client claimed to hold"
    );
    assert_eq!(
        entries(&volunteer).len(),
        3,
        "the volunteer's tablet untouched"
    );
    assert_eq!(
        entries_in(&server.antenna_store(&antenna.to_string())),
        all,
        "the server's entries unchanged"
    );
    // The stock client starts from what was recorded, not from the lie.
    let summary = sync(&volunteer);
    assert!(refusals(&summary).is_empty(), "{summary}");
    assert_eq!(entries(&volunteer), all);
}
