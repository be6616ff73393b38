//! What someone holding the passphrase could read of a store file: every
//! page decrypted, free pages and the write-ahead log included, as a
//! forensic examiner would look for bytes that were erased. The erasure
//! tests (the store's, the sync's) check with it that an erased case is
//! gone from the file itself, not only from the queries. SQLCipher 4
//! layout: 4096-byte pages encrypted with AES-256-CBC under the raw key,
//! each ending with an 80-byte reserve that starts with the page's IV;
//! page 1 begins with the file's 16-byte salt in clear.

use std::path::Path;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};

use crate::{Passphrase, StoreError, StoreKey};

const PAGE: usize = 4096;
const RESERVE: usize = 80;
const SALT: usize = 16;
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

fn decrypt_page(key: &[u8; 32], page: &[u8], first: bool) -> Result<Vec<u8>, StoreError> {
    let end = PAGE - RESERVE;
    let mut text = page[if first { SALT } else { 0 }..end].to_vec();
    let layout = |what: &str| StoreError::Crypto(format!("not a SQLCipher 4 page: {what}"));
    cbc::Decryptor::<aes::Aes256>::new_from_slices(key, &page[end..end + 16])
        .map_err(|_| layout("key or IV"))?
        .decrypt_padded_mut::<NoPadding>(&mut text)
        .map_err(|_| layout("not whole AES blocks"))?;
    Ok(text)
}

/// Every page of the store at `path` and of its WAL, decrypted.
pub fn readable_bytes(path: &Path, passphrase: &Passphrase) -> Result<Vec<u8>, StoreError> {
    readable_bytes_under(path, &*crate::page_key(path, passphrase)?)
}

/// [`readable_bytes`] of a store opened with its key given whole (a base
/// server's cache of an antenna): that key is the page key.
pub fn readable_bytes_with_key(path: &Path, key: &StoreKey) -> Result<Vec<u8>, StoreError> {
    readable_bytes_under(path, key.expose_secret())
}

fn readable_bytes_under(path: &Path, key: &[u8; 32]) -> Result<Vec<u8>, StoreError> {
    let read =
        |path: String| std::fs::read(&path).map_err(|source| StoreError::Io { path, source });
    let mut out = Vec::new();
    let main = read(path.display().to_string())?;
    for (i, page) in main.chunks_exact(PAGE).enumerate() {
        let text = decrypt_page(key, page, i == 0)?;
        // The header after the salt starts with the page size: the key and
        // the layout are right, so what is not found is not there.
        if i == 0 && text[..2] != [0x10, 0x00] {
            return Err(StoreError::WrongPassphrase(path.display().to_string()));
        }
        out.extend(text);
    }
    let wal = read(format!("{}-wal", path.display())).unwrap_or_default();
    if wal.len() > WAL_HEADER {
        for frame in wal[WAL_HEADER..].chunks_exact(FRAME_HEADER + PAGE) {
            let page_no = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            out.extend(decrypt_page(key, &frame[FRAME_HEADER..], page_no == 1)?);
        }
    }
    Ok(out)
}

/// Whether `needle` can be read anywhere in the decrypted store.
pub fn readable(path: &Path, passphrase: &Passphrase, needle: &str) -> Result<bool, StoreError> {
    Ok(readable_bytes(path, passphrase)?
        .windows(needle.len())
        .any(|w| w == needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_logged_is_readable_with_the_passphrase_and_nothing_without() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.maraude");
        let pass = Passphrase::new("correct horse battery".into());
        drop(crate::Store::create(&path, &pass, "Grande-Synthe").expect("store"));
        assert!(readable(&path, &pass, "Grande-Synthe").expect("decrypted"));
        assert!(!readable(&path, &pass, "Dunkerque").expect("decrypted"));
        let wrong = readable(
            &path,
            &Passphrase::new("not the passphrase".into()),
            "Grande",
        );
        assert!(
            matches!(wrong, Err(StoreError::WrongPassphrase(_))),
            "{wrong:?}"
        );
    }
}
