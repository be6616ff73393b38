//! # maraude-store
//!
//! A device's encrypted local store: the antenna's Automerge documents, kept
//! durable in one SQLCipher file, with a materialized index that serves every
//! listing and report without loading documents.
//!
//! ## The model
//!
//! - **Chunks** (`chunks` table, [`chunks`]): the truth. Each document is a
//!   set of samod storage chunks — one per Automerge change, compacted into
//!   a snapshot as it grows. Every local change appends its chunks inside
//!   the same SQLite transaction as its index rows; the call returns after
//!   the commit (WAL, `synchronous=FULL`), so an acknowledged entry survives
//!   a crash or a pulled battery.
//! - **Index** ([`index`]): rows derived from documents through the core's
//!   row types; rebuilt with [`Store::rebuild_index`].
//! - **Encryption** ([`key`]): the whole file (and its WAL) is encrypted by
//!   SQLCipher with a key derived from the antenna passphrase by Argon2id.
//!
//! ## The typical workflow
//!
//! [`Store::create`] or [`Store::open`] with a [`Passphrase`]; then
//! [`Store::start_shift`], [`Store::log`], [`Store::edit_entry`],
//! [`Store::void_entry`], [`Store::open_case`], [`Store::end_shift`];
//! reports with [`Store::night_report`] and [`Store::period_report`].
//! The sync layer uses the merge API: [`Store::heads`],
//! [`Store::changes_since`], [`Store::import`].
//!
//! It knows nothing of the network, the CLI or the app shell.

mod chunks;
mod erasure;
mod error;
pub mod forensic;
mod index;
mod key;
mod link;
mod recent;
mod replica;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use automerge::ChangeHash;
use chrono::{DateTime, NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::access::{Role, Subject};
use maraude_core::antenna::Antenna;
use maraude_core::authority::{self, Refused};
use maraude_core::case::{Case, CaseAction, NewCase};
use maraude_core::document::{
    AntennaDoc, AnyDocument, CaseDoc, CaseRef, Document, EntryLog, ShiftDoc, ShiftRef, TabletLogDoc,
};
use maraude_core::entry::{Author, Entry, EntryEdit, NewEntry};
use maraude_core::erasure::{ErasedBecause, tombstone};
use maraude_core::ids::{AntennaId, CaseId, DeviceId, EntryId, Nickname, ShiftId};
use maraude_core::report::{CaseSummary, FollowUp, NightReport, PeriodReport, PeriodTally};
use maraude_core::shift::{NewShift, Shift, ShiftEnd, TabletLog};
use recent::RecentDocuments;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use serde::Serialize;

pub use chunks::document_id;
pub use error::StoreError;
pub use key::{Passphrase, page_key};
pub use link::{DeviceCertificate, RecordedSync, ServerLink};
pub use replica::{ChunkWrite, ChunksApplied};

/// Open (or create) an SQLCipher file other than a store with the same key
/// derivation: the base server's device registry.
pub fn open_encrypted_file(
    path: &Path,
    passphrase: &Passphrase,
    create: bool,
) -> Result<Connection> {
    let conn = key::open_encrypted(path, passphrase, create)?;
    configure(&conn)?;
    Ok(conn)
}
pub use samod_core::DocumentId;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One device's store for one antenna.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device: DeviceId,
    antenna: AntennaId,
    recent: RecentDocuments,
}

/// What an import brought.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub new_document: bool,
    pub changes_received: usize,
    pub changes_new: usize,
}

/// Figures about the file, for `maraude status` and the benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStats {
    pub documents: i64,
    pub chunks: i64,
    pub chunk_bytes: i64,
    pub shifts: i64,
    pub entries: i64,
    pub open_cases: i64,
    pub file_bytes: u64,
}

