use automerge::AutoCommit;
use serde_json::Value;

use super::{EntryLog, from_json, new_document, read_root_fields, to_json};
use crate::error::DocumentError;
use crate::ids::DeviceId;
use crate::shift::TabletLog;

const KIND: &str = "tablet_log";

/// One tablet's log of one shift (see [`TabletLog`]): its header, and the
/// entries it logged there under `entries`.
#[derive(Debug)]
pub struct TabletLogDoc(AutoCommit);

document!(TabletLogDoc, KIND);

impl EntryLog for TabletLogDoc {}

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
