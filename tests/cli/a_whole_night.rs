//! A night maraude in Calais, from loading the van to the lead's report:
//! every figure the team logged comes back in the report, corrections and
//! voids included, and nothing personal reaches what is pasted in the
//! team's messaging group.

use std::collections::BTreeMap;
use std::ffi::OsStr;

use serde_json::Value;

use crate::tablet::{Tablet, number, paris_today, short, text};

/// What the people met told the team: it lives in follow-up cases only.
const PERSONAL: &[&str] = &[
    "Amina",
    "Karim",
    "+33 6 12 34 56 78",
    "12 34 56 78",
    "infected wound",
];

/// The ids of what was logged in the night.
#[derive(Debug)]
struct Night {
    tablet: Tablet,
    shift: String,
    tea: String,
    voided_blanket: String,
    shelter_case: String,
    referral_case: String,
    /// Every entry id, in the order logged.
    logged: Vec<String>,
}

fn a_night_in_calais() -> Night {
    let t = Tablet::for_antenna("Calais");
    t.ok(["place", "add", "dunes-north", "--name", "Dunes nord"]);
    // The other places come from the coordinator's spreadsheet.
    let places = t.dir().join("places.csv");
    std::fs::write(
        &places,
        "id,name,kind\ngare,Gare de Calais,station\nhospital-road,Rue de l'Hôpital,\n",
    )
    .unwrap();
    let imported = t.json([
        OsStr::new("import"),
        OsStr::new("places"),
        places.as_os_str(),
    ]);
    assert_eq!(imported["imported"], 2, "{imported}");

    let shift = t.json([
        "shift",
        "start",
        "--lead",
        "Mira",
        "--team",
        "Jo,Sam",
        "--vehicle",
        "Trafic blanc",
        "--load",
        "blanket=40,tea_coffee=200,sleeping_bag=10",
    ]);
    let shift = text(&shift["id"]).to_string();

    let mut logged = Vec::new();
    let mut log = |args: &[&str]| {
        let id = t.log(args);
        logged.push(id.clone());
        id
    };
    log(&[
        "distribution",
        "blanket",
        "2",
        "--place",
        "dunes-north",
        "--people",
        "2",
        "--men",
        "2",
    ]);
    // The quick "+1 blanket": no quantity, no place.
    log(&["distribution", "blanket"]);
    let tea = log(&[
        "distribution",
        "tea_coffee",
        "60",
        "--place",
        "dunes-north",
        "--people",
        "55",
    ]);
    log(&[
        "--by",
        "Sam",
        "distribution",
        "sleeping_bag",
        "3",
        "--place",
        "gare",
    ]);
    let voided_blanket = log(&["distribution", "blanket", "4", "--place", "gare"]);
    log(&[
        "headcount",
        "70",
        "--place",
        "dunes-north",
        "--men",
        "60",
        "--women",
        "6",
        "--children",
        "4",
        "--vulnerable",
        "5",
    ]);
    log(&["headcount", "12", "--place", "gare", "--men", "12"]);
    log(&[
        "arrival",
        "5",
        "--place",
        "gare",
        "--languages",
        "ps,fa",
        "--needs",
        "shelter,food",
        "--men",
        "3",
        "--minors",
        "2",
        "--info",
        "Told them about the day centre",
    ]);
    // Karim's referral is opened before Amina's shelter request: the
    // older follow-up comes first.
    let (referral, referral_case) = t.open_case([
        "referral",
        "--service",
        "pass_clinic",
        "--urgency",
        "urgent",
        "--reason",
        "infected wound on the foot",
        "--alias",
        "Karim",
        "--accompanied-by",
        "Sam",
    ]);
    logged.push(referral);
    let (shelter, shelter_case) = t.open_case([
        "shelter",
        "--household",
        "3",
        "--alias",
        "Amina B",
        "--phone",
        "+33 6 12 34 56 78",
        "--languages",
        "ar",
        "--women",
        "1",
        "--children",
        "2",
        "--vulnerability",
        "baby,woman_alone",
        "--called-115",
        "--answer-115",
        "no place tonight",
        "--place",
        "gare",
    ]);
    logged.push(shelter);
    let mut log = |args: &[&str]| {
        let id = t.log(args);
        logged.push(id.clone());
        id
    };
    log(&[
        "incident",
        "--type",
        "eviction",
        "--people",
        "30",
        "--description",
        "Police removed 12 tents at dawn; sleeping bags taken",
        "--witnesses",
        "Jo,Sam",
        "--reported-to",
        "Défenseur des droits",
        "--place",
        "dunes-north",
    ]);
    log(&["note", "Socks running low; bring more tomorrow"]);

    // Corrections: the tea was 80 cups, the last blankets were logged twice.
    let corrected = t.json(["edit", short(&tea), "--quantity", "80"]);
    assert_eq!(corrected["quantity"], 80, "{corrected}");
    let voided = t.json(["void", short(&voided_blanket), "--reason", "logged twice"]);
    assert_eq!(voided["void"]["reason"], "logged twice", "{voided}");

    let ended = t.json([
        "shift",
        "end",
        "--returned",
        "blanket=37,tea_coffee=120,sleeping_bag=6",
        "--handover",
        "Bring blankets to the Gare first",
    ]);
    assert!(ended["ended_at"].is_string(), "{ended}");

    Night {
        tablet: t,
        shift,
        tea,
        voided_blanket,
        shelter_case,
        referral_case,
        logged,
    }
}

