//! TLS to PostgreSQL over rustls (ring provider; no OpenSSL, no aws-lc), as `sslmode` asks:
//! `prefer`/`require` encrypt without checking the server's certificate unless `sslrootcert` is
//! given (then the chain is checked, as libpq does), `verify-ca` checks the chain against
//! `sslrootcert`, `verify-full` also the host name.
//!
//! Failures are [`TlsError`]s, so [`crate::error::connect_error`] can tell the operator what is
//! wrong (not the CA they gave, not this host name) rather than rustls's wording.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

use crate::error::TlsError;

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Nothing: encryption against a passive listener only (`prefer`/`require` without a CA).
    Nothing,
    /// Signed by the CA in `sslrootcert` (`verify-ca`, or `require` with `sslrootcert`).
    Chain,
    /// Signed by that CA and issued for the host connected to (`verify-full`).
    ChainAndName,
}

/// Makes a TLS connector per connection (tokio-postgres names the host then).
#[derive(Debug, Clone)]
pub(crate) struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
    /// `sslrootcert` as given, quoted when the server's CA is not that one.
    root_cert: String,
}

impl MakeRustls {
    /// Reads `root_cert` (when the check needs it) and builds the client configuration.
    pub(crate) fn new(check: Check, root_cert: Option<&Path>) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = match (check, root_cert) {
            (Check::Nothing, _) => None,
            (_, Some(path)) => Some(Arc::new(load_roots(path)?)),
            // The URL parser never lets this through; fail closed rather than check nothing.
            (_, None) => {
                return Err(TlsError::RootCert { path: String::new(), reason: "no file given".into() });
            }
        };
        let verifier =
            Verifier { roots, names: check == Check::ChainAndName, algs: provider.signature_verification_algorithms };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            // Cannot fail: ring's provider has suites for both TLS 1.2 and 1.3.
            .expect("the ring provider supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        // PostgreSQL 17's direct TLS (`sslnegotiation=direct`) requires this ALPN; older servers
        // ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        let root_cert = root_cert.map(|p| p.display().to_string()).unwrap_or_default();
        Ok(Self { config: Arc::new(config), root_cert })
    }
}

fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let err = |reason: String| TlsError::RootCert { path: path.display().to_string(), reason };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("not PEM: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| err(format!("not a usable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(err("it holds no certificate".into()));
    }
    Ok(roots)
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = Handshake;
    type Error = TlsError;

    fn make_tls_connect(&mut self, host: &str) -> Result<Handshake, TlsError> {
        // Called for every connection, TLS or not (a Unix socket gives ""): the name is checked
        // only when a handshake happens.
        Ok(Handshake { make: self.clone(), host: host.to_owned() })
    }
}

/// One connection's handshake.
#[derive(Debug)]
pub(crate) struct Handshake {
    make: MakeRustls,
    host: String,
}

impl<S> TlsConnect<S> for Handshake
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = TlsError;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, TlsError>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let Handshake { make, host } = self;
            let name = ServerName::try_from(host.clone()).map_err(|_| TlsError::Handshake {
                host: host.clone(),
                reason: "not a host name TLS can check".into(),
            })?;
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&make.config));
            match connector.connect(name, stream).await {
                Ok(tls) => Ok(RustlsStream(tls)),
                Err(e) => Err(classify(e, host, make.root_cert)),
            }
        })
    }
}

/// tokio-rustls carries rustls's error inside an `io::Error`; the certificate's faults get words
/// of their own.
fn classify(e: std::io::Error, host: String, root_cert: String) -> TlsError {
    let Some(rustls_error) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return TlsError::Handshake { host, reason: e.to_string() };
    };
    match rustls_error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => TlsError::UnknownCa { host, root_cert },
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => {
            TlsError::HostMismatch { host, presented: String::new() }
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { presented, .. }) => {
            let names: Vec<&str> = presented.iter().map(|n| plain_name(n)).collect();
            TlsError::HostMismatch { host, presented: names.join(", ") }
        }
        rustls::Error::InvalidCertificate(_) => TlsError::Certificate { host, reason: rustls_error.to_string() },
        other => TlsError::Handshake { host, reason: other.to_string() },
    }
}

/// webpki names a certificate's names in Debug form (`DnsName("db.internal")`,
/// `IpAddress(10.0.0.5)`): the operator wants the name alone.
fn plain_name(name: &str) -> &str {
    let inner = |prefix: &str, suffix: &str| name.strip_prefix(prefix)?.strip_suffix(suffix);
    inner("DnsName(\"", "\")").or_else(|| inner("IpAddress(", ")")).unwrap_or(name)
}

/// Checks as much of the server's certificate as [`Check`] says. The handshake's signatures are
/// always checked, so even `require` talks to the holder of the certificate's key (which stops a
/// passive listener, though not an active one that presents its own).
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<RootCertStore>>,
    names: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else { return Ok(ServerCertVerified::assertion()) };
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(&cert, roots, intermediates, now, self.algs.all)?;
        if self.names {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// A TLS connection to the server.
#[derive(Debug)]
pub(crate) struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // No `tls-server-end-point`: its hash depends on the certificate's signature algorithm,
        // which needs an X.509 parser; SCRAM then runs without channel binding (as over `prefer`).
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn certificate_names_are_shown_plain() {
        assert_eq!(super::plain_name("DnsName(\"db.internal\")"), "db.internal");
        assert_eq!(super::plain_name("IpAddress(10.0.0.5)"), "10.0.0.5");
        assert_eq!(super::plain_name("DirectoryName"), "DirectoryName");
    }
}
