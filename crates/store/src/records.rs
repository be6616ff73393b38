//! The antenna, its shifts, their entries and the follow-up cases, as the
//! tablets write and correct them; erasing cases, by a lead or by
//! retention. Each write is one transaction (`Store::write`).

use chrono::{DateTime, NaiveDate, Utc};
use maraude_core::access::Role;
use maraude_core::antenna::Antenna;
use maraude_core::authority::{self, Refused};
use maraude_core::case::{Case, CaseAction, NewCase};
use maraude_core::document::{AntennaDoc, CaseDoc, CaseRef, ShiftDoc};
use maraude_core::entry::{Entry, EntryEdit, NewEntry};
use maraude_core::erasure::{ErasedBecause, tombstone};
use maraude_core::ids::{CaseId, EntryId, Nickname, ShiftId};
use maraude_core::report::CaseSummary;
use maraude_core::shift::{NewShift, Shift, ShiftEnd};
use std::collections::BTreeMap;

use crate::{
    EntryChange, Result, Store, StoreError, change_document, change_entries, chunks, document_id,
    erasure, index, link, list_in_antenna, log_entry, missing_antenna, missing_shift,
    save_document,
};

impl Store {
    // Reference data.

    pub fn antenna(&self) -> Result<Antenna> {
        index::antenna(&self.conn)
    }

    /// The role the antenna's authority gave this tablet when it enrolled;
    /// a store never enrolled is its antenna's first, the coordinator's.
    /// What the tablet may write follows from it
    /// (`maraude_core::authority`), as every receiver will check.
    pub fn role(&self) -> Result<Role> {
        Ok(match link::get(&self.conn)? {
            Some(link) => link.role.parse().unwrap_or(Role::Volunteer),
            None => Role::Coordinator,
        })
    }

    /// Change the reference data with `change`, which returns an error to
    /// refuse. Only the fields that differ are written to the document.
    /// What this tablet's role may not change is refused here, as the
    /// server would refuse it.
    pub fn update_antenna(
        &mut self,
        change: impl FnOnce(&mut Antenna) -> Result<(), maraude_core::Invalid>,
    ) -> Result<Antenna> {
        let old = self.antenna()?;
        let mut antenna = old.clone();
        change(&mut antenna)?;
        antenna.settings.validate()?;
        antenna.id = old.id;
        authority::check_reference_data(self.role()?, &old, &antenna)?;
        self.write(|tx, ctx| {
            let id = ctx.antenna;
            let set = |doc: &mut AntennaDoc| {
                doc.set_antenna(&antenna)?;
                Ok(antenna)
            };
            let antenna = change_document(tx, ctx, id.as_uuid(), missing_antenna, set)?;
            index::put_antenna(tx, &antenna)?;
            Ok(antenna)
        })
    }

    /// Adds a place found in the field from its name (see
    /// [`Antenna::add_place`]): any tablet may. Answers its id and the
    /// antenna as it is now.
    pub fn add_place(
        &mut self,
        name: &str,
        kind: maraude_core::antenna::PlaceKind,
    ) -> Result<(maraude_core::ids::PlaceId, Antenna)> {
        let mut added = None;
        let antenna = self.update_antenna(|a| {
            added = Some(a.add_place(name, kind)?);
            Ok(())
        })?;
        let id = added.ok_or(StoreError::NoAntennaYet)?;
        Ok((id, antenna))
    }

    /// One change to the reference data ([`Antenna::apply`]), refused here
    /// as every receiver would refuse it for this tablet's role.
    pub fn change_reference(
        &mut self,
        change: &maraude_core::antenna::ReferenceChange,
    ) -> Result<Antenna> {
        self.update_antenna(|a| a.apply(change))
    }

    // Shifts.

    pub fn start_shift(&mut self, new: NewShift) -> Result<Shift> {
        let antenna = self.antenna()?;
        let shift = new.into_shift(&antenna, Utc::now())?;
        self.write(|tx, ctx| {
            let mut doc = ShiftDoc::create(&shift, &ctx.device)?;
            save_document(tx, shift.id.as_uuid(), &mut doc, &[])?;
            index::put_shift(tx, &shift)?;
            index::put_logs(tx, &shift, &doc.logs()?)?;
            Ok(shift.clone())
        })
    }

