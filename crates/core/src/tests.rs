//! Stories of the field, told against the pure core: no store, no runtime.

use chrono::{DateTime, Duration, Utc};

use crate::antenna::{Antenna, Place, PlaceKind};
use crate::case::{CaseAction, CaseRequest, NewCase, Outcome, Person};
use crate::document::{CaseDoc, Document, EntryLog, ShiftDoc};
use crate::entry::{
    Author, Composition, EntryContent, EntryEdit, IncidentType, NewEntry, Quantity,
};
use crate::ids::{DeviceId, Nickname};
use crate::report::{CaseSummary, NightReport, PeriodTally, ShiftSummary, TallyRow, night_text};
use crate::shift::{NewShift, ShiftEnd, ShiftKind};
use crate::{Invalid, Lang};

fn now() -> DateTime<Utc> {
    "2026-11-23T20:30:00Z".parse().unwrap()
}

fn calais() -> Antenna {
    let mut a = Antenna::new("Calais").unwrap();
    a.places.insert(
        "dunes-north".parse().unwrap(),
        Place {
            name: "Dunes nord".into(),
            kind: PlaceKind::LivingPlace,
            active: true,
        },
    );
    a
}

fn author(name: &str, device: DeviceId) -> Author {
    Author {
        by: name.parse().unwrap(),
        device,
        now: now(),
    }
}

fn blanket(n: i64) -> NewEntry {
    NewEntry {
        at: None,
        place: Some("dunes-north".parse().unwrap()),
        content: EntryContent::Distribution {
            what: None,
            item: "blanket".parse().unwrap(),
            size: None,
            quantity: Quantity::new(n).unwrap(),
            people: None,
            composition: Composition::default(),
        },
    }
}

fn new_shift(antenna: &Antenna, device: DeviceId) -> ShiftDoc {
    let shift = NewShift {
        kind: ShiftKind::NightMaraude,
        started_at: Some(now() - Duration::hours(1)),
        lead: "Mira".parse().unwrap(),
        team: ["Jo".parse::<Nickname>().unwrap()].into(),
        vehicle: Some("Trafic".into()),
        stock_loaded: [("blanket".parse().unwrap(), 40)].into(),
    }
    .into_shift(antenna, now())
    .unwrap();
    ShiftDoc::create(&shift, &device).unwrap()
}

fn reload(doc: &mut ShiftDoc, device: &DeviceId) -> ShiftDoc {
    let bytes = doc.save();
    ShiftDoc::load([bytes.as_slice()], device).unwrap()
}

