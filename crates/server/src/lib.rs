//! # maraude-server
//!
//! The base server of an association: it registers antennas and enrols
//! their devices ([`registry`]), keeps each antenna's documents in its own
//! encrypted store, and syncs them with devices over the automerge-repo
//! protocol ([`hub`], via samod). [`http`] is its whole HTTP surface;
//! [`ticket`] lets a client that cannot set headers on a WebSocket (a
//! browser, automerge-repo's standard adapter) open the sync socket.

pub mod http;
pub mod hub;
pub mod registry;
pub mod secrets;
pub mod ticket;
