//! What someone holding the passphrase could read of a store file: every
//! page decrypted, free pages and the write-ahead log included. SQLCipher 4
//! layout: 4096-byte pages encrypted with AES-256-CBC under the raw key,
//! each ending with an 80-byte reserve that starts with the page's IV;
//! page 1 begins with the file's 16-byte salt in clear.

use std::path::Path;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use maraude_store::Passphrase;

const PAGE: usize = 4096;
const RESERVE: usize = 80;
const SALT: usize = 16;
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

fn decrypt_page(key: &[u8; 32], page: &[u8], first: bool) -> Vec<u8> {
    let end = PAGE - RESERVE;
    let mut text = page[if first { SALT } else { 0 }..end].to_vec();
    cbc::Decryptor::<aes::Aes256>::new_from_slices(key, &page[end..end + 16])
        .expect("a 32-byte key and a 16-byte IV")
        .decrypt_padded_mut::<NoPadding>(&mut text)
        .expect("whole AES blocks");
    text
}

/// Every page of the store at `path` and of its WAL, decrypted.
pub fn readable_bytes(path: &Path, passphrase: &Passphrase) -> Vec<u8> {
    let key = maraude_store::page_key(path, passphrase).expect("the store's key");
    let mut out = Vec::new();
    let main = std::fs::read(path).expect("the store file");
    for (i, page) in main.chunks_exact(PAGE).enumerate() {
        let text = decrypt_page(&key, page, i == 0);
        if i == 0 {
            // The header after the salt starts with the page size: the key
            // and the layout are right, so what is not found is not there.
            assert_eq!(text[..2], [0x10, 0x00], "page 1 did not decrypt");
        }
        out.extend(text);
    }
    let wal = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
    if wal.len() > WAL_HEADER {
        for frame in wal[WAL_HEADER..].chunks_exact(FRAME_HEADER + PAGE) {
            let page_no = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            out.extend(decrypt_page(&key, &frame[FRAME_HEADER..], page_no == 1));
        }
    }
    out
}

/// Whether `needle` can be read anywhere in the decrypted store.
pub fn readable(path: &Path, passphrase: &Passphrase, needle: &str) -> bool {
    readable_bytes(path, passphrase)
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
