//! The server's HTTP surface: health, enrolment, devices, "what changed",
//! sync tickets, and the sync WebSocket.
//!
//! Who may enrol and revoke whom is the core's rule
//! (`maraude_core::access`): a lead's tablet enrols and revokes
//! volunteers' only, a coordinator's any but the antenna's last
//! coordinator; refusals are 403 with the rule as `code` (`rank_too_low`,
//! `last_coordinator`). The doors anyone can knock on (`/v1/enrol`,
//! `/v1/antennas`, `/v1/sync/ticket`) count each client address's attempts
//! ([`crate::attempts`]): 429 `too_many_attempts` with `Retry-After`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use maraude_core::Invalid;
use maraude_core::access::{self, Role};
use maraude_core::ids::{AntennaId, DeviceId};
use maraude_protocol::api::{
    self, Acked, CertificateRequest, CodeRequest, DeviceInfo, Enrol, Enrolled, EnrolmentCode,
    IssuedCertificate, Refusal, SyncTicket,
};
use maraude_store::Passphrase;
use maraude_store::{Store, StoreError};
use maraude_sync::StoreHandle;
use maraude_sync::hub::Hub;
use maraude_sync::identity;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::attempts::{Attempts, TooManyAttempts};
use crate::authority::{Authority, AuthorityError, CERTIFICATE_DAYS};
use crate::metrics::ServerMetrics;
use crate::registry::{Device, NewDevice, Registry, RegistryError};
use crate::secrets;
use crate::shared::SharedDocuments;
use crate::ticket::{TICKET_LIFETIME, Tickets};

/// How long a device waits before syncing again with an antenna whose
/// store failed (`Retry-After`).
const ANTENNA_RETRY_SECS: u64 = 60;

/// How long an enrolment code stays valid.
const CODE_LIFETIME_HOURS: i64 = 48;

/// Sync tickets a client address may ask for in a minute: a JavaScript
/// client asks for one per connection, and a ticket needs a valid
/// credential anyway.
const TICKETS_PER_MINUTE: u32 = 60;

/// What the server allows, from its settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sync connections served at once; more get 503.
    pub max_connections: usize,
    /// Enrolment and registration attempts per client address and minute;
    /// more get 429.
    pub enrol_attempts_per_minute: u32,
    /// How long a device certificate is valid (see
    /// [`crate::authority::CERTIFICATE_DAYS`]).
    pub certificate_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 500,
            enrol_attempts_per_minute: 10,
            certificate_days: CERTIFICATE_DAYS,
        }
    }
}

pub struct App {
    pub registry: Box<dyn Registry>,
    pub data_dir: PathBuf,
    pub passphrase: Arc<Passphrase>,
    /// The hash of the token that lets a coordinator register an antenna;
    /// `None`: registration is closed.
    pub registration_token_hash: Option<String>,
    pub limits: Limits,
    pub connections: AtomicUsize,
    hubs: Mutex<HashMap<Uuid, Arc<Hub>>>,
    /// Held while an antenna's hub opens (see [`App::hub`]).
    opening: Mutex<HashMap<Uuid, Arc<Mutex<()>>>>,
    /// Stores being opened at once, each deriving its key (see [`App::hub`]).
    key_derivations: Arc<tokio::sync::Semaphore>,
    pub metrics: ServerMetrics,
    /// The hash of the token a scraper from another machine sends to read
    /// `/metrics`; from this machine none is needed.
    metrics_token_hash: Option<String>,
    /// The database other servers share, when there is one: the
    /// antennas' documents are kept there too (see [`crate::shared`]).
    shared: Option<SharedDocuments>,
    /// Each antenna's authority once read from the registry: its key never
    /// changes, and every sync needs it (the team secret).
    authorities: std::sync::Mutex<HashMap<Uuid, Arc<Authority>>>,
    tickets: Tickets,
    enrolments: Attempts,
    registrations: Attempts,
    ticket_requests: Attempts,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

/// Stores opened at once: each derives its key with Argon2id (64 MiB,
/// most of a core for a fifth of a second).
const KEY_DERIVATIONS: usize = 2;

impl App {
    pub fn new(
        registry: Box<dyn Registry>,
        data_dir: PathBuf,
        passphrase: Passphrase,
        registration_token: Option<String>,
        limits: Limits,
    ) -> Self {
        Self {
            registry,
            data_dir,
            passphrase: Arc::new(passphrase),
            registration_token_hash: registration_token.as_deref().map(secrets::hash),
            limits,
            connections: AtomicUsize::new(0),
            hubs: Mutex::default(),
            opening: Mutex::default(),
            key_derivations: Arc::new(tokio::sync::Semaphore::new(KEY_DERIVATIONS)),
            metrics: ServerMetrics::default(),
            metrics_token_hash: None,
            shared: None,
            authorities: std::sync::Mutex::default(),
            tickets: Tickets::default(),
            enrolments: Attempts::per_minute(limits.enrol_attempts_per_minute),
            registrations: Attempts::per_minute(limits.enrol_attempts_per_minute),
            ticket_requests: Attempts::per_minute(TICKETS_PER_MINUTE),
        }
    }

