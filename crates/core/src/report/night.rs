use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::rows::CaseSummary;
use crate::Lang;
use crate::antenna::Antenna;
use crate::entry::{Composition, Entry, EntryContent, IncidentType, Need, Service, Urgency};
use crate::ids::{CaseId, EntryId, ItemId, PlaceId, ShiftId};
use crate::shift::{Shift, ShiftKind};

/// The night's log on one screen.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct NightReport {
    pub shift: ShiftId,
    pub antenna: String,
    pub kind: ShiftKind,
    pub date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub lead: String,
    pub team: Vec<String>,
    pub vehicle: Option<String>,
    pub places_visited: Vec<String>,
    pub people_met: PeopleMet,
    pub arrivals: Arrivals,
    pub distributions: Vec<ItemLine>,
    pub stock: Vec<StockLine>,
    pub shelter_requests: Vec<CaseLine>,
    pub referrals: Vec<CaseLine>,
    pub incidents: Vec<IncidentLine>,
    pub notes: Vec<String>,
    pub handover: String,
    pub entries: u32,
    pub edited: u32,
    pub voided: u32,
}

/// Headcounts at places.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct PeopleMet {
    pub total: u32,
    pub composition: Composition,
    pub vulnerable: u32,
    pub by_place: Vec<PlaceCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PlaceCount {
    pub place: Option<PlaceId>,
    pub name: String,
    pub people: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Arrivals {
    pub groups: u32,
    pub people: u32,
    pub composition: Composition,
    pub languages: BTreeMap<String, u32>,
    pub needs: BTreeMap<Need, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ItemLine {
    pub item: ItemId,
    pub label: String,
    pub quantity: u32,
    pub entries: u32,
    pub people_served: u32,
    /// For the catalogue's "other": what was given, each said once, in
    /// the order first logged.
    pub what: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct StockLine {
    pub item: ItemId,
    pub label: String,
    pub loaded: u32,
    pub distributed: u32,
    pub returned: u32,
    /// loaded − distributed − returned, once the shift has ended: not zero
    /// means a miscount, or something handed out without being logged.
    /// `None` while the shift runs: what is still in the van is not missing.
    pub unaccounted: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CaseLine {
    pub case: CaseId,
    pub short: String,
    pub people: u32,
    /// Service for a referral, "shelter" for a shelter request.
    pub detail: String,
    pub urgent: bool,
    pub open: bool,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct IncidentLine {
    pub entry: EntryId,
    pub at: DateTime<Utc>,
    pub place: Option<String>,
    pub incident_type: IncidentType,
    pub people_affected: u32,
    pub description: String,
    pub witnesses: Vec<String>,
    pub reported_to: Option<String>,
}

impl NightReport {
    /// `entries` are the shift's entries, voided ones included (they are
    /// counted as corrections, not in totals); `cases` the summaries of the
    /// cases they opened, where known.
    pub fn build(
        antenna: &Antenna,
        shift: &Shift,
        entries: &[Entry],
        cases: &[CaseSummary],
        lang: Lang,
    ) -> Self {
        let case_by_id: BTreeMap<CaseId, &CaseSummary> = cases.iter().map(|c| (c.id, c)).collect();
        let mut r = NightReport {
            shift: shift.id,
            antenna: antenna.name.clone(),
            kind: shift.kind,
            date: shift.date,
            started_at: shift.started_at,
            ended_at: shift.ended_at,
            lead: shift.lead.to_string(),
            team: shift.team.iter().map(|n| n.to_string()).collect(),
            vehicle: shift.vehicle.clone(),
            places_visited: Vec::new(),
            people_met: PeopleMet::default(),
            arrivals: Arrivals::default(),
            distributions: Vec::new(),
            stock: Vec::new(),
            shelter_requests: Vec::new(),
            referrals: Vec::new(),
            incidents: Vec::new(),
            notes: Vec::new(),
            handover: shift.handover.clone(),
            entries: 0,
            edited: 0,
            voided: 0,
        };
        let mut items: BTreeMap<ItemId, (u32, u32, u32)> = BTreeMap::new();
        let mut others: Vec<String> = Vec::new();
        let mut by_place: BTreeMap<Option<PlaceId>, u32> = BTreeMap::new();
        let mut visited: Vec<PlaceId> = Vec::new();
        let place_name = |p: &Option<PlaceId>| p.as_ref().map(|p| antenna.place_name(p));

        for e in entries {
            if !e.history.is_empty() && !e.is_voided() {
                r.edited += 1;
            }
            if e.is_voided() {
                r.voided += 1;
                continue;
            }
            r.entries += 1;
            if let Some(p) = &e.place
                && !visited.contains(p)
            {
                visited.push(p.clone());
            }
            match &e.content {
                EntryContent::Distribution {
                    item,
                    quantity,
                    people,
                    what,
                    ..
                } => {
                    if let Some(what) = what
                        && !others.contains(what)
                    {
                        others.push(what.clone());
                    }
                    let line = items.entry(item.clone()).or_default();
                    line.0 += quantity.get();
                    line.1 += 1;
                    line.2 += people.unwrap_or(0);
                }
                EntryContent::Headcount {
                    people,
                    composition,
                    vulnerable,
                } => {
                    r.people_met.total += people;
                    r.people_met.composition.add(composition);
                    r.people_met.vulnerable += vulnerable;
                    *by_place.entry(e.place.clone()).or_default() += people;
                }
                EntryContent::Arrival {
                    group_size,
                    composition,
                    languages,
                    needs,
                    ..
                } => {
                    r.arrivals.groups += 1;
                    r.arrivals.people += group_size;
                    r.arrivals.composition.add(composition);
                    for l in languages {
                        *r.arrivals.languages.entry(l.clone()).or_default() += 1;
                    }
                    for n in needs {
                        *r.arrivals.needs.entry(*n).or_default() += 1;
                    }
                }
                EntryContent::ShelterRequest {
                    case,
                    household_size,
                    ..
                } => {
                    r.shelter_requests.push(case_line(
                        *case,
                        *household_size,
                        "shelter".into(),
                        false,
                        &case_by_id,
                    ));
                }
                EntryContent::Referral {
                    case,
                    service,
                    urgency,
                    ..
                } => {
                    r.referrals.push(case_line(
                        *case,
                        1,
                        service_code(*service),
                        *urgency == Urgency::Urgent,
                        &case_by_id,
                    ));
                }
                EntryContent::Incident {
                    incident_type,
                    people_affected,
                    description,
                    witnesses,
                    reported_to,
                } => {
                    r.incidents.push(IncidentLine {
                        entry: e.id,
                        at: e.at,
                        place: place_name(&e.place),
                        incident_type: *incident_type,
                        people_affected: *people_affected,
                        description: description.clone(),
                        witnesses: witnesses.iter().map(|w| w.to_string()).collect(),
                        reported_to: reported_to.clone(),
                    });
                }
                EntryContent::Note { text } => r.notes.push(text.clone()),
            }
        }
        r.places_visited = visited.iter().map(|p| antenna.place_name(p)).collect();
        r.people_met.by_place = by_place
            .into_iter()
            .map(|(place, people)| PlaceCount {
                name: place_name(&place).unwrap_or_else(|| "?".into()),
                place,
                people,
            })
            .collect();
        r.people_met
            .by_place
            .sort_by(|a, b| b.people.cmp(&a.people).then(a.name.cmp(&b.name)));

        let order = |id: &ItemId| antenna.catalogue.get(id).map_or(u32::MAX, |i| i.order);
        let mut all_items: Vec<ItemId> = items
            .keys()
            .chain(shift.stock_loaded.keys())
            .chain(shift.stock_returned.keys())
            .cloned()
            .collect();
        all_items.sort_by_key(|id| (order(id), id.clone()));
        all_items.dedup();
        for id in &all_items {
            let (quantity, n, people) = items.get(id).copied().unwrap_or_default();
            let label = antenna.item_label(id, lang);
            if quantity > 0 {
                r.distributions.push(ItemLine {
                    item: id.clone(),
                    label: label.clone(),
                    quantity,
                    entries: n,
                    people_served: people,
                    what: if id.is_other() {
                        others.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
            let loaded = shift.stock_loaded.get(id).copied().unwrap_or(0);
            let returned = shift.stock_returned.get(id).copied().unwrap_or(0);
            if loaded > 0 || returned > 0 {
                r.stock.push(StockLine {
                    item: id.clone(),
                    label,
                    loaded,
                    distributed: quantity,
                    returned,
                    unaccounted: shift
                        .ended_at
                        .map(|_| i64::from(loaded) - i64::from(quantity) - i64::from(returned)),
                });
            }
        }
        r
    }

    pub fn distributed(&self, item: &str) -> u32 {
        self.distributions
            .iter()
            .filter(|l| l.item.as_str() == item)
            .map(|l| l.quantity)
            .sum()
    }
}

fn service_code(s: Service) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn case_line(
    case: CaseId,
    people: u32,
    detail: String,
    urgent: bool,
    known: &BTreeMap<CaseId, &CaseSummary>,
) -> CaseLine {
    let summary = known.get(&case);
    CaseLine {
        case,
        short: case.short(),
        people,
        detail,
        urgent: summary.map_or(urgent, |s| s.urgent),
        open: summary.is_none_or(|s| s.open),
        outcome: summary.and_then(|s| s.outcome.clone()),
    }
}
