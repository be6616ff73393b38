//! The registry in an SQLCipher file beside the antennas' stores.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use maraude_core::access::Role;
use maraude_store::Passphrase;
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use uuid::Uuid;

use super::{AntennaRecord, CodeRecord, Device, DeviceRecord, NewDevice, Registry, RegistryError};

impl From<rusqlite::Error> for RegistryError {
    fn from(e: rusqlite::Error) -> Self {
        RegistryError::Database(e.to_string())
    }
}

const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE antennas (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        antenna TEXT NOT NULL REFERENCES antennas(id),
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        credential_hash TEXT NOT NULL UNIQUE,
        enrolled_at TEXT NOT NULL,
        revoked_at TEXT,
        last_sync TEXT
    );
    CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY,
        antenna TEXT NOT NULL REFERENCES antennas(id),
        role TEXT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by TEXT
    );
    ",
    // 2: each antenna's authority key, which signs its devices'
    // certificates and its revocation list.
    "
    CREATE TABLE authorities (
        antenna TEXT PRIMARY KEY REFERENCES antennas(id),
        key BLOB NOT NULL
    );
    ",
];

/// The registry in an SQLCipher file.
#[derive(Debug)]
pub struct SqliteRegistry {
    conn: Mutex<Connection>,
}

fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

const DEVICE_COLUMNS: &str = "id, antenna, name, role, enrolled_at, revoked_at, last_sync";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let text = |i: usize| r.get::<_, String>(i);
    let uuid = |s: String| s.parse::<Uuid>().unwrap_or_default();
    Ok(Device {
        id: uuid(text(0)?),
        antenna: uuid(text(1)?),
        name: text(2)?,
        role: text(3)?.parse().unwrap_or(Role::Volunteer),
        enrolled_at: parse_ts(Some(text(4)?)).unwrap_or_default(),
        revoked_at: parse_ts(r.get(5)?),
        last_sync: parse_ts(r.get(6)?),
    })
}

impl SqliteRegistry {
    pub fn open(path: &Path, passphrase: &Passphrase) -> anyhow::Result<Self> {
        let create = !path.exists();
        let mut conn = maraude_store::open_encrypted_file(path, passphrase, create)?;
        Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect()).to_latest(&mut conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every
        // write is one statement or one transaction): keep serving.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn insert_device(
    conn: &Connection,
    antenna: Uuid,
    role: Role,
    d: &NewDevice<'_>,
) -> Result<(), RegistryError> {
    let exists: bool = conn
        .prepare_cached("SELECT count(*) FROM devices WHERE id = ?1")?
        .query_row(params![d.id.to_string()], |r| r.get::<_, i64>(0))?
        > 0;
    if exists {
        return Err(RegistryError::DeviceExists(d.id));
    }
    conn.prepare_cached(
        "INSERT INTO devices (id, antenna, name, role, credential_hash, enrolled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        d.id.to_string(),
        antenna.to_string(),
        d.name,
        role.as_str(),
        d.credential_hash,
        ts(Utc::now())
    ])?;
    Ok(())
}

fn device(conn: &Connection, id: Uuid) -> Result<Option<Device>, RegistryError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"
        ))?
        .query_row(params![id.to_string()], device_row)
        .optional()?)
}

