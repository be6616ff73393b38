//! What the sync layer needs from the store.
//!
//! - **Chunks under samod's keys**: samod reads and writes the `chunks`
//!   table as its storage. Its writes come here in batches; each batch is
//!   one transaction that also re-derives the index rows and the
//!   `documents.heads` of every document it touched (the invariant
//!   `recent.rs` rests on).
//! - **Quarantine**: samod has already accepted a change in memory when it
//!   asks us to store it, so storing cannot refuse. A document that is not a
//!   well-formed document of this antenna under its own record's id keeps
//!   its chunks but is not indexed; the reason is kept in `quarantine`.
//! - **What each peer has** (`peer_heads`): the heads a peer was last known
//!   to share, per document, so that a reconnection only touches the
//!   documents that changed since.

use automerge::ChangeHash;
use maraude_core::access::Subject;
use std::collections::{BTreeMap, HashMap};

use maraude_core::antenna::Antenna;
use maraude_core::case::Case;
use maraude_core::document::{
    AntennaDoc, AnyDocument, CaseDoc, CaseRef, Document, EntryLog, ShiftDoc, TabletLogDoc,
    Warehouse, WarehouseDoc,
};
use maraude_core::entry::Entry;
use maraude_core::ids::CaseId;
use maraude_core::ids::DeviceId;
use maraude_core::shift::{Shift, TabletLog};
use maraude_core::warehouse::StockMovement;
use rusqlite::{Connection, OptionalExtension, params};
use samod_core::{CompactionHash, DocumentId};

use crate::error::StoreError;
use crate::{Ctx, check_antenna, chunks, document_id, erasure, index, samod_key};

/// One storage operation samod asked for.
#[derive(Debug, Clone)]
pub enum ChunkWrite {
    Put { key: String, data: Vec<u8> },
    Delete { key: String },
}

/// What a batch of chunk writes did to the documents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunksApplied {
    /// Documents whose index rows were derived again.
    pub indexed: Vec<DocumentId>,
    /// Documents kept but not indexed, with the reason.
    pub quarantined: Vec<(DocumentId, String)>,
    /// Cases' documents erased by what was written (an antenna document
    /// with their tombstones): a server sharing its chunks with others
    /// erases them there too.
    pub erased: Vec<DocumentId>,
}

/// The `documents.type` of a document kept but not indexed.
const QUARANTINED: &str = "invalid";

/// The document a chunk key belongs to, if it is a document key
/// (`storage-adapter-id` is not).
pub(crate) fn document_of(key: &str) -> Option<DocumentId> {
    let (doc, _) = key.split_once('/')?;
    doc.parse().ok()
}

pub(crate) fn apply(
    tx: &Connection,
    ctx: &mut Ctx,
    writes: Vec<ChunkWrite>,
    ahead: Vec<ReadAhead>,
) -> Result<ChunksApplied, StoreError> {
    let mut touched: Vec<DocumentId> = Vec::new();
    // The documents read ahead, and whether this batch also put another
    // chunk of theirs (then what was read is not all there is).
    let mut ahead: HashMap<DocumentId, (ReadAhead, bool)> = ahead
        .into_iter()
        .map(|a| (a.doc.clone(), (a, false)))
        .collect();
    for write in writes {
        match write {
            ChunkWrite::Put { key, data } => {
                let doc = document_of(&key);
                if let Some(doc) = &doc
                    && let Some((read, other)) = ahead.get_mut(doc)
                {
                    *other |= read.key != key;
                }
                // An erased case does not come back through a peer that
                // has not heard yet.
                if let Some(doc) = &doc
                    && erasure::is_erased(tx, doc)?
                {
                    continue;
                }
                tx.prepare_cached("INSERT OR REPLACE INTO chunks (key, data) VALUES (?1, ?2)")?
                    .execute(params![key, data])?;
                if let Some(doc) = doc
                    && !touched.contains(&doc)
                    && !snapshot_of_recorded_heads(tx, &doc, &key)?
                {
                    touched.push(doc);
                }
            }
            // A delete follows samod's own compaction: the content is in
            // the snapshot it has just put, so the index does not change.
            ChunkWrite::Delete { key } => {
                tx.prepare_cached("DELETE FROM chunks WHERE key = ?1")?
                    .execute(params![key])?;
            }
        }
    }
    let mut applied = ChunksApplied::default();
    for doc in touched {
        let read = ahead
            .remove(&doc)
            .and_then(|(read, other)| (!other).then_some(read));
        match reindex_with(tx, ctx, &doc, Unchanged::Skip, read)? {
            Reindexed::Derived => applied.indexed.push(doc),
            Reindexed::Unchanged => {}
            Reindexed::Quarantined(reason) => applied.quarantined.push((doc, reason)),
        }
    }
    applied.erased = ctx
        .erased
        .iter()
        .map(|case| crate::document_id(case.as_uuid()))
        .collect();
    Ok(applied)
}

