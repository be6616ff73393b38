//! Bounds on what one sync message (or one stored document) may make
//! Automerge do, checked before Automerge decodes a byte of it.
//!
//! ## Why
//!
//! An enrolled device, or anyone holding its certificate, can send the
//! server a small message that costs it gigabytes. Automerge's decoders
//! trust the sizes they read:
//!
//! - a *compressed change chunk* is a deflate stream that Automerge inflates
//!   in full, with no cap, before it looks at anything else (not even the
//!   checksum): a 510 KB message of zeros deflated at ~1000:1 is half a
//!   gigabyte;
//! - a *document chunk* (what a peer sends when the other lacks much of the
//!   document, and what samod stores as a snapshot) may deflate each of its
//!   columns, inflated the same way;
//! - every column is run-length encoded: three bytes say "this value, a
//!   billion times", and Automerge materialises the billion (ops, list
//!   members, copies of a string);
//! - a bloom filter names its own number of probes, and Automerge allocates
//!   a vector of that many for every hash it tests.
//!
//! [`check_sync_message`] walks the message the way Automerge would —
//! message header, heads, needs, haves and their bloom filters, the changes
//! list, and inside it every chunk — but with a budget ([`WireLimits`]): it
//! inflates deflate streams through a reader that stops one byte past what
//! is left of the budget, counts run lengths without expanding them, and
//! refuses a length or a count that claims more bytes than remain before it
//! allocates anything for it. [`check_chunks`] does the same for the chunks
//! of a stored or received document. Only what passes is handed to
//! Automerge.
//!
//! ## Panics it prevents, and those it cannot
//!
//! Automerge 0.12 also panics on some malformed input instead of refusing
//! it, and the fuzz targets (`fuzz/`) found where. What can be seen in the
//! message alone is refused here: a bloom filter without bits, a column cut
//! in the middle of a run, a document's value lengths past its value
//! column, nulls or numbers out of range in the change columns a document
//! is read with unchecked, an actor index past the chunk's actors or an
//! actor listed twice, a dependency on a later change, an increment of a
//! non-number, an unknown action, an author on a change other than the
//! first. What is wrong only against the document the message is applied
//! to, or only by applying it as Automerge does, cannot be: an op on an
//! object, or a change by an actor, the document does not have, a change
//! that skips a number, two ops with one id, list ops that cannot be
//! placed, an object keyed both as a map and as a list. Those
//! still panic in Automerge (fixtures `automerge-*` in
//! `tests/fixtures/wire`); they wait for Automerge, or for a caller that
//! contains a panic.
//!
//! ## What it is not
//!
//! Not a validator of Automerge's semantics: a message that passes may still
//! be refused by Automerge (a bad checksum, an op that makes no sense); what
//! passing guarantees is that Automerge's work on it is bounded by the
//! limits. It is also stricter than Automerge in a few places where honest
//! peers never go (a chunk split across two entries of the changes list, a
//! bundle chunk, a malformed column), so that the bounds hold without
//! second-guessing how Automerge would read them.
//!
//! The format is Automerge 0.12's (`storage/chunk.rs`, `storage/change.rs`,
//! `storage/document.rs`, `storage/columns`, `sync.rs`, `sync/bloom.rs`):
//! <https://alexjg.github.io/automerge-storage-docs/>. Upgrading Automerge
//! means reading this module again.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use thiserror::Error;

/// The most one message may cost. [`Default`] is for the server and devices:
/// it passes any document a season of an antenna produces, with room to
/// spare, and keeps a hostile message to a few hundred megabytes of work at
/// worst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireLimits {
    /// Bytes of the message as received (the WebSocket's own limit,
    /// `maraude_sync::MAX_MESSAGE_BYTES`, 16 MiB).
    pub max_message_bytes: usize,
    /// Bytes the message expands to: every deflate stream inflated, plus the
    /// extra copies of strings that runs repeat. 64 MiB: a document's
    /// columns inflate some seven times (a demo night shift: 8 KB saved,
    /// 57 KB inflated), so a whole document of about 9 MB passes.
    pub max_inflated_bytes: usize,
    /// Changes: change chunks, plus the changes a document chunk holds.
    pub max_changes: usize,
    /// Operations, in change chunks and document chunks.
    pub max_ops: usize,
    /// Values of all run-length-encoded columns, runs expanded: what
    /// Automerge iterates. Bounds what changes and ops alone do not: the
    /// predecessors of an op, the successors, the dependencies of a change.
    pub max_column_values: usize,
}

impl Default for WireLimits {
    /// Automerge 0.12 holds about 400 bytes of memory for each op it loads,
    /// and materialises every value of a run: these keep the worst message
    /// that passes to a few hundred megabytes of its memory, while the
    /// largest document of a demo season (a night shift: 8 KB, 231 changes,
    /// 2,440 ops, 28,000 column values, 57 KB inflated) takes a hundredth
    /// of each or less.
    fn default() -> Self {
        Self {
            max_message_bytes: 16 << 20,
            max_inflated_bytes: 64 << 20,
            max_changes: 50_000,
            max_ops: 250_000,
            // About 12 values an op and 10 a change, in honest documents.
            max_column_values: 4_000_000,
        }
    }
}

/// What a message that passed measured: for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireSize {
    /// Bytes received.
    pub bytes: usize,
    /// Bytes of inflated deflate streams and of strings repeated by runs.
    pub inflated_bytes: usize,
    /// Chunks in the changes list (change, compressed change, document).
    pub chunks: usize,
    pub changes: usize,
    pub ops: usize,
    /// Values of run-length-encoded columns, runs expanded.
    pub column_values: usize,
}

