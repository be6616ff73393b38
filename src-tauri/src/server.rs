//! The antenna's base server, from the tablet: enrolment with a code, the
//! sync, and what the top bar says about it. The calls are the sync
//! crate's (`maraude_sync::enrol::join`, `maraude_sync::sync_with_server`),
//! the same as `maraude enrol` and `maraude sync`. A sync with a
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

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use maraude_core::antenna::Antenna;
use maraude_core::ids::{AntennaId, DeviceId};
use maraude_protocol::api::Enrolled;
use maraude_store::{Passphrase, ServerLink, Store};
use maraude_sync::{Patience, StoreHandle, SyncError, SyncSummary};
use serde::Serialize;

use crate::error::AppError;
use crate::open_store::{OpenStore, antenna_if_any, prepare};

/// Where this tablet syncs, for Settings: never the credential.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Enrolment {
    pub server: String,
    /// The device's role on the server (`volunteer`, `lead`, `coordinator`).
    pub role: String,
    pub antenna: String,
}

/// How the last sync this app ran ended.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LastSync {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: SyncOutcome,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SyncOutcome {
    Synced { summary: SyncSummary },
    Failed { error: AppError },
}

/// A sync under way: documents in sync out of those to sync.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// What the top bar and Settings show.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
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

/// Whom a sync is with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partner {
    Server,
    /// A teammate's tablet serving at these addresses (one typed, or those
    /// a tablet found on the network announced), tried in turn until one
    /// answers.
    Teammate(Vec<SocketAddr>),
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
                let patience = Patience::default();
                match partner {
                    Partner::Server => {
                        maraude_sync::sync_with_server(&handle, patience, progress).await
                    }
                    Partner::Teammate(addresses) => {
                        maraude_sync::sync_with_teammate(&handle, &addresses, patience, progress)
                            .await
                    }
                }
            });
            syncs.running = Some(Running {
                counter: counter.clone(),
                abort: task.inner().abort_handle(),
            });
            task
        };
        // Aborted (the tablet was locked) or panicked: stopped either way.
        let result = task.await.unwrap_or(Err(SyncError::Stopped));
        let last = LastSync {
            at: Utc::now(),
            outcome: outcome(result),
        };
        if let (Partner::Server, SyncOutcome::Synced { summary }) = (&partner, &last.outcome) {
            record(&handle, last.at, summary).await;
        }
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

/// Keeps a sync with the server that went through in the store, so that
/// the top bar still says since when after a restart. Not kept (the
/// tablet was locked meanwhile, the disk is full): the next sync records
/// one; the sync itself is not undone for it.
async fn record(handle: &StoreHandle, at: DateTime<Utc>, summary: &SyncSummary) {
    let Ok(json) = serde_json::to_string(summary) else {
        return;
    };
    let _ = handle.with(move |s| s.record_sync(at, &json)).await;
}

/// The last sync with the server that the store recorded.
fn recorded(store: &Store) -> Result<Option<LastSync>, maraude_store::StoreError> {
    Ok(store.last_sync()?.map(|r| LastSync {
        at: r.at,
        outcome: SyncOutcome::Synced {
            // Unreadable (written by a later version?): the time is what
            // the top bar shows.
            summary: serde_json::from_str(&r.summary).unwrap_or_default(),
        },
    }))
}

