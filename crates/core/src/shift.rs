//! A shift: one maraude, one day-centre opening, one accompaniment run.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::antenna::Antenna;
use crate::entry::EntryContent;
use crate::error::Invalid;
use crate::ids::{AntennaId, DeviceId, ItemId, Nickname, ShiftId, TabletLogId};
use crate::limits::{self, LONG_TEXT, MAX_LIST, MAX_QUANTITY, SHORT_TEXT};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum ShiftKind {
    NightMaraude,
    DayMaraude,
    DayCentre,
    Accompaniment,
}

impl ShiftKind {
    pub const ALL: [ShiftKind; 4] = [
        Self::NightMaraude,
        Self::DayMaraude,
        Self::DayCentre,
        Self::Accompaniment,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NightMaraude => "night_maraude",
            Self::DayMaraude => "day_maraude",
            Self::DayCentre => "day_centre",
            Self::Accompaniment => "accompaniment",
        }
    }
}

/// Van stock: how many of each item.
pub type Stock = BTreeMap<ItemId, u32>;

/// The shift's own fields, as stored in its document (entries aside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Shift {
    pub id: ShiftId,
    pub antenna: AntennaId,
    pub kind: ShiftKind,
    /// The day the shift started, in Paris time: a night maraude that ends
    /// at 2 am belongs to the evening it started.
    pub date: NaiveDate,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    pub lead: Nickname,
    #[serde(default)]
    pub team: BTreeSet<Nickname>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
    #[serde(default)]
    pub stock_loaded: Stock,
    #[serde(default)]
    pub stock_returned: Stock,
    #[serde(default)]
    pub handover: String,
}

/// What an entry's figures are filed under: its shift, and the shift's
/// kind and day, which never change once the shift started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filing {
    pub shift: ShiftId,
    pub kind: ShiftKind,
    pub date: NaiveDate,
}

impl Shift {
    /// The shift as a tablet keeps it once only its figures stay: who led
    /// it and what the van carried, not the team, the vehicle or the
    /// handover note.
    pub fn figures_only(&self) -> Shift {
        Shift {
            team: BTreeSet::new(),
            vehicle: None,
            handover: String::new(),
            ..self.clone()
        }
    }