/// A byte count printed the way a person reads it: "64 MiB", "12 KiB",
/// "1000 bytes".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: usize = 1 << 10;
        const MIB: usize = 1 << 20;
        let n = self.0;
        if n >= MIB && n.is_multiple_of(MIB) {
            write!(f, "{} MiB", n / MIB)
        } else if n >= KIB && n.is_multiple_of(KIB) {
            write!(f, "{} KiB", n / KIB)
        } else {
            write!(f, "{n} bytes")
        }
    }
}

/// Why a message was refused. Nothing of it reached Automerge.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireRefusal {
    #[error(
        "not an Automerge sync message: it starts with {found}, where a sync message starts with 0x42 or 0x43"
    )]
    NotASyncMessage { found: String },
    #[error("{what} is {size}, past the {limit} limit of {of}")]
    TooBig {
        what: &'static str,
        size: Bytes,
        limit: Bytes,
        of: &'static str,
    },
    #[error("truncated {what}: it claims more bytes than remain")]
    Truncated { what: &'static str },
    #[error("malformed {what}: {why}")]
    Malformed {
        what: &'static str,
        why: &'static str,
    },
    #[error(
        "{what} is not accepted here: no Automerge peer sends one in sync, and it is not checked"
    )]
    UnsupportedChunk { what: &'static str },
    #[error("{what} inflates past the {limit} limit of {of}")]
    InflatesTooMuch {
        what: &'static str,
        limit: Bytes,
        of: &'static str,
    },
    #[error("more than {limit} changes in {of}, its limit")]
    TooManyChanges { limit: usize, of: &'static str },
    #[error("more than {limit} operations in {of}, its limit")]
    TooManyOps { limit: usize, of: &'static str },
    #[error(
        "more than {limit} column values in {of} once runs are expanded, its limit (a run repeats a value more times than any document holds)"
    )]
    TooManyValues { limit: usize, of: &'static str },
    #[error("unusable bloom filter: {why}")]
    BadBloomFilter { why: &'static str },
    #[error(
        "the message offers {count} bloom filters where Automerge sends at most one (each is tested against every change of the document)"
    )]
    TooManyHaves { count: u64 },
}

impl WireRefusal {
    /// A stable code for logs, metrics and front ends (the message may be
    /// reworded; the code is not).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotASyncMessage { .. } => "not_a_sync_message",
            Self::TooBig { .. } => "too_big",
            Self::Truncated { .. } => "truncated",
            Self::Malformed { .. } => "malformed",
            Self::UnsupportedChunk { .. } => "unsupported_chunk",
            Self::InflatesTooMuch { .. } => "inflates_too_much",
            Self::TooManyChanges { .. } => "too_many_changes",
            Self::TooManyOps { .. } => "too_many_ops",
            Self::TooManyValues { .. } => "too_many_values",
            Self::BadBloomFilter { .. } => "bad_bloom_filter",
            Self::TooManyHaves { .. } => "too_many_haves",
        }
    }
}

/// Check the `data` of an automerge-repo "sync" or "request" message: the
/// bytes of an Automerge sync message (`automerge::sync::Message::encode`).
/// `Ok` says Automerge may decode it and apply its changes within `limits`.
pub fn check_sync_message(data: &[u8], limits: &WireLimits) -> Result<WireSize, WireRefusal> {
    let mut budget = Budget::new(limits, "one sync message");
    budget.message_bytes("the sync message", data.len())?;
    let mut r = Reader::new(data);
    match r.byte("the message type") {
        Ok(MESSAGE_V1 | MESSAGE_V2) => {}
        Ok(other) => {
            return Err(WireRefusal::NotASyncMessage {
                found: format!("0x{other:02x}"),
            });
        }
        Err(_) => {
            return Err(WireRefusal::NotASyncMessage {
                found: "nothing (it is empty)".into(),
            });
        }
    }
    r.hashes("the heads")?;
    r.hashes("the needed changes")?;

    let haves = r.count("the haves", 2)?;
    if haves > MAX_HAVES {
        return Err(WireRefusal::TooManyHaves { count: haves });
    }
    for _ in 0..haves {
        r.hashes("the last sync of a have")?;
        check_bloom_filter(r.length_prefixed("a bloom filter")?)?;
    }

    // Automerge joins the entries and loads the result as one stream of
    // chunks, so a chunk could straddle two entries; honest peers put whole
    // chunks in each entry, and checking each entry alone is then the same.
    let entries = r.count("the changes list", 1)?;
    for _ in 0..entries {
        let entry = r.length_prefixed("an entry of the changes list")?;
        check_chunk_stream(entry, &mut budget)?;
    }

    // The flags, when present; Automerge ignores anything after them, so
    // may we: it is never decoded.
    if !r.is_empty() {
        r.length_prefixed("the message flags")?;
    }
    Ok(budget.size)
}

/// Check a document's chunks as stored or received (samod's incremental
/// changes and snapshots, a file to import): one or more chunks end to end,
/// as `Automerge::load_incremental` takes them.
pub fn check_chunks(bytes: &[u8], limits: &WireLimits) -> Result<WireSize, WireRefusal> {
    let mut budget = Budget::new(limits, "one document's chunks");
    budget.message_bytes("the chunks", bytes.len())?;
    check_chunk_stream(bytes, &mut budget)?;
    Ok(budget.size)
}

const MESSAGE_V1: u8 = 0x42;
const MESSAGE_V2: u8 = 0x43;
/// Automerge offers one have (or none); a reset message offers one empty.
const MAX_HAVES: u64 = 8;
/// Automerge uses 7; each probe costs every hash tested a step and 4 bytes.
const MAX_BLOOM_PROBES: u32 = 64;

/// Automerge's actions: make map, set, make list, delete, make text,
/// increment, make table, mark.
const MAX_ACTION: i128 = 7;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;
const CHUNK_BUNDLE: u8 = 3;

