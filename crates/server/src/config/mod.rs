//! The configuration file: parsed (serde, unknown keys refused), then validated and built into
//! runtime objects by [`Config::build`], so every mistake stops the start with a clear message
//! before the first request (fail closed). `hookgate config check` runs the same path.
//!
//! Each section builds itself (`server.rs`, `store.rs`, `source.rs`; targets in
//! `hookgate-deliver`); this module only aggregates, and checks what spans sections (names,
//! paths, limits). No runtime module imports the raw configuration.

mod admin;
mod diagnosis;
mod secrets;
mod server;
mod source;
mod store;
mod toml_error;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hookgate_deliver::Target;
use hookgate_store::{StoreOptions, StoreUrl};
pub use hookgate_verify::SecretRef;
use serde::Deserialize;

pub use self::admin::{AdminConfig, AdminPlan};
pub use self::diagnosis::DiagnosisConfig;
use self::secrets::ConfigDir;
pub use self::secrets::SourceSecret;
pub use self::server::{ServerConfig, TlsConfig};
pub use self::source::{DedupConfig, SourceConfig};
pub use self::store::StoreConfig;
pub use self::toml_error::parse_error;
use crate::ingest::source::Source;

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a configuration (unknown key, wrong type, …).
    #[error("invalid configuration {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A value is invalid.
    #[error("{0}")]
    Invalid(String),
}

pub(crate) fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[store]` tuning.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[[source]]`: one per provider endpoint.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// `[[target]]`: internal services events are delivered to.
    #[serde(default, rename = "target")]
    pub targets: Vec<hookgate_deliver::TargetConfig>,
    /// `[admin]`: the operator API (off when absent).
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    /// `[diagnosis]`: why rejected requests failed.
    #[serde(default)]
    pub diagnosis: DiagnosisConfig,
    /// Where the file was read from (relative paths in it are resolved against its directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// What `build` produces: everything the server needs, validated.
#[derive(Debug)]
pub struct Built {
    /// Listen address.
    pub listen: SocketAddr,
    /// Store URL.
    pub store_url: StoreUrl,
    /// Store tuning.
    pub store_options: StoreOptions,
    /// Sources with their verifiers.
    pub sources: Vec<Source>,
    /// See [`ServerConfig::request_timeout_secs`].
    pub request_timeout: Duration,
    /// See [`ServerConfig::store_timeout_secs`].
    pub store_timeout: Duration,
    /// See [`ServerConfig::header_read_timeout_secs`].
    pub header_read_timeout: Duration,
    /// Record metrics.
    pub metrics: bool,
    /// See [`ServerConfig::metrics_listen`].
    pub metrics_listen: Option<SocketAddr>,
    /// TLS files.
    pub tls: Option<TlsConfig>,
    /// Delivery targets.
    pub targets: Vec<Target>,
    /// Event retention (`None`: keep forever).
    pub retention: Option<Duration>,
    /// See [`ServerConfig::reuse_port`].
    pub reuse_port: bool,
    /// See [`ServerConfig::max_connections`].
    pub max_connections: usize,
    /// See [`ServerConfig::max_body_bytes_in_flight`].
    pub max_body_bytes_in_flight: u64,
    /// The operator API, when `[admin]` is set.
    pub admin: Option<AdminPlan>,
    /// Rejection diagnosis.
    pub diagnosis: crate::ingest::DiagnosisPlan,
    /// What is valid but almost certainly not meant (a route on a metadata field its source
    /// never produces): `serve` logs them at start-up, `config check` prints them.
    pub warnings: Vec<String>,
}

impl Config {
    /// Reads and parses a file (no validation yet; see [`Config::build`]).
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::Parse`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.display().to_string(), message: parse_error(&text, &e) })?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// Validates everything and builds the runtime objects: schemes resolved, secrets read and
    /// decoded, verifiers keyed, targets' clients made. Nothing is left to fail on the first
    /// request.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first problem.
    pub fn build(&self) -> Result<Built, ConfigError> {
        let dir = ConfigDir(&self.base_dir);
        let server = self.server.build(&dir)?;
        let (store_options, retention) = self.store.build()?;
        let admin = self.admin.as_ref().map(|a| a.build(&dir)).transpose()?;
        let diagnosis = self.diagnosis.build()?;
        if let Some(a) = &admin
            && (a.listen == server.listen || server.metrics_listen == Some(a.listen))
            && a.listen.port() != 0
        {
            return Err(invalid("admin.listen must differ from server.listen and server.metrics_listen"));
        }
        if let Some(sc) = self.sources.iter().find(|sc| sc.body_limit as u64 > server.max_body_bytes_in_flight) {
            return Err(invalid(format!(
                "source `{}`: body_limit ({}) is over server.max_body_bytes_in_flight ({}): its largest bodies could never be read",
                sc.name, sc.body_limit, server.max_body_bytes_in_flight
            )));
        }
        if self.sources.is_empty() {
            return Err(invalid("no [[source]]: nothing to receive"));
        }
        let mut targets: Vec<Target> = Vec::new();
        for t in &self.targets {
            if targets.iter().any(|x| x.name() == t.name) {
                return Err(invalid(format!("duplicate target name `{}`", t.name)));
            }
            targets.push(Target::build(t, &dir).map_err(|e| invalid(format!("target `{}`: {e}", t.name)))?);
        }
        let has_target = |name: &str| targets.iter().any(|t| t.name() == name);
        let mut names = HashSet::new();
        let mut paths = HashSet::new();
        let mut sources = Vec::new();
        let mut warnings = Vec::new();
        for sc in &self.sources {
            if sc.name.is_empty() || !sc.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(invalid(format!("source name `{}` must be letters, digits, `-` or `_`", sc.name)));
            }
            if !names.insert(sc.name.clone()) {
                return Err(invalid(format!("duplicate source name `{}`", sc.name)));
            }
            if !paths.insert(sc.path.clone()) {
                return Err(invalid(format!("source `{}`: duplicate path `{}`", sc.name, sc.path)));
            }
            let source = sc
                .build(&dir, &server.drop_headers, &has_target)
                .map_err(|e| invalid(format!("source `{}`: {e}", sc.name)))?;
            warnings.extend(sc.route_field_warnings(&source.metadata));
            let scheme = source.scheme();
            if scheme.is_weak() {
                let why = match &scheme.proof {
                    hookgate_verify::Proof::BodyHmac(_) => {
                        "its MAC covers a few body fields, not the event, so a captured signature can carry other event data (the signed token is deduplicated)"
                    }
                    _ => {
                        "its credential covers no byte of the request and never expires, so anyone who sees one request can send others"
                    }
                };
                warnings.push(format!(
                    "source `{}`: scheme `{}` is weak: {why} (use HTTPS; prefer a signing scheme where the sender offers one)",
                    sc.name, scheme.name
                ));
            }
            sources.push(source);
        }
        Ok(Built {
            listen: server.listen,
            store_url: server.store_url,
            store_options,
            sources,
            request_timeout: server.request_timeout,
            store_timeout: server.store_timeout,
            header_read_timeout: server.header_read_timeout,
            metrics: server.metrics,
            metrics_listen: server.metrics_listen,
            tls: server.tls,
            targets,
            retention,
            reuse_port: server.reuse_port,
            max_connections: server.max_connections,
            max_body_bytes_in_flight: server.max_body_bytes_in_flight,
            admin,
            diagnosis,
            warnings,
        })
    }
}
