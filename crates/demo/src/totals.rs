//! The figures a season must report, counted as it is written, apart from
//! the core's report code, so that a test comparing the two means something.

use std::collections::BTreeMap;

use maraude_core::entry::{EntryContent, EntryKind, IncidentType};
use maraude_core::ids::ItemId;
use maraude_core::shift::ShiftKind;

/// What a period report over the whole season must say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub shifts_by_kind: BTreeMap<ShiftKind, u32>,
    /// Every entry logged, voided ones included (what the store's index
    /// holds).
    pub entries: u32,
    pub entries_by_kind: BTreeMap<EntryKind, u32>,
    pub voided: u32,
    /// Entries corrected once (and not voided).
    pub edited: u32,
    /// Quantity handed out per item, voided entries left out, corrections
    /// applied.
    pub distributed: BTreeMap<ItemId, u32>,
    pub loaded: BTreeMap<ItemId, u32>,
    pub returned: BTreeMap<ItemId, u32>,
    /// Sum of the headcounts.
    pub people_met: u32,
    pub arrivals_groups: u32,
    pub arrivals_people: u32,
    pub incidents: BTreeMap<IncidentType, u32>,
    pub incident_people_affected: u32,
    pub shelter_requests: u32,
    pub referrals: u32,
    /// Cases never closed.
    pub cases_still_open: u32,
    /// Closed cases by outcome code (`placed`, `no_place`, `seen`…).
    pub outcomes: BTreeMap<String, u32>,
}

impl Totals {
    pub fn shifts(&self) -> u32 {
        self.shifts_by_kind.values().sum()
    }

    /// Quantity distributed of an item, by its id (`blanket`).
    pub fn distributed(&self, item: &str) -> u32 {
        self.distributed
            .iter()
            .filter(|(id, _)| id.as_str() == item)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Count one entry as it stands at the end of the season.
    pub(crate) fn add_entry(&mut self, content: &EntryContent, voided: bool, edited: bool) {
        self.entries += 1;
        *self.entries_by_kind.entry(content.kind()).or_default() += 1;
        if voided {
            self.voided += 1;
            return;
        }
        if edited {
            self.edited += 1;
        }
        match content {
            EntryContent::Distribution { item, quantity, .. } => {
                *self.distributed.entry(item.clone()).or_default() += quantity.get();
            }
            EntryContent::Headcount { people, .. } => self.people_met += people,
            EntryContent::Arrival { group_size, .. } => {
                self.arrivals_groups += 1;
                self.arrivals_people += group_size;
            }
            EntryContent::ShelterRequest { .. } => self.shelter_requests += 1,
            EntryContent::Referral { .. } => self.referrals += 1,
            EntryContent::Incident {
                incident_type,
                people_affected,
                ..
            } => {
                *self.incidents.entry(*incident_type).or_default() += 1;
                self.incident_people_affected += people_affected;
            }
            EntryContent::Note { .. } => {}
        }
    }
}