/// Column specifications (`id << 4 | type`, the deflate bit 0x08 cleared)
/// of the columns the check reads by name (automerge's
/// `storage/change/change_op_columns.rs`, `op_set2/columns.rs`,
/// `change_graph.rs`).
mod spec {
    /// The `action` column of ops, in a change or a document: in a change,
    /// its length is the number of ops.
    pub const ACTION: u32 = 4 << 4 | 2;
    /// The value metadata of ops, in a change or a document.
    pub const VALUE_METADATA: u32 = 5 << 4 | 6;
    /// A document's op `id` actor column: its length is the number of ops.
    pub const DOC_OP_ID_ACTOR: u32 = 2 << 4 | 1;
    /// A document's change `actor` column: its length is the number of
    /// changes.
    pub const DOC_CHANGE_ACTOR: u32 = 1;
    /// The rest of a document's change columns (`change_graph.rs`).
    pub const DOC_CHANGE_SEQ: u32 = 3;
    pub const DOC_CHANGE_MAX_OP: u32 = 1 << 4 | 3;
    pub const DOC_CHANGE_DEPS_COUNT: u32 = 4 << 4;
    pub const DOC_CHANGE_DEPS: u32 = 4 << 4 | 3;
    pub const DOC_CHANGE_EXTRA_METADATA: u32 = 5 << 4 | 6;
    pub const DOC_CHANGE_EXTRA: u32 = 5 << 4 | 7;
    pub const DEFLATE: u32 = 0x08;
}

/// What the check has spent so far, against the limits.
struct Budget<'l> {
    limits: &'l WireLimits,
    of: &'static str,
    size: WireSize,
}

impl<'l> Budget<'l> {
    fn new(limits: &'l WireLimits, of: &'static str) -> Self {
        Self {
            limits,
            of,
            size: WireSize::default(),
        }
    }

    fn message_bytes(&mut self, what: &'static str, n: usize) -> Result<(), WireRefusal> {
        if n > self.limits.max_message_bytes {
            return Err(WireRefusal::TooBig {
                what,
                size: Bytes(n),
                limit: Bytes(self.limits.max_message_bytes),
                of: self.of,
            });
        }
        self.size.bytes = n;
        Ok(())
    }

    fn room(&self) -> usize {
        self.limits
            .max_inflated_bytes
            .saturating_sub(self.size.inflated_bytes)
    }

    fn inflated(&mut self, what: &'static str, n: u64) -> Result<(), WireRefusal> {
        let room = self.room() as u64;
        if n > room {
            return Err(self.inflates_too_much(what));
        }
        self.size.inflated_bytes += n as usize;
        Ok(())
    }

    fn inflates_too_much(&self, what: &'static str) -> WireRefusal {
        WireRefusal::InflatesTooMuch {
            what,
            limit: Bytes(self.limits.max_inflated_bytes),
            of: self.of,
        }
    }

    /// Inflate a raw deflate stream (no zlib header, as Automerge writes
    /// them) into at most what is left of the budget. The reader stops one
    /// byte past it, so a bomb costs the budget and no more, and the buffer
    /// never grows past it either.
    fn inflate(&mut self, what: &'static str, deflated: &[u8]) -> Result<Vec<u8>, WireRefusal> {
        let room = self.room();
        let mut reader =
            flate2::bufread::DeflateDecoder::new(deflated).take((room as u64).saturating_add(1));
        let mut out: Vec<u8> = Vec::new();
        let mut buf = [0u8; 16 << 10];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    return Err(WireRefusal::Malformed {
                        what,
                        why: "its deflate stream is corrupt",
                    });
                }
            };
            if out.len() + n > room {
                return Err(self.inflates_too_much(what));
            }
            // Grow by doubling, but never past the room: `read_to_end`
            // would double to twice the budget.
            if out.capacity() - out.len() < n {
                let want = (out.capacity() * 2).max(out.len() + n).max(4096).min(room);
                out.reserve_exact(want - out.len());
            }
            out.extend_from_slice(&buf[..n]);
        }
        self.size.inflated_bytes += out.len();
        Ok(out)
    }

    fn changes(&mut self, n: u64) -> Result<(), WireRefusal> {
        self.size.changes = add_within(self.size.changes, n, self.limits.max_changes).ok_or(
            WireRefusal::TooManyChanges {
                limit: self.limits.max_changes,
                of: self.of,
            },
        )?;
        Ok(())
    }

    fn ops(&mut self, n: u64) -> Result<(), WireRefusal> {
        self.size.ops =
            add_within(self.size.ops, n, self.limits.max_ops).ok_or(WireRefusal::TooManyOps {
                limit: self.limits.max_ops,
                of: self.of,
            })?;
        Ok(())
    }

    fn column_values(&mut self, n: u64) -> Result<(), WireRefusal> {
        self.size.column_values =
            add_within(self.size.column_values, n, self.limits.max_column_values).ok_or(
                WireRefusal::TooManyValues {
                    limit: self.limits.max_column_values,
                    of: self.of,
                },
            )?;
        Ok(())
    }
}

/// `total + n`, if it stays within `max`.
fn add_within(total: usize, n: u64, max: usize) -> Option<usize> {
    let n = usize::try_from(n).ok()?;
    total.checked_add(n).filter(|sum| *sum <= max)
}

