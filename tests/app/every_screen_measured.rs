//! Every screen, landscape and portrait, measured as a gloved hand and a
//! screen reader meet it: each visible control at least 10 mm on a 10-inch
//! tablet (60 CSS px at 1280×800), 64 px where a gloved finger aims (items,
//! quantities, steppers); and axe-core's audit (WCAG 2.1 A and AA, and
//! its best practices) with no serious or critical violation.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, one_window_at_a_time};

const PASSPHRASE: &str = "des gants et du froid";

/// 10 mm on a 10-inch tablet of 1280×800 CSS px (151 px per inch).
const TEN_MM_PX: f64 = 59.5;
/// Where a gloved finger aims (issue 17).
const GLOVED_PX: f64 = 64.0;

#[test]
fn every_screen_is_big_enough_for_gloves_and_named_for_screen_readers() -> Result<()> {
    if !enabled("every_screen_is_big_enough_for_gloves_and_named_for_screen_readers") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    tablet.run("measured", |app, _shots| {
        app.resize(1280, 800)?;
        crate::language(app, "fr")?;
        day_mode(app)?;
        let mut faults = Vec::new();
        check(app, "unlock: first start", &mut faults)?;
        crate::demo_night(app, PASSPHRASE)?;
        for (width, height) in [(1280, 800), (800, 1280)] {
            app.resize(width, height)?;
            let at = if width > height {
                "landscape"
            } else {
                "portrait"
            };
            walk(app, at, &mut faults)?;
        }
        if !faults.is_empty() {
            bail!("{} faults:\n{}", faults.len(), faults.join("\n"));
        }
        Ok(())
    })
}

/// Each screen a team uses in a night, and the lead's.
fn walk(app: &Session, at: &str, faults: &mut Vec<String>) -> Result<()> {
    let mut screen = |name: &str, steps: &[&str]| -> Result<()> {
        for step in steps {
            app.click(step)?;
        }
        // Let the screen settle (the quick log's counts, the charts).
        std::thread::sleep(std::time::Duration::from_millis(700));
        check(app, &format!("{at}: {name}"), faults)
    };
    screen("quick log", &["[data-e2e=nav-quick_log]"])?;
    screen("who is logging", &["[data-e2e=logging-as]"])?;
    app.click("[data-e2e=logging-as]")?;
    screen("language", &["[data-e2e=language]"])?;
    app.click("[data-e2e=language]")?;
    for kind in [
        "note",
        "headcount",
        "arrival",
        "shelter_request",
        "referral",
        "incident",
    ] {
        screen(
            &format!("form: {kind}"),
            &[
                "[data-e2e=nav-quick_log]",
                &format!("[data-e2e=open-{kind}]"),
            ],
        )?;
        // The note's Cancel, clicked through WebKit's driver, is lost: the
        // events show the press on the button and the release on its bar,
        // the click landing on the button's very edge (the same with a
        // real X click there: it is where the driver aims that is off, not
        // the button). Clicked in the page, it closes the note; the five
        // other forms close with the driver's click.
        app.execute(
            "document.querySelector('[data-e2e=form-cancel]').click(); return null;",
            json!([]),
        )?;
        app.wait_until("the form closed", || {
            Ok((app.count("[data-e2e=form-cancel]")? == 0).then_some(()))
        })?;
    }
    screen(
        "quick log: the place picker",
        &["[data-e2e=nav-quick_log]", "[data-e2e=place]"],
    )?;
    app.click("[data-e2e=place-dunes-nord]")?;
    app.click("[data-e2e=item-blanket]")?;
    screen(
        "quick log: other, what?",
        &["[data-e2e=nav-quick_log]", "[data-e2e=item-other]"],
    )?;
    screen(
        "timeline: an entry's actions",
        &[
            "[data-e2e=nav-timeline]",
            "[data-e2e=entry][data-item=blanket] button.row",
        ],
    )?;
    screen("timeline: history", &["[data-e2e=history]"])?;
    screen("night report", &["[data-e2e=nav-report]"])?;
    screen("follow-ups", &["[data-e2e=nav-follow_ups]"])?;
    screen("period report", &["[data-e2e=nav-period]"])?;
    screen("warehouse", &["[data-e2e=nav-warehouse]"])?;
    screen("settings", &["[data-e2e=nav-settings]"])?;
    screen("lists", &["[data-e2e=open-lists]"])?;
    screen(
        "end of shift",
        &["[data-e2e=nav-shift]", "[data-e2e=go-end-shift]"],
    )?;
    screen("home", &["[data-e2e=nav-shift]"])?;
    Ok(())
}

/// The axe-core build the UI's packages hold (`ui/node_modules`).
fn axe_source() -> Result<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .with_context(|| format!("{} (run npm ci in ui/)", path.display()))
}

/// Every visible control under its size, in words: what it is and its size.
const MEASURE: &str = r#"
const [least, gloved] = arguments;
const seen = new Set();
const out = [];
for (const el of document.querySelectorAll('button, a[href], input, select, textarea, summary, [role=button]')) {
  // A checkbox is tapped through its label.
  const target = el.matches('input[type=checkbox], input[type=radio]') ? (el.closest('label') ?? el) : el;
  if (seen.has(target)) continue;
  seen.add(target);
  const r = target.getBoundingClientRect();
  const style = getComputedStyle(target);
  // Hidden, or off screen for a copy fallback: nobody taps it.
  if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
  if (r.right <= 0 || r.bottom <= 0 || target.closest('[aria-hidden=true]')) continue;
  const aimed = target.matches('[data-e2e^=item-], [data-e2e^=quantity-], .stepper button');
  const min = aimed ? gloved : least;
  if (r.width < min || r.height < min) {
    const name = target.getAttribute('data-e2e') ?? target.getAttribute('aria-label') ?? target.textContent.trim().slice(0, 40);
    out.push(`${target.tagName.toLowerCase()} "${name}" ${Math.round(r.width)}×${Math.round(r.height)} px, under ${min}`);
  }
}
return out;
"#;

/// axe-core's audit, serious and critical violations only, one line each.
const AUDIT: &str = r#"
const done = arguments[arguments.length - 1];
axe
  .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
  .then((r) =>
    done(
      r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`),
    ),
  )
  .catch((e) => done([`axe failed: ${e}`]));
"#;

fn check(app: &Session, screen: &str, faults: &mut Vec<String>) -> Result<()> {
    let small = app.execute(MEASURE, json!([TEN_MM_PX, GLOVED_PX]))?;
    let loaded = app.execute("return typeof axe !== 'undefined';", json!([]))?;
    if loaded != Value::Bool(true) {
        app.execute(&format!("{}\nreturn true;", axe_source()?), json!([]))?;
    }
    let violations = app.execute_async(AUDIT, json!([]))?;
    let mut found = 0;
    for line in small
        .as_array()
        .into_iter()
        .flatten()
        .chain(violations.as_array().into_iter().flatten())
    {
        let fault = format!("{screen}: {}", line.as_str().unwrap_or_default());
        eprintln!("{fault}");
        faults.push(fault);
        found += 1;
    }
    eprintln!("{screen}: measured and audited, {found} faults");
    Ok(())
}
