//! How teammates' tablets recognise each other without the server.
//!
//! At enrolment the device makes an Ed25519 key pair and sends the public
//! half; the server, as its antenna's authority, returns a certificate
//! naming the antenna, the device and its role, and the authority's own
//! certificate. Two tablets that meet offline show each other their
//! certificates in the TLS handshake (both sides: mutual TLS) and each
//! accepts the other only if its antenna's authority signed it and the
//! antenna's revocation list, as far as it has heard, does not name it.
//! The authority's key stays on the server.
//!
//! A certificate is valid for a few weeks (the server's
//! `authority::CERTIFICATE_DAYS`), and both sides of a handshake check
//! that with their own clock: a tablet revoked while its teammates never
//! heard of it stops being accepted when its certificate expires. A
//! device renews its certificate at a sync with the server once it is
//! due (`maraude_sync::identity::renewal_due`).
//!
//! Here: reading and checking what a peer hands over. Making keys and
//! certificates is the device's (`maraude_sync::identity`) and the
//! server's (`maraude_server::authority`) business.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use maraude_core::access::Role;
use rustls_pki_types::{CertificateDer, UnixTime};
use thiserror::Error;
use uuid::Uuid;

/// The name every device certificate carries, and every tablet asks for
/// when it dials a teammate: teammates are reached by address, and what
/// proves them is their antenna's signature, not a name.
pub const PEER_NAME: &str = "peer.maraude.invalid";

const ANTENNA_URI: &str = "urn:maraude:antenna:";
const DEVICE_URI: &str = "urn:maraude:device:";
const ROLE_URI: &str = "urn:maraude:role:";
/// The tablet's name as the server registered it at enrolment (base64url
/// of its UTF-8, so that any name makes a valid URI).
const NAME_URI: &str = "urn:maraude:name:";

/// The longest name a tablet is registered under.
pub const TABLET_NAME_MAX: usize = 60;

/// A device of the antenna, as its certificate names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teammate {
    pub antenna: Uuid,
    pub device: Uuid,
    pub role: Role,
    /// The name the server registered the tablet under ("Van 2"), signed
    /// with the rest by the antenna's authority: what a teammate's screen
    /// shows, never a name the tablet gives itself on the network. `None`
    /// in a certificate from before names were certified.
    pub name: Option<String>,
}

/// Whether `name` can name a tablet: 1 to [`TABLET_NAME_MAX`] characters,
/// no control characters (a line break would forge a line of a screen).
pub fn tablet_name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=TABLET_NAME_MAX).contains(&n) && !name.chars().any(char::is_control) && name.trim() == name
}

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("a certificate that cannot be read: {0}")]
    Unreadable(String),
    #[error("a certificate that does not name a Maraude antenna, device and role")]
    NotADevice,
    #[error("cannot make this device's key: {0}")]
    Key(String),
    #[error("a revocation list this antenna's authority did not sign, or unreadable: {0}")]
    BadRevocations(String),
    #[error(
        "a certificate from before certificates ran out (valid for more than {MAX_CERTIFICATE_DAYS} days); the tablet renews it at its next sync with the server"
    )]
    Unbounded,
}

impl Teammate {
    /// The subject alternative names (URIs) its certificate carries.
    pub fn uris(&self) -> Vec<String> {
        let mut uris = vec![
            format!("{ANTENNA_URI}{}", self.antenna),
            format!("{DEVICE_URI}{}", self.device),
            format!("{ROLE_URI}{}", self.role.as_str()),
        ];
        if let Some(name) = &self.name {
            uris.push(format!(
                "{NAME_URI}{}",
                data_encoding::BASE64URL_NOPAD.encode(name.as_bytes())
            ));
        }
        uris
    }

