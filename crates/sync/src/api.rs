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
}

/// `POST /v1/enrolment-codes` — a lead or coordinator asks for a code that
/// enrols one device with `role`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CodeRequest {
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize)]
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
}

/// `GET /v1/devices` — the antenna's devices, for a lead or coordinator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device: Uuid,
    pub name: String,
    pub role: Role,
    pub enrolled_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_sync: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /v1/sync/pending` — the documents that changed on the server since
/// this device last acknowledged them, within the device's scope.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub server_peer: String,
    pub documents: Vec<String>,
}

/// `POST /v1/sync/acked` — after a sync, the heads the device now shares
/// with the server, so that the next `pending` leaves them out.
#[derive(Debug, Serialize, Deserialize)]
pub struct Acked {
    /// Document id → its heads (hex change hashes).
    pub documents: BTreeMap<String, Vec<String>>,
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

/// The query parameter of `/v1/sync` that carries a [`SyncTicket`].
pub const TICKET_PARAM: &str = "ticket";

/// Every error answer: a code for programs, a sentence for people.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// A device's peer id in the sync protocol.
pub fn device_peer(device: &Uuid) -> String {
    format!("device-{device}")
}

/// The peer id the server presents for an antenna.
pub fn server_peer(antenna: &Uuid) -> String {
    format!("server-{antenna}")
}
