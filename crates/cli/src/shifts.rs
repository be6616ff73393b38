//! Starting, ending and listing shifts.

use std::fmt::Write;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use maraude_core::antenna::Antenna;
use maraude_core::ids::Nickname;
use maraude_core::shift::{NewShift, ShiftEnd, ShiftKind, Stock};
use maraude_store::Store;

use crate::{Ctx, output};

#[derive(Debug, Subcommand)]
pub enum ShiftCommand {
    /// Start a shift: kind, team, vehicle, van stock loaded.
    Start {
        #[arg(long, value_enum, default_value = "night-maraude")]
        kind: KindArg,
        /// The team lead's nickname.
        #[arg(long)]
        lead: String,
        /// The other volunteers, comma-separated.
        #[arg(long, value_delimiter = ',')]
        team: Vec<String>,
        #[arg(long)]
        vehicle: Option<String>,
        /// Van stock loaded, as item=count pairs: blanket=40,tea_coffee=200
        #[arg(long, value_delimiter = ',')]
        load: Vec<String>,
        /// Start time (HH:MM, Paris) if not now.
        #[arg(long)]
        at: Option<String>,
    },
    /// End a shift: stock returned and handover notes.
    End {
        /// Default: the current shift.
        #[arg(long)]
        shift: Option<String>,
        /// Van stock returned, as item=count pairs.
        #[arg(long, value_delimiter = ',')]
        returned: Vec<String>,
        /// Notes for the next team (no personal data).
        #[arg(long, default_value = "")]
        handover: String,
        /// End time (HH:MM, Paris) if not now.
        #[arg(long)]
        at: Option<String>,
    },
    /// List shifts, newest first.
    List {
        /// First day (YYYY-MM-DD). Default: 30 days ago (a year ago with
        /// `--figures-only`).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last day (YYYY-MM-DD). Default: today.
        #[arg(long)]
        to: Option<NaiveDate>,
        /// The shifts older than four weeks this tablet keeps as figures
        /// only (a lead's or coordinator's tablet, once the server holds
        /// them).
        #[arg(long)]
        figures_only: bool,
    },
    /// Bring back from the server the detail of an old shift this tablet
    /// keeps as figures only (a coordinator's tablet): it comes back at
    /// the next `maraude sync`, and stays two days.
    Detail {
        /// The shift (id or its last characters), as `shift list
        /// --figures-only` shows.
        shift: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    NightMaraude,
    DayMaraude,
    DayCentre,
    Accompaniment,
}

impl From<KindArg> for ShiftKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::NightMaraude => ShiftKind::NightMaraude,
            KindArg::DayMaraude => ShiftKind::DayMaraude,
            KindArg::DayCentre => ShiftKind::DayCentre,
            KindArg::Accompaniment => ShiftKind::Accompaniment,
        }
    }
}

/// `blanket=40,tea_coffee=200` into stock, each item checked.
pub fn parse_stock(antenna: &Antenna, pairs: &[String]) -> Result<Stock> {
    let mut stock = Stock::new();
    for pair in pairs.iter().filter(|p| !p.trim().is_empty()) {
        let (item, n) = pair
            .split_once('=')
            .with_context(|| format!("\"{pair}\": write stock as item=count, e.g. blanket=40"))?;
        let item = antenna.item(item.trim())?;
        let n: u32 = n
            .trim()
            .parse()
            .with_context(|| format!("\"{pair}\": the count must be a whole number"))?;
        *stock.entry(item).or_default() += n;
    }
    Ok(stock)
}

/// The shift named (by the end of its id), or the current one: where new
/// entries go.
pub fn pick(store: &Store, given: Option<&str>) -> Result<maraude_core::ids::ShiftId> {
    Ok(match given {
        Some(s) => store.find_shift(s)?,
        None => store.current_shift()?.id,
    })
}

/// The shift named, else the current one, else the latest: what a lead
/// reviews after the shift has ended.
pub fn pick_for_review(store: &Store, given: Option<&str>) -> Result<maraude_core::ids::ShiftId> {
    if given.is_some() || !store.open_shifts()?.is_empty() {
        return pick(store, given);
    }
    let today = maraude_core::time::paris_date(Utc::now());
    store
        .shifts(NaiveDate::MIN, today + chrono::Duration::days(1))?
        .first()
        .map(|s| s.id)
        .ok_or_else(|| maraude_store::StoreError::NoOpenShift.into())
}