/// A cursor over untrusted bytes: every read says what it was reading, so a
/// refusal names the part of the message that was wrong.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn remaining(&self) -> usize {
        self.bytes.len()
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, WireRefusal> {
        let (&b, rest) = self
            .bytes
            .split_first()
            .ok_or(WireRefusal::Truncated { what })?;
        self.bytes = rest;
        Ok(b)
    }

    /// `n` bytes, refused before anything is allocated if fewer remain.
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], WireRefusal> {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.bytes.len())
            .ok_or(WireRefusal::Truncated { what })?;
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    /// Unsigned LEB128, as strict as Automerge's reader: at most 64 bits,
    /// and no padding bytes (an overlong encoding could otherwise make two
    /// readers disagree on where a field ends).
    fn uleb(&mut self, what: &'static str) -> Result<u64, WireRefusal> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.byte(what)?;
            value |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift > 64 && b > 1 {
                    return Err(too_large(what));
                }
                if shift > 7 && b == 0 {
                    return Err(overlong(what));
                }
                return Ok(value);
            }
            if shift > 63 {
                return Err(too_large(what));
            }
        }
    }

    fn uleb_u32(&mut self, what: &'static str) -> Result<u32, WireRefusal> {
        u32::try_from(self.uleb(what)?).map_err(|_| too_large(what))
    }

    /// Signed LEB128, with the same strictness.
    fn sleb(&mut self, what: &'static str) -> Result<i64, WireRefusal> {
        let mut value: i64 = 0;
        let mut shift = 0u32;
        let mut prev = 0u8;
        loop {
            let b = self.byte(what)?;
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift > 64 && b != 0 && b != 0x7f {
                    return Err(too_large(what));
                }
                if shift > 7 && ((b == 0 && prev & 0x40 == 0) || (b == 0x7f && prev & 0x40 != 0)) {
                    return Err(overlong(what));
                }
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift > 63 {
                return Err(too_large(what));
            }
            prev = b;
        }
    }

    /// A count of items that each take at least `min_item_bytes`: a count
    /// that could not fit in what remains is refused at once, so a loop over
    /// it never starts.
    fn count(&mut self, what: &'static str, min_item_bytes: usize) -> Result<u64, WireRefusal> {
        let n = self.uleb(what)?;
        let fits = usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(min_item_bytes))
            .is_some_and(|need| need <= self.bytes.len());
        if fits {
            Ok(n)
        } else {
            Err(WireRefusal::Truncated { what })
        }
    }

    fn length_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], WireRefusal> {
        let n = self.uleb(what)?;
        self.take(n, what)
    }

    /// A list of 32-byte change hashes.
    fn hashes(&mut self, what: &'static str) -> Result<u64, WireRefusal> {
        let n = self.count(what, HASH_BYTES)?;
        self.take(n * HASH_BYTES as u64, what)?;
        Ok(n)
    }

    /// A list of length-prefixed actor ids.
    fn actors(&mut self, what: &'static str) -> Result<Vec<&'a [u8]>, WireRefusal> {
        let n = self.count(what, 1)?;
        (0..n).map(|_| self.length_prefixed(what)).collect()
    }
}

const HASH_BYTES: usize = 32;

fn too_large(what: &'static str) -> WireRefusal {
    WireRefusal::Malformed {
        what,
        why: "a number is larger than 64 bits",
    }
}

fn overlong(what: &'static str) -> WireRefusal {
    WireRefusal::Malformed {
        what,
        why: "a number is padded with extra bytes",
    }
}

/// A have's bloom filter, as `sync/bloom.rs` reads it: empty, or three
/// numbers and `ceil(entries * bits_per_entry / 8)` bytes of bits.
fn check_bloom_filter(bytes: &[u8]) -> Result<(), WireRefusal> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut r = Reader::new(bytes);
    let entries = r.uleb_u32("a bloom filter")?;
    let bits_per_entry = r.uleb_u32("a bloom filter")?;
    let probes = r.uleb_u32("a bloom filter")?;
    let bits = (u64::from(entries) * u64::from(bits_per_entry)).div_ceil(8);
    r.take(bits, "a bloom filter")?;
    // Automerge tests a hash with `% (8 * bits.len())`: no bits would be a
    // division by zero, a panic.
    if entries != 0 && bits == 0 {
        return Err(WireRefusal::BadBloomFilter {
            why: "it holds entries but no bits",
        });
    }
    // ... and allocates `probes` u32 for every hash it tests.
    if probes > MAX_BLOOM_PROBES {
        return Err(WireRefusal::BadBloomFilter {
            why: "it asks for more probes than any bloom filter uses (Automerge uses 7)",
        });
    }
    Ok(())
}

/// Chunks end to end, as `load_incremental` reads them.
fn check_chunk_stream(bytes: &[u8], budget: &mut Budget<'_>) -> Result<(), WireRefusal> {
    let mut r = Reader::new(bytes);
    while !r.is_empty() {
        check_chunk(&mut r, budget)?;
    }
    Ok(())
}

/// One chunk: magic bytes, checksum, type, length, and the body.
///
/// The checksum is not verified: it is no defence (anyone can compute it),
/// Automerge verifies it, and for a compressed change it covers the
/// inflated bytes, which Automerge inflates before it compares.
fn check_chunk(r: &mut Reader<'_>, budget: &mut Budget<'_>) -> Result<(), WireRefusal> {
    let magic = r.take(4, "a chunk header")?;
    if magic != MAGIC {
        return Err(WireRefusal::Malformed {
            what: "a chunk",
            why: "it does not start with Automerge's magic bytes",
        });
    }
    r.take(4, "a chunk header")?;
    let kind = r.byte("a chunk header")?;
    let body = r.length_prefixed("a chunk")?;
    budget.size.chunks += 1;
    match kind {
        CHUNK_CHANGE => check_change(body, budget),
        CHUNK_COMPRESSED => {
            let inflated = budget.inflate("a compressed change", body)?;
            check_change(&inflated, budget)
        }
        CHUNK_DOCUMENT => check_document(body, budget),
        CHUNK_BUNDLE => Err(WireRefusal::UnsupportedChunk {
            what: "a bundle chunk (experimental in Automerge)",
        }),
        _ => Err(WireRefusal::Malformed {
            what: "a chunk",
            why: "its type is unknown",
        }),
    }
}

