//! The crash test. A tablet's battery dies, the app is killed by
//! the system, a volunteer yanks the cable: whatever moment it happens,
//! an entry the team saw acknowledged is in the store, the store opens, and
//! nothing is duplicated or half-written.
//!
//! The CLI logs one entry per process, so the test runs a loop of
//! `maraude log distribution` processes and kills (SIGKILL, which nothing
//! can catch) most of them at a random moment: some during the Argon2 key
//! derivation, most once the store is open and the entry is being written,
//! committed, checkpointed. Some run next to a companion process that must
//! still succeed. An entry is acknowledged when its process exited
//! successfully and printed its id.
//!
//! `MARAUDE_CRASH_KILLS` sets how many kills (default [`DEFAULT_KILLS`]);
//! `MARAUDE_CRASH_SEED` replays a run's choices (the timing cannot be
//! replayed; the seed is printed).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::process::Child;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::tablet::{self, HANG, Tablet, file_mark, number, text};

const DEFAULT_KILLS: usize = 60;

/// SIGKILL, as `Child::kill` sends it on unix.
const SIGKILL: i32 = 9;

fn kills_wanted() -> usize {
    match std::env::var("MARAUDE_CRASH_KILLS") {
        Ok(n) => n
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MARAUDE_CRASH_KILLS={n} is not a number of kills")),
        Err(_) => DEFAULT_KILLS,
    }
}

fn seed() -> u64 {
    match std::env::var("MARAUDE_CRASH_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("MARAUDE_CRASH_SEED={s} is not a number")),
        Err(_) => rand::random(),
    }
}

/// Each attempt logs blankets with its own (quantity, people served) pair,
/// so that an entry found in the store names the attempt that wrote it.
const PEOPLE_VALUES: u32 = 5001;

fn tagged_distribution(tag: u32) -> Vec<String> {
    let quantity = 1 + tag / PEOPLE_VALUES;
    let people = tag % PEOPLE_VALUES;
    ["--json", "log", "distribution", "blanket"]
        .into_iter()
        .map(str::to_string)
        .chain([quantity.to_string(), "--people".into(), people.to_string()])
        .collect()
}

fn tag_of(entry: &Value) -> u32 {
    let quantity = number(&entry["quantity"]) as u32;
    let people = number(&entry["people"]) as u32;
    (quantity - 1) * PEOPLE_VALUES + people
}

/// One `maraude log distribution` process.
struct Attempt {
    tag: u32,
    child: Child,
    started: Instant,
}

impl Attempt {
    fn spawn(t: &Tablet, tag: u32) -> Self {
        let started = Instant::now();
        let child = tablet::spawn(&mut t.command(tagged_distribution(tag)));
        Attempt {
            tag,
            child,
            started,
        }
    }

    /// Wait for the end: the entry id if acknowledged, `None` if killed.
    fn outcome(mut self) -> Option<String> {
        let status = self.child.wait().expect("waiting for maraude");
        let (stdout, stderr) = tablet::output_of(&mut self.child);
        if status.signal() == Some(SIGKILL) {
            return None;
        }
        assert!(
            status.success(),
            "attempt {} was not killed yet failed ({status}): {stderr}",
            self.tag
        );
        let entry: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "attempt {} succeeded without its entry ({e}): {stdout}",
                self.tag
            )
        });
        assert_eq!(tag_of(&entry), self.tag, "{entry}");
        Some(text(&entry["id"]).to_string())
    }
}

/// The moments of one unkilled run, from its start: when the store was
/// opened (its write-ahead log first changed: the key derivation is over)
/// and when the process ended.
#[derive(Debug, Clone, Copy)]
struct Timing {
    opened: Duration,
    ended: Duration,
}

/// What [`file_mark`] says of a file: size and modification time.
type MarkOf = (u64, std::time::SystemTime);

