//! Quick unlock in the cold: a PIN set in Settings (with the passphrase),
//! the idle lock with a form half filled, unlocked with the PIN and the form
//! intact; then wrong PINs counted down until the PIN is cleared and the
//! passphrase is asked. The PIN's secret is in a real Secret Service
//! (gnome-keyring, started by scripts/with-keystore.sh).

use std::path::Path;

use anyhow::{Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "thé chaud au parking des dunes";
const PIN: &str = "480317";
const WRONG: &str = "111111";
const TYPED: &str = "Deux tentes lacérées près du canal 9152";

#[test]
fn a_pin_unlocks_after_the_idle_lock_and_wrong_pins_fall_back_to_the_passphrase() -> Result<()> {
    if !enabled("a_pin_unlocks_after_the_idle_lock_and_wrong_pins_fall_back_to_the_passphrase") {
        return Ok(());
    }
    ensure!(
        std::env::var_os("MARAUDE_KEYSTORE_TEST").is_some(),
        "no Secret Service for the PIN's secret: run this under scripts/with-keystore.sh (scripts/e2e.sh does)"
    );
    let _window = one_window_at_a_time();
    // Locked after 20 s untouched: long enough that creating the demo
    // antenna on a loaded CI machine does not lock the app before the test
    // has set its PIN.
    let tablet = FreshTablet::start(&[("MARAUDE_IDLE_LOCK_SECONDS", Path::new("20"))])?;
    let home = tablet.home.path().to_path_buf();
    tablet.run("pin", |app, shots| pin_in_the_cold(app, shots, &home))
}

fn pin_in_the_cold(app: &Session, shots: &Path, home: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "en")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;

    // Set in Settings, with the passphrase asked again.
    app.click("[data-e2e=nav-settings]")?;
    app.type_into("[data-e2e=pin-passphrase]", PASSPHRASE)?;
    app.type_into("[data-e2e=new-pin]", PIN)?;
    app.type_into("[data-e2e=new-pin-again]", PIN)?;
    app.click("[data-e2e=set-pin]")?;
    app.find("[data-e2e=pin-is-set]")?;
    app.screenshot(shots, "31-pin-set")?;

    // An incident half written when the tablet locks by itself.
    app.click("[data-e2e=nav-quick_log]")?;
    app.click("[data-e2e=open-incident]")?;
    app.click("[data-e2e=incident-eviction]")?;
    app.type_into("[data-e2e=form-text]", TYPED)?;
    app.find("[data-e2e=pin-pad]")?;
    let in_clear = crate::nothing_lost_at_the_lock::files_holding(home, PIN.as_bytes())?;
    ensure!(
        in_clear.is_empty(),
        "the PIN in clear on the tablet: {in_clear:?}"
    );

    // One wrong PIN: the tries left are said.
    app.type_into("[data-e2e=pin]", WRONG)?;
    app.click("[data-e2e=pin-submit]")?;
    app.wait_for_text_containing("[data-e2e=pin-wrong]", "4 tries left")?;
    app.screenshot(shots, "32-pin-wrong")?;

    // The right one, with the keys on screen: the form is back.
    for digit in PIN.chars() {
        app.click(&format!("[data-e2e=pin-key-{digit}]"))?;
    }
    app.click("[data-e2e=pin-submit]")?;
    app.find("[data-e2e=form-incident]")?;
    let facts = app.property(&app.find("[data-e2e=form-text]")?, "value")?;
    ensure!(
        facts.as_deref() == Some(TYPED),
        "after the PIN the facts read {facts:?}"
    );
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=message]", "Incident")?;

    // Locked again: five wrong PINs, and the PIN is cleared.
    app.click("[data-e2e=lock]")?;
    for left in (1..5).rev() {
        app.type_into("[data-e2e=pin]", WRONG)?;
        app.click("[data-e2e=pin-submit]")?;
        let plural = if left == 1 { "try" } else { "tries" };
        app.wait_for_text_containing("[data-e2e=pin-wrong]", &format!("{left} {plural} left"))?;
    }
    app.type_into("[data-e2e=pin]", WRONG)?;
    app.click("[data-e2e=pin-submit]")?;
    app.wait_for_text_containing("[data-e2e=pin-gone]", "Too many wrong PINs")?;
    app.screenshot(shots, "33-pin-cleared")?;
    ensure!(
        app.count("[data-e2e=pin-pad]")? == 0,
        "the PIN pad is still offered"
    );

    // The passphrase opens it; Settings offers a new PIN.
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    app.click("[data-e2e=nav-settings]")?;
    app.find("[data-e2e=set-pin]")?;
    Ok(())
}
