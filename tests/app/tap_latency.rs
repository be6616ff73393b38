//! A benchmark, not a test (`#[ignore]`, run by `scripts/bench-app.sh`): how
//! long a tap on an item takes to show the new count, in the real window.
//!
//! Measured from outside, through WebDriver: the time from sending the
//! click to reading the new count includes WebDriver's own round trips, so
//! it is an upper bound. Beside it, in the same run, a bare WebDriver round
//! trip (reading a text) gives the share that is the harness, not the app.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::webdriver::Session;
use crate::{FreshTablet, enabled};

const PASSPHRASE: &str = "lanterne du canal 2026";
const TAPS: usize = 100;

#[test]
#[ignore = "a benchmark: scripts/bench-app.sh"]
fn tap_latency() -> Result<()> {
    if !enabled("tap_latency") {
        return Ok(());
    }
    let tablet = FreshTablet::start(&[])?;
    tablet.run("tap-latency", |app, _| measure(app))
}

fn measure(app: &Session) -> Result<()> {
    app.resize(1280, 800)?;
    crate::demo_night(app, PASSPHRASE)?;

    let mut taps = Vec::with_capacity(TAPS);
    for n in 1..=TAPS {
        let expected = n.to_string();
        let start = Instant::now();
        app.click("[data-e2e=item-blanket]")?;
        loop {
            let shown = app.count("[data-e2e=count-blanket]")? > 0
                && app.text("[data-e2e=count-blanket]")?.trim() == expected;
            if shown {
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                bail!("tap {n}: the count never showed {expected}");
            }
        }
        taps.push(start.elapsed());
    }

    let mut round_trips = Vec::with_capacity(TAPS);
    for _ in 0..TAPS {
        let start = Instant::now();
        app.text("[data-e2e=count-blanket]")?;
        round_trips.push(start.elapsed());
    }

    let (tap50, tap95) = percentiles(&mut taps);
    let (rt50, rt95) = percentiles(&mut round_trips);
    println!(
        "tap on an item → new count on screen, {TAPS} taps on a demo antenna (shift growing to {TAPS} entries):"
    );
    println!("  median {tap50:.1} ms, p95 {tap95:.1} ms");
    println!(
        "one bare WebDriver round trip (reading a text): median {rt50:.1} ms, p95 {rt95:.1} ms"
    );
    println!(
        "tap / round trip: {:.1}× at the median (a tap costs a click, then at least two reads)",
        tap50 / rt50
    );
    Ok(())
}

/// Median and 95th percentile, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() - 1) as f64 * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.95))
}
