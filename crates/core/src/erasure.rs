//! Erasing a follow-up case: the person's data goes, the antenna's figures
//! stay.
//!
//! A case document is the only place where personal data lives (alias, age
//! group, languages, phone, notes), so erasing a case is deleting its whole
//! document, history included, on every device and on the server. What
//! stays is the case's line in the antenna document, turned into a
//! tombstone ([`CaseRef`] with `erased_at`): its kind, when it was opened,
//! and how it ended, so that the monthly and yearly figures do not change
//! when a case is erased. The tombstone is what tells every other device,
//! when it syncs, to delete its own copy.
//!
//! A case is erased by a lead or a coordinator (a person asks to be
//! forgotten, a case opened by mistake), or by retention: a case closed for
//! more than the antenna's `retention_days` (default 30).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::antenna::{Antenna, Role};
use crate::document::CaseRef;
use crate::error::Invalid;
use crate::ids::Nickname;
use crate::report::CaseSummary;

/// Why a case was erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErasedBecause {
    /// A lead or coordinator erased it (the person asked, or a mistake).
    Asked,
    /// Closed for longer than the antenna's retention period.
    Retention,
}

/// The outcome a tombstone records for a case erased while still open.
pub const ERASED_WHILE_OPEN: &str = "erased_while_open";

/// Whether `case` has been closed for longer than `retention_days` at `now`.
pub fn retention_due(case: &CaseSummary, retention_days: u32, now: DateTime<Utc>) -> bool {
    match case.closed_at {
        Some(closed) if !case.open => now - closed >= Duration::days(retention_days.into()),
        _ => false,
    }
}

/// Who may erase a case by hand: leads and coordinators of the antenna.
pub fn check_may_erase(antenna: &Antenna, by: &Nickname) -> Result<(), Invalid> {
    match antenna.volunteers.get(by) {
        Some(v) if v.active && matches!(v.role, Role::Lead | Role::Coordinator) => Ok(()),
        _ => Err(Invalid::NotALead {
            who: by.to_string(),
        }),
    }
}

/// The tombstone of a case: its line in the antenna document with the
/// anonymous figures of `case` (if this device still has it) and the
/// erasure. No alias, no phone, no free text, not even where a person was
/// placed.
pub fn tombstone(
    listed: &CaseRef,
    case: Option<&CaseSummary>,
    at: DateTime<Utc>,
    because: ErasedBecause,
    by: Option<Nickname>,
) -> CaseRef {
    if listed.erased_at.is_some() {
        return listed.clone();
    }
    let (outcome, closed_at) = match case {
        Some(c) => (
            Some(
                c.outcome
                    .clone()
                    .unwrap_or_else(|| ERASED_WHILE_OPEN.into()),
            ),
            c.closed_at,
        ),
        None => (listed.outcome.clone(), listed.closed_at),
    };
    CaseRef {
        kind: listed.kind,
        opened_at: listed.opened_at,
        outcome,
        closed_at,
        erased_at: Some(at),
        erased_because: Some(because),
        erased_by: by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::antenna::Volunteer;
    use crate::case::CaseKind;
    use crate::ids::{CaseId, ShiftId};

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("a valid time")
            .and_utc()
    }

    fn summary(closed_at: Option<DateTime<Utc>>) -> CaseSummary {
        CaseSummary {
            id: CaseId::new(),
            kind: CaseKind::ShelterRequest,
            opened_at: at(1, 21),
            opened_in_shift: ShiftId::new(),
            open: closed_at.is_none(),
            outcome: closed_at.map(|_| "placed".to_string()),
            closed_at,
            last_update: closed_at.unwrap_or(at(1, 21)),
            people: 3,
            detail: "shelter".into(),
            urgent: false,
        }
    }

    #[test]
    fn a_case_closed_for_the_retention_period_is_due_an_open_one_never() {
        let closed = summary(Some(at(2, 22)));
        assert!(!retention_due(&closed, 30, at(20, 12)));
        assert!(retention_due(&closed, 30, at(2, 22) + Duration::days(30)));
        assert!(retention_due(&closed, 0, at(2, 22)));
        let open = summary(None);
        assert!(!retention_due(&open, 0, at(30, 12)));
    }

    #[test]
    fn only_active_leads_and_coordinators_may_erase() {
        let mut antenna = Antenna::new("Calais").expect("an antenna");
        let name = |s: &str| s.parse::<Nickname>().expect("a nickname");
        for (who, role, active) in [
            ("Sam", Role::Lead, true),
            ("Jo", Role::Volunteer, true),
            ("Ali", Role::Coordinator, false),
        ] {
            antenna
                .volunteers
                .insert(name(who), Volunteer { role, active });
        }
        assert!(check_may_erase(&antenna, &name("Sam")).is_ok());
        for who in ["Jo", "Ali", "Nobody"] {
            let err = check_may_erase(&antenna, &name(who)).unwrap_err();
            assert!(err.to_string().contains("lead"), "{err}");
        }
    }

    #[test]
    fn a_tombstone_keeps_the_figures_and_nothing_else_and_the_first_erasure_stays() {
        let listed = CaseRef {
            kind: CaseKind::ShelterRequest,
            opened_at: at(1, 21),
            outcome: None,
            closed_at: None,
            erased_at: None,
            erased_because: None,
            erased_by: None,
        };
        let case = summary(Some(at(2, 22)));
        let t = tombstone(
            &listed,
            Some(&case),
            at(3, 10),
            ErasedBecause::Retention,
            None,
        );
        assert_eq!(t.outcome.as_deref(), Some("placed"));
        assert_eq!(t.closed_at, Some(at(2, 22)));
        assert_eq!(t.erased_at, Some(at(3, 10)));
        let again = tombstone(&t, None, at(9, 10), ErasedBecause::Asked, None);
        assert_eq!(again, t);
        let open = tombstone(
            &listed,
            Some(&summary(None)),
            at(3, 10),
            ErasedBecause::Asked,
            None,
        );
        assert_eq!(open.outcome.as_deref(), Some(ERASED_WHILE_OPEN));
        let json = serde_json::to_value(&t).expect("json");
        let keys: Vec<&str> = json
            .as_object()
            .expect("a map")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "closed_at",
                "erased_at",
                "erased_because",
                "kind",
                "opened_at",
                "outcome"
            ]
        );
    }
}
