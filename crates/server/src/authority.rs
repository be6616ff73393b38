//! Each antenna's authority: the key with which the server signs its
//! devices' certificates and its revocation list, so that tablets can
//! recognise each other offline (`maraude_sync::identity`).
//!
//! The key is made when the authority is first needed and kept in the
//! registry (encrypted with the server's passphrase); it never leaves the
//! server. The authority's certificate is made again from the key when
//! needed: the same key and name give the same issuer to check against.
//!
//! A device certificate is valid for [`CERTIFICATE_DAYS`]; the device asks
//! for a new one at a sync with the server once fewer than
//! `maraude_sync::identity::RENEW_WITHIN` remain.

use chrono::{DateTime, Utc};
use maraude_core::access::Role;
use maraude_sync::identity::{self, PEER_NAME, Teammate};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData,
    RevokedCertParams, SanType, SerialNumber, SignatureAlgorithm,
};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum AuthorityError {
    #[error("the antenna's authority key is damaged: {0}")]
    BadKey(String),
    #[error("a public key must be 32 bytes of Ed25519, base64: {0}")]
    BadPublicKey(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// How long a device certificate is valid. Teammates' tablets check it
/// against their own clock when they meet offline, so a tablet revoked
/// while they never heard of it (no sync with the server, no teammate
/// who did) is refused by them at most this long after its own last sync
/// with the server, which renews it. Long enough for a tablet kept in a
/// van over a few weeks without the warehouse's Wi-Fi; short enough that
/// a lost one does not stay a teammate for a season.
pub const CERTIFICATE_DAYS: u32 = 30;

/// A certificate is valid from this long before it was issued: a
/// teammate's tablet whose clock is some hours behind the server's still
/// accepts one issued a moment ago.
const CLOCK_SLACK: time::Duration = time::Duration::days(1);

fn sign_error(e: rcgen::Error) -> AuthorityError {
    AuthorityError::Sign(e.to_string())
}

/// An antenna's authority, with its key.
pub struct Authority {
    antenna: Uuid,
    key: KeyPair,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("antenna", &self.antenna)
            .finish_non_exhaustive()
    }
}

/// `t` as rcgen's dates, to the second.
fn offset_time(t: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A device's public key as sent at enrolment: raw Ed25519.
struct DeviceKey(Vec<u8>);

impl PublicKeyData for DeviceKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl Authority {
    /// A new authority for `antenna`; keep [`Authority::key_der`].
    pub fn new(antenna: Uuid) -> Result<Self, AuthorityError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(sign_error)?;
        Ok(Self { antenna, key })
    }

    /// The authority kept in the registry.
    pub fn from_key(antenna: Uuid, key_der: &[u8]) -> Result<Self, AuthorityError> {
        let key = KeyPair::try_from(key_der).map_err(|e| AuthorityError::BadKey(e.to_string()))?;
        Ok(Self { antenna, key })
    }

    /// The key (PKCS#8 DER), for the registry.
    pub fn key_der(&self) -> Vec<u8> {
        self.key.serialize_der()
    }

    /// The antenna's team secret, handed to its devices with their
    /// certificates and at each sync: derived from the authority's private
    /// key (HMAC-SHA256 under a label), so that it needs no storage of its
    /// own, is the same for every device and every server instance, and is
    /// known to nobody outside the antenna. `revoked`: how many of the
    /// antenna's devices are revoked. Each revocation gives a new secret,
    /// which the revoked tablet never receives: a seized tablet stops
    /// recognising its team's daily tags once they have synced.
    pub fn team_secret(&self, revoked: usize) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.key.serialize_der());
        // Before any revocation, the label of the secret's first version.
        let label = match revoked {
            0 => "maraude/team-secret/v1".to_string(),
            n => format!("maraude/team-secret/v2/{n}"),
        };
        let tag = ring::hmac::sign(&key, label.as_bytes());
        let mut secret = [0u8; 32];
        secret.copy_from_slice(tag.as_ref());
        secret
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            DnType::CommonName,
            format!("Maraude antenna {}", self.antenna),
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = KeyIdMethod::Sha256;
        params
    }

    /// The authority's certificate (DER), which devices trust.
    pub fn certificate(&self) -> Result<Vec<u8>, AuthorityError> {
        Ok(self
            .params()
            .self_signed(&self.key)
            .map_err(sign_error)?
            .der()
            .to_vec())
    }

    /// A certificate for `device` with `role`, for the Ed25519 public key
    /// it sent (raw, 32 bytes), issued at `now` and valid for `valid_for`.
    pub fn issue(
        &self,
        device: Uuid,
        role: Role,
        name: Option<&str>,
        public_key: &[u8],
        now: DateTime<Utc>,
        valid_for: chrono::Duration,
    ) -> Result<Vec<u8>, AuthorityError> {
        if public_key.len() != 32 {
            return Err(AuthorityError::BadPublicKey(format!(
                "{} bytes",
                public_key.len()
            )));
        }
        let teammate = Teammate {
            antenna: self.antenna,
            device,
            role,
            // As registered at enrolment; a name no tablet could be
            // enrolled under is left out, not certified.
            name: name
                .filter(|n| identity::tablet_name_ok(n))
                .map(str::to_string),
        };
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Maraude device {device}"));
        params.serial_number = Some(SerialNumber::from_slice(&identity::serial(&device)));
        let issued = offset_time(now);
        params.not_before = issued - CLOCK_SLACK;
        params.not_after = issued + time::Duration::seconds(valid_for.num_seconds());
        params.subject_alt_names =
            vec![SanType::DnsName(PEER_NAME.try_into().map_err(sign_error)?)];
        for uri in teammate.uris() {
            params
                .subject_alt_names
                .push(SanType::URI(uri.try_into().map_err(sign_error)?));
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::new(self.params(), &self.key);
        Ok(params
            .signed_by(&DeviceKey(public_key.to_vec()), &issuer)
            .map_err(sign_error)?
            .der()
            .to_vec())
    }

    /// The revocation list (DER) naming `revoked` devices (with when).
    /// Its number grows with each revocation, never reused: revocations are
    /// never undone.
    pub fn revocations(
        &self,
        revoked: &[(Uuid, DateTime<Utc>)],
    ) -> Result<Vec<u8>, AuthorityError> {
        let at = offset_time;
        let now = time::OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now,
            // Tablets keep the list they have until they hear of a newer
            // one; this date is not a deadline for them.
            next_update: now + time::Duration::days(3650),
            crl_number: SerialNumber::from(revoked.len() as u64 + 1),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|(device, when)| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&identity::serial(device)),
                    revocation_time: at(*when),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let issuer = Issuer::new(self.params(), &self.key);
        Ok(params
            .signed_by(&issuer)
            .map_err(sign_error)?
            .der()
            .to_vec())
    }

    /// The devices `list` names, with when each was revoked, if this
    /// authority signed it. A tablet hands back the list a server restored
    /// from an older backup no longer holds; only this signature makes it
    /// the antenna's word, whoever carries it.
    pub fn signed_revocations(
        &self,
        list: &[u8],
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>, identity::IdentityError> {
        // webpki checks a list's signature only while checking a
        // certificate against it: one for no device, made for the check.
        let (_, public_key) = identity::new_device_key()?;
        let probe = self
            .issue(
                Uuid::new_v4(),
                Role::Volunteer,
                None,
                &public_key,
                Utc::now(),
                chrono::Duration::hours(1),
            )
            .map_err(|e| identity::IdentityError::BadRevocations(e.to_string()))?;
        let certificate = self
            .certificate()
            .map_err(|e| identity::IdentityError::BadRevocations(e.to_string()))?;
        identity::checked_revocations(&certificate, &probe, list)?;
        identity::revoked_devices(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn the_team_secret_is_the_antennas_own_and_the_same_for_every_device() {
        let antenna = Uuid::new_v4();
        let authority = Authority::new(antenna).unwrap();
        let again = Authority::from_key(antenna, &authority.key_der()).unwrap();
        assert_eq!(authority.team_secret(0), again.team_secret(0));
        assert_eq!(authority.team_secret(3), again.team_secret(3));
        let other = Authority::new(Uuid::new_v4()).unwrap();
        assert_ne!(authority.team_secret(0), other.team_secret(0));
        // Nothing a device shows (the authority's certificate) holds it.
        let certificate = authority.certificate().unwrap();
        assert!(
            !certificate
                .windows(32)
                .any(|w| w == authority.team_secret(0).as_slice())
        );
    }

    #[test]
    fn each_revocation_gives_the_team_a_new_secret() {
        let authority = Authority::new(Uuid::new_v4()).unwrap();
        let secrets: std::collections::BTreeSet<[u8; 32]> = (0..5)
            .map(|revoked| authority.team_secret(revoked))
            .collect();
        assert_eq!(secrets.len(), 5);
        // Before any revocation: the secret tablets enrolled earlier hold.
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &authority.key_der());
        let first = ring::hmac::sign(&key, b"maraude/team-secret/v1");
        assert_eq!(authority.team_secret(0).as_slice(), first.as_ref());
    }

    #[test]
    fn a_device_certificate_is_valid_for_its_days_from_a_day_before_its_issue() {
        let authority = Authority::new(Uuid::new_v4()).unwrap();
        let (_, public_key) = identity::new_device_key().unwrap();
        let now = Utc::now();
        let days = chrono::Duration::days(i64::from(CERTIFICATE_DAYS));
        let issued = authority
            .issue(Uuid::new_v4(), Role::Lead, None, &public_key, now, days)
            .unwrap();
        let own = authority.certificate().unwrap();
        let valid = |at: DateTime<Utc>| identity::valid_at(&own, &issued, SystemTime::from(at));
        assert!(valid(now));
        // A teammate whose clock is hours behind accepts it all the same.
        assert!(valid(now - chrono::Duration::hours(12)));
        assert!(valid(now + days - chrono::Duration::hours(1)));
        assert!(!valid(now + days + chrono::Duration::hours(1)));
        assert!(!valid(now - chrono::Duration::days(2)));
        // Another antenna's authority did not sign it.
        let other = Authority::new(Uuid::new_v4())
            .unwrap()
            .certificate()
            .unwrap();
        assert!(!identity::valid_at(&other, &issued, SystemTime::now()));
    }

    #[test]
    fn only_a_list_this_authority_signed_is_taken_back() {
        let antenna = Uuid::new_v4();
        let authority = Authority::new(antenna).unwrap();
        let lost = Uuid::new_v4();
        let when = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let list = authority.revocations(&[(lost, when)]).unwrap();
        assert_eq!(
            authority.signed_revocations(&list).unwrap(),
            vec![(lost, when)]
        );
        // The same antenna's key restored from a backup.
        let restored = Authority::from_key(antenna, &authority.key_der()).unwrap();
        assert_eq!(restored.signed_revocations(&list).unwrap().len(), 1);
        // Another antenna's list, a list with a byte changed, and bytes
        // that are no list at all.
        let other = Authority::new(Uuid::new_v4()).unwrap();
        let theirs = other.revocations(&[(lost, when)]).unwrap();
        assert!(authority.signed_revocations(&theirs).is_err());
        let mut forged = list.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(authority.signed_revocations(&forged).is_err());
        assert!(authority.signed_revocations(b"revoke everyone").is_err());
    }

    /// Writes the certificates fuzz target's fixtures and seeds
    /// (`scripts/fuzz.sh --seeds`): an authority, a device it certified
    /// for ten years (so that the fixture does not expire under the
    /// fuzzer), and a revocation list naming another device.
    #[test]
    #[ignore = "writes fuzz/seeds/certificates; run by scripts/fuzz.sh --seeds"]
    fn write_fuzz_seeds() {
        let authority = Authority::new(Uuid::new_v4()).unwrap();
        let (_, public_key) = identity::new_device_key().unwrap();
        let now = Utc::now();
        let device = authority
            .issue(
                Uuid::new_v4(),
                Role::Volunteer,
                None,
                &public_key,
                now,
                chrono::Duration::days(3650),
            )
            .unwrap();
        let revocations = authority.revocations(&[(Uuid::new_v4(), now)]).unwrap();
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/certificates");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("authority.der"), authority.certificate().unwrap()).unwrap();
        std::fs::write(dir.join("device.der"), device).unwrap();
        std::fs::write(dir.join("revocations.der"), revocations).unwrap();
    }
}
