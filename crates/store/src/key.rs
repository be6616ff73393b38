//! The passphrase, the key derived from it, and opening the encrypted file.
//!
//! The key is Argon2id(passphrase, salt), handed to SQLCipher as a raw key so
//! that SQLCipher does not run its own PBKDF2 on top. The salt is SQLCipher's
//! own: the first 16 bytes of the database file, random per file and stored
//! in clear by design. So the file is self-contained and nothing but the
//! passphrase is needed to open it.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rusqlite::Connection;
use secrecy::{ExposeSecret, SecretString};
use zeroize::{Zeroize, Zeroizing};

use crate::error::StoreError;

/// The antenna passphrase. Not `Clone`, not `Serialize`; `Debug` prints
/// `****`; zeroised on drop.
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Passphrases shorter than this are refused when a store is created.
    pub const MIN_CHARS: usize = 8;

    pub fn new(s: String) -> Self {
        Self(SecretString::from(s))
    }

    /// Refuses it for a new store when it is short, or guessable: zxcvbn
    /// (a word, a name, a date, a keyboard row, and their variants)
    /// estimates fewer than 10^10 guesses, score 3, which Argon2id's 64 MiB
    /// per guess still makes months of work for whoever holds a seized
    /// tablet. A length alone let "calais2026" through.
    pub fn check_strength(&self) -> Result<(), StoreError> {
        let secret = self.0.expose_secret();
        if secret.chars().count() < Self::MIN_CHARS {
            return Err(StoreError::WeakPassphrase {
                min: Self::MIN_CHARS,
            });
        }
        let estimate = zxcvbn::zxcvbn(secret, &["maraude", "antenne", "antenna"]);
        if estimate.score() < zxcvbn::Score::Three {
            let why = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            return Err(StoreError::GuessablePassphrase { why });
        }
        Ok(())
    }

    /// The raw passphrase. Only the key derivation should call this.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(****)")
    }
}

/// Argon2id cost. Part of the file format: a store created with one cost
/// cannot be opened with another. Chosen so that opening a store takes a
/// fraction of a second on a tablet while each guess costs an attacker
/// 64 MiB of memory.
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
const ARGON2_ITERATIONS: u32 = 3;
const ARGON2_LANES: u32 = 1;
const SALT_LEN: usize = 16;

fn derive_key(
    passphrase: &Passphrase,
    salt: &[u8; SALT_LEN],
) -> Result<Box<Zeroizing<[u8; 32]>>, StoreError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, Some(32))
        .map_err(|e| StoreError::Crypto(e.to_string()))?;
    // On the heap, in one place: a key returned by value is copied from
    // frame to frame, and the copies stay on the stack after the lock.
    let mut key = Box::new(Zeroizing::new([0u8; 32]));
    let hashed = Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
        passphrase.expose_secret().as_bytes(),
        salt,
        key.as_mut().as_mut(),
    );
    wipe_stack();
    hashed.map_err(|e| StoreError::Crypto(e.to_string()))?;
    Ok(key)
}

/// Argon2's last steps leave the key's bytes in their stack frames, below
/// the caller's, where a memory image of the locked app would find them
/// (`tests/store/locked_memory.rs` did): overwritten here, at once. For
/// any key work done in functions the caller called before (the PIN's
/// sealing, `maraude_device::quick_unlock`).
#[inline(never)]
pub fn wipe_stack() {
    let mut scratch = [0u8; 64 * 1024];
    scratch.zeroize();
    std::hint::black_box(&scratch);
}

/// The page key of one store file, derived from the passphrase or given
/// back by a quick unlock (`maraude_device::quick_unlock`, which keeps it
/// wrapped under a PIN), or, for a base server's cache of an antenna,
/// derived from the antenna's data key. Not `Clone`; `Debug` prints
/// `****`; zeroised on drop.
pub struct StoreKey(Box<Zeroizing<[u8; 32]>>);

impl StoreKey {
    /// The key of the existing store at `path`: Argon2id of the passphrase
    /// with the file's salt. It is checked only when a store is opened
    /// with it.
    pub fn derive(path: &Path, passphrase: &Passphrase) -> Result<Self, StoreError> {
        Ok(Self(derive_key(passphrase, &read_salt(path)?)?))
    }

    /// A key given back whole (32 bytes), copied straight to its one
    /// place on the heap; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut key = Box::new(Zeroizing::new([0u8; 32]));
        if bytes.len() != key.len() {
            return None;
        }
        key.copy_from_slice(bytes);
        Some(Self(key))
    }

    /// The raw key. Only the key's wrapping should call this.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(****)")
    }
}

/// What opens a store: the passphrase, or the key itself.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Secret<'a> {
    Passphrase(&'a Passphrase),
    Key(&'a StoreKey),
}

impl<'a> From<&'a Passphrase> for Secret<'a> {
    fn from(p: &'a Passphrase) -> Self {
        Secret::Passphrase(p)
    }
}

impl<'a> From<&'a StoreKey> for Secret<'a> {
    fn from(k: &'a StoreKey) -> Self {
        Secret::Key(k)
    }
}

/// Key a fresh connection. `salt` is the file's (existing store) or a new
/// random one (new store).
fn apply_key(
    conn: &Connection,
    secret: Secret<'_>,
    salt: &[u8; SALT_LEN],
) -> Result<(), StoreError> {
    let derived;
    let key: &[u8; 32] = match secret {
        Secret::Passphrase(passphrase) => {
            derived = derive_key(passphrase, salt)?;
            &derived
        }
        Secret::Key(key) => key.expose_secret(),
    };
    let mut hex = Zeroizing::new(String::with_capacity(2 * (32 + SALT_LEN)));
    for b in key.iter().chain(salt.iter()) {
        hex.push_str(&format!("{b:02x}"));
    }
    let pragma = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", hex.as_str()));
    conn.execute_batch(&pragma)?;
    Ok(())
}

