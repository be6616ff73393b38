//! The door every inbound sync message goes through before samod sees it.
//!
//! samod merges whatever changes a peer sends into its copy of a document;
//! storing them cannot refuse afterwards. So each message is read here
//! first: the automerge-repo envelope, then the Automerge sync message in
//! it, and its changes are applied to a copy of this side's document. The
//! copy is judged against the writer's certified role
//! (`maraude_core::authority::check_write`): a message whose changes the
//! role may not make is dropped, with a notice to the sender naming the
//! document and the rule ([`Notice`]), and logged with the device. The
//! rest of the sync goes on. A message that cannot be read at all, or a
//! peer refused too often, ends the connection.
//!
//! The copy of a document is this side's stored document plus the
//! messages this connection already let through (samod may not have
//! stored those yet): a peer's next change builds on them.
//!
//! Changes that build on changes this side lacks cannot be judged (their
//! effect is unknown until their history is there). samod would queue
//! them and ask for the history; the door cannot let them through
//! unjudged, so it holds them and asks the sender itself, in the sync
//! protocol's own words (a sync message whose `need` names the missing
//! changes). It happens to honest peers: a sync message says what the
//! sender holds with a Bloom filter, and about once in a hundred syncs a
//! filter claims a change it lacks, so the other side leaves that change
//! out and sends its successors. The sender answers with the missing
//! changes; the door judges them with the held ones, as one message, and
//! hands samod that message.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::{AutoCommit, ChangeHash};
use chrono::{NaiveDate, Utc};
use maraude_core::access::Role;
use maraude_core::authority::{self, Delivery, Facts, Refused};
use maraude_core::document::AnyDocument;
use maraude_core::ids::DeviceId;
use maraude_core::wire::WireLimits;
use maraude_core::wire::envelope::DocumentRef;
use maraude_store::DocumentId;
use uuid::Uuid;

use crate::StoreHandle;

/// Documents whose copy a connection keeps between messages: a sync
/// touches a few at a time.
const KEPT: usize = 16;

/// Refusals after which a connection is ended: a peer that keeps sending
/// what its role may not write is not an honest one out of date.
pub const MAX_REFUSALS: usize = 32;

/// New documents a volunteer's or lead's device may upload in a day (a
/// night is a few: a shift, a tablet log, some cases). A coordinator's
/// first sync uploads its antenna's whole history, and is not counted.
pub const NEW_DOCUMENTS_PER_DAY: usize = 5_000;

/// The new documents each device uploaded today, shared by the
/// connections of one hub: a device cannot fill the server's disk by
/// reconnecting.
#[derive(Debug, Clone, Default)]
pub struct Uploads(Arc<Mutex<HashMap<String, (NaiveDate, usize)>>>);

impl Uploads {
    /// Count one more new document for `peer` today; false past the quota.
    fn take(&self, peer: &str, today: NaiveDate) -> bool {
        let mut uploads = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (day, count) = uploads.entry(peer.to_string()).or_insert((today, 0));
        if *day != today {
            *day = today;
            *count = 0;
        }
        *count += 1;
        *count <= NEW_DOCUMENTS_PER_DAY
    }
}

/// Bytes one connection may make this side inflate, over all its
/// messages: a device re-sending messages just under the per-message
/// limit must not keep the receiver inflating forever. A fresh device's
/// whole season is a few megabytes.
pub const MAX_INFLATED_PER_CONNECTION: u64 = 1 << 30;

/// The devices whose connections were closed for what they sent, and
/// since when: each offence doubles the wait before the next connection
/// (2 s, 4 s, … up to 10 min). An honest tablet out of date never
/// offends: its store refuses the same writes first.
#[derive(Debug, Clone, Default)]
pub struct Offences(Arc<Mutex<HashMap<String, (std::time::Instant, u32)>>>);

/// The longest wait an offending device is given.
const MAX_PENALTY: Duration = Duration::from_secs(600);

impl Offences {
    fn record(&self, peer: &str) {
        let mut offences = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = offences
            .entry(peer.to_string())
            .or_insert((std::time::Instant::now(), 0));
        *entry = (std::time::Instant::now(), entry.1.saturating_add(1));
    }

