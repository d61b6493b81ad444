//! `[server]`: the listeners, timeouts, limits and the store's URL; built into what the gateway's
//! accept loop and handlers need.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hookgate_store::StoreUrl;
use serde::Deserialize;

use super::secrets::ConfigDir;
use super::{ConfigError, invalid};

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Store URL (`sqlite://hookgate.db`).
    pub store: String,
    /// Longest time a request may take, body upload included (slow senders get 408).
    pub request_timeout_secs: u64,
    /// Longest time a request waits for its commit before the gateway answers 503.
    pub store_timeout_secs: u64,
    /// Longest time a client may take to send a request's headers (slow-header attacks).
    pub header_read_timeout_secs: u64,
    /// Request headers never stored (credentials and cookies), case-insensitive.
    pub drop_headers: Vec<String>,
    /// Record Prometheus metrics (served at `/metrics` on `metrics_listen`).
    pub metrics: bool,
    /// Address for operators: `/metrics`, `/healthz` and `/readyz`. Never the webhook listener:
    /// the rejection counters by reason would tell a sender why its forged request failed. Unset:
    /// metrics are not served.
    pub metrics_listen: Option<String>,
    /// `text` or `json` logs.
    pub log_format: String,
    /// HTTPS: certificate and key files (PEM), reloaded on change or SIGHUP.
    pub tls: Option<TlsConfig>,
    /// Connections open at once (webhook and operator listeners together); past it a new one is
    /// closed at once. Keep it under the process's open-file limit.
    pub max_connections: usize,
    /// Bytes of request bodies held in memory at once, across all connections (a declared
    /// `Content-Length` counts from the start); past it a request gets 503 with `Retry-After`.
    pub max_body_bytes_in_flight: u64,
    /// Let several hookgate processes on one host listen on the same address (`SO_REUSEPORT`:
    /// the kernel spreads new connections over them). PostgreSQL store only: the nodes must share
    /// one database.
    pub reuse_port: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            store: "sqlite://hookgate.db".into(),
            request_timeout_secs: 30,
            store_timeout_secs: 10,
            header_read_timeout_secs: 10,
            drop_headers: ["cookie", "set-cookie", "authorization", "proxy-authorization"].map(String::from).to_vec(),
            metrics: true,
            metrics_listen: None,
            log_format: "text".into(),
            tls: None,
            max_connections: 4096,
            max_body_bytes_in_flight: 64 * 1024 * 1024,
            reuse_port: false,
        }
    }
}

/// `[server.tls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// `[server]`, validated and with its files loaded.
#[derive(Debug)]
pub(crate) struct ServerPlan {
    pub(crate) listen: SocketAddr,
    pub(crate) metrics_listen: Option<SocketAddr>,
    pub(crate) store_url: StoreUrl,
    pub(crate) request_timeout: Duration,
    pub(crate) store_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) metrics: bool,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) reuse_port: bool,
    pub(crate) max_connections: usize,
    pub(crate) max_body_bytes_in_flight: u64,
    /// Header names never stored, lowercase.
    pub(crate) drop_headers: HashSet<String>,
}

impl ServerConfig {
    /// Validates the section and loads what start-up would load (the TLS files), so `config
    /// check` finds every mistake `serve` would.
    pub(crate) fn build(&self, dir: &ConfigDir<'_>) -> Result<ServerPlan, ConfigError> {
        let listen: SocketAddr = self
            .listen
            .parse()
            .map_err(|_| invalid(format!("server.listen `{}` is not an address like 127.0.0.1:8080", self.listen)))?;
        let metrics_listen = match &self.metrics_listen {
            Some(addr) => Some(addr.parse::<SocketAddr>().map_err(|_| {
                invalid(format!("server.metrics_listen `{addr}` is not an address like 127.0.0.1:9464"))
            })?),
            None => None,
        };
        if metrics_listen.is_some() && !self.metrics {
            return Err(invalid("server.metrics_listen is set but server.metrics = false: nothing to serve"));
        }
        if metrics_listen.is_some_and(|m| m.port() != 0 && m == listen) {
            return Err(invalid("server.metrics_listen must differ from server.listen (senders must not see metrics)"));
        }
        let store_url = StoreUrl::parse(&self.store).map_err(|e| invalid(format!("server.store: {e}")))?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(invalid("server.log_format must be `text` or `json`"));
        }
        if self.request_timeout_secs == 0 || self.store_timeout_secs == 0 || self.header_read_timeout_secs == 0 {
            return Err(invalid("server timeouts must be at least 1 second"));
        }
        if self.reuse_port && !matches!(store_url, StoreUrl::Postgres(_)) {
            return Err(invalid("server.reuse_port needs a postgres:// store (the processes must share one database)"));
        }
        if self.max_connections == 0 || self.max_body_bytes_in_flight == 0 {
            return Err(invalid("server.max_connections and server.max_body_bytes_in_flight must be positive"));
        }
        let tls = self.tls.clone().map(|t| TlsConfig { cert: dir.resolve(&t.cert), key: dir.resolve(&t.key) });
        if let Some(t) = &tls {
            crate::tls::CertStore::open(&t.cert, &t.key).map_err(|e| invalid(format!("server.tls: {e}")))?;
        }
        if let StoreUrl::Postgres(pg) = &store_url {
            pg.connect_config().map_err(|e| invalid(format!("server.store: {e}")))?;
        }
        Ok(ServerPlan {
            listen,
            metrics_listen,
            store_url,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            store_timeout: Duration::from_secs(self.store_timeout_secs),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            metrics: self.metrics,
            tls,
            reuse_port: self.reuse_port,
            max_connections: self.max_connections,
            max_body_bytes_in_flight: self.max_body_bytes_in_flight,
            drop_headers: self.drop_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        })
    }
}
