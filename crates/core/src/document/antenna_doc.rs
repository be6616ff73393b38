use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{from_json, json, new_document, read_prop, read_root_fields, to_json};
use crate::antenna::Antenna;
use crate::case::CaseKind;
use crate::erasure::ErasedBecause;
use crate::error::DocumentError;
use crate::ids::{CaseId, DeviceId, Nickname, ShiftId};
use crate::shift::ShiftKind;

const KIND: &str = "antenna";

/// A shift as older versions listed it in the antenna document. Starting
/// a shift no longer writes there: every tablet of the antenna changed
/// that one document, so each sync carried every other tablet's line, and
/// 500 tablets syncing at once cost the server and each of them in the
/// square of their number. Nothing reads the list; the lines already
/// written stay, and may not change ([`crate::authority`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ShiftRef {
    pub kind: ShiftKind,
    pub date: NaiveDate,
}

/// A case as listed in the antenna document. After erasure, only this stays
/// (see [`crate::erasure`]): no alias, no phone, no free text; the outcome
/// and closing date only so that the period figures do not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CaseRef {
    pub kind: CaseKind,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_because: Option<ErasedBecause>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_by: Option<Nickname>,
}

impl CaseRef {
    /// The line of a newly opened case.
    pub fn opened(kind: CaseKind, opened_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            opened_at,
            outcome: None,
            closed_at: None,
            erased_at: None,
            erased_because: None,
            erased_by: None,
        }
    }
}

/// The antenna's document: reference data and the list of its cases (and
/// the shifts older versions listed, see [`ShiftRef`]).
#[derive(Debug)]
pub struct AntennaDoc(AutoCommit);

document!(AntennaDoc, KIND);

impl AntennaDoc {
    pub fn create(antenna: &Antenna, device: &DeviceId) -> Result<Self, DocumentError> {
        let mut fields = to_json(antenna);
        if let Value::Object(m) = &mut fields {
            m.insert("shifts".into(), Value::Object(Default::default()));
            m.insert("cases".into(), Value::Object(Default::default()));
        }
        let mut doc = new_document(KIND, device, &fields)?;
        doc.commit();
        Ok(Self(doc))
    }

    pub fn antenna(&self) -> Result<Antenna, DocumentError> {
        from_json(
            KIND,
            Value::Object(read_root_fields(&self.0, &["shifts", "cases"])?),
        )
    }

    /// Replace the reference data (catalogue, places, volunteers, settings)
    /// with `new`, writing only the differences so that two coordinators
    /// adding different places at once both keep theirs.
    pub fn set_antenna(&mut self, new: &Antenna) -> Result<(), DocumentError> {
        let old = self.antenna()?;
        let (Value::Object(o), Value::Object(n)) = (to_json(&old), to_json(new)) else {
            unreachable!("antennas serialise to JSON objects");
        };
        json::reconcile_map(&mut self.0, &ROOT, &o, &n)?;
        self.0.commit();
        Ok(())
    }

    pub fn add_case(&mut self, id: CaseId, case: &CaseRef) -> Result<(), DocumentError> {
        self.put_in("cases", &id.to_string(), &to_json(case))
    }

    fn put_in(&mut self, map: &str, key: &str, value: &Value) -> Result<(), DocumentError> {
        let obj = json::child_id(&self.0, &ROOT, map).map_err(|_| DocumentError::Malformed {
            kind: KIND,
            detail: format!("no {map} map"),
        })?;
        json::put_json(&mut self.0, &obj, key, value)?;
        self.0.commit();
        Ok(())
    }

    /// Turn the cases' lines into their tombstones (see [`crate::erasure`]),
    /// in one change.
    pub fn erase_cases(&mut self, tombstones: &[(CaseId, CaseRef)]) -> Result<(), DocumentError> {
        write_tombstones(&mut self.0, tombstones)?;
        self.0.commit();
        Ok(())
    }

    pub fn shifts(&self) -> Result<BTreeMap<ShiftId, ShiftRef>, DocumentError> {
        from_json(KIND, read_prop(&self.0, &ROOT, "shifts")?)
    }

    pub fn cases(&self) -> Result<BTreeMap<CaseId, CaseRef>, DocumentError> {
        from_json(KIND, read_prop(&self.0, &ROOT, "cases")?)
    }
}

/// Write tombstones into an antenna document through any Automerge
/// transaction: the store's [`AntennaDoc`], or a repo's live document on
/// the server.
pub fn write_tombstones<T: Transactable>(
    tx: &mut T,
    tombstones: &[(CaseId, CaseRef)],
) -> Result<(), DocumentError> {
    let cases = json::child_id(tx, &ROOT, "cases").map_err(|_| DocumentError::Malformed {
        kind: KIND,
        detail: "no cases map".into(),
    })?;
    for (id, tombstone) in tombstones {
        json::put_json(tx, &cases, id.to_string().as_str(), &to_json(tombstone))?;
    }
    Ok(())
}