#[test]
fn two_tablets_logging_blankets_offline_sum_after_sync() {
    let a = calais();
    let (tab1, tab2) = (DeviceId::new(), DeviceId::new());
    let mut one = new_shift(&a, tab1);
    let mut two = reload(&mut one, &tab2);

    one.log(
        &blanket(1).into_entry(&a, &author("Mira", tab1)).unwrap(),
        &one.shift().unwrap(),
    )
    .unwrap();
    two.log(
        &blanket(1).into_entry(&a, &author("Jo", tab2)).unwrap(),
        &two.shift().unwrap(),
    )
    .unwrap();

    let changes: Vec<_> = two
        .changes_since(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    for c in &changes {
        one.automerge().load_incremental(c).unwrap();
    }
    let mut shift = one.shift().unwrap();
    let report = NightReport::build(&a, &shift, &one.entries().unwrap(), &[], Lang::En);
    assert_eq!(report.distributed("blanket"), 2);
    // What is still in the van is not missing while the shift runs.
    assert_eq!(report.stock[0].unaccounted, None);
    shift.ended_at = Some(shift.started_at);
    let report = NightReport::build(&a, &shift, &one.entries().unwrap(), &[], Lang::En);
    assert_eq!(report.stock[0].unaccounted, Some(38));
}

#[test]
fn concurrent_corrections_of_different_fields_both_stay_and_history_shows_both() {
    let a = calais();
    let (tab1, tab2) = (DeviceId::new(), DeviceId::new());
    let mut one = new_shift(&a, tab1);
    let entry = blanket(3).into_entry(&a, &author("Mira", tab1)).unwrap();
    one.log(&entry, &one.shift().unwrap()).unwrap();
    let mut two = reload(&mut one, &tab2);

    let mut edit = EntryEdit {
        at: entry.at,
        place: entry.place.clone(),
        content: entry.content.clone(),
    };
    if let EntryContent::Distribution { quantity, .. } = &mut edit.content {
        *quantity = Quantity::new(4).unwrap();
    }
    one.edit(
        &entry.id,
        edit,
        &one.shift().unwrap(),
        &a,
        &author("Mira", tab1),
    )
    .unwrap();
    let edit2 = EntryEdit {
        at: entry.at - Duration::minutes(5),
        place: entry.place.clone(),
        content: entry.content.clone(),
    };
    two.edit(
        &entry.id,
        edit2,
        &two.shift().unwrap(),
        &a,
        &author("Lead", tab2),
    )
    .unwrap();

    one.automerge().merge(two.automerge()).unwrap();
    let merged = one.entry(&entry.id).unwrap();
    assert_eq!(merged.at, entry.at - Duration::minutes(5));
    assert!(
        matches!(merged.content, EntryContent::Distribution { quantity, .. } if quantity.get() == 4)
    );
    assert_eq!(
        merged.history.len(),
        2,
        "both corrections are visible in the history"
    );
}

#[test]
fn a_voided_entry_leaves_the_totals_but_stays_in_the_log() {
    let a = calais();
    let tab = DeviceId::new();
    let mut doc = new_shift(&a, tab);
    let e = blanket(5).into_entry(&a, &author("Jo", tab)).unwrap();
    doc.log(&e, &doc.shift().unwrap()).unwrap();
    assert_eq!(
        doc.void(&e.id, "  ", &author("Mira", tab))
            .unwrap_err()
            .to_string(),
        "a void needs a reason (what was wrong with the entry)"
    );
    doc.void(&e.id, "logged twice", &author("Mira", tab))
        .unwrap();
    let entries = doc.entries().unwrap();
    assert_eq!(entries.len(), 1);
    let r = NightReport::build(&a, &doc.shift().unwrap(), &entries, &[], Lang::Fr);
    assert_eq!(r.distributed("blanket"), 0);
    assert_eq!(r.voided, 1);
}

#[test]
fn bad_input_is_refused_with_a_message_naming_the_problem() {
    let a = calais();
    let tab = DeviceId::new();
    assert!(Quantity::new(0).is_err());
    assert!(Quantity::new(-3).is_err());
    assert_eq!(
        Quantity::new(50_000).unwrap_err().to_string(),
        "quantity must be between 1 and 1000, got 50000"
    );
    let mut e = blanket(1);
    e.place = Some("nowhere".parse().unwrap());
    let err = e.into_entry(&a, &author("Jo", tab)).unwrap_err();
    assert!(matches!(err, Invalid::UnknownPlace { .. }), "{err}");
    let note = NewEntry {
        at: None,
        place: None,
        content: EntryContent::Note {
            text: "x".repeat(5000),
        },
    };
    assert!(matches!(
        note.into_entry(&a, &author("Jo", tab)),
        Err(Invalid::TooLong { .. })
    ));
    let mut doc = new_shift(&a, tab);
    let end = ShiftEnd {
        ended_at: Some(now() - Duration::hours(3)),
        stock_returned: Default::default(),
        handover: String::new(),
    };
    assert!(matches!(
        doc.end(end, &a, now()),
        Err(crate::DocumentError::Invalid(
            Invalid::EndBeforeStart { .. }
        ))
    ));
}

#[test]
fn an_item_other_says_what_was_given_and_only_it_does() {
    let a = calais();
    let jo = author("Jo", DeviceId::new());
    let given = |item: &str, what: Option<&str>| {
        let mut e = blanket(2);
        if let EntryContent::Distribution {
            item: i, what: w, ..
        } = &mut e.content
        {
            *i = item.parse().unwrap();
            *w = what.map(str::to_string);
        }
        e.into_entry(&a, &jo)
    };
    let torch = given("other", Some("lampe torche")).expect("other, said");
    assert!(matches!(
        torch.content,
        EntryContent::Distribution { what: Some(ref w), .. } if w == "lampe torche"
    ));
    for unsaid in [None, Some(""), Some("   ")] {
        let err = given("other", unsaid).unwrap_err();
        assert!(matches!(err, Invalid::Empty { .. }), "{unsaid:?}: {err}");
        assert!(err.to_string().contains("what was given"), "{err}");
    }
    let err = given("other", Some(&"x".repeat(200))).unwrap_err();
    assert!(matches!(err, Invalid::TooLong { .. }), "{err}");
    let err = given("other", Some("appeler 06 12 34 56 78")).unwrap_err();
    assert!(matches!(err, Invalid::PersonalDataInLog { .. }), "{err}");
    // A named item carries no words: the tablet does not let text ride
    // along with a blanket.
    let err = given("blanket", Some("pour Ahmed")).unwrap_err();
    assert!(matches!(err, Invalid::BadText { .. }), "{err}");
    assert!(given("blanket", None).is_ok());
}

#[test]
fn an_incident_is_witnessed_by_the_shifts_team_only() {
    let a = calais();
    let tab = DeviceId::new();
    // A team that lists its lead too, as the command line's does.
    let shift = NewShift {
        kind: ShiftKind::NightMaraude,
        started_at: Some(now() - Duration::hours(1)),
        lead: "Mira".parse().unwrap(),
        team: ["Mira", "Jo"]
            .map(|n| n.parse::<Nickname>().unwrap())
            .into(),
        vehicle: None,
        stock_loaded: Default::default(),
    }
    .into_shift(&a, now())
    .unwrap();
    let mut doc = ShiftDoc::create(&shift, &tab).unwrap();
    let incident = |witnesses: &[&str]| NewEntry {
        at: None,
        place: None,
        content: EntryContent::Incident {
            incident_type: IncidentType::Eviction,
            people_affected: 6,
            description: "Tentes prises à l'aube".into(),
            witnesses: witnesses.iter().map(|w| w.parse().unwrap()).collect(),
            reported_to: None,
        },
    };
    let shift = doc.shift().unwrap();
    let log = |doc: &mut ShiftDoc, witnesses: &[&str]| {
        let entry = incident(witnesses)
            .into_entry(&a, &author("Jo", tab))
            .unwrap();
        doc.log(&entry, &shift)
    };
    // The lead and the team: taken.
    log(&mut doc, &["Mira", "Jo"]).expect("the lead and Jo saw it");
    // Anyone else, refused, naming who and the team.
    let err = log(&mut doc, &["Jo", "Karim"]).unwrap_err();
    assert!(
        matches!(err, crate::DocumentError::Invalid(Invalid::NotOnTheTeam { ref who, .. }) if who == "Karim"),
        "{err}"
    );
    // The lead said once, first.
    assert!(err.to_string().contains("team (Mira, Jo);"), "{err}");
}

#[test]
fn a_shelter_request_is_followed_up_and_closed_and_the_summary_has_no_alias() {
    let a = calais();
    let tab = DeviceId::new();
    let mut shift = new_shift(&a, tab);
    let shift_id = shift.shift().unwrap().id;
    let case = NewCase {
        person: Person {
            alias: "Rahim-K".into(),
            age_group: None,
            languages: ["ps".to_string()].into(),
            phone: Some("+33 6 12 34 56 78".into()),
        },
        request: CaseRequest::Shelter {
            household_size: 3,
            composition: Composition {
                women: 1,
                children: 2,
                ..Default::default()
            },
            vulnerabilities: Default::default(),
            called_115: true,
            answer_115: Some("pas de place".into()),
        },
    }
    .into_case(a.id, shift_id, &author("Jo", tab))
    .unwrap();
    let mut doc = CaseDoc::create(&case, &tab).unwrap();
    let entry = NewEntry {
        at: None,
        place: None,
        content: EntryContent::ShelterRequest {
            case: case.id,
            household_size: 3,
            composition: Composition {
                women: 1,
                children: 2,
                ..Default::default()
            },
        },
    };
    shift
        .log(
            &entry.into_entry(&a, &author("Jo", tab)).unwrap(),
            &shift.shift().unwrap(),
        )
        .unwrap();

    let wrong = doc.act(
        CaseAction::Closed {
            outcome: Outcome::Seen,
        },
        None,
        &author("Mira", tab),
    );
    assert!(
        wrong
            .unwrap_err()
            .to_string()
            .contains("does not fit a shelter_request")
    );
    doc.act(
        CaseAction::Closed {
            outcome: Outcome::Placed {
                place: "CAES Arras".into(),
            },
        },
        Some(shift_id),
        &author("Mira", tab),
    )
    .unwrap();
    let closed = doc.case().unwrap();
    assert!(!closed.status.is_open());
    assert!(
        doc.act(
            CaseAction::Note {
                note: "called back".into()
            },
            None,
            &author("Mira", tab)
        )
        .is_err()
    );

    let summary = CaseSummary::from(&closed);
    let r = NightReport::build(
        &a,
        &shift.shift().unwrap(),
        &shift.entries().unwrap(),
        &[summary],
        Lang::Fr,
    );
    assert_eq!(r.shelter_requests[0].outcome.as_deref(), Some("placed"));
    let text = night_text(&r, Lang::Fr);
    assert!(!text.contains("Rahim") && !text.contains("12 34"), "{text}");
    assert!(text.contains("Demandes de mise à l'abri: 1"), "{text}");
    // Nor the case's number, which would tie the line to its record.
    let short = r.shelter_requests[0].short.clone();
    assert!(!text.contains(&short), "{text}");
}

#[test]
fn period_report_counts_items_places_and_the_census() {
    let a = calais();
    let tab = DeviceId::new();
    let mut doc = new_shift(&a, tab);
    let shift = doc.shift().unwrap();
    for n in [2, 3] {
        doc.log(
            &blanket(n).into_entry(&a, &author("Jo", tab)).unwrap(),
            &doc.shift().unwrap(),
        )
        .unwrap();
    }
    let count = NewEntry {
        at: None,
        place: Some("dunes-north".parse().unwrap()),
        content: EntryContent::Headcount {
            people: 60,
            composition: Composition {
                men: 50,
                women: 6,
                children: 4,
                minors_alone: 0,
            },
            vulnerable: 3,
        },
    };
    doc.log(
        &count.into_entry(&a, &author("Jo", tab)).unwrap(),
        &doc.shift().unwrap(),
    )
    .unwrap();
    let incident = NewEntry {
        at: None,
        place: Some("dunes-north".parse().unwrap()),
        content: EntryContent::Incident {
            incident_type: IncidentType::Eviction,
            people_affected: 40,
            description: "Tents taken at 7am by police".into(),
            witnesses: Default::default(),
            reported_to: None,
        },
    };
    doc.log(
        &incident.into_entry(&a, &author("Jo", tab)).unwrap(),
        &doc.shift().unwrap(),
    )
    .unwrap();

    let mut tally = PeriodTally::new(&a, shift.date, shift.date);
    tally.add_shift(&ShiftSummary::from(&shift));
    for e in doc.entries().unwrap() {
        tally.add_entry(&TallyRow::from_entry(&shift.filing(), &e));
    }
    let r = tally.finish(&a, Lang::En);
    assert_eq!(r.distributed("blanket"), 5);
    assert_eq!(
        r.items
            .iter()
            .find(|i| i.item.as_str() == "blanket")
            .unwrap()
            .loaded,
        40
    );
    assert_eq!(r.people_met, 60);
    assert_eq!(r.census[0].people, 60);
    assert_eq!(r.incidents.get("eviction"), Some(&1));
    assert_eq!(r.places[0].name, "Dunes nord");
}

/// A lead's tablet keeps an old shift's figures added up: a row standing
/// for several entries counts as those entries, in every table; where the
/// antenna asks, old figures name a place's kind, and the places table
/// adds them up by kind.
#[test]
fn added_up_rows_count_as_the_entries_they_stand_for() {
    use crate::entry::EntryKind;
    use crate::report::PeriodRow;
    let a = calais();
    let day: chrono::NaiveDate = "2026-03-04".parse().unwrap();
    let row =
        |kind: EntryKind, item: Option<&str>, detail: Option<&str>, q: u32, p: u32| PeriodRow {
            date: day,
            at: "2026-03-04T21:00:00Z".parse().unwrap(),
            entries: 1,
            place: Some("dunes-north".parse().unwrap()),
            place_kind: None,
            kind,
            item: item.map(|i| i.parse().unwrap()),
            detail: detail.map(String::from),
            quantity: q,
            people: p,
            composition: Composition::default(),
            vulnerable: 0,
        };
    let one_by_one = [
        row(EntryKind::Distribution, Some("tea"), None, 10, 0),
        row(EntryKind::Distribution, Some("tea"), None, 12, 0),
        row(EntryKind::Distribution, Some("tea"), None, 5, 0),
        row(EntryKind::Incident, None, Some("eviction"), 0, 40),
        row(EntryKind::Incident, None, Some("eviction"), 0, 8),
        row(EntryKind::Arrival, None, Some("food"), 0, 3),
        row(EntryKind::Arrival, None, Some("food"), 0, 2),
        row(EntryKind::Referral, None, Some("medical"), 0, 1),
        row(EntryKind::ShelterRequest, None, None, 0, 4),
    ];
    let added_up = [
        PeriodRow {
            entries: 3,
            ..row(EntryKind::Distribution, Some("tea"), None, 27, 0)
        },
        PeriodRow {
            entries: 2,
            ..row(EntryKind::Incident, None, Some("eviction"), 0, 48)
        },
        PeriodRow {
            entries: 2,
            ..row(EntryKind::Arrival, None, Some("food"), 0, 5)
        },
        row(EntryKind::Referral, None, Some("medical"), 0, 1),
        row(EntryKind::ShelterRequest, None, None, 0, 4),
    ];
    let report = |rows: &[PeriodRow]| {
        let mut tally = PeriodTally::new(&a, day, day);
        for r in rows {
            tally.add(r);
        }
        tally.finish(&a, Lang::En)
    };
    let expected = report(&one_by_one);
    assert_eq!(expected.items[0].entries, 3);
    assert_eq!(expected.incidents.get("eviction"), Some(&2));
    assert_eq!(expected.arrivals_groups, 2);
    assert_eq!(report(&added_up), expected);

    let by_kind: Vec<PeriodRow> = added_up
        .iter()
        .map(|r| PeriodRow {
            place: None,
            place_kind: Some(PlaceKind::LivingPlace),
            ..r.clone()
        })
        .collect();
    let r = report(&by_kind);
    assert_eq!(r.places.len(), 1);
    assert_eq!(r.places[0].place, None);
    assert_eq!(r.places[0].kind, Some(PlaceKind::LivingPlace));
    assert_eq!(r.places[0].name, "Living places (older shifts, by kind)");
    assert_eq!(
        (r.places[0].distributed, r.places[0].incidents),
        (expected.places[0].distributed, expected.places[0].incidents)
    );
    assert_eq!(r.months, expected.months);
    assert_eq!(r.items, expected.items);
}

/// The charts' series: every week of the period, Monday first, empty ones
/// included; incidents by type per month.
#[test]
fn a_period_report_has_every_week_and_incidents_by_type_per_month() {
    use crate::entry::EntryKind;
    use crate::report::{PeriodReport, PeriodRow};
    let a = calais();
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let row =
        |date: &str, kind: EntryKind, item: Option<&str>, detail: Option<&str>, n: u32| PeriodRow {
            date: day(date),
            at: format!("{date}T20:00:00Z").parse().unwrap(),
            entries: 1,
            place: None,
            place_kind: None,
            kind,
            item: item.map(|i| i.parse().unwrap()),
            detail: detail.map(String::from),
            quantity: n,
            people: n,
            composition: Composition {
                men: n,
                ..Default::default()
            },
            vulnerable: 0,
        };
    // Wednesday 4 November to Tuesday 1 December 2026: five weeks touched.
    let mut tally = PeriodTally::new(&a, day("2026-11-04"), day("2026-12-01"));
    tally.add(&row(
        "2026-11-04",
        EntryKind::Distribution,
        Some("blanket"),
        None,
        3,
    ));
    tally.add(&row(
        "2026-11-08",
        EntryKind::Distribution,
        Some("blanket"),
        None,
        2,
    ));
    tally.add(&row(
        "2026-11-08",
        EntryKind::Distribution,
        Some("tea"),
        None,
        10,
    ));
    tally.add(&row("2026-11-20", EntryKind::Arrival, None, None, 4));
    tally.add(&row(
        "2026-11-20",
        EntryKind::Incident,
        None,
        Some("eviction"),
        30,
    ));
    tally.add(&row(
        "2026-12-01",
        EntryKind::Incident,
        None,
        Some("eviction"),
        5,
    ));
    tally.add(&row(
        "2026-12-01",
        EntryKind::Incident,
        None,
        Some("violence"),
        1,
    ));
    // Outside the period: in no week.
    tally.add(&row(
        "2026-11-02",
        EntryKind::Distribution,
        Some("blanket"),
        None,
        99,
    ));
    let r = tally.finish(&a, Lang::En);
    let weeks: Vec<&str> = r.weeks.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(
        weeks,
        ["2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    );
    assert_eq!(r.weeks[0].start, day("2026-11-02"));
    assert_eq!(r.weeks[0].distributed, 15);
    assert_eq!(r.weeks[0].items.get(&"blanket".parse().unwrap()), Some(&5));
    assert_eq!(r.weeks[1].distributed, 0, "an empty week is there, at zero");
    assert_eq!(r.weeks[2].arrivals_people, 4);
    assert_eq!(r.weeks[2].arrivals_composition.men, 4);
    assert_eq!(r.weeks[4].incidents, 2);
    let by_month: Vec<(&str, Option<&u32>)> = r
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.incidents_by_type.get("eviction")))
        .collect();
    assert_eq!(by_month, [("2026-11", Some(&1)), ("2026-12", Some(&1))]);
    assert_eq!(r.months[1].incidents_by_type.get("violence"), Some(&1));

    let weeks_csv = crate::report::period_table_csv(&r, crate::report::PeriodTable::Weeks);
    let mut lines = weeks_csv.lines();
    assert!(
        lines.next().unwrap().ends_with("incidents,blanket,tea"),
        "{weeks_csv}"
    );
    assert_eq!(
        lines.next().unwrap(),
        "2026-W45,2026-11-02,15,0,0,0,0,0,0,0,5,10"
    );
    let incidents = crate::report::period_table_csv(&r, crate::report::PeriodTable::Incidents);
    assert_eq!(
        incidents.lines().collect::<Vec<_>>(),
        [
            "month,type,incidents",
            "2026-11,eviction,1",
            "2026-12,eviction,1",
            "2026-12,violence,1"
        ]
    );

    // A device that holds records only from 20 November: its weeks start
    // there, not with empty ones.
    let mut tally = PeriodTally::new(&a, day("2026-11-04"), day("2026-12-01"));
    tally.held_since(Some(day("2026-11-20")));
    let r = tally.finish(&a, Lang::En);
    assert_eq!(r.weeks.first().map(|w| w.week.as_str()), Some("2026-W47"));

    assert!(PeriodReport::check_range(day("2026-11-04"), day("2026-11-04")).is_ok());
    let err = PeriodReport::check_range(day("2026-11-04"), day("2026-11-03")).unwrap_err();
    assert_eq!(err.code(), "end_before_start");
    assert!(PeriodReport::check_range(day("2000-01-01"), day("2026-11-03")).is_ok());
}

#[test]
fn a_document_from_a_newer_app_is_refused_not_misread() {
    use automerge::transaction::Transactable;
    let a = calais();
    let tab = DeviceId::new();
    let mut doc = new_shift(&a, tab);
    doc.automerge()
        .put(automerge::ROOT, "schema", 99_i64)
        .unwrap();
    let bytes = doc.save();
    let err = ShiftDoc::load([bytes.as_slice()], &tab)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("schema version 99") && err.contains("update Maraude"),
        "{err}"
    );
    assert!(CaseDoc::load([bytes.as_slice()], &tab).is_err());
}

