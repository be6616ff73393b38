//! Follow-up cases.

use std::fmt::Write;

use anyhow::{Result, bail};
use clap::Subcommand;
use maraude_core::case::{CaseAction, Outcome};

use crate::entries::code;
use crate::{Ctx, output};

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// A case with its follow-up history.
    Show { case: String },
    /// Add a follow-up note.
    Note {
        case: String,
        note: String,
        /// The shift acting. Default: the current shift, if any.
        #[arg(long)]
        shift: Option<String>,
    },
    /// Close with an outcome: placed (with --where), no_place, refused,
    /// lost_contact (shelter); seen, not_seen, refused, lost_contact (referral).
    Close {
        case: String,
        #[arg(long)]
        outcome: String,
        /// Where the person was placed (a shelter's name, not an address).
        #[arg(long = "where")]
        placed_where: Option<String>,
        #[arg(long)]
        shift: Option<String>,
    },
    /// Reopen a closed case.
    Reopen {
        case: String,
        #[arg(long)]
        reason: String,
    },
    /// Erase a case for good (a lead or coordinator, given with --by): the
    /// person's data and its whole history go, here and on every device and
    /// the server as they sync; the figures of the reports stay.
    Erase {
        case: String,
        /// Erasing cannot be undone: say so.
        #[arg(long)]
        confirm: bool,
    },
}

pub fn run(ctx: &Ctx, c: CaseCommand) -> Result<()> {
    let mut store = ctx.open()?;
    let current = |store: &maraude_store::Store,
                   given: Option<String>|
     -> Result<Option<maraude_core::ids::ShiftId>> {
        Ok(match given {
            Some(s) => Some(store.find_shift(&s)?),
            None => store.open_shifts()?.first().map(|s| s.id),
        })
    };
    let (case_id, action, shift) = match c {
        CaseCommand::Show { case } => {
            let id = store.find_case(&case)?;
            let case = store.case(&id)?;
            return output::show(ctx, &case, || {
                let mut s = String::new();
                let status = match &case.status {
                    maraude_core::case::CaseStatus::Open => "open".to_string(),
                    maraude_core::case::CaseStatus::Closed { outcome, closed_at } => {
                        format!(
                            "closed {} ({})",
                            outcome.as_str(),
                            maraude_core::time::paris(*closed_at)
                        )
                    }
                };
                let _ = writeln!(
                    s,
                    "Case {} — {} — {}",
                    case.id.short(),
                    case.kind().as_str(),
                    status
                );
                let _ = writeln!(
                    s,
                    "Alias: {}   languages: {}",
                    case.person.alias,
                    case.person
                        .languages
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let _ = writeln!(
                    s,
                    "Opened {} by {}",
                    maraude_core::time::paris(case.opened_at),
                    case.opened_by
                );
                for u in &case.updates {
                    let what = match &u.action {
                        CaseAction::Note { note } => note.clone(),
                        CaseAction::Closed { outcome } => format!("closed: {}", outcome.as_str()),
                        CaseAction::Reopened { reason } => format!("reopened: {reason}"),
                    };
                    let _ = writeln!(
                        s,
                        "  {} {:<10} {}",
                        maraude_core::time::paris(u.at),
                        u.by,
                        what
                    );
                }
                s
            });
        }
        CaseCommand::Note { case, note, shift } => (
            store.find_case(&case)?,
            CaseAction::Note { note },
            current(&store, shift)?,
        ),
        CaseCommand::Close {
            case,
            outcome,
            placed_where,
            shift,
        } => {
            let outcome = match (outcome.trim(), placed_where) {
                ("placed", Some(place)) => Outcome::Placed { place },
                ("placed", None) => anyhow::bail!("say where the person was placed: --where \"shelter name\""),
                (other, _) => code::<Outcome>("outcome", other).or_else(|_| {
                    serde_json::from_value(serde_json::json!({ "outcome": other }))
                        .map_err(|_| anyhow::anyhow!("unknown outcome \"{other}\"; use placed, no_place, refused, lost_contact, seen or not_seen"))
                })?,
            };
            (
                store.find_case(&case)?,
                CaseAction::Closed { outcome },
                current(&store, shift)?,
            )
        }
        CaseCommand::Erase { case, confirm } => {
            let id = store.find_case(&case)?;
            if !confirm {
                bail!(
                    "erasing case {} deletes the person's data and its history for good, on every device once synced; add --confirm to go ahead",
                    id.short()
                );
            }
            let tombstone = store.erase_case(&id, &ctx.by()?)?;
            return output::done(
                ctx,
                &format!(
                    "Case {} erased: its person and history are gone from this tablet, and will be from the others and the server as they sync. The reports keep its figures.",
                    id.short()
                ),
                &tombstone,
            );
        }
        CaseCommand::Reopen { case, reason } => (
            store.find_case(&case)?,
            CaseAction::Reopened { reason },
            None,
        ),
    };
    let by = ctx.by()?;
    let case = store.act_on_case(&case_id, &by, action, shift)?;
    let status = if case.status.is_open() {
        "open"
    } else {
        "closed"
    };
    output::done(ctx, &format!("Case {} is {status}", case.id.short()), &case)
}

pub fn follow_ups(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let list = store.follow_ups()?;
    output::show(ctx, &list, || {
        let mut s = String::new();
        for f in &list {
            let urgent = if f.urgent { " URGENT" } else { "" };
            let _ = writeln!(
                s,
                "{}  {:>3} days  {:<16} {:<20} {}{}{}",
                f.short,
                f.days_open,
                f.kind.as_str(),
                f.detail,
                f.alias,
                if f.people > 1 {
                    format!(" (+{} with them)", f.people - 1)
                } else {
                    String::new()
                },
                urgent
            );
        }
        if list.is_empty() {
            s.push_str("No open follow-up.\n");
        }
        s
    })
}
