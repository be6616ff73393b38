//! The base server's REST API, as the device and the server both see it.
//!
//! The documents themselves never travel here: they travel over the
//! automerge-repo sync protocol on `/v1/sync` (WebSocket). This API only
//! enrols devices, revokes them, tells a device which documents changed
//! since it last synced, so that a reconnection with nothing new costs one
//! request instead of a sync message per document, and hands out sync
//! tickets to clients that cannot send the credential on the WebSocket.

use std::collections::BTreeMap;

use maraude_core::access::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The header carrying a device's credential on every call and on the
/// WebSocket upgrade: `Authorization: Bearer <credential>`.
pub const AUTHORIZATION: &str = "authorization";

/// `POST /v1/antennas` — a coordinator registers an antenna created on
/// their device, with the server's registration token, and enrols that
/// device as its first coordinator.
#[derive(Debug, Serialize, Deserialize)]
pub struct RegisterAntenna {
    pub antenna: Uuid,
    pub name: String,
    pub device: Uuid,
    pub device_name: String,
    /// The device's Ed25519 public key (raw, base64), for its certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// `POST /v1/enrolment-codes` — a lead or coordinator asks for a code that
/// enrols one device with `role`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CodeRequest {
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize, ts_rs::TS)]
pub struct EnrolmentCode {
    /// Single use; typed or scanned on the new device.
    pub code: String,
    pub role: Role,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /v1/enrol` — a new device presents a code.
#[derive(Debug, Serialize, Deserialize)]
pub struct Enrol {
    pub code: String,
    pub device: Uuid,
    pub device_name: String,
    /// The device's Ed25519 public key (raw, base64), for its certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// What an enrolled device receives: its credential is shown once; the
/// server keeps only its hash.
#[derive(Debug, Serialize, Deserialize)]
pub struct Enrolled {
    pub antenna: Uuid,
    pub antenna_name: String,
    pub role: Role,
    pub credential: String,
    /// The peer id the server's sync endpoint presents for this antenna.
    pub server_peer: String,
    /// The device's certificate, when it sent a public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<IssuedCertificate>,
}

/// A device's certificate from its antenna's authority, with which
/// teammates' tablets recognise it offline (`crate::identity`). Base64
/// DER.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedCertificate {
    pub certificate: String,
    /// The antenna's authority, which signs its devices' certificates and
    /// its revocation list.
    pub authority: String,
    /// The antenna's team secret (32 bytes): its tablets find each other
    /// on a network by a daily tag keyed with it, which nobody without it
    /// can compute or link from one day to the next. Absent from an older
    /// server.
    #[serde(default)]
    pub team_secret: Option<String>,
}

/// `POST /v1/certificate` — a device enrolled before certificates existed,
/// or that lost its key, asks for one.
#[derive(Debug, Serialize, Deserialize)]
pub struct CertificateRequest {
    /// The device's Ed25519 public key (raw, base64).
    pub public_key: String,
}

/// `GET /v1/devices` — the antenna's devices, for a lead or coordinator.
/// (`Tablet` in the app's screens: a tablet of the antenna.)
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "Tablet")]
pub struct DeviceInfo {
    pub device: Uuid,
    pub name: String,
    pub role: Role,
    pub enrolled_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_sync: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /v1/sync/pending?revoked=N` — the documents that changed on the
/// server since this device last acknowledged them, within the device's
/// scope. `N`: how many devices the revocation list the device holds
/// names; the list comes back only when the antenna's names more.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub server_peer: String,
    pub documents: Vec<String>,
    /// The antenna's current revocation list (base64 DER), from the base
    /// server: the device keeps it and refuses the revoked teammates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocations: Option<String>,
    /// The antenna's team secret (base64), from the base server: it
    /// changes with each revocation (see the server's `Authority`), and
    /// the device keeps the latest for its daily tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_secret: Option<String>,
    /// From a tablet serving its teammates: which device it is, proven
    /// for the certificate this connection received (its TLS certificate
    /// names nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<ServingProof>,
    /// The server does not hold the device's last acknowledgement (it was
    /// restored from an older backup): what it was recorded to share with
    /// the device is not there, and the device sends every document again
    /// (each one's sync sends only what the server lacks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start_over: bool,
}

