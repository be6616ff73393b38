/// Which documents a connection is subscribed to once its handshake is done.
///
/// A document subscribed to a connection has a sync state for that peer in
/// its actor, asks the share policy about that peer, and is told when the
/// connection closes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Subscriptions {
    /// Every loaded document, and every document loaded later, is
    /// subscribed to every connection (automerge-repo's behaviour). Needed
    /// when this repo announces documents or searches for them among its
    /// peers.
    #[default]
    EveryDocument,
    /// A document is subscribed to a connection when the peer first sends
    /// a message about it. For a repo that only answers (a server whose
    /// share policy never announces): it then costs nothing for the
    /// documents a peer never asks for, instead of documents x
    /// connections. Such a repo does not search its peers for a document it
    /// lacks in storage, and does not push a document to a peer that has
    /// not asked for it.
    OnRequest,
}

/// What this repo knows it shares with a peer for a document, from an
/// earlier session: heads both sides recorded as held by both. A
/// connection's sync state starts from them rather than from nothing, so
/// that its first messages summarise the changes since, not the whole
/// history (see `PeerDocConnection::seed`).
pub type SharedHeads = std::sync::Arc<
    dyn Fn(&crate::DocumentId, &crate::PeerId) -> Vec<automerge::ChangeHash> + Send + Sync,
>;
