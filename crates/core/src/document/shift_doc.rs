use automerge::{AutoCommit, ObjId, ROOT, ReadDoc};
use serde_json::Value;

use super::{Document, from_json, json, new_document, read_root_fields, to_json};
use crate::antenna::Antenna;
use crate::entry::{Author, Entry, EntryContent, EntryEdit, Revision, RevisionChange, Void};
use crate::error::{DocumentError, Invalid};
use crate::ids::{DeviceId, EntryId};
use crate::limits::{self, LONG_TEXT};
use crate::shift::{Shift, ShiftEnd};

const KIND: &str = "shift";

/// One shift's document: its fields, and its log under `entries`.
#[derive(Debug)]
pub struct ShiftDoc(AutoCommit);

impl Document for ShiftDoc {
    const TYPE: &'static str = KIND;
    fn from_automerge(doc: AutoCommit) -> Self {
        Self(doc)
    }
    fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.0
    }
    fn automerge_ref(&self) -> &AutoCommit {
        &self.0
    }
    fn into_automerge(self) -> AutoCommit {
        self.0
    }
}

impl ShiftDoc {
    pub fn create(shift: &Shift, device: &DeviceId) -> Result<Self, DocumentError> {
        let mut fields = to_json(shift);
        if let Value::Object(m) = &mut fields {
            m.insert("entries".into(), Value::Object(Default::default()));
        }
        let mut doc = new_document(KIND, device, &fields)?;
        doc.commit();
        Ok(Self(doc))
    }

    pub fn shift(&self) -> Result<Shift, DocumentError> {
        from_json(
            KIND,
            Value::Object(read_root_fields(&self.0, &["entries"])?),
        )
    }

    fn entries_obj(&self) -> Result<ObjId, DocumentError> {
        json::child_id(&self.0, &ROOT, "entries").map_err(|_| DocumentError::Malformed {
            kind: KIND,
            detail: "no entries map".into(),
        })
    }

    fn entry_obj(&self, id: &EntryId) -> Result<ObjId, DocumentError> {
        let entries = self.entries_obj()?;
        json::child_id(&self.0, &entries, &id.to_string())
            .map_err(|_| DocumentError::NoSuchEntry(id.short()))
    }

    /// Every entry, voided ones included, in time order.
    pub fn entries(&self) -> Result<Vec<Entry>, DocumentError> {
        let entries = self.entries_obj()?;
        let mut out = Vec::new();
        for key in self.0.keys(&entries) {
            let obj = json::child_id(&self.0, &entries, &key)?;
            out.push(from_json(KIND, json::read_json(&self.0, &obj)?)?);
        }
        out.sort_by_key(|e: &Entry| (e.at, e.id));
        Ok(out)
    }

    pub fn entry(&self, id: &EntryId) -> Result<Entry, DocumentError> {
        let obj = self.entry_obj(id)?;
        from_json(KIND, json::read_json(&self.0, &obj)?)
    }

    /// Add a validated entry (see [`crate::entry::NewEntry::into_entry`]).
    pub fn log(&mut self, entry: &Entry) -> Result<(), DocumentError> {
        self.shift()?.check_entry_time(entry.at)?;
        let entries = self.entries_obj()?;
        json::put_json(&mut self.0, &entries, entry.id.to_string(), &to_json(entry))?;
        self.0.commit();
        Ok(())
    }

    /// Correct an entry. The new values are checked like a new entry; the
    /// entry's history records each field's old and new value.
    pub fn edit(
        &mut self,
        id: &EntryId,
        edit: EntryEdit,
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
            self.shift()?.check_entry_time(edit.at)?;
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
        let (old_json, new_json) = (to_json(&old), to_json(&new));
        let changes = field_changes(&old_json, &new_json);
        if changes.is_empty() {
            return Err(Invalid::NothingToChange.into());
        }
        new.history.push(Revision {
            at: author.now,
            by: author.by.clone(),
            device: author.device,
            change: RevisionChange::Edit { changes },
        });
        self.write_entry(id, &old, &new)?;
        Ok(new)
    }

    /// Void an entry: it leaves every total, stays visible struck through,
    /// with who voided it, when and why.
    pub fn void(
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
        self.write_entry(id, &old, &new)?;
        Ok(new)
    }

    fn write_entry(&mut self, id: &EntryId, old: &Entry, new: &Entry) -> Result<(), DocumentError> {
        let obj = self.entry_obj(id)?;
        let (Value::Object(o), Value::Object(n)) = (to_json(old), to_json(new)) else {
            unreachable!("entries serialise to JSON objects");
        };
        json::reconcile_map(&mut self.0, &obj, &o, &n)?;
        self.0.commit();
        Ok(())
    }

    /// End the shift: stock returned and handover notes.
    pub fn end(
        &mut self,
        end: ShiftEnd,
        antenna: &Antenna,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Shift, DocumentError> {
        let old = self.shift()?;
        let ended_at = end.validate(&old, antenna, now)?;
        let new = Shift {
            ended_at: Some(ended_at),
            stock_returned: end.stock_returned,
            handover: end.handover.trim().to_string(),
            ..old.clone()
        };
        self.write_shift(&old, &new)?;
        Ok(new)
    }

    /// Change the shift's own fields (team, vehicle, stock loaded…). The
    /// caller validated `new`.
    pub fn write_shift(&mut self, old: &Shift, new: &Shift) -> Result<(), DocumentError> {
        let (Value::Object(o), Value::Object(n)) = (to_json(old), to_json(new)) else {
            unreachable!("shifts serialise to JSON objects");
        };
        json::reconcile_map(&mut self.0, &ROOT, &o, &n)?;
        self.0.commit();
        Ok(())
    }
}

/// field → [old, new] for each top-level field that differs, history and
/// void aside (they record the change itself).
fn field_changes(old: &Value, new: &Value) -> std::collections::BTreeMap<String, [Value; 2]> {
    let empty = serde_json::Map::new();
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