    /// Keep the antennas' documents in the database `shared` too, with the
    /// other servers on it.
    pub fn with_shared_documents(mut self, shared: SharedDocuments) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Let a scraper from another machine read `/metrics` with this token.
    pub fn with_metrics_token(mut self, token: Option<&str>) -> Self {
        self.metrics_token_hash = token.map(secrets::hash);
        self
    }

    /// The database shared with other servers, if any.
    pub fn shared_documents(&self) -> Option<&SharedDocuments> {
        self.shared.as_ref()
    }

    /// The antenna's hub if it is open on this server (another server's
    /// change is for the devices syncing here; an antenna opened later
    /// takes it then).
    pub async fn open_hub(&self, antenna: Uuid) -> Option<Arc<Hub>> {
        // An antenna being opened is waited for: its opening may have
        // reconciled with the database before this change was stored, and
        // would never take it. One whose opening had not begun reconciles
        // after the change was stored (it is announced once committed).
        let gate = self.opening.lock().await.get(&antenna).cloned();
        if let Some(gate) = gate {
            drop(gate.lock().await);
        }
        let hubs = self.hubs.lock().await;
        hubs.get(&antenna)
            .filter(|hub| hub.store.failure().is_none())
            .cloned()
    }

    /// Take what other servers stored while this one could not hear them.
    pub async fn reconcile_open_antennas(&self) {
        let Some(shared) = &self.shared else { return };
        let open: Vec<(Uuid, Arc<Hub>)> = self
            .hubs
            .lock()
            .await
            .iter()
            .map(|(a, h)| (*a, h.clone()))
            .collect();
        for (antenna, hub) in open {
            if let Err(e) = shared.reconcile(antenna, &hub.store).await {
                tracing::warn!(%antenna, error = %e, "cannot reconcile the antenna with the database");
            }
        }
    }

    /// A device revoked through another server: its sockets here close.
    pub async fn revoked_elsewhere(&self, antenna: Uuid, device: Uuid) {
        if let Some(hub) = self.open_hub(antenna).await {
            tracing::warn!(%antenna, %device, "device revoked through another server: its sockets here close");
            hub.revoke(device);
        }
    }

    /// The antenna's hub, opened on first use, and opened again from its
    /// file if its store failed: a failed write stops that antenna's
    /// store (`maraude_sync::StoreHandle`), never the server, and the
    /// other antennas are served meanwhile.
    async fn hub(&self, antenna: Uuid) -> Result<Arc<Hub>, ApiError> {
        if let Some(hub) = self.working_hub(antenna).await {
            return Ok(hub);
        }
        // Opening takes a while (on the embedded store the key is derived
        // from the passphrase; with a database the antenna is reconciled
        // with it): one opening per antenna at a time, and the others
        // served meanwhile, as when every antenna's tablets come back after
        // a restart.
        let gate = self
            .opening
            .lock()
            .await
            .entry(antenna)
            .or_default()
            .clone();
        let _opening = gate.lock().await;
        if let Some(hub) = self.working_hub(antenna).await {
            return Ok(hub);
        }
        let unavailable = |e: &dyn std::fmt::Display| ApiError::antenna_unavailable(antenna, e);
        let dir = self.data_dir.join("antennas");
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        let path = dir.join(format!("{antenna}.maraude"));
        let store = match &self.shared {
            // A cache of what the database holds, keyed from the antenna's
            // data key. A store keyed by the passphrase (an antenna this
            // server held before it kept caches, or before it moved to the
            // database) stays as it is.
            Some(shared) if !path.exists() => {
                let key = shared.cache_key(antenna).await.map_err(|e| {
                    ApiError::database_unavailable(format!("antenna {antenna}: {e}"))
                })?;
                let cache = dir.join(format!("{antenna}.cache.maraude"));
                tokio::task::spawn_blocking(move || open_cache(&cache, &key, antenna))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(|e| unavailable(&e))?
            }
            _ => self.open_with_passphrase(antenna, path).await?,
        };
        let (store, _thread) = match &self.shared {
            Some(shared) => {
                store.make_cache().map_err(|e| unavailable(&e))?;
                let (store, thread) = StoreHandle::spawn_shared(store, shared.for_antenna(antenna));
                // What the other servers stored while this one did not
                // hold the antenna, and what this one holds that the
                // database lacks.
                shared.reconcile(antenna, &store).await.map_err(|e| {
                    ApiError::database_unavailable(format!("antenna {antenna}: {e}"))
                })?;
                (store, thread)
            }
            None => StoreHandle::spawn(store),
        };
        let hub = Arc::new(
            Hub::start(store, antenna, api::server_peer(&antenna))
                .await
                .map_err(|e| unavailable(&e))?,
        );
        self.hubs.lock().await.insert(antenna, hub.clone());
        Ok(hub)
    }