#[test]
fn an_entry_keeps_its_times_to_the_second() {
    let a = calais();
    let tab = DeviceId::new();
    let precise: DateTime<Utc> = "2026-11-23T20:29:41.123456789Z".parse().unwrap();
    let mut by = author("Jo", tab);
    by.now = precise;
    let mut new = blanket(1);
    new.at = Some(precise - chrono::Duration::minutes(5));
    let e = new.into_entry(&a, &by).unwrap();
    assert_eq!(e.logged_at.to_rfc3339(), "2026-11-23T20:29:41+00:00");
    assert_eq!(e.at.to_rfc3339(), "2026-11-23T20:24:41+00:00");
}

/// The tablet that started the shift logs in the shift document; each
/// teammate's tablet in its own log, which the shift links to. A lead
/// corrects, on their tablet, an entry of another tablet's log; it merges.
#[test]
fn the_starting_tablet_logs_in_the_shift_and_each_teammate_in_its_own_log() {
    use crate::document::TabletLogDoc;
    use crate::shift::TabletLog;
    let a = calais();
    let (tab1, tab2, tab3) = (DeviceId::new(), DeviceId::new(), DeviceId::new());
    let mut shift_doc = new_shift(&a, tab1);
    let shift = shift_doc.shift().unwrap();
    shift_doc
        .log(
            &blanket(1).into_entry(&a, &author("Mira", tab1)).unwrap(),
            &shift,
        )
        .unwrap();
    let mut logs = Vec::new();
    for (tab, who) in [(tab2, "Jo"), (tab3, "Sam")] {
        let log = TabletLog::new(&shift, tab);
        let mut doc = TabletLogDoc::create(&log, &tab).unwrap();
        doc.log(
            &blanket(2).into_entry(&a, &author(who, tab)).unwrap(),
            &shift,
        )
        .unwrap();
        shift_doc.add_log(&tab, &log.id).unwrap();
        assert_eq!(doc.tablet_log().unwrap(), log);
        logs.push((log.id, doc));
    }
    let found = shift_doc.logs().unwrap();
    assert_eq!(found[&tab1], *shift.id.as_uuid(), "the shift itself");
    assert_eq!(found[&tab2], *logs[0].0.as_uuid());
    assert_eq!(found[&tab3], *logs[1].0.as_uuid());
    assert_eq!(
        reload(&mut shift_doc, &tab1).shift().unwrap(),
        shift,
        "the links are not fields of the shift"
    );

    // The lead, on tablet 2, holds a copy of tablet 3's log and corrects it
    // while tablet 3 logs one more.
    let bytes = logs[1].1.save();
    let mut copy = TabletLogDoc::load([bytes.as_slice()], &tab2).unwrap();
    let first = copy.entries().unwrap()[0].clone();
    let edit = EntryEdit {
        at: first.at,
        place: first.place.clone(),
        content: blanket(3).content,
    };
    copy.edit(&first.id, edit, &shift, &a, &author("Lead", tab2))
        .unwrap();
    logs[1]
        .1
        .log(
            &blanket(1).into_entry(&a, &author("Sam", tab3)).unwrap(),
            &shift,
        )
        .unwrap();
    logs[1].1.automerge().merge(copy.automerge()).unwrap();

    let mut all = shift_doc.entries().unwrap();
    all.extend(logs.iter().flat_map(|(_, l)| l.entries().unwrap()));
    all.sort_by_key(|e| e.at);
    let report = NightReport::build(&a, &shift, &all, &[], Lang::En);
    assert_eq!(report.distributed("blanket"), 1 + 2 + 3 + 1);
    let corrected = logs[1].1.entry(&first.id).unwrap();
    assert_eq!(corrected.history.len(), 1);
    assert_eq!(corrected.history[0].by.as_str(), "Lead");
}

