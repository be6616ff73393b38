//! TLS, with rustls and ring, for the two places Maraude encrypts its own
//! connections:
//!
//! - the base server's HTTPS when it is given a certificate (otherwise it
//!   speaks plain HTTP behind a reverse proxy that does TLS), and devices
//!   checking it against the system's trusted certificates;
//! - tablets syncing with each other: TLS 1.3. The dialling tablet shows
//!   the certificate its antenna's authority signed (see
//!   [`crate::identity`]), checked against that authority and the
//!   antenna's revocation list. The serving tablet shows a certificate
//!   that names nothing ([`ServingCertificate`]): a key made for this
//!   serving, marked with an HMAC of that key under the antenna's team
//!   secret. The dialling tablet checks the mark before it shows its own
//!   certificate, so a stranger on the hotspot learns nothing of either
//!   side, whichever side it plays. Once the channel is up, the serving
//!   tablet proves which device it is ([`TeamTls::proof`]): its device
//!   key signs the hash of the certificate it served, which binds the
//!   proof to this channel ([`TeamTls::check_proof`]).
//!
//! Serving over TLS (accepting, the handshake and its limits) is
//! [`crate::serve`]'s; a handler learns who connected from
//! [`TlsConnection`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use maraude_store::DeviceCertificate;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
    UnixTime,
};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    RootCertStore, ServerConfig, SignatureScheme,
};
use secrecy::ExposeSecret;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::identity;
use maraude_protocol::api;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{0} holds no certificate (a PEM file with `BEGIN CERTIFICATE`)")]
    NoCertificate(String),
    #[error("this certificate or key is not usable: {0}")]
    Rejected(String),
    /// A serving tablet's proof of which device it is did not pass.
    #[error("{0}")]
    NotProven(String),
}

fn rejected(e: impl std::fmt::Display) -> TlsError {
    TlsError::Rejected(e.to_string())
}

/// The one crypto backend: ring, as the WebSocket client uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

const HTTP1: &[u8] = b"http/1.1";

/// The base server's HTTPS configuration, from a certificate chain and its
/// private key in PEM files (what Let's Encrypt's certbot writes).
pub fn server_config_from_pem(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    fn unreadable(path: &Path) -> impl Fn(rustls::pki_types::pem::Error) -> TlsError + '_ {
        move |e| TlsError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(unreadable(cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable(cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.display().to_string()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(unreadable(key))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(rejected)?;
    config.alpn_protocols = vec![HTTP1.to_vec()];
    Ok(config)
}

/// A device's HTTPS client configuration for its base server: the
/// system's trusted certificates (on Linux, `SSL_CERT_FILE` adds one),
/// read once per process: reading every file of the system's certificate
/// folder took a fifth of a tablet's time in each sync.
pub fn server_client_config() -> Result<ClientConfig, TlsError> {
    static CONFIG: std::sync::OnceLock<ClientConfig> = std::sync::OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(config.clone());
    }
    let config = read_server_client_config()?;
    Ok(CONFIG.get_or_init(|| config).clone())
}

fn read_server_client_config() -> Result<ClientConfig, TlsError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(rejected)?
        .with_platform_verifier()
        .map_err(rejected)?
        .with_no_client_auth();
    config.alpn_protocols = vec![HTTP1.to_vec()];
    Ok(config)
}

/// What the serving tablet's proof signs: the hash of the certificate it
/// served, after this fixed prefix (the signature means nothing elsewhere).
const PROOF_PREFIX: &[u8] = b"maraude/serving-tablet-proof/v1\0";
/// What the mark signs, before the key.
const MARK_PREFIX: &[u8] = b"maraude/serving-key-mark/v1\0";

/// The certificate a tablet serving its teammates shows: a key made when
/// it starts serving, valid two days, with no name, no antenna, device or
/// role, and as DNS names marks only the antenna's tablets can make or
/// check: HMAC-SHA256 of the key (its SubjectPublicKeyInfo) under the team
/// secret, in DNSSEC's base32 (and under the secret before it, for a
/// while after a revocation changed it, so that teammates that have not
/// synced since still meet this tablet). A stranger learns that a TLS
/// server is there, nothing more; another serving shows another key and
/// other marks.
pub struct ServingCertificate {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServingCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServingCertificate")
    }
}

/// The mark of the key `spki` under `secret`.
fn mark(secret: &[u8], spki: &[u8]) -> ring::hmac::Tag {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(MARK_PREFIX);
    context.update(spki);
    context.sign()
}