    /// How long `peer` must still wait before it may connect again.
    pub fn penalty(&self, peer: &str) -> Option<Duration> {
        let offences = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (since, count) = offences.get(peer)?;
        let wait = Duration::from_secs(2 << (count.saturating_sub(1)).min(10)).min(MAX_PENALTY);
        wait.checked_sub(since.elapsed()).filter(|w| !w.is_zero())
    }
}

/// How long a message whose changes build on changes this side lacks may
/// wait for samod to store them (another connection's, just received).
const WAIT_FOR_HISTORY: Duration = Duration::from_secs(2);

/// The notice's message type, which samod never sees: each side's socket
/// takes it out of the stream (`crate::socket`).
pub const NOTICE_TYPE: &str = "maraude-refused";

/// The code of a message that could not be read at all.
const UNREADABLE: &str = "unreadable_message";

/// How many times the door asks a peer for the history of held changes
/// before refusing them: each answer may build on more it lacks (two
/// filters wrong in a row), an honest peer needs one or two.
const MAX_ASKS: usize = 8;

/// Bytes of held changes one connection may keep at once: an honest
/// peer's held message is one sync message; a peer sending history-less
/// changes to fill this side's memory is refused past it.
const MAX_HELD_BYTES: usize = 64 << 20;

/// What the receiver tells the sender of a refused message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The document (its automerge-repo id), if the refusal concerns one.
    pub document: Option<String>,
    pub code: String,
    pub message: String,
}

impl Notice {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = minicbor::Encoder::new(Vec::new());
        let fields = 3 + u64::from(self.document.is_some());
        // Writing into a Vec cannot fail.
        let _ = e.map(fields).and_then(|e| e.str("type")?.str(NOTICE_TYPE));
        if let Some(doc) = &self.document {
            let _ = e.str("documentId").and_then(|e| e.str(doc));
        }
        let _ = e
            .str("code")
            .and_then(|e| e.str(&self.code)?.str("message")?.str(&self.message));
        e.into_writer()
    }
}

/// The fields of an automerge-repo message the door reads, the document
/// id as a string whichever way the sender wrote it.
#[derive(Debug, Default)]
pub(crate) struct Envelope<'a> {
    pub kind: String,
    pub document: Option<String>,
    pub sender: Option<String>,
    pub target: Option<String>,
    pub data: Option<&'a [u8]>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Read the envelope as samod will (`maraude_core::wire::envelope`).
pub(crate) fn envelope(bytes: &[u8]) -> Result<Envelope<'_>, String> {
    let read = maraude_core::wire::envelope::envelope(bytes).map_err(|e| e.to_string())?;
    let document = match read.document {
        None => None,
        Some(DocumentRef::Text(id)) => Some(id.to_string()),
        Some(DocumentRef::Bytes(raw)) => Some(
            DocumentId::try_from(raw.to_vec())
                .map_err(|_| "not an automerge-repo message: a bad document id")?
                .to_string(),
        ),
    };
    Ok(Envelope {
        kind: read.kind.to_string(),
        document,
        sender: read.sender.map(str::to_string),
        target: read.target.map(str::to_string),
        data: read.data,
        code: read.code.map(str::to_string),
        message: read.message.map(str::to_string),
    })
}

/// Whether the document a message wrote to was new to this side.
struct New(bool);

/// What the door made of a message's changes.
enum Judged {
    /// Allowed; whether the document was new here.
    Allowed(New),
    /// They build on changes this side lacks: `missing`, on top of the
    /// copy's `heads`.
    Missing {
        heads: Vec<ChangeHash>,
        missing: Vec<ChangeHash>,
    },
}

/// Changes held until the sender sends their history, and how many times
/// it was asked.
struct Held {
    doc: DocumentId,
    chunks: Vec<Vec<u8>>,
    asked: usize,
}

/// What the door does with one message.
#[derive(Debug)]
pub enum Verdict {
    /// Hand it to samod.
    Pass,
    /// Hand samod the message with this sync message as its data: the
    /// changes it sent with the held ones they complete.
    PassWith(Vec<u8>),
    /// Hold it, and send the sender this message (which asks for the
    /// changes it builds on).
    Ask(Vec<u8>),
    /// Drop it (a message samod does not need, such as a notice).
    Drop,
    /// Drop it and tell the sender.
    Refuse(Notice),
    /// End the connection, after telling the sender.
    Close(Notice),
}

