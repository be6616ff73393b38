//! The week of the antenna: which shifts go out on which day, at what time
//! (Paris time), and how the season weighs on the work.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use maraude_core::shift::ShiftKind;

/// One shift of the schedule, before the team takes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub kind: ShiftKind,
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The shifts of one day, in the order they leave: accompaniments on
/// Tuesday and Thursday mornings, the day centre on weekdays, day maraudes
/// five afternoons a week, the night maraude every night (19:30 to 02:00).
/// Nineteen shifts a week, so a thousand shifts is about a year.
pub(crate) fn day(date: NaiveDate) -> Vec<Slot> {
    let wd = date.weekday();
    let weekday = !matches!(wd, Weekday::Sat | Weekday::Sun);
    let mut out = Vec::with_capacity(4);
    let mut push = |kind, (h, m): (u32, u32), minutes: i64| {
        let start = paris(date, h, m);
        out.push(Slot {
            kind,
            date,
            start,
            end: start + Duration::minutes(minutes),
        });
    };
    if matches!(wd, Weekday::Tue | Weekday::Thu) {
        push(ShiftKind::Accompaniment, (8, 30), 4 * 60);
    }
    if weekday {
        push(ShiftKind::DayCentre, (9, 30), 7 * 60 + 30);
    }
    if !matches!(wd, Weekday::Wed | Weekday::Sun) {
        push(ShiftKind::DayMaraude, (14, 0), 4 * 60);
    }
    push(ShiftKind::NightMaraude, (19, 30), 6 * 60 + 30);
    out
}

/// A Paris wall-clock time as UTC. Our times are never in the spring
/// gap (02:00 to 03:00), so the earliest reading is the only one.
fn paris(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    let local = date.and_time(time);
    Paris
        .from_local_datetime(&local)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

/// How hard the season weighs: 1.2 in mid-January, 0.8 in mid-July. More
/// people on the street need blankets and sleeping bags in winter; summer
/// brings more crossings attempts from the beaches and more water.
pub(crate) fn winter(date: NaiveDate) -> f64 {
    let day = f64::from(date.ordinal0());
    1.0 + 0.2 * (std::f64::consts::TAU * (day - 15.0) / 365.25).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_has_nineteen_shifts_and_a_night_maraude_every_night() {
        let monday = NaiveDate::from_ymd_opt(2025, 11, 3).expect("a real date");
        let week: Vec<Slot> = (0..7)
            .flat_map(|d| day(monday + Duration::days(d)))
            .collect();
        assert_eq!(week.len(), 19);
        let nights = week
            .iter()
            .filter(|s| s.kind == ShiftKind::NightMaraude)
            .count();
        assert_eq!(nights, 7);
    }

    #[test]
    fn the_night_maraude_leaves_at_half_past_seven_paris_time_in_winter_and_summer() {
        let winter_day = NaiveDate::from_ymd_opt(2026, 1, 15).expect("a real date");
        let summer_day = NaiveDate::from_ymd_opt(2026, 7, 15).expect("a real date");
        let night = |d| {
            day(d)
                .into_iter()
                .find(|s| s.kind == ShiftKind::NightMaraude)
                .expect("a night maraude every day")
        };
        assert_eq!(
            night(winter_day).start.to_rfc3339(),
            "2026-01-15T18:30:00+00:00"
        );
        assert_eq!(
            night(summer_day).start.to_rfc3339(),
            "2026-07-15T17:30:00+00:00"
        );
        assert!(winter(winter_day) > 1.15 && winter(summer_day) < 0.85);
    }
}
