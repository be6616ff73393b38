//! Writing a season shift by shift, the way the teams would have: the van
//! is loaded, the team goes from place to place, counts people, hands out,
//! meets new arrivals, opens shelter requests and referrals, documents
//! evictions, corrects its mistakes, returns the stock and writes the
//! handover. Cases are followed up and closed by later shifts.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Europe::Paris;
use maraude_core::antenna::{Antenna, PlaceKind, Role};
use maraude_core::case::{
    AgeGroup, CaseAction, CaseKind, CaseRequest, NewCase, Outcome, Person, Vulnerability,
};
use maraude_core::document::{AnyDocument, CaseDoc, EntryLog, ShiftDoc};
use maraude_core::entry::{
    Author, Composition, EntryContent, EntryEdit, IncidentType, Need, NewEntry, Quantity, Service,
    Urgency,
};
use maraude_core::ids::{CaseId, DeviceId, ItemId, Nickname, PlaceId};
use maraude_core::limits::{MAX_PEOPLE, MAX_QUANTITY};
use maraude_core::shift::{NewShift, Shift, ShiftEnd, ShiftKind, Stock};
use maraude_core::{DocumentError, Invalid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::calendar::{self, Slot};
use crate::totals::Totals;
use crate::{Season, SeasonPlan, antenna, words};

/// About one entry in a hundred is struck out, one in a hundred corrected.
const VOID_RATE: f64 = 0.008;
const EDIT_RATE: f64 = 0.008;

/// The largest stock a shift may load of one item (see `NewShift`).
const MAX_STOCK: u32 = MAX_QUANTITY * 10;

const LANGUAGES: [(&str, f64); 9] = [
    ("ar", 20.0),
    ("ps", 15.0),
    ("fa", 12.0),
    ("ti", 14.0),
    ("ku", 12.0),
    ("am", 6.0),
    ("so", 6.0),
    ("en", 10.0),
    ("fr", 5.0),
];

const VANS: [&str; 3] = ["Van blanc", "Trafic", "Jumper"];

/// A place and how many people are there these days.
#[derive(Debug)]
struct PlaceState {
    id: PlaceId,
    kind: PlaceKind,
    usual: f64,
    people: f64,
}

/// A case waiting for a later shift to close it (or never closed).
#[derive(Debug)]
struct PendingCase {
    doc: CaseDoc,
    kind: CaseKind,
    close_at: Option<DateTime<Utc>>,
}

/// An entry the team will log, in time order.
#[derive(Debug)]
struct Planned {
    at: DateTime<Utc>,
    place: Option<PlaceId>,
    content: EntryContent,
    /// The case a shelter request or a referral opens.
    case: Option<NewCase>,
}

/// An entry as it stands after the shift's corrections.
#[derive(Debug)]
struct Logged {
    content: EntryContent,
    voided: bool,
    edited: bool,
}

/// The season being written.
#[derive(Debug)]
pub(crate) struct Chronicle<'a> {
    rng: ChaCha8Rng,
    antenna: &'a Antenna,
    device: DeviceId,
    entries_per_shift: f64,
    places: Vec<PlaceState>,
    leads: Vec<Nickname>,
    volunteers: Vec<Nickname>,
    pending: Vec<PendingCase>,
    documents: Vec<AnyDocument>,
    totals: Totals,
    cases: usize,
}

