use chrono::{DateTime, Utc};
use serde::Serialize;

use super::rows::CaseSummary;
use crate::case::CaseKind;
use crate::ids::CaseId;

/// An open case, for the volunteers who follow it up. The alias is shown
/// here (it is how the team finds the person again) and nowhere else.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct FollowUp {
    pub case: CaseId,
    pub short: String,
    pub kind: CaseKind,
    pub alias: String,
    pub opened_at: DateTime<Utc>,
    pub days_open: i64,
    pub last_update: DateTime<Utc>,
    pub detail: String,
    pub urgent: bool,
    pub people: u32,
}

/// Open cases, oldest first.
pub fn follow_ups<'a, I>(cases: I, now: DateTime<Utc>) -> Vec<FollowUp>
where
    I: IntoIterator<Item = (&'a CaseSummary, &'a str)>,
{
    let mut out: Vec<FollowUp> = cases
        .into_iter()
        .filter(|(c, _)| c.open)
        .map(|(c, alias)| FollowUp {
            case: c.id,
            short: c.id.short(),
            kind: c.kind,
            alias: alias.to_string(),
            opened_at: c.opened_at,
            days_open: (now - c.opened_at).num_days(),
            last_update: c.last_update,
            detail: c.detail.clone(),
            urgent: c.urgent,
            people: c.people,
        })
        .collect();
    out.sort_by_key(|f| (f.opened_at, f.case));
    out
}

/// A closed case the tablet still holds (until the antenna's retention
/// erases it): to look back at, or reopen.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ClosedFollowUp {
    pub case: CaseId,
    pub short: String,
    pub kind: CaseKind,
    pub alias: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
    /// Its code (`placed`, `no_place`, …), as the outcome's `outcome`.
    pub outcome: String,
    pub people: u32,
}

/// Closed cases, the most recently closed first.
pub fn closed_follow_ups<'a, I>(cases: I) -> Vec<ClosedFollowUp>
where
    I: IntoIterator<Item = (&'a CaseSummary, &'a str)>,
{
    let mut out: Vec<ClosedFollowUp> = cases
        .into_iter()
        .filter_map(|(c, alias)| {
            Some(ClosedFollowUp {
                case: c.id,
                short: c.id.short(),
                kind: c.kind,
                alias: alias.to_string(),
                opened_at: c.opened_at,
                closed_at: c.closed_at.filter(|_| !c.open)?,
                outcome: c.outcome.clone()?,
                people: c.people,
            })
        })
        .collect();
    out.sort_by_key(|f| (std::cmp::Reverse(f.closed_at), f.case));
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::ShiftId;

    fn summary(day: u32, closed: Option<(u32, &str)>) -> CaseSummary {
        let at = |d: u32| {
            Utc.with_ymd_and_hms(2026, 11, d, 21, 0, 0)
                .single()
                .expect("a time")
        };
        CaseSummary {
            id: CaseId::new(),
            kind: CaseKind::ShelterRequest,
            opened_at: at(day),
            opened_in_shift: ShiftId::new(),
            open: closed.is_none(),
            outcome: closed.map(|(_, o)| o.to_string()),
            closed_at: closed.map(|(d, _)| at(d)),
            last_update: at(day),
            people: 2,
            detail: "shelter".into(),
            urgent: false,
        }
    }

    #[test]
    fn closed_follow_ups_are_the_closed_ones_the_latest_closed_first() {
        let cases = [
            summary(1, Some((3, "placed"))),
            summary(2, None),
            summary(4, Some((9, "no_place"))),
        ];
        let aliases = ["Amina", "Samir", "Karim"];
        let closed = closed_follow_ups(cases.iter().zip(aliases));
        let shown: Vec<(&str, &str)> = closed
            .iter()
            .map(|c| (c.alias.as_str(), c.outcome.as_str()))
            .collect();
        assert_eq!(shown, [("Karim", "no_place"), ("Amina", "placed")]);
        let open = follow_ups(cases.iter().zip(aliases), cases[2].last_update);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].alias, "Samir");
    }
}
