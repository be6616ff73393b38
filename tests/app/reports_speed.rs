//! A benchmark, not a test (`#[ignore]`, run by `scripts/bench-app.sh`): the
//! lead's screens on a demo year (1,000 shifts, ~100,000 entries) in the
//! real window. Each screen times itself, from the tap to its last chart
//! or table drawn (`data-drawn-ms`, `data-shown-ms`, `performance.now()`
//! in the page); beside it, the same from outside through WebDriver, an
//! upper bound that includes the harness's round trips.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, enabled};

const PASSPHRASE: &str = "une année de maraudes à Calais";
const ROUNDS: usize = 5;

#[test]
#[ignore = "a benchmark: scripts/bench-app.sh"]
fn reports_speed() -> Result<()> {
    if !enabled("reports_speed") {
        return Ok(());
    }
    let tablet = FreshTablet::start(&[])?;
    let store = tablet.data().join("fr.maraude.field/antenna.maraude");
    std::fs::create_dir_all(store.parent().context("a folder")?)?;
    let demo = |args: &[&str]| -> Result<()> {
        let out = std::process::Command::new(maraude_tests::tablet::maraude_bin())
            .arg("--store")
            .arg(&store)
            .args(args)
            .env("MARAUDE_PASSPHRASE", PASSPHRASE)
            .env("MARAUDE_VOLUNTEER", "Sam")
            .output()?;
        ensure!(
            out.status.success(),
            "maraude {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    demo(&["demo", "--shifts", "1000"])?;
    // A year of weekly donations (dated today: movements take the clock's
    // time), so that the warehouse has a stock to show.
    for week in 0..52 {
        let item = ["blanket", "sleeping_bag", "socks", "tent"][week % 4];
        demo(&["stock", "receive", item, "50", "--from", "collecte"])?;
    }
    tablet.run("reports-speed", |app, _| measure(app, &store))
}

fn wait_for_ms(app: &Session, selector: &str, attribute: &str) -> Result<f64> {
    app.wait_until(&format!("{selector} timed"), || {
        let element = app.find(selector)?;
        Ok(app
            .attribute(&element, attribute)?
            .and_then(|v| v.parse::<f64>().ok()))
    })
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn measure(app: &Session, _store: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    app.find("[data-e2e=nav-period]")?;
    app.click("[data-e2e=nav-period]")?;
    wait_for_ms(app, "[data-e2e=period-report]", "data-drawn-ms")?;

    let (mut year_in, mut year_out, mut week_in) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        app.click("[data-e2e=period-this_year]")?;
        let ms = wait_for_ms(app, "[data-e2e=period-report]", "data-drawn-ms")?;
        year_out.push(start.elapsed().as_secs_f64() * 1000.0);
        year_in.push(ms);
        app.click("[data-e2e=period-last_week]")?;
        week_in.push(wait_for_ms(
            app,
            "[data-e2e=period-report]",
            "data-drawn-ms",
        )?);
    }
    let points = app.attribute(&app.find("[data-e2e=chart-items]")?, "data-points")?;

    app.click("[data-e2e=nav-warehouse]")?;
    let first = wait_for_ms(app, "[data-e2e=warehouse]", "data-shown-ms")?;
    let mut needs_in = Vec::new();
    for round in 0..ROUNDS {
        let days = [30, 7][round % 2];
        app.click(&format!("[data-e2e=needs-{days}]"))?;
        needs_in.push(wait_for_ms(app, "[data-e2e=warehouse]", "data-shown-ms")?);
    }
    std::thread::sleep(Duration::from_millis(10));

    println!("the lead's screens on a demo year (1,000 shifts), {ROUNDS} rounds, medians:");
    println!(
        "  period report, this year (tap → last chart drawn, in the page): {:.1} ms; from outside through WebDriver: {:.1} ms",
        median(&mut year_in),
        median(&mut year_out)
    );
    println!(
        "  period report, last week (in the page): {:.1} ms",
        median(&mut week_in)
    );
    println!("  (last week's chart: {points:?} week(s) after the last switch)");
    println!(
        "  warehouse screen, opened (stock and needs, in the page): {first:.1} ms; needs list for another span: {:.1} ms",
        median(&mut needs_in)
    );
    Ok(())
}
