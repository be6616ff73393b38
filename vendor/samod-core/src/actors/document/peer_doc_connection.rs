#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use automerge::{
    Automerge, AutomergeError,
    sync::{self, SyncDoc},
};

use crate::actors::messages::SyncMessage;
use crate::{ConnectionId, PeerId, ShareConfig, UnixTimestamp, network::PeerDocState};

#[derive(Debug)]
pub(crate) struct PeerDocConnection {
    pub(super) connection_id: ConnectionId,
    pub(super) peer_id: PeerId,
    pub(super) sync_state: sync::State,
    // Remember inbound requests or sync attempts, even while denied/paused,
    // so that granting access can answer them without proactive announcement.
    pub(super) has_requested: bool,
    // Whether this state has changed since the last pop
    dirty: bool,
    state: PeerDocState,
    pub(super) share_policy: SharePolicyState,
    last_share_config: Option<ShareConfig>,
    // Preserve message ordering while the asynchronous policy lookup is pending.
    pub(super) pending_sync_messages: Vec<(SyncMessage, UnixTimestamp)>,
    // The document's heads when generating last found nothing to send, the
    // sync state unchanged since: generating again would find nothing
    // either, and costs a walk of the history. Cleared by everything that
    // changes `sync_state`. Without it, each message on a document with N
    // connections cost N generations.
    settled_at: Option<Vec<automerge::ChangeHash>>,
    // A connection subscribed on request (`Subscriptions::OnRequest`) is a
    // request-response session: once settled, it waits for the peer's next
    // message even if the document changed meanwhile. Pushing every change
    // to every peer in a session made each of N peers writing one document
    // at once cost N x N generations, and kept each peer chasing heads
    // that moved until the last one was done. The changes reach the peer in
    // answer to its next message, or at its next session.
    pub(super) answer_only: bool,
    // Heads this repo recorded as shared with the peer in an earlier
    // session (`crate::SharedHeads`), for the sync state to start from
    // once the document is loaded (`start_from_shared_heads`).
    pub(super) seed: Option<Vec<automerge::ChangeHash>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SharePolicyState {
    Unknown,
    Loading,
    Ready(ShareConfig),
}

impl PeerDocConnection {
    pub(super) fn new(peer_id: PeerId, connection_id: ConnectionId) -> Self {
        Self {
            connection_id,
            peer_id,
            sync_state: sync::State::new_read_only(),
            has_requested: false,
            state: PeerDocState::empty(),
            dirty: false,
            share_policy: SharePolicyState::Unknown,
            last_share_config: None,
            pending_sync_messages: Vec::new(),
            settled_at: None,
            answer_only: false,
            seed: None,
        }
    }

    /// Before the first message either way: start the sync state from
    /// heads both sides hold, so that the bloom filter and the changes
    /// offered cover what came after them, not the whole history. Only
    /// heads this document holds; a peer that lacks them after all (its
    /// store restored from an older copy) gets automerge's reset, and a
    /// full sync, in answer.
    fn start_from(&mut self, doc: &Automerge, heads: Vec<automerge::ChangeHash>) {
        let fresh = self.state.last_sent.is_none()
            && self.state.last_received.is_none()
            && self.sync_state.shared_heads.is_empty();
        if fresh && !heads.is_empty() && heads.iter().all(|h| doc.get_change_meta_by_hash(h).is_some())
        {
            let mut heads = heads;
            heads.sort();
            heads.dedup();
            self.sync_state.shared_heads = heads;
        }
    }

    fn start_from_shared_heads(&mut self, doc: &Automerge) {
        if let Some(heads) = self.seed.take() {
            self.start_from(doc, heads);
        }
    }

    pub(super) fn reset_sync_state(&mut self) {
        self.settled_at = None;
        self.sync_state = if self.can_write() {
            sync::State::new()
        } else {
            sync::State::new_read_only()
        };
    }

    pub(super) fn prepare_request(&mut self) {
        self.settled_at = None;
        // Initial requests already have a fresh state. Automerge has no explicit
        // API to restart synchronization, so for retries we force a read-only to
        // read-write transition. This resets local bookkeeping and tells the
        // remote to resend changes; replacing the state alone would not do that.
        if self.state.last_sent.is_some() || self.state.last_received.is_some() {
            self.sync_state.set_read_only(true);
            self.sync_state.set_read_only(false);
            self.state.shared_heads = Some(self.sync_state.shared_heads.clone());
            self.state.their_heads = self.sync_state.their_heads.clone();
            self.state.peer_read_only = self.sync_state.is_peer_read_only();
            self.dirty = true;
        }
    }

    /// Generate at the next step even if nothing changed here.
    pub(super) fn unsettle(&mut self) {
        self.settled_at = None;
    }

    pub(super) fn mark_requested(&mut self) {
        self.settled_at = None;
        if !self.has_requested {
            self.has_requested = true;
            self.dirty = true; // Mark as dirty since the request status changed
        }
    }

    pub(super) fn receive_sync_message(
        &mut self,
        now: UnixTimestamp,
        doc: &mut Automerge,
        msg: sync::Message,
    ) -> Result<Duration, AutomergeError> {
        self.settled_at = None;
        self.start_from_shared_heads(doc);
        if self.answer_only
            && let Some(have) = msg.have.first()
        {
            // A peer that asked starts from what it says it last synced
            // with us: only itself loses if it lies (it is not sent what
            // it claims to hold), and it spares us a bloom filter over the
            // whole history for each session.
            self.start_from(doc, have.last_sync.clone());
        }
        let start = Instant::now();
        doc.receive_sync_message(&mut self.sync_state, msg)?;
        let duration = start.elapsed();
        self.dirty = true;
        self.state.last_received = Some(now);
        self.state.last_acked_heads = self.sync_state.their_heads.clone();
        self.state.shared_heads = Some(self.sync_state.shared_heads.clone());
        self.state.their_heads = self.sync_state.their_heads.clone();
        self.state.peer_read_only = self.sync_state.is_peer_read_only();
        Ok(duration)
    }

