//! Tablets of one antenna working offline — logging, correcting, voiding,
//! following shelter requests up — then syncing in any order end up with the
//! same documents, the same index and the same reports, and lose nothing
//! that was written.
//!
//! The test keeps a ledger of what it wrote and of what each tablet had seen
//! when it wrote it (each tablet's set of events; a sync hands the receiver
//! everything the sender has). From the ledger it knows, for every field of
//! every entry, which writes no later write has overridden (the "standing"
//! writes): a tablet must show one of their values, and exactly that value
//! when only one stands, i.e. when no two tablets corrected that field
//! without seeing each other's correction. Voids and revisions only add, so
//! whether an entry is voided and how long its history is are exact.
//!
//! Store creation runs Argon2id, so the default is a dozen stories; set
//! `MARAUDE_PROPTEST_CASES` for a longer run.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{AutoCommit, ChangeHash, ROOT};
use chrono::{DateTime, Duration, Utc};
use maraude_core::Invalid;
use maraude_core::Lang;
use maraude_core::case::{CaseAction, CaseRequest, NewCase, Outcome, Person};
use maraude_core::document::json::read_json;
use maraude_core::entry::{Composition, Entry, EntryContent, EntryEdit, NewEntry, Quantity};
use maraude_core::ids::{CaseId, EntryId, PlaceId, ShiftId};
use maraude_core::shift::{NewShift, ShiftKind};
use maraude_store::{Store, StoreError};
use proptest::prelude::*;
use proptest::sample::Index;

use super::merge::second_tablet;
use super::{TempStore, calais, nick, night_shift};

const ITEMS: [&str; 3] = ["blanket", "tea_coffee", "sleeping_bag"];
const PLACES: [Option<&str>; 3] = [None, Some("dunes-north"), Some("hospital-bridge")];
const VOLUNTEERS: [&str; 3] = ["Jo", "Sam", "Mira"];
/// Entry times lie on a coarse grid so that two entries often share a time.
const SLOTS: usize = 2;

// What a story is made of.

#[derive(Debug, Clone)]
struct Story {
    tablets: usize,
    shifts: usize,
    steps: Vec<Step>,
    /// Syncs done after the steps, before the full merge.
    gossip: Vec<(usize, usize)>,
    /// The order in which the full merge chains the tablets.
    order: Vec<usize>,
}

