//! Valid checksums for chunks that passed the check.
//!
//! The check does not read checksums (anyone can compute one, so they
//! defend nothing), but Automerge stops at a bad one: a mutated chunk would
//! almost never reach its decoders. Making them valid again after the
//! check lets the fuzzer reach the code a hostile peer reaches.

use std::io::Read;

use sha2::{Digest, Sha256};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const COMPRESSED: u8 = 2;
const CHANGE: u8 = 1;

/// `bytes`, a stream of chunks, with every checksum made valid. What cannot
/// be walked (it passed the check, so this should not happen) is left as is.
pub fn fix(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = 0;
    while at < bytes.len() {
        let Some(next) = fix_one(&mut out, at) else {
            break;
        };
        at = next;
    }
    out
}

/// Fix the chunk at `at`, returning where the next one starts.
fn fix_one(out: &mut [u8], at: usize) -> Option<usize> {
    if out.get(at..at + 4)? != MAGIC {
        return None;
    }
    let kind = *out.get(at + 8)?;
    let (len, len_bytes) = uleb(out.get(at + 9..)?)?;
    let start = at + 9 + len_bytes;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    let body = out.get(start..end)?;
    let hash = if kind == COMPRESSED {
        let mut inflated = Vec::new();
        flate2::bufread::DeflateDecoder::new(body)
            .take(64 << 20)
            .read_to_end(&mut inflated)
            .ok()?;
        hash(CHANGE, &inflated)
    } else {
        hash(kind, body)
    };
    out.get_mut(at + 4..at + 8)?.copy_from_slice(&hash[..4]);
    Some(end)
}

fn hash(kind: u8, body: &[u8]) -> [u8; 32] {
    let mut prefix = vec![kind];
    let mut n = body.len() as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            prefix.push(b);
            break;
        }
        prefix.push(b | 0x80);
    }
    let mut hasher = Sha256::new();
    hasher.update(&prefix);
    hasher.update(body);
    hasher.finalize().into()
}

fn uleb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}