/// One connection's door: the peer's certified role, and the copies of
/// the documents it is writing to.
pub struct Door {
    store: StoreHandle,
    role: Role,
    /// Who is on the other side, for the logs (`device-…`).
    peer: String,
    /// Who delivers what it sends, as this side's connection checked it.
    delivery: Delivery,
    kept: VecDeque<(DocumentId, AutoCommit)>,
    held: VecDeque<Held>,
    refusals: usize,
    uploads: Uploads,
    offences: Offences,
    inflated: u64,
    /// The actor the copies would write as: they never write.
    reader: DeviceId,
}

impl std::fmt::Debug for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Door")
            .field("role", &self.role)
            .field("peer", &self.peer)
            .field("refusals", &self.refusals)
            .finish()
    }
}

impl Door {
    /// `uploads` and `offences`: the hub's counts per device (fresh ones
    /// for a single connection).
    pub fn new(
        store: StoreHandle,
        (role, delivery): (Role, Delivery),
        peer: String,
        uploads: Uploads,
        offences: Offences,
    ) -> Self {
        Self {
            store,
            role,
            peer,
            delivery,
            kept: VecDeque::new(),
            held: VecDeque::new(),
            refusals: 0,
            uploads,
            offences,
            inflated: 0,
            reader: DeviceId::from_uuid(Uuid::nil()),
        }
    }

    /// Judge one message from the peer, its envelope read
    /// ([`envelope`]) or why it could not be.
    pub(crate) async fn check(&mut self, envelope: Result<Envelope<'_>, String>) -> Verdict {
        let verdict = self.judge(envelope).await;
        match &verdict {
            Verdict::Refuse(notice) | Verdict::Close(notice) => {
                crate::metrics::metrics().refused(&notice.code);
                tracing::warn!(
                    peer = %self.peer,
                    role = %self.role,
                    document = notice.document.as_deref().unwrap_or("-"),
                    code = %notice.code,
                    "refused: {}", notice.message
                );
            }
            _ => {}
        }
        // Bytes that are no message at all may be a bad line's (a cut,
        // a proxy's garbage): they cost the connection only. A readable
        // message past the bounds is a sender's doing.
        if let Verdict::Close(notice) = &verdict
            && notice.code != UNREADABLE
        {
            self.offences.record(&self.peer);
        }
        if let Verdict::Refuse(notice) = verdict {
            self.refusals += 1;
            if self.refusals >= MAX_REFUSALS {
                self.offences.record(&self.peer);
                return Verdict::Close(Notice {
                    code: "too_many_refusals".into(),
                    message: format!(
                        "{MAX_REFUSALS} messages refused on this connection; the last: {}",
                        notice.message
                    ),
                    ..notice
                });
            }
            return Verdict::Refuse(notice);
        }
        verdict
    }

