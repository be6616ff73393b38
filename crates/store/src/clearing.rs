//! Clearing a tablet in a hurry (a checkpoint ahead, a tablet about to be
//! taken): everything the server already holds leaves it, and only what
//! was not sent yet stays, with the antenna's reference data to go on
//! logging. The server keeps it all; a sync brings back what the tablet's
//! role receives.

use samod_core::DocumentId;

use crate::{Result, Store, chunks, document_id, erasure, replica};

/// What a clearing left.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct Cleared {
    /// Documents deleted: the server holds each as this tablet had it.
    pub documents: usize,
    /// Documents kept because the server does not hold them yet.
    pub kept: usize,
}

impl Store {
    /// Deletes every document `server` (its peer id) holds as this store
    /// has it, but the antenna's, and what the screen kept unsaved; derives
    /// the index again from what is left. The deleted pages are overwritten
    /// (`secure_delete`) and the WAL checkpointed.
    pub fn clear_what_the_server_holds(&mut self, server: &str) -> Result<Cleared> {
        let antenna = document_id(self.antenna_id().as_uuid());
        let cleared = self.write(|tx, ctx| {
            let unsent: Vec<DocumentId> = replica::changed_for(tx, server)?;
            let held: Vec<DocumentId> = chunks::document_ids(tx)?
                .into_iter()
                .filter(|d| *d != antenna && !unsent.contains(d))
                .collect();
            let documents = erasure::forget_documents(tx, ctx, &held)?;
            tx.execute("DELETE FROM unsaved", [])?;
            crate::reindex_all(tx, ctx)?;
            // Checkpointed after the commit, as after an erasure.
            ctx.deleted = true;
            Ok(Cleared {
                documents,
                kept: unsent.len(),
            })
        })?;
        Ok(cleared)
    }
}
