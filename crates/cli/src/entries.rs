//! Logging, listing, correcting and voiding entries.

use std::collections::BTreeSet;
use std::fmt::Write;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use maraude_core::case::{AgeGroup, CaseRequest, NewCase, Person};
use maraude_core::entry::{Composition, Entry, EntryContent, EntryEdit, NewEntry, Quantity};
use maraude_core::ids::PlaceId;
use maraude_store::Store;
use serde::de::DeserializeOwned;

use crate::{Ctx, output, shifts};

/// Where and when, shared by every kind of entry.
#[derive(Debug, Args)]
pub struct Where {
    /// The place (id, as `maraude place list` shows).
    #[arg(long)]
    place: Option<String>,
    /// When it happened (HH:MM, Paris), if not now.
    #[arg(long)]
    at: Option<String>,
    /// The shift. Default: the current shift.
    #[arg(long)]
    shift: Option<String>,
}

#[derive(Debug, Args, Default)]
pub struct Breakdown {
    #[arg(long)]
    men: Option<u32>,
    #[arg(long)]
    women: Option<u32>,
    #[arg(long)]
    children: Option<u32>,
    /// Unaccompanied minors.
    #[arg(long)]
    minors: Option<u32>,
}

impl Breakdown {
    fn composition(&self) -> Composition {
        Composition {
            men: self.men.unwrap_or(0),
            women: self.women.unwrap_or(0),
            children: self.children.unwrap_or(0),
            minors_alone: self.minors.unwrap_or(0),
        }
    }

    fn any(&self) -> bool {
        self.men.is_some()
            || self.women.is_some()
            || self.children.is_some()
            || self.minors.is_some()
    }

    /// Overrides on an existing composition, for corrections.
    fn apply(&self, c: &mut Composition) {
        c.men = self.men.unwrap_or(c.men);
        c.women = self.women.unwrap_or(c.women);
        c.children = self.children.unwrap_or(c.children);
        c.minors_alone = self.minors.unwrap_or(c.minors_alone);
    }
}

#[derive(Debug, Args)]
pub struct PersonArgs {
    /// What the team calls the person (never a full name is needed).
    #[arg(long)]
    alias: String,
    #[arg(long)]
    age_group: Option<String>,
    /// Languages spoken, comma-separated codes (ar,ps,fa,ti…).
    #[arg(long, value_delimiter = ',')]
    languages: Vec<String>,
    /// Phone, only if the person agrees. `-` asks for it without echo
    /// (arguments stay in the shell history).
    #[arg(long)]
    phone: Option<String>,
}

