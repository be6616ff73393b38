//! End-to-end in the real app window: the built Tauri app (`maraude-app`)
//! under Xvfb, driven by `tauri-driver` and WebKit's WebDriver, as a team
//! uses it on a tablet. Each main screen is saved as a PNG
//! (`target/e2e-screenshots/`, or `MARAUDE_SCREENSHOTS`).
//!
//! Run with `scripts/e2e.sh`, which builds the UI and the app, then runs
//! this under `xvfb-run` with `MARAUDE_E2E=1`. Without that variable the
//! tests say they were skipped and pass, so that `cargo test --workspace`
//! stays free of a display and of tauri-driver.
//!
//! - [`a_night_on_the_tablet`]: a demo antenna; a night shift with van
//!   stock; quick log and undo; an arrival, a shelter request (refused until
//!   the alias is given), an incident; a correction and a strike-out from
//!   the timeline; the lead's review showing exactly the totals logged, copy
//!   and CSV (without the alias); follow-ups; portrait, English, night mode;
//!   end of shift; lock and unlock; a volunteer is not offered to erase a
//!   case, a lead erases one after the warning; settings.
//! - [`the_tablet_joins_its_server`]: a real `maraude-server` on loopback
//!   and the coordinator's tablet as the `maraude` command; the app joins
//!   with an enrolment code, receives the antenna at its first sync, a lead
//!   erases a case, the Sync button sends the erasure, and the
//!   coordinator's tablet loses the case at its next sync. Build
//!   `maraude-cli` and `maraude-server` first (scripts/e2e.sh does).
//! - [`teammates_in_the_van`]: the app and a teammate's tablet (the
//!   `maraude` command), both synced once with a real server, sync with
//!   each other once it is killed: the app with `maraude serve-peer` (its
//!   night report then counts what the other logged), then `maraude sync
//!   --peer` with the app serving (it receives what the app logged, the
//!   volunteer logging on meanwhile); after a restart the app still says
//!   since when it is in sync with the server.
//! - [`the_coordinator_registers`]: an antenna created on the tablet is
//!   registered on a real server from Settings (a wrong token refused
//!   first), synced, and a code made there lets another tablet join it.
//! - [`a_lying_teammate`]: the lead's app syncs with a volunteer's tablet
//!   whose serving code lists a closed case as changed: it hands it
//!   nothing of the case.
//! - [`nothing_lost_at_the_lock`]: an incident half written when the
//!   idle lock comes is back after unlocking, and was nowhere in clear.
//! - [`quantities`]: the quick log's pad (1–9, 10, 20, any other typed):
//!   +4 meals in two taps, 45 teas in four, 2000 refused before logging;
//!   each button measured at 64 px or more.
//! - [`quick_unlock_with_a_pin`]: a PIN set in Settings unlocks after the
//!   idle lock, the form intact; five wrong PINs clear it and the
//!   passphrase is asked (a real gnome-keyring: scripts/with-keystore.sh).
//! - [`a_tablet_that_never_received_its_antenna`]: a tablet that joined
//!   and never synced erases itself from its waiting screen; the server
//!   revokes it.
//! - [`the_leads_period_report`]: last week's report on the demo antenna,
//!   figures that add up, the charts drawn, this year's weeks, a table as
//!   CSV, a backwards range refused, portrait.
//! - [`the_coordinators_lists`]: places, items and volunteers changed in
//!   the app (a place added, renamed, another retired; an item added with
//!   sizes and moved up, another retired; a lead named); the quick log
//!   offers what the lists say at once.
//! - [`the_warehouse`]: an opening count and a donation change the stock
//!   on screen, a transfer past the shelves is refused with the figure,
//!   the needs list gives the call for donations; a van loads 40 blankets
//!   from the shelves, gives 3, and its return (37, proposed) puts them
//!   back.
//! - [`the_field_in_taps`]: the field's common actions counted in taps,
//!   landscape and portrait (+1 blanket, +4 meals, a headcount, an
//!   arrival with its breakdown, "other" said, a correction, the tablet
//!   handed on, the end of the shift); the timeline's filter and history.
//! - [`every_screen_measured`]: every screen, landscape and portrait,
//!   each control measured (10 mm; 64 px where gloves aim) and audited
//!   by axe-core (no serious or critical violation).
//! - [`reports_speed`]: a benchmark (ignored; `scripts/bench-app.sh`): the
//!   period report and the warehouse on a demo year, timed in the page.
//! - [`tap_latency`]: a benchmark (ignored; `scripts/bench-app.sh`): tap to
//!   count on screen, beside a bare WebDriver round trip.

#![allow(clippy::unwrap_used)]

mod a_lying_teammate;
mod a_night_on_the_tablet;
mod a_tablet_that_never_received_its_antenna;
mod every_screen_measured;
mod nothing_lost_at_the_lock;
mod quantities;
mod quick_unlock_with_a_pin;
mod reports_speed;
mod tap_latency;
mod teammates_in_the_van;
mod the_coordinator_registers;
mod the_coordinators_lists;
mod the_field_in_taps;
mod the_leads_period_report;
mod the_place_reminder;
mod the_tablet_joins_its_server;
mod the_warehouse;
mod webdriver;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Result, ensure};

use crate::webdriver::{Driver, Session};
use maraude_tests::{lying_teammate, server, tablet};

