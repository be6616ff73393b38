//! The idle lock in the cold loses nothing: a form half filled, the screen
//! and the place come back after unlocking, and none of it was ever in the
//! webview's own storage (nor anywhere else in clear) on the tablet.

use std::path::Path;

use anyhow::{Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "brasero sous la pluie fine";
/// What the volunteer was typing when the tablet locked.
const TYPED: &str = "Tentes saisies au bois Zeta vers 7 h 4471";

#[test]
fn a_form_half_filled_survives_the_idle_lock() -> Result<()> {
    if !enabled("a_form_half_filled_survives_the_idle_lock") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    // Locked after 20 s untouched, not 10 minutes (and not so soon that
    // creating the demo antenna on a loaded machine locks it first).
    let tablet = FreshTablet::start(&[("MARAUDE_IDLE_LOCK_SECONDS", Path::new("20"))])?;
    let home = tablet.home.path().to_path_buf();
    tablet.run("lock", |app, shots| locked_and_back(app, shots, &home))
}

fn locked_and_back(app: &Session, shots: &Path, home: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;
    app.click("[data-e2e=place]")?;
    app.click("[data-e2e=place-dunes-nord]")?;
    app.wait_for_text("[data-e2e=place]", "Dunes nord")?;

    // An incident half written: its type, and its facts being typed.
    app.click("[data-e2e=open-incident]")?;
    app.click("[data-e2e=incident-eviction]")?;
    app.type_into("[data-e2e=form-text]", TYPED)?;

    // Untouched, the tablet locks by itself.
    app.find("[data-e2e=unlock-screen]")?;
    // Neither what was typed nor where the team was (the sticky place, once
    // in the webview's storage) is in clear anywhere on the tablet.
    for needle in [TYPED, "dunes-nord"] {
        let found = files_holding(home, needle.as_bytes())?;
        ensure!(
            found.is_empty(),
            "{needle:?} in clear on the tablet: {found:?}"
        );
    }

    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    app.find("[data-e2e=form-incident]")?;
    let facts = app.property(&app.find("[data-e2e=form-text]")?, "value")?;
    ensure!(
        facts.as_deref() == Some(TYPED),
        "after unlocking the facts read {facts:?}"
    );
    app.wait_for_text("[data-e2e=place]", "Dunes nord")?;
    app.screenshot(shots, "29-form-back-after-the-lock")?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=message]", "Incident")?;
    Ok(())
}

/// The files under `dir` whose bytes hold `needle`.
pub(crate) fn files_holding(dir: &Path, needle: &[u8]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                found.push(path.display().to_string());
            }
        }
    }
    Ok(found)
}
