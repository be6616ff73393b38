//! A night on the tablet, from the first start to the lead's report.

use std::path::Path;

use anyhow::{Context, Result, ensure};

use crate::webdriver::Session;
use crate::{FreshTablet, day_mode, enabled, night_mode, one_window_at_a_time};

const PASSPHRASE: &str = "lanterne du canal 2026";

#[test]
fn a_night_on_the_tablet() -> Result<()> {
    if !enabled("a_night_on_the_tablet") {
        return Ok(());
    }
    let _window = one_window_at_a_time();
    let tablet = FreshTablet::start(&[])?;
    tablet.run("night", |app, shots| night(app, shots, tablet.home.path()))
}

fn night(app: &Session, shots: &Path, home: &Path) -> Result<()> {
    app.resize(1280, 800)?;
    // The screenshots are in French and in day mode, whatever the hour.
    crate::language(app, "fr")?;
    day_mode(app)?;

    enrol_with_a_demo_antenna(app, shots)?;
    start_a_shift(app, shots)?;
    quick_log(app, shots)?;
    let incident_time = forms(app, shots)?;
    correct_and_strike_out(app, shots)?;
    review(app, shots, home, &incident_time)?;
    follow_ups(app, shots)?;
    portrait_english_night(app, shots)?;
    end_the_shift(app, shots)?;
    lock_and_unlock(app, shots)?;
    Ok(())
}