/// Calais, a tablet, and its shift where Jo logged two blankets given.
fn a_shift_with_blankets_given() -> (Antenna, DeviceId, ShiftDoc, crate::entry::Entry) {
    let a = calais();
    let tab = DeviceId::new();
    let mut doc = new_shift(&a, tab);
    let e = blanket(2).into_entry(&a, &author("Jo", tab)).unwrap();
    doc.log(&e, &doc.shift().unwrap()).unwrap();
    (a, tab, doc, e)
}

/// The map key is the entry's id: the document does not repeat it. An
/// entry written with its id (older versions, other clients) reads the
/// same; one whose id is another entry's is refused.
#[test]
fn an_entry_is_stored_under_its_id_without_repeating_it() {
    use crate::document::json;
    use automerge::ReadDoc;
    let (a, tab, mut doc, e) = a_shift_with_blankets_given();
    let entries = doc.entries_obj().unwrap();
    let obj = json::child_id(doc.automerge_ref(), &entries, &e.id.to_string()).unwrap();
    assert!(doc.automerge_ref().get(&obj, "id").unwrap().is_none());
    // Nobody counted who received the blankets: no composition either.
    assert!(
        doc.automerge_ref()
            .get(&obj, "composition")
            .unwrap()
            .is_none()
    );
    assert_eq!(doc.entry(&e.id).unwrap(), e);
    // A correction that counts them writes one.
    let counted = Composition {
        women: 1,
        children: 1,
        ..Default::default()
    };
    let mut content = e.content.clone();
    if let EntryContent::Distribution { composition, .. } = &mut content {
        *composition = counted;
    }
    let edit = EntryEdit {
        at: e.at,
        place: e.place.clone(),
        content: content.clone(),
    };
    doc.edit(&e.id, edit, &doc.shift().unwrap(), &a, &author("Mira", tab))
        .unwrap();
    assert_eq!(doc.entry(&e.id).unwrap().content, content);

    let older = blanket(1).into_entry(&a, &author("Jo", tab)).unwrap();
    let mut with_id = serde_json::to_value(&older).unwrap();
    json::put_json(doc.automerge(), &entries, older.id.to_string(), &with_id).unwrap();
    assert_eq!(doc.entry(&older.id).unwrap(), older);

    with_id["id"] = serde_json::Value::String(e.id.to_string());
    let wrong = crate::ids::EntryId::new();
    json::put_json(doc.automerge(), &entries, wrong.to_string(), &with_id).unwrap();
    let err = doc.entries().unwrap_err().to_string();
    assert!(err.contains("holds the id of another entry"), "{err}");
}

