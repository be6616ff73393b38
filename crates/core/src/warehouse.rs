//! The warehouse: what it holds, what the vans take, what to ask donors for.
//!
//! Stock moves by [`StockMovement`]s the warehouse records (receipts of
//! donations and purchases, transfers with another antenna's warehouse,
//! counts that correct the figure) and by the vans: what a shift loads at
//! its start leaves the shelves, what it brings back returns (both already
//! in each [`crate::shift::Shift`]). Movements are never changed or
//! removed, only added: two tablets recording a donation at once both
//! count when they merge, and a wrong one is put right by another (a
//! count). Stock on hand is their sum, from the warehouse's first movement
//! on (usually an opening count): shifts before it moved stock nobody
//! counted.
//!
//! The [`NeedsList`] says what will be missing in the next days: the vans'
//! consumption of the last weeks, projected, against stock on hand and the
//! minimum the coordinator sets per item.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Lang;
use crate::antenna::Antenna;
use crate::entry::{Author, check_not_future};
use crate::error::Invalid;
use crate::ids::{AntennaId, DeviceId, ItemId, Nickname};
use crate::limits::{SHORT_TEXT, check_no_phone, check_text};
use crate::report::ShiftSummary;

/// Largest quantity of one movement: a truck of donations, not a typo.
pub const MAX_MOVEMENT: u32 = 100_000;

/// How many days of the vans' consumption the needs list projects from.
pub const TREND_DAYS: i64 = 28;

/// One change to the warehouse's stock, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct StockMovement {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub by: Nickname,
    pub device: DeviceId,
    pub item: ItemId,
    /// One of the item's sizes, for items that have them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(flatten)]
    pub kind: MovementKind,
}

/// What moved, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "movement", rename_all = "snake_case")]
pub enum MovementKind {
    /// A donation or a purchase came in.
    Receipt {
        quantity: u32,
        source: Source,
        /// Who gave or sold it ("Secours populaire", "collecte lycée"):
        /// an organisation, never a person's phone.
        #[serde(default)]
        from: String,
    },
    /// From another antenna's warehouse.
    TransferIn { quantity: u32, from: String },
    /// To another antenna's warehouse.
    TransferOut { quantity: u32, to: String },
    /// The shelves counted: `counted` found where the figure said
    /// `expected`. The difference is the correction.
    Count {
        counted: u32,
        expected: i64,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Donation,
    Purchase,
}

impl MovementKind {
    /// What it adds to stock on hand (negative: takes away).
    pub fn delta(&self) -> i64 {
        match self {
            Self::Receipt { quantity, .. } | Self::TransferIn { quantity, .. } => {
                i64::from(*quantity)
            }
            Self::TransferOut { quantity, .. } => -i64::from(*quantity),
            Self::Count {
                counted, expected, ..
            } => i64::from(*counted) - expected,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Receipt { .. } => "receipt",
            Self::TransferIn { .. } => "transfer_in",
            Self::TransferOut { .. } => "transfer_out",
            Self::Count { .. } => "count",
        }
    }

    /// The bounds every receiver checks, whoever sent it.
    pub fn validate(&self) -> Result<(), Invalid> {
        let quantity = |n: u32| {
            if (1..=MAX_MOVEMENT).contains(&n) {
                Ok(())
            } else {
                Err(Invalid::OutOfRange {
                    field: "quantity",
                    min: 1,
                    max: MAX_MOVEMENT,
                    given: i64::from(n),
                })
            }
        };
        let text = |field: &'static str, s: &str| {
            check_text(field, s, SHORT_TEXT)?;
            check_no_phone(field, s)
        };
        match self {
            Self::Receipt {
                quantity: n, from, ..
            } => {
                quantity(*n)?;
                text("from", from)
            }
            Self::TransferIn { quantity: n, from } => {
                quantity(*n)?;
                text("from", from)?;
                non_empty("from (which antenna)", from)
            }
            Self::TransferOut { quantity: n, to } => {
                quantity(*n)?;
                text("to", to)?;
                non_empty("to (which antenna)", to)
            }
            Self::Count {
                counted,
                expected,
                reason,
            } => {
                if *counted > MAX_MOVEMENT {
                    return Err(Invalid::OutOfRange {
                        field: "counted",
                        min: 0,
                        max: MAX_MOVEMENT,
                        given: i64::from(*counted),
                    });
                }
                if expected.unsigned_abs() > 100 * u64::from(MAX_MOVEMENT) {
                    return Err(Invalid::OutOfRange {
                        field: "expected",
                        min: 0,
                        max: MAX_MOVEMENT,
                        given: *expected,
                    });
                }
                text("reason", reason)?;
                non_empty("reason (why the count differs)", reason)
            }
        }
    }
}

fn non_empty(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        Err(Invalid::Empty { field })
    } else {
        Ok(())
    }
}

impl StockMovement {
    /// The checks that need no antenna: what a receiver verifies of a
    /// movement another device wrote.
    pub fn validate(&self) -> Result<(), Invalid> {
        self.kind.validate()?;
        if let Some(size) = &self.size {
            check_text("size", size, SHORT_TEXT)?;
        }
        Ok(())
    }
}

