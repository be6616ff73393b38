//! The other side of a sync over HTTP: the base server (the device's
//! credential in a header) or a teammate's tablet (mutual TLS with the
//! antenna's certificates); the REST calls, what their failures mean, and
//! the dialling of the sync WebSocket. Enrolment calls the server through
//! the same functions.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use maraude_core::access::Role;
use maraude_core::authority::Delivery;
use maraude_store::{DeviceCertificate, ServerLink};
use samod::{DialError, Dialer, PeerId, Transport};
use secrecy::ExposeSecret;

use super::Patience;
use crate::door::{Door, Offences, Uploads};
use crate::error::SyncError;
use crate::identity::{self, Teammate};
use crate::socket::Notices;
use crate::storage::StoreHandle;
use crate::tls::{self, TeamTls};
use maraude_protocol::api::{self, Pending};

fn bad_url(e: impl std::fmt::Display) -> SyncError {
    SyncError::BadUrl(e.to_string())
}

/// The server's base URL, with a trailing `/` so that `join` appends.
pub(crate) fn base_url(url: &str) -> Result<reqwest::Url, SyncError> {
    let with_slash = if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    };
    let parsed = reqwest::Url::parse(&with_slash).map_err(bad_url)?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(SyncError::BadUrl(format!(
            "{url}: the address must start with https:// (or http:// on a network you trust), not {other}"
        ))),
    }
}

