//! Who may write what: the rules every receiver applies to the changes a
//! peer sends, before they are merged.
//!
//! In a CRDT every device writes and every document merges, so the
//! authority cannot be what a device says about itself (a nickname typed
//! on it, the role it lists in the antenna document): it is the role the
//! antenna's authority certified for the device that delivers the changes
//! (its enrolment credential on the server, its certificate between
//! teammates). The receiver applies the changes to a copy of its
//! document, and [`check_write`] compares the copy with the document as it
//! was: what the role may not do is refused whole, and nothing is merged.
//!
//! A role is judged by what the changes do, not by who authored them, so
//! a device must never hand on changes it could not have made itself.
//! That is why the antenna document, where only leads and coordinators
//! change the reference data and erase cases, travels only between a
//! device and the server, never between teammates
//! ([`travels_between_teammates`]): whatever lead's change a volunteer's
//! tablet holds came from the server, which has it already.
//!
//! The warehouse travels only that way too, for another reason: what a
//! device sends the server of it is then its own, so the server can hold
//! each new movement to the device that delivers it ([`Delivery`]): a
//! lead's tablet cannot sign a donation or a count with another tablet's
//! name. Entries cannot be held so: a tablet hands its teammates'
//! entries on to the server, and nothing in a change proves who wrote it
//! (that would take a signature per change, see docs/threat-model.md).
//!
//! What each role may do:
//!
//! | | volunteer | lead | coordinator |
//! |---|---|---|---|
//! | shifts, tablet logs, open cases it may receive | write | write | write |
//! | a closed case, an old shift | — | write | write |
//! | list a new shift or case in the antenna document | yes | yes | yes |
//! | add a place in the field | yes | yes | yes |
//! | the volunteer list | — | volunteers only | change |
//! | catalogue, changing or retiring a place, settings (retention), the antenna's name | — | — | change |
//! | erase a case (tombstone) | — | yes | yes |
//! | a new antenna document (registration) | — | — | yes |
//! | record a warehouse movement (receipt, count, transfer), as itself | — | yes | yes |
//! | remove an entry or rewrite its history, or a movement | — | — | — |
//! | change a document's `schema`, `type` or record | — | — | — |

use std::collections::BTreeMap;

use automerge::{AutoCommit, ROOT, ReadDoc};
use chrono::NaiveDate;
use thiserror::Error;
use uuid::Uuid;

use crate::access::{self, Role, Subject};
use crate::antenna::{self, Antenna};
use crate::document::{AnyDocument, CaseRef, EntryLog};
use crate::error::DocumentError;
use crate::ids::{CaseId, DeviceId};
use crate::warehouse::StockMovement;

/// What the receiver knows besides the two versions of the document.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The document as the receiver's index knows it, before the changes
    /// ([`Subject::Unknown`] for a new one).
    pub subject: Subject,
    pub today: NaiveDate,
    pub delivery: Delivery,
}

/// Who delivers the changes, as the receiver's connection knows it (the
/// certificate or credential it checked), never as the changes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The base server, handing on what devices sent it (checked there).
    Server,
    /// A device syncing with the base server: of the documents that travel
    /// only that way, what it sends is its own.
    Device(DeviceId),
    /// A teammate's tablet, handing on what it got from others.
    Teammate,
}

