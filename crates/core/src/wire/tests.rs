//! Stories of what reaches the server: honest tablets syncing, and a
//! hostile one sending what would cost the server gigabytes.

use std::io::Write;
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;

// ---------------------------------------------------------------------------
// Builders: bytes in Automerge's format, written by hand where automerge
// would never write them.

fn uleb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(mut n: i64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if (n == 0 && b & 0x40 == 0) || (n == -1 && b & 0x40 != 0) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A chunk with a valid checksum (the first four bytes of the SHA-256 of
/// type, length and body), so that Automerge gets past it.
fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut hashed = vec![kind];
    uleb(body.len() as u64, &mut hashed);
    hashed.extend_from_slice(body);
    let hash = Sha256::digest(&hashed);
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&hashed);
    out
}

/// A compressed change chunk around an already deflated body. Automerge
/// inflates it before it compares the checksum, so any checksum will do.
fn compressed_chunk(deflated: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[0; 4]);
    out.push(CHUNK_COMPRESSED);
    uleb(deflated.len() as u64, &mut out);
    out.extend_from_slice(deflated);
    out
}

/// A change body by one actor, with these op columns (spec, data), sorted
/// as Automerge wants them.
fn change_body(columns: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut b = Vec::new();
    uleb(0, &mut b); // no dependencies
    uleb(16, &mut b);
    b.extend_from_slice(&[0xab; 16]); // actor
    uleb(1, &mut b); // seq
    uleb(1, &mut b); // start op
    sleb(0, &mut b); // time
    uleb(0, &mut b); // message
    uleb(0, &mut b); // other actors
    uleb(columns.len() as u64, &mut b);
    for (spec, data) in columns {
        uleb(u64::from(*spec), &mut b);
        uleb(data.len() as u64, &mut b);
    }
    for (_, data) in columns {
        b.extend_from_slice(data);
    }
    b
}

/// `n` ops that each set the root's key "k" to null: five columns of one
/// run each, some twenty bytes for any `n`.
fn run_of_ops(n: i64) -> Vec<(u32, Vec<u8>)> {
    let run = |value: &[u8]| {
        let mut d = Vec::new();
        sleb(n, &mut d);
        d.extend_from_slice(value);
        d
    };
    let mut falses = Vec::new();
    uleb(n as u64, &mut falses);
    vec![
        (1 << 4 | 5, run(&[1, b'k'])), // key string
        (3 << 4 | 4, falses),          // insert: all false
        (4 << 4 | 2, run(&[1])),       // action: set
        (5 << 4 | 6, run(&[0])),       // value metadata: null
        (7 << 4, run(&[0])),           // pred count: none
    ]
}

/// `size` zero bytes, deflated (raw deflate, as Automerge writes), built a
/// mebibyte at a time.
fn deflated_zeros(size: usize) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len());
        encoder.write_all(&block[..n]).expect("writing to a Vec");
        left -= n;
    }
    encoder.finish().expect("writing to a Vec")
}

/// A V1 sync message carrying `entries` as its changes list.
fn message_with(entries: &[Vec<u8>]) -> Vec<u8> {
    sync::Message {
        heads: vec![],
        need: vec![],
        have: vec![],
        changes: sync::ChunkList::from(entries.to_vec()),
        flags: None,
        version: sync::MessageVersion::V1,
    }
    .encode()
}

fn limits_of_one_mib() -> WireLimits {
    WireLimits {
        max_inflated_bytes: 1 << 20,
        ..WireLimits::default()
    }
}

// ---------------------------------------------------------------------------
// Honest peers: real documents, real sync messages.

fn tablet(actor: u8) -> AutoCommit {
    AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]))
}