/// The HTTP client for a base server at `base`: HTTPS checked against the
/// system's trusted certificates. The TLS configuration is also returned
/// for the WebSocket (`None` over plain HTTP).
pub(crate) fn http_client(
    base: &reqwest::Url,
    connect: Duration,
) -> Result<(reqwest::Client, Option<Arc<rustls::ClientConfig>>), SyncError> {
    let tls = Arc::new(tls::server_client_config()?);
    // reqwest is built without a default crypto backend: it always gets
    // this configuration (ring), even for http:// where it is not used.
    let http = reqwest::Client::builder()
        .connect_timeout(connect)
        .tls_backend_preconfigured((*tls).clone())
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))?;
    Ok((http, (base.scheme() == "https").then_some(tls)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Server,
    Teammate,
}

/// The other side of a sync: the base server (credential in a header), or
/// a teammate's tablet (mutual TLS with the antenna's certificates).
pub(super) struct Remote {
    pub(super) kind: Kind,
    pub(super) http: reqwest::Client,
    base: reqwest::Url,
    /// What to call it in messages: the server's URL, the tablet's address.
    pub(super) label: String,
    credential: Option<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Where to connect, for a teammate reached by address while its
    /// certificate is checked against [`identity::PEER_NAME`].
    address: Option<std::net::SocketAddr>,
    /// This tablet's certificate, when syncing with a teammate.
    pub(super) certificate: Option<DeviceCertificate>,
    /// This tablet's side of the TLS with a teammate: what checks the
    /// serving tablet's proof.
    team: Option<Arc<TeamTls>>,
}

impl Remote {
    pub(super) fn server(link: &ServerLink, patience: Patience) -> Result<Self, SyncError> {
        let base = base_url(&link.url)?;
        let (http, tls) = http_client(&base, patience.connect)?;
        Ok(Self {
            kind: Kind::Server,
            http,
            base,
            label: link.url.clone(),
            credential: Some(link.credential.expose_secret().to_string()),
            tls,
            address: None,
            certificate: None,
            team: None,
        })
    }

    pub(super) fn teammate(
        address: std::net::SocketAddr,
        team: &Arc<TeamTls>,
        patience: Patience,
    ) -> Result<Self, SyncError> {
        let tls = team.client_config()?;
        let http = reqwest::Client::builder()
            .connect_timeout(patience.connect)
            .tls_backend_preconfigured((*tls).clone())
            .tls_info(true)
            .resolve(identity::PEER_NAME, address)
            .build()
            .map_err(|e| SyncError::Network(e.to_string()))?;
        let base = reqwest::Url::parse(&format!(
            "https://{}:{}/",
            identity::PEER_NAME,
            address.port()
        ))
        .map_err(bad_url)?;
        Ok(Self {
            kind: Kind::Teammate,
            http,
            base,
            label: address.to_string(),
            credential: None,
            tls: Some(tls),
            address: Some(address),
            certificate: None,
            team: Some(team.clone()),
        })
    }

    pub(super) fn url(&self, path: &str) -> Result<reqwest::Url, SyncError> {
        self.base.join(path).map_err(bad_url)
    }

    pub(super) fn unreachable(&self) -> SyncError {
        match self.kind {
            Kind::Server => SyncError::Unreachable(self.label.clone()),
            Kind::Teammate => SyncError::TeammateUnreachable(self.label.clone()),
        }
    }

    /// What changed on the other side, and, for a teammate, who it is.
    pub(super) async fn pending(
        &self,
        query: &api::PendingQuery,
    ) -> Result<(Pending, Option<Teammate>), SyncError> {
        let mut url = self.url("v1/sync/pending")?;
        if let Some(n) = query.revoked {
            url.query_pairs_mut().append_pair("revoked", &n.to_string());
        }
        if let Some(digest) = &query.revoked_digest {
            url.query_pairs_mut().append_pair("revoked_digest", digest);
        }
        if let Some(at) = query.acknowledged {
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            url.query_pairs_mut().append_pair("acknowledged", &at);
        }
        let response = self.send(self.http.get(url)).await?;
        let served = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .map(<[u8]>::to_vec);
        let pending: Pending = read_answer(response).await?;
        let teammate = match (&self.team, served, &pending.serving) {
            (Some(team), Some(served), Some(proof)) => Some(
                team.check_proof(&served, proof)
                    .map_err(|e| SyncError::NotATeammate {
                        at: self.label.clone(),
                        why: e.to_string(),
                    })?,
            ),
            _ => None,
        };
        Ok((pending, teammate))
    }

    pub(super) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SyncError> {
        let request = match &self.credential {
            Some(credential) => request.bearer_auth(credential),
            None => request,
        };
        request.send().await.map_err(|e| self.network_error(e))
    }

    pub(super) async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        read_answer(self.send(request).await?).await
    }

    fn network_error(&self, e: reqwest::Error) -> SyncError {
        if self.kind == Kind::Teammate
            && let Some(why) = tls_refusal(&e)
        {
            return SyncError::NotATeammate {
                at: self.label.clone(),
                why,
            };
        }
        match network_error(&self.label, e) {
            SyncError::Unreachable(_) => self.unreachable(),
            other => other,
        }
    }

    pub(super) fn dialer(
        &self,
        other: PeerId,
        door: Option<(StoreHandle, Role)>,
        notices: Notices,
    ) -> Result<WsDialer, SyncError> {
        let mut url = self.url("v1/sync")?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|_| SyncError::BadUrl(url.to_string()))?;
        Ok(WsDialer {
            url: samod::Url::parse(url.as_str()).map_err(bad_url)?,
            credential: self.credential.clone(),
            tls: self.tls.clone(),
            address: self.address,
            other,
            door,
            notices,
        })
    }
}

/// The TLS alert or certificate error under a failed request, if that is
/// why it failed.
fn tls_refusal(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    // hyper wraps it in I/O errors, inside one another.
    fn within<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = err.downcast_ref::<std::io::Error>()?.get_ref()?;
        within(inner)
    }
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(tls) = within(err) {
            return Some(tls.to_string());
        }
        source = err.source();
    }
    None
}

/// A REST call with the device's credential; the server's own error
/// message when it refuses.
pub(crate) async fn call<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    link: &ServerLink,
) -> Result<T, SyncError> {
    let response = request
        .bearer_auth(link.credential.expose_secret())
        .send()
        .await
        .map_err(|e| network_error(&link.url, e))?;
    read_answer(response).await
}

/// A request that did not get an answer: "cannot reach" (with what to
/// check) when the server could not be reached at all, "cut" when the
/// connection broke during the request or its answer.
pub(crate) fn network_error(server: &str, e: reqwest::Error) -> SyncError {
    if let Some(why) = tls_refusal(&e) {
        return SyncError::Tls(format!(
            "the server at {server} could not be verified ({why}); check its address, or ask its administrator about its certificate"
        ));
    }
    if e.is_connect() || e.is_timeout() {
        SyncError::Unreachable(server.to_string())
    } else if e.is_request() || e.is_body() {
        SyncError::Cut(server.to_string())
    } else {
        SyncError::Network(e.to_string())
    }
}