/// One thing done on one tablet. Tablet, shift, entry and case numbers are
/// taken modulo what exists when the step is played.
#[derive(Debug, Clone)]
enum Step {
    Log {
        tablet: usize,
        shift: usize,
        by: usize,
        what: Logged,
        slot: usize,
        place: usize,
    },
    Correct {
        tablet: usize,
        entry: Index,
        by: usize,
        change: Correction,
    },
    Void {
        tablet: usize,
        entry: Index,
        by: usize,
    },
    OpenShelterRequest {
        tablet: usize,
        shift: usize,
        by: usize,
        household: u32,
        slot: usize,
        place: usize,
    },
    FollowUp {
        tablet: usize,
        case: Index,
        by: usize,
        action: FollowUpAction,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

#[derive(Debug, Clone, Copy)]
enum Logged {
    Distribution { item: usize, quantity: u32 },
    Headcount { people: u32 },
    Note { round: u32 },
}

/// One field changed: the entry's amount (quantity, people, household size
/// or the note's round), its place, or its time.
#[derive(Debug, Clone, Copy)]
enum Correction {
    Amount(u32),
    Place(usize),
    Time(usize),
}

#[derive(Debug, Clone, Copy)]
enum FollowUpAction {
    Note,
    Close(usize),
    Reopen,
}

fn logged() -> impl Strategy<Value = Logged> {
    prop_oneof![
        3 => (0..ITEMS.len(), 1..=6u32)
            .prop_map(|(item, quantity)| Logged::Distribution { item, quantity }),
        2 => (1..=6u32).prop_map(|people| Logged::Headcount { people }),
        1 => (1..=6u32).prop_map(|round| Logged::Note { round }),
    ]
}

fn correction() -> impl Strategy<Value = Correction> {
    prop_oneof![
        2 => (1..=6u32).prop_map(Correction::Amount),
        1 => (0..PLACES.len()).prop_map(Correction::Place),
        1 => (0..SLOTS).prop_map(Correction::Time),
    ]
}

fn follow_up_action() -> impl Strategy<Value = FollowUpAction> {
    prop_oneof![
        Just(FollowUpAction::Note),
        (0..4usize).prop_map(FollowUpAction::Close),
        Just(FollowUpAction::Reopen),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let who = || (0..3usize, 0..VOLUNTEERS.len());
    prop_oneof![
        4 => (who(), 0..2usize, logged(), 0..SLOTS, 0..PLACES.len()).prop_map(
            |((tablet, by), shift, what, slot, place)| Step::Log { tablet, shift, by, what, slot, place }
        ),
        3 => (who(), any::<Index>(), correction()).prop_map(
            |((tablet, by), entry, change)| Step::Correct { tablet, entry, by, change }
        ),
        1 => (who(), any::<Index>())
            .prop_map(|((tablet, by), entry)| Step::Void { tablet, entry, by }),
        1 => (who(), 0..2usize, 1..=5u32, 0..SLOTS, 0..PLACES.len()).prop_map(
            |((tablet, by), shift, household, slot, place)| Step::OpenShelterRequest {
                tablet, shift, by, household, slot, place
            }
        ),
        2 => (who(), any::<Index>(), follow_up_action()).prop_map(
            |((tablet, by), case, action)| Step::FollowUp { tablet, case, by, action }
        ),
        3 => (0..3usize, 0..3usize).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

fn story() -> impl Strategy<Value = Story> {
    (
        2..=3usize,
        1..=2usize,
        prop::collection::vec(step(), 1..=40),
        prop::collection::vec((0..3usize, 0..3usize), 0..6),
        Just(vec![0usize, 1, 2]).prop_shuffle(),
    )
        .prop_map(|(tablets, shifts, steps, gossip, order)| Story {
            tablets,
            shifts,
            steps,
            gossip,
            order,
        })
}

// The ledger: what the test wrote, and who had seen what.

/// A field of an entry that a correction changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Amount,
    Place,
    Time,
}

const FIELDS: [Field; 3] = [Field::Amount, Field::Place, Field::Time];

/// One write of one field (or of a case's status), with the events the
/// writing tablet had seen: the writes it overrode are among them.
#[derive(Debug)]
struct Write {
    event: usize,
    seen: BTreeSet<usize>,
    value: String,
}

#[derive(Debug)]
struct LoggedEntry {
    id: EntryId,
    shift: ShiftId,
    logged: usize,
    item: Option<String>,
    writes: BTreeMap<Field, Vec<Write>>,
    /// Corrections and voids: each adds one revision to the history.
    revisions: Vec<usize>,
    voids: Vec<usize>,
}

#[derive(Debug)]
struct OpenedCase {
    id: CaseId,
    shift: ShiftId,
    opened: usize,
    updates: Vec<usize>,
    /// "open" or "closed".
    status: Vec<Write>,
}

#[derive(Debug)]
struct Ledger {
    /// Per tablet, the events it has: its own and those synced to it.
    seen: Vec<BTreeSet<usize>>,
    events: usize,
    entries: Vec<LoggedEntry>,
    cases: Vec<OpenedCase>,
}

impl Ledger {
    fn new(tablets: usize) -> Self {
        Self {
            seen: vec![BTreeSet::new(); tablets],
            events: 0,
            entries: Vec::new(),
            cases: Vec::new(),
        }
    }

    /// A new event on `tablet`, and what that tablet had seen before it.
    fn event(&mut self, tablet: usize) -> (usize, BTreeSet<usize>) {
        let id = self.events;
        self.events += 1;
        let seen = self.seen[tablet].clone();
        self.seen[tablet].insert(id);
        (id, seen)
    }

    fn sync(&mut self, from: usize, to: usize) {
        let have = self.seen[from].clone();
        self.seen[to].extend(have);
    }

    fn log(&mut self, tablet: usize, shift: ShiftId, entry: &Entry) {
        let (event, seen) = self.event(tablet);
        let writes = FIELDS
            .into_iter()
            .map(|f| {
                let w = Write {
                    event,
                    seen: seen.clone(),
                    value: field_value(entry, f),
                };
                (f, vec![w])
            })
            .collect();
        let item = match &entry.content {
            EntryContent::Distribution { item, .. } => Some(item.to_string()),
            _ => None,
        };
        self.entries.push(LoggedEntry {
            id: entry.id,
            shift,
            logged: event,
            item,
            writes,
            revisions: Vec::new(),
            voids: Vec::new(),
        });
    }

    fn entries_known_to(&self, tablet: usize) -> Vec<usize> {
        (0..self.entries.len())
            .filter(|&i| self.seen[tablet].contains(&self.entries[i].logged))
            .collect()
    }

    fn cases_known_to(&self, tablet: usize) -> Vec<usize> {
        (0..self.cases.len())
            .filter(|&i| self.seen[tablet].contains(&self.cases[i].opened))
            .collect()
    }
}

/// The values of the writes that no other write known to `known` overrode.
/// Knowledge is causally closed (a sync hands over everything), so a write
/// stands unless a known write was made by a tablet that had seen it.
fn standing<'a>(writes: &'a [Write], known: &BTreeSet<usize>) -> BTreeSet<&'a str> {
    let visible: Vec<&Write> = writes.iter().filter(|w| known.contains(&w.event)).collect();
    visible
        .iter()
        .filter(|w| !visible.iter().any(|o| o.seen.contains(&w.event)))
        .map(|w| w.value.as_str())
        .collect()
}

fn field_value(entry: &Entry, field: Field) -> String {
    match field {
        Field::Amount => match &entry.content {
            EntryContent::Distribution { quantity, .. } => quantity.get().to_string(),
            EntryContent::Headcount { people, .. } => people.to_string(),
            EntryContent::ShelterRequest { household_size, .. } => household_size.to_string(),
            EntryContent::Note { text } => text.clone(),
            other => panic!("the story logs no {:?}", other.kind()),
        },
        Field::Place => entry
            .place
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.as_str().to_string()),
        Field::Time => entry.at.to_rfc3339(),
    }
}

fn with_amount(content: &EntryContent, n: u32) -> EntryContent {
    let mut content = content.clone();
    match &mut content {
        EntryContent::Distribution { quantity, .. } => {
            *quantity = Quantity::new(n.into()).expect("story quantities are 1 to 6");
        }
        EntryContent::Headcount { people, .. } => *people = n,
        EntryContent::ShelterRequest { household_size, .. } => *household_size = n,
        EntryContent::Note { text } => *text = round_note(n),
        other => panic!("the story logs no {:?}", other.kind()),
    }
    content
}

fn round_note(n: u32) -> String {
    format!("round {n} done, van restocked")
}

fn place(i: usize) -> Option<PlaceId> {
    PLACES[i].map(|p| p.parse().expect("a Calais place"))
}

fn outcome(i: usize) -> Outcome {
    match i % 4 {
        0 => Outcome::Placed {
            place: "CHRS Calais".into(),
        },
        1 => Outcome::NoPlace,
        2 => Outcome::Refused,
        _ => Outcome::LostContact,
    }
}

// The stores.

/// Every document of `from` into `to` through the merge API; how many
/// changes were new to `to`.
fn sync_documents(from: &Store, to: &mut Store) -> usize {
    let mut new = 0;
    for (doc, _) in from.documents().expect("list documents") {
        let have = to.heads(&doc).unwrap_or_default();
        let bytes = from.changes_since(&doc, &have).expect("changes since");
        new += to.import(&doc, &bytes).expect("import").changes_new;
    }
    new
}

/// The index and every document's heads: what a refused step must leave
/// exactly as it was.
type Snapshot = (Vec<String>, Vec<(String, Vec<ChangeHash>)>);

fn snapshot(store: &Store) -> Snapshot {
    let docs = store
        .documents()
        .expect("list documents")
        .into_iter()
        .map(|(doc, _)| {
            let mut heads = store.heads(&doc).expect("heads");
            heads.sort();
            (doc.to_string(), heads)
        })
        .collect();
    (store.index_dump().expect("index dump"), docs)
}

fn two<T>(v: &mut [T], from: usize, to: usize) -> (&T, &mut T) {
    assert_ne!(from, to);
    if from < to {
        let (left, right) = v.split_at_mut(to);
        (&left[from], &mut right[0])
    } else {
        let (left, right) = v.split_at_mut(from);
        (&right[0], &mut left[to])
    }
}

/// The tablets of one antenna, the shifts they share, and the ledger.
struct Team {
    tablets: Vec<TempStore>,
    shifts: Vec<ShiftId>,
    slots: Vec<DateTime<Utc>>,
    ledger: Ledger,
}

impl Team {
    fn new(tablets: usize, shifts: usize) -> Self {
        let mut first = calais();
        let mut shift_ids = vec![night_shift(&mut first.store)];
        if shifts > 1 {
            let day = first
                .store
                .start_shift(NewShift {
                    kind: ShiftKind::DayMaraude,
                    started_at: Some(Utc::now() - Duration::days(1)),
                    lead: nick("Sam"),
                    team: [nick("Jo")].into(),
                    vehicle: None,
                    stock_loaded: [("sleeping_bag".parse().expect("an item"), 12)].into(),
                })
                .expect("start the day maraude");
            shift_ids.push(day.id);
        }
        let mut all = vec![first];
        for _ in 1..tablets {
            let next = second_tablet(&all[0]);
            all.push(next);
        }
        let now = Utc::now().timestamp();
        // Within the night shift, which started just now: entries may be
        // logged up to two hours before a shift's start.
        let base =
            DateTime::from_timestamp(now - now % 60, 0).expect("a time") - Duration::minutes(90);
        Self {
            tablets: all,
            shifts: shift_ids,
            slots: (0..SLOTS as i64)
                .map(|k| base + Duration::minutes(15 * k))
                .collect(),
            ledger: Ledger::new(tablets),
        }
    }