/// `n` changes, one entry each, as a tablet logs a night: a map per entry
/// with the fields an entry has.
fn log_entries(doc: &mut AutoCommit, from: usize, n: usize) {
    let entries = match doc.get(ROOT, "entries").expect("a map") {
        Some((_, id)) => id,
        None => {
            let id = doc
                .put_object(ROOT, "entries", automerge::ObjType::Map)
                .expect("a map");
            doc.commit();
            id
        }
    };
    for i in from..from + n {
        let entry = doc
            .put_object(&entries, format!("entry-{i:06}"), automerge::ObjType::Map)
            .expect("an entry");
        doc.put(&entry, "kind", "distribution").expect("a field");
        doc.put(&entry, "item", "blanket").expect("a field");
        doc.put(&entry, "quantity", (i % 7) as i64 + 1)
            .expect("a field");
        doc.put(&entry, "place", "dunes-north").expect("a field");
        doc.put(&entry, "at", "2026-11-23T21:40:00Z")
            .expect("a field");
        doc.commit();
    }
}

/// Run the sync protocol between two documents until both are quiet,
/// returning every message either sent, encoded as on the wire.
fn sync_until_quiet(one: &mut AutoCommit, two: &mut AutoCommit) -> Vec<Vec<u8>> {
    let (mut s1, mut s2) = (sync::State::new(), sync::State::new());
    let mut sent = Vec::new();
    for _ in 0..20 {
        let m1 = one.sync().generate_sync_message(&mut s1);
        if let Some(m) = &m1 {
            sent.push(m.clone().encode());
            two.sync()
                .receive_sync_message(&mut s2, m.clone())
                .expect("an honest message");
        }
        let m2 = two.sync().generate_sync_message(&mut s2);
        if let Some(m) = &m2 {
            sent.push(m.clone().encode());
            one.sync()
                .receive_sync_message(&mut s1, m.clone())
                .expect("an honest message");
        }
        if m1.is_none() && m2.is_none() {
            assert_eq!(one.get_heads(), two.get_heads(), "the tablets converged");
            return sent;
        }
    }
    panic!("the sync did not settle");
}

/// The check lets it through, and Automerge still decodes it after.
fn passes(message: &[u8]) -> WireSize {
    let size = check_sync_message(message, &WireLimits::default())
        .unwrap_or_else(|e| panic!("an honest message was refused: {e} ({})", e.code()));
    sync::Message::decode(message).expect("automerge decodes what passed");
    size
}

#[test]
fn two_tablets_logging_a_few_entries_each_pass_every_message() {
    let (mut one, mut two) = (tablet(1), tablet(2));
    log_entries(&mut one, 0, 3);
    log_entries(&mut two, 100, 2);
    let sent = sync_until_quiet(&mut one, &mut two);
    assert!(sent.len() >= 3);
    let changes: usize = sent.iter().map(|m| passes(m).changes).sum();
    assert!(
        changes >= 5,
        "the changes went through the check: {changes}"
    );
}

#[test]
fn a_night_of_thousands_of_changes_passes_whether_sent_as_changes_or_as_a_document() {
    // The second tablet has most of the night already: it is sent changes.
    let mut one = tablet(1);
    log_entries(&mut one, 0, 3000);
    let mut two = one.fork().with_actor(ActorId::from(vec![2; 16]));
    log_entries(&mut one, 3000, 600);
    let sent = sync_until_quiet(&mut one, &mut two);
    let sizes: Vec<WireSize> = sent.iter().map(|m| passes(m)).collect();
    assert!(
        sizes.iter().any(|s| (600..3000).contains(&s.changes)),
        "the 600 new changes were sent as changes, not as the document: {sizes:?}"
    );

    // A third has nothing: Automerge sends the whole document, its large
    // columns deflated.
    let mut three = tablet(3);
    let sent = sync_until_quiet(&mut one, &mut three);
    let sizes: Vec<WireSize> = sent.iter().map(|m| passes(m)).collect();
    let whole = sizes
        .iter()
        .find(|s| s.changes >= 3600)
        .expect("one message carried the whole night");
    assert!(whole.ops >= 3600 * 6, "{whole:?}");
    assert!(
        whole.inflated_bytes > 0,
        "the document's columns were deflated and inflated by the check: {whole:?}"
    );
}