/// Whether the certificate `der` carries the mark of its own key under
/// one of `secrets` (constant time).
fn marked(secrets: &[&[u8]], der: &CertificateDer<'_>) -> bool {
    let Ok(cert) = webpki::EndEntityCert::try_from(der) else {
        return false;
    };
    let mut signed = MARK_PREFIX.to_vec();
    signed.extend_from_slice(cert.subject_public_key_info().as_ref());
    let keys: Vec<_> = secrets
        .iter()
        .map(|s| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, s))
        .collect();
    cert.valid_dns_names().any(|name| {
        let Some(label) = name.split('.').next() else {
            return false;
        };
        let Ok(tag) = data_encoding::BASE32_DNSSEC.decode(label.as_bytes()) else {
            return false;
        };
        keys.iter()
            .any(|key| ring::hmac::verify(key, &signed, &tag).is_ok())
    })
}

impl ServingCertificate {
    /// A new key and its certificate, marked with each of `secrets`.
    pub fn new(secrets: &[&[u8]]) -> Result<Self, TlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(rejected)?;
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let names: Vec<String> = secrets
            .iter()
            .map(|secret| {
                let tag = mark(secret, &spki);
                format!(
                    "{}.invalid",
                    data_encoding::BASE32_DNSSEC.encode(tag.as_ref())
                )
            })
            .collect();
        let mut params = rcgen::CertificateParams::new(names).map_err(rejected)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(2);
        let certificate = params.self_signed(&key).map_err(rejected)?;
        Ok(Self {
            certificate: certificate.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The certificate, as a dialling tablet receives it.
    pub fn der(&self) -> &[u8] {
        self.certificate.as_ref()
    }
}

/// This tablet's side of a connection with a teammate: its certificate
/// and key, the antenna's authority, its team secret, and the revocation
/// list it has heard of.
pub struct TeamTls {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    authority: Vec<u8>,
    team_secret: Option<secrecy::SecretSlice<u8>>,
    previous_team_secret: Option<secrecy::SecretSlice<u8>>,
    roots: Arc<RootCertStore>,
    revocations: Vec<CertificateRevocationListDer<'static>>,
}

impl std::fmt::Debug for TeamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamTls")
            .field("revocations", &self.revocations.len())
            .finish_non_exhaustive()
    }
}

