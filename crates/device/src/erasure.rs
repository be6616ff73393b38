//! Erasing this tablet (handed over, lost from sight, about to be seized),
//! or clearing it of what its server already holds ([`clear_what_the_server_holds`]):
//! the server is told first, so that the tablet's credential and
//! certificate stop working even if a copy of its store survives
//! somewhere, then the store goes.
//!
//! Telling the server is tried once, briefly: in the field there is often
//! no network, and erasing must not wait for one. What happened is said,
//! so that a lead can revoke the tablet by its name when the server could
//! not be told. (Telling it later is impossible by design: the credential
//! lives only in the store that is erased.)

use std::path::Path;
use std::time::Duration;

use maraude_core::ids::DeviceId;
use maraude_store::{ServerLink, Store};
use maraude_sync::SyncError;
use serde::Serialize;

use crate::DeviceError;
use crate::keystore::Keystore;
use crate::quick_unlock::QuickUnlock;

/// How long erasing waits for the server before it erases all the same.
pub const SERVER_PATIENCE: Duration = Duration::from_secs(8);

/// What the server was told of the erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "server", rename_all = "snake_case")]
pub enum Withdrawal {
    /// The tablet was never enrolled: there was nothing to revoke.
    NotEnrolled,
    /// Revoked now: its credential and certificate are refused from now on.
    Revoked,
    /// Revoked before (by a lead, or an earlier erasure).
    AlreadyRevoked,
    /// The server could not be reached: a lead should revoke this tablet.
    NotReached { why: String },
    /// The server refused (the antenna's last coordinator stays enrolled).
    Refused { code: String, why: String },
}

/// Tells the server that the tablet `device` leaves: it revokes itself with
/// its own credential. Never fails: the outcome is the answer.
pub async fn withdraw(link: Option<&ServerLink>, device: DeviceId) -> Withdrawal {
    let Some(link) = link else {
        return Withdrawal::NotEnrolled;
    };
    let asked = maraude_sync::enrol::revoke(link, *device.as_uuid());
    match tokio::time::timeout(SERVER_PATIENCE, asked).await {
        Ok(Ok(_)) => Withdrawal::Revoked,
        Ok(Err(e)) if e.code() == "revoked" => Withdrawal::AlreadyRevoked,
        Ok(Err(SyncError::Refused { code, message, .. })) => {
            Withdrawal::Refused { code, why: message }
        }
        Ok(Err(e)) => Withdrawal::NotReached { why: e.to_string() },
        Err(_) => Withdrawal::NotReached {
            why: format!(
                "no answer from {} within {} s",
                link.url,
                SERVER_PATIENCE.as_secs()
            ),
        },
    }
}

/// Erases the store at `path` once the server was told (see [`withdraw`]):
/// the store must be closed (every handle dropped). The store is removed
/// whatever the server answered, and its PIN with it (the wrapped key
/// beside the store, the secret in `keystore`).
pub async fn erase_this_tablet(
    path: &Path,
    link: Option<&ServerLink>,
    device: DeviceId,
    keystore: &dyn Keystore,
) -> Result<Withdrawal, DeviceError> {
    let withdrawal = withdraw(link, device).await;
    QuickUnlock::of(path, keystore).forget()?;
    Store::remove(path)?;
    Ok(withdrawal)
}

/// Clears this tablet in a hurry (a checkpoint ahead): deletes everything
/// its server already holds as the tablet has it, keeps what was not sent
/// yet and the antenna's reference data (see
/// [`Store::clear_what_the_server_holds`]). A tablet never enrolled has no
/// server holding anything: refused, nothing deleted.
pub fn clear_what_the_server_holds(
    store: &mut Store,
) -> Result<maraude_store::Cleared, DeviceError> {
    if store.server_link()?.is_none() {
        return Err(SyncError::NotEnrolled.into());
    }
    let server = maraude_protocol::api::server_peer(store.antenna_id().as_uuid());
    Ok(store.clear_what_the_server_holds(&server)?)
}
