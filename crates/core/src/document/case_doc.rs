use automerge::{AutoCommit, ROOT};
use serde_json::Value;

use super::{from_json, json, new_document, read_root_fields, to_json};
use crate::case::{Case, CaseAction, CaseStatus, CaseUpdate, Person};
use crate::entry::Author;
use crate::error::{DocumentError, Invalid};
use crate::ids::{DeviceId, ShiftId};

const KIND: &str = "case";

/// One follow-up case's document. Erasing the case deletes this whole
/// document, history included; nothing personal is kept anywhere else.
#[derive(Debug)]
pub struct CaseDoc(AutoCommit);

document!(CaseDoc, KIND);

impl CaseDoc {
    pub fn create(case: &Case, device: &DeviceId) -> Result<Self, DocumentError> {
        let mut doc = new_document(KIND, device, &to_json(case))?;
        doc.commit();
        Ok(Self(doc))
    }

    pub fn case(&self) -> Result<Case, DocumentError> {
        from_json(KIND, Value::Object(read_root_fields(&self.0, &[])?))
    }

    /// A step of the follow-up: a note, closing with an outcome, reopening.
    /// The status moves only along [`CaseStatus`]'s transitions.
    pub fn act(
        &mut self,
        action: CaseAction,
        shift: Option<ShiftId>,
        author: &Author,
    ) -> Result<Case, DocumentError> {
        action.validate()?;
        let old = self.case()?;
        let mut new = old.clone();
        new.status = match &action {
            CaseAction::Note { .. } => {
                if !old.status.is_open() {
                    return Err(Invalid::CaseClosed.into());
                }
                old.status.clone()
            }
            CaseAction::Closed { outcome } => {
                old.status.close(old.kind(), outcome.clone(), author.now)?
            }
            CaseAction::Reopened { .. } => old.status.reopen()?,
        };
        new.updates.push(CaseUpdate {
            at: author.now,
            by: author.by.clone(),
            device: author.device,
            shift,
            action,
        });
        self.write(&old, &new)?;
        Ok(new)
    }

    /// Correct what is known of the person (a phone number given later, a
    /// language). Recorded as a note without the data itself.
    pub fn set_person(&mut self, person: Person, author: &Author) -> Result<Case, DocumentError> {
        person.validate()?;
        let old = self.case()?;
        if old.person == person {
            return Err(Invalid::NothingToChange.into());
        }
        let mut new = old.clone();
        new.person = person;
        new.updates.push(CaseUpdate {
            at: author.now,
            by: author.by.clone(),
            device: author.device,
            shift: None,
            action: CaseAction::Note {
                note: "person details corrected".into(),
            },
        });
        self.write(&old, &new)?;
        Ok(new)
    }

    fn write(&mut self, old: &Case, new: &Case) -> Result<(), DocumentError> {
        let (Value::Object(o), Value::Object(n)) = (to_json(old), to_json(new)) else {
            unreachable!("cases serialise to JSON objects");
        };
        json::reconcile_map(&mut self.0, &ROOT, &o, &n)?;
        self.0.commit();
        Ok(())
    }

    pub fn status(&self) -> Result<CaseStatus, DocumentError> {
        Ok(self.case()?.status)
    }
}