/// A serving tablet's device certificate (base64 DER) and its device
/// key's signature (base64) of the hash of the TLS certificate it served.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServingProof {
    pub certificate: String,
    pub signature: String,
}

/// `POST /v1/sync/revocations` — the client's revocation list, when it
/// names devices the other side's does not. A teammate's tablet keeps it;
/// the base server (restored from an older backup) revokes again the
/// devices it names, and answers the antenna's list as it now is.
#[derive(Debug, Serialize, Deserialize)]
pub struct Revocations {
    /// Base64 DER, signed by the antenna's authority.
    pub revocations: String,
}

/// `POST /v1/sync/acked` — after a sync, the heads the device now shares
/// with the server, so that the next `pending` leaves them out.
#[derive(Debug, Serialize, Deserialize)]
pub struct Acked {
    /// Document id → its heads (hex change hashes).
    pub documents: BTreeMap<String, Vec<String>>,
}

impl Acked {
    /// The acknowledged heads as ids, or a sentence saying which document
    /// is not well formed.
    pub fn parse(
        &self,
    ) -> Result<Vec<(samod_core::DocumentId, Vec<automerge::ChangeHash>)>, String> {
        let mut docs = Vec::with_capacity(self.documents.len());
        for (doc, heads) in &self.documents {
            let bad = || format!("document {doc}: not a document id with hex change hashes");
            let id = doc.parse().map_err(|_| bad())?;
            let heads = heads
                .iter()
                .map(|h| h.parse())
                .collect::<Result<Vec<automerge::ChangeHash>, _>>()
                .map_err(|_| bad())?;
            docs.push((id, heads));
        }
        Ok(docs)
    }
}

/// The answer to [`Acked`].
#[derive(Debug, Serialize, Deserialize)]
pub struct AckedReceipt {
    #[serde(default)]
    pub acknowledged: usize,
    /// When the server recorded it (from the base server; a teammate's
    /// tablet says nothing): the device sends it back with its next
    /// `pending` ([`PendingQuery::acknowledged`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST /v1/sync/ticket` — a ticket that opens one sync connection,
/// `GET /v1/sync?ticket=…`, within `expires_in` seconds: for a client that
/// cannot set the `Authorization` header on a WebSocket (a browser,
/// automerge-repo's standard adapter). The credential itself never goes
/// in a URL, where proxies log it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SyncTicket {
    pub ticket: String,
    pub expires_in: u64,
}

/// The query of `GET /v1/sync/pending`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PendingQuery {
    /// How many devices the device's revocation list names.
    #[serde(default)]
    pub revoked: Option<usize>,
    /// Which ([`crate::identity::digest_of`]): the same number of
    /// different devices is another list (a server restored from an older
    /// backup that revoked a tablet since), which the server then sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_digest: Option<String>,
    /// When the server recorded this device's last acknowledgement, as
    /// its answer to `acked` said ([`AckedReceipt::at`]): a server that
    /// holds an older one was restored from an older backup, and lost what
    /// the device sent since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<chrono::DateTime<chrono::Utc>>,
}

/// The query parameter of `/v1/sync` that carries a [`SyncTicket`].
pub const TICKET_PARAM: &str = "ticket";

/// Every error answer: a code for programs (one of [`Refusal`], from this
/// version's server; a newer one may send others), a sentence for people.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// The refusal, if its code is one this version knows.
    pub fn refusal(&self) -> Option<Refusal> {
        Refusal::parse(&self.code)
    }
}

/// Why the base server, or a tablet serving its teammates, refused a
/// request: the `code` of its error answers, one list for both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No credential, or one the server does not know.
    Unauthorised,
    /// The device was revoked.
    Revoked,
    BadTicket,
    /// An enrolment code unknown, used, expired, or whose issuer lost the
    /// right to enrol.
    BadCode,
    /// A rule of rank (`maraude_core::access`): a lead revoking a lead…
    RankTooLow,
    LastCoordinator,
    Forbidden,
    /// Too many attempts from one address, or a device that must wait
    /// after what it sent (`Retry-After`).
    TooManyAttempts,
    /// Too many sync connections at once.
    Busy,
    /// The antenna's store cannot be written for now (`Retry-After`).
    AntennaUnavailable,
    Invalid,
    BadName,
    BadHeads,
    BadPublicKey,
    AntennaExists,
    DeviceExists,
    NoSuchDevice,
    /// A teammate's tablet saw no certificate.
    NoCertificate,
    /// A teammate's certificate from another antenna, or revoked.
    NotATeammate,
    /// A revocation list its antenna's authority did not sign.
    BadRevocations,
    BadUpgrade,
    Internal,
}

