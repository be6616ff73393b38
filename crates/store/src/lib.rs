//! # maraude-store
//!
//! A device's encrypted local store: the antenna's Automerge documents, kept
//! durable in one SQLCipher file, with a materialized index that serves every
//! listing and report without loading documents.
//!
//! ## The model
//!
//! - **Chunks** (`chunks` table, [`chunks`]): the truth. Each document is a
//!   set of samod storage chunks — one per Automerge change, compacted into
//!   a snapshot as it grows. Every local change appends its chunks inside
//!   the same SQLite transaction as its index rows; the call returns after
//!   the commit (WAL, `synchronous=FULL`), so an acknowledged entry survives
//!   a crash or a pulled battery (but in a base server's cache of a shared
//!   database, [`Store::make_cache`]).
//! - **Index** ([`index`]): rows derived from documents through the core's
//!   row types; rebuilt with [`Store::rebuild_index`].
//! - **Encryption** ([`key`]): the whole file (and its WAL) is encrypted by
//!   SQLCipher with a key derived from the antenna passphrase by Argon2id.
//!
//! ## The typical workflow
//!
//! [`Store::create`] or [`Store::open`] with a [`Passphrase`]; then
//! [`Store::start_shift`], [`Store::log`], [`Store::edit_entry`],
//! [`Store::void_entry`], [`Store::open_case`], [`Store::end_shift`];
//! reports with [`Store::night_report`] and [`Store::period_report`].
//! The sync layer uses the merge API: [`Store::heads`],
//! [`Store::changes_since`], [`Store::import`].
//!
//! ## Where things are
//!
//! This file: opening, creating and removing a store, and the one write
//! path every change takes. `records`: the antenna, shifts, entries and
//! cases as tablets write them, erasure included (its table work in
//! `erasure`). `lookups`: ids by their first characters, reports and
//! lists. `syncing`: what the sync layer needs (documents, chunks, heads,
//! what peers hold, the server link; the SQL in `replica` and `link`).
//! `index`: the derived rows. `forensic`: reading a store file as an
//! examiner would.
//!
//! It knows nothing of the network, the CLI or the app shell.

mod chunks;
mod clearing;
mod erasure;
mod error;
pub mod forensic;
mod index;
mod key;
mod link;
mod lookups;
mod minimising;
mod recent;
mod records;
mod replica;
mod schema;
mod syncing;
mod unsaved;
mod warehouse;

use std::path::{Path, PathBuf};

use automerge::ChangeHash;
use chrono::Utc;
use maraude_core::antenna::Antenna;
use maraude_core::document::{AntennaDoc, AnyDocument, Document, EntryLog, ShiftDoc, TabletLogDoc};
use maraude_core::entry::{Author, Entry, EntryEdit};
use maraude_core::ids::{AntennaId, CaseId, DeviceId, EntryId, Nickname, ShiftId};
use maraude_core::shift::{Shift, TabletLog};
use recent::RecentDocuments;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use serde::Serialize;

pub use chunks::document_id;
pub use clearing::Cleared;
pub use error::StoreError;
pub use key::{Passphrase, StoreKey, leave_freed_memory_unwiped, page_key, wipe_stack};
pub use link::{DeviceCertificate, RecordedSync, ServerLink};
pub use minimising::{FiguresOnly, Minimised};
pub use replica::{ChunkWrite, ChunksApplied, ReadAhead};
pub use unsaved::MAX_UNSAVED_BYTES;

/// Open (or create) an SQLCipher file other than a store with the same key
/// derivation: the base server's device registry.
pub fn open_encrypted_file(
    path: &Path,
    passphrase: &Passphrase,
    create: bool,
) -> Result<Connection> {
    let conn = key::open_encrypted(path, passphrase, create)?;
    configure(&conn)?;
    Ok(conn)
}
pub use samod_core::DocumentId;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One device's store for one antenna.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: DeviceId,
    antenna: AntennaId,
    recent: RecentDocuments,
}