fn assert_nothing_personal(what: &str, shown: &str) {
    for p in PERSONAL {
        assert!(
            !shown.contains(p),
            "{what} shows \"{p}\", which belongs in a follow-up case only:\n{shown}"
        );
    }
}

#[test]
fn a_night_in_calais_comes_back_in_the_night_report_figure_by_figure() {
    let night = a_night_in_calais();
    let t = &night.tablet;

    // The timeline: every entry, the correction and the void visible.
    let entries = t.json(["entries"]);
    let by_id: BTreeMap<&str, &Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["id"]), e))
        .collect();
    assert_eq!(by_id.len(), night.logged.len(), "{entries:#}");
    for id in &night.logged {
        assert!(by_id.contains_key(id.as_str()), "entry {id} missing");
    }
    let tea = by_id[night.tea.as_str()];
    assert_eq!(tea["quantity"], 80);
    assert_eq!(tea["history"].as_array().unwrap().len(), 1, "{tea}");
    assert_eq!(
        by_id[night.voided_blanket.as_str()]["void"]["reason"],
        "logged twice"
    );
    let by_sam: Vec<&str> = by_id
        .values()
        .filter(|e| e["logged_by"] == "Sam")
        .map(|e| text(&e["item"]))
        .collect();
    assert_eq!(by_sam, ["sleeping_bag"]);

    let report = t.json(["report", "night", "--format", "json"]);
    assert_eq!(report["shift"], night.shift.as_str());
    assert_eq!(report["antenna"], "Calais");
    assert_eq!(report["kind"], "night_maraude");
    assert_eq!(report["lead"], "Mira");
    assert_eq!(report["team"], serde_json::json!(["Jo", "Mira", "Sam"]));
    assert_eq!(report["vehicle"], "Trafic blanc");
    assert_eq!(
        report["places_visited"],
        serde_json::json!(["Dunes nord", "Gare de Calais"])
    );

    // Distributions per item: the void left the totals, the correction
    // replaced the old quantity.
    let distributed: BTreeMap<&str, (u64, u64, u64)> = report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                text(&l["item"]),
                (
                    number(&l["quantity"]),
                    number(&l["entries"]),
                    number(&l["people_served"]),
                ),
            )
        })
        .collect();
    assert_eq!(
        distributed,
        BTreeMap::from([
            ("blanket", (3, 2, 2)),
            ("tea_coffee", (80, 1, 55)),
            ("sleeping_bag", (3, 1, 0)),
        ]),
        "{:#}",
        report["distributions"]
    );

    // Van stock: loaded / distributed / returned, and the gap.
    let stock: BTreeMap<&str, (u64, u64, u64, i64)> = report["stock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                text(&l["item"]),
                (
                    number(&l["loaded"]),
                    number(&l["distributed"]),
                    number(&l["returned"]),
                    l["unaccounted"]
                        .as_i64()
                        .expect("the shift ended: a figure"),
                ),
            )
        })
        .collect();
    assert_eq!(
        stock,
        BTreeMap::from([
            ("blanket", (40, 3, 37, 0)),
            ("tea_coffee", (200, 80, 120, 0)),
            ("sleeping_bag", (10, 3, 6, 1)),
        ]),
        "{:#}",
        report["stock"]
    );

    // People met: headcounts only.
    let met = &report["people_met"];
    assert_eq!(met["total"], 82);
    assert_eq!(
        met["composition"],
        serde_json::json!({"men": 72, "women": 6, "children": 4, "minors_alone": 0})
    );
    assert_eq!(met["vulnerable"], 5);
    let by_place: Vec<(&str, u64)> = met["by_place"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (text(&p["name"]), number(&p["people"])))
        .collect();
    assert_eq!(by_place, [("Dunes nord", 70), ("Gare de Calais", 12)]);

    let arrivals = &report["arrivals"];
    assert_eq!(arrivals["groups"], 1);
    assert_eq!(arrivals["people"], 5);
    assert_eq!(arrivals["composition"]["men"], 3);
    assert_eq!(arrivals["composition"]["minors_alone"], 2);
    assert_eq!(arrivals["languages"], serde_json::json!({"fa": 1, "ps": 1}));
    assert_eq!(
        arrivals["needs"],
        serde_json::json!({"food": 1, "shelter": 1})
    );

    // Cases opened: one shelter request, one referral, both still open.
    let shelter = report["shelter_requests"].as_array().unwrap();
    let referrals = report["referrals"].as_array().unwrap();
    assert_eq!(shelter.len() + referrals.len(), 2, "cases opened");
    assert_eq!(shelter.len(), 1);
    assert_eq!(shelter[0]["case"], night.shelter_case.as_str());
    assert_eq!(shelter[0]["people"], 3);
    assert_eq!(shelter[0]["open"], true);
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0]["case"], night.referral_case.as_str());
    assert_eq!(referrals[0]["detail"], "pass_clinic");
    assert_eq!(referrals[0]["urgent"], true);

    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["incident_type"], "eviction");
    assert_eq!(incidents[0]["people_affected"], 30);
    assert_eq!(incidents[0]["place"], "Dunes nord");
    assert_eq!(incidents[0]["witnesses"], serde_json::json!(["Jo", "Sam"]));
    assert_eq!(
        report["notes"],
        serde_json::json!(["Socks running low; bring more tomorrow"])
    );
    assert_eq!(report["handover"], "Bring blankets to the Gare first");

    // 12 logged, 1 voided: 11 count; the tea was corrected once.
    assert_eq!(report["entries"], 11);
    assert_eq!(report["edited"], 1);
    assert_eq!(report["voided"], 1);

    assert_nothing_personal("report night --format json", &report.to_string());
}

