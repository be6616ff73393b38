//! The PostgreSQL database several servers share: the connection (its
//! URL checked, a pool), the schema's migrations, and the server key that
//! seals what it keeps ([`crate::envelope`]).
//!
//! What is stored, and how, is the registry's business
//! ([`crate::registry::PostgresRegistry`]); this module only opens the
//! database.

use std::borrow::Cow;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{Row, SqlSafeStr};

use crate::envelope::{self, Key};

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("the database URL does not read: {0}")]
    BadUrl(String),
    #[error(
        "the database at {0} is not on this machine, and the URL does not ask for TLS with a verified certificate: \
         add ?sslmode=verify-full (or verify-ca) to the URL, or, on a network you trust, allow it with \
         --database-allow-plain (MARAUDE_DATABASE_ALLOW_PLAIN=1)"
    )]
    PlainToRemote(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error("the database's schema cannot be brought up to date: {0}")]
    Migration(String),
    #[error(
        "the passphrase does not open this database's keys: it is another server's, or the passphrase is wrong"
    )]
    WrongPassphrase,
    #[error("database: {0}")]
    Other(String),
}

impl From<sqlx::Error> for DatabaseError {
    fn from(e: sqlx::Error) -> Self {
        DatabaseError::Other(e.to_string())
    }
}

/// How the server connects.
#[derive(Debug, Clone)]
pub struct Connection {
    pub url: String,
    /// Plain TCP to another machine, for a network the operator trusts.
    pub allow_plain: bool,
    /// Connections in this server's pool.
    pub max_connections: u32,
}

/// The database, open, its schema current and its server key derived.
#[derive(Debug, Clone)]
pub struct Database {
    pub pool: PgPool,
    pub server_key: std::sync::Arc<Key>,
}

/// The schema, one migration per step, each in its own transaction: an
/// interrupted migration is rolled back and runs again whole.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "registry",
        "
    CREATE TABLE server_key (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        salt bytea NOT NULL,
        proof bytea NOT NULL
    );
    CREATE TABLE antennas (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL
    );
    -- Each antenna's data key, sealed by the server key.
    CREATE TABLE antenna_keys (
        antenna uuid PRIMARY KEY REFERENCES antennas(id),
        wrapped bytea NOT NULL
    );
    CREATE TABLE devices (
        id uuid PRIMARY KEY,
        antenna uuid NOT NULL REFERENCES antennas(id),
        name text NOT NULL,
        role text NOT NULL,
        credential_hash text NOT NULL UNIQUE,
        enrolled_at timestamptz NOT NULL,
        revoked_at timestamptz,
        last_sync timestamptz
    );
    CREATE INDEX devices_by_antenna ON devices (antenna, enrolled_at);
    CREATE TABLE enrolment_codes (
        code_hash text PRIMARY KEY,
        antenna uuid NOT NULL REFERENCES antennas(id),
        role text NOT NULL,
        created_by uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        used_by uuid
    );
    -- The antenna's authority key (PKCS#8), sealed by its data key.
    CREATE TABLE authorities (
        antenna uuid PRIMARY KEY REFERENCES antennas(id),
        sealed_key bytea NOT NULL
    );
    ",
    ),
    (
        2,
        "documents",
        "
    -- Each antenna's documents as samod's chunks, sealed by its data key.
    CREATE TABLE chunks (
        antenna uuid NOT NULL REFERENCES antennas(id),
        key text NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (antenna, key)
    );
    -- Erased cases' documents: their chunks are refused from then on.
    CREATE TABLE erased_documents (
        antenna uuid NOT NULL REFERENCES antennas(id),
        document text NOT NULL,
        PRIMARY KEY (antenna, document)
    );
    -- The heads each device acknowledged of each document, on any server.
    CREATE TABLE acknowledged (
        antenna uuid NOT NULL REFERENCES antennas(id),
        device uuid NOT NULL,
        document text NOT NULL,
        heads text NOT NULL,
        PRIMARY KEY (antenna, device, document)
    );
    ",
    ),
    (
        3,
        "chunks by document",
        "
    -- A document's chunks found by its id (samod's loads, an erasure),
    -- not by reading every chunk of the antenna: a season's antenna holds
    -- thousands, and a server that starts loads each document.
    CREATE INDEX chunks_by_document ON chunks (antenna, split_part(key, '/', 1));
    ",
    ),
];

