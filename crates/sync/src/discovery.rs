//! Teammates' tablets finding each other on the local network, so that a
//! volunteer does not type an address: a serving tablet announces itself
//! by mDNS/DNS-SD as [`SERVICE_TYPE`] ([`Announcement`]), the other browses
//! for a few seconds ([`browse`]).
//!
//! Whoever shares the hotspot hears these announcements, a passer-by too,
//! so they say as little as possible: no antenna id, no device id, no
//! name, not even the app's (a neutral service type, random instance and
//! host names for each serving session). The TXT record carries only a
//! short tag keyed with the antenna's team secret and the day
//! ([`antenna_tag`]), so that tablets of the same antenna pick each other
//! out, while a listener cannot tell that the same antenna's tablets are
//! back the next night: the secret comes from the server with each
//! device's certificate and is kept in the encrypted store, and no id
//! (the antenna's is in every teammate's certificate) computes the tag.
//! Discovery only finds candidates: the mutual TLS handshake
//! ([`crate::peer`]) is what proves a teammate, and a forged announcement
//! leads to a refused connection, nothing more.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};
use serde::Serialize;
use uuid::Uuid;

use crate::error::SyncError;

/// The DNS-SD service type of a tablet serving its teammates: neutral, so
/// that it does not mark outreach tablets on a network.
pub const SERVICE_TYPE: &str = "_peer-sync._tcp.local.";
/// The TXT key of [`antenna_tag`].
const TAG_KEY: &str = "team";
/// Fixed prefix of what the tag signs: the tag means nothing outside
/// Maraude's discovery, and a later version can change it.
const TAG_PREFIX: &[u8] = b"maraude/teammates-on-this-network/v2\0";
/// Set (to anything) to browse on the loopback interface only, instead of
/// the network's: end-to-end tests run every tablet on one machine.
pub const LOOPBACK_VAR: &str = "MARAUDE_DISCOVERY_LOOPBACK";

/// The tag a tablet of the antenna whose team secret is `secret` announces
/// on `day` (in Paris): the first 8 bytes of HMAC-SHA256(secret, a fixed
/// prefix and the day), in hex. Only a tablet holding the secret
/// recognises it, and without the secret tonight's tag says nothing of
/// last night's.
pub fn antenna_tag(secret: &[u8], day: NaiveDate) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(TAG_PREFIX);
    context.update(day.to_string().as_bytes());
    data_encoding::HEXLOWER.encode(&context.sign().as_ref()[..8])
}

/// The tags a browsing tablet accepts at `now`: the day's, and the days
/// either side, for a tablet that started serving before midnight or whose
/// clock is some hours off.
fn tags_around(secret: &[u8], now: DateTime<Utc>) -> [String; 3] {
    let today = maraude_core::time::paris_date(now);
    [today.pred_opt(), Some(today), today.succ_opt()]
        .map(|day| day.map(|d| antenna_tag(secret, d)).unwrap_or_default())
}

fn discovery_error(e: mdns_sd::Error) -> SyncError {
    SyncError::Discovery(e.to_string())
}

/// Which interfaces mDNS speaks on. Loopback (which mdns-sd joins by
/// default) only when the tablet serves on loopback, where nobody else
/// could reach it anyway, or under [`LOOPBACK_VAR`]: no other tablet is
/// ever heard there, and an address found there is this machine's own.
/// IPv4 only: hotspots and van routers hand out IPv4, and an IPv6
/// link-local address is no address to give a volunteer.
fn daemon_on(interfaces: &[IfKind]) -> Result<ServiceDaemon, SyncError> {
    let daemon = ServiceDaemon::new().map_err(discovery_error)?;
    daemon
        .disable_interface(IfKind::All)
        .map_err(discovery_error)?;
    daemon
        .enable_interface(interfaces.to_vec())
        .map_err(discovery_error)?;
    daemon
        .disable_interface(vec![IfKind::IPv6, IfKind::LoopbackV6])
        .map_err(discovery_error)?;
    Ok(daemon)
}

