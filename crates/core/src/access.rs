//! Who may receive which documents: the scopes of the field guide.
//!
//! "A device only ever receives its own antenna's data; volunteers see the
//! current shifts and open cases; leads and coordinators see history."
//! The antenna part is structural (the server keeps one store per
//! antenna); this module decides the role part, the same way on the server
//! and on a teammate's tablet.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A device's role in its antenna, given at enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Logs the night; sees the current shifts and open cases.
    Volunteer,
    /// Reviews and corrects; sees the history; may revoke a device.
    Lead,
    /// Runs the antenna: enrols devices, sees everything.
    Coordinator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Volunteer => "volunteer",
            Role::Lead => "lead",
            Role::Coordinator => "coordinator",
        }
    }

    /// Leads and coordinators may enrol and revoke devices (leads only
    /// volunteers': [`check_may_enrol`], [`check_may_revoke`]) and list
    /// them.
    pub fn manages_devices(self) -> bool {
        matches!(self, Role::Lead | Role::Coordinator)
    }

    /// Whether a tablet of this rank may enrol or revoke one of `role`:
    /// a coordinator any, a lead volunteers' only, a volunteer none.
    fn outranks(self, role: Role) -> bool {
        match self {
            Role::Coordinator => true,
            Role::Lead => role == Role::Volunteer,
            Role::Volunteer => false,
        }
    }
}

/// What a tablet does to another, in a refusal's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAct {
    Enrol,
    Revoke,
}

impl std::fmt::Display for DeviceAct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeviceAct::Enrol => "enrol",
            DeviceAct::Revoke => "revoke",
        })
    }
}

/// Whether a tablet of rank `by` may enrol a tablet as `role` (issue the
/// code that does): a lead enrols volunteers' tablets only, a coordinator
/// any.
pub fn check_may_enrol(by: Role, role: Role) -> Result<(), Invalid> {
    if by.outranks(role) {
        Ok(())
    } else {
        Err(Invalid::RankTooLow {
            by,
            act: DeviceAct::Enrol,
            role,
        })
    }
}

/// Whether a tablet of rank `by` may revoke one of rank `target`;
/// `last_coordinator`: the target is the antenna's only active
/// coordinator, whom nobody may revoke (not even itself), or nobody could
/// enrol a lead or a coordinator again.
pub fn check_may_revoke(by: Role, target: Role, last_coordinator: bool) -> Result<(), Invalid> {
    if !by.outranks(target) {
        return Err(Invalid::RankTooLow {
            by,
            act: DeviceAct::Revoke,
            role: target,
        });
    }
    if last_coordinator {
        return Err(Invalid::LastCoordinator);
    }
    Ok(())
}

/// Whether a tablet may revoke itself, as it does when its holder erases
/// it (a tablet handed over, or about to be seized): any may, whatever its
/// rank, since it gives up only its own access; but not the antenna's
/// last active coordinator, for the reason above.
pub fn check_may_withdraw(last_coordinator: bool) -> Result<(), Invalid> {
    if last_coordinator {
        return Err(Invalid::LastCoordinator);
    }
    Ok(())
}

/// Who to ask for an act on a tablet of `role`, in a refusal.
pub(crate) fn who_may_manage(role: Role) -> &'static str {
    match role {
        Role::Volunteer => "a lead or a coordinator",
        Role::Lead | Role::Coordinator => "a coordinator",
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "volunteer" | "bénévole" | "benevole" => Ok(Role::Volunteer),
            "lead" | "responsable" => Ok(Role::Lead),
            "coordinator" | "coordinateur" | "coordinatrice" => Ok(Role::Coordinator),
            _ => Err(format!(
                "unknown role \"{s}\"; use volunteer, lead or coordinator"
            )),
        }
    }
}

/// What the deciding side knows of a document, from its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Antenna,
    Shift {
        date: NaiveDate,
        open: bool,
    },
    Case {
        open: bool,
    },
    /// The antenna's warehouse: its stock, for leads and coordinators.
    Warehouse,
    /// A case erased on this antenna: no one receives it again.
    Erased,
    /// A document the deciding side holds but could not index (malformed,
    /// of another antenna, under another record's id): no one receives it
    /// or writes to it.
    Quarantined,
    /// A document the deciding side does not know yet (a new shift or case
    /// a device uploads) or could not index.
    Unknown,
}

/// How many days back a volunteer still sees a finished shift: tonight's
/// and last night's, for the handover.
pub const VOLUNTEER_DAYS: i64 = 2;

/// How many days a lead's or coordinator's tablet keeps a finished shift
/// in detail (its entries, their notes, the places by name). Older, once
/// the server holds it, only its figures stay (`Store::minimise`): the
/// year's reports still add up, and a seized tablet holds four weeks of
/// detail, not a year's.
pub const DETAIL_DAYS: i64 = 28;

/// How long an old shift whose detail a coordinator brought back from the
/// server stays in detail on the tablet before it is figures only again.
pub const DETAIL_ASKED_DAYS: i64 = 2;

/// The first day whose shifts a tablet of `role` keeps in detail on
/// `today`.
pub fn detail_since(role: Role, today: NaiveDate) -> NaiveDate {
    let days = match role {
        Role::Volunteer => VOLUNTEER_DAYS,
        Role::Lead | Role::Coordinator => DETAIL_DAYS,
    };
    today - chrono::Days::new(days as u64 - 1)
}

