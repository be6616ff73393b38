//! The device's side of its identity: its key, and when to ask the server
//! for a new certificate. Reading and checking certificates and revocation
//! lists is `maraude_protocol::identity`, re-exported here.

use std::time::SystemTime;

pub use maraude_protocol::identity::*;
use maraude_store::DeviceCertificate;
use secrecy::SecretSlice;

/// Whether a device holding `certificate` should ask the server for a new
/// one at `now`: it has none (enrolled before certificates existed), it
/// will not be valid [`RENEW_WITHIN`] from now (expiring, expired, or no
/// longer signed by the antenna's authority), or it is [`unbounded`], or
/// it came without the antenna's team secret (from an older server).
pub fn renewal_due(certificate: Option<&DeviceCertificate>, now: SystemTime) -> bool {
    certificate.is_none_or(|c| {
        !valid_at(&c.authority, &c.certificate, now + RENEW_WITHIN)
            || unbounded(&c.authority, &c.certificate, now)
            || c.team_secret.is_none()
    })
}

/// A new key for this device: the private key (PKCS#8, kept in the
/// encrypted store) and the raw public key sent to the server.
pub fn new_device_key() -> Result<(SecretSlice<u8>, Vec<u8>), IdentityError> {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
        .map_err(|e| IdentityError::Key(e.to_string()))?;
    Ok((
        SecretSlice::from(pair.serialize_der()),
        pair.public_key_raw().to_vec(),
    ))
}

/// A stand-in for the server's authority, for this crate's tests: device
/// certificates shaped as the server issues them, with the dates a test
/// needs.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use maraude_core::access::Role;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, SanType, SerialNumber,
    };
    use uuid::Uuid;

    pub struct TestAuthority {
        pub antenna: Uuid,
        params: CertificateParams,
        key: KeyPair,
        pub certificate: Vec<u8>,
    }

    impl TestAuthority {
        pub fn new() -> Self {
            let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("a key");
            let antenna = Uuid::new_v4();
            let mut params = CertificateParams::default();
            params
                .distinguished_name
                .push(DnType::CommonName, format!("Maraude antenna {antenna}"));
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let certificate = params
                .self_signed(&key)
                .expect("self-signed")
                .der()
                .to_vec();
            Self {
                antenna,
                params,
                key,
                certificate,
            }
        }

        /// A device's certificate valid from `not_before` to `not_after`.
        pub fn device(
            &self,
            role: Role,
            not_before: time::OffsetDateTime,
            not_after: time::OffsetDateTime,
        ) -> DeviceCertificate {
            let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("a key");
            let device = Uuid::new_v4();
            let teammate = Teammate {
                antenna: self.antenna,
                device,
                role,
                name: None,
            };
            let mut params = CertificateParams::default();
            params.serial_number = Some(SerialNumber::from_slice(&serial(&device)));
            params.subject_alt_names =
                vec![SanType::DnsName(PEER_NAME.try_into().expect("a DNS name"))];
            for uri in teammate.uris() {
                params
                    .subject_alt_names
                    .push(SanType::URI(uri.try_into().expect("an URI")));
            }
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            params.not_before = not_before;
            params.not_after = not_after;
            let issuer = Issuer::new(self.params.clone(), &self.key);
            let certificate = params.signed_by(&key, &issuer).expect("signed");
            DeviceCertificate {
                key: SecretSlice::from(key.serialize_der()),
                certificate: certificate.der().to_vec(),
                authority: self.certificate.clone(),
                team_secret: Some(SecretSlice::from(vec![7; 32])),
                previous_team_secret: None,
            }
        }

        /// A device's certificate that expires in `days` (already expired
        /// when negative).
        pub fn device_for_days(&self, role: Role, days: i64) -> DeviceCertificate {
            let now = time::OffsetDateTime::now_utc();
            self.device(
                role,
                now - time::Duration::days(60),
                now + time::Duration::days(days),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maraude_core::access::Role;
    use std::time::Duration;
    use uuid::Uuid;

    #[test]
    fn a_certificate_is_renewed_once_fewer_than_ten_days_remain() {
        let authority = testing::TestAuthority::new();
        let now = SystemTime::now();
        let fresh = authority.device_for_days(Role::Volunteer, 30);
        assert!(valid_at(&fresh.authority, &fresh.certificate, now));
        assert!(!renewal_due(Some(&fresh), now));
        // Twenty-one days later, nine remain: due.
        let later = now + Duration::from_secs(21 * 24 * 3600);
        assert!(renewal_due(Some(&fresh), later));
        assert!(valid_at(&fresh.authority, &fresh.certificate, later));
        let expiring = authority.device_for_days(Role::Volunteer, 9);
        assert!(renewal_due(Some(&expiring), now));
        let expired = authority.device_for_days(Role::Volunteer, -1);
        assert!(!valid_at(&expired.authority, &expired.certificate, now));
        assert!(renewal_due(Some(&expired), now));
        // None yet (enrolled before certificates), one from before they
        // ran out, or one another authority signed: due.
        assert!(renewal_due(None, now));
        let for_ever = authority.device(
            Role::Volunteer,
            rcgen::date_time_ymd(1975, 1, 1),
            rcgen::date_time_ymd(4096, 1, 1),
        );
        assert!(unbounded(&for_ever.authority, &for_ever.certificate, now));
        assert!(renewal_due(Some(&for_ever), now));
        let longest = authority.device_for_days(Role::Volunteer, i64::from(MAX_CERTIFICATE_DAYS));
        assert!(!unbounded(&longest.authority, &longest.certificate, now));
        assert!(!renewal_due(Some(&longest), now));
        let other = testing::TestAuthority::new();
        let foreign = DeviceCertificate {
            authority: other.certificate.clone(),
            ..fresh.clone()
        };
        assert!(renewal_due(Some(&foreign), now));
        let without_secret = DeviceCertificate {
            team_secret: None,
            ..fresh.clone()
        };
        assert!(renewal_due(Some(&without_secret), now));
    }

    #[test]
    fn a_certificate_names_its_antenna_device_role_and_tablet_and_a_stranger_none() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
        let certified = |teammate: &Teammate| {
            let mut params =
                rcgen::CertificateParams::new(vec![PEER_NAME.to_string()]).expect("params");
            for uri in teammate.uris() {
                params
                    .subject_alt_names
                    .push(rcgen::SanType::URI(uri.try_into().expect("ia5")));
            }
            params.self_signed(&key).expect("cert")
        };
        let mut teammate = Teammate {
            antenna: Uuid::new_v4(),
            device: Uuid::new_v4(),
            role: Role::Lead,
            name: Some("Tablette du camion n°2 / Équipe nuit".into()),
        };
        let cert = certified(&teammate);
        assert_eq!(
            Teammate::from_certificate(cert.der()).expect("read"),
            teammate
        );
        // A certificate from before names: the device, no name.
        teammate.name = None;
        assert_eq!(
            Teammate::from_certificate(certified(&teammate).der()).expect("read"),
            teammate
        );
        // A name that would forge a line on a screen reads as no name.
        let forged = Teammate {
            name: Some("Van 2\nSynced with the server".into()),
            ..teammate.clone()
        };
        assert_eq!(
            Teammate::from_certificate(certified(&forged).der())
                .expect("read")
                .name,
            None
        );

        let stranger = rcgen::CertificateParams::new(vec!["example.org".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        assert!(matches!(
            Teammate::from_certificate(stranger.der()),
            Err(IdentityError::NotADevice)
        ));
        assert!(matches!(
            Teammate::from_certificate(b"not a certificate"),
            Err(IdentityError::Unreadable(_))
        ));
    }
}
