//! A device syncing with its antenna's base server.
//!
//! 1. Ask the server which documents changed since this device last
//!    acknowledged them (`GET /v1/sync/pending`), and list the documents
//!    that changed here since the server last had them (`peer_heads`).
//! 2. Nothing on either side: done, in one request.
//! 3. Otherwise open the automerge-repo WebSocket (credential in the
//!    upgrade), `find` exactly those documents, and wait until each is in
//!    sync both ways. A cut connection is dialled again and the documents
//!    not yet in sync are taken up where they were.
//! 4. Record the shared heads here and on the server (`POST /v1/sync/acked`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, future};
use maraude_core::access::{self, Role};
use maraude_core::authority;
use maraude_store::{DeviceCertificate, DocumentId, ServerLink};
use samod::{
    BackoffConfig, ConnectionId, DialError, Dialer, PeerId, Repo, RepoEvent, RepoObserver,
    ShareConfig, Transport,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::door::{Door, Offences, Uploads};
use crate::error::SyncError;
use crate::identity::{self, Teammate};
use crate::socket::Notices;
use crate::storage::StoreHandle;
use crate::tls::{self, TeamTls};
use maraude_protocol::api::{self, Acked, Pending};

/// What a sync did, for the summary line and the app's status. The app
/// keeps the last one in the store and reads it back: a field missing
/// from one written by an earlier version reads as 0.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SyncSummary {
    /// Documents that had changed here since the server last had them.
    pub documents_sent: usize,
    /// Documents that came back with changes from the server.
    pub documents_received: usize,
    /// Changes received, over all documents.
    pub changes_received: usize,
    /// Documents the server refused or did not have (out of scope).
    pub documents_refused: usize,
    /// What the other side refused of this device's writes, and why (one
    /// line each: the rule, in words that say what to do).
    pub refusals: Vec<String>,
    /// Sync-protocol payload bytes (not counting WebSocket and TCP framing).
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Follow-up cases erased on this device during the sync: by retention
    /// here, or because their tombstone arrived.
    pub cases_erased: usize,
    /// Times the connection was cut and dialled again.
    pub reconnections: u32,
    pub millis: u64,
}

/// How long the sync waits for a connection or for one document before it
/// gives up (what is already in sync stays recorded).
#[derive(Debug, Clone, Copy)]
pub struct Patience {
    pub connect: Duration,
    pub document: Duration,
    pub rounds: u32,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(20),
            document: Duration::from_secs(60),
            rounds: 5,
        }
    }
}

/// Sync the store with its base server. `progress(done, total)` is called
/// as documents come into sync.
pub async fn sync_with_server(
    store: &StoreHandle,
    patience: Patience,
    progress: impl Fn(usize, usize),
) -> Result<SyncSummary, SyncError> {
    let link = store
        .with(|s| s.server_link())
        .await??
        .ok_or(SyncError::NotEnrolled)?;
    let remote = Remote::server(&link, patience)?;
    if identity::renewal_due(link.certificate.as_ref(), std::time::SystemTime::now()) {
        fetch_certificate(store, &remote, link).await?;
    }
    sync(store, remote, patience, &progress).await
}

/// Sync the store with a teammate's tablet serving at one of `addresses`
/// (`maraude serve-peer`), without the server: both show the certificate
/// their antenna gave them, and each sends the other only what the
/// other's role may receive.
///
/// The addresses are tried in turn, past those that do not answer or do
/// not prove a teammate: a tablet on two networks announces both, and a
/// search on the network may also find this very tablet serving from
/// another process. The last one's error is the answer.
pub async fn sync_with_teammate(
    store: &StoreHandle,
    addresses: &[std::net::SocketAddr],
    patience: Patience,
    progress: impl Fn(usize, usize),
) -> Result<SyncSummary, SyncError> {
    let (link, revocations) = store
        .with(|s| Ok::<_, maraude_store::StoreError>((s.server_link()?, s.revocations()?)))
        .await??;
    let certificate = link
        .and_then(|l| l.certificate)
        .ok_or(SyncError::NoCertificate)?;
    let tls = TeamTls::new(&certificate, revocations)?;
    let mut result = Err(SyncError::NoTeammateFound);
    for address in addresses {
        let mut remote = Remote::teammate(*address, &tls, patience)?;
        remote.certificate = Some(certificate.clone());
        result = sync(store, remote, patience, &progress).await;
        if !matches!(
            result,
            Err(SyncError::TeammateUnreachable(_) | SyncError::NotATeammate { .. })
        ) {
            break;
        }
    }
    result
}