/// The interfaces to speak on: those of `ip` if it is a real address, else
/// the network's (loopback left out) or, under [`LOOPBACK_VAR`], loopback.
fn interfaces_for(ip: Option<IpAddr>) -> Vec<IfKind> {
    match ip {
        Some(ip) if ip.is_loopback() => vec![IfKind::LoopbackV4],
        Some(ip) if !ip.is_unspecified() => vec![IfKind::Addr(ip)],
        _ if std::env::var_os(LOOPBACK_VAR).is_some() => vec![IfKind::LoopbackV4],
        _ => vec![IfKind::IPv4],
    }
}

/// A random name for one serving session: 12 hex digits, nothing that
/// names the app.
fn session_name() -> String {
    let random = Uuid::new_v4().simple().to_string();
    random[..12].to_string()
}

/// This tablet announced as serving its teammates; withdrawn when dropped
/// (a goodbye on the network, so that browsers forget it at once).
pub struct Announcement {
    daemon: ServiceDaemon,
    fullname: String,
    name: String,
}

impl Announcement {
    /// Announce a tablet of the antenna whose team secret is `secret`,
    /// serving on `serving` (the listener's
    /// local address: 0.0.0.0 announces the addresses of every network
    /// interface but loopback).
    pub fn start(secret: &[u8], serving: SocketAddr) -> Result<Self, SyncError> {
        let name = session_name();
        let info = announced(secret, serving, &name)?;
        let daemon = daemon_on(&interfaces_for(Some(serving.ip())))?;
        let fullname = info.get_fullname().to_string();
        daemon.register(info).map_err(discovery_error)?;
        Ok(Announcement {
            daemon,
            fullname,
            name,
        })
    }

    /// This session's random name, as [`Candidate::name`] gives it: a
    /// tablet that serves and browses at once leaves itself out with it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What the network hears of a tablet serving on `serving`: the session's
/// `name`, the address and port, the antenna's tag, nothing else.
fn announced(secret: &[u8], serving: SocketAddr, name: &str) -> Result<ServiceInfo, SyncError> {
    let today = maraude_core::time::paris_date(Utc::now());
    let properties = [(TAG_KEY, antenna_tag(secret, today))];
    let addresses = if serving.ip().is_unspecified() {
        String::new()
    } else {
        serving.ip().to_string()
    };
    let mut info = ServiceInfo::new(
        SERVICE_TYPE,
        name,
        &format!("{name}.local."),
        addresses.as_str(),
        serving.port(),
        &properties[..],
    )
    .map_err(discovery_error)?;
    if serving.ip().is_unspecified() {
        info = info.enable_addr_auto();
    }
    info.set_interfaces(interfaces_for(Some(serving.ip())));
    // The name is random for this session: no other tablet holds it, and
    // skipping the probe lets teammates find this one at once.
    info.set_requires_probe(false);
    Ok(info)
}

impl std::fmt::Debug for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcement")
            .field("fullname", &self.fullname)
            .finish_non_exhaustive()
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        if let Ok(done) = self.daemon.unregister(&self.fullname) {
            // The goodbye is sent before the daemon stops.
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
        let _ = self.daemon.shutdown();
    }
}

/// A tablet of this antenna found serving on the network: a candidate,
/// until the TLS handshake proves it a teammate.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Its random name for this serving session.
    pub name: String,
    /// Where it serves, IPv4 first.
    pub addresses: Vec<SocketAddr>,
}

