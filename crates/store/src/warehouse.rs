//! The warehouse's stock: movements recorded at the warehouse, stock on
//! hand with the vans' loads and returns, and the needs list
//! (`maraude_core::warehouse`). Recording is for leads' and coordinators'
//! tablets, as every receiver checks.

use chrono::{NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::access::Role;
use maraude_core::authority::Refused;
use maraude_core::document::{Document, WarehouseDoc};
use maraude_core::entry::Author;
use maraude_core::ids::Nickname;
use maraude_core::warehouse::{
    self, NeedsList, NewMovement, StockMovement, StockReport, warehouse_id,
};

use crate::{Result, Store, chunks, document_id, index, save_document};

impl Store {
    /// Record a receipt, a transfer or a count at the warehouse.
    pub fn record_movement(&mut self, by: &Nickname, new: NewMovement) -> Result<StockMovement> {
        let role = self.role()?;
        if role == Role::Volunteer {
            return Err(Refused::NewDocument {
                role,
                what: WarehouseDoc::TYPE,
            }
            .into());
        }
        let antenna = self.antenna()?;
        // A size's own figure for a movement of one size: a count of
        // shoes 42 corrects shoes 42.
        let line = self
            .stock(Lang::En)?
            .lines
            .into_iter()
            .find(|l| l.item == new.item);
        let on_hand = match (&line, &new.size) {
            (Some(l), Some(size)) => l
                .sizes
                .iter()
                .find(|s| &s.size == size)
                .map_or(0, |s| s.on_hand),
            (Some(l), None) => l.on_hand,
            (None, _) => 0,
        };
        let author = Author {
            by: by.clone(),
            device: self.device(),
            now: Utc::now(),
        };
        let movement = new.into_movement(&antenna, on_hand, &author)?;
        let record = warehouse_id(antenna.id);
        self.write(|tx, ctx| {
            let id = document_id(&record);
            let (mut doc, heads) = match chunks::load::<WarehouseDoc>(tx, &id, &ctx.device)? {
                Some(mut doc) => {
                    let heads = doc.heads();
                    (doc, heads)
                }
                None => (WarehouseDoc::create(antenna.id, &ctx.device)?, Vec::new()),
            };
            doc.record(&movement)?;
            save_document(tx, &record, &mut doc, &heads)?;
            let all: Vec<StockMovement> = doc.movements()?.into_values().collect();
            index::put_movements(tx, &all)?;
            Ok(movement.clone())
        })
    }

    /// Every movement the warehouse recorded, oldest first.
    pub fn movements(&self) -> Result<Vec<StockMovement>> {
        index::movements(&self.conn)
    }

    /// Stock on hand per item.
    pub fn stock(&self, lang: Lang) -> Result<StockReport> {
        let antenna = self.antenna()?;
        let movements = index::movements(&self.conn)?;
        let since = movements
            .iter()
            .map(|m| maraude_core::time::paris_date(m.at))
            .min();
        let shifts = match since {
            Some(since) => index::shift_summaries(&self.conn, since, NaiveDate::MAX)?,
            None => Vec::new(),
        };
        let given = match movements.iter().map(|m| m.at).min() {
            // Entries keep their time to the second: one given in the
            // second of the first movement counts. Only the shifts whose
            // loads the stock counts (started after the first movement,
            // `warehouse::stock`): a night that began before it and
            // gives after it took its load from shelves not yet counted.
            Some(first) => {
                let counted = shifts
                    .iter()
                    .filter(|s| s.started_at >= first)
                    .map(|s| s.id.to_string())
                    .collect();
                index::given_by_size(
                    &self.conn,
                    maraude_core::time::to_the_second(first),
                    Some(&counted),
                )?
            }
            None => warehouse::GivenBySize::new(),
        };
        Ok(warehouse::stock(
            &antenna, &movements, &shifts, &given, lang,
        ))
    }

    /// What to ask donors for, for the next `days` from `today`.
    pub fn needs(&self, today: NaiveDate, days: u32, lang: Lang) -> Result<NeedsList> {
        let antenna = self.antenna()?;
        let stock = self.stock(lang)?;
        let from = today - chrono::Duration::days(warehouse::TREND_DAYS);
        let shifts = index::shift_summaries(&self.conn, from, today)?;
        let given =
            index::given_by_size(&self.conn, maraude_core::time::paris_midnight(from), None)?;
        Ok(warehouse::needs(
            &antenna, &stock, &shifts, &given, today, days, lang,
        )?)
    }
}