/// First start: no antenna yet; try the demo under a new passphrase (a
/// guessable one is refused first, saying why).
fn enrol_with_a_demo_antenna(app: &Session, shots: &Path) -> Result<()> {
    app.find("[data-e2e=choose-demo]")?;
    app.screenshot(shots, "01-first-start")?;
    app.click("[data-e2e=choose-demo]")?;
    app.type_into("[data-e2e=passphrase]", "calais2026")?;
    app.type_into("[data-e2e=passphrase-again]", "calais2026")?;
    app.click("[data-e2e=submit]")?;
    app.wait_for_text_containing("[data-e2e=error]", "trop facile à deviner")?;
    app.screenshot(shots, "01-guessable-passphrase")?;
    for field in ["[data-e2e=passphrase]", "[data-e2e=passphrase-again]"] {
        app.clear(&app.find(field)?)?;
    }
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.type_into("[data-e2e=passphrase-again]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    Ok(())
}

/// No shift open: a night maraude, with 10 blankets loaded in the van.
fn start_a_shift(app: &Session, shots: &Path) -> Result<()> {
    app.find("[data-e2e=start-shift]")?;
    app.click("[data-e2e=kind-night_maraude]")?;
    app.type_into("[data-e2e=lead]", "Mira")?;
    app.type_into("[data-e2e=team]", "Jo, Sam")?;
    app.click("[data-e2e=stock-loaded]")?;
    // The demo's last night maraude loaded blankets: its load is proposed.
    app.find("[data-e2e=load-proposed]")?;
    let proposed = app.find("[data-e2e=loaded-blanket]")?;
    let blankets = app.attribute(&proposed, "value")?.unwrap_or_default();
    ensure!(
        blankets.parse::<u32>().is_ok_and(|n| n > 0),
        "the last night's blankets are proposed, found {blankets:?}"
    );
    // Tonight's van: from zero, 10 blankets in one tap (+10; it was ten
    // taps of +1).
    app.click("[data-e2e=load-clear]")?;
    app.click("[data-e2e=loaded-blanket-plus10]")?;
    let loaded = app.find("[data-e2e=loaded-blanket]")?;
    ensure!(
        app.property(&loaded, "value")?.as_deref() == Some("10"),
        "10 blankets loaded, found {:?}",
        app.property(&loaded, "value")?
    );
    app.screenshot(shots, "02-start-shift")?;
    app.click("[data-e2e=start]")?;
    Ok(())
}

/// At the first living place: +1 blanket three times, one tea, one blanket
/// too many (a double tap) taken back with undo.
fn quick_log(app: &Session, shots: &Path) -> Result<()> {
    // A spot found tonight, added from the place picker: it is where the
    // team is at once, and in the list from then on.
    app.click("[data-e2e=place]")?;
    app.click("[data-e2e=add-place]")?;
    app.type_into("[data-e2e=new-place-name]", "Parking Lidl")?;
    app.screenshot(shots, "35-new-place")?;
    app.click("[data-e2e=new-place-add]")?;
    app.wait_for_text("[data-e2e=place]", "Parking Lidl")?;
    app.click("[data-e2e=place]")?;
    app.find("[data-e2e=place-parking-lidl]")?;
    app.click("[data-e2e=place-dunes-nord]")?;
    app.wait_for_text("[data-e2e=place]", "Dunes nord")?;
    for expected in ["1", "2", "3"] {
        app.click("[data-e2e=item-blanket]")?;
        app.wait_for_text("[data-e2e=count-blanket]", expected)?;
    }
    app.click("[data-e2e=item-tea_coffee]")?;
    app.wait_for_text("[data-e2e=count-tea_coffee]", "1")?;
    app.click("[data-e2e=item-blanket]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "4")?;
    app.click("[data-e2e=undo]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "3")?;
    let said = app.text("[data-e2e=message]")?;
    ensure!(
        said.contains("Annulé") && said.contains("Couverture"),
        "undo said {said:?}"
    );
    app.screenshot(shots, "03-quick-log")?;

    // The tablet handed to Sam: two taps (who logs, then the name), and
    // back to Mira. The bar shows the name; its accessible name says what
    // it is. (WebKit's WebDriver reads this button's text as empty: its
    // textContent is what shows.)
    let logging_as = |name: &str| -> Result<()> {
        let wanted = format!("Saisie par {name}");
        app.wait_until(&format!("the top bar to say {wanted:?}"), || {
            let button = app.find("[data-e2e=logging-as]")?;
            let shown = app.property(&button, "textContent")?.unwrap_or_default();
            let said = app.attribute(&button, "aria-label")?.unwrap_or_default();
            Ok((shown.trim() == name && said == wanted).then_some(()))
        })
    };
    app.click("[data-e2e=logging-as]")?;
    app.click("[data-e2e=hand-to-Sam]")?;
    logging_as("Sam")?;
    ensure!(
        app.count("[data-e2e=who-list]")? == 0,
        "the list of names stays open once one is chosen"
    );
    app.click("[data-e2e=logging-as]")?;
    app.click("[data-e2e=hand-to-Mira]")?;
    logging_as("Mira")?;
    Ok(())
}

/// An arrival of 4 (its breakdown said to add up as it is typed), a
/// shelter request for a household of 3 (refused until the alias is
/// given), an eviction an hour ago that Jo saw. The incident's time, as
/// the tablet read it just before and after the tap (a minute may turn
/// between).
fn forms(app: &Session, shots: &Path) -> Result<[String; 2]> {
    app.click("[data-e2e=open-arrival]")?;
    app.find("[data-e2e=form-arrival]")?;
    app.click_times("[data-e2e=form-people-plus]", 3)?;
    // A breakdown that counts more than the group is said as it is typed,
    // and goes as soon as it adds up.
    app.click("[data-e2e=breakdown]")?;
    app.click_times("[data-e2e=form-men-plus]", 3)?;
    app.click_times("[data-e2e=form-women-plus]", 2)?;
    app.wait_for_text_containing("[data-e2e=breakdown-over]", "5 personnes")?;
    app.wait_for_text_containing("[data-e2e=breakdown]", "5 sur 4")?;
    app.screenshot(shots, "48-breakdown-over")?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=form-error]", "répartition")?;
    app.click("[data-e2e=form-men-minus]")?;
    app.wait_for_text_containing("[data-e2e=breakdown]", "4 sur 4")?;
    ensure!(
        app.count("[data-e2e=breakdown-over]")? == 0 && app.count("[data-e2e=form-error]")? == 0,
        "the warning stays once the breakdown adds up"
    );
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=message]", "4 personnes")?;

    app.click("[data-e2e=open-shelter_request]")?;
    app.find("[data-e2e=form-shelter_request]")?;
    app.click_times("[data-e2e=form-people-plus]", 2)?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text("[data-e2e=form-error]", "Reste à remplir : le surnom.")?;
    app.type_into("[data-e2e=form-alias]", "Amira")?;
    app.screenshot(shots, "04-shelter-request")?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=message]", "Mise à l’abri : 3 personnes")?;

    app.click("[data-e2e=open-incident]")?;
    app.click("[data-e2e=incident-eviction]")?;
    app.click_times("[data-e2e=form-people-plus]", 6)?;
    app.type_into("[data-e2e=form-text]", "Tentes lacérées au petit matin")?;
    // Jo saw it. A time long before the shift started is refused, saying
    // why; an hour ago, one tap, is taken.
    app.click("[data-e2e=witness-Jo]")?;
    // Three hours ago: the shift was started minutes ago, and an entry may
    // be at most two hours before its start. ("00:01" was that, except
    // in the two hours after midnight.)
    let long_before =
        maraude_core::time::paris_time(chrono::Utc::now() - chrono::Duration::hours(3));
    app.type_into("[data-e2e=form-time]", &long_before)?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=form-error]", "en dehors de la maraude")?;
    let hour_ago =
        || maraude_core::time::paris_time(chrono::Utc::now() - chrono::Duration::hours(1));
    let before = hour_ago();
    app.click("[data-e2e=ago-60]")?;
    let after = hour_ago();
    app.screenshot(shots, "49-incident-witness-time")?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=message]", "Incident")?;
    Ok([before, after])
}

