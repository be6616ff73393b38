//! What a team reads as it starts a shift: the notes the last team of the
//! same kind left at its end, and the urgent open follow-ups, first; and
//! the van load it took, proposed for tonight's.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::follow_ups::FollowUp;
use crate::ids::{Nickname, ShiftId};
use crate::shift::{Shift, ShiftKind, Stock};

/// How far back the last notes are looked for: older ones are not
/// tonight's news.
pub const LOOK_BACK_DAYS: u64 = 14;

/// The handover for a shift about to start.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Handover {
    /// The notes of the last ended shift of this kind that left some.
    pub last: Option<HandoverNote>,
    /// Open follow-ups marked urgent, oldest first.
    pub urgent: Vec<FollowUp>,
    /// What the last shift of this kind loaded, proposed as tonight's van
    /// load (the team corrects what differs).
    pub load: Option<ProposedLoad>,
}

/// The van load of an earlier shift of the same kind.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ProposedLoad {
    pub shift: ShiftId,
    pub date: NaiveDate,
    pub stock: Stock,
}

/// Notes left at the end of a shift, with which shift left them.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct HandoverNote {
    pub shift: ShiftId,
    pub date: NaiveDate,
    pub lead: Nickname,
    pub ended_at: DateTime<Utc>,
    pub notes: String,
}

impl Handover {
    /// From the recent `shifts` (any order) and the open `follow_ups`
    /// (oldest first, as [`super::follow_ups`] gives them).
    pub fn build<'a>(
        kind: ShiftKind,
        shifts: impl IntoIterator<Item = &'a Shift>,
        follow_ups: Vec<FollowUp>,
    ) -> Self {
        let shifts: Vec<&Shift> = shifts.into_iter().collect();
        let last = shifts
            .iter()
            .filter(|s| s.kind == kind && !s.handover.trim().is_empty())
            .filter_map(|s| s.ended_at.map(|ended| (ended, *s)))
            .max_by_key(|(ended, _)| *ended)
            .map(|(ended_at, s)| HandoverNote {
                shift: s.id,
                date: s.date,
                lead: s.lead.clone(),
                ended_at,
                notes: s.handover.trim().to_string(),
            });
        let load = shifts
            .iter()
            .filter(|s| s.kind == kind && !s.stock_loaded.is_empty())
            .max_by_key(|s| s.started_at)
            .map(|s| ProposedLoad {
                shift: s.id,
                date: s.date,
                stock: s.stock_loaded.clone(),
            });
        Handover {
            last,
            urgent: follow_ups.into_iter().filter(|f| f.urgent).collect(),
            load,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseKind;
    use crate::ids::{AntennaId, CaseId};
    use chrono::TimeZone;

    fn shift(kind: ShiftKind, day: u32, ended: Option<u32>, notes: &str) -> Shift {
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 12, d, 19, 30, 0).unwrap();
        Shift {
            id: ShiftId::new(),
            antenna: AntennaId::new(),
            kind,
            date: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            started_at: at(day),
            ended_at: ended.map(|d| at(d) + chrono::Duration::hours(4)),
            lead: "Mira".parse().unwrap(),
            team: Default::default(),
            vehicle: None,
            stock_loaded: Default::default(),
            stock_returned: Default::default(),
            handover: notes.into(),
        }
    }

    fn follow_up(alias: &str, urgent: bool) -> FollowUp {
        FollowUp {
            case: CaseId::new(),
            short: alias[..2].to_string(),
            kind: CaseKind::ShelterRequest,
            alias: alias.into(),
            opened_at: Utc.with_ymd_and_hms(2026, 12, 1, 20, 0, 0).unwrap(),
            days_open: 3,
            last_update: Utc.with_ymd_and_hms(2026, 12, 2, 20, 0, 0).unwrap(),
            detail: String::new(),
            urgent,
            people: 1,
        }
    }

    #[test]
    fn the_last_ended_shift_of_the_same_kind_with_notes_hands_over() {
        let shifts = [
            shift(ShiftKind::NightMaraude, 1, Some(1), "Bâches aux Dunes nord"),
            shift(
                ShiftKind::NightMaraude,
                3,
                Some(3),
                "Famille au canal, revenir",
            ),
            // Later, but not this kind, without notes, or still running.
            shift(ShiftKind::DayCentre, 4, Some(4), "Machine à laver en panne"),
            shift(ShiftKind::NightMaraude, 4, Some(4), "  "),
            shift(ShiftKind::NightMaraude, 5, None, "en cours"),
        ];
        let handover = Handover::build(ShiftKind::NightMaraude, &shifts, vec![]);
        let last = handover.last.expect("notes");
        assert_eq!(last.notes, "Famille au canal, revenir");
        assert_eq!(last.shift, shifts[1].id);
        let day = Handover::build(ShiftKind::DayCentre, &shifts, vec![]);
        assert_eq!(
            day.last.map(|l| l.notes).as_deref(),
            Some("Machine à laver en panne")
        );
        assert_eq!(
            Handover::build(ShiftKind::Accompaniment, &shifts, vec![]).last,
            None
        );
    }

    #[test]
    fn the_last_van_load_of_the_same_kind_is_proposed() {
        let load = |pairs: &[(&str, u32)]| -> Stock {
            pairs
                .iter()
                .map(|(i, n)| (i.parse().unwrap(), *n))
                .collect()
        };
        let mut older = shift(ShiftKind::NightMaraude, 1, Some(1), "");
        older.stock_loaded = load(&[("blanket", 30)]);
        let mut last = shift(ShiftKind::NightMaraude, 3, Some(3), "");
        last.stock_loaded = load(&[("blanket", 40), ("tea_coffee", 200)]);
        let mut day = shift(ShiftKind::DayCentre, 4, Some(4), "");
        day.stock_loaded = load(&[("soap", 12)]);
        // Later, but loaded nothing: not a proposal.
        let empty = shift(ShiftKind::NightMaraude, 5, None, "");
        let shifts = [older, last.clone(), day, empty];
        let proposed = Handover::build(ShiftKind::NightMaraude, &shifts, vec![])
            .load
            .expect("a load");
        assert_eq!(
            (proposed.shift, proposed.stock),
            (last.id, last.stock_loaded)
        );
        assert_eq!(
            Handover::build(ShiftKind::Accompaniment, &shifts, vec![]).load,
            None
        );
    }

    #[test]
    fn only_urgent_follow_ups_come_first_in_their_order() {
        let handover = Handover::build(
            ShiftKind::NightMaraude,
            &[],
            vec![
                follow_up("Amina", true),
                follow_up("Bilal", false),
                follow_up("Chérif", true),
            ],
        );
        let aliases: Vec<&str> = handover.urgent.iter().map(|f| f.alias.as_str()).collect();
        assert_eq!(aliases, ["Amina", "Chérif"]);
    }
}
