//! What a command answers when it fails.

use maraude_store::StoreError;
use maraude_sync::SyncError;
use serde::Serialize;

/// A failed command, as the UI receives it: `code` says which case it is (the
/// UI shows its own translated text for the codes it knows), `message` says
/// what went wrong and what to do, in English, for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AppError {
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn locked() -> Self {
        Self::new(
            "locked",
            "the app is locked: unlock it with the antenna passphrase",
        )
    }

    pub fn no_store() -> Self {
        Self::new(
            "no_store",
            "this device has no antenna yet: create one, or try a demo antenna",
        )
    }

    pub fn store_exists() -> Self {
        Self::new(
            "store_exists",
            "this device already holds an antenna: unlock it with its passphrase",
        )
    }

    pub fn nothing_to_undo() -> Self {
        Self::new(
            "nothing_to_undo",
            "nothing to undo: this tablet has logged nothing in this shift yet",
        )
    }

    /// A panic while the store was in use: the state may be half-changed.
    pub fn poisoned() -> Self {
        Self::new(
            "restart",
            "the app hit an internal error: close it and open it again (what was saved is safe)",
        )
    }

    pub fn already_syncing() -> Self {
        Self::new(
            "already_syncing",
            "a sync is already under way: wait for it to end",
        )
    }

    pub fn antenna_not_received() -> Self {
        Self::new(
            "antenna_not_received",
            "the server sent nothing of the antenna yet: check that this tablet may receive it, and sync again",
        )
    }

    pub fn erase_not_confirmed() -> Self {
        Self::new(
            "erase_not_confirmed",
            "type the antenna's name, as shown, to confirm erasing this tablet",
        )
    }

    pub fn io(what: &str, e: &std::io::Error) -> Self {
        Self::new(
            "io",
            format!("{what}: {e}; check the device's free space and permissions"),
        )
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        Self::from(&e)
    }
}

impl From<&StoreError> for AppError {
    /// The store's code; the cases a volunteer meets are said with the
    /// app's own way out (a screen, not an id to check).
    fn from(e: &StoreError) -> Self {
        let said = |sentence: &str| Self::new(e.code(), sentence);
        match e {
            StoreError::WrongPassphrase(_) => {
                said("wrong passphrase: check the antenna passphrase and try again")
            }
            StoreError::WeakPassphrase { min } => said(&format!(
                "the passphrase is too short: at least {min} characters"
            )),
            StoreError::GuessablePassphrase { .. } => said(
                "this passphrase is too easy to guess: use three or four words nobody would put together",
            ),
            StoreError::NotFound(_) => Self::no_store(),
            StoreError::AlreadyExists(_) => Self::store_exists(),
            StoreError::NoOpenShift => said("no shift is open: start one on the home screen"),
            StoreError::NothingToUndo => Self::nothing_to_undo(),
            StoreError::NoSuchShift(_) | StoreError::NoSuchEntry(_) | StoreError::NoSuchCase(_) => {
                said(
                    "this record is not on this tablet (erased, or not synced yet): go back and refresh",
                )
            }
            StoreError::Invalid(maraude_core::Invalid::NotALead { .. }) => {
                said("only an active lead or coordinator of the antenna may erase a case")
            }
            StoreError::Invalid(maraude_core::Invalid::AlreadyEnded) => {
                said("this shift has ended: start a new shift to log more")
            }
            StoreError::NoAntennaYet => Self::antenna_not_received(),
            other => Self::new(other.code(), other.to_string()),
        }
    }
}

impl From<maraude_device::DeviceError> for AppError {
    /// The device API's errors keep their code; the store's and the
    /// sync's are said as above.
    fn from(e: maraude_device::DeviceError) -> Self {
        use maraude_device::DeviceError;
        match e {
            DeviceError::Store(e) => e.into(),
            DeviceError::Sync(e) => e.into(),
            DeviceError::StoreExists(_) => Self::store_exists(),
            other => Self::new(other.code(), other.to_string()),
        }
    }
}

