//! A sync message from a peer: what passes `check_sync_message` must
//! decode, load into an empty document, be received by a document that has
//! changes (its bloom filters tested against them) and be answered, without
//! a panic and within the limits' time and memory.

#![no_main]

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use libfuzzer_sys::fuzz_target;
use maraude_core::wire::check_sync_message;

mod checksums;
mod known;
mod limits;

/// A document with a few changes, as the server holds one.
fn server() -> AutoCommit {
    let mut doc = AutoCommit::new();
    for i in 0..5i64 {
        doc.put(automerge::ROOT, format!("k{i}"), i).expect("a put");
        doc.commit();
    }
    doc
}

fuzz_target!(|data: &[u8]| {
    if check_sync_message(data, &limits::small()).is_err() {
        return;
    }
    let mut message = match sync::Message::decode(data) {
        Ok(m) => m,
        Err(e) => panic!("passed the check, yet Automerge cannot decode it: {e}"),
    };
    let entries: Vec<Vec<u8>> = message.changes.iter().map(checksums::fix).collect();
    message.changes = sync::ChunkList::from(entries);

    known::run(|| {
        let mut empty = AutoCommit::new();
        for chunk in message.changes.iter() {
            let _ = empty.load_incremental(chunk);
        }
    });
    known::run(|| {
        let mut doc = server();
        let mut state = sync::State::new();
        if doc.sync().receive_sync_message(&mut state, message).is_ok() {
            let _ = doc.sync().generate_sync_message(&mut state);
        }
    });
});
