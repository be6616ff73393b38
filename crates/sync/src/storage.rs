//! The encrypted store as samod's storage.
//!
//! samod calls its storage from the one task that also drives every
//! connection, so a blocking SQLite call there would stall the network. One
//! OS thread owns the process's [`Store`]; [`StoreHandle`] is a cheap,
//! cloneable sender of commands to it. Everything else in the process that
//! needs the store (the sync client's bookkeeping, the server's policy)
//! goes through the same thread with [`StoreHandle::with`], so SQLite sees
//! one writer.
//!
//! Writes samod asks for arrive one by one; the thread drains whatever is
//! queued and commits it as one transaction, which also re-indexes each
//! touched document once ([`Store::apply_chunks`]).
//!
//! A server that shares its antennas with other servers ([`SharedChunks`],
//! the base server's PostgreSQL) writes each of samod's puts and deletes
//! there too, after the store and before samod hears it is done; the store
//! is then that server's cache of what the shared place holds.
//!
//! A write that cannot be made (disk full, the file locked by another
//! process for longer than the retries) stops the thread: nothing more is
//! read from or written to that store through this handle, and
//! [`StoreHandle::failure`] says why. Whoever serves from it drops what it
//! built on it (the server its antenna's hub, which it opens again from
//! the file at the next request; a tablet its sync): samod's storage
//! cannot report an error, and going on would serve changes the file
//! lacks. Devices send what is missing again at their next sync.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use maraude_core::ids::DeviceId;
use maraude_store::{ChunkWrite, DocumentId, ReadAhead, Store};
use samod::storage::{Storage, StorageKey};
use tokio::sync::{oneshot, watch};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A write's answer: the cases' documents it erased (see
/// [`maraude_store::ChunksApplied::erased`]).
type Written = Vec<DocumentId>;

enum Command {
    Load(String, oneshot::Sender<Option<Vec<u8>>>),
    LoadRange(Vec<String>, oneshot::Sender<Vec<(String, Vec<u8>)>>),
    Write(Vec<ChunkWrite>, Vec<ReadAhead>, oneshot::Sender<Written>),
    Run(Job),
}

/// Where a server that shares its antennas with other servers also keeps
/// each chunk of one antenna (the base server's PostgreSQL). An error is a
/// sentence for the log; the caller retries, then stops the store.
#[async_trait::async_trait]
pub trait SharedChunks: Send + Sync + 'static {
    async fn put(&self, key: &str, data: &[u8]) -> Result<(), String>;
    async fn delete(&self, key: &str) -> Result<(), String>;
    /// Erase these cases' documents there, and refuse their chunks from
    /// now on.
    async fn erase(&self, docs: &[DocumentId]) -> Result<(), String>;
    /// The key of every chunk held there under `prefix` (samod's parts of
    /// a key: a document's id, then `snapshot` or `incremental`).
    async fn keys_under(&self, prefix: &[String]) -> Result<Vec<String>, String>;
    /// These chunks, those held there.
    async fn chunks(&self, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>, String>;
}

/// Tries at a shared write before the store is stopped (a second apart).
const SHARED_ATTEMPTS: u32 = 3;

/// A handle on the thread that owns the store.
#[derive(Clone)]
pub struct StoreHandle {
    commands: mpsc::Sender<Command>,
    /// Why the thread stopped, once a write failed.
    failed: watch::Receiver<Option<String>>,
    shared: Option<Arc<dyn SharedChunks>>,
    /// Why a shared write failed: the store stops as if its own had.
    shared_failed: Arc<watch::Sender<Option<String>>>,
    /// The store's device, to read the documents samod puts whole ahead
    /// of their write ([`ReadAhead`]).
    device: DeviceId,
    /// Each document samod loaded, with the key of a snapshot of what the
    /// index already held of it (filled by the store's thread as it
    /// answers the load): samod puts that snapshot right after loading a
    /// document of more than ten changes, and it is not read ahead.
    loaded: Loaded,
}

/// Document id → the key of a snapshot of its indexed heads, if the index
/// had the document when samod loaded it.
type Loaded = Arc<Mutex<HashMap<String, Option<String>>>>;

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHandle")
    }
}

/// The store thread was stopped: a write failed, a call panicked, or the
/// store was closed. Says which when it knows.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreClosed(pub String);

impl StoreHandle {
    /// Move `store` onto its own thread. The thread ends, handing the store
    /// back through the join handle, once every handle is dropped.
    pub fn spawn(store: Store) -> (Self, JoinHandle<Store>) {
        Self::spawn_with(store, None)
    }