impl<'a> Chronicle<'a> {
    /// Ready to write a season for `antenna`, which needs at least one
    /// living place and one lead (or coordinator).
    pub(crate) fn new(
        antenna: &'a Antenna,
        device: &DeviceId,
        plan: &SeasonPlan,
    ) -> Result<Self, Invalid> {
        let places: Vec<PlaceState> = antenna
            .places
            .iter()
            .filter(|(_, p)| p.active)
            .map(|(id, p)| {
                let usual = antenna::usual_population(id, &p.kind);
                PlaceState {
                    id: id.clone(),
                    kind: p.kind,
                    usual,
                    people: usual,
                }
            })
            .collect();
        if !places.iter().any(|p| p.kind == PlaceKind::LivingPlace) {
            return Err(Invalid::Empty {
                field: "living places of the antenna (use the demo antenna, or add one)",
            });
        }
        let by_role = |lead: bool| -> Vec<Nickname> {
            antenna
                .volunteers
                .iter()
                .filter(|(_, v)| v.active && (v.role != Role::Volunteer) == lead)
                .map(|(n, _)| n.clone())
                .collect()
        };
        let leads = by_role(true);
        if leads.is_empty() {
            return Err(Invalid::Empty {
                field: "team leads of the antenna (use the demo antenna, or add one)",
            });
        }
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(plan.seed),
            antenna,
            device: *device,
            entries_per_shift: plan.entries_per_shift as f64,
            places,
            leads,
            volunteers: by_role(false),
            pending: Vec::new(),
            documents: Vec::with_capacity(plan.shifts + plan.shifts / 2),
            totals: Totals::default(),
            cases: 0,
        })
    }

    /// Write `plan.shifts` shifts, day after day from `plan.start`.
    pub(crate) fn write(mut self, plan: &SeasonPlan) -> Result<Season, DocumentError> {
        let mut date = plan.start;
        let mut last_day = plan.start;
        let mut shifts = 0;
        'days: loop {
            for slot in calendar::day(date) {
                if shifts >= plan.shifts {
                    break 'days;
                }
                self.shift(slot)?;
                shifts += 1;
                last_day = date;
            }
            self.drift(calendar::winter(date));
            date += Duration::days(1);
        }
        for case in std::mem::take(&mut self.pending) {
            self.totals.cases_still_open += 1;
            self.documents.push(AnyDocument::Case(case.doc));
        }
        Ok(Season {
            documents: self.documents,
            shifts,
            entries: self.totals.entries as usize,
            cases: self.cases,
            first_day: plan.start,
            last_day,
            totals: self.totals,
        })
    }

    /// People move between places, and more sleep out in winter.
    fn drift(&mut self, winter: f64) {
        for p in &mut self.places {
            let target = p.usual * winter;
            let wander = self.rng.random_range(-0.06..0.06);
            p.people = (p.people + (target - p.people) * 0.15 + p.people * wander).max(5.0);
        }
    }

    fn shift(&mut self, slot: Slot) -> Result<(), DocumentError> {
        let winter = calendar::winter(slot.date);
        let start = slot.start + Duration::minutes(self.rng.random_range(-10..=15));
        let end = slot.end + Duration::minutes(self.rng.random_range(-20..=30));
        let (lead, team) = self.team(slot.kind);
        let stops = self.stops(slot.kind);
        let planned = self.plan(slot.kind, start, end, &stops, &team, winter);
        let stock_loaded = self.stock_for(&planned);
        let vehicle = match slot.kind {
            ShiftKind::DayCentre => None,
            ShiftKind::Accompaniment => Some("Voiture de l'antenne".to_string()),
            _ => Some(one(&mut self.rng, &VANS).to_string()),
        };
        let shift = NewShift {
            kind: slot.kind,
            started_at: Some(start),
            lead: lead.clone(),
            team: team.iter().cloned().collect(),
            vehicle,
            stock_loaded,
        }
        .into_shift(self.antenna, start)?;
        let mut doc = ShiftDoc::create(&shift, &self.device)?;
        self.follow_up(&shift)?;

        // The antenna's one tablet started the shift: it logs in the shift
        // document itself.
        let mut logged = Vec::with_capacity(planned.len());
        for p in planned {
            logged.push(self.log(&mut doc, &shift, &team, p)?);
        }

        let mut distributed = Stock::new();
        for l in logged.iter().filter(|l| !l.voided) {
            if let EntryContent::Distribution { item, quantity, .. } = &l.content {
                *distributed.entry(item.clone()).or_default() += quantity.get();
            }
        }
        let stock_returned: Stock = shift
            .stock_loaded
            .iter()
            .map(|(item, n)| {
                let out = distributed.get(item).copied().unwrap_or(0);
                (item.clone(), n.saturating_sub(out))
            })
            .collect();
        let handover = self.handover(slot.kind);
        let ended = doc.end(
            ShiftEnd {
                ended_at: Some(end),
                stock_returned,
                handover,
            },
            self.antenna,
            end + Duration::minutes(5),
        )?;

        *self.totals.shifts_by_kind.entry(slot.kind).or_default() += 1;
        for (item, n) in &ended.stock_loaded {
            *self.totals.loaded.entry(item.clone()).or_default() += n;
        }
        for (item, n) in &ended.stock_returned {
            *self.totals.returned.entry(item.clone()).or_default() += n;
        }
        for l in &logged {
            self.totals.add_entry(&l.content, l.voided, l.edited);
        }
        self.documents.push(AnyDocument::Shift(doc));
        Ok(())
    }

    /// A lead and the volunteers going out with them.
    fn team(&mut self, kind: ShiftKind) -> (Nickname, Vec<Nickname>) {
        let lead = one(&mut self.rng, &self.leads).clone();
        let n = match kind {
            ShiftKind::NightMaraude => self.rng.random_range(2..=4),
            ShiftKind::DayMaraude => self.rng.random_range(2..=3),
            ShiftKind::DayCentre => self.rng.random_range(3..=5),
            ShiftKind::Accompaniment => self.rng.random_range(0..=1),
        };
        let mut pool = self.volunteers.clone();
        let mut team = vec![lead.clone()];
        for _ in 0..n.min(pool.len()) {
            let i = self.rng.random_range(0..pool.len());
            team.push(pool.swap_remove(i));
        }
        (lead, team)
    }

    /// The places visited, in order, as indices into `self.places`.
    fn stops(&mut self, kind: ShiftKind) -> Vec<usize> {
        let fits = |k: &PlaceKind| match kind {
            ShiftKind::NightMaraude => !matches!(k, PlaceKind::DayCentre | PlaceKind::Other),
            ShiftKind::DayMaraude => matches!(k, PlaceKind::LivingPlace | PlaceKind::Beach),
            ShiftKind::DayCentre => matches!(k, PlaceKind::DayCentre),
            ShiftKind::Accompaniment => false,
        };
        let mut candidates: Vec<(usize, f64)> = self
            .places
            .iter()
            .enumerate()
            .filter(|(_, p)| fits(&p.kind))
            .map(|(i, p)| (i, p.people))
            .collect();
        let wanted = match kind {
            ShiftKind::NightMaraude => self.rng.random_range(3..=5),
            ShiftKind::DayMaraude => self.rng.random_range(2..=4),
            ShiftKind::DayCentre => 1,
            ShiftKind::Accompaniment => 0,
        };
        let mut stops = Vec::new();
        while stops.len() < wanted && !candidates.is_empty() {
            let Some(pos) = weighted_index(&mut self.rng, &candidates) else {
                break;
            };
            stops.push(candidates.swap_remove(pos).0);
        }
        stops
    }

    /// How many entries this shift logs: ~`entries_per_shift` on average
    /// over a year; night maraudes log most, accompaniments a handful.
    fn budget(&mut self, kind: ShiftKind, winter: f64) -> usize {
        let factor = match kind {
            ShiftKind::NightMaraude => 1.45,
            ShiftKind::DayMaraude => 1.0,
            ShiftKind::DayCentre => 0.75,
            ShiftKind::Accompaniment => 0.05,
        };
        let spread = self.rng.random_range(0.7..1.3);
        (self.entries_per_shift * factor * winter * spread).round() as usize
    }

    /// Everything the team will log, in time order.
    fn plan(
        &mut self,
        kind: ShiftKind,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        stops: &[usize],
        team: &[Nickname],
        winter: f64,
    ) -> Vec<Planned> {
        let budget = self.budget(kind, winter).max(stops.len() + 1);
        let legs = stops.len().max(1) as i64;
        let span = ((end - start).num_minutes() - 15).max(legs * 10);
        let leg = span / legs;
        let leg_start = |i: usize| start + Duration::minutes(5 + i as i64 * leg);
        let mut out = Vec::with_capacity(budget);

        for (i, &stop) in stops.iter().enumerate() {
            let content = self.headcount(stop);
            out.push(Planned {
                at: leg_start(i) + Duration::minutes(self.rng.random_range(1..=4)),
                place: Some(self.places[stop].id.clone()),
                content,
                case: None,
            });
        }
        // The rest happens at some stop, after the headcount.
        let somewhere = |rng: &mut ChaCha8Rng| -> (DateTime<Utc>, Option<usize>) {
            let i = rng.random_range(0..legs as usize);
            let at = leg_start(i) + Duration::minutes(rng.random_range(5..leg.max(6)));
            (at, stops.get(i).copied())
        };

        let (shelters, referrals) = self.case_counts(kind);
        for _ in 0..shelters {
            let (at, stop) = somewhere(&mut self.rng);
            let (content, case) = self.shelter_request();
            out.push(self.planned(at, stop, content, Some(case)));
        }
        for _ in 0..referrals {
            let (at, stop) = somewhere(&mut self.rng);
            let (content, case) = self.referral(kind, team);
            out.push(self.planned(at, stop, content, Some(case)));
        }
        for incident_type in self.incidents(kind, stops) {
            let (at, stop) = somewhere(&mut self.rng);
            let content = self.incident(incident_type, at, stop, team);
            out.push(self.planned(at, stop, content, None));
        }
        let arrivals = match kind {
            ShiftKind::NightMaraude => self.rng.random_range(0..=4),
            ShiftKind::DayMaraude => self.rng.random_range(0..=2),
            ShiftKind::DayCentre => self.rng.random_range(0..=1),
            ShiftKind::Accompaniment => 0,
        };
        for _ in 0..arrivals {
            let (at, stop) = somewhere(&mut self.rng);
            let content = self.arrival(stop);
            out.push(self.planned(at, stop, content, None));
        }
        for _ in 0..self.rng.random_range(0..=2) {
            let (at, stop) = somewhere(&mut self.rng);
            let text = one(&mut self.rng, words::NOTES).to_string();
            out.push(self.planned(at, stop, EntryContent::Note { text }, None));
        }
        let items = self.item_weights(kind, winter);
        while out.len() < budget {
            let (at, stop) = somewhere(&mut self.rng);
            let content = match self.distribution(&items) {
                Some(c) => c,
                None => EntryContent::Note {
                    text: one(&mut self.rng, words::NOTES).to_string(),
                },
            };
            out.push(self.planned(at, stop, content, None));
        }
        out.sort_by_key(|p| p.at);
        out
    }

    fn planned(
        &self,
        at: DateTime<Utc>,
        stop: Option<usize>,
        content: EntryContent,
        case: Option<NewCase>,
    ) -> Planned {
        Planned {
            at,
            place: stop.map(|i| self.places[i].id.clone()),
            content,
            case,
        }
    }

    /// The van is loaded with what will be handed out and a margin.
    fn stock_for(&mut self, planned: &[Planned]) -> Stock {
        let mut needed = Stock::new();
        for p in planned {
            if let EntryContent::Distribution { item, quantity, .. } = &p.content {
                *needed.entry(item.clone()).or_default() += quantity.get();
            }
        }
        needed
            .into_iter()
            .map(|(item, n)| {
                let margin = self.rng.random_range(1.1..1.4);
                let loaded = ((f64::from(n) * margin / 5.0).ceil() as u32) * 5;
                (item, loaded.clamp(5, MAX_STOCK))
            })
            .collect()
    }

    /// Log one planned entry (opening its case first), then perhaps strike
    /// it out or correct it, as a tired volunteer sometimes must.
    fn log(
        &mut self,
        doc: &mut ShiftDoc,
        shift: &Shift,
        team: &[Nickname],
        p: Planned,
    ) -> Result<Logged, DocumentError> {
        let author = Author {
            by: one(&mut self.rng, team).clone(),
            device: self.device,
            now: p.at + Duration::minutes(self.rng.random_range(0..=4)),
        };
        let mut content = p.content;
        if let Some(new_case) = p.case {
            let case = new_case.into_case(self.antenna.id, shift.id, &author)?;
            if let EntryContent::ShelterRequest { case: id, .. }
            | EntryContent::Referral { case: id, .. } = &mut content
            {
                *id = case.id;
            }
            let close_at = self.close_at(case.kind(), p.at);
            self.pending.push(PendingCase {
                doc: CaseDoc::create(&case, &self.device)?,
                kind: case.kind(),
                close_at,
            });
            self.cases += 1;
        }
        let entry = NewEntry {
            at: Some(p.at),
            place: p.place,
            content,
        }
        .into_entry(self.antenna, &author)?;
        doc.log(&entry, shift)?;

        let correctable = matches!(
            entry.content,
            EntryContent::Distribution { .. }
                | EntryContent::Headcount { .. }
                | EntryContent::Note { .. }
        );
        let roll: f64 = self.rng.random();
        let later = Author {
            now: author.now + Duration::minutes(self.rng.random_range(2..=40)),
            ..author
        };
        if correctable && roll < VOID_RATE {
            let reason = one(&mut self.rng, words::VOID_REASONS);
            doc.void(&entry.id, reason, &later)?;
            return Ok(Logged {
                content: entry.content,
                voided: true,
                edited: false,
            });
        }
        if roll < VOID_RATE + EDIT_RATE
            && let Some(corrected) = self.correction(&entry.content)
        {
            let edit = EntryEdit {
                at: entry.at,
                place: entry.place.clone(),
                content: corrected.clone(),
            };
            doc.edit(&entry.id, edit, shift, self.antenna, &later)?;
            return Ok(Logged {
                content: corrected,
                voided: false,
                edited: true,
            });
        }
        Ok(Logged {
            content: entry.content,
            voided: false,
            edited: false,
        })
    }

    /// A typo fixed: 150 teas that were 15, 4 blankets that were 2, a
    /// group missed in a count. A distribution is only ever corrected
    /// down: the van was loaded for what was planned, and no van hands out
    /// more than it carries.
    fn correction(&mut self, content: &EntryContent) -> Option<EntryContent> {
        match content {
            EntryContent::Distribution {
                item,
                size,
                quantity,
                people,
                composition,
                what,
            } => {
                let q = quantity.get();
                let fixed = if q >= 20 {
                    q / 10
                } else {
                    q.saturating_sub(self.rng.random_range(1..=3)).max(1)
                };
                if fixed == q {
                    // One blanket is one blanket: nothing to fix.
                    return None;
                }
                Some(EntryContent::Distribution {
                    what: what.clone(),
                    item: item.clone(),
                    size: size.clone(),
                    quantity: Quantity::new(i64::from(fixed.min(MAX_QUANTITY))).ok()?,
                    people: *people,
                    composition: *composition,
                })
            }
            EntryContent::Headcount {
                people,
                composition,
                vulnerable,
            } => Some(EntryContent::Headcount {
                people: (people + self.rng.random_range(5..=30)).min(MAX_PEOPLE),
                composition: *composition,
                vulnerable: *vulnerable,
            }),
            _ => None,
        }
    }

    /// Close the cases whose follow-up is due by the time this shift leaves.
    fn follow_up(&mut self, shift: &Shift) -> Result<(), DocumentError> {
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|c| c.close_at.is_some_and(|t| t <= shift.started_at));
        self.pending = waiting;
        for mut case in due {
            let mut author = Author {
                by: shift.lead.clone(),
                device: self.device,
                now: shift.started_at + Duration::minutes(self.rng.random_range(10..=40)),
            };
            if self.rng.random_bool(0.3) {
                let note = one(&mut self.rng, words::CASE_NOTES).to_string();
                case.doc
                    .act(CaseAction::Note { note }, Some(shift.id), &author)?;
                author.now += Duration::minutes(1);
            }
            let outcome = self.outcome(case.kind);
            *self
                .totals
                .outcomes
                .entry(outcome.as_str().to_string())
                .or_default() += 1;
            case.doc
                .act(CaseAction::Closed { outcome }, Some(shift.id), &author)?;
            self.documents.push(AnyDocument::Case(case.doc));
        }
        Ok(())
    }

    /// When a later shift closes the case; a few are never closed.
    fn close_at(&mut self, kind: CaseKind, opened: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let hours = match kind {
            CaseKind::ShelterRequest if self.rng.random_bool(0.9) => self.rng.random_range(3..=72),
            CaseKind::Referral if self.rng.random_bool(0.9) => self.rng.random_range(24..=14 * 24),
            _ => return None,
        };
        Some(opened + Duration::hours(hours))
    }

    fn outcome(&mut self, kind: CaseKind) -> Outcome {
        match kind {
            CaseKind::ShelterRequest => match self.rng.random_range(0..100) {
                0..35 => Outcome::Placed {
                    place: one(&mut self.rng, words::SHELTERS).to_string(),
                },
                35..70 => Outcome::NoPlace,
                70..80 => Outcome::Refused,
                _ => Outcome::LostContact,
            },
            CaseKind::Referral => match self.rng.random_range(0..100) {
                0..65 => Outcome::Seen,
                65..75 => Outcome::NotSeen,
                75..80 => Outcome::Refused,
                _ => Outcome::LostContact,
            },
        }
    }

    fn case_counts(&mut self, kind: ShiftKind) -> (usize, usize) {
        let mut draw = |weights: &[f64]| -> usize {
            let choices: Vec<(usize, f64)> = weights.iter().copied().enumerate().collect();
            weighted_index(&mut self.rng, &choices).unwrap_or(0)
        };
        match kind {
            ShiftKind::NightMaraude => (draw(&[55.0, 33.0, 10.0, 2.0]), draw(&[85.0, 15.0])),
            ShiftKind::DayMaraude => (draw(&[90.0, 10.0]), draw(&[75.0, 25.0])),
            ShiftKind::DayCentre => (draw(&[85.0, 15.0]), draw(&[45.0, 40.0, 15.0])),
            ShiftKind::Accompaniment => (0, 1 + draw(&[50.0, 35.0, 15.0])),
        }
    }

    /// The incidents this shift documents: evictions mostly, seen by the
    /// day teams; destruction of belongings; some violence at night.
    fn incidents(&mut self, kind: ShiftKind, stops: &[usize]) -> Vec<IncidentType> {
        let at_beach = stops
            .iter()
            .any(|&i| self.places[i].kind == PlaceKind::Beach);
        let chances: &[(IncidentType, f64)] = match kind {
            ShiftKind::NightMaraude => &[
                (IncidentType::Eviction, 0.04),
                (IncidentType::DestructionOfBelongings, 0.01),
                (IncidentType::Violence, 0.03),
                (IncidentType::RefusedTransport, 0.01),
                (
                    IncidentType::SeaInterception,
                    if at_beach { 0.1 } else { 0.0 },
                ),
            ],
            ShiftKind::DayMaraude => &[
                (IncidentType::Eviction, 0.45),
                (IncidentType::DestructionOfBelongings, 0.1),
                (IncidentType::Violence, 0.02),
            ],
            ShiftKind::DayCentre => &[
                (IncidentType::Eviction, 0.05),
                (IncidentType::Violence, 0.02),
                (IncidentType::RefusedTransport, 0.02),
            ],
            ShiftKind::Accompaniment => &[(IncidentType::RefusedTransport, 0.03)],
        };
        chances
            .iter()
            .filter(|(_, p)| self.rng.random_bool(*p))
            .map(|(t, _)| *t)
            .collect()
    }

    fn incident(
        &mut self,
        incident_type: IncidentType,
        at: DateTime<Utc>,
        stop: Option<usize>,
        team: &[Nickname],
    ) -> EntryContent {
        let there = stop.map_or(60.0, |i| self.places[i].people);
        let people_affected = match incident_type {
            IncidentType::Eviction => (there * self.rng.random_range(0.3..0.9)).round() as u32,
            IncidentType::DestructionOfBelongings => self.rng.random_range(3..=60),
            IncidentType::Violence => self.rng.random_range(1..=4),
            IncidentType::RefusedTransport => self.rng.random_range(1..=8),
            IncidentType::SeaInterception => self.rng.random_range(10..=60),
            IncidentType::Other => self.rng.random_range(1..=10),
        }
        .max(1);
        if incident_type == IncidentType::Eviction
            && let Some(i) = stop
        {
            // People scatter; some come back over the next days.
            self.places[i].people *= self.rng.random_range(0.45..0.75);
        }
        // Evictions happen in the morning; the team reports what it saw.
        let when = if incident_type == IncidentType::Eviction {
            (self.rng.random_range(6..=10), self.rng.random_range(0..60))
        } else {
            let local = at.with_timezone(&Paris);
            (local.hour(), local.minute())
        };
        let mut witnesses = BTreeSet::new();
        for _ in 0..self.rng.random_range(1..=2) {
            witnesses.insert(one(&mut self.rng, team).clone());
        }
        let reported_to = match incident_type {
            IncidentType::Violence => self.rng.random_bool(0.8),
            _ => self.rng.random_bool(0.4),
        }
        .then(|| {
            one(
                &mut self.rng,
                &[
                    "Défenseur des droits",
                    "Observateurs des droits",
                    "Avocate de l'association",
                    "Plainte au commissariat",
                ],
            )
            .to_string()
        });
        EntryContent::Incident {
            incident_type,
            people_affected,
            description: words::incident(incident_type, when.0, when.1, people_affected),
            witnesses,
            reported_to,
        }
    }

    /// People at a place, with a rough breakdown most of the time.
    fn headcount(&mut self, stop: usize) -> EntryContent {
        let there = self.places[stop].people;
        let people = ((there * self.rng.random_range(0.55..1.0)).round() as u32).clamp(20, 400);
        if self.rng.random_bool(0.3) {
            return EntryContent::Headcount {
                people,
                composition: Composition::default(),
                vulnerable: 0,
            };
        }
        let share = |rng: &mut ChaCha8Rng, lo: f64, hi: f64| {
            (f64::from(people) * rng.random_range(lo..hi)).round() as u32
        };
        let women = share(&mut self.rng, 0.02, 0.09);
        let children = share(&mut self.rng, 0.0, 0.05);
        let minors_alone = share(&mut self.rng, 0.04, 0.15);
        let men = people.saturating_sub(women + children + minors_alone);
        let composition = Composition {
            men,
            women,
            children,
            minors_alone,
        };
        EntryContent::Headcount {
            people,
            vulnerable: (women / 2 + children + minors_alone).min(people),
            composition,
        }
    }

    /// A group just arrived: mostly young men alone or in twos and threes,
    /// some families, some minors alone.
    fn arrival(&mut self, stop: Option<usize>) -> EntryContent {
        let sizes: Vec<(u32, f64)> = [
            30.0, 20.0, 14.0, 10.0, 7.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0, 1.0,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, w)| (i as u32 + 1, w))
        .collect();
        let group_size = weighted(&mut self.rng, &sizes).unwrap_or(1);
        let composition = if group_size >= 3 && self.rng.random_bool(0.2) {
            Composition {
                men: 1,
                women: 1,
                children: group_size - 2,
                minors_alone: 0,
            }
        } else {
            let mut c = Composition::default();
            for _ in 0..group_size {
                match self.rng.random_range(0..100) {
                    0..20 => c.minors_alone += 1,
                    20..25 => c.women += 1,
                    _ => c.men += 1,
                }
            }
            c
        };
        if let Some(i) = stop {
            self.places[i].people += f64::from(group_size);
        }
        let mut needs = BTreeSet::new();
        for (need, p) in [
            (Need::Food, 0.6),
            (Need::Information, 0.7),
            (Need::Shelter, 0.35),
            (Need::Clothes, 0.4),
            (Need::Medical, 0.15),
            (Need::Legal, 0.1),
        ] {
            if self.rng.random_bool(p) {
                needs.insert(need);
            }
        }
        let information_given = if self.rng.random_bool(0.8) {
            one(&mut self.rng, words::INFORMATION).to_string()
        } else {
            String::new()
        };
        EntryContent::Arrival {
            group_size,
            composition,
            languages: self.languages(),
            needs,
            information_given,
        }
    }

    fn languages(&mut self) -> BTreeSet<String> {
        let n = if self.rng.random_bool(0.3) { 2 } else { 1 };
        (0..n)
            .filter_map(|_| weighted(&mut self.rng, &LANGUAGES))
            .map(str::to_string)
            .collect()
    }

    fn person(&mut self, age_group: AgeGroup) -> Person {
        let initial = char::from(b'A' + self.rng.random_range(0..26u8));
        let phone = self.rng.random_bool(0.3).then(|| {
            // 06 39 98 xx xx is reserved for fiction in France.
            format!(
                "06 39 98 {:02} {:02}",
                self.rng.random_range(0..100),
                self.rng.random_range(0..100)
            )
        });
        Person {
            alias: format!("{} {initial}.", one(&mut self.rng, words::ALIASES)),
            age_group: Some(age_group),
            languages: self.languages(),
            phone,
        }
    }

    fn shelter_request(&mut self) -> (EntryContent, NewCase) {
        let mut vulnerabilities = BTreeSet::new();
        let (household_size, composition, age_group) = if self.rng.random_bool(0.45) {
            let (v, c, age) = match self.rng.random_range(0..100) {
                0..40 => (
                    Vulnerability::MinorAlone,
                    Composition {
                        minors_alone: 1,
                        ..Default::default()
                    },
                    AgeGroup::Minor,
                ),
                40..75 => (
                    Vulnerability::WomanAlone,
                    Composition {
                        women: 1,
                        ..Default::default()
                    },
                    AgeGroup::Adult,
                ),
                75..90 => (
                    Vulnerability::Illness,
                    Composition {
                        men: 1,
                        ..Default::default()
                    },
                    AgeGroup::Adult,
                ),
                _ => (
                    Vulnerability::Disability,
                    Composition {
                        men: 1,
                        ..Default::default()
                    },
                    AgeGroup::YoungAdult,
                ),
            };
            vulnerabilities.insert(v);
            (1, c, age)
        } else {
            let size = self.rng.random_range(2..=6);
            let men = u32::from(self.rng.random_bool(0.8));
            let children = size - 1 - men;
            if children > 0 && self.rng.random_bool(0.5) {
                vulnerabilities.insert(Vulnerability::Baby);
            }
            if self.rng.random_bool(0.2) {
                vulnerabilities.insert(Vulnerability::Pregnancy);
            }
            if self.rng.random_bool(0.1) {
                vulnerabilities.insert(Vulnerability::Illness);
            }
            let c = Composition {
                men,
                women: 1,
                children,
                minors_alone: 0,
            };
            (size, c, AgeGroup::Adult)
        };
        let called_115 = self.rng.random_bool(0.85);
        let answer_115 = called_115.then(|| one(&mut self.rng, words::ANSWERS_115).to_string());
        let case = NewCase {
            person: self.person(age_group),
            request: CaseRequest::Shelter {
                household_size,
                composition,
                vulnerabilities,
                called_115,
                answer_115,
            },
        };
        // The shift's anonymous view, as the store derives it.
        let entry = case.request.anonymous_entry(CaseId::new());
        (entry, case)
    }

    fn referral(&mut self, kind: ShiftKind, team: &[Nickname]) -> (EntryContent, NewCase) {
        use Service::*;
        let services: &[(Service, f64)] = match kind {
            ShiftKind::NightMaraude => &[
                (HospitalEmergency, 3.0),
                (PassClinic, 3.0),
                (ChildProtection, 3.0),
                (DayCentre, 2.0),
            ],
            ShiftKind::DayMaraude => &[
                (PassClinic, 3.0),
                (LegalAid, 2.0),
                (ChildProtection, 2.0),
                (DayCentre, 3.0),
                (AsylumProcedure, 1.0),
            ],
            ShiftKind::DayCentre => &[
                (LegalAid, 4.0),
                (AsylumProcedure, 4.0),
                (PassClinic, 3.0),
                (OtherAssociation, 2.0),
                (ChildProtection, 1.0),
            ],
            ShiftKind::Accompaniment => &[
                (PassClinic, 4.0),
                (HospitalEmergency, 2.0),
                (LegalAid, 2.0),
                (ChildProtection, 2.0),
            ],
        };
        let service = weighted(&mut self.rng, services).unwrap_or(PassClinic);
        let urgency = if service == HospitalEmergency {
            Urgency::Urgent
        } else {
            match self.rng.random_range(0..100) {
                0..50 => Urgency::Routine,
                50..85 => Urgency::Soon,
                _ => Urgency::Urgent,
            }
        };
        let accompanied = kind == ShiftKind::Accompaniment || self.rng.random_bool(0.1);
        let age_group = match service {
            ChildProtection => AgeGroup::Minor,
            _ if self.rng.random_bool(0.5) => AgeGroup::YoungAdult,
            _ => AgeGroup::Adult,
        };
        let case = NewCase {
            person: self.person(age_group),
            request: CaseRequest::Referral {
                service,
                urgency,
                reason: words::referral_reason(service).to_string(),
                accompanied_by: accompanied.then(|| one(&mut self.rng, team).clone()),
            },
        };
        let entry = case.request.anonymous_entry(CaseId::new());
        (entry, case)
    }

    /// What gets handed out on this kind of shift, and how often: tea and
    /// meals at night, tents and firewood on day rounds, clothes and phone
    /// charges at the day centre; blankets and sleeping bags in winter.
    fn item_weights(&self, kind: ShiftKind, winter: f64) -> Vec<(ItemId, f64)> {
        let cold = winter * winter;
        let table: &[(&str, f64)] = match kind {
            ShiftKind::NightMaraude => &[
                ("tea_coffee", 3.5),
                ("hot_meal", 2.5),
                ("water", 4.0 / cold),
                ("blanket", 10.0 * cold),
                ("sleeping_bag", 7.0 * cold),
                ("hygiene_kit_men", 6.0),
                ("hygiene_kit_women", 1.5),
                ("menstrual_products", 1.0),
                ("baby_kit", 0.3),
                ("socks", 8.0),
                ("hat_gloves", 5.0 * cold),
                ("power_bank", 6.0),
                ("jacket", 3.0 * cold),
                ("shoes", 3.0),
                ("underwear", 2.0),
                ("trousers", 1.5),
                ("first_aid", 2.0),
                ("tent", 1.0),
                ("tarpaulin", 1.5),
                ("firewood", 2.0 * cold),
                ("food_pack", 2.0),
                ("sim_card", 0.5),
            ],
            ShiftKind::DayMaraude => &[
                ("water", 6.0 / cold),
                ("food_pack", 6.0),
                ("tent", 4.0 / winter),
                ("tarpaulin", 5.0),
                ("firewood", 5.0 * cold),
                ("blanket", 5.0 * cold),
                ("sleeping_bag", 5.0 * winter),
                ("hygiene_kit_men", 4.0),
                ("hygiene_kit_women", 1.0),
                ("socks", 4.0),
                ("shoes", 3.0),
                ("jacket", 3.0 * cold),
                ("trousers", 3.0),
                ("power_bank", 3.0),
                ("tea_coffee", 2.0),
                ("hot_meal", 0.5),
                ("hat_gloves", 3.0 * winter),
                ("first_aid", 2.0),
                ("sim_card", 1.0),
            ],
            ShiftKind::DayCentre => &[
                ("tea_coffee", 3.0),
                ("hot_meal", 2.0),
                ("hygiene_kit_men", 6.0),
                ("hygiene_kit_women", 2.0),
                ("menstrual_products", 2.0),
                ("baby_kit", 0.5),
                ("socks", 6.0),
                ("underwear", 6.0),
                ("trousers", 4.0),
                ("jacket", 4.0 * winter),
                ("shoes", 5.0),
                ("sim_card", 4.0),
                ("power_bank", 10.0),
                ("first_aid", 2.0),
                ("hat_gloves", 3.0 * winter),
                ("food_pack", 2.0),
            ],
            ShiftKind::Accompaniment => &[
                ("food_pack", 3.0),
                ("water", 3.0),
                ("first_aid", 1.0),
                ("tea_coffee", 1.0),
            ],
        };
        table
            .iter()
            .filter_map(|(slug, w)| {
                let id: ItemId = slug.parse().ok()?;
                self.antenna.loggable_item(&id).ok()?;
                Some((id, *w))
            })
            .collect()
    }

    fn distribution(&mut self, items: &[(ItemId, f64)]) -> Option<EntryContent> {
        let item = weighted(&mut self.rng, items)?;
        let (lo, hi) = match item.as_str() {
            "tea_coffee" => (20, 150),
            "hot_meal" => (20, 120),
            "water" => (6, 60),
            "food_pack" => (1, 15),
            "hygiene_kit_men" => (1, 12),
            "power_bank" => (1, 25),
            "socks" => (1, 20),
            "underwear" | "hat_gloves" => (1, 10),
            "hygiene_kit_women" | "sim_card" | "blanket" => (1, 5),
            "menstrual_products" | "firewood" => (1, 6),
            "sleeping_bag" => (1, 4),
            "tent" | "tarpaulin" | "jacket" | "trousers" | "first_aid" => (1, 3),
            "baby_kit" => (1, 2),
            "shoes" => (1, 1),
            _ => (1, 5),
        };
        let n: u32 = self.rng.random_range(lo..=hi);
        let size = self.size(&item);
        let (people, composition) = if lo >= 20 && self.rng.random_bool(0.5) {
            // A cup or a plate each: someone counted who came.
            let composition = if self.rng.random_bool(0.3) {
                let women = (f64::from(n) * self.rng.random_range(0.0..0.08)).round() as u32;
                let minors_alone = (f64::from(n) * self.rng.random_range(0.0..0.12)).round() as u32;
                Composition {
                    men: n.saturating_sub(women + minors_alone),
                    women,
                    children: 0,
                    minors_alone,
                }
            } else {
                Composition::default()
            };
            (Some(n), composition)
        } else if self.rng.random_bool(0.2) {
            (Some(self.rng.random_range(1..=n)), Composition::default())
        } else {
            (None, Composition::default())
        };
        Some(EntryContent::Distribution {
            what: None,
            item,
            size,
            quantity: Quantity::new(i64::from(n)).ok()?,
            people,
            composition,
        })
    }

    /// A size from the item's sizes, men's sizes most often.
    fn size(&mut self, item: &ItemId) -> Option<String> {
        let sizes = &self.antenna.catalogue.get(item)?.sizes;
        if sizes.is_empty() {
            return None;
        }
        let middle = sizes.len() as f64 * 0.6;
        let choices: Vec<(&String, f64)> = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| (s, 1.0 / (1.0 + (i as f64 - middle).powi(2) / 4.0)))
            .collect();
        weighted(&mut self.rng, &choices).cloned()
    }

    fn handover(&mut self, kind: ShiftKind) -> String {
        if kind == ShiftKind::Accompaniment && self.rng.random_bool(0.7) {
            return String::new();
        }
        let first = one(&mut self.rng, words::HANDOVERS);
        if self.rng.random_bool(0.4) {
            let second = one(&mut self.rng, words::HANDOVERS);
            if second != first {
                return format!("{first} {second}");
            }
        }
        first.to_string()
    }
}

/// One of a non-empty list (the lists here are constants or checked).
fn one<'s, T>(rng: &mut ChaCha8Rng, list: &'s [T]) -> &'s T {
    &list[rng.random_range(0..list.len())]
}

/// A value drawn in proportion to its weight; `None` if nothing can be.
fn weighted<T: Clone>(rng: &mut ChaCha8Rng, choices: &[(T, f64)]) -> Option<T> {
    let i = weighted_index(rng, choices)?;
    Some(choices[i].0.clone())
}

fn weighted_index<T>(rng: &mut ChaCha8Rng, choices: &[(T, f64)]) -> Option<usize> {
    let total: f64 = choices.iter().map(|(_, w)| w.max(0.0)).sum();
    if choices.is_empty() || total <= 0.0 {
        return None;
    }
    let mut x = rng.random_range(0.0..total);
    for (i, (_, w)) in choices.iter().enumerate() {
        let w = w.max(0.0);
        if x < w {
            return Some(i);
        }
        x -= w;
    }
    Some(choices.len() - 1)
}