    /// The antenna's store at `path`, keyed by the server's passphrase
    /// (made if it is not there yet).
    async fn open_with_passphrase(&self, antenna: Uuid, path: PathBuf) -> Result<Store, ApiError> {
        // Off the runtime's threads: deriving the key takes a fifth of a
        // second of CPU, and the other requests go on meanwhile. A few at
        // a time: each takes 64 MiB while it runs (25 antennas opening at
        // once took a gigabyte).
        let deriving = self
            .key_derivations
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let passphrase = self.passphrase.clone();
        tokio::task::spawn_blocking(move || {
            let store = if path.exists() {
                Store::open(&path, &passphrase)
            } else {
                Store::create_empty(
                    &path,
                    &passphrase,
                    AntennaId::from_uuid(antenna),
                    DeviceId::new(),
                )
            };
            drop(deriving);
            store
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::antenna_unavailable(antenna, e))
    }

    /// Close a device the registry just revoked out of every server: its
    /// sockets here, and (announced) on the others sharing the database.
    async fn cut_off(&self, antenna: Uuid, device: Uuid) -> Result<(), ApiError> {
        self.hub(antenna).await?.revoke(device);
        if let Some(shared) = &self.shared {
            shared.announce_revocation(antenna, device).await?;
        }
        Ok(())
    }

    /// The antenna's hub if it is open and its store works. One whose
    /// store failed is let go, to be opened again.
    async fn working_hub(&self, antenna: Uuid) -> Option<Arc<Hub>> {
        let mut hubs = self.hubs.lock().await;
        let hub = hubs.get(&antenna)?;
        let Some(why) = hub.store.failure() else {
            return Some(hub.clone());
        };
        tracing::error!(%antenna, why, "the antenna's store stopped: opening it again");
        if let Some(failed) = hubs.remove(&antenna) {
            // Its sockets were cut when the store stopped; its repo ends in
            // the background (stopping waits for storage calls, which fail
            // at once now).
            tokio::spawn(async move { failed.repo.stop().await });
        }
        None
    }

    /// The antenna's authority, made on first use, then kept: not a new
    /// key pair and a registry write at every sync.
    async fn authority(&self, antenna: Uuid) -> Result<Arc<Authority>, ApiError> {
        let kept = || {
            self.authorities
                .lock()
                .map_err(|_| ApiError::internal("the authorities' lock was poisoned"))
        };
        if let Some(authority) = kept()?.get(&antenna) {
            return Ok(authority.clone());
        }
        let new = Authority::new(antenna).map_err(ApiError::internal)?;
        let key = self.registry.authority_key(antenna, &new.key_der()).await?;
        let authority = Arc::new(Authority::from_key(antenna, &key).map_err(ApiError::internal)?);
        Ok(kept()?.entry(antenna).or_insert(authority).clone())
    }

    /// A certificate for `device`, for the public key it sent (base64).
    async fn certify(
        &self,
        device: &Device,
        public_key: &str,
    ) -> Result<IssuedCertificate, ApiError> {
        let bad_key = |e: AuthorityError| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Refusal::BadPublicKey,
                e.to_string(),
            )
        };
        let key = api::from_b64(public_key)
            .ok_or_else(|| bad_key(AuthorityError::BadPublicKey("not base64".into())))?;
        let authority = self.authority(device.antenna).await?;
        let certificate = authority
            .issue(
                device.id,
                device.role,
                Some(&device.name),
                &key,
                Utc::now(),
                Duration::days(i64::from(self.limits.certificate_days)),
            )
            .map_err(|e| match e {
                AuthorityError::BadPublicKey(_) => bad_key(e),
                other => ApiError::internal(other),
            })?;
        Ok(IssuedCertificate {
            certificate: api::b64(&certificate),
            authority: api::b64(&authority.certificate().map_err(ApiError::internal)?),
            team_secret: Some(api::b64(
                &authority.team_secret(self.registry.revoked(device.antenna).await?.len()),
            )),
        })
    }

    /// The antenna's revocation list naming `revoked` (base64 DER).
    async fn revocations(
        &self,
        antenna: Uuid,
        revoked: &[(Uuid, chrono::DateTime<Utc>)],
    ) -> Result<String, ApiError> {
        let list = self
            .authority(antenna)
            .await?
            .revocations(revoked)
            .map_err(ApiError::internal)?;
        Ok(api::b64(&list))
    }

    /// Erase, on every antenna, the cases closed for longer than its
    /// retention period (see [`Hub::apply_retention`]). An antenna that
    /// fails is logged and the others still run.
    pub async fn apply_retention(&self) -> usize {
        let antennas = match self.registry.antennas().await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "retention: cannot list the antennas");
                return 0;
            }
        };
        let mut erased = 0;
        for antenna in antennas {
            let done = match self.hub(antenna).await {
                Ok(hub) => match &self.shared {
                    // Once per antenna, whichever server holds it.
                    Some(shared) => match shared.alone(antenna, hub.apply_retention()).await {
                        Ok(Some(done)) => done.map_err(|e| e.to_string()),
                        Ok(None) => Ok(0),
                        Err(e) => Err(e.to_string()),
                    },
                    None => hub.apply_retention().await.map_err(|e| e.to_string()),
                },
                Err(e) => Err(e.message),
            };
            match done {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(%antenna, cases = n, "retention: cases erased");
                    erased += n;
                }
                Err(error) => tracing::error!(%antenna, %error, "retention failed"),
            }
        }
        erased
    }

    /// Stop every antenna's repo, flushing its storage.
    pub async fn stop(&self) {
        let hubs: Vec<Arc<Hub>> = self.hubs.lock().await.values().cloned().collect();
        for hub in hubs {
            hub.repo.stop().await;
        }
    }
}

