//! The app's one piece of state: the store while the app is unlocked.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use maraude_core::antenna::Antenna;
use maraude_store::{Passphrase, Store, StoreError};

use crate::error::AppError;

/// The device's store when unlocked, nothing when locked. Commands run one
/// at a time on it (a store is one SQLite connection).
#[derive(Debug, Default)]
pub struct OpenStore(Mutex<Option<Store>>);

impl OpenStore {
    fn slot(&self) -> Result<MutexGuard<'_, Option<Store>>, AppError> {
        self.0.lock().map_err(|_| AppError::poisoned())
    }

    pub fn is_unlocked(&self) -> Result<bool, AppError> {
        Ok(self.slot()?.is_some())
    }

    /// Opens the store at `path`; a wrong passphrase leaves the app locked.
    pub fn unlock(&self, path: &Path, passphrase: Passphrase) -> Result<Antenna, AppError> {
        if !path.exists() {
            return Err(AppError::no_store());
        }
        let mut store = Store::open(path, &passphrase)?;
        // Cases closed for longer than the antenna's retention period go
        // now, before anything is shown, even if this tablet never syncs.
        store.apply_retention(chrono::Utc::now())?;
        self.hold(store)
    }

    /// Creates the device's store for a new antenna, and stays unlocked.
    pub fn create(
        &self,
        path: &Path,
        passphrase: Passphrase,
        antenna: &str,
    ) -> Result<Antenna, AppError> {
        prepare(path)?;
        let store = Store::create(path, &passphrase, antenna)?;
        self.hold(store)
    }

    /// Creates the device's store holding a demo season, and stays unlocked.
    pub fn create_demo(&self, path: &Path, passphrase: Passphrase) -> Result<Antenna, AppError> {
        prepare(path)?;
        let store = crate::demo::create(path, &passphrase)?;
        self.hold(store)
    }

    fn hold(&self, store: Store) -> Result<Antenna, AppError> {
        let antenna = store.antenna()?;
        *self.slot()? = Some(store);
        Ok(antenna)
    }

    /// Drops the store, and with it the key: the next command needs the
    /// passphrase again.
    pub fn lock(&self) -> Result<(), AppError> {
        *self.slot()? = None;
        Ok(())
    }

    /// Runs `f` on the unlocked store.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, AppError> {
        let mut slot = self.slot()?;
        let store = slot.as_mut().ok_or_else(AppError::locked)?;
        Ok(f(store)?)
    }
}

/// A new store goes in a directory that may not exist yet (first run), and
/// never over an existing store.
fn prepare(path: &Path) -> Result<(), AppError> {
    if path.exists() {
        return Err(AppError::store_exists());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| AppError::io(&format!("cannot create {}", dir.display()), &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> Passphrase {
        Passphrase::new("correct horse battery".into())
    }

    #[test]
    fn a_first_run_creates_the_antenna_then_locking_and_unlocking_reopens_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app-data/antenna.maraude");
        let open = OpenStore::default();
        assert_eq!(
            open.unlock(&path, pass()).map(|_| ()),
            Err(AppError::no_store())
        );

        let created = open.create(&path, pass(), "Calais").expect("created");
        assert!(open.is_unlocked().expect("state"));
        open.lock().expect("locked");
        assert_eq!(
            open.with(|s| s.antenna()).map(|_| ()),
            Err(AppError::locked())
        );

        let wrong = open.unlock(&path, Passphrase::new("not the passphrase".into()));
        assert_eq!(
            wrong.map(|_| ()).map_err(|e| e.code),
            Err("wrong_passphrase")
        );
        assert!(!open.is_unlocked().expect("state"));

        let reopened = open.unlock(&path, pass()).expect("unlocked");
        assert_eq!(reopened.id, created.id);
    }

    #[test]
    fn a_second_antenna_never_overwrites_the_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let open = OpenStore::default();
        open.create(&path, pass(), "Calais").expect("created");
        let again = open.create(&path, pass(), "Grande-Synthe");
        assert_eq!(again.map(|_| ()), Err(AppError::store_exists()));
    }
}
