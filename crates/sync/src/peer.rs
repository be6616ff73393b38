//! A tablet serving its teammates, in the van or at the warehouse without
//! the server: the same automerge-repo protocol and the same "what
//! changed" calls as the base server, over mutual TLS with the
//! certificates the antenna gave each tablet (see [`crate::identity`]).
//!
//! Who may connect: a tablet whose certificate this antenna's authority
//! signed and that the revocation list this tablet holds does not name.
//! What a connecting stranger sees: a certificate that names nothing
//! ([`crate::tls::ServingCertificate`]); a teammate learns which device
//! serves from the proof in `GET /v1/sync/pending`.
//! What it receives: what its role may (`maraude_core::access`), as from
//! the server. The list is read again from the store every few seconds,
//! so a sync with the server that brings a revocation, made meanwhile,
//! cuts the revoked tablet off.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::SyncError;
use crate::hub::Hub;
use crate::identity::{self, Teammate};
use crate::storage::StoreHandle;
use crate::tls::{TeamTls, TlsConnection};
use maraude_protocol::api::{self, Acked, Refusal};

/// Teammates syncing with this tablet at once; more are refused with 503.
pub const MAX_TEAMMATES: usize = 16;
/// How often the revocation list is read again from the store.
const REVOCATIONS_CHECK: Duration = Duration::from_secs(2);

struct Team {
    hub: Arc<Hub>,
    store: StoreHandle,
    certificate: maraude_store::DeviceCertificate,
    /// The proof of which device serves, for the certificate now served.
    proof: std::sync::Mutex<api::ServingProof>,
    antenna: Uuid,
    device: Uuid,
    connections: AtomicUsize,
}

/// Serve the store to teammates on `listener` until `stop` resolves.
pub async fn serve_teammates(
    store: StoreHandle,
    listener: TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), SyncError> {
    let (link, revocations, antenna, device) = store
        .with(|s| {
            Ok::<_, maraude_store::StoreError>((
                s.server_link()?,
                s.revocations()?,
                *s.antenna_id().as_uuid(),
                *s.device().as_uuid(),
            ))
        })
        .await??;
    let certificate = link
        .and_then(|l| l.certificate)
        .ok_or(SyncError::NoCertificate)?;
    let (config, proof) = serving(&certificate, revocations.clone())?;
    let (configs, config_rx) = watch::channel(config);
    let hub = Arc::new(Hub::start(store.clone(), antenna, api::device_peer(&device)).await?);
    let team = Arc::new(Team {
        hub: hub.clone(),
        store: store.clone(),
        certificate: certificate.clone(),
        proof: std::sync::Mutex::new(proof),
        antenna,
        device,
        connections: AtomicUsize::new(0),
    });
    let watching = tokio::spawn(watch_revocations(
        store.clone(),
        revocations,
        configs,
        team.clone(),
    ));
    let app = Router::new()
        .route("/v1/sync/pending", get(pending))
        .route("/v1/sync/acked", post(acked))
        .route("/v1/sync/revocations", post(take_revocations))
        .route("/v1/sync", get(sync_socket))
        .with_state(team);
    // A store that stopped (a write failed) ends the serving: teammates
    // would sync with a tablet that writes nothing.
    let store_stopped = store.stopped();
    let stop = async move {
        tokio::select! {
            _ = stop => {}
            _ = store_stopped => {}
        }
    };
    // The same limits as the base server's defaults: a tablet's teammates
    // have nothing to tune, and a stranger on the van's Wi-Fi gets no
    // more than from the server.
    crate::serve::serve(
        listener,
        Some(config_rx),
        app,
        crate::serve::Limits::default(),
        stop,
    )
    .await;
    watching.abort();
    hub.repo.stop().await;
    match store.failure() {
        Some(why) => Err(SyncError::StoreStopped(why)),
        None => Ok(()),
    }
}