    fn n(&self) -> usize {
        self.tablets.len()
    }

    fn play(&mut self, step: &Step) {
        match *step {
            Step::Log {
                tablet,
                shift,
                by,
                what,
                slot,
                place: p,
            } => {
                let t = tablet % self.n();
                let shift = self.shifts[shift % self.shifts.len()];
                let content = match what {
                    Logged::Distribution { item, quantity } => EntryContent::Distribution {
                        what: None,
                        item: ITEMS[item].parse().expect("an item"),
                        size: None,
                        quantity: Quantity::new(quantity.into()).expect("1 to 6"),
                        people: None,
                        composition: Composition::default(),
                    },
                    Logged::Headcount { people } => EntryContent::Headcount {
                        people,
                        composition: Composition::default(),
                        vulnerable: 0,
                    },
                    Logged::Note { round } => EntryContent::Note {
                        text: round_note(round),
                    },
                };
                let new = NewEntry {
                    at: Some(self.slots[slot]),
                    place: place(p),
                    content,
                };
                let entry = self.tablets[t]
                    .store
                    .log(&shift, &nick(VOLUNTEERS[by]), new)
                    .expect("log an entry");
                self.ledger.log(t, shift, &entry);
                self.check_view(t);
            }
            Step::Correct {
                tablet,
                entry,
                by,
                change,
            } => {
                let t = tablet % self.n();
                let known = self.ledger.entries_known_to(t);
                if known.is_empty() {
                    return;
                }
                let i = known[entry.index(known.len())];
                self.correct(t, i, VOLUNTEERS[by], change);
                self.check_view(t);
            }
            Step::Void { tablet, entry, by } => {
                let t = tablet % self.n();
                let known = self.ledger.entries_known_to(t);
                if known.is_empty() {
                    return;
                }
                let i = known[entry.index(known.len())];
                self.void(t, i, VOLUNTEERS[by]);
                self.check_view(t);
            }
            Step::OpenShelterRequest {
                tablet,
                shift,
                by,
                household,
                slot,
                place: p,
            } => {
                let t = tablet % self.n();
                let shift = self.shifts[shift % self.shifts.len()];
                let request = NewCase {
                    person: Person {
                        alias: "A.".into(),
                        age_group: None,
                        languages: ["ti".to_string()].into(),
                        phone: None,
                    },
                    request: CaseRequest::Shelter {
                        household_size: household,
                        composition: Composition::default(),
                        vulnerabilities: Default::default(),
                        called_115: true,
                        answer_115: None,
                    },
                };
                let (case, entry) = self.tablets[t]
                    .store
                    .open_case(
                        &shift,
                        &nick(VOLUNTEERS[by]),
                        request,
                        place(p),
                        Some(self.slots[slot]),
                    )
                    .expect("open a shelter request");
                self.ledger.log(t, shift, &entry);
                let event = self.ledger.entries.last().expect("just logged").logged;
                let seen = self.ledger.entries.last().expect("just logged").writes[&Field::Amount]
                    [0]
                .seen
                .clone();
                self.ledger.cases.push(OpenedCase {
                    id: case.id,
                    shift,
                    opened: event,
                    updates: Vec::new(),
                    status: vec![Write {
                        event,
                        seen,
                        value: "open".into(),
                    }],
                });
                self.check_view(t);
            }
            Step::FollowUp {
                tablet,
                case,
                by,
                action,
            } => {
                let t = tablet % self.n();
                let known = self.ledger.cases_known_to(t);
                if known.is_empty() {
                    return;
                }
                let i = known[case.index(known.len())];
                self.follow_up(t, i, VOLUNTEERS[by], action);
                self.check_view(t);
            }
            Step::Sync { from, to } => {
                let (from, to) = (from % self.n(), to % self.n());
                if from != to {
                    self.sync(from, to);
                }
            }
        }
    }

