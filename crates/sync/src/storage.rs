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

use maraude_store::{ChunkWrite, Store};
use samod::storage::{Storage, StorageKey};
use tokio::sync::{oneshot, watch};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

enum Command {
    Load(String, oneshot::Sender<Option<Vec<u8>>>),
    LoadRange(Vec<String>, oneshot::Sender<Vec<(String, Vec<u8>)>>),
    Write(ChunkWrite, oneshot::Sender<()>),
    Run(Job),
}

/// A handle on the thread that owns the store.
#[derive(Clone)]
pub struct StoreHandle {
    commands: mpsc::Sender<Command>,
    /// Why the thread stopped, once a write failed.
    failed: watch::Receiver<Option<String>>,
}

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
        let (commands, queue) = mpsc::channel();
        let (failing, failed) = watch::channel(None);
        let thread = std::thread::Builder::new()
            .name("maraude-store".into())
            .spawn(move || run(store, queue, failing))
            .expect("the OS can start a thread");
        (Self { commands, failed }, thread)
    }

    /// Why the store's thread stopped while handles were still held (a
    /// write failed, or a call panicked); `None` while it runs.
    pub fn failure(&self) -> Option<String> {
        if let Some(why) = self.failed.borrow().clone() {
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
        async move {
            let _ = failed.wait_for(Option::is_some).await;
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

    async fn write(&self, write: ChunkWrite) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Write(write, reply)).is_ok() {
            let _ = done.await;
        }
    }
}

fn run(
    mut store: Store,
    queue: mpsc::Receiver<Command>,
    failing: watch::Sender<Option<String>>,
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
                let found = store.chunks_under(&prefix).unwrap_or_else(|e| {
                    tracing::error!(?prefix, error = %e, "cannot read chunks");
                    Vec::new()
                });
                let _ = reply.send(found);
            }
            Command::Run(job) => job(&mut store),
            Command::Write(first, reply) => {
                let mut writes = vec![first];
                let mut replies = vec![reply];
                // Take every write already queued into the same transaction:
                // each commit waits for the disk (fsync), and a fresh device
                // receives a hundred documents at once. The other commands
                // queued meanwhile (reads, the sync's bookkeeping, which
                // polls) run after the commit, in their order: none has
                // been answered yet, so none can depend on coming first.
                while let Ok(command) = queue.try_recv() {
                    match command {
                        Command::Write(w, r) => {
                            writes.push(w);
                            replies.push(r);
                        }
                        other => waiting.push_back(other),
                    }
                }
                if let Err(e) = commit(&mut store, writes) {
                    // Stop here: the queue and the writes' replies are
                    // dropped with the thread's state.
                    tracing::error!(error = %e, "cannot write received changes: this store stops");
                    failing.send_replace(Some(format!(
                        "cannot write to the store ({e}); nothing more is written to it until it is opened again"
                    )));
                    return store;
                }
                for r in replies {
                    let _ = r.send(());
                }
            }
        }
    }
    store
}

/// Retries a few times (the file may be busy with another process: each
/// try already waits for SQLite's busy timeout) before giving up.
const WRITE_ATTEMPTS: u64 = 6;

/// samod's storage cannot report a failure: a write it believes done must
/// be done. Retry, then say the write failed: the caller stops the store
/// rather than go on with one that silently lacks changes.
fn commit(store: &mut Store, writes: Vec<ChunkWrite>) -> Result<(), maraude_store::StoreError> {
    let mut attempt = 1;
    loop {
        match store.apply_chunks(writes.clone()) {
            Ok(applied) => {
                for (doc, reason) in applied.quarantined {
                    tracing::warn!(%doc, reason, "document received but not indexed (quarantined)");
                }
                return Ok(());
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
        let (reply, answer) = oneshot::channel();
        let parts: Vec<String> = prefix.into_iter().collect();
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