/// In the timeline: the arrival corrected from 4 to 5 people, the tea struck
/// out as logged twice.
fn correct_and_strike_out(app: &Session, shots: &Path) -> Result<()> {
    app.click("[data-e2e=nav-timeline]")?;
    app.find("[data-e2e=timeline]")?;
    let entries = app.find_all("[data-e2e=entry]")?;
    ensure!(
        entries.len() == 8,
        "{} entries in the timeline",
        entries.len()
    );
    ensure!(
        app.count("[data-e2e=entry][data-item=blanket][data-voided=yes]")? == 1,
        "the blanket undone is not struck out"
    );
    // Newest first: the eviction, an hour before the shift's other
    // entries, last.
    ensure!(
        app.attribute(&entries[7], "data-kind")?.as_deref() == Some("incident"),
        "the incident is not at the time it happened"
    );

    app.click("[data-e2e=entry][data-kind=arrival] .row")?;
    app.click("[data-e2e=correct]")?;
    app.find("[data-e2e=form-arrival]")?;
    app.click("[data-e2e=form-people-plus]")?;
    app.click("[data-e2e=form-save]")?;
    app.wait_for_text_containing("[data-e2e=timeline-status]", "Corrigé")?;
    app.wait_for_text_containing("[data-e2e=entry][data-kind=arrival]", "5 personnes")?;
    // The row says it was corrected, by whom.
    app.wait_for_text_containing(
        "[data-e2e=entry][data-kind=arrival] [data-e2e=corrected]",
        "corrigé par Mira",
    )?;

    app.click("[data-e2e=entry][data-item=tea_coffee] .row")?;
    app.click("[data-e2e=strike]")?;
    app.click("[data-e2e=reason-twice]")?;
    app.wait_for_text_containing("[data-e2e=timeline-status]", "Barré")?;
    ensure!(
        app.count("[data-e2e=entry][data-voided=yes]")? == 2,
        "two entries struck out"
    );
    app.wait_for_text_containing("[data-e2e=entry][data-item=tea_coffee]", "Saisi deux fois")?;
    app.screenshot(shots, "05-timeline")?;
    Ok(())
}