#[test]
fn compressed_change_chunks_as_automerge_writes_them_pass_and_load() {
    // Automerge deflates a change of more than 256 bytes when asked for its
    // bytes (storage, some peers); a sync message may carry them.
    let mut one = tablet(1);
    log_entries(&mut one, 0, 10);
    let mut big = one.fork().with_actor(ActorId::from(vec![2; 16]));
    let entries = big.get(ROOT, "entries").expect("a map").expect("a map").1;
    let note = big
        .put_object(&entries, "long-note", automerge::ObjType::Map)
        .expect("an entry");
    for i in 0..40 {
        big.put(
            &note,
            format!("line-{i}"),
            "the same long line of a note, again",
        )
        .expect("a field");
    }
    big.commit();
    let mut changes = big.get_changes(&one.get_heads());
    let compressed: Vec<Vec<u8>> = changes.iter_mut().map(|c| c.bytes().to_vec()).collect();
    assert!(
        compressed.iter().any(|c| c[8] == CHUNK_COMPRESSED),
        "automerge compressed the large change"
    );
    let message = message_with(&compressed);
    let size = passes(&message);
    assert!(size.inflated_bytes > 256, "{size:?}");

    let decoded = sync::Message::decode(&message).expect("it decodes");
    let mut state = sync::State::new();
    one.sync()
        .receive_sync_message(&mut state, decoded)
        .expect("it loads");
    assert_eq!(one.get_heads(), big.get_heads());
}

#[test]
fn a_document_saved_by_automerge_passes_the_chunk_check() {
    let mut one = tablet(1);
    log_entries(&mut one, 0, 2000);
    let saved = one.save();
    let size = check_chunks(&saved, &WireLimits::default()).expect("an honest document");
    assert_eq!(size.changes, 2001);
    assert!(size.inflated_bytes > 0, "{size:?}");
    let incremental = one.save_incremental();
    assert!(incremental.is_empty());
    log_entries(&mut one, 2000, 5);
    let incremental = one.save_incremental();
    assert_eq!(
        check_chunks(&incremental, &WireLimits::default())
            .expect("honest changes")
            .changes,
        5
    );
}

// ---------------------------------------------------------------------------
// A hostile device.

#[test]
fn a_compressed_change_that_inflates_to_200_mib_is_refused_after_one() {
    let bomb = compressed_chunk(&deflated_zeros(200 << 20));
    assert!(bomb.len() < 400 << 10, "the bomb is small: {}", bomb.len());
    let message = message_with(&[bomb]);

    let started = Instant::now();
    let refusal = check_sync_message(&message, &limits_of_one_mib()).expect_err("a bomb");
    let took = started.elapsed();
    assert_eq!(refusal.code(), "inflates_too_much");
    assert_eq!(
        refusal.to_string(),
        "a compressed change inflates past the 1 MiB limit of one sync message"
    );
    // Inflating all 200 MiB takes a good second; one takes milliseconds.
    assert!(took < Duration::from_millis(500), "took {took:?}");
}

#[test]
fn a_deflated_column_bomb_is_refused_in_a_document_and_in_a_change() {
    let bomb = deflated_zeros(64 << 20);

    // A document: no change columns, one op column (the op ids' actors),
    // deflated. Automerge inflates document columns without a cap.
    let mut doc = Vec::new();
    uleb(1, &mut doc);
    uleb(16, &mut doc);
    doc.extend_from_slice(&[0xab; 16]); // one actor
    uleb(0, &mut doc); // no heads
    uleb(0, &mut doc); // no change columns
    uleb(1, &mut doc);
    uleb(u64::from(spec::DOC_OP_ID_ACTOR | spec::DEFLATE), &mut doc);
    uleb(bomb.len() as u64, &mut doc);
    doc.extend_from_slice(&bomb);
    let message = message_with(&[chunk(CHUNK_DOCUMENT, &doc)]);
    let refusal = check_sync_message(&message, &limits_of_one_mib()).expect_err("a bomb");
    assert_eq!(refusal.code(), "inflates_too_much");
    assert_eq!(
        refusal.to_string(),
        "a deflated column inflates past the 1 MiB limit of one sync message"
    );

    // A change. Automerge 0.12 refuses a change with deflated columns
    // before inflating them; the check inflates them under the same cap
    // rather than rely on it.
    let change = chunk(
        CHUNK_CHANGE,
        &change_body(&[(4 << 4 | 2 | spec::DEFLATE, bomb)]),
    );
    let refusal =
        check_sync_message(&message_with(&[change]), &limits_of_one_mib()).expect_err("a bomb");
    assert_eq!(refusal.code(), "inflates_too_much");
}