    async fn judge(&mut self, envelope: Result<Envelope<'_>, String>) -> Verdict {
        let envelope = match envelope {
            Ok(e) => e,
            Err(why) => return close(UNREADABLE, why),
        };
        match envelope.kind.as_str() {
            "sync" | "request" => {}
            NOTICE_TYPE => return Verdict::Drop,
            // Ephemeral messages are passed on by samod to other peers;
            // Maraude sends none, and a peer must not broadcast through
            // this side.
            "ephemeral" => return Verdict::Drop,
            _ => return Verdict::Pass,
        }
        let (Some(document), Some(data)) = (envelope.document, envelope.data) else {
            return Verdict::Pass;
        };
        match bounded(data) {
            Err(notice) => return Verdict::Close(notice),
            Ok(inflated) => {
                self.inflated = self.inflated.saturating_add(inflated);
                if self.inflated > MAX_INFLATED_PER_CONNECTION {
                    return close(
                        "inflates_too_much",
                        format!(
                            "this connection's messages inflate past {} MiB in all; connect again",
                            MAX_INFLATED_PER_CONNECTION >> 20
                        ),
                    );
                }
            }
        }
        let mut message = match automerge::sync::Message::decode(data) {
            Ok(m) => m,
            Err(e) => return close(UNREADABLE, format!("not a sync message: {e}")),
        };
        let Ok(doc) = document.parse::<DocumentId>() else {
            return close(UNREADABLE, "a bad document id".into());
        };
        if message.changes.is_empty() {
            // A document this side holds and the device may not receive
            // (the warehouse for a volunteer's tablet, a case closed
            // meanwhile): samod's share policy keeps it silent, and the
            // device would wait for an answer that never comes. Say so.
            if let Ok((facts, _)) = self.facts(&doc, false).await
                && facts.subject != maraude_core::access::Subject::Unknown
                && !maraude_core::access::may_receive(self.role, facts.subject, facts.today)
            {
                return refuse(
                    &document,
                    Refused::OutOfScope {
                        role: self.role,
                        what: "document",
                    },
                );
            }
            return Verdict::Pass;
        }
        let Ok(record) = Uuid::from_slice(doc.as_bytes()) else {
            return refuse(&document, Refused::WrongRecord);
        };
        // The changes held for this document come with those that complete them.
        let held = self.take_held(&doc);
        let asked = held.as_ref().map_or(0, |h| h.asked);
        let mut chunks: Vec<Vec<u8>> = message.changes.iter().map(<[u8]>::to_vec).collect();
        chunks.extend(held.into_iter().flat_map(|h| h.chunks));
        let completed = asked > 0;
        let changes = automerge::sync::ChunkList::from(chunks.clone());
        let new = match self.judge_changes(&doc, record, &changes).await {
            Ok(Judged::Allowed(new)) => new,
            Ok(Judged::Missing { heads, missing })
                if asked < MAX_ASKS && self.held_bytes() + size(&chunks) <= MAX_HELD_BYTES =>
            {
                let (Some(from), Some(to)) = (envelope.target, envelope.sender) else {
                    return refuse(&document, missing_history());
                };
                self.hold(Held {
                    doc,
                    chunks,
                    asked: asked + 1,
                });
                tracing::info!(
                    peer = %self.peer,
                    document,
                    missing = missing.len(),
                    "changes held: the sender is asked for the changes they build on"
                );
                return Verdict::Ask(ask_for(&document, &from, &to, heads, missing));
            }
            Ok(Judged::Missing { .. }) => return refuse(&document, missing_history()),
            Err(refused) => return refuse(&document, refused),
        };
        let pass = if completed {
            message.changes = changes;
            Verdict::PassWith(message.encode())
        } else {
            Verdict::Pass
        };
        match new {
            New(false) => pass,
            New(true) => {
                let today = maraude_core::time::paris_date(Utc::now());
                if self.role == Role::Coordinator || self.uploads.take(&self.peer, today) {
                    pass
                } else {
                    self.forget(&doc);
                    Verdict::Refuse(Notice {
                        document: Some(document),
                        code: "too_many_new_documents".into(),
                        message: format!(
                            "this device uploaded {NEW_DOCUMENTS_PER_DAY} new documents today, the most a day; sync again tomorrow, or ask a coordinator"
                        ),
                    })
                }
            }
        }
    }

