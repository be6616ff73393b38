//! `maraude demo`: a season of an antenna, to try the app and its reports
//! without real data. What it says it wrote is what the store holds; its
//! reports add up the season's entries; and a seed gives the same season
//! every time, so that a demo shown to a new antenna can be shown again.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::tablet::{Tablet, number, paris_today, short, text};

const SEED: &str = "7";

/// `maraude demo --shifts 40 --seed SEED` into a new store, and the store
/// counts it reported (its season's days checked against the shifts).
fn demo_season(seed: &str) -> (Tablet, Value) {
    let t = Tablet::blank();
    assert!(!t.store().exists());
    let reported = t.json(["demo", "--shifts", "40", "--seed", seed]);
    let stats = reported["stats"].clone();
    assert_eq!(reported["shifts"], stats["shifts"], "{reported}");
    assert_eq!(reported["entries"], stats["entries"], "{reported}");
    assert!(number(&reported["cases"]) >= number(&stats["open_cases"]));
    let days = (
        text(&reported["first_day"]).to_string(),
        text(&reported["last_day"]).to_string(),
    );
    assert_eq!(season_days(&all_shifts(&t)), days, "{reported}");
    (t, stats)
}

/// The store's counts, as `status` and `demo` report them.
fn counts(stats: &Value) -> [(&'static str, u64); 6] {
    [
        "documents",
        "chunks",
        "chunk_bytes",
        "shifts",
        "entries",
        "open_cases",
    ]
    .map(|k| (k, number(&stats[k])))
}

fn all_shifts(t: &Tablet) -> Vec<Value> {
    let shifts = t.json(["shift", "list", "--from", "2000-01-01"]);
    shifts.as_array().expect("a list of shifts").clone()
}

fn date(v: &Value) -> NaiveDate {
    text(v).parse().expect("a YYYY-MM-DD date")
}

/// The season's first and last days, from its shifts.
fn season_days(shifts: &[Value]) -> (String, String) {
    let days: Vec<NaiveDate> = shifts.iter().map(|s| date(&s["date"])).collect();
    let first = days.iter().min().expect("a shift");
    let last = days.iter().max().expect("a shift");
    (first.to_string(), last.to_string())
}

/// What a period report shows of one day, added up by hand from the
/// timelines of that day's shifts.
#[derive(Debug, Default, PartialEq)]
struct DayTally {
    shifts: u64,
    /// Per item: quantity handed out and distribution entries.
    items: BTreeMap<String, (u64, u64)>,
    people_met: u64,
    arrival_groups: u64,
    arrival_people: u64,
    incidents: BTreeMap<String, u64>,
    shelter_requests: u64,
    referrals: u64,
}

impl DayTally {
    fn from_timelines(t: &Tablet, shifts: &[&Value]) -> Self {
        let mut tally = DayTally {
            shifts: shifts.len() as u64,
            ..Default::default()
        };
        for shift in shifts {
            let entries = t.json(["entries", "--shift", short(text(&shift["id"]))]);
            for e in entries.as_array().expect("a list of entries") {
                if e.get("void").is_some() {
                    continue;
                }
                match text(&e["kind"]) {
                    "distribution" => {
                        let line = tally.items.entry(text(&e["item"]).to_string()).or_default();
                        line.0 += number(&e["quantity"]);
                        line.1 += 1;
                    }
                    "headcount" => tally.people_met += number(&e["people"]),
                    "arrival" => {
                        tally.arrival_groups += 1;
                        tally.arrival_people += number(&e["group_size"]);
                    }
                    "incident" => {
                        *tally
                            .incidents
                            .entry(text(&e["incident_type"]).to_string())
                            .or_default() += 1;
                    }
                    "shelter_request" => tally.shelter_requests += 1,
                    "referral" => tally.referrals += 1,
                    _ => {}
                }
            }
        }
        tally
    }

    fn from_period_report(report: &Value) -> Self {
        let items = report["items"]
            .as_array()
            .expect("item lines")
            .iter()
            .filter(|i| number(&i["entries"]) > 0)
            .map(|i| {
                (
                    text(&i["item"]).to_string(),
                    (number(&i["distributed"]), number(&i["entries"])),
                )
            })
            .collect();
        let incidents = report["incidents"]
            .as_object()
            .expect("incidents by type")
            .iter()
            .map(|(k, n)| (k.clone(), number(n)))
            .collect();
        let months = report["months"].as_array().expect("months");
        let month_sum = |k: &str| months.iter().map(|m| number(&m[k])).sum();
        DayTally {
            shifts: number(&report["shifts"]),
            items,
            people_met: number(&report["people_met"]),
            arrival_groups: number(&report["arrivals_groups"]),
            arrival_people: number(&report["arrivals_people"]),
            incidents,
            shelter_requests: month_sum("shelter_requests"),
            referrals: month_sum("referrals"),
        }
    }
}

#[test]
fn a_demo_season_holds_what_it_reported_and_its_reports_add_up() {
    let (t, reported) = demo_season(SEED);
    assert_eq!(number(&reported["shifts"]), 40, "{reported}");
    assert!(number(&reported["entries"]) >= 40 * 20, "{reported}");
    assert!(number(&reported["open_cases"]) > 0, "{reported}");

    let status = t.json(["status"]);
    assert_eq!(counts(&status["stats"]), counts(&reported));
    assert_eq!(status["open_shifts"], serde_json::json!([]));

    // The demo never fills a store that exists.
    let before = t.file_bytes();
    let refused = t.refused(["demo", "--shifts", "40", "--seed", SEED]);
    assert!(refused.contains("the demo fills a new store"), "{refused}");
    assert!(t.file_bytes() == before, "a refused demo changed the store");

    // Forty shifts, all ended, the last ones before today.
    let shifts = all_shifts(&t);
    assert_eq!(shifts.len(), 40);
    assert!(shifts.iter().all(|s| s["ended_at"].is_string()));
    let today: NaiveDate = paris_today().parse().unwrap();
    let (first, last) = season_days(&shifts);
    assert!(last.parse::<NaiveDate>().unwrap() < today, "{last}");

    // The season's report: every shift, real figures. To the day after the
    // last shift: the last night's cases opened after midnight are dated
    // the next day (on some days of the year the demo ends on one).
    let after_last = (last.parse::<NaiveDate>().unwrap() + chrono::Duration::days(1)).to_string();
    let season = t.json(["report", "period", "--from", &first, "--to", &after_last]);
    assert_eq!(number(&season["shifts"]), 40);
    let by_kind: u64 = season["shifts_by_kind"]
        .as_object()
        .unwrap()
        .values()
        .map(number)
        .sum();
    assert_eq!(by_kind, 40, "{:#}", season["shifts_by_kind"]);
    let items = season["items"].as_array().unwrap();
    let blanket = items
        .iter()
        .find(|i| i["item"] == "blanket")
        .unwrap_or_else(|| panic!("no blankets all season: {season:#}"));
    assert!(number(&blanket["distributed"]) > 0, "{blanket}");
    for line in items {
        // No van hands out more than it was loaded with.
        assert!(
            number(&line["distributed"]) + number(&line["returned"]) <= number(&line["loaded"]),
            "{line}"
        );
    }
    assert!(number(&season["people_met"]) > 0);
    assert!(number(&season["arrivals_people"]) >= number(&season["arrivals_groups"]));
    assert!(number(&season["arrivals_groups"]) > 0);
    let cases = &season["cases"];
    assert!(
        number(&cases["shelter_requests_opened"]) + number(&cases["referrals_opened"]) > 0,
        "{cases}"
    );
    assert_eq!(
        number(&cases["still_open"]),
        number(&reported["open_cases"]),
        "every case of the season is in the season"
    );

    // A sample day, the busiest: its report is what its timelines add up to.
    let mut by_day: BTreeMap<NaiveDate, Vec<&Value>> = BTreeMap::new();
    for s in &shifts {
        by_day.entry(date(&s["date"])).or_default().push(s);
    }
    let (day, day_shifts) = by_day
        .iter()
        .max_by_key(|(day, shifts)| (shifts.len(), **day))
        .unwrap();
    let day = day.to_string();
    let report = t.json(["report", "period", "--from", &day, "--to", &day]);
    let from_report = DayTally::from_period_report(&report);
    let from_timelines = DayTally::from_timelines(&t, day_shifts);
    assert_eq!(from_report, from_timelines, "{day}");
    assert!(from_timelines.items.values().map(|i| i.0).sum::<u64>() > 0);
    assert!(from_timelines.people_met > 0, "{from_timelines:?}");

    // Follow-ups: the season's open cases, oldest first.
    let follow_ups = t.json(["follow-ups"]);
    let open = follow_ups.as_array().unwrap();
    assert_eq!(open.len() as u64, number(&reported["open_cases"]));
    let opened: Vec<&str> = open.iter().map(|f| text(&f["opened_at"])).collect();
    let mut oldest_first = opened.clone();
    oldest_first.sort_unstable();
    assert_eq!(opened, oldest_first);
    assert!(
        number(&open[0]["days_open"]) >= number(&open[open.len() - 1]["days_open"]),
        "{follow_ups:#}"
    );
    assert!(open.iter().all(|f| !text(&f["alias"]).is_empty()));
}

/// Run `season` until the day in Paris did not change while it ran: a demo
/// season ends yesterday, so two seasons made across midnight differ.
fn within_one_day<T>(season: impl Fn() -> T) -> T {
    loop {
        let day = paris_today();
        let made = season();
        if paris_today() == day {
            return made;
        }
    }
}

/// The open follow-ups, without the ids each store draws for its cases.
fn follow_ups_without_ids(t: &Tablet) -> Vec<Value> {
    let mut list = t.json(["follow-ups"]);
    let list = list.as_array_mut().expect("a list of follow-ups");
    for f in list.iter_mut() {
        let f = f.as_object_mut().expect("a follow-up");
        f.remove("case");
        f.remove("short");
    }
    assert!(!list.is_empty());
    list.clone()
}

#[test]
fn the_same_seed_gives_the_same_season() {
    let ((a, reported_a), (b, reported_b)) =
        within_one_day(|| (demo_season(SEED), demo_season(SEED)));
    let shifts_a = all_shifts(&a);
    assert_eq!(season_days(&shifts_a), season_days(&all_shifts(&b)));
    let (first, last) = season_days(&shifts_a);
    let period = ["report", "period", "--from", &first, "--to", &last];
    let report_a = a.json(period);
    assert_eq!(report_a, b.json(period));
    assert_eq!(
        number(&reported_a["entries"]),
        number(&reported_b["entries"])
    );
    assert_eq!(follow_ups_without_ids(&a), follow_ups_without_ids(&b));

    // Another seed, another season: the comparison above is not blind.
    let (c, _) = demo_season("8");
    let (first, last) = season_days(&all_shifts(&c));
    assert_ne!(
        report_a,
        c.json(["report", "period", "--from", &first, "--to", &last])
    );
}
