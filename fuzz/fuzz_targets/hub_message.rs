//! What a hub does with a message from a device, its pure part
//! (`maraude_sync::door` without the store): the automerge-repo envelope
//! read as samod reads it; the sync message measured, decoded and applied
//! to a copy of a document (new here: the receiver holds none); the copy
//! measured for nesting and read whole; the write judged for a
//! volunteer's tablet. None of it may panic, outside Automerge's known
//! panics (which the door catches), or escape the limits' time and memory.

#![no_main]

use automerge::AutoCommit;
use automerge::sync;
use libfuzzer_sys::fuzz_target;
use maraude_core::access::{Role, Subject};
use maraude_core::authority::{Delivery, Facts, check_write};
use maraude_core::document::{self, AnyDocument};
use maraude_core::ids::DeviceId;
use maraude_core::wire::check_sync_message;
use maraude_core::wire::envelope::envelope;

mod checksums;
mod known;
mod limits;

fuzz_target!(|data: &[u8]| {
    // The envelope's reader, on the raw bytes.
    let _ = envelope(data);

    // The sync message it carries, as the door takes it.
    if check_sync_message(data, &limits::small()).is_err() {
        return;
    }
    let Ok(message) = sync::Message::decode(data) else {
        return;
    };
    let chunks: Vec<Vec<u8>> = message.changes.iter().map(checksums::fix).collect();
    let Some(Some(mut after)) = known::run(|| {
        let mut doc = AutoCommit::new();
        for chunk in &chunks {
            if doc.load_incremental(chunk).is_err() {
                return None;
            }
        }
        Some(doc)
    }) else {
        return;
    };
    if !after.get_missing_deps(&[]).is_empty()
        || document::nested_deeper_than(&after, document::MAX_NESTING)
    {
        return;
    }
    let reader: DeviceId = "0190f3a4-7b1c-7000-8000-000000000001"
        .parse()
        .expect("a device id");
    let Ok(any) = AnyDocument::from_automerge_unread(after.fork(), &reader) else {
        return;
    };
    let facts = Facts {
        subject: Subject::Unknown,
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).expect("a day"),
        delivery: Delivery::Device(reader),
    };
    known::run(|| {
        let record = any.record_id().unwrap_or_default();
        let _ = check_write(Role::Volunteer, record, None, &any, &facts);
    });
});
