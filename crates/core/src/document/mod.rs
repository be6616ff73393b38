//! The Automerge document schema.
//!
//! Three kinds of document, each a JSON-shaped tree (see [`json`]):
//!
//! - one **antenna** document: reference data (catalogue, places,
//!   volunteers, settings), the list of the antenna's case documents
//!   (which erasure turns into tombstones), and the shift lines older
//!   versions wrote there ([`ShiftRef`]); a device learns what there is to
//!   sync from the other side's list of what changed, not from here;
//! - one **shift** document per shift: the shift's fields, and under `logs`
//!   the tablet log of each tablet that logged in it;
//! - one **tablet log** per tablet and shift: the entries that tablet
//!   logged, under `entries`, a map keyed by entry id (so two tablets'
//!   entries never collide and a +1 on each is +2). A shift document's own
//!   `entries` map holds entries in the same way, for older versions and
//!   other automerge-repo clients ([`EntryLog`] is the one set of rules for
//!   both);
//! - one **case** document per follow-up case: the only place where
//!   personal data (alias, age group, languages, phone) may live. Shift
//!   entries refer to cases by id.
//!
//! Every root carries `schema` (this module's [`SCHEMA_VERSION`]) and
//! `type`. A document written by a newer schema is refused with a message
//! that says to update the app, rather than misread.

/// `impl Document` for a newtype over `AutoCommit` whose root `type` is
/// `$kind`: every kind of document is such a wrapper.
macro_rules! document {
    ($name:ident, $kind:expr) => {
        impl $crate::document::Document for $name {
            const TYPE: &'static str = $kind;
            fn from_automerge(doc: automerge::AutoCommit) -> Self {
                Self(doc)
            }
            fn automerge(&mut self) -> &mut automerge::AutoCommit {
                &mut self.0
            }
            fn automerge_ref(&self) -> &automerge::AutoCommit {
                &self.0
            }
            fn into_automerge(self) -> automerge::AutoCommit {
                self.0
            }
        }
    };
}

mod antenna_doc;
mod case_doc;
mod entry_log;
pub mod json;
mod shift_doc;
mod tablet_log_doc;
mod warehouse_doc;

pub use antenna_doc::{AntennaDoc, CaseRef, ShiftRef, write_tombstones};
pub use case_doc::CaseDoc;
pub use entry_log::EntryLog;
pub use shift_doc::ShiftDoc;
pub use tablet_log_doc::TabletLogDoc;
pub use warehouse_doc::{Warehouse, WarehouseDoc};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ROOT, ReadDoc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::DocumentError;
use crate::ids::DeviceId;

/// A document of any kind, as found in storage or received from a peer.
#[derive(Debug)]
pub enum AnyDocument {
    Antenna(AntennaDoc),
    Shift(ShiftDoc),
    TabletLog(TabletLogDoc),
    Case(CaseDoc),
    Warehouse(WarehouseDoc),
}

impl AnyDocument {
    /// Load chunks whose kind is not known in advance (the root's `type`
    /// says). The document is fully read once, so a malformed one is refused
    /// here rather than half-used later.
    pub fn load<'a, I: IntoIterator<Item = &'a [u8]>>(
        chunks: I,
        device: &DeviceId,
    ) -> Result<Self, DocumentError> {
        let this = Self::load_unread(chunks, device)?;
        this.read_all()?;
        Ok(this)
    }

    /// Load chunks as the kind the root's `type` says, checking only the
    /// header: for a caller that reads the whole document next anyway (the
    /// store's index), which is what checks it.
    pub fn load_unread<'a, I: IntoIterator<Item = &'a [u8]>>(
        chunks: I,
        device: &DeviceId,
    ) -> Result<Self, DocumentError> {
        let mut doc = AutoCommit::new();
        for chunk in chunks {
            doc.load_incremental(chunk)?;
        }
        Self::from_automerge_unread(doc, device)
    }

    /// [`Self::load_unread`] for a document already in memory (a merge).
    pub fn from_automerge_unread(
        doc: AutoCommit,
        device: &DeviceId,
    ) -> Result<Self, DocumentError> {
        let kind = match doc.get(ROOT, "type")? {
            Some((automerge::Value::Scalar(s), _)) => s.as_str().unwrap_or_default().to_string(),
            _ => String::new(),
        };
        let mut this = match kind.as_str() {
            AntennaDoc::TYPE => Self::Antenna(AntennaDoc::from_automerge(doc)),
            ShiftDoc::TYPE => Self::Shift(ShiftDoc::from_automerge(doc)),
            TabletLogDoc::TYPE => Self::TabletLog(TabletLogDoc::from_automerge(doc)),
            CaseDoc::TYPE => Self::Case(CaseDoc::from_automerge(doc)),
            WarehouseDoc::TYPE => Self::Warehouse(WarehouseDoc::from_automerge(doc)),
            _ => {
                return Err(DocumentError::Malformed {
                    kind: "maraude",
                    detail: format!(
                        "unknown document type \"{}\"",
                        kind.chars().take(40).collect::<String>()
                    ),
                });
            }
        };
        check_header(this.automerge_ref(), this.type_name())?;
        this.automerge().set_actor(actor(device));
        Ok(this)
    }

