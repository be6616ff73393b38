//! The server's settings: flags, the environment (`MARAUDE_…`), a TOML
//! file (`--config`), the defaults, in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use maraude_server::http::Limits;
use serde::Deserialize;

/// The base server of a Maraude association.
///
/// Every flag can also be given in the environment (`MARAUDE_…`) or in a
/// TOML file (`--config`); a flag wins over the environment, which wins
/// over the file. The passphrase that encrypts the server's files is only
/// read from the environment or a file, never from a flag (flags show in
/// `ps`).
#[derive(Debug, Parser)]
#[command(version)]
pub struct Config {
    /// A TOML file of settings, keys named as the flags with `_`
    /// (`listen = "0.0.0.0:8470"`, `data_dir = "/var/lib/maraude"`,
    /// `tls_cert`…). Relative paths in it are taken from its folder.
    #[arg(long, env = "MARAUDE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on: 0.0.0.0:8470 to take the tablets of
    /// the warehouse's network; 127.0.0.1 only takes this machine.
    #[arg(long, env = "MARAUDE_LISTEN", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// Where the registry and the antennas' encrypted stores live.
    #[arg(long, env = "MARAUDE_DATA_DIR", default_value = "maraude-server-data")]
    pub data_dir: PathBuf,
    /// A file holding the passphrase of the server's files (instead of
    /// MARAUDE_SERVER_PASSPHRASE).
    #[arg(long, env = "MARAUDE_SERVER_PASSPHRASE_FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// The token a coordinator needs to register a new antenna. Without
    /// one, this server registers no antenna.
    #[arg(long, env = "MARAUDE_REGISTRATION_TOKEN", hide_env_values = true)]
    pub registration_token: Option<String>,
    /// Sync connections served at once; more are refused with 503.
    #[arg(long, env = "MARAUDE_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Attempts to enrol a device with a code, and to register an antenna,
    /// that one client address may make in a minute (each); more are
    /// refused with 429 until the minute ends. Behind a reverse proxy all
    /// clients share the proxy's address.
    #[arg(long, env = "MARAUDE_ENROL_ATTEMPTS_PER_MINUTE", default_value_t = Limits::default().enrol_attempts_per_minute)]
    pub enrol_attempts_per_minute: u32,
    /// Days a device certificate is valid (1 to 365). Tablets renew theirs
    /// at a sync with the server once fewer than 10 days remain, and
    /// teammates refuse an expired one: a revoked tablet its teammates
    /// never heard of is refused at most this long after its last sync.
    #[arg(long, env = "MARAUDE_CERTIFICATE_DAYS", default_value_t = Limits::default().certificate_days)]
    pub certificate_days: u32,
    /// Connections open at once from one IP address (an IPv6 address
    /// counts by its /64); more are closed at once. Tablets behind one NAT
    /// share an address, each holding two while it syncs: raise it for a
    /// larger team behind one router.
    #[arg(long, env = "MARAUDE_MAX_CONNECTIONS_PER_IP", default_value_t = maraude_sync::serve::CONNECTIONS_PER_IP)]
    pub max_connections_per_ip: usize,
    /// Seconds a client has to send a request's headers; a kept-alive
    /// connection waiting longer for its next request is closed too.
    #[arg(long, env = "MARAUDE_HEADER_TIMEOUT_SECS", default_value_t = maraude_sync::serve::HEADER_READ.as_secs())]
    pub header_timeout_secs: u64,
    /// Seconds a sync connection may go with nothing sent either way
    /// before it is closed (a device closes its own once synced).
    #[arg(long, env = "MARAUDE_SYNC_IDLE_SECS", default_value_t = maraude_sync::serve::SYNC_IDLE.as_secs())]
    pub sync_idle_secs: u64,
    /// How often, in seconds, the server erases the cases closed for
    /// longer than their antenna's retention period (also once at start).
    #[arg(long, env = "MARAUDE_RETENTION_CHECK_SECS", default_value_t = 3600)]
    pub retention_check_secs: u64,
    /// The server's certificate chain (PEM), to serve HTTPS itself; with
    /// `--tls-key`. Without them it speaks plain HTTP: put it behind a
    /// reverse proxy that does TLS, or use it only on a network you trust.
    #[arg(long, env = "MARAUDE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "MARAUDE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Logs as JSON lines (for a log collector) instead of text.
    #[arg(long, env = "MARAUDE_LOG_JSON")]
    pub log_json: bool,
    /// A PostgreSQL database for the registry, shared by several servers
    /// (`postgres://user:password@host/database?sslmode=verify-full`).
    /// Without one, the registry is an encrypted file in the data folder.
    /// To another machine, the URL must ask for TLS with a verified
    /// certificate (or see `--database-allow-plain`).
    #[arg(long, env = "MARAUDE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Connect to a PostgreSQL on another machine without TLS: only on a
    /// network you trust (a private link between two machines).
    #[arg(long, env = "MARAUDE_DATABASE_ALLOW_PLAIN")]
    pub database_allow_plain: bool,
    /// The token a scraper on another machine sends (`Authorization:
    /// Bearer …`) to read `/metrics`; from this machine none is needed.
    #[arg(long, env = "MARAUDE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Connections to PostgreSQL this server keeps at most.
    #[arg(long, env = "MARAUDE_DATABASE_CONNECTIONS", default_value_t = 16)]
    pub database_connections: u32,
    /// Instead of serving: a backup, a restore, a move.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What the server does instead of serving, on the folder or database its
/// settings name.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write everything this server holds to a file, sealed by its
    /// passphrase, while it runs (the registry, every antenna's documents,
    /// what each tablet acknowledged).
    Backup {
        /// The backup file to write (replaced whole, or left as it was).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup back into this server's folder or database, which must
    /// be empty; the server stopped. Tablets then sync as before, nothing
    /// sent again.
    Restore {
        /// The backup file (made by `backup`, with the same passphrase).
        #[arg(long)]
        from: PathBuf,
    },
    /// Copy everything this server holds to another place, which must be
    /// empty: `postgres://…` (the database several servers share) or a
    /// folder (the embedded store); then start the server on it.
    Migrate {
        /// `postgres://user:password@host/database`, or a folder.
        #[arg(long)]
        to: String,
    },
}

/// What a config file may set: the flags' settings, by the same names.
/// An unknown key is an error (a typo would otherwise be ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    passphrase_file: Option<PathBuf>,
    registration_token: Option<String>,
    max_connections: Option<usize>,
    enrol_attempts_per_minute: Option<u32>,
    certificate_days: Option<u32>,
    max_connections_per_ip: Option<usize>,
    header_timeout_secs: Option<u64>,
    sync_idle_secs: Option<u64>,
    retention_check_secs: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    log_json: Option<bool>,
    database_url: Option<String>,
    database_allow_plain: Option<bool>,
    database_connections: Option<u32>,
    metrics_token: Option<String>,
}

