//! The coordinator keeps the antenna's lists in the app: a place added,
//! renamed, another retired (a camp dismantled); an item added with its
//! sizes and moved up the quick log, another retired; a lead named. The
//! quick log offers what the lists now say, at once.

use std::path::Path;

use anyhow::{Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "listes du hangar et des dunes";

#[test]
fn the_coordinator_changes_places_items_and_volunteers_in_the_app() -> Result<()> {
    if !enabled("the_coordinator_changes_places_items_and_volunteers_in_the_app") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    tablet.run("lists", lists)
}

fn row(list: &str, id: &str) -> String {
    format!("[data-e2e=lists-{list}][data-id=\"{id}\"]")
}

fn retired(app: &Session, list: &str, id: &str) -> Result<bool> {
    let class = app.attribute(&app.find(&row(list, id))?, "class")?;
    Ok(class.unwrap_or_default().split(' ').any(|c| c == "retired"))
}

/// The ids of a list's rows, in the order shown.
fn ids(app: &Session, list: &str) -> Result<Vec<String>> {
    app.find_all(&format!("[data-e2e=lists-{list}]"))?
        .iter()
        .map(|e| Ok(app.attribute(e, "data-id")?.unwrap_or_default()))
        .collect()
}

fn lists(app: &Session, shots: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;
    app.click("[data-e2e=nav-settings]")?;
    app.click("[data-e2e=open-lists]")?;
    app.find("[data-e2e=lists]")?;

    // A place: added, then renamed; a dismantled camp retired.
    app.type_into("[data-e2e=lists-place-name]", "Parking Lidl")?;
    app.click("[data-e2e=lists-place-kind] option[value=distribution_point]")?;
    app.click("[data-e2e=lists-place-add]")?;
    app.find(&row("place", "parking-lidl"))?;
    app.click(&format!(
        "{} [data-e2e=lists-place-rename]",
        row("place", "parking-lidl")
    ))?;
    let name = app.find("[data-e2e=lists-rename-name]")?;
    app.clear(&name)?;
    app.type_into("[data-e2e=lists-rename-name]", "Parking Lidl (nord)")?;
    app.click("[data-e2e=lists-rename-save]")?;
    app.wait_for_text_containing(&row("place", "parking-lidl"), "Parking Lidl (nord)")?;
    app.click(&format!(
        "{} [data-e2e=lists-place-retire]",
        row("place", "lac-moulin")
    ))?;
    app.wait_until("Lac du Moulin retired", || {
        Ok(retired(app, "place", "lac-moulin")?.then_some(()))
    })?;

    // An item without its English label is refused, nothing added.
    let items_before = ids(app, "item")?.len();
    app.type_into("[data-e2e=lists-item-fr]", "Poncho")?;
    app.click("[data-e2e=lists-item-save]")?;
    app.wait_for_text_containing("[data-e2e=lists-error]", "deux libellés")?;
    ensure!(ids(app, "item")?.len() == items_before, "an item was added");
    // With it: added last among the active ones, then moved up one.
    app.type_into("[data-e2e=lists-item-en]", "Rain poncho")?;
    app.type_into("[data-e2e=lists-item-sizes]", "M, L")?;
    app.click("[data-e2e=lists-item-save]")?;
    app.find(&row("item", "rain_poncho"))?;
    let at = |app: &Session| -> Result<usize> {
        ids(app, "item")?
            .iter()
            .position(|i| i == "rain_poncho")
            .ok_or_else(|| anyhow::anyhow!("no rain_poncho in the list"))
    };
    let before = at(app)?;
    app.click(&format!(
        "{} [data-e2e=lists-item-up]",
        row("item", "rain_poncho")
    ))?;
    app.wait_until("the poncho one step up", || {
        Ok((at(app)? + 1 == before).then_some(()))
    })?;
    app.click(&format!(
        "{} [data-e2e=lists-item-retire]",
        row("item", "tent")
    ))?;
    app.wait_until("the tent retired", || {
        Ok(retired(app, "item", "tent")?.then_some(()))
    })?;

    // A lead named.
    app.type_into("[data-e2e=lists-nickname]", "Zara")?;
    app.click("[data-e2e=lists-role] option[value=lead]")?;
    app.click("[data-e2e=lists-volunteer-add]")?;
    app.wait_for_text_containing("[data-e2e=lists-status]", "Enregistré")?;
    let role = app.find(&format!("{} select", row("volunteer", "Zara")))?;
    ensure!(
        app.property(&role, "value")?.as_deref() == Some("lead"),
        "Zara is not shown as a lead"
    );
    app.screenshot(shots, "45-lists")?;

    // The antenna's settings: the place reminder at 30 minutes, as the
    // store answers it (the chip follows the antenna the change returns).
    app.wait_for_attribute("[data-e2e=reminder-20]", "aria-pressed", "true")?;
    app.click("[data-e2e=reminder-30]")?;
    app.wait_for_attribute("[data-e2e=reminder-30]", "aria-pressed", "true")?;
    app.wait_for_attribute("[data-e2e=reminder-20]", "aria-pressed", "false")?;
    app.wait_for_text_containing("[data-e2e=lists-status]", "Enregistré")?;

    // The quick log offers what the lists say, at once.
    app.click("[data-e2e=nav-quick_log]")?;
    app.find("[data-e2e=item-rain_poncho]")?;
    ensure!(
        app.count("[data-e2e=item-tent]")? == 0,
        "a retired item is still offered"
    );
    app.click("[data-e2e=item-rain_poncho]")?;
    app.wait_for_text_containing(".board", "M")?;
    let board = app.text(".board")?;
    ensure!(
        board.contains('L'),
        "the poncho's sizes are not offered: {board}"
    );
    app.click("[data-e2e=place]")?;
    app.wait_for_text_containing("[data-e2e=place-parking-lidl]", "Parking Lidl (nord)")?;
    ensure!(
        app.count("[data-e2e=place-lac-moulin]")? == 0,
        "a retired place is still offered"
    );
    Ok(())
}
