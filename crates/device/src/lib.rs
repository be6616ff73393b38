//! # maraude-device
//!
//! What a tablet does beyond logging records, once, for every front end:
//! the app's commands (`src-tauri`), the `maraude` command (`crates/cli`),
//! the sync bench and the tests call these functions and add only how
//! they ask and how they show.
//!
//! - [`demo`]: a new store holding an invented antenna's season;
//! - [`erasure`]: erasing this tablet, the server told first that it
//!   leaves;
//! - [`enrolment`]: a new tablet joins an antenna with a code, a tablet
//!   holding an antenna enrols with its server, a coordinator registers
//!   the antenna;
//! - [`quick_unlock`]: unlocking with a PIN, the store's key wrapped
//!   under it and a secret of the system's [`keystore`];
//! - [`sync`]: a sync with the server or a teammate, and the record of
//!   the last one with the server ("synced 2 h ago");
//! - [`teammates`]: serving teammates' tablets, finding them on the
//!   network, and the address a volunteer typed for one.
//!
//! Errors carry a stable [`DeviceError::code`] and a sentence that names no
//! front end: the app translates by code, the command adds its own hints.

pub mod demo;
pub mod enrolment;
pub mod erasure;
pub mod keystore;
pub mod quick_unlock;
pub mod sync;
pub mod teammates;

use std::path::PathBuf;

use keystore::KeystoreError;
use maraude_store::StoreError;
use maraude_sync::SyncError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DeviceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("a store already exists at {0}: unlock it, or join into another file")]
    StoreExists(PathBuf),
    #[error("cannot create the folder {path}: {error}; check the free space and permissions")]
    Folder { path: PathBuf, error: String },
    #[error("this tablet is already enrolled with {0}; nothing changed")]
    AlreadyEnrolled(String),
    /// The server spent the code: say what to ask for.
    #[error(
        "this code is for antenna {code_for}, but this tablet holds antenna {held}; the code is used up: ask a lead of {held} for a new code (and a coordinator to revoke this tablet in {code_for})"
    )]
    OtherAntenna { code_for: String, held: String },
    #[error(
        "the server refused the registration token, or registers no antenna: ask its administrator for the token"
    )]
    BadRegistrationToken,
    #[error(
        "\"{0}\" is not an address: type the one the other tablet shows, e.g. 192.168.1.12:8471"
    )]
    BadTeammateAddress(String),
    #[error(
        "no tablet named {0} on this network: type the address the other tablet shows, e.g. 192.168.1.12:8471"
    )]
    UnknownTeammate(String),
    #[error("cannot listen for teammates on {at}: {error}")]
    Listen { at: String, error: String },
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error("a PIN is {min} to {max} digits, not one digit repeated nor a run like 123456")]
    WeakPin { min: usize, max: usize },
    #[error("wrong PIN: {tries_left} tries left before the passphrase is needed")]
    WrongPin { tries_left: u8 },
    #[error(
        "too many wrong PINs: the PIN is cleared; unlock with the passphrase, and set a new PIN"
    )]
    PinExhausted,
    #[error(
        "the keystore no longer holds the PIN's key (the system was reset, or the store replaced): unlock with the passphrase, and set a new PIN"
    )]
    KeystoreLost,
    #[error("no PIN is set on this tablet: unlock with the passphrase")]
    NoPin,
    #[error("{0}")]
    Crypto(String),
}

impl DeviceError {
    /// A stable code for programs (the app's words, scripts reading
    /// `--json`): the same whatever the sentence says.
    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::Store(e) => e.code(),
            DeviceError::Sync(e) => e.code(),
            DeviceError::StoreExists(_) => "store_exists",
            DeviceError::Folder { .. } | DeviceError::Listen { .. } => "io",
            DeviceError::AlreadyEnrolled(_) => "already_enrolled",
            DeviceError::OtherAntenna { .. } => "other_antenna",
            DeviceError::BadRegistrationToken => "bad_registration_token",
            DeviceError::BadTeammateAddress(_) | DeviceError::UnknownTeammate(_) => {
                "bad_teammate_address"
            }
            DeviceError::Keystore(KeystoreError::Unavailable(_)) => "no_keystore",
            DeviceError::WeakPin { .. } => "weak_pin",
            DeviceError::WrongPin { .. } => "wrong_pin",
            DeviceError::PinExhausted => "pin_exhausted",
            DeviceError::KeystoreLost => "keystore_lost",
            DeviceError::NoPin => "no_pin",
            DeviceError::Crypto(_) => "crypto",
        }
    }
}