/// What a modified client may put in place of an entry: a scalar, not an
/// object. Reading the shift refuses it, naming the key, and the entries
/// beside it are not read as if it were absent.
#[test]
fn a_scalar_in_place_of_an_entry_is_refused() {
    use automerge::transaction::Transactable;
    let (_, _, mut doc, _) = a_shift_with_blankets_given();
    let entries = doc.entries_obj().unwrap();
    let bogus = crate::ids::EntryId::new().to_string();
    doc.automerge()
        .put(&entries, bogus.as_str(), 7_i64)
        .unwrap();
    let err = doc.entries().unwrap_err().to_string();
    assert!(err.contains(&format!("{bogus} is not an object")), "{err}");
}

mod authorised_writes {
    //! What a peer's changes may do, judged by the role its certificate
    //! gives (`crate::authority`): the receiver's side of every sync.

    use automerge::ReadDoc;
    use automerge::transaction::Transactable;
    use chrono::NaiveDate;

    use super::*;
    use crate::access::{Role, Subject};
    use crate::antenna::{Role as ListedRole, Volunteer};
    use crate::authority::{Delivery, Facts, Refused, check_write};
    use crate::case::CaseKind;
    use crate::document::{AntennaDoc, AnyDocument, CaseRef};
    use crate::erasure::{ErasedBecause, tombstone};
    use crate::ids::CaseId;