/// This server's cache of `antenna` at `path`, opened with `key` (made if
/// it is not there yet).
fn open_cache(
    path: &std::path::Path,
    key: &maraude_store::StoreKey,
    antenna: Uuid,
) -> Result<Store, StoreError> {
    let make =
        || Store::create_empty_with_key(path, key, AntennaId::from_uuid(antenna), DeviceId::new());
    if !path.exists() {
        return make();
    }
    match Store::open_with_key(path, key) {
        // Keyed from another data key: the database was restored since (a
        // restore makes each antenna's key anew). What the cache held is
        // in the database; it is made again from there.
        Err(StoreError::WrongPassphrase(_)) => {
            tracing::warn!(%antenna, "this server's cache of the antenna does not open with the antenna's key in the database (restored since?): it is made again from the database");
            std::fs::remove_file(path).map_err(|source| StoreError::Remove {
                path: path.display().to_string(),
                source,
            })?;
            for companion in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{companion}", path.display()));
            }
            make()
        }
        opened => opened,
    }
}

/// The server's routes. `maraude_sync::serve` gives every request its
/// client's address (`ConnectInfo<SocketAddr>`), which the limits on
/// attempts count by.
pub fn router(app: Arc<App>) -> Router {
    let door = |door: Door| middleware::from_fn_with_state((app.clone(), door), count_attempt);
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/ready", get(ready))
        .route(
            "/v1/antennas",
            post(register_antenna).layer(door(Door::Registration)),
        )
        .route("/v1/enrolment-codes", post(enrolment_code))
        .route("/v1/enrol", post(enrol).layer(door(Door::Enrolment)))
        .route("/v1/certificate", post(certificate))
        .route("/v1/devices", get(devices))
        .route("/v1/devices/{id}/revoke", post(revoke))
        .route("/v1/sync/pending", get(pending))
        .route("/v1/sync/acked", post(acked))
        .route("/v1/sync/revocations", post(take_revocations))
        .route(
            "/v1/sync/ticket",
            post(sync_ticket).layer(door(Door::Ticket)),
        )
        .route("/v1/sync", get(sync_socket))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(app.clone(), count_request))
        .with_state(app)
}

/// Count each request by its route's pattern (never its path, which
/// names devices) and its status.
async fn count_request(
    State(app): State<Arc<App>>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let route = route.as_ref().map_or("other", MatchedPath::as_str);
    app.metrics.request(route, response.status().as_u16());
    response
}

/// The metrics, for a scraper on this machine, or one that sends the
/// metrics token (`--metrics-token`).
async fn metrics(
    State(app): State<Arc<App>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token_ok = app.metrics_token_hash.is_some()
        && bearer(&headers).map(secrets::hash) == app.metrics_token_hash;
    if !client.ip().is_loopback() && !token_ok {
        return Err(ApiError::forbidden(
            "the metrics are for this machine, or a scraper sending the metrics token (--metrics-token)",
        ));
    }
    let metrics = &app.metrics;
    metrics
        .connections
        .set(i64::try_from(app.connections.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
    metrics
        .antennas_open
        .set(i64::try_from(app.hubs.lock().await.len()).unwrap_or(i64::MAX));
    metrics
        .database_up
        .set(i64::from(app.registry.ready().await));
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response())
}

/// A door whose attempts are counted per client address.
#[derive(Debug, Clone, Copy)]
enum Door {
    Registration,
    Enrolment,
    Ticket,
}

/// Let the request through the door, or refuse it (429) when its address
/// tried too often this minute. Counted before anything is read: a
/// malformed attempt is an attempt.
async fn count_attempt(
    State((app, door)): State<(Arc<App>, Door)>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let attempts = match door {
        Door::Registration => &app.registrations,
        Door::Enrolment => &app.enrolments,
        Door::Ticket => &app.ticket_requests,
    };
    let ip = client.ip();
    match attempts.attempt(ip, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::warn!(client = %ip, ?door, "too many attempts");
            ApiError::too_many_attempts(refused).into_response()
        }
    }
}

/// An error answer: a status, a code for programs, a sentence for people.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Refusal,
    message: String,
    /// Seconds to wait before trying again (`Retry-After`).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: Refusal, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    fn too_many_attempts(refused: TooManyAttempts) -> Self {
        // Whole seconds, rounded up: never "try again in 0 s".
        let wait =
            refused.retry_after.as_secs() + u64::from(refused.retry_after.subsec_nanos() > 0);
        let wait = wait.max(1);
        Self {
            retry_after: Some(wait),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                Refusal::TooManyAttempts,
                format!(
                    "too many attempts from this address in a minute; wait {wait} s and try again"
                ),
            )
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Refusal::Internal,
            "the server failed; its log says why",
        )
    }

    /// One antenna's store cannot be opened or written (the others are
    /// served as usual); devices keep what they logged and try later.
    fn antenna_unavailable(antenna: Uuid, e: impl std::fmt::Display) -> Self {
        tracing::error!(%antenna, error = %e, "an antenna's store is unavailable");
        Self {
            retry_after: Some(ANTENNA_RETRY_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Refusal::AntennaUnavailable,
                "the server cannot write this antenna's data right now (its log says why); what this tablet logged stays on it: sync again in a minute",
            )
        }
    }

    /// The server's database cannot be reached (PostgreSQL down or every
    /// connection busy): what devices send waits on them.
    fn database_unavailable(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "the database is unavailable");
        Self {
            retry_after: Some(ANTENNA_RETRY_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Refusal::AntennaUnavailable,
                "the server cannot reach its database right now (its log says why); what this tablet logged stays on it: sync again in a minute",
            )
        }
    }

    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, Refusal::Forbidden, message)
    }
}

