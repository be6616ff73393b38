//! One antenna served to devices: its encrypted store, its samod repo, and
//! who may sync what. The base server runs one per antenna; a tablet
//! serving its teammates runs one over its own store.
//!
//! Each antenna has its own store file and its own samod `Repo`: another
//! antenna's documents are not in this repo's storage, so no document id a
//! peer asks for can reach them. Within the antenna, [`AntennaPolicy`]
//! applies the roles (`maraude_core::access`) and cuts a revoked device
//! off.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures::StreamExt;
use maraude_core::access::{self, Role, Subject};
use maraude_core::authority::{self, Delivery};
use maraude_core::document::write_tombstones;
use maraude_core::ids::DeviceId;
use maraude_store::{DocumentId, StoreError};
use samod::{AcceptorHandle, PeerId, Repo, ShareConfig, Transport};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::door::{Door, Offences, Uploads};
use crate::socket::Notices;
use crate::{StoreHandle, SyncError};
use maraude_protocol::api;

/// Sync sockets one device may hold open at once; a newer one closes its
/// oldest. Closing rather than refusing: a tablet whose connection was cut
/// (Wi-Fi lost in the van) dials again at once, while its old socket may
/// look open here until the idle limit (`crate::serve`) ends it; refused,
/// its sync would fail for that long. Two rather than one leaves a little
/// room (a sync starting while the previous one's socket is still
/// closing) and still bounds what one stolen credential can hold.
pub const SOCKETS_PER_DEVICE: usize = 2;

/// The open sync sockets of each device, oldest first, each with the
/// switch that closes it.
#[derive(Debug, Default)]
struct Sockets {
    opened: u64,
    by_device: HashMap<Uuid, VecDeque<(u64, oneshot::Sender<()>)>>,
}

impl Sockets {
    /// Count a new socket of `device`; the oldest ones over
    /// [`SOCKETS_PER_DEVICE`] are told to close.
    fn open(&mut self, device: Uuid) -> (u64, oneshot::Receiver<()>) {
        self.opened += 1;
        let id = self.opened;
        let (close, closing) = oneshot::channel();
        let open = self.by_device.entry(device).or_default();
        open.push_back((id, close));
        while open.len() > SOCKETS_PER_DEVICE {
            if let Some((_, oldest)) = open.pop_front() {
                tracing::info!(%device, "a newer sync socket of this device: its oldest closed");
                let _ = oldest.send(());
            }
        }
        (id, closing)
    }

    fn closed(&mut self, device: Uuid, id: u64) {
        if let Some(open) = self.by_device.get_mut(&device) {
            open.retain(|(open_id, _)| *open_id != id);
            if open.is_empty() {
                self.by_device.remove(&device);
            }
        }
    }
}

/// One of a device's sync sockets, counted while it is open.
struct SocketSeat {
    sockets: Arc<Mutex<Sockets>>,
    device: Uuid,
    id: u64,
}

impl Drop for SocketSeat {
    fn drop(&mut self) {
        self.sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .closed(self.device, self.id);
    }
}

/// What the policy knows of a connected device.
#[derive(Debug, Clone)]
struct Admitted {
    role: Role,
    revoked: watch::Receiver<bool>,
}

#[derive(Debug, Default)]
struct Devices {
    admitted: HashMap<PeerId, (Role, Arc<watch::Sender<bool>>)>,
}

/// Decides, per document and device, between nothing and read-write; never
/// announces (devices ask for what changed, see `GET /v1/sync/pending`).
/// What a device writes is checked before samod sees it (`crate::door`).
#[derive(Debug, Clone)]
pub struct AntennaPolicy {
    devices: Arc<Mutex<Devices>>,
    store: StoreHandle,
    /// A tablet serving its teammates, not the base server: the antenna
    /// document travels only through the server
    /// (`maraude_core::authority::travels_between_teammates`).
    teammates: bool,
}

impl AntennaPolicy {
    fn admitted(&self, peer: &PeerId) -> Option<Admitted> {
        let devices = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        devices.admitted.get(peer).map(|(role, tx)| Admitted {
            role: *role,
            revoked: tx.subscribe(),
        })
    }
}

