//! # maraude
//!
//! The `maraude` command: a device store driven from a terminal. It is wiring
//! only — argument parsing, the passphrase prompt, and printing; every rule
//! lives in `maraude-core` and every write in `maraude-store`, the same
//! functions the app shell calls.

mod cases;
mod entries;
mod hints;
mod network;
mod output;
mod reference;
mod reports;
mod shifts;
mod transfer;
mod warehouse;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use maraude_core::Lang;
use maraude_core::ids::Nickname;
use maraude_store::{Passphrase, Store};

/// Maraude: the field log of outreach teams, on this device.
///
/// Every entry is saved at once, encrypted, in the device's store. The
/// passphrase is read from MARAUDE_PASSPHRASE or asked for; it is never an
/// argument (arguments show in the process list and shell history).
#[derive(Debug, Parser)]
#[command(name = "maraude", version, about, long_about = None, after_long_help = EXAMPLES)]
pub struct Cli {
    /// The store file. Default: $MARAUDE_STORE, else ~/.local/share/maraude/store.maraude
    #[arg(long, global = true, env = "MARAUDE_STORE")]
    store: Option<PathBuf>,
    /// Answer in JSON on stdout (errors stay on stderr).
    #[arg(long, global = true)]
    json: bool,
    /// Language of reports and summaries: fr or en.
    #[arg(long, global = true, env = "MARAUDE_LANG", default_value = "fr")]
    lang: Lang,
    /// Who is logging: your nickname. Default: $MARAUDE_VOLUNTEER.
    #[arg(long, global = true, env = "MARAUDE_VOLUNTEER")]
    by: Option<String>,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "Examples:
  export MARAUDE_STORE=calais.maraude MARAUDE_VOLUNTEER=Jo
  maraude init --antenna Calais
  maraude place add dunes-north --name \"Dunes nord\"
  maraude shift start --kind night-maraude --lead Mira --team Jo,Sam --load blanket=40,tea_coffee=200
  maraude log distribution blanket 2 --place dunes-north
  maraude log headcount 70 --place dunes-north --men 60 --women 6 --children 4
  maraude entries
  maraude void 3fa9c2d1 --reason \"logged twice\"
  maraude shift end --returned blanket=37 --handover \"More blankets tomorrow\"
  maraude report night --format text";

#[derive(Debug, Subcommand)]
enum Command {
    /// Create this device's store for an antenna.
    Init {
        /// The antenna's name, e.g. Calais.
        #[arg(long)]
        antenna: String,
    },
    /// What is in the store, and the current shift.
    Status,
    /// The antenna's item catalogue.
    #[command(subcommand)]
    Catalogue(reference::CatalogueCommand),
    /// The antenna's places.
    #[command(subcommand)]
    Place(reference::PlaceCommand),
    /// The antenna's volunteers and their roles.
    #[command(subcommand)]
    Volunteer(reference::VolunteerCommand),
    /// The antenna's settings; with options, change them (a coordinator).
    Settings(reference::SettingsArgs),
    /// Start, end and list shifts.
    #[command(subcommand)]
    Shift(shifts::ShiftCommand),
    /// Log an entry in the current shift.
    #[command(subcommand)]
    Log(entries::LogCommand),
    /// The shift's log, in time order (voided entries struck through).
    Entries {
        /// The shift (id or its last characters). Default: the current shift.
        #[arg(long)]
        shift: Option<String>,
    },
    /// Correct an entry; its history keeps the old values.
    Edit(entries::EditArgs),
    /// Void an entry: it leaves every total and stays visible.
    Void {
        /// The entry (id or its last characters, as `entries` shows).
        entry: String,
        /// What was wrong with it.
        #[arg(long)]
        reason: String,
    },
    /// Follow-up cases: show, note, close, reopen.
    #[command(subcommand)]
    Case(cases::CaseCommand),
    /// Open follow-ups, oldest first.
    FollowUps,
    /// Night and period reports.
    #[command(subcommand)]
    Report(reports::ReportCommand),
    /// The warehouse: stock on hand, receipts, counts, transfers.
    #[command(subcommand)]
    Stock(warehouse::StockCommand),
    /// What the warehouse will lack in the coming days, and the call for
    /// donations (text), as JSON or CSV.
    Needs {
        /// How many days ahead.
        #[arg(long, default_value_t = 14)]
        days: u32,
        #[arg(long, value_enum, default_value = "text")]
        format: warehouse::NeedsFormat,
    },
    /// Export entries or reference data as CSV or JSON.
    Export(transfer::ExportArgs),
    /// Import the catalogue or places from CSV or JSON. All or nothing.
    Import(transfer::ImportArgs),
    /// Fill a new store with a realistic demo season.
    Demo(transfer::DemoArgs),
    /// Derive the index again from the documents.
    RebuildIndex,
    /// Join an antenna with an enrolment code: creates this device's store
    /// and links it to the server (then run `maraude sync`).
    Enrol(network::EnrolArgs),
    /// Register this store's antenna on a base server (coordinator), with
    /// the server's registration token in MARAUDE_REGISTRATION_TOKEN.
    Register(network::RegisterArgs),
    /// Sync with the antenna's base server: send what this device logged,
    /// receive what the others did. With --peer, sync with a teammate's
    /// tablet instead (no server needed): its address, or `auto` to find it
    /// on the network.
    Sync(network::SyncArgs),
    /// Let teammates' tablets sync with this one on the local network,
    /// without the server, until stopped (Ctrl-C).
    ServePeer(network::ServePeerArgs),
    /// Tablets of this antenna serving their teammates on this network
    /// (found for 3 s by mDNS; the TLS handshake of a sync proves them).
    Teammates,
    /// Ask the server for a code that enrols one more device (lead,
    /// coordinator).
    EnrolmentCode {
        /// volunteer, lead or coordinator
        #[arg(long, default_value = "volunteer")]
        role: maraude_core::access::Role,
    },
    /// The antenna's enrolled devices (lead, coordinator).
    Devices,
    /// Cut a lost or seized device off at once (lead, coordinator).
    Revoke {
        /// The device id, as `maraude devices` shows it.
        device: uuid::Uuid,
    },
    /// Erase this device's store for good (a device handed over, or about
    /// to be seized): the server is told first and revokes it, if it can
    /// be reached. What was not synced is lost.
    EraseDevice {
        /// The antenna's name, typed as confirmation.
        #[arg(long)]
        confirm: String,
    },
    /// Delete from this device everything the server already holds (a
    /// checkpoint ahead); only what was not sent yet stays, with the
    /// antenna to go on logging. A sync brings back what the role receives.
    Clear {
        /// The antenna's name, typed as confirmation.
        #[arg(long)]
        confirm: String,
    },
}

fn default_store() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .context("no --store given and no HOME to put the store in")?;
    Ok(base.join("maraude").join("store.maraude"))
}