    fn today() -> NaiveDate {
        now().date_naive()
    }

    fn facts(subject: Subject) -> Facts {
        Facts {
            subject,
            today: today(),
            delivery: Delivery::Server,
        }
    }

    fn any<D: Document>(doc: &D) -> AnyDocument {
        AnyDocument::from_automerge_unread(doc.automerge_ref().clone(), &DeviceId::new()).unwrap()
    }

    /// The antenna's document with one case listed, and a copy a device
    /// changes with `change`; what the receiver says of the change.
    fn antenna_change(
        role: Role,
        change: impl FnOnce(&mut AntennaDoc, &Antenna, CaseId),
    ) -> Result<(), Refused> {
        let a = calais();
        let device = DeviceId::new();
        let mut doc = AntennaDoc::create(&a, &device).unwrap();
        let case = CaseId::new();
        doc.add_case(case, &CaseRef::opened(CaseKind::ShelterRequest, now()))
            .unwrap();
        let before = any(&doc);
        change(&mut doc, &a, case);
        check_write(
            role,
            *a.id.as_uuid(),
            Some(&before),
            &any(&doc),
            &facts(Subject::Antenna),
        )
    }

    fn with(a: &Antenna, edit: impl FnOnce(&mut Antenna)) -> Antenna {
        let mut a = a.clone();
        edit(&mut a);
        a
    }

    #[test]
    fn a_volunteers_tablet_lists_its_shifts_and_cases_but_changes_no_reference_data() {
        let listed = antenna_change(Role::Volunteer, |doc, _, _| {
            doc.add_case(CaseId::new(), &CaseRef::opened(CaseKind::Referral, now()))
                .unwrap();
        });
        assert_eq!(listed, Ok(()));
        let promoted = antenna_change(Role::Volunteer, |doc, a, _| {
            let mallory = with(a, |a| {
                a.volunteers.insert(
                    "Mallory".parse().unwrap(),
                    Volunteer {
                        role: ListedRole::Coordinator,
                        active: true,
                    },
                );
            });
            doc.set_antenna(&mallory).unwrap();
        });
        let err = promoted.unwrap_err();
        assert_eq!(err.code(), "reference_data");
        assert!(err.to_string().contains("volunteer list"), "{err}");
        for (part, edit) in [
            (
                "settings",
                Box::new(|a: &mut Antenna| a.settings.retention_days = 0)
                    as Box<dyn Fn(&mut Antenna)>,
            ),
            (
                "places",
                Box::new(|a: &mut Antenna| {
                    a.places.clear();
                }),
            ),
            (
                "catalogue",
                Box::new(|a: &mut Antenna| {
                    a.catalogue.clear();
                }),
            ),
        ] {
            let err = antenna_change(Role::Volunteer, |doc, a, _| {
                doc.set_antenna(&with(a, |a| edit(a))).unwrap();
            })
            .unwrap_err();
            assert!(err.to_string().contains(part), "{part}: {err}");
        }
        // A place found in the field, though, any tablet adds.
        let found = antenna_change(Role::Volunteer, |doc, a, _| {
            let a = with(a, |a| {
                a.places.insert(
                    "under-the-bridge".parse().unwrap(),
                    Place {
                        name: "Sous le pont".into(),
                        kind: PlaceKind::LivingPlace,
                        active: true,
                    },
                );
            });
            doc.set_antenna(&a).unwrap();
        });
        assert_eq!(found, Ok(()));
    }