impl samod::SharePolicy for AntennaPolicy {
    fn share(
        &self,
        doc: DocumentId,
        peer: PeerId,
    ) -> impl futures::Stream<Item = ShareConfig> + Send + 'static {
        crate::metrics::metrics().share_decisions.inc();
        let admitted = self.admitted(&peer);
        let store = self.store.clone();
        let teammates = self.teammates;
        // Called inside samod's I/O loop: decide in the stream, not here.
        let first = async move {
            let Some(admitted) = admitted else {
                return (ShareConfig::none(), None);
            };
            if *admitted.revoked.borrow() {
                return (ShareConfig::none(), None);
            }
            let subject = store
                .with(move |s| s.subject(&doc))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(Subject::Unknown);
            let today = maraude_core::time::paris_date(Utc::now());
            let travels = !teammates || authority::travels_between_teammates(subject);
            if travels && access::may_receive(admitted.role, subject, today) {
                (
                    ShareConfig::read_write().with_announce(false),
                    Some(admitted.revoked),
                )
            } else {
                (ShareConfig::none(), None)
            }
        };
        futures::stream::once(first).flat_map(|(config, revoked)| {
            let revocation = futures::stream::once(async move {
                match revoked {
                    Some(mut rx) => rx.wait_for(|r| *r).await.is_ok(),
                    None => false,
                }
            })
            .filter_map(|revoked| async move { revoked.then(ShareConfig::none) });
            futures::stream::once(async move { config }).chain(revocation)
        })
    }
}

/// An antenna's live state on the server.
pub struct Hub {
    pub antenna: Uuid,
    pub store: StoreHandle,
    pub repo: Repo,
    pub acceptor: AcceptorHandle,
    policy: AntennaPolicy,
    uploads: Uploads,
    offences: Offences,
    sockets: Arc<Mutex<Sockets>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("antenna", &self.antenna)
            .finish()
    }
}

impl Hub {
    /// Serve `store`, the antenna's documents, as the peer `own_peer`
    /// (`server-<antenna>` on the base server, `device-<id>` on a tablet).
    pub async fn start(
        store: StoreHandle,
        antenna: Uuid,
        own_peer: String,
    ) -> Result<Self, SyncError> {
        let policy = AntennaPolicy {
            devices: Arc::default(),
            store: store.clone(),
            teammates: api::device_of_peer(&own_peer).is_some(),
        };
        let repo = Repo::builder(tokio::runtime::Handle::current())
            .with_storage(store.clone())
            .with_peer_id(PeerId::from_string(own_peer))
            .with_share_policy(policy.clone())
            // The policy never announces: a device's connection needs only
            // the documents it asks for. Subscribing every loaded document
            // to every connection cost documents x connections when a
            // night's tablets came back at once (vendor/PATCHES.md).
            .with_subscriptions(samod::Subscriptions::OnRequest)
            .load()
            .await;
        let url = samod::Url::parse(&format!("maraude://antenna/{antenna}"))
            .map_err(|e| SyncError::BadUrl(e.to_string()))?;
        let acceptor = repo.make_acceptor(url).map_err(|_| SyncError::Stopped)?;
        Ok(Self {
            antenna,
            store,
            repo,
            acceptor,
            policy,
            uploads: Uploads::default(),
            offences: Offences::default(),
            sockets: Arc::default(),
        })
    }

    /// The device's revocation switch, created on first use.
    fn switch(&self, device: Uuid, role: Role) -> Arc<watch::Sender<bool>> {
        let peer = PeerId::from_string(api::device_peer(&device));
        let mut devices = self
            .policy
            .devices
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (_, tx) = devices
            .admitted
            .entry(peer)
            .or_insert_with(|| (role, Arc::new(watch::channel(false).0)));
        tx.clone()
    }

    /// How long `device` must still wait before it may open a sync
    /// connection, its last ones having been closed for what it sent
    /// (`crate::door::Offences`).
    pub fn penalty(&self, device: Uuid) -> Option<std::time::Duration> {
        self.offences.penalty(&api::device_peer(&device))
    }

    /// Let `device` sync with `role`; the receiver turns true if it is
    /// revoked while connected.
    pub fn admit(&self, device: Uuid, role: Role) -> watch::Receiver<bool> {
        self.switch(device, role).subscribe()
    }