/// Wait until the store's WAL changes (the store is open) or the process
/// ends; whether it is still running.
fn wait_for_store_opened(t: &Tablet, attempt: &mut Attempt, wal_before: Option<MarkOf>) -> bool {
    loop {
        if attempt.child.try_wait().expect("polling maraude").is_some() {
            return false;
        }
        if file_mark(&t.wal()) != wal_before {
            return true;
        }
        assert!(
            attempt.started.elapsed() < HANG,
            "attempt {} hangs",
            attempt.tag
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn timed_run(t: &Tablet, tag: u32) -> (Timing, String) {
    let wal_before = file_mark(&t.wal());
    let mut attempt = Attempt::spawn(t, tag);
    wait_for_store_opened(t, &mut attempt, wal_before);
    let opened = attempt.started.elapsed();
    let started = attempt.started;
    let id = attempt
        .outcome()
        .unwrap_or_else(|| panic!("attempt {tag} was killed by someone else"));
    let timing = Timing {
        opened,
        ended: started.elapsed(),
    };
    (timing, id)
}

/// When an attempt is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after the start: during the key derivation.
    DuringKeyDerivation(Duration),
    /// This long after the store was opened: reading the shift, writing
    /// the entry, committing, checkpointing, closing. Some of these land
    /// after the process ended: then it is acknowledged.
    DuringWrite(Duration),
}

#[test]
fn no_acknowledged_entry_is_lost_when_loggers_are_killed_at_random_moments() {
    let begun = Instant::now();
    let kills_wanted = kills_wanted();
    let seed = seed();
    eprintln!("killed_mid_entry: {kills_wanted} kills, MARAUDE_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let t = Tablet::for_antenna("Calais");
    t.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=500"]);

    let mut next_tag = 0u32;
    let mut tag = || {
        next_tag += 1;
        next_tag
    };
    let mut acknowledged: BTreeMap<u32, String> = BTreeMap::new();

    // Calibration: a few runs nobody kills, for how long each phase takes.
    let mut timing = Timing {
        opened: Duration::ZERO,
        ended: Duration::ZERO,
    };
    for _ in 0..3 {
        let tag = tag();
        let (run, id) = timed_run(&t, tag);
        timing.opened = timing.opened.max(run.opened);
        timing.ended = timing.ended.max(run.ended);
        acknowledged.insert(tag, id);
    }
    let write_window =
        (timing.ended.saturating_sub(timing.opened) * 3 / 2).max(Duration::from_millis(5));

    let mut kills = BTreeMap::from([("key derivation", 0usize), ("write", 0usize)]);
    let mut spawned = acknowledged.len();
    let mut companions = 0usize;
    let mut attempts = 0usize;
    while kills.values().sum::<usize>() < kills_wanted {
        attempts += 1;
        assert!(
            attempts <= 10 * kills_wanted + 10,
            "only {kills:?} kills after {attempts} attempts: the kills miss (timing {timing:?})"
        );
        let plan = if rng.random_bool(1.0 / 3.0) {
            Kill::DuringKeyDerivation(rng.random_range(Duration::ZERO..timing.opened))
        } else {
            Kill::DuringWrite(rng.random_range(Duration::ZERO..write_window))
        };
        let wal_before = file_mark(&t.wal());
        let mut victim = Attempt::spawn(&t, tag());
        // Now and then a second tablet user logs at the same moment: the
        // kill must not block them (a killed writer's locks are released).
        let companion = rng.random_bool(0.25).then(|| Attempt::spawn(&t, tag()));
        spawned += 1 + usize::from(companion.is_some());
        let phase = match plan {
            Kill::DuringKeyDerivation(after) => {
                std::thread::sleep(after);
                "key derivation"
            }
            Kill::DuringWrite(after) => {
                if wait_for_store_opened(&t, &mut victim, wal_before) {
                    std::thread::sleep(after);
                }
                "write"
            }
        };
        // A process that already ended is not hurt by this.
        let _ = victim.child.kill();
        let victim_tag = victim.tag;
        match victim.outcome() {
            Some(id) => {
                acknowledged.insert(victim_tag, id);
            }
            None => *kills.get_mut(phase).expect("a phase") += 1,
        }
        if let Some(companion) = companion {
            let companion_tag = companion.tag;
            let id = companion.outcome().unwrap_or_else(|| {
                panic!("companion {companion_tag} was killed, and not by this test")
            });
            acknowledged.insert(companion_tag, id);
            companions += 1;
        }
    }

    // What the team sees afterwards.
    let entries = t.json(["entries"]);
    let listed = entries.as_array().expect("a list of entries");
    let mut by_tag: BTreeMap<u32, &str> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for entry in listed {
        let id = text(&entry["id"]);
        assert!(ids.insert(id), "entry {id} is listed twice");
        assert_eq!(entry["kind"], "distribution", "{entry}");
        assert_eq!(entry["item"], "blanket", "{entry}");
        assert_eq!(entry["logged_by"], "Jo", "{entry}");
        assert!(entry.get("void").is_none(), "{entry}");
        let tag = tag_of(entry);
        assert!(
            (1..=next_tag).contains(&tag),
            "entry {id} was written by no attempt: {entry}"
        );
        if let Some(other) = by_tag.insert(tag, id) {
            panic!("attempt {tag} wrote two entries: {other} and {id}");
        }
    }
    for (tag, id) in &acknowledged {
        assert_eq!(
            by_tag.get(tag),
            Some(&id.as_str()),
            "attempt {tag} acknowledged entry {id}, which is not in `maraude entries`"
        );
    }

    // The store opens and its counts agree with the list, before and after
    // the index is derived again from the documents.
    let status = t.json(["status"]);
    assert_eq!(number(&status["stats"]["entries"]), listed.len() as u64);
    assert_eq!(number(&status["stats"]["shifts"]), 1);
    let rebuilt = t.json(["rebuild-index"]);
    assert_eq!(number(&rebuilt["entries"]), listed.len() as u64);
    assert_eq!(
        t.json(["entries"]),
        entries,
        "the rebuilt index lists otherwise"
    );

    // The lead's report adds up what is listed.
    let report = t.json(["report", "night"]);
    let blankets: u64 = listed.iter().map(|e| number(&e["quantity"])).sum();
    let line = &report["distributions"][0];
    assert_eq!(line["item"], "blanket", "{report:#}");
    assert_eq!(number(&line["quantity"]), blankets);
    assert_eq!(number(&line["entries"]), listed.len() as u64);

    // And the night goes on.
    let after = t.log(["distribution", "blanket", "2"]);
    assert_eq!(t.entry_ids().last(), Some(&after));

    eprintln!(
        "killed_mid_entry: {spawned} processes ({companions} beside a victim), kills {kills:?}, \
         {} acknowledged, {} written but killed before acknowledging; timing {timing:?}; {:.1?}",
        acknowledged.len(),
        listed.len() - acknowledged.len(),
        begun.elapsed()
    );
}
