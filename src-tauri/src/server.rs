//! The antenna's base server, from the tablet: enrolment with a code, the
//! sync, and what the top bar says about it. The tasks are the device
//! API's (`maraude_device`), the same as `maraude enrol` and `maraude
//! sync`; here is what the app keeps between commands (the sync running,
//! its progress, how the last one ended). A sync with a
//! teammate's tablet (`crate::teammates`) runs here too, one sync at a
//! time, but only a sync with the server is the top bar's "last sync".
//!
//! A device joins an antenna in one of two ways:
//! - a new tablet, from the first screen: the code names the antenna, so
//!   the tablet creates an empty store for it and receives the antenna's
//!   documents at its first sync (as `maraude enrol` does);
//! - a tablet that already holds the antenna, from Settings: the code must
//!   be for that same antenna.
//!
//! The credential goes from the server's answer into the encrypted store
//! and nowhere else: no status, error or log carries it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use maraude_core::access::Role;
use maraude_core::antenna::Antenna;
use maraude_core::ids::AntennaId;
use maraude_device::enrolment::{self, Joined, PlainHttp, ServerAddress};
pub use maraude_device::sync::Partner;
use maraude_store::{Passphrase, ServerLink, Store};
use maraude_sync::{Patience, StoreHandle, SyncError, SyncSummary};
use serde::Serialize;

use crate::error::AppError;
use crate::open_store::{OpenStore, antenna_if_any};

/// Where this tablet syncs, for Settings: never the credential.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct Enrolment {
    pub server: String,
    /// The device's role on the server.
    pub role: Role,
    pub antenna: String,
}

/// How the last sync this app ran ended.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct LastSync {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: SyncOutcome,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SyncOutcome {
    Synced { summary: SyncSummary },
    Failed { error: AppError },
}

/// A sync under way: documents in sync out of those to sync.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// What the top bar and Settings show.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct ServerStatus {
    /// `None` until the tablet is enrolled.
    pub enrolment: Option<Enrolment>,
    /// Documents changed here since the server last had them.
    pub to_send: usize,
    pub syncing: Option<Progress>,
    /// The last sync with the server: this run's, or else the last one
    /// that went through as the store recorded it (after a restart).
    pub last_sync: Option<LastSync>,
}

#[derive(Debug, Default)]
struct Counter {
    done: AtomicUsize,
    total: AtomicUsize,
}

#[derive(Debug, Default)]
struct Syncs {
    running: Option<Running>,
    last: Option<LastSync>,
}

#[derive(Debug)]
struct Running {
    counter: Arc<Counter>,
    abort: tokio::task::AbortHandle,
}

/// The app's syncs: the one running, if any, and how the last one with
/// the server ended.
/// Kept while the app runs, locked or not: it holds times and counts,
/// nothing of the antenna's records.
#[derive(Debug, Default)]
pub struct SyncState(Mutex<Syncs>);

