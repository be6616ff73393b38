//! Reference data: status, catalogue, places, volunteers.

use std::fmt::Write;

use anyhow::Result;
use clap::Subcommand;
use maraude_core::antenna::{CatalogueItem, Label, PlaceKind, ReferenceChange, Role};
use maraude_core::ids::{ItemId, Nickname, PlaceId};

use crate::{Ctx, output};

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// List the items, in quick-log order.
    List,
    /// Add an item, or change its labels.
    Add {
        /// A short id: lowercase letters, digits, _ and -, e.g. `rain_poncho`.
        id: String,
        #[arg(long)]
        fr: String,
        #[arg(long)]
        en: String,
        /// Sizes a distribution must name, comma-separated (e.g. 38,39,40).
        #[arg(long, value_delimiter = ',')]
        sizes: Vec<String>,
    },
    /// Retire an item: it cannot be logged any more, old entries keep it.
    Retire { id: String },
}

#[derive(Debug, Subcommand)]
pub enum PlaceCommand {
    List,
    /// Add a place, or rename it.
    Add {
        /// A short id, e.g. `dunes-north`.
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "living-place")]
        kind: PlaceKindArg,
    },
    /// Retire a place (a dismantled camp): no new entries there.
    Retire {
        id: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PlaceKindArg {
    LivingPlace,
    DistributionPoint,
    Station,
    Beach,
    DayCentre,
    Other,
}

impl From<PlaceKindArg> for PlaceKind {
    fn from(k: PlaceKindArg) -> Self {
        match k {
            PlaceKindArg::LivingPlace => PlaceKind::LivingPlace,
            PlaceKindArg::DistributionPoint => PlaceKind::DistributionPoint,
            PlaceKindArg::Station => PlaceKind::Station,
            PlaceKindArg::Beach => PlaceKind::Beach,
            PlaceKindArg::DayCentre => PlaceKind::DayCentre,
            PlaceKindArg::Other => PlaceKind::Other,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum VolunteerCommand {
    List,
    /// Add a volunteer, or change their role.
    Add {
        nickname: String,
        #[arg(long, value_enum, default_value = "volunteer")]
        role: RoleArg,
    },
    /// A volunteer who left: no longer offered as who is logging.
    Retire {
        nickname: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Volunteer,
    Lead,
    Coordinator,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Volunteer => Role::Volunteer,
            RoleArg::Lead => Role::Lead,
            RoleArg::Coordinator => Role::Coordinator,
        }
    }
}

pub fn status(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let antenna = store.antenna()?;
    let stats = store.stats()?;
    let current = store.open_shifts()?;
    let record = serde_json::json!({
        "antenna": antenna.name,
        "antenna_id": antenna.id,
        "device": store.device(),
        "store": store.path().display().to_string(),
        "stats": stats,
        "open_shifts": current.iter().map(|s| s.id).collect::<Vec<_>>(),
    });
    output::show(ctx, &record, || {
        let mut s = String::new();
        let _ = writeln!(s, "Antenna:   {}", antenna.name);
        let _ = writeln!(
            s,
            "Store:     {} ({} KiB)",
            store.path().display(),
            stats.file_bytes / 1024
        );
        let _ = writeln!(
            s,
            "Shifts:    {}   entries: {}   open follow-ups: {}",
            stats.shifts, stats.entries, stats.open_cases
        );
        match current.first() {
            Some(shift) => {
                let _ = writeln!(
                    s,
                    "Current:   {} {} since {} (lead {}) — {}",
                    shift.kind.as_str(),
                    shift.date,
                    maraude_core::time::paris_time(shift.started_at),
                    shift.lead,
                    shift.id.short()
                );
            }
            None => {
                let _ = writeln!(s, "Current:   no shift open");
            }
        }
        s
    })
}

pub fn catalogue(ctx: &Ctx, c: CatalogueCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match c {
        CatalogueCommand::List => {
            let antenna = store.antenna()?;
            let mut items: Vec<(&ItemId, &CatalogueItem)> = antenna.catalogue.iter().collect();
            items.sort_by_key(|(id, i)| (!i.active, i.order, (*id).clone()));
            output::show(ctx, &antenna.catalogue, || {
                let mut s = String::new();
                for (id, item) in items {
                    let retired = if item.active { "" } else { "  (retired)" };
                    let sizes = if item.sizes.is_empty() {
                        String::new()
                    } else {
                        format!("  sizes {}", item.sizes.join(","))
                    };
                    let _ = writeln!(
                        s,
                        "{:<22} {}{}{}",
                        id,
                        item.label.get(ctx.lang),
                        sizes,
                        retired
                    );
                }
                s
            })
        }
        CatalogueCommand::Add { id, fr, en, sizes } => {
            let id: ItemId = id.parse()?;
            let antenna = store.change_reference(&ReferenceChange::Item {
                id: id.clone(),
                label: Label { fr, en },
                sizes,
            })?;
            output::done(
                ctx,
                &format!("Item {id} in the catalogue"),
                &antenna.catalogue[&id],
            )
        }
        CatalogueCommand::Retire { id } => {
            let id: ItemId = id.parse()?;
            store.change_reference(&ReferenceChange::ItemActive {
                id: id.clone(),
                active: false,
            })?;
            output::done(
                ctx,
                &format!("Item {id} retired"),
                &serde_json::json!({"retired": id}),
            )
        }
    }
}

pub fn place(ctx: &Ctx, c: PlaceCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match c {
        PlaceCommand::List => {
            let antenna = store.antenna()?;
            output::show(ctx, &antenna.places, || {
                let mut s = String::new();
                for (id, p) in &antenna.places {
                    let retired = if p.active { "" } else { "  (retired)" };
                    let _ = writeln!(s, "{:<24} {}{}", id, p.name, retired);
                }
                if antenna.places.is_empty() {
                    s.push_str("No places yet: add one with `maraude place add ID --name NAME`\n");
                }
                s
            })
        }
        PlaceCommand::Add { id, name, kind } => {
            let id: PlaceId = id.parse()?;
            let antenna = store.change_reference(&ReferenceChange::Place {
                id: id.clone(),
                name,
                kind: kind.into(),
            })?;
            output::done(ctx, &format!("Place {id} added"), &antenna.places[&id])
        }
        PlaceCommand::Retire { id } => {
            let id = store.antenna()?.place(&id)?;
            store.change_reference(&ReferenceChange::PlaceActive {
                id: id.clone(),
                active: false,
            })?;
            output::done(
                ctx,
                &format!("Place {id} retired"),
                &serde_json::json!({"retired": id}),
            )
        }
    }
}

pub fn volunteer(ctx: &Ctx, c: VolunteerCommand) -> Result<()> {
    let mut store = ctx.open()?;
    match c {
        VolunteerCommand::List => {
            let antenna = store.antenna()?;
            output::show(ctx, &antenna.volunteers, || {
                let mut s = String::new();
                for (n, v) in &antenna.volunteers {
                    let retired = if v.active { "" } else { "  (retired)" };
                    let _ = writeln!(s, "{:<20} {:?}{}", n, v.role, retired);
                }
                s
            })
        }
        VolunteerCommand::Add { nickname, role } => {
            let nick: Nickname = nickname.parse()?;
            let antenna = store.change_reference(&ReferenceChange::Volunteer {
                nickname: nick.clone(),
                role: role.into(),
            })?;
            output::done(
                ctx,
                &format!("Volunteer {nick} added"),
                &antenna.volunteers[&nick],
            )
        }
        VolunteerCommand::Retire { nickname } => {
            let nick: Nickname = nickname.parse()?;
            store.change_reference(&ReferenceChange::VolunteerActive {
                nickname: nick.clone(),
                active: false,
            })?;
            output::done(
                ctx,
                &format!("Volunteer {nick} retired: their past entries keep their nickname"),
                &serde_json::json!({"retired": nick}),
            )
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// Closed follow-ups are erased this many days after closure.
    #[arg(long)]
    retention_days: Option<u32>,
    /// Old shifts' figures on leads' tablets name each place's kind only
    /// (on), or the place (off).
    #[arg(long, value_parser = clap::builder::BoolishValueParser::new())]
    old_places_by_kind: Option<bool>,
    /// Minutes without an entry before the quick log asks "still at …?"
    /// (0: never).
    #[arg(long)]
    place_reminder_minutes: Option<u32>,
}

pub fn settings(ctx: &Ctx, args: SettingsArgs) -> Result<()> {
    let mut store = ctx.open()?;
    let changes = args.retention_days.is_some()
        || args.old_places_by_kind.is_some()
        || args.place_reminder_minutes.is_some();
    let antenna = if changes {
        store.update_antenna(|a| {
            if let Some(days) = args.retention_days {
                a.settings.retention_days = days;
            }
            if let Some(by_kind) = args.old_places_by_kind {
                a.settings.old_places_by_kind = by_kind;
            }
            if let Some(minutes) = args.place_reminder_minutes {
                a.settings.place_reminder_minutes = minutes;
            }
            Ok(())
        })?
    } else {
        store.antenna()?
    };
    let s = &antenna.settings;
    output::show(ctx, s, || {
        format!(
            "retention_days          {}\nold_places_by_kind      {}\nplace_reminder_minutes  {}\n",
            s.retention_days,
            if s.old_places_by_kind { "on" } else { "off" },
            s.place_reminder_minutes
        )
    })
}
