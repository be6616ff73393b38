//! The documents this store changed last, kept loaded between calls.
//!
//! Logging into the current shift would otherwise load its document from
//! its chunks at every tap. A kept document is used only if its heads are
//! still the ones the `documents` table records, which the same transaction
//! as its chunks updates: a rolled-back change or a merge since makes them
//! differ, and the document is loaded again from the chunks.
//!
//! The invariant this rests on: whatever writes a document's chunks updates
//! its `documents.heads` in the same transaction (local changes, imports,
//! and the sync layer's storage). A chunk written without it would be
//! missed by a kept document, and then deleted by its next compaction.

use std::collections::VecDeque;

use automerge::AutoCommit;
use rusqlite::{Connection, OptionalExtension, params};
use samod_core::DocumentId;

use crate::error::StoreError;

/// The current shift, its antenna and a case or two.
const KEEP: usize = 4;

#[derive(Default)]
pub(crate) struct RecentDocuments {
    docs: VecDeque<(DocumentId, AutoCommit)>,
}

impl std::fmt::Debug for RecentDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.docs.iter().map(|(id, _)| id))
            .finish()
    }
}

impl RecentDocuments {
    /// The document `id` as stored, if it is kept and still current.
    pub fn take(
        &mut self,
        conn: &Connection,
        id: &DocumentId,
    ) -> Result<Option<AutoCommit>, StoreError> {
        let Some(at) = self.docs.iter().position(|(kept, _)| kept == id) else {
            return Ok(None);
        };
        let Some((_, mut doc)) = self.docs.remove(at) else {
            return Ok(None);
        };
        let stored: Option<String> = conn
            .prepare_cached("SELECT heads FROM documents WHERE doc = ?1")?
            .query_row(params![id.to_string()], |r| r.get(0))
            .optional()?;
        let stored: Vec<String> = match stored {
            Some(s) => serde_json::from_str(&s).unwrap_or_default(),
            None => return Ok(None),
        };
        let heads: Vec<String> = doc.get_heads().iter().map(ToString::to_string).collect();
        Ok((heads == stored).then_some(doc))
    }

    /// Drop `id` (its document was erased).
    pub fn forget(&mut self, id: &DocumentId) {
        self.docs.retain(|(kept, _)| kept != id);
    }

    /// Keep `doc`, just written, for the next change.
    pub fn keep(&mut self, id: DocumentId, doc: AutoCommit) {
        self.docs.retain(|(kept, _)| *kept != id);
        self.docs.push_front((id, doc));
        self.docs.truncate(KEEP);
    }
}
