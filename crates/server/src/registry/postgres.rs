//! The registry in a PostgreSQL database that several servers share.
//!
//! The same rules as [`super::SqliteRegistry`], with PostgreSQL's locks
//! for what SQLite's single writer gave for free: a revocation and an
//! enrolment lock their antenna's row first, so that two of them on two
//! servers at once are one after the other. The authority's key is kept
//! sealed by the antenna's data key ([`crate::envelope`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use maraude_core::access::Role;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use super::{AntennaRecord, CodeRecord, Device, DeviceRecord, NewDevice, Registry, RegistryError};
use std::time::Duration;

use crate::database::{self, Connection, Database, DatabaseError};
use crate::envelope::Key;

impl From<sqlx::Error> for RegistryError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // The database down or every connection busy: the caller
            // answers "try again", not "failed".
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                RegistryError::Unavailable(e.to_string())
            }
            e => RegistryError::Database(e.to_string()),
        }
    }
}

/// The registry in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresRegistry {
    /// Set once the database is reached (see [`PostgresRegistry::connect`]);
    /// until then every call answers [`RegistryError::Unavailable`].
    database: Arc<tokio::sync::OnceCell<Database>>,
    /// Antennas' data keys once unwrapped: each is read and opened once.
    data_keys: Arc<Mutex<HashMap<Uuid, Arc<Key>>>>,
}

/// The devices matching `$filter`, with the columns [`device_row`] reads.
macro_rules! select_devices {
    ($filter:literal) => {
        concat!(
            "SELECT id, antenna, name, role, enrolled_at, revoked_at, last_sync FROM devices WHERE ",
            $filter
        )
    };
}