    /// Read every part of the document: an error says what is malformed.
    pub fn read_all(&self) -> Result<(), DocumentError> {
        self.check_nesting()?;
        match self {
            Self::Antenna(d) => {
                d.antenna()?;
                d.shifts()?;
                d.cases()?;
            }
            Self::Shift(d) => {
                d.shift()?;
                d.logs()?;
                d.entries()?;
            }
            Self::TabletLog(d) => {
                d.tablet_log()?;
                d.entries()?;
            }
            Self::Case(d) => {
                d.case()?;
            }
            Self::Warehouse(d) => {
                d.warehouse()?;
                for m in d.movements()?.values() {
                    m.validate()?;
                }
            }
        }
        Ok(())
    }

    /// Whether the document can be read at all: measured without
    /// recursion, since reading recurses once per level, and an object
    /// placed inside itself (two ops with one id in a document chunk) never
    /// ends. Every reader of a document from outside calls this first
    /// (`read_all` does).
    pub fn check_nesting(&self) -> Result<(), DocumentError> {
        if nested_deeper_than(self.automerge_ref(), MAX_NESTING) {
            return Err(DocumentError::Malformed {
                kind: "maraude",
                detail: format!("objects nested more than {MAX_NESTING} levels deep"),
            });
        }
        Ok(())
    }

    /// The UUID of the record the document holds: its document id derives
    /// from it.
    pub fn record_id(&self) -> Result<uuid::Uuid, DocumentError> {
        Ok(match self {
            Self::Antenna(d) => *d.antenna()?.id.as_uuid(),
            Self::Shift(d) => *d.shift()?.id.as_uuid(),
            Self::TabletLog(d) => *d.tablet_log()?.id.as_uuid(),
            Self::Case(d) => *d.case()?.id.as_uuid(),
            Self::Warehouse(d) => d.warehouse()?.id,
        })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Antenna(_) => AntennaDoc::TYPE,
            Self::Shift(_) => ShiftDoc::TYPE,
            Self::TabletLog(_) => TabletLogDoc::TYPE,
            Self::Case(_) => CaseDoc::TYPE,
            Self::Warehouse(_) => WarehouseDoc::TYPE,
        }
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        match self {
            Self::Antenna(d) => d.automerge(),
            Self::Shift(d) => d.automerge(),
            Self::TabletLog(d) => d.automerge(),
            Self::Case(d) => d.automerge(),
            Self::Warehouse(d) => d.automerge(),
        }
    }

    pub fn into_automerge(self) -> AutoCommit {
        match self {
            Self::Antenna(d) => d.into_automerge(),
            Self::Shift(d) => d.into_automerge(),
            Self::TabletLog(d) => d.into_automerge(),
            Self::Case(d) => d.into_automerge(),
            Self::Warehouse(d) => d.into_automerge(),
        }
    }

    pub fn automerge_ref(&self) -> &AutoCommit {
        match self {
            Self::Antenna(d) => d.automerge_ref(),
            Self::Shift(d) => d.automerge_ref(),
            Self::TabletLog(d) => d.automerge_ref(),
            Self::Case(d) => d.automerge_ref(),
            Self::Warehouse(d) => d.automerge_ref(),
        }
    }
}

/// The deepest a document may nest objects: a Maraude document nests six
/// levels at most (root, entries, an entry, its history, a revision, its
/// fields).
pub const MAX_NESTING: usize = 32;

/// Whether `doc` nests objects deeper than `max`, found without recursion.
/// Reading a document (Automerge's hydrate, [`json`]) recurses once per
/// level, and a peer can deepen a document a message at a time: one
/// nested thousands deep would overflow the reader's stack and stop the
/// process (every antenna on a server). So what comes from outside is
/// measured with this first.
pub fn nested_deeper_than(doc: &AutoCommit, max: usize) -> bool {
    use automerge::{ObjType, ValueRef};
    let mut stack = vec![(automerge::ObjId::Root, 0_usize)];
    while let Some((obj, depth)) = stack.pop() {
        let children: Vec<automerge::ObjId> = match doc.object_type(&obj) {
            Ok(ObjType::Map | ObjType::Table) => doc
                .map_range(&obj, ..)
                .filter(|i| matches!(i.value, ValueRef::Object(_)))
                .map(|i| i.id())
                .collect(),
            Ok(ObjType::List) => doc
                .list_range(&obj, ..)
                .filter(|i| matches!(i.value, ValueRef::Object(_)))
                .map(|i| i.id())
                .collect(),
            _ => continue,
        };
        if !children.is_empty() && depth + 1 > max {
            return true;
        }
        stack.extend(children.into_iter().map(|c| (c, depth + 1)));
    }
    false
}