/// Tablets of the antenna whose team secret is `secret` serving on the
/// network, found within `within`, stopping at `at_most`.
pub async fn browse(
    secret: &[u8],
    within: Duration,
    at_most: usize,
) -> Result<Vec<Candidate>, SyncError> {
    let daemon = daemon_on(&interfaces_for(None))?;
    let events = daemon.browse(SERVICE_TYPE).map_err(discovery_error)?;
    let tags = tags_around(secret, Utc::now());
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    while found.len() < at_most {
        let Ok(Ok(event)) = tokio::time::timeout_at(deadline, events.recv_async()).await else {
            break;
        };
        let ServiceEvent::ServiceResolved(service) = event else {
            continue;
        };
        let ours = service
            .get_property_val_str(TAG_KEY)
            .is_some_and(|t| tags.iter().any(|ours| ours == t));
        if !ours || !seen.insert(service.get_fullname().to_string()) {
            continue;
        }
        let mut addresses: Vec<SocketAddr> = service
            .get_addresses()
            .iter()
            .map(|ip| SocketAddr::new(ip.to_ip_addr(), service.get_port()))
            .collect();
        addresses.sort_by_key(|a| (a.is_ipv6(), *a));
        if addresses.is_empty() {
            continue;
        }
        let name = service.get_fullname();
        let name = name.strip_suffix(SERVICE_TYPE).unwrap_or(name);
        found.push(Candidate {
            name: name.trim_end_matches('.').to_string(),
            addresses,
        });
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    let _ = daemon.shutdown();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALAIS: &[u8] = &[0x11; 32];

    #[test]
    fn the_tag_is_short_stable_and_differs_between_antennas() {
        let night = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let tag = antenna_tag(CALAIS, night);
        assert_eq!(tag.len(), 16);
        assert_eq!(tag, antenna_tag(CALAIS, night));
        assert_ne!(tag, antenna_tag(&[0x12; 32], night));
    }

    #[test]
    fn the_tag_changes_every_day_and_is_recognised_across_midnight() {
        let night = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let next = night.succ_opt().unwrap();
        assert_ne!(antenna_tag(CALAIS, night), antenna_tag(CALAIS, next));
        // Served from 23:50 on the 23rd (Paris), browsed at 00:20 on the 24th.
        let after_midnight: DateTime<Utc> = "2026-11-23T23:20:00Z".parse().unwrap();
        assert!(tags_around(CALAIS, after_midnight).contains(&antenna_tag(CALAIS, night)));
        let a_week_on = after_midnight + chrono::Duration::days(7);
        assert!(!tags_around(CALAIS, a_week_on).contains(&antenna_tag(CALAIS, night)));
    }

    /// Whoever knows the antenna's id (it is in every teammate's
    /// certificate) cannot compute its tags: the id is no key to them.
    #[test]
    fn the_antennas_id_does_not_give_its_tags() {
        let antenna = Uuid::from_u128(0x1234);
        let night = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let secret_tag = antenna_tag(CALAIS, night);
        for guess in [
            antenna.as_bytes().to_vec(),
            antenna.to_string().into_bytes(),
            antenna.simple().to_string().into_bytes(),
            vec![0; 32],
        ] {
            assert_ne!(antenna_tag(&guess, night), secret_tag);
        }
    }

    #[test]
    fn the_announcement_names_neither_the_antenna_nor_the_device_nor_the_app() {
        let serving: SocketAddr = "192.168.43.12:8471".parse().unwrap();
        let info = announced(CALAIS, serving, "3f9a0c1d2e4b").unwrap();
        let txt: Vec<(String, String)> = info
            .get_properties()
            .iter()
            .map(|p| (p.key().to_string(), p.val_str().to_string()))
            .collect();
        let today = maraude_core::time::paris_date(Utc::now());
        assert_eq!(txt, vec![("team".to_string(), antenna_tag(CALAIS, today))]);
        assert_eq!(info.get_fullname(), "3f9a0c1d2e4b._peer-sync._tcp.local.");
        assert_eq!(info.get_hostname(), "3f9a0c1d2e4b.local.");
        assert_eq!(info.get_port(), 8471);
        let everything = format!("{txt:?} {} {}", info.get_fullname(), info.get_hostname());
        assert!(
            !everything.to_lowercase().contains("maraude"),
            "{everything}"
        );
    }

    #[test]
    fn a_serving_session_has_a_new_name_each_time() {
        assert_ne!(session_name(), session_name());
        assert_eq!(session_name().len(), 12);
    }
}