    /// The devices admitted so far (connected now or before).
    pub fn admitted_devices(&self) -> Vec<Uuid> {
        let devices = self
            .policy
            .devices
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        devices
            .admitted
            .keys()
            .filter_map(|peer| api::device_of_peer(peer.as_str()))
            .collect()
    }

    /// Cut `device` off: its documents' sharing turns to none and its open
    /// connections end.
    pub fn revoke(&self, device: Uuid) {
        self.switch(device, Role::Volunteer).send_replace(true);
    }

    /// Serve the sync protocol to `device`, of the certified `role`, over
    /// its upgraded WebSocket, until it closes, the device is revoked or
    /// opens more than [`SOCKETS_PER_DEVICE`] sockets (this one being the
    /// oldest); what it writes goes through the door (`crate::door`) for
    /// its role. `guard` is dropped with the connection (the caller counts
    /// connections with it).
    pub fn serve_socket(
        self: &Arc<Self>,
        socket: yawc::UpgradeFut,
        device: Uuid,
        role: Role,
        mut revoked: watch::Receiver<bool>,
        guard: impl Send + Sync + 'static,
    ) {
        let hub = self.clone();
        let peer = PeerId::from_string(api::device_peer(&device));
        // Counted now, in the order devices asked: the oldest is known.
        let (id, closing) = self
            .sockets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .open(device);
        let seat = SocketSeat {
            sockets: self.sockets.clone(),
            device,
            id,
        };
        tokio::spawn(async move {
            let socket = match socket.await {
                Ok(socket) => socket,
                Err(e) => {
                    tracing::warn!(error = %e, "sync connection lost during the upgrade");
                    return;
                }
            };
            // A serving tablet's teammates hand on others' changes; a
            // device syncing with the server sends its own.
            let delivery = if hub.policy.teammates {
                Delivery::Teammate
            } else {
                Delivery::Device(DeviceId::from_uuid(device))
            };
            let door = Door::new(
                hub.store.clone(),
                (role, delivery),
                peer.to_string(),
                hub.uploads.clone(),
                hub.offences.clone(),
            );
            let (stream, sink) = crate::socket::messages(socket, Some(door), Notices::default());
            let store_stopped = hub.store.stopped();
            let cut = async move {
                tokio::select! {
                    _ = revoked.wait_for(|r| *r) => {}
                    _ = closing => {}
                    // Nothing more is written: the device syncs again
                    // once the store is open again.
                    _ = store_stopped => {}
                }
            };
            // The stream ends on revocation or when a newer socket of the
            // device closes this one, which ends the connection.
            let stream = stream.take_until(Box::pin(cut)).map(move |m| {
                let _still_live = (&guard, &seat);
                m
            });
            let transport = Transport::new(stream, sink).with_expected_peer_id(peer);
            if hub.acceptor.accept(transport).is_err() {
                tracing::warn!("sync connection refused: the antenna's repo is stopping");
            }
        });
    }

    /// The documents that changed since `device` last acknowledged them and
    /// that its role may receive.
    pub async fn pending(&self, device: Uuid, role: Role) -> Result<Vec<String>, SyncError> {
        let peer = api::device_peer(&device);
        let today = maraude_core::time::paris_date(Utc::now());
        let teammates = self.policy.teammates;
        self.store
            .with(move |s| {
                let mut out = Vec::new();
                for doc in s.changed_for(&peer)? {
                    let subject = s.subject(&doc)?;
                    let travels = !teammates || authority::travels_between_teammates(subject);
                    if travels && access::may_receive(role, subject, today) {
                        out.push(doc.to_string());
                    }
                }
                Ok::<_, StoreError>(out)
            })
            .await
            .map_err(SyncError::from)?
            .map_err(SyncError::from)
    }

    /// Erase the cases closed for longer than the antenna's retention
    /// period. Their tombstones are written into the antenna document
    /// through the repo, so that every device receives them; storing that
    /// change deletes the cases here (`maraude_store`'s erasure). Returns
    /// how many cases were erased.
    pub async fn apply_retention(&self) -> Result<usize, SyncError> {
        let now = Utc::now();
        let due = self.store.with(move |s| s.retention_due(now)).await??;
        if due.is_empty() {
            return Ok(0);
        }
        let antenna_doc = maraude_store::document_id(&self.antenna);
        let Some(handle) = self
            .repo
            .find(antenna_doc)
            .await
            .map_err(|_| SyncError::Stopped)?
        else {
            return Ok(0);
        };
        handle
            .with_document(|doc| {
                let mut tx = doc.transaction();
                write_tombstones(&mut tx, &due)?;
                tx.commit();
                Ok::<_, maraude_core::DocumentError>(())
            })
            .map_err(|e| SyncError::from(StoreError::from(e)))?;
        Ok(due.len())
    }