/// A change chunk's body (`storage/change.rs`): dependencies, actor, seq,
/// start op, time, message, other actors, op columns, and extra bytes.
fn check_change(body: &[u8], budget: &mut Budget<'_>) -> Result<(), WireRefusal> {
    const WHAT: &str = "a change";
    let mut r = Reader::new(body);
    r.hashes("a change's dependencies")?;
    let author = r.length_prefixed("a change's actor")?;
    let seq = r.uleb(WHAT)?;
    if r.uleb(WHAT)? == 0 {
        return Err(WireRefusal::Malformed {
            what: WHAT,
            why: "its start op is zero",
        });
    }
    r.sleb(WHAT)?; // time
    let message = r.length_prefixed("a change's message")?;
    if std::str::from_utf8(message).is_err() {
        return Err(WireRefusal::Malformed {
            what: "a change's message",
            why: "it is not UTF-8",
        });
    }
    let mut actors = r.actors("a change's other actors")?;
    // Automerge registers a change's actors by id and then looks each up by
    // its place in the list: a name listed twice is a panic there.
    actors.push(author);
    actors.sort_unstable();
    if actors.windows(2).any(|w| w[0] == w[1]) {
        return Err(WireRefusal::Malformed {
            what: "a change's actors",
            why: "an actor is listed twice",
        });
    }
    let actors = actors.len() as u64;
    let columns = column_metadata(&mut r, "a change's op columns")?;
    let data = take_column_data(&mut r, &columns, "a change's op columns")?;
    // What follows the columns is the change's extra bytes: an author, or
    // nothing.
    check_author(r.rest(), i128::from(seq))?;

    budget.changes(1)?;
    let counts = count_columns(&columns, data, actors, budget)?;
    budget.ops(counts.of(spec::ACTION))?;
    counts.check_numbers(spec::ACTION, "a change's actions", 0..=MAX_ACTION)?;
    check_increments(&counts, "a change's increments")?;
    Ok(())
}

/// A document chunk's body (`storage/document.rs`): actors, heads, change
/// and op column metadata, their data, and the heads' indices.
fn check_document(body: &[u8], budget: &mut Budget<'_>) -> Result<(), WireRefusal> {
    let mut r = Reader::new(body);
    let actors = r.actors("a document's actors")?;
    // Automerge writes them sorted, and finds them by binary search.
    if actors.windows(2).any(|w| w[0] >= w[1]) {
        return Err(WireRefusal::Malformed {
            what: "a document's actors",
            why: "they are not in order, each once",
        });
    }
    let actors = actors.len() as u64;
    let heads = r.hashes("a document's heads")?;
    let change_columns = column_metadata(&mut r, "a document's change columns")?;
    let op_columns = column_metadata(&mut r, "a document's op columns")?;
    let change_data = take_column_data(&mut r, &change_columns, "a document's change columns")?;
    let op_data = take_column_data(&mut r, &op_columns, "a document's op columns")?;
    // Older JS Automerge wrote no head indices; otherwise one per head, and
    // nothing after them (Automerge refuses leftover bytes).
    if !r.is_empty() {
        for _ in 0..heads {
            r.uleb("a document's head indices")?;
        }
        if !r.is_empty() {
            return Err(WireRefusal::Malformed {
                what: "a document",
                why: "bytes follow its head indices",
            });
        }
    }

    let changes = count_columns(&change_columns, change_data, actors, budget)?;
    let n = changes.of(spec::DOC_CHANGE_ACTOR);
    budget.changes(n)?;
    check_document_changes(&changes, actors, n)?;
    check_document_authors(&changes)?;
    let ops = count_columns(&op_columns, op_data, actors, budget)?;
    budget.ops(ops.of(spec::DOC_OP_ID_ACTOR))?;
    // Automerge rebuilds the changes of a document from its ops, then reads
    // them back expecting every action to be one it knows: a panic if not.
    ops.check_numbers(spec::ACTION, "a document's actions", 0..=MAX_ACTION)?;
    check_increments(&ops, "a document's increments")?;
    Ok(())
}

/// A document's change columns, which Automerge 0.12 reads with decoders
/// that do not validate (`ChangeGraphCols::load`): a null, a number past
/// `u32` or a dependency on a change that is not there is a panic there,
/// so each is refused here.
fn check_document_changes(changes: &ColumnCounts, actors: u64, n: u64) -> Result<(), WireRefusal> {
    let u32s = 0..=i128::from(u32::MAX);
    changes.check_numbers(
        spec::DOC_CHANGE_ACTOR,
        "a document's change actors",
        0..=i128::from(actors) - 1,
    )?;
    changes.check_numbers(
        spec::DOC_CHANGE_SEQ,
        "a document's change numbers",
        u32s.clone(),
    )?;
    changes.check_numbers(
        spec::DOC_CHANGE_MAX_OP,
        "a document's change op counters",
        u32s.clone(),
    )?;
    changes.check_numbers(
        spec::DOC_CHANGE_DEPS_COUNT,
        "a document's dependency counts",
        u32s,
    )?;
    changes.check_numbers(
        spec::DOC_CHANGE_DEPS,
        "a document's dependencies",
        0..=i128::from(n) - 1,
    )?;
    // One dependency count a change: Automerge indexes the changes by
    // them.
    if changes.of(spec::DOC_CHANGE_DEPS_COUNT) > n {
        return Err(WireRefusal::Malformed {
            what: "a document's dependency counts",
            why: "there are more than changes",
        });
    }
    // Automerge rebuilds the changes in order and looks each dependency up
    // among those already rebuilt: a dependency on a later change is a
    // panic there. Rows are bounded by the changes and values limits.
    let mut deps = changes.values(spec::DOC_CHANGE_DEPS);
    for (change, count) in changes.values(spec::DOC_CHANGE_DEPS_COUNT).enumerate() {
        for _ in 0..count.unwrap_or(0) {
            // A count past the dependencies there are: Automerge refuses
            // it, and counting on would loop up to four billion times.
            let Some(dep) = deps.next() else {
                return Ok(());
            };
            if dep.is_some_and(|dep| dep >= change as i128) {
                return Err(WireRefusal::Malformed {
                    what: "a document's dependencies",
                    why: "a change depends on one that comes after it",
                });
            }
        }
    }
    Ok(())
}

