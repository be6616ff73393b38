//! Quick unlock: the store's key, wrapped under a short PIN and a secret
//! that only this tablet's keystore gives out, so that cold hands unlock
//! with six digits without weakening the encryption.
//!
//! - The key that opens the store (`StoreKey`, what the passphrase derives)
//!   is sealed (ChaCha20-Poly1305) under Argon2id(PIN, salt) with the
//!   keystore's secret as Argon2's own secret input. The sealed key, the
//!   salt and the tries left are in a file beside the store
//!   (`<store>.pin`); the secret is in the system's keystore (the Secret
//!   Service on Linux). The file alone is useless: guessing the PIN needs
//!   the keystore's secret.
//! - A wrong PIN costs a try, counted down *before* the PIN is tried, so
//!   that killing the app in the middle of a try gives no free one, and
//!   counted in the keystore beside the secret, so that a copy of the file
//!   put back gives none either. After
//!   [`TRIES`] wrong PINs the wrapped key and the keystore's secret are
//!   destroyed: the passphrase is needed again, and a new PIN can be set.
//! - A keystore that lost its secret (the system was reset) is said as
//!   such, and the passphrase is asked.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use maraude_store::{Passphrase, Store, StoreError, StoreKey};
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::DeviceError;
use crate::keystore::Keystore;

/// Wrong PINs in a row before the wrapped key is destroyed.
pub const TRIES: u8 = 5;
/// Digits a PIN has at least: with 5 tries, one chance in 200,000 for
/// whoever found the tablet.
pub const MIN_PIN_DIGITS: usize = 6;
pub const MAX_PIN_DIGITS: usize = 12;

/// Argon2id cost of each try: the passphrase's, so that the keystore's
/// secret, if it ever leaked with the file, still leaves 64 MiB a guess.
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
const ARGON2_ITERATIONS: u32 = 3;
const SALT_LEN: usize = 16;
const SECRET_LEN: usize = 32;
/// Bound to the sealed key: a sealed key moved from another purpose or
/// version does not open.
const AAD: &[u8] = b"maraude quick unlock v1";

/// A PIN as typed. Not `Clone`, `Debug` prints `****`, zeroised on drop.
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(pin: String) -> Self {
        Self(Zeroizing::new(pin))
    }

    /// A new PIN: 6 to 12 digits, not one digit repeated nor a run
    /// (`123456`, `987654`), which are tried first.
    fn check_new(&self) -> Result<(), DeviceError> {
        let digits: Vec<u32> = self.0.chars().filter_map(|c| c.to_digit(10)).collect();
        let weak = DeviceError::WeakPin {
            min: MIN_PIN_DIGITS,
            max: MAX_PIN_DIGITS,
        };
        if digits.len() != self.0.chars().count()
            || !(MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&digits.len())
        {
            return Err(weak);
        }
        let steps: Vec<i64> = digits
            .windows(2)
            .map(|w| i64::from(w[1]) - i64::from(w[0]))
            .collect();
        if steps.iter().all(|s| *s == steps[0]) && steps[0].abs() <= 1 {
            return Err(weak);
        }
        Ok(())
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// What the unlock screen shows before anything is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PinState {
    /// No PIN on this tablet: the passphrase.
    NotSet,
    /// A PIN, with the tries left before the passphrase is needed.
    Set { tries_left: u8 },
}

/// The file beside the store. No key in clear: the sealed key, and what
/// unsealing it needs besides the PIN and the keystore's secret.
#[derive(Debug, Serialize, Deserialize)]
struct WrappedKey {
    version: u32,
    /// The keystore entry holding this tablet's secret.
    keystore_entry: String,
    salt: String,
    nonce: String,
    sealed: String,
    tries_left: u8,
}

/// The quick unlock of the store at one path.
pub struct QuickUnlock<'k> {
    store: PathBuf,
    file: PathBuf,
    keystore: &'k dyn Keystore,
}

impl std::fmt::Debug for QuickUnlock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickUnlock")
            .field("file", &self.file)
            .finish()
    }
}

impl<'k> QuickUnlock<'k> {
    pub fn of(store: &Path, keystore: &'k dyn Keystore) -> Self {
        let mut file = store.as_os_str().to_owned();
        file.push(".pin");
        Self {
            store: store.to_path_buf(),
            file: PathBuf::from(file),
            keystore,
        }
    }