    fn correct(&mut self, t: usize, i: usize, by: &str, change: Correction) {
        let id = self.ledger.entries[i].id;
        let store = &mut self.tablets[t].store;
        let current = store.entry(&id).expect("a tablet finds the entries it has");
        let mut wanted = current.clone();
        let field = match change {
            Correction::Amount(n) => {
                wanted.content = with_amount(&current.content, n);
                Field::Amount
            }
            Correction::Place(p) => {
                wanted.place = place(p);
                Field::Place
            }
            Correction::Time(s) => {
                wanted.at = self.slots[s];
                Field::Time
            }
        };
        let refusal = if current.is_voided() {
            Some(Invalid::EntryVoided)
        } else if field_value(&wanted, field) == field_value(&current, field) {
            Some(Invalid::NothingToChange)
        } else {
            None
        };
        let before = snapshot(store);
        let edit = EntryEdit {
            at: wanted.at,
            place: wanted.place.clone(),
            content: wanted.content.clone(),
        };
        match (store.edit_entry(&id, &nick(by), edit), refusal) {
            (Ok(edited), None) => {
                let value = field_value(&edited, field);
                assert_eq!(value, field_value(&wanted, field));
                let (event, seen) = self.ledger.event(t);
                let e = &mut self.ledger.entries[i];
                e.revisions.push(event);
                e.writes
                    .get_mut(&field)
                    .expect("every field was written when logged")
                    .push(Write { event, seen, value });
            }
            (Err(StoreError::Invalid(got)), Some(want)) if got == want => {
                assert_eq!(snapshot(store), before, "a refused correction wrote");
            }
            (got, want) => panic!(
                "correcting {field:?} of {id:?} on tablet {t}: expected refusal {want:?}, got {got:?}"
            ),
        }
    }

