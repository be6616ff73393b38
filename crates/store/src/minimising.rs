//! A lead's or coordinator's tablet keeps four weeks of shifts in detail
//! (`maraude_core::access::DETAIL_DAYS`). An older shift, once the server
//! holds it as this tablet has it, leaves the tablet: its documents, its
//! entries' bodies (notes, incident descriptions, witnesses, the words of
//! a shelter request), its team, vehicle and handover note. What stays is
//! its figures, added up per tablet log, kind, place, item and size, as
//! the reports read them (`rollup_shifts`, `rollup_groups`; the views
//! `all_shifts` and `all_figures`), so the year's period report and the
//! warehouse's figures are unchanged. Where the antenna asks
//! (`Settings::old_places_by_kind`) they name the place's kind, not the
//! place: the report's places table then adds old shifts up by kind. The
//! server keeps it all.
//!
//! Should a document of such a shift come back (a late correction the
//! server lists, or the detail a coordinator asked for), it is indexed as
//! any other, and its shift and entries replace their figures
//! (`index::put_shift`, `put_log_entries`) until it is old and held again.

use chrono::{DateTime, NaiveDate, Utc};
use maraude_core::access::{self, Role};
use maraude_core::ids::ShiftId;
use maraude_core::shift::{Shift, ShiftKind};
use rusqlite::params;
use samod_core::DocumentId;

use crate::index::{self, json, parse_json};
use crate::{Result, Store, StoreError, document_id, erasure, replica};

/// What a minimising left.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Minimised {
    /// Shifts now kept as figures only.
    pub shifts: usize,
    /// Their documents, deleted (the shift's and its tablets' logs).
    pub documents: usize,
    /// Old shifts kept in detail because the server does not hold them yet.
    pub waiting: usize,
    /// Old shifts kept in detail because a coordinator brought them back.
    pub asked: usize,
}

/// An old shift kept as figures only (`Store::figures_only_shifts`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct FiguresOnly {
    pub id: ShiftId,
    pub kind: ShiftKind,
    pub date: NaiveDate,
    /// Its detail was asked of the server and has not come back yet.
    pub asked: bool,
}

/// A shift's figures (`?1`, its id) added up per tablet log, date, entry
/// kind, place (its kind only when `?2`), item and size; headcounts one by
/// one, as the census takes each place's latest. Voided entries count
/// nowhere, so they leave.
const ADD_UP: &str = "
    INSERT INTO rollup_groups (shift, log, first, date, shift_kind, at_us, kind, place, place_kind,
        item, detail, entries, quantity, people, men, women, children, minors_alone, vulnerable)
    SELECT unhex(replace(f.shift, '-', '')),
           unhex(replace(coalesce(b.log, f.shift), '-', '')),
           unhex(replace(min(f.id), '-', '')),
           f.date, f.shift_kind, max(f.at_us), f.kind,
           CASE WHEN ?2 THEN NULL ELSE f.place END,
           CASE WHEN ?2 THEN k.kind END,
           f.item, f.detail, count(*), sum(f.quantity), sum(f.people), sum(f.men), sum(f.women),
           sum(f.children), sum(f.minors_alone), sum(f.vulnerable)
    FROM entry_figures f
    JOIN entry_bodies b ON b.id = f.id
    LEFT JOIN (SELECT p.key AS place, json_extract(p.value, '$.kind') AS kind
               FROM antenna a, json_each(a.body, '$.places') p) k ON k.place = f.place
    WHERE f.shift = ?1 AND f.voided = 0
    GROUP BY b.log, f.date, f.kind, CASE WHEN ?2 THEN k.kind ELSE f.place END, f.item, f.detail,
             CASE WHEN f.kind = 'headcount' THEN f.id END";

