use std::sync::Arc;

use maraude_protocol::api::Refusal;
use maraude_store::StoreError;
use thiserror::Error;

/// What can stop a sync. Nothing synced is lost: documents already in sync
/// are recorded, the others are taken up at the next sync.
#[derive(Debug, Clone, Error)]
pub enum SyncError {
    #[error(
        "this device is not enrolled with a server; enrol it with an enrolment code from a lead or coordinator"
    )]
    NotEnrolled,
    #[error("bad server address: {0}")]
    BadUrl(String),
    #[error(
        "{0} is plain HTTP to another machine: the enrolment code, this device's credential and every document would cross the network in clear, and anyone on it could pose as the server; type the server's https:// address, or allow plain HTTP only on a network you trust (the warehouse's own Wi-Fi)"
    )]
    PlainHttp(String),
    #[error(
        "the server at {0} answered for another antenna than the one the code names: someone may be posing as the server on this network; nothing was kept on this tablet: check the address, and ask for a new code"
    )]
    WrongAuthority(String),
    #[error("the credential stored on this device is damaged; enrol the device again")]
    BadCredential,
    #[error(
        "cannot reach the server at {0}; check the network (Wi-Fi of the warehouse?) and try again"
    )]
    Unreachable(String),
    #[error(
        "the connection to the server at {0} was cut during the sync; nothing is lost: run the sync again"
    )]
    Cut(String),
    #[error("network: {0}")]
    Network(String),
    #[error("the server refused ({status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error(
        "sync incomplete: {synced} documents in sync, {left} not yet (the connection kept failing); run the sync again"
    )]
    Incomplete { synced: usize, left: usize },
    #[error(
        "this tablet has no certificate for syncing with teammates yet; sync once with the server to get one"
    )]
    NoCertificate,
    #[error(
        "cannot reach the tablet at {0}; is it on the same network, and serving its teammates?"
    )]
    TeammateUnreachable(String),
    #[error(
        "the tablet at {at} and this one did not accept each other ({why}): a tablet of another antenna, or revoked, is refused; if both are yours, sync each with the server once"
    )]
    NotATeammate { at: String, why: String },
    #[error(
        "no teammate's tablet found on this network: check that both tablets are on the same Wi-Fi and that the other is serving its teammates, or give its address (the one it shows)"
    )]
    NoTeammateFound,
    #[error("finding teammates on the network: {0}")]
    Discovery(String),
    #[error("TLS: {0}")]
    Tls(String),
    /// Shared, so that a sync's outcome can be kept and shown twice.
    #[error(transparent)]
    Store(Arc<StoreError>),
    /// The store's thread stopped (a write failed): says why.
    #[error("{0}")]
    StoreStopped(String),
    #[error("the sync was stopped")]
    Stopped,
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Store(Arc::new(e))
    }
}

impl From<crate::storage::StoreClosed> for SyncError {
    fn from(e: crate::storage::StoreClosed) -> Self {
        SyncError::StoreStopped(e.0)
    }
}

impl SyncError {
    /// A stable code for programs, the same whatever the sentence says.
    /// A refusal keeps the other side's code when it is a
    /// [`Refusal`] this version knows.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotEnrolled => "not_enrolled",
            SyncError::BadUrl(_) => "bad_server_address",
            SyncError::PlainHttp(_) => "plain_http",
            SyncError::WrongAuthority(_) => "wrong_authority",
            SyncError::BadCredential => "revoked",
            SyncError::Unreachable(_) => "server_unreachable",
            SyncError::Cut(_) | SyncError::Incomplete { .. } => "sync_cut",
            SyncError::Network(_) => "network",
            SyncError::Refused { status, code, .. } => match Refusal::parse(code) {
                // Said as a revocation: the credential is no longer good.
                Some(Refusal::Unauthorised) => "revoked",
                Some(refusal) => refusal.as_str(),
                None if *status == 401 => "revoked",
                None => "refused",
            },
            SyncError::NoCertificate => "no_certificate",
            SyncError::TeammateUnreachable(_) => "teammate_unreachable",
            SyncError::NotATeammate { .. } => "not_a_teammate",
            SyncError::NoTeammateFound => "no_teammate_found",
            SyncError::Discovery(_) => "discovery",
            SyncError::Tls(_) => "tls",
            SyncError::Store(e) => e.code(),
            SyncError::StoreStopped(_) => "store_stopped",
            SyncError::Stopped => "sync_stopped",
        }
    }
}

impl From<crate::tls::TlsError> for SyncError {
    fn from(e: crate::tls::TlsError) -> Self {
        SyncError::Tls(e.to_string())
    }
}

/// A WebSocket failure under the sync protocol.
#[derive(Debug, Error)]
#[error("websocket: {0}")]
pub struct TransportError(pub String);

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn a_sync_error_keeps_the_code_of_its_origin() {
        let store = SyncError::from(StoreError::NoAntennaYet);
        assert_eq!(store.code(), "antenna_not_received");
        // The store's sentence, said once (no "the store:" wrapper).
        assert_eq!(store.to_string(), StoreError::NoAntennaYet.to_string());
        let refused = |status, code: &str| SyncError::Refused {
            status,
            code: code.into(),
            message: String::new(),
        };
        assert_eq!(refused(403, "rank_too_low").code(), "rank_too_low");
        assert_eq!(
            refused(503, "antenna_unavailable").code(),
            "antenna_unavailable"
        );
        assert_eq!(refused(401, "unauthorised").code(), "revoked");
        assert_eq!(refused(409, "device_exists").code(), "device_exists");
        assert_eq!(refused(409, "from_a_newer_server").code(), "refused");
        let stopped = SyncError::from(crate::storage::StoreClosed("cannot write".into()));
        assert_eq!(stopped.code(), "store_stopped");
        assert_eq!(stopped.to_string(), "cannot write");
    }
}
