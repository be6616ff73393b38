//! Times are stored in UTC and shown in Paris time, where the teams work.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;

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