    fn void(&mut self, t: usize, i: usize, by: &str) {
        let id = self.ledger.entries[i].id;
        let store = &mut self.tablets[t].store;
        let current = store.entry(&id).expect("a tablet finds the entries it has");
        let before = snapshot(store);
        match (
            store.void_entry(&id, &nick(by), "counted twice"),
            current.is_voided(),
        ) {
            (Ok(voided), false) => {
                assert!(voided.is_voided());
                let (event, _) = self.ledger.event(t);
                let e = &mut self.ledger.entries[i];
                e.revisions.push(event);
                e.voids.push(event);
            }
            (Err(StoreError::Invalid(Invalid::EntryVoided)), true) => {
                assert_eq!(snapshot(store), before, "a refused void wrote");
            }
            (got, was_voided) => {
                panic!("voiding {id:?} on tablet {t} (voided: {was_voided}): got {got:?}")
            }
        }
    }

    fn follow_up(&mut self, t: usize, i: usize, by: &str, action: FollowUpAction) {
        let (id, shift) = (self.ledger.cases[i].id, self.ledger.cases[i].shift);
        let store = &mut self.tablets[t].store;
        let open = store
            .case(&id)
            .expect("a tablet finds the cases it has")
            .status
            .is_open();
        let (action, refusal, status) = match action {
            FollowUpAction::Note => (
                CaseAction::Note {
                    note: "called 115 again, no answer".into(),
                },
                (!open).then_some(Invalid::CaseClosed),
                None,
            ),
            FollowUpAction::Close(o) => (
                CaseAction::Closed {
                    outcome: outcome(o),
                },
                (!open).then_some(Invalid::CaseClosed),
                Some("closed"),
            ),
            FollowUpAction::Reopen => (
                CaseAction::Reopened {
                    reason: "back at the dunes, still no shelter".into(),
                },
                open.then_some(Invalid::CaseOpen),
                Some("open"),
            ),
        };
        let before = snapshot(store);
        match (
            store.act_on_case(&id, &nick(by), action, Some(shift)),
            refusal,
        ) {
            (Ok(case), None) => {
                let (event, seen) = self.ledger.event(t);
                let c = &mut self.ledger.cases[i];
                c.updates.push(event);
                if let Some(value) = status {
                    assert_eq!(case.status.is_open(), value == "open");
                    c.status.push(Write {
                        event,
                        seen,
                        value: value.into(),
                    });
                }
            }
            (Err(StoreError::Invalid(got)), Some(want)) if got == want => {
                assert_eq!(snapshot(store), before, "a refused follow-up wrote");
            }
            (got, want) => {
                panic!("following {id:?} up on tablet {t}: expected refusal {want:?}, got {got:?}")
            }
        }
    }

