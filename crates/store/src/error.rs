use maraude_core::{DocumentError, Invalid};
use thiserror::Error;

/// What can go wrong with a store. Nothing is written when an error is
/// returned: every write runs in one SQLite transaction.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Document(DocumentError),
    #[error(
        "wrong passphrase for {0} (or the file is damaged); check the antenna passphrase and try again"
    )]
    WrongPassphrase(String),
    #[error("{0} is not encrypted; Maraude only opens encrypted stores")]
    NotEncrypted(String),
    #[error("no store at {0}; create one, or join an antenna with an enrolment code")]
    NotFound(String),
    #[error("a store already exists at {0}; open it, or choose another path")]
    AlreadyExists(String),
    #[error("the passphrase is too short: at least {min} characters, and longer is better")]
    WeakPassphrase { min: usize },
    #[error(
        "this passphrase is too easy to guess{why}; use three or four words nobody would put together, or a sentence of your own"
    )]
    GuessablePassphrase { why: String },
    #[error(
        "this store was written by a newer version of Maraude (store format {found}, this app knows up to {known}); update Maraude on this device"
    )]
    NewerFormat { found: i64, known: i64 },
    #[error(
        "no shift {0} on this device (erased, or not synced yet); check the id against the list of shifts"
    )]
    NoSuchShift(String),
    #[error("no entry {0} on this device; check the id against the shift's entries")]
    NoSuchEntry(String),
    #[error(
        "no case {0} on this device (erased, or not synced yet); check the id against the open follow-ups"
    )]
    NoSuchCase(String),
    #[error("\"{0}\" matches several records; give more characters of the id")]
    Ambiguous(String),
    #[error("no shift is open; start one first")]
    NoOpenShift,
    #[error("nothing to undo: this device has logged nothing in this shift yet")]
    NothingToUndo,
    #[error(
        "this store has not received its antenna yet (it was enrolled, never synced): sync it with the server"
    )]
    NoAntennaYet,
    /// (No `#[source]`: the sentence is the refusal's own, said once.)
    #[error("{0}")]
    NotAllowed(maraude_core::authority::Refused),
    #[error(
        "only a coordinator's tablet brings an old shift's detail back from the server; ask a coordinator, or read the shift's figures in the period report"
    )]
    DetailForCoordinators,
    #[error("shift {0} is held in detail on this tablet already; see it in the list of shifts")]
    AlreadyInDetail(String),
    #[error("document {doc} belongs to another antenna; refused")]
    ForeignDocument { doc: String },
    #[error("not a Maraude document: {0}")]
    BadDocument(String),
    #[error("key derivation failed: {0}")]
    Crypto(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}; check the device's permissions")]
    Remove {
        path: String,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migration(String),
}

impl StoreError {
    /// A stable code for programs (the app translates by it, `--json`
    /// callers match on it): the same whatever the sentence says.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Invalid(invalid) => invalid.code(),
            StoreError::Document(_) | StoreError::BadDocument(_) => "bad_document",
            StoreError::WrongPassphrase(_) => "wrong_passphrase",
            StoreError::NotEncrypted(_) => "not_encrypted",
            StoreError::NotFound(_) => "no_store",
            StoreError::AlreadyExists(_) => "store_exists",
            StoreError::WeakPassphrase { .. } => "weak_passphrase",
            StoreError::GuessablePassphrase { .. } => "guessable_passphrase",
            StoreError::NewerFormat { .. } => "update_app",
            StoreError::NoSuchShift(_) | StoreError::NoSuchEntry(_) | StoreError::NoSuchCase(_) => {
                "not_found"
            }
            StoreError::Ambiguous(_) => "ambiguous",
            StoreError::NoOpenShift => "no_open_shift",
            StoreError::NothingToUndo => "nothing_to_undo",
            StoreError::NoAntennaYet => "antenna_not_received",
            StoreError::NotAllowed(_) | StoreError::DetailForCoordinators => "not_allowed",
            StoreError::AlreadyInDetail(_) => "already_in_detail",
            StoreError::ForeignDocument { .. } => "foreign_document",
            StoreError::Crypto(_) => "crypto",
            StoreError::Io { .. } | StoreError::Remove { .. } => "io",
            StoreError::Sqlite(_) | StoreError::Migration(_) => "database",
        }
    }
}

impl From<DocumentError> for StoreError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Invalid(i) => StoreError::Invalid(i),
            DocumentError::NoSuchEntry(id) => StoreError::NoSuchEntry(id),
            other => StoreError::Document(other),
        }
    }
}

impl From<maraude_core::authority::Refused> for StoreError {
    fn from(refused: maraude_core::authority::Refused) -> Self {
        StoreError::NotAllowed(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_by_role_is_said_once() {
        for refused in [
            maraude_core::authority::Refused::Erasure {
                case: "ab12".into(),
            },
            maraude_core::authority::Refused::ReferenceData {
                role: maraude_core::access::Role::Volunteer,
                part: "volunteer list",
                who: "a lead or a coordinator",
            },
        ] {
            let e = anyhow_like(&StoreError::from(refused.clone()));
            assert_eq!(e, refused.to_string());
        }
    }

    /// What `{:#}` of an error chain prints.
    fn anyhow_like(e: &(dyn std::error::Error + 'static)) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
}
