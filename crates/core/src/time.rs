//! Times are stored in UTC and shown in Paris time, where the teams work.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

/// `at` without its fraction of a second: what the records keep. Nobody
/// needs more in a night's log, and the digits beyond, random-looking,
/// cost bytes in every sync (about 7% of an entry's change).
pub fn to_the_second(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    at.trunc_subsecs(0)
}

/// `2026-11-23 23:40` in Paris time.
pub fn paris(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `23:40` in Paris time.
pub fn paris_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris).format("%H:%M").to_string()
}

/// The calendar day in Paris.
pub fn paris_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Paris).date_naive()
}

/// The first moment of a calendar day in Paris (an instant a few hours
/// off, at worst, if that midnight does not exist).
pub fn paris_midnight(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    Paris
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc(),
            |at| at.with_timezone(&Utc),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_night_maraude_after_midnight_utc_is_still_shown_in_paris_time() {
        let at: DateTime<Utc> = "2026-11-23T23:30:00Z".parse().unwrap();
        assert_eq!(paris(at), "2026-11-24 00:30");
        let summer: DateTime<Utc> = "2026-07-01T20:00:00Z".parse().unwrap();
        assert_eq!(paris_time(summer), "22:00");
    }
}

/// `HH:MM` typed by a volunteer, as the latest such moment not after `now`
/// (Paris time): at 01:10, "23:40" means last evening.
pub fn paris_clock_time(hhmm: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, crate::Invalid> {
    use chrono::{NaiveTime, TimeZone};
    let time =
        NaiveTime::parse_from_str(hhmm.trim(), "%H:%M").map_err(|_| crate::Invalid::BadText {
            field: "time",
            why: "use HH:MM, e.g. 23:40",
        })?;
    let today = paris_date(now);
    for day in [today, today - chrono::Duration::days(1)] {
        if let Some(at) = Paris.from_local_datetime(&day.and_time(time)).earliest() {
            let at = at.with_timezone(&Utc);
            if at <= now + chrono::Duration::minutes(1) {
                return Ok(at);
            }
        }
    }
    Err(crate::Invalid::BadText {
        field: "time",
        why: "that time does not exist in Paris (clock change)",
    })
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn a_time_after_midnight_refers_to_the_evening_before() {
        let now: DateTime<Utc> = "2026-11-24T00:10:00Z".parse().unwrap(); // 01:10 in Paris
        assert_eq!(
            paris(paris_clock_time("23:40", now).unwrap()),
            "2026-11-23 23:40"
        );
        assert_eq!(
            paris(paris_clock_time("00:55", now).unwrap()),
            "2026-11-24 00:55"
        );
        assert!(paris_clock_time("25:00", now).is_err());
    }
}
