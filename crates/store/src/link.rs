//! This device's enrolment with its antenna's base server. The credential
//! and the certificate's key live only here, inside the encrypted file,
//! never in a config file.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::error::StoreError;
use crate::index;

/// Where this device syncs, as whom. `Debug` hides the credential and the
/// key.
#[derive(Debug, Clone)]
pub struct ServerLink {
    /// The server's base URL, e.g. `http://192.168.1.10:8470/`.
    pub url: String,
    /// The role the server gave this device (`volunteer`, `lead`,
    /// `coordinator`).
    pub role: String,
    /// The device's secret: sent in the WebSocket upgrade and REST calls.
    pub credential: SecretString,
    /// What lets teammates' tablets recognise this one without the server;
    /// `None` for a device enrolled before teammates could sync, until its
    /// next sync with the server fetches one.
    pub certificate: Option<DeviceCertificate>,
}

/// This device's certificate, signed by its antenna's authority at
/// enrolment (all DER).
#[derive(Debug, Clone)]
pub struct DeviceCertificate {
    /// The device's private key (PKCS#8); it never leaves the device.
    pub key: SecretSlice<u8>,
    pub certificate: Vec<u8>,
    /// The antenna's authority: a teammate's certificate is trusted when it
    /// signed it.
    pub authority: Vec<u8>,
    /// The antenna's team secret (see `maraude_sync::discovery`); `None`
    /// from an older server, until the next certificate.
    pub team_secret: Option<SecretSlice<u8>>,
    /// The secret it replaced, for [`PREVIOUS_SECRET_DAYS`] after: a
    /// revocation changes the secret, and teammates that have not synced
    /// with the server since hold the one before.
    pub previous_team_secret: Option<SecretSlice<u8>>,
}

/// How long a replaced team secret is still recognised.
pub const PREVIOUS_SECRET_DAYS: i64 = 14;

pub(crate) fn get(conn: &Connection) -> Result<Option<ServerLink>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT url, role, credential, peer_key, peer_certificate, peer_authority, team_secret,
                    previous_team_secret, team_secret_since
             FROM server_link WHERE id = 1",
        )?
        .query_row([], |r| {
            let certificate = match (
                r.get::<_, Option<Vec<u8>>>(3)?,
                r.get::<_, Option<Vec<u8>>>(4)?,
                r.get::<_, Option<Vec<u8>>>(5)?,
            ) {
                (Some(key), Some(certificate), Some(authority)) => Some(DeviceCertificate {
                    key: SecretSlice::from(key),
                    certificate,
                    authority,
                    team_secret: r.get::<_, Option<Vec<u8>>>(6)?.map(SecretSlice::from),
                    previous_team_secret: r
                        .get::<_, Option<Vec<u8>>>(7)?
                        .filter(|_| {
                            let since = r.get::<_, Option<String>>(8).ok().flatten();
                            previous_secret_holds(since.as_deref(), Utc::now())
                        })
                        .map(SecretSlice::from),
                }),
                _ => None,
            };
            Ok(ServerLink {
                url: r.get(0)?,
                role: r.get(1)?,
                credential: SecretString::from(r.get::<_, String>(2)?),
                certificate,
            })
        })
        .optional()?)
}

pub(crate) fn put(conn: &Connection, link: &ServerLink) -> Result<(), StoreError> {
    let cert = link.certificate.as_ref();
    // A renewal may bring a new secret: the one it replaces is kept.
    if let Some(secret) = cert.and_then(|c| c.team_secret.as_ref()) {
        set_team_secret(conn, secret.expose_secret())?;
    }
    conn.prepare_cached(
        "INSERT INTO server_link
           (id, url, role, credential, linked_at, peer_key, peer_certificate, peer_authority,
            team_secret)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET url = ?1, role = ?2, credential = ?3, linked_at = ?4,
           peer_key = ?5, peer_certificate = ?6, peer_authority = ?7, team_secret = ?8",
    )?
    .execute(params![
        link.url,
        link.role,
        link.credential.expose_secret(),
        index::ts(Utc::now()),
        cert.map(|c| c.key.expose_secret()),
        cert.map(|c| &c.certificate),
        cert.map(|c| &c.authority),
        cert.and_then(|c| c.team_secret.as_ref())
            .map(|s| s.expose_secret()),
    ])?;
    Ok(())
}

