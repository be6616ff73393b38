//! A tired volunteer mistypes, in the dark, with gloves. Every mistake is
//! refused with a message that says what is wrong and what to do, the
//! command exits non-zero, and the store is left byte for byte as it was:
//! no half-written entry, no stray change.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use maraude_core::limits::LONG_TEXT;

use crate::tablet::{self, Tablet, paris_clock, short};

/// A store in the middle of a night: a shift open, a distribution, a voided
/// one, an open referral, a retired item.
struct MidNight {
    tablet: Tablet,
    blanket: String,
    voided: String,
    case: String,
}

fn mid_night() -> MidNight {
    let t = Tablet::for_antenna("Calais");
    t.ok(["place", "add", "dunes-north", "--name", "Dunes nord"]);
    t.ok(["catalogue", "retire", "tent"]);
    t.ok([
        "shift",
        "start",
        "--lead",
        "Mira",
        "--team",
        "Jo,Sam",
        "--load",
        "blanket=40",
    ]);
    let blanket = t.log(["distribution", "blanket", "2", "--place", "dunes-north"]);
    let voided = t.log(["distribution", "blanket"]);
    t.ok(["void", short(&voided), "--reason", "logged twice"]);
    let (_, case) = t.open_case([
        "referral",
        "--service",
        "pass_clinic",
        "--reason",
        "toothache",
        "--alias",
        "Yonas",
    ]);
    MidNight {
        tablet: t,
        blanket,
        voided,
        case,
    }
}

/// Run `cmd` (a command of `t`), which must be refused with every one of
/// `expected` in its message, and leave the store file and its WAL
/// untouched. A byte-identical file is the strongest "nothing written":
/// whatever the CLI reads back is then the same too.
fn refused_untouched(t: &Tablet, cmd: Command, expected: &[&str]) -> String {
    let before = t.file_bytes();
    let message = tablet::refused(tablet::finish(cmd));
    for e in expected {
        assert!(
            message.contains(e),
            "the message should say \"{e}\"; it says: {message}"
        );
    }
    assert!(
        t.file_bytes() == before,
        "a refused command changed the store file ({:?} → {:?}); it said: {message}",
        before,
        t.file_bytes()
    );
    message
}

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

