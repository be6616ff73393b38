//! End-to-end stories: the `maraude` binary on real, encrypted stores, as a
//! team uses it in the field.
//!
//! Run with `cargo build -p maraude-cli && cargo test -p maraude-tests`:
//! `cargo test` alone does not build another package's binary, and a
//! missing or stale `target/<profile>/maraude` fails with that advice.
//!
//! - [`a_whole_night`]: a night maraude logged, corrected, ended and
//!   reported, figure by figure, in JSON, text (fr, en) and CSV; follow-ups.
//! - [`bad_input_changes_nothing`]: every refusal says why on stderr, exits
//!   non-zero and leaves the store byte for byte as it was.
//! - [`every_command_answers_json`]: `--json` on each command `--help`
//!   lists (a new command without a case fails), refusals on stderr.
//! - [`killed_mid_entry`]: the crash test — logging processes
//!   SIGKILLed at random moments never lose an acknowledged entry
//!   (`MARAUDE_CRASH_KILLS`, default 60).
//! - [`seized_store_shows_nothing`]: no logged text in clear in the file,
//!   its WAL or its shared-memory index, open or closed.
//! - [`demo_season`]: `maraude demo` holds what it reported, its reports
//!   add up, and a seed gives the same season.

#![allow(clippy::unwrap_used)]

mod a_whole_night;
mod bad_input_changes_nothing;
mod demo_season;
mod every_command_answers_json;
#[cfg(unix)]
mod killed_mid_entry;
#[cfg(unix)]
mod seized_store_shows_nothing;

use maraude_tests::tablet;
