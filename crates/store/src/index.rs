//! The materialized index: the one place that maps records to SQL rows.
//!
//! Rows are derived from documents only (through the core's row types), so
//! the index can always be dropped and rebuilt. Local changes update the
//! rows they touch; a merge re-derives the merged document's rows.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use maraude_core::antenna::Antenna;
use maraude_core::case::Case;
use maraude_core::entry::{Composition, Entry, EntryKind};
use maraude_core::ids::{CaseId, DeviceId, EntryId, ShiftId};
use maraude_core::report::{CaseSummary, PeriodRow, ShiftSummary, TallyRow};
use maraude_core::shift::{Filing, Shift, ShiftKind, TabletLog};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::StoreError;

/// Timestamps as fixed-width UTC text, so that text order is time order.
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A date as stored: `YYYY-MM-DD`. Bounds beyond years 1–9999 (`NaiveDate::MIN`
/// for "since always") are clamped so that text order stays date order.
pub(crate) fn day(d: NaiveDate) -> String {
    let lo = NaiveDate::from_ymd_opt(1, 1, 1).expect("valid date");
    let hi = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");
    d.clamp(lo, hi).format("%Y-%m-%d").to_string()
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("records serialise to JSON")
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::BadDocument(format!("index row: {e}")))
}

pub(crate) fn put_antenna(conn: &Connection, antenna: &Antenna) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR REPLACE INTO antenna (id, body) VALUES (?1, ?2)")?
        .execute(params![antenna.id.to_string(), json(antenna)])?;
    Ok(())
}

pub(crate) fn antenna(conn: &Connection) -> Result<Antenna, StoreError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM antenna")?
        .query_row([], |r| r.get(0))
        .optional()?;
    parse_json(&body.ok_or(StoreError::NoAntennaYet)?)
}

pub(crate) fn put_shift(conn: &Connection, shift: &Shift) -> Result<(), StoreError> {
    // Indexed again from its document: its figures-only row goes.
    conn.prepare_cached("DELETE FROM rollup_shifts WHERE id = ?1")?
        .execute(params![shift.id.to_string()])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO shifts (id, kind, date, started_at, ended_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        shift.id.to_string(),
        shift.kind.as_str(),
        day(shift.date),
        ts(shift.started_at),
        shift.ended_at.map(ts),
        json(shift),
    ])?;
    Ok(())
}

/// The rows of `entry`, filed under its shift, found in the document of
/// record `log` (a tablet log, or the shift itself).
pub(crate) fn put_entry(
    conn: &Connection,
    filed: &Filing,
    log: &str,
    entry: &Entry,
) -> Result<(), StoreError> {
    put_entry_rows(conn, filed, log, entry, FiguresOnly::MayBe)
}

/// Whether the shift may have rows kept as figures only (`rollup_groups`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FiguresOnly {
    MayBe,
    None,
}

fn put_entry_rows(
    conn: &Connection,
    filed: &Filing,
    log: &str,
    entry: &Entry,
    figures_only: FiguresOnly,
) -> Result<(), StoreError> {
    let r = TallyRow::from_entry(filed, entry);
    // Indexed again from its document: its figures-only row goes (the
    // rows kept per entry before old figures were added up, schema 14).
    if figures_only == FiguresOnly::MayBe {
        conn.prepare_cached("DELETE FROM rollup_groups WHERE shift = ?1 AND log = ?2")?
            .execute(params![
                r.shift.as_uuid().as_bytes().as_slice(),
                r.entry.as_uuid().as_bytes().as_slice()
            ])?;
    }
    // REPLACE also removes the row of an entry whose date an edit moved:
    // `id` is unique too.
    conn.prepare_cached(
        "INSERT OR REPLACE INTO entry_figures (id, shift, shift_kind, date, at_us, kind, place, item, quantity,
            people, men, women, children, minors_alone, vulnerable, detail, case_id, voided)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        r.entry.to_string(),
        r.shift.to_string(),
        r.shift_kind.as_str(),
        day(r.date),
        r.at.timestamp_micros(),
        r.kind.as_str(),
        r.place.as_ref().map(|p| p.as_str()),
        r.item.as_ref().map(|i| i.as_str()),
        r.quantity,
        r.people,
        r.composition.men,
        r.composition.women,
        r.composition.children,
        r.composition.minors_alone,
        r.vulnerable,
        r.detail,
        r.case.map(|c| c.to_string()),
        r.voided,
    ])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO entry_bodies (id, shift, at, body, log) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        r.entry.to_string(),
        r.shift.to_string(),
        ts(r.at),
        json(entry),
        // NULL for an entry in the shift document itself, the most: a
        // second copy of the shift's id in every row would cost the store
        // 7% for nothing.
        (log != r.shift.to_string()).then_some(log)
    ])?;
    Ok(())
}