/// The TLS configuration to serve with, and the proof of which device
/// serves: a new [`crate::tls::ServingCertificate`] each time, marked with
/// the team secret the tablet holds now.
fn serving(
    certificate: &maraude_store::DeviceCertificate,
    revocations: Option<Vec<u8>>,
) -> Result<(Arc<rustls::ServerConfig>, api::ServingProof), SyncError> {
    let tls = TeamTls::new(certificate, revocations)?;
    let serving = tls.serving_certificate()?;
    Ok((tls.server_config(&serving)?, tls.proof(&serving)?))
}

/// Read the revocation list again now and then: a newer one replaces the
/// TLS configuration for new connections (with a serving certificate
/// marked with the team secret that came with it) and cuts the revoked
/// teammates' open ones.
async fn watch_revocations(
    store: StoreHandle,
    mut known: Option<Vec<u8>>,
    configs: watch::Sender<Arc<rustls::ServerConfig>>,
    team: Arc<Team>,
) {
    loop {
        tokio::time::sleep(REVOCATIONS_CHECK).await;
        let Ok(Ok((latest, link))) = store
            .with(|s| Ok::<_, maraude_store::StoreError>((s.revocations()?, s.server_link()?)))
            .await
        else {
            return;
        };
        if latest == known {
            continue;
        }
        let certificate = link
            .and_then(|l| l.certificate)
            .unwrap_or_else(|| team.certificate.clone());
        match serving(&certificate, latest.clone()) {
            Ok((config, proof)) => {
                *team.proof.lock().unwrap_or_else(|p| p.into_inner()) = proof;
                configs.send_replace(config);
            }
            Err(e) => {
                tracing::error!(error = %e, "the new revocation list cannot be used");
                continue;
            }
        }
        if let Some(der) = &latest {
            for device in revoked_among(der, &team.hub.admitted_devices()) {
                tracing::warn!(%device, "teammate revoked: connection cut");
                team.hub.revoke(device);
            }
        }
        known = latest;
    }
}

/// Which of `devices` the revocation list names.
fn revoked_among(der: &[u8], devices: &[Uuid]) -> Vec<Uuid> {
    let Ok(list) = webpki::BorrowedCertRevocationList::from_der(der) else {
        return Vec::new();
    };
    let list = webpki::CertRevocationList::from(list);
    devices
        .iter()
        .filter(|d| matches!(list.find_serial(&identity::serial(d)), Ok(Some(_))))
        .copied()
        .collect()
}

/// The teammate on the other end, from the certificate it showed in the
/// handshake (already checked against the antenna's authority and the
/// revocation list).
struct Peer(Teammate);

fn refused(status: StatusCode, code: Refusal, message: &str) -> Response {
    let body = api::ApiError {
        code: code.as_str().into(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

impl FromRequestParts<Arc<Team>> for Peer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, team: &Arc<Team>) -> Result<Self, Response> {
        let ConnectInfo(connection) = parts
            .extensions
            .get::<ConnectInfo<TlsConnection>>()
            .cloned()
            .ok_or_else(|| {
                refused(
                    StatusCode::UNAUTHORIZED,
                    Refusal::NoCertificate,
                    "no certificate",
                )
            })?;
        let teammate = connection
            .client_certificate
            .as_deref()
            .and_then(|der| Teammate::from_certificate(der).ok())
            .filter(|t| t.antenna == team.antenna && t.device != team.device)
            .ok_or_else(|| {
                refused(
                    StatusCode::FORBIDDEN,
                    Refusal::NotATeammate,
                    "this tablet is not of this antenna",
                )
            })?;
        Ok(Peer(teammate))
    }
}

async fn pending(State(team): State<Arc<Team>>, Peer(peer): Peer) -> Response {
    let revocations = team
        .store
        .with(|s| s.revocations())
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
        .map(|list| api::b64(&list));
    match team.hub.pending(peer.device, peer.role).await {
        Ok(documents) => Json(api::Pending {
            server_peer: api::device_peer(&team.device),
            documents,
            revocations,
            // Only the server hands it out.
            team_secret: None,
            serving: Some(team.proof.lock().unwrap_or_else(|p| p.into_inner()).clone()),
            start_over: false,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "pending");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                Refusal::Internal,
                "this tablet's store failed",
            )
        }
    }
}

