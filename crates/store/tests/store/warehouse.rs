//! The warehouse on a real store: a donation received, a van loaded and
//! back, and two tablets receiving donations offline that both count.

use maraude_core::Lang;
use maraude_core::shift::ShiftEnd;
use maraude_core::warehouse::{NewChange, NewMovement, Source};
use maraude_store::Store;

use crate::merge::{second_tablet, sync_one_way};
use crate::{calais, nick, night_shift, passphrase};

fn donation(item: &str, quantity: u32) -> NewMovement {
    NewMovement {
        item: item.parse().unwrap(),
        size: None,
        change: NewChange::Receipt {
            quantity,
            source: Source::Donation,
            from: "Secours populaire".into(),
        },
    }
}

fn on_hand(store: &Store, item: &str) -> i64 {
    store
        .stock(Lang::En)
        .unwrap()
        .lines
        .iter()
        .find(|l| l.item.as_str() == item)
        .map_or(0, |l| l.on_hand)
}

#[test]
fn the_warehouse_stock_moves_with_receipts_and_the_vans() {
    let mut t = calais();
    t.store
        .record_movement(&nick("Sam"), donation("blanket", 100))
        .unwrap();
    assert_eq!(on_hand(&t.store, "blanket"), 100);

    // Tonight's van loads 40 blankets and brings 7 back.
    let shift = night_shift(&mut t.store);
    assert_eq!(on_hand(&t.store, "blanket"), 60);
    t.store
        .end_shift(
            &shift,
            ShiftEnd {
                ended_at: None,
                stock_returned: [("blanket".parse().unwrap(), 7)].into(),
                handover: String::new(),
            },
        )
        .unwrap();
    assert_eq!(on_hand(&t.store, "blanket"), 67);

    // A transfer of more than the shelves hold is refused, nothing written.
    let out = NewMovement {
        item: "blanket".parse().unwrap(),
        size: None,
        change: NewChange::TransferOut {
            quantity: 80,
            to: "Grande-Synthe".into(),
        },
    };
    let err = t.store.record_movement(&nick("Sam"), out).unwrap_err();
    assert_eq!(err.code(), "not_enough_stock");
    assert!(err.to_string().contains("holds 67 blanket"), "{err}");
    assert_eq!(t.store.movements().unwrap().len(), 1);

    // The figures are the same once the file is opened again.
    let path = t.path();
    drop(t.store);
    let again = Store::open(&path, &passphrase()).unwrap();
    assert_eq!(on_hand(&again, "blanket"), 67);
    let needs = again
        .needs(
            maraude_core::time::paris_date(chrono::Utc::now()),
            14,
            Lang::En,
        )
        .unwrap();
    assert_eq!(needs.days, 14);
}

#[test]
fn two_tablets_receiving_donations_offline_both_count() {
    let mut one = calais();
    let mut two = second_tablet(&one);
    // Neither has a warehouse yet: each starts it, apart.
    one.store
        .record_movement(&nick("Sam"), donation("sleeping_bag", 30))
        .unwrap();
    two.store
        .record_movement(&nick("Noor"), donation("sleeping_bag", 12))
        .unwrap();
    sync_one_way(&one.store, &mut two.store);
    sync_one_way(&two.store, &mut one.store);
    for s in [&one.store, &two.store] {
        assert_eq!(on_hand(s, "sleeping_bag"), 42);
        assert_eq!(s.movements().unwrap().len(), 2);
    }
}

#[test]
fn shoes_are_counted_per_size_from_receipts_counts_and_what_was_given() {
    use maraude_core::entry::EntryContent;

    let mut t = calais();
    let sized = |size: &str, change: NewChange| NewMovement {
        item: "shoes".parse().unwrap(),
        size: Some(size.into()),
        change,
    };
    let received = |quantity| NewChange::Receipt {
        quantity,
        source: Source::Donation,
        from: String::new(),
    };
    t.store
        .record_movement(&nick("Sam"), sized("42", received(10)))
        .unwrap();
    t.store
        .record_movement(&nick("Sam"), sized("43", received(2)))
        .unwrap();
    // Tonight gives 3 pairs of 42 and takes nothing else of the warehouse's.
    let shift = night_shift(&mut t.store);
    let mut three = crate::give("shoes", 3, "dunes-north");
    if let EntryContent::Distribution { size, .. } = &mut three.content {
        *size = Some("42".into());
    }
    t.store.log(&shift, &nick("Jo"), three).unwrap();
    let size = |store: &Store, s: &str| {
        let stock = store.stock(Lang::En).unwrap();
        let line = stock
            .lines
            .into_iter()
            .find(|l| l.item.as_str() == "shoes")
            .unwrap();
        line.sizes.into_iter().find(|l| l.size == s).unwrap()
    };
    assert_eq!(size(&t.store, "42").on_hand, 7);
    assert_eq!(size(&t.store, "42").given, 3);

    // The shelves hold 5 pairs of 42: the count corrects that size by its
    // own figure (7), not the item's.
    t.store
        .record_movement(
            &nick("Sam"),
            sized(
                "42",
                NewChange::Count {
                    counted: 5,
                    reason: "two pairs torn".into(),
                },
            ),
        )
        .unwrap();
    assert_eq!(size(&t.store, "42").on_hand, 5);
    // More pairs of 43 sent away than that size holds: refused.
    let out = sized(
        "43",
        NewChange::TransferOut {
            quantity: 3,
            to: "Grande-Synthe".into(),
        },
    );
    let err = t.store.record_movement(&nick("Sam"), out).unwrap_err();
    assert_eq!(err.code(), "not_enough_stock");

    // Indexed from the documents again, the sizes read the same.
    let before = t.store.index_dump().unwrap();
    t.store.rebuild_index().unwrap();
    assert_eq!(t.store.index_dump().unwrap(), before);
    assert_eq!(size(&t.store, "42").on_hand, 5);
}

/// A night that began before the warehouse's first movement took its load
/// from shelves the stock does not count yet: what it gives after that
/// movement is not taken from the sizes either, as its load is not taken
/// from the item (the app showed 11 pairs of 42 beside 12 in stock, from a
/// night that crossed midnight).
#[test]
fn a_night_begun_before_the_first_movement_takes_nothing_from_the_sizes() {
    use maraude_core::entry::EntryContent;

    let mut t = calais();
    let shift = night_shift(&mut t.store);
    t.store
        .record_movement(
            &nick("Sam"),
            NewMovement {
                item: "shoes".parse().unwrap(),
                size: Some("42".into()),
                change: NewChange::Receipt {
                    quantity: 12,
                    source: Source::Donation,
                    from: String::new(),
                },
            },
        )
        .unwrap();
    let mut one = crate::give("shoes", 1, "dunes-north");
    if let EntryContent::Distribution { size, .. } = &mut one.content {
        *size = Some("42".into());
    }
    t.store.log(&shift, &nick("Jo"), one).unwrap();
    let stock = t.store.stock(Lang::En).unwrap();
    let shoes = stock
        .lines
        .into_iter()
        .find(|l| l.item.as_str() == "shoes")
        .unwrap();
    assert_eq!(shoes.on_hand, 12);
    let size_42 = shoes.sizes.iter().find(|l| l.size == "42").unwrap();
    assert_eq!(size_42.on_hand, 12, "{shoes:?}");
    assert_eq!(size_42.given, 0);
}