    #[test]
    fn a_lead_adds_volunteers_but_leaves_the_catalogue_settings_and_who_leads_to_a_coordinator() {
        let newcomer = antenna_change(Role::Lead, |doc, a, _| {
            let a = with(a, |a| {
                a.volunteers.insert(
                    "Nour".parse().unwrap(),
                    Volunteer {
                        role: ListedRole::Volunteer,
                        active: true,
                    },
                );
            });
            doc.set_antenna(&a).unwrap();
        });
        assert_eq!(newcomer, Ok(()));
        for edit in [
            Box::new(|a: &mut Antenna| {
                a.places.clear();
            }) as Box<dyn Fn(&mut Antenna)>,
            Box::new(|a: &mut Antenna| {
                a.catalogue.clear();
            }),
        ] {
            let err = antenna_change(Role::Lead, |doc, a, _| {
                doc.set_antenna(&with(a, |a| edit(a))).unwrap();
            })
            .unwrap_err();
            assert!(err.to_string().contains("ask a coordinator"), "{err}");
        }
        let promoted = antenna_change(Role::Lead, |doc, a, _| {
            let a = with(a, |a| {
                a.volunteers.insert(
                    "Nour".parse().unwrap(),
                    Volunteer {
                        role: ListedRole::Lead,
                        active: true,
                    },
                );
            });
            doc.set_antenna(&a).unwrap();
        });
        assert!(
            promoted
                .unwrap_err()
                .to_string()
                .contains("ask a coordinator")
        );
        let retention = antenna_change(Role::Lead, |doc, a, _| {
            doc.set_antenna(&with(a, |a| a.settings.retention_days = 0))
                .unwrap();
        });
        assert_eq!(retention.unwrap_err().code(), "reference_data");
        let coordinator = antenna_change(Role::Coordinator, |doc, a, _| {
            doc.set_antenna(&with(a, |a| a.settings.retention_days = 7))
                .unwrap();
        });
        assert_eq!(coordinator, Ok(()));
    }

    #[test]
    fn only_a_leads_or_coordinators_tablet_erases_and_an_erased_case_stays_erased() {
        let erase = |doc: &mut AntennaDoc, case: CaseId, by: &str| {
            let line = doc.cases().unwrap()[&case].clone();
            let t = tombstone(
                &line,
                None,
                now(),
                ErasedBecause::Asked,
                Some(by.parse().unwrap()),
            );
            doc.erase_cases(&[(case, t)]).unwrap();
        };
        // A lead's nickname on a volunteer's tablet proves nothing.
        let forged = antenna_change(Role::Volunteer, |doc, _, case| erase(doc, case, "Mira"));
        assert_eq!(forged.unwrap_err().code(), "erasure_not_allowed");
        let by_retention = antenna_change(Role::Volunteer, |doc, _, case| {
            let line = doc.cases().unwrap()[&case].clone();
            let t = tombstone(&line, None, now(), ErasedBecause::Retention, None);
            doc.erase_cases(&[(case, t)]).unwrap();
        });
        assert_eq!(by_retention.unwrap_err().code(), "erasure_not_allowed");
        let by_lead = antenna_change(Role::Lead, |doc, _, case| erase(doc, case, "Mira"));
        assert_eq!(by_lead, Ok(()));

        // Un-erasing, or removing the line, is no one's to do.
        let a = calais();
        let device = DeviceId::new();
        let mut doc = AntennaDoc::create(&a, &device).unwrap();
        let case = CaseId::new();
        doc.add_case(case, &CaseRef::opened(CaseKind::ShelterRequest, now()))
            .unwrap();
        erase(&mut doc, case, "Mira");
        let before = any(&doc);
        let mut revived = any(&doc);
        let am = revived.automerge();
        let (_, cases) = am.get(automerge::ROOT, "cases").unwrap().unwrap();
        let (_, line) = am.get(&cases, case.to_string()).unwrap().unwrap();
        am.delete(&line, "erased_at").unwrap();
        let err = check_write(
            Role::Coordinator,
            *a.id.as_uuid(),
            Some(&before),
            &revived,
            &facts(Subject::Antenna),
        )
        .unwrap_err();
        assert_eq!(err.code(), "listing_changed");
        let mut removed = any(&doc);
        let am = removed.automerge();
        am.delete(&cases, case.to_string()).unwrap();
        let err = check_write(
            Role::Coordinator,
            *a.id.as_uuid(),
            Some(&before),
            &removed,
            &facts(Subject::Antenna),
        )
        .unwrap_err();
        assert_eq!(err.code(), "listing_changed");
    }

