//! What the end-to-end tests share: a tablet driven through the `maraude`
//! binary on its own store ([`tablet`]), the real `maraude-server` on a
//! loopback port ([`server`]), and a teammate's tablet that lies about what
//! changed on it ([`lying_teammate`]), PostgreSQL for the server
//! ([`postgres`]) and a load balancer in front of several ([`balancer`]). The tests themselves are in `cli/`,
//! `sync/` and `app/`, one binary each.

#![allow(clippy::unwrap_used)]

pub mod balancer;
pub mod lying_teammate;
pub mod postgres;
pub mod server;
pub mod tablet;
