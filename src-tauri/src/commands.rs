//! The commands the UI calls (listed in `command_names.rs`). Each one
//! unlocks or locks the store, or calls one store function.
//!
//! They are `async` so that Tauri runs them off the window's thread: a
//! passphrase takes ~150 ms to check (Argon2id) and a demo season seconds.

use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::access::Role;
use maraude_core::antenna::{Antenna, PlaceKind, ReferenceChange};
use maraude_core::case::{Case, CaseAction, NewCase};
use maraude_core::document::CaseRef;
use maraude_core::entry::{Entry, EntryEdit, NewEntry};
use maraude_core::ids::{CaseId, DeviceId, EntryId, ItemId, Nickname, PlaceId, ShiftId};
use maraude_core::report::{
    ClosedFollowUp, FollowUp, Handover, NightReport, PeriodReport, PeriodTable, night_csv,
    night_text, period_table_csv, period_text,
};
use maraude_core::shift::{NewShift, Shift, ShiftEnd, ShiftKind};
use maraude_core::warehouse::{
    NeedsList, NewMovement, StockMovement, StockReport, call_for_donations,
};
use maraude_device::erasure::{self, Withdrawal};
use maraude_device::keystore::SystemKeystore;
use maraude_device::quick_unlock::{Pin, PinState, QuickUnlock};
use maraude_protocol::api::{DeviceInfo as Tablet, EnrolmentCode};
use maraude_store::{FiguresOnly, Passphrase, StoreError};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use crate::error::AppError;
use crate::open_store::OpenStore;
use crate::server::{self, Enrolment, LastSync, ServerStatus, SyncState};
use crate::tablets;
use crate::teammates::{self, Found, Serving, TeammateServer};

type Reply<T> = Result<T, AppError>;

/// The device's store file, in the app's data directory.
fn store_path(app: &AppHandle) -> Reply<PathBuf> {
    let dir = app.path().app_data_dir().map_err(|e| AppError {
        code: "io",
        message: format!("this device gives the app no data directory: {e}"),
    })?;
    Ok(dir.join("antenna.maraude"))
}

/// What the first screen needs to know.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Status {
    /// Whether this device holds an antenna (else: create one, or a demo).
    pub has_store: bool,
    pub unlocked: bool,
    /// The app locks after this long untouched (10 minutes, unless
    /// `MARAUDE_IDLE_LOCK_SECONDS` says otherwise).
    pub idle_lock_seconds: u32,
}

/// How long the app waits untouched before it locks: `MARAUDE_IDLE_LOCK_SECONDS`
/// (2 s to an hour; the tests lock in seconds), else 10 minutes.
fn idle_lock_seconds() -> u32 {
    std::env::var("MARAUDE_IDLE_LOCK_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .map(|s| s.clamp(2, 3600))
        .unwrap_or(600)
}

#[tauri::command]
pub async fn status(app: AppHandle, open: State<'_, OpenStore>) -> Reply<Status> {
    Ok(Status {
        has_store: store_path(&app)?.exists(),
        unlocked: open.is_unlocked()?,
        idle_lock_seconds: idle_lock_seconds(),
    })
}

/// Keeps what the screen holds that is no record yet (a form half filled,
/// the screen, the place): in the encrypted store, so that a lock loses
/// nothing and the webview's own storage holds none of it.
#[tauri::command]
pub async fn keep_unsaved(open: State<'_, OpenStore>, state: String) -> Reply<()> {
    open.with(move |s| s.keep_unsaved(&state)).await
}

/// What [`keep_unsaved`] kept last.
#[tauri::command]
pub async fn unsaved(open: State<'_, OpenStore>) -> Reply<Option<String>> {
    open.with(|s| s.unsaved()).await
}

#[tauri::command]
pub async fn create_antenna(
    app: AppHandle,
    open: State<'_, OpenStore>,
    name: String,
    passphrase: String,
) -> Reply<Antenna> {
    open.create(&store_path(&app)?, Passphrase::new(passphrase), &name)
}

#[tauri::command]
pub async fn create_demo_antenna(
    app: AppHandle,
    open: State<'_, OpenStore>,
    passphrase: String,
) -> Reply<Antenna> {
    open.create_demo(&store_path(&app)?, Passphrase::new(passphrase))
}

/// The antenna, or none for a tablet that joined one and has not received
/// it yet (the UI then runs [`first_sync`]).
#[tauri::command]
pub async fn unlock(
    app: AppHandle,
    open: State<'_, OpenStore>,
    passphrase: String,
) -> Reply<Option<Antenna>> {
    open.unlock(&store_path(&app)?, Passphrase::new(passphrase))
}

/// Whether a PIN unlocks this tablet, with its tries left, and why a PIN
/// cannot be set when the tablet has no keystore.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct QuickUnlockStatus {
    pub pin: PinState,
    /// Why there is no keystore to keep a PIN's secret in; none when there is.
    pub no_keystore: Option<String>,
}