    #[test]
    fn no_one_changes_a_documents_schema_type_or_record() {
        // A document whose schema a device changed cannot be read as a
        // document at all: the door refuses it before the rules (as
        // malformed, or from a newer Maraude).
        let a = calais();
        for schema in [0_i64, 2, 99] {
            let mut doc = AntennaDoc::create(&a, &DeviceId::new()).unwrap();
            doc.automerge()
                .put(automerge::ROOT, "schema", schema)
                .unwrap();
            let read =
                AnyDocument::from_automerge_unread(doc.automerge_ref().clone(), &DeviceId::new());
            assert!(read.is_err(), "schema {schema} read");
        }
        // Nor as another kind of document.
        let before = AntennaDoc::create(&a, &DeviceId::new()).unwrap();
        let mut doc = AntennaDoc::create(&a, &DeviceId::new()).unwrap();
        doc.automerge()
            .put(automerge::ROOT, "type", "shift")
            .unwrap();
        let as_shift =
            AnyDocument::from_automerge_unread(doc.automerge_ref().clone(), &DeviceId::new());
        if let Ok(after) = as_shift {
            let err = check_write(
                Role::Coordinator,
                *a.id.as_uuid(),
                Some(&any(&before)),
                &after,
                &facts(Subject::Antenna),
            );
            assert!(err.is_err());
        }

        let shift = new_shift(&a, DeviceId::new());
        let err = check_write(
            Role::Lead,
            uuid::Uuid::now_v7(),
            None,
            &any(&shift),
            &facts(Subject::Unknown),
        )
        .unwrap_err();
        assert_eq!(err.code(), "wrong_record");
    }

    #[test]
    fn entries_and_their_history_are_never_removed_nor_rewritten() {
        let a = calais();
        let tab = DeviceId::new();
        let mut shift_doc = new_shift(&a, tab);
        let shift = shift_doc.shift().unwrap();
        let entry = blanket(2).into_entry(&a, &author("Jo", tab)).unwrap();
        shift_doc.log(&entry, &shift).unwrap();
        let edit = EntryEdit {
            at: entry.at,
            place: entry.place.clone(),
            content: blanket(3).content,
        };
        shift_doc
            .edit(&entry.id, edit, &shift, &a, &author("Mira", tab))
            .unwrap();
        let before = any(&shift_doc);
        let id = *shift.id.as_uuid();
        let subject = facts(Subject::Shift {
            date: shift.date,
            open: true,
        });

        let mut voided = any(&shift_doc);
        if let AnyDocument::Shift(d) = &mut voided {
            d.void(&entry.id, "twice", &author("Jo", tab)).unwrap();
        }
        assert_eq!(
            check_write(Role::Volunteer, id, Some(&before), &voided, &subject),
            Ok(())
        );

        let mut removed = any(&shift_doc);
        let am = removed.automerge();
        let (_, entries) = am.get(automerge::ROOT, "entries").unwrap().unwrap();
        am.delete(&entries, entry.id.to_string()).unwrap();
        let err = check_write(Role::Coordinator, id, Some(&before), &removed, &subject);
        assert_eq!(err.unwrap_err().code(), "evidence_rewritten");

        let mut rewritten = any(&shift_doc);
        let am = rewritten.automerge();
        let (_, line) = am.get(&entries, entry.id.to_string()).unwrap().unwrap();
        let (_, history) = am.get(&line, "history").unwrap().unwrap();
        assert_eq!(am.length(&history), 1);
        am.delete(&history, 0).unwrap();
        let err = check_write(Role::Lead, id, Some(&before), &rewritten, &subject);
        assert_eq!(err.unwrap_err().code(), "evidence_rewritten");
    }

    #[test]
    fn a_volunteers_tablet_writes_only_to_what_its_role_receives() {
        let a = calais();
        let tab = DeviceId::new();
        let shift = new_shift(&a, tab);
        let shift_id = *shift.shift().unwrap().id.as_uuid();
        let old = facts(Subject::Shift {
            date: today() - chrono::Days::new(10),
            open: false,
        });
        let err = check_write(
            Role::Volunteer,
            shift_id,
            Some(&any(&shift)),
            &any(&shift),
            &old,
        );
        assert_eq!(err.unwrap_err().code(), "out_of_scope");
        assert_eq!(
            check_write(Role::Lead, shift_id, Some(&any(&shift)), &any(&shift), &old),
            Ok(())
        );
        for subject in [Subject::Case { open: false }, Subject::Quarantined] {
            let err = check_write(
                Role::Volunteer,
                shift_id,
                Some(&any(&shift)),
                &any(&shift),
                &facts(subject),
            );
            assert_eq!(err.unwrap_err().code(), "out_of_scope", "{subject:?}");
        }
        // Nobody starts a second antenna but its coordinator.
        let antenna = AntennaDoc::create(&a, &tab).unwrap();
        let err = check_write(
            Role::Lead,
            *a.id.as_uuid(),
            None,
            &any(&antenna),
            &facts(Subject::Unknown),
        );
        assert_eq!(err.unwrap_err().code(), "new_document_refused");
        let err = check_write(
            Role::Lead,
            shift_id,
            None,
            &any(&shift),
            &facts(Subject::Erased),
        );
        assert_eq!(err.unwrap_err().code(), "out_of_scope");
    }

    #[test]
    fn a_document_nested_thousands_deep_is_refused_before_it_is_read() {
        let a = calais();
        let tab = DeviceId::new();
        let shift = new_shift(&a, tab);
        let id = *shift.shift().unwrap().id.as_uuid();
        let subject = facts(Subject::Shift {
            date: today(),
            open: true,
        });
        let before = any(&shift);
        let mut deep = any(&shift);
        let am = deep.automerge();
        let mut obj = automerge::ROOT;
        for _ in 0..20_000 {
            obj = am
                .put_object(&obj, "deeper", automerge::ObjType::Map)
                .unwrap();
        }
        // Reading it would overflow the stack; it is measured first.
        let err = check_write(Role::Lead, id, Some(&before), &deep, &subject).unwrap_err();
        assert_eq!(err.code(), "malformed_document");
        assert!(err.to_string().contains("nested"), "{err}");
        assert!(!crate::document::nested_deeper_than(
            shift.automerge_ref(),
            crate::document::MAX_NESTING
        ));
    }
}
