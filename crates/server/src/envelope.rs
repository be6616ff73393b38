//! Envelope encryption of what the server keeps in a database it does not
//! encrypt itself (PostgreSQL): a dump or a backup of it must reveal no
//! entry, case, incident, nor any key that would.
//!
//! Two levels, as a key-management service would have them:
//!
//! - the **server key**, derived from the server's passphrase (Argon2id,
//!   with a salt kept in the database), never stored;
//! - one **data key** per antenna, random, stored wrapped (sealed) by the
//!   server key. Every secret of the antenna (its authority's key, its
//!   documents' chunks) is sealed with it.
//!
//! Sealing is AES-256-GCM (ring, already built for TLS) with a random
//! 96-bit nonce, and associated data naming what the bytes are (the
//! antenna, the document, the kind of chunk): sealed bytes copied into
//! another row, or another antenna, do not open there.
//!
//! A sealed value is `1 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`; the leading
//! byte is the format, so that another one can follow.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use uuid::Uuid;
use zeroize::Zeroizing;

const FORMAT: u8 = 1;
const KEY_LEN: usize = 32;
/// What a server key opens to prove it is the right one.
const PROOF: &[u8] = b"maraude server key";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("sealed data that does not open: another server's passphrase, or altered bytes")]
    DoesNotOpen,
    #[error("sealed data in an unknown format ({0}): written by a newer server?")]
    UnknownFormat(u8),
    #[error("the passphrase cannot derive a key: {0}")]
    Derivation(String),
}

/// A 256-bit key that seals and opens.
pub struct Key {
    key: LessSafeKey,
    /// The key's bytes, for wrapping a data key; zeroed when dropped.
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, bytes.as_ref()).expect("32 bytes make an AES-256 key"),
        );
        Self { key, bytes }
    }

    /// A new random key (an antenna's data key).
    pub fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .expect("the system's random source");
        Self::from_bytes(bytes)
    }

    /// The server key: the passphrase through Argon2id with the database's
    /// salt (the default parameters: 19 MiB, 2 passes; once at start).
    pub fn from_passphrase(passphrase: &str, salt: &[u8]) -> Result<Self, EnvelopeError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        argon2::Argon2::default()
            .hash_password_into(passphrase.as_bytes(), salt, bytes.as_mut())
            .map_err(|e| EnvelopeError::Derivation(e.to_string()))?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system's random source");
        self.seal_with_nonce(nonce, context, plain)
    }

    fn seal_with_nonce(&self, nonce: [u8; NONCE_LEN], context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + plain.len() + 16);
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plain);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed[1 + NONCE_LEN..],
            )
            .expect("AES-GCM seals any length this server writes");
        sealed.extend_from_slice(tag.as_ref());
        sealed
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let (&format, rest) = sealed.split_first().ok_or(EnvelopeError::DoesNotOpen)?;
        if format != FORMAT {
            return Err(EnvelopeError::UnknownFormat(format));
        }
        if rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(EnvelopeError::DoesNotOpen);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| EnvelopeError::DoesNotOpen)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| EnvelopeError::DoesNotOpen)?;
        Ok(plain.to_vec())
    }

    /// What the database keeps to tell the right passphrase from a wrong
    /// one at start, before anything is opened with it.
    pub fn proof(&self) -> Vec<u8> {
        self.seal(b"proof", PROOF)
    }

    pub fn proves(&self, proof: &[u8]) -> bool {
        self.open(b"proof", proof).is_ok_and(|p| p == PROOF)
    }

    /// A key for another use of this one's secret, named by `purpose`
    /// (HKDF-SHA256): knowing it tells nothing of this key, nor of the key
    /// of another purpose.
    pub fn derive(&self, purpose: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &[])
            .extract(self.bytes.as_ref())
            .expand(&[purpose], ring::hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(out.as_mut()))
            .expect("HKDF-SHA256 gives 32 bytes");
        out
    }

    /// `data_key` sealed by this (server) key for `antenna`.
    pub fn wrap(&self, antenna: Uuid, data_key: &Key) -> Vec<u8> {
        self.seal(&wrap_context(antenna), data_key.bytes.as_ref())
    }

    pub fn unwrap(&self, antenna: Uuid, wrapped: &[u8]) -> Result<Key, EnvelopeError> {
        let plain = Zeroizing::new(self.open(&wrap_context(antenna), wrapped)?);
        let bytes: [u8; KEY_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::DoesNotOpen)?;
        Ok(Self::from_bytes(Zeroizing::new(bytes)))
    }
}

