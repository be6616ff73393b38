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
