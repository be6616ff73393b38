//! # maraude-server
//!
//! The base server of an association: it registers antennas and enrols
//! their devices ([`registry`]), keeps each antenna's documents in its own
//! encrypted store, and syncs them with devices over the automerge-repo
//! protocol ([`hub`], via samod). [`http`] is its whole HTTP surface.

pub mod http;
pub mod hub;
pub mod registry;
pub mod secrets;
