//! A device of the bench: its own encrypted store in a temporary
//! directory, driven in this process through the same library calls as
//! `maraude sync`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maraude_core::access::Role;
use maraude_core::antenna::Antenna;
use maraude_core::entry::{Entry, EntryContent, NewEntry, Quantity};
use maraude_core::ids::{EntryId, ItemId, Nickname, PlaceId, ShiftId};
use maraude_core::shift::{NewShift, ShiftKind};
use maraude_device::enrolment;
use maraude_device::sync::Partner;
use maraude_store::{Passphrase, ServerLink, Store};
use maraude_sync::{Patience, StoreHandle, SyncSummary, enrol};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PASSPHRASE: &str = "maraude sync bench";
pub const REGISTRATION_TOKEN: &str = "sync-bench-registration";

/// The threads of the devices' stores: each closes its store (the last
/// checkpoint, page encryption) once its handles are gone. [`wait_for_stores`]
/// waits for them before the process exits, which must not happen under a
/// closing store (a debug run once crashed there, in SQLCipher's teardown).
static STORE_THREADS: Mutex<Vec<JoinHandle<Store>>> = Mutex::new(Vec::new());

fn spawn(store: Store) -> StoreHandle {
    let (handle, thread) = StoreHandle::spawn(store);
    STORE_THREADS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(thread);
    handle
}

/// Wait (30 s at most) until every device's store is closed: call once
/// the devices and the runtime, whose tasks may hold store handles, are
/// dropped.
pub fn wait_for_stores() {
    let threads = std::mem::take(&mut *STORE_THREADS.lock().unwrap_or_else(|p| p.into_inner()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for thread in threads {
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

#[derive(Debug)]
pub struct Device {
    pub store: StoreHandle,
    pub link: ServerLink,
}

/// The bench's server, on this machine (plain HTTP to loopback).
fn address(server: &str) -> Result<enrolment::ServerAddress> {
    Ok(enrolment::ServerAddress::parse(
        server,
        enrolment::PlainHttp::Refused,
    )?)
}

impl Device {
    /// The coordinator's device: creates the antenna and registers it.
    pub async fn coordinator(dir: &Path, server: &str, antenna: &Antenna) -> Result<Self> {
        let store = Store::create_for(
            &dir.join("coordinator.maraude"),
            &Passphrase::new(PASSPHRASE.into()),
            antenna,
        )?;
        let store = spawn(store);
        enrolment::register(&store, &address(server)?, REGISTRATION_TOKEN, "coordinator").await?;
        let link = store
            .with(|s| s.server_link())
            .await??
            .context("registered, so linked")?;
        Ok(Self { store, link })
    }

    /// A device enrolled with a code the coordinator asked for.
    pub async fn enrolled(
        dir: &Path,
        name: &str,
        server: &str,
        coordinator: &Device,
        role: Role,
    ) -> Result<Self> {
        let code = enrol::enrolment_code(&coordinator.link, role).await?;
        let (store, _) = enrolment::join(
            &dir.join(format!("{name}.maraude")),
            &Passphrase::new(PASSPHRASE.into()),
            &address(server)?,
            &code.code,
            name,
        )
        .await?;
        let link = store.server_link()?.context("enrolled, so linked")?;
        Ok(Self {
            store: spawn(store),
            link,
        })
    }

    pub async fn sync(&self) -> Result<SyncSummary> {
        Ok(maraude_device::sync::sync(
            &self.store,
            &Partner::Server,
            Patience::default(),
            |_, _| {},
        )
        .await?)
    }

    /// Every entry in this device's index.
    pub async fn entries(&self) -> Result<HashMap<EntryId, Entry>> {
        self.store
            .with(|s| {
                let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
                let to = NaiveDate::from_ymd_opt(2100, 1, 1).expect("a date");
                let mut all = HashMap::new();
                for shift in s.shifts(from, to)? {
                    for entry in s.entries(&shift.id)? {
                        all.insert(entry.id, entry);
                    }
                }
                Ok::<_, maraude_store::StoreError>(all)
            })
            .await?
            .context("cannot list the entries")
    }

    pub async fn start_shift(&self, started_at: DateTime<Utc>) -> Result<ShiftId> {
        let shift = self
            .store
            .with(move |s| {
                let lead = lead(&s.antenna()?);
                s.start_shift(NewShift {
                    kind: ShiftKind::NightMaraude,
                    started_at: Some(started_at),
                    lead,
                    team: Default::default(),
                    vehicle: Some("van".into()),
                    stock_loaded: Default::default(),
                })
            })
            .await??;
        Ok(shift.id)
    }

    /// Log `n` entries in `shift`, one transaction each as in the app,
    /// their times a minute apart from `from`.
    pub async fn log(
        &self,
        shift: ShiftId,
        n: usize,
        from: DateTime<Utc>,
        seed: u64,
    ) -> Result<()> {
        self.store
            .with(move |s| {
                let antenna = s.antenna()?;
                let mut made = Entries::new(&antenna, seed);
                let by = lead(&antenna);
                let now = Utc::now();
                for i in 0..n {
                    let at = (from + Duration::minutes(i as i64)).min(now);
                    s.log(&shift, &by, made.next(at))?;
                }
                Ok::<_, maraude_store::StoreError>(())
            })
            .await??;
        Ok(())
    }
}

fn lead(antenna: &Antenna) -> Nickname {
    antenna
        .volunteers
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| "Mira".parse().expect("a nickname"))
}

/// Entries of the kind a night brings: mostly distributions, headcounts at
/// the places visited, a few short notes.
struct Entries {
    rng: StdRng,
    items: Vec<ItemId>,
    places: Vec<PlaceId>,
}

const NOTES: [&str; 6] = [
    "Thé servi, ambiance calme",
    "Two new arrivals asked about the day centre",
    "Plus de couvertures en taille adulte",
    "Pluie forte, distribution écourtée",
    "Orienté vers la PASS pour une blessure au pied",
    "Groupe déplacé depuis le bois ce matin",
];

impl Entries {
    fn new(antenna: &Antenna, seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            items: antenna
                .catalogue
                .iter()
                .filter(|(_, item)| item.active && item.sizes.is_empty())
                .map(|(id, _)| id.clone())
                .collect(),
            places: antenna.places.keys().cloned().collect(),
        }
    }

    fn next(&mut self, at: DateTime<Utc>) -> NewEntry {
        let place = (!self.places.is_empty())
            .then(|| self.places[self.rng.random_range(0..self.places.len())].clone());
        let content = match self.rng.random_range(0..10) {
            0 => EntryContent::Note {
                text: format!(
                    "{} ({})",
                    NOTES[self.rng.random_range(0..NOTES.len())],
                    self.rng.random_range(1..40)
                ),
            },
            1 => EntryContent::Headcount {
                people: self.rng.random_range(3..80),
                composition: Default::default(),
                vulnerable: self.rng.random_range(0..4),
            },
            _ => {
                let item = self.items[self.rng.random_range(0..self.items.len())].clone();
                EntryContent::Distribution {
                    // An "other" says what it was, as the app asks.
                    what: item.is_other().then(|| "lampe torche".to_string()),
                    item,
                    size: None,
                    quantity: Quantity::new(self.rng.random_range(1..12)).expect("in range"),
                    people: Some(self.rng.random_range(1..12)),
                    composition: Default::default(),
                }
            }
        };
        NewEntry {
            at: Some(at),
            place,
            content,
        }
    }
}
