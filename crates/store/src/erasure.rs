//! Erasing cases from this store (the rules are in
//! `maraude_core::erasure`).
//!
//! Erasing a case deletes its document's chunks (its whole history), its
//! index row and what each peer was known to have of it, and lists it in
//! `erased_cases` with its tombstone. From then on, chunks received for it
//! are dropped, so a teammate or samod that has not heard yet cannot bring
//! it back. The file runs with `secure_delete`, so the deleted bytes are
//! overwritten, not left in free pages; the caller checkpoints the WAL
//! after the commit so that no older page survives there either.
//!
//! A case is erased here when this device erases it (a lead, or retention)
//! and when an antenna document arrives whose line for the case is a
//! tombstone: the same function, [`follow`], in both cases.

use std::collections::BTreeMap;

use maraude_core::document::CaseRef;
use maraude_core::ids::CaseId;
use rusqlite::{Connection, OptionalExtension, params};
use samod_core::DocumentId;

use crate::error::StoreError;
use crate::{Ctx, chunks, document_id, index};

/// Whether `doc` is an erased case's document.
pub(crate) fn is_erased(conn: &Connection, doc: &DocumentId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM erased_cases WHERE doc = ?1")?
        .query_row(params![doc.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Erase every case the antenna document `listed` as a tombstone and this
/// store still has (or has with another tombstone). Returns the cases whose
/// document was deleted here.
pub(crate) fn follow(
    tx: &Connection,
    ctx: &mut Ctx,
    listed: &BTreeMap<CaseId, CaseRef>,
) -> Result<Vec<CaseId>, StoreError> {
    let mut erased = Vec::new();
    for (case, tombstone) in listed.iter().filter(|(_, r)| r.erased_at.is_some()) {
        let doc = document_id(case.as_uuid());
        let text = index::json(tombstone);
        let known: Option<String> = tx
            .prepare_cached("SELECT tombstone FROM erased_cases WHERE id = ?1")?
            .query_row(params![case.to_string()], |r| r.get(0))
            .optional()?;
        if known.as_deref() == Some(text.as_str()) {
            continue;
        }
        tx.prepare_cached(
            "INSERT OR REPLACE INTO erased_cases (id, doc, tombstone) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![case.to_string(), doc.to_string(), text])?;
        if purge(tx, ctx, case, &doc)? {
            erased.push(*case);
        }
    }
    Ok(erased)
}

/// Delete everything this store holds of the case. `true` if it had its
/// document.
fn purge(
    tx: &Connection,
    ctx: &mut Ctx,
    case: &CaseId,
    doc: &DocumentId,
) -> Result<bool, StoreError> {
    let had = forget_documents(tx, ctx, std::slice::from_ref(doc))? > 0;
    tx.prepare_cached("DELETE FROM documents WHERE doc = ?1")?
        .execute(params![doc.to_string()])?;
    tx.prepare_cached("DELETE FROM cases WHERE id = ?1")?
        .execute(params![case.to_string()])?;
    Ok(had)
}

/// The tombstones of the cases erased on this antenna, oldest opened first.
pub(crate) fn tombstones(conn: &Connection) -> Result<Vec<(CaseId, CaseRef)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, tombstone FROM erased_cases")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = rows
        .into_iter()
        .map(|(id, t)| Ok((id.parse()?, index::parse_json(&t)?)))
        .collect::<Result<Vec<(CaseId, CaseRef)>, StoreError>>()?;
    out.sort_by_key(|(_, t)| t.opened_at);
    Ok(out)
}

/// Delete the documents in `docs` (their chunks, their history) and what
/// each peer was known to have of them; the caller updates the index (a
/// case's rows, or the whole index derived again). Returns how many it had.
pub(crate) fn forget_documents(
    tx: &Connection,
    ctx: &mut Ctx,
    docs: &[DocumentId],
) -> Result<usize, StoreError> {
    let mut had = 0;
    for doc in docs {
        if chunks::delete_document(tx, doc)? > 0 {
            had += 1;
        }
        let d = doc.to_string();
        for sql in [
            "DELETE FROM peer_heads WHERE doc = ?1",
            "DELETE FROM quarantine WHERE doc = ?1",
        ] {
            tx.prepare_cached(sql)?.execute(params![d])?;
        }
        ctx.recent.forget(doc);
    }
    Ok(had)
}
