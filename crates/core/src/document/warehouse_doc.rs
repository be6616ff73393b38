use std::collections::BTreeMap;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ROOT};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{actor, from_json, json, new_document_as, read_prop, read_root_fields};
use crate::error::DocumentError;
use crate::ids::{AntennaId, DeviceId};
use crate::warehouse::{StockMovement, warehouse_id};

const KIND: &str = "warehouse";

/// The warehouse document's header: whose warehouse it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warehouse {
    pub id: Uuid,
    pub antenna: AntennaId,
}

/// An antenna's warehouse: its header, and its stock movements under
/// `movements`, by id, only ever added to (see [`crate::warehouse`]).
///
/// There is one per antenna, and any lead's or coordinator's tablet may be
/// the first to record a movement, offline: so its first change is the
/// same bytes wherever it is made (an actor and a time derived from the
/// antenna, not the device's and the clock's). Two tablets that start it
/// apart hold one change, not two `movements` maps of which a merge would
/// keep one.
#[derive(Debug)]
pub struct WarehouseDoc(AutoCommit);

document!(WarehouseDoc, KIND);

impl WarehouseDoc {
    pub fn create(antenna: AntennaId, device: &DeviceId) -> Result<Self, DocumentError> {
        let id = warehouse_id(antenna);
        let header = Warehouse { id, antenna };
        let mut fields = super::to_json(&header);
        if let Value::Object(m) = &mut fields {
            m.insert("movements".into(), Value::Object(Default::default()));
        }
        let shared = ActorId::from(id.as_bytes().as_slice());
        let mut doc = new_document_as(KIND, shared, &fields)?;
        doc.commit_with(CommitOptions::default().with_time(0));
        doc.set_actor(actor(device));
        Ok(Self(doc))
    }

    pub fn warehouse(&self) -> Result<Warehouse, DocumentError> {
        from_json(
            KIND,
            Value::Object(read_root_fields(&self.0, &["movements"])?),
        )
    }

    pub fn movements(&self) -> Result<BTreeMap<Uuid, StockMovement>, DocumentError> {
        from_json(KIND, read_prop(&self.0, &ROOT, "movements")?)
    }

    /// Add a movement (already checked against the catalogue and stock).
    pub fn record(&mut self, movement: &StockMovement) -> Result<(), DocumentError> {
        let obj =
            json::child_id(&self.0, &ROOT, "movements").map_err(|_| DocumentError::Malformed {
                kind: KIND,
                detail: "no movements map".into(),
            })?;
        json::put_json(
            &mut self.0,
            &obj,
            movement.id.to_string().as_str(),
            &super::to_json(movement),
        )?;
        self.0.commit();
        Ok(())
    }
}
