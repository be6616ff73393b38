use thiserror::Error;

/// What can stop a sync. Nothing synced is lost: documents already in sync
/// are recorded, the others are taken up at the next sync.
#[derive(Debug, Clone, Error)]
pub enum SyncError {
    #[error(
        "this device is not enrolled with a server; enrol it with `maraude enrol --server URL --code CODE`"
    )]
    NotEnrolled,
    #[error("bad server address: {0}")]
    BadUrl(String),
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
        "this tablet has no certificate for syncing with teammates yet; sync once with the server (`maraude sync`) to get one"
    )]
    NoCertificate,
    #[error(
        "cannot reach the tablet at {0}; is it on the same network, and serving its teammates (`maraude serve-peer`)?"
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
    #[error("the store: {0}")]
    Store(String),
    #[error("the sync was stopped")]
    Stopped,
}

impl From<maraude_store::StoreError> for SyncError {
    fn from(e: maraude_store::StoreError) -> Self {
        SyncError::Store(e.to_string())
    }
}

impl From<crate::storage::StoreClosed> for SyncError {
    fn from(e: crate::storage::StoreClosed) -> Self {
        SyncError::Store(e.0)
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
