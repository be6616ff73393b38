//! Enrolment and device management against the base server (REST).

use maraude_core::access::Role;
use maraude_store::ServerLink;
use secrecy::SecretString;
use uuid::Uuid;

use crate::api::{CodeRequest, DeviceInfo, Enrol, Enrolled, EnrolmentCode, RegisterAntenna};
use crate::client::{base_url, call, network_error, read_answer};
use crate::error::SyncError;

fn client() -> Result<reqwest::Client, SyncError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))
}

fn link(server: &str, enrolled: &Enrolled) -> ServerLink {
    ServerLink {
        url: server.to_string(),
        role: enrolled.role.to_string(),
        credential: SecretString::from(enrolled.credential.clone()),
        certificate: None,
    }
}

async fn post<T: serde::de::DeserializeOwned>(
    server: &str,
    path: &str,
    bearer: Option<&str>,
    body: &impl serde::Serialize,
) -> Result<T, SyncError> {
    let url = base_url(server)?
        .join(path)
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    let mut request = client()?.post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| network_error(server, e))?;
    read_answer(response).await
}

/// A coordinator registers the antenna of their device on the server with
/// the server's registration token; the device becomes its coordinator.
pub async fn register_antenna(
    server: &str,
    registration_token: &str,
    request: &RegisterAntenna,
) -> Result<(ServerLink, Enrolled), SyncError> {
    let enrolled: Enrolled = post(server, "v1/antennas", Some(registration_token), request).await?;
    Ok((link(server, &enrolled), enrolled))
}

/// A new device joins an antenna with a single-use enrolment code.
pub async fn join(
    server: &str,
    code: &str,
    device: Uuid,
    device_name: &str,
) -> Result<(ServerLink, Enrolled), SyncError> {
    let request = Enrol {
        code: code.trim().to_string(),
        device,
        device_name: device_name.to_string(),
    };
    let enrolled: Enrolled = post(server, "v1/enrol", None, &request).await?;
    Ok((link(server, &enrolled), enrolled))
}

/// A lead or coordinator asks for a code enrolling one device as `role`.
pub async fn enrolment_code(link: &ServerLink, role: Role) -> Result<EnrolmentCode, SyncError> {
    let url = base_url(&link.url)?
        .join("v1/enrolment-codes")
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    call(client()?.post(url).json(&CodeRequest { role }), link).await
}

/// The antenna's devices.
pub async fn devices(link: &ServerLink) -> Result<Vec<DeviceInfo>, SyncError> {
    let url = base_url(&link.url)?
        .join("v1/devices")
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    call(client()?.get(url), link).await
}

/// Cut a device off (a lost or seized tablet): its credential stops
/// working at once, its open connections are closed.
pub async fn revoke(link: &ServerLink, device: Uuid) -> Result<DeviceInfo, SyncError> {
    let url = base_url(&link.url)?
        .join(&format!("v1/devices/{device}/revoke"))
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    call(client()?.post(url), link).await
}