impl Config {
    /// The settings of this run: the command line and the environment,
    /// completed by the config file if one is given.
    pub fn load() -> Result<Self> {
        let matches = Self::command().get_matches();
        let mut config = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Some(path) = config.config.clone() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            let file: FileConfig = toml::from_str(&text).with_context(|| {
                format!(
                    "{} is not a valid config file (see maraude-server --help for its keys)",
                    path.display()
                )
            })?;
            if (file.registration_token.is_some() || file.database_url.is_some())
                && readable_by_others(&path)
            {
                // Logs are not set up yet: said on stderr, where the
                // service manager keeps it.
                eprintln!(
                    "warning: {} holds the registration token or the database's URL, and other users of this machine can read it: chmod 600 it",
                    path.display()
                );
            }
            let given = |id: &str| {
                matches!(
                    matches.value_source(id),
                    Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                )
            };
            config.complete(file, path.parent().unwrap_or(Path::new(".")), given);
        }
        if config.tls_cert.is_some() != config.tls_key.is_some() {
            bail!("give both tls_cert and tls_key (a certificate and its key), or neither");
        }
        let longest = maraude_sync::identity::MAX_CERTIFICATE_DAYS;
        if !(1..=longest).contains(&config.certificate_days) {
            bail!(
                "certificate_days is {}: give 1 to {longest} (default {})",
                config.certificate_days,
                Limits::default().certificate_days
            );
        }
        if config.enrol_attempts_per_minute == 0 {
            bail!("enrol_attempts_per_minute is 0: give at least 1 (default 10)");
        }
        Ok(config)
    }

    /// What each connection is allowed (`maraude_sync::serve`); a limit of
    /// 0 would refuse every client, so 1 is the least.
    pub fn limits(&self) -> maraude_sync::serve::Limits {
        maraude_sync::serve::Limits {
            header_read: Duration::from_secs(self.header_timeout_secs.max(1)),
            connections_per_ip: self.max_connections_per_ip.max(1),
            sync_idle: Duration::from_secs(self.sync_idle_secs.max(1)),
        }
    }

    /// Take from `file` each setting not `given` on the command line or in
    /// the environment; its relative paths are taken from `folder`.
    fn complete(&mut self, file: FileConfig, folder: &Path, given: impl Fn(&str) -> bool) {
        let path = |p: PathBuf| if p.is_relative() { folder.join(p) } else { p };
        if let (false, Some(v)) = (given("listen"), file.listen) {
            self.listen = v;
        }
        if let (false, Some(v)) = (given("data_dir"), file.data_dir) {
            self.data_dir = path(v);
        }
        if let (false, Some(v)) = (given("passphrase_file"), file.passphrase_file) {
            self.passphrase_file = Some(path(v));
        }
        if let (false, Some(v)) = (given("registration_token"), file.registration_token) {
            self.registration_token = Some(v);
        }
        if let (false, Some(v)) = (given("max_connections"), file.max_connections) {
            self.max_connections = v;
        }
        if let (false, Some(v)) = (
            given("enrol_attempts_per_minute"),
            file.enrol_attempts_per_minute,
        ) {
            self.enrol_attempts_per_minute = v;
        }
        if let (false, Some(v)) = (given("certificate_days"), file.certificate_days) {
            self.certificate_days = v;
        }
        if let (false, Some(v)) = (given("max_connections_per_ip"), file.max_connections_per_ip) {
            self.max_connections_per_ip = v;
        }
        if let (false, Some(v)) = (given("header_timeout_secs"), file.header_timeout_secs) {
            self.header_timeout_secs = v;
        }
        if let (false, Some(v)) = (given("sync_idle_secs"), file.sync_idle_secs) {
            self.sync_idle_secs = v;
        }
        if let (false, Some(v)) = (given("retention_check_secs"), file.retention_check_secs) {
            self.retention_check_secs = v;
        }
        if let (false, Some(v)) = (given("tls_cert"), file.tls_cert) {
            self.tls_cert = Some(path(v));
        }
        if let (false, Some(v)) = (given("tls_key"), file.tls_key) {
            self.tls_key = Some(path(v));
        }
        if let (false, Some(v)) = (given("log_json"), file.log_json) {
            self.log_json = v;
        }
        if let (false, Some(v)) = (given("database_url"), file.database_url) {
            self.database_url = Some(v);
        }
        if let (false, Some(v)) = (given("database_allow_plain"), file.database_allow_plain) {
            self.database_allow_plain = v;
        }
        if let (false, Some(v)) = (given("database_connections"), file.database_connections) {
            self.database_connections = v;
        }
        if let (false, Some(v)) = (given("metrics_token"), file.metrics_token) {
            self.metrics_token = Some(v);
        }
    }
}

/// Whether users other than the file's owner may read it.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> bool {
    false
}
