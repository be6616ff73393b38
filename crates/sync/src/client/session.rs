//! One sync session: a samod repo over this store, dialled to the other
//! side, sharing only the documents the plan chose, each brought into sync
//! both ways; a cut connection is dialled again and the documents not yet
//! in sync are taken up where they were.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use automerge::ChangeHash;
use futures::{StreamExt, future};
use maraude_core::access::Role;
use maraude_core::ids::DeviceId;
use maraude_store::DocumentId;
use samod::{BackoffConfig, ConnectionId, PeerId, Repo, RepoEvent, RepoObserver, ShareConfig};

use super::plan::{OtherSide, SyncedDoc};
use super::remote::Remote;
use super::{Heads, Patience};
use crate::error::SyncError;
use crate::socket::Notices;
use crate::storage::StoreHandle;
use maraude_protocol::api;

/// Bring `wanted` into sync with the other side. Also answers the
/// protocol bytes sent and received, and what either side refused of the
/// other's writes (one line each), whatever the outcome.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    store: &StoreHandle,
    remote: &Remote,
    other: &OtherSide,
    device: DeviceId,
    wanted: BTreeSet<DocumentId>,
    (before, shared): (&Heads, Heads),
    patience: Patience,
    progress: &impl Fn(usize, usize),
) -> (Result<Synced, SyncError>, (u64, u64), Vec<String>) {
    let traffic = Arc::new(Traffic::default());
    let repo = Repo::builder(tokio::runtime::Handle::current())
        .with_storage(store.clone())
        .with_peer_id(PeerId::from_string(api::device_peer(device.as_uuid())))
        .with_share_policy(only(
            PeerId::from_string(other.peer.clone()),
            wanted.clone(),
        ))
        .with_observer(TrafficObserver(traffic.clone()))
        // Each document's sync starts from the heads both sides recorded
        // at the last sync (`Store::mark_shared`; the other side takes
        // them from our first message): its first messages cover what came
        // since, not the whole history (vendor/PATCHES.md).
        .with_shared_heads(move |doc, _peer| shared.get(doc).cloned().unwrap_or_default())
        .load()
        .await;
    // What a teammate writes is checked here as its server checks ours.
    let door = other.role.map(|role| (store.clone(), role));
    let notices = Notices::default();
    let outcome = sync_documents(
        &repo,
        store,
        remote,
        (&other.peer, door),
        &notices,
        wanted,
        before,
        patience,
        progress,
    )
    .await;
    repo.stop().await;
    let refusals = notices
        .all()
        .into_iter()
        .map(|n| format!("{} ({})", n.message, n.code))
        .chain(notices.refused_here().into_iter().map(|n| {
            format!(
                "refused here, from the teammate: {} ({})",
                n.message, n.code
            )
        }))
        .collect();
    let bytes = (
        traffic.sent.load(Ordering::Relaxed),
        traffic.received.load(Ordering::Relaxed),
    );
    (outcome, bytes, refusals)
}

pub(super) struct Synced {
    pub docs: Vec<SyncedDoc>,
    pub refused: usize,
    pub reconnections: u32,
}

