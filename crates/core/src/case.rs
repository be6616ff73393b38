//! Follow-up cases: shelter requests and referrals, followed across shifts
//! until closed. The only place personal data may live, so that erasing a
//! case erases the person.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entry::{Author, Composition, EntryContent, Service, Urgency};
use crate::error::Invalid;
use crate::ids::{AntennaId, CaseId, DeviceId, Nickname, ShiftId};
use crate::limits::{self, LONG_TEXT, SHORT_TEXT};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    ShelterRequest,
    Referral,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ShelterRequest => "shelter_request",
            Self::Referral => "referral",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum AgeGroup {
    Child,
    Minor,
    YoungAdult,
    Adult,
    Senior,
}

/// At most this about a person, and only with their agreement for the phone.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
// A field the UI leaves out reads as None.
#[ts(optional_fields = nullable)]
pub struct Person {
    pub alias: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_group: Option<AgeGroup>,
    #[serde(default)]
    pub languages: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

// Person data must not end up in logs by accident.
impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Person(****)")
    }
}

impl Person {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.alias.trim().is_empty() {
            return Err(Invalid::Empty { field: "alias" });
        }
        limits::check_text("alias", &self.alias, SHORT_TEXT)?;
        crate::entry::check_languages(&self.languages)?;
        if let Some(p) = &self.phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let shape = p.chars().enumerate().all(|(i, c)| {
                c.is_ascii_digit() || c == ' ' || c == '.' || c == '-' || (c == '+' && i == 0)
            });
            if !shape || !(6..=16).contains(&digits) {
                return Err(Invalid::BadPhone {
                    given: p.chars().take(30).collect(),
                });
            }
        }
        Ok(())
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Vulnerability {
    Pregnancy,
    Baby,
    Illness,
    Disability,
    MinorAlone,
    WomanAlone,
}

/// What was asked, by kind of case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum CaseRequest {
    Shelter {
        household_size: u32,
        #[serde(default)]
        composition: Composition,
        #[serde(default)]
        vulnerabilities: BTreeSet<Vulnerability>,
        /// Whether the emergency shelter line (115) was called.
        #[serde(default)]
        called_115: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer_115: Option<String>,
    },
    Referral {
        service: Service,
        urgency: Urgency,
        reason: String,
        /// The volunteer who goes along, if anyone does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        accompanied_by: Option<Nickname>,
    },
}

impl CaseRequest {
    /// The shift's anonymous view of the case this request opens: the
    /// counts the reports need and nothing that names or describes the
    /// person (alias, phone, languages, vulnerabilities, the 115's answer,
    /// the reason stay in the case document, which only the roles that
    /// follow cases receive). Derived here so that no front end can put
    /// more in it.
    pub fn anonymous_entry(&self, case: CaseId) -> EntryContent {
        match self {
            Self::Shelter {
                household_size,
                composition,
                ..
            } => EntryContent::ShelterRequest {
                case,
                household_size: *household_size,
                composition: *composition,
            },
            Self::Referral {
                service,
                urgency,
                accompanied_by,
                ..
            } => EntryContent::Referral {
                case,
                service: *service,
                urgency: *urgency,
                accompanied: accompanied_by.is_some(),
            },
        }
    }

    pub fn kind(&self) -> CaseKind {
        match self {
            Self::Shelter { .. } => CaseKind::ShelterRequest,
            Self::Referral { .. } => CaseKind::Referral,
        }
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        match self {
            Self::Shelter {
                household_size,
                composition,
                answer_115,
                ..
            } => {
                if !(1..=100).contains(household_size) {
                    return Err(Invalid::OutOfRange {
                        field: "household size",
                        min: 1,
                        max: 100,
                        given: (*household_size).into(),
                    });
                }
                if composition.total() > *household_size {
                    return Err(Invalid::BreakdownExceedsTotal {
                        breakdown: composition.total(),
                        total: *household_size,
                    });
                }
                if let Some(a) = answer_115 {
                    limits::check_text("115 answer", a, SHORT_TEXT)?;
                }
                Ok(())
            }
            Self::Referral { reason, .. } => {
                if reason.trim().is_empty() {
                    return Err(Invalid::Empty {
                        field: "referral reason",
                    });
                }
                limits::check_text("referral reason", reason, LONG_TEXT)
            }
        }
    }
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Sheltered; `place` says where (a shelter's name, not an address).
    Placed {
        place: String,
    },
    NoPlace,
    Refused,
    LostContact,
    /// The referral happened: the person was seen by the service.
    Seen,
    NotSeen,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Placed { .. } => "placed",
            Self::NoPlace => "no_place",
            Self::Refused => "refused",
            Self::LostContact => "lost_contact",
            Self::Seen => "seen",
            Self::NotSeen => "not_seen",
        }
    }

    fn fits(&self, kind: CaseKind) -> Result<(), Invalid> {
        let ok = match kind {
            CaseKind::ShelterRequest => {
                matches!(
                    self,
                    Self::Placed { .. } | Self::NoPlace | Self::Refused | Self::LostContact
                )
            }
            CaseKind::Referral => {
                matches!(
                    self,
                    Self::Seen | Self::NotSeen | Self::Refused | Self::LostContact
                )
            }
        };
        if ok {
            return Ok(());
        }
        Err(Invalid::OutcomeMismatch {
            outcome: self.as_str().to_string(),
            kind: kind.as_str(),
            possible: match kind {
                CaseKind::ShelterRequest => "placed, no_place, refused, lost_contact",
                CaseKind::Referral => "seen, not_seen, refused, lost_contact",
            },
        })
    }
}

