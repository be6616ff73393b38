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
//!
//! With a teammate's tablet it is the same, over mutual TLS, and each side
//! sends the other only what the other's certified role may receive.
//!
//! This module carries the steps out; what they decide is in `plan`
//! (pure, unit-tested: who the other side is, which revocation list wins,
//! which documents travel, what is acknowledged), the samod session in
//! `session`, the HTTP side in `remote` (which enrolment shares).

mod plan;
pub(crate) mod remote;
mod session;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use maraude_store::{DeviceCertificate, DocumentId, ServerLink};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::error::SyncError;
use crate::identity;
use crate::storage::StoreHandle;
use crate::tls::TeamTls;
use maraude_protocol::api;
use plan::Revocations;
use remote::Remote;

/// Heads by document.
pub(crate) type Heads = BTreeMap<DocumentId, Vec<ChangeHash>>;

/// What a sync did, for the summary line and the app's status. The app
/// keeps the last one in the store and reads it back: a field missing
/// from one written by an earlier version reads as 0.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
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
    /// Revoked devices the server's list had lost (restored from an older
    /// backup) that it revokes again, taking back this tablet's list.
    #[serde(default)]
    pub revocations_restored: usize,
    /// Times the connection was cut and dialled again.
    pub reconnections: u32,
    pub millis: u64,
    /// A teammate's tablet, by the name its certificate carries; `None`
    /// for the server, or a certificate from before names.
    #[serde(default)]
    pub teammate: Option<String>,
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
    let summary = sync(store, remote, patience, &progress).await?;
    // Old shifts the server now holds leave the detail of a lead's tablet.
    let minimised = store
        .with(|s| {
            let server = api::server_peer(s.antenna_id().as_uuid());
            s.minimise(chrono::Utc::now(), &server)
        })
        .await??;
    if minimised.shifts > 0 {
        tracing::info!(
            shifts = minimised.shifts,
            documents = minimised.documents,
            "old shifts kept as figures only"
        );
    }
    Ok(summary)
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
    let tls = std::sync::Arc::new(TeamTls::new(&certificate, revocations)?);
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
    match plan::revocations(&ours, &theirs_named) {
        Revocations::KeepTheirs => {
            if let Some(list) = theirs_der {
                store.with(move |s| s.set_revocations(&list)).await??;
            }
        }
        Revocations::SendOurs => {
            if let Some(list) = ours_der {
                let _: serde_json::Value = remote
                    .call(remote.http.post(remote.url("v1/sync/revocations")?).json(
                        &api::Revocations {
                            revocations: api::b64(&list),
                        },
                    ))
                    .await?;
            }
        }
        Revocations::KeepBoth => {}
    }
    Ok(())
}

