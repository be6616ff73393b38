//! Backups, restores and moves between the two backends.
//!
//! One format for all three: every antenna's registry record
//! ([`AntennaRecord`]) and documents (their chunks, the erased cases'
//! documents, what each device acknowledged, so that nothing is sent again
//! after a restore), whichever backend they come from. A backup file is a
//! line of JSON saying what it is (format, version, the server's version,
//! when, the salt), then the whole, gzip'ed JSON, sealed by a key from the
//! server's passphrase ([`crate::envelope`]): it reveals nothing without
//! the passphrase, and a file from a newer server is refused with its
//! version, never misread.
//!
//! Online: a backup reads while the server runs (PostgreSQL in one
//! snapshot for the registry; each antenna's file, or its rows, as they
//! are at that moment). A restore and a move write into an empty place
//! only (a new data folder, an empty database), with the server stopped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use maraude_core::ids::{AntennaId, DeviceId};
use maraude_protocol::api;
use maraude_store::{ChunkWrite, DocumentId, Passphrase, Store};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::database::Connection;
use crate::envelope::{self, Key};
use crate::registry::{AntennaRecord, PostgresRegistry, Registry, SqliteRegistry};

const FORMAT: &str = "maraude-server-backup";
/// The format's version: a newer one is refused.
pub const VERSION: u32 = 1;
const CONTEXT: &[u8] = b"maraude server backup";

/// Where a server keeps everything.
#[derive(Debug, Clone)]
pub enum Place {
    /// A data folder: the registry's file and one store per antenna.
    Embedded(PathBuf),
    /// A PostgreSQL database.
    Postgres(Connection),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Embedded(dir) => write!(f, "the folder {}", dir.display()),
            Place::Postgres(_) => f.write_str("the PostgreSQL database"),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    server_version: String,
    created_at: DateTime<Utc>,
    salt: String,
}

