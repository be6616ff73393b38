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

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use maraude_store::{ChunkWrite, Store};
use samod::storage::{Storage, StorageKey};
use tokio::sync::oneshot;

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
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHandle")
    }
}

/// The store thread was stopped (it panicked, or the store was closed).
#[derive(Debug, thiserror::Error)]
#[error("the store is closed")]
pub struct StoreClosed;

impl StoreHandle {
    /// Move `store` onto its own thread. The thread ends, handing the store
    /// back through the join handle, once every handle is dropped.
    pub fn spawn(store: Store) -> (Self, JoinHandle<Store>) {
        let (commands, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("maraude-store".into())
            .spawn(move || run(store, queue))
            .expect("the OS can start a thread");
        (Self { commands }, thread)
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
            .map_err(|_| StoreClosed)?;
        answer.await.map_err(|_| StoreClosed)
    }

    async fn write(&self, write: ChunkWrite) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Write(write, reply)).is_ok() {
            let _ = done.await;
        }
    }
}

fn run(mut store: Store, queue: mpsc::Receiver<Command>) -> Store {
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
                commit(&mut store, writes);
                for r in replies {
                    let _ = r.send(());
                }
            }
        }
    }
    store
}

/// samod's storage cannot report a failure: a write it believes done must
/// be done. Retry a few times (the file may be busy with another process),
/// then stop the process rather than go on with a store that silently
/// lacks changes. After a restart samod reloads from the file and peers
/// send what is missing again.
fn commit(store: &mut Store, writes: Vec<ChunkWrite>) {
    let mut attempt = 0;
    loop {
        match store.apply_chunks(writes.clone()) {
            Ok(applied) => {
                for (doc, reason) in applied.quarantined {
                    tracing::warn!(%doc, reason, "document received but not indexed (quarantined)");
                }
                return;
            }
            Err(e) if attempt < 5 => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "cannot write received changes; retrying");
                std::thread::sleep(Duration::from_millis(200 * attempt));
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot write received changes; stopping");
                eprintln!("Maraude cannot write to its store ({e}); stopping to lose nothing.");
                std::process::exit(70);
            }
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