/// A change's extra bytes that Automerge reads as an author (experimental
/// in Automerge; no Maraude device writes one) belong to a change numbered
/// 1: Automerge asserts it while adding the change to its graph.
fn check_author(extra: &[u8], seq: i128) -> Result<(), WireRefusal> {
    if seq != 1 && is_author_footer(extra) {
        return Err(WireRefusal::Malformed {
            what: "a change's author",
            why: "only a change numbered 1 may name its author",
        });
    }
    Ok(())
}

/// Whether Automerge's `decode_author_footer` finds an author in these
/// extra bytes: a footer id of 1, a length, and at least that many bytes.
/// Read as leniently as the `leb128` crate it uses (padded numbers too), so
/// that the two never disagree.
fn is_author_footer(extra: &[u8]) -> bool {
    fn lenient_uleb(bytes: &[u8]) -> Option<(u64, &[u8])> {
        let mut value = 0u64;
        for (i, b) in bytes.iter().enumerate().take(10) {
            value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
            if b & 0x80 == 0 {
                return Some((value, &bytes[i + 1..]));
            }
        }
        None
    }
    let Some((id, rest)) = lenient_uleb(extra) else {
        return false;
    };
    let Some((len, rest)) = lenient_uleb(rest) else {
        return false;
    };
    id == 1 && usize::try_from(len).is_ok_and(|len| rest.len() >= len)
}

/// [`check_author`] for each change of a document: its number, and its
/// extra bytes (lengths in the extra metadata column, bytes in the extra
/// column).
fn check_document_authors(changes: &ColumnCounts<'_>) -> Result<(), WireRefusal> {
    let extra = changes
        .0
        .iter()
        .find(|(c, _)| c.id_and_type == spec::DOC_CHANGE_EXTRA)
        .map(|(_, d)| d.as_ref())
        .unwrap_or_default();
    let mut extra = Reader::new(extra);
    let mut seqs = changes.values(spec::DOC_CHANGE_SEQ);
    for meta in changes.values(spec::DOC_CHANGE_EXTRA_METADATA) {
        let len = meta.map_or(0, |m| (m as u64) >> 4);
        // `check_values_add_up` saw that the lengths fit the bytes.
        let Ok(bytes) = extra.take(len, "a document's extra bytes") else {
            return Ok(());
        };
        let seq = seqs.next().flatten().unwrap_or(0);
        check_author(bytes, seq)?;
    }
    Ok(())
}

/// Automerge's action number for an increment, and the value types it
/// takes (the low four bits of a value's metadata: unsigned, signed).
const INCREMENT: i128 = 5;
const INCREMENT_VALUE_TYPES: [i128; 2] = [3, 4];

/// An increment's value is an integer: Automerge reads the ops of a
/// document back as changes with `unwrap`, and panics on one that is not.
fn check_increments(ops: &ColumnCounts<'_>, what: &'static str) -> Result<(), WireRefusal> {
    let mut values = ops.values(spec::VALUE_METADATA);
    for action in ops.values(spec::ACTION) {
        let meta = values.next().flatten();
        if action == Some(INCREMENT)
            && !meta.is_some_and(|m| INCREMENT_VALUE_TYPES.contains(&(m & 0x0f)))
        {
            return Err(WireRefusal::Malformed {
                what,
                why: "an increment's value is not an integer",
            });
        }
    }
    Ok(())
}

/// The values of a column that `read_column` has read whole, one at a
/// time, runs expanded: for the few checks that compare columns row by
/// row. Its length is bounded by the values limit.
struct Values<'a> {
    r: Reader<'a>,
    encoding: Encoding,
    /// Values left in the current run, and what they are: a repeated value,
    /// nulls, or (literal) each read in turn.
    left: u64,
    repeated: Option<Option<i128>>,
    current: i128,
}

impl<'a> Values<'a> {
    fn new(data: &'a [u8], encoding: Encoding) -> Self {
        Self {
            r: Reader::new(data),
            encoding,
            left: 0,
            repeated: None,
            current: 0,
        }
    }

    fn number(&mut self) -> Option<i128> {
        match self.encoding {
            Encoding::Delta => {
                let d = self.r.sleb("a column").ok()?;
                self.current = self.current.saturating_add(i128::from(d));
                Some(self.current)
            }
            _ => self.r.uleb("a column").ok().map(i128::from),
        }
    }
}

impl Iterator for Values<'_> {
    type Item = Option<i128>;

    fn next(&mut self) -> Option<Option<i128>> {
        while self.left == 0 {
            if self.r.is_empty() {
                return None;
            }
            let count = self.r.sleb("a column").ok()?;
            if count > 0 {
                self.left = count as u64;
                if self.encoding == Encoding::Delta {
                    // A repeated delta: each value steps by it.
                    let d = self.r.sleb("a column").ok()?;
                    self.repeated = Some(Some(i128::from(d)));
                } else {
                    self.repeated = Some(self.number());
                }
            } else if count < 0 {
                self.left = count.unsigned_abs();
                self.repeated = None;
            } else {
                self.left = self.r.uleb("a column").ok()?;
                self.repeated = Some(None);
            }
        }
        self.left -= 1;
        Some(match self.repeated {
            None => self.number(),
            Some(Some(d)) if self.encoding == Encoding::Delta => {
                self.current = self.current.saturating_add(d);
                Some(self.current)
            }
            Some(value) => value,
        })
    }
}

/// One column's specification and the length of its data.
#[derive(Debug, Clone, Copy)]
struct Column {
    spec: u32,
    len: u64,
}

impl Column {
    fn deflated(&self) -> bool {
        self.spec & spec::DEFLATE != 0
    }