/// Everything a server holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Contents {
    pub antennas: Vec<AntennaBackup>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AntennaBackup {
    pub registry: AntennaRecord,
    pub documents: Documents,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Documents {
    pub chunks: Vec<Chunk>,
    /// The erased cases' documents, whose chunks stay refused.
    pub erased: Vec<String>,
    pub acknowledged: Vec<Acknowledged>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Chunk {
    pub key: String,
    #[serde(with = "crate::registry::base64_bytes")]
    pub data: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Acknowledged {
    pub device: Uuid,
    pub document: String,
    pub heads: Vec<String>,
}

/// The registry of a place that holds a server's data, to read it: a
/// folder without one is refused, and nothing is written there.
async fn existing_registry(place: &Place, passphrase: &Passphrase) -> Result<Box<dyn Registry>> {
    if let Place::Embedded(dir) = place
        && !dir.join("registry.maraude").exists()
    {
        bail!(
            "no server's data in {}: give the data folder of a server (--data-dir, or data_dir in its config file)",
            dir.display()
        );
    }
    registry(place, passphrase).await
}

/// The place's registry, opened (made in a folder that has none yet).
async fn registry(place: &Place, passphrase: &Passphrase) -> Result<Box<dyn Registry>> {
    Ok(match place {
        Place::Embedded(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Box::new(SqliteRegistry::open(
                &dir.join("registry.maraude"),
                passphrase,
            )?)
        }
        Place::Postgres(connection) => Box::new(postgres(connection, passphrase).await?),
    })
}

async fn postgres(connection: &Connection, passphrase: &Passphrase) -> Result<PostgresRegistry> {
    let database = crate::database::Database::open(connection, passphrase.expose_secret())
        .await
        .context("cannot use the database")?;
    Ok(PostgresRegistry::new(database))
}

fn store_path(dir: &Path, antenna: Uuid) -> PathBuf {
    dir.join("antennas").join(format!("{antenna}.maraude"))
}

/// Everything `place` holds.
pub async fn read(place: &Place, passphrase: &Passphrase) -> Result<Contents> {
    let records = existing_registry(place, passphrase).await?.export().await?;
    let database = match place {
        Place::Postgres(connection) => Some(postgres(connection, passphrase).await?),
        Place::Embedded(_) => None,
    };
    let mut antennas = Vec::new();
    for record in records {
        let documents = match (place, &database) {
            (Place::Embedded(dir), _) => read_store(&store_path(dir, record.id), passphrase)?,
            (Place::Postgres(_), Some(db)) => read_rows(db, record.id).await?,
            (Place::Postgres(_), None) => unreachable!("opened above"),
        };
        antennas.push(AntennaBackup {
            registry: record,
            documents,
        });
    }
    Ok(Contents { antennas })
}

fn read_store(path: &Path, passphrase: &Passphrase) -> Result<Documents> {
    if !path.exists() {
        // Registered, never synced.
        return Ok(Documents::default());
    }
    let store =
        Store::open(path, passphrase).with_context(|| format!("cannot open {}", path.display()))?;
    let mut chunks = Vec::new();
    for key in store.chunk_keys()? {
        if let Some(data) = store.chunk(&key)? {
            chunks.push(Chunk { key, data });
        }
    }
    let erased = store
        .erased_documents()?
        .iter()
        .map(ToString::to_string)
        .collect();
    let acknowledged = store
        .all_shared()?
        .into_iter()
        .filter_map(|(peer, doc, heads)| {
            Some(Acknowledged {
                device: api::device_of_peer(&peer)?,
                document: doc.to_string(),
                heads: heads.iter().map(ToString::to_string).collect(),
            })
        })
        .collect();
    Ok(Documents {
        chunks,
        erased,
        acknowledged,
    })
}

async fn read_rows(registry: &PostgresRegistry, antenna: Uuid) -> Result<Documents> {
    let pool = registry.pool()?;
    let key = registry.data_key(antenna).await?;
    let mut chunks = Vec::new();
    for row in sqlx::query("SELECT key, data FROM chunks WHERE antenna = $1 ORDER BY key")
        .bind(antenna)
        .fetch_all(pool)
        .await?
    {
        let name: String = row.get("key");
        let data = key
            .open(
                &crate::shared::chunk_context(antenna, &name),
                row.get("data"),
            )
            .with_context(|| format!("the chunk {name} of antenna {antenna}"))?;
        chunks.push(Chunk { key: name, data });
    }
    let erased = sqlx::query_scalar("SELECT document FROM erased_documents WHERE antenna = $1")
        .bind(antenna)
        .fetch_all(pool)
        .await?;
    let acknowledged =
        sqlx::query("SELECT device, document, heads FROM acknowledged WHERE antenna = $1")
            .bind(antenna)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Acknowledged {
                device: r.get("device"),
                document: r.get("document"),
                heads: r
                    .get::<String, _>("heads")
                    .split(',')
                    .filter(|h| !h.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
            .collect();
    Ok(Documents {
        chunks,
        erased,
        acknowledged,
    })
}

/// Write `contents` into `place`, which must hold no antenna yet.
pub async fn write(place: &Place, passphrase: &Passphrase, contents: &Contents) -> Result<()> {
    let registry = registry(place, passphrase).await?;
    let held = registry.antennas().await?;
    if !held.is_empty() {
        bail!(
            "{place} already holds {} antenna(s): restore into an empty one (a new data folder, or an empty database)",
            held.len()
        );
    }
    // The documents first: a registry written last is the mark of a
    // restore that went through (an interrupted one is run again into an
    // empty place).
    let database = match place {
        Place::Postgres(connection) => Some(postgres(connection, passphrase).await?),
        Place::Embedded(_) => None,
    };
    let records: Vec<AntennaRecord> = contents
        .antennas
        .iter()
        .map(|a| a.registry.clone())
        .collect();
    match (place, &database) {
        (Place::Embedded(dir), _) => {
            for a in &contents.antennas {
                write_store(&store_path(dir, a.registry.id), passphrase, a)?;
            }
            registry.import(&records).await?;
        }
        (Place::Postgres(_), Some(db)) => {
            // One transaction: the chunks are sealed by the data keys the
            // registry's import makes, and a restore cut half-way (the
            // database gone, the command killed) leaves nothing behind.
            let (mut tx, keys) = db.begin_import(&records).await?;
            for a in &contents.antennas {
                let key = keys
                    .get(&a.registry.id)
                    .context("the restore made no data key for an antenna")?;
                write_rows(&mut tx, key, a).await?;
            }
            tx.commit().await?;
        }
        (Place::Postgres(_), None) => unreachable!("opened above"),
    }
    Ok(())
}

fn write_store(path: &Path, passphrase: &Passphrase, antenna: &AntennaBackup) -> Result<()> {
    if antenna.documents.chunks.is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if path.exists() {
        // Left by an interrupted restore: this one starts it again.
        std::fs::remove_file(path).with_context(|| format!("cannot replace {}", path.display()))?;
    }
    let mut store = Store::create_empty(
        path,
        passphrase,
        AntennaId::from_uuid(antenna.registry.id),
        DeviceId::new(),
    )?;
    store.apply_chunks(
        antenna
            .documents
            .chunks
            .iter()
            .map(|c| ChunkWrite::Put {
                key: c.key.clone(),
                data: c.data.clone(),
            })
            .collect(),
    )?;
    let mut by_device: std::collections::BTreeMap<
        Uuid,
        Vec<(DocumentId, Vec<automerge::ChangeHash>)>,
    > = std::collections::BTreeMap::new();
    for a in &antenna.documents.acknowledged {
        let (Ok(doc), Ok(heads)) = (
            a.document.parse::<DocumentId>(),
            a.heads
                .iter()
                .map(|h| h.parse())
                .collect::<Result<Vec<_>, _>>(),
        ) else {
            continue;
        };
        by_device.entry(a.device).or_default().push((doc, heads));
    }
    for (device, docs) in by_device {
        store.mark_shared(&api::device_peer(&device), &docs)?;
    }
    Ok(())
}

async fn write_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    key: &Key,
    antenna: &AntennaBackup,
) -> Result<()> {
    let id = antenna.registry.id;
    for c in &antenna.documents.chunks {
        sqlx::query(
            "INSERT INTO chunks (antenna, key, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(&c.key)
        .bind(key.seal(&crate::shared::chunk_context(id, &c.key), &c.data))
        .execute(&mut **tx)
        .await?;
    }
    for doc in &antenna.documents.erased {
        sqlx::query("INSERT INTO erased_documents (antenna, document) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(doc)
            .execute(&mut **tx)
            .await?;
    }
    for a in &antenna.documents.acknowledged {
        sqlx::query(
            "INSERT INTO acknowledged (antenna, device, document, heads) VALUES ($1, $2, $3, $4)
             ON CONFLICT (antenna, device, document) DO UPDATE SET heads = excluded.heads",
        )
        .bind(id)
        .bind(a.device)
        .bind(&a.document)
        .bind(a.heads.join(","))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// `contents` as a backup file's bytes, sealed by the passphrase.
pub fn seal(contents: &Contents, passphrase: &Passphrase) -> Result<Vec<u8>> {
    let salt = envelope::new_salt();
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        server_version: env!("CARGO_PKG_VERSION").into(),
        created_at: Utc::now(),
        salt: data_encoding::HEXLOWER.encode(&salt),
    };
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    serde_json::to_writer(&mut gzip, contents)?;
    let body = gzip.finish()?;
    let key = Key::from_passphrase(passphrase.expose_secret(), &salt)?;
    let mut out = serde_json::to_vec(&header)?;
    out.push(b'\n');
    out.extend(key.seal(CONTEXT, &body));
    Ok(out)
}

/// A backup file's contents, opened with the passphrase.
pub fn open(bytes: &[u8], passphrase: &Passphrase) -> Result<Contents> {
    let newline = bytes
        .iter()
        .position(|b| *b == b'\n')
        .context("not a maraude-server backup (no header line)")?;
    let header: Header = serde_json::from_slice(&bytes[..newline])
        .context("not a maraude-server backup (its header does not read)")?;
    if header.format != FORMAT {
        bail!(
            "not a maraude-server backup (its header says {:?})",
            header.format
        );
    }
    if header.version > VERSION {
        bail!(
            "this backup is of format {} (written by maraude-server {}): this server reads up to format {VERSION}; restore it with maraude-server {} or newer",
            header.version,
            header.server_version,
            header.server_version
        );
    }
    let salt = data_encoding::HEXLOWER
        .decode(header.salt.as_bytes())
        .context("the backup's salt does not read")?;
    let key = Key::from_passphrase(passphrase.expose_secret(), &salt)?;
    let body = key.open(CONTEXT, &bytes[newline + 1..]).map_err(|_| {
        anyhow::anyhow!("the backup does not open with this passphrase (another server's, or the file was altered)")
    })?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_end(&mut json)
        .context("the backup's body does not inflate")?;
    serde_json::from_slice(&json).context("the backup's body does not read")
}

/// Write `bytes` to `path` whole or not at all (a temporary file beside
/// it, renamed), readable by its owner only.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
