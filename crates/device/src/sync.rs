//! A sync, and the record of the last one with the server.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use maraude_store::{Store, StoreError};
use maraude_sync::{Patience, StoreHandle, SyncSummary};

use crate::DeviceError;

/// Whom a sync is with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partner {
    Server,
    /// A teammate's tablet serving at these addresses (one typed, or those
    /// a tablet found on the network announced), tried in turn until one
    /// answers.
    Teammate(Vec<SocketAddr>),
}

/// Syncs the store behind `store` with `partner`; `progress(done, total)`
/// is called as documents come into sync. A sync with the server that went
/// through is recorded in the store, for "synced 2 h ago" after a
/// restart; if recording fails (the tablet was locked meanwhile, the disk
/// is full) the next sync records one, and this one is not undone for it.
pub async fn sync(
    store: &StoreHandle,
    partner: &Partner,
    patience: Patience,
    progress: impl Fn(usize, usize),
) -> Result<SyncSummary, DeviceError> {
    let summary = match partner {
        Partner::Server => maraude_sync::sync_with_server(store, patience, progress).await?,
        Partner::Teammate(addresses) => {
            maraude_sync::sync_with_teammate(store, addresses, patience, progress).await?
        }
    };
    if *partner == Partner::Server
        && let Ok(json) = serde_json::to_string(&summary)
    {
        let at = Utc::now();
        let _ = store.with(move |s| s.record_sync(at, &json)).await;
    }
    Ok(summary)
}

/// The last sync with the server that the store recorded, with what it
/// did (an unreadable summary, written by a later version, reads as
/// empty: the time is what matters).
pub fn last_sync(store: &Store) -> Result<Option<(DateTime<Utc>, SyncSummary)>, StoreError> {
    Ok(store
        .last_sync()?
        .map(|r| (r.at, serde_json::from_str(&r.summary).unwrap_or_default())))
}
