//! Panics of Automerge 0.12 on input that passed the check, known and left
//! to Automerge: they break its semantic rules (two ops with one id, …)
//! rather than the bounds the check keeps, and only Automerge can decide
//! them without being rewritten here. Each is listed with the fixture that
//! shows it (crates/core/tests/fixtures/wire/automerge-*.bin).
//!
//! A panic at one of these places ends the input quietly, so the fuzzer
//! goes on looking for what matters here: a panic elsewhere (aborts, a
//! crash like any other), work or memory past the limits (libFuzzer's
//! `-timeout` and `-rss_limit_mb`).

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// `file:line` of Automerge's known panics.
const KNOWN: &[&str] = &[
    // Two ops of a document with the same id (an op's, or a delete's made
    // from a successor): `assert!(self.data[index].is_none())`.
    "automerge-0.12.0/src/op_set2/change/collector.rs:299",
    // An op in an object the document does not have: `panic!("Obj {:?}
    // Missing from Index")` while applying changes. Whether the object
    // exists depends on the document, which a check of the message alone
    // cannot know.
    "automerge-0.12.0/src/op_set2/change/batch.rs:920",
    // A change by, or naming, an actor the document has never registered
    // (only the author of a change numbered 1 is): `lookup_actor(a)
    // .unwrap()` while applying changes. Again the document's state.
    "automerge-0.12.0/src/op_set2/change/batch.rs:1121",
    // A change whose number skips one of its actor's (seq 5 after 3):
    // `assert_eq!(self.seq_index[actor].len() + 1, change.seq())`.
    "automerge-0.12.0/src/change_graph.rs:569",
    // A list op placed after an element the list does not have: `a.pos
    // .unwrap()` while applying changes.
    "automerge-0.12.0/src/op_set2/change/batch.rs:146",
    // The same list application, ending with ops it could not place:
    // `assert!(self.entry.is_empty())`.
    "automerge-0.12.0/src/op_set2/change/batch.rs:136",
    // Ops of one object keyed both by name (a map's) and by element (a
    // list's): `order_ops_for_doc` (batch.rs:980) sorts them with a partial
    // order, and the standard library's sort panics ("does not correctly
    // implement a total order"). The place is the standard library's: the
    // only such sort on these paths.
    "core/src/slice/sort/shared/smallsort.rs:854",
    // A visible op that is neither a value nor an object (an increment or a
    // mark where a value should be) met while reading the document:
    // `panic!("invalid op to hydrate")`. The sync door reads what a peer
    // sent inside `catch_unwind`, so there it is a refusal.
    "automerge-0.12.0/src/hydrate.rs:300",
];

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Run `f`; a panic at a known place returns `None`, any other aborts the
/// process (libFuzzer reports a crash).
pub fn run<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if KNOWN.iter().any(|k| place.ends_with(k)) {
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(place));
            } else {
                default(info);
                std::process::abort();
            }
        }));
    });
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(t) => Some(t),
        Err(_) => {
            LAST_PANIC.with(|p| p.borrow_mut().take());
            None
        }
    }
}