/// 32 MiB of page cache: a year's entry figures (~20 MB) stay decrypted
/// between two reports instead of being decrypted again page by page.
/// `secure_delete`: deleted rows are overwritten with zeros, so an erased
/// case is not left in free space for someone who has the passphrase.
fn configure(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -32768;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

impl Store {
    /// Remove the store at `path` with its write-ahead log: a tablet
    /// handed over, or to join again. Closed first (every handle dropped);
    /// files already gone are no error.
    pub fn remove(path: &Path) -> Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(StoreError::Remove {
                        path: PathBuf::from(file).display().to_string(),
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Create a new store for a new antenna, with the default catalogue.
    pub fn create(path: &Path, passphrase: &Passphrase, antenna_name: &str) -> Result<Self> {
        let antenna = Antenna::new(antenna_name)?;
        Self::create_for(path, passphrase, &antenna)
    }

    /// Create a store on this device for `antenna`.
    pub fn create_for(path: &Path, passphrase: &Passphrase, antenna: &Antenna) -> Result<Self> {
        let mut store = Self::create_empty(path, passphrase, antenna.id, DeviceId::new())?;
        store.write(|tx, ctx| {
            let mut doc = AntennaDoc::create(antenna, &ctx.device)?;
            save_document(tx, &antenna.id.as_uuid().to_owned(), &mut doc, &[])?;
            index::put_antenna(tx, antenna)?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Create a store for an antenna whose documents arrive by sync: a
    /// device joining with an enrolment code, or the base server. Until its
    /// first sync it holds no document. `device` is the id the device
    /// enrolled with.
    pub fn create_empty(
        path: &Path,
        passphrase: &Passphrase,
        antenna: AntennaId,
        device: DeviceId,
    ) -> Result<Self> {
        let mut conn = key::open_encrypted(path, passphrase, true)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO device (id, device_id, antenna_id, created_at) VALUES (1, ?1, ?2, ?3)",
            params![
                device.to_string(),
                antenna.to_string(),
                index::ts(Utc::now())
            ],
        )?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device,
            antenna,
            recent: RecentDocuments::default(),
        })
    }

    /// Open an existing store. A wrong passphrase, a file from a newer app,
    /// or a file that is not an encrypted store each give their own error.
    pub fn open(path: &Path, passphrase: &Passphrase) -> Result<Self> {
        let mut conn = key::open_encrypted(path, passphrase, false)?;
        configure(&conn)?;
        schema::migrate(&mut conn)?;
        let (device, antenna): (String, String) =
            conn.query_row("SELECT device_id, antenna_id FROM device", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device: device.parse()?,
            antenna: antenna.parse()?,
            recent: RecentDocuments::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }

    pub fn antenna_id(&self) -> AntennaId {
        self.antenna
    }

    fn author(&self, by: &Nickname) -> Author {
        Author {
            by: by.clone(),
            device: self.device,
            now: maraude_core::time::to_the_second(Utc::now()),
        }
    }

    /// Run `f` in one IMMEDIATE transaction: documents are loaded, changed
    /// and appended, and index rows written, all or nothing.
    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>, &mut Ctx) -> Result<T>) -> Result<T> {
        let mut ctx = Ctx {
            device: self.device,
            antenna: self.antenna,
            recent: &mut self.recent,
            erased: Vec::new(),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx, &mut ctx)?;
        tx.commit()?;
        if !ctx.erased.is_empty() {
            // The WAL may still hold pages written before the erasure.
            self.checkpoint()?;
        }
        Ok(out)
    }

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

    // Shifts.

    pub fn start_shift(&mut self, new: NewShift) -> Result<Shift> {
        let antenna = self.antenna()?;
        let shift = new.into_shift(&antenna, Utc::now())?;
        self.write(|tx, ctx| {
            let mut doc = ShiftDoc::create(&shift, &ctx.device)?;
            save_document(tx, shift.id.as_uuid(), &mut doc, &[])?;
            index::put_shift(tx, &shift)?;
            index::put_logs(tx, &shift, &doc.logs()?)?;
            list_in_antenna(tx, ctx, |a| {
                a.add_shift(
                    shift.id,
                    &ShiftRef {
                        kind: shift.kind,
                        date: shift.date,
                    },
                )
            })?;
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
            "shifts" => StoreError::NoSuchShift(given.to_string()),
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
        let antenna = self.antenna()?;
        let mut tally = PeriodTally::new(&antenna, from, to);
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

    // Merge API, for sync and import.

    /// Every document in the store, with its type.
    pub fn documents(&self) -> Result<Vec<(DocumentId, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc, type FROM documents ORDER BY doc")?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(d, t)| d.parse().ok().map(|d| (d, t)))
            .collect())
    }

    pub fn heads(&self, doc: &DocumentId) -> Result<Vec<ChangeHash>> {
        let mut d = self.load_any(doc)?;
        Ok(d.automerge().get_heads())
    }

    /// The document's changes that `heads` does not have, as one byte
    /// string that [`Store::import`] on another store accepts.
    pub fn changes_since(&self, doc: &DocumentId, heads: &[ChangeHash]) -> Result<Vec<u8>> {
        let mut d = self.load_any(doc)?;
        Ok(d.automerge().save_after(heads))
    }

    fn load_any(&self, doc: &DocumentId) -> Result<AnyDocument> {
        let chunks = chunks::load_range(&self.conn, &samod_key(doc))?;
        if chunks.is_empty() {
            return Err(StoreError::BadDocument(format!(
                "no document {doc} in this store"
            )));
        }
        Ok(AnyDocument::load(
            chunks.iter().map(|(_, d)| d.as_slice()),
            &self.device,
        )?)
    }

    /// Merge changes (or a whole saved document) received for `doc`. The
    /// result must be a well-formed document of this antenna whose record id
    /// is `doc`; otherwise nothing is written. The index is updated in the
    /// same transaction.
    pub fn import(&mut self, doc: &DocumentId, bytes: &[u8]) -> Result<ImportSummary> {
        // Bytes from elsewhere: measured under a cap before Automerge
        // inflates them (`maraude_core::wire`).
        maraude_core::wire::check_chunks(bytes, &Default::default())
            .map_err(|e| StoreError::BadDocument(e.to_string()))?;
        self.write(|tx, ctx| merge(tx, ctx, Some(doc), bytes))
    }

    /// Store documents built elsewhere (the demo season, an import) in one
    /// transaction, merged with what the store already has, and index them:
    /// all of them or, on an error, none.
    pub fn insert_documents(
        &mut self,
        docs: impl IntoIterator<Item = AnyDocument>,
    ) -> Result<usize> {
        self.write(|tx, ctx| {
            let mut n = 0;
            for mut any in docs {
                merge(tx, ctx, None, &any.automerge().save())?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// Samod's storage: one chunk by its key.
    pub fn chunk(&self, key: &str) -> Result<Option<Vec<u8>>> {
        replica::chunk(&self.conn, key)
    }

    /// Samod's storage: every chunk under a key prefix (`doc` or
    /// `doc/snapshot`), the prefix itself included.
    pub fn chunks_under(&self, prefix: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
        let key = samod_core::StorageKey::from_parts(prefix.iter().map(String::as_str))
            .map_err(|e| StoreError::BadDocument(format!("bad storage key: {e}")))?;
        chunks::load_range(&self.conn, &key)
    }

    /// Samod's storage: apply its puts and deletes in one transaction, and
    /// index the documents they changed (see `replica`).
    pub fn apply_chunks(&mut self, writes: Vec<ChunkWrite>) -> Result<ChunksApplied> {
        self.write(|tx, ctx| replica::apply(tx, ctx, writes))
    }

    /// Documents that changed since `peer` last shared them (or that it
    /// was never known to have).
    pub fn changed_for(&self, peer: &str) -> Result<Vec<DocumentId>> {
        replica::changed_for(&self.conn, peer)
    }

    /// The heads the index records for `doc`, without loading it; `None`
    /// if the store does not have it.
    pub fn recorded_heads(&self, doc: &DocumentId) -> Result<Option<Vec<ChangeHash>>> {
        replica::recorded_heads(&self.conn, doc)
    }

    /// Record that `peer` now shares these heads of these documents.
    pub fn mark_shared(
        &mut self,
        peer: &str,
        docs: &[(DocumentId, Vec<ChangeHash>)],
    ) -> Result<()> {
        self.write(|tx, _| replica::mark_shared(tx, peer, docs))
    }

    /// What the index knows of a document, for the access rules
    /// (`maraude_core::access`).
    pub fn subject(&self, doc: &DocumentId) -> Result<Subject> {
        replica::subject(&self.conn, doc)
    }

    /// Documents received that could not be indexed, with the reason.
    pub fn quarantined(&self) -> Result<Vec<(String, String)>> {
        replica::quarantined(&self.conn)
    }

    /// This device's enrolment with its base server, if any.
    pub fn server_link(&self) -> Result<Option<ServerLink>> {
        link::get(&self.conn)
    }

    /// Keep this device's enrolment (replacing an earlier one).
    pub fn set_server_link(&mut self, link: &ServerLink) -> Result<()> {
        self.write(|tx, _| link::put(tx, link))
    }

    /// The antenna's latest revocation list (DER) this device has heard of.
    pub fn revocations(&self) -> Result<Option<Vec<u8>>> {
        link::revocations(&self.conn)
    }

    /// Keep a newer revocation list (the caller checked it is newer and
    /// signed by the antenna); needs an enrolment to attach it to.
    pub fn set_revocations(&mut self, der: &[u8]) -> Result<()> {
        self.write(|tx, _| link::set_revocations(tx, der))
    }

    /// Keep the last sync with the server that went through: when, and
    /// what it did (JSON text, kept as given). Needs an enrolment to
    /// attach it to; without one nothing is written.
    pub fn record_sync(&mut self, at: DateTime<Utc>, summary_json: &str) -> Result<()> {
        self.write(|tx, _| link::record_sync(tx, at, summary_json))
    }

    /// The last sync with the server this device recorded, if any.
    pub fn last_sync(&self) -> Result<Option<RecordedSync>> {
        link::last_sync(&self.conn)
    }

    /// Drop the index and derive it again from the documents. A document
    /// that cannot be indexed is quarantined, not fatal (see `replica`).
    pub fn rebuild_index(&mut self) -> Result<()> {
        self.write(|tx, ctx| {
            index::clear(tx)?;
            for doc in chunks::document_ids(tx)? {
                replica::reindex(tx, ctx, &doc, replica::Unchanged::Derive)?;
            }
            Ok(())
        })
    }

    /// The index as sorted text lines, to compare two stores or an index
    /// with its rebuilt self.
    pub fn index_dump(&self) -> Result<Vec<String>> {
        index::dump(&self.conn)
    }

    pub fn stats(&self) -> Result<StoreStats> {
        let one = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(StoreStats {
            documents: one("SELECT count(*) FROM documents")?,
            chunks: one("SELECT count(*) FROM chunks")?,
            chunk_bytes: one("SELECT coalesce(sum(length(data)), 0) FROM chunks")?,
            shifts: one("SELECT count(*) FROM shifts")?,
            entries: one("SELECT count(*) FROM entry_figures")?,
            open_cases: one("SELECT count(*) FROM cases WHERE open = 1")?,
            file_bytes: ["", "-wal"]
                .iter()
                .filter_map(|s| std::fs::metadata(format!("{}{}", self.path.display(), s)).ok())
                .map(|m| m.len())
                .sum(),
        })
    }

    /// Fold the write-ahead log into the main file (on close, before a copy).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// Who writes, for the closures run inside [`Store::write`].
struct Ctx<'a> {
    device: DeviceId,
    antenna: AntennaId,
    recent: &'a mut RecentDocuments,
    /// Cases whose document this write deleted (see `erasure`).
    erased: Vec<CaseId>,
}

fn samod_key(doc: &DocumentId) -> samod_core::StorageKey {
    samod_core::StorageKey::from_parts([doc.to_string()])
        .expect("a document id is a valid key part")
}

fn check_antenna(doc: &DocumentId, antenna: AntennaId, ctx: &Ctx) -> Result<()> {
    if antenna != ctx.antenna {
        return Err(StoreError::ForeignDocument {
            doc: doc.to_string(),
        });
    }
    Ok(())
}

/// The one way a stored document changes: load it, apply `change` (core
/// logic), append the new changes as chunks. The caller updates the index
/// rows the change touched, in the same transaction.
fn change_document<D: Document, T>(
    tx: &Connection,
    ctx: &mut Ctx,
    record: &uuid::Uuid,
    missing: impl FnOnce() -> StoreError,
    change: impl FnOnce(&mut D) -> Result<T, maraude_core::DocumentError>,
) -> Result<T> {
    let id = document_id(record);
    let mut doc: D = match ctx.recent.take(tx, &id)? {
        Some(doc) => D::from_automerge(doc),
        None => chunks::load(tx, &id, &ctx.device)?.ok_or_else(missing)?,
    };
    let heads = doc.heads();
    let out = change(&mut doc)?;
    append(tx, &id, &mut doc, &heads, D::TYPE, &record.to_string())?;
    ctx.recent.keep(id, doc.into_automerge());
    Ok(out)
}

fn missing_shift(shift: &ShiftId) -> impl FnOnce() -> StoreError + '_ {
    || StoreError::NoSuchShift(shift.short())
}

/// A tablet log the index knows of but this store does not hold (a store
/// restored from an older copy): the next sync brings it.
fn missing_log(entry: &EntryId) -> impl FnOnce() -> StoreError + '_ {
    || {
        StoreError::BadDocument(format!(
            "the tablet log of entry {} is not on this tablet yet: sync with the server or a teammate, then try again",
            entry.short()
        ))
    }
}

/// A new entry, a correction or a void, in whichever document holds the
/// entries.
enum EntryChange<'a> {
    Log(&'a Entry),
    Edit(EntryEdit, &'a Antenna, Author),
    Void(&'a str, Author),
}

impl EntryChange<'_> {
    fn apply<D: EntryLog>(
        self,
        doc: &mut D,
        id: &EntryId,
        shift: &Shift,
    ) -> Result<Entry, maraude_core::DocumentError> {
        match self {
            Self::Log(entry) => doc.log(entry, shift).map(|()| entry.clone()),
            Self::Edit(edit, antenna, author) => doc.edit(id, edit, shift, antenna, &author),
            Self::Void(reason, author) => doc.void(id, reason, &author),
        }
    }
}

/// Apply `change` to entry `id` in the document of `record`, which holds
/// entries of `shift`: the shift document itself, or a tablet log.
fn change_entries(
    tx: &Connection,
    ctx: &mut Ctx,
    shift: &Shift,
    record: &uuid::Uuid,
    id: &EntryId,
    change: EntryChange,
) -> Result<Entry> {
    if record == shift.id.as_uuid() {
        change_document(
            tx,
            ctx,
            record,
            missing_shift(&shift.id),
            |d: &mut ShiftDoc| change.apply(d, id, shift),
        )
    } else {
        change_document(tx, ctx, record, missing_log(id), |d: &mut TabletLogDoc| {
            change.apply(d, id, shift)
        })
    }
}

/// Log `entry` where this tablet logs `shift`'s entries: the shift
/// document if it started the shift, else its own tablet log, which its
/// first entry there starts and the shift document links to.
fn log_entry(tx: &Connection, ctx: &mut Ctx, shift: &ShiftId, entry: &Entry) -> Result<()> {
    let shift = index::shift(tx, shift)?.ok_or_else(missing_shift(shift))?;
    let device = ctx.device;
    let log = match index::tablet_log_of(tx, &shift.id, &device)? {
        Some(log) => {
            change_entries(tx, ctx, &shift, &log, &entry.id, EntryChange::Log(entry))?;
            log
        }
        None => {
            let log = TabletLog::new(&shift, device);
            let mut doc = TabletLogDoc::create(&log, &device)?;
            doc.log(entry, &shift)?;
            save_document(tx, log.id.as_uuid(), &mut doc, &[])?;
            index::put_tablet_log(tx, &log, &[])?;
            change_document(
                tx,
                ctx,
                shift.id.as_uuid(),
                missing_shift(&shift.id),
                |d: &mut ShiftDoc| d.add_log(&device, &log.id),
            )?;
            *log.id.as_uuid()
        }
    };
    index::put_entry(tx, &shift.filing(), &log.to_string(), entry)
}

fn missing_antenna() -> StoreError {
    StoreError::BadDocument("this store has lost its antenna document".into())
}

/// A new document: one snapshot chunk, and its row in `documents`.
fn save_document<D: Document>(
    tx: &Connection,
    record: &uuid::Uuid,
    doc: &mut D,
    heads: &[ChangeHash],
) -> Result<()> {
    let id = document_id(record);
    append(tx, &id, doc, heads, D::TYPE, &record.to_string())
}

fn append<D: Document>(
    tx: &Connection,
    id: &DocumentId,
    doc: &mut D,
    heads: &[ChangeHash],
    kind: &str,
    record: &str,
) -> Result<()> {
    chunks::append(tx, id, doc.automerge(), heads)?;
    index::put_document(tx, &id.to_string(), kind, record, &doc.heads())
}

fn list_in_antenna(
    tx: &Connection,
    ctx: &mut Ctx,
    add: impl FnOnce(&mut AntennaDoc) -> Result<(), maraude_core::DocumentError>,
) -> Result<()> {
    let id = ctx.antenna;
    change_document(tx, ctx, id.as_uuid(), missing_antenna, add)?;
    Ok(())
}

/// Merge `bytes` into the document they belong to (`doc`, when the caller
/// knows which it expects), check the result, append the new changes and
/// re-derive the document's index rows.
fn merge(
    tx: &Connection,
    ctx: &mut Ctx,
    expected: Option<&DocumentId>,
    bytes: &[u8],
) -> Result<ImportSummary> {
    let bad = |e: automerge::AutomergeError| StoreError::BadDocument(format!("cannot decode: {e}"));
    let mut incoming = automerge::AutoCommit::new();
    let received = incoming.load_incremental(bytes).map_err(bad)?;
    let doc = match expected {
        Some(doc) => doc.clone(),
        None => {
            let any = AnyDocument::load([incoming.save().as_slice()], &ctx.device)?;
            document_id(&any.record_id()?)
        }
    };
    let summary_of_nothing = ImportSummary {
        new_document: false,
        changes_received: received,
        changes_new: 0,
    };
    if erasure::is_erased(tx, &doc)? {
        return Ok(summary_of_nothing);
    }
    let existing = chunks::load_range(tx, &samod_key(&doc))?;
    let mut merged = automerge::AutoCommit::new();
    for (_, c) in &existing {
        merged.load_incremental(c).map_err(bad)?;
    }
    let before = merged.get_heads();
    merged.load_incremental(bytes).map_err(bad)?;
    let fresh = merged.get_changes(&before).len();
    let summary = ImportSummary {
        new_document: existing.is_empty(),
        changes_received: received,
        changes_new: fresh,
    };
    if fresh == 0 {
        return Ok(summary);
    }
    let mut any = replica::as_document(merged, &ctx.device)?;
    let (kind, record) = replica::put_rows(tx, ctx, &doc, &any)?;
    let merged = any.automerge();
    chunks::append(tx, &doc, merged, &before)?;
    index::put_document(
        tx,
        &doc.to_string(),
        kind,
        &record.to_string(),
        &merged.get_heads(),
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_from_a_newer_app_is_refused_with_its_version_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.maraude");
        let pass = Passphrase::new("dunes du nord 2026".into());
        drop(Store::create(&path, &pass, "Calais").unwrap());
        let conn = key::open_encrypted(&path, &pass, false).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
        drop(conn);
        let err = Store::open(&path, &pass).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerFormat { found: 99, known } if known == schema::latest()
            ),
            "{err}"
        );
        assert!(err.to_string().contains("update Maraude"), "{err}");
        let conn = key::open_encrypted(&path, &pass, false).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 99);
    }
}