impl From<SyncError> for AppError {
    /// The sync's code (the server's, for its refusals); where to go in
    /// the app is said for the cases that need it.
    fn from(e: SyncError) -> Self {
        match &e {
            SyncError::Store(store) => Self::from(&**store),
            SyncError::NotEnrolled => Self::new(
                e.code(),
                "this tablet is not enrolled with a server: enrol it in Settings",
            ),
            SyncError::NoCertificate => Self::new(
                e.code(),
                "this tablet has no certificate for syncing with teammates yet: sync it once with the server (Sync, at the top)",
            ),
            SyncError::TeammateUnreachable(at) => Self::new(
                e.code(),
                format!(
                    "cannot reach the tablet at {at}: is it on the same Wi-Fi or hotspot, and showing its address under Teammates?"
                ),
            ),
            _ => Self::new(
                match e.code() {
                    "busy" => "server_busy",
                    code => code,
                },
                e.to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_rules_of_rank_and_limits_keep_their_codes_for_the_ui() {
        for (server, app) in [
            ("rank_too_low", "rank_too_low"),
            ("last_coordinator", "last_coordinator"),
            ("too_many_attempts", "too_many_attempts"),
            ("antenna_unavailable", "antenna_unavailable"),
            ("busy", "server_busy"),
        ] {
            let e = AppError::from(SyncError::Refused {
                status: 403,
                code: server.into(),
                message: "the server's sentence".into(),
            });
            assert_eq!(e.code, app);
        }
    }

    #[test]
    fn a_wrong_passphrase_says_to_try_again_without_naming_the_file() {
        let e = AppError::from(StoreError::WrongPassphrase("/data/antenna.maraude".into()));
        assert_eq!(e.code, "wrong_passphrase");
        assert!(!e.message.contains("/data"));
    }

    #[test]
    fn no_open_shift_points_to_the_home_screen_not_the_cli() {
        let e = AppError::from(StoreError::NoOpenShift);
        assert_eq!(e.code, "no_open_shift");
        assert!(!e.message.contains("maraude shift"));
    }

    #[test]
    fn a_missing_record_or_an_ended_shift_has_its_own_code_not_a_cli_hint() {
        for e in [
            StoreError::NoSuchEntry("ab12".into()),
            StoreError::NoSuchCase("ab12".into()),
        ] {
            let e = AppError::from(e);
            assert_eq!(e.code, "not_found");
            assert!(!e.message.contains("`maraude"), "{}", e.message);
        }
        let e = AppError::from(StoreError::Invalid(maraude_core::Invalid::AlreadyEnded));
        assert_eq!(e.code, "shift_ended");
    }

    #[test]
    fn sync_errors_keep_their_sentence_and_get_a_code_the_ui_knows() {
        let unreachable = AppError::from(SyncError::Unreachable("http://10.0.0.2:8470".into()));
        assert_eq!(unreachable.code, "server_unreachable");
        assert!(unreachable.message.contains("check the network"));
        let refused = |status, code: &str| SyncError::Refused {
            status,
            code: code.into(),
            message: "the server's own sentence".into(),
        };
        assert_eq!(AppError::from(refused(403, "bad_code")).code, "bad_code");
        assert_eq!(AppError::from(refused(401, "revoked")).code, "revoked");
        assert_eq!(AppError::from(refused(401, "unauthorised")).code, "revoked");
        assert_eq!(
            AppError::from(refused(409, "device_exists")).code,
            "device_exists"
        );
        let other = AppError::from(refused(409, "from_a_newer_server"));
        assert_eq!(other.code, "refused");
        assert!(other.message.contains("the server's own sentence"));
        let not_enrolled = AppError::from(SyncError::NotEnrolled);
        assert!(!not_enrolled.message.contains("maraude enrol"));
    }

    #[test]
    fn teammate_sync_errors_get_their_codes_and_name_no_cli_command() {
        for (e, code) in [
            (SyncError::NoCertificate, "no_certificate"),
            (
                SyncError::TeammateUnreachable("10.0.0.7:8471".into()),
                "teammate_unreachable",
            ),
            (
                SyncError::NotATeammate {
                    at: "10.0.0.7:8471".into(),
                    why: "unknown issuer".into(),
                },
                "not_a_teammate",
            ),
        ] {
            let e = AppError::from(e);
            assert_eq!(e.code, code);
            assert!(!e.message.contains("`maraude"), "{}", e.message);
        }
    }

    #[test]
    fn a_volunteer_refused_an_erasure_is_not_told_a_cli_command() {
        let e = AppError::from(StoreError::Invalid(maraude_core::Invalid::NotALead {
            who: "Jo".into(),
        }));
        assert_eq!(e.code, "not_a_lead");
        assert!(!e.message.contains("maraude"), "{}", e.message);
    }
}
