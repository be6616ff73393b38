//! A document's chunks as stored or received: what passes `check_chunks`
//! must load as a Maraude document, or be refused with an error, without a
//! panic and within the limits' time and memory.
//!
//! Loading measures the document's nesting before reading it (reading
//! recurses once per level): found here, an object placed inside itself
//! recursed until a 1 GiB stack overflowed
//! (`crates/core/tests/fixtures/wire/automerge-object-inside-itself.bin`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use maraude_core::document::AnyDocument;
use maraude_core::ids::DeviceId;
use maraude_core::wire::check_chunks;

mod checksums;
mod known;
mod limits;

fuzz_target!(|data: &[u8]| {
    if check_chunks(data, &limits::small()).is_err() {
        return;
    }
    let data = checksums::fix(data);
    let device: DeviceId = "0190f3a4-7b1c-7000-8000-000000000001"
        .parse()
        .expect("a device id");
    known::run(|| AnyDocument::load([data.as_slice()], &device).is_ok());
});
