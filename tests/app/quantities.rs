//! The quick log's quantities in the field: every number from 1 to 9, 10
//! and 20 one tap away, any other typed; +4 hot meals is two taps, 45 teas
//! four; a quantity out of bounds is refused before anything is logged.
//! Each of the pad's buttons is at least 64 px on each side, where a
//! gloved finger aims.

use std::path::Path;

use anyhow::{Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "quatre repas et du thé";

/// Where a gloved finger aims: items, quantities, steppers (issue 17).
const GLOVED_PX: f64 = 64.0;

#[test]
fn quantities_are_one_or_two_taps_and_any_other_is_typed() -> Result<()> {
    if !enabled("quantities_are_one_or_two_taps_and_any_other_is_typed") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    tablet.run("quantities", quantities)
}

fn quantities(app: &Session, shots: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;

    // Every quantity of the pad, big enough for gloves.
    let mut pad = Vec::new();
    for n in [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "20", "other",
    ] {
        let button = app.find(&format!("[data-e2e=quantity-{n}]"))?;
        let (w, h) = app.size_of(&button)?;
        pad.push(format!("{n}: {w}×{h}"));
        ensure!(
            w >= GLOVED_PX && h >= GLOVED_PX,
            "quantity {n} is {w}×{h} px, under {GLOVED_PX}"
        );
    }

    // +4 hot meals: two taps.
    app.click("[data-e2e=quantity-4]")?;
    app.click("[data-e2e=item-hot_meal]")?;
    app.wait_for_text("[data-e2e=count-hot_meal]", "4")?;
    // The pad is back at 1 for the next tap.
    let one = app.find("[data-e2e=quantity-1]")?;
    ensure!(
        app.attribute(&one, "aria-pressed")?.as_deref() == Some("true"),
        "the quantity stayed at 4 after the meals"
    );

    // A quantity out of bounds is refused before anything is logged.
    app.click("[data-e2e=quantity-other]")?;
    app.type_into("[data-e2e=quantity-typed]", "2000")?;
    let take = app.find("[data-e2e=quantity-take]")?;
    ensure!(
        app.attribute(&take, "disabled")?.is_some(),
        "2000 teas could be taken"
    );
    app.wait_for_text_containing("[role=alert]", "1 à 1000")?;

    // 45 teas: other, the figure, OK, the item.
    let typed = app.find("[data-e2e=quantity-typed]")?;
    app.clear(&typed)?;
    app.type_into("[data-e2e=quantity-typed]", "45")?;
    app.click("[data-e2e=quantity-take]")?;
    app.wait_for_text("[data-e2e=quantity-other]", "45")?;
    app.screenshot(shots, "46-quantity-pad")?;
    app.click("[data-e2e=item-tea_coffee]")?;
    app.wait_for_text("[data-e2e=count-tea_coffee]", "45")?;
    app.wait_for_text_containing("[data-e2e=message]", "+45")?;
    eprintln!("quantity pad, px: {}", pad.join(", "));
    Ok(())
}