    /// Who a certificate names. Reads only; whether to trust it is the TLS
    /// handshake's business (signature by the antenna's authority, not
    /// revoked).
    pub fn from_certificate(der: &[u8]) -> Result<Self, IdentityError> {
        let der = CertificateDer::from(der);
        let cert = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| IdentityError::Unreadable(e.to_string()))?;
        let (mut antenna, mut device, mut role, mut name) = (None, None, None, None);
        for uri in cert.valid_uri_names() {
            if let Some(id) = uri.strip_prefix(ANTENNA_URI) {
                antenna = id.parse().ok();
            } else if let Some(id) = uri.strip_prefix(DEVICE_URI) {
                device = id.parse().ok();
            } else if let Some(r) = uri.strip_prefix(ROLE_URI) {
                role = r.parse().ok();
            } else if let Some(n) = uri.strip_prefix(NAME_URI) {
                // A name that does not read is no name; the certificate
                // still proves the device.
                name = data_encoding::BASE64URL_NOPAD
                    .decode(n.as_bytes())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|n| tablet_name_ok(n));
            }
        }
        match (antenna, device, role) {
            (Some(antenna), Some(device), Some(role)) => Ok(Self {
                antenna,
                device,
                role,
                name,
            }),
            _ => Err(IdentityError::NotADevice),
        }
    }
}

/// The serial number of a device's certificate: its id, so that the
/// revocation list names devices. A leading 1 keeps the DER integer
/// positive whatever the id's first bit.
pub fn serial(device: &Uuid) -> Vec<u8> {
    let mut serial = vec![1];
    serial.extend_from_slice(device.as_bytes());
    serial
}

/// The devices (certificate serials) a revocation list names, read
/// without checking who signed it.
pub fn named_in(list: &[u8]) -> Result<BTreeSet<Vec<u8>>, IdentityError> {
    let bad = |e: webpki::Error| IdentityError::BadRevocations(e.to_string());
    let parsed = webpki::BorrowedCertRevocationList::from_der(list).map_err(bad)?;
    let mut serials = BTreeSet::new();
    for revoked in &parsed {
        serials.insert(revoked.map_err(bad)?.serial_number.to_vec());
    }
    Ok(serials)
}

/// The device a certificate serial names ([`serial`] read back), if it
/// is one.
pub fn device_of(serial: &[u8]) -> Option<Uuid> {
    match serial {
        [1, id @ ..] => Uuid::from_slice(id).ok(),
        _ => None,
    }
}

/// The devices a revocation list names, with when each was revoked, read
/// without checking who signed it. A serial that names no device (no
/// authority of ours issues one) is left out.
pub fn revoked_devices(
    list: &[u8],
) -> Result<Vec<(Uuid, chrono::DateTime<chrono::Utc>)>, IdentityError> {
    let bad = |e: webpki::Error| IdentityError::BadRevocations(e.to_string());
    let parsed = webpki::BorrowedCertRevocationList::from_der(list).map_err(bad)?;
    let mut devices = Vec::new();
    for revoked in &parsed {
        let revoked = revoked.map_err(bad)?;
        let when = i64::try_from(revoked.revocation_date.as_secs())
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0));
        if let (Some(device), Some(when)) = (device_of(revoked.serial_number), when) {
            devices.push((device, when));
        }
    }
    Ok(devices)
}

/// The devices (certificate serials) a revocation list names, once it is
/// known to be signed by the antenna's `authority`: what a teammate hands
/// over is believed only then.
pub fn checked_revocations(
    authority: &[u8],
    own_certificate: &[u8],
    list: &[u8],
) -> Result<BTreeSet<Vec<u8>>, IdentityError> {
    let bad = |e: webpki::Error| IdentityError::BadRevocations(e.to_string());
    let serials = named_in(list)?;
    let parsed = webpki::BorrowedCertRevocationList::from_der(list).map_err(bad)?;
    // webpki checks a list's signature only while checking a certificate
    // against it, before it looks the serial up: check this device's own
    // certificate. Revoked itself or not, the signature was good.
    let authority = CertificateDer::from(authority);
    let anchor = webpki::anchor_from_trusted_cert(&authority).map_err(bad)?;
    let own = CertificateDer::from(own_certificate);
    let own = webpki::EndEntityCert::try_from(&own).map_err(bad)?;
    let list = webpki::CertRevocationList::from(parsed);
    let lists = [&list];
    let revocation = webpki::RevocationOptionsBuilder::new(&lists)
        .map_err(|e| IdentityError::BadRevocations(format!("{e:?}")))?
        .with_depth(webpki::RevocationCheckDepth::EndEntity)
        .with_status_policy(webpki::UnknownStatusPolicy::Deny)
        .build();
    match own.verify_for_usage(
        &[webpki::ring::ED25519],
        &[anchor],
        &[],
        UnixTime::now(),
        webpki::KeyUsage::client_auth(),
        Some(revocation),
        None,
    ) {
        Ok(_) | Err(webpki::Error::CertRevoked) => Ok(serials),
        Err(e) => Err(bad(e)),
    }
}