/// The lines of a text summary, for exact comparisons.
fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

fn assert_has_lines(what: &str, summary: &str, expected: &[&str]) {
    let got = lines(summary);
    for line in expected {
        assert!(
            got.contains(line),
            "{what} lacks the line \"{line}\":\n{summary}"
        );
    }
}

#[test]
fn the_night_summary_reads_the_same_figures_in_english_and_french_without_a_name() {
    let night = a_night_in_calais();
    let t = &night.tablet;

    let en = t.ok(["report", "night", "--format", "text", "--lang", "en"]);
    assert!(
        en.starts_with("Calais — Night maraude "),
        "first line: {en}"
    );
    assert!(lines(&en)[0].ends_with(", Jo, Mira, Sam"), "{en}");
    assert_has_lines(
        "the English summary",
        &en,
        &[
            "Dunes nord · Gare de Calais",
            "People met: 82 (72 men, 6 women, 4 children), 5 vulnerable",
            "  - Dunes nord: 70",
            "  - Gare de Calais: 12",
            "Distributed:",
            "  - Tea / coffee: 80",
            "  - Blanket: 3",
            "  - Sleeping bag: 3",
            "Van stock (loaded / distributed / returned):",
            "  - Tea / coffee: 200 / 80 / 120",
            "  - Blanket: 40 / 3 / 37",
            "  - Sleeping bag: 10 / 3 / 6  (gap +1)",
            "Shelter requests: 1",
            "Referrals: 1",
            "Incidents: 1",
            "Handover:",
            "  Socks running low; bring more tomorrow",
            "  Bring blankets to the Gare first",
        ],
    );
    assert!(
        lines(&en).iter().any(|l| l.starts_with("New arrivals: 5 ")),
        "{en}"
    );
    assert!(en.contains("(1 voided entry)"), "{en}");
    // The voided 4 blankets count nowhere.
    assert!(!en.contains("Blanket: 7"), "{en}");
    assert_nothing_personal("the English summary", &en);

    let fr = t.ok(["report", "night", "--format", "text", "--lang", "fr"]);
    assert!(fr.starts_with("Calais — Maraude de nuit "), "{fr}");
    assert_has_lines(
        "the French summary",
        &fr,
        &[
            "Personnes rencontrées: 82 (72 hommes, 6 femmes, 4 enfants), 5 vulnérables",
            "  - Dunes nord: 70",
            "Distribué:",
            "  - Thé / café: 80",
            "  - Couverture: 3",
            "  - Sac de couchage: 3",
            "Stock du camion (chargé / distribué / rendu):",
            "  - Couverture: 40 / 3 / 37",
            "  - Sac de couchage: 10 / 3 / 6  (écart +1)",
            "Demandes de mise à l'abri: 1",
            "Orientations: 1",
            "Incidents: 1",
            "Transmissions:",
            "  Bring blankets to the Gare first",
        ],
    );
    assert!(fr.contains("(1 entrée annulée)"), "{fr}");
    assert_nothing_personal("the French summary", &fr);

    // French is the default, and MARAUDE_LANG chooses too.
    assert_eq!(t.ok(["report", "night"]), fr);
    let mut english = t.command(["report", "night"]);
    english.env("MARAUDE_LANG", "en");
    assert_eq!(
        crate::tablet::succeeded(crate::tablet::finish(english)).stdout,
        en
    );
}

