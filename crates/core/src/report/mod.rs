//! Reports, computed from records so that the app, the CLI and the server
//! give the same figures. They carry counts and case references, never
//! personal data: a report can be pasted into a messaging group.
//!
//! - [`NightReport`]: one shift on one screen, for the lead at the end of
//!   the night.
//! - [`PeriodReport`]: totals and monthly trends over a date range, folded
//!   from flat [`TallyRow`]s (what a store's index holds) so that a year of
//!   entries is read once, without loading documents.
//! - [`FollowUp`]s: open cases, oldest first.
//! - [`Handover`]: what a team reads as it starts a shift.

mod csv_out;
mod follow_ups;
mod handover;
mod night;
mod period;
mod rows;
mod text;

pub use csv_out::{
    PeriodTable, Sheet, catalogue_csv, entries_csv, night_csv, period_csv, period_table_csv,
    places_csv, read_cell, spreadsheet_cell,
};
pub use follow_ups::{ClosedFollowUp, FollowUp, closed_follow_ups, follow_ups};
pub use handover::{Handover, HandoverNote, LOOK_BACK_DAYS, ProposedLoad};
pub use night::{
    Arrivals, CaseLine, IncidentLine, ItemLine, NightReport, PeopleMet, PlaceCount, StockLine,
};
pub use period::{
    CaseTotals, CensusLine, ItemTotal, MonthTotal, PeriodReport, PeriodRow, PeriodTally,
    PlaceTotal, WeekTotal,
};
pub use rows::{CaseSummary, ShiftSummary, TallyRow};
pub use text::{night_text, period_text};
