//! A coordinator's tablet keeps four weeks in detail: once the real server
//! holds an older shift, it leaves the tablet at the sync but for its
//! figures, and does not come back at the next sync. Asked for
//! (`maraude shift detail`), its detail comes back from the server at the
//! next sync, counted once, and leaves again two days later.

use chrono::{Duration, Utc};
use maraude_core::entry::{Composition, EntryContent, NewEntry, Quantity};
use maraude_core::shift::{NewShift, ShiftEnd, ShiftKind};
use maraude_store::forensic::readable;
use maraude_store::{Passphrase, Store};
use serde_json::Value;

use crate::a_team_syncs::{join, open, register, sync};
use crate::server::Server;
use crate::tablet::{PASSPHRASE, Tablet};

const OLD_NOTE: &str = "Karim a vu la police au pont";
const RECENT_NOTE: &str = "Nour, rendez-vous mardi";

/// An ended night shift `days_ago`, with two blanket distributions at the
/// dunes and a note; its id.
pub(crate) fn old_night(store: &mut Store, days_ago: i64, note: &str) -> String {
    let started = Utc::now() - Duration::days(days_ago);
    let shift = store
        .start_shift(NewShift {
            kind: ShiftKind::NightMaraude,
            started_at: Some(started),
            lead: "Mira".parse().unwrap(),
            team: ["Jo".parse().unwrap()].into(),
            vehicle: None,
            stock_loaded: Default::default(),
        })
        .unwrap()
        .id;
    let blanket = |n| EntryContent::Distribution {
        what: None,
        item: "blanket".parse().unwrap(),
        size: None,
        quantity: Quantity::new(n).unwrap(),
        people: None,
        composition: Composition::default(),
    };
    for (i, content) in [
        blanket(3),
        blanket(4),
        EntryContent::Note { text: note.into() },
    ]
    .into_iter()
    .enumerate()
    {
        let place = matches!(content, EntryContent::Distribution { .. })
            .then(|| "dunes-north".parse().unwrap());
        let entry = NewEntry {
            at: Some(started + Duration::minutes(10 * (i as i64 + 1))),
            place,
            content,
        };
        store.log(&shift, &"Jo".parse().unwrap(), entry).unwrap();
    }
    store
        .end_shift(
            &shift,
            ShiftEnd {
                ended_at: Some(started + Duration::hours(3)),
                stock_returned: Default::default(),
                handover: String::new(),
            },
        )
        .unwrap();
    shift.to_string()
}

fn year(tablet: &Tablet) -> Value {
    let mut report = tablet.json(["report", "period", "--from", "2000-01-01"]);
    // The weeks' series starts at the first day held, which is the same.
    report.as_object_mut().unwrap().remove("held_since");
    report
}

fn held_in_detail(tablet: &Tablet, shift: &str) -> bool {
    let from = (Utc::now() - Duration::days(400)).date_naive().to_string();
    let list = tablet.json(["shift", "list", "--from", &from]);
    list.as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"].as_str() == Some(shift))
}

fn figures_only(tablet: &Tablet) -> Vec<Value> {
    let from = (Utc::now() - Duration::days(400)).date_naive().to_string();
    tablet
        .json(["shift", "list", "--figures-only", "--from", &from])
        .as_array()
        .unwrap()
        .clone()
}

/// A coordinator's tablet registered with `server`, with the place and
/// the lead [`old_night`] names.
pub(crate) fn coordinator_for_old_nights(server: &Server) -> Tablet {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["place", "add", "dunes-north", "--name", "Dunes nord"]);
    coordinator.ok(["volunteer", "add", "Mira", "--role", "lead"]);
    register(&coordinator, server);
    coordinator
}

#[test]
fn an_old_shift_leaves_a_coordinators_tablet_at_the_sync_and_comes_back_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_for_old_nights(&server);
    let (old, recent) = {
        let mut store = open(&coordinator);
        (
            old_night(&mut store, 45, OLD_NOTE),
            old_night(&mut store, 3, RECENT_NOTE),
        )
    };
    let before = year(&coordinator);
    assert_eq!(before["items"][0]["distributed"], 14, "{before}");

    // The sync sends both; the old one then leaves the tablet's detail.
    sync(&coordinator);
    assert!(!held_in_detail(&coordinator, &old));
    assert!(held_in_detail(&coordinator, &recent));
    let kept = figures_only(&coordinator);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["id"].as_str(), Some(old.as_str()));
    assert_eq!(year(&coordinator), before);
    let pass = Passphrase::new(PASSPHRASE.into());
    let readable = |text| readable(coordinator.store(), &pass, text).unwrap();
    assert!(!readable(OLD_NOTE), "the old note is gone from the file");
    assert!(readable(RECENT_NOTE));

    // A lead's tablet keeps the same four weeks, and may not ask for more:
    // the detail of past months is the coordinator's to look into.
    let lead = join(&coordinator, &server, "lead");
    sync(&lead);
    assert!(!held_in_detail(&lead, &old));
    assert!(held_in_detail(&lead, &recent));
    assert_eq!(year(&lead), before);
    let refused = lead.refused(["shift", "detail", &old]);
    assert!(refused.contains("only a coordinator"), "{refused}");

    // Another sync does not bring it back.
    sync(&coordinator);
    assert!(!held_in_detail(&coordinator, &old));
    assert_eq!(year(&coordinator), before);

    // Asked for, it comes back at the next sync, whole, and counts once.
    let asked = coordinator.json(["shift", "detail", &old[old.len() - 6..]]);
    assert_eq!(asked["asked"], true, "{asked}");
    sync(&coordinator);
    assert!(held_in_detail(&coordinator, &old), "the detail came back");
    let entries = coordinator.json(["entries", "--shift", &old]);
    let text = entries.to_string();
    assert!(text.contains(OLD_NOTE), "{text}");
    assert_eq!(year(&coordinator), before, "counted once");
    assert!(figures_only(&coordinator).is_empty());
    // It stays through the next sync, within its two days.
    sync(&coordinator);
    assert!(held_in_detail(&coordinator, &old));

    // Two days on, the next minimising leaves figures only again.
    let mut store = open(&coordinator);
    let server_peer = maraude_protocol::api::server_peer(store.antenna_id().as_uuid());
    let later = Utc::now() + Duration::days(3);
    assert_eq!(store.minimise(later, &server_peer).unwrap().shifts, 1);
    drop(store);
    assert!(!held_in_detail(&coordinator, &old));
    assert_eq!(year(&coordinator), before);
    assert!(!readable(OLD_NOTE));
}