/// axum's `Json`, `Query` and `Path`, whose refusals are the API's JSON
/// errors with a code: axum's own are plain text, which a tablet shows as
/// "the server answered 400" and nothing more.
#[derive(FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
struct Body<T>(T);

#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
struct Params<T>(T);

#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
struct InPath<T>(T);

impl ApiError {
    /// A request this server cannot read: `what` says what was wrong.
    fn unreadable(status: StatusCode, what: String) -> Self {
        Self::new(
            status,
            Refusal::Invalid,
            format!("{what}; this server reads what this version of Maraude sends: update the app"),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self::unreadable(e.status(), e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::unreadable(e.status(), e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        Self::unreadable(e.status(), e.body_text())
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let (status, code) = match &e {
            RegistryError::AntennaExists(_) => (StatusCode::CONFLICT, Refusal::AntennaExists),
            RegistryError::DeviceExists(_) => (StatusCode::CONFLICT, Refusal::DeviceExists),
            RegistryError::BadCode
            | RegistryError::IssuerRevoked
            | RegistryError::IssuerOutranked(_) => (StatusCode::FORBIDDEN, Refusal::BadCode),
            RegistryError::NoSuchDevice(_) => (StatusCode::NOT_FOUND, Refusal::NoSuchDevice),
            RegistryError::Refused(refused) => return ApiError::from(refused.clone()),
            RegistryError::Database(_) => return ApiError::internal(e),
            RegistryError::Unavailable(_) => return ApiError::database_unavailable(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A rule of rank: 403 with the rule as the code.
impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        let code = match &e {
            Invalid::RankTooLow { .. } => Refusal::RankTooLow,
            Invalid::LastCoordinator => Refusal::LastCoordinator,
            _ => {
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Refusal::Invalid,
                    e.to_string(),
                );
            }
        };
        ApiError::new(StatusCode::FORBIDDEN, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = api::ApiError {
            code: self.code.as_str().to_string(),
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        response
    }
}

/// A request from an enrolled, not revoked device.
#[derive(Debug)]
pub struct Authenticated(pub Device);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(api::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn unauthorised(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, Refusal::Unauthorised, message)
}

/// The enrolled, not revoked device whose credential hashes to this.
async fn device_with_credential(app: &App, credential_hash: &str) -> Result<Device, ApiError> {
    let device = app
        .registry
        .device_by_credential(credential_hash)
        .await?
        .ok_or_else(|| unauthorised("unknown credential: enrol this device again"))?;
    if device.revoked_at.is_some() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Refusal::Revoked,
            "this device was revoked by its antenna; ask a lead to enrol it again",
        ));
    }
    Ok(device)
}

impl FromRequestParts<Arc<App>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            unauthorised("no credential: send the device's credential as `Authorization: Bearer …`")
        })?;
        device_with_credential(app, &secrets::hash(token))
            .await
            .map(Authenticated)
    }
}

/// The device opening the sync WebSocket: by its credential in the
/// header, or by a ticket in the URL (see [`crate::ticket`]).
#[derive(Debug)]
pub struct SyncDevice(pub Device);

impl FromRequestParts<Arc<App>> for SyncDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        if bearer(&parts.headers).is_some() {
            return Authenticated::from_request_parts(parts, app)
                .await
                .map(|Authenticated(device)| SyncDevice(device));
        }
        let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        let ticket = query.get(api::TICKET_PARAM).ok_or_else(|| {
            unauthorised(
                "no credential: send the device's credential as `Authorization: Bearer …`, \
                 or a ticket from POST /v1/sync/ticket as `/v1/sync?ticket=…`",
            )
        })?;
        let credential_hash = app.tickets.redeem(ticket, Instant::now()).map_err(|e| {
            ApiError::new(StatusCode::UNAUTHORIZED, Refusal::BadTicket, e.to_string())
        })?;
        device_with_credential(app, &credential_hash)
            .await
            .map(SyncDevice)
    }
}

async fn health(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "connections": app.connections.load(Ordering::Relaxed),
    }))
}

/// Readiness, apart from liveness (`/v1/health`): whether this server can
/// serve a sync now, its registry reached. A load balancer sends devices
/// elsewhere while it answers 503.
async fn ready(State(app): State<Arc<App>>) -> (StatusCode, Json<serde_json::Value>) {
    if app.registry.ready().await {
        (StatusCode::OK, Json(serde_json::json!({ "ready": true })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "ready": false,
                "why": "the server's database cannot be reached",
            })),
        )
    }
}

async fn enrolled(
    app: &App,
    device: &Device,
    antenna_name: String,
    credential: String,
    public_key: Option<&str>,
) -> Result<Enrolled, ApiError> {
    Ok(Enrolled {
        antenna: device.antenna,
        antenna_name,
        role: device.role,
        credential,
        server_peer: api::server_peer(&device.antenna),
        certificate: match public_key {
            Some(key) => Some(app.certify(device, key).await?),
            None => None,
        },
    })
}