    /// Chunks another server stored in the shared database (it checked
    /// them against the sender's role): into the store in one transaction,
    /// then into each document samod has loaded, which sends them on to
    /// the devices syncing it here.
    pub async fn arrived(&self, chunks: Vec<(String, Vec<u8>)>) -> Result<(), SyncError> {
        let chunks: Vec<(DocumentId, String, Vec<u8>)> = chunks
            .into_iter()
            .filter_map(|(key, data)| {
                let doc = key.split('/').next()?.parse::<DocumentId>().ok()?;
                Some((doc, key, data))
            })
            .collect();
        if chunks.is_empty() {
            return Ok(());
        }
        self.store
            .write_all_local(
                chunks
                    .iter()
                    .map(|(_, key, data)| maraude_store::ChunkWrite::Put {
                        key: key.clone(),
                        data: data.clone(),
                    })
                    .collect(),
            )
            .await
            .ok_or(SyncError::Stopped)?;
        // A document samod has not loaded stays in the store, where its
        // load will find it: loading it here would cost a read through the
        // database, three decodings and a document kept in memory, on a
        // server where no device may ever ask for it (a tablet's new shift
        // uploaded through another server).
        let mut loaded: Vec<DocumentId> = Vec::new();
        for (doc, _, _) in &chunks {
            if !loaded.contains(doc) && self.store.loaded_by_samod(doc) {
                loaded.push(doc.clone());
            }
        }
        if loaded.is_empty() {
            return Ok(());
        }
        // Only a document whole enough to be indexed is handed to samod: one
        // it loaded without its first change (its chunks arriving out of
        // order) would stay "unavailable" here (see `crate::storage`).
        let complete: Vec<DocumentId> = self
            .store
            .with(move |s| {
                let mut complete = Vec::new();
                for doc in loaded {
                    if s.recorded_heads(&doc)?.is_some_and(|h| !h.is_empty()) {
                        complete.push(doc);
                    }
                }
                Ok::<_, StoreError>(complete)
            })
            .await??;
        for (doc, _, data) in chunks {
            if !complete.contains(&doc) {
                continue;
            }
            let Some(handle) = self
                .repo
                .find(doc.clone())
                .await
                .map_err(|_| SyncError::Stopped)?
            else {
                continue;
            };
            // One chunk that does not load keeps none of the others from
            // their documents (they are in the store either way).
            if let Err(e) = handle.with_document(|d| d.load_incremental(&data)) {
                tracing::warn!(%doc, error = %e, "cannot take into the loaded document a change another server stored");
            }
        }
        Ok(())
    }

