//! HTTPS on the gateway's own listener: rustls with the ring provider, certificate and key from
//! PEM files, reloaded on SIGHUP or when the files change (certificates are renewed without a
//! restart, e.g. by certbot or cert-manager).
//!
//! Handshakes run in their own tasks with a deadline, so a slow or silent client never holds up
//! `accept` for the others; finished TLS streams are handed to axum through [`TlsListener`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Why the certificate or key cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("tls: {0}")]
pub struct TlsError(String);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks the certificate chain and key.
fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError(format!("cannot read certificate {}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("invalid certificate {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(TlsError(format!("no certificate in {}", cert.display())));
    }
    // The key's bytes are never logged; only the file name appears in errors.
    let der =
        PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError(format!("cannot read key {}: {e}", key.display())))?;
    let signing = provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| TlsError(format!("unusable key {}: {e}", key.display())))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|e| TlsError(format!("{} does not match {}: {e}", key.display(), cert.display())))?;
    Ok(certified)
}

fn mtimes(cert: &Path, key: &Path) -> Option<(SystemTime, SystemTime)> {
    Some((std::fs::metadata(cert).ok()?.modified().ok()?, std::fs::metadata(key).ok()?.modified().ok()?))
}

/// The current certificate, swapped on reload; every handshake reads it.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
    cert: PathBuf,
    key: PathBuf,
    seen: RwLock<Option<(SystemTime, SystemTime)>>,
}

impl CertStore {
    /// Loads the files once; a bad pair stops the start.
    ///
    /// # Errors
    /// [`TlsError`] naming the file at fault.
    pub fn open(cert: &Path, key: &Path) -> Result<Arc<Self>, TlsError> {
        let loaded = load(cert, key)?;
        Ok(Arc::new(Self {
            current: RwLock::new(Arc::new(loaded)),
            cert: cert.to_owned(),
            key: key.to_owned(),
            seen: RwLock::new(mtimes(cert, key)),
        }))
    }

    /// Loads the files again. A bad pair is logged and the running certificate stays, so a
    /// half-written renewal never takes HTTPS down. Returns whether a new certificate is in use.
    pub fn reload(&self) -> bool {
        *self.seen.write().unwrap_or_else(std::sync::PoisonError::into_inner) = mtimes(&self.cert, &self.key);
        match load(&self.cert, &self.key) {
            Ok(loaded) => {
                *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(loaded);
                tracing::info!(cert = %self.cert.display(), "Reloaded the TLS certificate.");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "TLS certificate reload failed; keeping the current one.");
                false
            }
        }
    }

    /// Reloads when either file's modification time changed since the last load.
    pub fn reload_if_changed(&self) -> bool {
        let now = mtimes(&self.cert, &self.key);
        let changed = now.is_some() && now != *self.seen.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        changed && self.reload()
    }

    fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Watches for renewals: SIGHUP reloads at once; otherwise the files are checked every `poll`.
    pub fn watch(self: &Arc<Self>, poll: Duration) {
        let store = Arc::clone(self);
        tokio::spawn(async move {
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = tokio::time::interval(poll);
            tick.tick().await;
            loop {
                let by_signal = match hup.as_mut() {
                    Some(h) => tokio::select! { _ = h.recv() => true, _ = tick.tick() => false },
                    None => {
                        tick.tick().await;
                        false
                    }
                };
                if by_signal {
                    store.reload();
                } else {
                    store.reload_if_changed();
                }
            }
        });
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner)))
    }
}

/// Longest a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An axum listener that yields TLS streams.
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp` with the certificates of `certs`.
    ///
    /// # Errors
    /// [`TlsError`] when no TLS configuration can be built, or the local address is unknown.
    pub fn new(tcp: TcpListener, certs: &Arc<CertStore>) -> Result<Self, TlsError> {
        let acceptor = TlsAcceptor::from(certs.server_config()?);
        let local = tcp.local_addr().map_err(|e| TlsError(e.to_string()))?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "Accept failed.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, ready) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed."),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out."),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(Self { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The accept task only ends with the runtime; nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
