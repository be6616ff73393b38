//! Teammates' tablets without the server: serving them, finding them on
//! the network, and reaching one by the address a volunteer typed.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use maraude_sync::discovery::{self, Announcement, Candidate};
use maraude_sync::peer::MAX_TEAMMATES;
use maraude_sync::{StoreHandle, SyncError};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::DeviceError;

/// How long a search for teammates' tablets listens to the network.
pub const BROWSING: Duration = Duration::from_secs(3);

/// This tablet, listening for its teammates and announced on the network
/// if the network allows it; [`Serving::run`] serves them.
#[derive(Debug)]
pub struct Serving {
    store: StoreHandle,
    listener: TcpListener,
    /// The address teammates type, as this tablet shows it.
    pub shown: SocketAddr,
    /// Withdrawn from the network when dropped, however serving ends.
    announcement: Option<Announcement>,
    /// Why it is not announced, when it was asked to be (no multicast on
    /// this network): teammates then type [`Serving::shown`].
    pub not_announced: Option<String>,
}

impl Serving {
    /// Listens at `at`, or by default on [`PEER_PORT`] of every interface
    /// (another port if that one is taken), and announces the tablet
    /// unless `announce` is false. A tablet without a certificate (never
    /// synced with its server) is told so now rather than by a server
    /// that ends at once.
    pub async fn open(
        store: &StoreHandle,
        at: Option<SocketAddr>,
        announce: bool,
    ) -> Result<Self, DeviceError> {
        let certificate = store
            .with(|s| s.server_link())
            .await
            .map_err(SyncError::from)??
            .and_then(|l| l.certificate)
            .ok_or(SyncError::NoCertificate)?;
        let listener = listen(at).await?;
        let local = listener.local_addr().map_err(|e| DeviceError::Listen {
            at: at.map(|a| a.to_string()).unwrap_or_default(),
            error: e.to_string(),
        })?;
        let (announcement, not_announced) = match (announce, &certificate.team_secret) {
            (false, _) => (None, None),
            (true, None) => (None, Some(SyncError::NoCertificate.to_string())),
            (true, Some(secret)) => match Announcement::start(secret.expose_secret(), local) {
                Ok(a) => (Some(a), None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        Ok(Self {
            store: store.clone(),
            listener,
            shown: maraude_sync::peer::shown_address(local),
            announcement,
            not_announced,
        })
    }

    /// Whether teammates can find this tablet on the network.
    pub fn announced(&self) -> bool {
        self.announcement.is_some()
    }

    /// The random name it is announced under this session (to leave it
    /// out of what [`find`] hears).
    pub fn announced_name(&self) -> Option<String> {
        self.announcement.as_ref().map(|a| a.name().to_string())
    }

    /// Serves the teammates until `stop` resolves, or the store stops
    /// (a write failed); the announcement is withdrawn at the end.
    pub async fn run(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), DeviceError> {
        let served = maraude_sync::peer::serve_teammates(self.store, self.listener, stop).await;
        drop(self.announcement);
        Ok(served?)
    }
}

async fn listen(at: Option<SocketAddr>) -> Result<TcpListener, DeviceError> {
    let failed = |at: SocketAddr, e: std::io::Error| DeviceError::Listen {
        at: at.to_string(),
        error: e.to_string(),
    };
    if let Some(at) = at {
        return TcpListener::bind(at).await.map_err(|e| failed(at, e));
    }
    let usual = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PEER_PORT);
    match TcpListener::bind(usual).await {
        Ok(listener) => Ok(listener),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
            TcpListener::bind(any).await.map_err(|e| failed(any, e))
        }
        Err(e) => Err(failed(usual, e)),
    }
}

/// Tablets of this antenna serving on the network, heard within
/// [`BROWSING`]; `own`, this tablet's announced name, left out.
pub async fn find(store: &StoreHandle, own: Option<&str>) -> Result<Vec<Candidate>, DeviceError> {
    let secret = store
        .with(|s| s.server_link())
        .await
        .map_err(SyncError::from)??
        .and_then(|l| l.certificate)
        .and_then(|c| c.team_secret)
        .ok_or(SyncError::NoCertificate)?;
    let found = discovery::browse(secret.expose_secret(), BROWSING, MAX_TEAMMATES).await?;
    Ok(found
        .into_iter()
        .filter(|c| Some(c.name.as_str()) != own)
        .collect())
}

/// The port a tablet serves its teammates on, unless taken (then another,
/// which it shows).
pub const PEER_PORT: u16 = 8471;

/// The addresses of the tablet a volunteer typed, as the other tablet
/// shows it (`192.168.1.12:8471`), without its port (then [`PEER_PORT`]),
/// or by a host name the network resolves (`tablet-van-2.local:8471`).
/// Digits and dots are an IP address or nothing: the system's resolver
/// would read `192.168.1` as `192.168.0.1`, another tablet.
pub async fn teammate_addresses(typed: &str) -> Result<Vec<SocketAddr>, DeviceError> {
    let typed = typed.trim();
    let bad = || DeviceError::BadTeammateAddress(typed.to_string());
    if let Ok(address) = typed.parse::<SocketAddr>() {
        return Ok(vec![address]);
    }
    if let Ok(ip) = typed.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, PEER_PORT)]);
    }
    let (host, port) = match typed.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
        None => (typed, PEER_PORT),
    };
    let numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    let name = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if host.is_empty() || numeric || !name {
        return Err(bad());
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| DeviceError::UnknownTeammate(host.to_string()))?
        .collect();
    if found.is_empty() {
        return Err(DeviceError::UnknownTeammate(host.to_string()));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Result<Vec<SocketAddr>, &'static str> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(teammate_addresses(text))
            .map_err(|e| e.code())
    }

    #[test]
    fn an_address_is_typed_with_or_without_its_port_or_by_name() {
        let one = |a: &str| Ok(vec![a.parse::<SocketAddr>().expect("address")]);
        assert_eq!(typed(" 192.168.1.12:9000 "), one("192.168.1.12:9000"));
        assert_eq!(typed("10.0.0.7"), one("10.0.0.7:8471"));
        assert_eq!(typed("[::1]:9000"), one("[::1]:9000"));
        let local = typed("localhost:9000").expect("localhost resolves");
        assert!(
            local
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 9000)
        );
        for wrong in [
            "",
            "192.168.1",
            "192.168.1:8471",
            "tablet of Jo",
            "10.0.0.7:port",
            ":8471",
        ] {
            assert_eq!(typed(wrong), Err("bad_teammate_address"), "{wrong}");
        }
        assert_eq!(typed("no-such-tablet.invalid"), Err("bad_teammate_address"));
    }
}
