use maraude_core::Lang;
use maraude_core::case::{CaseAction, CaseRequest, NewCase, Outcome, Person};
use maraude_core::entry::{Composition, EntryContent, EntryEdit, NewEntry, Quantity};
use maraude_core::shift::ShiftEnd;
use maraude_store::{Store, StoreError};

use super::*;

#[test]
fn a_night_logged_then_reviewed_by_the_lead_shows_exactly_what_was_logged() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    for _ in 0..3 {
        t.store
            .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
            .unwrap();
    }
    t.store
        .log(&shift, &nick("Sam"), give("tea_coffee", 45, "dunes-north"))
        .unwrap();
    let wrong = t
        .store
        .log(
            &shift,
            &nick("Sam"),
            give("tea_coffee", 450, "hospital-bridge"),
        )
        .unwrap();
    t.store
        .void_entry(&wrong.id, &nick("Mira"), "typed 450 for 45")
        .unwrap();
    let count = NewEntry {
        at: None,
        place: Some("dunes-north".parse().unwrap()),
        content: EntryContent::Headcount {
            people: 70,
            composition: Composition {
                men: 60,
                women: 6,
                children: 4,
                minors_alone: 0,
            },
            vulnerable: 2,
        },
    };
    t.store.log(&shift, &nick("Jo"), count).unwrap();

    let mut end = ShiftEnd {
        ended_at: None,
        stock_returned: Default::default(),
        handover: "Plus de couvertures demain".into(),
    };
    end.stock_returned.insert("blanket".parse().unwrap(), 37);
    t.store.end_shift(&shift, end).unwrap();

    let r = t.store.night_report(&shift, Lang::Fr).unwrap();
    assert_eq!(r.distributed("blanket"), 3);
    assert_eq!(r.distributed("tea_coffee"), 45);
    assert_eq!(r.people_met.total, 70);
    assert_eq!(r.voided, 1);
    let blanket = r
        .stock
        .iter()
        .find(|s| s.item.as_str() == "blanket")
        .unwrap();
    assert_eq!(
        (
            blanket.loaded,
            blanket.distributed,
            blanket.returned,
            blanket.unaccounted
        ),
        (40, 3, 37, Some(0))
    );
    let text = maraude_core::report::night_text(&r, Lang::Fr);
    assert!(text.contains("Couverture: 3"), "{text}");
    assert!(text.contains("Plus de couvertures demain"), "{text}");
}

#[test]
fn a_correction_keeps_the_old_value_in_the_history() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let e = t
        .store
        .log(&shift, &nick("Jo"), give("blanket", 2, "dunes-north"))
        .unwrap();
    let mut content = e.content.clone();
    if let EntryContent::Distribution { quantity, .. } = &mut content {
        *quantity = Quantity::new(3).unwrap();
    }
    t.store
        .edit_entry(
            &e.id,
            &nick("Mira"),
            EntryEdit {
                at: e.at,
                place: e.place.clone(),
                content,
            },
        )
        .unwrap();
    let after = t.store.entry(&e.id).unwrap();
    assert_eq!(after.history.len(), 1);
    assert_eq!(after.history[0].by.as_str(), "Mira");
    let json = serde_json::to_value(&after.history[0]).unwrap();
    assert_eq!(json["changes"]["quantity"], serde_json::json!([2, 3]));
    assert_eq!(
        t.store
            .night_report(&shift, Lang::En)
            .unwrap()
            .distributed("blanket"),
        3
    );
    // and by its short id, as the app shows it
    assert_eq!(t.store.find_entry(&e.id.short()).unwrap(), e.id);
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let before = t.store.index_dump().unwrap();
    let stats_before = t.store.stats().unwrap();
    let unknown = NewEntry {
        place: None,
        ..give("blanket", 1, "dunes-north")
    };
    let unknown = NewEntry {
        content: EntryContent::Distribution {
            what: None,
            item: "blankett".parse().unwrap(),
            size: None,
            quantity: Quantity::new(1).unwrap(),
            people: None,
            composition: Composition::default(),
        },
        ..unknown
    };
    let err = t.store.log(&shift, &nick("Jo"), unknown).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "unknown item \"blankett\" in antenna Calais; known items: hot_meal, tea_coffee"
        ),
        "{err}"
    );
    let err = t
        .store
        .log(&shift, &nick("Jo"), give("blanket", 1, "the-moon"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid(maraude_core::Invalid::UnknownPlace { .. })
        ),
        "{err}"
    );
    let note = NewEntry {
        at: None,
        place: None,
        content: EntryContent::Note {
            text: "appeler le 06 12 34 56 78".into(),
        },
    };
    assert!(
        t.store
            .log(&shift, &nick("Jo"), note)
            .unwrap_err()
            .to_string()
            .contains("personal data belongs in a follow-up case")
    );
    assert_eq!(t.store.index_dump().unwrap(), before);
    assert_eq!(t.store.stats().unwrap().chunks, stats_before.chunks);
}

