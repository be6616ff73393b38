//! CSV exports, for spreadsheets: every CSV Maraude writes goes through
//! [`Sheet`].
//!
//! A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a
//! tab or a carriage return first) is written with a `'` before it, which
//! spreadsheets show as text: a place named `=HYPERLINK(…)` by a careless
//! or malicious hand must not run when the coordinator opens the monthly
//! file. Plain numbers (`-3`) are left as they are. [`read_cell`] undoes
//! it when Maraude reads its own export back (an import).

use std::borrow::Cow;

use super::night::NightReport;
use super::period::PeriodReport;
use super::rows::TallyRow;
use crate::antenna::Antenna;

/// Whether a spreadsheet would read `cell` as a formula.
fn looks_like_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()
}

/// Whether `cell` is written with a `'` before it: a formula, and also a
/// value that already begins with `'` before a formula (`'=1`), which
/// [`read_cell`] would otherwise take for an escaped `=1`.
fn needs_quote(cell: &str) -> bool {
    looks_like_formula(cell.trim_start_matches('\''))
}

/// `cell` as written to a CSV: with a `'` before what would be a formula.
pub fn spreadsheet_cell(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell read from a CSV Maraude wrote: without the `'` that
/// [`spreadsheet_cell`] put before it. `read_cell(&spreadsheet_cell(c))`
/// is `c`, for every `c`.
pub fn read_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// A CSV being written, row by row, every cell through
/// [`spreadsheet_cell`].
pub struct Sheet(csv::Writer<Vec<u8>>);

impl std::fmt::Debug for Sheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sheet")
    }
}

impl Default for Sheet {
    fn default() -> Self {
        Self(csv::Writer::from_writer(Vec::new()))
    }
}

impl Sheet {
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| spreadsheet_cell(c.as_ref()).into_owned())
            .collect();
        // Writing to a Vec cannot fail.
        let _ = self.0.write_record(&cells);
    }

    pub fn finish(self) -> String {
        // Writing to a Vec cannot fail, and every field is UTF-8.
        String::from_utf8(self.0.into_inner().expect("in-memory CSV")).expect("UTF-8 CSV")
    }
}

/// `section,key,label,value`: one row per figure of the night.
pub fn night_csv(r: &NightReport) -> String {
    let mut w = Sheet::default();
    let mut row = |section: &str, key: &str, label: &str, value: String| {
        w.row([section, key, label, &value]);
    };
    row("section", "key", "label", "value".into());
    row("shift", "date", "", r.date.to_string());
    row("shift", "kind", "", r.kind.as_str().into());
    row("shift", "lead", "", r.lead.clone());
    row("people_met", "total", "", r.people_met.total.to_string());
    for p in &r.people_met.by_place {
        row(
            "people_met",
            p.place.as_ref().map_or("", |p| p.as_str()),
            &p.name,
            p.people.to_string(),
        );
    }
    row("arrivals", "groups", "", r.arrivals.groups.to_string());
    row("arrivals", "people", "", r.arrivals.people.to_string());
    for d in &r.distributions {
        row(
            "distributed",
            d.item.as_str(),
            &d.label,
            d.quantity.to_string(),
        );
    }
    for s in &r.stock {
        row(
            "stock_loaded",
            s.item.as_str(),
            &s.label,
            s.loaded.to_string(),
        );
        row(
            "stock_returned",
            s.item.as_str(),
            &s.label,
            s.returned.to_string(),
        );
        row(
            "stock_unaccounted",
            s.item.as_str(),
            &s.label,
            s.unaccounted.map(|n| n.to_string()).unwrap_or_default(),
        );
    }
    row(
        "cases",
        "shelter_requests",
        "",
        r.shelter_requests.len().to_string(),
    );
    row("cases", "referrals", "", r.referrals.len().to_string());
    row("incidents", "count", "", r.incidents.len().to_string());
    w.finish()
}

/// `month,item,label,distributed,loaded,returned` per item, then monthly totals.
pub fn period_csv(r: &PeriodReport) -> String {
    let mut w = Sheet::default();
    w.row([
        "item",
        "label",
        "distributed",
        "entries",
        "loaded",
        "returned",
    ]);
    for i in &r.items {
        w.row([
            i.item.as_str(),
            &i.label,
            &i.distributed.to_string(),
            &i.entries.to_string(),
            &i.loaded.to_string(),
            &i.returned.to_string(),
        ]);
    }
    w.finish()
}