#[tauri::command]
pub async fn quick_unlock_status(app: AppHandle) -> Reply<QuickUnlockStatus> {
    let path = store_path(&app)?;
    let keystore = SystemKeystore::open();
    Ok(QuickUnlockStatus {
        pin: QuickUnlock::of(&path, &keystore).state()?,
        no_keystore: keystore.available().err().map(|e| e.to_string()),
    })
}

/// Sets a PIN on an unlocked tablet; the passphrase is asked again (see
/// `maraude_device::quick_unlock`).
#[tauri::command]
pub async fn set_pin(
    app: AppHandle,
    open: State<'_, OpenStore>,
    passphrase: String,
    pin: String,
) -> Reply<PinState> {
    if !open.is_unlocked()? {
        return Err(AppError::locked());
    }
    let path = store_path(&app)?;
    blocking(move || {
        let keystore = SystemKeystore::open();
        let quick = QuickUnlock::of(&path, &keystore);
        quick.set(&Passphrase::new(passphrase), &Pin::new(pin))?;
        Ok(quick.state()?)
    })
    .await
}

#[tauri::command]
pub async fn remove_pin(app: AppHandle, open: State<'_, OpenStore>) -> Reply<()> {
    if !open.is_unlocked()? {
        return Err(AppError::locked());
    }
    let keystore = SystemKeystore::open();
    Ok(QuickUnlock::of(&store_path(&app)?, &keystore).forget()?)
}

/// Unlocks with the PIN; a wrong one costs a try (the UI then asks
/// [`quick_unlock_status`] how many are left).
#[tauri::command]
pub async fn unlock_with_pin(
    app: AppHandle,
    open: State<'_, OpenStore>,
    pin: String,
) -> Reply<Option<Antenna>> {
    let path = store_path(&app)?;
    let store = blocking(move || {
        let keystore = SystemKeystore::open();
        Ok(QuickUnlock::of(&path, &keystore).open(&Pin::new(pin))?)
    })
    .await?;
    open.unlock_store(store)
}

/// Argon2id's 64 MiB and fractions of a second, off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Reply<T> + Send + 'static) -> Reply<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| AppError::poisoned())?
}

/// Drops the store and its key; a sync under way stops (what is already
/// in sync stays recorded), and so does serving teammates.
#[tauri::command]
pub async fn lock(
    open: State<'_, OpenStore>,
    syncs: State<'_, SyncState>,
    teammates: State<'_, TeammateServer>,
) -> Reply<()> {
    syncs.stop()?;
    teammates.stop().await?;
    open.lock()
}

/// Erases everything this tablet holds (a tablet handed over, or revoked
/// and to join again under a new id): the server is told that it leaves
/// (it revokes itself), the store file goes, and the app is back at its
/// first start, saying what the server was told. The volunteer types the
/// antenna's name to confirm; what was not synced is lost, which the
/// screen says first. A tablet that joined an antenna and never received
/// it (a wrong server, a code revoked) holds no record and knows no name:
/// its screen asks a second tap instead.
#[tauri::command]
pub async fn erase_this_tablet(
    app: AppHandle,
    open: State<'_, OpenStore>,
    syncs: State<'_, SyncState>,
    teammates: State<'_, TeammateServer>,
    antenna_name: String,
) -> Reply<Withdrawal> {
    let (name, link, device) = open
        .with(|s| {
            let name = crate::open_store::antenna_if_any(s)?.map(|a| a.name);
            Ok((name, s.server_link()?, s.device()))
        })
        .await?;
    if let Some(name) = name
        && !antenna_name.trim().eq_ignore_ascii_case(name.trim())
    {
        return Err(AppError::erase_not_confirmed());
    }
    syncs.stop()?;
    teammates.stop().await?;
    open.lock()?;
    let path = store_path(&app)?;
    let keystore = SystemKeystore::open();
    Ok(erasure::erase_this_tablet(&path, link.as_ref(), device, &keystore).await?)
}