impl Refusal {
    pub const ALL: &[Refusal] = &[
        Refusal::Unauthorised,
        Refusal::Revoked,
        Refusal::BadTicket,
        Refusal::BadCode,
        Refusal::RankTooLow,
        Refusal::LastCoordinator,
        Refusal::Forbidden,
        Refusal::TooManyAttempts,
        Refusal::Busy,
        Refusal::AntennaUnavailable,
        Refusal::Invalid,
        Refusal::BadName,
        Refusal::BadHeads,
        Refusal::BadPublicKey,
        Refusal::AntennaExists,
        Refusal::DeviceExists,
        Refusal::NoSuchDevice,
        Refusal::NoCertificate,
        Refusal::NotATeammate,
        Refusal::BadRevocations,
        Refusal::BadUpgrade,
        Refusal::Internal,
    ];

    /// The code as it travels (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unauthorised => "unauthorised",
            Refusal::Revoked => "revoked",
            Refusal::BadTicket => "bad_ticket",
            Refusal::BadCode => "bad_code",
            Refusal::RankTooLow => "rank_too_low",
            Refusal::LastCoordinator => "last_coordinator",
            Refusal::Forbidden => "forbidden",
            Refusal::TooManyAttempts => "too_many_attempts",
            Refusal::Busy => "busy",
            Refusal::AntennaUnavailable => "antenna_unavailable",
            Refusal::Invalid => "invalid",
            Refusal::BadName => "bad_name",
            Refusal::BadHeads => "bad_heads",
            Refusal::BadPublicKey => "bad_public_key",
            Refusal::AntennaExists => "antenna_exists",
            Refusal::DeviceExists => "device_exists",
            Refusal::NoSuchDevice => "no_such_device",
            Refusal::NoCertificate => "no_certificate",
            Refusal::NotATeammate => "not_a_teammate",
            Refusal::BadRevocations => "bad_revocations",
            Refusal::BadUpgrade => "bad_upgrade",
            Refusal::Internal => "internal",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == code)
    }
}

/// A device's peer id in the sync protocol.
pub fn device_peer(device: &Uuid) -> String {
    format!("device-{device}")
}

/// Base64, for keys and certificates in JSON.
pub fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

/// Bytes from [`b64`]; `None` when it is not base64.
pub fn from_b64(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64.decode(text.as_bytes()).ok()
}

/// The device a peer id from [`device_peer`] names.
pub fn device_of_peer(peer: &str) -> Option<Uuid> {
    peer.strip_prefix("device-")?.parse().ok()
}

/// The peer id the server presents for an antenna.
pub fn server_peer(antenna: &Uuid) -> String {
    format!("server-{antenna}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_travels_under_its_code() {
        for refusal in Refusal::ALL {
            let json = serde_json::to_value(refusal).unwrap();
            assert_eq!(json, refusal.as_str());
            assert_eq!(Refusal::parse(refusal.as_str()), Some(*refusal));
        }
        assert_eq!(Refusal::parse("from_a_newer_server"), None);
    }

    #[test]
    fn acknowledged_heads_that_are_not_ids_and_hashes_are_named() {
        let id = samod_core::DocumentId::try_from(vec![7; 16])
            .unwrap()
            .to_string();
        let good = Acked {
            documents: BTreeMap::from([(id.clone(), vec!["3f".repeat(32)])]),
        };
        assert_eq!(good.parse().unwrap().len(), 1);
        for (doc, head) in [
            ("not-a-document", "3f".repeat(32)),
            (id.as_str(), "zz".to_string()),
        ] {
            let bad = Acked {
                documents: BTreeMap::from([(doc.to_string(), vec![head])]),
            };
            let message = bad.parse().unwrap_err();
            assert!(message.contains(doc), "{message}");
        }
    }
}