#[test]
fn a_run_of_a_billion_ops_in_twenty_bytes_is_refused_without_expanding_it() {
    let change = chunk(CHUNK_CHANGE, &change_body(&run_of_ops(1_000_000_000)));
    assert!(change.len() < 120);
    let started = Instant::now();
    let refusal =
        check_sync_message(&message_with(&[change]), &WireLimits::default()).expect_err("a bomb");
    assert_eq!(refusal.code(), "too_many_values");
    assert!(started.elapsed() < Duration::from_millis(50));

    // Under the values limit, above the ops limit.
    let limits = WireLimits::default();
    let n = limits.max_ops + 1;
    assert!(5 * n < limits.max_column_values);
    let change = chunk(CHUNK_CHANGE, &change_body(&run_of_ops(n as i64)));
    let refusal = check_sync_message(&message_with(&[change]), &limits).expect_err("too many");
    assert_eq!(refusal.code(), "too_many_ops");

    // A thousand is a change like any other, and Automerge loads it.
    let change = chunk(CHUNK_CHANGE, &change_body(&run_of_ops(1000)));
    let message = message_with(&[change]);
    assert_eq!(passes(&message).ops, 1000);
    let mut doc = AutoCommit::new();
    let decoded = sync::Message::decode(&message).expect("it decodes");
    doc.sync()
        .receive_sync_message(&mut sync::State::new(), decoded)
        .expect("it loads");
    assert_eq!(doc.get_changes(&[]).len(), 1);
}

#[test]
fn a_string_repeated_by_a_run_costs_its_copies() {
    // A message of a change whose every op names a 60 KB key: a thousand
    // ops are 60 MB of keys once Automerge materialises them.
    let key = "k".repeat(60_000);
    let mut column = Vec::new();
    sleb(1000, &mut column);
    uleb(key.len() as u64, &mut column);
    column.extend_from_slice(key.as_bytes());
    let change = chunk(CHUNK_CHANGE, &change_body(&[(1 << 4 | 5, column)]));
    let refusal = check_sync_message(&message_with(&[change]), &limits_of_one_mib())
        .expect_err("too many copies");
    assert_eq!(refusal.code(), "inflates_too_much");
    assert!(refusal.to_string().starts_with("a run of repeated strings"));
}

/// A message offering one have with this bloom filter.
fn message_with_bloom(bloom: &[u8]) -> Vec<u8> {
    let mut m = vec![MESSAGE_V1];
    uleb(0, &mut m); // heads
    uleb(0, &mut m); // need
    uleb(1, &mut m); // one have
    uleb(0, &mut m); // its last sync
    uleb(bloom.len() as u64, &mut m);
    m.extend_from_slice(bloom);
    uleb(0, &mut m); // no changes
    m
}

#[test]
fn a_bloom_filter_without_bits_or_with_a_billion_probes_is_refused() {
    // Entries but no bits: Automerge would divide by zero testing a hash.
    let refusal = check_sync_message(&message_with_bloom(&[1, 0, 7]), &WireLimits::default())
        .expect_err("no bits");
    assert_eq!(refusal.code(), "bad_bloom_filter");

    // A billion probes: four gigabytes for every hash Automerge tests.
    let mut bloom = vec![1, 10];
    uleb(1_000_000_000, &mut bloom);
    bloom.extend_from_slice(&[0xff, 0xff]);
    let refusal = check_sync_message(&message_with_bloom(&bloom), &WireLimits::default())
        .expect_err("too many probes");
    assert_eq!(refusal.code(), "bad_bloom_filter");

    // Automerge's own filter passes.
    let mut one = tablet(1);
    log_entries(&mut one, 0, 50);
    let message = one
        .sync()
        .generate_sync_message(&mut sync::State::new())
        .expect("a first message");
    assert_eq!(message.have.len(), 1);
    passes(&message.encode());
}

