//! Enrolment and device management against the base server (REST).
//!
//! Enrolling makes the device's key here and sends only its public half:
//! the server returns the certificate with which teammates' tablets will
//! recognise this one (see [`crate::identity`]).

use std::time::Duration;

use maraude_core::access::Role;
use maraude_store::ServerLink;
use secrecy::{SecretSlice, SecretString};
use uuid::Uuid;

use crate::client::device_certificate;
use crate::client::remote::{base_url, call, http_client, network_error, read_answer};
use crate::error::SyncError;
use crate::identity;
use maraude_protocol::api::{
    self, CodeRequest, DeviceInfo, Enrol, Enrolled, EnrolmentCode, RegisterAntenna,
};

fn client(server: &str) -> Result<(reqwest::Client, reqwest::Url), SyncError> {
    let base = base_url(server)?;
    let (http, _) = http_client(&base, Duration::from_secs(20))?;
    Ok((http, base))
}

fn link(server: &str, enrolled: &Enrolled, key: SecretSlice<u8>) -> Result<ServerLink, SyncError> {
    Ok(ServerLink {
        url: server.to_string(),
        role: enrolled.role.to_string(),
        credential: SecretString::from(enrolled.credential.clone()),
        certificate: match &enrolled.certificate {
            Some(issued) => Some(device_certificate(key, issued)?),
            None => None,
        },
    })
}

async fn post<T: serde::de::DeserializeOwned>(
    server: &str,
    path: &str,
    bearer: Option<&str>,
    body: &impl serde::Serialize,
) -> Result<T, SyncError> {
    let (http, base) = client(server)?;
    let url = base
        .join(path)
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    let mut request = http.post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| network_error(server, e))?;
    read_answer(response).await
}

fn new_key() -> Result<(SecretSlice<u8>, String), SyncError> {
    let (key, public) = identity::new_device_key().map_err(|e| SyncError::Tls(e.to_string()))?;
    Ok((key, api::b64(&public)))
}

/// A coordinator registers the antenna of their device on the server with
/// the server's registration token; the device becomes its coordinator.
pub async fn register_antenna(
    server: &str,
    registration_token: &str,
    request: &RegisterAntenna,
) -> Result<(ServerLink, Enrolled), SyncError> {
    let (key, public_key) = new_key()?;
    let request = RegisterAntenna {
        public_key: Some(public_key),
        antenna: request.antenna,
        name: request.name.clone(),
        device: request.device,
        device_name: request.device_name.clone(),
    };
    let enrolled: Enrolled =
        post(server, "v1/antennas", Some(registration_token), &request).await?;
    Ok((link(server, &enrolled, key)?, enrolled))
}

/// A new device joins an antenna with a single-use enrolment code.
pub async fn join(
    server: &str,
    code: &str,
    device: Uuid,
    device_name: &str,
) -> Result<(ServerLink, Enrolled), SyncError> {
    let (key, public_key) = new_key()?;
    let request = Enrol {
        code: code.trim().to_string(),
        device,
        device_name: device_name.to_string(),
        public_key: Some(public_key),
    };
    let enrolled: Enrolled = post(server, "v1/enrol", None, &request).await?;
    Ok((link(server, &enrolled, key)?, enrolled))
}

/// A lead or coordinator asks for a code enrolling one device as `role`.
pub async fn enrolment_code(link: &ServerLink, role: Role) -> Result<EnrolmentCode, SyncError> {
    let (http, base) = client(&link.url)?;
    let url = base
        .join("v1/enrolment-codes")
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    call(http.post(url).json(&CodeRequest { role }), link).await
}

/// The antenna's devices.
pub async fn devices(link: &ServerLink) -> Result<Vec<DeviceInfo>, SyncError> {
    let (http, base) = client(&link.url)?;
    let url = base
        .join("v1/devices")
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    call(http.get(url), link).await
}

/// Cut a device off (a lost or seized tablet): its credential stops
/// working at once, its open connections are closed, and teammates'
/// tablets refuse it once they have synced with the server.
pub async fn revoke(link: &ServerLink, device: Uuid) -> Result<DeviceInfo, SyncError> {
    let (http, base) = client(&link.url)?;
    let url = base
        .join(&format!("v1/devices/{device}/revoke"))
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    call(http.post(url), link).await
}