    /// The file the wrapped key is kept in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    pub fn state(&self) -> Result<PinState, DeviceError> {
        let Some(wrapped) = self.read()? else {
            return Ok(PinState::NotSet);
        };
        // The keystore's count when it answers (see `open`).
        let kept = match self.keystore.load(&wrapped.keystore_entry) {
            Ok(Some(held)) => held_secret(&held).1,
            _ => TRIES,
        };
        Ok(match wrapped.tries_left.min(kept) {
            0 => PinState::NotSet,
            tries_left => PinState::Set { tries_left },
        })
    }

    /// Sets (or replaces) the PIN. The passphrase is asked again, even on
    /// an unlocked tablet: a PIN is a second way in, which only who knows
    /// the first may open.
    pub fn set(&self, passphrase: &Passphrase, pin: &Pin) -> Result<(), DeviceError> {
        pin.check_new()?;
        let key = StoreKey::derive(&self.store, passphrase)?;
        // A wrong passphrase shows here, before anything is written.
        drop(Store::open_with_key(&self.store, &key)?);
        self.forget()?;

        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        rand::rng().fill_bytes(secret.as_mut());
        let entry = format!("quick-unlock-{}", uuid::Uuid::new_v4());
        self.keep(&entry, secret.as_ref(), TRIES)?;

        let mut salt = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = seal(pin, &salt, secret.as_ref(), nonce, &key);
        maraude_store::wipe_stack();
        let sealed = sealed?;
        let wrapped = WrappedKey {
            version: 1,
            keystore_entry: entry,
            salt: BASE64.encode(salt),
            nonce: BASE64.encode(nonce),
            sealed: BASE64.encode(&sealed),
            tries_left: TRIES,
        };
        if let Err(e) = self.write(&wrapped) {
            let _ = self.keystore.delete(&wrapped.keystore_entry);
            return Err(e);
        }
        Ok(())
    }

    /// Opens the store with the PIN. A wrong PIN says how many tries are
    /// left; the last one destroys the wrapped key.
    pub fn open(&self, pin: &Pin) -> Result<Store, DeviceError> {
        let Some(mut wrapped) = self.read()? else {
            return Err(DeviceError::NoPin);
        };
        let Some(held) = self.keystore.load(&wrapped.keystore_entry)? else {
            self.forget()?;
            return Err(DeviceError::KeystoreLost);
        };
        let (secret, kept_tries) = held_secret(&held);
        // The keystore's count rules: the file's could be a copy restored
        // from before the wrong tries.
        let tries = wrapped.tries_left.min(kept_tries);
        if tries == 0 {
            self.forget()?;
            return Err(DeviceError::PinExhausted);
        }
        // Counted before the try: a try cut short is a try spent.
        wrapped.tries_left = tries - 1;
        self.keep(&wrapped.keystore_entry, secret, wrapped.tries_left)?;
        self.write(&wrapped)?;
        let decode = |s: &str| {
            BASE64
                .decode(s)
                .map_err(|_| DeviceError::Crypto(format!("{} is damaged", self.file.display())))
        };
        let salt: [u8; SALT_LEN] = decode(&wrapped.salt)?
            .try_into()
            .map_err(|_| DeviceError::Crypto(format!("{} is damaged", self.file.display())))?;
        let nonce: [u8; 12] = decode(&wrapped.nonce)?
            .try_into()
            .map_err(|_| DeviceError::Crypto(format!("{} is damaged", self.file.display())))?;
        let mut sealed = Zeroizing::new(decode(&wrapped.sealed)?);
        let opened = unseal(pin, &salt, secret, nonce, &mut sealed);
        maraude_store::wipe_stack();
        let Some(key) = opened? else {
            if wrapped.tries_left == 0 {
                self.forget()?;
                return Err(DeviceError::PinExhausted);
            }
            return Err(DeviceError::WrongPin {
                tries_left: wrapped.tries_left,
            });
        };
        let store = match Store::open_with_key(&self.store, &key) {
            Ok(store) => store,
            // The store was replaced since the PIN was set: the PIN is
            // for a file that is gone.
            Err(StoreError::WrongPassphrase(_)) => {
                self.forget()?;
                return Err(DeviceError::KeystoreLost);
            }
            Err(e) => return Err(e.into()),
        };
        wrapped.tries_left = TRIES;
        self.keep(&wrapped.keystore_entry, secret, TRIES)?;
        self.write(&wrapped)?;
        Ok(store)
    }

    /// The secret and the tries left, in the keystore together.
    fn keep(&self, entry: &str, secret: &[u8], tries_left: u8) -> Result<(), DeviceError> {
        let mut held = Zeroizing::new(Vec::with_capacity(SECRET_LEN + 1));
        held.extend_from_slice(secret);
        held.push(tries_left);
        Ok(self.keystore.save(entry, &held)?)
    }

    /// Removes the PIN: the wrapped key's file and the keystore's secret.
    /// A keystore out of reach leaves its secret behind, useless without
    /// the file.
    pub fn forget(&self) -> Result<(), DeviceError> {
        if let Ok(Some(wrapped)) = self.read() {
            let _ = self.keystore.delete(&wrapped.keystore_entry);
        }
        match std::fs::remove_file(&self.file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DeviceError::Folder {
                path: self.file.clone(),
                error: e.to_string(),
            }),
        }
    }

    fn read(&self) -> Result<Option<WrappedKey>, DeviceError> {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(DeviceError::Folder {
                    path: self.file.clone(),
                    error: e.to_string(),
                });
            }
        };
        // A damaged file is no PIN: the passphrase still opens the store.
        Ok(serde_json::from_str::<WrappedKey>(&text)
            .ok()
            .filter(|w| w.version == 1))
    }

    /// Written whole or not at all (a new file renamed over the old one),
    /// and flushed: the count of tries survives a pulled battery.
    fn write(&self, wrapped: &WrappedKey) -> Result<(), DeviceError> {
        let failed = |e: std::io::Error| DeviceError::Folder {
            path: self.file.clone(),
            error: e.to_string(),
        };
        let dir = self.file.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
        serde_json::to_writer(&mut tmp, wrapped).map_err(|e| failed(std::io::Error::other(e)))?;
        tmp.as_file().sync_all().map_err(failed)?;
        tmp.persist(&self.file).map_err(|e| failed(e.error))?;
        Ok(())
    }
}

