//! TLS, with rustls and ring, for the two places Maraude encrypts its own
//! connections:
//!
//! - the base server's HTTPS when it is given a certificate (otherwise it
//!   speaks plain HTTP behind a reverse proxy that does TLS), and devices
//!   checking it against the system's trusted certificates;
//! - tablets syncing with each other: mutual TLS 1.3, each side showing
//!   the certificate its antenna's authority signed (see
//!   [`crate::identity`]), checked against that authority and the
//!   antenna's revocation list.
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

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{0} holds no certificate (a PEM file with `BEGIN CERTIFICATE`)")]
    NoCertificate(String),
    #[error("this certificate or key is not usable: {0}")]
    Rejected(String),
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
/// system's trusted certificates (on Linux, `SSL_CERT_FILE` adds one).
pub fn server_client_config() -> Result<ClientConfig, TlsError> {
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

/// This tablet's side of a connection with a teammate: its certificate
/// and key, the antenna's authority, and the revocation list it has heard
/// of.
#[derive(Debug)]
pub struct TeamTls {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    authority: Vec<u8>,
    roots: Arc<RootCertStore>,
    revocations: Vec<CertificateRevocationListDer<'static>>,
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
            roots: Arc::new(roots),
            revocations: revocations
                .into_iter()
                .map(CertificateRevocationListDer::from)
                .collect(),
        })
    }

    /// Serving teammates: only a certificate of this antenna, in its
    /// dates, not revoked.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
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
            .with_single_cert(vec![self.certificate.clone()], self.key.clone_key().into())
            .map_err(rejected)?;
        config.alpn_protocols = vec![HTTP1.to_vec()];
        Ok(Arc::new(config))
    }

    /// Dialling a teammate: it must show a certificate of this antenna,
    /// in its dates, not revoked; this tablet shows its own.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let verifier = Bounded {
            webpki: WebPkiServerVerifier::builder_with_provider(self.roots.clone(), provider())
                .with_crls(self.revocations.clone())
                .build()
                .map_err(rejected)?,
            authority: self.authority.clone(),
        };
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rejected)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_auth_cert(vec![self.certificate.clone()], self.key.clone_key().into())
            .map_err(rejected)?;
        config.alpn_protocols = vec![HTTP1.to_vec()];
        Ok(Arc::new(config))
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

    /// A whole TLS handshake in memory between a tablet dialling (`client`)
    /// and one serving (`server`): the first side's refusal, if any.
    fn handshake(client: &TeamTls, server: &TeamTls) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(PEER_NAME).expect("a name");
        let mut dialling = rustls::Connection::Client(ClientConnection::new(
            client.client_config().expect("usable"),
            name,
        )?);
        let mut serving = rustls::Connection::Server(ServerConnection::new(
            server.server_config().expect("usable"),
        )?);
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
            pass(&mut dialling, &mut serving)?;
            pass(&mut serving, &mut dialling)?;
            if !dialling.is_handshaking() && !serving.is_handshaking() {
                return Ok(());
            }
        }
        panic!("the handshake did not end");
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
    fn a_teammate_showing_an_expired_certificate_is_refused_both_ways() {
        let calais = TestAuthority::new();
        let team = |days| {
            TeamTls::new(&calais.device_for_days(Role::Volunteer, days), None).expect("usable")
        };
        let (lead, volunteer) = (team(30), team(30));
        handshake(&volunteer, &lead).expect("two teammates in date accept each other");

        // A tablet that has not synced with the server for weeks (a lost
        // one, revoked since without its teammates hearing of it).
        let stale = team(-1);
        let dialling = handshake(&stale, &lead).unwrap_err();
        assert!(expired(&dialling), "{dialling}");
        let serving = handshake(&lead, &stale).unwrap_err();
        assert!(expired(&serving), "{serving}");
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
        let unbounded = |e: &rustls::Error| {
            matches!(
                e,
                rustls::Error::InvalidCertificate(CertificateError::Other(_))
            ) && e.to_string().contains("before certificates ran out")
        };
        let dialling = handshake(&old, &lead).unwrap_err();
        assert!(unbounded(&dialling), "{dialling}");
        let serving = handshake(&lead, &old).unwrap_err();
        assert!(unbounded(&serving), "{serving}");
        // The longest a server issues passes.
        let longest =
            calais.device_for_days(Role::Volunteer, i64::from(identity::MAX_CERTIFICATE_DAYS));
        handshake(&TeamTls::new(&longest, None).expect("usable"), &lead).expect("accepted");
    }
}
