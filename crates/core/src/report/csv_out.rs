//! CSV exports, one row per figure, for spreadsheets.

use super::night::NightReport;
use super::period::PeriodReport;

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    // Writing to a Vec cannot fail, and every field is UTF-8.
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("UTF-8 CSV")
}

/// `section,key,label,value`: one row per figure of the night.
pub fn night_csv(r: &NightReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |section: &str, key: &str, label: &str, value: String| {
        let _ = w.write_record([section, key, label, &value]);
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
            s.unaccounted.to_string(),
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
    finish(w)
}

/// `month,item,label,distributed,loaded,returned` per item, then monthly totals.
pub fn period_csv(r: &PeriodReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "item",
        "label",
        "distributed",
        "entries",
        "loaded",
        "returned",
    ]);
    for i in &r.items {
        let _ = w.write_record([
            i.item.as_str(),
            &i.label,
            &i.distributed.to_string(),
            &i.entries.to_string(),
            &i.loaded.to_string(),
            &i.returned.to_string(),
        ]);
    }
    finish(w)
}