/// Clears the tablet in a hurry (a checkpoint ahead): what the server
/// already holds leaves it, what was not sent stays; syncs and serving
/// stop first, so that nothing they hold in memory is written back. The
/// UI locks the app right after.
#[tauri::command]
pub async fn clear_this_tablet(
    open: State<'_, OpenStore>,
    syncs: State<'_, SyncState>,
    teammates: State<'_, TeammateServer>,
    antenna_name: String,
) -> Reply<maraude_store::Cleared> {
    let name = open.with(|s| Ok(s.antenna()?.name)).await?;
    if !antenna_name.trim().eq_ignore_ascii_case(name.trim()) {
        return Err(AppError::erase_not_confirmed());
    }
    syncs.stop()?;
    teammates.stop().await?;
    let cleared = open
        .with(|s| Ok(erasure::clear_what_the_server_holds(s)))
        .await?;
    Ok(cleared?)
}

#[tauri::command]
pub async fn antenna(open: State<'_, OpenStore>) -> Reply<Antenna> {
    open.with(move |s| s.antenna()).await
}

/// The newest open shift, or none.
#[tauri::command]
pub async fn current_shift(open: State<'_, OpenStore>) -> Reply<Option<Shift>> {
    open.with(move |s| match s.current_shift() {
        Ok(shift) => Ok(Some(shift)),
        Err(StoreError::NoOpenShift) => Ok(None),
        Err(e) => Err(e),
    })
    .await
}

#[tauri::command]
pub async fn start_shift(open: State<'_, OpenStore>, shift: NewShift) -> Reply<Shift> {
    open.with(move |s| s.start_shift(shift)).await
}

#[tauri::command]
pub async fn log_entry(
    open: State<'_, OpenStore>,
    shift: ShiftId,
    by: Nickname,
    entry: NewEntry,
) -> Reply<Entry> {
    open.with(move |s| s.log(&shift, &by, entry)).await
}

/// Voids the last entry this tablet logged in the shift (reason "undo"),
/// and returns it as voided.
#[tauri::command]
pub async fn undo_last(open: State<'_, OpenStore>, shift: ShiftId, by: Nickname) -> Reply<Entry> {
    open.with(move |s| s.undo_last(&shift, &by)).await
}

#[tauri::command]
pub async fn entries(open: State<'_, OpenStore>, shift: ShiftId) -> Reply<Vec<Entry>> {
    open.with(move |s| s.entries(&shift)).await
}

/// The night report, and its plain-text summary for the messaging group.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct NightReportView {
    pub report: NightReport,
    pub text: String,
}

#[tauri::command]
pub async fn night_report(
    open: State<'_, OpenStore>,
    shift: ShiftId,
    lang: Lang,
) -> Reply<NightReportView> {
    open.with(move |s| {
        let report = s.night_report(&shift, lang)?;
        let text = night_text(&report, lang);
        Ok(NightReportView { report, text })
    })
    .await
}

/// A period's report (leads and coordinators: the week's meeting, the
/// activity report), and its plain-text summary.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct PeriodReportView {
    pub report: PeriodReport,
    pub text: String,
    /// Of the period's shifts, those older than four weeks that this
    /// tablet keeps as figures only (the server holds their detail),
    /// newest first.
    pub figures_only: Vec<FiguresOnly>,
}

#[tauri::command]
pub async fn period_report(
    open: State<'_, OpenStore>,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
) -> Reply<PeriodReportView> {
    open.with(move |s| {
        let report = s.period_report(from, to, lang)?;
        let text = period_text(&report, lang);
        let figures_only = s.figures_only_shifts(from, to)?;
        Ok(PeriodReportView {
            report,
            text,
            figures_only,
        })
    })
    .await
}

/// A coordinator asks the server for an old shift's detail: it comes back
/// at the next sync, for two days.
#[tauri::command]
pub async fn want_detail(open: State<'_, OpenStore>, shift: String) -> Reply<FiguresOnly> {
    open.with(move |s| s.want_detail(&shift, Utc::now())).await
}

/// The warehouse's stock on hand.
#[tauri::command]
pub async fn stock(open: State<'_, OpenStore>, lang: Lang) -> Reply<StockReport> {
    open.with(move |s| s.stock(lang)).await
}

/// A receipt, a count or a transfer at the warehouse (leads and
/// coordinators: the store refuses a volunteer's tablet, as the server).
#[tauri::command]
pub async fn record_movement(
    open: State<'_, OpenStore>,
    by: Nickname,
    movement: NewMovement,
) -> Reply<StockMovement> {
    open.with(move |s| s.record_movement(&by, movement)).await
}