impl SyncState {
    fn inner(&self) -> Result<MutexGuard<'_, Syncs>, AppError> {
        self.0.lock().map_err(|_| AppError::poisoned())
    }

    /// Stops a sync under way (the tablet is being locked): its handle on
    /// the store goes with it, so the store and its key are dropped. What
    /// is already in sync stays recorded.
    pub fn stop(&self) -> Result<(), AppError> {
        if let Some(running) = self.inner()?.running.take() {
            running.abort.abort();
        }
        Ok(())
    }

    fn progress(&self) -> Result<Option<Progress>, AppError> {
        Ok(self.inner()?.running.as_ref().map(|r| Progress {
            done: r.counter.done.load(Ordering::Relaxed),
            total: r.counter.total.load(Ordering::Relaxed),
        }))
    }

    pub fn last(&self) -> Result<Option<LastSync>, AppError> {
        Ok(self.inner()?.last.clone())
    }

    /// Syncs the store behind `handle` with `partner`, one sync at a
    /// time. How a sync with the server ended is kept, here and (if it
    /// went through) in the store. The sync runs as its own task, so that
    /// [`SyncState::stop`] can end it.
    pub async fn run(&self, handle: StoreHandle, partner: Partner) -> Result<LastSync, AppError> {
        let counter = Arc::new(Counter::default());
        let task = {
            let mut syncs = self.inner()?;
            if syncs.running.is_some() {
                return Err(AppError::already_syncing());
            }
            let shown = counter.clone();
            let handle = handle.clone();
            let partner = partner.clone();
            let task = tauri::async_runtime::spawn(async move {
                let progress = |done, total| {
                    shown.done.store(done, Ordering::Relaxed);
                    shown.total.store(total, Ordering::Relaxed);
                };
                maraude_device::sync::sync(&handle, &partner, Patience::default(), progress).await
            });
            syncs.running = Some(Running {
                counter: counter.clone(),
                abort: task.inner().abort_handle(),
            });
            task
        };
        // Aborted (the tablet was locked) or panicked: stopped either way.
        let result = task
            .await
            .unwrap_or(Err(SyncError::Stopped.into()))
            .map_err(AppError::from);
        let last = LastSync {
            at: Utc::now(),
            outcome: outcome(result),
        };
        let mut syncs = self.inner()?;
        if syncs
            .running
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(&r.counter, &counter))
        {
            syncs.running = None;
        }
        if partner == Partner::Server {
            syncs.last = Some(last.clone());
        }
        Ok(last)
    }
}

/// The last sync with the server that the store recorded.
fn recorded(store: &Store) -> Result<Option<LastSync>, maraude_store::StoreError> {
    Ok(
        maraude_device::sync::last_sync(store)?.map(|(at, summary)| LastSync {
            at,
            outcome: SyncOutcome::Synced { summary },
        }),
    )
}

/// A sync's result, as recorded and shown.
fn outcome(result: Result<SyncSummary, AppError>) -> SyncOutcome {
    match result {
        Ok(summary) => SyncOutcome::Synced { summary },
        Err(error) => SyncOutcome::Failed { error },
    }
}

/// The tablet's enrolment and sync state.
pub async fn status(open: &OpenStore, syncs: &SyncState) -> Result<ServerStatus, AppError> {
    let (enrolment, to_send, recorded) = open
        .with(|s| {
            let Some(link) = s.server_link()? else {
                return Ok((None, 0, None));
            };
            let to_send = s.changed_for(&server_peer(s.antenna_id()))?.len();
            let antenna = antenna_if_any(s)?.map(|a| a.name).unwrap_or_default();
            Ok((Some(linked(&link, antenna)), to_send, recorded(s)?))
        })
        .await?;
    Ok(ServerStatus {
        enrolment,
        to_send,
        syncing: syncs.progress()?,
        last_sync: syncs.last()?.or(recorded),
    })
}

/// The peer id the server presents for this antenna, under which the store
/// records what the server has.
fn server_peer(antenna: AntennaId) -> String {
    maraude_protocol::api::server_peer(antenna.as_uuid())
}

fn enrolment(joined: Joined) -> Enrolment {
    Enrolment {
        server: joined.server,
        role: joined.role,
        antenna: joined.antenna_name,
    }
}

fn linked(link: &ServerLink, antenna: String) -> Enrolment {
    Enrolment {
        server: link.url.clone(),
        // Written by this app from the server's answer; a role it cannot
        // read is shown as the least one (the server decides anyway).
        role: link.role.parse().unwrap_or(Role::Volunteer),
        antenna,
    }
}

/// Settings: enrol a tablet that already holds the antenna, with a code
/// for that same antenna.
pub async fn enrol(
    open: &OpenStore,
    server: &ServerAddress,
    code: &str,
    name: &str,
) -> Result<Enrolment, AppError> {
    Ok(enrolment(
        enrolment::enrol(&open.handle()?, server, code, name).await?,
    ))
}