/// A write refused: which rule, in words that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refused {
    #[error("the document is not well-formed: {0}")]
    Malformed(String),
    #[error(
        "a document's schema, type and record never change (found {found}, had {had}); a newer Maraude writes documents this one cannot check: update Maraude"
    )]
    Header { found: String, had: String },
    #[error("the document was sent under the id of another record")]
    WrongRecord,
    #[error("a {role}'s tablet may not write to this {what}: it is outside what its role receives")]
    OutOfScope { role: Role, what: &'static str },
    #[error("a {role}'s tablet may not create a new {what}")]
    NewDocument { role: Role, what: &'static str },
    #[error("a {role}'s tablet may not change the antenna's {part}; ask {who}")]
    ReferenceData {
        role: Role,
        part: &'static str,
        who: &'static str,
    },
    #[error(
        "the antenna's list of shifts and cases only grows: a line was removed or changed ({line})"
    )]
    Listing { line: String },
    #[error(
        "only a lead's or a coordinator's tablet may erase a case ({case}); past the retention period, the server erases it"
    )]
    Erasure { case: String },
    #[error(
        "entries and their history are evidence: entry {entry} was removed or its history rewritten"
    )]
    Evidence { entry: String },
    #[error(
        "the warehouse's movements are only ever added: movement {movement} was removed or changed; a count puts a figure right"
    )]
    Stock { movement: String },
    #[error(
        "movement {movement} is signed by tablet {signed}, not by the tablet that sent it: a tablet records the warehouse's movements in its own name only"
    )]
    SignedAsAnother { movement: String, signed: String },
    #[error(
        "the {what} travels only between a tablet and the base server, never from a teammate's tablet"
    )]
    ServerOnly { what: &'static str },
}

impl Refused {
    /// A stable code for logs, close messages and the app's translations.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::Malformed(_) => "malformed_document",
            Refused::Header { .. } => "header_changed",
            Refused::WrongRecord => "wrong_record",
            Refused::OutOfScope { .. } => "out_of_scope",
            Refused::NewDocument { .. } => "new_document_refused",
            Refused::ReferenceData { .. } => "reference_data",
            Refused::Listing { .. } => "listing_changed",
            Refused::Erasure { .. } => "erasure_not_allowed",
            Refused::Evidence { .. } => "evidence_rewritten",
            Refused::Stock { .. } => "stock_rewritten",
            Refused::SignedAsAnother { .. } => "signed_as_another_device",
            Refused::ServerOnly { .. } => "server_only",
        }
    }
}

impl From<DocumentError> for Refused {
    fn from(e: DocumentError) -> Self {
        Refused::Malformed(e.to_string())
    }
}

/// Whether a document travels between teammates' tablets. The antenna
/// document and the warehouse do not: see the module's doc.
pub fn travels_between_teammates(subject: Subject) -> bool {
    !matches!(subject, Subject::Antenna | Subject::Warehouse)
}

/// Whether a device of `role` may make the changes that turn `before`
/// (`None`: a document new to the receiver) into `after`, the document
/// sent as the record `record`.
pub fn check_write(
    role: Role,
    record: Uuid,
    before: Option<&AnyDocument>,
    after: &AnyDocument,
    facts: &Facts,
) -> Result<(), Refused> {
    // Nesting first (`read_all`): a peer can deepen a document a message
    // at a time, or place an object inside itself.
    after.read_all()?;
    if after.record_id()? != record {
        return Err(Refused::WrongRecord);
    }
    let what = after.type_name();
    // By what the document is, not by what the receiver's index says of
    // it: a document new to the receiver is `Unknown` there.
    if facts.delivery == Delivery::Teammate
        && matches!(after, AnyDocument::Antenna(_) | AnyDocument::Warehouse(_))
    {
        return Err(Refused::ServerOnly { what });
    }
    let Some(before) = before else {
        return check_new(role, after, facts);
    };
    let (had, found) = (
        header(before.automerge_ref()),
        header(after.automerge_ref()),
    );
    if had != found {
        return Err(Refused::Header { found, had });
    }
    if !access::may_receive(role, facts.subject, facts.today) {
        return Err(Refused::OutOfScope { role, what });
    }
    match (before, after) {
        (AnyDocument::Antenna(b), AnyDocument::Antenna(a)) => {
            check_reference_data(role, &b.antenna()?, &a.antenna()?)?;
            check_shift_lines(&b.shifts()?, &a.shifts()?)?;
            check_case_lines(role, &b.cases()?, &a.cases()?)
        }
        (AnyDocument::Shift(b), AnyDocument::Shift(a)) => check_evidence(b, a),
        (AnyDocument::TabletLog(b), AnyDocument::TabletLog(a)) => {
            let (old, new) = (b.tablet_log()?, a.tablet_log()?);
            if old != new {
                return Err(Refused::Header {
                    found: format!("the log of {} on {}", new.device, new.date),
                    had: format!("the log of {} on {}", old.device, old.date),
                });
            }
            check_evidence(b, a)
        }
        (AnyDocument::Case(b), AnyDocument::Case(a)) => {
            let (old, new) = (b.case()?, a.case()?);
            if !new.updates.starts_with(&old.updates) {
                return Err(Refused::Evidence {
                    entry: format!("(the updates of case {})", new.id.short()),
                });
            }
            Ok(())
        }
        (AnyDocument::Warehouse(b), AnyDocument::Warehouse(a)) => {
            let (old, new) = (b.warehouse()?, a.warehouse()?);
            if old != new {
                return Err(Refused::WrongRecord);
            }
            check_movements(facts.delivery, &b.movements()?, &a.movements()?)
        }
        // The header check above has compared the types.
        _ => Err(Refused::Header {
            found: after.type_name().into(),
            had: before.type_name().into(),
        }),
    }
}