    fn sync(&mut self, from: usize, to: usize) -> usize {
        let (a, b) = two(&mut self.tablets, from, to);
        let new = sync_documents(&a.store, &mut b.store);
        self.ledger.sync(from, to);
        self.check_view(to);
        new
    }

    /// What tablet `t` shows agrees with the ledger restricted to what `t`
    /// has seen.
    fn check_view(&self, t: usize) {
        let store = &self.tablets[t].store;
        let known = &self.ledger.seen[t];
        let mut shown: BTreeMap<EntryId, Entry> = BTreeMap::new();
        for shift in &self.shifts {
            let entries = store.entries(shift).expect("a shift's entries");
            let ids: BTreeSet<EntryId> = entries.iter().map(|e| e.id).collect();
            let expected: BTreeSet<EntryId> = self
                .ledger
                .entries
                .iter()
                .filter(|e| e.shift == *shift && known.contains(&e.logged))
                .map(|e| e.id)
                .collect();
            assert_eq!(ids, expected, "tablet {t} lists other entries than it has");
            shown.extend(entries.into_iter().map(|e| (e.id, e)));
        }
        for e in self
            .ledger
            .entries
            .iter()
            .filter(|e| known.contains(&e.logged))
        {
            let s = &shown[&e.id];
            let voided = e.voids.iter().any(|v| known.contains(v));
            assert_eq!(s.is_voided(), voided, "tablet {t}, {:?}: voided", e.id);
            let revisions = e.revisions.iter().filter(|r| known.contains(r)).count();
            assert_eq!(
                s.history.len(),
                revisions,
                "tablet {t}, {:?}: a revision was lost or doubled",
                e.id
            );
            for (field, writes) in &e.writes {
                let value = field_value(s, *field);
                let standing = standing(writes, known);
                assert!(
                    standing.contains(value.as_str()),
                    "tablet {t}, {:?}: {field:?} is {value}, standing writes are {standing:?}",
                    e.id
                );
            }
        }
        for c in self
            .ledger
            .cases
            .iter()
            .filter(|c| known.contains(&c.opened))
        {
            let case = store.case(&c.id).expect("a tablet finds the cases it has");
            let updates = c.updates.iter().filter(|u| known.contains(u)).count();
            assert_eq!(case.updates.len(), updates, "tablet {t}, {:?}", c.id);
            let status = if case.status.is_open() {
                "open"
            } else {
                "closed"
            };
            let standing = standing(&c.status, known);
            assert!(
                standing.contains(status),
                "tablet {t}, {:?}: {status}, standing statuses are {standing:?}",
                c.id
            );
        }
    }