/// Teammates pass on the antenna's revocation list: whichever names more
/// devices (revocations are never undone), once checked as signed by the
/// antenna's authority, is kept by the other. So a tablet revoked by a
/// lead is refused by teammates who heard of it from one another.
async fn exchange_revocations(
    store: &StoreHandle,
    remote: &Remote,
    certificate: &DeviceCertificate,
    theirs: Option<&str>,
) -> Result<(), SyncError> {
    let check = |list: &[u8]| {
        identity::checked_revocations(&certificate.authority, &certificate.certificate, list)
    };
    let ours_der = store.with(|s| s.revocations()).await??;
    let ours = ours_der
        .as_deref()
        .and_then(|l| check(l).ok())
        .unwrap_or_default();
    let theirs_der = theirs.and_then(api::from_b64);
    let theirs_named = match theirs_der.as_deref().map(check) {
        Some(Ok(named)) => named,
        Some(Err(e)) => {
            tracing::warn!(error = %e, teammate = %remote.label, "a teammate's revocation list was refused");
            Default::default()
        }
        None => Default::default(),
    };
    if identity::names_more(&theirs_named, &ours) {
        if let Some(list) = theirs_der {
            store.with(move |s| s.set_revocations(&list)).await??;
        }
    } else if identity::names_more(&ours, &theirs_named)
        && let Some(list) = ours_der
    {
        let _: serde_json::Value =
            remote
                .call(remote.http.post(remote.url("v1/sync/revocations")?).json(
                    &api::Revocations {
                        revocations: api::b64(&list),
                    },
                ))
                .await?;
    }
    Ok(())
}

/// A certificate for this device, with a new key: for a device enrolled
/// before certificates existed, or whose certificate expires within
/// [`identity::RENEW_WITHIN`] (see [`identity::renewal_due`]). The old key
/// goes with the old certificate.
async fn fetch_certificate(
    store: &StoreHandle,
    remote: &Remote,
    mut link: ServerLink,
) -> Result<(), SyncError> {
    let (key, public_key) =
        identity::new_device_key().map_err(|e| SyncError::Tls(e.to_string()))?;
    let issued: api::IssuedCertificate = remote
        .call(
            remote
                .http
                .post(remote.url("v1/certificate")?)
                .json(&api::CertificateRequest {
                    public_key: api::b64(&public_key),
                }),
        )
        .await?;
    link.certificate = Some(device_certificate(key, &issued)?);
    store.with(move |s| s.set_server_link(&link)).await??;
    Ok(())
}

/// The certificate the server issued, with the key kept here.
pub(crate) fn device_certificate(
    key: secrecy::SecretSlice<u8>,
    issued: &api::IssuedCertificate,
) -> Result<DeviceCertificate, SyncError> {
    let unreadable = || SyncError::Tls("the server sent a certificate that is not base64".into());
    Ok(DeviceCertificate {
        key,
        certificate: api::from_b64(&issued.certificate).ok_or_else(unreadable)?,
        authority: api::from_b64(&issued.authority).ok_or_else(unreadable)?,
    })
}