/// One app window at a time: each test drives its own through tauri-driver
/// on the same ports.
pub fn one_window_at_a_time() -> MutexGuard<'static, ()> {
    static WINDOW: Mutex<()> = Mutex::new(());
    WINDOW
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether the end-to-end tests should run (`MARAUDE_E2E=1`).
pub fn enabled(test: &str) -> bool {
    let on = std::env::var("MARAUDE_E2E").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("{test}: skipped (needs a display and tauri-driver: run scripts/e2e.sh)");
    }
    on
}

/// `target/<profile>`, from this test executable's `target/<profile>/deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of this test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("this test runs from target/<profile>/deps/")
        .to_path_buf()
}

/// The app binary cargo built next to this test (`cargo build -p
/// maraude-app` first), or `MARAUDE_APP`.
pub fn app_binary() -> PathBuf {
    let app = std::env::var_os("MARAUDE_APP").map_or_else(
        || profile_dir().join(format!("maraude-app{}", std::env::consts::EXE_SUFFIX)),
        PathBuf::from,
    );
    assert!(
        app.is_file(),
        "no app at {}: build it with `cargo build -p maraude-app` (after `npm run build` in ui/), or run scripts/e2e.sh",
        app.display()
    );
    app
}

/// A fresh tablet: the app keeps its store (and the webview its settings)
/// under XDG_DATA_HOME, and exports to ~/Downloads, both in a temporary
/// home of its own; tauri-driver serves its windows.
#[derive(Debug)]
pub struct FreshTablet {
    // Dropped first: the driver and its windows go before their home.
    driver: Driver,
    pub home: tempfile::TempDir,
}

impl FreshTablet {
    /// `env`: more variables for the app, beside its home.
    pub fn start(env: &[(&str, &Path)]) -> Result<Self> {
        let home = tempfile::tempdir()?;
        let data = home.path().join("data");
        let mut all = vec![("XDG_DATA_HOME", data.as_path()), ("HOME", home.path())];
        all.extend_from_slice(env);
        let driver = Driver::start(4444, &all)?;
        Ok(Self { driver, home })
    }

    /// The app's data directory (its store is under it).
    pub fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// Open the app, run `steps` on its window (given where screenshots
    /// go), keep a `failure-<name>` screenshot if they fail, and close it.
    pub fn run(&self, name: &str, steps: impl FnOnce(&Session, &Path) -> Result<()>) -> Result<()> {
        let shots = screenshot_dir();
        let failure = format!("failure-{name}");
        // A failure screenshot from an earlier run would mislead.
        let _ = std::fs::remove_file(shots.join(format!("{failure}.png")));
        let app = self.driver.open(&app_binary())?;
        let result = steps(&app, &shots);
        if result.is_err() {
            let _ = app.screenshot(&shots, &failure);
        }
        app.close()?;
        result
    }
}

/// Where screenshots go: `MARAUDE_SCREENSHOTS`, or `target/e2e-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("MARAUDE_SCREENSHOTS").map_or_else(
        || {
            profile_dir()
                .parent()
                .expect("target/")
                .join("e2e-screenshots")
        },
        PathBuf::from,
    )
}

/// The theme toggle flips between day and night; which one the app starts
/// in depends on the hour.
fn theme(app: &Session) -> Result<String> {
    let html = app.find("html")?;
    Ok(app.attribute(&html, "data-theme")?.unwrap_or_default())
}

/// First start: the demo antenna under `passphrase`, then tonight's shift
/// led by Mira, on the quick log.
pub fn demo_night(app: &Session, passphrase: &str) -> Result<()> {
    demo_night_with(app, passphrase, "")
}

/// [`demo_night`], Mira leading `team` (nicknames, comma-separated).
pub fn demo_night_with(app: &Session, passphrase: &str, team: &str) -> Result<()> {
    app.click("[data-e2e=choose-demo]")?;
    app.type_into("[data-e2e=passphrase]", passphrase)?;
    app.type_into("[data-e2e=passphrase-again]", passphrase)?;
    app.click("[data-e2e=submit]")?;
    app.find("[data-e2e=start-shift]")?;
    app.type_into("[data-e2e=lead]", "Mira")?;
    if !team.is_empty() {
        app.type_into("[data-e2e=team]", team)?;
    }
    app.click("[data-e2e=start]")?;
    app.find("[data-e2e=item-blanket]")?;
    Ok(())
}

/// The screen's language: a button on the unlock screen, a list opened
/// from the top bar once unlocked.
pub fn language(app: &Session, locale: &str) -> Result<()> {
    if app.count("[data-e2e=language]")? > 0 {
        app.click("[data-e2e=language]")?;
    }
    app.click(&format!("[data-e2e=lang-{locale}]"))
}

pub fn day_mode(app: &Session) -> Result<()> {
    if theme(app)? == "night" {
        app.click("[data-e2e=theme]")?;
    }
    ensure!(theme(app)? == "day", "day mode");
    Ok(())
}

pub fn night_mode(app: &Session) -> Result<()> {
    if theme(app)? != "night" {
        app.click("[data-e2e=theme]")?;
    }
    ensure!(theme(app)? == "night", "night mode");
    Ok(())
}

/// The store file under the app's data directory.
pub fn store_under(dir: &Path) -> Result<PathBuf> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if let Ok(found) = store_under(&path) {
                return Ok(found);
            }
        } else if path.extension().is_some_and(|e| e == "maraude") {
            return Ok(path);
        }
    }
    anyhow::bail!("no store under {}", dir.display())
}