/// A movement as typed at the warehouse, before it is checked and dated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct NewMovement {
    pub item: ItemId,
    #[serde(default)]
    pub size: Option<String>,
    pub change: NewChange,
}

/// What the warehouse records. A count gives what the shelves hold; the
/// figure it corrects is the stock on hand when it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "movement", rename_all = "snake_case")]
pub enum NewChange {
    Receipt {
        quantity: u32,
        source: Source,
        #[serde(default)]
        from: String,
    },
    TransferIn {
        quantity: u32,
        from: String,
    },
    TransferOut {
        quantity: u32,
        to: String,
    },
    Count {
        counted: u32,
        reason: String,
    },
}

impl NewMovement {
    /// Check it against the catalogue and the stock on hand of its item,
    /// and date it. A transfer out of more than the warehouse holds is
    /// refused with the figure (a count first, if the shelves hold more).
    pub fn into_movement(
        self,
        antenna: &Antenna,
        on_hand: i64,
        author: &Author,
    ) -> Result<StockMovement, Invalid> {
        let item = antenna.loggable_item(&self.item)?;
        let size = match self
            .size
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
        {
            Some(size) if !item.sizes.contains(&size) => {
                return Err(Invalid::UnknownSize {
                    item: self.item.to_string(),
                    given: size,
                    known: item.sizes.join(", "),
                });
            }
            size => size,
        };
        let kind = match self.change {
            NewChange::Receipt {
                quantity,
                source,
                from,
            } => MovementKind::Receipt {
                quantity,
                source,
                from: from.trim().to_string(),
            },
            NewChange::TransferIn { quantity, from } => MovementKind::TransferIn {
                quantity,
                from: from.trim().to_string(),
            },
            NewChange::TransferOut { quantity, to } => {
                if i64::from(quantity) > on_hand {
                    return Err(Invalid::NotEnoughStock {
                        item: self.item.to_string(),
                        on_hand,
                        asked: quantity,
                    });
                }
                MovementKind::TransferOut {
                    quantity,
                    to: to.trim().to_string(),
                }
            }
            NewChange::Count { counted, reason } => MovementKind::Count {
                counted,
                expected: on_hand,
                reason: reason.trim().to_string(),
            },
        };
        let movement = StockMovement {
            id: Uuid::now_v7(),
            at: author.now,
            by: author.by.clone(),
            device: author.device,
            item: self.item,
            size,
            kind,
        };
        movement.validate()?;
        check_not_future("the movement", movement.at, author.now)?;
        Ok(movement)
    }
}

/// The warehouse document's record id: one per antenna, the same on every
/// tablet (see [`crate::document::WarehouseDoc`]).
pub fn warehouse_id(antenna: AntennaId) -> Uuid {
    Uuid::new_v5(antenna.as_uuid(), b"maraude warehouse")
}

/// One item's line of the stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ShelfLine {
    pub item: ItemId,
    pub label: String,
    /// Can be negative: the vans took more than was recorded (a count
    /// puts it right).
    pub on_hand: i64,
    pub received: u64,
    pub transferred_in: u64,
    pub transferred_out: u64,
    pub loaded: u64,
    pub returned: u64,
    /// The counts' corrections, added up.
    pub corrected: i64,
    /// Per size, for the items that have sizes, in the catalogue's order.
    pub sizes: Vec<SizeLine>,
    /// The minimum the coordinator keeps on the shelves.
    pub minimum: u32,
    /// How many movements the warehouse recorded for it: an item it never
    /// received nor counted (a phone charge, a hot meal) is not its stock.
    pub movements: u32,
}

/// One size of an item. The vans load and bring back without sizes, but
/// each distribution names its size: so a size's figure is what came in
/// of that size (receipts, transfers, counts) less what was given out of
/// it. Between shifts, once the vans have brought back what they did not
/// give, that is what the shelves hold of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SizeLine {
    pub size: String,
    pub on_hand: i64,
    pub received: u64,
    pub given: u64,
}

/// What was given out of each size of an item (`(item, size)` → quantity),
/// from the distributions.
pub type GivenBySize = BTreeMap<(ItemId, String), u64>;

/// Stock on hand of every item that moved, in the catalogue's order.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct StockReport {
    /// The warehouse's first movement: the vans count from that day on.
    pub since: Option<NaiveDate>,
    pub lines: Vec<ShelfLine>,
    pub movements: usize,
}