impl TeamTls {
    pub fn new(cert: &DeviceCertificate, revocations: Option<Vec<u8>>) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(cert.authority.clone()))
            .map_err(rejected)?;
        Ok(Self {
            certificate: CertificateDer::from(cert.certificate.clone()),
            key: PrivatePkcs8KeyDer::from(cert.key.expose_secret().to_vec()),
            authority: cert.authority.clone(),
            team_secret: cert
                .team_secret
                .as_ref()
                .map(|s| secrecy::SecretSlice::from(s.expose_secret().to_vec())),
            previous_team_secret: cert
                .previous_team_secret
                .as_ref()
                .map(|s| secrecy::SecretSlice::from(s.expose_secret().to_vec())),
            roots: Arc::new(roots),
            revocations: revocations
                .into_iter()
                .map(CertificateRevocationListDer::from)
                .collect(),
        })
    }

    /// The team secret, and the one before it while it is kept.
    fn team_secrets(&self) -> Result<Vec<&[u8]>, TlsError> {
        let current = self.team_secret.as_ref().ok_or_else(|| {
            TlsError::Rejected(
                "this tablet has no team secret yet: sync with the server once, then try again"
                    .into(),
            )
        })?;
        Ok(std::iter::once(current)
            .chain(&self.previous_team_secret)
            .map(|s| s.expose_secret())
            .collect())
    }

    /// The certificate to serve teammates with (see [`ServingCertificate`]).
    pub fn serving_certificate(&self) -> Result<ServingCertificate, TlsError> {
        ServingCertificate::new(&self.team_secrets()?)
    }

    /// The proof that the tablet serving `serving` is this device.
    pub fn proof(&self, serving: &ServingCertificate) -> Result<api::ServingProof, TlsError> {
        let key = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(
            self.key.secret_pkcs8_der(),
        )
        .map_err(rejected)?;
        Ok(api::ServingProof {
            certificate: api::b64(&self.certificate),
            signature: api::b64(key.sign(&proof_message(serving.der())).as_ref()),
        })
    }

    /// Which teammate served `served` (the certificate this tablet's
    /// handshake received), from its `proof`: a device certificate of this
    /// antenna, in its dates, not revoked, whose key signed the hash of
    /// `served`. A proof made for another channel does not pass.
    pub fn check_proof(
        &self,
        served: &[u8],
        proof: &api::ServingProof,
    ) -> Result<identity::Teammate, TlsError> {
        let unreadable = || TlsError::NotProven("the teammate's proof is not base64".into());
        let certificate = api::from_b64(&proof.certificate).ok_or_else(unreadable)?;
        let signature = api::from_b64(&proof.signature).ok_or_else(unreadable)?;
        let device = CertificateDer::from(certificate.as_slice());
        let verifier = Bounded {
            webpki: WebPkiServerVerifier::builder_with_provider(self.roots.clone(), provider())
                .with_crls(self.revocations.clone())
                .build()
                .map_err(rejected)?,
            authority: self.authority.clone(),
        };
        let name = ServerName::try_from(identity::PEER_NAME).map_err(rejected)?;
        verifier
            .verify_server_cert(&device, &[], &name, &[], UnixTime::now())
            .map_err(|e| TlsError::NotProven(format!("the teammate's certificate: {e}")))?;
        webpki::EndEntityCert::try_from(&device)
            .map_err(rejected)?
            .verify_signature(webpki::ring::ED25519, &proof_message(served), &signature)
            .map_err(|_| {
                TlsError::Rejected("the teammate's proof was not made for this connection".into())
            })?;
        identity::Teammate::from_certificate(&certificate).map_err(rejected)
    }

    /// Serving teammates: only a certificate of this antenna, in its
    /// dates, not revoked; this tablet shows `serving`.
    pub fn server_config(
        &self,
        serving: &ServingCertificate,
    ) -> Result<Arc<ServerConfig>, TlsError> {
        let verifier = Bounded {
            webpki: WebPkiClientVerifier::builder_with_provider(self.roots.clone(), provider())
                .with_crls(self.revocations.clone())
                .build()
                .map_err(rejected)?,
            authority: self.authority.clone(),
        };
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rejected)?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(
                vec![serving.certificate.clone()],
                serving.key.clone_key().into(),
            )
            .map_err(rejected)?;
        config.alpn_protocols = vec![HTTP1.to_vec()];
        Ok(Arc::new(config))
    }

    /// Dialling a teammate: it must show a certificate marked with the
    /// team secret ([`ServingCertificate`]) before this tablet shows its
    /// own; which teammate it is comes after ([`Self::check_proof`]).
    /// No server name is sent (SNI would be readable on the network).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let verifier = Marked {
            team_secrets: self
                .team_secrets()?
                .into_iter()
                .map(|s| secrecy::SecretSlice::from(s.to_vec()))
                .collect(),
            signatures: Signatures(provider()),
        };
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rejected)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_auth_cert(vec![self.certificate.clone()], self.key.clone_key().into())
            .map_err(rejected)?;
        config.alpn_protocols = vec![HTTP1.to_vec()];
        config.enable_sni = false;
        Ok(Arc::new(config))
    }
}

fn proof_message(served: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut message = PROOF_PREFIX.to_vec();
    message.extend_from_slice(&sha2::Sha256::digest(served));
    message
}

/// The handshake's signatures, checked as rustls checks any (ring).
#[derive(Debug)]
struct Signatures(Arc<CryptoProvider>);

/// The signature methods of rustls' verifier traits, by the [`Signatures`]
/// in the field named.
macro_rules! signature_checks {
    ($field:tt) => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.$field.tls12(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.$field.tls13(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.$field.schemes()
        }
    };
}

impl Signatures {
    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The dialling tablet's check of a serving tablet's certificate: it
/// carries the mark of its own key under the team secret.
struct Marked {
    team_secrets: Vec<secrecy::SecretSlice<u8>>,
    signatures: Signatures,
}

impl std::fmt::Debug for Marked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Marked")
    }
}

/// Why a serving tablet's certificate was refused, as rustls shows it
/// (through its `Debug`): the sentence.
struct NotMarked;

impl std::fmt::Debug for NotMarked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for NotMarked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a tablet of this antenna (its certificate lacks the team's mark)")
    }
}

impl std::error::Error for NotMarked {}

impl ServerCertVerifier for Marked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let secrets: Vec<&[u8]> = self
            .team_secrets
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        if marked(&secrets, end_entity) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(NotMarked)),
            )))
        }
    }

    signature_checks!(signatures);
}

/// What a stranger on the network runs: TLS that takes any certificate.
/// Maraude never uses it; the tests that play a stranger do (here and in
/// `tests/sync`).
#[doc(hidden)]
pub mod stranger {
    use super::*;

