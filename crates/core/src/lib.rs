//! # maraude-core
//!
//! The pure core of Maraude, the field app of outreach teams ("maraudes").
//! It decides; it never performs I/O. No SQLite, no network, no Tauri, no
//! clock: the time is passed in ([`entry::Author::now`]).
//!
//! ## The model
//!
//! - [`antenna::Antenna`]: a local branch's reference data — the item
//!   [`antenna::CatalogueItem`]s, the [`antenna::Place`]s, the volunteers.
//! - [`shift::Shift`]: one maraude or day-centre opening, with its log of
//!   [`entry::Entry`]s: distributions, headcounts, arrivals, shelter requests,
//!   referrals, incidents, notes. Entries hold counts and case references,
//!   never personal data.
//! - [`case::Case`]: a follow-up (shelter request or referral) with a status
//!   lifecycle; the only record that may hold personal data.
//!
//! ## The typical workflow
//!
//! A caller (the store, the app) builds a [`entry::NewEntry`], turns it into
//! an [`entry::Entry`] with [`entry::NewEntry::into_entry`] (validation
//! against the antenna; nothing is written if it fails), and applies it,
//! through [`document::EntryLog`], to the document where this tablet logs
//! the shift: the [`document::ShiftDoc`] if it started the shift, else its
//! [`document::TabletLogDoc`]. The document's new Automerge changes are what
//! the caller persists and syncs. Reports ([`report`]) are computed from
//! records, not from SQL, so the app, the CLI and the server agree.
//!
//! ## Documents
//!
//! See [`document`] for the Automerge schema and how concurrent edits merge,
//! and [`wire`] for the bounds a sync message or a document's chunks must
//! keep before Automerge may decode them.
//!
//! ## Files from outside
//!
//! [`import`] decodes a catalogue or a list of places from a CSV or JSON
//! file's text into valid reference data; [`report`] writes them (and the
//! reports) as CSV. Reading the file is the caller's.

pub mod access;
pub mod antenna;
pub mod authority;
pub mod case;
pub mod document;
pub mod entry;
pub mod erasure;
pub mod error;
pub mod ids;
pub mod import;
pub mod limits;
pub mod report;
pub mod shift;
pub mod time;
pub mod warehouse;
pub mod wire;

pub use error::{DocumentError, Invalid};

/// The languages of the interface and of the plain-text summaries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "fr" | "français" | "francais" | "french" => Ok(Self::Fr),
            "en" | "english" | "anglais" => Ok(Self::En),
            _ => Err(format!("unknown language \"{s}\"; use fr or en")),
        }
    }
}

#[cfg(test)]
mod tests;
