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

use maraude_store::DeviceCertificate;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use secrecy::ExposeSecret;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

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
            roots: Arc::new(roots),
            revocations: revocations
                .into_iter()
                .map(CertificateRevocationListDer::from)
                .collect(),
        })
    }

    /// Serving teammates: only a certificate of this antenna, not revoked.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let verifier = WebPkiClientVerifier::builder_with_provider(self.roots.clone(), provider())
            .with_crls(self.revocations.clone())
            .build()
            .map_err(rejected)?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rejected)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.certificate.clone()], self.key.clone_key().into())
            .map_err(rejected)?;
        config.alpn_protocols = vec![HTTP1.to_vec()];
        Ok(Arc::new(config))
    }

    /// Dialling a teammate: it must show a certificate of this antenna,
    /// not revoked; this tablet shows its own.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            self.roots.clone(),
            provider(),
        )
        .with_crls(self.revocations.clone())
        .build()
        .map_err(rejected)?;
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(rejected)?
            .with_webpki_verifier(verifier)
            .with_client_auth_cert(vec![self.certificate.clone()], self.key.clone_key().into())
            .map_err(rejected)?;
        config.alpn_protocols = vec![HTTP1.to_vec()];
        Ok(Arc::new(config))
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
