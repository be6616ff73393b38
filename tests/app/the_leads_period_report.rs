//! A lead prepares the week's meeting: last week's report on the demo
//! antenna, its figures and charts drawn, a table as CSV, a range that
//! ends before it starts refused, in both orientations.

use std::path::Path;

use anyhow::{Context, Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "réunion du lundi au local";

#[test]
fn a_lead_opens_last_weeks_report_and_sees_the_charts() -> Result<()> {
    if !enabled("a_lead_opens_last_weeks_report_and_sees_the_charts") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    let home = tablet.home.path().to_path_buf();
    tablet.run("period", |app, shots| last_week(app, shots, &home))
}

fn number(app: &Session, selector: &str) -> Result<u64> {
    let text = app.text(selector)?;
    text.trim()
        .parse()
        .with_context(|| format!("`{selector}` reads {text:?}"))
}

/// The figures of every cell `selector` names, added up.
fn sum_of(app: &Session, selector: &str) -> Result<u64> {
    let mut sum = 0;
    for cell in app.find_all(selector)? {
        let text = app.text_of(&cell)?;
        sum += text
            .trim()
            .parse::<u64>()
            .with_context(|| format!("`{selector}` reads {text:?}"))?;
    }
    Ok(sum)
}

fn last_week(app: &Session, shots: &Path, home: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "fr")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;

    // The demo season ends yesterday: last week has shifts in it.
    app.click("[data-e2e=nav-period]")?;
    app.find("[data-e2e=period-report]")?;
    app.find("[data-e2e=period-figures]")?;
    let shifts = number(app, "[data-e2e=period-shifts]")?;
    let distributed = number(app, "[data-e2e=period-distributed]")?;
    ensure!(
        shifts > 0 && distributed > 0,
        "last week: {shifts} shifts, {distributed} items"
    );

    // The items table adds up to the figure above it, and so do the
    // weeks' totals.
    let given = sum_of(app, "[data-e2e=period-items] [data-e2e=given]")?;
    ensure!(
        given == distributed,
        "the items table gives {given}, the figure {distributed}"
    );
    let by_week = sum_of(app, "[data-e2e=period-weeks] [data-e2e=week-total]")?;
    ensure!(
        by_week == distributed,
        "the weeks give {by_week}, the figure {distributed}"
    );
    // And what to ask donors for is there, from the vans' last weeks.
    app.wait_until("the needs in the report", || {
        Ok(
            (app.count("[data-e2e=period-needs] [data-e2e=needs] tr[data-item]")? > 0
                || app.count("[data-e2e=period-needs] [data-e2e=needs-none]")? > 0)
                .then_some(()),
        )
    })?;

    // Every chart with something to draw is drawn: a week has 7 days, so
    // last week is one or two weeks on the time axis.
    for chart in ["chart-items", "chart-people", "chart-places"] {
        let canvas = app.find(&format!("[data-e2e={chart}]"))?;
        let drawn = app
            .wait_until(&format!("{chart} drawn"), || {
                Ok(app
                    .attribute(&canvas, "data-drawn")?
                    .and_then(|d| d.parse::<u32>().ok())
                    .filter(|d| *d > 0))
            })
            .with_context(|| format!("{chart} not drawn"))?;
        ensure!(drawn > 0, "{chart}: nothing drawn");
    }
    let weeks = app.attribute(&app.find("[data-e2e=chart-items]")?, "data-points")?;
    ensure!(
        matches!(weeks.as_deref(), Some("1" | "2")),
        "last week spans {weeks:?} weeks on the chart"
    );
    app.screenshot(shots, "40-period-report-last-week")?;

    // This year: more weeks, as many as the year has had.
    app.click("[data-e2e=period-this_year]")?;
    app.wait_until("the year's weeks on the chart", || {
        let points = app.attribute(&app.find("[data-e2e=chart-items]")?, "data-points")?;
        Ok(points
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|p| *p > 2))
    })?;
    // Scrolled to the charts (a tap on one shows its figures).
    app.click("[data-e2e=chart-people]")?;
    app.screenshot(shots, "41-period-report-this-year-charts")?;

    // A table as CSV, in Downloads: counts and no one's name.
    app.click("[data-e2e=csv-items]")?;
    app.wait_for_text_containing("[data-e2e=period-status]", ".csv")?;
    let downloads = home.join("Downloads");
    let csv = std::fs::read_dir(&downloads)
        .with_context(|| format!("no {}", downloads.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("-items.csv"))
        .context("no items CSV in Downloads")?;
    let csv = std::fs::read_to_string(csv)?;
    ensure!(
        csv.starts_with("item,label,distributed"),
        "the items CSV starts {:?}",
        csv.lines().next()
    );

    // A range typed backwards is refused with what to do.
    let from = app.find("[data-e2e=period-from]")?;
    app.clear(&from)?;
    app.type_into("[data-e2e=period-from]", "2026-11-30")?;
    let to = app.find("[data-e2e=period-to]")?;
    app.clear(&to)?;
    app.type_into("[data-e2e=period-to]", "2026-11-01")?;
    app.click("[data-e2e=period-show]")?;
    app.wait_for_text_containing("[data-e2e=period-error]", "inversez")?;

    // On a tablet held upright.
    app.click("[data-e2e=period-last_week]")?;
    app.resize(800, 1280)?;
    app.find("[data-e2e=chart-items]")?;
    app.screenshot(shots, "42-period-report-portrait")?;

    // The weeks as CSV, every item a column.
    app.resize(1280, 800)?;
    app.click("[data-e2e=csv-weeks]")?;
    app.wait_for_text_containing("[data-e2e=period-status]", "-weeks.csv")?;
    let weeks = std::fs::read_dir(&downloads)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with("-weeks.csv"))
        .context("no weeks CSV in Downloads")?;
    let weeks = std::fs::read_to_string(weeks)?;
    let head = weeks.lines().next().unwrap_or_default();
    ensure!(
        head.starts_with("week,monday,distributed") && head.contains("blanket"),
        "the weeks CSV starts {head:?}"
    );
    Ok(())
}

