//! `maraude-server`: flags, environment, logs, and the listening socket.

mod config;

use std::sync::Arc;

use anyhow::{Context, Result};
use config::{Command, Config};
use maraude_server::backup::{self, Place};
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
    // Before any store opens: see the function for why the server does.
    maraude_store::leave_freed_memory_unwiped();
    if let Some(command) = &config.command {
        return run(command, &config, &passphrase).await;
    }
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

/// The place the settings name: the database, or the data folder.
fn configured_place(config: &Config) -> Place {
    match &config.database_url {
        Some(url) => Place::Postgres(connection(config, url)),
        None => Place::Embedded(config.data_dir.clone()),
    }
}

fn connection(config: &Config, url: &str) -> Connection {
    Connection {
        url: url.to_string(),
        allow_plain: config.database_allow_plain,
        max_connections: config.database_connections,
    }
}

/// A backup, a restore or a move, said on stderr as it goes.
async fn run(command: &Command, config: &Config, passphrase: &Passphrase) -> Result<()> {
    let here = configured_place(config);
    match command {
        Command::Backup { to } => {
            let contents = backup::read(&here, passphrase).await?;
            backup::write_file(to, &backup::seal(&contents, passphrase)?)?;
            eprintln!(
                "backup of {here} written to {}: {} antenna(s), {} chunk(s); it opens with this server's passphrase only",
                to.display(),
                contents.antennas.len(),
                contents
                    .antennas
                    .iter()
                    .map(|a| a.documents.chunks.len())
                    .sum::<usize>()
            );
        }
        Command::Restore { from } => {
            let bytes =
                std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
            let contents = backup::open(&bytes, passphrase)?;
            backup::write(&here, passphrase, &contents).await?;
            eprintln!(
                "{} restored into {here}: {} antenna(s); start the server",
                from.display(),
                contents.antennas.len()
            );
        }
        Command::Migrate { to } => {
            let there = if to.starts_with("postgres://") || to.starts_with("postgresql://") {
                Place::Postgres(connection(config, to))
            } else {
                Place::Embedded(to.into())
            };
            let contents = backup::read(&here, passphrase).await?;
            backup::write(&there, passphrase, &contents).await?;
            eprintln!(
                "{} antenna(s) copied from {here} to {there}: start the server on it ({})",
                contents.antennas.len(),
                match there {
                    Place::Postgres(_) => "--database-url",
                    Place::Embedded(_) => "--data-dir, without --database-url",
                }
            );
        }
    }
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