    /// Generate messages in wire order, with timing for each message.
    pub(super) fn generate_sync_messages(
        &mut self,
        now: UnixTimestamp,
        doc: &Automerge,
    ) -> Vec<(sync::Message, Duration)> {
        // The request phase decides itself when to generate: no memo.
        self.settled_at = None;
        let messages = self.generate_unless_settled(now, doc, &doc.get_heads());
        self.settled_at = None;
        messages
    }

    /// [`Self::generate_sync_messages`] for a ready document, with its
    /// `heads` taken once for all its connections, skipped while this
    /// connection is settled (`settled_at`).
    pub(super) fn generate_sync_messages_at(
        &mut self,
        now: UnixTimestamp,
        doc: &Automerge,
        heads: &[automerge::ChangeHash],
    ) -> Vec<(sync::Message, Duration)> {
        self.generate_unless_settled(now, doc, heads)
    }

    fn generate_unless_settled(
        &mut self,
        now: UnixTimestamp,
        doc: &Automerge,
        heads: &[automerge::ChangeHash],
    ) -> Vec<(sync::Message, Duration)> {
        self.start_from_shared_heads(doc);
        let settled = match &self.settled_at {
            Some(_) if self.answer_only => true,
            Some(at) => at.as_slice() == heads,
            None => false,
        };
        if settled {
            return Vec::new();
        }
        let mut messages = Vec::new();
        loop {
            let start = Instant::now();
            let Some(msg) = doc.generate_sync_message(&mut self.sync_state) else {
                break;
            };
            let duration = start.elapsed();
            let follow_up = msg.heads != heads;
            if follow_up {
                // Automerge 0.12's fallback reset advertises empty heads but
                // records the real heads as sent. An empty peer may not reply.
                // Correct the bookkeeping to what we actually advertised, then
                // immediately generate the real-heads follow-up in this batch.
                self.sync_state.last_sent_heads.clone_from(&msg.heads);
            }
            self.state.last_sent = Some(now);
            self.state.last_sent_heads = Some(msg.heads.clone());
            self.state.shared_heads = Some(self.sync_state.shared_heads.clone());
            self.dirty = true;
            messages.push((msg, duration));
            if !follow_up {
                break;
            }
        }
        if messages.is_empty() {
            self.settled_at = Some(heads.to_vec());
        }
        messages
    }

    pub(super) fn their_heads(&self) -> Option<Vec<automerge::ChangeHash>> {
        self.sync_state.their_heads.clone()
    }

    pub(super) fn pop(&mut self) -> Option<PeerDocState> {
        if self.dirty {
            self.dirty = false;
            Some(self.state.clone())
        } else {
            None
        }
    }

    pub(super) fn state(&self) -> &PeerDocState {
        &self.state
    }

    /// Bound buffering while an application-provided policy future is pending.
    /// Permit one oversized message so a legitimate full-document sync is not
    /// limited by this queue's byte budget; transports should bound frame size.
    pub(super) fn buffer_sync_message(
        &mut self,
        msg: SyncMessage,
        received_at: UnixTimestamp,
    ) -> bool {
        const MAX_MESSAGES: usize = 64;
        const MAX_BYTES: usize = 16 * 1024 * 1024;
        let message_bytes = |msg: &SyncMessage| match msg {
            SyncMessage::Sync { data } | SyncMessage::Request { data } => data.len(),
            SyncMessage::DocUnavailable => 0,
        };
        let queued_bytes = self
            .pending_sync_messages
            .iter()
            .fold(0usize, |bytes, (msg, _)| {
                bytes.saturating_add(message_bytes(msg))
            });
        if self.pending_sync_messages.len() >= MAX_MESSAGES
            || (!self.pending_sync_messages.is_empty()
                && queued_bytes.saturating_add(message_bytes(&msg)) > MAX_BYTES)
        {
            return false;
        }
        self.pending_sync_messages.push((msg, received_at));
        true
    }

    pub(super) fn share_config(&self) -> Option<ShareConfig> {
        match self.share_policy {
            SharePolicyState::Ready(config) => Some(config),
            _ => None,
        }
    }

    pub(super) fn can_read(&self) -> bool {
        self.share_config().is_some_and(|config| config.can_read())
    }

    pub(super) fn can_write(&self) -> bool {
        self.share_config().is_some_and(|config| config.can_write())
    }

    pub(super) fn can_send(&self) -> bool {
        self.can_read()
            && (self.has_requested
                || self.sync_state.their_heads.is_some()
                || self.share_config().is_some_and(|config| config.announce))
    }

    pub(super) fn set_share_config(&mut self, config: ShareConfig) -> Option<ShareConfig> {
        self.settled_at = None;
        let previous = self.last_share_config.replace(config);
        self.share_policy = SharePolicyState::Ready(config);
        if self.state.last_sent.is_none() && self.state.last_received.is_none() {
            // Initialize sessions which have not exchanged any sync messages yet.
            self.reset_sync_state();
        } else {
            if previous.is_some_and(|old| !old.can_read()) && config.can_read() {
                // Denial may have dropped messages; restart the exchange on re-grant.
                self.sync_state.set_read_only(false);
            }
            self.sync_state.set_read_only(!config.can_write());
            self.state.shared_heads = Some(self.sync_state.shared_heads.clone());
            self.state.their_heads = self.sync_state.their_heads.clone();
            self.state.peer_read_only = self.sync_state.is_peer_read_only();
        }
        self.state.share_config = Some(config);
        self.dirty = true;
        previous
    }
}
