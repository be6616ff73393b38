//! Antennas' documents in the PostgreSQL database several servers share.
//!
//! Each server keeps its own encrypted store per antenna, as with the
//! embedded backend; with a database, that store is the server's cache and
//! the database holds the truth:
//!
//! - every chunk samod writes goes to the database too, sealed by the
//!   antenna's data key with the chunk's key as associated data
//!   ([`AntennaChunks`], through `maraude_sync::SharedChunks`), before
//!   samod hears it is stored; a delete (samod's compaction) and an
//!   erasure (a case's tombstone) likewise;
//! - a new chunk is announced on the channel `maraude_chunks`
//!   (`NOTIFY`, in the statement that inserts it); every other server
//!   holding that antenna fetches it into its store, with whatever else
//!   was announced for the antenna meanwhile, and hands it to the devices
//!   syncing that document there ([`SharedDocuments::listen`]);
//! - an antenna opened on a server first takes what the database has that
//!   its cache lacks, and gives what it holds that the database lacks
//!   ([`SharedDocuments::reconcile`]): nothing is lost by a server that
//!   was down, or cut off while the others wrote;
//! - what a device acknowledged is kept there, so that it is not sent
//!   again by another server;
//! - revocations are announced on `maraude_revocations`, so that every
//!   server cuts the device's sockets at once.
//!
//! Chunks are content-addressed (a change's hash, a snapshot's heads):
//! the union of two copies is always right, which is what makes the
//! reconciliation a matter of sets.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use maraude_store::{ChunkWrite, DocumentId, StoreKey};
use maraude_sync::{SharedChunks, StoreHandle};
use sqlx::Row;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::http::App;
use crate::registry::{PostgresRegistry, RegistryError};

const CHUNKS_CHANNEL: &str = "maraude_chunks";
const REVOCATIONS_CHANNEL: &str = "maraude_revocations";

/// Chunks fetched from the database in one query.
const FETCH_BATCH: usize = 200;

/// The documents' side of the database, for one server.
#[derive(Debug, Clone)]
pub struct SharedDocuments {
    registry: PostgresRegistry,
    /// This server among those sharing the database: it does not fetch
    /// back what it announced itself.
    instance: Uuid,
}

pub(crate) fn chunk_context(antenna: Uuid, key: &str) -> Vec<u8> {
    format!("chunk {key} of antenna {antenna}").into_bytes()
}

/// The document a chunk key belongs to: its first part.
fn document_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// Whether `key` is a document's chunk, the only keys servers share:
/// samod keeps beside them what is each server's own (its storage id).
fn is_document_chunk(key: &str) -> bool {
    document_of(key).parse::<DocumentId>().is_ok()
}