#[test]
fn what_is_not_a_sync_message_is_refused_by_name() {
    let refusal = check_sync_message(&[], &WireLimits::default()).expect_err("empty");
    assert_eq!(refusal.code(), "not_a_sync_message");
    let refusal =
        check_sync_message(b"{\"type\":\"sync\"}", &WireLimits::default()).expect_err("JSON");
    assert_eq!(refusal.code(), "not_a_sync_message");
    assert!(refusal.to_string().contains("0x7b"), "{refusal}");

    let limits = WireLimits {
        max_message_bytes: 10,
        ..WireLimits::default()
    };
    let refusal = check_sync_message(&[MESSAGE_V1; 11], &limits).expect_err("too big");
    assert_eq!(refusal.code(), "too_big");
    assert_eq!(
        refusal.to_string(),
        "the sync message is 11 bytes, past the 10 bytes limit of one sync message"
    );
}

#[test]
fn a_length_that_claims_more_than_the_message_holds_is_refused_before_any_allocation() {
    // A changes list of 2^60 entries, an entry of 2^60 bytes, a chunk of
    // 2^60 bytes, a column of 2^60 bytes: each in a message of a few bytes.
    let huge = 1u64 << 60;
    let mut m = vec![MESSAGE_V1, 0, 0, 0];
    uleb(huge, &mut m);
    assert_eq!(
        check_sync_message(&m, &WireLimits::default())
            .expect_err("a lie")
            .code(),
        "truncated"
    );

    let mut m = vec![MESSAGE_V1, 0, 0, 0, 1];
    uleb(huge, &mut m);
    assert_eq!(
        check_sync_message(&m, &WireLimits::default())
            .expect_err("a lie")
            .code(),
        "truncated"
    );

    let mut lying_chunk = MAGIC.to_vec();
    lying_chunk.extend_from_slice(&[0, 0, 0, 0, CHUNK_CHANGE]);
    uleb(huge, &mut lying_chunk);
    let refusal = check_sync_message(&message_with(&[lying_chunk]), &WireLimits::default())
        .expect_err("a lie");
    assert_eq!(refusal.code(), "truncated");
    assert_eq!(
        refusal.to_string(),
        "truncated a chunk: it claims more bytes than remain"
    );

    let mut body = change_body(&[]);
    body.pop(); // no columns
    uleb(1, &mut body);
    uleb(4 << 4 | 2, &mut body);
    uleb(huge, &mut body);
    let refusal = check_sync_message(
        &message_with(&[chunk(CHUNK_CHANGE, &body)]),
        &WireLimits::default(),
    )
    .expect_err("a lie");
    assert_eq!(refusal.code(), "truncated");
}

#[test]
fn a_message_cut_at_any_byte_is_refused_or_passes_and_never_panics() {
    let mut one = tablet(1);
    log_entries(&mut one, 0, 40);
    let mut two = one.fork().with_actor(ActorId::from(vec![2; 16]));
    log_entries(&mut one, 40, 5);
    log_entries(&mut two, 100, 5);
    let mut messages = sync_until_quiet(&mut one, &mut two);
    messages.extend(sync_until_quiet(&mut one, &mut tablet(3)));
    for message in &messages {
        for end in 0..message.len() {
            let cut = &message[..end];
            if check_sync_message(cut, &WireLimits::default()).is_ok() {
                // Cut between sections (before the flags): a shorter
                // message, but a whole one.
                sync::Message::decode(cut).expect("what passed decodes");
            }
        }
    }
}