impl PersonArgs {
    fn person(self) -> Result<Person> {
        let phone = match self.phone.as_deref() {
            Some("-") => Some(
                rpassword::prompt_password("Phone (with the person's agreement): ")
                    .context("cannot read the phone")?,
            ),
            other => other.map(str::to_string),
        };
        Ok(Person {
            alias: self.alias.trim().to_string(),
            age_group: self
                .age_group
                .map(|a| code::<AgeGroup>("age group", &a))
                .transpose()?,
            languages: langs(self.languages),
            phone: phone.filter(|p| !p.trim().is_empty()),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Items handed out: `maraude log distribution blanket 2 --place dunes-north`
    Distribution {
        /// The item (id, as `maraude catalogue list` shows).
        item: String,
        /// How many. Default: 1.
        #[arg(default_value_t = 1, allow_negative_numbers = true)]
        quantity: i64,
        #[arg(long)]
        size: Option<String>,
        /// What was given, for the item `other` (which asks for it).
        #[arg(long)]
        what: Option<String>,
        /// People served, if counted.
        #[arg(long)]
        people: Option<u32>,
        #[command(flatten)]
        breakdown: Breakdown,
        #[command(flatten)]
        place: Where,
    },
    /// People met at a place.
    Headcount {
        people: u32,
        /// People flagged as vulnerable, to refer them.
        #[arg(long, default_value_t = 0)]
        vulnerable: u32,
        #[command(flatten)]
        breakdown: Breakdown,
        #[command(flatten)]
        place: Where,
    },
    /// A group of new arrivals.
    Arrival {
        group_size: u32,
        #[arg(long, value_delimiter = ',')]
        languages: Vec<String>,
        /// Urgent needs, comma-separated: medical,shelter,food,information,clothes,legal
        #[arg(long, value_delimiter = ',')]
        needs: Vec<String>,
        /// What information was given.
        #[arg(long, default_value = "")]
        info: String,
        #[command(flatten)]
        breakdown: Breakdown,
        #[command(flatten)]
        place: Where,
    },
    /// A shelter request: opens a follow-up case.
    Shelter {
        /// People in the household.
        #[arg(long)]
        household: u32,
        /// pregnancy,baby,illness,disability,minor_alone,woman_alone
        #[arg(long, value_delimiter = ',')]
        vulnerability: Vec<String>,
        /// The 115 was called.
        #[arg(long)]
        called_115: bool,
        /// What the 115 answered.
        #[arg(long)]
        answer_115: Option<String>,
        #[command(flatten)]
        person: PersonArgs,
        #[command(flatten)]
        breakdown: Breakdown,
        #[command(flatten)]
        place: Where,
    },
    /// A referral or accompaniment: opens a follow-up case.
    Referral {
        /// pass_clinic, hospital_emergency, legal_aid, child_protection,
        /// asylum_procedure, day_centre, other_association
        #[arg(long)]
        service: String,
        /// routine, soon, urgent
        #[arg(long, default_value = "routine")]
        urgency: String,
        #[arg(long)]
        reason: String,
        /// The volunteer who goes along.
        #[arg(long)]
        accompanied_by: Option<String>,
        #[command(flatten)]
        person: PersonArgs,
        #[command(flatten)]
        place: Where,
    },
    /// A rights violation: facts, precisely.
    Incident {
        /// eviction, destruction_of_belongings, violence, refused_transport,
        /// sea_interception, other
        #[arg(long = "type")]
        incident_type: String,
        #[arg(long)]
        people: u32,
        /// What happened: facts, who saw what.
        #[arg(long)]
        description: String,
        /// Volunteer witnesses, comma-separated.
        #[arg(long, value_delimiter = ',')]
        witnesses: Vec<String>,
        /// To whom it was reported, if it was.
        #[arg(long)]
        reported_to: Option<String>,
        #[command(flatten)]
        place: Where,
    },
    /// A note for the team (no personal data).
    Note {
        text: String,
        #[command(flatten)]
        place: Where,
    },
}

/// Parse a field code (`eviction`, `pass_clinic`) into its enum; serde's
/// message lists the valid codes.
pub fn code<T: DeserializeOwned>(field: &str, s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_string())).map_err(|e| {
        let msg = e.to_string();
        anyhow::anyhow!("{field}: {}", msg.split(" at line").next().unwrap_or(&msg))
    })
}

fn langs(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
}

struct Target {
    shift: maraude_core::ids::ShiftId,
    place: Option<PlaceId>,
    at: Option<chrono::DateTime<Utc>>,
}

fn target(store: &Store, w: &Where) -> Result<Target> {
    let shift = shifts::pick(store, w.shift.as_deref())?;
    let place = match &w.place {
        Some(p) => Some(store.antenna()?.place(p)?),
        None => None,
    };
    let at =
        w.at.as_deref()
            .map(|t| maraude_core::time::paris_clock_time(t, Utc::now()))
            .transpose()?;
    Ok(Target { shift, place, at })
}

/// What a `log` command writes: an entry, or a case with the shift's
/// anonymous entry for it (which the core derives from the case).
enum Logged {
    Entry(EntryContent),
    Case(NewCase),
}

pub fn log(ctx: &Ctx, c: LogCommand) -> Result<()> {
    let mut store = ctx.open()?;
    let by = ctx.by()?;
    let antenna = store.antenna()?;
    let (w, logged) = match c {
        LogCommand::Distribution {
            item,
            quantity,
            size,
            what,
            people,
            breakdown,
            place,
        } => {
            let item = antenna.item(&item)?;
            (
                place,
                Logged::Entry(EntryContent::Distribution {
                    what,
                    item,
                    size,
                    quantity: Quantity::new(quantity)?,
                    people,
                    composition: breakdown.composition(),
                }),
            )
        }
        LogCommand::Headcount {
            people,
            vulnerable,
            breakdown,
            place,
        } => (
            place,
            Logged::Entry(EntryContent::Headcount {
                people,
                composition: breakdown.composition(),
                vulnerable,
            }),
        ),
        LogCommand::Arrival {
            group_size,
            languages,
            needs,
            info,
            breakdown,
            place,
        } => {
            let needs = needs
                .iter()
                .filter(|n| !n.trim().is_empty())
                .map(|n| code("need", n))
                .collect::<Result<_>>()?;
            (
                place,
                Logged::Entry(EntryContent::Arrival {
                    group_size,
                    composition: breakdown.composition(),
                    languages: langs(languages),
                    needs,
                    information_given: info,
                }),
            )
        }
        LogCommand::Shelter {
            household,
            vulnerability,
            called_115,
            answer_115,
            person,
            breakdown,
            place,
        } => {
            let vulnerabilities = vulnerability
                .iter()
                .filter(|v| !v.trim().is_empty())
                .map(|v| code("vulnerability", v))
                .collect::<Result<_>>()?;
            let composition = breakdown.composition();
            let request = CaseRequest::Shelter {
                household_size: household,
                composition,
                vulnerabilities,
                called_115,
                answer_115,
            };
            (
                place,
                Logged::Case(NewCase {
                    person: person.person()?,
                    request,
                }),
            )
        }
        LogCommand::Referral {
            service,
            urgency,
            reason,
            accompanied_by,
            person,
            place,
        } => {
            let service = code("service", &service)?;
            let urgency = code("urgency", &urgency)?;
            let accompanied_by = accompanied_by.map(|n| n.parse()).transpose()?;
            let request = CaseRequest::Referral {
                service,
                urgency,
                reason,
                accompanied_by,
            };
            (
                place,
                Logged::Case(NewCase {
                    person: person.person()?,
                    request,
                }),
            )
        }
        LogCommand::Incident {
            incident_type,
            people,
            description,
            witnesses,
            reported_to,
            place,
        } => {
            let witnesses = witnesses
                .iter()
                .filter(|w| !w.trim().is_empty())
                .map(|w| w.parse())
                .collect::<Result<_, _>>()?;
            let incident_type = code("incident type", &incident_type)?;
            (
                place,
                Logged::Entry(EntryContent::Incident {
                    incident_type,
                    people_affected: people,
                    description,
                    witnesses,
                    reported_to,
                }),
            )
        }
        LogCommand::Note { text, place } => (place, Logged::Entry(EntryContent::Note { text })),
    };
    let t = target(&store, &w)?;
    match logged {
        Logged::Entry(content) => {
            let new = NewEntry {
                at: t.at,
                place: t.place,
                content,
            };
            let entry = store.log(&t.shift, &by, new)?;
            output::done(
                ctx,
                &format!(
                    "Logged {} — {}",
                    describe(&antenna, &entry, ctx.lang),
                    entry.id.short()
                ),
                &entry,
            )
        }
        Logged::Case(case) => {
            let (case, entry) = store.open_case(&t.shift, &by, case, t.place, t.at)?;
            let record = serde_json::json!({ "entry": entry, "case": case.id });
            output::done(
                ctx,
                &format!(
                    "Logged {} — {}",
                    describe(&antenna, &entry, ctx.lang),
                    entry.id.short()
                ),
                &record,
            )
        }
    }
}

/// One line for an entry, as the timeline shows it.
pub fn describe(
    antenna: &maraude_core::antenna::Antenna,
    e: &Entry,
    lang: maraude_core::Lang,
) -> String {
    let place = e
        .place
        .as_ref()
        .map(|p| format!(" @ {}", antenna.place_name(p)))
        .unwrap_or_default();
    let what = match &e.content {
        EntryContent::Distribution {
            item,
            size,
            quantity,
            ..
        } => {
            let size = size.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
            format!(
                "{} × {}{}",
                quantity.get(),
                antenna.item_label(item, lang),
                size
            )
        }
        EntryContent::Headcount { people, .. } => format!("headcount {people}"),
        EntryContent::Arrival { group_size, .. } => format!("arrival of {group_size}"),
        EntryContent::ShelterRequest {
            case,
            household_size,
            ..
        } => format!(
            "shelter request for {household_size} (case {})",
            case.short()
        ),
        EntryContent::Referral { case, service, .. } => {
            format!("referral {service:?} (case {})", case.short())
        }
        EntryContent::Incident {
            incident_type,
            people_affected,
            ..
        } => format!("incident {incident_type:?}, {people_affected} people"),
        EntryContent::Note { text } => format!("note: {}", text.lines().next().unwrap_or_default()),
    };
    format!("{what}{place}")
}

pub fn list(ctx: &Ctx, shift: Option<&str>) -> Result<()> {
    let store = ctx.open()?;
    let id = shifts::pick_for_review(&store, shift)?;
    let antenna = store.antenna()?;
    let entries = store.entries(&id)?;
    output::show(ctx, &entries, || {
        let mut s = String::new();
        for e in &entries {
            let line = format!(
                "{}  {}  {:<10} {}",
                e.id.short(),
                maraude_core::time::paris_time(e.at),
                e.logged_by,
                describe(&antenna, e, ctx.lang)
            );
            match &e.void {
                Some(v) => {
                    let _ = writeln!(s, "{}  [VOID by {}: {}]", strike(&line), v.by, v.reason);
                }
                None if !e.history.is_empty() => {
                    let _ = writeln!(s, "{line}  (corrected {}×)", e.history.len());
                }
                None => {
                    let _ = writeln!(s, "{line}");
                }
            }
        }
        if entries.is_empty() {
            s.push_str("No entries yet.\n");
        }
        s
    })
}

fn strike(s: &str) -> String {
    s.chars().flat_map(|c| [c, '\u{0336}']).collect()
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The entry (id or its last characters).
    entry: String,
    #[arg(long, allow_negative_numbers = true)]
    quantity: Option<i64>,
    #[arg(long)]
    item: Option<String>,
    #[arg(long)]
    size: Option<String>,
    /// What was given (an item `other`).
    #[arg(long)]
    what: Option<String>,
    /// People (headcount, served, group size, affected — by kind).
    #[arg(long)]
    people: Option<u32>,
    #[arg(long)]
    vulnerable: Option<u32>,
    #[command(flatten)]
    breakdown: Breakdown,
    /// Text (note) or description (incident).
    #[arg(long)]
    text: Option<String>,
    #[arg(long)]
    place: Option<String>,
    /// Time (HH:MM, Paris).
    #[arg(long)]
    at: Option<String>,
}

pub fn edit(ctx: &Ctx, a: EditArgs) -> Result<()> {
    let mut store = ctx.open()?;
    let by = ctx.by()?;
    let antenna = store.antenna()?;
    let id = store.find_entry(&a.entry)?;
    let old = store.entry(&id)?;
    let mut content = old.content.clone();
    let kind = content.kind().as_str();
    let refuse = |flag: &str| -> Result<()> { bail!("{flag} does not apply to a {kind}") };
    match &mut content {
        EntryContent::Distribution {
            item,
            size,
            quantity,
            people,
            composition,
            what,
        } => {
            if let Some(q) = a.quantity {
                *quantity = Quantity::new(q)?;
            }
            if let Some(i) = &a.item {
                *item = antenna.item(i)?;
                // Named from the list now: the words were for "other".
                if !item.is_other() {
                    *what = None;
                }
            }
            if a.size.is_some() {
                *size = a.size.clone();
            }
            if a.what.is_some() {
                *what = a.what.clone();
            }
            if a.people.is_some() {
                *people = a.people;
            }
            a.breakdown.apply(composition);
        }
        EntryContent::Headcount {
            people,
            composition,
            vulnerable,
        } => {
            *people = a.people.unwrap_or(*people);
            *vulnerable = a.vulnerable.unwrap_or(*vulnerable);
            a.breakdown.apply(composition);
        }
        EntryContent::Arrival {
            group_size,
            composition,
            ..
        } => {
            *group_size = a.people.unwrap_or(*group_size);
            a.breakdown.apply(composition);
        }
        EntryContent::ShelterRequest {
            household_size,
            composition,
            ..
        } => {
            *household_size = a.people.unwrap_or(*household_size);
            a.breakdown.apply(composition);
        }
        EntryContent::Incident {
            people_affected,
            description,
            ..
        } => {
            *people_affected = a.people.unwrap_or(*people_affected);
            if let Some(t) = &a.text {
                *description = t.clone();
            }
        }
        EntryContent::Note { text } => {
            if let Some(t) = &a.text {
                *text = t.clone();
            }
        }
        EntryContent::Referral { .. } => {}
    }
    if !matches!(old.content, EntryContent::Distribution { .. }) {
        for (given, flag) in [
            (a.quantity.is_some(), "--quantity"),
            (a.item.is_some(), "--item"),
            (a.size.is_some(), "--size"),
        ] {
            if given {
                refuse(flag)?;
            }
        }
    }
    if !matches!(
        old.content,
        EntryContent::Incident { .. } | EntryContent::Note { .. }
    ) && a.text.is_some()
    {
        refuse("--text")?;
    }
    if matches!(
        old.content,
        EntryContent::Referral { .. } | EntryContent::Note { .. }
    ) && (a.people.is_some() || a.breakdown.any())
    {
        refuse("--people and the breakdown")?;
    }
    let place = match &a.place {
        Some(p) => Some(antenna.place(p)?),
        None => old.place.clone(),
    };
    let at = match &a.at {
        Some(t) => maraude_core::time::paris_clock_time(t, Utc::now())?,
        None => old.at,
    };
    let entry = store.edit_entry(&id, &by, EntryEdit { at, place, content })?;
    output::done(
        ctx,
        &format!(
            "Corrected {} — {}",
            describe(&antenna, &entry, ctx.lang),
            entry.id.short()
        ),
        &entry,
    )
}

pub fn void(ctx: &Ctx, entry: &str, reason: &str) -> Result<()> {
    let mut store = ctx.open()?;
    let by = ctx.by()?;
    let id = store.find_entry(entry)?;
    let entry = store.void_entry(&id, &by, reason)?;
    output::done(ctx, &format!("Voided {}", entry.id.short()), &entry)
}
