//! The warehouse: stock on hand, receipts, counts and transfers, and the
//! needs list with its call for donations.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::Utc;
use clap::{Subcommand, ValueEnum};
use maraude_core::ids::ItemId;
use maraude_core::warehouse::{self, NewChange, NewMovement, Source};

use crate::{Ctx, output};

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Stock on hand per item: receipts, the vans' loads and returns,
    /// transfers and counts.
    Show,
    /// A donation or a purchase came in.
    Receive {
        item: String,
        quantity: u32,
        /// One of the item's sizes.
        #[arg(long)]
        size: Option<String>,
        /// Bought rather than given.
        #[arg(long)]
        purchase: bool,
        /// Who gave or sold it (an organisation, a collection).
        #[arg(long, default_value = "")]
        from: String,
    },
    /// The shelves were counted: the figure becomes what was found.
    Count {
        item: String,
        counted: u32,
        /// Why it differs (torn, given at the door, miscounted).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        size: Option<String>,
    },
    /// Received from another antenna's warehouse.
    TransferIn {
        item: String,
        quantity: u32,
        /// Which antenna.
        #[arg(long)]
        from: String,
    },
    /// Sent to another antenna's warehouse.
    TransferOut {
        item: String,
        quantity: u32,
        /// Which antenna.
        #[arg(long)]
        to: String,
    },
    /// The least the warehouse keeps of an item (coordinator): the needs
    /// list asks for what would go below it. 0 removes it.
    Minimum { item: String, quantity: u32 },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum NeedsFormat {
    /// The call for donations, ready to paste.
    Text,
    Json,
    Csv,
}

pub fn stock(ctx: &Ctx, c: StockCommand) -> Result<()> {
    let mut store = ctx.open()?;
    let item = |given: &str| -> Result<ItemId> { Ok(store.antenna()?.item(given)?) };
    let new = match c {
        StockCommand::Show => {
            let report = store.stock(ctx.lang)?;
            return output::show(ctx, &report, || {
                let mut s = String::new();
                match report.since {
                    None => s.push_str(
                        "The warehouse has recorded nothing yet: start with a count (`maraude stock count ITEM N --reason \"opening count\"`).\n",
                    ),
                    Some(since) => {
                        let _ = writeln!(s, "Stock on hand (the vans count from {since}):");
                    }
                }
                for l in &report.lines {
                    let low = if l.minimum > 0 && l.on_hand < i64::from(l.minimum) {
                        format!("  below the minimum of {}", l.minimum)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        s,
                        "{:<24} {:>6}   in {} · vans −{} +{}{}",
                        l.label,
                        l.on_hand,
                        l.received + l.transferred_in,
                        l.loaded,
                        l.returned,
                        low
                    );
                    let sized: Vec<String> = l
                        .sizes
                        .iter()
                        .filter(|z| z.on_hand != 0 || z.received > 0 || z.given > 0)
                        .map(|z| format!("{} {}", z.size, z.on_hand))
                        .collect();
                    if !sized.is_empty() {
                        let _ = writeln!(s, "{:<24}   by size: {}", "", sized.join(" · "));
                    }
                }
                s
            });
        }
        StockCommand::Minimum {
            item: given,
            quantity,
        } => {
            let id = item(&given)?;
            let antenna =
                store.change_reference(&maraude_core::antenna::ReferenceChange::ItemMinimum {
                    id: id.clone(),
                    minimum: Some(quantity),
                })?;
            let minimum = antenna.catalogue.get(&id).and_then(|i| i.minimum);
            return output::done(
                ctx,
                &format!("Minimum of {id}: {}", minimum.unwrap_or(0)),
                &serde_json::json!({ "item": id, "minimum": minimum }),
            );
        }
        StockCommand::Receive {
            item: given,
            quantity,
            size,
            purchase,
            from,
        } => NewMovement {
            item: item(&given)?,
            size,
            change: NewChange::Receipt {
                quantity,
                source: if purchase {
                    Source::Purchase
                } else {
                    Source::Donation
                },
                from,
            },
        },
        StockCommand::Count {
            item: given,
            counted,
            reason,
            size,
        } => NewMovement {
            item: item(&given)?,
            size,
            change: NewChange::Count { counted, reason },
        },
        StockCommand::TransferIn {
            item: given,
            quantity,
            from,
        } => NewMovement {
            item: item(&given)?,
            size: None,
            change: NewChange::TransferIn { quantity, from },
        },
        StockCommand::TransferOut {
            item: given,
            quantity,
            to,
        } => NewMovement {
            item: item(&given)?,
            size: None,
            change: NewChange::TransferOut { quantity, to },
        },
    };
    let by = ctx.by()?;
    let movement = store.record_movement(&by, new)?;
    let on_hand = store
        .stock(ctx.lang)?
        .lines
        .iter()
        .find(|l| l.item == movement.item)
        .map_or(0, |l| l.on_hand);
    output::done(
        ctx,
        &format!(
            "Recorded: {} {} ({}); on hand now {on_hand}",
            movement.kind.as_str(),
            movement.item,
            movement.kind.delta()
        ),
        &serde_json::json!({ "movement": movement, "on_hand": on_hand }),
    )
}

pub fn needs(ctx: &Ctx, days: u32, format: NeedsFormat) -> Result<()> {
    let store = ctx.open()?;
    let today = maraude_core::time::paris_date(Utc::now());
    let list = store.needs(today, days, ctx.lang)?;
    match if ctx.json { NeedsFormat::Json } else { format } {
        NeedsFormat::Json => output::print(&format!("{}\n", serde_json::to_string_pretty(&list)?)),
        NeedsFormat::Csv => output::print(&warehouse::needs_csv(&list)),
        NeedsFormat::Text => output::print(&warehouse::call_for_donations(&list, ctx.lang)),
    }
}