/// The warehouse's movements only grow: each one held before is there,
/// unchanged; each new one keeps the bounds (quantities, texts), sits
/// under its own id and, from a device, is signed by that device.
fn check_movements(
    delivery: Delivery,
    before: &BTreeMap<Uuid, StockMovement>,
    after: &BTreeMap<Uuid, StockMovement>,
) -> Result<(), Refused> {
    for (id, old) in before {
        if after.get(id) != Some(old) {
            return Err(Refused::Stock {
                movement: id.to_string(),
            });
        }
    }
    for (id, new) in after.iter().filter(|(id, _)| !before.contains_key(*id)) {
        if new.id != *id {
            return Err(Refused::Malformed(format!(
                "movement {id} holds the id of another ({})",
                new.id
            )));
        }
        new.validate()
            .map_err(|e| Refused::Malformed(format!("movement {id}: {e}")))?;
        if let Delivery::Device(sender) = delivery
            && new.device != sender
        {
            return Err(Refused::SignedAsAnother {
                movement: id.to_string(),
                signed: new.device.short(),
            });
        }
    }
    Ok(())
}

/// A document the receiver does not hold yet.
fn check_new(role: Role, after: &AnyDocument, facts: &Facts) -> Result<(), Refused> {
    let what = after.type_name();
    if matches!(facts.subject, Subject::Erased) {
        return Err(Refused::OutOfScope { role, what });
    }
    let allowed = match after {
        // The coordinator's tablet uploads it when it registers the antenna.
        AnyDocument::Antenna(_) => role == Role::Coordinator,
        AnyDocument::Shift(_) | AnyDocument::TabletLog(_) => true,
        // A volunteer opens cases; it never receives a closed one, so it
        // has no business sending one.
        AnyDocument::Case(d) => role != Role::Volunteer || d.case()?.status.is_open(),
        // The warehouse is the leads' and coordinators'; what it holds
        // already is checked as any change to it.
        AnyDocument::Warehouse(d) => {
            if role == Role::Volunteer {
                false
            } else {
                return check_movements(facts.delivery, &BTreeMap::new(), &d.movements()?);
            }
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(Refused::NewDocument { role, what })
    }
}

/// `type` and `schema` at the root, as one string to compare and show.
fn header(doc: &AutoCommit) -> String {
    let field = |key: &str| match doc.get(ROOT, key) {
        Ok(Some((automerge::Value::Scalar(s), _))) => s.to_string(),
        _ => "none".to_string(),
    };
    format!("type {} schema {}", field("type"), field("schema"))
}

/// The field guide's "who may do what": anyone adds a place in the
/// field; leads add and retire volunteers (nicknames with the volunteer
/// role); the catalogue, changing or retiring a place, the settings
/// (retention), the antenna's name and who leads are the coordinator's.
pub fn check_reference_data(role: Role, before: &Antenna, after: &Antenna) -> Result<(), Refused> {
    let refuse =
        |part: &'static str, who: &'static str| Err(Refused::ReferenceData { role, part, who });
    if before.id != after.id {
        return Err(Refused::WrongRecord);
    }
    if role == Role::Coordinator {
        return Ok(());
    }
    if before.settings != after.settings {
        return refuse("settings", "a coordinator");
    }
    if before.name != after.name {
        return refuse("name", "a coordinator");
    }
    if before.catalogue != after.catalogue {
        return refuse("catalogue", "a coordinator");
    }
    if before
        .places
        .iter()
        .any(|(id, place)| after.places.get(id) != Some(place))
    {
        return refuse("places (changing or retiring one)", "a coordinator");
    }
    if before.volunteers == after.volunteers {
        return Ok(());
    }
    if role == Role::Volunteer {
        return refuse("volunteer list", "a lead or a coordinator");
    }
    let is_volunteer =
        |v: Option<&antenna::Volunteer>| v.is_none_or(|v| v.role == antenna::Role::Volunteer);
    let names = before.volunteers.keys().chain(after.volunteers.keys());
    for name in names {
        let (old, new) = (before.volunteers.get(name), after.volunteers.get(name));
        if old != new && !(is_volunteer(old) && is_volunteer(new)) {
            return refuse("leads and coordinators", "a coordinator");
        }
    }
    Ok(())
}

/// Shift lines are written once, when the shift starts.
fn check_shift_lines<K: Ord + std::fmt::Display, V: PartialEq>(
    before: &BTreeMap<K, V>,
    after: &BTreeMap<K, V>,
) -> Result<(), Refused> {
    for (id, line) in before {
        if after.get(id) != Some(line) {
            return Err(Refused::Listing {
                line: format!("shift {id}"),
            });
        }
    }
    Ok(())
}

/// Case lines are added when a case opens and turned into tombstones
/// when it is erased; nothing else.
fn check_case_lines(
    role: Role,
    before: &BTreeMap<CaseId, CaseRef>,
    after: &BTreeMap<CaseId, CaseRef>,
) -> Result<(), Refused> {
    for (id, old) in before {
        let Some(new) = after.get(id) else {
            return Err(Refused::Listing {
                line: format!("case {}", id.short()),
            });
        };
        if old != new {
            check_tombstone(role, *id, Some(old), new)?;
        }
    }
    for (id, new) in after {
        if !before.contains_key(id) && new.erased_at.is_some() {
            check_tombstone(role, *id, None, new)?;
        }
    }
    Ok(())
}

/// A case line turned into a tombstone, or a tombstone written again by
/// another device (the server's retention and a lead's erasure at the
/// same time merge field by field): leads and coordinators only (the
/// server erases by retention). Once erased, a case stays erased, and its
/// line keeps its kind and opening for the figures.
fn check_tombstone(
    role: Role,
    case: CaseId,
    old: Option<&CaseRef>,
    new: &CaseRef,
) -> Result<(), Refused> {
    if role == Role::Volunteer {
        return Err(Refused::Erasure { case: case.short() });
    }
    match old {
        Some(old) if old.kind != new.kind || old.opened_at != new.opened_at => {
            Err(Refused::Listing {
                line: format!("case {}", case.short()),
            })
        }
        _ if new.erased_at.is_none() => Err(Refused::Listing {
            line: format!("case {}", case.short()),
        }),
        _ => Ok(()),
    }
}

/// Entries are never removed, and their history only grows.
fn check_evidence<D: EntryLog>(before: &D, after: &D) -> Result<(), Refused> {
    let new: BTreeMap<_, _> = after.entries()?.into_iter().map(|e| (e.id, e)).collect();
    for old in before.entries()? {
        let kept = new
            .get(&old.id)
            .is_some_and(|e| e.history.starts_with(&old.history));
        if !kept {
            return Err(Refused::Evidence {
                entry: old.id.short(),
            });
        }
    }
    Ok(())
}