/// Stock on hand from the warehouse's movements and the shifts' loads and
/// returns: those made after the warehouse's first movement (a load when
/// its shift started after it, a return when its shift ended after it).
///
/// `given`: what the distributions gave of each size since the warehouse's
/// first movement, for the figures per size ([`SizeLine`]).
pub fn stock(
    antenna: &Antenna,
    movements: &[StockMovement],
    shifts: &[ShiftSummary],
    given: &GivenBySize,
    lang: Lang,
) -> StockReport {
    let first = movements.iter().map(|m| m.at).min();
    let mut lines: BTreeMap<ItemId, ShelfLine> = BTreeMap::new();
    let mut sizes: BTreeMap<(ItemId, String), SizeLine> = BTreeMap::new();
    for m in movements {
        let l = line(&mut lines, &m.item);
        l.movements += 1;
        l.on_hand += m.kind.delta();
        if let Some(size) = &m.size {
            let s = size_line(&mut sizes, &m.item, size);
            s.on_hand += m.kind.delta();
            if let MovementKind::Receipt { quantity, .. } = &m.kind {
                s.received += u64::from(*quantity);
            }
        }
        match &m.kind {
            MovementKind::Receipt { quantity, .. } => {
                l.received += u64::from(*quantity);
            }
            MovementKind::TransferIn { quantity, .. } => l.transferred_in += u64::from(*quantity),
            MovementKind::TransferOut { quantity, .. } => l.transferred_out += u64::from(*quantity),
            MovementKind::Count { .. } => l.corrected += m.kind.delta(),
        }
    }
    if let Some(first) = first {
        for s in shifts {
            if s.started_at >= first {
                for (item, n) in &s.stock_loaded {
                    let l = line(&mut lines, item);
                    l.loaded += u64::from(*n);
                    l.on_hand -= i64::from(*n);
                }
            }
            if s.ended_at.is_some_and(|end| end >= first) {
                for (item, n) in &s.stock_returned {
                    let l = line(&mut lines, item);
                    l.returned += u64::from(*n);
                    l.on_hand += i64::from(*n);
                }
            }
        }
    }
    if first.is_some() {
        for ((item, size), n) in given {
            if lines.contains_key(item) {
                let s = size_line(&mut sizes, item, size);
                s.given += n;
                s.on_hand -= i64::try_from(*n).unwrap_or(i64::MAX);
            }
        }
    }
    let order = |id: &ItemId| antenna.catalogue.get(id).map_or(u32::MAX, |i| i.order);
    let mut lines: Vec<ShelfLine> = lines.into_values().collect();
    lines.sort_by_key(|l| (order(&l.item), l.item.clone()));
    for l in &mut lines {
        // Every size of the catalogue, in its order, then any other a
        // movement or a distribution named.
        let listed = antenna
            .catalogue
            .get(&l.item)
            .map(|i| i.sizes.clone())
            .unwrap_or_default();
        for size in &listed {
            size_line(&mut sizes, &l.item, size);
            if let Some(line) = sizes.remove(&(l.item.clone(), size.clone())) {
                l.sizes.push(line);
            }
        }
        let others: Vec<(ItemId, String)> = sizes
            .keys()
            .filter(|(item, _)| *item == l.item)
            .cloned()
            .collect();
        for key in others {
            if let Some(extra) = sizes.remove(&key) {
                l.sizes.push(extra);
            }
        }
        l.label = antenna.item_label(&l.item, lang);
        l.minimum = antenna
            .catalogue
            .get(&l.item)
            .and_then(|i| i.minimum)
            .unwrap_or(0);
    }
    StockReport {
        since: first.map(crate::time::paris_date),
        lines,
        movements: movements.len(),
    }
}

fn size_line<'a>(
    sizes: &'a mut BTreeMap<(ItemId, String), SizeLine>,
    item: &ItemId,
    size: &str,
) -> &'a mut SizeLine {
    sizes
        .entry((item.clone(), size.to_string()))
        .or_insert_with(|| SizeLine {
            size: size.to_string(),
            on_hand: 0,
            received: 0,
            given: 0,
        })
}

fn line<'a>(lines: &'a mut BTreeMap<ItemId, ShelfLine>, item: &ItemId) -> &'a mut ShelfLine {
    lines.entry(item.clone()).or_insert_with(|| ShelfLine {
        item: item.clone(),
        label: String::new(),
        on_hand: 0,
        received: 0,
        transferred_in: 0,
        transferred_out: 0,
        loaded: 0,
        returned: 0,
        corrected: 0,
        sizes: Vec::new(),
        minimum: 0,
        movements: 0,
    })
}

/// One item the warehouse will lack.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ItemNeed {
    pub item: ItemId,
    pub label: String,
    pub on_hand: i64,
    /// What the vans took (loaded − returned) per week, over the trend.
    pub per_week: f64,
    /// Expected to leave in the coming days.
    pub expected_use: u64,
    pub minimum: u32,
    /// To ask for: expected use and minimum, less stock on hand.
    pub to_ask: u64,
    /// The sizes that will run short, for items with sizes: those whose
    /// figure is below what the last weeks gave of them, projected.
    pub sizes: Vec<String>,
}

/// What to ask donors for, for the next `days`.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct NeedsList {
    pub antenna: String,
    pub today: NaiveDate,
    pub days: u32,
    /// Items to ask for, the largest shortfall first.
    pub needs: Vec<ItemNeed>,
}