    /// Random syncs, then a chain through the tablets in `order` and back,
    /// after which every tablet has everything; then one more full round,
    /// which must bring nothing new.
    fn merge_everything(&mut self, gossip: &[(usize, usize)], order: &[usize]) {
        let n = self.n();
        for &(from, to) in gossip {
            if from % n != to % n {
                self.sync(from % n, to % n);
            }
        }
        let order: Vec<usize> = order.iter().copied().filter(|&t| t < n).collect();
        for pair in order.windows(2) {
            self.sync(pair[0], pair[1]);
        }
        let last = order[n - 1];
        for &t in &order[..n - 1] {
            self.sync(last, t);
        }
        let all: BTreeSet<usize> = (0..self.ledger.events).collect();
        assert!(self.ledger.seen.iter().all(|s| *s == all));
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    assert_eq!(
                        self.sync(from, to),
                        0,
                        "tablet {to} still lacked changes of tablet {from}"
                    );
                }
            }
        }
    }

    fn assert_converged(&mut self) {
        let first = &self.tablets[0].store;
        let docs: Vec<(String, String)> = first
            .documents()
            .expect("documents")
            .into_iter()
            .map(|(d, k)| (d.to_string(), k))
            .collect();
        let dump = first.index_dump().expect("index dump");
        let nights: Vec<serde_json::Value> =
            self.shifts.iter().map(|s| night_json(first, s)).collect();
        let dates: Vec<_> = self
            .shifts
            .iter()
            .map(|s| first.shift(s).expect("a shift").date)
            .collect();
        let from = *dates.iter().min().expect("a shift") - Duration::days(1);
        let to = *dates.iter().max().expect("a shift") + Duration::days(1);
        let period = first
            .period_report(from, to, Lang::En)
            .expect("period report");

        for (t, tablet) in self.tablets.iter().enumerate() {
            let store = &tablet.store;
            let theirs: Vec<(String, String)> = store
                .documents()
                .expect("documents")
                .into_iter()
                .map(|(d, k)| (d.to_string(), k))
                .collect();
            assert_eq!(theirs, docs, "tablet {t} has other documents");
            for (doc, _) in store.documents().expect("documents") {
                let mut mine = first.heads(&doc).expect("heads");
                let mut yours = store.heads(&doc).expect("heads");
                mine.sort();
                yours.sort();
                assert_eq!(yours, mine, "tablet {t}: heads of {doc}");
                assert_eq!(
                    materialized(store, &doc),
                    materialized(first, &doc),
                    "tablet {t}: content of {doc}"
                );
            }
            assert_eq!(store.index_dump().expect("dump"), dump, "tablet {t}: index");
            for (s, night) in self.shifts.iter().zip(&nights) {
                assert_eq!(&night_json(store, s), night, "tablet {t}: night report");
            }
            let p = store.period_report(from, to, Lang::En).expect("period");
            assert_eq!(
                serde_json::to_value(&p).expect("json"),
                serde_json::to_value(&period).expect("json"),
                "tablet {t}: period report"
            );
            self.check_view(t);
        }

        // What the reports add up is what the ledger says was handed out.
        let shown: BTreeMap<EntryId, Entry> = self
            .shifts
            .iter()
            .flat_map(|s| first.entries(s).expect("entries"))
            .map(|e| (e.id, e))
            .collect();
        let everything: BTreeSet<usize> = (0..self.ledger.events).collect();
        for item in ITEMS {
            let (mut low, mut high, mut stored) = (0u32, 0u32, 0u32);
            for e in &self.ledger.entries {
                if e.item.as_deref() != Some(item) || !e.voids.is_empty() {
                    continue;
                }
                let standing: Vec<u32> = standing(&e.writes[&Field::Amount], &everything)
                    .into_iter()
                    .map(|v| v.parse().expect("a quantity"))
                    .collect();
                low += standing.iter().min().expect("a standing quantity");
                high += standing.iter().max().expect("a standing quantity");
                stored += field_value(&shown[&e.id], Field::Amount)
                    .parse::<u32>()
                    .expect("a quantity");
            }
            let night_total: u32 = self
                .shifts
                .iter()
                .map(|s| {
                    first
                        .night_report(s, Lang::En)
                        .expect("night")
                        .distributed(item)
                })
                .sum();
            assert!(low <= stored && stored <= high);
            assert_eq!(night_total, stored, "{item}: night reports");
            assert_eq!(period.distributed(item), stored, "{item}: period report");
        }
        for (s, night) in self.shifts.iter().zip(&nights) {
            let of_shift = || self.ledger.entries.iter().filter(|e| e.shift == *s);
            let voided = of_shift().filter(|e| !e.voids.is_empty()).count();
            let kept = of_shift().count() - voided;
            let edited = of_shift()
                .filter(|e| e.voids.is_empty() && !e.revisions.is_empty())
                .count();
            assert_eq!(night["voided"], voided, "night report: voided");
            assert_eq!(night["entries"], kept, "night report: entries");
            assert_eq!(night["edited"], edited, "night report: edited");
        }
        assert_eq!(
            period.cases.shelter_requests_opened as usize,
            self.ledger.cases.len()
        );

        // The index is what the documents say, and the reports do not
        // depend on the order in which its rows were written.
        for (t, tablet) in self.tablets.iter_mut().enumerate() {
            let store = &mut tablet.store;
            store.rebuild_index().expect("rebuild the index");
            assert_eq!(
                store.index_dump().expect("dump"),
                dump,
                "tablet {t}: the index differs from the one rebuilt from its documents"
            );
            for (s, night) in self.shifts.iter().zip(&nights) {
                assert_eq!(
                    &night_json(store, s),
                    night,
                    "tablet {t}: rebuilt night report"
                );
            }
            let p = store.period_report(from, to, Lang::En).expect("period");
            assert_eq!(
                serde_json::to_value(&p).expect("json"),
                serde_json::to_value(&period).expect("json"),
                "tablet {t}: rebuilt period report"
            );
        }
    }
}

