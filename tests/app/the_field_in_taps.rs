//! The field's most common actions, counted in taps in the real window,
//! landscape then portrait: each action's taps (clicks; typing is said
//! apart) against what the README promises. The table it prints is the
//! README's "Taps" table.
//!
//! On the way: "Other" asks what was given and the night report shows it;
//! the timeline filters by kind and shows an entry's history in words.

use std::path::Path;

use anyhow::{Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "douze personnes au pont";

#[test]
fn the_fields_actions_take_few_taps() -> Result<()> {
    if !enabled("the_fields_actions_take_few_taps") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let mut table = Vec::new();
    for (width, height) in [(1280, 800), (800, 1280)] {
        let tablet = FreshTablet::start(&[])?;
        let mut counted = Vec::new();
        tablet.run("taps", |app, shots| {
            app.resize(width, height)?;
            crate::language(app, "fr")?;
            day_mode(app)?;
            crate::demo_night_with(app, PASSPHRASE, "Jo, Sam")?;
            counted = actions(app, shots, width > height)?;
            Ok(())
        })?;
        table.push(((width, height), counted));
    }
    eprintln!("| action | landscape | portrait | at most |");
    eprintln!("|---|---|---|---|");
    let (landscape, portrait) = (&table[0].1, &table[1].1);
    for (l, p) in landscape.iter().zip(portrait) {
        eprintln!("| {} | {} | {} | {} |", l.action, l.taps, p.taps, l.most);
    }
    Ok(())
}

struct Counted {
    action: &'static str,
    taps: usize,
    most: usize,
}

/// Runs `steps` and counts its taps; fails when they pass `most`.
fn counted(
    app: &Session,
    out: &mut Vec<Counted>,
    action: &'static str,
    most: usize,
    steps: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let before = app.taps();
    steps()?;
    let taps = app.taps() - before;
    ensure!(
        taps <= most,
        "{action}: {taps} taps, more than the {most} promised"
    );
    out.push(Counted { action, taps, most });
    Ok(())
}

fn actions(app: &Session, shots: &Path, landscape: bool) -> Result<Vec<Counted>> {
    let mut out = Vec::new();
    counted(app, &mut out, "+1 blanket", 1, || {
        app.click("[data-e2e=item-blanket]")?;
        app.wait_for_text("[data-e2e=count-blanket]", "1")
    })?;
    counted(app, &mut out, "+4 hot meals", 2, || {
        app.click("[data-e2e=quantity-4]")?;
        app.click("[data-e2e=item-hot_meal]")?;
        app.wait_for_text("[data-e2e=count-hot_meal]", "4")
    })?;
    counted(
        app,
        &mut out,
        "a headcount of 12, 3 of them vulnerable",
        7,
        || {
            app.click("[data-e2e=open-headcount]")?;
            app.click("[data-e2e=form-people-plus10]")?;
            app.click("[data-e2e=form-people-plus]")?;
            app.click_times("[data-e2e=form-vulnerable-plus]", 3)?;
            app.click("[data-e2e=form-save]")?;
            app.wait_for_text_containing("[data-e2e=message]", "12")?;
            Ok(())
        },
    )?;
    counted(
        app,
        &mut out,
        "an arrival of 4 (3 men, 1 woman)",
        10,
        || {
            app.click("[data-e2e=open-arrival]")?;
            app.click_times("[data-e2e=form-people-plus]", 3)?;
            app.click("[data-e2e=breakdown]")?;
            app.click_times("[data-e2e=form-men-plus]", 3)?;
            app.click("[data-e2e=form-women-plus]")?;
            app.click("[data-e2e=form-save]")?;
            app.wait_for_text_containing("[data-e2e=message]", "4")?;
            Ok(())
        },
    )?;
    // "Other" asks what it was; the words come with it everywhere.
    counted(app, &mut out, "+1 other, a torch (typed)", 2, || {
        app.click("[data-e2e=item-other]")?;
        app.find("[data-e2e=other-form]")?;
        let take = app.find("[data-e2e=other-take]")?;
        ensure!(
            app.attribute(&take, "disabled")?.is_some(),
            "\"other\" could be logged without saying what"
        );
        app.type_into("[data-e2e=other-what]", "lampe torche")?;
        app.click("[data-e2e=other-take]")?;
        app.wait_for_text_containing("[data-e2e=message]", "lampe torche")?;
        Ok(())
    })?;
    if landscape {
        app.screenshot(shots, "51-other-said")?;
    }
    counted(app, &mut out, "a correction (1 blanket was 2)", 5, || {
        app.click("[data-e2e=nav-timeline]")?;
        app.click("[data-e2e=entry][data-item=blanket] button.row")?;
        app.click("[data-e2e=correct]")?;
        app.click("[data-e2e=form-quantity-plus]")?;
        app.click("[data-e2e=form-save]")?;
        app.wait_for_text_containing("[data-e2e=timeline-status]", "Corrigé")?;
        Ok(())
    })?;
    // Its history, in words.
    app.click("[data-e2e=entry][data-item=blanket] button.row")?;
    app.click("[data-e2e=history]")?;
    app.wait_for_text_containing("[data-e2e=entry-history]", "Quantité : 1 → 2")?;
    // Only the distributions: the blanket, the meals and the torch.
    app.click("[data-e2e=filter-kind] option[value=distribution]")?;
    app.wait_for_text_containing("[data-e2e=filter-count]", "3 saisies sur 5")?;
    ensure!(
        app.count("[data-e2e=entry]")? == 3,
        "the filter kept {} rows",
        app.count("[data-e2e=entry]")?
    );
    if landscape {
        app.screenshot(shots, "52-timeline-history-filter")?;
    }
    app.click("[data-e2e=filter-clear]")?;
    app.wait_until("every entry back", || {
        Ok((app.count("[data-e2e=entry]")? == 5).then_some(()))
    })?;

    counted(app, &mut out, "the tablet handed to Sam", 2, || {
        app.click("[data-e2e=logging-as]")?;
        app.click("[data-e2e=hand-to-Sam]")?;
        app.wait_for_attribute("[data-e2e=logging-as]", "aria-label", "Saisie par Sam")
    })?;
    // The night report says what "other" was.
    app.click("[data-e2e=nav-report]")?;
    app.wait_for_text_containing(
        "[data-e2e=distributions] tr[data-item=other] [data-e2e=other-what]",
        "lampe torche",
    )?;
    counted(app, &mut out, "ending the shift", 3, || {
        app.click("[data-e2e=nav-shift]")?;
        app.click("[data-e2e=go-end-shift]")?;
        app.click("[data-e2e=end]")?;
        app.wait_until("the shift ended", || {
            Ok((app.count("[data-e2e=nav-quick_log]")? == 0).then_some(()))
        })
    })?;
    Ok(out)
}
