//! The entries of a shift's log. They hold counts and references to cases,
//! never personal data (that lives only in [`crate::case`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::antenna::Antenna;
use crate::error::Invalid;
use crate::ids::{CaseId, DeviceId, EntryId, ItemId, Nickname, PlaceId};
use crate::limits::{self, LONG_TEXT, MAX_LIST, MAX_PEOPLE, MAX_QUANTITY, SHORT_TEXT};

/// How many of something were handed out: never zero, never absurd.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(try_from = "i64", into = "u32")]
#[ts(type = "number")]
pub struct Quantity(u32);

impl Quantity {
    pub fn new(n: i64) -> Result<Self, Invalid> {
        if (1..=i64::from(MAX_QUANTITY)).contains(&n) {
            Ok(Self(n as u32))
        } else {
            Err(Invalid::OutOfRange {
                field: "quantity",
                min: 1,
                max: MAX_QUANTITY,
                given: n,
            })
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = Invalid;
    fn try_from(n: i64) -> Result<Self, Invalid> {
        Self::new(n)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

/// A rough breakdown of a group. Counts only; all optional (zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Composition {
    pub men: u32,
    pub women: u32,
    pub children: u32,
    /// Unaccompanied minors (MNA).
    pub minors_alone: u32,
}

impl Composition {
    pub fn total(&self) -> u32 {
        self.men + self.women + self.children + self.minors_alone
    }

    pub fn add(&mut self, other: &Composition) {
        self.men += other.men;
        self.women += other.women;
        self.children += other.children;
        self.minors_alone += other.minors_alone;
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    fn validate(&self, total: Option<u32>) -> Result<(), Invalid> {
        for (field, n) in [
            ("men", self.men),
            ("women", self.women),
            ("children", self.children),
            ("minors alone", self.minors_alone),
        ] {
            limits::check_count(field, n, MAX_PEOPLE)?;
        }
        if let Some(total) = total
            && self.total() > total
        {
            return Err(Invalid::BreakdownExceedsTotal {
                breakdown: self.total(),
                total,
            });
        }
        Ok(())
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    Medical,
    Shelter,
    Food,
    Information,
    Clothes,
    Legal,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    PassClinic,
    HospitalEmergency,
    LegalAid,
    ChildProtection,
    AsylumProcedure,
    DayCentre,
    OtherAssociation,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    Soon,
    Urgent,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum IncidentType {
    Eviction,
    DestructionOfBelongings,
    Violence,
    RefusedTransport,
    SeaInterception,
    Other,
}

/// What an entry records. The tag `kind` is stored in the document, so
/// variant and field names are part of the document format: rename nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryContent {
    Distribution {
        item: ItemId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<String>,
        quantity: Quantity,
        /// How many people were served, when someone counted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        people: Option<u32>,
        #[serde(default)]
        composition: Composition,
        /// What was given, in a few words, when the item is the catalogue's
        /// "other" ([`ItemId::is_other`]): "other" alone tells the warehouse nothing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        what: Option<String>,
    },
    Headcount {
        people: u32,
        #[serde(default)]
        composition: Composition,
        /// People flagged as vulnerable, so they can be referred.
        #[serde(default)]
        vulnerable: u32,
    },
    Arrival {
        group_size: u32,
        #[serde(default)]
        composition: Composition,
        #[serde(default)]
        languages: BTreeSet<String>,
        #[serde(default)]
        needs: BTreeSet<Need>,
        #[serde(default)]
        information_given: String,
    },
    /// A shelter request opened this shift; details live in the case.
    ShelterRequest {
        case: CaseId,
        household_size: u32,
        #[serde(default)]
        composition: Composition,
    },
    /// A referral or accompaniment opened this shift; details in the case.
    Referral {
        case: CaseId,
        service: Service,
        urgency: Urgency,
        #[serde(default)]
        accompanied: bool,
    },
    Incident {
        incident_type: IncidentType,
        people_affected: u32,
        description: String,
        #[serde(default)]
        witnesses: BTreeSet<Nickname>,
        /// To whom it was reported (police, ombudsman, lawyer), if it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reported_to: Option<String>,
    },
    Note {
        text: String,
    },
}

impl EntryContent {
    pub fn kind(&self) -> EntryKind {
        match self {
            Self::Distribution { .. } => EntryKind::Distribution,
            Self::Headcount { .. } => EntryKind::Headcount,
            Self::Arrival { .. } => EntryKind::Arrival,
            Self::ShelterRequest { .. } => EntryKind::ShelterRequest,
            Self::Referral { .. } => EntryKind::Referral,
            Self::Incident { .. } => EntryKind::Incident,
            Self::Note { .. } => EntryKind::Note,
        }
    }

    /// Check the content against the antenna's reference data. Pure: the
    /// caller writes nothing unless this returns `Ok`.
    pub fn validate(&self, antenna: &Antenna) -> Result<(), Invalid> {
        match self {
            Self::Distribution {
                item,
                size,
                quantity: _,
                people,
                composition,
                what,
            } => {
                let entry = antenna.loggable_item(item)?;
                check_what(item, what.as_deref())?;
                match size {
                    Some(s) if !entry.sizes.contains(s) => {
                        return Err(Invalid::UnknownSize {
                            item: item.to_string(),
                            given: s.clone(),
                            known: if entry.sizes.is_empty() {
                                "(this item has no sizes)".into()
                            } else {
                                entry.sizes.join(", ")
                            },
                        });
                    }
                    _ => {}
                }
                if let Some(p) = people {
                    limits::check_count("people served", *p, MAX_PEOPLE)?;
                }
                composition.validate(*people)
            }
            Self::Headcount {
                people,
                composition,
                vulnerable,
            } => {
                limits::check_count("people", *people, MAX_PEOPLE)?;
                limits::check_count("vulnerable", *vulnerable, *people)?;
                composition.validate(Some(*people))
            }
            Self::Arrival {
                group_size,
                composition,
                languages,
                needs: _,
                information_given,
            } => {
                if *group_size == 0 {
                    return Err(Invalid::OutOfRange {
                        field: "group size",
                        min: 1,
                        max: MAX_PEOPLE,
                        given: 0,
                    });
                }
                limits::check_count("group size", *group_size, MAX_PEOPLE)?;
                composition.validate(Some(*group_size))?;
                check_languages(languages)?;
                limits::check_text("information given", information_given, LONG_TEXT)?;
                limits::check_no_phone("information given", information_given)
            }
            Self::ShelterRequest {
                case: _,
                household_size,
                composition,
            } => {
                if *household_size == 0 {
                    return Err(Invalid::OutOfRange {
                        field: "household size",
                        min: 1,
                        max: 100,
                        given: 0,
                    });
                }
                limits::check_count("household size", *household_size, 100)?;
                composition.validate(Some(*household_size))
            }
            Self::Referral { .. } => Ok(()),
            Self::Incident {
                incident_type: _,
                people_affected,
                description,
                witnesses,
                reported_to,
            } => {
                limits::check_count("people affected", *people_affected, MAX_PEOPLE)?;
                if description.trim().is_empty() {
                    return Err(Invalid::Empty {
                        field: "incident description",
                    });
                }
                limits::check_text("incident description", description, LONG_TEXT)?;
                limits::check_no_phone("incident description", description)?;
                if witnesses.len() > MAX_LIST {
                    return Err(Invalid::TooLong {
                        field: "witnesses",
                        max: MAX_LIST,
                        given: witnesses.len(),
                    });
                }
                if let Some(to) = reported_to {
                    limits::check_text("reported to", to, SHORT_TEXT)?;
                }
                Ok(())
            }
            Self::Note { text } => {
                if text.trim().is_empty() {
                    return Err(Invalid::Empty { field: "note" });
                }
                limits::check_text("note", text, LONG_TEXT)?;
                limits::check_no_phone("note", text)
            }
        }
    }

    /// The case this entry opened, if any.
    pub fn case(&self) -> Option<CaseId> {
        match self {
            Self::ShelterRequest { case, .. } | Self::Referral { case, .. } => Some(*case),
            _ => None,
        }
    }
}

pub(crate) fn check_languages(languages: &BTreeSet<String>) -> Result<(), Invalid> {
    if languages.len() > MAX_LIST {
        return Err(Invalid::TooLong {
            field: "languages",
            max: MAX_LIST,
            given: languages.len(),
        });
    }
    for l in languages {
        if l.trim().is_empty() {
            return Err(Invalid::Empty { field: "language" });
        }
        limits::check_text("language", l, 32)?;
    }
    Ok(())
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Distribution,
    Headcount,
    Arrival,
    ShelterRequest,
    Referral,
    Incident,
    Note,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        Self::Distribution,
        Self::Headcount,
        Self::Arrival,
        Self::ShelterRequest,
        Self::Referral,
        Self::Incident,
        Self::Note,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Distribution => "distribution",
            Self::Headcount => "headcount",
            Self::Arrival => "arrival",
            Self::ShelterRequest => "shelter_request",
            Self::Referral => "referral",
            Self::Incident => "incident",
            Self::Note => "note",
        }
    }
}

/// A correction recorded in the entry's history. Nothing is ever silently
/// overwritten: an edit keeps the old and new value of each field changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Revision {
    pub at: DateTime<Utc>,
    pub by: Nickname,
    pub device: DeviceId,
    #[serde(flatten)]
    pub change: RevisionChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RevisionChange {
    /// field name → [old value, new value]
    Edit {
        changes: BTreeMap<String, [serde_json::Value; 2]>,
    },
    Void {
        reason: String,
    },
}

/// Set when an entry was voided: it stays in the log, struck through, and
/// leaves every total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Void {
    pub at: DateTime<Utc>,
    pub by: Nickname,
    pub reason: String,
}

/// One entry of a shift's log as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Entry {
    pub id: EntryId,
    /// When it happened (the volunteer may log it a little later).
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceId>,
    pub logged_by: Nickname,
    pub logged_at: DateTime<Utc>,
    pub device: DeviceId,
    #[serde(flatten)]
    pub content: EntryContent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void: Option<Void>,
    #[serde(default)]
    pub history: Vec<Revision>,
}

impl Entry {
    pub fn is_voided(&self) -> bool {
        self.void.is_some()
    }
}

/// What a volunteer fills in to log an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
// A field the UI leaves out reads as None.
#[ts(optional_fields = nullable)]
pub struct NewEntry {
    /// Defaults to now.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub place: Option<PlaceId>,
    #[serde(flatten)]
    pub content: EntryContent,
}

/// A correction: the full new content, time and place of the entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
// A field the UI leaves out reads as None.
#[ts(optional_fields = nullable)]
pub struct EntryEdit {
    pub at: DateTime<Utc>,
    pub place: Option<PlaceId>,
    #[serde(flatten)]
    pub content: EntryContent,
}

/// An item "other" says what was given, and only it: the field is asked
/// for in the app and `--what` on the command line.
fn check_what(item: &ItemId, what: Option<&str>) -> Result<(), Invalid> {
    const FIELD: &str = "what was given";
    match (item.is_other(), what.map(str::trim)) {
        (true, None | Some("")) => Err(Invalid::Empty {
            field: "what was given (an item \"other\" says what it was)",
        }),
        (true, Some(what)) => {
            limits::check_text(FIELD, what, limits::SHORT_TEXT)?;
            limits::check_no_phone(FIELD, what)
        }
        (false, None) => Ok(()),
        (false, Some(_)) => Err(Invalid::BadText {
            field: FIELD,
            why: "only an item \"other\" says what was given; this item names it already",
        }),
    }
}

/// Who is acting, on which device, when: stamped on everything written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub by: Nickname,
    pub device: DeviceId,
    pub now: DateTime<Utc>,
}

/// A few minutes of clock skew between tablets is normal; a day is not.
const FUTURE_TOLERANCE_MINUTES: i64 = 10;

pub(crate) fn check_not_future(
    what: &'static str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Invalid> {
    if at > now + chrono::Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        return Err(Invalid::InTheFuture {
            what,
            at: crate::time::paris(at),
        });
    }
    Ok(())
}

impl NewEntry {
    /// Validate and stamp: the entry as it will be stored.
    pub fn into_entry(self, antenna: &Antenna, author: &Author) -> Result<Entry, Invalid> {
        self.content.validate(antenna)?;
        if let Some(place) = &self.place {
            antenna.check_place(place)?;
        }
        let at = crate::time::to_the_second(self.at.unwrap_or(author.now));
        check_not_future("entry time", at, author.now)?;
        Ok(Entry {
            id: EntryId::new(),
            at,
            place: self.place,
            logged_by: author.by.clone(),
            logged_at: crate::time::to_the_second(author.now),
            device: author.device,
            content: self.content,
            void: None,
            history: Vec::new(),
        })
    }
}