    /// [`Self::spawn`], samod's writes also made in `shared`.
    pub fn spawn_shared(store: Store, shared: Arc<dyn SharedChunks>) -> (Self, JoinHandle<Store>) {
        Self::spawn_with(store, Some(shared))
    }

    fn spawn_with(
        store: Store,
        shared: Option<Arc<dyn SharedChunks>>,
    ) -> (Self, JoinHandle<Store>) {
        let (commands, queue) = mpsc::channel();
        let (failing, failed) = watch::channel(None);
        let device = store.device();
        let loaded = Loaded::default();
        let thread_loaded = loaded.clone();
        let thread = std::thread::Builder::new()
            .name("maraude-store".into())
            .spawn(move || run(store, queue, failing, thread_loaded))
            .expect("the OS can start a thread");
        let handle = Self {
            commands,
            failed,
            shared,
            shared_failed: Arc::new(watch::channel(None).0),
            device,
            loaded,
        };
        (handle, thread)
    }

    /// Why the store's thread stopped while handles were still held (a
    /// write failed, or a call panicked); `None` while it runs.
    pub fn failure(&self) -> Option<String> {
        if let Some(why) = self.failed.borrow().clone() {
            return Some(why);
        }
        if let Some(why) = self.shared_failed.borrow().clone() {
            return Some(why);
        }
        // The sender lives as long as the thread: closed means stopped.
        self.failed
            .has_changed()
            .is_err()
            .then(|| "the store stopped after an internal error".to_string())
    }

    /// Resolves when the store's thread stops (see [`Self::failure`]).
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut failed = self.failed.clone();
        let mut shared_failed = self.shared_failed.subscribe();
        async move {
            tokio::select! {
                _ = failed.wait_for(Option::is_some) => {}
                _ = shared_failed.wait_for(Option::is_some) => {}
            }
        }
    }

    fn closed(&self) -> StoreClosed {
        StoreClosed(
            self.failure()
                .unwrap_or_else(|| "the store is closed".to_string()),
        )
    }

    /// Run `f` on the store's thread and return its result.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, StoreClosed> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Run(Box::new(move |store| {
                let _ = reply.send(f(store));
            })))
            .map_err(|_| self.closed())?;
        answer.await.map_err(|_| self.closed())
    }

    /// Write to the store only: what arrives from the shared place (a
    /// change another server stored). The cases' documents it erased.
    pub async fn write_local(&self, write: ChunkWrite) -> Option<Written> {
        self.write_all_local(vec![write]).await
    }

    /// [`Self::write_local`] of several chunks, in one transaction: a
    /// document taken whole from the shared place is indexed once, whole.
    pub async fn write_all_local(&self, writes: Vec<ChunkWrite>) -> Option<Written> {
        self.write_read_ahead(writes, Vec::new()).await
    }

    async fn write_read_ahead(
        &self,
        writes: Vec<ChunkWrite>,
        ahead: Vec<ReadAhead>,
    ) -> Option<Written> {
        let started = std::time::Instant::now();
        let (reply, done) = oneshot::channel();
        self.commands
            .send(Command::Write(writes, ahead, reply))
            .ok()?;
        let written = done.await.ok();
        crate::metrics::metrics().stored("store", started.elapsed());
        written
    }

    /// samod's write: to the store, then to the shared place if there is
    /// one, retried; failing there, the store stops (samod's storage
    /// cannot report an error, see the module's comment).
    async fn write(&self, write: ChunkWrite) {
        let (write, ahead) = self.read_ahead(write).await;
        let Some(shared) = &self.shared else {
            self.write_read_ahead(vec![write], ahead).await;
            return;
        };
        let Some(erased) = self.write_read_ahead(vec![write.clone()], ahead).await else {
            return;
        };
        let mut attempt = 1;
        loop {
            let started = std::time::Instant::now();
            let done = match &write {
                ChunkWrite::Put { key, data } => shared.put(key, data).await,
                ChunkWrite::Delete { key } => shared.delete(key).await,
            };
            let done = match done {
                Ok(()) if !erased.is_empty() => shared.erase(&erased).await,
                other => other,
            };
            crate::metrics::metrics().stored("database", started.elapsed());
            match done {
                Ok(()) => return,
                Err(e) if attempt < SHARED_ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "cannot write a change to the shared database; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot write a change to the shared database: this antenna stops until it is opened again");
                    self.shared_failed.send_replace(Some(format!(
                        "cannot write to the shared database ({e}); the antenna is opened again at the next request"
                    )));
                    return;
                }
            }
        }
    }
}