async fn register_antenna(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(request): Body<api::RegisterAntenna>,
) -> Result<Json<Enrolled>, ApiError> {
    let Some(expected) = &app.registration_token_hash else {
        return Err(ApiError::forbidden(
            "this server does not register antennas (no registration token configured)",
        ));
    };
    let given = bearer(&headers).map(secrets::hash);
    if given.as_ref() != Some(expected) {
        return Err(ApiError::forbidden(
            "wrong registration token; ask the server's administrator",
        ));
    }
    let name = request.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::BadName,
            "the antenna needs a name of 1 to 100 characters",
        ));
    }
    let device_name = tablet_name(&request.device_name)?;
    let credential = secrets::new_credential();
    app.registry
        .register_antenna(
            request.antenna,
            name,
            NewDevice {
                id: request.device,
                name: device_name,
                credential_hash: &secrets::hash(&credential),
            },
        )
        .await?;
    tracing::info!(antenna = %request.antenna, device = %request.device, "antenna registered");
    let device = Device {
        id: request.device,
        antenna: request.antenna,
        name: device_name.to_string(),
        role: Role::Coordinator,
        enrolled_at: Utc::now(),
        revoked_at: None,
        last_sync: None,
    };
    Ok(Json(
        enrolled(
            &app,
            &device,
            name.to_string(),
            credential,
            request.public_key.as_deref(),
        )
        .await?,
    ))
}

async fn enrolment_code(
    State(app): State<Arc<App>>,
    Authenticated(by): Authenticated,
    Body(request): Body<CodeRequest>,
) -> Result<Json<EnrolmentCode>, ApiError> {
    access::check_may_enrol(by.role, request.role)?;
    let code = secrets::new_code();
    let expires_at = Utc::now() + Duration::hours(CODE_LIFETIME_HOURS);
    app.registry
        .add_code(
            by.antenna,
            request.role,
            &secrets::hash(&secrets::normalise_code(&code)),
            expires_at,
            by.id,
        )
        .await?;
    tracing::info!(antenna = %by.antenna, by = %by.id, role = %request.role, "enrolment code issued");
    Ok(Json(EnrolmentCode {
        code,
        role: request.role,
        expires_at,
    }))
}

/// The name a tablet is registered under, as its teammates will see it in
/// its certificate: checked before anything is written (a code stays
/// unused when the name is refused).
fn tablet_name(given: &str) -> Result<&str, ApiError> {
    let name = given.trim();
    if !identity::tablet_name_ok(name) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::BadName,
            format!(
                "the tablet needs a name of 1 to {} characters, on one line",
                identity::TABLET_NAME_MAX
            ),
        ));
    }
    Ok(name)
}

async fn enrol(
    State(app): State<Arc<App>>,
    Body(request): Body<Enrol>,
) -> Result<Json<Enrolled>, ApiError> {
    let device_name = tablet_name(&request.device_name)?;
    let credential = secrets::new_credential();
    let device = app
        .registry
        .enrol(
            &secrets::hash(&secrets::normalise_code(&request.code)),
            NewDevice {
                id: request.device,
                name: device_name,
                credential_hash: &secrets::hash(&credential),
            },
        )
        .await?;
    let name = app
        .registry
        .antenna_name(device.antenna)
        .await?
        .unwrap_or_default();
    tracing::info!(antenna = %device.antenna, device = %device.id, role = %device.role, "device enrolled");
    Ok(Json(
        enrolled(
            &app,
            &device,
            name,
            credential,
            request.public_key.as_deref(),
        )
        .await?,
    ))
}

/// A device enrolled before certificates existed gets one for its key.
async fn certificate(
    State(app): State<Arc<App>>,
    Authenticated(device): Authenticated,
    Body(request): Body<CertificateRequest>,
) -> Result<Json<IssuedCertificate>, ApiError> {
    let issued = app.certify(&device, &request.public_key).await?;
    tracing::info!(antenna = %device.antenna, device = %device.id, "certificate issued");
    Ok(Json(issued))
}

fn info(d: Device) -> DeviceInfo {
    DeviceInfo {
        device: d.id,
        name: d.name,
        role: d.role,
        enrolled_at: d.enrolled_at,
        revoked_at: d.revoked_at,
        last_sync: d.last_sync,
    }
}

async fn devices(
    State(app): State<Arc<App>>,
    Authenticated(by): Authenticated,
) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    if !by.role.manages_devices() {
        return Err(ApiError::forbidden(
            "only a lead or a coordinator can list devices",
        ));
    }
    let list = app.registry.devices(by.antenna).await?;
    Ok(Json(list.into_iter().map(info).collect()))
}

async fn revoke(
    State(app): State<Arc<App>>,
    Authenticated(by): Authenticated,
    InPath(id): InPath<Uuid>,
) -> Result<Json<DeviceInfo>, ApiError> {
    let device = app.registry.revoke(&by, id).await.inspect_err(|e| {
        if matches!(e, RegistryError::Refused(_)) {
            tracing::warn!(antenna = %by.antenna, device = %id, by = %by.id, error = %e, "revocation refused");
        }
    })?;
    app.cut_off(by.antenna, id).await?;
    if by.id == id {
        tracing::warn!(antenna = %by.antenna, device = %id, "device erased by its holder: revoked");
    } else {
        tracing::warn!(antenna = %by.antenna, device = %id, by = %by.id, "device revoked");
    }
    Ok(Json(info(device)))
}

