//! Flat, anonymous rows: what a store's index keeps per shift, entry and
//! case, and what reports fold. Built only here, from records, so the index
//! and the documents cannot disagree on what counts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::antenna::PlaceKind;
use crate::case::{Case, CaseKind, CaseRequest};
use crate::entry::{Composition, Entry, EntryContent, EntryKind};
use crate::ids::{CaseId, EntryId, ItemId, PlaceId, ShiftId};
use crate::shift::{Filing, Shift, ShiftKind, Stock};

/// One entry, as numbers; or, on a tablet that keeps an old shift as
/// figures only, several entries of one kind, item and size at one place
/// in one tablet's log of that shift, added up (`entries` says how many,
/// `entry` is the first of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TallyRow {
    pub entry: EntryId,
    /// How many entries this row adds up: 1 but in an old shift's figures.
    #[serde(default = "one")]
    pub entries: u32,
    pub shift: ShiftId,
    pub shift_kind: ShiftKind,
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    pub place: Option<PlaceId>,
    /// Only the place's kind, where the antenna keeps no places in old
    /// shifts' figures (`Settings::old_places_by_kind`); `place` is then
    /// `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_kind: Option<PlaceKind>,
    pub kind: EntryKind,
    pub item: Option<ItemId>,
    /// Items handed out (distributions); 0 otherwise.
    pub quantity: u32,
    /// People counted, served, arrived, in the household, or affected.
    pub people: u32,
    pub composition: Composition,
    pub vulnerable: u32,
    /// Incident type, referral service, the first need of an arrival, or
    /// the size given (distributions of items with sizes).
    pub detail: Option<String>,
    pub case: Option<CaseId>,
    pub voided: bool,
}

fn one() -> u32 {
    1
}

fn code<T: Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

impl TallyRow {
    pub fn from_entry(filed: &Filing, e: &Entry) -> Self {
        let mut row = TallyRow {
            entry: e.id,
            entries: 1,
            shift: filed.shift,
            shift_kind: filed.kind,
            date: filed.date,
            at: e.at,
            place: e.place.clone(),
            place_kind: None,
            kind: e.content.kind(),
            item: None,
            quantity: 0,
            people: 0,
            composition: Composition::default(),
            vulnerable: 0,
            detail: None,
            case: e.content.case(),
            voided: e.is_voided(),
        };
        match &e.content {
            EntryContent::Distribution {
                item,
                quantity,
                people,
                composition,
                size,
                ..
            } => {
                row.item = Some(item.clone());
                row.detail = size.clone();
                row.quantity = quantity.get();
                row.people = people.unwrap_or(0);
                row.composition = *composition;
            }
            EntryContent::Headcount {
                people,
                composition,
                vulnerable,
            } => {
                row.people = *people;
                row.composition = *composition;
                row.vulnerable = *vulnerable;
            }
            EntryContent::Arrival {
                group_size,
                composition,
                ..
            } => {
                row.people = *group_size;
                row.composition = *composition;
            }
            EntryContent::ShelterRequest {
                household_size,
                composition,
                ..
            } => {
                row.people = *household_size;
                row.composition = *composition;
            }
            EntryContent::Referral { service, .. } => {
                row.people = 1;
                row.detail = code(service);
            }
            EntryContent::Incident {
                incident_type,
                people_affected,
                ..
            } => {
                row.people = *people_affected;
                row.detail = code(incident_type);
            }
            EntryContent::Note { .. } => {}
        }
        row
    }
}

/// One shift, as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftSummary {
    pub id: ShiftId,
    pub kind: ShiftKind,
    pub date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub lead: String,
    pub stock_loaded: Stock,
    pub stock_returned: Stock,
}

impl From<&Shift> for ShiftSummary {
    fn from(s: &Shift) -> Self {
        Self {
            id: s.id,
            kind: s.kind,
            date: s.date,
            started_at: s.started_at,
            ended_at: s.ended_at,
            lead: s.lead.to_string(),
            stock_loaded: s.stock_loaded.clone(),
            stock_returned: s.stock_returned.clone(),
        }
    }
}

/// One case without the person: what reports and the index may hold, and
/// what stays after the case is erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: CaseId,
    pub kind: CaseKind,
    pub opened_at: DateTime<Utc>,
    pub opened_in_shift: ShiftId,
    pub open: bool,
    pub outcome: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub last_update: DateTime<Utc>,
    /// Household size (shelter) or 1 (referral).
    pub people: u32,
    /// Referral service or "shelter".
    pub detail: String,
    pub urgent: bool,
}

impl From<&Case> for CaseSummary {
    fn from(c: &Case) -> Self {
        let (outcome, closed_at) = match &c.status {
            crate::case::CaseStatus::Open => (None, None),
            crate::case::CaseStatus::Closed { outcome, closed_at } => {
                (Some(outcome.as_str().to_string()), Some(*closed_at))
            }
        };
        let (people, detail, urgent) = match &c.request {
            CaseRequest::Shelter {
                household_size,
                vulnerabilities,
                ..
            } => (
                *household_size,
                "shelter".to_string(),
                !vulnerabilities.is_empty(),
            ),
            CaseRequest::Referral {
                service, urgency, ..
            } => (
                1,
                code(service).unwrap_or_default(),
                *urgency == crate::entry::Urgency::Urgent,
            ),
        };
        Self {
            id: c.id,
            kind: c.kind(),
            opened_at: c.opened_at,
            opened_in_shift: c.opened_in_shift,
            open: c.status.is_open(),
            outcome,
            closed_at,
            last_update: c.updates.iter().map(|u| u.at).max().unwrap_or(c.opened_at),
            people,
            detail,
            urgent,
        }
    }
}