impl StoreHandle {
    /// Whether `key` is a snapshot to read ahead: any but the one samod
    /// puts right after loading a document, of what the index already
    /// holds. Incremental puts are not read ahead (nor is the lock taken
    /// for them: they are most of a sync's puts).
    fn wants_read_ahead(&self, key: &str) -> bool {
        if !key.contains("/snapshot/") {
            return false;
        }
        let doc = key.split('/').next().unwrap_or_default();
        let loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        loaded
            .get(doc)
            .and_then(Option::as_deref)
            .is_none_or(|indexed| indexed != key)
    }

    /// Before samod loads `prefix` (a document's snapshots, or its
    /// incremental changes), take into the store what the shared place
    /// holds there and the store lacks: samod loads a document once and
    /// then only hears of changes from its peers, so it must load all that
    /// the servers sharing the database hold of it, not what this one had
    /// heard of so far (a document loaded without its first change stays
    /// "unavailable" to every device here). Only what is missing travels
    /// and is written: the chunks are content-addressed.
    async fn read_through(&self, shared: &dyn SharedChunks, prefix: &[String]) {
        let warn = |e: &dyn std::fmt::Display| {
            tracing::warn!(?prefix, error = %e, "cannot read a document from the shared database; loading what this server holds");
        };
        let there = match shared.keys_under(prefix).await {
            Ok(keys) if keys.is_empty() => return,
            Ok(keys) => keys,
            Err(e) => return warn(&e),
        };
        let prefix_here = prefix.to_vec();
        let here: std::collections::HashSet<String> =
            match self.with(move |s| s.chunk_keys_under(&prefix_here)).await {
                Ok(Ok(keys)) => keys.into_iter().collect(),
                Ok(Err(e)) => return warn(&e),
                Err(e) => return warn(&e),
            };
        let missing: Vec<String> = there.into_iter().filter(|k| !here.contains(k)).collect();
        if missing.is_empty() {
            return;
        }
        match shared.chunks(&missing).await {
            Ok(chunks) => {
                let writes = chunks
                    .into_iter()
                    .map(|(key, data)| ChunkWrite::Put { key, data })
                    .collect();
                self.write_all_local(writes).await;
            }
            Err(e) => warn(&e),
        }
    }

