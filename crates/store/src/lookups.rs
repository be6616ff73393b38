//! Finding a record by the first characters of its id, and the reports
//! and lists the screens show, read from the index.

use chrono::{NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::entry::Entry;
use maraude_core::ids::{CaseId, EntryId, ShiftId};
use maraude_core::report::{FollowUp, NightReport, PeriodReport, PeriodTally};

use crate::{Result, Store, StoreError, erasure, index};

impl Store {
    // Finding records by the short ids people type.

    fn resolve(&self, table: &str, given: &str) -> Result<String> {
        let given = given.trim();
        let clean: String = given.chars().filter(|c| *c != '-').collect();
        if clean.len() < 4 || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(maraude_core::Invalid::BadId {
                what: "id",
                given: given.to_string(),
            }
            .into());
        }
        let found = index::ids_ending_with(&self.conn, table, &clean)?;
        let missing = || match table {
            "entries" => StoreError::NoSuchEntry(given.to_string()),
            "shifts" | "old_shifts" => StoreError::NoSuchShift(given.to_string()),
            _ => StoreError::NoSuchCase(given.to_string()),
        };
        match found.len() {
            0 => Err(missing()),
            1 => Ok(found.into_iter().next().expect("one id")),
            _ => Err(StoreError::Ambiguous(given.to_string())),
        }
    }

    /// An entry from its full id or the end of it (what the app shows).
    pub fn find_entry(&self, given: &str) -> Result<EntryId> {
        Ok(self.resolve("entries", given)?.parse()?)
    }

    pub fn find_shift(&self, given: &str) -> Result<ShiftId> {
        Ok(self.resolve("shifts", given)?.parse()?)
    }

    /// A shift this tablet keeps as figures only (`minimising`).
    pub(crate) fn find_old_shift(&self, given: &str) -> Result<ShiftId> {
        Ok(self.resolve("old_shifts", given)?.parse()?)
    }

    pub fn find_case(&self, given: &str) -> Result<CaseId> {
        Ok(self.resolve("cases", given)?.parse()?)
    }

    pub fn entry(&self, id: &EntryId) -> Result<Entry> {
        let shift: ShiftId = index::where_is_entry(&self.conn, &id.to_string())?
            .ok_or_else(|| StoreError::NoSuchEntry(id.short()))?
            .0
            .parse()?;
        self.entries(&shift)?
            .into_iter()
            .find(|e| e.id == *id)
            .ok_or_else(|| StoreError::NoSuchEntry(id.short()))
    }

    // Reports.

    pub fn night_report(&self, shift: &ShiftId, lang: Lang) -> Result<NightReport> {
        let antenna = self.antenna()?;
        let shift = self.shift(shift)?;
        let entries = self.entries(&shift.id)?;
        let mut cases = Vec::new();
        for case in entries.iter().filter_map(|e| e.content.case()) {
            if let Some(summary) = index::case_summary(&self.conn, &case)? {
                cases.push(summary);
            }
        }
        Ok(NightReport::build(&antenna, &shift, &entries, &cases, lang))
    }

    pub fn period_report(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        lang: Lang,
    ) -> Result<PeriodReport> {
        PeriodReport::check_range(from, to)?;
        let antenna = self.antenna()?;
        let mut tally = PeriodTally::new(&antenna, from, to);
        tally.held_since(index::first_shift_date(&self.conn)?);
        for s in index::shift_summaries(&self.conn, from, to)? {
            tally.add_shift(&s);
        }
        index::for_each_period_row(&self.conn, from, to, |row| tally.add(row))?;
        for (c, _) in index::case_summaries(&self.conn, false)? {
            tally.add_case(&c);
        }
        for (_, tombstone) in erasure::tombstones(&self.conn)? {
            tally.add_erased_case(&tombstone);
        }
        Ok(tally.finish(&antenna, lang))
    }

    /// Every non-voided entry dated between `from` and `to`, as anonymous
    /// rows, fed to `f` one by one (exports, custom tallies).
    pub fn for_each_row(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        f: impl FnMut(&maraude_core::report::TallyRow),
    ) -> Result<()> {
        index::for_each_tally_row(&self.conn, from, to, f)
    }

    /// Open cases, oldest first.
    pub fn follow_ups(&self) -> Result<Vec<FollowUp>> {
        let open = index::case_summaries(&self.conn, true)?;
        Ok(maraude_core::report::follow_ups(
            open.iter().map(|(c, a)| (c, a.as_str())),
            Utc::now(),
        ))
    }

    /// Closed cases this tablet still holds, the most recently closed
    /// first.
    pub fn closed_follow_ups(&self) -> Result<Vec<maraude_core::report::ClosedFollowUp>> {
        let all = index::case_summaries(&self.conn, false)?;
        Ok(maraude_core::report::closed_follow_ups(
            all.iter().map(|(c, a)| (c, a.as_str())),
        ))
    }

    /// What a team starting a shift of `kind` reads first: the last notes
    /// left by a shift of that kind in the last two weeks, and the urgent
    /// open follow-ups.
    pub fn handover(
        &self,
        kind: maraude_core::shift::ShiftKind,
        now: chrono::DateTime<Utc>,
    ) -> Result<maraude_core::report::Handover> {
        let shifts = self.recent_shifts(now, maraude_core::report::LOOK_BACK_DAYS)?;
        Ok(maraude_core::report::Handover::build(
            kind,
            &shifts,
            self.follow_ups()?,
        ))
    }
}
