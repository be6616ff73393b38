use automerge::{AutoCommit, ObjId, ROOT};
use serde_json::Value;

use super::{Document, EntryLog, from_json, json, new_document, read_root_fields, to_json};
use crate::error::DocumentError;
use crate::ids::DeviceId;
use crate::shift::TabletLog;

const KIND: &str = "tablet_log";

/// One tablet's log of one shift (see [`TabletLog`]): its header, and the
/// entries it logged there under `entries`.
#[derive(Debug)]
pub struct TabletLogDoc(AutoCommit);

impl Document for TabletLogDoc {
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

impl EntryLog for TabletLogDoc {
    fn entries_obj(&self) -> Result<ObjId, DocumentError> {
        json::child_id(&self.0, &ROOT, "entries").map_err(|_| DocumentError::Malformed {
            kind: KIND,
            detail: "no entries map".into(),
        })
    }
}

impl TabletLogDoc {
    pub fn create(log: &TabletLog, device: &DeviceId) -> Result<Self, DocumentError> {
        let mut fields = to_json(log);
        if let Value::Object(m) = &mut fields {
            m.insert("entries".into(), Value::Object(Default::default()));
        }
        let mut doc = new_document(KIND, device, &fields)?;
        doc.commit();
        Ok(Self(doc))
    }

    pub fn tablet_log(&self) -> Result<TabletLog, DocumentError> {
        from_json(
            KIND,
            Value::Object(read_root_fields(&self.0, &["entries"])?),
        )
    }
}
