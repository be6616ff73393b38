use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT};
use serde_json::Value;

use super::{EntryLog, from_json, json, new_document, read_root_fields, to_json};
use crate::antenna::Antenna;
use crate::error::DocumentError;
use crate::ids::{DeviceId, TabletLogId};
use crate::shift::{Shift, ShiftEnd};
use uuid::Uuid;

const KIND: &str = "shift";

/// One shift's document: its fields, where each tablet's entries are
/// (`logs`: tablet → the record whose document holds them), and `entries`:
/// those of the tablet that started the shift, and those older versions
/// or other automerge-repo clients wrote there.
///
/// The tablet that starts a shift logs in the shift document itself:
/// most shifts have one tablet, and a document fewer per shift is a
/// request, a snapshot and a commit fewer for every device that syncs it.
/// Its teammates' tablets each log in a [`super::TabletLogDoc`], so that
/// nobody is sent back their own entries (see ARCHITECTURE.md).
#[derive(Debug)]
pub struct ShiftDoc(AutoCommit);

document!(ShiftDoc, KIND);

impl EntryLog for ShiftDoc {}

impl ShiftDoc {
    pub fn create(shift: &Shift, device: &DeviceId) -> Result<Self, DocumentError> {
        let mut fields = to_json(shift);
        if let Value::Object(m) = &mut fields {
            m.insert("entries".into(), Value::Object(Default::default()));
            m.insert(
                "logs".into(),
                serde_json::json!({ device.to_string(): shift.id.to_string() }),
            );
        }
        let mut doc = new_document(KIND, device, &fields)?;
        doc.commit();
        Ok(Self(doc))
    }

    pub fn shift(&self) -> Result<Shift, DocumentError> {
        from_json(
            KIND,
            Value::Object(read_root_fields(&self.0, &["entries", "logs"])?),
        )
    }

    /// Where each tablet's entries of this shift are: the shift's own id
    /// for the tablet that started it, its tablet log's for the others.
    /// How an automerge-repo client finds the entries.
    pub fn logs(&self) -> Result<BTreeMap<DeviceId, Uuid>, DocumentError> {
        let Ok(logs) = json::child_id(&self.0, &ROOT, "logs") else {
            return Ok(BTreeMap::new()); // a shift document of an older version
        };
        from_json(KIND, json::read_json(&self.0, &logs)?)
    }

    /// Record that `device` logs this shift's entries in `log`.
    pub fn add_log(&mut self, device: &DeviceId, log: &TabletLogId) -> Result<(), DocumentError> {
        let logs = match json::child_id(&self.0, &ROOT, "logs") {
            Ok(logs) => logs,
            Err(_) => self.0.put_object(ROOT, "logs", ObjType::Map)?,
        };
        self.0.put(&logs, device.to_string(), log.to_string())?;
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
