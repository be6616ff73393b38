//! Teammates' tablets, in the van without the server: this tablet serving
//! them and syncing with one that serves, through the device API
//! (`maraude_device::teammates`, as `maraude serve-peer` and `maraude sync
//! --peer`); here is what the app keeps between commands. Both tablets show the
//! certificate their antenna gave them at enrolment; each receives what
//! its role may.
//!
//! While it serves, the tablet announces itself on the network (mDNS,
//! `maraude_sync::discovery`: a random name and its antenna's tag, nothing
//! else), so that a teammate finds it with one tap instead of typing its
//! address; the address stays shown for networks that drop multicast.
//!
//! Serving holds a handle on the store, as a sync does: the volunteer
//! keeps logging meanwhile, and locking the tablet stops it, so that the
//! store and its key go.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use maraude_device::teammates::{self, teammate_addresses};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::error::AppError;
use crate::open_store::OpenStore;
use crate::server::{LastSync, Partner, SyncState};

/// How long a stop waits for teammates' connections to close before it
/// cuts them.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Where teammates reach this tablet, to type on theirs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct Serving {
    pub address: String,
    /// Whether teammates can find it on the network; if not (no multicast
    /// here), they type the address.
    pub announced: bool,
}

/// A tablet of the antenna found serving on the network, until the sync's
/// handshake proves it a teammate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct Found {
    /// Its random name for this serving session, to tell two apart.
    pub name: String,
    /// Where it serves, as it would show them.
    pub addresses: Vec<String>,
}

#[derive(Debug)]
struct Running {
    shown: Serving,
    /// The name it is announced under, left out of what it finds.
    own_name: Option<String>,
    stop: oneshot::Sender<()>,
    /// Serving; withdraws the announcement when it ends.
    task: tauri::async_runtime::JoinHandle<Result<(), maraude_device::DeviceError>>,
}

/// This tablet serving its teammates, or not.
#[derive(Debug, Default)]
pub struct TeammateServer(Mutex<Option<Running>>);

impl TeammateServer {
    fn slot(&self) -> Result<MutexGuard<'_, Option<Running>>, AppError> {
        self.0.lock().map_err(|_| AppError::poisoned())
    }

    /// Where this tablet serves, if it does. A server that ended by itself
    /// (its listener failed) is forgotten.
    pub fn serving(&self) -> Result<Option<Serving>, AppError> {
        let mut slot = self.slot()?;
        if slot.as_ref().is_some_and(|r| r.task.inner().is_finished()) {
            *slot = None;
        }
        Ok(slot.as_ref().map(|r| r.shown.clone()))
    }

    /// Starts serving on port 8471 of every interface (another port if
    /// it is taken), and answers the address to show. Serving already: the
    /// same address.
    pub async fn start(&self, open: &OpenStore) -> Result<Serving, AppError> {
        if let Some(serving) = self.serving()? {
            return Ok(serving);
        }
        let device_serving = teammates::Serving::open(&open.handle()?, None, true).await?;
        if let Some(why) = &device_serving.not_announced {
            // Best effort: serving goes on without it, the address is shown.
            eprintln!("not announced on the network: {why}");
        }
        let shown = Serving {
            address: device_serving.shown.to_string(),
            announced: device_serving.announced(),
        };
        let own_name = device_serving.announced_name();
        let mut slot = self.slot()?;
        if let Some(running) = slot.as_ref() {
            // Started twice at once: keep the first.
            return Ok(running.shown.clone());
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tauri::async_runtime::spawn(device_serving.run(async move {
            let _ = stopped.await;
        }));
        *slot = Some(Running {
            shown: shown.clone(),
            own_name,
            stop,
            task,
        });
        Ok(shown)
    }

    /// Tablets of this antenna serving on the network, this one left out,
    /// heard within a few seconds.
    pub async fn find(&self, open: &OpenStore) -> Result<Vec<Found>, AppError> {
        let own = self.slot()?.as_ref().and_then(|r| r.own_name.clone());
        let found = teammates::find(&open.handle()?, own.as_deref()).await?;
        Ok(found
            .into_iter()
            .map(|c| Found {
                name: c.name,
                addresses: c.addresses.iter().map(|a| a.to_string()).collect(),
            })
            .collect())
    }

    /// Stops serving: no new teammate gets in, those syncing are let go
    /// (cut after a few seconds), and the server's handle on the store
    /// goes.
    pub async fn stop(&self) -> Result<(), AppError> {
        let Some(running) = self.slot()?.take() else {
            return Ok(());
        };
        let _ = running.stop.send(());
        let abort = running.task.inner().abort_handle();
        if tokio::time::timeout(STOP_GRACE, running.task)
            .await
            .is_err()
        {
            abort.abort();
        }
        Ok(())
    }
}

/// Syncs with the teammate's tablet serving at `typed`: what it did, or
/// how it failed, as an answer.
pub async fn sync(open: &OpenStore, syncs: &SyncState, typed: &str) -> Result<LastSync, AppError> {
    let addresses = teammate_addresses(typed).await?;
    syncs
        .run(open.handle()?, Partner::Teammate(addresses))
        .await
}

/// Syncs with a tablet [`TeammateServer::find`] found, at the first of its
/// addresses that answers.
pub async fn sync_found(
    open: &OpenStore,
    syncs: &SyncState,
    found: &Found,
) -> Result<LastSync, AppError> {
    let mut addresses = Vec::new();
    for announced in &found.addresses {
        addresses.extend(teammate_addresses(announced).await?);
    }
    syncs
        .run(open.handle()?, Partner::Teammate(addresses))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::SyncOutcome;
    use maraude_store::Passphrase;
    use tauri::async_runtime::block_on;

    #[test]
    fn a_tablet_never_synced_with_its_server_cannot_serve_nor_sync_with_teammates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let open = OpenStore::default();
        open.create(
            &dir.path().join("antenna.maraude"),
            Passphrase::new("correct horse battery".into()),
            "Calais",
        )
        .expect("created");
        let teammates = TeammateServer::default();
        let refused = block_on(teammates.start(&open)).map_err(|e| e.code);
        assert_eq!(refused, Err("no_certificate"));
        assert_eq!(teammates.serving(), Ok(None));

        let syncs = SyncState::default();
        let last = block_on(sync(&open, &syncs, "127.0.0.1:9")).expect("ran");
        let SyncOutcome::Failed { error } = last.outcome else {
            panic!("no certificate, no sync");
        };
        assert_eq!(error.code, "no_certificate");
        assert!(!error.message.contains("maraude"), "{}", error.message);
        // Not the top bar's last sync: that is the server's.
        assert_eq!(syncs.last(), Ok(None));
    }
}
