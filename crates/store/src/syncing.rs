//! What the sync layer needs of the store: documents and their samod
//! chunks, heads and changes, what each peer holds, and this device's link
//! with its server.

use automerge::ChangeHash;
use chrono::{DateTime, Utc};
use maraude_core::access::Subject;
use maraude_core::document::AnyDocument;

use crate::{
    ChunkWrite, ChunksApplied, DocumentId, ImportSummary, ReadAhead, RecordedSync, Result,
    ServerLink, Store, StoreError, chunks, link, merge, replica, samod_key,
};

impl Store {
    // Merge API, for sync and import.

    /// Every document in the store, with its type.
    pub fn documents(&self) -> Result<Vec<(DocumentId, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc, type FROM documents ORDER BY doc")?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(d, t)| d.parse().ok().map(|d| (d, t)))
            .collect())
    }

    pub fn heads(&self, doc: &DocumentId) -> Result<Vec<ChangeHash>> {
        let mut d = self.load_any(doc)?;
        Ok(d.automerge().get_heads())
    }

    /// The document's changes that `heads` does not have, as one byte
    /// string that [`Store::import`] on another store accepts.
    pub fn changes_since(&self, doc: &DocumentId, heads: &[ChangeHash]) -> Result<Vec<u8>> {
        let mut d = self.load_any(doc)?;
        Ok(d.automerge().save_after(heads))
    }

    fn load_any(&self, doc: &DocumentId) -> Result<AnyDocument> {
        let chunks = chunks::load_range(&self.conn, &samod_key(doc))?;
        if chunks.is_empty() {
            return Err(StoreError::BadDocument(format!(
                "no document {doc} in this store"
            )));
        }
        Ok(AnyDocument::load(
            chunks.iter().map(|(_, d)| d.as_slice()),
            &self.device,
        )?)
    }

    /// Merge changes (or a whole saved document) received for `doc`. The
    /// result must be a well-formed document of this antenna whose record id
    /// is `doc`; otherwise nothing is written. The index is updated in the
    /// same transaction.
    pub fn import(&mut self, doc: &DocumentId, bytes: &[u8]) -> Result<ImportSummary> {
        // Bytes from elsewhere: measured under a cap before Automerge
        // inflates them (`maraude_core::wire`).
        maraude_core::wire::check_chunks(bytes, &Default::default())
            .map_err(|e| StoreError::BadDocument(e.to_string()))?;
        self.write(|tx, ctx| merge(tx, ctx, Some(doc), bytes))
    }

    /// Store documents built elsewhere (the demo season, an import) in one
    /// transaction, merged with what the store already has, and index them:
    /// all of them or, on an error, none.
    pub fn insert_documents(
        &mut self,
        docs: impl IntoIterator<Item = AnyDocument>,
    ) -> Result<usize> {
        self.write(|tx, ctx| {
            let mut n = 0;
            for mut any in docs {
                merge(tx, ctx, None, &any.automerge().save())?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Samod's storage: one chunk by its key.
    pub fn chunk(&self, key: &str) -> Result<Option<Vec<u8>>> {
        replica::chunk(&self.conn, key)
    }

    /// Samod's storage: every chunk under a key prefix (`doc` or
    /// `doc/snapshot`), the prefix itself included.
    pub fn chunks_under(&self, prefix: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
        chunks::load_range(&self.conn, &storage_key(prefix)?)
    }

    /// The key of every chunk under a key prefix (to tell what another
    /// copy holds of a document that this one lacks).
    pub fn chunk_keys_under(&self, prefix: &[String]) -> Result<Vec<String>> {
        chunks::keys_in_range(&self.conn, &storage_key(prefix)?)
    }

    /// The key of every chunk held (to tell what another copy lacks).
    pub fn chunk_keys(&self) -> Result<Vec<String>> {
        replica::chunk_keys(&self.conn)
    }

    /// The documents of the cases erased here: their chunks are refused.
    pub fn erased_documents(&self) -> Result<Vec<DocumentId>> {
        replica::erased_documents(&self.conn)
    }

    /// Samod's storage: apply its puts and deletes in one transaction, and
    /// index the documents they changed (see `replica`).
    pub fn apply_chunks(&mut self, writes: Vec<ChunkWrite>) -> Result<ChunksApplied> {
        self.apply_chunks_read_ahead(writes, Vec::new())
    }

    /// [`Self::apply_chunks`], with documents among the puts already read
    /// on another thread ([`ReadAhead::of`]): those are indexed from what
    /// was read, when it is all the store holds of them.
    pub fn apply_chunks_read_ahead(
        &mut self,
        writes: Vec<ChunkWrite>,
        ahead: Vec<ReadAhead>,
    ) -> Result<ChunksApplied> {
        self.write(|tx, ctx| replica::apply(tx, ctx, writes, ahead))
    }

    /// Documents that changed since `peer` last shared them (or that it
    /// was never known to have).
    pub fn changed_for(&self, peer: &str) -> Result<Vec<DocumentId>> {
        replica::changed_for(&self.conn, peer)
    }

    /// The heads the index records for `doc`, without loading it; `None`
    /// if the store does not have it.
    pub fn recorded_heads(&self, doc: &DocumentId) -> Result<Option<Vec<ChangeHash>>> {
        replica::recorded_heads(&self.conn, doc)
    }

    /// The key samod gives a snapshot of exactly the heads the index
    /// records for `doc` (`None` if it has none, or the document is
    /// quarantined): the snapshot samod puts when it loads a document of
    /// more than ten changes, which holds nothing new.
    pub fn indexed_snapshot_key(&self, doc: &DocumentId) -> Result<Option<String>> {
        replica::indexed_snapshot_key(&self.conn, doc)
    }

    /// Record that `peer` now shares these heads of these documents.
    pub fn mark_shared(
        &mut self,
        peer: &str,
        docs: &[(DocumentId, Vec<ChangeHash>)],
    ) -> Result<()> {
        self.write(|tx, _| replica::mark_shared(tx, peer, docs))
    }

    /// Forget what `peer` was recorded to share: the next sync with it
    /// starts from nothing, as a first one does, and compares the whole
    /// history of each document.
    pub fn forget_shared(&mut self, peer: &str) -> Result<()> {
        self.write(|tx, _| {
            tx.execute("DELETE FROM peer_heads WHERE peer = ?1", [peer])?;
            Ok(())
        })
    }

    /// The heads of `doc` that `peer` was last recorded to share with this
    /// store ([`Self::mark_shared`]); none if it never synced it.
    pub fn shared_with(&self, peer: &str, doc: &DocumentId) -> Result<Vec<ChangeHash>> {
        replica::shared_with(&self.conn, peer, doc)
    }

    /// Every peer's shared heads of every document, as
    /// [`Self::mark_shared`] recorded them (a server's backup keeps them,
    /// so that nothing is sent again after a restore).
    pub fn all_shared(&self) -> Result<Vec<(String, DocumentId, Vec<ChangeHash>)>> {
        replica::all_shared(&self.conn)
    }

    /// What the index knows of a document, for the access rules
    /// (`maraude_core::access`).
    pub fn subject(&self, doc: &DocumentId) -> Result<Subject> {
        replica::subject(&self.conn, doc)
    }

    /// Documents received that could not be indexed, with the reason.
    pub fn quarantined(&self) -> Result<Vec<(String, String)>> {
        replica::quarantined(&self.conn)
    }

    /// This device's enrolment with its base server, if any.
    pub fn server_link(&self) -> Result<Option<ServerLink>> {
        link::get(&self.conn)
    }

    /// Keep this device's enrolment (replacing an earlier one).
    pub fn set_server_link(&mut self, link: &ServerLink) -> Result<()> {
        self.write(|tx, _| link::put(tx, link))
    }

    /// The antenna's latest revocation list (DER) this device has heard of.
    pub fn revocations(&self) -> Result<Option<Vec<u8>>> {
        link::revocations(&self.conn)
    }

    /// Keep a newer revocation list (the caller checked it is newer and
    /// signed by the antenna); needs an enrolment to attach it to.
    pub fn set_revocations(&mut self, der: &[u8]) -> Result<()> {
        self.write(|tx, _| link::set_revocations(tx, der))
    }

    /// Keep the antenna's team secret the server sent (it changes with each
    /// revocation); needs an enrolment to attach it to.
    pub fn set_team_secret(&mut self, secret: &[u8]) -> Result<()> {
        self.write(|tx, _| link::set_team_secret(tx, secret))
    }

    /// Keep the last sync with the server that went through: when, and
    /// what it did (JSON text, kept as given). Needs an enrolment to
    /// attach it to; without one nothing is written.
    pub fn record_sync(&mut self, at: DateTime<Utc>, summary_json: &str) -> Result<()> {
        self.write(|tx, _| link::record_sync(tx, at, summary_json))
    }

    /// When the server said it recorded this device's last
    /// acknowledgement ([`Self::set_acknowledged_at`]).
    pub fn acknowledged_at(&self) -> Result<Option<DateTime<Utc>>> {
        link::acknowledged_at(&self.conn)
    }

    /// Keep the time the server gave in answer to this device's
    /// acknowledgement; needs an enrolment to attach it to.
    pub fn set_acknowledged_at(&mut self, at: DateTime<Utc>) -> Result<()> {
        self.write(|tx, _| link::set_acknowledged_at(tx, at))
    }

    /// The last sync with the server this device recorded, if any.
    pub fn last_sync(&self) -> Result<Option<RecordedSync>> {
        link::last_sync(&self.conn)
    }
}

/// samod's key of these parts (`doc`, `snapshot`, …).
fn storage_key(parts: &[String]) -> Result<samod_core::StorageKey> {
    samod_core::StorageKey::from_parts(parts.iter().map(String::as_str))
        .map_err(|e| StoreError::BadDocument(format!("bad storage key: {e}")))
}
