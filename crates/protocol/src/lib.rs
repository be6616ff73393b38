//! # maraude-protocol
//!
//! What a device and the base server (or two teammates' tablets) say to
//! each other besides the documents themselves, which travel as
//! automerge-repo sync messages (`maraude_core::wire` bounds those):
//!
//! - [`api`]: the bodies of the server's REST API (enrolment, revocation,
//!   "what changed since", sync tickets), as both sides read them;
//! - [`identity`]: device certificates and revocation lists signed by the
//!   antenna's authority, read and checked (who a certificate names, what
//!   a list revokes, whether it is valid at a date);
//! - [`code`]: an enrolment code with the mark of the antenna's authority,
//!   as a lead reads it out and a new tablet checks it.
//!
//! Pure: no sockets, no files, no store. Every decoder here reads bytes
//! another device sent, so each has a fuzz target (`fuzz/`:
//! `rest_bodies`, `certificates`).

pub mod api;
pub mod code;
pub mod identity;