/// Settings, on the tablet that created the antenna: register the antenna
/// on the association's server with the token its administrator gave;
/// this tablet becomes the antenna's coordinator there.
pub async fn register(
    open: &OpenStore,
    server: &ServerAddress,
    token: &str,
    name: &str,
) -> Result<Enrolment, AppError> {
    Ok(enrolment(
        enrolment::register(&open.handle()?, server, token, name).await?,
    ))
}

/// The address a volunteer typed, and whether they said the network is
/// trusted for plain HTTP (see [`ServerAddress`]).
pub fn address(typed: &str, plain_http: bool) -> Result<ServerAddress, AppError> {
    Ok(ServerAddress::parse(
        typed,
        PlainHttp::if_trusted(plain_http),
    )?)
}

/// First screen: a new tablet joins the antenna the code was made for. Its
/// store is created empty and linked; the antenna arrives at the first
/// sync ([`first_sync`]).
pub async fn join(
    open: &OpenStore,
    path: &Path,
    passphrase: Passphrase,
    server: &ServerAddress,
    code: &str,
    name: &str,
) -> Result<Enrolment, AppError> {
    let (store, joined) = enrolment::join(path, &passphrase, server, code, name).await?;
    open.hold(store)?;
    Ok(enrolment(joined))
}

/// The first sync of a tablet that joined an antenna: it brings the
/// antenna, which the app then opens.
pub async fn first_sync(open: &OpenStore, syncs: &SyncState) -> Result<Antenna, AppError> {
    if let Some(antenna) = open.with(|s| antenna_if_any(s)).await? {
        return Ok(antenna);
    }
    let last = syncs.run(open.handle()?, Partner::Server).await?;
    if let SyncOutcome::Failed { error } = last.outcome {
        return Err(error);
    }
    open.with(|s| antenna_if_any(s))
        .await?
        .ok_or_else(AppError::antenna_not_received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::async_runtime::block_on;

    fn pass() -> Passphrase {
        Passphrase::new("correct horse battery".into())
    }

    fn unlocked(dir: &Path) -> OpenStore {
        let open = OpenStore::default();
        open.create(&dir.join("antenna.maraude"), pass(), "Calais")
            .expect("created");
        open
    }

    /// Nothing listens on port 9 of loopback (discard): refused at once.
    const NOBODY: &str = "http://127.0.0.1:9";

    #[test]
    fn a_tablet_not_enrolled_says_so_and_its_sync_fails_with_where_to_enrol() {
        let dir = tempfile::tempdir().expect("temp dir");
        let open = unlocked(dir.path());
        let syncs = SyncState::default();
        let before = block_on(status(&open, &syncs)).expect("status");
        assert_eq!(before.enrolment, None);
        assert_eq!(before.last_sync, None);

        let last =
            block_on(syncs.run(open.handle().expect("unlocked"), Partner::Server)).expect("ran");
        let SyncOutcome::Failed { error } = last.outcome else {
            panic!("a tablet without a server cannot sync");
        };
        assert_eq!(error.code, "not_enrolled");
        let after = block_on(status(&open, &syncs)).expect("status");
        assert_eq!(after.syncing, None);
        assert_eq!(
            after.last_sync.map(|l| l.outcome),
            Some(SyncOutcome::Failed { error })
        );
    }

    #[test]
    fn joining_says_in_the_apps_words_why_it_stopped_before_spending_the_code() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let nobody = address(NOBODY, false).expect("loopback");
        let join = |path: &Path, pass: Passphrase| {
            block_on(join(&OpenStore::default(), path, pass, &nobody, "K3MZ", ""))
                .map_err(|e| e.code)
        };
        assert_eq!(
            join(&path, Passphrase::new("short".into())),
            Err("weak_passphrase")
        );
        let _open = unlocked(dir.path());
        assert_eq!(join(&path, pass()), Err("store_exists"));
        let other = dir.path().join("other.maraude");
        assert_eq!(join(&other, pass()), Err("server_unreachable"));
        assert!(!other.exists());
        // Plain HTTP to another machine, not said to be trusted.
        assert_eq!(
            address("http://192.168.1.10:8470", false).map_err(|e| e.code),
            Err("plain_http")
        );
    }
}
