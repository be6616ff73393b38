//! The app's one piece of state: the store while the app is unlocked.
//!
//! The unlocked store lives on its own thread behind a
//! [`maraude_sync::StoreHandle`], the same handle the sync client needs:
//! commands and a running sync reach the one store through it, one call at
//! a time, so a volunteer keeps logging while the tablet syncs.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use maraude_core::antenna::Antenna;
use maraude_store::{Passphrase, Store, StoreError};
use maraude_sync::StoreHandle;

use crate::error::AppError;

/// The device's store when unlocked, nothing when locked.
#[derive(Debug, Default)]
pub struct OpenStore(Mutex<Option<StoreHandle>>);

impl OpenStore {
    fn slot(&self) -> Result<MutexGuard<'_, Option<StoreHandle>>, AppError> {
        self.0.lock().map_err(|_| AppError::poisoned())
    }

    pub fn is_unlocked(&self) -> Result<bool, AppError> {
        Ok(self.slot()?.is_some())
    }

    /// The handle on the unlocked store (for a sync), or `locked`.
    pub fn handle(&self) -> Result<StoreHandle, AppError> {
        self.slot()?.clone().ok_or_else(AppError::locked)
    }

    /// Opens the store at `path`; a wrong passphrase leaves the app locked.
    /// The answer is `None` for a device that joined an antenna and has
    /// not received it yet (see `crate::server::first_sync`).
    pub fn unlock(&self, path: &Path, passphrase: Passphrase) -> Result<Option<Antenna>, AppError> {
        if !path.exists() {
            return Err(AppError::no_store());
        }
        self.unlock_store(Store::open(path, &passphrase)?)
    }

    /// Keeps a store just opened (with the passphrase, or a PIN's key).
    pub fn unlock_store(&self, mut store: Store) -> Result<Option<Antenna>, AppError> {
        // Cases closed for longer than the antenna's retention period go
        // now, before anything is shown, even if this tablet never syncs.
        store.apply_retention(chrono::Utc::now())?;
        let antenna = antenna_if_any(&store)?;
        self.hold(store)?;
        Ok(antenna)
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
        let antenna = store.antenna()?;
        self.hold(store)?;
        Ok(antenna)
    }

    /// Creates the device's store holding a demo season, and stays unlocked.
    /// (The device API refuses an existing store and makes the folder.)
    pub fn create_demo(&self, path: &Path, passphrase: Passphrase) -> Result<Antenna, AppError> {
        let store = crate::demo::create(path, &passphrase)?;
        let antenna = store.antenna()?;
        self.hold(store)?;
        Ok(antenna)
    }

    /// Keeps `store` open (a store made elsewhere, e.g. by enrolment).
    pub fn hold(&self, store: Store) -> Result<(), AppError> {
        // The store's thread ends, and drops the store, once the last
        // handle on it is dropped: here at `lock`, or when a sync still
        // running ends.
        let (handle, _thread) = StoreHandle::spawn(store);
        *self.slot()? = Some(handle);
        Ok(())
    }

    /// Drops the store, and with it the key: the next command needs the
    /// passphrase again. A sync still running holds its own handle until
    /// it is stopped (`crate::server::SyncState::stop`).
    pub fn lock(&self) -> Result<(), AppError> {
        *self.slot()? = None;
        Ok(())
    }

    /// Runs `f` on the unlocked store, on its thread.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, AppError> {
        let handle = self.handle()?;
        // The store's thread ends only when every handle is dropped, or
        // after a panic in a call: say so as such.
        Ok(handle.with(f).await.map_err(|_| AppError::poisoned())??)
    }
}

/// The antenna a store holds; `None` for a device that joined an antenna
/// and has received no document of it yet.
pub fn antenna_if_any(store: &Store) -> Result<Option<Antenna>, StoreError> {
    if store.documents()?.is_empty() {
        return Ok(None);
    }
    store.antenna().map(Some)
}

/// A new store goes in a directory that may not exist yet (first run), and
/// never over an existing store.
pub fn prepare(path: &Path) -> Result<(), AppError> {
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

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tauri::async_runtime::block_on(f)
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
            block_on(open.with(|s| s.antenna())).map(|_| ()),
            Err(AppError::locked())
        );

        let wrong = open.unlock(&path, Passphrase::new("not the passphrase".into()));
        assert_eq!(
            wrong.map(|_| ()).map_err(|e| e.code),
            Err("wrong_passphrase")
        );
        assert!(!open.is_unlocked().expect("state"));

        let reopened = open.unlock(&path, pass()).expect("unlocked");
        assert_eq!(reopened.map(|a| a.id), Some(created.id));
        let name = block_on(open.with(|s| Ok(s.antenna()?.name))).expect("antenna");
        assert_eq!(name, "Calais");
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

    #[test]
    fn a_store_that_joined_an_antenna_has_none_until_its_first_sync() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let device = maraude_core::ids::DeviceId::new();
        let antenna =
            maraude_core::ids::AntennaId::from_uuid(*maraude_core::ids::DeviceId::new().as_uuid());
        drop(Store::create_empty(&path, &pass(), antenna, device).expect("empty store"));
        let open = OpenStore::default();
        assert_eq!(open.unlock(&path, pass()).map(|a| a.is_none()), Ok(true));
        assert!(open.is_unlocked().expect("state"));
    }
}
