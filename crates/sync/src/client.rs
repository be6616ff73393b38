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
use maraude_store::{DocumentId, ServerLink};
use samod::{
    BackoffConfig, ConnectionId, DialError, Dialer, PeerId, Repo, RepoEvent, RepoObserver,
    ShareConfig, Transport,
};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::api::{self, Acked, Pending};
use crate::error::SyncError;
use crate::storage::StoreHandle;

/// What a sync did, for the summary line and the app's status.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SyncSummary {
    /// Documents that had changed here since the server last had them.
    pub documents_sent: usize,
    /// Documents that came back with changes from the server.
    pub documents_received: usize,
    /// Changes received, over all documents.
    pub changes_received: usize,
    /// Documents the server refused or did not have (out of scope).
    pub documents_refused: usize,
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
    let started = Instant::now();
    // Retention first, so that nothing past it is sent.
    let (link, device, erased_before) = store
        .with(|s| {
            s.apply_retention(chrono::Utc::now())?;
            Ok::<_, maraude_store::StoreError>((
                s.server_link()?,
                s.device(),
                s.erased_cases()?.len(),
            ))
        })
        .await??;
    let link = link.ok_or(SyncError::NotEnrolled)?;
    let http = reqwest::Client::builder()
        .connect_timeout(patience.connect)
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    let base = base_url(&link.url)?;

    let pending: Pending = call(
        http.get(base.join("v1/sync/pending").map_err(bad_url)?),
        &link,
    )
    .await?;
    let server_peer = pending.server_peer.clone();
    let peer_key = server_peer.clone();
    let ours = store.with(move |s| s.changed_for(&peer_key)).await??;
    let mut wanted: BTreeSet<DocumentId> = ours.iter().cloned().collect();
    wanted.extend(pending.documents.iter().filter_map(|d| d.parse().ok()));
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
        .with_share_policy(only_with(PeerId::from_string(server_peer.clone())))
        .with_observer(TrafficObserver(traffic.clone()))
        .load()
        .await;
    let outcome = sync_documents(
        &repo,
        store,
        Server {
            link: &link,
            base: &base,
            peer: &server_peer,
        },
        wanted,
        &before,
        patience,
        &progress,
    )
    .await;
    repo.stop().await;
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
    let peer_key = server_peer.clone();
    store
        .with(move |s| s.mark_shared(&peer_key, &shared))
        .await??;
    let _: serde_json::Value = call(
        http.post(base.join("v1/sync/acked").map_err(bad_url)?)
            .json(&acked),
        &link,
    )
    .await?;
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

/// Where the sync goes.
struct Server<'a> {
    link: &'a ServerLink,
    base: &'a reqwest::Url,
    peer: &'a str,
}

async fn sync_documents(
    repo: &Repo,
    store: &StoreHandle,
    server: Server<'_>,
    wanted: BTreeSet<DocumentId>,
    before: &BTreeMap<DocumentId, Vec<ChangeHash>>,
    patience: Patience,
    progress: &impl Fn(usize, usize),
) -> Result<Synced, SyncError> {
    let Server { link, base, peer } = server;
    let dialer = Arc::new(WsDialer {
        url: ws_url(base)?,
        credential: link.credential.expose_secret().to_string(),
        server: PeerId::from_string(peer.to_string()),
    });
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
            Err(_) => return Err(SyncError::Unreachable(link.url.clone())),
            Ok(Err(samod::DialerFailed::PermanentFailure(e))) => return Err((*e).clone()),
            Ok(Err(samod::DialerFailed::MaxRetriesReached)) => {
                return Err(SyncError::Unreachable(link.url.clone()));
            }
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
                    sync_one(repo, store, doc.clone(), known, conn),
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
    tokio::select! {
        _ = both_ways => {}
        _ = erased_here(store, doc.clone()) => return Ok(None),
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

/// The device shares with its server and nobody else.
fn only_with(server: PeerId) -> impl samod::SharePolicy {
    move |_doc: DocumentId, peer: PeerId| {
        let config = if peer == server {
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
        "http" => Ok(parsed),
        // Said plainly rather than failing later as "cannot reach".
        "https" => Err(SyncError::BadUrl(format!(
            "{url}: this version of Maraude does not speak HTTPS yet; sync only over a network you trust, with an http:// address"
        ))),
        other => Err(SyncError::BadUrl(format!(
            "{url}: the address must start with http://, not {other}"
        ))),
    }
}

fn ws_url(base: &reqwest::Url) -> Result<samod::Url, SyncError> {
    let mut url = base.join("v1/sync").map_err(bad_url)?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|_| SyncError::BadUrl(url.to_string()))?;
    samod::Url::parse(url.as_str()).map_err(bad_url)
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

/// Dials the server's sync endpoint with the device's credential, and
/// expects the server's peer id in the handshake.
struct WsDialer {
    url: samod::Url,
    credential: String,
    server: PeerId,
}

impl Dialer for WsDialer {
    type Error = SyncError;

    fn url(&self) -> samod::Url {
        self.url.clone()
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<SyncError>>> {
        let url = self.url.clone();
        let credential = self.credential.clone();
        let server = self.server.clone();
        async move {
            let request = yawc::HttpRequestBuilder::new()
                .header(api::AUTHORIZATION, format!("Bearer {credential}"));
            let socket = match yawc::WebSocket::connect(url)
                .with_options(crate::socket::options())
                .with_request(request)
                .await
            {
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
            let (stream, sink) = crate::socket::messages(socket);
            Ok(Transport::new(stream, sink).with_expected_peer_id(server))
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
        let https = base_url("https://sync.example.org")
            .unwrap_err()
            .to_string();
        assert!(https.contains("does not speak HTTPS yet"), "{https}");
        let ftp = base_url("ftp://h").unwrap_err().to_string();
        assert!(ftp.contains("must start with http://"), "{ftp}");
    }
}