/// Bumped when the document format changes in a way older apps cannot read.
pub const SCHEMA_VERSION: u64 = 1;

/// What every kind of document shares: loading from stored chunks, the
/// header check, and the changes a mutation produced.
pub trait Document: Sized {
    /// The `type` at the root.
    const TYPE: &'static str;

    fn from_automerge(doc: AutoCommit) -> Self;
    fn automerge(&mut self) -> &mut AutoCommit;
    fn automerge_ref(&self) -> &AutoCommit;
    fn into_automerge(self) -> AutoCommit;

    /// Load from the chunks a store or a peer holds (snapshots and
    /// incremental changes, in any order). `device` becomes the actor of the
    /// changes made from now on.
    fn load<'a, I: IntoIterator<Item = &'a [u8]>>(
        chunks: I,
        device: &DeviceId,
    ) -> Result<Self, DocumentError> {
        let mut doc = AutoCommit::new();
        for chunk in chunks {
            doc.load_incremental(chunk)?;
        }
        check_header(&doc, Self::TYPE)?;
        doc.set_actor(actor(device));
        Ok(Self::from_automerge(doc))
    }

    fn heads(&mut self) -> Vec<ChangeHash> {
        self.automerge().get_heads()
    }

    /// Changes made since `heads`: what a store appends after a mutation.
    fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<Change> {
        self.automerge().get_changes(heads)
    }

    /// The whole document, compacted.
    fn save(&mut self) -> Vec<u8> {
        self.automerge().save()
    }
}

/// The actor id a device writes with: stable, so a document does not grow an
/// actor per change. Safe because a store mutates a document only inside a
/// write transaction, after loading its latest state.
pub fn actor(device: &DeviceId) -> ActorId {
    ActorId::from(device.as_uuid().as_bytes().as_slice())
}

fn new_document(
    kind: &str,
    device: &DeviceId,
    fields: &Value,
) -> Result<AutoCommit, DocumentError> {
    new_document_as(kind, actor(device), fields)
}

/// [`new_document`] written by `actor`, uncommitted.
fn new_document_as(
    kind: &str,
    actor: ActorId,
    fields: &Value,
) -> Result<AutoCommit, DocumentError> {
    let mut doc = AutoCommit::new().with_actor(actor);
    doc.put(ROOT, "schema", SCHEMA_VERSION as i64)?;
    doc.put(ROOT, "type", kind)?;
    if let Value::Object(map) = fields {
        for (k, v) in map {
            json::put_json(&mut doc, &ROOT, k.as_str(), v)?;
        }
    }
    Ok(doc)
}

fn check_header(doc: &AutoCommit, expected: &'static str) -> Result<(), DocumentError> {
    let kind = match doc.get(ROOT, "type")? {
        Some((automerge::Value::Scalar(s), _)) => s.as_str().unwrap_or_default().to_string(),
        Some(_) => String::new(),
        None => {
            return Err(DocumentError::Malformed {
                kind: expected,
                detail: "no type at the root".into(),
            });
        }
    };
    if kind != expected {
        return Err(DocumentError::WrongKind {
            expected,
            found: kind,
        });
    }
    let schema = doc
        .get(ROOT, "schema")?
        .and_then(|(v, _)| match v {
            automerge::Value::Scalar(s) => s.as_i64(),
            _ => None,
        })
        .unwrap_or(0);
    if schema < 1 {
        return Err(DocumentError::Malformed {
            kind: expected,
            detail: "no schema version".into(),
        });
    }
    if schema as u64 > SCHEMA_VERSION {
        return Err(DocumentError::NewerSchema {
            kind: expected,
            found: schema as u64,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Read the root's fields, leaving out the big maps named in `except`.
fn read_root_fields(
    doc: &AutoCommit,
    except: &[&str],
) -> Result<serde_json::Map<String, Value>, DocumentError> {
    let mut out = serde_json::Map::new();
    for key in doc.keys(ROOT) {
        if except.contains(&key.as_str()) {
            continue;
        }
        out.insert(key.clone(), read_prop(doc, &ROOT, &key)?);
    }
    Ok(out)
}

fn read_prop(doc: &AutoCommit, obj: &automerge::ObjId, key: &str) -> Result<Value, DocumentError> {
    Ok(match doc.get(obj, key)? {
        Some((automerge::Value::Object(_), id)) => json::read_json(doc, &id)?,
        Some((automerge::Value::Scalar(s), _)) => json::read_json_scalar(&s),
        None => Value::Null,
    })
}

fn from_json<T: DeserializeOwned>(kind: &'static str, v: Value) -> Result<T, DocumentError> {
    serde_json::from_value(v).map_err(|e| DocumentError::Malformed {
        kind,
        detail: e.to_string(),
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    // Our record types serialise to JSON by construction (string keys,
    // finite numbers); a failure here is a programming error.
    serde_json::to_value(v).expect("records serialise to JSON")
}