async fn pending(
    State(app): State<Arc<App>>,
    Authenticated(device): Authenticated,
    Params(query): Params<api::PendingQuery>,
) -> Result<Json<api::Pending>, ApiError> {
    let hub = app.hub(device.antenna).await?;
    if let Some(shared) = &app.shared {
        // What the device acknowledged through another server counts.
        let acknowledged = shared.acknowledged(device.antenna, device.id).await?;
        if !acknowledged.is_empty() {
            hub.acked(device.id, acknowledged)
                .await
                .map_err(|e| ApiError::antenna_unavailable(device.antenna, e))?;
        }
    }
    let documents = hub
        .pending(device.id, device.role)
        .await
        .map_err(|e| ApiError::antenna_unavailable(device.antenna, e))?;
    // The same devices, the same list (older clients send only how many).
    let revoked = app.registry.revoked(device.antenna).await?;
    let same = match &query.revoked_digest {
        Some(theirs) => {
            let ours = revoked.iter().map(|(id, _)| identity::serial(id)).collect();
            *theirs == identity::digest_of(&ours)
        }
        None => query.revoked == Some(revoked.len()),
    };
    let revocations = if same {
        None
    } else {
        Some(app.revocations(device.antenna, &revoked).await?)
    };
    // Sent at every sync (44 characters): a tablet that heard of a
    // revocation from a teammate has the list, not the new secret.
    let team_secret = app
        .authority(device.antenna)
        .await?
        .team_secret(revoked.len());
    // The device holds a later acknowledgement than this server: restored
    // from an older backup, it lost what the device sent since, and its
    // record of what they share is older than the device's.
    let start_over = query
        .acknowledged
        .is_some_and(|theirs| device.last_sync.is_none_or(|ours| ours < theirs));
    if start_over {
        tracing::warn!(antenna = %device.antenna, device = %device.id, "the device holds a later acknowledgement than this server (restored from an older backup?): it sends everything again");
    }
    Ok(Json(api::Pending {
        server_peer: api::server_peer(&device.antenna),
        documents,
        revocations,
        team_secret: Some(api::b64(&team_secret)),
        serving: None,
        start_over,
    }))
}

/// `POST /v1/sync/revocations` — a tablet's revocation list, which names
/// devices this server's does not: this server was restored from a backup
/// older than those revocations. Believed for its signature by the
/// antenna's authority alone, whoever carries it (any tablet of the
/// antenna): the devices it names are revoked here as they were before,
/// and their sockets close. Answers the antenna's list as it now is.
async fn take_revocations(
    State(app): State<Arc<App>>,
    Authenticated(device): Authenticated,
    Body(request): Body<api::Revocations>,
) -> Result<Json<api::Revocations>, ApiError> {
    let bad = |why: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::BadRevocations,
            format!("{why}: this server takes back only its antenna's own revocation list"),
        )
    };
    let list = api::from_b64(&request.revocations).ok_or_else(|| bad("not base64".into()))?;
    let authority = app.authority(device.antenna).await?;
    let listed = authority.signed_revocations(&list).map_err(|e| {
        tracing::warn!(antenna = %device.antenna, device = %device.id, error = %e, "a revocation list this antenna's authority did not sign was refused");
        bad(e.to_string())
    })?;
    let taken = app
        .registry
        .take_revocations(device.antenna, &listed)
        .await?;
    for revoked in taken {
        tracing::warn!(antenna = %device.antenna, device = %revoked, by = %device.id, "device revoked again: its antenna's revocation list, from a tablet, names it (this server was restored from an older backup?)");
        app.cut_off(device.antenna, revoked).await?;
    }
    let revoked = app.registry.revoked(device.antenna).await?;
    Ok(Json(api::Revocations {
        revocations: app.revocations(device.antenna, &revoked).await?,
    }))
}

async fn acked(
    State(app): State<Arc<App>>,
    Authenticated(device): Authenticated,
    Body(request): Body<Acked>,
) -> Result<Json<api::AckedReceipt>, ApiError> {
    let docs = request.parse().map_err(|message| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, Refusal::BadHeads, message)
    })?;
    let count = docs.len();
    if let Some(shared) = &app.shared {
        shared.acknowledge(device.antenna, device.id, &docs).await?;
    }
    app.hub(device.antenna)
        .await?
        .acked(device.id, docs)
        .await
        .map_err(|e| ApiError::antenna_unavailable(device.antenna, e))?;
    let at = app.registry.synced(device.id).await?;
    tracing::info!(antenna = %device.antenna, device = %device.id, documents = count, "sync acknowledged");
    Ok(Json(api::AckedReceipt {
        acknowledged: count,
        at: Some(at),
    }))
}

/// A ticket for one sync connection, for a client that cannot send the
/// credential on the WebSocket upgrade.
async fn sync_ticket(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Authenticated(device): Authenticated,
) -> Json<SyncTicket> {
    // Authenticated: the header holds the device's valid credential.
    let credential = bearer(&headers).unwrap_or_default();
    let ticket = app
        .tickets
        .issue(&secrets::hash(credential), Instant::now());
    tracing::debug!(antenna = %device.antenna, device = %device.id, "sync ticket issued");
    Json(SyncTicket {
        ticket,
        expires_in: TICKET_LIFETIME.as_secs(),
    })
}