/// Re-derive every row of a shift (after a merge or an import).
/// A shift and the entries written in its own document.
pub(crate) fn put_shift_with_entries(
    conn: &Connection,
    shift: &Shift,
    entries: &[Entry],
) -> Result<(), StoreError> {
    put_shift(conn, shift)?;
    put_log_entries(conn, &shift.filing(), &shift.id.to_string(), entries)
}

/// Where each tablet's entries of `shift` are, as the shift document
/// lists them: the shift itself for the tablet that started it.
pub(crate) fn put_logs(
    conn: &Connection,
    shift: &Shift,
    logs: &std::collections::BTreeMap<DeviceId, uuid::Uuid>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO tablet_logs (id, shift, device, date) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (device, log) in logs {
        stmt.execute(params![
            log.to_string(),
            shift.id.to_string(),
            device.to_string(),
            day(shift.date)
        ])?;
    }
    Ok(())
}

/// A tablet log and its entries.
pub(crate) fn put_tablet_log(
    conn: &Connection,
    log: &TabletLog,
    entries: &[Entry],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO tablet_logs (id, shift, device, date) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        log.id.to_string(),
        log.shift.to_string(),
        log.device.to_string(),
        day(log.date)
    ])?;
    put_log_entries(conn, &log.filing(), &log.id.to_string(), entries)
}

/// Replace the rows of the entries found in the document of record `log`.
fn put_log_entries(
    conn: &Connection,
    filed: &Filing,
    log: &str,
    entries: &[Entry],
) -> Result<(), StoreError> {
    let sql: [&str; 2] = if log == filed.shift.to_string() {
        [
            "DELETE FROM entry_figures WHERE id IN
                (SELECT id FROM entry_bodies WHERE shift = ?1 AND log IS NULL)",
            "DELETE FROM entry_bodies WHERE shift = ?1 AND log IS NULL",
        ]
    } else {
        [
            "DELETE FROM entry_figures WHERE id IN (SELECT id FROM entry_bodies WHERE log = ?1)",
            "DELETE FROM entry_bodies WHERE log = ?1",
        ]
    };
    for sql in sql {
        conn.prepare_cached(sql)?.execute(params![log])?;
    }
    // A document of a shift kept as figures only came back (a late
    // correction, or detail asked of the server): its figures give way to
    // its entries.
    if let Ok(log_id) = log.parse::<uuid::Uuid>() {
        conn.prepare_cached("DELETE FROM rollup_groups WHERE shift = ?1 AND log = ?2")?
            .execute(params![
                filed.shift.as_uuid().as_bytes().as_slice(),
                log_id.as_bytes().as_slice()
            ])?;
    }
    // Asked once for the shift rather than for each entry: a fresh tablet
    // receiving a season has no figures-only rows at all.
    let figures_only = if conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM rollup_groups WHERE shift = ?1)")?
        .query_row(params![filed.shift.as_uuid().as_bytes().as_slice()], |r| {
            r.get::<_, bool>(0)
        })? {
        FiguresOnly::MayBe
    } else {
        FiguresOnly::None
    };
    for e in entries {
        put_entry_rows(conn, filed, log, e, figures_only)?;
    }
    Ok(())
}

pub(crate) fn put_case(conn: &Connection, case: &Case) -> Result<(), StoreError> {
    let summary = CaseSummary::from(case);
    conn.prepare_cached("INSERT OR REPLACE INTO cases (id, opened_at, open, alias, summary) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![case.id.to_string(), ts(case.opened_at), summary.open, case.person.alias, json(&summary)])?;
    Ok(())
}

/// The warehouse's movements, all of them again (a few hundred a year).
pub(crate) fn put_movements(
    conn: &Connection,
    movements: &[maraude_core::warehouse::StockMovement],
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM stock_movements", [])?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO stock_movements (id, at, item, body) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for m in movements {
        stmt.execute(params![
            m.id.to_string(),
            ts(m.at),
            m.item.as_str(),
            json(m)
        ])?;
    }
    Ok(())
}

