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
use maraude_protocol::code::TypedCode;

/// A base server's address as a person typed it, made one a device may
/// enrol with: `https://` when no scheme is given. Plain `http://` only to
/// this very machine (loopback), or when the person said the network is
/// trusted: over plain HTTP the enrolment code, the device's credential,
/// the antenna authority's certificate and every document cross the
/// network in clear, and anyone on it can pose as the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress(String);

/// Whether plain HTTP to another machine was asked for, knowingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttp {
    Refused,
    /// "This network is trusted" (the warehouse's own Wi-Fi).
    Allowed,
}

impl PlainHttp {
    /// As a front end asks it: "is this network trusted?"
    pub fn if_trusted(trusted: bool) -> Self {
        if trusted {
            PlainHttp::Allowed
        } else {
            PlainHttp::Refused
        }
    }
}

impl ServerAddress {
    pub fn parse(typed: &str, plain_http: PlainHttp) -> Result<Self, SyncError> {
        let typed = typed.trim();
        let address = if typed.contains("://") {
            typed.to_string()
        } else {
            format!("https://{typed}")
        };
        let url = base_url(&address)?;
        let loopback = url.host_str().is_some_and(|host| {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if url.scheme() == "http" && !loopback && plain_http == PlainHttp::Refused {
            return Err(SyncError::PlainHttp(address));
        }
        Ok(Self(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

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
    server: &ServerAddress,
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
    let enrolled: Enrolled = post(
        server.as_str(),
        "v1/antennas",
        Some(registration_token),
        &request,
    )
    .await?;
    Ok((link(server.as_str(), &enrolled, key)?, enrolled))
}

/// A new device joins an antenna with a single-use enrolment code. When
/// the code carries the mark of the antenna's authority (as a lead's
/// tablet shows it), the server must answer for that authority, or the
/// enrolment is refused and nothing is kept: a server posing as the
/// antenna's gets a spent code, not this tablet.
pub async fn join(
    server: &ServerAddress,
    code: &str,
    device: Uuid,
    device_name: &str,
) -> Result<(ServerLink, Enrolled), SyncError> {
    let typed = TypedCode::read(code);
    let (key, public_key) = new_key()?;
    let request = Enrol {
        code: typed.code.clone(),
        device,
        device_name: device_name.to_string(),
        public_key: Some(public_key),
    };
    let enrolled: Enrolled = post(server.as_str(), "v1/enrol", None, &request).await?;
    let authority = enrolled
        .certificate
        .as_ref()
        .and_then(|c| api::from_b64(&c.authority));
    if typed.authority.is_some() && !authority.is_some_and(|der| typed.names(&der)) {
        return Err(SyncError::WrongAuthority(server.to_string()));
    }
    Ok((link(server.as_str(), &enrolled, key)?, enrolled))
}

/// A lead or coordinator asks for a code enrolling one device as `role`.
///
/// The code comes back with the mark of the antenna's authority this
/// tablet holds (see [`maraude_protocol::code`]), for the new tablet to
/// check; without a certificate yet, as the server gave it.
pub async fn enrolment_code(link: &ServerLink, role: Role) -> Result<EnrolmentCode, SyncError> {
    let (http, base) = client(&link.url)?;
    let url = base
        .join("v1/enrolment-codes")
        .map_err(|e| SyncError::BadUrl(e.to_string()))?;
    let mut code: EnrolmentCode = call(http.post(url).json(&CodeRequest { role }), link).await?;
    if let Some(certificate) = &link.certificate {
        code.code = maraude_protocol::code::with_authority(&code.code, &certificate.authority);
    }
    Ok(code)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(typed: &str, plain_http: PlainHttp) -> Result<String, String> {
        ServerAddress::parse(typed, plain_http)
            .map(|a| a.to_string())
            .map_err(|e| e.code().to_string())
    }

    #[test]
    fn an_address_without_a_scheme_is_https_and_plain_http_goes_only_to_this_machine_unless_trusted()
     {
        use PlainHttp::{Allowed, Refused};
        assert_eq!(
            parsed(" 192.168.1.10:8470 ", Refused),
            Ok("https://192.168.1.10:8470".into())
        );
        assert_eq!(
            parsed("sync.example.org", Refused),
            Ok("https://sync.example.org".into())
        );
        // A stranger on the hotspot could pose as this one.
        assert_eq!(
            parsed("http://192.168.1.10:8470", Refused),
            Err("plain_http".into())
        );
        assert_eq!(
            parsed("HTTP://sync.example.org", Refused),
            Err("plain_http".into())
        );
        assert_eq!(
            parsed("http://192.168.1.10:8470", Allowed),
            Ok("http://192.168.1.10:8470".into())
        );
        for this_machine in [
            "http://127.0.0.1:8470",
            "http://localhost:8470",
            "http://[::1]:8470",
        ] {
            assert_eq!(parsed(this_machine, Refused), Ok(this_machine.into()));
        }
        assert_eq!(parsed("ftp://h", Allowed), Err("bad_server_address".into()));
    }
}