fn night_json(store: &Store, shift: &ShiftId) -> serde_json::Value {
    serde_json::to_value(store.night_report(shift, Lang::En).expect("night report"))
        .expect("a report serialises")
}

/// A document's whole content, as JSON.
fn materialized(store: &Store, doc: &maraude_store::DocumentId) -> serde_json::Value {
    let bytes = store.changes_since(doc, &[]).expect("the whole document");
    let am = AutoCommit::load(&bytes).expect("a saved document loads");
    read_json(&am, &ROOT).expect("a document reads as JSON")
}

fn config() -> ProptestConfig {
    let cases = std::env::var("MARAUDE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    ProptestConfig {
        cases,
        max_shrink_iters: 512,
        // A failing story is printed, minimal; it becomes an ordinary test.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn tablets_logging_editing_and_voiding_offline_converge_in_any_merge_order(story in story()) {
        let mut team = Team::new(story.tablets, story.shifts);
        for step in &story.steps {
            team.play(step);
        }
        team.merge_everything(&story.gossip, &story.order);
        team.assert_converged();
    }
}

/// What a peer shares is recorded again and again (a server on a shared
/// database does so at each tablet's `pending`): heads already recorded
/// write nothing to the file (SQLite leaves a row replaced by the same
/// bytes alone), new ones replace the old.
#[test]
fn recording_the_same_shared_heads_again_writes_nothing() {
    let mut t = crate::calais();
    let shift = crate::night_shift(&mut t.store);
    let held = crate::every_document_with_heads(&t.store);
    t.store.mark_shared("the-server", &held).unwrap();
    // Every write appends its pages to the write-ahead log.
    let wal = t.dir.path().join("calais.maraude-wal");
    let written = std::fs::read(&wal).unwrap();
    for _ in 0..3 {
        t.store.mark_shared("the-server", &held).unwrap();
    }
    assert!(
        std::fs::read(&wal).unwrap() == written,
        "recording the same heads wrote to the file"
    );
    let (doc, heads) = &held[0];
    assert_eq!(&t.store.shared_with("the-server", doc).unwrap(), heads);
    // New heads replace the old.
    t.store
        .log(
            &shift,
            &crate::nick("Jo"),
            crate::give("blanket", 1, "dunes-north"),
        )
        .unwrap();
    let newer: Vec<_> = held
        .iter()
        .map(|(doc, _)| (doc.clone(), t.store.recorded_heads(doc).unwrap().unwrap()))
        .collect();
    t.store.mark_shared("the-server", &newer).unwrap();
    for (doc, heads) in &newer {
        assert_eq!(&t.store.shared_with("the-server", doc).unwrap(), heads);
    }
    assert_ne!(newer, held, "the entry changed some document's heads");
}