pub(crate) async fn read_answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, SyncError> {
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| SyncError::Network(format!("unexpected answer from the server: {e}")));
    }
    let body = response.text().await.unwrap_or_default();
    let refused = match serde_json::from_str::<api::ApiError>(&body) {
        Ok(e) => SyncError::Refused {
            status: status.as_u16(),
            code: e.code,
            message: e.message,
        },
        Err(_) => SyncError::Refused {
            status: status.as_u16(),
            code: "http".into(),
            message: format!("the server answered {status}"),
        },
    };
    Err(refused)
}

/// Dials the other side's sync endpoint (with the device's credential for
/// the server, its certificate for a teammate), and expects the other
/// side's peer id in the handshake.
pub(super) struct WsDialer {
    url: samod::Url,
    credential: Option<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
    address: Option<std::net::SocketAddr>,
    other: PeerId,
    /// A teammate's writes are checked for its certified role.
    door: Option<(StoreHandle, Role)>,
    notices: Notices,
}

impl Dialer for WsDialer {
    type Error = SyncError;

    fn url(&self) -> samod::Url {
        self.url.clone()
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<SyncError>>> {
        let url = self.url.clone();
        let credential = self.credential.clone();
        let tls = self.tls.clone();
        let address = self.address;
        let other = self.other.clone();
        let door = self.door.clone().map(|(store, role)| {
            // Only a teammate's connection has a door this side.
            Door::new(
                store,
                (role, Delivery::Teammate),
                other.to_string(),
                Uploads::default(),
                Offences::default(),
            )
        });
        let notices = self.notices.clone();
        async move {
            let mut request = yawc::HttpRequestBuilder::new();
            if let Some(credential) = credential {
                request = request.header(api::AUTHORIZATION, format!("Bearer {credential}"));
            }
            let mut connect = yawc::WebSocket::connect(url)
                .with_options(crate::socket::options())
                .with_request(request);
            if let Some(tls) = tls {
                connect = connect.with_connector(tokio_rustls::TlsConnector::from(tls));
            }
            if let Some(address) = address {
                connect = connect.with_tcp_address(address);
            }
            let socket = match connect.await {
                Ok(socket) => socket,
                Err(yawc::WebSocketError::InvalidStatusCode(status))
                    if (400..500).contains(&status) =>
                {
                    return Err(DialError::PermanentFailure(SyncError::Refused {
                        status,
                        code: "refused".into(),
                        message: refusal(status).into(),
                    }));
                }
                Err(e) => return Err(DialError::transient(e)),
            };
            let (stream, sink) = crate::socket::messages(socket, door, notices);
            Ok(Transport::new(stream, sink).with_expected_peer_id(other))
        }
        .boxed()
    }
}

/// What to tell the user when the server refuses the WebSocket upgrade
/// (the REST call just before usually says it first, with the server's
/// own words).
fn refusal(status: u16) -> &'static str {
    match status {
        401 => {
            "this device's credential was refused (revoked, or enrolled elsewhere); ask your coordinator"
        }
        403 => "this device may not sync with this antenna; ask your coordinator",
        429 => {
            "the other side closed this device's last connection for what it sent, and asks it to wait; sync again in a minute, and if it happens again, update Maraude or ask your coordinator"
        }
        _ => "the server refused the sync connection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_address_is_refused_with_what_to_type_instead() {
        assert_eq!(
            base_url("http://192.168.1.10:8470")
                .map(|u| u.to_string())
                .ok(),
            Some("http://192.168.1.10:8470/".to_string())
        );
        assert_eq!(
            base_url("https://sync.example.org")
                .map(|u| u.to_string())
                .ok(),
            Some("https://sync.example.org/".to_string())
        );
        let ftp = base_url("ftp://h").unwrap_err().to_string();
        assert!(ftp.contains("must start with https://"), "{ftp}");
    }
}