fn migrator() -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*name),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Read `url` and refuse plain TCP to another machine unless allowed.
pub fn options(connection: &Connection) -> Result<PgConnectOptions, DatabaseError> {
    if !["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| connection.url.starts_with(scheme))
    {
        return Err(DatabaseError::BadUrl(
            "it must begin with postgres:// (postgres://user:password@host/database)".into(),
        ));
    }
    let options = PgConnectOptions::from_str(&connection.url)
        .map_err(|e| DatabaseError::BadUrl(e.to_string()))?;
    let local = options.get_socket().is_some() || {
        let host = options.get_host();
        host == "localhost"
            || host.starts_with('/')
            || IpAddr::from_str(host.trim_matches(['[', ']'])).is_ok_and(|ip| ip.is_loopback())
    };
    let verified = matches!(
        options.get_ssl_mode(),
        PgSslMode::VerifyCa | PgSslMode::VerifyFull
    );
    if !local && !verified && !connection.allow_plain {
        return Err(DatabaseError::PlainToRemote(options.get_host().to_string()));
    }
    Ok(options.application_name("maraude-server"))
}

impl Database {
    /// Connect, bring the schema up to date, derive the server key (made
    /// with its salt on first use).
    pub async fn open(connection: &Connection, passphrase: &str) -> Result<Self, DatabaseError> {
        let options = options(connection)?;
        let pool = PgPoolOptions::new()
            .max_connections(connection.max_connections.max(2))
            // A request waits this long for a connection before it is
            // answered "try again"; the database down, the pool keeps
            // trying to connect at each request, and recovers by itself.
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| DatabaseError::Unreachable(e.to_string()))?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| DatabaseError::Migration(e.to_string()))?;
        let server_key = server_key(&pool, passphrase).await?;
        Ok(Self {
            pool,
            server_key: std::sync::Arc::new(server_key),
        })
    }
}

async fn server_key(pool: &PgPool, passphrase: &str) -> Result<Key, DatabaseError> {
    let derive = |salt: Vec<u8>| {
        let passphrase = passphrase.to_string();
        // Argon2 takes a fifth of a second of CPU: not on the runtime's
        // threads.
        tokio::task::spawn_blocking(move || Key::from_passphrase(&passphrase, &salt))
    };
    if let Some(row) = sqlx::query("SELECT salt, proof FROM server_key")
        .fetch_optional(pool)
        .await?
    {
        let key = derive(row.get("salt"))
            .await
            .map_err(|e| DatabaseError::Other(e.to_string()))?
            .map_err(|e| DatabaseError::Other(e.to_string()))?;
        return if key.proves(row.get("proof")) {
            Ok(key)
        } else {
            Err(DatabaseError::WrongPassphrase)
        };
    }
    let salt = envelope::new_salt().to_vec();
    let key = derive(salt.clone())
        .await
        .map_err(|e| DatabaseError::Other(e.to_string()))?
        .map_err(|e| DatabaseError::Other(e.to_string()))?;
    // Two servers starting on an empty database at once: one salt wins,
    // and the other reads it back.
    sqlx::query("INSERT INTO server_key (salt, proof) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(&salt)
        .bind(key.proof())
        .execute(pool)
        .await?;
    let kept: Vec<u8> = sqlx::query_scalar("SELECT salt FROM server_key")
        .fetch_one(pool)
        .await?;
    if kept == salt {
        Ok(key)
    } else {
        Box::pin(server_key(pool, passphrase)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allow_plain: bool) -> Result<(), String> {
        options(&Connection {
            url: url.into(),
            allow_plain,
            max_connections: 4,
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    #[test]
    fn plain_tcp_to_another_machine_is_refused_unless_allowed() {
        for local in [
            "postgres://maraude@localhost/maraude",
            "postgres://maraude@127.0.0.1:5433/maraude",
            "postgres://maraude@[::1]/maraude",
            "postgres:///maraude?host=/run/postgresql",
        ] {
            assert_eq!(check(local, false), Ok(()), "{local}");
        }
        for remote in [
            "postgres://maraude@db.example.org/maraude",
            "postgres://maraude@10.0.0.5/maraude?sslmode=prefer",
            "postgres://maraude@10.0.0.5/maraude?sslmode=require",
        ] {
            let refused = check(remote, false).unwrap_err();
            assert!(refused.contains("sslmode=verify-full"), "{refused}");
            assert_eq!(check(remote, true), Ok(()), "{remote}");
        }
        assert_eq!(
            check(
                "postgres://maraude@db.example.org/maraude?sslmode=verify-full",
                false
            ),
            Ok(())
        );
        assert!(
            check("mysql://nope", false)
                .unwrap_err()
                .contains("does not read")
        );
    }
}
