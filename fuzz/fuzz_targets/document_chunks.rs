//! A document's chunks as stored or received: what passes `check_chunks`
//! must load as a Maraude document, or be refused with an error, without a
//! panic and within the limits' time and memory.
//!
//! The load runs on a thread with a large stack: Automerge's `hydrate`
//! (which `AnyDocument::load` reads documents with) recurses once per level
//! of nesting, and a document nested thousands deep overflows a normal
//! stack. That is a bound no check of one message can keep (a document
//! deepens a message at a time); it is reported, with its fixture
//! `automerge-nested-deeper-than-the-stack.bin`, for the reader to fix.
//! Here it would stop the fuzzer at the first deep input.

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
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || known::run(|| AnyDocument::load([data.as_slice()], &device).is_ok()))
        .expect("a thread")
        .join()
        .expect("no panic escapes known::run");
});