/// Whether `key` is the snapshot of exactly the heads whose rows the index
/// holds for `doc`. samod puts one each time it loads a document of more
/// than ten changes (every document a sync `find`s) and compacts it: the
/// same content, so there is nothing to derive again, not even to load.
/// A snapshot's key names the SHA-256 of its heads.
fn snapshot_of_recorded_heads(
    tx: &Connection,
    doc: &DocumentId,
    key: &str,
) -> Result<bool, StoreError> {
    Ok(indexed_snapshot_key(tx, doc)?.is_some_and(|indexed| indexed == key))
}

/// The key of a snapshot of exactly the heads whose rows the index holds
/// for `doc`; none for a document not indexed (or quarantined).
pub(crate) fn indexed_snapshot_key(
    conn: &Connection,
    doc: &DocumentId,
) -> Result<Option<String>, StoreError> {
    Ok(match recorded(conn, doc)? {
        Some((kind, heads)) if kind != QUARANTINED => {
            let heads = parse_heads(&heads);
            (!heads.is_empty()).then(|| {
                samod_core::StorageKey::snapshot_path(doc, &CompactionHash::new(&heads)).to_string()
            })
        }
        _ => None,
    })
}

/// Whether [`reindex`] may leave the rows of a document whose heads are
/// those the index records (samod storing again what it loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unchanged {
    Skip,
    Derive,
}

/// What [`reindex`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reindexed {
    Derived,
    /// The index already held the rows of these heads.
    Unchanged,
    /// Kept but not indexed, for this reason.
    Quarantined(String),
}

/// Derive `doc`'s index rows again from its chunks. A document that cannot
/// be indexed is quarantined instead (its heads are still recorded, so a
/// kept copy in `recent.rs` is known to be stale).
pub(crate) fn reindex(
    tx: &Connection,
    ctx: &mut Ctx,
    doc: &DocumentId,
    unchanged: Unchanged,
) -> Result<Reindexed, StoreError> {
    reindex_with(tx, ctx, doc, unchanged, None)
}

/// [`reindex`], from what was read ahead of the write when it is the
/// whole of what the store now holds of `doc`.
fn reindex_with(
    tx: &Connection,
    ctx: &mut Ctx,
    doc: &DocumentId,
    unchanged: Unchanged,
    ahead: Option<ReadAhead>,
) -> Result<Reindexed, StoreError> {
    let stored = chunks::load_range(tx, &samod_key(doc))?;
    if stored.is_empty() {
        return Ok(Reindexed::Derived);
    }
    let checked = index_rows(tx, ctx, doc, &stored, unchanged, ahead);
    match checked {
        Ok(Reindexed::Unchanged) => Ok(Reindexed::Unchanged),
        Ok(_) => {
            tx.prepare_cached("DELETE FROM quarantine WHERE doc = ?1")?
                .execute(params![doc.to_string()])?;
            Ok(Reindexed::Derived)
        }
        Err(StoreError::Sqlite(e)) => Err(StoreError::Sqlite(e)),
        Err(e) => {
            let reason = e.to_string();
            let mut raw = automerge::AutoCommit::new();
            for (_, data) in &stored {
                // Undecodable bytes leave the heads empty: still a record
                // that the document changed.
                let _ = raw.load_incremental(data);
            }
            index::put_document(tx, &doc.to_string(), QUARANTINED, "", &raw.get_heads())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO quarantine (doc, reason, at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                doc.to_string(),
                reason,
                index::ts(chrono::Utc::now())
            ])?;
            Ok(Reindexed::Quarantined(reason))
        }
    }
}