/// The warehouse's movements, oldest first.
pub(crate) fn movements(
    conn: &Connection,
) -> Result<Vec<maraude_core::warehouse::StockMovement>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT body FROM stock_movements ORDER BY at, id")?;
    let bodies: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies.iter().map(|b| parse_json(b)).collect()
}

/// What distributions gave of each size of an item from `since` on (not
/// struck out); only those of the shifts in `of_shifts`, when given.
pub(crate) fn given_by_size(
    conn: &Connection,
    since: chrono::DateTime<chrono::Utc>,
    of_shifts: Option<&std::collections::BTreeSet<String>>,
) -> Result<maraude_core::warehouse::GivenBySize, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT shift, item, detail, SUM(quantity) FROM all_figures
         WHERE kind = 'distribution' AND voided = 0 AND detail IS NOT NULL AND item IS NOT NULL
           AND at_us >= ?1
         GROUP BY shift, item, detail",
    )?;
    let rows: Vec<(String, String, String, i64)> = stmt
        .query_map(params![since.timestamp_micros()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut given = maraude_core::warehouse::GivenBySize::new();
    for (shift, item, size, n) in rows {
        if of_shifts.is_some_and(|counted| !counted.contains(&shift)) {
            continue;
        }
        // A row the index wrote has an item id that parses.
        if let Ok(item) = item.parse() {
            *given.entry((item, size)).or_default() += u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(given)
}

pub(crate) fn put_document(
    conn: &Connection,
    doc: &str,
    kind: &str,
    record: &str,
    heads: &[automerge::ChangeHash],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO documents (doc, type, record, heads) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![doc, kind, record, heads_text(heads)])?;
    Ok(())
}

/// Heads as stored in `documents` and `peer_heads`: a sorted JSON list of
/// hex hashes, so that two sets of heads compare as text in SQL.
pub(crate) fn heads_text(heads: &[automerge::ChangeHash]) -> String {
    let mut h: Vec<String> = heads.iter().map(ToString::to_string).collect();
    h.sort();
    json(&h)
}

pub(crate) fn clear(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("DELETE FROM documents; DELETE FROM antenna; DELETE FROM shifts; DELETE FROM entry_figures; DELETE FROM entry_bodies; DELETE FROM tablet_logs; DELETE FROM cases; DELETE FROM quarantine; DELETE FROM stock_movements;")?;
    Ok(())
}

// Reading.

pub(crate) fn shift(conn: &Connection, id: &ShiftId) -> Result<Option<Shift>, StoreError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM shifts WHERE id = ?1")?
        .query_row(params![id.to_string()], |r| r.get(0))
        .optional()?;
    body.map(|b| parse_json(&b)).transpose()
}

/// Shifts between two dates (inclusive), newest first.
pub(crate) fn shifts(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Shift>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM shifts WHERE date >= ?1 AND date <= ?2 ORDER BY started_at DESC",
    )?;
    let bodies: Vec<String> = stmt
        .query_map(params![day(from), day(to)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies.iter().map(|b| parse_json(b)).collect()
}

/// The date of the first shift this store holds, if any.
pub(crate) fn first_shift_date(conn: &Connection) -> Result<Option<NaiveDate>, StoreError> {
    let first: Option<String> = conn
        .prepare_cached("SELECT min(date) FROM all_shifts")?
        .query_row([], |r| r.get(0))?;
    Ok(first.and_then(|d| d.parse().ok()))
}

pub(crate) fn open_shifts(conn: &Connection) -> Result<Vec<Shift>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM shifts WHERE ended_at IS NULL ORDER BY started_at DESC",
    )?;
    let bodies: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies.iter().map(|b| parse_json(b)).collect()
}