impl Store {
    /// Keep as figures only the shifts older than this role's detail
    /// window that `server` (its peer id) holds as this store has them.
    /// Nothing on a volunteer's tablet (it holds two days anyway).
    pub fn minimise(&mut self, now: DateTime<Utc>, server: &str) -> Result<Minimised> {
        let role = self.role()?;
        if role == Role::Volunteer {
            return Ok(Minimised::default());
        }
        let today = maraude_core::time::paris_date(now);
        let minimised = self.write(|tx, ctx| {
            tx.prepare_cached("DELETE FROM detail_wanted WHERE until <= ?1")?
                .execute(params![crate::index::ts(now)])?;
            let unsent: Vec<DocumentId> = replica::changed_for(tx, server)?;
            // Only the shifts before the window are read (a year holds ~1,000).
            let before = access::detail_since(role, today)
                .format("%Y-%m-%d")
                .to_string();
            let ended: Vec<String> = tx
                .prepare_cached("SELECT body FROM shifts WHERE ended_at IS NOT NULL AND date < ?1")?
                .query_map(params![before], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Minimised::default();
            if ended.is_empty() {
                // Nothing old (a tablet enrolled but not synced yet has no
                // antenna to read either).
                return Ok(out);
            }
            let by_kind = index::antenna(tx)?.settings.old_places_by_kind;
            for body in ended {
                let shift: Shift = parse_json(&body)?;
                if access::keeps_in_detail(role, shift.date, false, today) {
                    continue;
                }
                let id = shift.id.to_string();
                let asked: bool = tx
                    .prepare_cached("SELECT count(*) FROM detail_wanted WHERE shift = ?1")?
                    .query_row(params![id], |r| r.get::<_, i64>(0))?
                    > 0;
                if asked {
                    out.asked += 1;
                    continue;
                }
                let logs: Vec<String> = tx
                    .prepare_cached("SELECT id FROM tablet_logs WHERE shift = ?1")?
                    .query_map(params![id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut docs = vec![document_id(shift.id.as_uuid())];
                // The logs' ids, to ask the server for them again.
                let mut log_ids = Vec::new();
                for log in &logs {
                    if let Ok(uuid) = log.parse::<uuid::Uuid>() {
                        docs.push(document_id(&uuid));
                        log_ids.extend_from_slice(uuid.as_bytes());
                    }
                }
                if docs.iter().any(|d| unsent.contains(d)) {
                    out.waiting += 1;
                    continue;
                }
                tx.prepare_cached(ADD_UP)?
                    .execute(params![id, by_kind])?;
                let kept = shift.figures_only();
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO rollup_shifts (id, kind, date, started_at, ended_at, body, logs)
                     SELECT id, kind, date, started_at, ended_at, ?2, ?3 FROM shifts WHERE id = ?1",
                )?
                .execute(params![id, json(&kept), log_ids])?;
                for sql in [
                    "DELETE FROM entry_figures WHERE shift = ?1",
                    "DELETE FROM entry_bodies WHERE shift = ?1",
                    "DELETE FROM tablet_logs WHERE shift = ?1",
                    "DELETE FROM shifts WHERE id = ?1",
                ] {
                    tx.prepare_cached(sql)?.execute(params![id])?;
                }
                for doc in &docs {
                    tx.prepare_cached("DELETE FROM documents WHERE doc = ?1")?
                        .execute(params![doc.to_string()])?;
                }
                out.documents += erasure::forget_documents(tx, ctx, &docs)?;
                out.shifts += 1;
            }
            // Overwritten pages and a checkpoint, as after an erasure.
            ctx.deleted = out.shifts > 0;
            Ok(out)
        })?;
        // The first time, most of a year leaves: give the file its space
        // back (the pages were overwritten already). Later, a night at a
        // time, the free pages are reused.
        let (free, pages): (i64, i64) = (
            self.conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))?,
            self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?,
        );
        if minimised.shifts > 0 && free * 4 > pages {
            self.conn.execute_batch("VACUUM")?;
        }
        Ok(minimised)
    }
}

impl Store {
    /// The shifts between `from` and `to` that this tablet keeps as
    /// figures only, newest first.
    pub fn figures_only_shifts(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<FiguresOnly>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.body, w.shift IS NOT NULL FROM rollup_shifts r
             LEFT JOIN detail_wanted w ON w.shift = r.id
             WHERE r.date >= ?1 AND r.date <= ?2 ORDER BY r.started_at DESC",
        )?;
        let rows: Vec<(String, bool)> = stmt
            .query_map(params![index::day(from), index::day(to)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.iter()
            .map(|(body, asked)| {
                let s: Shift = parse_json(body)?;
                Ok(FiguresOnly {
                    id: s.id,
                    kind: s.kind,
                    date: s.date,
                    asked: *asked,
                })
            })
            .collect()
    }

    /// Ask the server, at the next sync, for the detail of an old shift
    /// this tablet keeps as figures only (its id or its last characters);
    /// it then stays in detail for `access::DETAIL_ASKED_DAYS`. A
    /// coordinator's tablet only: the detail of past months is theirs to
    /// look into, not every lead's.
    pub fn want_detail(&mut self, shift: &str, now: DateTime<Utc>) -> Result<FiguresOnly> {
        if self.role()? != Role::Coordinator {
            return Err(StoreError::DetailForCoordinators);
        }
        let id = match self.find_old_shift(shift) {
            // Not among the old ones: held in detail already, or unknown.
            Err(StoreError::NoSuchShift(_)) if self.find_shift(shift).is_ok() => {
                return Err(StoreError::AlreadyInDetail(shift.trim().to_string()));
            }
            found => found?,
        };
        let body: String = self
            .conn
            .prepare_cached("SELECT body FROM rollup_shifts WHERE id = ?1")?
            .query_row(params![id.to_string()], |r| r.get(0))?;
        let s: Shift = parse_json(&body)?;
        let until = now + chrono::Duration::days(access::DETAIL_ASKED_DAYS);
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO detail_wanted (shift, until) VALUES (?1, ?2)")?
            .execute(params![id.to_string(), index::ts(until)])?;
        Ok(FiguresOnly {
            id,
            kind: s.kind,
            date: s.date,
            asked: true,
        })
    }

    /// The documents of the old shifts whose detail was asked and has not
    /// come back: the shift's and its tablets' logs.
    pub fn wanted_detail(&self) -> Result<Vec<DocumentId>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.logs FROM rollup_shifts r JOIN detail_wanted w ON w.shift = r.id",
        )?;
        let rows: Vec<(String, Option<Vec<u8>>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut docs = Vec::new();
        for (shift, logs) in rows {
            if let Ok(uuid) = shift.parse::<uuid::Uuid>() {
                docs.push(document_id(&uuid));
            }
            for log in logs.unwrap_or_default().chunks_exact(16) {
                if let Ok(uuid) = uuid::Uuid::from_slice(log) {
                    docs.push(document_id(&uuid));
                }
            }
        }
        Ok(docs)
    }
}