/// The needs for the next `days` (1 to 365) from `today`: the vans' net
/// consumption over the last [`TREND_DAYS`] days, projected, plus each
/// item's minimum, less stock on hand; for the items the warehouse keeps
/// (recorded at least once, or given a minimum).
///
/// `given`: what the distributions of the last [`TREND_DAYS`] days gave of
/// each size, for the sizes to ask for.
pub fn needs(
    antenna: &Antenna,
    stock: &StockReport,
    shifts: &[ShiftSummary],
    given: &GivenBySize,
    today: NaiveDate,
    days: u32,
    lang: Lang,
) -> Result<NeedsList, Invalid> {
    if !(1..=365).contains(&days) {
        return Err(Invalid::OutOfRange {
            field: "days",
            min: 1,
            max: 365,
            given: i64::from(days),
        });
    }
    let start = today - chrono::Duration::days(TREND_DAYS);
    let mut used: BTreeMap<&ItemId, i64> = BTreeMap::new();
    for s in shifts.iter().filter(|s| s.date >= start && s.date <= today) {
        for (item, n) in &s.stock_loaded {
            *used.entry(item).or_default() += i64::from(*n);
        }
        for (item, n) in &s.stock_returned {
            *used.entry(item).or_default() -= i64::from(*n);
        }
    }
    let on_hand = |item: &ItemId| {
        stock
            .lines
            .iter()
            .find(|l| &l.item == item)
            .map_or(0, |l| l.on_hand)
    };
    // The warehouse's items: those it recorded, or keeps a minimum of.
    let tracked = |id: &ItemId| {
        stock.lines.iter().any(|l| &l.item == id && l.movements > 0)
            || antenna
                .catalogue
                .get(id)
                .is_some_and(|i| i.minimum.unwrap_or(0) > 0)
    };
    let mut items: Vec<&ItemId> = used.keys().copied().filter(|id| tracked(id)).collect();
    for (id, item) in &antenna.catalogue {
        if item.active && item.minimum.unwrap_or(0) > 0 && !items.contains(&id) {
            items.push(id);
        }
    }
    let mut needs: Vec<ItemNeed> = items
        .into_iter()
        .filter(|id| antenna.catalogue.get(*id).is_none_or(|i| i.active))
        .map(|item| {
            let net = used.get(item).copied().unwrap_or(0).max(0) as f64;
            let per_day = net / TREND_DAYS as f64;
            let expected_use = (per_day * f64::from(days)).ceil() as u64;
            let minimum = antenna
                .catalogue
                .get(item)
                .and_then(|i| i.minimum)
                .unwrap_or(0);
            let have = on_hand(item);
            let wanted = expected_use as i64 + i64::from(minimum);
            let sizes = short_sizes(stock, given, item, days);
            ItemNeed {
                item: item.clone(),
                label: antenna.item_label(item, lang),
                on_hand: have,
                per_week: (per_day * 7.0 * 10.0).round() / 10.0,
                expected_use,
                minimum,
                to_ask: (wanted - have).max(0) as u64,
                sizes,
            }
        })
        .filter(|n| n.to_ask > 0)
        .collect();
    needs.sort_by(|a, b| b.to_ask.cmp(&a.to_ask).then(a.item.cmp(&b.item)));
    Ok(NeedsList {
        antenna: antenna.name.clone(),
        today,
        days,
        needs,
    })
}

/// The sizes of `item` whose figure is below what the last weeks gave of
/// them, projected over `days`, in the stock line's order.
fn short_sizes(stock: &StockReport, given: &GivenBySize, item: &ItemId, days: u32) -> Vec<String> {
    let Some(line) = stock.lines.iter().find(|l| &l.item == item) else {
        return Vec::new();
    };
    line.sizes
        .iter()
        .filter(|s| {
            let gave = given
                .get(&(item.clone(), s.size.clone()))
                .copied()
                .unwrap_or(0) as f64;
            let expected = (gave / TREND_DAYS as f64 * f64::from(days)).ceil() as i64;
            expected > 0 && s.on_hand < expected
        })
        .map(|s| s.size.clone())
        .collect()
}

/// The call for donations, ready to paste in the association's group or
/// post: what is needed, most first.
pub fn call_for_donations(list: &NeedsList, lang: Lang) -> String {
    let date = |d: NaiveDate| format!("{:02}/{:02}", d.day(), d.month());
    let until = list.today + chrono::Duration::days(i64::from(list.days));
    let mut out = match lang {
        Lang::Fr => format!(
            "{} — appel aux dons (jusqu’au {})\nNous avons besoin de :\n",
            list.antenna,
            date(until)
        ),
        Lang::En => format!(
            "{} — call for donations (until {})\nWe need:\n",
            list.antenna,
            date(until)
        ),
    };
    if list.needs.is_empty() {
        out.push_str(match lang {
            Lang::Fr => "- rien pour l’instant, merci !\n",
            Lang::En => "- nothing for now, thank you!\n",
        });
    }
    for n in &list.needs {
        let sizes = match (n.sizes.as_slice(), lang) {
            ([], _) => String::new(),
            (sizes, Lang::Fr) => format!(" (tailles {})", sizes.join(", ")),
            (sizes, Lang::En) => format!(" (sizes {})", sizes.join(", ")),
        };
        out.push_str(&format!(
            "- {} {}{sizes}\n",
            n.to_ask,
            n.label.to_lowercase()
        ));
    }
    out.push_str(match lang {
        Lang::Fr => "Merci de déposer à l’entrepôt.\n",
        Lang::En => "Please bring them to the warehouse.\n",
    });
    out
}