/// What the index records of a document: its kind and its heads (as
/// `index::heads_text`).
fn recorded(conn: &Connection, doc: &DocumentId) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT type, heads FROM documents WHERE doc = ?1")?
        .query_row(params![doc.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Load a stored document as the kind its root says, once.
fn load_document(
    stored: &[(String, Vec<u8>)],
    device: &DeviceId,
) -> Result<AnyDocument, StoreError> {
    let any = AnyDocument::load_unread(stored.iter().map(|(_, d)| d.as_slice()), device)?;
    read_what_rows_do_not(any)
}

/// A document in memory (a merge) as the kind its root says.
pub(crate) fn as_document(
    doc: automerge::AutoCommit,
    device: &DeviceId,
) -> Result<AnyDocument, StoreError> {
    read_what_rows_do_not(AnyDocument::from_automerge_unread(doc, device)?)
}

/// Shift documents and tablet logs, the most and the largest, are not
/// read in full here: [`put_rows`] reads all of them for the rows, which
/// checks them, where `AnyDocument::load` would read them once more. The
/// others are small and read in full (`read_all`), as their checks.
fn read_what_rows_do_not(any: AnyDocument) -> Result<AnyDocument, StoreError> {
    // Whatever the kind, before anything reads it: a merged document may
    // come from a file or a peer.
    any.check_nesting()?;
    if !matches!(any, AnyDocument::Shift(_) | AnyDocument::TabletLog(_)) {
        any.read_all()?;
    }
    Ok(any)
}

fn index_rows(
    tx: &Connection,
    ctx: &mut Ctx,
    doc: &DocumentId,
    stored: &[(String, Vec<u8>)],
    unchanged: Unchanged,
    ahead: Option<ReadAhead>,
) -> Result<Reindexed, StoreError> {
    let recorded = recorded(tx, doc)?;
    let (heads, rows) = match ahead.and_then(|a| a.if_all_of(stored, recorded.as_ref())) {
        Some(read) => read,
        None => {
            let mut any = load_document(stored, &ctx.device)?;
            let heads = any.automerge().get_heads();
            (heads, Rows::read(&any)?)
        }
    };
    // The rows of these heads are already there. A quarantined document
    // is derived again, which records why once more.
    if unchanged == Unchanged::Skip
        && recorded.is_some_and(|(kind, h)| kind != QUARANTINED && h == index::heads_text(&heads))
    {
        return Ok(Reindexed::Unchanged);
    }
    let (kind, record) = rows.write(tx, ctx, doc)?;
    index::put_document(tx, &doc.to_string(), kind, &record.to_string(), &heads)?;
    Ok(Reindexed::Derived)
}

/// A whole document samod is about to store (a snapshot: how a fresh
/// device receives each document, and how samod compacts one), decoded
/// and read on the caller's thread before its write reaches the store's:
/// reading is the costly half of indexing (every entry decoded and
/// checked) and needs no connection, so it runs on another core while the
/// store's thread writes the document before ([`Store::apply_chunks_read_ahead`]).
/// Used only if it is all the store then holds of the document: see
/// [`ReadAhead::if_all_of`].
///
/// [`Store::apply_chunks_read_ahead`]: crate::Store::apply_chunks_read_ahead
pub struct ReadAhead {
    doc: DocumentId,
    key: String,
    data: Vec<u8>,
    any: AnyDocument,
    rows: Rows,
}

impl std::fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReadAhead({})", self.key)
    }
}

impl ReadAhead {
    /// Read the snapshot `data` samod puts under `key`; `None` if `key` is
    /// not a snapshot's or the document cannot be read (the store's thread
    /// then reads it as usual, and quarantines it if it must).
    pub fn of(key: &str, data: &[u8], device: &DeviceId) -> Option<Self> {
        let doc = document_of(key)?;
        key.strip_prefix(&format!("{doc}/snapshot/"))
            .filter(|hash| !hash.is_empty() && !hash.contains('/'))?;
        let any = load_document(&[(key.to_string(), data.to_vec())], device).ok()?;
        let rows = Rows::read(&any).ok()?;
        Some(Self {
            doc,
            key: key.to_string(),
            data: data.to_vec(),
            any,
            rows,
        })
    }

    /// The heads and rows read, if they are those of everything `stored`
    /// holds of the document: its chunks are this snapshot, and others
    /// already indexed (`recorded`, not quarantined) whose heads the
    /// snapshot contains. The chunks a batch puts beside the snapshot are
    /// not indexed yet: the caller does not offer the read then.
    fn if_all_of(
        mut self,
        stored: &[(String, Vec<u8>)],
        recorded: Option<&(String, String)>,
    ) -> Option<(Vec<ChangeHash>, Rows)> {
        let mine = stored
            .iter()
            .any(|(key, data)| *key == self.key && *data == self.data);
        let others = stored.len() > 1;
        let mut contains_recorded = || match recorded {
            Some((kind, heads)) if kind != QUARANTINED => parse_heads(heads)
                .iter()
                .all(|h| self.any.automerge().get_change_by_hash(h).is_some()),
            _ => false,
        };
        if !(mine && (!others || contains_recorded())) {
            return None;
        }
        let heads = self.any.automerge().get_heads();
        Some((heads, self.rows))
    }
}