    /// A client that takes any server's certificate and shows none.
    pub fn client_config() -> Arc<ClientConfig> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(Signatures(provider()))))
            .with_no_client_auth();
        Arc::new(config)
    }

    /// A server with a certificate of its own making, that asks the
    /// client for one and would take any.
    pub fn server_config() -> Arc<ServerConfig> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("a key");
        let cert = rcgen::CertificateParams::new(vec![identity::PEER_NAME.into()])
            .expect("a name")
            .self_signed(&key)
            .expect("self-signed");
        let config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .with_client_cert_verifier(Arc::new(AnyCertificate(Signatures(provider()))))
            .with_single_cert(
                vec![cert.der().clone()],
                PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .expect("usable");
        Arc::new(config)
    }

    #[derive(Debug)]
    struct AnyCertificate(Signatures);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        signature_checks!(0);
    }

    impl ClientCertVerifier for AnyCertificate {
        fn root_hint_subjects(&self) -> &[DistinguishedName] {
            &[]
        }

        fn verify_client_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: UnixTime,
        ) -> Result<ClientCertVerified, rustls::Error> {
            Ok(ClientCertVerified::assertion())
        }

        signature_checks!(0);
    }
}

/// A teammate's certificate checked by rustls' WebPKI verifier (signed by
/// the antenna's authority, within its dates by this tablet's clock, not
/// in the revocation list), then refused if it is
/// [`identity::unbounded`]: the dates are what keeps a revoked tablet out
/// of teammates that never heard of its revocation, and one issued before
/// certificates ran out has none that matter.
#[derive(Debug)]
struct Bounded<V: ?Sized> {
    webpki: Arc<V>,
    authority: Vec<u8>,
}

impl<V: ?Sized> Bounded<V> {
    fn refuse_unbounded(
        &self,
        end_entity: &CertificateDer<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
        if identity::unbounded(&self.authority, end_entity, now) {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(UnboundedCertificate)),
            )));
        }
        Ok(())
    }
}

/// [`identity::IdentityError::Unbounded`] as rustls shows it in a refusal
/// (through its `Debug`): the sentence, not a variant's name.
struct UnboundedCertificate;

impl std::fmt::Display for UnboundedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        identity::IdentityError::Unbounded.fmt(f)
    }
}

impl std::fmt::Debug for UnboundedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for UnboundedCertificate {}