    async fn judge_changes(
        &mut self,
        doc: &DocumentId,
        record: Uuid,
        changes: &automerge::sync::ChunkList,
    ) -> Result<Judged, Refused> {
        let waited = tokio::time::Instant::now();
        let mut kept = self.take_kept(doc);
        let mut fresh = kept.is_none();
        loop {
            let (facts, stored) = self.facts(doc, fresh).await?;
            let mut view = match (kept.take(), stored) {
                // The store, and what this connection let through that
                // samod may not have stored yet.
                (Some(mut passed), Some(mut stored)) => {
                    stored
                        .merge(&mut passed)
                        .map_err(|e| Refused::Malformed(e.to_string()))?;
                    stored
                }
                (Some(view), None) | (None, Some(view)) => view,
                (None, None) => AutoCommit::new(),
            };
            let mut after = applied(&view, changes)?;
            let missing = after.get_missing_deps(&[]);
            if !missing.is_empty() {
                // Built on changes this side has not stored yet (another
                // connection's, just received): read the store again in a
                // moment (without the kept copy). Past that, ask the sender.
                if waited.elapsed() < WAIT_FOR_HISTORY {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    kept = Some(view);
                    fresh = true;
                    continue;
                }
                let heads = view.get_heads();
                self.keep(doc, view);
                return Ok(Judged::Missing { heads, missing });
            }
            let before = if view.get_heads().is_empty() {
                None
            } else {
                Some(self.read(view)?)
            };
            let after = self.read(after)?;
            let new = New(before.is_none());
            // Reading what a peer wrote must not take this side down.
            let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                authority::check_write(self.role, record, before.as_ref(), &after, &facts)
            }))
            .unwrap_or_else(|_| {
                Err(Refused::Malformed(
                    "a document Automerge cannot read".into(),
                ))
            });
            match verdict {
                Ok(()) => {
                    self.keep(doc, after.into_automerge());
                    return Ok(Judged::Allowed(new));
                }
                Err(refused) => {
                    if let Some(before) = before {
                        self.keep(doc, before.into_automerge());
                    }
                    return Err(refused);
                }
            }
        }
    }

    fn read(&self, doc: AutoCommit) -> Result<AnyDocument, Refused> {
        Ok(AnyDocument::from_automerge_unread(doc, &self.reader)?)
    }

    /// What this side knows of `doc`, and its stored copy if `load`.
    async fn facts(
        &self,
        doc: &DocumentId,
        load: bool,
    ) -> Result<(Facts, Option<AutoCommit>), Refused> {
        let id = doc.clone();
        let closed = || Refused::Malformed("this side's store is closed".into());
        let read = self
            .store
            .with(move |s| -> Result<_, maraude_store::StoreError> {
                let subject = s.subject(&id)?;
                let stored = if !load {
                    None
                } else {
                    let chunks = s.chunks_under(&[id.to_string()])?;
                    let mut doc = AutoCommit::new();
                    for (_, data) in &chunks {
                        doc.load_incremental(data)
                            .map_err(|e| maraude_store::StoreError::BadDocument(e.to_string()))?;
                    }
                    Some(doc)
                };
                Ok((subject, stored))
            })
            .await
            .map_err(|_| closed())?
            .map_err(|e| Refused::Malformed(format!("this side cannot read it: {e}")))?;
        let (subject, stored) = read;
        let today = maraude_core::time::paris_date(Utc::now());
        let delivery = self.delivery;
        Ok((
            Facts {
                subject,
                today,
                delivery,
            },
            stored,
        ))
    }

    fn forget(&mut self, doc: &DocumentId) {
        self.take_kept(doc);
        self.take_held(doc);
    }

    fn held_bytes(&self) -> usize {
        self.held.iter().map(|h| size(&h.chunks)).sum()
    }

    fn take_held(&mut self, doc: &DocumentId) -> Option<Held> {
        let at = self.held.iter().position(|h| h.doc == *doc)?;
        self.held.remove(at)
    }

    fn hold(&mut self, held: Held) {
        self.held.push_back(held);
        if self.held.len() > KEPT {
            self.held.pop_front();
        }
    }

    fn take_kept(&mut self, doc: &DocumentId) -> Option<AutoCommit> {
        let at = self.kept.iter().position(|(d, _)| d == doc)?;
        self.kept.remove(at).map(|(_, view)| view)
    }

    fn keep(&mut self, doc: &DocumentId, view: AutoCommit) {
        self.kept.push_back((doc.clone(), view));
        if self.kept.len() > KEPT {
            self.kept.pop_front();
        }
    }
}

/// Automerge inflates compressed chunks and deflated columns without a
/// cap: a message of a few hundred kilobytes can cost gigabytes. Every
/// sync message is measured first, through capped readers
/// (`maraude_core::wire`); one past the limits ends the connection.
pub(crate) fn bounded(data: &[u8]) -> Result<u64, Notice> {
    maraude_core::wire::check_sync_message(data, &WireLimits::default())
        .map(|size| size.inflated_bytes as u64)
        .map_err(|refusal| Notice {
            document: None,
            code: refusal.code().to_string(),
            message: format!("a sync message refused: {refusal}"),
        })
}

/// [`bounded`] for a message that reaches a side without a door (a device
/// receiving from its server): the same limits.
pub(crate) fn bounded_envelope(e: &Envelope<'_>) -> Result<(), Notice> {
    match (e.kind.as_str(), e.data) {
        ("sync" | "request", Some(data)) => bounded(data).map(|_| ()),
        _ => Ok(()),
    }
}