#[allow(clippy::too_many_arguments)]
async fn sync_documents(
    repo: &Repo,
    store: &StoreHandle,
    remote: &Remote,
    (peer, door): (&str, Option<(StoreHandle, Role)>),
    notices: &Notices,
    wanted: BTreeSet<DocumentId>,
    before: &BTreeMap<DocumentId, Vec<ChangeHash>>,
    patience: Patience,
    progress: &impl Fn(usize, usize),
) -> Result<Synced, SyncError> {
    let dialer =
        Arc::new(remote.dialer(PeerId::from_string(peer.to_string()), door, notices.clone())?);
    let backoff = BackoffConfig {
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
        max_retries: Some(8),
    };
    let connection = repo.dial(backoff, dialer).map_err(|_| SyncError::Stopped)?;
    let total = wanted.len();
    let mut remaining: Vec<DocumentId> = wanted.into_iter().collect();
    let mut done = Synced {
        docs: Vec::new(),
        refused: 0,
        reconnections: 0,
    };
    for round in 0..patience.rounds {
        let established = tokio::time::timeout(patience.connect, connection.established()).await;
        match established {
            Err(_) => return Err(remote.unreachable()),
            Ok(Err(samod::DialerFailed::PermanentFailure(e))) => return Err((*e).clone()),
            Ok(Err(samod::DialerFailed::MaxRetriesReached)) => return Err(remote.unreachable()),
            Ok(Ok(_)) => {}
        }
        let Some(conn) = connection.connection_id() else {
            continue;
        };
        if round > 0 {
            done.reconnections += 1;
        }
        let lost = {
            let connection = &connection;
            move || async move {
                while connection.connection_id() == Some(conn) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let this_round = std::mem::take(&mut remaining);
        let mut results = futures::stream::iter(this_round.into_iter().map(|doc| {
            let lost = lost();
            async move {
                let known = before.get(&doc).cloned().unwrap_or_default();
                let attempt = tokio::time::timeout(
                    patience.document,
                    sync_one(repo, store, notices, doc.clone(), known, conn),
                );
                tokio::select! {
                    r = attempt => (doc, r.ok()),
                    _ = lost => (doc, None),
                }
            }
        }))
        .buffer_unordered(64);
        while let Some((doc, result)) = results.next().await {
            match result {
                Some(Ok(Some(synced))) => {
                    done.docs.push(synced);
                    progress(done.docs.len() + done.refused, total);
                }
                Some(Ok(None)) => {
                    done.refused += 1;
                    progress(done.docs.len() + done.refused, total);
                }
                Some(Err(e)) => return Err(e),
                None => remaining.push(doc),
            }
        }
        drop(results);
        if remaining.is_empty() {
            break;
        }
        if let Some(notice) = notices.closing() {
            connection.close();
            return Err(SyncError::Refused {
                status: 403,
                code: notice.code,
                message: notice.message,
            });
        }
    }
    connection.close();
    if !remaining.is_empty() {
        return Err(SyncError::Incomplete {
            synced: done.docs.len(),
            left: remaining.len(),
        });
    }
    Ok(done)
}

/// Bring one document into sync both ways over `conn`; `None` when the
/// server has it not, or not for this device, or when it is a case erased
/// meanwhile (the server refuses an erased case, and the antenna
/// document's tombstone, arriving in the same sync, erases it here).
async fn sync_one(
    repo: &Repo,
    store: &StoreHandle,
    notices: &Notices,
    doc: DocumentId,
    before: Vec<ChangeHash>,
    conn: ConnectionId,
) -> Result<Option<SyncedDoc>, SyncError> {
    let Some(handle) = repo
        .find(doc.clone())
        .await
        .map_err(|_| SyncError::Stopped)?
    else {
        return Ok(None);
    };
    let both_ways = future::join(
        handle.they_have_our_changes(conn),
        handle.we_have_their_changes(conn),
    );
    let id = doc.to_string();
    tokio::select! {
        _ = both_ways => {}
        _ = erased_here(store, doc.clone()) => return Ok(None),
        // The other side refused this device's changes to it: they stay
        // here, and the rest of the sync goes on.
        _ = notices.refused(&id) => return Ok(None),
    }
    let (heads, received) =
        handle.with_document(|d| (d.get_heads(), d.get_changes_meta(&before).len()));
    Ok(Some(SyncedDoc {
        id: doc,
        heads,
        received,
    }))
}

/// Resolves once `doc` is an erased case in this store.
async fn erased_here(store: &StoreHandle, doc: DocumentId) {
    loop {
        let d = doc.clone();
        match store.with(move |s| s.subject(&d)).await {
            Ok(Ok(maraude_core::access::Subject::Erased)) => return,
            // Closed store: the sync is ending anyway; do not call it erased.
            Err(_) => future::pending::<()>().await,
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The device shares with the other side of this sync and nobody else,
/// and only the documents this sync is about (already filtered by what the
/// other side may receive).
fn only(other: PeerId, documents: BTreeSet<DocumentId>) -> impl samod::SharePolicy {
    move |doc: DocumentId, peer: PeerId| {
        let config = if peer == other && documents.contains(&doc) {
            ShareConfig::read_write()
        } else {
            ShareConfig::none()
        };
        futures::stream::iter([config])
    }
}

#[derive(Default)]
struct Traffic {
    sent: AtomicU64,
    received: AtomicU64,
}

struct TrafficObserver(Arc<Traffic>);

impl RepoObserver for TrafficObserver {
    fn observe(&self, event: &RepoEvent) {
        match event {
            RepoEvent::SyncMessageGenerated { bytes, .. } => {
                self.0.sent.fetch_add(*bytes as u64, Ordering::Relaxed);
            }
            RepoEvent::SyncMessageReceived { bytes, .. } => {
                self.0.received.fetch_add(*bytes as u64, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}
