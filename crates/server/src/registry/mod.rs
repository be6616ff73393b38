//! Antennas, devices and enrolment codes.
//!
//! Behind the [`Registry`] trait: [`SqliteRegistry`] keeps it in an
//! SQLCipher file beside the antennas' stores (one binary, nothing else to
//! run), [`PostgresRegistry`] in a PostgreSQL database that several
//! servers share. Only hashes of credentials and codes are kept. What any
//! registry must do is one test suite (`conformance`), which each backend
//! runs on itself.
//!
//! The rules of rank (`maraude_core::access`) are checked here where they
//! need the registry's state at the moment of the change: a revocation
//! counts the antenna's active coordinators in the same transaction, and a
//! code enrols only while the tablet that issued it is not revoked and
//! still may enrol its role.

use chrono::{DateTime, Utc};
use maraude_core::Invalid;
use maraude_core::access::Role;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("antenna {0} is already registered on this server")]
    AntennaExists(Uuid),
    #[error("device {0} is already enrolled on this server")]
    DeviceExists(Uuid),
    #[error("this enrolment code is unknown, used or expired; ask your coordinator for a new one")]
    BadCode,
    #[error(
        "this enrolment code no longer enrols a tablet: the tablet that issued it was revoked since; ask a lead or a coordinator for a new one"
    )]
    IssuerRevoked,
    #[error("this enrolment code no longer enrols a tablet ({0})")]
    IssuerOutranked(Invalid),
    #[error("no device {0} in this antenna")]
    NoSuchDevice(Uuid),
    /// A rule of rank refused the change (`maraude_core::access`).
    #[error(transparent)]
    Refused(Invalid),
    #[error("registry: {0}")]
    Database(String),
    /// The database cannot be reached for now: the request may be tried
    /// again.
    #[error("the server's database cannot be reached: {0}")]
    Unavailable(String),
}

/// An enrolled device, as the server knows it.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: Uuid,
    pub antenna: Uuid,
    pub name: String,
    pub role: Role,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_sync: Option<DateTime<Utc>>,
}

