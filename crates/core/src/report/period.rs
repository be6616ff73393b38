use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::rows::{CaseSummary, ShiftSummary, TallyRow};
use crate::Lang;
use crate::antenna::{Antenna, PlaceKind};
use crate::case::CaseKind;
use crate::document::CaseRef;
use crate::entry::{Composition, EntryKind};
use crate::erasure::ERASED_WHILE_OPEN;
use crate::error::Invalid;
use crate::ids::{ItemId, PlaceId};
use crate::shift::ShiftKind;

/// Totals over a date range, with monthly trends for the activity report.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PeriodReport {
    pub antenna: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub shifts: u32,
    pub shifts_by_kind: BTreeMap<ShiftKind, u32>,
    pub items: Vec<ItemTotal>,
    pub places: Vec<PlaceTotal>,
    pub months: Vec<MonthTotal>,
    /// Every week the period touches (from the first day the device holds
    /// records), Monday first, empty ones included: the charts' time axis.
    pub weeks: Vec<WeekTotal>,
    /// The first day this device holds records for (`None`: none at all).
    /// A period starting earlier is reported from there: tablets keep only
    /// what their role needs, the server keeps the rest.
    pub held_since: Option<NaiveDate>,
    pub people_met: u32,
    pub people_met_composition: Composition,
    pub arrivals_groups: u32,
    pub arrivals_people: u32,
    pub arrivals_composition: Composition,
    pub incidents: BTreeMap<String, u32>,
    pub incident_people_affected: u32,
    pub referrals_by_service: BTreeMap<String, u32>,
    pub cases: CaseTotals,
    /// The last headcount of each place in the period: the census.
    pub census: Vec<CensusLine>,
}

/// Distributed, and taken out of and back to the warehouse by the vans.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ItemTotal {
    pub item: ItemId,
    pub label: String,
    pub distributed: u32,
    pub entries: u32,
    pub loaded: u32,
    pub returned: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct PlaceTotal {
    pub place: Option<PlaceId>,
    /// Set on the line of old shifts' figures kept by place kind only
    /// (`Settings::old_places_by_kind`); `place` is then `None`.
    pub kind: Option<PlaceKind>,
    pub name: String,
    pub people_met: u32,
    pub distributed: u32,
    pub arrivals_people: u32,
    pub incidents: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct MonthTotal {
    /// `2026-11`
    pub month: String,
    pub shifts: u32,
    pub distributed: u32,
    pub people_met: u32,
    pub arrivals_people: u32,
    pub incidents: u32,
    pub shelter_requests: u32,
    pub referrals: u32,
    /// Incidents by type (`eviction`, …).
    pub incidents_by_type: BTreeMap<String, u32>,
}

/// One week (Monday to Sunday) of the period, for the charts over time.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct WeekTotal {
    /// The Monday that starts it (which may be before the period's start).
    pub start: NaiveDate,
    /// ISO week, `2026-W48`.
    pub week: String,
    /// Distributed per item.
    pub items: BTreeMap<ItemId, u32>,
    pub distributed: u32,
    pub people_met: u32,
    pub arrivals_people: u32,
    pub arrivals_composition: Composition,
    pub incidents: u32,
}

impl WeekTotal {
    fn starting(start: NaiveDate) -> Self {
        let iso = start.iso_week();
        Self {
            start,
            week: format!("{:04}-W{:02}", iso.year(), iso.week()),
            items: BTreeMap::new(),
            distributed: 0,
            people_met: 0,
            arrivals_people: 0,
            arrivals_composition: Composition::default(),
            incidents: 0,
        }
    }
}

/// The Monday of `d`'s week.
fn monday(d: NaiveDate) -> NaiveDate {
    d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
}

