//! # maraude-demo
//!
//! Realistic seasons of one antenna's activity, for trying the app out, for
//! demonstrations and for the benchmark. Everything is invented — places,
//! volunteers' nicknames, the aliases in follow-up cases — but the rhythm
//! and the orders of magnitude follow the field guide: a night maraude
//! every night, day maraudes five afternoons a week, the day centre on
//! weekdays, accompaniments twice a week; about a hundred entries a shift,
//! mostly distributions, with headcounts at each place visited, new
//! arrivals, a few shelter requests and referrals a week (each with its
//! follow-up case, most closed by a later shift), evictions documented by
//! the day teams, notes, and the odd entry struck out or corrected.
//!
//! ## The typical workflow
//!
//! ```no_run
//! use maraude_core::ids::DeviceId;
//! use maraude_demo::{SeasonPlan, demo_antenna, season};
//!
//! let antenna = demo_antenna("Calais").expect("a valid name");
//! let year = season(&antenna, &DeviceId::new(), &SeasonPlan::default())
//!     .expect("the demo antenna has places and leads");
//! // A store inserts `year.documents` (in batches); its period report over
//! // `year.first_day..=year.last_day` must then show `year.totals`.
//! ```
//!
//! The shift and case documents are built through the core exactly as the
//! app builds them (`NewShift::into_shift`, `NewEntry::into_entry`,
//! `ShiftDoc::log`, `void`, `edit`, `end`, `NewCase::into_case`,
//! `CaseDoc::act`), every step stamped with the simulated time, so every
//! rule of validation holds. The [`Totals`] are counted as the season is
//! written, apart from the core's report code, so a test comparing a
//! store's reports with them checks something.
//!
//! The same [`SeasonPlan`] (seed included) gives the same contents and the
//! same totals; record ids are UUID v7 and differ from run to run.
//!
//! ## What it must not know
//!
//! Storage. It produces documents; a caller inserts them into a store. It
//! does not produce the antenna document either: the store made it when it
//! was created for the antenna (see [`demo_antenna`]).

mod antenna;
mod calendar;
mod chronicle;
mod totals;
mod words;

use chrono::NaiveDate;
use maraude_core::DocumentError;
use maraude_core::antenna::Antenna;
use maraude_core::document::AnyDocument;
use maraude_core::ids::DeviceId;

pub use antenna::{demo_antenna, places, volunteers};
pub use totals::Totals;

/// What season to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonPlan {
    /// How many shifts; nineteen go out a week.
    pub shifts: usize,
    /// Average entries per shift over a year (night maraudes log about one
    /// and a half times this, accompaniments a handful).
    pub entries_per_shift: usize,
    /// The first day (Paris time).
    pub start: NaiveDate,
    pub seed: u64,
}

impl SeasonPlan {
    /// Shifts in a year of the demo's week: 19 a week, 365 days.
    pub const YEAR_SHIFTS: usize = 1_000;
    pub const ENTRIES_PER_SHIFT: usize = 100;

    /// A year from `start`: ~1,000 shifts, ~100,000 entries.
    pub fn year(start: NaiveDate, seed: u64) -> Self {
        Self {
            shifts: Self::YEAR_SHIFTS,
            entries_per_shift: Self::ENTRIES_PER_SHIFT,
            start,
            seed,
        }
    }

    /// The first `shifts` shifts of the year from `start`.
    pub fn shifts(shifts: usize, start: NaiveDate, seed: u64) -> Self {
        Self {
            shifts,
            ..Self::year(start, seed)
        }
    }

    /// `shifts` shifts ending on `last_day`: a demo ending yesterday shows
    /// this week's nights and follow-ups, and nothing in the future. Days
    /// have one to four shifts, so when the count does not fill whole days
    /// the season ends up to two days earlier.
    pub fn ending(shifts: usize, last_day: NaiveDate, seed: u64) -> Self {
        let mut start = last_day;
        let mut count = calendar::day(start).len();
        while count < shifts {
            match start.pred_opt() {
                Some(day) => start = day,
                None => break,
            }
            count += calendar::day(start).len();
        }
        Self::shifts(shifts, start, seed)
    }
}

impl Default for SeasonPlan {
    /// A year from 1 November 2025, seed 2025: fixed, so that two runs of
    /// the demo or the benchmark compare.
    fn default() -> Self {
        let start = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap_or(NaiveDate::MIN);
        Self::year(start, 2025)
    }
}

/// A season's documents and the figures they must report.
#[derive(Debug)]
pub struct Season {
    /// Shift documents in the order they were ended, and case documents as
    /// they were closed (the ones still open at the end come last).
    pub documents: Vec<AnyDocument>,
    pub shifts: usize,
    /// Every entry logged, voided ones included.
    pub entries: usize,
    pub cases: usize,
    pub first_day: NaiveDate,
    /// The day the last shift started.
    pub last_day: NaiveDate,
    pub totals: Totals,
}

/// Write the season `plan` describes for `antenna` (which needs at least
/// one living place and one lead: [`demo_antenna`] has them), as written
/// on `device`.
pub fn season(
    antenna: &Antenna,
    device: &DeviceId,
    plan: &SeasonPlan,
) -> Result<Season, DocumentError> {
    chronicle::Chronicle::new(antenna, device, plan)?.write(plan)
}

#[cfg(test)]
mod tests;