    pub fn filing(&self) -> Filing {
        Filing {
            shift: self.id,
            kind: self.kind,
            date: self.date,
        }
    }

    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }

    /// An incident's witnesses are of the shift's team (its lead
    /// included): the tablet offers them as buttons, and a name typed
    /// elsewhere is nobody the team can ask.
    pub fn check_witnesses(&self, content: &EntryContent) -> Result<(), Invalid> {
        let EntryContent::Incident { witnesses, .. } = content else {
            return Ok(());
        };
        match witnesses
            .iter()
            .find(|w| **w != self.lead && !self.team.contains(*w))
        {
            Some(who) => Err(Invalid::NotOnTheTeam {
                who: who.to_string(),
                // The lead first, once (a team may list its lead too).
                team: std::iter::once(&self.lead)
                    .chain(self.team.iter().filter(|n| **n != self.lead))
                    .map(Nickname::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            None => Ok(()),
        }
    }

    /// An entry belongs to the shift's time, give or take the margin a team
    /// needs to start the tablet late or log the last stop on the way back.
    pub fn check_entry_time(&self, at: DateTime<Utc>) -> Result<(), Invalid> {
        let margin = chrono::Duration::hours(2);
        let before = at < self.started_at - margin;
        let after = self.ended_at.is_some_and(|end| at > end + margin);
        if before || after {
            return Err(Invalid::OutsideShift {
                at: crate::time::paris(at),
                start: crate::time::paris(self.started_at),
                end: self
                    .ended_at
                    .map(crate::time::paris)
                    .unwrap_or_else(|| "now".into()),
            });
        }
        Ok(())
    }
}

/// One tablet's part of a shift's log: the entries that tablet logged in
/// that shift live in a document of their own. Each tablet's night then
/// travels as one whole document, which Automerge sends far more compactly
/// than one change per entry, and a tablet is never sent back its own
/// entries when it receives its teammates' (see ARCHITECTURE.md).
///
/// It repeats what its entries' figures are filed under (the shift's kind
/// and date never change), so a tablet log that arrives before its shift
/// is counted all the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TabletLog {
    pub id: TabletLogId,
    pub antenna: AntennaId,
    pub shift: ShiftId,
    pub shift_kind: ShiftKind,
    pub date: NaiveDate,
    /// The tablet that logs in it.
    pub device: DeviceId,
}

impl TabletLog {
    /// The log `device` starts in `shift` with its first entry there.
    pub fn new(shift: &Shift, device: DeviceId) -> Self {
        Self {
            id: TabletLogId::new(),
            antenna: shift.antenna,
            shift: shift.id,
            shift_kind: shift.kind,
            date: shift.date,
            device,
        }
    }

    pub fn filing(&self) -> Filing {
        Filing {
            shift: self.shift,
            kind: self.shift_kind,
            date: self.date,
        }
    }
}

/// What the team fills in when leaving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
// A field the UI leaves out reads as None.
#[ts(optional_fields = nullable)]
pub struct NewShift {
    pub kind: ShiftKind,
    /// Defaults to now.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    pub lead: Nickname,
    #[serde(default)]
    pub team: BTreeSet<Nickname>,
    #[serde(default)]
    pub vehicle: Option<String>,
    #[serde(default)]
    pub stock_loaded: Stock,
}

fn check_stock(field: &'static str, stock: &Stock, antenna: &Antenna) -> Result<(), Invalid> {
    for (item, n) in stock {
        if !antenna.catalogue.contains_key(item) {
            antenna.item(item.as_str())?;
        }
        limits::check_count(field, *n, MAX_QUANTITY * 10)?;
    }
    Ok(())
}

impl NewShift {
    pub fn into_shift(self, antenna: &Antenna, now: DateTime<Utc>) -> Result<Shift, Invalid> {
        let started_at = self.started_at.unwrap_or(now);
        crate::entry::check_not_future("shift start", started_at, now)?;
        if let Some(v) = &self.vehicle {
            limits::check_text("vehicle", v, SHORT_TEXT)?;
        }
        if self.team.len() > MAX_LIST {
            return Err(Invalid::TooLong {
                field: "team",
                max: MAX_LIST,
                given: self.team.len(),
            });
        }
        check_stock("stock loaded", &self.stock_loaded, antenna)?;
        let mut team = self.team;
        team.insert(self.lead.clone());
        Ok(Shift {
            id: ShiftId::new(),
            antenna: antenna.id,
            kind: self.kind,
            date: crate::time::paris_date(started_at),
            started_at,
            ended_at: None,
            lead: self.lead,
            team,
            vehicle: self.vehicle.filter(|v| !v.trim().is_empty()),
            stock_loaded: self.stock_loaded,
            stock_returned: Stock::new(),
            handover: String::new(),
        })
    }
}

/// What the team fills in when back: stock returned and handover notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
// A field the UI leaves out reads as None.
#[ts(optional_fields = nullable)]
pub struct ShiftEnd {
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub stock_returned: Stock,
    #[serde(default)]
    pub handover: String,
}

impl ShiftEnd {
    /// Checked against the shift; returns the end time to store.
    pub fn validate(
        &self,
        shift: &Shift,
        antenna: &Antenna,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, Invalid> {
        if !shift.is_open() {
            return Err(Invalid::AlreadyEnded);
        }
        let end = self.ended_at.unwrap_or(now);
        if end < shift.started_at {
            return Err(Invalid::EndBeforeStart {
                start: crate::time::paris(shift.started_at),
                end: crate::time::paris(end),
            });
        }
        crate::entry::check_not_future("shift end", end, now)?;
        check_stock("stock returned", &self.stock_returned, antenna)?;
        limits::check_text("handover notes", &self.handover, LONG_TEXT)?;
        limits::check_no_phone("handover notes", &self.handover)?;
        Ok(end)
    }
}