/// A table of the period report, each its own CSV (the report screen's
/// "CSV" beside each table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PeriodTable {
    Items,
    Places,
    Weeks,
    Months,
    Incidents,
    Cases,
    Census,
}

impl PeriodTable {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Items => "items",
            Self::Places => "places",
            Self::Weeks => "weeks",
            Self::Months => "months",
            Self::Incidents => "incidents",
            Self::Cases => "cases",
            Self::Census => "census",
        }
    }
}

/// One table of the period report as CSV: counts only, like the report.
pub fn period_table_csv(r: &PeriodReport, table: PeriodTable) -> String {
    let mut w = Sheet::default();
    let n = |v: u32| v.to_string();
    match table {
        PeriodTable::Items => return period_csv(r),
        PeriodTable::Places => {
            w.row([
                "place",
                "name",
                "people_met",
                "distributed",
                "arrivals_people",
                "incidents",
            ]);
            for p in &r.places {
                let id = p.place.as_ref().map(|p| p.to_string()).unwrap_or_default();
                w.row([
                    id,
                    p.name.clone(),
                    n(p.people_met),
                    n(p.distributed),
                    n(p.arrivals_people),
                    n(p.incidents),
                ]);
            }
        }
        PeriodTable::Weeks => {
            let items: Vec<&super::period::ItemTotal> = r.items.iter().collect();
            let mut head = vec![
                "week".to_string(),
                "monday".into(),
                "distributed".into(),
                "people_met".into(),
                "arrivals_people".into(),
                "arrivals_men".into(),
                "arrivals_women".into(),
                "arrivals_children".into(),
                "arrivals_minors_alone".into(),
                "incidents".into(),
            ];
            head.extend(items.iter().map(|i| i.item.to_string()));
            w.row(head);
            for k in &r.weeks {
                let c = &k.arrivals_composition;
                let mut line = vec![
                    k.week.clone(),
                    k.start.to_string(),
                    n(k.distributed),
                    n(k.people_met),
                    n(k.arrivals_people),
                    n(c.men),
                    n(c.women),
                    n(c.children),
                    n(c.minors_alone),
                    n(k.incidents),
                ];
                line.extend(
                    items
                        .iter()
                        .map(|i| n(k.items.get(&i.item).copied().unwrap_or(0))),
                );
                w.row(line);
            }
        }
        PeriodTable::Months => {
            w.row([
                "month",
                "shifts",
                "distributed",
                "people_met",
                "arrivals_people",
                "incidents",
                "shelter_requests",
                "referrals",
            ]);
            for m in &r.months {
                w.row([
                    m.month.clone(),
                    n(m.shifts),
                    n(m.distributed),
                    n(m.people_met),
                    n(m.arrivals_people),
                    n(m.incidents),
                    n(m.shelter_requests),
                    n(m.referrals),
                ]);
            }
        }
        PeriodTable::Incidents => {
            w.row(["month", "type", "incidents"]);
            for m in &r.months {
                for (kind, count) in &m.incidents_by_type {
                    w.row([m.month.clone(), kind.clone(), n(*count)]);
                }
            }
        }
        PeriodTable::Cases => {
            let c = &r.cases;
            w.row(["what", "count"]);
            w.row([
                "shelter_requests_opened".to_string(),
                n(c.shelter_requests_opened),
            ]);
            w.row(["referrals_opened".to_string(), n(c.referrals_opened)]);
            w.row(["still_open".to_string(), n(c.still_open)]);
            for (outcome, count) in &c.outcomes {
                w.row([format!("outcome:{outcome}"), n(*count)]);
            }
        }
        PeriodTable::Census => {
            w.row([
                "place",
                "name",
                "date",
                "people",
                "men",
                "women",
                "children",
                "minors_alone",
                "vulnerable",
            ]);
            for l in &r.census {
                let c = &l.composition;
                w.row([
                    l.place.to_string(),
                    l.name.clone(),
                    l.date.to_string(),
                    n(l.people),
                    n(c.men),
                    n(c.women),
                    n(c.children),
                    n(c.minors_alone),
                    n(l.vulnerable),
                ]);
            }
        }
    }
    w.finish()
}