/// Everything the registry holds of one antenna: what a backup keeps, and
/// what moves from one backend to the other.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AntennaRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The authority's key (PKCS#8 DER), in the clear: the backup that
    /// holds it is sealed whole.
    #[serde(with = "base64_bytes")]
    pub authority_key: Vec<u8>,
    pub devices: Vec<DeviceRecord>,
    pub codes: Vec<CodeRecord>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviceRecord {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub credential_hash: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_sync: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CodeRecord {
    pub code_hash: String,
    pub role: Role,
    pub created_by: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_by: Option<Uuid>,
}

/// Bytes as base64 text in JSON (a backup's keys and chunks).
pub(crate) mod base64_bytes {
    use data_encoding::BASE64;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        BASE64
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// A device about to be enrolled, with the hash of its new credential.
#[derive(Debug)]
pub struct NewDevice<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub credential_hash: &'a str,
}

#[async_trait::async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Whether the registry answers now: the server's readiness (a file
    /// beside the server always does; a database may be out of reach).
    async fn ready(&self) -> bool {
        true
    }
    /// Register an antenna and enrol its first device as coordinator.
    async fn register_antenna(
        &self,
        antenna: Uuid,
        name: &str,
        first: NewDevice<'_>,
    ) -> Result<(), RegistryError>;
    async fn antenna_name(&self, antenna: Uuid) -> Result<Option<String>, RegistryError>;
    async fn antennas(&self) -> Result<Vec<Uuid>, RegistryError>;
    async fn add_code(
        &self,
        antenna: Uuid,
        role: Role,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        by: Uuid,
    ) -> Result<(), RegistryError>;
    /// Spend a code (once) and enrol the device with its antenna and role,
    /// if the tablet that issued the code is not revoked and still may
    /// enrol that role ([`maraude_core::access::check_may_enrol`]).
    async fn enrol(&self, code_hash: &str, device: NewDevice<'_>) -> Result<Device, RegistryError>;
    /// The device holding this credential, revoked or not.
    async fn device_by_credential(
        &self,
        credential_hash: &str,
    ) -> Result<Option<Device>, RegistryError>;
    async fn devices(&self, antenna: Uuid) -> Result<Vec<Device>, RegistryError>;
    /// Revoke `device`, of `by`'s antenna, if `by`'s rank allows it
    /// ([`maraude_core::access::check_may_revoke`]), or if it is `by`
    /// itself ([`maraude_core::access::check_may_withdraw`]); the antenna's active coordinators
    /// are counted in the same transaction as the change, so that two
    /// coordinators revoking each other at once leave one.
    async fn revoke(&self, by: &Device, device: Uuid) -> Result<Device, RegistryError>;
    /// Revoke the devices a revocation list of `antenna`'s authority
    /// names (the caller checked its signature), each as of when the list
    /// says: the antenna's own decision, made before this registry was
    /// restored from an older backup, so no rule of rank is asked again.
    /// A device it names that was never enrolled here (enrolled after that
    /// backup) is recorded as revoked, so that the antenna's list names it
    /// again ([`UNKNOWN_REVOKED`]). Answers the devices this revoked.
    async fn take_revocations(
        &self,
        antenna: Uuid,
        listed: &[(Uuid, DateTime<Utc>)],
    ) -> Result<Vec<Uuid>, RegistryError>;
    /// Record that `device` acknowledged a sync now; answers the time as
    /// stored (to the microsecond), which the device gives back at its
    /// next sync to show what this server should hold.
    async fn synced(&self, device: Uuid) -> Result<DateTime<Utc>, RegistryError>;
    /// The antenna's authority key (PKCS#8 DER): `new` is kept if the
    /// antenna has none yet; the key kept is returned.
    async fn authority_key(&self, antenna: Uuid, new: &[u8]) -> Result<Vec<u8>, RegistryError>;
    /// The antenna's revoked devices, with when.
    async fn revoked(&self, antenna: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, RegistryError>;
    /// Everything, antenna by antenna, read in one transaction (a
    /// backup while the server runs).
    async fn export(&self) -> Result<Vec<AntennaRecord>, RegistryError>;
    /// Add these antennas whole, in one transaction; none may exist here
    /// yet ([`RegistryError::AntennaExists`], and nothing is written).
    async fn import(&self, antennas: &[AntennaRecord]) -> Result<(), RegistryError>;
}

/// What taking back a revocation list does to one device it names, as
/// `found` in the registry ([`Registry::take_revocations`]).
#[derive(Debug, PartialEq, Eq)]
enum Taken {
    /// Enrolled in the antenna, not revoked: revoked now.
    Revoke,
    /// Never enrolled here: recorded as revoked.
    Record,
    /// Revoked already, or (never so far) another antenna's: left alone.
    Leave,
}

fn taken(antenna: Uuid, found: Option<&Device>) -> Taken {
    match found {
        None => Taken::Record,
        Some(d) if d.antenna == antenna && d.revoked_at.is_none() => Taken::Revoke,
        Some(_) => Taken::Leave,
    }
}

/// The name of a device known only from its antenna's revocation list
/// ([`Registry::take_revocations`]), as leads see it in the list of
/// tablets.
pub const UNKNOWN_REVOKED: &str = "tablet known only from a revocation list";

/// The credential hash of such a device: no credential hashes to it (a
/// hash is hex), and each one differs (the column is unique).
fn no_credential(device: Uuid) -> String {
    format!("none: revoked {device}")
}

/// Whether `by` may revoke `target`, the antenna counting
/// `active_coordinators` at the moment (in the revocation's transaction):
/// the rules of rank, the same for every backend.
/// `at` as both databases keep a time: to the microsecond, so that the
/// time a device is given back compares equal to the one stored.
fn to_the_microsecond(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    at.trunc_subsecs(6)
}

fn may_revoke(by: &Device, target: &Device, active_coordinators: i64) -> Result<(), RegistryError> {
    let last_coordinator =
        target.role == Role::Coordinator && target.revoked_at.is_none() && active_coordinators <= 1;
    if by.id == target.id {
        maraude_core::access::check_may_withdraw(last_coordinator)
    } else {
        maraude_core::access::check_may_revoke(by.role, target.role, last_coordinator)
    }
    .map_err(RegistryError::Refused)
}

/// Whether a code `issuer` issued still enrols a tablet as `role`: a code
/// dies with its issuer, and one a lead issued for a lead's tablet (as
/// older servers allowed) enrols none.
fn may_enrol(issuer: &Device, role: Role) -> Result<(), RegistryError> {
    if issuer.revoked_at.is_some() {
        return Err(RegistryError::IssuerRevoked);
    }
    maraude_core::access::check_may_enrol(issuer.role, role).map_err(RegistryError::IssuerOutranked)
}

mod postgres;
mod sqlite;
pub use postgres::PostgresRegistry;
pub use sqlite::SqliteRegistry;

#[cfg(test)]
pub(crate) mod conformance;
#[cfg(test)]
pub(crate) use postgres::tests::{fresh_database, open as open_database};
