//! The van drives on: after the antenna's minutes without an entry at the
//! current place, the quick log asks "still at …?" before logging; the
//! item tapped then goes to the place the team says.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "la camionnette repart";

#[test]
fn after_a_gap_the_quick_log_asks_whether_the_team_is_still_there() -> Result<()> {
    if !enabled("after_a_gap_the_quick_log_asks_whether_the_team_is_still_there") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    let data = tablet.data();
    tablet.run("place-reminder", |app, shots| drive_on(app, shots, &data))
}

fn count(app: &Session, item: &str) -> Result<u64> {
    let selector = format!("[data-e2e=count-{item}]");
    if app.count(&selector)? == 0 {
        return Ok(0);
    }
    Ok(app.text(&selector)?.trim().parse()?)
}

fn drive_on(app: &Session, shots: &Path, data: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;

    // The antenna's coordinator sets the reminder to one minute (this
    // tablet is its coordinator's), from the command line's store API
    // while the app is locked.
    app.click("[data-e2e=lock]")?;
    app.find("[data-e2e=unlock-screen]")?;
    let path = crate::store_under(data)?;
    let mut store =
        maraude_store::Store::open(&path, &maraude_store::Passphrase::new(PASSPHRASE.into()))?;
    store.update_antenna(|a| {
        a.settings.place_reminder_minutes = 1;
        Ok(())
    })?;
    drop(store);
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;

    app.click("[data-e2e=place]")?;
    app.click("[data-e2e=place-dunes-nord]")?;
    app.click("[data-e2e=item-blanket]")?;
    app.wait_for_text_containing("[data-e2e=message]", "Dunes nord")?;
    ensure!(count(app, "blanket")? == 1, "one blanket logged");
    ensure!(app.count("[data-e2e=still-here]")? == 0, "asked at once");

    // A minute on, the next tap asks first, and logs nothing yet.
    std::thread::sleep(Duration::from_secs(62));
    app.click("[data-e2e=item-blanket]")?;
    app.wait_for_text_containing("[data-e2e=still-here]", "Toujours à Dunes nord")?;
    ensure!(count(app, "blanket")? == 1, "logged before the answer");
    app.wait_for_text_containing("[data-e2e=still-waiting]", "+1 Couverture")?;
    app.screenshot(shots, "50-still-here")?;

    // The van is at the lake now: the blanket goes there.
    app.click("[data-e2e=still-change]")?;
    app.click("[data-e2e=place-lac-moulin]")?;
    app.wait_for_text_containing("[data-e2e=message]", "Couverture")?;
    let said = app.text("[data-e2e=message]")?;
    ensure!(
        !said.contains("Dunes nord"),
        "logged at the old place: {said}"
    );
    ensure!(count(app, "blanket")? == 2, "the blanket tapped is logged");
    ensure!(app.count("[data-e2e=still-here]")? == 0, "still asking");

    // Right after, no question: the place was just said.
    app.click("[data-e2e=item-blanket]")?;
    app.wait_until("the third blanket", || {
        Ok((count(app, "blanket")? == 3).then_some(()))
    })?;
    Ok(())
}