    pub fn end_shift(&mut self, shift: &ShiftId, end: ShiftEnd) -> Result<Shift> {
        let antenna = self.antenna()?;
        self.write(|tx, ctx| {
            let ended = change_document(
                tx,
                ctx,
                shift.as_uuid(),
                missing_shift(shift),
                |doc: &mut ShiftDoc| doc.end(end, &antenna, Utc::now()),
            )?;
            index::put_shift(tx, &ended)?;
            Ok(ended)
        })
    }

    pub fn shift(&self, id: &ShiftId) -> Result<Shift> {
        index::shift(&self.conn, id)?.ok_or_else(|| StoreError::NoSuchShift(id.short()))
    }

    /// Shifts started between two dates (inclusive, Paris days), newest first.
    pub fn shifts(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Shift>> {
        index::shifts(&self.conn, from, to)
    }

    /// The shifts of the last `days` Paris days up to `now`'s (today
    /// included), newest first: what a lead reviews, sometimes the day
    /// after. By the Paris day, not the UTC one, or a shift started after
    /// midnight in Calais is missing for an hour or two.
    pub fn recent_shifts(&self, now: DateTime<Utc>, days: u64) -> Result<Vec<Shift>> {
        let today = maraude_core::time::paris_date(now);
        let from = today
            .checked_sub_days(chrono::Days::new(days))
            .unwrap_or(NaiveDate::MIN);
        self.shifts(from, today)
    }

    /// Shifts not yet ended, newest first.
    pub fn open_shifts(&self) -> Result<Vec<Shift>> {
        index::open_shifts(&self.conn)
    }

    /// The shift a volunteer means when they name none: the newest open one.
    pub fn current_shift(&self) -> Result<Shift> {
        self.open_shifts()?
            .into_iter()
            .next()
            .ok_or(StoreError::NoOpenShift)
    }

    // Entries.

    /// Log an entry, durably. Returns once it is committed to disk.
    pub fn log(&mut self, shift: &ShiftId, by: &Nickname, new: NewEntry) -> Result<Entry> {
        if new.content.case().is_some() {
            // A case reference must point to a case this store created.
            return Err(maraude_core::Invalid::BadText {
                field: "entry",
                why: "shelter requests and referrals are logged with open_case",
            }
            .into());
        }
        let antenna = self.antenna()?;
        let author = self.author(by);
        let entry = new.into_entry(&antenna, &author)?;
        self.write(|tx, ctx| {
            log_entry(tx, ctx, shift, &entry)?;
            Ok(entry.clone())
        })
    }

    /// Open a follow-up case and log it in the shift, in one transaction,
    /// with the shift's anonymous entry for it (derived by the core from
    /// the case: `CaseRequest::anonymous_entry`), at `place`, at `at` (now
    /// if `None`).
    pub fn open_case(
        &mut self,
        shift: &ShiftId,
        by: &Nickname,
        new: NewCase,
        place: Option<maraude_core::ids::PlaceId>,
        at: Option<DateTime<Utc>>,
    ) -> Result<(Case, Entry)> {
        let antenna = self.antenna()?;
        let author = self.author(by);
        let request = new.request.clone();
        let case = new.into_case(antenna.id, *shift, &author)?;
        let entry = NewEntry {
            at,
            place,
            content: request.anonymous_entry(case.id),
        };
        let entry = entry.into_entry(&antenna, &author)?;
        self.write(|tx, ctx| {
            let mut case_doc = CaseDoc::create(&case, &ctx.device)?;
            save_document(tx, case.id.as_uuid(), &mut case_doc, &[])?;
            index::put_case(tx, &case)?;
            log_entry(tx, ctx, shift, &entry)?;
            list_in_antenna(tx, ctx, |a| {
                a.add_case(case.id, &CaseRef::opened(case.kind(), case.opened_at))
            })?;
            Ok((case.clone(), entry.clone()))
        })
    }

    pub fn edit_entry(&mut self, entry: &EntryId, by: &Nickname, edit: EntryEdit) -> Result<Entry> {
        let antenna = self.antenna()?;
        let author = self.author(by);
        self.change_entry(entry, EntryChange::Edit(edit, &antenna, author))
    }

    /// "Undo": void the last entry this device logged in `shift` that is
    /// not voided yet (by when it was logged on this device, whatever
    /// time the entry itself gives), with the reason "undo"; tapping again
    /// takes back the one before.
    pub fn undo_last(&mut self, shift: &ShiftId, by: &Nickname) -> Result<Entry> {
        let device = self.device();
        let last = self
            .entries(shift)?
            .into_iter()
            .filter(|e| e.device == device && !e.is_voided())
            .max_by_key(|e| (e.logged_at, e.id))
            .map(|e| e.id)
            .ok_or(StoreError::NothingToUndo)?;
        self.void_entry(&last, by, "undo")
    }

    pub fn void_entry(&mut self, entry: &EntryId, by: &Nickname, reason: &str) -> Result<Entry> {
        let author = self.author(by);
        self.change_entry(entry, EntryChange::Void(reason, author))
    }

    fn change_entry(&mut self, entry: &EntryId, change: EntryChange) -> Result<Entry> {
        let (shift, log) = index::where_is_entry(&self.conn, &entry.to_string())?
            .ok_or_else(|| StoreError::NoSuchEntry(entry.short()))?;
        let shift = self.shift(&shift.parse()?)?;
        let record: uuid::Uuid = log
            .parse()
            .map_err(|_| StoreError::BadDocument(format!("entry {entry} is in no document")))?;
        self.write(|tx, ctx| {
            let changed = change_entries(tx, ctx, &shift, &record, entry, change)?;
            index::put_entry(tx, &shift.filing(), &log, &changed)?;
            Ok(changed)
        })
    }

    /// A shift's entries in time order, voided ones included.
    pub fn entries(&self, shift: &ShiftId) -> Result<Vec<Entry>> {
        index::entries(&self.conn, shift)
    }

    // Cases.

    pub fn case(&self, id: &CaseId) -> Result<Case> {
        let doc: CaseDoc = chunks::load(&self.conn, &document_id(id.as_uuid()), &self.device)?
            .ok_or_else(|| StoreError::NoSuchCase(id.short()))?;
        Ok(doc.case()?)
    }

    /// Follow a case up: a note, a closing outcome, a reopening.
    pub fn act_on_case(
        &mut self,
        case: &CaseId,
        by: &Nickname,
        action: CaseAction,
        shift: Option<ShiftId>,
    ) -> Result<Case> {
        // A tablet writes only to what its role receives, the rule every
        // receiver holds it to: a volunteer's tablet keeps a case it closed
        // itself until it is erased, but it is no longer its to reopen.
        let role = self.role()?;
        let subject = maraude_core::access::Subject::Case {
            open: self.case(case)?.status.is_open(),
        };
        let today = maraude_core::time::paris_date(Utc::now());
        if !maraude_core::access::may_receive(role, subject, today) {
            return Err(Refused::OutOfScope {
                role,
                what: "closed case",
            }
            .into());
        }
        let author = self.author(by);
        self.write(|tx, ctx| {
            let missing = || StoreError::NoSuchCase(case.short());
            let act = |d: &mut CaseDoc| d.act(action, shift, &author);
            let changed = change_document(tx, ctx, case.as_uuid(), missing, act)?;
            index::put_case(tx, &changed)?;
            Ok(changed)
        })
    }

    /// Erase a case at the request of `by`, a lead or coordinator: its
    /// document goes, history included; the antenna document keeps its
    /// tombstone, which erases it on every device and the server as they
    /// sync (see `maraude_core::erasure`).
    pub fn erase_case(&mut self, case: &CaseId, by: &Nickname) -> Result<CaseRef> {
        // The tablet's certified role decides; the nickname says who.
        if self.role()? == Role::Volunteer {
            return Err(Refused::Erasure { case: case.short() }.into());
        }
        maraude_core::erasure::check_may_erase(&self.antenna()?, by)?;
        let now = Utc::now();
        let erased = self.erase(&[*case], now, ErasedBecause::Asked, Some(by))?;
        erased
            .into_iter()
            .next()
            .map(|(_, t)| t)
            .ok_or_else(|| StoreError::NoSuchCase(case.short()))
    }

    /// Erase the cases closed for longer than the antenna's retention
    /// period (run by the app and `maraude sync`; the server runs
    /// [`Store::retention_due`] through its repo instead). A volunteer's
    /// tablet writes no tombstone (only leads and coordinators may, as
    /// every receiver checks): the server's reaches it at its next sync.
    pub fn apply_retention(&mut self, now: DateTime<Utc>) -> Result<Vec<CaseId>> {
        // Every tablet: a team secret replaced over two weeks ago leaves.
        crate::link::forget_expired_secret(&self.conn, now)?;
        if self.role()? == Role::Volunteer {
            return Ok(Vec::new());
        }
        let due: Vec<CaseId> = self
            .retention_due(now)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        if due.is_empty() {
            return Ok(due);
        }
        let erased = self.erase(&due, now, ErasedBecause::Retention, None)?;
        Ok(erased.into_iter().map(|(c, _)| c).collect())
    }

    /// The tombstones that retention would write at `now`, one per case
    /// closed for longer than the antenna's retention period.
    pub fn retention_due(&self, now: DateTime<Utc>) -> Result<Vec<(CaseId, CaseRef)>> {
        let closed: Vec<CaseSummary> = index::case_summaries(&self.conn, false)?
            .into_iter()
            .filter_map(|(c, _)| (!c.open).then_some(c))
            .collect();
        // A new device has no antenna yet, and no case either.
        if closed.is_empty() {
            return Ok(Vec::new());
        }
        let days = self.antenna()?.settings.retention_days;
        let listed = self.listed_cases()?;
        let mut due = Vec::new();
        for summary in closed {
            if !maraude_core::erasure::retention_due(&summary, days, now) {
                continue;
            }
            let line = listed
                .get(&summary.id)
                .cloned()
                .unwrap_or_else(|| CaseRef::opened(summary.kind, summary.opened_at));
            let t = tombstone(&line, Some(&summary), now, ErasedBecause::Retention, None);
            due.push((summary.id, t));
        }
        Ok(due)
    }

    /// The cases erased on this antenna, as their tombstones.
    pub fn erased_cases(&self) -> Result<Vec<(CaseId, CaseRef)>> {
        erasure::tombstones(&self.conn)
    }

    fn listed_cases(&self) -> Result<BTreeMap<CaseId, CaseRef>> {
        let doc: AntennaDoc = chunks::load(
            &self.conn,
            &document_id(self.antenna.as_uuid()),
            &self.device,
        )?
        .ok_or_else(missing_antenna)?;
        Ok(doc.cases()?)
    }

    /// Write the tombstones of `cases` in the antenna document and delete
    /// their documents here, in one transaction.
    fn erase(
        &mut self,
        cases: &[CaseId],
        now: DateTime<Utc>,
        because: ErasedBecause,
        by: Option<&Nickname>,
    ) -> Result<Vec<(CaseId, CaseRef)>> {
        let listed = self.listed_cases()?;
        let mut tombstones = Vec::new();
        for case in cases {
            let summary = index::case_summary(&self.conn, case)?;
            // A case its antenna document does not list (documents built
            // elsewhere, the demo) is erased from its own summary.
            let line = match (listed.get(case), &summary) {
                (Some(line), _) => line.clone(),
                (None, Some(s)) => CaseRef::opened(s.kind, s.opened_at),
                (None, None) => return Err(StoreError::NoSuchCase(case.short())),
            };
            let t = tombstone(&line, summary.as_ref(), now, because, by.cloned());
            tombstones.push((*case, t));
        }
        self.write(|tx, ctx| {
            let id = ctx.antenna;
            let all = change_document(
                tx,
                ctx,
                id.as_uuid(),
                missing_antenna,
                |a: &mut AntennaDoc| {
                    a.erase_cases(&tombstones)?;
                    a.cases()
                },
            )?;
            let erased = erasure::follow(tx, ctx, &all)?;
            ctx.erased.extend(erased);
            Ok(tombstones)
        })
    }
}
