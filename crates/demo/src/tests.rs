use std::collections::BTreeMap;

use chrono::NaiveDate;
use maraude_core::Lang;
use maraude_core::antenna::Antenna;
use maraude_core::document::{AnyDocument, EntryLog};
use maraude_core::entry::{EntryKind, IncidentType};
use maraude_core::ids::DeviceId;
use maraude_core::report::{CaseSummary, PeriodReport, PeriodTally, ShiftSummary, TallyRow};

use super::*;

fn first_of_november() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 1).expect("a real date")
}

fn small(seed: u64) -> SeasonPlan {
    SeasonPlan {
        shifts: 30,
        entries_per_shift: 25,
        start: first_of_november(),
        seed,
    }
}

fn calais() -> Antenna {
    demo_antenna("Calais").expect("a valid antenna name")
}

/// What a device reading the documents back would report over the season.
fn report_from_documents(antenna: &Antenna, season: &mut Season) -> PeriodReport {
    let device = DeviceId::new();
    let mut tally = PeriodTally::new(antenna, season.first_day, season.last_day);
    for doc in &mut season.documents {
        let bytes = doc.automerge().save();
        let loaded =
            AnyDocument::load([bytes.as_slice()], &device).expect("a saved document loads");
        match loaded {
            AnyDocument::Shift(d) => {
                let shift = d.shift().expect("shift fields");
                tally.add_shift(&ShiftSummary::from(&shift));
                // The antenna's one tablet started it and logs in it.
                assert_eq!(d.logs().expect("logs").len(), 1, "one tablet logged");
                for e in d.entries().expect("entries") {
                    tally.add_entry(&TallyRow::from_entry(&shift.filing(), &e));
                }
            }
            AnyDocument::TabletLog(_) => panic!("a demo season has one tablet"),
            AnyDocument::Case(d) => {
                tally.add_case(&CaseSummary::from(&d.case().expect("case fields")));
            }
            AnyDocument::Antenna(_) => panic!("a season holds no antenna document"),
            AnyDocument::Warehouse(_) => panic!("a season holds no warehouse document"),
        }
    }
    tally.finish(antenna, Lang::Fr)
}

#[test]
fn the_same_seed_writes_the_same_season() {
    let antenna = calais();
    let a = season(&antenna, &DeviceId::new(), &small(7)).expect("a season");
    let b = season(&antenna, &DeviceId::new(), &small(7)).expect("a season");
    assert_eq!(a.totals, b.totals);
    assert_eq!(
        (a.shifts, a.entries, a.cases, a.last_day),
        (b.shifts, b.entries, b.cases, b.last_day)
    );
}

#[test]
fn another_seed_writes_another_season() {
    let antenna = calais();
    let a = season(&antenna, &DeviceId::new(), &small(7)).expect("a season");
    let b = season(&antenna, &DeviceId::new(), &small(8)).expect("a season");
    assert_eq!(a.shifts, b.shifts);
    assert_ne!(a.totals.distributed, b.totals.distributed);
}