#[test]
fn a_shelter_request_is_opened_followed_and_closed_across_shifts() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let new = NewCase {
        person: Person {
            alias: "Amina R".into(),
            age_group: None,
            languages: ["ar".to_string()].into(),
            phone: Some("+33 6 11 22 33 44".into()),
        },
        request: CaseRequest::Shelter {
            household_size: 3,
            composition: Composition {
                women: 1,
                children: 2,
                ..Default::default()
            },
            vulnerabilities: [maraude_core::case::Vulnerability::Baby].into(),
            called_115: true,
            answer_115: Some("pas de place ce soir".into()),
        },
    };
    let (case, _) = t
        .store
        .open_case(
            &shift,
            &nick("Jo"),
            new,
            Some("dunes-north".parse().unwrap()),
            None,
        )
        .unwrap();
    let open = t.store.follow_ups().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].alias, "Amina R");
    assert!(open[0].urgent, "a baby makes the request urgent");

    let next = night_shift(&mut t.store);
    t.store
        .act_on_case(
            &case.id,
            &nick("Mira"),
            CaseAction::Note {
                note: "115 rappelé, toujours rien".into(),
            },
            Some(next),
        )
        .unwrap();
    t.store
        .act_on_case(
            &case.id,
            &nick("Mira"),
            CaseAction::Closed {
                outcome: Outcome::Placed {
                    place: "CHU Calais".into(),
                },
            },
            Some(next),
        )
        .unwrap();
    assert!(t.store.follow_ups().unwrap().is_empty());
    let r = t.store.night_report(&shift, Lang::En).unwrap();
    assert_eq!(r.shelter_requests[0].outcome.as_deref(), Some("placed"));
    assert_eq!(t.store.case(&case.id).unwrap().updates.len(), 2);
}

#[test]
fn the_incremental_index_equals_the_rebuilt_one() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    for i in 0..80 {
        let e = t
            .store
            .log(
                &shift,
                &nick("Jo"),
                give("blanket", 1 + i % 3, "dunes-north"),
            )
            .unwrap();
        if i % 10 == 0 {
            t.store.void_entry(&e.id, &nick("Mira"), "doublon").unwrap();
        }
    }
    let stats = t.store.stats().unwrap();
    assert!(
        stats.chunks < 100,
        "compaction keeps the chunk count bounded: {}",
        stats.chunks
    );
    let incremental = t.store.index_dump().unwrap();
    t.store.rebuild_index().unwrap();
    assert_eq!(t.store.index_dump().unwrap(), incremental);
}

#[test]
fn reopening_the_store_finds_everything() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    t.store
        .log(&shift, &nick("Jo"), give("blanket", 4, "dunes-north"))
        .unwrap();
    let path = t.path();
    drop(t.store);
    let store = Store::open(&path, &passphrase()).unwrap();
    assert_eq!(
        store
            .night_report(&shift, Lang::En)
            .unwrap()
            .distributed("blanket"),
        4
    );
    assert_eq!(store.current_shift().unwrap().id, shift);
}

/// The app and the CLI may hold the same file open: each keeps the current
/// shift loaded between taps, and must still see what the other wrote.
#[test]
fn two_handles_on_one_file_log_into_the_same_shift_without_losing_either() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let mut other = Store::open(&t.path(), &passphrase()).unwrap();
    for round in 0..3 {
        t.store
            .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
            .unwrap();
        other
            .log(&shift, &nick("Sam"), give("blanket", 1, "dunes-north"))
            .unwrap();
        assert_eq!(t.store.entries(&shift).unwrap().len(), 2 * (round + 1));
    }
    let both = |store: &Store| {
        store
            .night_report(&shift, Lang::En)
            .unwrap()
            .distributed("blanket")
    };
    assert_eq!(both(&t.store), 6);
    assert_eq!(both(&other), 6);
    // The documents themselves, not only the index, hold all six.
    drop(other);
    t.store.rebuild_index().unwrap();
    assert_eq!(both(&t.store), 6);
    assert_eq!(t.store.entries(&shift).unwrap().len(), 6);
}

/// The period report reads only the figures it needs; it must say what the
/// core says when fed every row of the same period one by one.
#[test]
fn the_period_report_equals_the_core_tally_of_every_row() {
    use maraude_core::report::PeriodTally;
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    for (item, n, place) in [
        ("blanket", 2, "dunes-north"),
        ("tea_coffee", 30, "hospital-bridge"),
        ("blanket", 1, "hospital-bridge"),
    ] {
        t.store
            .log(&shift, &nick("Jo"), give(item, n, place))
            .unwrap();
    }
    let wrong = t
        .store
        .log(&shift, &nick("Jo"), give("blanket", 9, "dunes-north"))
        .unwrap();
    t.store
        .void_entry(&wrong.id, &nick("Mira"), "twice")
        .unwrap();
    for (people, place) in [
        (40, "dunes-north"),
        (12, "hospital-bridge"),
        (45, "dunes-north"),
    ] {
        let count = NewEntry {
            at: None,
            place: Some(place.parse().unwrap()),
            content: EntryContent::Headcount {
                people,
                composition: Composition::default(),
                vulnerable: 1,
            },
        };
        t.store.log(&shift, &nick("Sam"), count).unwrap();
    }
    let day = t.store.shift(&shift).unwrap().date;
    let antenna = t.store.antenna().unwrap();
    let mut tally = PeriodTally::new(&antenna, day, day);
    // The store holds this one shift: it says it holds records from its day.
    tally.held_since(Some(day));
    for s in t.store.shifts(day, day).unwrap() {
        tally.add_shift(&(&s).into());
    }
    t.store
        .for_each_row(day, day, |row| tally.add_entry(row))
        .unwrap();
    let report = t.store.period_report(day, day, Lang::En).unwrap();
    // Cases are added from their summaries by both; none were opened here.
    assert_eq!(report, tally.finish(&antenna, Lang::En));
    assert_eq!(report.distributed("blanket"), 3);
    assert_eq!(report.people_met, 97);
    let census: u32 = report.census.iter().map(|c| c.people).sum();
    assert_eq!(census, 45 + 12, "the latest headcount of each place");
}