/// The least the warehouse keeps of an item (`None`: no minimum). The
/// catalogue is the coordinator's: another tablet's change is refused here,
/// as every receiver would refuse it.
#[tauri::command]
pub async fn set_minimum(
    open: State<'_, OpenStore>,
    item: ItemId,
    minimum: Option<u32>,
) -> Reply<Antenna> {
    let change = ReferenceChange::ItemMinimum { id: item, minimum };
    open.with(move |s| s.change_reference(&change)).await
}

/// One change to the catalogue, the places or the volunteers, from the
/// lists screen: refused here for this tablet's certified role as every
/// receiver would refuse it (`reference_data`), nothing written.
#[tauri::command]
pub async fn change_reference(
    open: State<'_, OpenStore>,
    change: ReferenceChange,
) -> Reply<Antenna> {
    open.with(move |s| s.change_reference(&change)).await
}

/// What to ask donors for in the next `days`, and the call for donations.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct NeedsView {
    pub list: NeedsList,
    pub text: String,
}

#[tauri::command]
pub async fn needs(open: State<'_, OpenStore>, days: u32, lang: Lang) -> Reply<NeedsView> {
    open.with(move |s| {
        let today = maraude_core::time::paris_date(Utc::now());
        let list = s.needs(today, days, lang)?;
        let text = call_for_donations(&list, lang);
        Ok(NeedsView { list, text })
    })
    .await
}

/// Opens a shelter request or a referral: the case (with the person's
/// alias, kept only in the case document) and the shift's anonymous entry,
/// which the core derives from the case, at `place`.
#[tauri::command]
pub async fn open_case(
    open: State<'_, OpenStore>,
    shift: ShiftId,
    by: Nickname,
    case: NewCase,
    place: Option<PlaceId>,
) -> Reply<Entry> {
    open.with(move |s| Ok(s.open_case(&shift, &by, case, place, None)?.1))
        .await
}

/// A correction: the entry's new content, time and place. The history keeps
/// the old values.
#[tauri::command]
pub async fn edit_entry(
    open: State<'_, OpenStore>,
    entry: EntryId,
    by: Nickname,
    edit: EntryEdit,
) -> Reply<Entry> {
    open.with(move |s| s.edit_entry(&entry, &by, edit)).await
}

/// Strikes an entry out, with the reason; it stays in the history.
#[tauri::command]
pub async fn void_entry(
    open: State<'_, OpenStore>,
    entry: EntryId,
    by: Nickname,
    reason: String,
) -> Reply<Entry> {
    open.with(move |s| s.void_entry(&entry, &by, &reason)).await
}

#[tauri::command]
pub async fn end_shift(open: State<'_, OpenStore>, shift: ShiftId, end: ShiftEnd) -> Reply<Shift> {
    open.with(move |s| s.end_shift(&shift, end)).await
}

/// How many days back the home screen lists shifts to review.
const RECENT_DAYS: u64 = 14;

/// The shifts of the last two weeks, newest first: the lead reviews a night
/// after it has ended, sometimes the next day.
#[tauri::command]
pub async fn recent_shifts(open: State<'_, OpenStore>) -> Reply<Vec<Shift>> {
    open.with(move |s| s.recent_shifts(Utc::now(), RECENT_DAYS))
        .await
}

