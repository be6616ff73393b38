//! The `entries` map, keyed by entry id, that both a tablet's log of a
//! shift ([`super::TabletLogDoc`], where a tablet logs) and a shift
//! document ([`super::ShiftDoc`], entries written there by older versions
//! or by another automerge-repo client) hold. The same rules apply to
//! both: how an entry is written, corrected and voided.
//!
//! An entry is stored without its `id` field: the map key is its id, and
//! the repeated UUID cost about a fifth of every entry on the wire. An
//! entry written with one (by an older version) is read the same. A
//! composition nobody counted (all zero) is left out too (7% more).

use automerge::ObjId;
use serde_json::{Map, Value};

use super::{Document, from_json, json, to_json};
use crate::antenna::Antenna;
use crate::entry::{Author, Entry, EntryContent, EntryEdit, Revision, RevisionChange, Void};
use crate::error::{DocumentError, Invalid};
use crate::ids::EntryId;
use crate::limits::{self, LONG_TEXT};
use crate::shift::Shift;

/// A document that holds entries under `entries`.
pub trait EntryLog: Document {
    /// The `entries` map.
    fn entries_obj(&self) -> Result<ObjId, DocumentError> {
        json::child_id(self.automerge_ref(), &automerge::ROOT, "entries").map_err(|_| {
            DocumentError::Malformed {
                kind: Self::TYPE,
                detail: "no entries map".into(),
            }
        })
    }

    /// Every entry, voided ones included, in time order.
    fn entries(&self) -> Result<Vec<Entry>, DocumentError> {
        let entries = self.entries_obj()?;
        let doc = self.automerge_ref();
        let mut out = Vec::new();
        // One walk over the map, each entry's object id at hand: looking
        // each key up again was a tenth of reading a shift received whole.
        for item in automerge::ReadDoc::map_range(doc, &entries, ..) {
            out.push(match item.value {
                automerge::ValueRef::Object(_) => {
                    read_entry_in(doc, &item.id(), &item.key, Self::TYPE)?
                }
                // Not an entry: refused as a lookup by key refuses it.
                _ => read_entry(doc, &entries, &item.key, Self::TYPE)?,
            });
        }
        out.sort_by_key(|e: &Entry| (e.at, e.id));
        Ok(out)
    }

    fn entry(&self, id: &EntryId) -> Result<Entry, DocumentError> {
        let entries = self.entries_obj()?;
        let key = id.to_string();
        json::child_id(self.automerge_ref(), &entries, &key)
            .map_err(|_| DocumentError::NoSuchEntry(id.short()))?;
        read_entry(self.automerge_ref(), &entries, &key, Self::TYPE)
    }

    /// Add a validated entry (see [`crate::entry::NewEntry::into_entry`])
    /// of `shift`.
    fn log(&mut self, entry: &Entry, shift: &Shift) -> Result<(), DocumentError> {
        shift.check_entry_time(entry.at)?;
        shift.check_witnesses(&entry.content)?;
        let entries = self.entries_obj()?;
        let doc = self.automerge();
        json::put_json(doc, &entries, entry.id.to_string(), &stored(entry))?;
        doc.commit();
        Ok(())
    }

    /// Correct an entry of `shift`. The new values are checked like a new
    /// entry; the entry's history records each field's old and new value.
    fn edit(
        &mut self,
        id: &EntryId,
        edit: EntryEdit,
        shift: &Shift,
        antenna: &Antenna,
        author: &Author,
    ) -> Result<Entry, DocumentError> {
        let old = self.entry(id)?;
        if old.is_voided() {
            return Err(Invalid::EntryVoided.into());
        }
        if old.content.kind() != edit.content.kind() {
            return Err(Invalid::KindChange {
                from: old.content.kind().as_str(),
                to: edit.content.kind().as_str(),
            }
            .into());
        }
        let mut content = edit.content;
        // The case an entry opened is part of its identity, not editable.
        if let (
            EntryContent::ShelterRequest { case, .. } | EntryContent::Referral { case, .. },
            Some(old_case),
        ) = (&mut content, old.content.case())
        {
            *case = old_case;
        }
        content.validate(antenna)?;
        if edit.place != old.place
            && let Some(place) = &edit.place
        {
            antenna.check_place(place)?;
        }
        crate::entry::check_not_future("entry time", edit.at, author.now)?;
        if edit.at != old.at {
            shift.check_entry_time(edit.at)?;
        }
        // Witnesses named before the team changed stay as they were.
        if witnesses(&content) != witnesses(&old.content) {
            shift.check_witnesses(&content)?;
        }

        let mut new = Entry {
            // An entry logged before times were kept to the second keeps
            // its time unless the correction changes it.
            at: if edit.at == old.at {
                old.at
            } else {
                crate::time::to_the_second(edit.at)
            },
            place: edit.place,
            content,
            ..old.clone()
        };
        let changes = field_changes(&to_json(&old), &to_json(&new));
        if changes.is_empty() {
            return Err(Invalid::NothingToChange.into());
        }
        new.history.push(Revision {
            at: author.now,
            by: author.by.clone(),
            device: author.device,
            change: RevisionChange::Edit { changes },
        });
        write_entry(self, id, &old, &new)?;
        Ok(new)
    }

