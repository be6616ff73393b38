//! A lead's tablet keeps four weeks of shifts in detail; older ones, once
//! the server holds them, leave it but for their figures.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::entry::{EntryContent, NewEntry};
use maraude_core::shift::{NewShift, ShiftEnd, ShiftKind};
use maraude_store::forensic::readable;

use crate::{calais, give, nick, passphrase};

const SERVER: &str = "server-calais";

/// A shift `days_ago`, with three distributions (two of blankets at one
/// place, which its figures add up) and a note, ended.
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
        give("blanket", 2, "dunes-north"),
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

type RowKey = (String, String, Option<String>, Option<String>);

/// What the rows an export reads add up to per shift, kind, item and
/// place: entries and quantities.
fn rows(s: &maraude_store::Store) -> BTreeMap<RowKey, (u32, u32)> {
    let mut sums = BTreeMap::new();
    s.for_each_row(NaiveDate::MIN, NaiveDate::MAX, |r| {
        let key = (
            r.shift.to_string(),
            r.kind.as_str().to_string(),
            r.item.as_ref().map(|i| i.to_string()),
            r.place.as_ref().map(|p| p.to_string()),
        );
        let sum: &mut (u32, u32) = sums.entry(key).or_default();
        sum.0 += r.entries;
        sum.1 += r.quantity;
    })
    .unwrap();
    sums
}

fn row_count(s: &maraude_store::Store) -> usize {
    let mut n = 0;
    s.for_each_row(NaiveDate::MIN, NaiveDate::MAX, |_| n += 1)
        .unwrap();
    n
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
    let exported = rows(&t.store);
    let row_count_before = row_count(&t.store);
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
    // And what the rows an export reads add up to, shift by shift; the
    // two blanket entries of each old shift are one row of 2 entries.
    assert_eq!(rows(&t.store), exported);
    assert_eq!(row_count(&t.store), row_count_before - 2);
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

    // Its detail asked back (this store is its antenna's coordinator's):
    // by the end of its id, as the list shows it; a blank or a pattern is
    // no id, and a shift held in detail has nothing to bring back.
    let old = store
        .figures_only_shifts(NaiveDate::MIN, NaiveDate::MAX)
        .unwrap();
    assert_eq!(old.len(), 2, "{old:?}");
    for bad in ["", "  ", "%", "____"] {
        let err = store.want_detail(bad, Utc::now()).unwrap_err();
        assert_eq!(err.code(), "bad_id", "{bad:?}: {err}");
    }
    let recent = store.shifts(NaiveDate::MIN, NaiveDate::MAX).unwrap()[0].id;
    let err = store.want_detail(&recent.short(), Utc::now()).unwrap_err();
    assert_eq!(err.code(), "already_in_detail", "{err}");
    assert!(store.wanted_detail().unwrap().is_empty());
    let asked = store.want_detail(&old[0].id.short(), Utc::now()).unwrap();
    assert!(asked.asked && asked.id == old[0].id);
    // The shift's document and its tablet's log.
    assert_eq!(store.wanted_detail().unwrap().len(), 2);
}

/// Where the antenna asks, an old shift's figures keep each place's kind,
/// not the place: the year's totals are the same, the places table adds
/// old shifts up by kind, and no old row names a place.
#[test]
fn an_antenna_can_keep_old_figures_by_place_kind_only() {
    let mut t = calais();
    t.store
        .update_antenna(|a| {
            a.settings.old_places_by_kind = true;
            if let Some(p) = a.places.get_mut(&"hospital-bridge".parse()?) {
                p.kind = maraude_core::antenna::PlaceKind::DistributionPoint;
            }
            Ok(())
        })
        .unwrap();
    shift_days_ago(&mut t.store, 60, "Karim");
    shift_days_ago(&mut t.store, 50, "Ahmed");
    shift_days_ago(&mut t.store, 2, "Nour");
    all_sent(&mut t.store);
    let today = maraude_core::time::paris_date(Utc::now());
    let year = |s: &maraude_store::Store| {
        s.period_report(today - chrono::Days::new(365), today, Lang::En)
            .unwrap()
    };
    let before = year(&t.store);
    assert_eq!(t.store.minimise(Utc::now(), SERVER).unwrap().shifts, 2);
    let after = year(&t.store);
    assert_eq!(after.items, before.items);
    assert_eq!(after.months, before.months);
    assert_eq!(after.weeks, before.weeks);
    let mut lines: Vec<(String, u32)> = after
        .places
        .iter()
        .map(|p| (p.name.clone(), p.distributed))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            (
                "Distribution points (older shifts, by kind)".to_string(),
                40
            ),
            ("Dunes nord".to_string(), 5),
            ("Living places (older shifts, by kind)".to_string(), 10),
            ("Pont de l'hôpital".to_string(), 20),
            // The notes, at no place.
            ("—".to_string(), 0),
        ]
    );
    let mut old_places = Vec::new();
    t.store
        .for_each_row(NaiveDate::MIN, today - chrono::Days::new(28), |r| {
            old_places.push((r.place.clone(), r.place_kind))
        })
        .unwrap();
    assert!(!old_places.is_empty());
    assert!(
        old_places.iter().all(|(place, _)| place.is_none()),
        "{old_places:?}"
    );
}