/// A place found in the field, from its name; the answer is its id and the
/// antenna with it.
#[tauri::command]
pub async fn add_place(
    open: State<'_, OpenStore>,
    name: String,
    kind: PlaceKind,
) -> Reply<AddedPlace> {
    open.with(move |s| {
        let (place, antenna) = s.add_place(&name, kind)?;
        Ok(AddedPlace { place, antenna })
    })
    .await
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AddedPlace {
    pub place: PlaceId,
    pub antenna: Antenna,
}

/// The last notes of a shift of `kind` and the urgent follow-ups, for the
/// team about to start one.
#[tauri::command]
pub async fn handover(open: State<'_, OpenStore>, kind: ShiftKind) -> Reply<Handover> {
    open.with(move |s| s.handover(kind, Utc::now())).await
}

/// Open cases, oldest first.
#[tauri::command]
pub async fn follow_ups(open: State<'_, OpenStore>) -> Reply<Vec<FollowUp>> {
    open.with(move |s| s.follow_ups()).await
}

/// Closed cases this tablet still holds, to look back at or reopen.
#[tauri::command]
pub async fn closed_follow_ups(open: State<'_, OpenStore>) -> Reply<Vec<ClosedFollowUp>> {
    open.with(move |s| s.closed_follow_ups()).await
}

/// A follow-up's whole case: the person, the request, every step.
#[tauri::command]
pub async fn case_details(open: State<'_, OpenStore>, case: CaseId) -> Reply<Case> {
    open.with(move |s| s.case(&case)).await
}

/// A follow-up note, a closing outcome or a reopening, logged in the
/// current shift when there is one.
#[tauri::command]
pub async fn act_on_case(
    open: State<'_, OpenStore>,
    case: CaseId,
    by: Nickname,
    action: CaseAction,
    shift: Option<ShiftId>,
) -> Reply<Case> {
    open.with(move |s| s.act_on_case(&case, &by, action, shift))
        .await
}

/// Whether `by` may erase a case (an active lead or coordinator of the
/// antenna), so that the button shows only to them; the store checks it
/// again when erasing.
#[tauri::command]
pub async fn may_erase(open: State<'_, OpenStore>, by: Nickname) -> Reply<bool> {
    open.with(move |s| Ok(maraude_core::erasure::check_may_erase(&s.antenna()?, &by).is_ok()))
        .await
}

/// Erases a case for good, history included; the antenna keeps its
/// tombstone (kind, dates, outcome), which erases it on every tablet and
/// the server as they sync.
#[tauri::command]
pub async fn erase_case(open: State<'_, OpenStore>, case: CaseId, by: Nickname) -> Reply<CaseRef> {
    open.with(move |s| s.erase_case(&case, &by)).await
}

/// Where this tablet syncs, how its last sync went, and one under way.
#[tauri::command]
pub async fn server_status(
    open: State<'_, OpenStore>,
    syncs: State<'_, SyncState>,
) -> Reply<ServerStatus> {
    server::status(&open, &syncs).await
}

/// Enrols this tablet, which holds the antenna, with a code from a lead.
#[tauri::command]
pub async fn enrol(
    open: State<'_, OpenStore>,
    server: String,
    plain_http: bool,
    code: String,
    device_name: String,
) -> Reply<Enrolment> {
    let server = server::address(&server, plain_http)?;
    server::enrol(&open, &server, &code, &device_name).await
}

/// Registers this tablet's antenna on the association's server (its
/// administrator's registration token); the tablet becomes its
/// coordinator there.
#[tauri::command]
pub async fn register_antenna(
    open: State<'_, OpenStore>,
    server: String,
    plain_http: bool,
    token: String,
    device_name: String,
) -> Reply<Enrolment> {
    let server = server::address(&server, plain_http)?;
    server::register(&open, &server, &token, &device_name).await
}

/// A new tablet joins an antenna with a code: its store is created for
/// that antenna, empty until [`first_sync`].
#[tauri::command]
pub async fn join_antenna(
    app: AppHandle,
    open: State<'_, OpenStore>,
    server: String,
    plain_http: bool,
    code: String,
    device_name: String,
    passphrase: String,
) -> Reply<Enrolment> {
    let server = server::address(&server, plain_http)?;
    let path = store_path(&app)?;
    let passphrase = Passphrase::new(passphrase);
    server::join(&open, &path, passphrase, &server, &code, &device_name).await
}

/// The first sync of a tablet that joined an antenna; its answer is the
/// antenna received.
#[tauri::command]
pub async fn first_sync(open: State<'_, OpenStore>, syncs: State<'_, SyncState>) -> Reply<Antenna> {
    server::first_sync(&open, &syncs).await
}

/// Syncs with the server now. A failed sync is an answer too (its error
/// in `LastSync`), shown where the last sync is shown.
#[tauri::command]
pub async fn sync_now(open: State<'_, OpenStore>, syncs: State<'_, SyncState>) -> Reply<LastSync> {
    syncs.run(open.handle()?, server::Partner::Server).await
}

/// Lets teammates' tablets sync with this one: the address to show them.
#[tauri::command]
pub async fn serve_teammates(
    open: State<'_, OpenStore>,
    teammates: State<'_, TeammateServer>,
) -> Reply<Serving> {
    teammates.start(&open).await
}

#[tauri::command]
pub async fn stop_serving_teammates(teammates: State<'_, TeammateServer>) -> Reply<()> {
    teammates.stop().await
}

/// Where this tablet serves its teammates, if it does.
#[tauri::command]
pub async fn serving_teammates(teammates: State<'_, TeammateServer>) -> Reply<Option<Serving>> {
    teammates.serving()
}

/// Syncs with a teammate's tablet at the address it shows. A failed sync
/// is an answer too, as for [`sync_now`]; an address that is none is an
/// error.
#[tauri::command]
pub async fn sync_with_teammate(
    open: State<'_, OpenStore>,
    syncs: State<'_, SyncState>,
    address: String,
) -> Reply<LastSync> {
    teammates::sync(&open, &syncs, &address).await
}

/// Tablets of the antenna serving on this network (this one left out),
/// heard within a few seconds.
#[tauri::command]
pub async fn find_teammates(
    open: State<'_, OpenStore>,
    teammates: State<'_, TeammateServer>,
) -> Reply<Vec<Found>> {
    teammates.find(&open).await
}

/// Syncs with a tablet [`find_teammates`] found, at the first of its
/// addresses that answers.
#[tauri::command]
pub async fn sync_with_found(
    open: State<'_, OpenStore>,
    syncs: State<'_, SyncState>,
    found: Found,
) -> Reply<LastSync> {
    teammates::sync_found(&open, &syncs, &found).await
}

/// A code enrolling one more tablet as `role` (lead or coordinator only:
/// the server refuses a volunteer).
#[tauri::command]
pub async fn new_enrolment_code(open: State<'_, OpenStore>, role: Role) -> Reply<EnrolmentCode> {
    tablets::enrolment_code(&open, role).await
}

/// The antenna's tablets as the server knows them.
#[tauri::command]
pub async fn antenna_devices(open: State<'_, OpenStore>) -> Reply<Vec<Tablet>> {
    tablets::devices(&open).await
}

/// Revokes a lost or seized tablet.
#[tauri::command]
pub async fn revoke_device(open: State<'_, OpenStore>, device: DeviceId) -> Reply<Tablet> {
    tablets::revoke(&open, device).await
}

/// Where an exported file went, for the screen to say.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Exported {
    pub path: PathBuf,
    pub bytes: usize,
}