/// The purpose an antenna's data key is derived for ([`Key::derive`]) to
/// key this server's cache of the antenna (its SQLCipher file).
pub fn cache_store_purpose(antenna: Uuid) -> Vec<u8> {
    format!("cache store of antenna {antenna}").into_bytes()
}

fn wrap_context(antenna: Uuid) -> Vec<u8> {
    format!("data key of antenna {antenna}").into_bytes()
}

/// A new random salt for the server key.
pub fn new_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .expect("the system's random source");
    salt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_key() -> Key {
        Key::from_bytes(Zeroizing::new([7u8; KEY_LEN]))
    }

    /// The format on disk, byte for byte: a server must open what an older
    /// one sealed, so a change here is a new format, not an edit. The
    /// bytes were computed apart, by Python's `cryptography` (AESGCM).
    #[test]
    fn a_sealed_value_is_the_same_bytes_as_ever() {
        let sealed = fixed_key().seal_with_nonce([1; NONCE_LEN], b"authority", b"secret");
        assert_eq!(
            data_encoding::HEXLOWER.encode(&sealed),
            "010101010101010101010101010584eac5f5cba84e9aaacf2668eefb5b04fadbbaf062"
        );
        assert_eq!(fixed_key().open(b"authority", &sealed).unwrap(), b"secret");
    }

    /// A cache store's key, byte for byte: a server must open the cache an
    /// older one made. Computed apart, by Python's `cryptography` (HKDF,
    /// SHA-256, no salt).
    #[test]
    fn a_derived_key_is_the_same_bytes_as_ever() {
        let antenna = Uuid::from_u128(1);
        let derived = fixed_key().derive(&cache_store_purpose(antenna));
        assert_eq!(
            data_encoding::HEXLOWER.encode(derived.as_ref()),
            "22284b1c58928562d81f79dc50c090c6a46580c6c8c29ca78e93e368193aa124"
        );
        // Another antenna, another key; and not the data key itself.
        let other = fixed_key().derive(&cache_store_purpose(Uuid::from_u128(2)));
        assert_ne!(derived.as_ref(), other.as_ref());
        assert_ne!(derived.as_ref(), &[7u8; KEY_LEN]);
    }

    #[test]
    fn sealed_bytes_open_only_in_their_context_with_their_key() {
        let key = Key::random();
        let sealed = key.seal(b"chunk of document A", b"an entry");
        assert_eq!(
            key.open(b"chunk of document A", &sealed).unwrap(),
            b"an entry"
        );
        assert_eq!(
            key.open(b"chunk of document B", &sealed),
            Err(EnvelopeError::DoesNotOpen)
        );
        assert_eq!(
            Key::random().open(b"chunk of document A", &sealed),
            Err(EnvelopeError::DoesNotOpen)
        );
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(
            key.open(b"chunk of document A", &altered),
            Err(EnvelopeError::DoesNotOpen)
        );
        let mut newer = sealed;
        newer[0] = 2;
        assert_eq!(
            key.open(b"chunk of document A", &newer),
            Err(EnvelopeError::UnknownFormat(2))
        );
        assert_eq!(key.open(b"x", &[1, 2, 3]), Err(EnvelopeError::DoesNotOpen));
        assert_eq!(key.open(b"x", &[]), Err(EnvelopeError::DoesNotOpen));
    }

    #[test]
    fn a_data_key_unwraps_with_the_same_passphrase_and_antenna_only() {
        let salt = new_salt();
        let server = Key::from_passphrase("entrepôt des dunes", &salt).unwrap();
        let (calais, dunkerque) = (Uuid::new_v4(), Uuid::new_v4());
        let data = Key::random();
        let wrapped = server.wrap(calais, &data);
        let again = Key::from_passphrase("entrepôt des dunes", &salt).unwrap();
        assert!(again.proves(&server.proof()));
        let unwrapped = again.unwrap(calais, &wrapped).unwrap();
        assert_eq!(
            unwrapped.open(b"c", &data.seal(b"c", b"an alias")).unwrap(),
            b"an alias"
        );
        assert!(again.unwrap(dunkerque, &wrapped).is_err());
        let wrong = Key::from_passphrase("another passphrase", &salt).unwrap();
        assert!(!wrong.proves(&server.proof()));
        assert!(wrong.unwrap(calais, &wrapped).is_err());
    }
}