async fn sync(
    store: &StoreHandle,
    remote: Remote,
    patience: Patience,
    progress: &impl Fn(usize, usize),
) -> Result<SyncSummary, SyncError> {
    let started = Instant::now();
    // Retention first, so that nothing past it is sent.
    let (antenna, device, erased_before) = store
        .with(|s| {
            s.apply_retention(chrono::Utc::now())?;
            Ok::<_, maraude_store::StoreError>((
                *s.antenna_id().as_uuid(),
                s.device(),
                s.erased_cases()?.len(),
            ))
        })
        .await??;

    // How many devices the list held here names, so that the server sends
    // its list only when it names more.
    let revoked = store
        .with(|s| s.revocations())
        .await??
        .and_then(|list| identity::named_in(&list).ok())
        .map(|named| named.len());
    let (pending, teammate) = remote.pending(revoked).await?;
    // Who is on the other side: the server's word for itself; a teammate's
    // certificate, checked in the handshake, for a tablet.
    let (other_peer, other_role) = match (&remote.kind, teammate) {
        (Kind::Server, _) => (pending.server_peer.clone(), None),
        (Kind::Teammate, Some(t)) if t.antenna == antenna && t.device != *device.as_uuid() => {
            (api::device_peer(&t.device), Some(t.role))
        }
        (Kind::Teammate, _) => {
            return Err(SyncError::NotATeammate {
                at: remote.label.clone(),
                why: "its certificate names another antenna, or this very tablet".into(),
            });
        }
    };
    match &remote.certificate {
        // The server's list is the antenna's own.
        None => {
            if let Some(list) = pending.revocations.as_deref().and_then(api::from_b64) {
                store.with(move |s| s.set_revocations(&list)).await??;
            }
        }
        Some(certificate) => {
            exchange_revocations(store, &remote, certificate, pending.revocations.as_deref())
                .await?;
        }
    }
    let peer_key = other_peer.clone();
    let today = maraude_core::time::paris_date(chrono::Utc::now());
    let theirs: Vec<DocumentId> = pending
        .documents
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    let (ours, theirs) = store
        .with(move |s| {
            // A teammate gets only what its certified role may receive,
            // whatever it lists as changed on its side: a lead's tablet
            // does not hand closed cases to a volunteer's. A document this
            // side does not hold is only received. The antenna document
            // travels only through the server.
            let shared = |doc: &DocumentId| -> Result<bool, maraude_store::StoreError> {
                Ok(match other_role {
                    None => true,
                    Some(role) => {
                        let subject = s.subject(doc)?;
                        authority::travels_between_teammates(subject)
                            && (subject == access::Subject::Unknown
                                || access::may_receive(role, subject, today))
                    }
                })
            };
            let mut ours = Vec::new();
            for doc in s.changed_for(&peer_key)? {
                if shared(&doc)? {
                    ours.push(doc);
                }
            }
            let mut kept = Vec::new();
            for doc in theirs {
                if shared(&doc)? {
                    kept.push(doc);
                }
            }
            Ok::<_, maraude_store::StoreError>((ours, kept))
        })
        .await??;
    let mut wanted: BTreeSet<DocumentId> = ours.iter().cloned().collect();
    wanted.extend(theirs);
    let asked: Vec<DocumentId> = wanted.iter().cloned().collect();
    let before: BTreeMap<DocumentId, Vec<ChangeHash>> = store
        .with(move |s| {
            let mut known = BTreeMap::new();
            for doc in asked {
                if let Some(heads) = s.recorded_heads(&doc)? {
                    known.insert(doc, heads);
                }
            }
            Ok::<_, maraude_store::StoreError>(known)
        })
        .await??;
    let mut summary = SyncSummary {
        documents_sent: ours.len(),
        ..SyncSummary::default()
    };
    if wanted.is_empty() {
        // Nothing erased: an erasure here changes the antenna document.
        summary.millis = started.elapsed().as_millis() as u64;
        return Ok(summary);
    }

    let traffic = Arc::new(Traffic::default());
    let repo = Repo::builder(tokio::runtime::Handle::current())
        .with_storage(store.clone())
        .with_peer_id(PeerId::from_string(api::device_peer(device.as_uuid())))
        .with_share_policy(only(
            PeerId::from_string(other_peer.clone()),
            wanted.clone(),
        ))
        .with_observer(TrafficObserver(traffic.clone()))
        .load()
        .await;
    // What a teammate writes is checked here as its server checks ours.
    let door = other_role.map(|role| (store.clone(), role));
    let notices = Notices::default();
    let outcome = sync_documents(
        &repo,
        store,
        &remote,
        (&other_peer, door),
        &notices,
        wanted,
        &before,
        patience,
        progress,
    )
    .await;
    repo.stop().await;
    summary.refusals = notices
        .all()
        .into_iter()
        .map(|n| format!("{} ({})", n.message, n.code))
        .chain(notices.refused_here().into_iter().map(|n| {
            format!(
                "refused here, from the teammate: {} ({})",
                n.message, n.code
            )
        }))
        .collect();
    let synced = outcome?;

    summary.reconnections = synced.reconnections;
    summary.documents_refused = synced.refused;
    for doc in &synced.docs {
        if doc.received > 0 {
            summary.documents_received += 1;
            summary.changes_received += doc.received;
        }
    }
    let shared: Vec<(DocumentId, Vec<ChangeHash>)> = synced
        .docs
        .iter()
        .map(|d| (d.id.clone(), d.heads.clone()))
        .collect();
    let acked = Acked {
        documents: shared
            .iter()
            .map(|(id, heads)| {
                (
                    id.to_string(),
                    heads.iter().map(|h| h.to_string()).collect(),
                )
            })
            .collect::<BTreeMap<_, _>>(),
    };
    // The other side records first: if it fails (its store stopped, the
    // line cut), this side still lists these documents at the next sync,
    // whose exchange of heads sends again whatever the other side lacks.
    // (Had this side recorded first, a change the other side held only in
    // memory would be listed by neither side again.)
    let _: serde_json::Value = remote
        .call(remote.http.post(remote.url("v1/sync/acked")?).json(&acked))
        .await?;
    let peer_key = other_peer.clone();
    store
        .with(move |s| s.mark_shared(&peer_key, &shared))
        .await??;
    let erased_after = store.with(|s| s.erased_cases().map(|e| e.len())).await??;
    summary.cases_erased = erased_after.saturating_sub(erased_before);
    summary.bytes_sent = traffic.sent.load(Ordering::Relaxed);
    summary.bytes_received = traffic.received.load(Ordering::Relaxed);
    summary.millis = started.elapsed().as_millis() as u64;
    Ok(summary)
}