impl ClientCertVerifier for Bounded<dyn ClientCertVerifier> {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .webpki
            .verify_client_cert(end_entity, intermediates, now)?;
        self.refuse_unbounded(end_entity, now)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

impl ServerCertVerifier for Bounded<WebPkiServerVerifier> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        self.refuse_unbounded(end_entity, now)?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// What a handler knows of a TLS connection: where from, and the
/// certificate the client showed (teammates only).
#[derive(Debug, Clone)]
pub struct TlsConnection {
    pub remote: SocketAddr,
    pub client_certificate: Option<CertificateDer<'static>>,
}

impl TlsConnection {
    pub(crate) fn of(stream: &TlsStream<TcpStream>, remote: SocketAddr) -> Self {
        let (_, connection) = stream.get_ref();
        Self {
            remote,
            client_certificate: connection
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|c| c.clone().into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{PEER_NAME, testing::TestAuthority};
    use maraude_core::access::Role;
    use rustls::pki_types::ServerName;
    use rustls::{CertificateError, ClientConnection, ServerConnection};

    /// Both ends of a TLS handshake in memory.
    struct Ends {
        dialling: rustls::Connection,
        serving: rustls::Connection,
    }

    /// A whole TLS handshake in memory between `dialling` and a tablet
    /// serving with `server_config`: the first side's refusal, if any.
    fn run(
        dialling: Arc<ClientConfig>,
        server_config: Arc<ServerConfig>,
    ) -> (Ends, Result<(), rustls::Error>) {
        let name = ServerName::try_from(PEER_NAME).expect("a name");
        let mut ends = Ends {
            dialling: rustls::Connection::Client(
                ClientConnection::new(dialling, name).expect("a connection"),
            ),
            serving: rustls::Connection::Server(
                ServerConnection::new(server_config).expect("a connection"),
            ),
        };
        fn pass(
            from: &mut rustls::Connection,
            to: &mut rustls::Connection,
        ) -> Result<(), rustls::Error> {
            let mut bytes = Vec::new();
            while from.wants_write() {
                from.write_tls(&mut bytes).expect("in memory");
            }
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                to.read_tls(&mut rest).expect("in memory");
                to.process_new_packets()?;
            }
            Ok(())
        }
        for _ in 0..8 {
            let step = pass(&mut ends.dialling, &mut ends.serving)
                .and_then(|()| pass(&mut ends.serving, &mut ends.dialling));
            if let Err(e) = step {
                return (ends, Err(e));
            }
            if !ends.dialling.is_handshaking() && !ends.serving.is_handshaking() {
                return (ends, Ok(()));
            }
        }
        panic!("the handshake did not end");
    }

    /// `client` dials `server`, which serves a new [`ServingCertificate`];
    /// then `client` checks `server`'s proof. Which teammate it found, or
    /// the first refusal (the handshake's, then the proof's).
    fn meet(client: &TeamTls, server: &TeamTls) -> Result<identity::Teammate, String> {
        let serving = server.serving_certificate().expect("a team secret");
        let (_, handshake) = run(
            client.client_config().expect("usable"),
            server.server_config(&serving).expect("usable"),
        );
        handshake.map_err(|e| format!("handshake: {e}"))?;
        let proof = server.proof(&serving).expect("a proof");
        client
            .check_proof(serving.der(), &proof)
            .map_err(|e| format!("proof: {e}"))
    }

    fn expired(e: &rustls::Error) -> bool {
        matches!(
            e,
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        )
    }

    #[test]
    fn teammates_meet_and_the_dialling_one_learns_who_serves_from_the_proof() {
        let calais = TestAuthority::new();
        let lead = TeamTls::new(&calais.device_for_days(Role::Lead, 30), None).expect("usable");
        let volunteer =
            TeamTls::new(&calais.device_for_days(Role::Volunteer, 30), None).expect("usable");
        let found = meet(&volunteer, &lead).expect("teammates accept each other");
        assert_eq!((found.antenna, found.role), (calais.antenna, Role::Lead));
        assert_eq!(
            meet(&lead, &volunteer).expect("both ways").role,
            Role::Volunteer
        );
    }

    #[test]
    fn a_stranger_learns_nothing_from_a_serving_tablet() {
        let calais = TestAuthority::new();
        let lead_certificate = calais.device_for_days(Role::Lead, 30);
        let lead = TeamTls::new(&lead_certificate, None).expect("usable");
        let serving = lead.serving_certificate().expect("a team secret");
        // A stranger accepts any certificate and shows none.
        let (ends, handshake) = run(
            stranger::client_config(),
            lead.server_config(&serving).expect("usable"),
        );
        assert!(
            handshake.is_err(),
            "a tablet without a certificate is refused"
        );
        let seen = ends
            .dialling
            .peer_certificates()
            .and_then(|c| c.first())
            .expect("the stranger saw the serving certificate")
            .to_vec();
        assert_eq!(seen, serving.der());
        assert!(identity::Teammate::from_certificate(&seen).is_err());
        let shown = String::from_utf8_lossy(&seen).to_lowercase();
        for secret in [
            calais.antenna.to_string(),
            "maraude".into(),
            "lead".into(),
            "antenna".into(),
        ] {
            assert!(!shown.contains(&secret), "the certificate shows {secret}");
        }
        let id = calais.antenna.as_bytes();
        assert!(!seen.windows(id.len()).any(|w| w == id));
        // Another serving shows another key and another mark.
        let again = lead.serving_certificate().expect("a team secret");
        assert_ne!(again.der(), serving.der());
    }

    #[test]
    fn a_tablet_shows_its_certificate_only_to_a_server_marked_with_its_teams_secret() {
        let calais = TestAuthority::new();
        let volunteer =
            TeamTls::new(&calais.device_for_days(Role::Volunteer, 30), None).expect("usable");
        // A stranger on the hotspot who serves, with a key and certificate
        // of its own: it knows no team secret.
        let mut impostor_certificate = calais.device_for_days(Role::Lead, 30);
        impostor_certificate.team_secret = Some(secrecy::SecretSlice::from(vec![9; 32]));
        let impostor = TeamTls::new(&impostor_certificate, None).expect("usable");
        let serving = impostor.serving_certificate().expect("a secret");
        let (ends, handshake) = run(
            volunteer.client_config().expect("usable"),
            impostor.server_config(&serving).expect("usable"),
        );
        let refused = handshake.expect_err("refused");
        assert!(refused.to_string().contains("team's mark"), "{refused}");
        assert!(
            ends.serving.peer_certificates().is_none(),
            "the volunteer's certificate reached the impostor"
        );
    }

    #[test]
    fn after_a_revocation_changed_the_secret_teammates_on_either_secret_still_meet() {
        let calais = TestAuthority::new();
        let mut renewed = calais.device_for_days(Role::Coordinator, 30);
        renewed.previous_team_secret = renewed.team_secret.take();
        renewed.team_secret = Some(secrecy::SecretSlice::from(vec![8; 32]));
        let coordinator = TeamTls::new(&renewed, None).expect("usable");
        // The lead has not synced with the server since the revocation.
        let lead = TeamTls::new(&calais.device_for_days(Role::Lead, 30), None).expect("usable");
        meet(&lead, &coordinator).expect("the lead dials the coordinator");
        meet(&coordinator, &lead).expect("the coordinator dials the lead");
        // Once the previous secret is dropped, they no longer do.
        renewed.previous_team_secret = None;
        let coordinator = TeamTls::new(&renewed, None).expect("usable");
        assert!(meet(&lead, &coordinator).is_err());
        assert!(meet(&coordinator, &lead).is_err());
    }

    #[test]
    fn a_proof_made_for_another_connection_or_by_another_antenna_is_refused() {
        let calais = TestAuthority::new();
        let lead = TeamTls::new(&calais.device_for_days(Role::Lead, 30), None).expect("usable");
        let volunteer =
            TeamTls::new(&calais.device_for_days(Role::Volunteer, 30), None).expect("usable");
        let first = lead.serving_certificate().expect("a team secret");
        let second = lead.serving_certificate().expect("a team secret");
        // Replayed: a proof seen on one connection, shown on another.
        let replayed = volunteer
            .check_proof(second.der(), &lead.proof(&first).expect("a proof"))
            .expect_err("refused");
        assert!(
            replayed
                .to_string()
                .contains("not made for this connection"),
            "{replayed}"
        );
        // A device of another antenna (same team secret in tests).
        let dunkerque = TestAuthority::new();
        let stranger =
            TeamTls::new(&dunkerque.device_for_days(Role::Coordinator, 30), None).expect("usable");
        let theirs = stranger.serving_certificate().expect("a team secret");
        assert!(
            volunteer
                .check_proof(theirs.der(), &stranger.proof(&theirs).expect("a proof"))
                .is_err()
        );
    }

    #[test]
    fn a_teammate_showing_an_expired_certificate_is_refused_both_ways() {
        let calais = TestAuthority::new();
        let team = |days| {
            TeamTls::new(&calais.device_for_days(Role::Volunteer, days), None).expect("usable")
        };
        let (lead, volunteer) = (team(30), team(30));
        meet(&volunteer, &lead).expect("two teammates in date accept each other");

        // A tablet that has not synced with the server for weeks (a lost
        // one, revoked since without its teammates hearing of it).
        let stale = team(-1);
        let serving = stale.serving_certificate().expect("a team secret");
        let (_, dialling) = run(
            stale.client_config().expect("usable"),
            lead.server_config(&lead.serving_certificate().expect("a team secret"))
                .expect("usable"),
        );
        let dialling = dialling.unwrap_err();
        assert!(expired(&dialling), "{dialling}");
        let serving = lead
            .check_proof(serving.der(), &stale.proof(&serving).expect("a proof"))
            .unwrap_err();
        assert!(serving.to_string().contains("expired"), "{serving}");
    }

    #[test]
    fn a_certificate_from_before_they_ran_out_is_refused_both_ways() {
        let calais = TestAuthority::new();
        let lead = TeamTls::new(&calais.device_for_days(Role::Lead, 30), None).expect("usable");
        // As the server issued them before: valid until 4096.
        let for_ever = calais.device(
            Role::Volunteer,
            rcgen::date_time_ymd(1975, 1, 1),
            rcgen::date_time_ymd(4096, 1, 1),
        );
        let old = TeamTls::new(&for_ever, None).expect("usable");
        let dialling = meet(&old, &lead).unwrap_err();
        assert!(
            dialling.contains("before certificates ran out"),
            "{dialling}"
        );
        let serving = meet(&lead, &old).unwrap_err();
        assert!(serving.contains("before certificates ran out"), "{serving}");
        // The longest a server issues passes.
        let longest =
            calais.device_for_days(Role::Volunteer, i64::from(identity::MAX_CERTIFICATE_DAYS));
        meet(&TeamTls::new(&longest, None).expect("usable"), &lead).expect("accepted");
    }
}
