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