/// A short digest of the devices a revocation list names: two lists
/// naming the same devices have the same one, whatever their dates.
pub fn digest_of(named: &BTreeSet<Vec<u8>>) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for serial in named {
        hash.update([u8::try_from(serial.len()).unwrap_or(u8::MAX)]);
        hash.update(serial);
    }
    data_encoding::HEXLOWER.encode(&hash.finalize()[..8])
}

/// Whether `theirs` names devices `ours` does not: revocations are never
/// undone, so a list is newer when it names more.
pub fn names_more(theirs: &BTreeSet<Vec<u8>>, ours: &BTreeSet<Vec<u8>>) -> bool {
    theirs.is_superset(ours) && theirs.len() > ours.len()
}

/// How long before its certificate expires a device asks the server for a
/// new one: a tablet that syncs with the server once in these days never
/// shows teammates an expired certificate.
pub const RENEW_WITHIN: Duration = Duration::from_secs(10 * 24 * 3600);

/// The longest a server gives a certificate (its `--certificate-days` is at
/// most this). One valid for longer was issued before certificates ran out
/// (they were valid until the year 4096): a device renews it, and
/// teammates refuse it, or a revoked tablet holding one would be accepted
/// for ever by those that never heard of its revocation.
pub const MAX_CERTIFICATE_DAYS: u32 = 365;

/// Whether `certificate` is still valid longer after `at` than any server
/// issues one for: see [`MAX_CERTIFICATE_DAYS`].
pub fn unbounded(authority: &[u8], certificate: &[u8], at: SystemTime) -> bool {
    // A day past the longest: a certificate issued a moment ago for the
    // longest is not taken for one.
    let longest = Duration::from_secs((u64::from(MAX_CERTIFICATE_DAYS) + 1) * 24 * 3600);
    valid_at(authority, certificate, at + longest)
}

/// Whether `certificate`, checked against the antenna's `authority`, is
/// valid at `at` (signed by it, and `at` within its dates).
pub fn valid_at(authority: &[u8], certificate: &[u8], at: SystemTime) -> bool {
    let Ok(since_epoch) = at.duration_since(SystemTime::UNIX_EPOCH) else {
        return false;
    };
    let authority = CertificateDer::from(authority);
    let Ok(anchor) = webpki::anchor_from_trusted_cert(&authority) else {
        return false;
    };
    let der = CertificateDer::from(certificate);
    let Ok(cert) = webpki::EndEntityCert::try_from(&der) else {
        return false;
    };
    cert.verify_for_usage(
        &[webpki::ring::ED25519],
        &[anchor],
        &[],
        UnixTime::since_unix_epoch(since_epoch),
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serial_names_its_device_and_a_digest_its_devices() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(device_of(&serial(&a)), Some(a));
        assert_eq!(device_of(&[2; 17]), None);
        assert_eq!(device_of(&[1; 5]), None);
        let set = |ids: &[Uuid]| ids.iter().map(serial).collect::<BTreeSet<_>>();
        assert_eq!(digest_of(&set(&[a, b])), digest_of(&set(&[b, a])));
        // As many devices, other ones: another list.
        assert_ne!(digest_of(&set(&[a, b])), digest_of(&set(&[a, c])));
        assert_ne!(digest_of(&set(&[])), digest_of(&set(&[a])));
        assert_eq!(digest_of(&set(&[a])).len(), 16);
    }
}