/// `view` with `changes` applied. Automerge 0.12 panics on some changes
/// that break its rules (an op in an object the document lacks, an actor
/// it never registered; see `fuzz/fuzz_targets/known.rs`): on this copy,
/// such a panic is a refusal, and samod never sees the message.
fn applied(view: &AutoCommit, changes: &automerge::sync::ChunkList) -> Result<AutoCommit, Refused> {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut after = view.clone();
        for chunk in changes.iter() {
            after.load_incremental(chunk)?;
        }
        Ok::<_, automerge::AutomergeError>(after)
    }));
    match attempt {
        Ok(Ok(after)) => Ok(after),
        Ok(Err(e)) => Err(Refused::Malformed(e.to_string())),
        Err(_) => Err(Refused::Malformed(
            "changes Automerge cannot apply to this document".into(),
        )),
    }
}

fn size(chunks: &[Vec<u8>]) -> usize {
    chunks.iter().map(Vec::len).sum()
}

fn missing_history() -> Refused {
    Refused::Malformed(
        "the changes build on changes this side does not have, and the sender did not send them; sync again"
            .into(),
    )
}

/// The sync message that asks the sender for the changes `missing`, as
/// the side whose copy has `heads` (`from`, to the peer `to`). No `have`:
/// the sender then sends exactly what is named.
fn ask_for(
    document: &str,
    from: &str,
    to: &str,
    heads: Vec<ChangeHash>,
    missing: Vec<ChangeHash>,
) -> Vec<u8> {
    let message = automerge::sync::Message {
        heads,
        need: missing,
        have: Vec::new(),
        changes: automerge::sync::ChunkList::empty(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    let mut e = minicbor::Encoder::new(Vec::new());
    // Writing into a Vec cannot fail; the fields as samod writes them.
    let _ = e
        .map(5)
        .and_then(|e| e.str("type")?.str("sync"))
        .and_then(|e| e.str("documentId")?.str(document))
        .and_then(|e| e.str("senderId")?.str(from))
        .and_then(|e| e.str("targetId")?.str(to))
        .and_then(|e| e.str("data")?.bytes(&message.encode()));
    e.into_writer()
}

fn refuse(document: &str, refused: Refused) -> Verdict {
    Verdict::Refuse(Notice {
        document: Some(document.to_string()),
        code: refused.code().to_string(),
        message: refused.to_string(),
    })
}

fn close(code: &str, message: String) -> Verdict {
    Verdict::Close(Notice {
        document: None,
        code: code.to_string(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_reads_back_as_it_was_sent() {
        let notice = Notice {
            document: Some("2xFtQ9".into()),
            code: "reference_data".into(),
            message: "a volunteer's tablet may not change the antenna's catalogue".into(),
        };
        let bytes = notice.encode();
        let read = envelope(&bytes).unwrap();
        assert_eq!(read.kind, NOTICE_TYPE);
        assert_eq!(read.document, notice.document);
        assert_eq!(read.code.as_deref(), Some("reference_data"));
        assert_eq!(read.message, Some(notice.message));
    }

    #[test]
    fn each_offence_doubles_the_wait_before_the_next_connection() {
        let offences = Offences::default();
        assert_eq!(offences.penalty("device-a"), None);
        offences.record("device-a");
        let first = offences.penalty("device-a").expect("a wait");
        assert!(first <= Duration::from_secs(2), "{first:?}");
        for _ in 0..4 {
            offences.record("device-a");
        }
        let fifth = offences.penalty("device-a").expect("a wait");
        assert!(fifth > Duration::from_secs(30), "{fifth:?}");
        assert_eq!(offences.penalty("device-b"), None);
        for _ in 0..40 {
            offences.record("device-a");
        }
        assert!(offences.penalty("device-a").expect("a wait") <= MAX_PENALTY);
    }

    #[test]
    fn a_device_uploads_a_days_quota_of_new_documents_and_more_the_next_day() {
        let uploads = Uploads::default();
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).expect("a day");
        for _ in 0..NEW_DOCUMENTS_PER_DAY {
            assert!(uploads.take("device-a", day));
        }
        assert!(!uploads.take("device-a", day));
        assert!(uploads.take("device-b", day), "another device counts apart");
        assert!(uploads.take("device-a", day.succ_opt().expect("a day")));
    }
}
