//! This device's enrolment with its antenna's base server. The credential
//! lives only here, inside the encrypted file, never in a config file.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use secrecy::{ExposeSecret, SecretString};

use crate::error::StoreError;
use crate::index;

/// Where this device syncs, as whom. `Debug` hides the credential.
#[derive(Debug, Clone)]
pub struct ServerLink {
    /// The server's base URL, e.g. `http://192.168.1.10:8470/`.
    pub url: String,
    /// The role the server gave this device (`volunteer`, `lead`,
    /// `coordinator`).
    pub role: String,
    /// The device's secret: sent in the WebSocket upgrade and REST calls.
    pub credential: SecretString,
}

pub(crate) fn get(conn: &Connection) -> Result<Option<ServerLink>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT url, role, credential FROM server_link WHERE id = 1")?
        .query_row([], |r| {
            Ok(ServerLink {
                url: r.get(0)?,
                role: r.get(1)?,
                credential: SecretString::from(r.get::<_, String>(2)?),
            })
        })
        .optional()?)
}

pub(crate) fn put(conn: &Connection, link: &ServerLink) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO server_link (id, url, role, credential, linked_at)
         VALUES (1, ?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        link.url,
        link.role,
        link.credential.expose_secret(),
        index::ts(Utc::now())
    ])?;
    Ok(())
}
