//! A script, the coordinator's spreadsheet or the tablet app drives
//! `maraude` with `--json`: every command `--help` lists answers one JSON
//! value on stdout holding what the command did or shows, and every refusal
//! stays on stderr with a failing exit code, stdout empty.
//!
//! The list of commands comes from `--help` itself: a command added to the
//! CLI without a case here fails [`every_command_of_help_answers_json`].

use std::collections::BTreeSet;
use std::ffi::OsString;

use serde_json::{Value, json};

use crate::tablet::{self, Tablet, number, paris_today, short, text};

/// Clap's own `help` subcommand prints text by design.
const NOT_A_COMMAND: &str = "help";

/// The names listed under `Commands:` in a help text.
fn commands_section(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A name starts at column 2; deeper lines continue a description.
        .filter(|l| l.starts_with("  ") && !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .filter(|name| name != NOT_A_COMMAND)
        .collect()
}

/// The possible values of a command's first argument (`export entries`,
/// `export catalogue`…): each is a command of its own for the user.
fn first_argument_values(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Arguments:")
        .take_while(|l| l.trim_end() != "Options:")
        .skip_while(|l| l.trim() != "Possible values:")
        .skip(1)
        .map(str::trim)
        .take_while(|l| l.starts_with("- "))
        .filter_map(|l| l[2..].split(':').next())
        .map(|v| v.trim().to_string())
        .collect()
}

/// Every command path `maraude --help` and `maraude CMD --help` list, down
/// to the leaves: `status`, `log distribution`, `export places`…
fn commands_in_help(t: &Tablet) -> BTreeSet<String> {
    fn walk(t: &Tablet, path: Vec<String>, out: &mut BTreeSet<String>) {
        let mut args = path.clone();
        args.push("--help".into());
        let help = t.ok(&args);
        let subcommands = commands_section(&help);
        if !subcommands.is_empty() {
            for sub in subcommands {
                let mut deeper = path.clone();
                deeper.push(sub);
                walk(t, deeper, out);
            }
            return;
        }
        let values = first_argument_values(&help);
        if values.is_empty() {
            out.insert(path.join(" "));
        }
        for value in values {
            out.insert(format!("{} {value}", path.join(" ")));
        }
    }
    let mut out = BTreeSet::new();
    walk(t, Vec::new(), &mut out);
    out
}

/// The commands run with `--json`, checked against the list of `--help`.
struct Walk {
    listed: BTreeSet<String>,
    answered: BTreeSet<String>,
}

impl Walk {
    fn new(t: &Tablet) -> Self {
        let listed = commands_in_help(t);
        // A sanity check of the parsing itself, on commands the README shows.
        for known in [
            "init",
            "status",
            "log distribution",
            "case close",
            "export entries",
        ] {
            assert!(
                listed.contains(known),
                "`{known}` not found in --help: {listed:?}"
            );
        }
        Walk {
            listed,
            answered: BTreeSet::new(),
        }
    }

    /// The command of `--help` that `args` runs: its longest listed prefix.
    fn command_of(&self, args: &[OsString]) -> String {
        let words: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        (1..=words.len())
            .rev()
            .map(|n| words[..n].join(" "))
            .find(|c| self.listed.contains(c))
            .unwrap_or_else(|| panic!("`maraude {}` runs no command of --help", words.join(" ")))
    }

    /// `maraude --json ARGS` on `t`: it must succeed, print one JSON value
    /// on stdout and nothing on stderr.
    fn answer<I, S>(&mut self, t: &Tablet, args: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        self.answered.insert(self.command_of(&args));
        let mut all: Vec<OsString> = vec!["--json".into()];
        all.extend(args);
        let answer = tablet::succeeded(t.run(&all));
        assert!(
            answer.stderr.is_empty(),
            "`{}` succeeded but wrote on stderr: {}",
            answer.command,
            answer.stderr
        );
        tablet::parse_json(&answer)
    }

    /// `maraude --json ARGS`, which must be refused: the message, from the
    /// JSON error on stderr.
    fn refusal<I, S>(&mut self, t: &Tablet, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        self.answered.insert(self.command_of(&args));
        let mut all: Vec<OsString> = vec!["--json".into()];
        all.extend(args);
        json_error(t.run(&all))
    }
}

/// A refusal under `--json`: exit code 1, stdout empty, and on stderr one
/// JSON object whose `error` says what is wrong. The message.
fn json_error(answer: tablet::Answer) -> String {
    let command = answer.command.clone();
    let stderr = tablet::refused(answer);
    let error: Value = serde_json::from_str(&stderr)
        .unwrap_or_else(|e| panic!("`{command}` refused without JSON on stderr ({e}): {stderr}"));
    text(&error["error"]).to_string()
}

fn keys(map: &Value) -> Vec<&str> {
    map.as_object()
        .unwrap_or_else(|| panic!("expected an object, found {map}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn every_command_of_help_answers_json() {
    let t = Tablet::blank();
    let mut walk = Walk::new(&t);
    let w = &mut walk;
    let today = paris_today();

    // The device's store.
    let created = w.answer(&t, ["init", "--antenna", "Calais"]);
    assert_eq!(created["store"], t.store().display().to_string());
    let antenna_id = text(&created["antenna"]).to_string();
    let device = text(&created["device"]).to_string();
    assert_ne!(antenna_id, device);

    // Reference data.
    let place = w.answer(&t, ["place", "add", "dunes-north", "--name", "Dunes nord"]);
    assert_eq!(
        place,
        json!({"name": "Dunes nord", "kind": "living_place", "active": true})
    );
    let place = w.answer(
        &t,
        [
            "place",
            "add",
            "gare",
            "--name",
            "Gare de Calais",
            "--kind",
            "station",
        ],
    );
    assert_eq!(place["kind"], "station");
    assert_eq!(
        w.answer(&t, ["place", "retire", "gare"]),
        json!({"retired": "gare"})
    );
    let places_csv = t.dir().join("places.csv");
    std::fs::write(
        &places_csv,
        "id,name,kind\nsangatte,Plage de Sangatte,beach\nbridge,Pont Faidherbe,\n",
    )
    .unwrap();
    let imported = w.answer(
        &t,
        [OsString::from("import"), "places".into(), places_csv.into()],
    );
    assert_eq!(imported, json!({"imported": 2}));
    let places = w.answer(&t, ["place", "list"]);
    assert_eq!(keys(&places), ["bridge", "dunes-north", "gare", "sangatte"]);
    // To a file: the answer says where, and the file holds the export.
    let file = t.dir().join("places-export.json");
    let file_arg = file.display().to_string();
    let written = w.answer(&t, ["export", "places", "--out", file_arg.as_str()]);
    assert_eq!(written["written"], file_arg.as_str());
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk, places);
    assert_eq!(
        number(&written["bytes"]),
        std::fs::metadata(&file).unwrap().len()
    );
    assert_eq!(places["gare"]["active"], false);
    assert_eq!(places["sangatte"]["name"], "Plage de Sangatte");

    let poncho = w.answer(
        &t,
        [
            "catalogue",
            "add",
            "rain_poncho",
            "--fr",
            "Poncho de pluie",
            "--en",
            "Rain poncho",
            "--sizes",
            "S,M,L",
        ],
    );
    assert_eq!(
        poncho["label"],
        json!({"fr": "Poncho de pluie", "en": "Rain poncho"})
    );
    assert_eq!(poncho["sizes"], json!(["S", "M", "L"]));
    assert_eq!(poncho["active"], true);
    assert_eq!(
        w.answer(&t, ["catalogue", "retire", "tent"]),
        json!({"retired": "tent"})
    );
    let catalogue_csv = t.dir().join("catalogue.csv");
    std::fs::write(&catalogue_csv, "id,fr,en\nsoap,Savon,Soap\n").unwrap();
    let imported = w.answer(
        &t,
        [
            OsString::from("import"),
            "catalogue".into(),
            catalogue_csv.clone().into(),
        ],
    );
    assert_eq!(imported, json!({"imported": 1}));
    let catalogue = w.answer(&t, ["catalogue", "list"]);
    assert_eq!(catalogue["blanket"]["label"]["fr"], "Couverture");
    assert_eq!(catalogue["tent"]["active"], false);
    assert_eq!(catalogue["rain_poncho"]["sizes"], json!(["S", "M", "L"]));
    assert_eq!(
        catalogue["soap"]["label"],
        json!({"fr": "Savon", "en": "Soap"})
    );
    // Entries arrive by sync only: `import entries` is listed, and refused.
    let refused = w.refusal(
        &t,
        [
            OsString::from("import"),
            "entries".into(),
            catalogue_csv.into(),
        ],
    );
    assert!(refused.contains("entries arrive by sync"), "{refused}");

    assert_eq!(
        w.answer(&t, ["volunteer", "add", "Sam", "--role", "lead"]),
        json!({"role": "lead", "active": true})
    );
    assert_eq!(
        w.answer(&t, ["volunteer", "list"]),
        json!({"Sam": {"role": "lead", "active": true}})
    );
    w.answer(&t, ["volunteer", "add", "Nadia"]);
    assert_eq!(
        w.answer(&t, ["volunteer", "retire", "Nadia"]),
        json!({"retired": "Nadia"})
    );
    assert_eq!(
        w.answer(&t, ["volunteer", "list"])["Nadia"],
        json!({"role": "volunteer", "active": false})
    );

    // The night.
    let shift = w.answer(
        &t,
        [
            "shift",
            "start",
            "--lead",
            "Mira",
            "--team",
            "Jo,Sam",
            "--vehicle",
            "Trafic",
            "--load",
            "blanket=40,tea_coffee=200",
        ],
    );
    let shift_id = text(&shift["id"]).to_string();
    assert_eq!(shift["antenna"], antenna_id.as_str());
    assert_eq!(shift["kind"], "night_maraude");
    assert_eq!(shift["date"], today.as_str());
    assert_eq!(shift["team"], json!(["Jo", "Mira", "Sam"]));
    assert_eq!(
        shift["stock_loaded"],
        json!({"blanket": 40, "tea_coffee": 200})
    );

    let blanket = w.answer(
        &t,
        [
            "log",
            "distribution",
            "blanket",
            "3",
            "--place",
            "dunes-north",
            "--people",
            "3",
        ],
    );
    assert_eq!(
        (
            &blanket["kind"],
            &blanket["item"],
            &blanket["quantity"],
            &blanket["people"]
        ),
        (
            &json!("distribution"),
            &json!("blanket"),
            &json!(3),
            &json!(3)
        )
    );
    assert_eq!(blanket["place"], "dunes-north");
    assert_eq!(blanket["logged_by"], "Jo");
    assert_eq!(blanket["device"], device.as_str());
    let headcount = w.answer(
        &t,
        [
            "log",
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
            "2",
        ],
    );
    assert_eq!(headcount["people"], 70);
    assert_eq!(
        headcount["composition"],
        json!({"men": 60, "women": 6, "children": 4, "minors_alone": 0})
    );
    assert_eq!(headcount["vulnerable"], 2);
    let arrival = w.answer(
        &t,
        [
            "log",
            "arrival",
            "5",
            "--place",
            "sangatte",
            "--languages",
            "ps,ar",
            "--needs",
            "shelter,food",
            "--men",
            "3",
            "--minors",
            "2",
            "--info",
            "Day centre hours",
        ],
    );
    assert_eq!(arrival["group_size"], 5);
    assert_eq!(arrival["languages"], json!(["ar", "ps"]));
    assert_eq!(arrival["needs"], json!(["shelter", "food"]));
    assert_eq!(arrival["information_given"], "Day centre hours");
    let shelter = w.answer(
        &t,
        [
            "log",
            "shelter",
            "--household",
            "3",
            "--alias",
            "Amina",
            "--women",
            "1",
            "--children",
            "2",
            "--vulnerability",
            "baby",
            "--called-115",
        ],
    );
    let shelter_case = text(&shelter["case"]).to_string();
    assert_eq!(shelter["entry"]["kind"], "shelter_request");
    assert_eq!(shelter["entry"]["household_size"], 3);
    assert_eq!(shelter["entry"]["case"], shelter_case.as_str());
    assert!(shelter["entry"].get("alias").is_none(), "{shelter}");
    let referral = w.answer(
        &t,
        [
            "log",
            "referral",
            "--service",
            "pass_clinic",
            "--urgency",
            "urgent",
            "--reason",
            "wound",
            "--alias",
            "Karim",
            "--accompanied-by",
            "Sam",
        ],
    );
    let referral_case = text(&referral["case"]).to_string();
    assert_eq!(referral["entry"]["service"], "pass_clinic");
    assert_eq!(referral["entry"]["urgency"], "urgent");
    assert_eq!(referral["entry"]["accompanied"], true);
    let incident = w.answer(
        &t,
        [
            "log",
            "incident",
            "--type",
            "eviction",
            "--people",
            "40",
            "--description",
            "Tents seized at 7:00",
            "--witnesses",
            "Jo,Sam",
            "--place",
            "dunes-north",
        ],
    );
    assert_eq!(incident["incident_type"], "eviction");
    assert_eq!(incident["people_affected"], 40);
    assert_eq!(incident["witnesses"], json!(["Jo", "Sam"]));
    let note = w.answer(&t, ["log", "note", "Socks running low"]);
    assert_eq!(note["text"], "Socks running low");

    let logged: Vec<String> = [
        &blanket,
        &headcount,
        &arrival,
        &shelter["entry"],
        &referral["entry"],
        &incident,
        &note,
    ]
    .iter()
    .map(|e| text(&e["id"]).to_string())
    .collect();
    let entries = w.answer(&t, ["entries"]);
    assert_eq!(tablet::ids(&entries), logged);
    assert_eq!(entries[5]["description"], "Tents seized at 7:00");

    let edited = w.answer(&t, ["edit", short(&logged[0]), "--quantity", "5"]);
    assert_eq!(edited["quantity"], 5);
    assert_eq!(edited["history"][0]["changes"], json!({"quantity": [3, 5]}));
    let voided = w.answer(&t, ["void", short(&logged[6]), "--reason", "logged twice"]);
    assert_eq!(voided["void"]["reason"], "logged twice");
    assert_eq!(voided["void"]["by"], "Jo");
    assert_eq!(voided["text"], "Socks running low");

    // Follow-ups.
    let case = w.answer(&t, ["case", "show", short(&shelter_case)]);
    assert_eq!(case["person"]["alias"], "Amina");
    assert_eq!(case["household_size"], 3);
    assert_eq!(case["called_115"], true);
    assert_eq!(case["status"], "open");
    assert_eq!(case["opened_in_shift"], shift_id.as_str());
    let case = w.answer(
        &t,
        [
            "case",
            "note",
            short(&shelter_case),
            "115 called again at 23:00",
        ],
    );
    assert_eq!(case["updates"][0]["note"], "115 called again at 23:00");
    assert_eq!(case["updates"][0]["shift"], shift_id.as_str());
    let case = w.answer(
        &t,
        ["case", "close", short(&referral_case), "--outcome", "seen"],
    );
    assert_eq!(
        (&case["status"], &case["outcome"]),
        (&json!("closed"), &json!("seen"))
    );
    let case = w.answer(
        &t,
        [
            "case",
            "reopen",
            short(&referral_case),
            "--reason",
            "a second visit is needed",
        ],
    );
    assert_eq!(case["status"], "open");
    assert_eq!(case["updates"][1]["reason"], "a second visit is needed");
    let follow_ups = w.answer(&t, ["follow-ups"]);
    let open: Vec<(&str, &str)> = follow_ups
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (text(&f["case"]), text(&f["alias"])))
        .collect();
    assert_eq!(
        open,
        [
            (shelter_case.as_str(), "Amina"),
            (referral_case.as_str(), "Karim")
        ]
    );

    // Reports: `--json` wins over `--format`.
    let night = w.answer(&t, ["report", "night", "--format", "csv"]);
    assert_eq!(night["shift"], shift_id.as_str());
    assert_eq!(
        night["distributions"][0]["item"], "blanket",
        "{:#}",
        night["distributions"]
    );
    assert_eq!(night["distributions"][0]["quantity"], 5);
    assert_eq!(night["people_met"]["total"], 70);
    assert_eq!(night["arrivals"]["people"], 5);
    assert_eq!(night["entries"], 6);
    assert_eq!(night["voided"], 1);

    let ended = w.answer(
        &t,
        [
            "shift",
            "end",
            "--returned",
            "blanket=35",
            "--handover",
            "Poncho sizes run small",
        ],
    );
    assert_eq!(ended["id"], shift_id.as_str());
    assert!(ended["ended_at"].is_string(), "{ended}");
    assert_eq!(ended["stock_returned"], json!({"blanket": 35}));
    assert_eq!(ended["handover"], "Poncho sizes run small");
    let shifts = w.answer(&t, ["shift", "list"]);
    assert_eq!(tablet::ids(&shifts), [shift_id.as_str()]);
    assert_eq!(shifts[0]["ended_at"], ended["ended_at"]);
    // Nothing is old enough to be kept as figures only; tonight's shift is
    // held in detail, so there is nothing to bring back.
    assert_eq!(w.answer(&t, ["shift", "list", "--figures-only"]), json!([]));
    let refused = w.refusal(&t, ["shift", "detail", &shift_id]);
    assert!(refused.contains("held in detail"), "{refused}");

    // The antenna's settings, shown, then changed by its coordinator; a
    // reminder longer than a day is refused, saying the most.
    let settings = w.answer(&t, ["settings"]);
    assert_eq!(settings["retention_days"], 30, "{settings}");
    let changed = w.answer(
        &t,
        [
            "settings",
            "--place-reminder-minutes",
            "30",
            "--old-places-by-kind",
            "on",
        ],
    );
    assert_eq!(changed["place_reminder_minutes"], 30, "{changed}");
    assert_eq!(changed["old_places_by_kind"], true, "{changed}");
    let refused = w.refusal(&t, ["settings", "--place-reminder-minutes", "5000"]);
    assert!(refused.contains("between 0 and 1440"), "{refused}");
    assert_eq!(w.answer(&t, ["settings"])["place_reminder_minutes"], 30);

    let period = w.answer(&t, ["report", "period", "--from", &today, "--to", &today]);
    assert_eq!(period["shifts"], 1);
    let blankets = period["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == "blanket")
        .unwrap_or_else(|| panic!("no blanket line: {period:#}"));
    assert_eq!(
        (
            &blankets["distributed"],
            &blankets["loaded"],
            &blankets["returned"]
        ),
        (&json!(5), &json!(40), &json!(35))
    );
    assert_eq!(period["people_met"], 70);
    assert_eq!(period["incidents"], json!({"eviction": 1}));

    // The warehouse: an opening count after tonight's van came back (so
    // its load and return are not counted again), a donation, a transfer
    // past what the shelves hold refused, a minimum, the needs list.
    let counted = w.answer(
        &t,
        [
            "stock",
            "count",
            "blanket",
            "200",
            "--reason",
            "opening count",
        ],
    );
    assert_eq!(counted["on_hand"], 200);
    assert_eq!(counted["movement"]["movement"], "count");
    let received = w.answer(
        &t,
        [
            "stock",
            "receive",
            "sleeping_bag",
            "30",
            "--from",
            "Collecte du lycée",
        ],
    );
    assert_eq!(received["on_hand"], 30);
    assert_eq!(received["movement"]["source"], "donation");
    let refused = w.refusal(
        &t,
        [
            "stock",
            "transfer-out",
            "sleeping_bag",
            "50",
            "--to",
            "Dunkerque",
        ],
    );
    assert!(
        refused.contains("holds 30 sleeping_bag, not 50"),
        "{refused}"
    );
    let moved_in = w.answer(
        &t,
        [
            "stock",
            "transfer-in",
            "sleeping_bag",
            "20",
            "--from",
            "Dunkerque",
        ],
    );
    assert_eq!(moved_in["on_hand"], 50);
    let moved_out = w.answer(
        &t,
        [
            "stock",
            "transfer-out",
            "sleeping_bag",
            "50",
            "--to",
            "Dunkerque",
        ],
    );
    assert_eq!(moved_out["on_hand"], 0);
    assert_eq!(
        w.answer(&t, ["stock", "minimum", "blanket", "300"]),
        json!({"item": "blanket", "minimum": 300})
    );
    let stock = w.answer(&t, ["stock", "show"]);
    assert_eq!(stock["movements"], 4);
    let blanket_line = stock["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "blanket")
        .unwrap_or_else(|| panic!("no blanket line: {stock:#}"));
    assert_eq!(
        (&blanket_line["on_hand"], &blanket_line["minimum"]),
        (&json!(200), &json!(300))
    );
    // Tonight's van used 5 blankets net: over 28 days, 3 in the next 14;
    // with the minimum of 300 and 200 on hand, ask for 103.
    let needs = w.answer(&t, ["needs", "--days", "14"]);
    assert_eq!(needs["days"], 14);
    let blankets_needed = needs["needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["item"] == "blanket")
        .unwrap_or_else(|| panic!("no blankets needed: {needs:#}"));
    assert_eq!(blankets_needed["to_ask"], 103);

    // Exports: JSON whatever --format says.
    let rows = w.answer(&t, ["export", "entries", "--format", "csv"]);
    let exported: BTreeSet<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text(&r["entry"]))
        .collect();
    let counted: BTreeSet<&str> = logged[..6].iter().map(String::as_str).collect();
    assert_eq!(exported, counted, "the voided note is not a row");
    assert!(!rows.to_string().contains("Amina"), "{rows}");
    let catalogue = w.answer(&t, ["export", "catalogue"]);
    assert_eq!(catalogue["soap"]["label"]["en"], "Soap");
    let places = w.answer(&t, ["export", "places"]);
    assert_eq!(keys(&places), ["bridge", "dunes-north", "gare", "sangatte"]);
    // To a file: the answer says where, and the file holds the export.
    let file = t.dir().join("places-export.json");
    let file_arg = file.display().to_string();
    let written = w.answer(&t, ["export", "places", "--out", file_arg.as_str()]);
    assert_eq!(written["written"], file_arg.as_str());
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk, places);
    assert_eq!(
        number(&written["bytes"]),
        std::fs::metadata(&file).unwrap().len()
    );

    // What the store holds, before and after its index is rebuilt.
    let status = w.answer(&t, ["status"]);
    assert_eq!(status["antenna"], "Calais");
    assert_eq!(status["antenna_id"], antenna_id.as_str());
    assert_eq!(status["device"], device.as_str());
    assert_eq!(status["open_shifts"], json!([]));
    let counts = |stats: &Value| {
        (
            number(&stats["documents"]),
            number(&stats["shifts"]),
            number(&stats["entries"]),
            number(&stats["open_cases"]),
        )
    };
    // The antenna, the shift, two cases and the warehouse; seven entries,
    // the void included.
    assert_eq!(counts(&status["stats"]), (5, 1, 7, 2));
    let rebuilt = w.answer(&t, ["rebuild-index"]);
    assert_eq!(counts(&rebuilt), (5, 1, 7, 2));
    assert_eq!(w.answer(&t, ["stock", "show"]), stock);
    assert_eq!(w.answer(&t, ["entries", "--shift", short(&shift_id)]), {
        let mut after = entries.clone();
        after[0] = edited;
        after[6] = voided;
        after
    });

    // A lead erases the referral: its tombstone answers, the case is gone.
    let erased = w.answer(
        &t,
        [
            "case",
            "erase",
            short(&referral_case),
            "--confirm",
            "--by",
            "Sam",
        ],
    );
    assert_eq!(erased["kind"], "referral");
    assert_eq!(erased["erased_by"], "Sam");
    assert!(erased.get("alias").is_none(), "{erased}");
    assert_eq!(w.answer(&t, ["status"])["stats"]["open_cases"], 1);

    // A demo season goes to a new file.
    let demo_store = t.dir().join("demo.maraude");
    let demo = w.answer(
        &t,
        [
            OsString::from("demo"),
            "--store".into(),
            demo_store.into(),
            "--shifts".into(),
            "3".into(),
            "--entries-per-shift".into(),
            "10".into(),
        ],
    );
    assert_eq!(demo["shifts"], 3);
    assert!(number(&demo["entries"]) >= 3, "{demo}");

    // The server's commands, on a tablet not enrolled: refused in JSON
    // (their answers with a server are in tests/sync).
    for args in [
        vec!["sync"],
        vec!["devices"],
        vec!["enrolment-code", "--role", "volunteer"],
        vec!["revoke", "01a208d2-532d-7431-8a42-007f6d44d83c"],
    ] {
        let message = walk.refusal(&t, args);
        assert!(message.contains("not enrolled"), "{message}");
    }
    // Teammates: a tablet never enrolled has no certificate to show.
    for args in [
        vec!["serve-peer", "--listen", "127.0.0.1:0"],
        vec!["sync", "--peer", "127.0.0.1:9"],
        vec!["sync", "--peer", "auto"],
        // Nor the antenna's team secret, to know its teammates by.
        vec!["teammates"],
    ] {
        let message = walk.refusal(&t, args);
        assert!(
            message.contains("no certificate for syncing with teammates"),
            "{message}"
        );
    }
    let message = walk.refusal(&t, ["register", "--server", "http://127.0.0.1:1"]);
    assert!(message.contains("MARAUDE_REGISTRATION_TOKEN"), "{message}");
    let new_store = t.dir().join("joining.maraude");
    let message = walk.refusal(
        &t,
        [
            OsString::from("enrol"),
            "--store".into(),
            new_store.clone().into(),
            "--server".into(),
            "http://127.0.0.1:1".into(),
            "--code".into(),
            "K3MZ-Q7WA-ABCD-EFGH".into(),
        ],
    );
    assert!(message.contains("cannot reach the server"), "{message}");
    assert!(!new_store.exists(), "no store for a failed enrolment");

    // Erasing the device: the antenna's name is the confirmation; a tablet
    // never enrolled had nothing to revoke on a server.
    // Clearing what a server holds: a tablet never enrolled has none.
    let message = walk.refusal(&t, ["clear", "--confirm", "Calais"]);
    assert!(message.contains("not enrolled"), "{message}");
    let message = walk.refusal(&t, ["erase-device", "--confirm", "Dunkerque"]);
    assert!(message.contains("nothing was erased"), "{message}");
    let other = Tablet::for_antenna("Gravelines");
    assert_eq!(
        walk.answer(&other, ["erase-device", "--confirm", "gravelines"]),
        json!({ "server": "not_enrolled" })
    );
    assert!(!other.store().exists());

    let missing: Vec<&String> = walk.listed.difference(&walk.answered).collect();
    assert!(
        missing.is_empty(),
        "commands of --help with no case in this test: {missing:?}; add one"
    );
}

#[test]
fn refusals_under_json_stay_on_stderr_with_a_failing_exit() {
    let t = Tablet::for_antenna("Calais");

    let message = json_error(t.run(["--json", "log", "note", "Tea ready"]));
    assert!(message.contains("no shift is open"), "{message}");

    t.ok(["shift", "start", "--lead", "Mira"]);
    let message = json_error(t.run(["--json", "log", "distribution", "blankett"]));
    assert!(message.contains("unknown item \"blankett\""), "{message}");
    let message = json_error(t.run(["--json", "case", "show", "0000dead"]));
    assert!(message.contains("no case 0000dead"), "{message}");
    let mut cmd = t.command(["--json", "status"]);
    cmd.env("MARAUDE_PASSPHRASE", "dunes du sud 2026");
    let message = json_error(tablet::finish(cmd));
    assert!(message.contains("wrong passphrase"), "{message}");

    // Arguments clap cannot parse: its usage message, on stderr too.
    for args in [
        &["--json", "log", "distribution"][..],
        &["--json", "log", "note"],
        &["--json", "sleep"],
    ] {
        let answer = t.run(args);
        assert!(!answer.succeeded(), "`{}` succeeded", answer.command);
        assert!(
            answer.stdout.is_empty(),
            "`{}` printed {}",
            answer.command,
            answer.stdout
        );
        assert!(answer.stderr.contains("Usage:"), "{}", answer.stderr);
    }

    // Nothing was logged by any of it.
    assert_eq!(t.json(["entries"]), json!([]));
}
