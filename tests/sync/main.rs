//! Sync end to end: the real `maraude-server` on loopback and devices as
//! `maraude` processes on real encrypted stores.
//!
//! Build both binaries first: `cargo build -p maraude-cli -p maraude-server`.
//!
//! - [`a_team_syncs`]: enrolment with codes, a night logged offline on three
//!   tablets converging through the server, revocation, a wrong
//!   credential, a second antenna that receives nothing of the first.
//! - [`random_schedules`]: seeded random schedules of offline logging,
//!   corrections, voids and syncs in random order (with the server or a
//!   teammate's tablet, some at once), a server
//!   killed and restarted; afterwards every store and the server hold the
//!   same index and the totals of what was logged
//!   (`MARAUDE_SYNC_SCHEDULES`, default 20).
//! - [`authorised_writes`]: a volunteer's tablet, stock or modified, and
//!   a JavaScript client with a volunteer's ticket, cannot promote
//!   anyone, erase a case, change the schema or the retention: the
//!   server refuses the change, says which rule, and takes the rest.
//! - [`backup`]: a backup taken while the server runs, restored into a
//!   new folder, moved to PostgreSQL and back: every tablet syncs with
//!   nothing lost or sent again; the file reveals nothing; one from a
//!   newer server, or into a place that holds antennas, is refused.
//! - [`bad_messages`]: text frames, bytes that are not protocol messages,
//!   messages cut short or over the size limit close their connection;
//!   the server stays up and its store unchanged.
//! - [`compression_bomb`]: one small sync message that inflates to half a
//!   gibibyte costs the server and a serving tablet their connection, not
//!   their memory.
//! - [`erased_tablet`]: an erased tablet is revoked on the server first (a
//!   copy of its store syncs no more); out of reach, it is erased all the
//!   same and says so; the last coordinator's stays enrolled.
//! - [`erasure`]: a case a lead erases, or the server by retention, is
//!   gone from every decrypted store, the server's included; a teammate's
//!   offline note does not bring it back; the figures stay.
//! - [`js_client`]: a JavaScript automerge-repo client (Node, `tests/js`)
//!   reads a shift, adds an entry the tablets then report, opens the
//!   socket with a single-use ticket; one of another antenna gets nothing.
//! - [`missing_history`]: an entry whose change the other side's Bloom
//!   filter wrongly claims, and entries built on it: the receiver asks for
//!   it and gets all, from a tablet to the server, to a serving teammate,
//!   and from a serving teammate.
//! - [`faults`]: through a loopback proxy ([`fault_proxy`]), connections
//!   cut anywhere in a sync, a slow line, garbage after a cut, every
//!   message twice and whole sessions replayed; tablets whose clocks are
//!   hours apart. Nothing lost, nothing twice, the server up.
//! - [`ranks`]: a lead enrols and revokes volunteers' tablets only, the
//!   last coordinator stays, a code dies with the tablet that issued it,
//!   the 11th enrol attempt in a minute from one address waits (others
//!   are served), a certificate near its end is renewed at a sync.
//! - [`teammates`]: tablets syncing with each other without the server
//!   (`serve-peer`, `sync --peer`), each receiving what its role may;
//!   found by mDNS on loopback (`sync --peer auto`, `teammates`), not by
//!   a tablet of another antenna; a revoked tablet and one of another
//!   antenna refused; the server over HTTPS with a certificate.
//! - [`stranger_on_the_hotspot`]: a TLS client without a certificate
//!   learns nothing identifying from a serving tablet (its certificate
//!   names no antenna, device or role, and changes with each serving); a
//!   stranger serving never receives a dialling tablet's certificate.
//! - [`store_failure`]: an antenna's store on the server that cannot be
//!   written (another process holds its lock) stops that antenna, not the
//!   server: another antenna syncs meanwhile, and nothing is lost once the
//!   store can be written again.
//! - [`metrics`]: `/metrics` counts syncs, bytes and refusals by rule,
//!   names no device, and answers another machine only with its token.
//! - [`postgres`]: the server with its registry in PostgreSQL: a team
//!   syncs, the registry outlives the server's folder, a dump shows no
//!   key; the database out of reach at start and mid-run is said,
//!   refused with a time to retry, and recovered from by itself; a wrong
//!   passphrase or plain TCP to another machine stops it at start; with
//!   two servers on one database, a case erased through one is gone from
//!   the database and the other, and a tablet revoked through one loses
//!   its socket on the other at once.
//! - [`crowded_door`]: strangers holding idle connections and half-sent
//!   requests against the server (HTTP and HTTPS) and a tablet serving its
//!   teammates, while an honest tablet syncs within seconds; what they
//!   hold closed after its time limit; a device's third sync socket closes
//!   its oldest, and a quiet one is closed.

#![allow(clippy::unwrap_used)]

mod a_team_syncs;
mod authorised_writes;
mod backup;
mod bad_messages;
mod compression_bomb;
mod crowded_door;
mod erased_tablet;
mod erasure;
mod fault_proxy;
mod faults;
mod js_client;
mod metrics;
mod missing_history;
mod old_shifts;
mod postgres;
mod random_schedules;
mod ranks;
mod store_failure;
mod stranger_on_the_hotspot;
mod teammates;

use maraude_tests::{lying_teammate, server, tablet};