/// Each input a fuzzer crashed on (`scripts/fuzz.sh`), kept as a fixture:
/// the check must never panic on one, and must refuse those whose crash it
/// is there to prevent. The ones named `automerge-*` crash Automerge 0.12
/// in ways that depend on the document they are applied to (an object or
/// an actor it does not have) or on no bound the check keeps: they may
/// pass, and are kept to show the panic (`fuzz/fuzz_targets/known.rs`).
#[test]
fn every_crasher_the_fuzzers_found_is_refused_or_passes_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("the fixtures directory") {
        let path = entry.expect("a fixture").path();
        let bytes = std::fs::read(&path).expect("a fixture");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        // A fixture is a sync message or a stream of chunks: whichever it
        // is, the other check refuses it at its first byte.
        let as_message = check_sync_message(&bytes, &limits_of_one_mib());
        let as_chunks = check_chunks(&bytes, &limits_of_one_mib());
        if !name.starts_with("automerge-") {
            assert!(
                as_message.is_err() && as_chunks.is_err(),
                "{name} passed: {as_message:?} {as_chunks:?}"
            );
        }
        replayed += 1;
    }
    assert!(replayed > 10, "fixtures in {}: {replayed}", dir.display());
}

/// A document chunk (found by the `document_chunks` fuzzer) whose map
/// holds an object with its own id: reading it from the root never ends
/// (Automerge's hydrate recursed until a 1 GiB stack overflowed). The check
/// of the bytes cannot see it; loading refuses it by measuring the nesting
/// without recursion, on an ordinary stack.
#[test]
fn a_document_with_an_object_inside_itself_is_refused_when_loaded() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire/automerge-object-inside-itself.bin");
    let bytes = std::fs::read(path).expect("the fixture");
    check_chunks(&bytes, &limits_of_one_mib()).expect("the bytes alone look right");
    let doc = automerge::AutoCommit::load(&bytes).expect("Automerge loads it");
    assert!(crate::document::nested_deeper_than(
        &doc,
        crate::document::MAX_NESTING
    ));
    let device = crate::ids::DeviceId::new();
    let err = crate::document::AnyDocument::load([bytes.as_slice()], &device).unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = check_sync_message(&bytes, &limits_of_one_mib());
        let _ = check_chunks(&bytes, &limits_of_one_mib());
    }

    #[test]
    fn random_bytes_after_a_sync_header_never_panic(
        version in prop_oneof![Just(MESSAGE_V1), Just(MESSAGE_V2)],
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut message = vec![version, 0, 0, 0, 1];
        uleb(bytes.len() as u64 + 14, &mut message);
        message.extend_from_slice(&MAGIC);
        message.extend_from_slice(&[0, 0, 0, 0]);
        message.push(CHUNK_CHANGE);
        uleb(bytes.len() as u64, &mut message);
        message.extend_from_slice(&bytes);
        let _ = check_sync_message(&message, &limits_of_one_mib());
    }

    #[test]
    fn a_real_message_with_bytes_changed_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut message = real_message().to_vec();
        for (at, byte) in flips {
            let i = at.index(message.len());
            message[i] = byte;
        }
        if check_sync_message(&message, &limits_of_one_mib()).is_ok() {
            prop_assert!(sync::Message::decode(&message).is_ok());
        }
    }
}

/// A whole-document message, built once for the property tests.
fn real_message() -> &'static [u8] {
    static MESSAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    MESSAGE.get_or_init(|| {
        let mut one = tablet(1);
        log_entries(&mut one, 0, 30);
        let sent = sync_until_quiet(&mut one, &mut tablet(2));
        sent.into_iter()
            .max_by_key(|m| m.len())
            .expect("messages were sent")
    })
}

// ---------------------------------------------------------------------------
// What Automerge itself does with what the check refuses: run by hand
// (`cargo test -p maraude-core wire::tests::automerge_on -- --ignored
// --nocapture`), to see why each refusal is there.

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "measures Automerge on hostile input; minutes and gigabytes"]
fn automerge_on_a_run_of_ops() {
    for n in [1_000_000i64, 4_000_000] {
        let change = chunk(CHUNK_CHANGE, &change_body(&run_of_ops(n)));
        let started = Instant::now();
        let mut doc = AutoCommit::new();
        let result = doc.load_incremental(&change);
        println!(
            "{n} ops in {} bytes: {:?} in {:?}, peak RSS {} MiB",
            change.len(),
            result.map(|_| ()),
            started.elapsed(),
            peak_rss_kib() / 1024
        );
    }
}