/// A lead looks for the nights of past months: the tablet keeps only their
/// figures once the server holds them, and the period report says so, and
/// where the detail is, beside figures that still add up; a coordinator
/// asks for one's detail back (it comes at the next sync with the server:
/// `tests/sync/old_shifts.rs`).
#[test]
fn a_lead_is_told_which_shifts_are_kept_as_figures_only() -> Result<()> {
    if !enabled("a_lead_is_told_which_shifts_are_kept_as_figures_only") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    let data = tablet.data();
    tablet.run("figures-only", |app, shots| figures_only(app, shots, &data))
}

/// The year's report, once it is drawn (the week's comes first).
fn this_year(app: &Session) -> Result<()> {
    app.click("[data-e2e=period-this_year]")?;
    app.wait_for_text_containing("[data-e2e=period-range]", "January")?;
    app.find("[data-e2e=period-figures]")?;
    Ok(())
}

fn figures_only(app: &Session, shots: &Path, data: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    crate::language(app, "en")?;
    day_mode(app)?;
    crate::demo_night(app, PASSPHRASE)?;
    app.click("[data-e2e=nav-period]")?;
    this_year(app)?;
    let distributed = number(app, "[data-e2e=period-distributed]")?;
    ensure!(
        app.count("[data-e2e=period-figures-only]")? == 0,
        "nothing is figures only yet"
    );

    // Locked, the tablet syncs as it would a month on: the server holds
    // every document (what its acknowledgements record), and the shifts
    // older than four weeks leave it but for their figures.
    app.click("[data-e2e=lock]")?;
    app.find("[data-e2e=unlock-screen]")?;
    let path = crate::store_under(data)?;
    let mut store =
        maraude_store::Store::open(&path, &maraude_store::Passphrase::new(PASSPHRASE.into()))?;
    const SERVER: &str = "server-e2e";
    let mut shared = Vec::new();
    for doc in store.changed_for(SERVER)? {
        let heads = store.recorded_heads(&doc)?.unwrap_or_default();
        shared.push((doc, heads));
    }
    store.mark_shared(SERVER, &shared)?;
    let month_on = chrono::Utc::now() + chrono::Duration::days(30);
    let kept = store.minimise(month_on, SERVER)?;
    ensure!(kept.shifts > 0, "{kept:?}");
    drop(store);

    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    app.click("[data-e2e=nav-period]")?;
    this_year(app)?;
    let said = app.wait_for_text_containing(
        "[data-e2e=period-figures-only]",
        &format!("{} of these shifts", kept.shifts),
    )?;
    ensure!(said.contains("server keeps their detail"), "{said}");
    // Which ones; this tablet is its antenna's coordinator, so it may ask
    // the server for one's detail back.
    app.click("[data-e2e=figures-only-list]")?;
    let listed = app.count("[data-e2e=period-figures-only] li")?;
    ensure!(listed == kept.shifts, "{listed} listed of {}", kept.shifts);
    app.click("[data-e2e=bring-back]")?;
    app.wait_for_text_containing("[data-e2e=detail-asked]", "next sync")?;
    ensure!(
        app.count("[data-e2e=bring-back]")? == listed - 1,
        "one shift asked for"
    );
    let after = number(app, "[data-e2e=period-distributed]")?;
    ensure!(
        after == distributed,
        "the year's figure was {distributed}, now {after}"
    );
    app.screenshot(shots, "47-period-figures-only")?;
    Ok(())
}