/// The antenna's latest revocation list (DER) this device has heard of.
pub(crate) fn revocations(conn: &Connection) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT revocations FROM server_link WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten())
}

pub(crate) fn set_revocations(conn: &Connection, der: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE server_link SET revocations = ?1 WHERE id = 1")?
        .execute(params![der])?;
    Ok(())
}

/// Keep `secret` as the team secret; the one it replaces, if another, is
/// kept as the previous one from now.
pub(crate) fn set_team_secret(conn: &Connection, secret: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE server_link SET
           previous_team_secret = CASE WHEN team_secret IS NOT NULL AND team_secret != ?1
                                       THEN team_secret ELSE previous_team_secret END,
           team_secret_since = CASE WHEN team_secret IS NULL OR team_secret != ?1
                                    THEN ?2 ELSE team_secret_since END,
           team_secret = ?1
         WHERE id = 1",
    )?
    .execute(params![secret, index::ts(Utc::now())])?;
    Ok(())
}

/// Whether the secret replaced at `since` (RFC 3339) is still recognised
/// at `now`: for [`PREVIOUS_SECRET_DAYS`].
fn previous_secret_holds(since: Option<&str>, now: DateTime<Utc>) -> bool {
    since
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| now - t.with_timezone(&Utc) < chrono::Duration::days(PREVIOUS_SECRET_DAYS))
}

/// Erase the replaced team secret once its [`PREVIOUS_SECRET_DAYS`] are
/// over: no longer used, it should not stay in the file either.
pub(crate) fn forget_expired_secret(
    conn: &Connection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let since: Option<String> = conn
        .prepare_cached(
            "SELECT team_secret_since FROM server_link
             WHERE id = 1 AND previous_team_secret IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    if !previous_secret_holds(since.as_deref(), now) {
        conn.prepare_cached(
            "UPDATE server_link SET previous_team_secret = NULL
             WHERE id = 1 AND previous_team_secret IS NOT NULL",
        )?
        .execute([])?;
    }
    Ok(())
}

/// The last sync with the server that went through, as the device
/// recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSync {
    pub at: DateTime<Utc>,
    /// What the sync did, as the sync layer wrote it (JSON text): the store
    /// keeps it without reading it.
    pub summary: String,
}

/// Records the last sync with the server on the enrolment; a device not
/// enrolled has no sync to record, and nothing is written.
pub(crate) fn record_sync(
    conn: &Connection,
    at: DateTime<Utc>,
    summary: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE server_link SET last_sync_at = ?1, last_sync_summary = ?2 WHERE id = 1",
    )?
    .execute(params![index::ts(at), summary])?;
    Ok(())
}

/// When the server said it recorded this device's last acknowledgement.
pub(crate) fn acknowledged_at(conn: &Connection) -> Result<Option<DateTime<Utc>>, StoreError> {
    let at: Option<String> = conn
        .prepare_cached("SELECT acknowledged_at FROM server_link WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(at
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map(|at| at.with_timezone(&Utc)))
}

pub(crate) fn set_acknowledged_at(conn: &Connection, at: DateTime<Utc>) -> Result<(), StoreError> {
    // Every digit kept: the server compares it with its own.
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    conn.prepare_cached("UPDATE server_link SET acknowledged_at = ?1 WHERE id = 1")?
        .execute(params![at])?;
    Ok(())
}

pub(crate) fn last_sync(conn: &Connection) -> Result<Option<RecordedSync>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT last_sync_at, last_sync_summary FROM server_link WHERE id = 1")?
        .query_row([], |r| {
            let (Some(at), Some(summary)) = (r.get::<_, Option<String>>(0)?, r.get(1)?) else {
                return Ok(None);
            };
            let at = DateTime::parse_from_rfc3339(&at).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
            })?;
            Ok(Some(RecordedSync {
                at: at.with_timezone(&Utc),
                summary,
            }))
        })
        .optional()?
        .flatten())
}