#[test]
#[ignore = "measures Automerge on hostile input; minutes and gigabytes"]
fn automerge_on_a_compressed_change_bomb() {
    let bomb = compressed_chunk(&deflated_zeros(512 << 20));
    let started = Instant::now();
    let mut doc = AutoCommit::new();
    let result = doc.load_incremental(&bomb);
    println!(
        "{} bytes: {:?} in {:?}, peak RSS {} MiB",
        bomb.len(),
        result.map(|_| ()),
        started.elapsed(),
        peak_rss_kib() / 1024
    );
}

#[test]
#[ignore = "shows Automerge panicking on a bloom filter without bits"]
fn automerge_on_a_bloom_filter_without_bits() {
    let mut server = tablet(1);
    log_entries(&mut server, 0, 3);
    let message = sync::Message::decode(&message_with_bloom(&[1, 0, 7])).expect("it decodes");
    let mut state = sync::State::new();
    server
        .sync()
        .receive_sync_message(&mut state, message)
        .expect("it is received");
    let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        server.sync().generate_sync_message(&mut state)
    }));
    println!("the server's reply: {:?}", reply.map(|m| m.is_some()));
}

/// One op whose predecessors are a run of `n` op ids.
fn op_with_preds(n: i64) -> Vec<(u32, Vec<u8>)> {
    let mut preds = Vec::new();
    sleb(1, &mut preds);
    uleb(n as u64, &mut preds);
    let mut actors = Vec::new();
    sleb(n, &mut actors);
    uleb(0, &mut actors);
    let mut counters = Vec::new();
    sleb(n, &mut counters);
    sleb(1, &mut counters);
    let mut columns = run_of_ops(1);
    columns.pop();
    columns.extend([
        (7 << 4, preds),
        (7 << 4 | 1, actors),
        (7 << 4 | 3, counters),
    ]);
    columns
}

#[test]
#[ignore = "measures Automerge on hostile input; minutes and gigabytes"]
fn automerge_on_the_worst_that_passes_the_default_limits() {
    let limits = WireLimits::default();
    let worst = [
        (
            "a run of ops",
            chunk(
                CHUNK_CHANGE,
                &change_body(&run_of_ops(limits.max_ops as i64)),
            ),
        ),
        (
            "one op with a run of predecessors",
            chunk(
                CHUNK_CHANGE,
                &change_body(&op_with_preds(limits.max_column_values as i64 / 2 - 10)),
            ),
        ),
        (
            "a compressed change",
            compressed_chunk(&deflated_zeros(limits.max_inflated_bytes)),
        ),
    ];
    for (what, chunk) in worst {
        let message = message_with(&[chunk]);
        let size = check_sync_message(&message, &limits);
        let started = Instant::now();
        let result = std::panic::catch_unwind(|| {
            let mut doc = AutoCommit::new();
            let decoded = sync::Message::decode(&message).expect("it decodes");
            let received = doc
                .sync()
                .receive_sync_message(&mut sync::State::new(), decoded);
            received.map(|_| doc.get_changes(&[]).len())
        });
        println!(
            "{what}: check {size:?}; automerge {result:?} in {:?}, peak RSS so far {} MiB",
            started.elapsed(),
            peak_rss_kib() / 1024
        );
    }
}