#[test]
fn undo_takes_back_this_tablets_last_entry_then_the_one_before_then_says_nothing_is_left() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let first = t
        .store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    let second = t
        .store
        .log(&shift, &nick("Jo"), give("blanket", 2, "dunes-north"))
        .unwrap();
    assert_eq!(
        t.store.undo_last(&shift, &nick("Jo")).unwrap().id,
        second.id
    );
    let undone = t.store.undo_last(&shift, &nick("Jo")).unwrap();
    assert_eq!(undone.id, first.id);
    assert!(undone.is_voided());
    assert!(matches!(
        t.store.undo_last(&shift, &nick("Jo")),
        Err(StoreError::NothingToUndo)
    ));
    assert_eq!(t.store.night_report(&shift, Lang::En).unwrap().voided, 2);
}

#[test]
fn recent_shifts_go_by_the_paris_day_so_a_shift_started_after_midnight_is_listed() {
    use chrono::{TimeZone, Utc};
    let mut t = calais();
    let start = |store: &mut Store, at| {
        store
            .start_shift(maraude_core::shift::NewShift {
                kind: maraude_core::shift::ShiftKind::NightMaraude,
                started_at: Some(at),
                lead: nick("Mira"),
                team: Default::default(),
                vehicle: None,
                stock_loaded: Default::default(),
            })
            .unwrap()
            .id
    };
    // 00:30 in Calais on 21 November is still the 20th in UTC.
    let after_midnight = start(
        &mut t.store,
        Utc.with_ymd_and_hms(2026, 11, 20, 23, 30, 0).unwrap(),
    );
    let three_weeks_before = start(
        &mut t.store,
        Utc.with_ymd_and_hms(2026, 10, 30, 19, 0, 0).unwrap(),
    );
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 23, 45, 0).unwrap();
    let listed: Vec<_> = t
        .store
        .recent_shifts(now, 14)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![after_midnight]);
    assert!(!listed.contains(&three_weeks_before));
}

#[test]
fn the_antennas_settings_are_a_coordinators_and_bounded() {
    use maraude_core::antenna::{ReferenceChange, Settings};
    let mut t = calais();
    let before = t.store.antenna().unwrap().settings;
    let settings = |minutes| ReferenceChange::Settings {
        settings: Settings {
            place_reminder_minutes: minutes,
            ..before.clone()
        },
    };
    // The tablet that created the antenna is its coordinator's.
    let changed = t.store.change_reference(&settings(45)).unwrap();
    assert_eq!(changed.settings.place_reminder_minutes, 45);
    // Two days is past the most a reminder waits: refused, nothing written.
    let err = t.store.change_reference(&settings(2880)).unwrap_err();
    assert!(err.to_string().contains("between 0 and 1440"), "{err}");
    assert_eq!(
        t.store.antenna().unwrap().settings.place_reminder_minutes,
        45
    );
    // A lead's tablet (its role certified by the server) is refused.
    t.store
        .set_server_link(&maraude_store::ServerLink {
            url: "https://maraude.example.org/".into(),
            role: "lead".into(),
            credential: secrecy::SecretString::from("credential".to_string()),
            certificate: None,
        })
        .unwrap();
    let err = t.store.change_reference(&settings(5)).unwrap_err();
    assert!(err.to_string().contains("coordinator"), "{err}");
    assert_eq!(
        t.store.antenna().unwrap().settings.place_reminder_minutes,
        45
    );
}

/// Starting a shift and logging into it write the shift's own document
/// only: the antenna's, which every tablet of the antenna shares, stays as
/// it was. When each shift was listed there, 500 tablets syncing at once
/// each carried the lines of the 499 others (the crowd bench).
#[test]
fn starting_a_shift_and_logging_leave_the_antenna_document_alone() {
    let mut t = calais();
    let antenna = maraude_store::document_id(t.store.antenna().unwrap().id.as_uuid());
    let before = t.store.recorded_heads(&antenna).unwrap();
    assert!(before.is_some(), "the antenna's document is recorded");
    let shift = night_shift(&mut t.store);
    t.store
        .log(&shift, &nick("Jo"), give("blanket", 1, "dunes-north"))
        .unwrap();
    assert_eq!(t.store.recorded_heads(&antenna).unwrap(), before);
    assert!(t.store.shift(&shift).is_ok());
}