/// A sync's result, as recorded and shown.
fn outcome(result: Result<SyncSummary, SyncError>) -> SyncOutcome {
    match result {
        Ok(summary) => SyncOutcome::Synced { summary },
        Err(e) => SyncOutcome::Failed {
            error: AppError::from(e),
        },
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
            Ok((Some(enrolment(&link, antenna)), to_send, recorded(s)?))
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

fn enrolment(link: &ServerLink, antenna: String) -> Enrolment {
    Enrolment {
        server: link.url.clone(),
        role: link.role.clone(),
        antenna,
    }
}

/// The tablet's name in the antenna's list of devices: the one given, or
/// "tablette" and the short device id, which Settings shows and a
/// coordinator revokes by.
fn device_name(given: &str, device: DeviceId) -> String {
    match given.trim() {
        "" => format!("tablette {}", device.short()),
        name => name.to_string(),
    }
}

/// Settings: enrol a tablet that already holds the antenna.
pub async fn enrol(
    open: &OpenStore,
    server: &str,
    code: &str,
    name: &str,
) -> Result<Enrolment, AppError> {
    let (device, antenna) = not_linked_yet(open).await?;
    let (link, enrolled) = maraude_sync::enrol::join(
        server.trim(),
        code,
        *device.as_uuid(),
        &device_name(name, device),
    )
    .await?;
    check_same_antenna(&antenna, &enrolled)?;
    let shown = enrolment(&link, antenna.name);
    open.with(move |s| s.set_server_link(&link)).await?;
    Ok(shown)
}

/// This tablet's device and antenna, if it is linked to no server yet.
async fn not_linked_yet(open: &OpenStore) -> Result<(DeviceId, Antenna), AppError> {
    let (device, antenna, linked) = open
        .with(|s| Ok((s.device(), s.antenna()?, s.server_link()?.is_some())))
        .await?;
    if linked {
        return Err(AppError::already_enrolled());
    }
    Ok((device, antenna))
}

/// Settings, on the tablet that created the antenna: register the antenna
/// on the association's server with the token its administrator gave;
/// this tablet becomes the antenna's coordinator there. The token is sent
/// once and kept nowhere.
pub async fn register(
    open: &OpenStore,
    server: &str,
    token: &str,
    name: &str,
) -> Result<Enrolment, AppError> {
    let (device, antenna) = not_linked_yet(open).await?;
    let request = maraude_protocol::api::RegisterAntenna {
        public_key: None,
        antenna: *antenna.id.as_uuid(),
        name: antenna.name.clone(),
        device: *device.as_uuid(),
        device_name: device_name(name, device),
    };
    let (link, _) = maraude_sync::enrol::register_antenna(server.trim(), token.trim(), &request)
        .await
        .map_err(|e| match e {
            SyncError::Refused { status: 403, .. } => AppError::bad_registration_token(),
            other => other.into(),
        })?;
    let shown = enrolment(&link, antenna.name);
    open.with(move |s| s.set_server_link(&link)).await?;
    Ok(shown)
}

/// The code enrols into the antenna it was made for: a tablet holding
/// another antenna must not sync with it.
fn check_same_antenna(antenna: &Antenna, enrolled: &Enrolled) -> Result<(), AppError> {
    if antenna.id.as_uuid() == &enrolled.antenna {
        Ok(())
    } else {
        Err(AppError::other_antenna(
            &enrolled.antenna_name,
            &antenna.name,
        ))
    }
}

/// First screen: a new tablet joins the antenna the code was made for. Its
/// store is created empty and linked; the antenna arrives at the first
/// sync ([`first_sync`]). The passphrase is checked before the code is
/// spent.
pub async fn join(
    open: &OpenStore,
    path: &Path,
    passphrase: Passphrase,
    server: &str,
    code: &str,
    name: &str,
) -> Result<Enrolment, AppError> {
    if !passphrase.is_strong_enough() {
        return Err(maraude_store::StoreError::WeakPassphrase {
            min: Passphrase::MIN_CHARS,
        }
        .into());
    }
    if path.exists() {
        return Err(AppError::store_exists());
    }
    let device = DeviceId::new();
    let (link, enrolled) = maraude_sync::enrol::join(
        server.trim(),
        code,
        *device.as_uuid(),
        &device_name(name, device),
    )
    .await?;
    prepare(path)?;
    let mut store = Store::create_empty(
        path,
        &passphrase,
        AntennaId::from_uuid(enrolled.antenna),
        device,
    )?;
    store.set_server_link(&link)?;
    open.hold(store)?;
    Ok(enrolment(&link, enrolled.antenna_name))
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
    fn joining_refuses_a_short_passphrase_or_an_existing_store_before_spending_the_code() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let open = OpenStore::default();
        // NOBODY would answer "cannot reach": these fail before asking.
        let short = block_on(join(
            &open,
            &path,
            Passphrase::new("short".into()),
            NOBODY,
            "K3MZ",
            "",
        ));
        assert_eq!(short.map_err(|e| e.code), Err("weak_passphrase"));
        assert!(!path.exists());
        let open = unlocked(dir.path());
        let existing = block_on(join(&open, &path, pass(), NOBODY, "K3MZ", ""));
        assert_eq!(existing, Err(AppError::store_exists()));
        let unreachable = block_on(join(
            &OpenStore::default(),
            &dir.path().join("other.maraude"),
            pass(),
            NOBODY,
            "K3MZ",
            "",
        ));
        assert_eq!(unreachable.map_err(|e| e.code), Err("server_unreachable"));
        assert!(!dir.path().join("other.maraude").exists());
    }

    #[test]
    fn a_code_for_another_antenna_is_refused_with_both_names() {
        let calais = Antenna::new("Calais").expect("antenna");
        // As the server answers it.
        let answer = |antenna: &Antenna| -> Enrolled {
            serde_json::from_value(serde_json::json!({
                "antenna": antenna.id.as_uuid(),
                "antenna_name": antenna.name,
                "role": "volunteer",
                "credential": "the-secret-credential",
                "server_peer": "server-x",
            }))
            .expect("an enrolment answer")
        };
        let synthe = Antenna::new("Grande-Synthe").expect("antenna");
        let e = check_same_antenna(&calais, &answer(&synthe)).expect_err("another antenna");
        assert_eq!(e.code, "other_antenna");
        assert!(e.message.contains("Grande-Synthe") && e.message.contains("Calais"));
        assert!(!e.message.contains("the-secret-credential"));
        assert_eq!(check_same_antenna(&calais, &answer(&calais)), Ok(()));
    }

    #[test]
    fn a_tablet_left_unnamed_is_named_by_its_device_number() {
        let device = DeviceId::new();
        assert_eq!(
            device_name("  ", device),
            format!("tablette {}", device.short())
        );
        assert_eq!(device_name(" Van 2 ", device), "Van 2");
    }
}