/// What an import brought.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub new_document: bool,
    pub changes_received: usize,
    pub changes_new: usize,
}

/// Figures about the file, for `maraude status` and the benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStats {
    pub documents: i64,
    pub chunks: i64,
    pub chunk_bytes: i64,
    pub shifts: i64,
    pub entries: i64,
    pub open_cases: i64,
    pub file_bytes: u64,
}

/// 32 MiB of page cache: a year's entry figures (~20 MB) stay decrypted
/// between two reports instead of being decrypted again page by page.
/// `secure_delete`: deleted rows are overwritten with zeros, so an erased
/// case is not left in free space for someone who has the passphrase.
fn configure(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -32768;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

impl Store {
    /// Remove the store at `path` with its write-ahead log: a tablet
    /// handed over, or to join again. Closed first (every handle dropped);
    /// files already gone are no error.
    pub fn remove(path: &Path) -> Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(StoreError::Remove {
                        path: PathBuf::from(file).display().to_string(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Create a new store for a new antenna, with the default catalogue.
    pub fn create(path: &Path, passphrase: &Passphrase, antenna_name: &str) -> Result<Self> {
        let antenna = Antenna::new(antenna_name)?;
        Self::create_for(path, passphrase, &antenna)
    }

    /// Create a store on this device for `antenna`.
    pub fn create_for(path: &Path, passphrase: &Passphrase, antenna: &Antenna) -> Result<Self> {
        let mut store = Self::create_empty(path, passphrase, antenna.id, DeviceId::new())?;
        store.write(|tx, ctx| {
            let mut doc = AntennaDoc::create(antenna, &ctx.device)?;
            save_document(tx, &antenna.id.as_uuid().to_owned(), &mut doc, &[])?;
            index::put_antenna(tx, antenna)?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Create a store for an antenna whose documents arrive by sync: a
    /// device joining with an enrolment code, or the base server. Until its
    /// first sync it holds no document. `device` is the id the device
    /// enrolled with.
    pub fn create_empty(
        path: &Path,
        passphrase: &Passphrase,
        antenna: AntennaId,
        device: DeviceId,
    ) -> Result<Self> {
        Self::create_empty_with(path, passphrase.into(), antenna, device)
    }

    /// [`Self::create_empty`] with a key given whole instead of derived
    /// from a passphrase: for a base server's cache of an antenna, keyed
    /// from that antenna's data key in the database, so that opening it
    /// costs no Argon2 derivation. Open it again with
    /// [`Self::open_with_key`].
    pub fn create_empty_with_key(
        path: &Path,
        key: &StoreKey,
        antenna: AntennaId,
        device: DeviceId,
    ) -> Result<Self> {
        Self::create_empty_with(path, key.into(), antenna, device)
    }

    fn create_empty_with(
        path: &Path,
        secret: key::Secret<'_>,
        antenna: AntennaId,
        device: DeviceId,
    ) -> Result<Self> {
        let mut conn = key::open_encrypted(path, secret, true)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO device (id, device_id, antenna_id, created_at) VALUES (1, ?1, ?2, ?3)",
            params![
                device.to_string(),
                antenna.to_string(),
                index::ts(Utc::now())
            ],
        )?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device,
            antenna,
            recent: RecentDocuments::default(),
        })
    }

    /// Open an existing store. A wrong passphrase, a file from a newer app,
    /// or a file that is not an encrypted store each give their own error.
    pub fn open(path: &Path, passphrase: &Passphrase) -> Result<Self> {
        Self::open_with(path, passphrase.into())
    }

    /// Open an existing store with its key (a quick unlock gives it back
    /// without the passphrase). A key that is not this file's is refused
    /// as a wrong passphrase is.
    pub fn open_with_key(path: &Path, key: &StoreKey) -> Result<Self> {
        Self::open_with(path, key.into())
    }

    fn open_with(path: &Path, secret: key::Secret<'_>) -> Result<Self> {
        let mut conn = key::open_encrypted(path, secret, false)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        let (device, antenna): (String, String) =
            conn.query_row("SELECT device_id, antenna_id FROM device", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device: device.parse()?,
            antenna: antenna.parse()?,
            recent: RecentDocuments::default(),
        })
    }

    /// Make this store a cache of a copy kept durably elsewhere (a base
    /// server's store of an antenna whose truth is the shared PostgreSQL
    /// database): commits no longer wait for the disk. The write-ahead log
    /// still keeps the file whole through a crash; the last commits before
    /// it may be lost, and the server takes them back from the database
    /// when it opens the antenna again. Every other store waits, so that an
    /// acknowledged entry survives a pulled battery.
    pub fn make_cache(&self) -> Result<()> {
        self.conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }

    pub fn antenna_id(&self) -> AntennaId {
        self.antenna
    }

    fn author(&self, by: &Nickname) -> Author {
        Author {
            by: by.clone(),
            device: self.device,
            now: maraude_core::time::to_the_second(Utc::now()),
        }
    }

    /// Run `f` in one IMMEDIATE transaction: documents are loaded, changed
    /// and appended, and index rows written, all or nothing.
    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>, &mut Ctx) -> Result<T>) -> Result<T> {
        let mut ctx = Ctx {
            device: self.device,
            antenna: self.antenna,
            recent: &mut self.recent,
            erased: Vec::new(),
            deleted: false,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx, &mut ctx)?;
        tx.commit()?;
        if !ctx.erased.is_empty() || ctx.deleted {
            // The WAL may still hold pages written before the erasure.
            self.checkpoint()?;
        }
        Ok(out)
    }

    /// Drop the index and derive it again from the documents. A document
    /// that cannot be indexed is quarantined, not fatal (see `replica`).
    pub fn rebuild_index(&mut self) -> Result<()> {
        self.write(reindex_all)
    }

    /// The index as sorted text lines, to compare two stores or an index
    /// with its rebuilt self.
    pub fn index_dump(&self) -> Result<Vec<String>> {
        index::dump(&self.conn)
    }

    pub fn stats(&self) -> Result<StoreStats> {
        let one = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(StoreStats {
            documents: one("SELECT count(*) FROM documents")?,
            chunks: one("SELECT count(*) FROM chunks")?,
            chunk_bytes: one("SELECT coalesce(sum(length(data)), 0) FROM chunks")?,
            shifts: one("SELECT count(*) FROM shifts")?,
            entries: one("SELECT count(*) FROM entry_figures")?,
            open_cases: one("SELECT count(*) FROM cases WHERE open = 1")?,
            file_bytes: ["", "-wal"]
                .iter()
                .filter_map(|s| std::fs::metadata(format!("{}{}", self.path.display(), s)).ok())
                .map(|m| m.len())
                .sum(),
        })
    }

    /// Fold the write-ahead log into the main file (on close, before a copy).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// Who writes, for the closures run inside [`Store::write`].
struct Ctx<'a> {
    device: DeviceId,
    antenna: AntennaId,
    recent: &'a mut RecentDocuments,
    /// Cases whose document this write deleted (see `erasure`).
    erased: Vec<CaseId>,
    /// Documents were deleted: checkpoint the WAL after the commit.
    deleted: bool,
}

/// The index dropped and derived again from every document's chunks.
fn reindex_all(tx: &Transaction<'_>, ctx: &mut Ctx) -> Result<()> {
    index::clear(tx)?;
    for doc in chunks::document_ids(tx)? {
        replica::reindex(tx, ctx, &doc, replica::Unchanged::Derive)?;
    }
    Ok(())
}

fn samod_key(doc: &DocumentId) -> samod_core::StorageKey {
    samod_core::StorageKey::from_parts([doc.to_string()])
        .expect("a document id is a valid key part")
}

fn check_antenna(doc: &DocumentId, antenna: AntennaId, ctx: &Ctx) -> Result<()> {
    if antenna != ctx.antenna {
        return Err(StoreError::ForeignDocument {
            doc: doc.to_string(),
        });
    }
    Ok(())
}

/// The one way a stored document changes: load it, apply `change` (core
/// logic), append the new changes as chunks. The caller updates the index
/// rows the change touched, in the same transaction.
fn change_document<D: Document, T>(
    tx: &Connection,
    ctx: &mut Ctx,
    record: &uuid::Uuid,
    missing: impl FnOnce() -> StoreError,
    change: impl FnOnce(&mut D) -> Result<T, maraude_core::DocumentError>,
) -> Result<T> {
    let id = document_id(record);
    let mut doc: D = match ctx.recent.take(tx, &id)? {
        Some(doc) => D::from_automerge(doc),
        None => chunks::load(tx, &id, &ctx.device)?.ok_or_else(missing)?,
    };
    let heads = doc.heads();
    let out = change(&mut doc)?;
    append(tx, &id, &mut doc, &heads, D::TYPE, &record.to_string())?;
    ctx.recent.keep(id, doc.into_automerge());
    Ok(out)
}

fn missing_shift(shift: &ShiftId) -> impl FnOnce() -> StoreError + '_ {
    || StoreError::NoSuchShift(shift.short())
}

