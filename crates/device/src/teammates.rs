//! Reaching a teammate's tablet by the address a volunteer typed.

use std::net::{IpAddr, SocketAddr};

use crate::DeviceError;

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