/// A shift's entries in time order, voided ones included.
pub(crate) fn entries(conn: &Connection, shift: &ShiftId) -> Result<Vec<Entry>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT body FROM entry_bodies WHERE shift = ?1 ORDER BY at, id")?;
    let bodies: Vec<String> = stmt
        .query_map(params![shift.to_string()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies.iter().map(|b| parse_json(b)).collect()
}

/// Ids of records whose id ends with `suffix` (what the CLI shows).
pub(crate) fn ids_ending_with(
    conn: &Connection,
    table: &str,
    suffix: &str,
) -> Result<Vec<String>, StoreError> {
    let sql = match table {
        "entries" => "SELECT id FROM entry_figures WHERE replace(id, '-', '') LIKE '%' || ?1",
        "shifts" => "SELECT id FROM shifts WHERE replace(id, '-', '') LIKE '%' || ?1",
        "old_shifts" => "SELECT id FROM rollup_shifts WHERE replace(id, '-', '') LIKE '%' || ?1",
        _ => "SELECT id FROM cases WHERE replace(id, '-', '') LIKE '%' || ?1",
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let ids = stmt
        .query_map(params![suffix.replace('-', "").to_lowercase()], |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The shift of an entry, and the record of the document it is in (a
/// tablet log, or the shift itself).
pub(crate) fn where_is_entry(
    conn: &Connection,
    entry: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT shift, coalesce(log, shift) FROM entry_bodies WHERE id = ?1")?
        .query_row(params![entry], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The record whose document holds this tablet's entries of `shift`: the
/// shift itself if this tablet started it, else its tablet log once it
/// logged there.
pub(crate) fn tablet_log_of(
    conn: &Connection,
    shift: &ShiftId,
    device: &DeviceId,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM tablet_logs WHERE shift = ?1 AND device = ?2 ORDER BY id LIMIT 1",
        )?
        .query_row(params![shift.to_string(), device.to_string()], |r| r.get(0))
        .optional()?;
    Ok(id.and_then(|id| id.parse().ok()))
}

fn tally_row(r: &Row<'_>) -> rusqlite::Result<TallyRow> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::InvalidColumnType(i, what.to_string(), rusqlite::types::Type::Text)
    };
    // Borrowed, not copied: a year's report reads 100,000 rows.
    let text = |i: usize| -> rusqlite::Result<&str> { Ok(r.get_ref(i)?.as_str()?) };
    let some_text =
        |i: usize| -> rusqlite::Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    // Text in the index, a UUID's bytes in the figures kept of old shifts.
    let uuid = |i: usize| -> rusqlite::Result<uuid::Uuid> {
        match r.get_ref(i)? {
            rusqlite::types::ValueRef::Blob(b) => uuid::Uuid::from_slice(b).ok(),
            other => other.as_str()?.parse().ok(),
        }
        .ok_or_else(|| bad(i, "id"))
    };
    Ok(TallyRow {
        entry: EntryId::from_uuid(uuid(0)?),
        shift: ShiftId::from_uuid(uuid(1)?),
        shift_kind: ShiftKind::parse(text(2)?).ok_or_else(|| bad(2, "shift kind"))?,
        date: text(3)?.parse().map_err(|_| bad(3, "date"))?,
        at: DateTime::from_timestamp_micros(r.get(4)?).ok_or_else(|| bad(4, "time"))?,
        kind: EntryKind::parse(text(5)?).ok_or_else(|| bad(5, "entry kind"))?,
        place: some_text(6)?.and_then(|p| p.parse().ok()),
        item: some_text(7)?.and_then(|p| p.parse().ok()),
        quantity: r.get(8)?,
        people: r.get(9)?,
        composition: Composition {
            men: r.get(10)?,
            women: r.get(11)?,
            children: r.get(12)?,
            minors_alone: r.get(13)?,
        },
        vulnerable: r.get(14)?,
        detail: r.get(15)?,
        case: some_text(16)?.and_then(|c| c.parse().ok()),
        voided: r.get(17)?,
        entries: r.get(18)?,
        place_kind: some_text(19)?.and_then(|k| k.parse().ok()),
    })
}

/// Feed every entry row dated between `from` and `to` (inclusive) to `f`,
/// without building a list: a year is ~100,000 rows.
pub(crate) fn for_each_tally_row(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    mut f: impl FnMut(&TallyRow),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, shift, shift_kind, date, at_us, kind, place, item, quantity, people, men, women, children,
                minors_alone, vulnerable, detail, case_id, voided, entries, place_kind
         FROM all_figures WHERE date >= ?1 AND date <= ?2 AND voided = 0",
    )?;
    let mut rows = stmt.query(params![day(from), day(to)])?;
    while let Some(r) = rows.next()? {
        f(&tally_row(r)?);
    }
    Ok(())
}

/// What the period report needs of every entry dated between `from` and
/// `to` (inclusive), voided ones left out, fed to `f` without the ids: a
/// year is ~100,000 rows.
pub(crate) fn for_each_period_row(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    mut f: impl FnMut(&PeriodRow),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT date, at_us, place, kind, item, detail, quantity, people, men, women, children,
                minors_alone, vulnerable, entries, place_kind
         FROM all_figures WHERE date >= ?1 AND date <= ?2 AND voided = 0",
    )?;
    let mut rows = stmt.query(params![day(from), day(to)])?;
    while let Some(r) = rows.next()? {
        f(&period_row(r)?);
    }
    Ok(())
}

fn period_row(r: &Row<'_>) -> rusqlite::Result<PeriodRow> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::InvalidColumnType(i, what.to_string(), rusqlite::types::Type::Text)
    };
    let text = |i: usize| -> rusqlite::Result<&str> { Ok(r.get_ref(i)?.as_str()?) };
    let some_text =
        |i: usize| -> rusqlite::Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    Ok(PeriodRow {
        date: text(0)?.parse().map_err(|_| bad(0, "date"))?,
        at: DateTime::from_timestamp_micros(r.get(1)?).ok_or_else(|| bad(1, "time"))?,
        place: some_text(2)?.and_then(|p| p.parse().ok()),
        kind: EntryKind::parse(text(3)?).ok_or_else(|| bad(3, "entry kind"))?,
        item: some_text(4)?.and_then(|p| p.parse().ok()),
        detail: r.get(5)?,
        quantity: r.get(6)?,
        people: r.get(7)?,
        composition: Composition {
            men: r.get(8)?,
            women: r.get(9)?,
            children: r.get(10)?,
            minors_alone: r.get(11)?,
        },
        vulnerable: r.get(12)?,
        entries: r.get(13)?,
        place_kind: some_text(14)?.and_then(|k| k.parse().ok()),
    })
}

/// The shifts between `from` and `to` for the reports: those held in
/// detail, and those kept as figures only.
pub(crate) fn shift_summaries(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ShiftSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM all_shifts WHERE date >= ?1 AND date <= ?2 ORDER BY started_at DESC",
    )?;
    let bodies: Vec<String> = stmt
        .query_map(params![day(from), day(to)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    bodies
        .iter()
        .map(|b| Ok(ShiftSummary::from(&parse_json::<Shift>(b)?)))
        .collect()
}

pub(crate) fn case_summaries(
    conn: &Connection,
    only_open: bool,
) -> Result<Vec<(CaseSummary, String)>, StoreError> {
    let sql = if only_open {
        "SELECT summary, alias FROM cases WHERE open = 1 ORDER BY opened_at"
    } else {
        "SELECT summary, alias FROM cases ORDER BY opened_at"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(s, a)| Ok((parse_json(&s)?, a)))
        .collect()
}

pub(crate) fn case_summary(
    conn: &Connection,
    id: &CaseId,
) -> Result<Option<CaseSummary>, StoreError> {
    let body: Option<String> = conn
        .prepare_cached("SELECT summary FROM cases WHERE id = ?1")?
        .query_row(params![id.to_string()], |r| r.get(0))
        .optional()?;
    body.map(|b| parse_json(&b)).transpose()
}

/// Every index row as text, sorted: two indexes are equal when their dumps are.
pub fn dump(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for table in [
        "documents",
        "antenna",
        "shifts",
        "entry_figures",
        "entry_bodies",
        "tablet_logs",
        "cases",
        "erased_cases",
        "stock_movements",
    ] {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}"))?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let mut line = format!("{table}:");
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i)?;
                line.push_str(&format!("{v:?}|"));
            }
            out.push(line);
        }
    }
    out.sort();
    Ok(out)
}
