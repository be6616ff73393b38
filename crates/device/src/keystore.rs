//! The system's keystore, where the quick unlock's secret is kept: the
//! Secret Service on Linux (gnome-keyring, KWallet), through
//! `keyring-core` and its D-Bus store. Android's Keystore and iOS's
//! Keychain have stores of the same family (`android-native-keyring-store`,
//! `apple-native-keyring-store`), to be wired here when the app is built
//! for them; until then a tablet without a keystore keeps the passphrase.

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use thiserror::Error;
use zeroize::Zeroizing;

/// The service the tablet's entries are filed under in the keystore.
const SERVICE: &str = "Maraude";

#[derive(Debug, Error)]
pub enum KeystoreError {
    #[error("this tablet has no keystore to keep a PIN's key in ({0}); keep the passphrase")]
    Unavailable(String),
}

/// Where a secret is kept that no file copied from the tablet holds.
pub trait Keystore: Send + Sync {
    /// The secret of `entry`, `None` when there is none (never set, or the
    /// keystore was reset).
    fn load(&self, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError>;
    fn save(&self, entry: &str, secret: &[u8]) -> Result<(), KeystoreError>;
    /// Removing an entry that is not there is no error.
    fn delete(&self, entry: &str) -> Result<(), KeystoreError>;
}

/// The operating system's keystore, or why there is none.
pub struct SystemKeystore {
    store: Result<Arc<CredentialStore>, String>,
}

impl std::fmt::Debug for SystemKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.store {
            Ok(_) => f.write_str("SystemKeystore"),
            Err(why) => write!(f, "SystemKeystore(none: {why})"),
        }
    }
}

impl SystemKeystore {
    /// Connects to the system's keystore; a tablet without one gets a
    /// keystore that says why at each call.
    pub fn open() -> Self {
        Self {
            store: system_store(),
        }
    }

    /// Whether there is a keystore at all (the settings say so before a
    /// PIN is offered).
    pub fn available(&self) -> Result<(), KeystoreError> {
        self.store
            .as_ref()
            .map(|_| ())
            .map_err(|why| KeystoreError::Unavailable(why.clone()))
    }

    fn entry(&self, entry: &str) -> Result<Entry, KeystoreError> {
        let store = self
            .store
            .as_ref()
            .map_err(|why| KeystoreError::Unavailable(why.clone()))?;
        Entry::new_in_store(store, SERVICE, entry).map_err(unavailable)
    }
}

#[cfg(target_os = "linux")]
fn system_store() -> Result<Arc<CredentialStore>, String> {
    let store = dbus_secret_service_keyring_store::Store::new()
        .map_err(|e| format!("no Secret Service: {e}"))?;
    Ok(store)
}

#[cfg(not(target_os = "linux"))]
fn system_store() -> Result<Arc<CredentialStore>, String> {
    Err("this platform's keystore is not wired yet".into())
}

fn unavailable(e: keyring_core::Error) -> KeystoreError {
    KeystoreError::Unavailable(e.to_string())
}

impl Keystore for SystemKeystore {
    fn load(&self, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
        match self.entry(entry)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn save(&self, entry: &str, secret: &[u8]) -> Result<(), KeystoreError> {
        self.entry(entry)?.set_secret(secret).map_err(unavailable)
    }

    fn delete(&self, entry: &str) -> Result<(), KeystoreError> {
        match self.entry(entry)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A fake keystore, for the PIN's rules: it can be emptied (a system
    /// reset) or made to refuse (a locked keystore) at will, which the
    /// real one cannot be in a test. The real one is tested below.
    #[derive(Default)]
    pub(crate) struct InMemoryKeystore {
        entries: Mutex<HashMap<String, Vec<u8>>>,
        refusing: AtomicBool,
    }

    impl InMemoryKeystore {
        pub(crate) fn len(&self) -> usize {
            self.entries.lock().expect("entries").len()
        }

        pub(crate) fn clear(&self) {
            self.entries.lock().expect("entries").clear();
        }

        pub(crate) fn refuse(&self, refusing: bool) {
            self.refusing.store(refusing, Ordering::SeqCst);
        }

        fn check(&self) -> Result<(), KeystoreError> {
            if self.refusing.load(Ordering::SeqCst) {
                return Err(KeystoreError::Unavailable("locked".into()));
            }
            Ok(())
        }
    }

    impl Keystore for InMemoryKeystore {
        fn load(&self, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
            self.check()?;
            let entries = self.entries.lock().expect("entries");
            Ok(entries.get(entry).cloned().map(Zeroizing::new))
        }

        fn save(&self, entry: &str, secret: &[u8]) -> Result<(), KeystoreError> {
            self.check()?;
            let mut entries = self.entries.lock().expect("entries");
            entries.insert(entry.to_owned(), secret.to_vec());
            Ok(())
        }

        fn delete(&self, entry: &str) -> Result<(), KeystoreError> {
            self.check()?;
            self.entries.lock().expect("entries").remove(entry);
            Ok(())
        }
    }

    /// The real Secret Service (gnome-keyring under a D-Bus session, which
    /// `scripts/test.sh` starts and then sets `MARAUDE_KEYSTORE_TEST`).
    /// Without it, this test has nothing to talk to and says so.
    #[test]
    fn the_secret_service_keeps_loads_and_deletes_a_secret() {
        if std::env::var_os("MARAUDE_KEYSTORE_TEST").is_none() {
            eprintln!("no Secret Service for this run (scripts/test.sh starts one)");
            return;
        }
        let keystore = SystemKeystore::open();
        keystore.available().expect("the Secret Service answers");
        let entry = format!("test-{}", uuid::Uuid::new_v4());
        assert!(keystore.load(&entry).expect("load").is_none());
        let secret = [7u8, 0, 255, 42, 1, 2, 3];
        keystore.save(&entry, &secret).expect("saved");
        let loaded = keystore.load(&entry).expect("load");
        assert_eq!(loaded.as_deref().map(|s| s.as_slice()), Some(&secret[..]));
        keystore.delete(&entry).expect("deleted");
        assert!(keystore.load(&entry).expect("load").is_none());
        keystore.delete(&entry).expect("deleting twice is no error");
    }
}