    /// Record the heads `device` says it now shares.
    pub async fn acked(
        &self,
        device: Uuid,
        docs: Vec<(DocumentId, Vec<automerge::ChangeHash>)>,
    ) -> Result<(), SyncError> {
        let peer = api::device_peer(&device);
        self.store
            .with(move |s| s.mark_shared(&peer, &docs))
            .await?
            .map_err(SyncError::from)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use maraude_core::entry::{EntryContent, NewEntry};
    use maraude_core::ids::{AntennaId, ShiftId};
    use maraude_core::shift::{NewShift, ShiftKind};
    use maraude_store::{Passphrase, Store};

    use super::*;

    fn passphrase() -> Passphrase {
        Passphrase::new("dunes du nord 2026 hiver".into())
    }

    pub(crate) fn a_note(text: &str) -> NewEntry {
        NewEntry {
            at: None,
            place: None,
            content: EntryContent::Note { text: text.into() },
        }
    }

    /// Mira's night shift, started now on `store`.
    pub(crate) fn a_shift(store: &mut Store) -> ShiftId {
        store
            .start_shift(NewShift {
                kind: ShiftKind::NightMaraude,
                started_at: None,
                lead: "Mira".parse().expect("a nickname"),
                team: Default::default(),
                vehicle: None,
                stock_loaded: Default::default(),
            })
            .expect("a shift")
            .id
    }

    /// A shift's change stored by another server, for a document no
    /// device asked this one for: it goes into the store, where samod's
    /// load finds it, and samod does not load the document for it. Once
    /// samod has loaded the document, the next change goes into it at
    /// once, for the devices syncing it here.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_change_from_another_server_loads_no_document_samod_had_not() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // The tablet that logs, and the server's copy of the antenna.
        let mut tablet =
            Store::create(&dir.path().join("tablet"), &passphrase(), "Calais").expect("a store");
        let antenna = tablet.antenna_id();
        let antenna_doc = maraude_store::document_id(antenna.as_uuid());
        let mut server = Store::create_empty(
            &dir.path().join("server"),
            &passphrase(),
            AntennaId::from_uuid(*antenna.as_uuid()),
            DeviceId::new(),
        )
        .expect("a store");
        let whole = tablet.changes_since(&antenna_doc, &[]).expect("read");
        server.import(&antenna_doc, &whole).expect("the antenna");
        let shift = a_shift(&mut tablet);
        let doc = maraude_store::document_id(shift.as_uuid());
        let first = tablet.changes_since(&doc, &[]).expect("read");
        let first_heads = tablet.heads(&doc).expect("heads");
        let (store, _thread) = StoreHandle::spawn(server);
        let hub = Hub::start(store.clone(), *antenna.as_uuid(), "server-test".into())
            .await
            .expect("a hub");

        hub.arrived(vec![(
            format!("{doc}/incremental/{}", "ab".repeat(32)),
            first,
        )])
        .await
        .expect("stored");
        assert!(!store.loaded_by_samod(&doc), "samod loaded it for nothing");
        let recorded = {
            let doc = doc.clone();
            store
                .with(move |s| s.recorded_heads(&doc))
                .await
                .expect("run")
        };
        assert_eq!(recorded.expect("read"), Some(first_heads.clone()));
        let handle = hub
            .repo
            .find(doc.clone())
            .await
            .expect("running")
            .expect("samod finds it in the store");
        assert_eq!(handle.with_document(|d| d.get_heads()), first_heads);
        assert!(store.loaded_by_samod(&doc));

        tablet
            .log(
                &shift,
                &"Mira".parse().expect("a nickname"),
                a_note("thé au pont"),
            )
            .expect("logged");
        let second = tablet.changes_since(&doc, &first_heads).expect("read");
        hub.arrived(vec![(
            format!("{doc}/incremental/{}", "cd".repeat(32)),
            second,
        )])
        .await
        .expect("stored");
        assert_eq!(
            handle.with_document(|d| d.get_heads()),
            tablet.heads(&doc).expect("heads"),
            "the loaded document took the change"
        );
    }
    /// samod loads all of a document's chunks at once (vendor/PATCHES.md
    /// §7). A chunk that does not load, as a damaged disk would leave,
    /// loses only itself: every change of the others is loaded.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_chunk_that_does_not_load_loses_only_itself() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut store =
            Store::create(&dir.path().join("tablet"), &passphrase(), "Calais").expect("a store");
        let antenna = *store.antenna_id().as_uuid();
        let mira = "Mira".parse().expect("a nickname");
        let shift = a_shift(&mut store);
        for i in 0..12 {
            store
                .log(&shift, &mira, a_note(&format!("thé {i}")))
                .expect("logged");
        }
        let doc = maraude_store::document_id(shift.as_uuid());
        let heads = store.heads(&doc).expect("heads");
        store
            .apply_chunks(vec![maraude_store::ChunkWrite::Put {
                key: format!("{doc}/incremental/{}", "ef".repeat(32)),
                data: b"not an automerge chunk".to_vec(),
            }])
            .expect("stored, not indexed");
        let (handle, _thread) = StoreHandle::spawn(store);
        let hub = Hub::start(handle, antenna, "device-test".into())
            .await
            .expect("a hub");
        let found = hub
            .repo
            .find(doc)
            .await
            .expect("running")
            .expect("found in the store");
        assert_eq!(found.with_document(|d| d.get_heads()), heads);
    }
}