async fn acked(
    State(team): State<Arc<Team>>,
    Peer(peer): Peer,
    Json(request): Json<Acked>,
) -> Response {
    let docs = match request.parse() {
        Ok(docs) => docs,
        Err(message) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                Refusal::BadHeads,
                &message,
            );
        }
    };
    let count = docs.len();
    match team.hub.acked(peer.device, docs).await {
        Ok(()) => {
            tracing::info!(teammate = %peer.device, documents = count, "teammate synced");
            Json(api::AckedReceipt {
                acknowledged: count,
                at: None,
            })
            .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "acked");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                Refusal::Internal,
                "this tablet's store failed",
            )
        }
    }
}

/// A teammate's revocation list naming more devices than ours: kept once
/// checked as signed by the antenna (the watch loop then applies it).
async fn take_revocations(
    State(team): State<Arc<Team>>,
    Peer(peer): Peer,
    Json(request): Json<api::Revocations>,
) -> Response {
    let cert = &team.certificate;
    let check =
        |list: &[u8]| identity::checked_revocations(&cert.authority, &cert.certificate, list);
    let Some(theirs_der) = api::from_b64(&request.revocations) else {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::BadRevocations,
            "not base64",
        );
    };
    let theirs = match check(&theirs_der) {
        Ok(named) => named,
        Err(e) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                Refusal::BadRevocations,
                &e.to_string(),
            );
        }
    };
    let ours = team
        .store
        .with(|s| s.revocations())
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
        .and_then(|l| check(&l).ok())
        .unwrap_or_default();
    if identity::names_more(&theirs, &ours) {
        let kept = team
            .store
            .with(move |s| s.set_revocations(&theirs_der))
            .await;
        if !matches!(kept, Ok(Ok(()))) {
            return refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                Refusal::Internal,
                "this tablet's store failed",
            );
        }
        tracing::warn!(teammate = %peer.device, "a newer revocation list from a teammate");
    }
    Json(serde_json::json!({ "kept": true })).into_response()
}

/// Counts a live teammate connection; dropped with it.
struct Live(Arc<Team>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn sync_socket(
    State(team): State<Arc<Team>>,
    Peer(peer): Peer,
    upgrade: yawc::IncomingUpgrade,
) -> Response {
    if let Some(wait) = team.hub.penalty(peer.device) {
        let seconds = wait.as_secs().max(1);
        let mut response = refused(
            StatusCode::TOO_MANY_REQUESTS,
            Refusal::TooManyAttempts,
            &format!(
                "this tablet's last connection was closed for what it sent; try again in {seconds} s"
            ),
        );
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(seconds),
        );
        return response;
    }
    if team.connections.fetch_add(1, Ordering::Relaxed) >= MAX_TEAMMATES {
        team.connections.fetch_sub(1, Ordering::Relaxed);
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Busy,
            "this tablet is syncing with too many teammates; try again in a minute",
        );
    }
    let live = Live(team.clone());
    let revoked = team.hub.admit(peer.device, peer.role);
    match upgrade.upgrade(crate::socket::options()) {
        Ok((response, socket)) => {
            tracing::info!(teammate = %peer.device, "teammate sync connection");
            team.hub
                .serve_socket(socket, peer.device, peer.role, revoked, live);
            response.into_response()
        }
        Err(e) => refused(StatusCode::BAD_REQUEST, Refusal::BadUpgrade, &e.to_string()),
    }
}

/// The address to give teammates: this machine's address on the network
/// the listener is on (not 0.0.0.0).
pub fn shown_address(local: SocketAddr) -> SocketAddr {
    if !local.ip().is_unspecified() {
        return local;
    }
    // The address the system would use to reach the outside: no packet is
    // sent by connecting a UDP socket.
    let ip = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("192.0.2.1:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(local.ip());
    SocketAddr::new(ip, local.port())
}