#[test]
fn documents_read_back_report_exactly_the_expected_totals() {
    let antenna = calais();
    let mut s = season(&antenna, &DeviceId::new(), &small(11)).expect("a season");
    let t = s.totals.clone();
    let r = report_from_documents(&antenna, &mut s);

    assert_eq!(r.shifts, t.shifts());
    assert_eq!(r.shifts_by_kind, t.shifts_by_kind);
    let by = |f: fn(&maraude_core::report::ItemTotal) -> u32| -> BTreeMap<String, u32> {
        r.items
            .iter()
            .map(|i| (i.item.to_string(), f(i)))
            .filter(|(_, n)| *n > 0)
            .collect()
    };
    let expected = |m: &BTreeMap<maraude_core::ids::ItemId, u32>| -> BTreeMap<String, u32> {
        m.iter()
            .map(|(i, n)| (i.to_string(), *n))
            .filter(|(_, n)| *n > 0)
            .collect()
    };
    assert_eq!(by(|i| i.distributed), expected(&t.distributed));
    assert_eq!(by(|i| i.loaded), expected(&t.loaded));
    assert_eq!(by(|i| i.returned), expected(&t.returned));
    assert_eq!(r.people_met, t.people_met);
    assert_eq!(
        (r.arrivals_groups, r.arrivals_people),
        (t.arrivals_groups, t.arrivals_people)
    );
    let incidents: BTreeMap<String, u32> = t
        .incidents
        .iter()
        .map(|(kind, n)| {
            let code = serde_json::to_value(kind).expect("an incident type serialises");
            (code.as_str().unwrap_or_default().to_string(), *n)
        })
        .collect();
    assert_eq!(r.incidents, incidents);
    assert_eq!(r.incident_people_affected, t.incident_people_affected);
    assert_eq!(r.cases.shelter_requests_opened, t.shelter_requests);
    assert_eq!(r.cases.referrals_opened, t.referrals);
    assert_eq!(r.cases.still_open, t.cases_still_open);
    assert_eq!(r.cases.outcomes, t.outcomes);
    assert_eq!(s.cases as u32, t.shelter_requests + t.referrals);
}

#[test]
fn a_month_of_work_looks_like_the_field_guide() {
    let antenna = calais();
    let plan = SeasonPlan::shifts(80, first_of_november(), 3);
    let s = season(&antenna, &DeviceId::new(), &plan).expect("a season");
    let t = &s.totals;

    // 80 shifts at 19 a week: four weeks and a bit.
    assert!((28..=31).contains(&(s.last_day - s.first_day).num_days()));
    assert_eq!(
        t.shifts_by_kind[&maraude_core::shift::ShiftKind::NightMaraude],
        30
    );
    // About a hundred entries a shift, mostly distributions (November is
    // colder than the year's average).
    let per_shift = s.entries as f64 / s.shifts as f64;
    assert!((90.0..=130.0).contains(&per_shift), "{per_shift}");
    let kind = |k| t.entries_by_kind.get(&k).copied().unwrap_or(0);
    assert!(kind(EntryKind::Distribution) as f64 > 0.8 * s.entries as f64);
    for k in EntryKind::ALL {
        assert!(kind(k) > 0, "no {k:?} in a month");
    }
    // Evictions are what the teams document most.
    let evictions = t
        .incidents
        .get(&IncidentType::Eviction)
        .copied()
        .unwrap_or(0);
    assert!(
        t.incidents.values().all(|n| *n <= evictions),
        "{:?}",
        t.incidents
    );
    // A few shelter requests and referrals a week, most closed since.
    assert!(
        (12..=60).contains(&t.shelter_requests),
        "{}",
        t.shelter_requests
    );
    assert!(t.outcomes.values().sum::<u32>() > t.cases_still_open);
    assert!(t.voided > 0 && t.edited > 0);
    // Winter: blankets go out by the hundred.
    assert!(
        t.distributed("blanket") > 300,
        "{}",
        t.distributed("blanket")
    );
}

#[test]
fn an_antenna_without_living_places_is_refused_with_a_way_out() {
    let bare = Antenna::new("Paris").expect("a valid name");
    let err = season(&bare, &DeviceId::new(), &small(1)).expect_err("no places");
    assert!(err.to_string().contains("demo antenna"), "{err}");
}

#[test]
fn a_season_ending_on_a_day_ends_then_or_at_most_two_days_before() {
    let antenna = crate::demo_antenna("Calais").expect("antenna");
    // Sunday: one shift only, the worst case.
    let last = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    for shifts in [1, 2, 3, 4, 19, 40, 60] {
        let plan = SeasonPlan::ending(shifts, last, 7);
        let season = crate::season(&antenna, &DeviceId::new(), &plan).expect("season");
        assert_eq!(season.shifts, shifts);
        let early = (last - season.last_day).num_days();
        assert!(
            (0..=2).contains(&early),
            "{shifts} shifts end {early} days early"
        );
    }
}