/// What the keystore holds: the secret, then the tries left (a secret
/// kept alone, by nothing today, counts as all tries left).
fn held_secret(held: &[u8]) -> (&[u8], u8) {
    match held.split_at_checked(SECRET_LEN) {
        Some((secret, [tries])) => (secret, *tries),
        _ => (held, TRIES),
    }
}

/// The store's key sealed under the PIN. Its own frame (and Argon2's and
/// ring's below it), which the caller wipes once it returns: ring does not
/// zeroise a key schedule.
#[inline(never)]
fn seal(
    pin: &Pin,
    salt: &[u8],
    secret: &[u8],
    nonce: [u8; 12],
    key: &StoreKey,
) -> Result<Vec<u8>, DeviceError> {
    let mut sealed = key.expose_secret().to_vec();
    sealing_key(pin, salt, secret)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(AAD),
            &mut sealed,
        )
        .map_err(|_| DeviceError::Crypto("sealing the store key failed".into()))?;
    Ok(sealed)
}

/// The store's key, when the PIN is right; as [`seal`], its frame is for
/// the caller to wipe.
#[inline(never)]
fn unseal(
    pin: &Pin,
    salt: &[u8],
    secret: &[u8],
    nonce: [u8; 12],
    sealed: &mut [u8],
) -> Result<Option<StoreKey>, DeviceError> {
    Ok(sealing_key(pin, salt, secret)?
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(AAD), sealed)
        .ok()
        .and_then(|key| StoreKey::from_slice(key)))
}