/// The server's revocation list replaces ours, unless it misses a device
/// ours names: revocations are never undone, so the server was restored
/// from a backup older than them. Ours then goes back to it, which revokes
/// those devices again (it believes the list for its antenna's signature
/// only), and the list it answers is kept if it names them all. Until a
/// server takes it, ours is kept: the lost tablet stays refused here and
/// among the teammates this one meets. Answers how many revoked devices
/// the server had lost and took back (0 if it lost none, or kept ours out).
async fn take_servers_revocations(
    store: &StoreHandle,
    remote: &Remote,
    list: Vec<u8>,
) -> Result<usize, SyncError> {
    let ours_der = store.with(|s| s.revocations()).await??;
    let ours = ours_der
        .as_deref()
        .and_then(|l| identity::named_in(l).ok())
        .unwrap_or_default();
    let kept_if_complete = |list: Vec<u8>| async {
        let servers = identity::named_in(&list).unwrap_or_default();
        if plan::keep_servers(&ours, &servers) {
            store.with(move |s| s.set_revocations(&list)).await??;
            Ok::<_, SyncError>(true)
        } else {
            Ok(false)
        }
    };
    let lost = ours
        .difference(&identity::named_in(&list).unwrap_or_default())
        .count();
    if kept_if_complete(list).await? {
        return Ok(0);
    }
    let Some(ours_der) = ours_der else {
        return Ok(0);
    };
    tracing::warn!(server = %remote.label, "the server's revocation list misses devices this one names (restored from an older backup?): this one goes back to it");
    let answer: Result<api::Revocations, _> = remote
        .call(
            remote
                .http
                .post(remote.url("v1/sync/revocations")?)
                .json(&api::Revocations {
                    revocations: api::b64(&ours_der),
                }),
        )
        .await;
    let taken = match answer {
        Ok(answer) => match api::from_b64(&answer.revocations) {
            Some(list) => kept_if_complete(list).await?,
            None => false,
        },
        Err(e) => {
            tracing::warn!(server = %remote.label, error = %e, "the server did not take this tablet's revocation list back");
            false
        }
    };
    if !taken {
        tracing::warn!(server = %remote.label, "this tablet keeps its own revocation list, which names devices the server's does not");
        return Ok(0);
    }
    Ok(lost)
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
    let team_secret = match issued.team_secret.as_deref() {
        Some(secret) => Some(api::from_b64(secret).ok_or_else(unreadable)?.into()),
        None => None,
    };
    Ok(DeviceCertificate {
        key,
        certificate: api::from_b64(&issued.certificate).ok_or_else(unreadable)?,
        authority: api::from_b64(&issued.authority).ok_or_else(unreadable)?,
        team_secret,
        // The store keeps the one this replaces (`set_server_link`).
        previous_team_secret: None,
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

    // Which devices the list held here names, so that the server sends its
    // list only when it names others.
    let named = store
        .with(|s| s.revocations())
        .await??
        .and_then(|list| identity::named_in(&list).ok());
    let revoked = named.as_ref().map(BTreeSet::len);
    let revoked_digest = named.as_ref().map(identity::digest_of);
    // What the server said when it last recorded our acknowledgement
    // (from the server only: a teammate keeps no such record).
    let acknowledged = match remote.kind {
        remote::Kind::Server => store.with(|s| s.acknowledged_at()).await??,
        remote::Kind::Teammate => None,
    };
    let query = api::PendingQuery {
        revoked,
        revoked_digest,
        acknowledged,
    };
    let (pending, teammate) = remote.pending(&query).await?;
    // The teammate's tablet by the name its certificate carries: the
    // server registered it, the antenna's authority signed it.
    let teammate_name = teammate.as_ref().and_then(|t| t.name.clone());
    let other = plan::other_side(
        remote.kind,
        &pending.server_peer,
        teammate,
        antenna,
        *device.as_uuid(),
    )
    .map_err(|why| SyncError::NotATeammate {
        at: remote.label.clone(),
        why: why.into(),
    })?;
    let mut revocations_restored = 0;
    match &remote.certificate {
        // The server's list is the antenna's own.
        None => {
            if let Some(list) = pending.revocations.as_deref().and_then(api::from_b64) {
                revocations_restored = take_servers_revocations(store, &remote, list).await?;
            }
            // The newest team secret (a revocation changes it), kept only
            // where a certificate holds one already: a tablet without a
            // certificate gets both at its renewal.
            if let Some(secret) = pending.team_secret.as_deref().and_then(api::from_b64) {
                store
                    .with(move |s| {
                        let held = s.server_link()?.and_then(|l| l.certificate);
                        match held {
                            Some(c)
                                if c.team_secret.as_ref().map(|t| t.expose_secret())
                                    != Some(secret.as_slice()) =>
                            {
                                s.set_team_secret(&secret)
                            }
                            _ => Ok(()),
                        }
                    })
                    .await??;
            }
        }
        Some(certificate) => {
            exchange_revocations(store, &remote, certificate, pending.revocations.as_deref())
                .await?;
        }
    }
    // Only the server's word counts: a teammate keeps no such record.
    if pending.start_over && remote.kind == remote::Kind::Server {
        // Restored from an older backup, the server lost what this device
        // sent since: every document is compared again, from nothing.
        tracing::warn!(server = %remote.label, "the server holds an older record of this device's syncs: every document is compared again");
        let peer_key = other.peer.clone();
        store.with(move |s| s.forget_shared(&peer_key)).await??;
    }
    let peer_key = other.peer.clone();
    let other_role = other.role;
    let today = maraude_core::time::paris_date(chrono::Utc::now());
    let mut theirs: Vec<DocumentId> = pending
        .documents
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    // The old shifts a coordinator asked the server's detail of: the
    // server holds them all (a teammate may not).
    if remote.certificate.is_none() {
        theirs.extend(store.with(|s| s.wanted_detail()).await??);
    }
    let plan::Documents { ours, wanted } = store
        .with(move |s| {
            plan::documents(s.changed_for(&peer_key)?, theirs, |doc| {
                Ok::<_, maraude_store::StoreError>(plan::travels(
                    other_role,
                    s.subject(doc)?,
                    today,
                ))
            })
        })
        .await??;
    let asked: Vec<DocumentId> = wanted.iter().cloned().collect();
    let peer_key = other.peer.clone();
    // What this device holds of each document before the sync (to count
    // what it receives), and what the other side was last recorded to
    // share (where the sync starts).
    let (before, shared): (Heads, Heads) = store
        .with(move |s| {
            let (mut before, mut shared) = (BTreeMap::new(), BTreeMap::new());
            for doc in asked {
                if let Some(heads) = s.recorded_heads(&doc)? {
                    before.insert(doc.clone(), heads);
                }
                let heads = s.shared_with(&peer_key, &doc)?;
                if !heads.is_empty() {
                    shared.insert(doc, heads);
                }
            }
            Ok::<_, maraude_store::StoreError>((before, shared))
        })
        .await??;
    let mut summary = SyncSummary {
        documents_sent: ours.len(),
        teammate: teammate_name,
        revocations_restored,
        ..SyncSummary::default()
    };
    if wanted.is_empty() {
        // Nothing erased: an erasure here changes the antenna document.
        summary.millis = started.elapsed().as_millis() as u64;
        return Ok(summary);
    }

    let (outcome, traffic, refusals) = session::run(
        store,
        &remote,
        &other,
        device,
        wanted,
        (&before, shared),
        patience,
        progress,
    )
    .await;
    summary.refusals = refusals;
    let synced = outcome?;
    summary.reconnections = synced.reconnections;
    summary.documents_refused = synced.refused;
    plan::count_received(&mut summary, &synced.docs);
    let (acked, shared) = plan::acknowledgement(&synced.docs);
    // The other side records first: if it fails (its store stopped, the
    // line cut), this side still lists these documents at the next sync,
    // whose exchange of heads sends again whatever the other side lacks.
    // (Had this side recorded first, a change the other side held only in
    // memory would be listed by neither side again.)
    let remote_is_server = remote.kind == remote::Kind::Server;
    let receipt: api::AckedReceipt = remote
        .call(remote.http.post(remote.url("v1/sync/acked")?).json(&acked))
        .await?;
    let peer_key = other.peer.clone();
    store
        .with(move |s| {
            s.mark_shared(&peer_key, &shared)?;
            match receipt.at {
                Some(at) if remote_is_server => s.set_acknowledged_at(at),
                _ => Ok(()),
            }
        })
        .await??;
    let erased_after = store.with(|s| s.erased_cases().map(|e| e.len())).await??;
    summary.cases_erased = erased_after.saturating_sub(erased_before);
    (summary.bytes_sent, summary.bytes_received) = traffic;
    summary.millis = started.elapsed().as_millis() as u64;
    Ok(summary)
}
