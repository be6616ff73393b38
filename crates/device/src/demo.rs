//! "Try with a demo antenna" (the app) and `maraude demo`: a new store
//! holding an invented antenna's season, by default ending yesterday so
//! that its follow-ups and last nights look like this week's.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use maraude_demo::{SeasonPlan, demo_antenna, season};
use maraude_store::{Passphrase, Store, StoreError};

use crate::DeviceError;

/// What a demo store holds, to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSeason {
    pub shifts: usize,
    /// Every entry logged, voided ones included.
    pub entries: usize,
    pub cases: usize,
    pub first_day: NaiveDate,
    /// The day the last shift started.
    pub last_day: NaiveDate,
}

/// `shifts` shifts ending the day before `now` (Paris days), every one of
/// them over by `now`.
pub fn ending_yesterday(shifts: usize, seed: u64, now: DateTime<Utc>) -> SeasonPlan {
    // Yesterday's night maraude comes back around 02:00 and its last
    // corrections are written by 03:00: before then, "yesterday" is the
    // day before, or the demo's last night would end after now and its
    // handover would pass for tonight's.
    let over = now - Duration::hours(3);
    let yesterday = maraude_core::time::paris_date(over) - Duration::days(1);
    SeasonPlan::ending(shifts, yesterday, seed)
}

/// A new store at `path` holding the demo antenna `name`'s season as
/// `plan` says. Refused if a store is there already: the demo never
/// fills a real antenna's store.
pub fn create(
    path: &Path,
    passphrase: &Passphrase,
    name: &str,
    plan: &SeasonPlan,
) -> Result<(Store, DemoSeason), DeviceError> {
    if path.exists() {
        return Err(DeviceError::StoreExists(path.to_path_buf()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DeviceError::Folder {
            path: dir.to_path_buf(),
            error: e.to_string(),
        })?;
    }
    let antenna = demo_antenna(name).map_err(StoreError::from)?;
    let mut store = Store::create_for(path, passphrase, &antenna)?;
    let made = season(&antenna, &store.device(), plan).map_err(StoreError::from)?;
    let summary = DemoSeason {
        shifts: made.shifts,
        entries: made.entries,
        cases: made.cases,
        first_day: made.first_day,
        last_day: made.last_day,
    };
    store.insert_documents(made.documents)?;
    store.checkpoint()?;
    Ok((store, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_season_ends_yesterday_and_never_fills_an_existing_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("demo/antenna.maraude");
        let pass = Passphrase::new("demo passphrase".into());
        let now = Utc::now();
        let plan = ending_yesterday(20, 7, now);
        let (store, season) = create(&path, &pass, "Calais (démo)", &plan).expect("demo");
        assert_eq!(season.shifts, 20);
        assert!(season.last_day < maraude_core::time::paris_date(now));
        assert!(store.open_shifts().expect("shifts").is_empty());
        assert!(store.antenna().expect("antenna").places.len() > 5);
        drop(store);
        let again = create(&path, &pass, "Calais (démo)", &plan).expect_err("exists");
        assert_eq!(again.code(), "store_exists");
    }

    #[test]
    fn a_demo_made_after_midnight_holds_no_night_still_out() {
        use maraude_core::document::AnyDocument;
        let antenna = demo_antenna("Calais (démo)").expect("antenna");
        // 00:30 and 02:59 in Paris, winter time: yesterday's night
        // maraude may still be out.
        for now in ["2026-12-06T23:30:00Z", "2026-12-07T01:59:00Z"] {
            let now: DateTime<Utc> = now.parse().expect("time");
            let plan = ending_yesterday(20, 7, now);
            let made =
                season(&antenna, &maraude_core::ids::DeviceId::new(), &plan).expect("season");
            let mut ends = 0;
            for doc in &made.documents {
                if let AnyDocument::Shift(doc) = doc {
                    let shift = doc.shift().expect("shift");
                    let end = shift.ended_at.expect("ended");
                    assert!(end <= now, "a shift ends at {end}, after {now}");
                    ends += 1;
                }
            }
            assert_eq!(ends, 20);
        }
    }
}
