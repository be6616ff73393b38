//! A lead's or coordinator's tablet keeps four weeks of shifts in detail
//! (`maraude_core::access::DETAIL_DAYS`). An older shift, once the server
//! holds it as this tablet has it, leaves the tablet: its documents, its
//! entries' bodies (notes, incident descriptions, witnesses, the words of
//! a shelter request), its team, vehicle and handover note. What stays is
//! its figures, as the reports read them (`rollup_shifts`,
//! `rollup_figures`; the views `all_shifts` and `all_figures`), so the
//! year's period report and the warehouse's figures are unchanged. The
//! server keeps it all.
//!
//! Should a document of such a shift come back (a late correction the
//! server lists), it is indexed as any other, and its shift and entries
//! replace their figures (`index::put_shift`, `put_entry`) until it is old
//! and held again.

use chrono::{DateTime, Utc};
use maraude_core::access::{self, Role};
use maraude_core::shift::Shift;
use rusqlite::params;
use samod_core::DocumentId;

use crate::index::{json, parse_json};
use crate::{Result, Store, document_id, erasure, replica};

/// What a minimising left.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Minimised {
    /// Shifts now kept as figures only.
    pub shifts: usize,
    /// Their documents, deleted (the shift's and its tablets' logs).
    pub documents: usize,
    /// Old shifts kept in detail because the server does not hold them yet.
    pub waiting: usize,
}

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
            for body in ended {
                let shift: Shift = parse_json(&body)?;
                if access::keeps_in_detail(role, shift.date, false, today) {
                    continue;
                }
                let id = shift.id.to_string();
                let logs: Vec<String> = tx
                    .prepare_cached("SELECT id FROM tablet_logs WHERE shift = ?1")?
                    .query_map(params![id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut docs = vec![document_id(shift.id.as_uuid())];
                for log in &logs {
                    if let Ok(uuid) = log.parse::<uuid::Uuid>() {
                        docs.push(document_id(&uuid));
                    }
                }
                if docs.iter().any(|d| unsent.contains(d)) {
                    out.waiting += 1;
                    continue;
                }
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO rollup_figures
                     SELECT date, unhex(replace(id, '-', '')), unhex(replace(shift, '-', '')),
                            shift_kind, at_us, kind, place, item, quantity,
                            people, men, women, children, minors_alone, vulnerable, detail,
                            NULL, voided
                     FROM entry_figures WHERE shift = ?1 AND voided = 0",
                )?
                .execute(params![id])?;
                let kept = shift.figures_only();
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO rollup_shifts (id, kind, date, started_at, ended_at, body)
                     SELECT id, kind, date, started_at, ended_at, ?2 FROM shifts WHERE id = ?1",
                )?
                .execute(params![id, json(&kept)])?;
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