/// Argon2id(PIN, salt), keyed with the keystore's secret.
fn sealing_key(pin: &Pin, salt: &[u8], secret: &[u8]) -> Result<LessSafeKey, DeviceError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, 1, Some(32))
        .map_err(|e| DeviceError::Crypto(e.to_string()))?;
    let argon = Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|e| DeviceError::Crypto(e.to_string()))?;
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pin.0.as_bytes(), salt, kek.as_mut())
        .map_err(|e| DeviceError::Crypto(e.to_string()))?;
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, kek.as_ref())
        .map_err(|_| DeviceError::Crypto("bad key length".into()))?;
    Ok(LessSafeKey::new(unbound))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::tests::InMemoryKeystore;

    fn pass() -> Passphrase {
        Passphrase::new("correct horse battery".into())
    }

    fn tablet() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        drop(Store::create(&path, &pass(), "Calais").expect("created"));
        (dir, path)
    }

    #[test]
    fn weak_pins_are_refused_before_anything_is_written() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        for weak in [
            "12345",
            "123456",
            "987654",
            "000000",
            "12a456",
            "",
            "1234567890123",
        ] {
            let refused = quick.set(&pass(), &Pin::new(weak.into()));
            assert_eq!(refused.err().map(|e| e.code()), Some("weak_pin"), "{weak}");
        }
        assert_eq!(quick.state().ok(), Some(PinState::NotSet));
        assert_eq!(keystore.len(), 0);
        assert!(!quick.file().exists());
    }

    #[test]
    fn the_pin_is_set_only_with_the_right_passphrase() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        let refused = quick.set(
            &Passphrase::new("not the passphrase".into()),
            &Pin::new("482916".into()),
        );
        assert_eq!(refused.err().map(|e| e.code()), Some("wrong_passphrase"));
        assert_eq!(quick.state().ok(), Some(PinState::NotSet));
        assert_eq!(keystore.len(), 0);
    }

    #[test]
    fn the_right_pin_opens_the_store_and_the_file_holds_no_key_in_clear() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&pass(), &Pin::new("482916".into())).expect("set");
        assert_eq!(
            quick.state().ok(),
            Some(PinState::Set { tries_left: TRIES })
        );

        let store = quick.open(&Pin::new("482916".into())).expect("opened");
        assert_eq!(
            store.antenna().map(|a| a.name).ok().as_deref(),
            Some("Calais")
        );

        let key = StoreKey::derive(&path, &pass()).expect("key");
        let file = std::fs::read(quick.file()).expect("pin file");
        let text = String::from_utf8_lossy(&file);
        assert!(!file.windows(32).any(|w| w == key.expose_secret()));
        assert!(!text.contains(&BASE64.encode(key.expose_secret())));
        assert!(!text.contains("482916"));
    }

    #[test]
    fn wrong_pins_count_down_then_the_wrapped_key_is_destroyed() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&pass(), &Pin::new("482916".into())).expect("set");

        // A right PIN between wrong ones gives the tries back.
        let _ = quick.open(&Pin::new("111111".into()));
        drop(quick.open(&Pin::new("482916".into())).expect("opened"));
        assert_eq!(
            quick.state().ok(),
            Some(PinState::Set { tries_left: TRIES })
        );

        for left in (1..TRIES).rev() {
            let wrong = quick.open(&Pin::new("111111".into()));
            assert!(
                matches!(wrong, Err(DeviceError::WrongPin { tries_left }) if tries_left == left),
                "{:?}",
                wrong.err()
            );
            assert_eq!(quick.state().ok(), Some(PinState::Set { tries_left: left }));
        }
        let last = quick.open(&Pin::new("111111".into()));
        assert_eq!(last.err().map(|e| e.code()), Some("pin_exhausted"));
        assert_eq!(quick.state().ok(), Some(PinState::NotSet));
        assert!(!quick.file().exists());
        assert_eq!(keystore.len(), 0, "the keystore's secret is destroyed");

        // Even the right PIN is no way in now; the passphrase still is.
        let after = quick.open(&Pin::new("482916".into()));
        assert_eq!(after.err().map(|e| e.code()), Some("no_pin"));
        assert!(Store::open(&path, &pass()).is_ok());
    }

    #[test]
    fn a_copied_pin_file_without_the_keystore_secret_opens_nothing() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&pass(), &Pin::new("482916".into())).expect("set");
        // The system was reset, or the file was copied elsewhere.
        keystore.clear();
        let lost = quick.open(&Pin::new("482916".into()));
        assert_eq!(lost.err().map(|e| e.code()), Some("keystore_lost"));
        assert_eq!(quick.state().ok(), Some(PinState::NotSet));
    }

    #[test]
    fn a_pin_file_restored_from_a_copy_gives_no_try_back() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&pass(), &Pin::new("482916".into())).expect("set");
        let copy = std::fs::read(quick.file()).expect("pin file");
        for _ in 0..2 {
            let _ = quick.open(&Pin::new("111111".into()));
        }
        // Put back as it was before the wrong tries: the keystore still
        // counts them.
        std::fs::write(quick.file(), &copy).expect("restored");
        assert_eq!(
            quick.state().ok(),
            Some(PinState::Set {
                tries_left: TRIES - 2
            })
        );
        for _ in 0..TRIES - 3 {
            let _ = quick.open(&Pin::new("111111".into()));
        }
        let last = quick.open(&Pin::new("111111".into()));
        assert_eq!(last.err().map(|e| e.code()), Some("pin_exhausted"));
        assert_eq!(keystore.len(), 0);
    }

    #[test]
    fn a_keystore_that_does_not_answer_leaves_the_passphrase_and_changes_nothing() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&pass(), &Pin::new("482916".into())).expect("set");
        keystore.refuse(true);
        let refused = quick.open(&Pin::new("482916".into()));
        assert_eq!(refused.err().map(|e| e.code()), Some("no_keystore"));
        keystore.refuse(false);
        assert_eq!(
            quick.state().ok(),
            Some(PinState::Set { tries_left: TRIES })
        );
        assert!(quick.open(&Pin::new("482916".into())).is_ok());
    }

    #[test]
    fn a_replaced_store_drops_the_pin_set_for_the_old_one() {
        let (_dir, path) = tablet();
        let keystore = InMemoryKeystore::default();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&pass(), &Pin::new("482916".into())).expect("set");
        Store::remove(&path).expect("removed");
        drop(Store::create(&path, &pass(), "Dunkerque").expect("created again"));
        let stale = quick.open(&Pin::new("482916".into()));
        assert_eq!(stale.err().map(|e| e.code()), Some("keystore_lost"));
        assert_eq!(quick.state().ok(), Some(PinState::NotSet));
    }
}