/// A tablet log the index knows of but this store does not hold (a store
/// restored from an older copy): the next sync brings it.
fn missing_log(entry: &EntryId) -> impl FnOnce() -> StoreError + '_ {
    || {
        StoreError::BadDocument(format!(
            "the tablet log of entry {} is not on this tablet yet: sync with the server or a teammate, then try again",
            entry.short()
        ))
    }
}

/// A new entry, a correction or a void, in whichever document holds the
/// entries.
enum EntryChange<'a> {
    Log(&'a Entry),
    Edit(EntryEdit, &'a Antenna, Author),
    Void(&'a str, Author),
}

impl EntryChange<'_> {
    fn apply<D: EntryLog>(
        self,
        doc: &mut D,
        id: &EntryId,
        shift: &Shift,
    ) -> Result<Entry, maraude_core::DocumentError> {
        match self {
            Self::Log(entry) => doc.log(entry, shift).map(|()| entry.clone()),
            Self::Edit(edit, antenna, author) => doc.edit(id, edit, shift, antenna, &author),
            Self::Void(reason, author) => doc.void(id, reason, &author),
        }
    }
}

/// Apply `change` to entry `id` in the document of `record`, which holds
/// entries of `shift`: the shift document itself, or a tablet log.
fn change_entries(
    tx: &Connection,
    ctx: &mut Ctx,
    shift: &Shift,
    record: &uuid::Uuid,
    id: &EntryId,
    change: EntryChange,
) -> Result<Entry> {
    if record == shift.id.as_uuid() {
        change_document(
            tx,
            ctx,
            record,
            missing_shift(&shift.id),
            |d: &mut ShiftDoc| change.apply(d, id, shift),
        )
    } else {
        change_document(tx, ctx, record, missing_log(id), |d: &mut TabletLogDoc| {
            change.apply(d, id, shift)
        })
    }
}

/// Log `entry` where this tablet logs `shift`'s entries: the shift
/// document if it started the shift, else its own tablet log, which its
/// first entry there starts and the shift document links to.
fn log_entry(tx: &Connection, ctx: &mut Ctx, shift: &ShiftId, entry: &Entry) -> Result<()> {
    let shift = index::shift(tx, shift)?.ok_or_else(missing_shift(shift))?;
    let device = ctx.device;
    let log = match index::tablet_log_of(tx, &shift.id, &device)? {
        Some(log) => {
            change_entries(tx, ctx, &shift, &log, &entry.id, EntryChange::Log(entry))?;
            log
        }
        None => {
            let log = TabletLog::new(&shift, device);
            let mut doc = TabletLogDoc::create(&log, &device)?;
            doc.log(entry, &shift)?;
            save_document(tx, log.id.as_uuid(), &mut doc, &[])?;
            index::put_tablet_log(tx, &log, &[])?;
            change_document(
                tx,
                ctx,
                shift.id.as_uuid(),
                missing_shift(&shift.id),
                |d: &mut ShiftDoc| d.add_log(&device, &log.id),
            )?;
            *log.id.as_uuid()
        }
    };
    index::put_entry(tx, &shift.filing(), &log.to_string(), entry)
}

fn missing_antenna() -> StoreError {
    StoreError::BadDocument("this store has lost its antenna document".into())
}

/// A new document: one snapshot chunk, and its row in `documents`.
fn save_document<D: Document>(
    tx: &Connection,
    record: &uuid::Uuid,
    doc: &mut D,
    heads: &[ChangeHash],
) -> Result<()> {
    let id = document_id(record);
    append(tx, &id, doc, heads, D::TYPE, &record.to_string())
}

fn append<D: Document>(
    tx: &Connection,
    id: &DocumentId,
    doc: &mut D,
    heads: &[ChangeHash],
    kind: &str,
    record: &str,
) -> Result<()> {
    chunks::append(tx, id, doc.automerge(), heads)?;
    index::put_document(tx, &id.to_string(), kind, record, &doc.heads())
}

fn list_in_antenna(
    tx: &Connection,
    ctx: &mut Ctx,
    add: impl FnOnce(&mut AntennaDoc) -> Result<(), maraude_core::DocumentError>,
) -> Result<()> {
    let id = ctx.antenna;
    change_document(tx, ctx, id.as_uuid(), missing_antenna, add)?;
    Ok(())
}

/// Merge `bytes` into the document they belong to (`doc`, when the caller
/// knows which it expects), check the result, append the new changes and
/// re-derive the document's index rows.
fn merge(
    tx: &Connection,
    ctx: &mut Ctx,
    expected: Option<&DocumentId>,
    bytes: &[u8],
) -> Result<ImportSummary> {
    let bad = |e: automerge::AutomergeError| StoreError::BadDocument(format!("cannot decode: {e}"));
    let mut incoming = automerge::AutoCommit::new();
    let received = incoming.load_incremental(bytes).map_err(bad)?;
    let doc = match expected {
        Some(doc) => doc.clone(),
        None => {
            let any = AnyDocument::load([incoming.save().as_slice()], &ctx.device)?;
            document_id(&any.record_id()?)
        }
    };
    let summary_of_nothing = ImportSummary {
        new_document: false,
        changes_received: received,
        changes_new: 0,
    };
    if erasure::is_erased(tx, &doc)? {
        return Ok(summary_of_nothing);
    }
    let existing = chunks::load_range(tx, &samod_key(&doc))?;
    let mut merged = automerge::AutoCommit::new();
    for (_, c) in &existing {
        merged.load_incremental(c).map_err(bad)?;
    }
    let before = merged.get_heads();
    merged.load_incremental(bytes).map_err(bad)?;
    let fresh = merged.get_changes(&before).len();
    let summary = ImportSummary {
        new_document: existing.is_empty(),
        changes_received: received,
        changes_new: fresh,
    };
    if fresh == 0 {
        return Ok(summary);
    }
    let mut any = replica::as_document(merged, &ctx.device)?;
    let (kind, record) = replica::put_rows(tx, ctx, &doc, &any)?;
    let merged = any.automerge();
    chunks::append(tx, &doc, merged, &before)?;
    index::put_document(
        tx,
        &doc.to_string(),
        kind,
        &record.to_string(),
        &merged.get_heads(),
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_from_a_newer_app_is_refused_with_its_version_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.maraude");
        let pass = Passphrase::new("dunes du nord 2026".into());
        drop(Store::create(&path, &pass, "Calais").unwrap());
        let conn = key::open_encrypted(&path, &pass, false).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
        drop(conn);
        let err = Store::open(&path, &pass).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerFormat { found: 99, known } if known == schema::latest()
            ),
            "{err}"
        );
        assert!(err.to_string().contains("update Maraude"), "{err}");
        let conn = key::open_encrypted(&path, &pass, false).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99);
    }
}
