//! What the app's screen holds that is no record yet: a form half filled,
//! the screen it was on, the sticky place, the address last typed for a
//! teammate. Kept here, encrypted with everything else, so that a lock (the
//! idle timer, in the cold) loses nothing, and never in the webview's own
//! storage, which a seized tablet gives away in clear.
//!
//! The store keeps it as the app gives it (JSON text) without reading it:
//! the app is the only one to write and read it. It never syncs.

use chrono::Utc;
use maraude_core::Invalid;
use rusqlite::{OptionalExtension, params};

use crate::{Result, Store, index};

/// The most the app may keep: a form's worth, with room to spare.
pub const MAX_UNSAVED_BYTES: usize = 64 * 1024;

impl Store {
    /// Keeps `state` in place of what was kept before.
    pub fn keep_unsaved(&mut self, state: &str) -> Result<()> {
        if state.len() > MAX_UNSAVED_BYTES {
            return Err(Invalid::TooLong {
                field: "the screen's unsaved state",
                max: MAX_UNSAVED_BYTES,
                given: state.len(),
            }
            .into());
        }
        self.write(|tx, _| {
            tx.prepare_cached(
                "INSERT INTO unsaved (id, state, kept_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET state = ?1, kept_at = ?2",
            )?
            .execute(params![state, index::ts(Utc::now())])?;
            Ok(())
        })
    }

    /// What was kept last, if anything.
    pub fn unsaved(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM unsaved WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }
}