    /// The specification without the deflate bit: which column this is.
    fn id_and_type(&self) -> u32 {
        self.spec & !spec::DEFLATE
    }
}

fn column_metadata(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Column>, WireRefusal> {
    // A column's metadata is two numbers, a byte each at least.
    let n = r.count(what, 2)?;
    let mut columns = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let spec = r.uleb_u32(what)?;
        let len = r.uleb(what)?;
        columns.push(Column { spec, len });
    }
    Ok(columns)
}

/// The data of all `columns`, end to end, refused if the lengths add up to
/// more than remains.
fn take_column_data<'a>(
    r: &mut Reader<'a>,
    columns: &[Column],
    what: &'static str,
) -> Result<&'a [u8], WireRefusal> {
    let total = columns
        .iter()
        .try_fold(0u64, |sum, c| sum.checked_add(c.len))
        .ok_or(WireRefusal::Truncated { what })?;
    r.take(total, what)
}

/// What reading a column found.
#[derive(Debug, Clone, Copy)]
struct ColumnSummary {
    id_and_type: u32,
    /// Values, runs expanded, nulls included.
    values: u64,
    nulls: u64,
    /// Bytes of data, inflated.
    bytes: u64,
    /// For a value metadata column, the bytes its values claim in the value
    /// column of the same id; for a string column, its strings' bytes.
    weight: u64,
    /// The least and greatest number in an integer column (for a delta
    /// column, of the values the deltas add up to).
    least: i128,
    greatest: i128,
}

impl ColumnSummary {
    fn new(id_and_type: u32, bytes: usize) -> Self {
        Self {
            id_and_type,
            values: 0,
            nulls: 0,
            bytes: bytes as u64,
            weight: 0,
            least: i128::MAX,
            greatest: i128::MIN,
        }
    }

    fn saw(&mut self, n: i128) {
        self.least = self.least.min(n);
        self.greatest = self.greatest.max(n);
    }
}

/// The columns of one set (a change's ops, a document's changes or ops),
/// with their data, inflated, for the checks that read values row by row.
struct ColumnCounts<'a>(Vec<(ColumnSummary, Cow<'a, [u8]>)>);

impl ColumnCounts<'_> {
    fn find(&self, id_and_type: u32) -> impl Iterator<Item = &ColumnSummary> {
        self.0
            .iter()
            .map(|(c, _)| c)
            .filter(move |c| c.id_and_type == id_and_type)
    }

    /// The values of the first column `id_and_type` (an absent column has
    /// none), nulls as `None`.
    fn values(&self, id_and_type: u32) -> Values<'_> {
        let data = self
            .0
            .iter()
            .find(|(c, _)| c.id_and_type == id_and_type)
            .map(|(_, d)| d.as_ref())
            .unwrap_or_default();
        let encoding = if id_and_type & 0x07 == column_type::DELTA {
            Encoding::Delta
        } else {
            Encoding::Unsigned
        };
        Values::new(data, encoding)
    }

    /// The values of the column `id_and_type`, summed if it appears more
    /// than once (Automerge would refuse that; counting both is the bound).
    fn of(&self, id_and_type: u32) -> u64 {
        self.find(id_and_type)
            .map(|c| c.values)
            .fold(0u64, u64::saturating_add)
    }

    /// Each value column holds exactly the bytes its metadata column says
    /// its values take: Automerge's document reader slices the value column
    /// by those lengths and panics past its end.
    fn check_values_add_up(&self) -> Result<(), WireRefusal> {
        for (column, _) in &self.0 {
            let kind = column.id_and_type & 0x07;
            if kind != column_type::VALUE_METADATA && kind != column_type::VALUE {
                continue;
            }
            let id = column.id_and_type & !0x07;
            let claimed = self
                .find(id | column_type::VALUE_METADATA)
                .map(|c| c.weight)
                .fold(0u64, u64::saturating_add);
            let held = self
                .find(id | column_type::VALUE)
                .map(|c| c.bytes)
                .fold(0u64, u64::saturating_add);
            if claimed != held {
                return Err(WireRefusal::Malformed {
                    what: "a column of values",
                    why: "its values' lengths do not add up to its bytes",
                });
            }
        }
        Ok(())
    }

    /// The column `id_and_type`, when present, has no null and only numbers
    /// in `range`: for the columns Automerge reads without validating them
    /// first, where a null or a number out of its type is a panic.
    fn check_numbers(
        &self,
        id_and_type: u32,
        what: &'static str,
        range: std::ops::RangeInclusive<i128>,
    ) -> Result<(), WireRefusal> {
        for c in self.find(id_and_type) {
            if c.nulls > 0 {
                return Err(WireRefusal::Malformed {
                    what,
                    why: "it holds a null where every row has a value",
                });
            }
            if c.values > 0 && !(range.contains(&c.least) && range.contains(&c.greatest)) {
                return Err(WireRefusal::Malformed {
                    what,
                    why: "a number is out of its range",
                });
            }
        }
        Ok(())
    }
}

/// Read every column of a set whose chunk names `actors` actors.
fn count_columns<'a>(
    columns: &[Column],
    mut data: &'a [u8],
    actors: u64,
    budget: &mut Budget<'_>,
) -> Result<ColumnCounts<'a>, WireRefusal> {
    let mut counts = Vec::with_capacity(columns.len());
    for column in columns {
        // `take_column_data` checked that the lengths fit in `data`.
        let (this, rest) = data.split_at(column.len as usize);
        data = rest;
        let this = if column.deflated() {
            Cow::Owned(budget.inflate("a deflated column", this)?)
        } else {
            Cow::Borrowed(this)
        };
        let summary = read_column(column.id_and_type(), &this, budget)?;
        // Automerge looks an actor index up in the chunk's actors without
        // checking it (a panic past the end).
        if summary.id_and_type & 0x07 == column_type::ACTOR
            && summary.values > summary.nulls
            && summary.greatest >= i128::from(actors)
        {
            return Err(WireRefusal::Malformed {
                what: "a column of actors",
                why: "it names an actor the chunk does not list",
            });
        }
        counts.push((summary, this));
    }
    let counts = ColumnCounts(counts);
    counts.check_values_add_up()?;
    Ok(counts)
}