/// Writes the night report as CSV in the device's download folder. The file
/// is outside the encrypted store: it holds the report's counts, incidents
/// and case numbers, never a person's alias or phone.
#[tauri::command]
pub async fn export_night_csv(
    app: AppHandle,
    open: State<'_, OpenStore>,
    shift: ShiftId,
    lang: Lang,
) -> Reply<Exported> {
    let report = open.with(move |s| s.night_report(&shift, lang)).await?;
    let name = format!("maraude-{}-{}.csv", report.date, shift.short());
    to_downloads(&app, &name, &night_csv(&report))
}

/// Writes one table of a period report as CSV in the download folder:
/// counts only, like the report.
#[tauri::command]
pub async fn export_period_csv(
    app: AppHandle,
    open: State<'_, OpenStore>,
    from: NaiveDate,
    to: NaiveDate,
    lang: Lang,
    table: PeriodTable,
) -> Reply<Exported> {
    let report = open.with(move |s| s.period_report(from, to, lang)).await?;
    let name = format!("maraude-{from}-{to}-{}.csv", table.as_str());
    to_downloads(&app, &name, &period_table_csv(&report, table))
}

/// Writes `contents` as `name` in the device's download folder.
fn to_downloads(app: &AppHandle, name: &str, contents: &str) -> Reply<Exported> {
    // Without XDG user folders set up, a Linux desktop has no known download
    // folder: ~/Downloads is where people look.
    let paths = app.path();
    let dir = paths
        .download_dir()
        .or_else(|_| paths.home_dir().map(|home| home.join("Downloads")))
        .map_err(|e| {
            AppError::io(
                "this device gives the app no download folder",
                &std::io::Error::other(e),
            )
        })?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::io("cannot create the download folder", &e))?;
    let path = dir.join(name);
    std::fs::write(&path, contents).map_err(|e| AppError::io("cannot write the CSV file", &e))?;
    Ok(Exported {
        path,
        bytes: contents.len(),
    })
}

/// What the settings screen shows about this device.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DeviceInfo {
    pub device: DeviceId,
    pub store: PathBuf,
    pub version: &'static str,
}

#[tauri::command]
pub async fn device_info(app: AppHandle, open: State<'_, OpenStore>) -> Reply<DeviceInfo> {
    Ok(DeviceInfo {
        device: open.with(move |s| Ok(s.device())).await?,
        store: store_path(&app)?,
        version: env!("CARGO_PKG_VERSION"),
    })
}