/// The lead's review shows exactly what was logged and corrected; the
/// summary copies; the CSV lands in Downloads without the person's alias.
fn review(app: &Session, shots: &Path, home: &Path, incident_time: &[String; 2]) -> Result<()> {
    app.click("[data-e2e=nav-report]")?;
    app.find("[data-e2e=distributions]")?;
    app.wait_for_text("tr[data-item=blanket] [data-e2e=quantity]", "3")?;
    ensure!(
        app.count("[data-e2e=distributions] tbody tr")? == 1,
        "the struck-out tea is still in the report"
    );
    app.wait_for_text("[data-e2e=arrivals-people]", "5")?;
    app.wait_for_text("[data-e2e=shelter-requests]", "1")?;
    app.wait_for_text("[data-e2e=incidents]", "1")?;
    // What each figure counts, and the outcomes on screen, not only in
    // the summary.
    app.wait_for_text_containing("[data-e2e=people-met-counts]", "comptages")?;
    app.wait_for_text_containing("[data-e2e=shelter-outcomes]", "en cours")?;
    app.wait_for_text_containing("[data-e2e=incident-lines]", "Expulsion")?;
    // At the time it happened, not when it was logged.
    let line = app.text("[data-e2e=incident-lines]")?;
    ensure!(
        incident_time.iter().any(|t| line.contains(t.as_str())),
        "the incident reads {line:?}, not {incident_time:?}"
    );
    // Kept: 3 blankets, the arrival, the shelter request, the incident.
    app.wait_for_text("[data-e2e=entries-total]", "6")?;
    app.wait_for_text("[data-e2e=entries-voided]", "2")?;
    app.wait_for_text("[data-e2e=entries-edited]", "1")?;
    // 10 loaded, 3 given: the shift runs, so the 7 still in the van are
    // not missing.
    app.wait_for_text(
        "[data-e2e=stock] tr[data-item=blanket] [data-e2e=unaccounted]",
        "–",
    )?;
    let summary = app.text("[data-e2e=summary]")?;
    ensure!(summary.contains("Couverture"), "summary: {summary}");
    ensure!(!summary.contains("Amira"), "the summary names the person");
    app.screenshot(shots, "06-night-report")?;

    app.click("[data-e2e=copy-summary]")?;
    app.wait_for_text_containing("[data-e2e=report-status]", "copi")?;
    app.click("[data-e2e=export-csv]")?;
    app.wait_for_text_containing("[data-e2e=report-status]", ".csv")?;
    let downloads = home.join("Downloads");
    let csv = std::fs::read_dir(&downloads)
        .with_context(|| format!("no {}", downloads.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .context("no CSV in Downloads")?;
    let csv = std::fs::read_to_string(csv)?;
    ensure!(csv.contains("blanket"), "CSV: {csv}");
    ensure!(!csv.contains("Amira"), "the CSV names the person");
    Ok(())
}

/// The shelter request is a follow-up, with the alias (the only screen that
/// shows it); the demo's older cases come first.
fn follow_ups(app: &Session, shots: &Path) -> Result<()> {
    app.click("[data-e2e=nav-follow_ups]")?;
    app.find("[data-e2e=follow-ups]")?;
    let cases = app.find_all("[data-e2e=case]")?;
    let last = cases.last().context("no follow-up")?;
    let text = app.text_of(last)?;
    ensure!(text.contains("Amira"), "the newest follow-up is {text:?}");
    app.screenshot(shots, "07-follow-ups")?;
    // Its page: what was asked, and its history (nothing since it opened).
    app.click("[data-e2e=case]:last-child [data-e2e=case-details]")?;
    let page =
        app.wait_for_text_containing("[data-e2e=case-detail]", "Rien depuis son ouverture")?;
    ensure!(
        page.contains("Personnes dans le foyer") && page.contains('3'),
        "the case's page reads {page:?}"
    );
    // Scrolled to it (a tap on its title).
    app.click("[data-e2e=case-detail] h3")?;
    app.screenshot(shots, "44-case-page")?;
    app.click("[data-e2e=case]:last-child [data-e2e=case-details]")?;
    Ok(())
}

/// Portrait, for a tablet held upright; then English and night mode.
fn portrait_english_night(app: &Session, shots: &Path) -> Result<()> {
    app.resize(800, 1280)?;
    app.click("[data-e2e=nav-report]")?;
    app.wait_for_text("tr[data-item=blanket] [data-e2e=quantity]", "3")?;
    app.screenshot(shots, "08-night-report-portrait")?;
    app.click("[data-e2e=nav-quick_log]")?;
    app.wait_for_text("[data-e2e=count-blanket]", "3")?;
    app.screenshot(shots, "09-quick-log-portrait")?;

    app.resize(1280, 800)?;
    crate::language(app, "en")?;
    app.wait_for_text("[data-e2e=nav-report]", "Night report")?;
    night_mode(app)?;
    app.screenshot(shots, "10-quick-log-night-en")?;
    app.click("[data-e2e=nav-report]")?;
    app.wait_for_text("tr[data-item=blanket] td", "Blanket")?;
    app.screenshot(shots, "11-night-report-night-en")?;
    crate::language(app, "fr")?;
    day_mode(app)?;
    Ok(())
}

/// "Returned" starts at 7 blankets (10 loaded, 3 given); the lead counts 5
/// back to the warehouse, writes a handover note; the report of the ended
/// shift counts 2 blankets unaccounted for.
fn end_the_shift(app: &Session, shots: &Path) -> Result<()> {
    app.click("[data-e2e=nav-shift]")?;
    app.click("[data-e2e=go-end-shift]")?;
    app.find("[data-e2e=end-shift]")?;
    app.wait_until("returned prefilled as loaded less given", || {
        let returned = app.find("[data-e2e=returned-blanket]")?;
        Ok((app.property(&returned, "value")?.as_deref() == Some("7")).then_some(()))
    })?;
    app.click_times("[data-e2e=returned-blanket-minus]", 2)?;
    app.type_into("[data-e2e=handover]", "Apporter des bâches aux Dunes nord")?;
    app.screenshot(shots, "12-end-of-shift")?;
    app.click("[data-e2e=end]")?;
    app.wait_for_text(
        "[data-e2e=stock] tr[data-item=blanket] [data-e2e=unaccounted]",
        "2",
    )?;
    ensure!(
        app.count("[data-e2e=nav-quick_log]")? == 0,
        "quick log is offered for an ended shift"
    );
    Ok(())
}

/// Lock: the passphrase again; the ended shift is there to review.
fn lock_and_unlock(app: &Session, shots: &Path) -> Result<()> {
    app.click("[data-e2e=lock]")?;
    app.find("[data-e2e=unlock-screen]")?;
    app.type_into("[data-e2e=passphrase]", "not the passphrase")?;
    app.click("[data-e2e=submit]")?;
    app.wait_for_text(
        "[data-e2e=error]",
        "Phrase secrète incorrecte. Vérifiez-la et réessayez.",
    )?;
    app.screenshot(shots, "13-unlock-wrong-passphrase")?;
    let field = app.find("[data-e2e=passphrase]")?;
    app.clear(&field)?;
    app.type_into("[data-e2e=passphrase]", PASSPHRASE)?;
    app.click("[data-e2e=submit]")?;
    app.find("[data-e2e=start-shift]")
        .context("after unlocking, no shift is open")?;
    // The next night maraude starts with the notes this one left.
    app.click("[data-e2e=kind-night_maraude]")?;
    app.wait_for_text_containing(
        "[data-e2e=handover-notes]",
        "Apporter des bâches aux Dunes nord",
    )?;
    app.wait_for_text_containing("[data-e2e=recent-shifts]", "Relire")?;
    app.screenshot(shots, "14-home-recent-shifts")?;

    // No shift open: a follow-up asks who writes it, then closes the case.
    app.click("[data-e2e=nav-follow_ups]")?;
    app.find("[data-e2e=follow-ups]")?;
    let close = "[data-e2e=case]:last-child [data-e2e=close]";
    ensure!(
        app.attribute(&app.find(close)?, "disabled")?.is_some(),
        "a follow-up can be closed by nobody"
    );
    app.click("[data-e2e=who-Jo]")?;
    app.click(close)?;
    app.click("[data-e2e=outcome-no_place]")?;
    app.click("[data-e2e=close-case]")?;
    app.wait_for_text_containing("[role=status]", "Clôturé : Amira.")?;
    for case in app.find_all("[data-e2e=case]")? {
        let text = app.text_of(&case)?;
        ensure!(!text.contains("Amira"), "closed, still listed: {text:?}");
    }
    // Among the closed ones, with its outcome; reopened with a reason, it
    // is back among the open ones, and its history says why.
    app.click("[data-e2e=follow-closed]")?;
    let amira = app.wait_until("Amira among the closed follow-ups", || {
        for case in app.find_all("[data-e2e=closed-case]")? {
            if app.text_of(&case)?.contains("Amira") {
                return app.attribute(&case, "data-case");
            }
        }
        Ok(None)
    })?;
    let closed = format!("[data-e2e=closed-case][data-case=\"{amira}\"]");
    app.wait_for_text_containing(
        &format!("{closed} [data-e2e=closed-outcome]"),
        "Pas de place",
    )?;
    app.click(&format!("{closed} [data-e2e=reopen]"))?;
    app.type_into("[data-e2e=reopen-reason]", "rappel du 115 demain")?;
    app.click("[data-e2e=reopen-confirm]")?;
    app.wait_for_text_containing("[data-e2e=follow-done]", "Rouvert : Amira.")?;
    let open = format!("[data-e2e=case][data-case=\"{amira}\"]");
    app.click(&format!("{open} [data-e2e=case-details]"))?;
    app.wait_for_text_containing(
        &format!("{open} [data-e2e=case-history]"),
        "rappel du 115 demain",
    )?;
    erase_a_case(app, shots)?;
    app.click("[data-e2e=nav-settings]")?;
    app.find("[data-e2e=settings]")?;
    app.screenshot(shots, "15-settings")?;
    Ok(())
}

/// Ben, a volunteer, is not offered to erase a case; Jo, a lead of the
/// demo antenna, erases the oldest one after the warning, and it is gone.
fn erase_a_case(app: &Session, shots: &Path) -> Result<()> {
    app.click("[data-e2e=\"who-Ben\"]")?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    ensure!(
        app.count("[data-e2e=erase]")? == 0,
        "a volunteer is offered to erase a case"
    );
    app.click("[data-e2e=who-Jo]")?;
    let oldest = app.find("[data-e2e=case]")?;
    let id = app
        .attribute(&oldest, "data-case")?
        .context("a case without its id")?;
    let before = app.count("[data-e2e=case]")?;
    app.click(&format!("[data-case=\"{id}\"] [data-e2e=erase]"))?;
    app.find("[data-e2e=erase-confirmation]")?;
    app.screenshot(shots, "16-erase-a-case")?;
    app.click("[data-e2e=erase-confirm]")?;
    app.wait_for_text_containing("[role=status]", "effacé")?;
    ensure!(
        app.count(&format!("[data-case=\"{id}\"]"))? == 0,
        "the erased case is still listed"
    );
    ensure!(app.count("[data-e2e=case]")? == before - 1, "one case less");
    Ok(())
}
