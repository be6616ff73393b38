//! Identifiers. Records get UUID v7 ids (time-ordered, unique without
//! coordination between tablets); catalogue items and places get short slugs
//! a volunteer can type (`blanket`, `dunes-north`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Invalid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[serde(transparent)]
        #[ts(type = "string")]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
            /// The last eight hex digits: what the CLI and the app show.
            /// UUID v7 starts with the time, so the tail is the random part.
            pub fn short(&self) -> String {
                let s = self.0.simple().to_string();
                s[s.len() - 8..].to_string()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| Invalid::BadId {
                    what: stringify!($name),
                    given: s.chars().take(60).collect(),
                })
            }
        }
    };
}

uuid_id!(
    /// One antenna (local branch) of an association.
    AntennaId
);
uuid_id!(
    /// One shift: a maraude, a day-centre opening, an accompaniment run.
    ShiftId
);
uuid_id!(
    /// One entry in a shift's log.
    EntryId
);
uuid_id!(
    /// One tablet's log of one shift: the entries that tablet logged there.
    TabletLogId
);
uuid_id!(
    /// One follow-up case (shelter request or referral).
    CaseId
);
uuid_id!(
    /// One device (tablet, laptop, server) holding a store.
    DeviceId
);

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[serde(try_from = "String", into = "String")]
        #[ts(type = "string")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                let ok = !s.is_empty()
                    && s.len() <= 40
                    && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
                    && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
                if ok {
                    Ok(Self(s))
                } else {
                    Err(Invalid::BadSlug { what: $what, given: s.chars().take(60).collect() })
                }
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                Self::try_from(s.trim().to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

slug_id!(
    /// A catalogue item, e.g. `blanket`, `hygiene_kit_women`.
    ItemId,
    "item id"
);
impl ItemId {
    /// The catalogue's "other": what was given is said in words
    /// (`EntryContent::Distribution::what`).
    pub fn is_other(&self) -> bool {
        self.0 == "other"
    }
}

slug_id!(
    /// A living place or meeting point, e.g. `dunes-north`.
    PlaceId,
    "place id"
);

/// A volunteer's nickname as the team knows them. Never a full legal name is
/// required; this is what appears in "logged by" and witness lists.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
#[ts(type = "string")]
pub struct Nickname(String);

impl Nickname {
    pub const MAX_CHARS: usize = 40;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Nickname {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        let s = s.trim().to_string();
        if s.is_empty() {
            return Err(Invalid::Empty { field: "nickname" });
        }
        crate::limits::check_text("nickname", &s, Self::MAX_CHARS)?;
        if s.contains('\n') {
            return Err(Invalid::BadText {
                field: "nickname",
                why: "must be on one line",
            });
        }
        Ok(Self(s))
    }
}

impl FromStr for Nickname {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::try_from(s.to_string())
    }
}

impl From<Nickname> for String {
    fn from(n: Nickname) -> String {
        n.0
    }
}

impl fmt::Display for Nickname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for Nickname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nickname({})", self.0)
    }
}
