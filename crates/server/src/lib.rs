//! # maraude-server
//!
//! The base server of an association: it registers antennas and enrols
//! their devices ([`registry`]), signs their certificates and revocation
//! lists as each antenna's authority ([`authority`]), keeps each antenna's
//! documents in its own encrypted store, and syncs them with devices over
//! the automerge-repo protocol (`maraude_sync::hub`, via samod). [`http`]
//! is its whole HTTP surface; [`ticket`] lets a client that cannot set
//! headers on a WebSocket (a browser, automerge-repo's standard adapter)
//! open the sync socket; [`attempts`] counts each client address's tries at
//! the doors anyone can knock on.

pub mod attempts;
pub mod authority;
pub mod backup;
pub mod database;
pub mod envelope;
pub mod http;
pub mod metrics;
pub mod registry;
pub mod secrets;
pub mod shared;
pub mod ticket;
