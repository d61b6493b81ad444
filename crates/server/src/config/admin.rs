//! `[admin]`: the operator API's listener and tokens file. Off when the section is absent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use super::secrets::ConfigDir;
use super::server::TlsConfig;
use super::{ConfigError, invalid};
use crate::admin::Tokens;

/// `[admin]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address of the operator API and console (`127.0.0.1:8081`).
    pub listen: String,
    /// The tokens file (`hookgate admin token create`), relative to the config file.
    pub tokens_file: PathBuf,
    /// HTTPS for the operator listener: certificate and key files (PEM). Required when `listen`
    /// is not a loopback address.
    pub tls: Option<TlsConfig>,
    /// Connections the operator listener holds open at once, apart from the webhook listener's
    /// `server.max_connections`: operators (and their streams) never take webhooks' share.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Live streams one token may hold open at once.
    #[serde(default = "default_max_streams_per_token")]
    pub max_streams_per_token: usize,
}

fn default_max_connections() -> usize {
    256
}

fn default_max_streams_per_token() -> usize {
    8
}

/// `[admin]`, validated, with its tokens read.
#[derive(Debug)]
pub struct AdminPlan {
    /// Where the operator API listens.
    pub listen: SocketAddr,
    /// Its TLS files, resolved.
    pub tls: Option<TlsConfig>,
    /// The tokens in force (reloaded on SIGHUP).
    pub tokens: Arc<Tokens>,
    /// See [`AdminConfig::max_connections`].
    pub max_connections: usize,
    /// See [`AdminConfig::max_streams_per_token`].
    pub max_streams_per_token: usize,
}

impl AdminConfig {
    pub(crate) fn build(&self, dir: &ConfigDir<'_>) -> Result<AdminPlan, ConfigError> {
        let listen: SocketAddr = self
            .listen
            .parse()
            .map_err(|_| invalid(format!("admin.listen `{}` is not an address like 127.0.0.1:8081", self.listen)))?;
        if !listen.ip().is_loopback() && self.tls.is_none() {
            return Err(invalid(format!(
                "admin.listen `{listen}` is not a loopback address: set [admin.tls] (cert, key) so tokens never cross the network in clear"
            )));
        }
        let tls = self.tls.as_ref().map(|t| TlsConfig { cert: dir.resolve(&t.cert), key: dir.resolve(&t.key) });
        if let Some(t) = &tls {
            crate::tls::CertStore::open(&t.cert, &t.key).map_err(|e| invalid(format!("admin.tls: {e}")))?;
        }
        let tokens =
            Tokens::load(dir.resolve(&self.tokens_file)).map_err(|e| invalid(format!("admin.tokens_file: {e}")))?;
        if self.max_connections == 0 || self.max_streams_per_token == 0 {
            return Err(invalid("admin.max_connections and admin.max_streams_per_token must be at least 1"));
        }
        Ok(AdminPlan {
            listen,
            tls,
            tokens: Arc::new(tokens),
            max_connections: self.max_connections,
            max_streams_per_token: self.max_streams_per_token,
        })
    }
}