struct SyncedDoc {
    id: DocumentId,
    heads: Vec<ChangeHash>,
    received: usize,
}

struct Synced {
    docs: Vec<SyncedDoc>,
    refused: usize,
    reconnections: u32,
}

#[allow(clippy::too_many_arguments)]
async fn sync_documents(
    repo: &Repo,
    store: &StoreHandle,
    remote: &Remote,
    (peer, door): (&str, Option<(StoreHandle, Role)>),
    notices: &Notices,
    wanted: BTreeSet<DocumentId>,
    before: &BTreeMap<DocumentId, Vec<ChangeHash>>,
    patience: Patience,
    progress: &impl Fn(usize, usize),
) -> Result<Synced, SyncError> {
    let dialer =
        Arc::new(remote.dialer(PeerId::from_string(peer.to_string()), door, notices.clone())?);
    let backoff = BackoffConfig {
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
        max_retries: Some(8),
    };
    let connection = repo.dial(backoff, dialer).map_err(|_| SyncError::Stopped)?;
    let total = wanted.len();
    let mut remaining: Vec<DocumentId> = wanted.into_iter().collect();
    let mut done = Synced {
        docs: Vec::new(),
        refused: 0,
        reconnections: 0,
    };
    for round in 0..patience.rounds {
        let established = tokio::time::timeout(patience.connect, connection.established()).await;
        match established {
            Err(_) => return Err(remote.unreachable()),
            Ok(Err(samod::DialerFailed::PermanentFailure(e))) => return Err((*e).clone()),
            Ok(Err(samod::DialerFailed::MaxRetriesReached)) => return Err(remote.unreachable()),
            Ok(Ok(_)) => {}
        }
        let Some(conn) = connection.connection_id() else {
            continue;
        };
        if round > 0 {
            done.reconnections += 1;
        }
        let lost = {
            let connection = &connection;
            move || async move {
                while connection.connection_id() == Some(conn) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let this_round = std::mem::take(&mut remaining);
        let mut results = futures::stream::iter(this_round.into_iter().map(|doc| {
            let lost = lost();
            async move {
                let known = before.get(&doc).cloned().unwrap_or_default();
                let attempt = tokio::time::timeout(
                    patience.document,
                    sync_one(repo, store, notices, doc.clone(), known, conn),
                );
                tokio::select! {
                    r = attempt => (doc, r.ok()),
                    _ = lost => (doc, None),
                }
            }
        }))
        .buffer_unordered(64);
        while let Some((doc, result)) = results.next().await {
            match result {
                Some(Ok(Some(synced))) => {
                    done.docs.push(synced);
                    progress(done.docs.len() + done.refused, total);
                }
                Some(Ok(None)) => {
                    done.refused += 1;
                    progress(done.docs.len() + done.refused, total);
                }
                Some(Err(e)) => return Err(e),
                None => remaining.push(doc),
            }
        }
        drop(results);
        if remaining.is_empty() {
            break;
        }
        if let Some(notice) = notices.closing() {
            connection.close();
            return Err(SyncError::Refused {
                status: 403,
                code: notice.code,
                message: notice.message,
            });
        }
    }
    connection.close();
    if !remaining.is_empty() {
        return Err(SyncError::Incomplete {
            synced: done.docs.len(),
            left: remaining.len(),
        });
    }
    Ok(done)
}

/// Bring one document into sync both ways over `conn`; `None` when the
/// server has it not, or not for this device, or when it is a case erased
/// meanwhile (the server refuses an erased case, and the antenna
/// document's tombstone, arriving in the same sync, erases it here).
async fn sync_one(
    repo: &Repo,
    store: &StoreHandle,
    notices: &Notices,
    doc: DocumentId,
    before: Vec<ChangeHash>,
    conn: ConnectionId,
) -> Result<Option<SyncedDoc>, SyncError> {
    let Some(handle) = repo
        .find(doc.clone())
        .await
        .map_err(|_| SyncError::Stopped)?
    else {
        return Ok(None);
    };
    let both_ways = future::join(
        handle.they_have_our_changes(conn),
        handle.we_have_their_changes(conn),
    );
    let id = doc.to_string();
    tokio::select! {
        _ = both_ways => {}
        _ = erased_here(store, doc.clone()) => return Ok(None),
        // The other side refused this device's changes to it: they stay
        // here, and the rest of the sync goes on.
        _ = notices.refused(&id) => return Ok(None),
    }
    let (heads, received) =
        handle.with_document(|d| (d.get_heads(), d.get_changes_meta(&before).len()));
    Ok(Some(SyncedDoc {
        id: doc,
        heads,
        received,
    }))
}

/// Resolves once `doc` is an erased case in this store.
async fn erased_here(store: &StoreHandle, doc: DocumentId) {
    loop {
        let d = doc.clone();
        match store.with(move |s| s.subject(&d)).await {
            Ok(Ok(maraude_core::access::Subject::Erased)) => return,
            // Closed store: the sync is ending anyway; do not call it erased.
            Err(_) => future::pending::<()>().await,
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// The device shares with the other side of this sync and nobody else,
/// and only the documents this sync is about (already filtered by what the
/// other side may receive).
fn only(other: PeerId, documents: BTreeSet<DocumentId>) -> impl samod::SharePolicy {
    move |doc: DocumentId, peer: PeerId| {
        let config = if peer == other && documents.contains(&doc) {
            ShareConfig::read_write()
        } else {
            ShareConfig::none()
        };
        futures::stream::iter([config])
    }
}

#[derive(Default)]
struct Traffic {
    sent: AtomicU64,
    received: AtomicU64,
}

struct TrafficObserver(Arc<Traffic>);

impl RepoObserver for TrafficObserver {
    fn observe(&self, event: &RepoEvent) {
        match event {
            RepoEvent::SyncMessageGenerated { bytes, .. } => {
                self.0.sent.fetch_add(*bytes as u64, Ordering::Relaxed);
            }
            RepoEvent::SyncMessageReceived { bytes, .. } => {
                self.0.received.fetch_add(*bytes as u64, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

fn bad_url(e: impl std::fmt::Display) -> SyncError {
    SyncError::BadUrl(e.to_string())
}

/// The server's base URL, with a trailing `/` so that `join` appends.
pub fn base_url(url: &str) -> Result<reqwest::Url, SyncError> {
    let with_slash = if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    };
    let parsed = reqwest::Url::parse(&with_slash).map_err(bad_url)?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(SyncError::BadUrl(format!(
            "{url}: the address must start with https:// (or http:// on a network you trust), not {other}"
        ))),
    }
}

/// The HTTP client for a base server at `base`: HTTPS checked against the
/// system's trusted certificates. The TLS configuration is also returned
/// for the WebSocket (`None` over plain HTTP).
pub(crate) fn http_client(
    base: &reqwest::Url,
    connect: Duration,
) -> Result<(reqwest::Client, Option<Arc<rustls::ClientConfig>>), SyncError> {
    let tls = Arc::new(tls::server_client_config()?);
    // reqwest is built without a default crypto backend: it always gets
    // this configuration (ring), even for http:// where it is not used.
    let http = reqwest::Client::builder()
        .connect_timeout(connect)
        .tls_backend_preconfigured((*tls).clone())
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    Ok((http, (base.scheme() == "https").then_some(tls)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Server,
    Teammate,
}

/// The other side of a sync: the base server (credential in a header), or
/// a teammate's tablet (mutual TLS with the antenna's certificates).
struct Remote {
    kind: Kind,
    http: reqwest::Client,
    base: reqwest::Url,
    /// What to call it in messages: the server's URL, the tablet's address.
    label: String,
    credential: Option<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Where to connect, for a teammate reached by address while its
    /// certificate is checked against [`identity::PEER_NAME`].
    address: Option<std::net::SocketAddr>,
    /// This tablet's certificate, when syncing with a teammate.
    certificate: Option<DeviceCertificate>,
}

impl Remote {
    fn server(link: &ServerLink, patience: Patience) -> Result<Self, SyncError> {
        let base = base_url(&link.url)?;
        let (http, tls) = http_client(&base, patience.connect)?;
        Ok(Self {
            kind: Kind::Server,
            http,
            base,
            label: link.url.clone(),
            credential: Some(link.credential.expose_secret().to_string()),
            tls,
            address: None,
            certificate: None,
        })
    }

    fn teammate(
        address: std::net::SocketAddr,
        team: &TeamTls,
        patience: Patience,
    ) -> Result<Self, SyncError> {
        let tls = team.client_config()?;
        let http = reqwest::Client::builder()
            .connect_timeout(patience.connect)
            .tls_backend_preconfigured((*tls).clone())
            .tls_info(true)
            .resolve(identity::PEER_NAME, address)
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let base = reqwest::Url::parse(&format!(
            "https://{}:{}/",
            identity::PEER_NAME,
            address.port()
        ))
        .map_err(bad_url)?;
        Ok(Self {
            kind: Kind::Teammate,
            http,
            base,
            label: address.to_string(),
            credential: None,
            tls: Some(tls),
            address: Some(address),
            certificate: None,
        })
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, SyncError> {
        self.base.join(path).map_err(bad_url)
    }

    fn unreachable(&self) -> SyncError {
        match self.kind {
            Kind::Server => SyncError::Unreachable(self.label.clone()),
            Kind::Teammate => SyncError::TeammateUnreachable(self.label.clone()),
        }
    }

    /// What changed on the other side, and, for a teammate, who it is.
    async fn pending(
        &self,
        revoked: Option<usize>,
    ) -> Result<(Pending, Option<Teammate>), SyncError> {
        let mut url = self.url("v1/sync/pending")?;
        if let Some(n) = revoked {
            url.set_query(Some(&format!("revoked={n}")));
        }
        let response = self.send(self.http.get(url)).await?;
        let teammate = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .and_then(|der| Teammate::from_certificate(der).ok());
        Ok((read_answer(response).await?, teammate))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, SyncError> {
        let request = match &self.credential {
            Some(credential) => request.bearer_auth(credential),
            None => request,
        };
        request.send().await.map_err(|e| self.network_error(e))
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        read_answer(self.send(request).await?).await
    }

    fn network_error(&self, e: reqwest::Error) -> SyncError {
        if self.kind == Kind::Teammate
            && let Some(why) = tls_refusal(&e)
        {
            return SyncError::NotATeammate {
                at: self.label.clone(),
                why,
            };
        }
        match network_error(&self.label, e) {
            SyncError::Unreachable(_) => self.unreachable(),
            other => other,
        }
    }

    fn dialer(
        &self,
        other: PeerId,
        door: Option<(StoreHandle, Role)>,
        notices: Notices,
    ) -> Result<WsDialer, SyncError> {
        let mut url = self.url("v1/sync")?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|_| SyncError::BadUrl(url.to_string()))?;
        Ok(WsDialer {
            url: samod::Url::parse(url.as_str()).map_err(bad_url)?,
            credential: self.credential.clone(),
            tls: self.tls.clone(),
            address: self.address,
            other,
            door,
            notices,
        })
    }
}

/// The TLS alert or certificate error under a failed request, if that is
/// why it failed.
fn tls_refusal(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    // hyper wraps it in I/O errors, inside one another.
    fn within<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = err.downcast_ref::<std::io::Error>()?.get_ref()?;
        within(inner)
    }
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(tls) = within(err) {
            return Some(tls.to_string());
        }
        source = err.source();
    }
    None
}

/// A REST call with the device's credential; the server's own error
/// message when it refuses.
pub(crate) async fn call<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    link: &ServerLink,
) -> Result<T, SyncError> {
    let response = request
        .bearer_auth(link.credential.expose_secret())
        .send()
        .await
        .map_err(|e| network_error(&link.url, e))?;
    read_answer(response).await
}

/// A request that did not get an answer: "cannot reach" (with what to
/// check) when the server could not be reached at all, "cut" when the
/// connection broke during the request or its answer.
pub(crate) fn network_error(server: &str, e: reqwest::Error) -> SyncError {
    if let Some(why) = tls_refusal(&e) {
        return SyncError::Tls(format!(
            "the server at {server} could not be verified ({why}); check its address, or ask its administrator about its certificate"
        ));
    }
    if e.is_connect() || e.is_timeout() {
        SyncError::Unreachable(server.to_string())
    } else if e.is_request() || e.is_body() {
        SyncError::Cut(server.to_string())
    } else {
        SyncError::Network(e.to_string())
    }
}

pub(crate) async fn read_answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, SyncError> {
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| SyncError::Network(format!("unexpected answer from the server: {e}")));
    }
    let body = response.text().await.unwrap_or_default();
    let refused = match serde_json::from_str::<api::ApiError>(&body) {
        Ok(e) => SyncError::Refused {
            status: status.as_u16(),
            code: e.code,
            message: e.message,
        },
        Err(_) => SyncError::Refused {
            status: status.as_u16(),
            code: "http".into(),
            message: format!("the server answered {status}"),
        },
    };
    Err(refused)
}

/// Dials the other side's sync endpoint (with the device's credential for
/// the server, its certificate for a teammate), and expects the other
/// side's peer id in the handshake.
struct WsDialer {
    url: samod::Url,
    credential: Option<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    address: Option<std::net::SocketAddr>,
    other: PeerId,
    /// A teammate's writes are checked for its certified role.
    door: Option<(StoreHandle, Role)>,
    notices: Notices,
}

impl Dialer for WsDialer {
    type Error = SyncError;

    fn url(&self) -> samod::Url {
        self.url.clone()
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<SyncError>>> {
        let url = self.url.clone();
        let credential = self.credential.clone();
        let tls = self.tls.clone();
        let address = self.address;
        let other = self.other.clone();
        let door = self.door.clone().map(|(store, role)| {
            Door::new(
                store,
                role,
                other.to_string(),
                Uploads::default(),
                Offences::default(),
            )
        });
        let notices = self.notices.clone();
        async move {
            let mut request = yawc::HttpRequestBuilder::new();
            if let Some(credential) = credential {
                request = request.header(api::AUTHORIZATION, format!("Bearer {credential}"));
            }
            let mut connect = yawc::WebSocket::connect(url)
                .with_options(crate::socket::options())
                .with_request(request);
            if let Some(tls) = tls {
                connect = connect.with_connector(tokio_rustls::TlsConnector::from(tls));
            }
            if let Some(address) = address {
                connect = connect.with_tcp_address(address);
            }
            let socket = match connect.await {
                Ok(socket) => socket,
                Err(yawc::WebSocketError::InvalidStatusCode(status))
                    if (400..500).contains(&status) =>
                {
                    return Err(DialError::PermanentFailure(SyncError::Refused {
                        status,
                        code: "refused".into(),
                        message: refusal(status).into(),
                    }));
                }
                Err(e) => return Err(DialError::transient(e)),
            };
            let (stream, sink) = crate::socket::messages(socket, door, notices);
            Ok(Transport::new(stream, sink).with_expected_peer_id(other))
        }
        .boxed()
    }
}

/// What to tell the user when the server refuses the WebSocket upgrade
/// (the REST call just before usually says it first, with the server's
/// own words).
fn refusal(status: u16) -> &'static str {
    match status {
        401 => {
            "this device's credential was refused (revoked, or enrolled elsewhere); ask your coordinator"
        }
        403 => "this device may not sync with this antenna; ask your coordinator",
        429 => {
            "the other side closed this device's last connection for what it sent, and asks it to wait; sync again in a minute, and if it happens again, update Maraude or ask your coordinator"
        }
        _ => "the server refused the sync connection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_address_is_refused_with_what_to_type_instead() {
        assert_eq!(
            base_url("http://192.168.1.10:8470")
                .map(|u| u.to_string())
                .ok(),
            Some("http://192.168.1.10:8470/".to_string())
        );
        assert_eq!(
            base_url("https://sync.example.org")
                .map(|u| u.to_string())
                .ok(),
            Some("https://sync.example.org/".to_string())
        );
        let ftp = base_url("ftp://h").unwrap_err().to_string();
        assert!(ftp.contains("must start with https://"), "{ftp}");
    }
}