/// The fuzzers' seeds (`fuzz/seeds/`): real messages and documents, so
/// that mutations start from the format and not from noise. Run by
/// `scripts/fuzz.sh --seeds`.
#[test]
#[ignore = "writes the fuzzers' seed files"]
fn write_fuzz_seeds() {
    use crate::antenna::Antenna;
    use crate::document::{AntennaDoc, Document, EntryLog, ShiftDoc};
    use crate::entry::{Author, Composition, EntryContent, NewEntry, Quantity};
    use crate::ids::DeviceId;
    use crate::shift::{NewShift, ShiftKind};

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let write = |target: &str, name: String, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("the seeds directory");
        std::fs::write(dir.join(name), bytes).expect("a seed");
    };

    // Messages: a few changes each way, the changes of a long night, the
    // whole document, compressed changes, a first message with its bloom
    // filter.
    let (mut one, mut two) = (tablet(1), tablet(2));
    log_entries(&mut one, 0, 3);
    log_entries(&mut two, 100, 2);
    let mut messages = sync_until_quiet(&mut one, &mut two);
    log_entries(&mut one, 3, 30);
    let mut three = one.fork().with_actor(ActorId::from(vec![3; 16]));
    log_entries(&mut one, 33, 12);
    messages.extend(sync_until_quiet(&mut one, &mut three));
    messages.extend(sync_until_quiet(&mut one, &mut tablet(4)));
    let mut changes = one.get_changes(&[]);
    messages.push(message_with(
        &changes
            .iter_mut()
            .map(|c| c.bytes().to_vec())
            .collect::<Vec<_>>(),
    ));
    for (i, m) in messages.iter().enumerate() {
        write("sync_message", format!("seed-{i:02}"), m);
    }

    // Documents: a shift with entries, saved whole and as changes; an
    // antenna.
    let antenna = Antenna::new("Calais").expect("a name");
    let device = DeviceId::new();
    let now: chrono::DateTime<chrono::Utc> = "2026-11-23T20:30:00Z".parse().expect("a time");
    let shift = NewShift {
        kind: ShiftKind::NightMaraude,
        started_at: Some(now - chrono::Duration::hours(1)),
        lead: "Mira".parse().expect("a nickname"),
        team: Default::default(),
        vehicle: Some("Trafic".into()),
        stock_loaded: [("blanket".parse().expect("an item"), 40)].into(),
    }
    .into_shift(&antenna, now)
    .expect("a shift");
    let mut doc = ShiftDoc::create(&shift, &device).expect("a document");
    let start = doc.save();
    for n in 1..4 {
        let entry = NewEntry {
            at: None,
            place: None,
            content: EntryContent::Distribution {
                what: None,
                item: "blanket".parse().expect("an item"),
                size: None,
                quantity: Quantity::new(n).expect("a quantity"),
                people: None,
                composition: Composition::default(),
            },
        }
        .into_entry(
            &antenna,
            &Author {
                by: "Mira".parse().expect("a nickname"),
                device,
                now,
            },
        )
        .expect("an entry");
        doc.log(&entry, &shift).expect("logged");
    }
    write("document_chunks", "shift-created".into(), &start);
    write("document_chunks", "shift-saved".into(), &doc.save());
    let heads = ShiftDoc::load([start.as_slice()], &device)
        .expect("it loads")
        .automerge()
        .get_heads();
    for (i, mut c) in doc.changes_since(&heads).into_iter().enumerate() {
        write("document_chunks", format!("shift-change-{i}"), &c.bytes());
    }
    let mut antenna_doc = AntennaDoc::create(&antenna, &device).expect("a document");
    write(
        "document_chunks",
        "antenna-saved".into(),
        &antenna_doc.save(),
    );
}

/// A change whose op sets a key in an object no change ever made.
fn op_in_a_missing_object() -> Vec<u8> {
    let one = |value: &[u8]| {
        let mut d = Vec::new();
        sleb(1, &mut d);
        d.extend_from_slice(value);
        d
    };
    let mut columns = vec![(1, one(&[0])), (2, one(&[99]))]; // obj: (actor 0, 99)
    columns.extend(run_of_ops(1));
    chunk(CHUNK_CHANGE, &change_body(&columns))
}

#[test]
#[ignore = "shows Automerge panicking on a change to an object it does not have"]
fn automerge_on_a_change_to_a_missing_object() {
    let message = message_with(&[op_in_a_missing_object()]);
    println!(
        "check: {:?}",
        check_sync_message(&message, &WireLimits::default())
    );
    let mut server = tablet(1);
    log_entries(&mut server, 0, 3);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let decoded = sync::Message::decode(&message).expect("it decodes");
        server
            .sync()
            .receive_sync_message(&mut sync::State::new(), decoded)
    }));
    println!("the server receiving it: {result:?}");
}