/// The column types of Automerge's format (the low three bits of a spec).
mod column_type {
    pub const GROUP: u32 = 0;
    pub const ACTOR: u32 = 1;
    pub const INTEGER: u32 = 2;
    pub const DELTA: u32 = 3;
    pub const BOOLEAN: u32 = 4;
    pub const STRING: u32 = 5;
    pub const VALUE_METADATA: u32 = 6;
    pub const VALUE: u32 = 7;
}

/// How the values of a run-length-encoded column are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Unsigned,
    /// Signed differences from the previous value.
    Delta,
    /// Unsigned: a type in the low four bits, a length in the others.
    ValueMetadata,
    /// Length-prefixed UTF-8.
    String,
}

/// Read a column without expanding a run, charging the budget as it goes
/// (so a run of a billion is refused as soon as it is read), and refuse a
/// column that ends in the middle of a run or a value: Automerge's column
/// readers assume whole runs and panic on a cut one.
fn read_column(
    id_and_type: u32,
    data: &[u8],
    budget: &mut Budget<'_>,
) -> Result<ColumnSummary, WireRefusal> {
    let mut summary = ColumnSummary::new(id_and_type, data.len());
    let mut r = Reader::new(data);
    match id_and_type & 0x07 {
        // Raw bytes, read through the value metadata column's lengths.
        column_type::VALUE => {}
        column_type::GROUP | column_type::ACTOR | column_type::INTEGER => {
            runs(&mut r, budget, &mut summary, Encoding::Unsigned)?;
        }
        column_type::VALUE_METADATA => {
            runs(&mut r, budget, &mut summary, Encoding::ValueMetadata)?;
        }
        column_type::DELTA => runs(&mut r, budget, &mut summary, Encoding::Delta)?,
        column_type::STRING => runs(&mut r, budget, &mut summary, Encoding::String)?,
        _ => {
            debug_assert_eq!(id_and_type & 0x07, column_type::BOOLEAN);
            // Alternating runs of false and true, counts only.
            while !r.is_empty() {
                let n = r.uleb("a column")?;
                charge(budget, &mut summary, n)?;
            }
        }
    }
    Ok(summary)
}

fn charge(budget: &mut Budget<'_>, summary: &mut ColumnSummary, n: u64) -> Result<(), WireRefusal> {
    budget.column_values(n)?;
    summary.values += n;
    Ok(())
}

/// Automerge's run-length encoding: a signed count, then
/// - positive `n`: one value, repeated `n` times;
/// - negative `-n`: `n` values, one after the other;
/// - zero: an unsigned count of nulls.
///
/// A repeated string costs the inflated budget each extra copy: a run can
/// copy a long one many times, and Automerge materialises each.
fn runs(
    r: &mut Reader<'_>,
    budget: &mut Budget<'_>,
    summary: &mut ColumnSummary,
    encoding: Encoding,
) -> Result<(), WireRefusal> {
    const WHAT: &str = "a column";
    // A delta column's current value; i128 and saturating, since a hostile
    // column can add up to anything (and is then refused by its range).
    let mut current: i128 = 0;
    // One value: its number (or a delta), and its weight (bytes of a
    // string, length of a value).
    let value = |r: &mut Reader<'_>| -> Result<(i128, u64), WireRefusal> {
        Ok(match encoding {
            Encoding::Unsigned => (i128::from(r.uleb(WHAT)?), 0),
            Encoding::Delta => (i128::from(r.sleb(WHAT)?), 0),
            Encoding::ValueMetadata => {
                let m = r.uleb(WHAT)?;
                (i128::from(m), m >> 4)
            }
            Encoding::String => {
                let s = r.length_prefixed("a string in a column")?;
                std::str::from_utf8(s).map_err(|_| WireRefusal::Malformed {
                    what: "a string in a column",
                    why: "it is not UTF-8",
                })?;
                (0, s.len() as u64)
            }
        })
    };
    while !r.is_empty() {
        let count = r.sleb(WHAT)?;
        if count > 0 {
            let count = count as u64;
            charge(budget, summary, count)?;
            let (n, w) = value(r)?;
            summary.weight = summary.weight.saturating_add(w.saturating_mul(count));
            if encoding == Encoding::String && count > 1 {
                budget.inflated("a run of repeated strings", w.saturating_mul(count - 1))?;
            }
            if encoding == Encoding::Delta {
                // The values climb or fall steadily: the first and the last
                // are the extremes.
                summary.saw(current.saturating_add(n));
                current = current.saturating_add(n.saturating_mul(i128::from(count)));
                summary.saw(current);
            } else {
                summary.saw(n);
            }
        } else if count < 0 {
            let len = count.unsigned_abs();
            // Each value takes a byte at least: a literal run longer than
            // what remains is a lie, refused before the loop.
            if len > r.remaining() as u64 {
                return Err(WireRefusal::Truncated { what: WHAT });
            }
            charge(budget, summary, len)?;
            for _ in 0..len {
                let (n, w) = value(r)?;
                summary.weight = summary.weight.saturating_add(w);
                if encoding == Encoding::Delta {
                    current = current.saturating_add(n);
                    summary.saw(current);
                } else {
                    summary.saw(n);
                }
            }
        } else {
            let nulls = r.uleb(WHAT)?;
            charge(budget, summary, nulls)?;
            summary.nulls += nulls;
        }
    }
    Ok(())
}

pub mod envelope;

#[cfg(test)]
mod tests;