fn device_row(r: &PgRow) -> Result<Device, sqlx::Error> {
    Ok(Device {
        id: r.try_get("id")?,
        antenna: r.try_get("antenna")?,
        name: r.try_get("name")?,
        role: role_of(r)?,
        enrolled_at: r.try_get("enrolled_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_sync: r.try_get("last_sync")?,
    })
}

/// A row's `role`; one this server does not know reads as the least,
/// a volunteer's.
fn role_of(r: &PgRow) -> Result<Role, sqlx::Error> {
    Ok(r.try_get::<String, _>("role")?
        .parse()
        .unwrap_or(Role::Volunteer))
}

/// Whether `e` is the database refusing a second row with this key.
/// `taken` when `e` is a duplicate of `constraint` (an antenna or device
/// id already there), the database's error otherwise.
fn unless_taken(e: sqlx::Error, constraint: &str, taken: RegistryError) -> RegistryError {
    let duplicate = e
        .as_database_error()
        .is_some_and(|d| d.is_unique_violation() && d.constraint() == Some(constraint));
    if duplicate { taken } else { e.into() }
}

async fn device(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
) -> Result<Option<Device>, RegistryError> {
    let row = sqlx::query(select_devices!("id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.as_ref().map(device_row).transpose()?)
}

async fn insert_device(
    tx: &mut Transaction<'_, Postgres>,
    antenna: Uuid,
    role: Role,
    d: &NewDevice<'_>,
) -> Result<(), RegistryError> {
    sqlx::query(
        "INSERT INTO devices (id, antenna, name, role, credential_hash, enrolled_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(d.id)
    .bind(antenna)
    .bind(d.name)
    .bind(role.as_str())
    .bind(d.credential_hash)
    .bind(Utc::now())
    .execute(&mut **tx)
    .await
    .map_err(|e| unless_taken(e, "devices_pkey", RegistryError::DeviceExists(d.id)))?;
    Ok(())
}

/// Lock the antenna's row until the transaction ends: the registry's
/// changes to one antenna are made one at a time, whichever server makes
/// them.
async fn lock_antenna(
    tx: &mut Transaction<'_, Postgres>,
    antenna: Uuid,
) -> Result<bool, RegistryError> {
    Ok(
        sqlx::query("SELECT 1 FROM antennas WHERE id = $1 FOR UPDATE")
            .bind(antenna)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// Seconds between two tries at a database that cannot be reached.
const RECONNECT_SECS: u64 = 2;

impl PostgresRegistry {
    pub fn new(database: Database) -> Self {
        Self {
            database: Arc::new(tokio::sync::OnceCell::new_with(Some(database))),
            data_keys: Arc::default(),
        }
    }

    /// Open the database. One that cannot be reached is not fatal: the
    /// registry is answered at once, refuses every call as unavailable
    /// (devices are told to try again), and a task keeps trying until it
    /// is reached. What retrying cannot mend (a URL that does not read, a
    /// wrong passphrase) is an error here.
    pub async fn connect(
        connection: Connection,
        passphrase: String,
    ) -> Result<Self, DatabaseError> {
        let registry = Self {
            database: Arc::default(),
            data_keys: Arc::default(),
        };
        database::options(&connection)?;
        let first = Database::open(&connection, &passphrase).await;
        match first {
            Ok(database) => {
                let _ = registry.database.set(database);
            }
            Err(e @ (DatabaseError::Unreachable(_) | DatabaseError::Migration(_))) => {
                tracing::error!(error = %e, "the database cannot be reached: syncs are refused until it is; trying again every {RECONNECT_SECS} s");
                let cell = registry.database.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_secs(RECONNECT_SECS)).await;
                        match Database::open(&connection, &passphrase).await {
                            Ok(database) => {
                                tracing::info!("the database is reached: serving");
                                let _ = cell.set(database);
                                return;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "the database is still out of reach")
                            }
                        }
                    }
                });
            }
            Err(e) => return Err(e),
        }
        Ok(registry)
    }

    pub(crate) fn pool(&self) -> Result<&PgPool, RegistryError> {
        Ok(&self.database()?.pool)
    }

    fn database(&self) -> Result<&Database, RegistryError> {
        self.database.get().ok_or_else(|| {
            RegistryError::Unavailable("not reached since the server started".into())
        })
    }

    /// The antenna's data key, made (and kept wrapped) on first use.
    pub async fn data_key(&self, antenna: Uuid) -> Result<Arc<Key>, RegistryError> {
        if let Some(key) = self.kept_keys().get(&antenna) {
            return Ok(key.clone());
        }
        let server = &self.database()?.server_key;
        let new = Key::random();
        // Two servers making it at once: one key wins, both read it.
        sqlx::query(
            "INSERT INTO antenna_keys (antenna, wrapped) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(antenna)
        .bind(server.wrap(antenna, &new))
        .execute(self.pool()?)
        .await?;
        let wrapped: Vec<u8> =
            sqlx::query_scalar("SELECT wrapped FROM antenna_keys WHERE antenna = $1")
                .bind(antenna)
                .fetch_one(self.pool()?)
                .await?;
        let key = Arc::new(
            server
                .unwrap(antenna, &wrapped)
                .map_err(|e| RegistryError::Database(e.to_string()))?,
        );
        Ok(self.kept_keys().entry(antenna).or_insert(key).clone())
    }

    /// The registry rows of `antennas` written in a transaction left open,
    /// and each antenna's new data key: a restore writes the documents
    /// sealed by those keys in the same transaction, so that a restore cut
    /// half-way leaves nothing and can be run again.
    pub(crate) async fn begin_import(
        &self,
        antennas: &[AntennaRecord],
    ) -> Result<(Transaction<'static, Postgres>, HashMap<Uuid, Arc<Key>>), RegistryError> {
        // Keys kept from before are for antennas this replaces, or none.
        self.kept_keys().clear();
        let mut tx = self.pool()?.begin().await?;
        let mut keys = HashMap::new();
        for a in antennas {
            sqlx::query("INSERT INTO antennas (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(a.id)
                .bind(&a.name)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    unless_taken(e, "antennas_pkey", RegistryError::AntennaExists(a.id))
                })?;
            // A new data key for the antenna, wrapped by this server's key.
            let data_key = Arc::new(Key::random());
            sqlx::query("INSERT INTO antenna_keys (antenna, wrapped) VALUES ($1, $2)")
                .bind(a.id)
                .bind(self.database()?.server_key.wrap(a.id, &data_key))
                .execute(&mut *tx)
                .await?;
            keys.insert(a.id, data_key.clone());
            if !a.authority_key.is_empty() {
                sqlx::query("INSERT INTO authorities (antenna, sealed_key) VALUES ($1, $2)")
                    .bind(a.id)
                    .bind(data_key.seal(&authority_context(a.id), &a.authority_key))
                    .execute(&mut *tx)
                    .await?;
            }
            for d in &a.devices {
                sqlx::query(
                    "INSERT INTO devices (id, antenna, name, role, credential_hash, enrolled_at, revoked_at, last_sync)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(d.id)
                .bind(a.id)
                .bind(&d.name)
                .bind(d.role.as_str())
                .bind(&d.credential_hash)
                .bind(d.enrolled_at)
                .bind(d.revoked_at)
                .bind(d.last_sync)
                .execute(&mut *tx)
                .await
                .map_err(|e| unless_taken(e, "devices_pkey", RegistryError::DeviceExists(d.id)))?;
            }
            for c in &a.codes {
                sqlx::query(
                    "INSERT INTO enrolment_codes (code_hash, antenna, role, created_by, expires_at, used_by)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&c.code_hash)
                .bind(a.id)
                .bind(c.role.as_str())
                .bind(c.created_by)
                .bind(c.expires_at)
                .bind(c.used_by)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok((tx, keys))
    }

    fn kept_keys(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Key>>> {
        self.data_keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn authority_context(antenna: Uuid) -> Vec<u8> {
    format!("authority key of antenna {antenna}").into_bytes()
}

#[async_trait::async_trait]
impl Registry for PostgresRegistry {
    /// Whether the database answers now (the server's readiness).
    async fn ready(&self) -> bool {
        match self.pool() {
            Ok(pool) => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
            Err(_) => false,
        }
    }

    async fn register_antenna(
        &self,
        antenna: Uuid,
        name: &str,
        first: NewDevice<'_>,
    ) -> Result<(), RegistryError> {
        let mut tx = self.pool()?.begin().await?;
        sqlx::query("INSERT INTO antennas (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(antenna)
            .bind(name)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await
            .map_err(|e| unless_taken(e, "antennas_pkey", RegistryError::AntennaExists(antenna)))?;
        insert_device(&mut tx, antenna, Role::Coordinator, &first).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn antenna_name(&self, antenna: Uuid) -> Result<Option<String>, RegistryError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM antennas WHERE id = $1")
                .bind(antenna)
                .fetch_optional(self.pool()?)
                .await?,
        )
    }

    async fn antennas(&self) -> Result<Vec<Uuid>, RegistryError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM antennas ORDER BY created_at")
                .fetch_all(self.pool()?)
                .await?,
        )
    }

    async fn add_code(
        &self,
        antenna: Uuid,
        role: Role,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        by: Uuid,
    ) -> Result<(), RegistryError> {
        sqlx::query(
            "INSERT INTO enrolment_codes (code_hash, antenna, role, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code_hash)
        .bind(antenna)
        .bind(role.as_str())
        .bind(by)
        .bind(expires_at)
        .execute(self.pool()?)
        .await?;
        Ok(())
    }

    async fn enrol(&self, code_hash: &str, new: NewDevice<'_>) -> Result<Device, RegistryError> {
        let mut tx = self.pool()?.begin().await?;
        // The code's row locked: the same code on two servers at once
        // enrols one tablet; the other finds it used.
        let code = sqlx::query(
            "SELECT antenna, role, expires_at, created_by FROM enrolment_codes
             WHERE code_hash = $1 AND used_by IS NULL FOR UPDATE",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(RegistryError::BadCode)?;
        let antenna: Uuid = code.try_get("antenna")?;
        let expires: DateTime<Utc> = code.try_get("expires_at")?;
        if expires < Utc::now() {
            return Err(RegistryError::BadCode);
        }
        let role: Role = code
            .try_get::<String, _>("role")?
            .parse()
            .map_err(|_| RegistryError::BadCode)?;
        // The issuer's revocation and this enrolment, one after the other.
        if !lock_antenna(&mut tx, antenna).await? {
            return Err(RegistryError::BadCode);
        }
        let issuer = device(&mut tx, code.try_get("created_by")?)
            .await?
            .filter(|d| d.antenna == antenna)
            .ok_or(RegistryError::BadCode)?;
        super::may_enrol(&issuer, role)?;
        insert_device(&mut tx, antenna, role, &new).await?;
        sqlx::query("UPDATE enrolment_codes SET used_by = $1 WHERE code_hash = $2")
            .bind(new.id)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        let enrolled = device(&mut tx, new.id)
            .await?
            .ok_or(RegistryError::NoSuchDevice(new.id))?;
        tx.commit().await?;
        Ok(enrolled)
    }

    async fn device_by_credential(
        &self,
        credential_hash: &str,
    ) -> Result<Option<Device>, RegistryError> {
        let row = sqlx::query(select_devices!("credential_hash = $1"))
            .bind(credential_hash)
            .fetch_optional(self.pool()?)
            .await?;
        Ok(row.as_ref().map(device_row).transpose()?)
    }

    async fn devices(&self, antenna: Uuid) -> Result<Vec<Device>, RegistryError> {
        let rows = sqlx::query(select_devices!("antenna = $1 ORDER BY enrolled_at"))
            .bind(antenna)
            .fetch_all(self.pool()?)
            .await?;
        Ok(rows.iter().map(device_row).collect::<Result<_, _>>()?)
    }

    async fn revoke(&self, by: &Device, id: Uuid) -> Result<Device, RegistryError> {
        let mut tx = self.pool()?.begin().await?;
        // Counting coordinators and revoking, one antenna at a time: two
        // coordinators revoking each other at once leave one.
        lock_antenna(&mut tx, by.antenna).await?;
        let target = device(&mut tx, id)
            .await?
            .filter(|d| d.antenna == by.antenna)
            .ok_or(RegistryError::NoSuchDevice(id))?;
        let active_coordinators: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM devices
             WHERE antenna = $1 AND role = $2 AND revoked_at IS NULL",
        )
        .bind(by.antenna)
        .bind(Role::Coordinator.as_str())
        .fetch_one(&mut *tx)
        .await?;
        super::may_revoke(by, &target, active_coordinators)?;
        sqlx::query("UPDATE devices SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2")
            .bind(Utc::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let revoked = device(&mut tx, id)
            .await?
            .ok_or(RegistryError::NoSuchDevice(id))?;
        tx.commit().await?;
        Ok(revoked)
    }

    async fn take_revocations(
        &self,
        antenna: Uuid,
        listed: &[(Uuid, DateTime<Utc>)],
    ) -> Result<Vec<Uuid>, RegistryError> {
        let mut tx = self.pool()?.begin().await?;
        lock_antenna(&mut tx, antenna).await?;
        let mut revoked = Vec::new();
        for (id, when) in listed {
            match super::taken(antenna, device(&mut tx, *id).await?.as_ref()) {
                super::Taken::Revoke => {
                    sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2")
                        .bind(*when)
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                    revoked.push(*id);
                }
                super::Taken::Leave => {}
                super::Taken::Record => {
                    sqlx::query(
                        "INSERT INTO devices (id, antenna, name, role, credential_hash, enrolled_at, revoked_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(*id)
                    .bind(antenna)
                    .bind(super::UNKNOWN_REVOKED)
                    .bind(Role::Volunteer.as_str())
                    .bind(super::no_credential(*id))
                    .bind(*when)
                    .execute(&mut *tx)
                    .await?;
                    revoked.push(*id);
                }
            }
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn synced(&self, id: Uuid) -> Result<DateTime<Utc>, RegistryError> {
        let now = super::to_the_microsecond(Utc::now());
        sqlx::query("UPDATE devices SET last_sync = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.pool()?)
            .await?;
        Ok(now)
    }

    async fn authority_key(&self, antenna: Uuid, new: &[u8]) -> Result<Vec<u8>, RegistryError> {
        let key = self.data_key(antenna).await?;
        let context = authority_context(antenna);
        sqlx::query(
            "INSERT INTO authorities (antenna, sealed_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(antenna)
        .bind(key.seal(&context, new))
        .execute(self.pool()?)
        .await?;
        let sealed: Vec<u8> =
            sqlx::query_scalar("SELECT sealed_key FROM authorities WHERE antenna = $1")
                .bind(antenna)
                .fetch_one(self.pool()?)
                .await?;
        key.open(&context, &sealed)
            .map_err(|e| RegistryError::Database(format!("the antenna's authority key: {e}")))
    }

    async fn revoked(&self, antenna: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, RegistryError> {
        let rows = sqlx::query(
            "SELECT id, revoked_at FROM devices
             WHERE antenna = $1 AND revoked_at IS NOT NULL ORDER BY revoked_at",
        )
        .bind(antenna)
        .fetch_all(self.pool()?)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("revoked_at")?)))
            .collect()
    }

    async fn export(&self) -> Result<Vec<AntennaRecord>, RegistryError> {
        let mut tx = self.pool()?.begin().await?;
        // One snapshot of the whole registry, whatever the other servers
        // write meanwhile.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let antennas = sqlx::query("SELECT id, name, created_at FROM antennas ORDER BY created_at")
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::new();
        for a in antennas {
            let id: Uuid = a.try_get("id")?;
            let sealed: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT sealed_key FROM authorities WHERE antenna = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let authority_key = match sealed {
                Some(sealed) => self
                    .data_key(id)
                    .await?
                    .open(&authority_context(id), &sealed)
                    .map_err(|e| {
                        RegistryError::Database(format!("the antenna's authority key: {e}"))
                    })?,
                None => Vec::new(),
            };
            let devices = sqlx::query(
                "SELECT id, name, role, credential_hash, enrolled_at, revoked_at, last_sync
                 FROM devices WHERE antenna = $1 ORDER BY enrolled_at",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok(DeviceRecord {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: role_of(r)?,
                    credential_hash: r.try_get("credential_hash")?,
                    enrolled_at: r.try_get("enrolled_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    last_sync: r.try_get("last_sync")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
            let codes = sqlx::query(
                "SELECT code_hash, role, created_by, expires_at, used_by
                 FROM enrolment_codes WHERE antenna = $1",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok(CodeRecord {
                    code_hash: r.try_get("code_hash")?,
                    role: role_of(r)?,
                    created_by: r.try_get("created_by")?,
                    expires_at: r.try_get("expires_at")?,
                    used_by: r.try_get("used_by")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
            out.push(AntennaRecord {
                id,
                name: a.try_get("name")?,
                created_at: a.try_get("created_at")?,
                authority_key,
                devices,
                codes,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn import(&self, antennas: &[AntennaRecord]) -> Result<(), RegistryError> {
        let (tx, _) = self.begin_import(antennas).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A new, empty database in the test cluster (`scripts/with-postgres.sh`
    /// starts one and says where in `MARAUDE_TEST_DATABASE_URL`), and its
    /// URL. `None`, said on stderr, where no cluster runs; under CI that
    /// is a failure.
    pub async fn fresh_database() -> Option<String> {
        let Ok(admin) = std::env::var("MARAUDE_TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "no test database: run the tests under scripts/with-postgres.sh"
            );
            eprintln!("no test database (scripts/with-postgres.sh starts one): skipped");
            return None;
        };
        let name = format!("test_{}", Uuid::new_v4().simple());
        let pool = PgPool::connect(&admin).await.expect("the test cluster");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let mut url = url::Url::parse(&admin).expect("MARAUDE_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(url.to_string())
    }

    pub async fn open(url: &str) -> Database {
        Database::open(
            &Connection {
                url: url.into(),
                allow_plain: false,
                max_connections: 4,
            },
            "entrepôt des dunes",
        )
        .await
        .unwrap()
    }

    async fn fresh() -> Option<(PostgresRegistry, ())> {
        let url = fresh_database().await?;
        Some((PostgresRegistry::new(open(&url).await), ()))
    }

    crate::registry::conformance::registry_conformance!(match fresh().await {
        Some(fresh) => fresh,
        None => return,
    });
}