// The calls are short and local: made on the caller's task, as before
// the trait was async.
#[async_trait::async_trait]
impl Registry for SqliteRegistry {
    async fn register_antenna(
        &self,
        antenna: Uuid,
        name: &str,
        first: NewDevice<'_>,
    ) -> Result<(), RegistryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists: i64 = tx.query_row(
            "SELECT count(*) FROM antennas WHERE id = ?1",
            params![antenna.to_string()],
            |r| r.get(0),
        )?;
        if exists > 0 {
            return Err(RegistryError::AntennaExists(antenna));
        }
        tx.execute(
            "INSERT INTO antennas (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![antenna.to_string(), name, ts(Utc::now())],
        )?;
        insert_device(&tx, antenna, Role::Coordinator, &first)?;
        tx.commit()?;
        Ok(())
    }

    async fn antenna_name(&self, antenna: Uuid) -> Result<Option<String>, RegistryError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT name FROM antennas WHERE id = ?1",
                params![antenna.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    async fn antennas(&self) -> Result<Vec<Uuid>, RegistryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM antennas")?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
    }

    async fn add_code(
        &self,
        antenna: Uuid,
        role: Role,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        by: Uuid,
    ) -> Result<(), RegistryError> {
        self.conn().execute(
            "INSERT INTO enrolment_codes (code_hash, antenna, role, created_by, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                code_hash,
                antenna.to_string(),
                role.as_str(),
                by.to_string(),
                ts(expires_at)
            ],
        )?;
        Ok(())
    }

    async fn enrol(&self, code_hash: &str, new: NewDevice<'_>) -> Result<Device, RegistryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let code: Option<(String, String, String, String)> = tx
            .query_row(
                "SELECT antenna, role, expires_at, created_by FROM enrolment_codes
                 WHERE code_hash = ?1 AND used_by IS NULL",
                params![code_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((antenna, role, expires, issuer)) = code else {
            return Err(RegistryError::BadCode);
        };
        if parse_ts(Some(expires)).is_none_or(|at| at < Utc::now()) {
            return Err(RegistryError::BadCode);
        }
        let antenna: Uuid = antenna.parse().map_err(|_| RegistryError::BadCode)?;
        let role: Role = role.parse().map_err(|_| RegistryError::BadCode)?;
        // Every code names the tablet that issued it (`created_by`, since
        // the first version of the registry): a code dies with its
        // issuer, and one a lead issued for a lead's tablet before leads
        // were held to volunteers' enrols none.
        let issuer = issuer.parse().map_err(|_| RegistryError::BadCode)?;
        let issuer = device(&tx, issuer)?
            .filter(|d| d.antenna == antenna)
            .ok_or(RegistryError::BadCode)?;
        super::may_enrol(&issuer, role)?;
        insert_device(&tx, antenna, role, &new)?;
        tx.execute(
            "UPDATE enrolment_codes SET used_by = ?1 WHERE code_hash = ?2",
            params![new.id.to_string(), code_hash],
        )?;
        let enrolled = device(&tx, new.id)?.ok_or(RegistryError::NoSuchDevice(new.id))?;
        tx.commit()?;
        Ok(enrolled)
    }

    async fn device_by_credential(
        &self,
        credential_hash: &str,
    ) -> Result<Option<Device>, RegistryError> {
        Ok(self
            .conn()
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE credential_hash = ?1"
            ))?
            .query_row(params![credential_hash], device_row)
            .optional()?)
    }

    async fn devices(&self, antenna: Uuid) -> Result<Vec<Device>, RegistryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE antenna = ?1 ORDER BY enrolled_at"
        ))?;
        let rows = stmt.query_map(params![antenna.to_string()], device_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    async fn revoke(&self, by: &Device, id: Uuid) -> Result<Device, RegistryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let target = device(&tx, id)?
            .filter(|d| d.antenna == by.antenna)
            .ok_or(RegistryError::NoSuchDevice(id))?;
        let active_coordinators: i64 = tx.query_row(
            "SELECT count(*) FROM devices
             WHERE antenna = ?1 AND role = ?2 AND revoked_at IS NULL",
            params![by.antenna.to_string(), Role::Coordinator.as_str()],
            |r| r.get(0),
        )?;
        super::may_revoke(by, &target, active_coordinators)?;
        tx.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, ?1) WHERE id = ?2",
            params![ts(Utc::now()), id.to_string()],
        )?;
        let revoked = device(&tx, id)?.ok_or(RegistryError::NoSuchDevice(id))?;
        tx.commit()?;
        Ok(revoked)
    }

    async fn take_revocations(
        &self,
        antenna: Uuid,
        listed: &[(Uuid, DateTime<Utc>)],
    ) -> Result<Vec<Uuid>, RegistryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut revoked = Vec::new();
        for (id, when) in listed {
            match super::taken(antenna, device(&tx, *id)?.as_ref()) {
                super::Taken::Revoke => {
                    tx.execute(
                        "UPDATE devices SET revoked_at = ?1 WHERE id = ?2",
                        params![ts(*when), id.to_string()],
                    )?;
                    revoked.push(*id);
                }
                super::Taken::Leave => {}
                super::Taken::Record => {
                    tx.execute(
                        "INSERT INTO devices (id, antenna, name, role, credential_hash, enrolled_at, revoked_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                        params![
                            id.to_string(),
                            antenna.to_string(),
                            super::UNKNOWN_REVOKED,
                            Role::Volunteer.as_str(),
                            super::no_credential(*id),
                            ts(*when)
                        ],
                    )?;
                    revoked.push(*id);
                }
            }
        }
        tx.commit()?;
        Ok(revoked)
    }

    async fn synced(&self, id: Uuid) -> Result<DateTime<Utc>, RegistryError> {
        let now = super::to_the_microsecond(Utc::now());
        self.conn().execute(
            "UPDATE devices SET last_sync = ?1 WHERE id = ?2",
            params![ts(now), id.to_string()],
        )?;
        Ok(now)
    }

    async fn authority_key(&self, antenna: Uuid, new: &[u8]) -> Result<Vec<u8>, RegistryError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO authorities (antenna, key) VALUES (?1, ?2)",
            params![antenna.to_string(), new],
        )?;
        Ok(conn.query_row(
            "SELECT key FROM authorities WHERE antenna = ?1",
            params![antenna.to_string()],
            |r| r.get(0),
        )?)
    }

    async fn revoked(&self, antenna: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, RegistryError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, revoked_at FROM devices
             WHERE antenna = ?1 AND revoked_at IS NOT NULL ORDER BY revoked_at",
        )?;
        let rows = stmt.query_map(params![antenna.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at) = row?;
            if let (Ok(id), Some(at)) = (id.parse(), parse_ts(Some(at))) {
                out.push((id, at));
            }
        }
        Ok(out)
    }

    async fn export(&self) -> Result<Vec<AntennaRecord>, RegistryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let antennas: Vec<(String, String, String)> = tx
            .prepare("SELECT id, name, created_at FROM antennas ORDER BY created_at")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (id, name, created_at) in antennas {
            let authority_key: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT key FROM authorities WHERE antenna = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            let devices = tx
                .prepare(
                    "SELECT id, name, role, credential_hash, enrolled_at, revoked_at, last_sync
                     FROM devices WHERE antenna = ?1 ORDER BY enrolled_at",
                )?
                .query_map(params![id], |r| {
                    Ok(DeviceRecord {
                        id: r.get::<_, String>(0)?.parse().unwrap_or_default(),
                        name: r.get(1)?,
                        role: r.get::<_, String>(2)?.parse().unwrap_or(Role::Volunteer),
                        credential_hash: r.get(3)?,
                        enrolled_at: parse_ts(Some(r.get(4)?)).unwrap_or_default(),
                        revoked_at: parse_ts(r.get(5)?),
                        last_sync: parse_ts(r.get(6)?),
                    })
                })?
                .collect::<Result<_, _>>()?;
            let codes = tx
                .prepare(
                    "SELECT code_hash, role, created_by, expires_at, used_by
                     FROM enrolment_codes WHERE antenna = ?1",
                )?
                .query_map(params![id], |r| {
                    Ok(CodeRecord {
                        code_hash: r.get(0)?,
                        role: r.get::<_, String>(1)?.parse().unwrap_or(Role::Volunteer),
                        created_by: r.get::<_, String>(2)?.parse().unwrap_or_default(),
                        expires_at: parse_ts(Some(r.get(3)?)).unwrap_or_default(),
                        used_by: r.get::<_, Option<String>>(4)?.and_then(|u| u.parse().ok()),
                    })
                })?
                .collect::<Result<_, _>>()?;
            out.push(AntennaRecord {
                id: id.parse().unwrap_or_default(),
                name,
                created_at: parse_ts(Some(created_at)).unwrap_or_default(),
                authority_key: authority_key.unwrap_or_default(),
                devices,
                codes,
            });
        }
        Ok(out)
    }

    async fn import(&self, antennas: &[AntennaRecord]) -> Result<(), RegistryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for a in antennas {
            let exists: i64 = tx.query_row(
                "SELECT count(*) FROM antennas WHERE id = ?1",
                params![a.id.to_string()],
                |r| r.get(0),
            )?;
            if exists > 0 {
                return Err(RegistryError::AntennaExists(a.id));
            }
            tx.execute(
                "INSERT INTO antennas (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![a.id.to_string(), a.name, ts(a.created_at)],
            )?;
            if !a.authority_key.is_empty() {
                tx.execute(
                    "INSERT INTO authorities (antenna, key) VALUES (?1, ?2)",
                    params![a.id.to_string(), a.authority_key],
                )?;
            }
            for d in &a.devices {
                tx.execute(
                    "INSERT INTO devices (id, antenna, name, role, credential_hash, enrolled_at, revoked_at, last_sync)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        d.id.to_string(),
                        a.id.to_string(),
                        d.name,
                        d.role.as_str(),
                        d.credential_hash,
                        ts(d.enrolled_at),
                        d.revoked_at.map(ts),
                        d.last_sync.map(ts)
                    ],
                )
                .map_err(|e| match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::ConstraintViolation) => RegistryError::DeviceExists(d.id),
                    _ => e.into(),
                })?;
            }
            for c in &a.codes {
                tx.execute(
                    "INSERT INTO enrolment_codes (code_hash, antenna, role, created_by, expires_at, used_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        c.code_hash,
                        a.id.to_string(),
                        c.role.as_str(),
                        c.created_by.to_string(),
                        ts(c.expires_at),
                        c.used_by.map(|u| u.to_string())
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (SqliteRegistry, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let registry = SqliteRegistry::open(
            &dir.path().join("registry.maraude"),
            &Passphrase::new("entrepôt des dunes".into()),
        )
        .unwrap();
        (registry, dir)
    }

    crate::registry::conformance::registry_conformance!(fresh());
}