#[test]
fn every_mistake_is_refused_with_a_reason_and_writes_nothing() {
    let night = mid_night();
    let t = &night.tablet;
    let seen_before = t.seen();

    let long = "x".repeat(LONG_TEXT + 1);
    let too_long = format!("{} characters, at most {LONG_TEXT}", LONG_TEXT + 1);
    let hour_ago = paris_clock(chrono::Duration::hours(1));
    let three_hours_ago = paris_clock(chrono::Duration::hours(3));
    let places = |name: &str, body: &str| {
        let path = t.dir().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let missing_name = places(
        "places-missing-name.csv",
        "id,name,kind\nbeach-1,Plage,beach\nbridge\n",
    );
    let catalogue_no_en = places("catalogue-no-en.csv", "id,fr\nsoap,Savon\n");
    let places_garbage = places("places.json", "{\"garbage\": [1, 2");
    let catalogue_garbage = places("catalogue.json", "<html>not json</html>");
    let header_only = places("places-empty.csv", "id,name,kind\n");
    let missing_name = missing_name.to_str().unwrap();

    let cases: Vec<(Vec<OsString>, Vec<&str>)> = vec![
        // Unknown item: the message lists what can be logged.
        (
            args(&["log", "distribution", "blankett", "2"]),
            vec![
                "unknown item \"blankett\" in antenna Calais",
                "known items: ",
                "blanket",
                "sleeping_bag",
                "hot_meal",
            ],
        ),
        (
            args(&["log", "distribution", "tent"]),
            vec!["\"tent\" is retired", "maraude catalogue add"],
        ),
        (
            args(&["log", "distribution", "shoes", "1", "--size", "50"]),
            vec!["unknown size \"50\" for shoes", "36, 37"],
        ),
        (
            args(&["log", "distribution", "blanket", "2", "--place", "nowhere"]),
            vec!["unknown place \"nowhere\"", "known places: dunes-north"],
        ),
        // Quantities: never zero, never negative, never absurd.
        (
            args(&["log", "distribution", "blanket", "0"]),
            vec!["quantity must be between 1 and 1000, got 0"],
        ),
        (
            args(&["log", "distribution", "blanket", "-3"]),
            vec!["quantity must be between 1 and 1000, got -3"],
        ),
        (
            args(&["log", "distribution", "blanket", "5000"]),
            vec!["quantity must be between 1 and 1000, got 5000"],
        ),
        (
            args(&["edit", short(&night.blanket), "--quantity", "0"]),
            vec!["quantity must be between 1 and 1000, got 0"],
        ),
        (
            args(&["log", "headcount", "6000"]),
            vec!["people must be between 0 and 5000, got 6000"],
        ),
        (
            args(&["log", "headcount", "10", "--men", "8", "--women", "5"]),
            vec!["breakdown (13 people) is more than the 10 people counted"],
        ),
        (
            args(&["log", "arrival", "0"]),
            vec!["group size must be between 1 and 5000, got 0"],
        ),
        // Text over the documented size (crates/core/src/limits.rs).
        (
            args(&["log", "note", &long]),
            vec!["note is too long", &too_long],
        ),
        (
            args(&[
                "log",
                "incident",
                "--type",
                "eviction",
                "--people",
                "3",
                "--description",
                &long,
            ]),
            vec!["incident description is too long", &too_long],
        ),
        (
            args(&["log", "arrival", "4", "--info", &long]),
            vec!["information given is too long", &too_long],
        ),
        (
            args(&[
                "log",
                "referral",
                "--service",
                "legal_aid",
                "--reason",
                "x",
                "--alias",
                &"a".repeat(81),
            ]),
            vec!["alias is too long: 81 characters, at most 80"],
        ),
        // Personal data has no place in the shift log.
        (
            args(&["log", "note", "Call Ahmed back on 06 12 34 56 78"]),
            vec!["phone number", "follow-up case"],
        ),
        (
            args(&[
                "log",
                "incident",
                "--type",
                "violence",
                "--people",
                "1",
                "--description",
                "Witness reachable at +33612345678",
            ]),
            vec!["incident description looks like it holds a phone number"],
        ),
        (
            args(&[
                "log",
                "shelter",
                "--household",
                "2",
                "--alias",
                "A",
                "--phone",
                "ask Sam",
            ]),
            vec!["not a phone number: \"ask Sam\""],
        ),
        (
            args(&[
                "log",
                "incident",
                "--type",
                "eviction",
                "--people",
                "3",
                "--description",
                "  ",
            ]),
            vec!["incident description must not be empty"],
        ),
        (
            args(&[
                "log",
                "referral",
                "--service",
                "hospital",
                "--reason",
                "x",
                "--alias",
                "A",
            ]),
            vec!["service", "hospital_emergency", "pass_clinic"],
        ),
        // Times: HH:MM means the latest such moment not after now (Paris).
        (
            args(&["log", "distribution", "blanket", "--at", "25:00"]),
            vec!["use HH:MM"],
        ),
        (
            args(&["log", "distribution", "blanket", "--at", &three_hours_ago]),
            vec!["outside the shift"],
        ),
        (
            args(&["shift", "end", "--at", &hour_ago]),
            vec!["the end (", ") is before the start ("],
        ),
        (
            args(&["shift", "end", "--returned", "blanket=many"]),
            vec!["\"blanket=many\": the count must be a whole number"],
        ),
        (
            args(&["shift", "end", "--returned", "blankett=3"]),
            vec!["unknown item \"blankett\""],
        ),
        (
            args(&["log", "distribution", "blanket", "--shift", "deadbeef"]),
            vec!["no shift deadbeef", "maraude shift list"],
        ),
        // Corrections follow the rules too.
        (
            args(&["void", short(&night.blanket), "--reason", " "]),
            vec!["a void needs a reason"],
        ),
        (
            args(&["edit", short(&night.voided), "--quantity", "3"]),
            vec!["voided entries cannot be edited"],
        ),
        (
            args(&["edit", short(&night.blanket), "--text", "hello"]),
            vec!["--text does not apply to a distribution"],
        ),
        (
            args(&["case", "close", short(&night.case), "--outcome", "placed"]),
            vec!["say where the person was placed"],
        ),
        (
            args(&["case", "close", short(&night.case), "--outcome", "no_place"]),
            vec!["does not fit a referral"],
        ),
        (
            args(&["case", "close", short(&night.case), "--outcome", "found"]),
            vec!["unknown outcome \"found\""],
        ),
        // Reference data.
        (
            args(&[
                "catalogue",
                "add",
                "Rain Poncho",
                "--fr",
                "Poncho",
                "--en",
                "Poncho",
            ]),
            vec!["not a valid item id: \"Rain Poncho\""],
        ),
        (
            args(&["place", "add", "bridge", "--name", " "]),
            vec!["place name must not be empty"],
        ),
        // Imports: all or nothing, the file and the line named.
        (
            vec!["import".into(), "places".into(), missing_name.into()],
            vec![
                missing_name,
                "line 3 has 1 columns; expected id,name[,kind]",
            ],
        ),
        (
            vec![
                "import".into(),
                "catalogue".into(),
                catalogue_no_en.clone().into(),
            ],
            vec!["catalogue-no-en.csv: line 2 has 2 columns; expected id,fr,en"],
        ),
        (
            vec!["import".into(), "places".into(), places_garbage.into()],
            vec![
                "places.json: not places in the JSON form Maraude exports",
                "`maraude export places --format json`",
            ],
        ),
        (
            vec![
                "import".into(),
                "catalogue".into(),
                catalogue_garbage.into(),
            ],
            vec![
                "catalogue.json: not a catalogue in the JSON form Maraude exports",
                "`maraude export catalogue --format json`",
            ],
        ),
        (
            vec!["import".into(), "places".into(), header_only.into()],
            vec!["places-empty.csv: no rows"],
        ),
        (
            vec![
                "import".into(),
                "places".into(),
                t.dir().join("no-such-file.csv").into(),
            ],
            vec!["cannot read", "no-such-file.csv"],
        ),
    ];
    for (args, expected) in &cases {
        refused_untouched(t, t.command(args), expected);
    }

    // A wrong passphrase: said as such.
    let mut cmd = t.command(["status"]);
    cmd.env("MARAUDE_PASSPHRASE", "dunes du sud 2026");
    refused_untouched(
        t,
        cmd,
        &["wrong passphrase", "check the antenna passphrase"],
    );
    let mut cmd = t.command(["log", "distribution", "blanket"]);
    cmd.env("MARAUDE_PASSPHRASE", "dunes du sud 2026");
    refused_untouched(t, cmd, &["wrong passphrase"]);

    // Nobody said who is logging.
    let mut cmd = t.command(["log", "distribution", "blanket"]);
    cmd.env_remove("MARAUDE_VOLUNTEER");
    refused_untouched(t, cmd, &["say who you are", "MARAUDE_VOLUNTEER"]);

    // A mistyped store path creates nothing there.
    let elsewhere = t.dir().join("calias.maraude");
    let mut cmd = t.command(["log", "distribution", "blanket"]);
    cmd.env("MARAUDE_STORE", &elsewhere);
    refused_untouched(t, cmd, &["no store at", "maraude init"]);
    assert!(!elsewhere.exists(), "a store appeared at a mistyped path");

    // Creating over the existing store is refused.
    refused_untouched(
        t,
        t.command(["init", "--antenna", "Calais"]),
        &["a store already exists"],
    );

    assert_eq!(
        t.seen(),
        seen_before,
        "a refused command changed what the CLI shows"
    );

    // The documented limit itself is accepted: 4000 characters is a note.
    let at_limit = "y".repeat(LONG_TEXT);
    let id = t.log(["note", at_limit.as_str()]);
    let entries = t.json(["entries"]);
    let note = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap();
    assert_eq!(note["text"].as_str().unwrap().chars().count(), LONG_TEXT);
}

/// `setsid` starts a command with no controlling terminal: the only way,
/// without `unsafe`, to be sure the passphrase prompt has none to open.
fn without_terminal(mut cmd: Command) -> Option<Command> {
    let setsid = ["/usr/bin/setsid", "/bin/setsid"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file());
    match setsid {
        Some(setsid) => {
            let mut wrapped = Command::new(setsid);
            wrapped.arg(cmd.get_program()).args(cmd.get_args());
            for (k, v) in cmd.get_envs() {
                match v {
                    Some(v) => wrapped.env(k, v),
                    None => wrapped.env_remove(k),
                };
            }
            wrapped.env_clear_if_cleared(&mut cmd);
            Some(wrapped)
        }
        // No setsid: fine if this test itself has no terminal.
        None if std::fs::File::open("/dev/tty").is_err() => Some(cmd),
        None => None,
    }
}

/// `Command::env_clear` is not visible through `get_envs`: replay it.
trait ReplayEnvClear {
    fn env_clear_if_cleared(&mut self, original: &mut Command) -> &mut Self;
}

impl ReplayEnvClear for Command {
    fn env_clear_if_cleared(&mut self, original: &mut Command) -> &mut Self {
        // Tablet commands always clear the environment first; rebuild it
        // from what they set.
        let set: Vec<(OsString, Option<OsString>)> = original
            .get_envs()
            .map(|(k, v)| (k.to_owned(), v.map(OsStr::to_owned)))
            .collect();
        self.env_clear();
        for (k, v) in set {
            if let Some(v) = v {
                self.env(k, v);
            }
        }
        self
    }
}

#[test]
fn with_no_passphrase_and_no_terminal_the_cli_says_so_instead_of_waiting() {
    let t = Tablet::for_antenna("Calais");
    let mut cmd = t.command(["status"]);
    cmd.env_remove("MARAUDE_PASSPHRASE");
    let Some(cmd) = without_terminal(cmd) else {
        eprintln!("skipped: no `setsid` to detach from this test's terminal");
        return;
    };
    let before = t.file_bytes();
    let answer = tablet::finish_within(cmd, Duration::from_secs(20));
    let message = tablet::refused(answer);
    assert!(
        message.contains("cannot read the passphrase: set MARAUDE_PASSPHRASE or run in a terminal"),
        "{message}"
    );
    assert!(t.file_bytes() == before);
}

#[test]
fn a_store_from_a_newer_maraude_is_refused_and_left_as_it_was() {
    let night = mid_night();
    let t = &night.tablet;
    let seen_before = t.seen();

    let this_version = tablet::set_schema_version(t.store(), 99);
    for args in [
        &["status"][..],
        &["entries"],
        &["log", "distribution", "blanket"],
        &["rebuild-index"],
    ] {
        refused_untouched(
            t,
            t.command(args),
            &[
                "written by a newer version of Maraude",
                "store format 99",
                "update Maraude on this device",
            ],
        );
    }

    // Back to this version's schema: everything is where it was.
    tablet::set_schema_version(t.store(), this_version);
    assert_eq!(t.seen(), seen_before);
}