/// Everything a document's index rows are made of, read from it (which
/// checks it) and nothing written yet.
enum Rows {
    Antenna {
        antenna: Antenna,
        cases: BTreeMap<CaseId, CaseRef>,
    },
    Shift {
        shift: Shift,
        entries: Vec<Entry>,
        logs: BTreeMap<DeviceId, uuid::Uuid>,
    },
    TabletLog {
        log: TabletLog,
        entries: Vec<Entry>,
    },
    Case(Case),
    Warehouse {
        warehouse: Warehouse,
        movements: Vec<StockMovement>,
    },
}

impl Rows {
    fn read(any: &AnyDocument) -> Result<Self, StoreError> {
        Ok(match any {
            AnyDocument::Antenna(d) => Rows::Antenna {
                antenna: d.antenna()?,
                cases: d.cases()?,
            },
            AnyDocument::Shift(d) => Rows::Shift {
                shift: d.shift()?,
                entries: d.entries()?,
                logs: d.logs()?,
            },
            AnyDocument::TabletLog(d) => Rows::TabletLog {
                log: d.tablet_log()?,
                entries: d.entries()?,
            },
            AnyDocument::Case(d) => Rows::Case(d.case()?),
            AnyDocument::Warehouse(d) => Rows::Warehouse {
                warehouse: d.warehouse()?,
                movements: d.movements()?.into_values().collect(),
            },
        })
    }

    /// Check that the rows are of a document of this antenna under its own
    /// record's id, and write them (following the antenna's tombstones).
    /// Returns the document's kind and record id.
    fn write(
        &self,
        tx: &Connection,
        ctx: &mut Ctx,
        doc: &DocumentId,
    ) -> Result<(&'static str, uuid::Uuid), StoreError> {
        let (kind, record, antenna) = match self {
            Rows::Antenna { antenna, cases } => {
                check_record(doc, antenna.id.as_uuid())?;
                check_antenna(doc, antenna.id, ctx)?;
                index::put_antenna(tx, antenna)?;
                let erased = erasure::follow(tx, ctx, cases)?;
                ctx.erased.extend(erased);
                (AntennaDoc::TYPE, *antenna.id.as_uuid(), antenna.id)
            }
            Rows::Shift {
                shift,
                entries,
                logs,
            } => {
                check_record(doc, shift.id.as_uuid())?;
                check_antenna(doc, shift.antenna, ctx)?;
                index::put_shift_with_entries(tx, shift, entries)?;
                index::put_logs(tx, shift, logs)?;
                (ShiftDoc::TYPE, *shift.id.as_uuid(), shift.antenna)
            }
            Rows::TabletLog { log, entries } => {
                check_record(doc, log.id.as_uuid())?;
                check_antenna(doc, log.antenna, ctx)?;
                index::put_tablet_log(tx, log, entries)?;
                (TabletLogDoc::TYPE, *log.id.as_uuid(), log.antenna)
            }
            Rows::Case(case) => {
                check_record(doc, case.id.as_uuid())?;
                check_antenna(doc, case.antenna, ctx)?;
                index::put_case(tx, case)?;
                (CaseDoc::TYPE, *case.id.as_uuid(), case.antenna)
            }
            Rows::Warehouse {
                warehouse,
                movements,
            } => {
                check_record(doc, &warehouse.id)?;
                check_antenna(doc, warehouse.antenna, ctx)?;
                if warehouse.id != maraude_core::warehouse::warehouse_id(warehouse.antenna) {
                    return Err(StoreError::BadDocument(format!(
                        "document {doc} is not the antenna's warehouse"
                    )));
                }
                index::put_movements(tx, movements)?;
                (WarehouseDoc::TYPE, warehouse.id, warehouse.antenna)
            }
        };
        debug_assert_eq!(antenna, ctx.antenna);
        Ok((kind, record))
    }
}

/// Check that `any` is a document of this antenna under its own record's
/// id, and write its index rows (following the antenna's tombstones).
/// Returns its kind and record id. Each record is read once: it gives the
/// record id, the antenna and the rows; reading the entries is what checks
/// them. The one place that maps a document to its rows, for samod's
/// chunks and for the merge API alike.
pub(crate) fn put_rows(
    tx: &Connection,
    ctx: &mut Ctx,
    doc: &DocumentId,
    any: &AnyDocument,
) -> Result<(&'static str, uuid::Uuid), StoreError> {
    Rows::read(any)?.write(tx, ctx, doc)
}

/// A document's id derives from its record's: a document holding another
/// record is refused.
fn check_record(doc: &DocumentId, record: &uuid::Uuid) -> Result<(), StoreError> {
    if document_id(record) != *doc {
        return Err(StoreError::BadDocument(format!(
            "document {doc} holds the record of another document"
        )));
    }
    Ok(())
}