/// One row per entry, as numbers (`maraude export entries`).
pub fn entries_csv(rows: &[TallyRow]) -> String {
    let mut w = Sheet::default();
    w.row([
        "entry",
        "shift",
        "shift_kind",
        "date",
        "time_utc",
        "kind",
        "place",
        "item",
        "quantity",
        "people",
        "men",
        "women",
        "children",
        "minors_alone",
        "vulnerable",
        "detail",
        "case",
        // 1 but in the figures a lead's tablet keeps of an old shift,
        // where a row adds up several entries (the server has each).
        "entries",
        "place_kind",
    ]);
    for r in rows {
        let c = &r.composition;
        w.row([
            r.entry.to_string(),
            r.shift.to_string(),
            r.shift_kind.as_str().into(),
            r.date.to_string(),
            r.at.to_rfc3339(),
            r.kind.as_str().into(),
            r.place.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            r.item.as_ref().map(|i| i.to_string()).unwrap_or_default(),
            r.quantity.to_string(),
            r.people.to_string(),
            c.men.to_string(),
            c.women.to_string(),
            c.children.to_string(),
            c.minors_alone.to_string(),
            r.vulnerable.to_string(),
            r.detail.clone().unwrap_or_default(),
            r.case.map(|c| c.to_string()).unwrap_or_default(),
            r.entries.to_string(),
            r.place_kind
                .map(|k| k.code().to_string())
                .unwrap_or_default(),
        ]);
    }
    w.finish()
}

/// `id,fr,en,sizes,active`: the catalogue, as `maraude import catalogue`
/// reads it back.
pub fn catalogue_csv(antenna: &Antenna) -> String {
    let mut w = Sheet::default();
    w.row(["id", "fr", "en", "sizes", "active"]);
    for (id, i) in &antenna.catalogue {
        w.row([
            id.as_str(),
            &i.label.fr,
            &i.label.en,
            &i.sizes.join(";"),
            &i.active.to_string(),
        ]);
    }
    w.finish()
}

/// `id,name,kind,active`: the places, as `maraude import places` reads
/// them back.
pub fn places_csv(antenna: &Antenna) -> String {
    let mut w = Sheet::default();
    w.row(["id", "name", "kind", "active"]);
    for (id, p) in &antenna.places {
        w.row([id.as_str(), &p.name, p.kind.code(), &p.active.to_string()]);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_written_as_text_and_read_back_as_given() {
        for evil in [
            "=HYPERLINK(\"http://x\",\"clic\")",
            "+33 6 00",
            "-2+3",
            "@SUM(A1)",
            "\tcmd",
            "\r=1",
        ] {
            let cell = spreadsheet_cell(evil);
            assert_eq!(cell, format!("'{evil}"), "{evil:?}");
            assert_eq!(read_cell(&cell), evil);
        }
        for plain in [
            "Dunes nord",
            "-3",
            "12",
            "",
            "'quoted'",
            "2026-11-23",
            "'-3",
            "'",
        ] {
            assert_eq!(spreadsheet_cell(plain), plain);
            assert_eq!(read_cell(plain), plain);
        }
    }

    #[test]
    fn a_value_that_begins_with_a_quote_before_a_formula_reads_back_as_it_was() {
        // A size list `'=L` (or a place typed `'=x`): as it is, a reader
        // would take it for an escaped `=L`.
        for value in ["'=L", "''=x", "'\t", "'-2+3"] {
            let cell = spreadsheet_cell(value);
            assert_eq!(cell, format!("'{value}"), "{value:?}");
            assert_eq!(read_cell(&cell), value);
        }
    }

    #[test]
    fn every_export_escapes_a_place_named_like_a_formula() {
        let mut a = Antenna::new("Calais").unwrap();
        a.places.insert(
            "bridge".parse().unwrap(),
            crate::antenna::Place {
                name: "=cmd|' /C calc'!A0".into(),
                kind: crate::antenna::PlaceKind::LivingPlace,
                active: true,
            },
        );
        let csv = places_csv(&a);
        assert!(csv.contains("'=cmd"), "{csv}");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(read_cell(&row[1]), "=cmd|' /C calc'!A0");
    }
}
