//! A night on the tablet, from the first start to the lead's report.

use anyhow::{Context, Result, ensure};

use crate::webdriver::{Driver, Session};
use crate::{app_binary, enabled, screenshot_dir};

const PASSPHRASE: &str = "lanterne du canal 2026";

#[test]
fn a_night_on_the_tablet() -> Result<()> {
    if !enabled("a_night_on_the_tablet") {
        return Ok(());
    }
    // A fresh device: the app keeps its store (and the webview its
    // settings) under XDG_DATA_HOME.
    let home = tempfile::tempdir()?;
    let driver = Driver::start(4444, &[("XDG_DATA_HOME", home.path())])?;
    let app = driver.open(&app_binary())?;
    let shots = screenshot_dir();
    // A failure screenshot from an earlier run would mislead.
    let _ = std::fs::remove_file(shots.join("failure.png"));
    let result = night(&app, &shots);
    if result.is_err() {
        let _ = app.screenshot(&shots, "failure");
    }
    app.close()?;
    result
}

fn night(app: &Session, shots: &std::path::Path) -> Result<()> {
    app.resize(1280, 800)?;
    // The screenshots are in French and in day mode, whatever the hour.
    app.click("[data-e2e=lang-fr]")?;
    day_mode(app)?;

    // First start: no antenna yet; try the demo.
    app.find("[data-e2e=choose-demo]")?;
    app.screenshot(shots, "01-first-start")?;
    app.click("[data-e2e=choose-demo]")?;
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.type_into("[data-e2e=passphrase-again]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;

    // No shift open: start a night maraude.
    app.find("[data-e2e=start-shift]")?;
    app.click("[data-e2e=kind-night_maraude]")?;
    app.type_into("[data-e2e=lead]", "Mira")?;
    app.type_into("[data-e2e=team]", "Jo, Sam")?;
    app.screenshot(shots, "02-start-shift")?;
    app.click("[data-e2e=start]")?;

    // Quick log, at the first living place: +1 blanket three times, one
    // tea, one blanket too many (a double tap) taken back with undo.
    app.click("[data-e2e=place]")?;
    app.click("[data-e2e=place-dunes-nord]")?;
    app.wait_for_text("[data-e2e=place]", "Dunes nord")?;
    for expected in ["1", "2", "3"] {
        app.click("[data-e2e=item-blanket]")?;
        app.wait_for_text("[data-e2e=count-blanket]", expected)?;
    }
    app.click("[data-e2e=item-tea_coffee]")?;
    app.wait_for_text("[data-e2e=count-tea_coffee]", "1")?;
    app.click("[data-e2e=item-blanket]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "4")?;
    app.click("[data-e2e=undo]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "3")?;
    let said = app.text("[data-e2e=message]")?;
    ensure!(
        said.contains("Annulé") && said.contains("Couverture"),
        "undo said {said:?}"
    );
    app.screenshot(shots, "03-quick-log")?;

    // The timeline: five entries, the last blanket struck out.
    app.click("[data-e2e=nav-timeline]")?;
    app.find("[data-e2e=timeline]")?;
    let entries = app.find_all("[data-e2e=entry]")?;
    ensure!(
        entries.len() == 5,
        "{} entries in the timeline",
        entries.len()
    );
    let newest = &entries[0];
    ensure!(
        app.attribute(newest, "data-voided")?.as_deref() == Some("yes"),
        "the newest entry is not the one struck out"
    );
    ensure!(
        app.count("[data-e2e=entry][data-voided=yes]")? == 1,
        "more than one entry struck out"
    );
    app.screenshot(shots, "04-timeline")?;

    // The lead's report: exactly 3 blankets and 1 tea.
    app.click("[data-e2e=nav-report]")?;
    app.find("[data-e2e=distributions]")?;
    ensure!(
        app.count("[data-e2e=distributions] tbody tr")? == 2,
        "more than two items in the report"
    );
    app.wait_for_text("tr[data-item=blanket] [data-e2e=quantity]", "3")?;
    app.wait_for_text("tr[data-item=tea_coffee] [data-e2e=quantity]", "1")?;
    // The report counts the entries kept, and apart those struck out.
    app.wait_for_text("[data-e2e=entries-total]", "4")?;
    app.wait_for_text("[data-e2e=entries-voided]", "1")?;
    let summary = app.text("[data-e2e=summary]")?;
    ensure!(summary.contains("Couverture"), "summary: {summary}");
    app.screenshot(shots, "05-night-report")?;

    // Portrait, for a tablet held upright.
    app.resize(800, 1280)?;
    app.screenshot(shots, "06-night-report-portrait")?;
    app.click("[data-e2e=nav-quick_log]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "3")?;
    app.screenshot(shots, "07-quick-log-portrait")?;

    // In English, and in night mode.
    app.resize(1280, 800)?;
    app.click("[data-e2e=lang-en]")?;
    app.wait_for_text("[data-e2e=nav-report]", "Night report")?;
    night_mode(app)?;
    app.screenshot(shots, "08-quick-log-night-en")?;
    app.click("[data-e2e=nav-report]")?;
    app.wait_for_text("tr[data-item=blanket] [data-e2e=quantity]", "3")?;
    app.wait_for_text("tr[data-item=blanket] td", "Blanket")?;
    app.screenshot(shots, "09-night-report-night-en")?;

    // Lock: the passphrase again, and the shift is where it was.
    app.click("[data-e2e=lock]")?;
    app.find("[data-e2e=unlock-screen]")?;
    app.type_into("[data-e2e=passphrase]", "not the passphrase")?;
    app.click("[data-e2e=submit]")?;
    app.wait_for_text(
        "[data-e2e=error]",
        "Wrong passphrase. Check it and try again.",
    )?;
    app.screenshot(shots, "10-unlock-wrong-passphrase")?;
    let field = app.find("[data-e2e=passphrase]")?;
    app.clear(&field)?;
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "3")
        .context("after unlocking, quick log shows the shift's blankets")?;
    Ok(())
}

/// The theme toggle flips between day and night; which one the app starts
/// in depends on the hour.
fn theme(app: &Session) -> Result<String> {
    let html = app.find("html")?;
    Ok(app.attribute(&html, "data-theme")?.unwrap_or_default())
}

fn day_mode(app: &Session) -> Result<()> {
    if theme(app)? == "night" {
        app.click("[data-e2e=theme]")?;
    }
    ensure!(theme(app)? == "day", "day mode");
    Ok(())
}

fn night_mode(app: &Session) -> Result<()> {
    if theme(app)? != "night" {
        app.click("[data-e2e=theme]")?;
    }
    ensure!(theme(app)? == "night", "night mode");
    Ok(())
}