/// Documents whose heads differ from what `peer` was last known to have.
pub(crate) fn changed_for(conn: &Connection, peer: &str) -> Result<Vec<DocumentId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.doc FROM documents d
         LEFT JOIN peer_heads p ON p.peer = ?1 AND p.doc = d.doc
         WHERE p.heads IS NULL OR p.heads != d.heads",
    )?;
    let docs: Vec<String> = stmt
        .query_map(params![peer], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(docs.iter().filter_map(|d| d.parse().ok()).collect())
}

pub(crate) fn mark_shared(
    tx: &Connection,
    peer: &str,
    docs: &[(DocumentId, Vec<ChangeHash>)],
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO peer_heads (peer, doc, heads) VALUES (?1, ?2, ?3)",
    )?;
    for (doc, heads) in docs {
        stmt.execute(params![peer, doc.to_string(), index::heads_text(heads)])?;
    }
    Ok(())
}

pub(crate) fn all_shared(
    conn: &Connection,
) -> Result<Vec<(String, DocumentId, Vec<ChangeHash>)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT peer, doc, heads FROM peer_heads")?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(peer, doc, heads)| Some((peer, doc.parse().ok()?, parse_heads(&heads))))
        .collect())
}

pub(crate) fn shared_with(
    conn: &Connection,
    peer: &str,
    doc: &DocumentId,
) -> Result<Vec<ChangeHash>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT heads FROM peer_heads WHERE peer = ?1 AND doc = ?2")?;
    let heads: Option<String> = stmt
        .query_row(params![peer, doc.to_string()], |r| r.get(0))
        .optional()?;
    Ok(heads.map(|h| parse_heads(&h)).unwrap_or_default())
}

pub(crate) fn quarantined(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT doc, reason FROM quarantine ORDER BY doc")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn chunk(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT data FROM chunks WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn chunk_keys(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT key FROM chunks")?;
    let keys = stmt.query_map([], |r| r.get(0))?;
    Ok(keys.collect::<Result<_, _>>()?)
}

pub(crate) fn erased_documents(conn: &Connection) -> Result<Vec<DocumentId>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT doc FROM erased_cases")?;
    let docs: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(docs.iter().filter_map(|d| d.parse().ok()).collect())
}

pub(crate) fn subject(conn: &Connection, doc: &DocumentId) -> Result<Subject, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT type, record FROM documents WHERE doc = ?1")?
        .query_row(params![doc.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kind, record)) = row else {
        if erasure::is_erased(conn, doc)? {
            return Ok(Subject::Erased);
        }
        return Ok(Subject::Unknown);
    };
    Ok(match kind.as_str() {
        QUARANTINED => Subject::Quarantined,
        "antenna" => Subject::Antenna,
        "shift" => conn
            .prepare_cached("SELECT date, ended_at IS NULL FROM shifts WHERE id = ?1")?
            .query_row(params![record], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()?
            .and_then(|(date, open)| date.parse().ok().map(|date| Subject::Shift { date, open }))
            .unwrap_or(Subject::Unknown),
        // A tablet log goes to whoever may receive its shift; a shift this
        // side does not hold yet counts as ended.
        TabletLogDoc::TYPE => conn
            .prepare_cached(
                "SELECT t.date, coalesce(s.ended_at IS NULL, 0) FROM tablet_logs t
                 LEFT JOIN shifts s ON s.id = t.shift WHERE t.id = ?1",
            )?
            .query_row(params![record], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()?
            .and_then(|(date, open)| date.parse().ok().map(|date| Subject::Shift { date, open }))
            .unwrap_or(Subject::Unknown),
        "case" => conn
            .prepare_cached("SELECT open FROM cases WHERE id = ?1")?
            .query_row(params![record], |r| r.get::<_, bool>(0))
            .optional()?
            .map(|open| Subject::Case { open })
            .unwrap_or(Subject::Unknown),
        WarehouseDoc::TYPE => Subject::Warehouse,
        _ => Subject::Unknown,
    })
}

pub(crate) fn recorded_heads(
    conn: &Connection,
    doc: &DocumentId,
) -> Result<Option<Vec<ChangeHash>>, StoreError> {
    Ok(recorded(conn, doc)?.map(|(_, heads)| parse_heads(&heads)))
}

/// Heads as `index::heads_text` wrote them.
fn parse_heads(text: &str) -> Vec<ChangeHash> {
    serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_default()
        .iter()
        .filter_map(|h| h.parse().ok())
        .collect()
}
