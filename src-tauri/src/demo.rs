//! "Try with a demo antenna": a new store holding a few weeks of an invented
//! antenna's activity, ending yesterday, as `maraude demo` makes it.

use std::path::Path;

use chrono::Utc;
use maraude_device::DeviceError;
use maraude_device::demo::{self, ending_yesterday};
use maraude_store::{Passphrase, Store};

/// About three weeks: enough for a timeline, follow-ups and reports, and
/// written in a few seconds on a tablet.
const SHIFTS: usize = 60;
const SEED: u64 = 2026;
const ANTENNA: &str = "Calais (démo)";

pub fn create(path: &Path, passphrase: &Passphrase) -> Result<Store, DeviceError> {
    let plan = ending_yesterday(SHIFTS, SEED, Utc::now());
    Ok(demo::create(path, passphrase, ANTENNA, &plan)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_antenna_has_places_items_and_no_shift_left_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let store = create(&path, &Passphrase::new("demo passphrase".into())).expect("demo");
        let antenna = store.antenna().expect("antenna");
        assert!(antenna.places.len() > 5);
        assert!(
            antenna
                .catalogue
                .contains_key(&"blanket".parse().expect("item id"))
        );
        assert!(store.open_shifts().expect("shifts").is_empty());
        assert!(store.stats().expect("stats").entries > 1_000);
    }
}
