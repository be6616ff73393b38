//! A lead's tablet keeps four weeks of shifts in detail; older ones, once
//! the server holds them, leave it but for their figures.

use chrono::{Duration, NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::entry::{EntryContent, NewEntry};
use maraude_core::shift::{NewShift, ShiftEnd, ShiftKind};
use maraude_store::forensic::readable;

use crate::{calais, give, nick, passphrase};

const SERVER: &str = "server-calais";

/// A shift `days_ago`, with two distributions and a note, ended.
fn shift_days_ago(store: &mut maraude_store::Store, days_ago: i64, note: &str) {
    let started = Utc::now() - Duration::days(days_ago);
    let shift = store
        .start_shift(NewShift {
            kind: ShiftKind::NightMaraude,
            started_at: Some(started),
            lead: nick("Mira"),
            team: [nick("Jo")].into(),
            vehicle: Some("Trafic blanc".into()),
            stock_loaded: Default::default(),
        })
        .unwrap()
        .id;
    for (i, entry) in [
        give("blanket", 3, "dunes-north"),
        give("tea_coffee", 20, "hospital-bridge"),
        NewEntry {
            at: None,
            place: None,
            content: EntryContent::Note { text: note.into() },
        },
    ]
    .into_iter()
    .enumerate()
    {
        let at = started + Duration::minutes(10 * (i as i64 + 1));
        store
            .log(
                &shift,
                &nick("Jo"),
                NewEntry {
                    at: Some(at),
                    ..entry
                },
            )
            .unwrap();
    }
    store
        .end_shift(
            &shift,
            ShiftEnd {
                ended_at: Some(started + Duration::hours(3)),
                stock_returned: Default::default(),
                handover: format!("{note} (handover)"),
            },
        )
        .unwrap();
}

/// The server now holds every document as this store has it.
fn all_sent(store: &mut maraude_store::Store) {
    let docs = store.changed_for(SERVER).unwrap();
    let shared: Vec<_> = docs
        .into_iter()
        .map(|d| {
            let heads = store.recorded_heads(&d).unwrap().unwrap();
            (d, heads)
        })
        .collect();
    store.mark_shared(SERVER, &shared).unwrap();
}

#[test]
fn old_shifts_the_server_holds_leave_a_leads_tablet_but_for_their_figures() {
    let mut t = calais();
    shift_days_ago(&mut t.store, 200, "Karim témoin au pont");
    shift_days_ago(&mut t.store, 40, "Ahmed vu à la gare");
    shift_days_ago(&mut t.store, 3, "Nour, rendez-vous mardi");
    all_sent(&mut t.store);
    // A shift the server does not hold yet: a correction made offline.
    shift_days_ago(&mut t.store, 100, "Samir, pas encore envoyé");

    let year = |s: &maraude_store::Store| {
        let today = maraude_core::time::paris_date(Utc::now());
        s.period_report(today - chrono::Days::new(365), today, Lang::En)
            .unwrap()
    };
    let before = year(&t.store);
    let rows = |s: &maraude_store::Store| {
        let mut rows = Vec::new();
        s.for_each_row(NaiveDate::MIN, NaiveDate::MAX, |r| {
            rows.push((r.entry, r.shift, r.kind, r.quantity))
        })
        .unwrap();
        rows.sort_by_key(|r| r.0.to_string());
        rows
    };
    let exported = rows(&t.store);
    let minimised = t.store.minimise(Utc::now(), SERVER).unwrap();
    assert_eq!(
        (minimised.shifts, minimised.waiting),
        (2, 1),
        "{minimised:?}"
    );

    // The reports over the year are the same.
    let after = year(&t.store);
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
    // And the rows an export reads, with their entry and shift ids.
    assert_eq!(rows(&t.store), exported);
    // The recent and the unsent shifts are there in detail; the old ones
    // are not, nor any of their words, in the decrypted file.
    let held: Vec<NaiveDate> = t
        .store
        .shifts(NaiveDate::MIN, NaiveDate::MAX)
        .unwrap()
        .iter()
        .map(|s| s.date)
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    let path = t.path();
    drop(t.store);
    for gone in ["Karim", "Ahmed"] {
        assert!(
            !readable(&path, &passphrase(), gone).unwrap(),
            "{gone} is readable"
        );
    }
    for kept in ["Nour, rendez-vous", "Samir, pas encore"] {
        assert!(
            readable(&path, &passphrase(), kept).unwrap(),
            "{kept} is gone"
        );
    }

    // A rebuilt index keeps the figures; a second pass changes nothing.
    let mut store = maraude_store::Store::open(&path, &passphrase()).unwrap();
    store.rebuild_index().unwrap();
    assert_eq!(
        serde_json::to_value(year(&store)).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
    assert_eq!(store.minimise(Utc::now(), SERVER).unwrap().shifts, 0);
}
