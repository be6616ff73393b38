//! `maraude-server`: flags, environment, logs, and the listening socket.

mod config;

use std::sync::Arc;

use anyhow::{Context, Result};
use config::Config;
use maraude_server::database::Connection;
use maraude_server::http::{App, Limits, router};
use maraude_server::registry::{PostgresRegistry, Registry, SqliteRegistry};
use maraude_server::shared::SharedDocuments;
use maraude_store::Passphrase;

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
    let config = Config::load()?;
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
    // With a database, the registry and the antennas' documents are
    // there, shared with the other servers on it; the data folder holds
    // this server's cache of the documents.
    let (registry, shared): (Box<dyn Registry>, _) = match &config.database_url {
        Some(url) => {
            let registry = PostgresRegistry::connect(
                Connection {
                    url: url.clone(),
                    allow_plain: config.database_allow_plain,
                    max_connections: config.database_connections,
                },
                passphrase.expose_secret().to_string(),
            )
            .await
            .context("cannot use the database")?;
            let shared = SharedDocuments::new(registry.clone());
            (Box::new(registry), Some(shared))
        }
        None => (
            Box::new(
                SqliteRegistry::open(&config.data_dir.join("registry.maraude"), &passphrase)
                    .context("cannot open the registry")?,
            ),
            None,
        ),
    };
    let app = App::new(
        registry,
        config.data_dir.clone(),
        passphrase,
        config.registration_token.clone(),
        Limits {
            max_connections: config.max_connections,
            enrol_attempts_per_minute: config.enrol_attempts_per_minute,
            certificate_days: config.certificate_days,
        },
    );
    let app = app.with_metrics_token(config.metrics_token.as_deref());
    let app = Arc::new(match shared.clone() {
        Some(shared) => app.with_shared_documents(shared),
        None => app,
    });
    if let Some(shared) = shared {
        tokio::spawn(shared.listen(Arc::downgrade(&app)));
    }
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
        registry = if config.database_url.is_some() { "postgresql" } else { "file" },
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
    // A channel because a tablet serving its teammates swaps its TLS
    // configuration while serving; the server reads its certificate once.
    let (_keep, configs) = tls
        .map(|config| tokio::sync::watch::channel(Arc::new(config)))
        .unzip();
    maraude_sync::serve::serve(
        listener,
        configs,
        router(app.clone()),
        config.limits(),
        shutdown(),
    )
    .await;
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