    /// Void an entry: it leaves every total, stays visible struck through,
    /// with who voided it, when and why.
    fn void(
        &mut self,
        id: &EntryId,
        reason: &str,
        author: &Author,
    ) -> Result<Entry, DocumentError> {
        let old = self.entry(id)?;
        if old.is_voided() {
            return Err(Invalid::EntryVoided.into());
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Invalid::VoidNeedsReason.into());
        }
        limits::check_text("void reason", reason, LONG_TEXT)?;
        limits::check_no_phone("void reason", reason)?;
        let mut new = old.clone();
        new.void = Some(Void {
            at: author.now,
            by: author.by.clone(),
            reason: reason.to_string(),
        });
        new.history.push(Revision {
            at: author.now,
            by: author.by.clone(),
            device: author.device,
            change: RevisionChange::Void {
                reason: reason.to_string(),
            },
        });
        write_entry(self, id, &old, &new)?;
        Ok(new)
    }
}

/// An entry as its document holds it: its fields, without the id its key
/// already gives, nor a composition nobody counted (all zero, which is
/// what a missing one reads as: most distributions have none).
fn stored(entry: &Entry) -> Value {
    let mut fields = to_json(entry);
    if let Value::Object(m) = &mut fields {
        m.remove("id");
        let uncounted = m
            .get("composition")
            .and_then(Value::as_object)
            .is_some_and(|c| c.values().all(|v| v.as_u64() == Some(0)));
        if uncounted {
            m.remove("composition");
        }
    }
    fields
}

fn read_entry(
    doc: &automerge::AutoCommit,
    entries: &ObjId,
    key: &str,
    kind: &'static str,
) -> Result<Entry, DocumentError> {
    let obj = json::child_id(doc, entries, key)?;
    read_entry_in(doc, &obj, key, kind)
}

/// The entry held in the object `obj`, under `key` in the entries map.
fn read_entry_in(
    doc: &automerge::AutoCommit,
    obj: &ObjId,
    key: &str,
    kind: &'static str,
) -> Result<Entry, DocumentError> {
    let mut fields = json::read_json(doc, obj)?;
    if let Value::Object(m) = &mut fields {
        m.entry("id")
            .or_insert_with(|| Value::String(key.to_string()));
    }
    let entry: Entry = from_json(kind, fields)?;
    if entry.id.to_string() != key {
        return Err(DocumentError::Malformed {
            kind,
            detail: format!("entry {key} holds the id of another entry"),
        });
    }
    Ok(entry)
}

fn write_entry<D: EntryLog>(
    doc: &mut D,
    id: &EntryId,
    old: &Entry,
    new: &Entry,
) -> Result<(), DocumentError> {
    let entries = doc.entries_obj()?;
    let am = doc.automerge();
    let obj = json::child_id(am, &entries, &id.to_string())
        .map_err(|_| DocumentError::NoSuchEntry(id.short()))?;
    let (Value::Object(o), Value::Object(n)) = (stored(old), stored(new)) else {
        unreachable!("entries serialise to JSON objects");
    };
    json::reconcile_map(am, &obj, &o, &n)?;
    am.commit();
    Ok(())
}

/// field → [old, new] for each top-level field that differs, history and
/// void aside (they record the change itself).
fn field_changes(old: &Value, new: &Value) -> std::collections::BTreeMap<String, [Value; 2]> {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "history" | "void"))
        .filter_map(|k| {
            let (a, b) = (
                o.get(k).cloned().unwrap_or(Value::Null),
                n.get(k).cloned().unwrap_or(Value::Null),
            );
            (a != b).then(|| (k.clone(), [a, b]))
        })
        .collect()
}

fn witnesses(
    content: &crate::entry::EntryContent,
) -> Option<&std::collections::BTreeSet<crate::ids::Nickname>> {
    match content {
        crate::entry::EntryContent::Incident { witnesses, .. } => Some(witnesses),
        _ => None,
    }
}
