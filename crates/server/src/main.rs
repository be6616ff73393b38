//! `maraude-server`: flags, environment, logs, and the listening socket.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use maraude_server::http::{App, router};
use maraude_server::registry::SqliteRegistry;
use maraude_store::Passphrase;

/// The base server of a Maraude association.
///
/// Every flag can also be given in the environment (`MARAUDE_…`). The
/// passphrase that encrypts the server's files is only read from the
/// environment or a file, never from a flag (flags show in `ps`).
#[derive(Debug, Parser)]
#[command(version)]
struct Config {
    /// Address and port to listen on: 0.0.0.0:8470 to take the tablets of
    /// the warehouse's network; 127.0.0.1 only takes this machine.
    #[arg(long, env = "MARAUDE_LISTEN", default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    /// Where the registry and the antennas' encrypted stores live.
    #[arg(long, env = "MARAUDE_DATA_DIR", default_value = "maraude-server-data")]
    data_dir: PathBuf,
    /// A file holding the passphrase of the server's files (instead of
    /// MARAUDE_SERVER_PASSPHRASE).
    #[arg(long, env = "MARAUDE_SERVER_PASSPHRASE_FILE")]
    passphrase_file: Option<PathBuf>,
    /// The token a coordinator needs to register a new antenna. Without
    /// one, this server registers no antenna.
    #[arg(long, env = "MARAUDE_REGISTRATION_TOKEN", hide_env_values = true)]
    registration_token: Option<String>,
    /// Sync connections served at once; more are refused with 503.
    #[arg(long, env = "MARAUDE_MAX_CONNECTIONS", default_value_t = 500)]
    max_connections: usize,
    /// How often, in seconds, the server erases the cases closed for
    /// longer than their antenna's retention period (also once at start).
    #[arg(long, env = "MARAUDE_RETENTION_CHECK_SECS", default_value_t = 3600)]
    retention_check_secs: u64,
    /// The server's certificate chain (PEM), to serve HTTPS itself; with
    /// `--tls-key`. Without them it speaks plain HTTP: put it behind a
    /// reverse proxy that does TLS, or use it only on a network you trust.
    #[arg(long, env = "MARAUDE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "MARAUDE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Logs as JSON lines (for a log collector) instead of text.
    #[arg(long, env = "MARAUDE_LOG_JSON")]
    log_json: bool,
}

fn passphrase(config: &Config) -> Result<Passphrase> {
    let text = match &config.passphrase_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the passphrase file {}", path.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        None => std::env::var("MARAUDE_SERVER_PASSPHRASE").context(
            "no passphrase: set MARAUDE_SERVER_PASSPHRASE or --passphrase-file (it encrypts the server's files)",
        )?,
    };
    Ok(Passphrase::new(text))
}

#[tokio::main]
async fn main() -> Result<()> {
    let config = Config::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("MARAUDE_LOG")
        .unwrap_or_else(|_| "info,samod=warn,samod_core=warn".into());
    if config.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let passphrase = passphrase(&config)?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let registry = SqliteRegistry::open(&config.data_dir.join("registry.maraude"), &passphrase)
        .context("cannot open the registry")?;
    let app = Arc::new(App::new(
        Box::new(registry),
        config.data_dir.clone(),
        passphrase,
        config.registration_token.clone(),
        config.max_connections,
    ));
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(
            maraude_sync::tls::server_config_from_pem(cert, key)
                .context("cannot use the TLS certificate")?,
        ),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        https = tls.is_some(),
        data_dir = %config.data_dir.display(),
        "maraude-server ready"
    );
    let every = std::time::Duration::from_secs(config.retention_check_secs.max(1));
    let retention = tokio::spawn({
        let app = app.clone();
        async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                app.apply_retention().await;
            }
        }
    });
    match tls {
        Some(tls) => {
            let (_keep, configs) = tokio::sync::watch::channel(Arc::new(tls));
            let listener = maraude_sync::tls::TlsListener::new(listener, configs)?;
            axum::serve(listener, router(app.clone()))
                .with_graceful_shutdown(shutdown())
                .await?;
        }
        None => {
            axum::serve(listener, router(app.clone()))
                .with_graceful_shutdown(shutdown())
                .await?;
        }
    }
    retention.abort();
    app.stop().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