/// Counts a live sync connection; dropped with the connection's stream.
struct Live(Arc<App>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn sync_socket(
    State(app): State<Arc<App>>,
    SyncDevice(device): SyncDevice,
    upgrade: yawc::IncomingUpgrade,
) -> Result<Response, ApiError> {
    if app.connections.fetch_add(1, Ordering::Relaxed) >= app.limits.max_connections {
        app.connections.fetch_sub(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Busy,
            "the server has too many sync connections; try again in a minute",
        ));
    }
    let live = Live(app.clone());
    app.metrics.sync_sockets.inc();
    let hub = app.hub(device.antenna).await?;
    if let Some(wait) = hub.penalty(device.id) {
        return Err(ApiError::too_many_attempts(TooManyAttempts {
            retry_after: wait,
        }));
    }
    let revoked = hub.admit(device.id, device.role);
    tracing::info!(antenna = %device.antenna, device = %device.id, "sync connection");
    let (response, socket) = upgrade
        .upgrade(maraude_sync::socket::options())
        .map_err(ApiError::internal)?;
    hub.serve_socket(socket, device.id, device.role, revoked, live);
    Ok(response.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{PostgresRegistry, conformance, fresh_database, open_database};

    const PASSPHRASE: &str = "entrepôt des dunes";

    fn on_database(registry: &PostgresRegistry, dir: &std::path::Path) -> App {
        App::new(
            Box::new(registry.clone()),
            dir.into(),
            Passphrase::new(PASSPHRASE.into()),
            None,
            Limits::default(),
        )
        .with_shared_documents(SharedDocuments::new(registry.clone()))
    }

    /// The device id of the store at `path`, opened with `key`: a store
    /// made again has another.
    fn made_as(path: &std::path::Path, key: &maraude_store::StoreKey) -> DeviceId {
        Store::open_with_key(path, key)
            .expect("opens with the key")
            .device()
    }

    /// A server on a database keeps each antenna in a cache keyed from the
    /// antenna's data key, not from the passphrase: opening it derives
    /// nothing with Argon2 (a fifth of a CPU-second, for every antenna of
    /// every server restarted at the busy hour). A cache its key no longer
    /// opens (the database restored since) is made again; an antenna's
    /// store keyed by the passphrase, from before, is opened as it was.
    #[tokio::test]
    async fn a_servers_cache_of_an_antenna_opens_with_a_key_from_the_database() {
        let Some(url) = fresh_database().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let registry = PostgresRegistry::new(open_database(&url).await);
        let antenna = conformance::registered(&registry).await.id;
        let cache = dir.path().join(format!("antennas/{antenna}.cache.maraude"));

        let app = on_database(&registry, dir.path());
        app.hub(antenna).await.expect("the antenna opens");
        app.stop().await;
        drop(app);
        assert!(
            !dir.path()
                .join(format!("antennas/{antenna}.maraude"))
                .exists(),
            "no store keyed by the passphrase"
        );
        assert!(matches!(
            Store::open(&cache, &Passphrase::new(PASSPHRASE.into())),
            Err(StoreError::WrongPassphrase(_))
        ));
        let key = SharedDocuments::new(registry.clone())
            .cache_key(antenna)
            .await
            .unwrap();
        let first = made_as(&cache, &key);

        // Restarted (its keys read again from the database): the same cache.
        let registry = PostgresRegistry::new(open_database(&url).await);
        let app = on_database(&registry, dir.path());
        app.hub(antenna).await.expect("the antenna opens again");
        app.stop().await;
        drop(app);
        assert_eq!(made_as(&cache, &key), first, "the cache was kept");

        // The antenna's data key made anew, as a restore does: the cache no
        // longer opens with it, and is made again.
        sqlx::query("DELETE FROM antenna_keys WHERE antenna = $1")
            .bind(antenna)
            .execute(registry.pool().unwrap())
            .await
            .unwrap();
        let registry = PostgresRegistry::new(open_database(&url).await);
        let app = on_database(&registry, dir.path());
        app.hub(antenna)
            .await
            .expect("the antenna opens with a new cache");
        app.stop().await;
        drop(app);
        let key = SharedDocuments::new(registry.clone())
            .cache_key(antenna)
            .await
            .unwrap();
        assert_ne!(made_as(&cache, &key), first, "the cache was made again");

        // An antenna whose store the passphrase keys (made before caches,
        // or by the embedded store this server moved from).
        let older = conformance::registered(&registry).await.id;
        let store = dir.path().join(format!("antennas/{older}.maraude"));
        let made = Store::create_empty(
            &store,
            &Passphrase::new(PASSPHRASE.into()),
            AntennaId::from_uuid(older),
            DeviceId::new(),
        )
        .unwrap()
        .device();
        let app = on_database(&registry, dir.path());
        app.hub(older).await.expect("the older store opens");
        app.stop().await;
        drop(app);
        assert!(
            !dir.path()
                .join(format!("antennas/{older}.cache.maraude"))
                .exists()
        );
        let opened = Store::open(&store, &Passphrase::new(PASSPHRASE.into())).unwrap();
        assert_eq!(opened.device(), made);
    }
}
