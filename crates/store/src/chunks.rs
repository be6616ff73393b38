//! Documents as samod storage chunks.
//!
//! samod (the Rust automerge-repo) stores a document under keys
//! `[document id, "incremental", change hash]` (one change each) and
//! `[document id, "snapshot", compaction hash]` (a whole saved document),
//! joined here by `/` into one text key. We write exactly what samod writes,
//! with samod-core's own key constructors, so the sync layer can serve this
//! table as its storage without a second copy of the data.

use automerge::{AutoCommit, Change, ChangeHash};
use maraude_core::document::Document;
use maraude_core::ids::DeviceId;
use rusqlite::{Connection, params};
use samod_core::{CompactionHash, DocumentId, StorageKey};
use uuid::Uuid;

use crate::error::StoreError;

/// After this many incremental chunks a document is compacted into one
/// snapshot: loading stays fast, and the file does not keep every change
/// twice.
pub(crate) const COMPACT_AFTER: i64 = 64;

/// The automerge-repo document id of a record: its UUID's bytes.
pub fn document_id(record: &Uuid) -> DocumentId {
    DocumentId::try_from(record.as_bytes().to_vec()).expect("a UUID is 16 bytes")
}

/// `key > 'doc/' AND key < 'doc0'` selects exactly the keys under `doc/`,
/// since `0` follows `/` in ASCII.
fn range(prefix: &StorageKey) -> (String, String) {
    let p = prefix.to_string();
    (format!("{p}/"), format!("{p}0"))
}

/// Every chunk stored under `prefix` (the key itself included).
pub fn load_range(
    conn: &Connection,
    prefix: &StorageKey,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let (lo, hi) = range(prefix);
    let mut stmt = conn
        .prepare_cached("SELECT key, data FROM chunks WHERE key = ?1 OR (key > ?2 AND key < ?3)")?;
    let rows = stmt.query_map(params![prefix.to_string(), lo, hi], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The key of every chunk stored under `prefix` (the key itself included).
pub fn keys_in_range(conn: &Connection, prefix: &StorageKey) -> Result<Vec<String>, StoreError> {
    let (lo, hi) = range(prefix);
    let mut stmt =
        conn.prepare_cached("SELECT key FROM chunks WHERE key = ?1 OR (key > ?2 AND key < ?3)")?;
    let rows = stmt.query_map(params![prefix.to_string(), lo, hi], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Delete every chunk of `doc`, history included.
pub fn delete_document(conn: &Connection, doc: &DocumentId) -> Result<usize, StoreError> {
    let prefix = doc_prefix(doc);
    let (lo, hi) = range(&prefix);
    Ok(conn
        .prepare_cached("DELETE FROM chunks WHERE key = ?1 OR (key > ?2 AND key < ?3)")?
        .execute(params![prefix.to_string(), lo, hi])?)
}

pub fn put(conn: &Connection, key: &StorageKey, data: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR REPLACE INTO chunks (key, data) VALUES (?1, ?2)")?
        .execute(params![key.to_string(), data])?;
    Ok(())
}

fn doc_prefix(doc: &DocumentId) -> StorageKey {
    StorageKey::from_parts([doc.to_string()]).expect("a document id is a valid key part")
}

/// Load a document from its chunks; `None` if the store has none.
pub fn load<D: Document>(
    conn: &Connection,
    doc: &DocumentId,
    device: &DeviceId,
) -> Result<Option<D>, StoreError> {
    let chunks = load_range(conn, &doc_prefix(doc))?;
    if chunks.is_empty() {
        return Ok(None);
    }
    Ok(Some(D::load(
        chunks.iter().map(|(_, data)| data.as_slice()),
        device,
    )?))
}

/// Append the changes made since `heads` as incremental chunks, compacting
/// when the document has grown too many.
pub fn append(
    conn: &Connection,
    id: &DocumentId,
    doc: &mut AutoCommit,
    heads: &[ChangeHash],
) -> Result<(), StoreError> {
    let changes: Vec<Change> = doc.get_changes(heads);
    for change in &changes {
        put(
            conn,
            &StorageKey::incremental_path(id, change.hash()),
            change.raw_bytes(),
        )?;
    }
    let (lo, hi) = range(&doc_prefix(id));
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM chunks WHERE key > ?1 AND key < ?2")?
        .query_row(params![lo, hi], |r| r.get(0))?;
    if count > COMPACT_AFTER {
        compact(conn, id, doc)?;
    }
    Ok(())
}

/// Replace all of a document's chunks with one snapshot, as samod does.
pub fn compact(conn: &Connection, id: &DocumentId, doc: &mut AutoCommit) -> Result<(), StoreError> {
    let heads = doc.get_heads();
    let key = StorageKey::snapshot_path(id, &CompactionHash::new(&heads));
    let (lo, hi) = range(&doc_prefix(id));
    conn.prepare_cached("DELETE FROM chunks WHERE key > ?1 AND key < ?2")?
        .execute(params![lo, hi])?;
    put(conn, &key, &doc.save())
}

/// The ids of every document with chunks in the store.
pub fn document_ids(conn: &Connection) -> Result<Vec<DocumentId>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT substr(key, 1, instr(key, '/') - 1) FROM chunks WHERE instr(key, '/') > 0",
    )?;
    let ids: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
}