    /// Whether samod has loaded `doc` (or begun to) through this handle.
    /// A chunk written to the store before samod loads the document is
    /// found by that load; so a chunk another server stored needs handing
    /// to samod only for a document this says it loaded (see
    /// `Hub::arrived`). Marked by the store's thread as it answers the
    /// load, in order with the writes.
    pub fn loaded_by_samod(&self, doc: &DocumentId) -> bool {
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&doc.to_string())
    }

    /// A whole document samod puts (a snapshot) read on a blocking thread
    /// before its write is queued: the store's thread, busy writing the
    /// document before, then only writes its rows (a fresh device receives
    /// a hundred documents whole, one after the other). Only this put
    /// waits: samod deletes what a snapshot supersedes once the put is
    /// done, so no later write of the document can overtake it.
    async fn read_ahead(&self, write: ChunkWrite) -> (ChunkWrite, Vec<ReadAhead>) {
        let ChunkWrite::Put { key, data } = write else {
            return (write, Vec::new());
        };
        if !self.wants_read_ahead(&key) {
            return (ChunkWrite::Put { key, data }, Vec::new());
        }
        let device = self.device;
        tokio::task::spawn_blocking(move || {
            let ahead = ReadAhead::of(&key, &data, &device);
            (ChunkWrite::Put { key, data }, ahead.into_iter().collect())
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}

fn run(
    mut store: Store,
    queue: mpsc::Receiver<Command>,
    failing: watch::Sender<Option<String>>,
    loaded: Loaded,
) -> Store {
    // Commands taken from the queue but not run yet, in their order.
    let mut waiting: VecDeque<Command> = VecDeque::new();
    while let Some(command) = waiting.pop_front().or_else(|| queue.recv().ok()) {
        match command {
            Command::Load(key, reply) => {
                let found = store.chunk(&key).unwrap_or_else(|e| {
                    tracing::error!(key, error = %e, "cannot read a chunk");
                    None
                });
                let _ = reply.send(found);
            }
            Command::LoadRange(prefix, reply) => {
                remember_loaded(&store, &prefix, &loaded);
                let found = store.chunks_under(&prefix).unwrap_or_else(|e| {
                    tracing::error!(?prefix, error = %e, "cannot read chunks");
                    Vec::new()
                });
                let _ = reply.send(found);
            }
            Command::Run(job) => job(&mut store),
            Command::Write(first, first_ahead, reply) => {
                let mut writes = first;
                let mut ahead = first_ahead;
                let mut replies = vec![reply];
                // Take every write already queued into the same transaction:
                // each commit waits for the disk (fsync), and a fresh device
                // receives a hundred documents at once. The other commands
                // queued meanwhile (reads, the sync's bookkeeping, which
                // polls) run after the commit, in their order: none has
                // been answered yet, so none can depend on coming first.
                while let Ok(command) = queue.try_recv() {
                    match command {
                        Command::Write(w, a, r) => {
                            writes.extend(w);
                            ahead.extend(a);
                            replies.push(r);
                        }
                        other => waiting.push_back(other),
                    }
                }
                let erased = match commit(&mut store, writes, ahead) {
                    Ok(erased) => erased,
                    Err(e) => {
                        // Stop here: the queue and the writes' replies are
                        // dropped with the thread's state.
                        tracing::error!(error = %e, "cannot write received changes: this store stops");
                        failing.send_replace(Some(format!(
                            "cannot write to the store ({e}); nothing more is written to it until it is opened again"
                        )));
                        return store;
                    }
                };
                // Each write of the batch answers what the batch erased:
                // erasing again is harmless.
                for r in replies {
                    let _ = r.send(erased.clone());
                }
            }
        }
    }
    store
}

/// samod loads `prefix`'s document: remember it, with what a snapshot of
/// it would be called if it held only what the index holds (samod may put
/// that snapshot next, and [`StoreHandle::read_ahead`] leaves it).
fn remember_loaded(store: &Store, prefix: &[String], loaded: &Loaded) {
    let Some(doc) = prefix.first() else { return };
    let Ok(id) = doc.parse::<DocumentId>() else {
        return;
    };
    let indexed = store.indexed_snapshot_key(&id).ok().flatten();
    loaded
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(doc.clone(), indexed);
}

/// Retries a few times (the file may be busy with another process: each
/// try already waits for SQLite's busy timeout) before giving up.
const WRITE_ATTEMPTS: u64 = 6;

/// samod's storage cannot report a failure: a write it believes done must
/// be done. Retry, then say the write failed: the caller stops the store
/// rather than go on with one that silently lacks changes.
fn commit(
    store: &mut Store,
    writes: Vec<ChunkWrite>,
    mut ahead: Vec<ReadAhead>,
) -> Result<Written, maraude_store::StoreError> {
    let mut attempt = 1;
    loop {
        // A retry reads in the thread: what was read ahead went with the
        // failed try.
        match store.apply_chunks_read_ahead(writes.clone(), std::mem::take(&mut ahead)) {
            Ok(applied) => {
                for (doc, reason) in applied.quarantined {
                    tracing::warn!(%doc, reason, "document received but not indexed (quarantined)");
                }
                return Ok(applied.erased);
            }
            Err(e) if attempt < WRITE_ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "cannot write received changes; retrying");
                std::thread::sleep(Duration::from_millis(200 * attempt));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

impl Storage for StoreHandle {
    async fn load(&self, key: StorageKey) -> Option<Vec<u8>> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Load(key.to_string(), reply))
            .ok()?;
        answer.await.ok().flatten()
    }

    async fn load_range(&self, prefix: StorageKey) -> HashMap<StorageKey, Vec<u8>> {
        let parts: Vec<String> = prefix.into_iter().collect();
        if let Some(shared) = &self.shared {
            self.read_through(shared.as_ref(), &parts).await;
        }
        let (reply, answer) = oneshot::channel();
        if self
            .commands
            .send(Command::LoadRange(parts, reply))
            .is_err()
        {
            return HashMap::new();
        }
        answer
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(key, data)| {
                StorageKey::from_parts(key.split('/'))
                    .ok()
                    .map(|k| (k, data))
            })
            .collect()
    }

    async fn put(&self, key: StorageKey, data: Vec<u8>) {
        self.write(ChunkWrite::Put {
            key: key.to_string(),
            data,
        })
        .await;
    }

    async fn delete(&self, key: StorageKey) {
        self.write(ChunkWrite::Delete {
            key: key.to_string(),
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// samod loads a document, then puts a snapshot of what it loaded:
    /// the index holds that already, so it is not decoded ahead for
    /// nothing. A snapshot of anything else is.
    #[test]
    fn a_snapshot_of_what_a_load_found_indexed_is_not_read_ahead() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::create(
            &dir.path().join("calais.maraude"),
            &maraude_store::Passphrase::new("dunes du nord 2026 hiver".into()),
            "Calais",
        )
        .expect("a store");
        let doc = maraude_store::document_id(store.antenna_id().as_uuid());
        let indexed = store
            .indexed_snapshot_key(&doc)
            .expect("read")
            .expect("the antenna's document is indexed");
        let other = format!("{doc}/snapshot/{}", "ab".repeat(32));
        let incremental = format!("{doc}/incremental/{}", "ab".repeat(32));
        let (handle, _thread) = StoreHandle::spawn(store);
        assert!(handle.wants_read_ahead(&indexed), "nothing loaded yet");
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(handle.load_range(
                StorageKey::from_parts([doc.to_string(), "snapshot".into()]).expect("a key"),
            ));
        assert!(!handle.wants_read_ahead(&indexed));
        assert!(handle.wants_read_ahead(&other));
        assert!(!handle.wants_read_ahead(&incremental));
    }
    /// A shared place in memory, standing in for the base server's
    /// database: what it holds, and the keys it was asked for.
    #[derive(Default)]
    struct InMemory {
        chunks: Mutex<HashMap<String, Vec<u8>>>,
        fetched: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl SharedChunks for InMemory {
        async fn put(&self, key: &str, data: &[u8]) -> Result<(), String> {
            self.chunks
                .lock()
                .expect("not poisoned")
                .insert(key.into(), data.into());
            Ok(())
        }
        async fn delete(&self, key: &str) -> Result<(), String> {
            self.chunks.lock().expect("not poisoned").remove(key);
            Ok(())
        }
        async fn erase(&self, _docs: &[DocumentId]) -> Result<(), String> {
            Ok(())
        }
        async fn keys_under(&self, prefix: &[String]) -> Result<Vec<String>, String> {
            let under = format!("{}/", prefix.join("/"));
            let chunks = self.chunks.lock().expect("not poisoned");
            Ok(chunks
                .keys()
                .filter(|k| k.starts_with(&under))
                .cloned()
                .collect())
        }
        async fn chunks(&self, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
            self.fetched
                .lock()
                .expect("not poisoned")
                .extend(keys.iter().cloned());
            let chunks = self.chunks.lock().expect("not poisoned");
            Ok(keys
                .iter()
                .filter_map(|k| Some((k.clone(), chunks.get(k)?.clone())))
                .collect())
        }
    }

    /// Before samod loads a document's changes, the server takes from the
    /// database what it lacks of them, and only that: not what it holds
    /// already, nor the document's other kind of chunk.
    #[test]
    fn a_load_takes_from_the_shared_place_only_what_the_store_lacks() {
        use crate::hub::tests::{a_note, a_shift};

        let dir = tempfile::tempdir().expect("a temporary directory");
        let passphrase = maraude_store::Passphrase::new("dunes du nord 2026 hiver".into());
        let mut tablet =
            Store::create(&dir.path().join("tablet"), &passphrase, "Calais").expect("a store");
        let shift = a_shift(&mut tablet);
        for i in 0..5 {
            tablet
                .log(
                    &shift,
                    &"Mira".parse().expect("a nickname"),
                    a_note(&format!("thé {i}")),
                )
                .expect("logged");
        }
        let doc = maraude_store::document_id(shift.as_uuid()).to_string();
        let all = tablet
            .chunks_under(std::slice::from_ref(&doc))
            .expect("read");
        let shared = Arc::new(InMemory::default());
        for (key, data) in &all {
            shared
                .chunks
                .lock()
                .expect("not poisoned")
                .insert(key.clone(), data.clone());
        }
        let incremental: Vec<String> = all
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| k.contains("/incremental/"))
            .collect();
        assert!(incremental.len() >= 5, "{all:?}");
        let mut server = Store::create_empty(
            &dir.path().join("server"),
            &passphrase,
            tablet.antenna_id(),
            DeviceId::new(),
        )
        .expect("a store");
        let (held, held_data) = all
            .iter()
            .find(|(k, _)| *k == incremental[0])
            .expect("a change");
        server
            .apply_chunks(vec![ChunkWrite::Put {
                key: held.clone(),
                data: held_data.clone(),
            }])
            .expect("stored");

        let (handle, _thread) = StoreHandle::spawn_shared(server, shared.clone());
        let loaded =
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime")
                .block_on(handle.load_range(
                    StorageKey::from_parts([doc.as_str(), "incremental"]).expect("a key"),
                ));
        let mut loaded: Vec<String> = loaded.keys().map(ToString::to_string).collect();
        loaded.sort();
        let mut expected = incremental.clone();
        expected.sort();
        assert_eq!(loaded, expected, "samod gets every change");
        let mut fetched = shared.fetched.lock().expect("not poisoned").clone();
        fetched.sort();
        let mut missing: Vec<String> = incremental[1..].to_vec();
        missing.sort();
        assert_eq!(fetched, missing, "only what the server lacked travelled");
    }
}