fn database_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl SharedDocuments {
    pub fn new(registry: PostgresRegistry) -> Self {
        Self {
            registry,
            instance: Uuid::new_v4(),
        }
    }

    /// What `maraude_sync::StoreHandle::spawn_shared` writes through for
    /// `antenna`.
    pub fn for_antenna(&self, antenna: Uuid) -> Arc<dyn SharedChunks> {
        Arc::new(AntennaChunks {
            antenna,
            shared: self.clone(),
        })
    }

    /// The key of this server's cache of `antenna` (its SQLCipher file),
    /// derived from the antenna's data key: opening the cache costs no
    /// Argon2 derivation (a fifth of a CPU-second, for each antenna on
    /// each server after a restart), and the file on the server's disk
    /// cannot be opened without the wrapped key the database holds.
    pub async fn cache_key(&self, antenna: Uuid) -> Result<StoreKey, String> {
        let data_key = self
            .registry
            .data_key(antenna)
            .await
            .map_err(database_error)?;
        let derived = data_key.derive(&crate::envelope::cache_store_purpose(antenna));
        Ok(StoreKey::from_slice(derived.as_ref()).expect("a derived key is 32 bytes"))
    }

    /// Bring the server's store of `antenna` and the database to the same
    /// chunks, each way, before the antenna is served.
    pub async fn reconcile(&self, antenna: Uuid, store: &StoreHandle) -> Result<(), String> {
        let pool = self.registry.pool().map_err(database_error)?;
        let texts = |sql: &'static str| async move {
            sqlx::query_scalar::<_, String>(sql)
                .bind(antenna)
                .fetch_all(pool)
                .await
                .map(|rows| rows.into_iter().collect::<HashSet<String>>())
                .map_err(database_error)
        };
        let in_database = texts("SELECT key FROM chunks WHERE antenna = $1").await?;
        let erased_there =
            texts("SELECT document FROM erased_documents WHERE antenna = $1").await?;
        let (held, erased_here) = store
            .with(|s| Ok::<_, maraude_store::StoreError>((s.chunk_keys()?, s.erased_documents()?)))
            .await
            .map_err(database_error)?
            .map_err(database_error)?;
        let erased_here: HashSet<String> = erased_here.iter().map(|d| d.to_string()).collect();
        let held: HashSet<String> = held.into_iter().collect();

        // What the database has and this server lacks.
        let wanted: Vec<String> = in_database
            .iter()
            .filter(|k| !held.contains(*k) && !erased_here.contains(document_of(k)))
            .cloned()
            .collect();
        let mut taken = Vec::new();
        for batch in wanted.chunks(FETCH_BATCH) {
            taken.extend(
                self.fetch(antenna, batch)
                    .await?
                    .into_iter()
                    .map(|(key, data)| ChunkWrite::Put { key, data }),
            );
        }
        if !taken.is_empty() {
            store
                .write_all_local(taken)
                .await
                .ok_or("the antenna's store stopped")?;
        }
        // What this server holds and the database lacks (written while it
        // could not reach it, or erased there since).
        let chunks = AntennaChunks {
            antenna,
            shared: self.clone(),
        };
        let given: Vec<String> = held
            .iter()
            .filter(|k| is_document_chunk(k))
            .filter(|k| !in_database.contains(*k) && !erased_there.contains(document_of(k)))
            .cloned()
            .collect();
        for key in &given {
            let data = store
                .with({
                    let key = key.clone();
                    move |s| s.chunk(&key)
                })
                .await
                .map_err(database_error)?
                .map_err(database_error)?;
            if let Some(data) = data {
                chunks.put(key, &data).await?;
            }
        }
        let newly_erased: Vec<DocumentId> = erased_here
            .iter()
            .filter(|d| !erased_there.contains(*d))
            .filter_map(|d| d.parse().ok())
            .collect();
        if !newly_erased.is_empty() {
            chunks.erase(&newly_erased).await?;
        }
        if !wanted.is_empty() || !given.is_empty() {
            tracing::info!(%antenna, taken = wanted.len(), given = given.len(), "antenna reconciled with the database");
        }
        Ok(())
    }

    /// These chunks of `antenna`, opened.
    async fn fetch(
        &self,
        antenna: Uuid,
        keys: &[String],
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        let pool = self.registry.pool().map_err(database_error)?;
        let key = self
            .registry
            .data_key(antenna)
            .await
            .map_err(database_error)?;
        let rows = sqlx::query("SELECT key, data FROM chunks WHERE antenna = $1 AND key = ANY($2)")
            .bind(antenna)
            .bind(keys)
            .fetch_all(pool)
            .await
            .map_err(database_error)?;
        rows.iter()
            .map(|row| {
                let name: String = row.get("key");
                let sealed: Vec<u8> = row.get("data");
                let data = key
                    .open(&chunk_context(antenna, &name), &sealed)
                    .map_err(|e| format!("chunk {name}: {e}"))?;
                Ok((name, data))
            })
            .collect()
    }

    /// What `device` acknowledged of each document, on any server.
    pub async fn acknowledged(
        &self,
        antenna: Uuid,
        device: Uuid,
    ) -> Result<Vec<(DocumentId, Vec<automerge::ChangeHash>)>, RegistryError> {
        let rows = sqlx::query(
            "SELECT document, heads FROM acknowledged WHERE antenna = $1 AND device = $2",
        )
        .bind(antenna)
        .bind(device)
        .fetch_all(self.registry.pool()?)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let doc = row.get::<String, _>("document").parse().ok()?;
                let heads = row
                    .get::<String, _>("heads")
                    .split(',')
                    .filter(|h| !h.is_empty())
                    .map(str::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .ok()?;
                Some((doc, heads))
            })
            .collect())
    }

    /// Keep what `device` acknowledged, for every server.
    pub async fn acknowledge(
        &self,
        antenna: Uuid,
        device: Uuid,
        docs: &[(DocumentId, Vec<automerge::ChangeHash>)],
    ) -> Result<(), RegistryError> {
        let documents: Vec<String> = docs.iter().map(|(d, _)| d.to_string()).collect();
        let heads: Vec<String> = docs
            .iter()
            .map(|(_, h)| {
                h.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        sqlx::query(
            "INSERT INTO acknowledged (antenna, device, document, heads)
             SELECT $1, $2, d, h FROM unnest($3::text[], $4::text[]) AS t(d, h)
             ON CONFLICT (antenna, device, document) DO UPDATE SET heads = excluded.heads",
        )
        .bind(antenna)
        .bind(device)
        .bind(&documents)
        .bind(&heads)
        .execute(self.registry.pool()?)
        .await?;
        Ok(())
    }

    /// Tell every server that `device` of `antenna` was revoked.
    pub async fn announce_revocation(
        &self,
        antenna: Uuid,
        device: Uuid,
    ) -> Result<(), RegistryError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(REVOCATIONS_CHANNEL)
            .bind(format!("{} {antenna} {device}", self.instance))
            .execute(self.registry.pool()?)
            .await?;
        Ok(())
    }

    /// Run `job` for `antenna` only if no other server runs it now (a
    /// session advisory lock on the antenna): retention runs once per
    /// antenna whichever server holds it. `None` if another one does.
    pub async fn alone<T>(
        &self,
        antenna: Uuid,
        job: impl std::future::Future<Output = T>,
    ) -> Result<Option<T>, RegistryError> {
        let mut connection = self.registry.pool()?.acquire().await?;
        let lock = advisory_key(antenna);
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(lock)
            .fetch_one(&mut *connection)
            .await?;
        if !taken {
            return Ok(None);
        }
        let out = job.await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(lock)
            .execute(&mut *connection)
            .await?;
        Ok(Some(out))
    }

    /// Listen for what other servers store and revoke, for as long as the
    /// server runs; a lost connection is made again, and the antennas open
    /// here are then reconciled (announcements made meanwhile were lost).
    pub async fn listen(self, app: Weak<App>) {
        let arrivals = Arrivals {
            shared: self.clone(),
            waiting: Arc::default(),
        };
        loop {
            let listener = match self.registry.pool() {
                Ok(pool) => PgListener::connect_with(pool).await,
                Err(e) => Err(sqlx::Error::Protocol(e.to_string())),
            };
            let mut listener = match listener {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen to the database yet");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            if let Err(e) = listener
                .listen_all([CHUNKS_CHANNEL, REVOCATIONS_CHANNEL])
                .await
            {
                tracing::warn!(error = %e, "cannot listen to the database yet");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            // Whatever was announced before this listener: take it now.
            let Some(server) = app.upgrade() else { return };
            server.reconcile_open_antennas().await;
            drop(server);
            loop {
                let notification = match listener.try_recv().await {
                    Ok(Some(n)) => n,
                    // The connection was lost and made again.
                    Ok(None) => {
                        let Some(server) = app.upgrade() else { return };
                        server.reconcile_open_antennas().await;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the database's announcements; listening again");
                        break;
                    }
                };
                let Some(server) = app.upgrade() else { return };
                let mut parts = notification.payload().splitn(3, ' ');
                let (Some(from), Some(antenna), Some(what)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if from == self.instance.to_string() {
                    continue;
                }
                let Ok(antenna) = antenna.parse::<Uuid>() else {
                    continue;
                };
                match notification.channel() {
                    CHUNKS_CHANNEL => arrivals.announced(antenna, what.to_string(), &server),
                    REVOCATIONS_CHANNEL => {
                        if let Ok(device) = what.parse::<Uuid>() {
                            server.revoked_elsewhere(antenna, device).await;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The chunks other servers announced, fetched and taken in batches: one
/// worker per antenna with announcements waiting takes all that wait, in
/// one query and one transaction, while more are announced. When a night's
/// tablets come back at once, each server hears of a chunk or two for
/// every tablet the others serve.
struct Arrivals {
    shared: SharedDocuments,
    /// Keys announced and not taken yet, by antenna. An antenna is here
    /// while its worker runs.
    waiting: Waiting,
}

/// Keys announced and not taken yet, by antenna.
type Waiting = Arc<std::sync::Mutex<std::collections::HashMap<Uuid, Vec<String>>>>;

impl Arrivals {
    fn announced(&self, antenna: Uuid, key: String, server: &Arc<App>) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let idle = !waiting.contains_key(&antenna);
        waiting.entry(antenna).or_default().push(key);
        if !idle {
            return;
        }
        let (shared, waiting, server) = (self.shared.clone(), self.waiting.clone(), server.clone());
        // Apart from the listener: a slow antenna does not hold back the
        // others' announcements.
        tokio::spawn(async move {
            let _unwinding = ForgetOnPanic {
                waiting: waiting.clone(),
                antenna,
            };
            loop {
                let keys = {
                    let mut waiting = waiting.lock().unwrap_or_else(|p| p.into_inner());
                    match waiting.get_mut(&antenna) {
                        Some(keys) if !keys.is_empty() => std::mem::take(keys),
                        _ => {
                            waiting.remove(&antenna);
                            return;
                        }
                    }
                };
                let Some(hub) = server.open_hub(antenna).await else {
                    continue;
                };
                for batch in keys.chunks(FETCH_BATCH) {
                    let taken = match shared.fetch(antenna, batch).await {
                        Ok(chunks) => hub.arrived(chunks).await.map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = taken {
                        tracing::warn!(%antenna, error = %e, "cannot take changes another server stored");
                    }
                }
            }
        });
    }
}

/// A worker that panics (a chunk that trips a library) leaves its
/// antenna's queue behind it: forgotten, so that the next announcement
/// starts a worker again instead of queueing behind a dead one. What it
/// was taking, and what waited, is lost as a missed announcement is (a
/// device's load still reads the document through the database).
struct ForgetOnPanic {
    waiting: Waiting,
    antenna: Uuid,
}

impl Drop for ForgetOnPanic {
    fn drop(&mut self) {
        // Only when unwinding: a worker that ends normally has removed its
        // entry already, and another may have made a new one since.
        if std::thread::panicking() {
            self.waiting
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&self.antenna);
        }
    }
}

fn advisory_key(antenna: Uuid) -> i64 {
    let bytes = antenna.as_bytes();
    i64::from_le_bytes(bytes[..8].try_into().expect("16 bytes"))
}

/// One antenna's chunks in the database.
struct AntennaChunks {
    antenna: Uuid,
    shared: SharedDocuments,
}

#[async_trait::async_trait]
impl SharedChunks for AntennaChunks {
    async fn put(&self, key: &str, data: &[u8]) -> Result<(), String> {
        if !is_document_chunk(key) {
            return Ok(());
        }
        let registry = &self.shared.registry;
        let sealed = registry
            .data_key(self.antenna)
            .await
            .map_err(database_error)?
            .seal(&chunk_context(self.antenna, key), data);
        // Inserted and announced in one statement; nothing announced for a
        // chunk already there, nor for an erased case's.
        sqlx::query(
            "WITH new AS (
                INSERT INTO chunks (antenna, key, data)
                SELECT $1, $2, $3
                WHERE NOT EXISTS (
                    SELECT 1 FROM erased_documents WHERE antenna = $1 AND document = $4)
                ON CONFLICT DO NOTHING
                RETURNING key)
             SELECT pg_notify($5, $6 || ' ' || $1::text || ' ' || key) FROM new",
        )
        .bind(self.antenna)
        .bind(key)
        .bind(sealed)
        .bind(document_of(key))
        .bind(CHUNKS_CHANNEL)
        .bind(self.shared.instance.to_string())
        .execute(registry.pool().map_err(database_error)?)
        .await
        .map_err(database_error)?;
        Ok(())
    }

    async fn keys_under(&self, prefix: &[String]) -> Result<Vec<String>, String> {
        let Some(doc) = prefix.first() else {
            return Ok(Vec::new());
        };
        let pool = self.shared.registry.pool().map_err(database_error)?;
        // By the document (its index), then by the rest of the prefix.
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT key FROM chunks WHERE antenna = $1 AND split_part(key, '/', 1) = $2",
        )
        .bind(self.antenna)
        .bind(doc)
        .fetch_all(pool)
        .await
        .map_err(database_error)?;
        let whole = prefix.join("/");
        let under = format!("{whole}/");
        Ok(keys
            .into_iter()
            .filter(|k| *k == whole || k.starts_with(&under))
            .collect())
    }

    async fn chunks(&self, keys: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut chunks = Vec::new();
        for batch in keys.chunks(FETCH_BATCH) {
            chunks.extend(self.shared.fetch(self.antenna, batch).await?);
        }
        Ok(chunks)
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        sqlx::query("DELETE FROM chunks WHERE antenna = $1 AND key = $2")
            .bind(self.antenna)
            .bind(key)
            .execute(self.shared.registry.pool().map_err(database_error)?)
            .await
            .map_err(database_error)?;
        Ok(())
    }

    async fn erase(&self, docs: &[DocumentId]) -> Result<(), String> {
        let docs: Vec<String> = docs.iter().map(ToString::to_string).collect();
        let pool = self.shared.registry.pool().map_err(database_error)?;
        let mut tx = pool.begin().await.map_err(database_error)?;
        sqlx::query(
            "INSERT INTO erased_documents (antenna, document)
             SELECT $1, d FROM unnest($2::text[]) AS t(d) ON CONFLICT DO NOTHING",
        )
        .bind(self.antenna)
        .bind(&docs)
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        // A document's chunks are its id, or begin with it and a slash.
        sqlx::query(
            "DELETE FROM chunks WHERE antenna = $1
             AND split_part(key, '/', 1) = ANY($2::text[])",
        )
        .bind(self.antenna)
        .bind(&docs)
        .execute(&mut *tx)
        .await
        .map_err(database_error)?;
        tx.commit().await.map_err(database_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that panics leaves no queue behind, so the next
    /// announcement starts another; one that ends normally leaves alone
    /// the queue a newer announcement made.
    #[tokio::test]
    async fn a_worker_that_panics_leaves_no_queue_behind() {
        let waiting: Waiting = Arc::default();
        let antenna = Uuid::new_v4();
        let queue = |keys: Vec<String>| waiting.lock().expect("not poisoned").insert(antenna, keys);
        queue(vec!["a chunk".into()]);
        let worker = tokio::spawn({
            let waiting = waiting.clone();
            async move {
                let _unwinding = ForgetOnPanic { waiting, antenna };
                panic!("a chunk tripped a library");
            }
        });
        assert!(worker.await.is_err(), "the worker panicked");
        assert!(!waiting.lock().expect("not poisoned").contains_key(&antenna));

        queue(Vec::new());
        drop(ForgetOnPanic {
            waiting: waiting.clone(),
            antenna,
        });
        assert!(waiting.lock().expect("not poisoned").contains_key(&antenna));
    }
}