/// A CSV text as a header and rows.
fn read_csv(what: &str, csv_text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("{what}: no CSV header ({e}):\n{csv_text}"))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{what}: bad CSV row ({e}):\n{csv_text}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn the_night_in_csv_opens_in_a_spreadsheet_with_the_same_figures() {
    let night = a_night_in_calais();
    let t = &night.tablet;

    // The night: section,key,label,value.
    let (header, rows) = read_csv(
        "report night --format csv",
        &t.ok(["report", "night", "--format", "csv"]),
    );
    assert_eq!(header, ["section", "key", "label", "value"]);
    let figure: BTreeMap<(String, String), String> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 4, "{r:?}");
            ((r[0].clone(), r[1].clone()), r[3].clone())
        })
        .collect();
    for (section, key, value) in [
        ("shift", "kind", "night_maraude"),
        ("shift", "lead", "Mira"),
        ("people_met", "total", "82"),
        ("people_met", "dunes-north", "70"),
        ("people_met", "gare", "12"),
        ("arrivals", "groups", "1"),
        ("arrivals", "people", "5"),
        ("distributed", "blanket", "3"),
        ("distributed", "tea_coffee", "80"),
        ("distributed", "sleeping_bag", "3"),
        ("stock_loaded", "blanket", "40"),
        ("stock_returned", "blanket", "37"),
        ("stock_unaccounted", "blanket", "0"),
        ("stock_loaded", "sleeping_bag", "10"),
        ("stock_returned", "sleeping_bag", "6"),
        ("stock_unaccounted", "sleeping_bag", "1"),
        ("cases", "shelter_requests", "1"),
        ("cases", "referrals", "1"),
        ("incidents", "count", "1"),
    ] {
        assert_eq!(
            figure.get(&(section.to_string(), key.to_string())),
            Some(&value.to_string()),
            "night CSV row {section},{key}: {rows:?}"
        );
    }

    // The period: one row per item.
    let today = paris_today();
    let (header, rows) = read_csv(
        "report period --format csv",
        &t.ok([
            "report", "period", "--from", &today, "--to", &today, "--format", "csv",
        ]),
    );
    assert_eq!(
        header,
        [
            "item",
            "label",
            "distributed",
            "entries",
            "loaded",
            "returned"
        ]
    );
    let items: BTreeMap<&str, [&str; 4]> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 6, "{r:?}");
            (r[0].as_str(), [r[2].as_str(), &r[3], &r[4], &r[5]])
        })
        .collect();
    assert_eq!(
        items.get("blanket"),
        Some(&["3", "2", "40", "37"]),
        "{rows:?}"
    );
    assert_eq!(
        items.get("tea_coffee"),
        Some(&["80", "1", "200", "120"]),
        "{rows:?}"
    );
    assert_eq!(
        items.get("sleeping_bag"),
        Some(&["3", "1", "10", "6"]),
        "{rows:?}"
    );

    // Every entry as an anonymous row: the voided one is gone, the
    // corrected one carries the new quantity, cases by reference only.
    let export = t.ok(["export", "entries", "--format", "csv"]);
    assert_nothing_personal("export entries --format csv", &export);
    let (header, rows) = read_csv("export entries --format csv", &export);
    assert_eq!(
        header,
        [
            "entry",
            "shift",
            "shift_kind",
            "date",
            "time_utc",
            "kind",
            "place",
            "item",
            "quantity",
            "people",
            "men",
            "women",
            "children",
            "minors_alone",
            "vulnerable",
            "detail",
            "case",
            "entries",
            "place_kind",
        ]
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // Tonight's rows stand for one entry each, at a named place.
    assert!(
        rows.iter()
            .all(|r| r[col("entries")] == "1" && r[col("place_kind")].is_empty()),
        "{rows:?}"
    );
    let row_of: BTreeMap<&str, &Vec<String>> =
        rows.iter().map(|r| (r[col("entry")].as_str(), r)).collect();
    let mut expected: Vec<&str> = night
        .logged
        .iter()
        .map(String::as_str)
        .filter(|id| *id != night.voided_blanket)
        .collect();
    expected.sort_unstable();
    assert_eq!(row_of.keys().copied().collect::<Vec<_>>(), expected);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert!(rows.iter().all(|r| r[col("shift")] == night.shift));
    assert_eq!(row_of[night.tea.as_str()][col("quantity")], "80");
    let cases: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| !r[col("case")].is_empty())
        .map(|r| (r[col("kind")].as_str(), r[col("case")].as_str()))
        .collect();
    assert_eq!(
        cases,
        [
            ("referral", night.referral_case.as_str()),
            ("shelter_request", night.shelter_case.as_str())
        ]
    );
    let blankets: u64 = rows
        .iter()
        .filter(|r| r[col("item")] == "blanket")
        .map(|r| r[col("quantity")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(blankets, 3);
}

#[test]
fn open_follow_ups_come_oldest_first_and_leave_the_list_when_closed() {
    let night = a_night_in_calais();
    let t = &night.tablet;

    let open = t.json(["follow-ups"]);
    let listed: Vec<(&str, &str, &str)> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (text(&f["case"]), text(&f["kind"]), text(&f["alias"])))
        .collect();
    assert_eq!(
        listed,
        [
            (night.referral_case.as_str(), "referral", "Karim"),
            (night.shelter_case.as_str(), "shelter_request", "Amina B"),
        ],
        "{open:#}"
    );
    assert_eq!(open[1]["people"], 3);
    assert_eq!(open[0]["urgent"], true);

    // Karim was seen at the PASS clinic.
    let closed = t.json([
        "case",
        "close",
        short(&night.referral_case),
        "--outcome",
        "seen",
    ]);
    assert_eq!(closed["status"], "closed", "{closed}");
    let open = t.json(["follow-ups"]);
    let still: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|f| text(&f["case"]))
        .collect();
    assert_eq!(still, [night.shelter_case.as_str()]);

    // Amina and her children got a place at the CHU.
    let closed = t.json([
        "case",
        "close",
        short(&night.shelter_case),
        "--outcome",
        "placed",
        "--where",
        "CHU",
    ]);
    assert_eq!(closed["outcome"], "placed", "{closed}");
    assert_eq!(closed["place"], "CHU", "{closed}");
    assert_eq!(t.json(["follow-ups"]), serde_json::json!([]));
    assert!(t.ok(["follow-ups"]).contains("No open follow-up"));

    // The night's report now shows the outcomes.
    let report = t.json(["report", "night", "--format", "json"]);
    assert_eq!(report["shelter_requests"][0]["open"], false);
    assert_eq!(report["shelter_requests"][0]["outcome"], "placed");
    assert_eq!(report["referrals"][0]["open"], false);
    assert_eq!(report["referrals"][0]["outcome"], "seen");
    let en = t.ok(["report", "night", "--lang", "en"]);
    assert!(en.contains("  - shelter (3): placed"), "{en}");
    // No case number: the summary goes to the messaging group.
    assert!(!en.contains(short(&night.shelter_case)), "{en}");
    assert_nothing_personal("the summary after closing", &en);
}

/// The next team reads, as it starts, what the last one left: its handover
/// notes and the urgent follow-ups.
#[test]
fn the_next_shift_starts_with_the_handover_and_the_urgent_follow_ups() {
    let night = a_night_in_calais();
    let said = night.tablet.ok(["shift", "start", "--lead", "Jo"]);
    assert!(
        said.contains("Handover from") && said.contains("Bring blankets to the Gare first"),
        "{said}"
    );
    assert!(said.contains("Urgent follow-ups: "), "{said}");
    // A day centre starts without the night maraude's notes.
    night.tablet.ok(["shift", "end"]);
    let day = night
        .tablet
        .ok(["shift", "start", "--lead", "Jo", "--kind", "day-centre"]);
    assert!(!day.contains("Bring blankets"), "{day}");
}