/// Whether a tablet of `role` keeps the shift of `date` in detail on
/// `today` (`open`: not ended yet).
pub fn keeps_in_detail(role: Role, date: NaiveDate, open: bool, today: NaiveDate) -> bool {
    open || date >= detail_since(role, today)
}

/// Whether a device of `role` may receive `subject` on `today`.
pub fn may_receive(role: Role, subject: Subject, today: NaiveDate) -> bool {
    match (role, subject) {
        (_, Subject::Erased | Subject::Quarantined) => false,
        (Role::Lead | Role::Coordinator, _) => true,
        (Role::Volunteer, Subject::Antenna) => true,
        (Role::Volunteer, Subject::Shift { date, open }) => {
            open || (today - date).num_days() < VOLUNTEER_DAYS
        }
        (Role::Volunteer, Subject::Case { open }) => open,
        (Role::Volunteer, Subject::Warehouse) => false,
        // Unknown to the server means the device itself is uploading it.
        (Role::Volunteer, Subject::Unknown) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("a valid day")
    }

    #[test]
    fn a_leads_tablet_keeps_four_weeks_of_shifts_in_detail_and_any_shift_still_open() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).expect("a day");
        let days_ago = |n| today - chrono::Days::new(n);
        assert!(keeps_in_detail(Role::Lead, days_ago(27), false, today));
        assert!(!keeps_in_detail(Role::Lead, days_ago(28), false, today));
        assert!(!keeps_in_detail(
            Role::Coordinator,
            days_ago(300),
            false,
            today
        ));
        assert!(keeps_in_detail(Role::Lead, days_ago(300), true, today));
        assert!(!keeps_in_detail(Role::Volunteer, days_ago(2), false, today));
    }

    #[test]
    fn volunteers_see_current_shifts_and_open_cases_leads_see_history() {
        let today = day(23);
        let old = Subject::Shift {
            date: day(10),
            open: false,
        };
        let last_night = Subject::Shift {
            date: day(22),
            open: false,
        };
        let forgotten_open = Subject::Shift {
            date: day(1),
            open: true,
        };
        let closed = Subject::Case { open: false };
        assert!(!may_receive(Role::Volunteer, old, today));
        assert!(may_receive(Role::Volunteer, last_night, today));
        assert!(may_receive(Role::Volunteer, forgotten_open, today));
        assert!(!may_receive(Role::Volunteer, closed, today));
        assert!(may_receive(
            Role::Volunteer,
            Subject::Case { open: true },
            today
        ));
        for role in [Role::Lead, Role::Coordinator] {
            assert!(may_receive(role, old, today));
            assert!(may_receive(role, closed, today));
        }
        for role in [Role::Volunteer, Role::Lead, Role::Coordinator] {
            assert!(!may_receive(role, Subject::Erased, today));
            assert!(!may_receive(role, Subject::Quarantined, today));
        }
    }

    #[test]
    fn a_lead_enrols_and_revokes_volunteers_only_and_the_last_coordinator_stays() {
        use Role::{Coordinator, Lead, Volunteer};
        for role in [Volunteer, Lead, Coordinator] {
            assert!(check_may_enrol(Coordinator, role).is_ok());
            assert!(check_may_revoke(Coordinator, role, false).is_ok());
            assert!(matches!(
                check_may_enrol(Volunteer, role),
                Err(Invalid::RankTooLow { .. })
            ));
        }
        assert!(check_may_enrol(Lead, Volunteer).is_ok());
        assert!(check_may_revoke(Lead, Volunteer, false).is_ok());
        for role in [Lead, Coordinator] {
            let refused = check_may_enrol(Lead, role).unwrap_err();
            assert_eq!(
                refused,
                Invalid::RankTooLow {
                    by: Lead,
                    act: DeviceAct::Enrol,
                    role
                }
            );
            assert!(
                refused.to_string().contains("ask a coordinator"),
                "{refused}"
            );
            assert!(matches!(
                check_may_revoke(Lead, role, false),
                Err(Invalid::RankTooLow { .. })
            ));
        }
        // The rank is said first: a lead is not told who the last
        // coordinator is.
        assert!(matches!(
            check_may_revoke(Lead, Coordinator, true),
            Err(Invalid::RankTooLow { .. })
        ));
        assert_eq!(
            check_may_revoke(Coordinator, Coordinator, true),
            Err(Invalid::LastCoordinator)
        );
        let volunteer = check_may_revoke(Volunteer, Volunteer, false).unwrap_err();
        assert!(
            volunteer
                .to_string()
                .contains("ask a lead or a coordinator"),
            "{volunteer}"
        );
    }

    #[test]
    fn any_tablet_withdraws_itself_but_the_last_coordinator() {
        assert!(check_may_withdraw(false).is_ok());
        assert_eq!(check_may_withdraw(true), Err(Invalid::LastCoordinator));
    }

    #[test]
    fn roles_read_in_english_and_french() {
        assert_eq!("responsable".parse::<Role>(), Ok(Role::Lead));
        assert_eq!("volunteer".parse::<Role>(), Ok(Role::Volunteer));
        let err = "boss".parse::<Role>().unwrap_err();
        assert!(err.contains("volunteer, lead or coordinator"), "{err}");
    }
}
