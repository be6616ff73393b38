//! Seeded random schedules: three tablets of one antenna log offline into
//! the same shift, correct and void each other's entries, and sync with
//! the server or with each other (`serve-peer`, `sync --peer`) in random
//! order, sometimes two at once with the server, once in a while while the
//! server is SIGKILLed and restarted. In one schedule out of three a
//! fourth tablet, a volunteer's running a modified client, writes what its
//! role may not (a coordinator named Mallory, a retention of 0 days, an
//! empty catalogue) and syncs with the server and with a teammate. At the
//! end every honest store and the server hold the same index, the totals
//! are what was logged, and nothing of the modified client's is anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use maraude_core::entry::{EntryContent, EntryEdit, NewEntry, Quantity};
use maraude_core::ids::{EntryId, ItemId, Nickname};
use maraude_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use maraude_tests::balancer::Balancer;

use crate::a_team_syncs::{join_at, open, register_at, sync};
use crate::server::Server;
use crate::tablet::{Tablet, output_of, spawn};
use crate::teammates::Serving;

pub const ITEMS: [&str; 3] = ["blanket", "tea_coffee", "sleeping_bag"];

fn schedules() -> u64 {
    std::env::var("MARAUDE_SYNC_SCHEDULES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

/// What the test logged: the final quantity of each entry, and the voids.
#[derive(Debug, Default)]
struct Logged {
    entries: BTreeMap<EntryId, (usize, &'static str, i64)>,
    voided: BTreeSet<EntryId>,
}

impl Logged {
    fn totals(&self) -> BTreeMap<&'static str, i64> {
        let mut out = BTreeMap::new();
        for (id, (_, item, qty)) in &self.entries {
            if !self.voided.contains(id) {
                *out.entry(*item).or_insert(0) += qty;
            }
        }
        out
    }
}

pub fn distribution(item: &str, qty: i64) -> EntryContent {
    EntryContent::Distribution {
        what: None,
        item: item.parse::<ItemId>().unwrap(),
        size: None,
        quantity: Quantity::new(qty).unwrap(),
        people: None,
        composition: Default::default(),
    }
}

/// The servers the tablets sync with: one, or several on one database
/// behind a load balancer (no sticky sessions).
pub struct Servers {
    pub list: Vec<Server>,
    /// Where the tablets enrol and sync: the server, or the balancer.
    pub url: String,
    _balancer: Option<Balancer>,
}

impl Servers {
    fn one(server: Server) -> Self {
        Self {
            url: server.url.clone(),
            list: vec![server],
            _balancer: None,
        }
    }

    fn balanced(list: Vec<Server>) -> Self {
        let balancer = Balancer::start(list.iter().map(Server::address).collect());
        Self {
            url: balancer.url.clone(),
            list,
            _balancer: Some(balancer),
        }
    }

    /// SIGKILL one server and start it again.
    fn restart_one(&mut self, rng: &mut StdRng) {
        // One server: no draw, so that a seed's schedule stays the one it
        // always was.
        let i = if self.list.len() > 1 {
            rng.random_range(0..self.list.len())
        } else {
            0
        };
        self.list[i].restart();
    }
}

fn run_schedule(seed: u64, servers: &mut Servers) {
    let mut rng = StdRng::seed_from_u64(seed);
    let coordinator = Tablet::for_antenna(&format!("Antenne {seed}"));
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register_at(&coordinator, &servers.url);
    let lead = join_at(&coordinator, &servers.url, "lead");
    let volunteer = join_at(&coordinator, &servers.url, "volunteer");
    let tablets = [&coordinator, &lead, &volunteer];
    for t in tablets {
        sync(t);
    }
    let adversary = seed.is_multiple_of(3).then(|| {
        let t = join_at(&coordinator, &servers.url, "volunteer");
        sync(&t);
        crate::authorised_writes::claim_to_be_coordinator(&t);
        t
    });
    // Its own random numbers: the honest tablets' schedule stays the one
    // its seed gives.
    let mut forger = StdRng::seed_from_u64(seed ^ 0x6261_6421);
    // Each tablet's store stays open in this process, as the app keeps it
    // open, while `maraude sync` processes write to the same files.
    let mut stores: Vec<Store> = tablets.iter().map(|t| open(t)).collect();
    let names: Vec<Nickname> = ["Mira", "Jo", "Sam"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    let mut logged = Logged::default();
    let kill_at = if seed.is_multiple_of(4) {
        Some(rng.random_range(0..12))
    } else {
        None
    };
    for step in 0..12 {
        let dev = rng.random_range(0..3);
        match rng.random_range(0..10) {
            0..=4 => {
                let shift = stores[dev].current_shift().unwrap();
                let item = ITEMS[rng.random_range(0..ITEMS.len())];
                let qty = rng.random_range(1..6);
                let new = NewEntry {
                    at: None,
                    place: None,
                    content: distribution(item, qty),
                };
                let entry = stores[dev].log(&shift.id, &names[dev], new).unwrap();
                logged.entries.insert(entry.id, (dev, item, qty));
            }
            5 => {
                let mine: Vec<EntryId> = logged
                    .entries
                    .iter()
                    .filter(|(_, (by, _, _))| *by == dev)
                    .map(|(id, _)| *id)
                    .collect();
                if let Some(id) = mine.get(rng.random_range(0..mine.len().max(1))) {
                    let (_, item, before) = logged.entries[id];
                    let qty = before % 8 + rng.random_range(1..8);
                    let at = stores[dev].entry(id).unwrap().at;
                    let edit = EntryEdit {
                        at,
                        place: None,
                        content: distribution(item, qty),
                    };
                    // A void from another tablet may have arrived: the
                    // core refuses to correct a voided entry.
                    match stores[dev].edit_entry(id, &names[dev], edit) {
                        Ok(_) => logged.entries.get_mut(id).unwrap().2 = qty,
                        Err(maraude_store::StoreError::Invalid(
                            maraude_core::Invalid::EntryVoided,
                        )) => assert!(logged.voided.contains(id), "seed {seed}"),
                        Err(e) => panic!("seed {seed}: {e}"),
                    }
                }
            }
            6 => {
                let known: Vec<EntryId> = logged
                    .entries
                    .keys()
                    .filter(|id| !logged.voided.contains(id) && stores[dev].entry(id).is_ok())
                    .copied()
                    .collect();
                if let Some(id) = known.get(rng.random_range(0..known.len().max(1))) {
                    stores[dev]
                        .void_entry(id, &names[dev], "logged twice")
                        .unwrap();
                    logged.voided.insert(*id);
                }
            }
            7 => {
                sync(tablets[dev]);
            }
            8 => {
                // With a teammate's tablet, no server involved.
                let other = (dev + 1 + rng.random_range(0..2)) % 3;
                let serving = Serving::start(tablets[other]);
                tablets[dev].json(["sync", "--peer", &serving.address]);
            }
            _ => {
                // Two tablets sync at the same moment.
                let other = (dev + 1 + rng.random_range(0..2)) % 3;
                let mut a = spawn(&mut tablets[dev].command(["--json", "sync"]));
                let mut b = spawn(&mut tablets[other].command(["--json", "sync"]));
                for child in [&mut a, &mut b] {
                    let status = child.wait().unwrap();
                    let (_, err) = output_of(child);
                    assert!(
                        status.success(),
                        "seed {seed}: concurrent sync failed: {err}"
                    );
                }
            }
        }
        if let Some(adversary) = &adversary
            && forger.random_range(0..3) == 0
        {
            forge(adversary, forger.random_range(0..3), step);
            if forger.random_bool(0.5) {
                let answer = adversary.json(["sync"]);
                assert!(
                    !answer["refusals"].as_array().unwrap().is_empty(),
                    "seed {seed}: the server took the modified client's changes: {answer}"
                );
            } else {
                let serving = Serving::start(tablets[forger.random_range(0..3)]);
                adversary.json(["sync", "--peer", &serving.address]);
            }
        }
        if kill_at == Some(step) {
            // SIGKILL the server while a tablet syncs; it may fail, it must
            // lose nothing.
            let mut child = spawn(&mut tablets[dev].command(["--json", "sync"]));
            std::thread::sleep(Duration::from_millis(rng.random_range(0..120)));
            servers.restart_one(&mut rng);
            let _ = child.wait();
            let _ = output_of(&mut child);
        }
    }
    for _round in 0..2 {
        for t in tablets {
            sync(t);
        }
    }
    let expected = logged.totals();
    let antenna = stores[0].antenna_id().to_string();
    for (dev, store) in stores.iter().enumerate() {
        let a = store.antenna().unwrap();
        assert!(
            !a.volunteers.contains_key(&"Mallory".parse().unwrap()),
            "seed {seed}: tablet {dev} lists the forged coordinator"
        );
        assert_eq!(a.settings.retention_days, 30, "seed {seed}: tablet {dev}");
        assert!(!a.catalogue.is_empty(), "seed {seed}: tablet {dev}");
    }
    let tablet_dump = stores[0].index_dump().unwrap();
    for (i, server) in servers.list.iter().enumerate() {
        // Another server's changes reach this one's copy within a second
        // or so (the database's announcements).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let server_dump = server.antenna_store(&antenna).index_dump().unwrap();
            if server_dump == tablet_dump {
                break;
            }
            if std::time::Instant::now() > deadline {
                let only_server: Vec<_> = server_dump
                    .iter()
                    .filter(|l| !tablet_dump.contains(l))
                    .collect();
                let only_tablets: Vec<_> = tablet_dump
                    .iter()
                    .filter(|l| !server_dump.contains(l))
                    .collect();
                panic!(
                    "seed {seed}: server {i} differs from the tablets ({} lines against {}): only on the server {only_server:#?}, only on the tablets {only_tablets:#?}; its log: {}",
                    server_dump.len(),
                    tablet_dump.len(),
                    std::fs::read_to_string(server.data_dir.with_extension("log"))
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let today = maraude_core::time::paris_date(Utc::now());
    for (dev, store) in stores.iter().enumerate() {
        assert_eq!(
            store.index_dump().unwrap(),
            tablet_dump,
            "seed {seed}: tablet {dev} differs from the others"
        );
        let report = store
            .period_report(today - chrono::Days::new(1), today, maraude_core::Lang::En)
            .unwrap();
        let got: BTreeMap<&str, i64> = report
            .items
            .iter()
            .filter(|i| i.distributed > 0)
            .map(|i| {
                (
                    ITEMS
                        .iter()
                        .find(|n| **n == i.item.as_str())
                        .copied()
                        .unwrap(),
                    i64::from(i.distributed),
                )
            })
            .collect();
        assert_eq!(got, expected, "seed {seed}: tablet {dev}'s totals");
    }
}

/// What the modified client writes into its antenna document: its own
/// store claims the coordinator's role, so its checks let it.
fn forge(adversary: &Tablet, what: u32, step: usize) {
    let mut store = open(adversary);
    store
        .update_antenna(|a| {
            match what {
                0 => {
                    a.volunteers.insert(
                        format!("Mallory{step}").parse().unwrap(),
                        maraude_core::antenna::Volunteer {
                            role: maraude_core::antenna::Role::Coordinator,
                            active: true,
                        },
                    );
                    a.volunteers.insert(
                        "Mallory".parse().unwrap(),
                        maraude_core::antenna::Volunteer {
                            role: maraude_core::antenna::Role::Coordinator,
                            active: true,
                        },
                    );
                }
                1 => a.settings.retention_days = 0,
                _ => a.catalogue.clear(),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_schedules_of_offline_logging_and_syncs_converge_to_what_was_logged() {
    let dir = tempfile::tempdir().unwrap();
    // Three enrolments a schedule, all from this machine's address.
    let server = Server::start_with(
        &dir.path().join("server"),
        &[("MARAUDE_ENROL_ATTEMPTS_PER_MINUTE", "1000")],
    );
    let mut servers = Servers::one(server);
    for seed in seeds(schedules()) {
        run_schedule(seed, &mut servers);
    }
}

fn seeds(count: u64) -> std::ops::Range<u64> {
    let base: u64 = std::env::var("MARAUDE_SYNC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    base..base + count
}

/// The same schedules with two servers on one PostgreSQL database, each
/// tablet's connections going to either at random; one server SIGKILLed
/// mid-sync in one schedule out of four. A third of the schedules, as
/// each costs twice the servers.
#[test]
fn random_schedules_with_two_servers_on_one_database_converge_to_what_was_logged() {
    let Some(url) = maraude_tests::postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let list = ["first", "second"]
        .iter()
        .map(|name| {
            Server::start_with(
                &dir.path().join(name),
                &[
                    ("MARAUDE_ENROL_ATTEMPTS_PER_MINUTE", "1000"),
                    ("MARAUDE_DATABASE_URL", &url),
                ],
            )
        })
        .collect();
    let mut servers = Servers::balanced(list);
    for seed in seeds(schedules().div_ceil(3)) {
        run_schedule(seed, &mut servers);
    }
}