impl PeriodReport {
    /// Whether `from`..=`to` is a period a report can cover: the end not
    /// before the start. A period longer than what the device holds is
    /// reported from [`PeriodReport::held_since`], which says so.
    pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), Invalid> {
        if to < from {
            return Err(Invalid::EndBeforeStart {
                start: from.to_string(),
                end: to.to_string(),
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct CaseTotals {
    pub shelter_requests_opened: u32,
    pub referrals_opened: u32,
    pub still_open: u32,
    pub outcomes: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CensusLine {
    pub place: PlaceId,
    pub name: String,
    pub date: NaiveDate,
    pub people: u32,
    pub composition: Composition,
    pub vulnerable: u32,
}

/// What a period report needs of one entry: its figures, without the ids
/// a [`TallyRow`] carries. A store reads these straight from its index: a
/// year's report reads 100,000 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodRow {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    /// How many entries the row adds up (see [`TallyRow::entries`]).
    pub entries: u32,
    pub place: Option<PlaceId>,
    pub place_kind: Option<PlaceKind>,
    pub kind: EntryKind,
    pub item: Option<ItemId>,
    pub detail: Option<String>,
    pub quantity: u32,
    pub people: u32,
    pub composition: Composition,
    pub vulnerable: u32,
}

impl From<&TallyRow> for PeriodRow {
    fn from(row: &TallyRow) -> Self {
        Self {
            date: row.date,
            at: row.at,
            entries: row.entries,
            place: row.place.clone(),
            place_kind: row.place_kind,
            kind: row.kind,
            item: row.item.clone(),
            detail: row.detail.clone(),
            quantity: row.quantity,
            people: row.people,
            composition: row.composition,
            vulnerable: row.vulnerable,
        }
    }
}

/// Folds shifts, entry rows and case summaries into a [`PeriodReport`].
/// Rows outside the range, and voided rows, are ignored, so a caller may
/// feed a superset.
#[derive(Debug)]
pub struct PeriodTally {
    from: NaiveDate,
    to: NaiveDate,
    report: PeriodReport,
    items: BTreeMap<ItemId, ItemTotal>,
    places: BTreeMap<(Option<PlaceId>, Option<PlaceKind>), PlaceTotal>,
    months: BTreeMap<(i32, u32), MonthTotal>,
    weeks: BTreeMap<NaiveDate, WeekTotal>,
    census: BTreeMap<PlaceId, (DateTime<Utc>, CensusLine)>,
}

impl PeriodTally {
    pub fn new(antenna: &Antenna, from: NaiveDate, to: NaiveDate) -> Self {
        Self {
            from,
            to,
            report: PeriodReport {
                antenna: antenna.name.clone(),
                from,
                to,
                shifts: 0,
                shifts_by_kind: BTreeMap::new(),
                items: Vec::new(),
                places: Vec::new(),
                months: Vec::new(),
                weeks: Vec::new(),
                held_since: None,
                people_met: 0,
                people_met_composition: Composition::default(),
                arrivals_groups: 0,
                arrivals_people: 0,
                arrivals_composition: Composition::default(),
                incidents: BTreeMap::new(),
                incident_people_affected: 0,
                referrals_by_service: BTreeMap::new(),
                cases: CaseTotals::default(),
                census: Vec::new(),
            },
            items: BTreeMap::new(),
            places: BTreeMap::new(),
            months: BTreeMap::new(),
            weeks: BTreeMap::new(),
            census: BTreeMap::new(),
        }
    }

    fn in_range(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    fn month(&mut self, d: NaiveDate) -> &mut MonthTotal {
        self.months
            .entry((d.year(), d.month()))
            .or_insert_with(|| MonthTotal {
                month: format!("{:04}-{:02}", d.year(), d.month()),
                ..Default::default()
            })
    }

    fn week(&mut self, d: NaiveDate) -> &mut WeekTotal {
        let start = monday(d);
        self.weeks
            .entry(start)
            .or_insert_with(|| WeekTotal::starting(start))
    }

    /// The first day the device holds records for (see
    /// [`PeriodReport::held_since`]).
    pub fn held_since(&mut self, first: Option<NaiveDate>) {
        self.report.held_since = first;
    }

    fn item(&mut self, id: &ItemId) -> &mut ItemTotal {
        // Looked up before cloning the id: most rows find their item.
        if !self.items.contains_key(id) {
            let total = ItemTotal {
                item: id.clone(),
                label: String::new(),
                distributed: 0,
                entries: 0,
                loaded: 0,
                returned: 0,
            };
            self.items.insert(id.clone(), total);
        }
        self.items.get_mut(id).expect("inserted above")
    }

    pub fn add_shift(&mut self, s: &ShiftSummary) {
        if !self.in_range(s.date) {
            return;
        }
        self.report.shifts += 1;
        *self.report.shifts_by_kind.entry(s.kind).or_default() += 1;
        self.month(s.date).shifts += 1;
        for (id, n) in &s.stock_loaded {
            self.item(id).loaded += n;
        }
        for (id, n) in &s.stock_returned {
            self.item(id).returned += n;
        }
    }

    /// One entry row; voided rows and rows outside the range are ignored.
    pub fn add_entry(&mut self, row: &TallyRow) {
        if !row.voided {
            self.add(&PeriodRow::from(row));
        }
    }

    /// One entry that is not voided; rows outside the range are ignored.
    pub fn add(&mut self, g: &PeriodRow) {
        if !self.in_range(g.date) {
            return;
        }
        let key = (g.place.clone(), g.place_kind);
        let place = self.places.entry(key).or_default();
        // Counts are of entries: a row of an old shift's figures adds up
        // several.
        let n = g.entries;
        match g.kind {
            EntryKind::Distribution => place.distributed += g.quantity,
            EntryKind::Headcount => place.people_met += g.people,
            EntryKind::Arrival => place.arrivals_people += g.people,
            EntryKind::Incident => place.incidents += n,
            _ => {}
        }
        let month = self.month(g.date);
        match g.kind {
            EntryKind::Distribution => month.distributed += g.quantity,
            EntryKind::Headcount => month.people_met += g.people,
            EntryKind::Arrival => month.arrivals_people += g.people,
            EntryKind::Incident => {
                month.incidents += n;
                *month
                    .incidents_by_type
                    .entry(g.detail.clone().unwrap_or_default())
                    .or_default() += n;
            }
            EntryKind::ShelterRequest => month.shelter_requests += n,
            EntryKind::Referral => month.referrals += n,
            EntryKind::Note => {}
        }
        let week = self.week(g.date);
        match g.kind {
            EntryKind::Distribution => {
                week.distributed += g.quantity;
                if let Some(id) = &g.item {
                    *week.items.entry(id.clone()).or_default() += g.quantity;
                }
            }
            EntryKind::Headcount => week.people_met += g.people,
            EntryKind::Arrival => {
                week.arrivals_people += g.people;
                week.arrivals_composition.add(&g.composition);
            }
            EntryKind::Incident => week.incidents += n,
            _ => {}
        }
        match g.kind {
            EntryKind::Distribution => {
                if let Some(id) = &g.item {
                    let item = self.item(id);
                    item.distributed += g.quantity;
                    item.entries += n;
                }
            }
            EntryKind::Headcount => {
                self.report.people_met += g.people;
                self.report.people_met_composition.add(&g.composition);
                self.census(g);
            }
            EntryKind::Arrival => {
                let r = &mut self.report;
                r.arrivals_groups += n;
                r.arrivals_people += g.people;
                r.arrivals_composition.add(&g.composition);
            }
            EntryKind::Incident => {
                let r = &mut self.report;
                *r.incidents
                    .entry(g.detail.clone().unwrap_or_default())
                    .or_default() += n;
                r.incident_people_affected += g.people;
            }
            EntryKind::Referral => {
                *self
                    .report
                    .referrals_by_service
                    .entry(g.detail.clone().unwrap_or_default())
                    .or_default() += n;
            }
            EntryKind::ShelterRequest | EntryKind::Note => {}
        }
    }

    /// The census keeps each place's latest headcount in the range.
    fn census(&mut self, row: &PeriodRow) {
        let Some(place) = &row.place else {
            return;
        };
        let newer = self.census.get(place).is_none_or(|(at, _)| *at <= row.at);
        if newer {
            let line = CensusLine {
                place: place.clone(),
                name: String::new(),
                date: row.date,
                people: row.people,
                composition: row.composition,
                vulnerable: row.vulnerable,
            };
            self.census.insert(place.clone(), (row.at, line));
        }
    }

    /// Cases opened in the period, and how they ended.
    pub fn add_case(&mut self, c: &CaseSummary) {
        self.count_case(c.kind, c.opened_at, c.outcome.as_deref());
    }

    /// An erased case counts as it did before its erasure: its tombstone
    /// keeps its kind, opening and outcome. A line not erased is counted
    /// from its case instead, so it is ignored here.
    pub fn add_erased_case(&mut self, c: &CaseRef) {
        if c.erased_at.is_some() {
            let outcome = c.outcome.as_deref().unwrap_or(ERASED_WHILE_OPEN);
            self.count_case(c.kind, c.opened_at, Some(outcome));
        }
    }

    fn count_case(&mut self, kind: CaseKind, opened_at: DateTime<Utc>, outcome: Option<&str>) {
        if !self.in_range(crate::time::paris_date(opened_at)) {
            return;
        }
        let t = &mut self.report.cases;
        match kind {
            CaseKind::ShelterRequest => t.shelter_requests_opened += 1,
            CaseKind::Referral => t.referrals_opened += 1,
        }
        match outcome {
            Some(o) => *t.outcomes.entry(o.to_string()).or_default() += 1,
            None => t.still_open += 1,
        }
    }

    pub fn finish(mut self, antenna: &Antenna, lang: Lang) -> PeriodReport {
        let order = |id: &ItemId| antenna.catalogue.get(id).map_or(u32::MAX, |i| i.order);
        let mut items: Vec<ItemTotal> = self.items.into_values().collect();
        items.sort_by_key(|i| (order(&i.item), i.item.clone()));
        for i in &mut items {
            i.label = antenna.item_label(&i.item, lang);
        }
        self.report.items = items;
        let mut places: Vec<PlaceTotal> = self
            .places
            .into_iter()
            .map(|((p, kind), mut t)| {
                t.name = match (&p, kind) {
                    (Some(p), _) => antenna.place_name(p),
                    (None, Some(kind)) => kind.older_figures_label(lang),
                    (None, None) => "—".to_string(),
                };
                t.place = p;
                t.kind = kind;
                t
            })
            .collect();
        places.sort_by(|a, b| {
            b.people_met
                .cmp(&a.people_met)
                .then(b.distributed.cmp(&a.distributed))
                .then(a.name.cmp(&b.name))
        });
        self.report.places = places;
        self.report.months = self.months.into_values().collect();
        // Every week, so that a chart's gaps are weeks without records;
        // from the first the device holds (the year's empty start says
        // nothing).
        let first = self
            .report
            .held_since
            .map_or(self.from, |h| h.max(self.from));
        // At most the last ten years' weeks: a range from year 1 on an
        // empty device must not make a hundred thousand empty weeks.
        let ten_years_back = monday(self.to) - chrono::Days::new(7 * 522);
        let mut start = monday(first.min(self.to)).max(ten_years_back);
        while start <= self.to {
            self.weeks
                .entry(start)
                .or_insert_with(|| WeekTotal::starting(start));
            start = start + chrono::Days::new(7);
        }
        self.report.weeks = self.weeks.into_values().collect();
        self.report.census = self
            .census
            .into_values()
            .map(|(_, mut l)| {
                l.name = antenna.place_name(&l.place);
                l
            })
            .collect();
        self.report
    }
}

impl PeriodReport {
    pub fn distributed(&self, item: &str) -> u32 {
        self.items
            .iter()
            .filter(|i| i.item.as_str() == item)
            .map(|i| i.distributed)
            .sum()
    }
}