/// The needs list as CSV: `item,label,on_hand,per_week,expected_use,minimum,to_ask,sizes`
/// (the sizes separated by spaces).
pub fn needs_csv(list: &NeedsList) -> String {
    let mut w = crate::report::Sheet::default();
    w.row([
        "item",
        "label",
        "on_hand",
        "per_week",
        "expected_use",
        "minimum",
        "to_ask",
        "sizes",
    ]);
    for n in &list.needs {
        w.row([
            n.item.to_string(),
            n.label.clone(),
            n.on_hand.to_string(),
            n.per_week.to_string(),
            n.expected_use.to_string(),
            n.minimum.to_string(),
            n.to_ask.to_string(),
            n.sizes.join(" "),
        ]);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::access::{Role, Subject};
    use crate::authority::{Delivery, Facts, check_write};
    use crate::document::{AnyDocument, Document, WarehouseDoc};
    use crate::shift::ShiftKind;

    fn antenna() -> Antenna {
        let mut a = Antenna::new("Calais").expect("an antenna");
        if let Some(blanket) = a.catalogue.get_mut(&item("blanket")) {
            blanket.minimum = Some(50);
        }
        a
    }

    fn item(id: &str) -> ItemId {
        id.parse().expect("an item id")
    }

    fn author(device: DeviceId) -> Author {
        Author {
            by: "Sam".parse().expect("a nickname"),
            device,
            now: "2026-12-01T10:00:00Z".parse().expect("a time"),
        }
    }

    fn receipt(id: &str, quantity: u32) -> NewMovement {
        NewMovement {
            item: item(id),
            size: None,
            change: NewChange::Receipt {
                quantity,
                source: Source::Donation,
                from: "Collecte du lycée".into(),
            },
        }
    }

    fn shift(date: &str, loaded: &[(&str, u32)], returned: &[(&str, u32)]) -> ShiftSummary {
        ShiftSummary {
            id: crate::ids::ShiftId::new(),
            kind: ShiftKind::NightMaraude,
            date: date.parse().expect("a date"),
            started_at: format!("{date}T19:00:00Z").parse().expect("a time"),
            ended_at: Some(format!("{date}T23:30:00Z").parse().expect("a time")),
            lead: "Mira".into(),
            stock_loaded: loaded.iter().map(|(i, n)| (item(i), *n)).collect(),
            stock_returned: returned.iter().map(|(i, n)| (item(i), *n)).collect(),
        }
    }

    fn on_hand(r: &StockReport, id: &str) -> i64 {
        r.lines
            .iter()
            .find(|l| l.item.as_str() == id)
            .map_or(0, |l| l.on_hand)
    }

    #[test]
    fn stock_is_receipts_less_loads_plus_returns_and_counts() {
        let a = antenna();
        let by = author(DeviceId::new());
        let mut moves = vec![
            receipt("blanket", 120)
                .into_movement(&a, 0, &by)
                .expect("ok"),
        ];
        let shifts = [
            shift("2026-12-01", &[("blanket", 40)], &[("blanket", 7)]),
            shift("2026-12-02", &[("blanket", 40)], &[]),
            // Before the warehouse's first movement: not counted.
            shift("2026-11-20", &[("blanket", 500)], &[]),
        ];
        let r = stock(&a, &moves, &shifts, &GivenBySize::new(), Lang::En);
        assert_eq!(on_hand(&r, "blanket"), 120 - 40 + 7 - 40);
        // The shelves hold 40, where the figure says 47.
        let count = NewMovement {
            item: item("blanket"),
            size: None,
            change: NewChange::Count {
                counted: 40,
                reason: "torn ones thrown away".into(),
            },
        };
        moves.push(count.into_movement(&a, 47, &by).expect("a count"));
        let r = stock(&a, &moves, &shifts, &GivenBySize::new(), Lang::En);
        assert_eq!(on_hand(&r, "blanket"), 40);
        assert_eq!(r.lines[0].corrected, -7);
        assert_eq!(r.since, Some("2026-12-01".parse().expect("a date")));
    }

    #[test]
    fn shoes_are_counted_per_size_and_the_call_names_the_sizes_that_run_short() {
        let a = antenna();
        let by = author(DeviceId::new());
        let sized = |size: &str, change: NewChange| NewMovement {
            item: item("shoes"),
            size: Some(size.into()),
            change,
        };
        let received = |quantity| NewChange::Receipt {
            quantity,
            source: Source::Donation,
            from: String::new(),
        };
        let mut moves = vec![
            sized("42", received(10))
                .into_movement(&a, 0, &by)
                .expect("ok"),
            sized("43", received(5))
                .into_movement(&a, 0, &by)
                .expect("ok"),
            // Shoes of no size said: the item's figure only.
            receipt("shoes", 20).into_movement(&a, 15, &by).expect("ok"),
        ];
        // Counted: 8 pairs of 42 where the size's figure said 10.
        let count = sized(
            "42",
            NewChange::Count {
                counted: 8,
                reason: "two pairs torn".into(),
            },
        );
        moves.push(count.into_movement(&a, 10, &by).expect("a count"));
        let shifts = [shift("2026-12-01", &[("shoes", 14)], &[("shoes", 3)])];
        let mut given = GivenBySize::new();
        given.insert((item("shoes"), "42".into()), 6);
        given.insert((item("shoes"), "43".into()), 5);
        let r = stock(&a, &moves, &shifts, &given, Lang::En);
        let line = r
            .lines
            .iter()
            .find(|l| l.item.as_str() == "shoes")
            .expect("shoes");
        assert_eq!(line.on_hand, 10 + 5 + 20 - 2 - 14 + 3);
        let size = |s: &str| line.sizes.iter().find(|l| l.size == s).expect("a size");
        // Every size of the catalogue, in its order.
        assert_eq!(line.sizes.first().map(|s| s.size.as_str()), Some("36"));
        assert_eq!(line.sizes.len(), 11);
        assert_eq!(
            (size("42").on_hand, size("42").received, size("42").given),
            (2, 10, 6)
        );
        assert_eq!(size("43").on_hand, 0);
        assert_eq!(size("41").on_hand, 0);

        // The last four weeks gave 28 pairs of 42 and 5 of 43, none of 41:
        // 14 days ahead need 14 of 42 (2 held) and 3 of 43 (none held).
        let mut trend = GivenBySize::new();
        trend.insert((item("shoes"), "42".into()), 28);
        trend.insert((item("shoes"), "43".into()), 5);
        let today = "2026-12-05".parse().expect("a day");
        let mut a = a;
        if let Some(shoes) = a.catalogue.get_mut(&item("shoes")) {
            shoes.minimum = Some(100);
        }
        let list = needs(&a, &r, &shifts, &trend, today, 14, Lang::Fr).expect("a list");
        let shoes = list
            .needs
            .iter()
            .find(|n| n.item.as_str() == "shoes")
            .expect("shoes");
        assert_eq!(shoes.sizes, ["42", "43"]);
        let call = call_for_donations(&list, Lang::Fr);
        assert!(call.contains("chaussures (tailles 42, 43)"), "{call}");
        assert!(needs_csv(&list).contains(",42 43"), "{}", needs_csv(&list));
    }

    #[test]
    fn a_movement_is_checked_against_the_catalogue_and_the_stock() {
        let a = antenna();
        let by = author(DeviceId::new());
        let out = NewMovement {
            item: item("blanket"),
            size: None,
            change: NewChange::TransferOut {
                quantity: 30,
                to: "Grande-Synthe".into(),
            },
        };
        let err = out.clone().into_movement(&a, 12, &by).expect_err("only 12");
        assert_eq!(err.code(), "not_enough_stock");
        assert!(
            err.to_string().contains("holds 12 blanket, not 30"),
            "{err}"
        );
        assert!(out.into_movement(&a, 30, &by).is_ok());

        let mut shoes = receipt("shoes", 10);
        shoes.size = Some("52".into());
        assert_eq!(
            shoes
                .clone()
                .into_movement(&a, 0, &by)
                .expect_err("no 52")
                .code(),
            "unknown_size"
        );
        shoes.size = Some("42".into());
        assert!(shoes.into_movement(&a, 0, &by).is_ok());
        assert_eq!(
            receipt("blanket", 0)
                .into_movement(&a, 0, &by)
                .expect_err("zero")
                .code(),
            "out_of_range"
        );
        let mut phone = receipt("blanket", 5);
        phone.change = NewChange::Receipt {
            quantity: 5,
            source: Source::Donation,
            from: "Jean 06 12 34 56 78".into(),
        };
        assert_eq!(
            phone.into_movement(&a, 0, &by).expect_err("a phone").code(),
            "personal_data_in_log"
        );
    }

    #[test]
    fn the_needs_list_projects_the_vans_use_against_stock_and_minimum() {
        let a = antenna();
        let by = author(DeviceId::new());
        let moves = vec![
            receipt("blanket", 100)
                .into_movement(&a, 0, &by)
                .expect("ok"),
            receipt("water", 500).into_movement(&a, 0, &by).expect("ok"),
        ];
        // Four weeks: blankets 56 net (4 × 20 loaded − 4 × 6 back), water 28.
        let mut shifts = Vec::new();
        for day in ["2026-11-10", "2026-11-17", "2026-11-24", "2026-12-01"] {
            shifts.push(shift(
                day,
                &[("blanket", 20), ("water", 7), ("hot_meal", 50)],
                &[("blanket", 6)],
            ));
        }
        let today: NaiveDate = "2026-12-05".parse().expect("a date");
        let s = stock(&a, &moves, &shifts, &GivenBySize::new(), Lang::En);
        // Only the shift of 1 December is after the first movement.
        assert_eq!(on_hand(&s, "blanket"), 100 - 20 + 6);
        let list =
            needs(&a, &s, &shifts, &GivenBySize::new(), today, 14, Lang::En).expect("a list");
        // Blankets: 56/28 a day × 14 = 28 expected, + 50 minimum − 86 = none.
        assert!(list.needs.iter().all(|n| n.item.as_str() != "blanket"));
        let list =
            needs(&a, &s, &shifts, &GivenBySize::new(), today, 60, Lang::En).expect("a list");
        let blanket = list
            .needs
            .iter()
            .find(|n| n.item.as_str() == "blanket")
            .expect("blankets");
        // 2 a day × 60 = 120, + 50 − 86 = 84; 14 a week.
        assert_eq!(
            (blanket.expected_use, blanket.to_ask, blanket.per_week),
            (120, 84, 14.0)
        );
        // Hot meals leave in the vans but are not the warehouse's stock.
        assert!(list.needs.iter().all(|n| n.item.as_str() != "hot_meal"));
        // Water: 28/28 × 60 = 60 against 493: nothing to ask.
        assert!(list.needs.iter().all(|n| n.item.as_str() != "water"));
        let fr = needs(&a, &s, &shifts, &GivenBySize::new(), today, 60, Lang::Fr).expect("a list");
        let text = call_for_donations(&fr, Lang::Fr);
        assert!(text.contains("- 84 couverture"), "{text}");
        assert_eq!(
            needs(&a, &s, &shifts, &GivenBySize::new(), today, 0, Lang::En)
                .expect_err("0 days")
                .code(),
            "out_of_range"
        );
    }

    fn facts() -> Facts {
        Facts {
            subject: Subject::Warehouse,
            today: "2026-12-01".parse().expect("a date"),
            delivery: Delivery::Server,
        }
    }

    #[test]
    fn two_tablets_that_start_the_warehouse_apart_keep_both_donations() {
        let a = antenna();
        let (one, two) = (DeviceId::new(), DeviceId::new());
        let mut first = WarehouseDoc::create(a.id, &one).expect("a warehouse");
        let mut second = WarehouseDoc::create(a.id, &two).expect("a warehouse");
        first
            .record(
                &receipt("blanket", 10)
                    .into_movement(&a, 0, &author(one))
                    .expect("ok"),
            )
            .expect("recorded");
        second
            .record(
                &receipt("blanket", 15)
                    .into_movement(&a, 0, &author(two))
                    .expect("ok"),
            )
            .expect("recorded");
        first.automerge().merge(second.automerge()).expect("merged");
        let moves: Vec<StockMovement> = first
            .movements()
            .expect("movements")
            .into_values()
            .collect();
        assert_eq!(moves.len(), 2);
        assert_eq!(
            on_hand(
                &stock(&a, &moves, &[], &GivenBySize::new(), Lang::En),
                "blanket"
            ),
            25
        );
    }

    #[test]
    fn a_modified_client_cannot_rewrite_the_warehouse() {
        let a = antenna();
        let lead = DeviceId::new();
        let mut doc = WarehouseDoc::create(a.id, &lead).expect("a warehouse");
        let given = receipt("blanket", 100)
            .into_movement(&a, 0, &author(lead))
            .expect("ok");
        doc.record(&given).expect("recorded");
        let record = warehouse_id(a.id);
        let before = AnyDocument::Warehouse(WarehouseDoc::from_automerge(doc.automerge().fork()));

        // A volunteer's tablet creates none and changes none.
        let fresh = AnyDocument::Warehouse(WarehouseDoc::from_automerge(doc.automerge().fork()));
        let unknown = Facts {
            subject: Subject::Unknown,
            ..facts()
        };
        let err =
            check_write(Role::Volunteer, record, None, &fresh, &unknown).expect_err("a volunteer");
        assert_eq!(err.code(), "new_document_refused");
        assert!(check_write(Role::Lead, record, None, &fresh, &unknown).is_ok());

        // A lead adds a donation: fine.
        let mut added = doc.automerge().fork();
        let mut added_doc = WarehouseDoc::from_automerge(added.fork());
        added_doc
            .record(
                &receipt("water", 30)
                    .into_movement(&a, 0, &author(lead))
                    .expect("ok"),
            )
            .expect("recorded");
        let after = AnyDocument::Warehouse(added_doc);
        assert!(check_write(Role::Lead, record, Some(&before), &after, &facts()).is_ok());
        let err = check_write(Role::Volunteer, record, Some(&before), &after, &facts())
            .expect_err("a volunteer");
        assert_eq!(err.code(), "out_of_scope");

        // Someone turns the 100 blankets received into 10, or removes them.
        let mut changed = given.clone();
        changed.kind = MovementKind::Receipt {
            quantity: 10,
            source: Source::Donation,
            from: "Collecte du lycée".into(),
        };
        let mut rewritten = WarehouseDoc::from_automerge(added.fork());
        rewritten.record(&changed).expect("written");
        let err = check_write(
            Role::Coordinator,
            record,
            Some(&before),
            &AnyDocument::Warehouse(rewritten),
            &facts(),
        )
        .expect_err("rewritten");
        assert_eq!(err.code(), "stock_rewritten");
        use automerge::transaction::Transactable;
        let movements =
            crate::document::json::child_id(&added, &automerge::ROOT, "movements").expect("map");
        added
            .delete(&movements, given.id.to_string().as_str())
            .expect("deleted");
        let err = check_write(
            Role::Coordinator,
            record,
            Some(&before),
            &AnyDocument::Warehouse(WarehouseDoc::from_automerge(added)),
            &facts(),
        )
        .expect_err("removed");
        assert_eq!(err.code(), "stock_rewritten");

        // A movement past the bounds, written around the checks.
        let mut huge = receipt("blanket", 1)
            .into_movement(&a, 0, &author(lead))
            .expect("ok");
        huge.kind = MovementKind::Receipt {
            quantity: MAX_MOVEMENT + 1,
            source: Source::Purchase,
            from: String::new(),
        };
        let mut bad = WarehouseDoc::from_automerge(doc.automerge().fork());
        bad.record(&huge).expect("written");
        let err = check_write(
            Role::Lead,
            record,
            Some(&before),
            &AnyDocument::Warehouse(bad),
            &facts(),
        )
        .expect_err("too many");
        assert_eq!(err.code(), "malformed_document");
    }

    #[test]
    fn a_leads_modified_client_cannot_sign_a_movement_as_another_tablet_nor_pass_it_to_a_teammate()
    {
        let a = antenna();
        let (lead, other) = (DeviceId::new(), DeviceId::new());
        let doc = WarehouseDoc::create(a.id, &lead).expect("a warehouse");
        let record = warehouse_id(a.id);
        let before =
            AnyDocument::Warehouse(WarehouseDoc::from_automerge(doc.automerge_ref().clone()));
        let signed_by = |device: DeviceId| {
            let mut after = WarehouseDoc::from_automerge(doc.automerge_ref().clone());
            let movement = receipt("blanket", 40)
                .into_movement(&a, 0, &author(device))
                .expect("ok");
            after.record(&movement).expect("recorded");
            AnyDocument::Warehouse(after)
        };
        let from = |delivery| Facts {
            delivery,
            ..facts()
        };

        // Sent to the server by the tablet that signed it: fine.
        let own = signed_by(lead);
        for role in [Role::Lead, Role::Coordinator] {
            assert!(
                check_write(
                    role,
                    record,
                    Some(&before),
                    &own,
                    &from(Delivery::Device(lead))
                )
                .is_ok()
            );
        }
        // Signed with another tablet's id, by a lead or a coordinator, in a
        // document new to the server or not.
        let forged = signed_by(other);
        for role in [Role::Lead, Role::Coordinator] {
            let err = check_write(
                role,
                record,
                Some(&before),
                &forged,
                &from(Delivery::Device(lead)),
            )
            .expect_err("signed as another");
            assert_eq!(err.code(), "signed_as_another_device");
            assert!(err.to_string().contains(&other.short()), "{err}");
            let unknown = Facts {
                subject: Subject::Unknown,
                ..from(Delivery::Device(lead))
            };
            let err = check_write(role, record, None, &forged, &unknown).expect_err("new");
            assert_eq!(err.code(), "signed_as_another_device");
        }
        // The server hands on every tablet's movements.
        assert!(
            check_write(
                Role::Coordinator,
                record,
                Some(&before),
                &forged,
                &from(Delivery::Server)
            )
            .is_ok()
        );
        // A teammate hands on none, its own or not, new or not.
        for doc in [&own, &forged] {
            let err = check_write(
                Role::Lead,
                record,
                Some(&before),
                doc,
                &from(Delivery::Teammate),
            )
            .expect_err("from a teammate");
            assert_eq!(err.code(), "server_only");
            let unknown = Facts {
                subject: Subject::Unknown,
                ..from(Delivery::Teammate)
            };
            let err = check_write(Role::Coordinator, record, None, doc, &unknown).expect_err("new");
            assert_eq!(err.code(), "server_only");
        }
    }

    proptest! {
        /// Receipts, counts and transfers on three tablets, merged in any
        /// order: every tablet ends with every movement, and the stock is
        /// their sum less the vans' loads plus their returns.
        #[test]
        fn stock_is_the_same_sum_whatever_the_merge_order(
            ops in proptest::collection::vec((0usize..3, 1u32..200, 0u8..4), 1..24),
            order in Just([0usize, 1, 2]).prop_shuffle(),
        ) {
            let a = antenna();
            let devices = [DeviceId::new(), DeviceId::new(), DeviceId::new()];
            let mut docs: Vec<WarehouseDoc> = devices
                .iter()
                .map(|d| WarehouseDoc::create(a.id, d).expect("a warehouse"))
                .collect();
            let mut expected = 0_i64;
            for (tablet, n, kind) in ops {
                let change = match kind {
                    0 => NewChange::Receipt { quantity: n, source: Source::Donation, from: String::new() },
                    1 => NewChange::TransferIn { quantity: n, from: "Dunkerque".into() },
                    // What this tablet sees: its own movements.
                    2 => NewChange::Count { counted: n, reason: "inventaire".into() },
                    _ => NewChange::Receipt { quantity: n, source: Source::Purchase, from: String::new() },
                };
                let seen: Vec<StockMovement> = docs[tablet].movements().expect("movements").into_values().collect();
                let here = on_hand(&stock(&a, &seen, &[], &GivenBySize::new(), Lang::En), "blanket");
                let m = NewMovement { item: item("blanket"), size: None, change }
                    .into_movement(&a, here, &author(devices[tablet]))
                    .expect("a movement");
                expected += m.kind.delta();
                docs[tablet].record(&m).expect("recorded");
            }
            let [x, y, z] = order;
            let mut merged = docs[x].automerge().fork();
            merged.merge(docs[y].automerge()).expect("merged");
            merged.merge(docs[z].automerge()).expect("merged");
            let merged = WarehouseDoc::from_automerge(merged);
            let moves: Vec<StockMovement> = merged.movements().expect("movements").into_values().collect();
            let shifts = [shift("2026-12-01", &[("blanket", 30)], &[("blanket", 4)])];
            let s = stock(&a, &moves, &shifts, &GivenBySize::new(), Lang::En);
            prop_assert_eq!(on_hand(&s, "blanket"), expected - 30 + 4);
        }
    }
}