/// The passphrase: from MARAUDE_PASSPHRASE, else asked on the terminal.
pub(crate) fn passphrase(confirm: bool) -> Result<Passphrase> {
    if let Ok(p) = std::env::var("MARAUDE_PASSPHRASE") {
        return Ok(Passphrase::new(p));
    }
    let first = rpassword::prompt_password("Antenna passphrase: ")
        .context("cannot read the passphrase: set MARAUDE_PASSPHRASE or run in a terminal")?;
    if confirm {
        let again = rpassword::prompt_password("Same passphrase again: ")
            .context("cannot read the passphrase")?;
        if again != first {
            bail!("the two passphrases differ; nothing was created");
        }
    }
    Ok(Passphrase::new(first))
}

/// What every command gets: the parsed flags and a way to open the store.
#[derive(Debug)]
pub struct Ctx {
    pub json: bool,
    pub lang: Lang,
    by: Option<String>,
    store_path: Option<PathBuf>,
}

impl Ctx {
    pub fn store_path(&self) -> Result<PathBuf> {
        match &self.store_path {
            Some(p) => Ok(p.clone()),
            None => default_store(),
        }
    }

    pub fn open(&self) -> Result<Store> {
        let path = self.store_path()?;
        let pass = passphrase(false)?;
        Ok(Store::open(&path, &pass)?)
    }

    /// The volunteer acting.
    pub fn by(&self) -> Result<Nickname> {
        let Some(by) = &self.by else {
            bail!("say who you are: --by NICKNAME, or set MARAUDE_VOLUNTEER");
        };
        Ok(by.parse()?)
    }
}

fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        json: cli.json,
        lang: cli.lang,
        by: cli.by,
        store_path: cli.store,
    };
    match cli.command {
        Command::Init { antenna } => {
            let path = ctx.store_path()?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let store = Store::create(&path, &passphrase(true)?, &antenna)?;
            output::done(
                &ctx,
                &format!("Store created for antenna {antenna} at {}", path.display()),
                &serde_json::json!({
                    "store": path.display().to_string(),
                    "antenna": store.antenna_id(),
                    "device": store.device(),
                }),
            )
        }
        Command::Status => reference::status(&ctx),
        Command::Catalogue(c) => reference::catalogue(&ctx, c),
        Command::Place(c) => reference::place(&ctx, c),
        Command::Volunteer(c) => reference::volunteer(&ctx, c),
        Command::Settings(args) => reference::settings(&ctx, args),
        Command::Shift(c) => shifts::run(&ctx, c),
        Command::Log(c) => entries::log(&ctx, c),
        Command::Entries { shift } => entries::list(&ctx, shift.as_deref()),
        Command::Edit(args) => entries::edit(&ctx, args),
        Command::Void { entry, reason } => entries::void(&ctx, &entry, &reason),
        Command::Case(c) => cases::run(&ctx, c),
        Command::FollowUps => cases::follow_ups(&ctx),
        Command::Report(c) => reports::run(&ctx, c),
        Command::Stock(c) => warehouse::stock(&ctx, c),
        Command::Needs { days, format } => warehouse::needs(&ctx, days, format),
        Command::Export(args) => transfer::export(&ctx, args),
        Command::Import(args) => transfer::import(&ctx, args),
        Command::Demo(args) => transfer::demo(&ctx, args),
        Command::Enrol(args) => network::enrol(&ctx, args),
        Command::Register(args) => network::register(&ctx, args),
        Command::Sync(args) => network::sync(&ctx, args),
        Command::ServePeer(args) => network::serve_peer(&ctx, args),
        Command::Teammates => network::teammates(&ctx),
        Command::EnrolmentCode { role } => network::enrolment_code(&ctx, role),
        Command::Devices => network::devices(&ctx),
        Command::Revoke { device } => network::revoke(&ctx, device),
        Command::EraseDevice { confirm } => network::erase_device(&ctx, &confirm),
        Command::Clear { confirm } => network::clear(&ctx, &confirm),
        Command::RebuildIndex => {
            let mut store = ctx.open()?;
            store.rebuild_index()?;
            output::done(
                &ctx,
                "Index rebuilt from the documents",
                &serde_json::to_value(store.stats()?)?,
            )
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = hints::code_of(&e);
            let hint = code.and_then(hints::hint);
            if json {
                let msg =
                    serde_json::json!({ "error": format!("{e:#}"), "code": code, "hint": hint });
                eprintln!("{msg}");
            } else {
                eprintln!("maraude: {e:#}");
                if let Some(hint) = hint {
                    eprintln!("  hint: {hint}");
                }
            }
            ExitCode::FAILURE
        }
    }
}