/// Open until closed with an outcome; a closed case can be reopened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Closed {
        #[serde(flatten)]
        outcome: Outcome,
        closed_at: DateTime<Utc>,
    },
}

impl CaseStatus {
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }

    pub fn close(
        &self,
        kind: CaseKind,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        if !self.is_open() {
            return Err(Invalid::CaseClosed);
        }
        outcome.fits(kind)?;
        if let Outcome::Placed { place } = &outcome {
            if place.trim().is_empty() {
                return Err(Invalid::Empty {
                    field: "where the person was placed",
                });
            }
            limits::check_text("placed where", place, SHORT_TEXT)?;
        }
        Ok(Self::Closed {
            outcome,
            closed_at: at,
        })
    }

    pub fn reopen(&self) -> Result<Self, Invalid> {
        match self {
            Self::Open => Err(Invalid::CaseOpen),
            Self::Closed { .. } => Ok(Self::Open),
        }
    }
}

/// One step of the follow-up, appended by whichever shift acted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct CaseUpdate {
    pub at: DateTime<Utc>,
    pub by: Nickname,
    pub device: DeviceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<ShiftId>,
    #[serde(flatten)]
    pub action: CaseAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    Note {
        note: String,
    },
    Closed {
        #[serde(flatten)]
        outcome: Outcome,
    },
    Reopened {
        reason: String,
    },
}

impl CaseAction {
    pub fn validate(&self) -> Result<(), Invalid> {
        match self {
            Self::Note { note } | Self::Reopened { reason: note } => {
                if note.trim().is_empty() {
                    return Err(Invalid::Empty {
                        field: "follow-up note",
                    });
                }
                limits::check_text("follow-up note", note, LONG_TEXT)
            }
            Self::Closed { .. } => Ok(()),
        }
    }
}

/// A follow-up case as stored in its own document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Case {
    pub id: CaseId,
    pub antenna: AntennaId,
    pub opened_at: DateTime<Utc>,
    pub opened_by: Nickname,
    pub opened_in_shift: ShiftId,
    pub person: Person,
    #[serde(flatten)]
    pub request: CaseRequest,
    #[serde(flatten)]
    pub status: CaseStatus,
    #[serde(default)]
    pub updates: Vec<CaseUpdate>,
}

impl Case {
    pub fn kind(&self) -> CaseKind {
        self.request.kind()
    }
}

/// What a volunteer fills in to open a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
// A field the UI leaves out reads as None.
#[ts(optional_fields = nullable)]
pub struct NewCase {
    pub person: Person,
    #[serde(flatten)]
    pub request: CaseRequest,
}

impl NewCase {
    pub fn into_case(
        self,
        antenna: AntennaId,
        shift: ShiftId,
        author: &Author,
    ) -> Result<Case, Invalid> {
        self.person.validate()?;
        self.request.validate()?;
        Ok(Case {
            id: CaseId::new(),
            antenna,
            opened_at: author.now,
            opened_by: author.by.clone(),
            opened_in_shift: shift,
            person: self.person,
            request: self.request,
            status: CaseStatus::Open,
            updates: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anonymous_entry_of_a_case_keeps_the_counts_and_nothing_of_the_person() {
        let case = CaseId::new();
        let shelter = CaseRequest::Shelter {
            household_size: 3,
            composition: Composition {
                women: 1,
                children: 2,
                ..Default::default()
            },
            vulnerabilities: [Vulnerability::Baby].into(),
            called_115: true,
            answer_115: Some("no place tonight, call back at 9".into()),
        };
        let entry = shelter.anonymous_entry(case);
        assert_eq!(
            entry,
            EntryContent::ShelterRequest {
                case,
                household_size: 3,
                composition: Composition {
                    women: 1,
                    children: 2,
                    ..Default::default()
                },
            }
        );
        let referral = CaseRequest::Referral {
            service: Service::PassClinic,
            urgency: Urgency::Urgent,
            reason: "wound on the left foot, Amina".into(),
            accompanied_by: Some("Jo".parse().expect("nickname")),
        };
        let entry = referral.anonymous_entry(case);
        let shown = serde_json::to_string(&entry).expect("json");
        assert!(!shown.contains("Amina") && !shown.contains("Jo"), "{shown}");
        assert!(matches!(
            entry,
            EntryContent::Referral {
                accompanied: true,
                ..
            }
        ));
    }
}