/// Whether SQLCipher wipes every allocation of this process before it
/// frees it (`cipher_memory_security`; built without the `mlock` it would
/// add, see `.cargo/config.toml`). On
/// unless the process said otherwise before its first store opened:
/// SQLCipher's setting is the whole process's, and once on stays on.
static WIPE_FREED_MEMORY: AtomicBool = AtomicBool::new(true);

/// Let SQLCipher free this process's memory without wiping it, from the
/// next store opened on. For the base server only: the documents it serves
/// are in its memory, in the clear, for as long as it serves them (samod
/// holds them, in memory no one wipes), so wiping SQLite's copies of
/// their pages bought nothing but a sixth of its CPU when 500 tablets
/// synced at once. SQLCipher keeps the keys themselves in a private heap
/// it wipes either way. A tablet keeps the wiping: a store there closes
/// when the app locks, and what it read must not outlive it.
pub fn leave_freed_memory_unwiped() {
    WIPE_FREED_MEMORY.store(false, Ordering::Relaxed);
}

/// Prepared statements kept per connection: more than the store has.
const STATEMENTS: usize = 256;

/// Open (or create) the encrypted database at `path`.
pub(crate) fn open_encrypted<'a>(
    path: &Path,
    secret: impl Into<Secret<'a>>,
    create: bool,
) -> Result<Connection, StoreError> {
    let secret = secret.into();
    let exists = path.exists()
        && std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
    let salt = match (exists, create, secret) {
        (true, true, _) => return Err(StoreError::AlreadyExists(path.display().to_string())),
        (false, false, _) => return Err(StoreError::NotFound(path.display().to_string())),
        (true, false, _) => read_salt(path)?,
        (false, true, secret) => {
            if let Secret::Passphrase(passphrase) = secret {
                passphrase.check_strength()?;
            }
            // With a key given whole (`Store::create_empty_with_key`), the
            // salt only salts SQLCipher's page MACs.
            let mut salt = [0u8; SALT_LEN];
            rand::rng().fill_bytes(&mut salt);
            salt
        }
    };
    let conn = Connection::open(path)?;
    // The store has about a hundred cached statements; rusqlite keeps 16,
    // and a sync that went through more parsed its SQL again each time
    // (a tenth of a crowded server's CPU).
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    // SQLCipher would otherwise print its own errors (a wrong key) on stderr.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    // Every allocation SQLCipher frees is wiped first: what the store read
    // does not outlive the lock in a memory image of the process (see
    // `leave_freed_memory_unwiped` for the server).
    if WIPE_FREED_MEMORY.load(Ordering::Relaxed) {
        conn.execute_batch("PRAGMA cipher_memory_security = ON;")?;
    }
    apply_key(&conn, secret, &salt)?;
    // The first read decrypts page 1: this is where a wrong passphrase shows.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(StoreError::WrongPassphrase(path.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(conn)
}

/// The raw page key of an existing store file. Not used by the store: the
/// erasure tests decrypt every page of a file with it, free pages and the
/// WAL included, to check that erased bytes are gone, as someone holding
/// the passphrase would look for them.
#[doc(hidden)]
pub fn page_key(path: &Path, passphrase: &Passphrase) -> Result<Zeroizing<[u8; 32]>, StoreError> {
    Ok(Zeroizing::new(**derive_key(passphrase, &read_salt(path)?)?))
}

fn read_salt(path: &Path) -> Result<[u8; SALT_LEN], StoreError> {
    let mut salt = [0u8; SALT_LEN];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|e| StoreError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
    if &salt == b"SQLite format 3\0" {
        return Err(StoreError::NotEncrypted(path.display().to_string()));
    }
    Ok(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_never_shows_in_debug_output() {
        let p = Passphrase::new("correct horse battery".into());
        assert_eq!(format!("{p:?}"), "Passphrase(****)");
    }

    /// A tablet's store has SQLCipher wipe what it frees (only the base
    /// server, in its own process, says otherwise).
    #[test]
    fn a_store_has_what_it_frees_wiped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let pass = Passphrase::new("correct horse battery".into());
        drop(crate::Store::create(&path, &pass, "Calais").expect("created"));
        let conn = open_encrypted(&path, &pass, false).expect("opened");
        let on: String = conn
            .query_row("PRAGMA cipher_memory_security", [], |r| r.get(0))
            .expect("the setting");
        assert_eq!(on, "1");
    }

    #[test]
    fn the_derived_key_opens_the_store_and_another_key_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let pass = Passphrase::new("correct horse battery".into());
        let antenna = crate::Store::create(&path, &pass, "Calais")
            .and_then(|s| s.antenna())
            .expect("created");
        let key = StoreKey::derive(&path, &pass).expect("derived");
        assert_eq!(format!("{key:?}"), "StoreKey(****)");
        let opened = crate::Store::open_with_key(&path, &key).expect("opened with the key");
        assert_eq!(opened.antenna().map(|a| a.id).ok(), Some(antenna.id));
        drop(opened);

        let mut other = *key.expose_secret();
        other[0] ^= 1;
        let other = StoreKey::from_slice(&other).expect("32 bytes");
        let refused = crate::Store::open_with_key(&path, &other);
        assert!(
            matches!(refused, Err(StoreError::WrongPassphrase(_))),
            "{refused:?}"
        );
    }
}
