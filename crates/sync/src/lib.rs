//! # maraude-sync
//!
//! Devices and the base server exchange the antenna's Automerge documents
//! with the automerge-repo sync protocol over WebSocket, through
//! [`samod`](https://docs.rs/samod), its Rust implementation. This crate
//! holds what both sides share:
//!
//! - [`storage`]: the encrypted store served as samod's storage, from one
//!   thread that owns it;
//! - [`client`]: a device syncing with its server or with a teammate's
//!   tablet;
//! - [`enrol`]: a device registering an antenna, or joining one with a code;
//! - [`hub`]: an antenna served to devices (the base server's, or a tablet
//!   serving its teammates, [`peer`]);
//! - [`door`]: what a peer writes, checked against its certified role
//!   before samod merges it (on the hub, and on a tablet syncing with a
//!   teammate);
//! - [`discovery`]: teammates' tablets finding each other on the local
//!   network (mDNS), saying nothing of the antenna or the device;
//! - [`identity`] and [`tls`]: how tablets recognise each other offline
//!   (certificates from their antenna, mutual TLS) and the server's HTTPS;
//!   the certificates are read and checked by `maraude_protocol`, which
//!   also holds the REST API's bodies;
//! - [`serve`]: the HTTP side of the base server and of a tablet serving
//!   its teammates, so that slow or hostile clients do not keep the others
//!   out (caps per address, handshake, header and idle time limits);
//! - [`metrics`]: bytes, messages, refusals and storage times, for the
//!   base server's `/metrics`.
//!
//! The protocol is samod's and automerge-repo's, unchanged: a JavaScript
//! automerge-repo client speaks to our server as to its own.

pub mod client;
pub mod discovery;
pub mod door;
pub mod enrol;
mod error;
pub mod hub;
pub mod identity;
pub mod metrics;
pub mod peer;
pub mod serve;
pub mod socket;
pub mod storage;
pub mod tls;

pub use client::{Patience, SyncSummary, sync_with_server, sync_with_teammate};
pub use error::{SyncError, TransportError};
pub use storage::{SharedChunks, StoreHandle};

/// The largest WebSocket message either side accepts: a whole season's
/// antenna document stays far below it, and a peer cannot make the other
/// buffer more.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;