pub fn run(ctx: &Ctx, c: ShiftCommand) -> Result<()> {
    let mut store = ctx.open()?;
    let antenna = store.antenna()?;
    match c {
        ShiftCommand::Start {
            kind,
            lead,
            team,
            vehicle,
            load,
            at,
        } => {
            let team = team
                .iter()
                .filter(|t| !t.trim().is_empty())
                .map(|t| t.parse())
                .collect::<Result<_, _>>()?;
            let started_at = at
                .map(|t| maraude_core::time::paris_clock_time(&t, Utc::now()))
                .transpose()?;
            // What the team reads before leaving, as the app shows it.
            let handover = store.handover(kind.into(), Utc::now())?;
            let shift = store.start_shift(NewShift {
                kind: kind.into(),
                started_at,
                lead: lead.parse::<Nickname>()?,
                team,
                vehicle,
                stock_loaded: parse_stock(&antenna, &load)?,
            })?;
            let mut said = format!(
                "Shift {} started ({})",
                shift.id.short(),
                shift.kind.as_str()
            );
            if let Some(last) = &handover.last {
                said.push_str(&format!(
                    "\nHandover from {} (led by {}): {}",
                    last.date, last.lead, last.notes
                ));
            }
            if !handover.urgent.is_empty() {
                let urgent: Vec<String> = handover
                    .urgent
                    .iter()
                    .map(|f| {
                        format!(
                            "{} ({}, open {} days)",
                            f.alias,
                            f.kind.as_str(),
                            f.days_open
                        )
                    })
                    .collect();
                said.push_str(&format!("\nUrgent follow-ups: {}", urgent.join("; ")));
            }
            output::done(ctx, &said, &shift)
        }
        ShiftCommand::End {
            shift,
            returned,
            handover,
            at,
        } => {
            let id = pick(&store, shift.as_deref())?;
            let ended_at = at
                .map(|t| maraude_core::time::paris_clock_time(&t, Utc::now()))
                .transpose()?;
            let shift = store.end_shift(
                &id,
                ShiftEnd {
                    ended_at,
                    stock_returned: parse_stock(&antenna, &returned)?,
                    handover,
                },
            )?;
            output::done(ctx, &format!("Shift {} ended", shift.id.short()), &shift)
        }
        ShiftCommand::List {
            from,
            to,
            figures_only,
        } => {
            let today = maraude_core::time::paris_date(Utc::now());
            let to = to.unwrap_or(today);
            // Shifts kept as figures only are four weeks old or more: a
            // year of them by default.
            let back = if figures_only { 365 } else { 30 };
            let from = from.unwrap_or(to - chrono::Duration::days(back));
            if figures_only {
                let old = store.figures_only_shifts(from, to)?;
                return output::show(ctx, &old, || {
                    let mut s = String::new();
                    for sh in &old {
                        let asked = if sh.asked {
                            "  (detail asked: it comes back at the next sync)"
                        } else {
                            ""
                        };
                        let _ = writeln!(
                            s,
                            "{}  {}  {:<14}{asked}",
                            sh.id.short(),
                            sh.date,
                            sh.kind.as_str()
                        );
                    }
                    if old.is_empty() {
                        let _ =
                            writeln!(s, "No shift kept as figures only between {from} and {to}.");
                    } else {
                        let _ = writeln!(
                            s,
                            "Figures only: the server holds their detail (a coordinator: `maraude shift detail <id>`)."
                        );
                    }
                    s
                });
            }
            let shifts = store.shifts(from, to)?;
            let old = store.figures_only_shifts(from, to)?.len();
            output::show(ctx, &shifts, || {
                let mut s = String::new();
                for sh in &shifts {
                    let end = sh
                        .ended_at
                        .map(maraude_core::time::paris_time)
                        .unwrap_or_else(|| "open".into());
                    let _ = writeln!(
                        s,
                        "{}  {}  {:<14} {}–{}  lead {}",
                        sh.id.short(),
                        sh.date,
                        sh.kind.as_str(),
                        maraude_core::time::paris_time(sh.started_at),
                        end,
                        sh.lead
                    );
                }
                if shifts.is_empty() {
                    let _ = writeln!(s, "No shift between {from} and {to}.");
                }
                if old > 0 {
                    let _ = writeln!(
                        s,
                        "And {old} older shift(s) kept here as figures only: `maraude shift list --figures-only`."
                    );
                }
                s
            })
        }
        ShiftCommand::Detail { shift } => {
            let asked = store.want_detail(&shift, Utc::now())?;
            output::show(ctx, &asked, || {
                format!(
                    "The detail of shift {} ({}) will come back from the server at the next `maraude sync`, and stay two days.\n",
                    asked.id.short(),
                    asked.date
                )
            })
        }
    }
}
