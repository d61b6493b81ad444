//! The configuration file: parsed (serde, unknown keys refused), then validated and built into
//! runtime objects by [`Config::build`], so every mistake stops the start with a clear message
//! before the first request (fail closed). `hookgate config check` runs the same path.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hookgate_deliver::Target;
use hookgate_store::{RejectionRetention, StoreOptions, StoreUrl};
pub use hookgate_verify::SecretRef;
use hookgate_verify::{Algorithm, AlgorithmSpec, Reply, Scheme, Secret, Verifier};
use serde::Deserialize;

use crate::source::{Dedup, MetadataField, Source};

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

fn invalid(msg: impl Into<String>) -> ConfigError {
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
    /// Where the file was read from (relative paths in it are resolved against its directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

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

/// `[store]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Most events committed in one transaction.
    pub max_batch: usize,
    /// Writes waiting for the writer before requests get 503 at once.
    pub queue_capacity: usize,
    /// How long a write waits for a lock held by another process.
    pub busy_timeout_ms: u64,
    /// Rejected attempts kept at most.
    pub rejections_max_rows: u64,
    /// Rejected attempts kept at most this many days.
    pub rejections_max_age_days: u64,
    /// Delete events older than this many days once every delivery of theirs succeeded (0 keeps
    /// them forever). Keep it longer than any provider's retry window: a retry that arrives after
    /// its event was pruned is stored again.
    pub retention_days: u64,
    /// PostgreSQL: connections per node (ingest writers, delivery claims, reads).
    pub pool_size: usize,
    /// SQLite: keep bodies of 2 KiB and more LZ4-compressed where that saves an eighth or more
    /// (always read back as the exact bytes received). Off for tools that read the file directly.
    pub compress_bodies: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let d = StoreOptions::default();
        Self {
            max_batch: d.max_batch,
            queue_capacity: d.queue_capacity,
            busy_timeout_ms: 5000,
            rejections_max_rows: d.rejection_retention.max_rows,
            rejections_max_age_days: d.rejection_retention.max_age_secs / 86_400,
            retention_days: 0,
            pool_size: d.pool_size,
            compress_bodies: d.compress_bodies,
        }
    }
}

/// A TOML error as a message that names where and what, and never quotes a value: not
/// `e.to_string()`, which prints the offending line, nor serde's message as is, which quotes the
/// value it did not expect (`invalid type: string "…"`). Either could be a secret someone pasted
/// into the file by mistake; the line, the key and the expected shape are enough to find it.
pub fn parse_error(text: &str, e: &toml::de::Error) -> String {
    // A table read in two steps (a target: its `type`, then its kind's keys) reports the whole
    // table's span and names the key at fault as `(at `key`)`: find that key's value in the table.
    let (message, at_key) = match e.message().strip_suffix("`)").and_then(|m| m.rsplit_once(" (at `")) {
        Some((message, key)) => (message, Some(key)),
        None => (e.message(), None),
    };
    let message = redact_values(message);
    let Some(span) = e.span() else { return message };
    let start = at_key.and_then(|k| value_of_key(text, span.start, k)).unwrap_or(span.start);
    let before = &text[..start.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - line_start + 1;
    // The key whose value is at fault: the start of its line, up to `=`, when the error is in the value.
    let key = before[line_start..].split_once('=').map(|(k, _)| k.trim()).filter(|k| !k.is_empty() && !k.contains('"'));
    // The table it is in: the last header line above it.
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']') && !l.contains(['"', '\'']));
    let at = match (key, table) {
        (Some(k), Some(t)) => format!(" (`{k}` in {t})"),
        (Some(k), None) => format!(" (`{k}`)"),
        (None, Some(t)) => format!(" (in {t})"),
        (None, None) => String::new(),
    };
    format!("line {line}, column {column}{at}: {message}")
}

/// Where the value of `key` (a dotted path: its last part) starts, in the table that starts at
/// `table_start`: the first line there that assigns it, before the next table's header.
fn value_of_key(text: &str, table_start: usize, key: &str) -> Option<usize> {
    let name = key.rsplit('.').next().filter(|n| !n.is_empty())?;
    let line_start = text[..table_start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut offset = line_start;
    for (i, line) in text[line_start..].split_inclusive('\n').enumerate() {
        if i > 0 && line.trim_start().starts_with('[') {
            return None;
        }
        let mut from = 0;
        while let Some(found) = line[from..].find(name) {
            let at = from + found;
            let preceded = line[..at].trim_end().chars().last().is_none_or(|c| c == '{' || c == ',');
            let rest = line[at + name.len()..].trim_start();
            if preceded && rest.starts_with('=') {
                let value = at + name.len() + line[at + name.len()..].find('=')? + 1;
                let spaces = line[value..].len() - line[value..].trim_start().len();
                return Some(offset + value + spaces);
            }
            from = at + name.len();
        }
        offset += line.len();
    }
    None
}

/// serde's messages with the value they quote taken out: `invalid type: string "x", expected u64`
/// becomes `invalid type: string, expected u64`; `unknown variant `x`, expected …` keeps only what
/// was expected. Unknown *fields* keep their name: that is a key, and naming it is the point.
fn redact_values(message: &str) -> String {
    if message.starts_with("unknown field")
        || message.starts_with("unknown type")
        || message.starts_with("missing field")
        || message.starts_with("duplicate field")
    {
        return message.to_owned();
    }
    let (found, expected) = match message.split_once(", expected ") {
        Some((found, expected)) => (found, Some(expected)),
        None => (message, None),
    };
    // Cut the found part at its first quote or backtick: what follows is the value.
    let kept = found.find(['"', '`', '\'']).map_or(found, |i| &found[..i]).trim_end();
    match expected {
        Some(expected) => format!("{kept}, expected {expected}"),
        None => kept.to_owned(),
    }
}

/// How the deduplication key is chosen.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(untagged)]
pub enum DedupConfig {
    /// `"auto"` (provider id where the scheme has one, else body hash), `"body"`, `"provider_id"`.
    #[default]
    #[serde(skip)]
    Default,
    /// A named mode.
    Named(String),
    /// `{ json_pointer = "/RequestId" }` or `{ header = "X-Request-Id" }`.
    Field {
        /// JSON pointer into the body.
        json_pointer: Option<String>,
        /// Request header.
        header: Option<String>,
    },
}

/// `[[source]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique name (used in the store, logs and metrics).
    pub name: String,
    /// URL path (`/webhooks/flinks`).
    pub path: String,
    /// A preset name (`hookgate schemes`).
    pub scheme: Option<String>,
    /// Or a custom scheme file (TOML), relative to the config file.
    pub scheme_file: Option<PathBuf>,
    /// Secrets, current first (several during rotation).
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
    /// How secret text becomes key bytes, overriding the scheme.
    pub secret_encoding: Option<hookgate_verify::SecretEncoding>,
    /// Largest body accepted, in bytes (413 past it).
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// The public URL the provider posts to, for schemes that sign the URL.
    pub public_url: Option<String>,
    /// Allow-list for schemes whose request names the algorithm (Fin).
    pub algorithms: Option<Vec<Algorithm>>,
    /// Read legacy SHA-1 signatures where the scheme has them.
    #[serde(default)]
    pub allow_sha1: bool,
    /// Replay tolerance override, seconds.
    pub tolerance_secs: Option<u64>,
    /// Deduplication key.
    #[serde(default)]
    pub dedup: DedupConfig,
    /// Keep the bodies of rejected attempts (off: a flood of junk should not be stored).
    #[serde(default)]
    pub keep_rejected_bodies: bool,
    /// Override of the rejection reply.
    pub rejection: Option<Reply>,
    /// Override of the success reply.
    pub success: Option<Reply>,
    /// Extra metadata: name → JSON pointer into the body.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// `[[source.route]]`: routes, tried in order.
    #[serde(default)]
    pub route: Vec<crate::route::RouteConfig>,
    /// Send to every matching route's targets, not only the first match's.
    #[serde(default)]
    pub fanout: bool,
    /// Targets for events no route matches.
    #[serde(default)]
    pub default_targets: Vec<String>,
}

fn default_body_limit() -> usize {
    1024 * 1024
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
    /// decoded, verifiers keyed. Nothing is left to fail on the first request.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first problem.
    pub fn build(&self) -> Result<Built, ConfigError> {
        let listen: SocketAddr = self.server.listen.parse().map_err(|_| {
            invalid(format!("server.listen `{}` is not an address like 127.0.0.1:8080", self.server.listen))
        })?;
        let metrics_listen = match &self.server.metrics_listen {
            Some(addr) => Some(addr.parse::<SocketAddr>().map_err(|_| {
                invalid(format!("server.metrics_listen `{addr}` is not an address like 127.0.0.1:9464"))
            })?),
            None => None,
        };
        if metrics_listen.is_some() && !self.server.metrics {
            return Err(invalid("server.metrics_listen is set but server.metrics = false: nothing to serve"));
        }
        if metrics_listen.is_some_and(|m| m.port() != 0 && m == listen) {
            return Err(invalid("server.metrics_listen must differ from server.listen (senders must not see metrics)"));
        }
        let store_url = StoreUrl::parse(&self.server.store).map_err(|e| invalid(format!("server.store: {e}")))?;
        if !matches!(self.server.log_format.as_str(), "text" | "json") {
            return Err(invalid("server.log_format must be `text` or `json`"));
        }
        if self.server.request_timeout_secs == 0
            || self.server.store_timeout_secs == 0
            || self.server.header_read_timeout_secs == 0
        {
            return Err(invalid("server timeouts must be at least 1 second"));
        }
        if self.server.reuse_port && !matches!(store_url, StoreUrl::Postgres(_)) {
            return Err(invalid("server.reuse_port needs a postgres:// store (the processes must share one database)"));
        }
        if self.store.max_batch == 0 || self.store.queue_capacity == 0 || self.store.pool_size < 4 {
            return Err(invalid(
                "store.max_batch and store.queue_capacity must be positive, store.pool_size at least 4",
            ));
        }
        if self.server.max_connections == 0 || self.server.max_body_bytes_in_flight == 0 {
            return Err(invalid("server.max_connections and server.max_body_bytes_in_flight must be positive"));
        }
        if let Some(sc) = self.sources.iter().find(|sc| sc.body_limit as u64 > self.server.max_body_bytes_in_flight) {
            return Err(invalid(format!(
                "source `{}`: body_limit ({}) is over server.max_body_bytes_in_flight ({}): its largest bodies could never be read",
                sc.name, sc.body_limit, self.server.max_body_bytes_in_flight
            )));
        }
        if self.sources.is_empty() {
            return Err(invalid("no [[source]]: nothing to receive"));
        }
        let drop_headers: HashSet<String> = self.server.drop_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        let mut targets: Vec<Target> = Vec::new();
        for t in &self.targets {
            if targets.iter().any(|x| x.name() == t.name) {
                return Err(invalid(format!("duplicate target name `{}`", t.name)));
            }
            targets.push(Target::build(t, self).map_err(|e| invalid(format!("target `{}`: {e}", t.name)))?);
        }
        let mut names = HashSet::new();
        let mut paths = HashSet::new();
        let mut sources = Vec::new();
        for sc in &self.sources {
            let ctx = |msg: String| invalid(format!("source `{}`: {msg}", sc.name));
            if sc.name.is_empty() || !sc.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(invalid(format!("source name `{}` must be letters, digits, `-` or `_`", sc.name)));
            }
            if !names.insert(sc.name.clone()) {
                return Err(invalid(format!("duplicate source name `{}`", sc.name)));
            }
            if !sc.path.starts_with('/') || sc.path.contains(['{', '}', '*', '?', '#']) {
                return Err(ctx(format!("path `{}` must start with `/` and be a plain path", sc.path)));
            }
            if ["/healthz", "/readyz", "/metrics"].contains(&sc.path.as_str()) {
                return Err(ctx(format!("path `{}` is reserved", sc.path)));
            }
            if !paths.insert(sc.path.clone()) {
                return Err(ctx(format!("duplicate path `{}`", sc.path)));
            }
            if sc.body_limit == 0 {
                return Err(ctx("body_limit must be positive".into()));
            }
            let scheme = self.scheme_for(sc).map_err(ctx)?;
            let secrets = self.secrets_for(sc, &scheme).map_err(ctx)?;
            if scheme.needs_url() && sc.public_url.is_none() {
                return Err(ctx(format!(
                    "scheme `{}` signs the request URL: set public_url to the URL the provider posts to",
                    scheme.name
                )));
            }
            let metadata = MetadataField::for_source(&scheme, &sc.metadata).map_err(ctx)?;
            let dedup = Dedup::from_config(&sc.dedup, &scheme).map_err(ctx)?;
            let routes = crate::route::Routes::new(sc.route.clone(), sc.fanout, sc.default_targets.clone(), &|name| {
                targets.iter().any(|t| t.name() == name)
            })
            .map_err(ctx)?;
            let verifier = Verifier::new(scheme, secrets).map_err(|e| ctx(e.to_string()))?;
            sources.push(Source::new(sc, verifier, dedup, metadata, routes, drop_headers.clone()));
        }
        let store_options = StoreOptions {
            max_batch: self.store.max_batch,
            queue_capacity: self.store.queue_capacity,
            busy_timeout: Duration::from_millis(self.store.busy_timeout_ms),
            rejection_retention: RejectionRetention {
                max_rows: self.store.rejections_max_rows,
                max_age_secs: self.store.rejections_max_age_days.saturating_mul(86_400),
            },
            pool_size: self.store.pool_size,
            compress_bodies: self.store.compress_bodies,
            ..StoreOptions::default()
        };
        let tls = self.server.tls.clone().map(|t| TlsConfig { cert: self.resolve(&t.cert), key: self.resolve(&t.key) });
        // What start-up would load, loaded now: `config check` must find every mistake `serve` would.
        if let Some(t) = &tls {
            crate::tls::CertStore::open(&t.cert, &t.key).map_err(|e| invalid(format!("server.tls: {e}")))?;
        }
        if let StoreUrl::Postgres(pg) = &store_url {
            pg.connect_config().map_err(|e| invalid(format!("server.store: {e}")))?;
        }
        Ok(Built {
            listen,
            store_url,
            store_options,
            sources,
            request_timeout: Duration::from_secs(self.server.request_timeout_secs),
            store_timeout: Duration::from_secs(self.server.store_timeout_secs),
            header_read_timeout: Duration::from_secs(self.server.header_read_timeout_secs),
            metrics: self.server.metrics,
            metrics_listen,
            tls,
            targets,
            retention: (self.store.retention_days > 0)
                .then(|| Duration::from_secs(self.store.retention_days.saturating_mul(86_400))),
            reuse_port: self.server.reuse_port,
            max_connections: self.server.max_connections,
            max_body_bytes_in_flight: self.server.max_body_bytes_in_flight,
        })
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_owned() } else { self.base_dir.join(p) }
    }

    fn scheme_for(&self, sc: &SourceConfig) -> Result<Scheme, String> {
        let mut scheme = match (&sc.scheme, &sc.scheme_file) {
            (Some(name), None) => hookgate_verify::preset(name)
                .ok_or_else(|| format!("unknown scheme `{name}` (see `hookgate schemes`)"))?,
            (None, Some(file)) => {
                let path = self.resolve(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read scheme file {}: {e}", path.display()))?;
                let scheme: Scheme = toml::from_str(&text)
                    .map_err(|e| format!("invalid scheme file {}: {}", path.display(), parse_error(&text, &e)))?;
                scheme.validate().map_err(|e| e.to_string())?;
                scheme
            }
            _ => return Err("set exactly one of `scheme` or `scheme_file`".into()),
        };
        if let Some(enc) = sc.secret_encoding {
            scheme.secret_encoding = enc;
        }
        if sc.allow_sha1 {
            scheme.allow_sha1 = true;
        }
        if let Some(algs) = &sc.algorithms {
            match &mut scheme.algorithm {
                AlgorithmSpec::FromHeader { allowed, default, .. } => {
                    if algs.is_empty() {
                        return Err("algorithms is empty".into());
                    }
                    if algs.contains(&Algorithm::Sha1) && !sc.allow_sha1 {
                        return Err("sha1 in algorithms needs allow_sha1 = true".into());
                    }
                    allowed.clone_from(algs);
                    if default.is_some_and(|d| !allowed.contains(&d)) {
                        *default = None;
                    }
                }
                AlgorithmSpec::Fixed(_) => {
                    return Err(format!("scheme `{}` has a fixed algorithm; `algorithms` does not apply", scheme.name));
                }
            }
        }
        if let Some(t) = sc.tolerance_secs {
            match &mut scheme.timestamp {
                Some(spec) => spec.tolerance_secs = t,
                None => {
                    return Err(format!("scheme `{}` has no timestamp; tolerance_secs does not apply", scheme.name));
                }
            }
        }
        if let Some(r) = &sc.rejection {
            scheme.rejection = r.clone();
        }
        if let Some(r) = &sc.success {
            scheme.success = r.clone();
        }
        scheme.validate().map_err(|e| e.to_string())?;
        Ok(scheme)
    }

    fn secrets_for(&self, sc: &SourceConfig, scheme: &Scheme) -> Result<Vec<Secret>, String> {
        if sc.secrets.is_empty() {
            return Err("no secrets: add secrets = [{ env = \"VAR\" }] or [{ file = \"path\" }]".into());
        }
        sc.secrets
            .iter()
            .enumerate()
            .map(|(i, r)| self.read_secret(r, scheme.secret_encoding).map_err(|e| format!("secret {}: {e}", i + 1)))
            .collect()
    }

    /// The text of a secret reference (surrounding whitespace trimmed), for credentials that are
    /// sent as they are rather than used as keys.
    fn read_secret_text(&self, r: &SecretRef) -> Result<zeroize::Zeroizing<String>, String> {
        let text = self.read_secret_raw(r)?;
        Ok(zeroize::Zeroizing::new(text.trim().to_owned()))
    }

    /// Reads and decodes one secret from its environment variable or file.
    fn read_secret(&self, r: &SecretRef, encoding: hookgate_verify::SecretEncoding) -> Result<Secret, String> {
        Secret::decode(&self.read_secret_raw(r)?, encoding).map_err(|e| e.to_string())
    }

    /// The text of a secret reference as stored, from its environment variable or file.
    fn read_secret_raw(&self, r: &SecretRef) -> Result<zeroize::Zeroizing<String>, String> {
        Ok(zeroize::Zeroizing::new(match (&r.env, &r.file) {
            (Some(var), None) => std::env::var(var).map_err(|_| format!("environment variable `{var}` is not set"))?,
            (None, Some(file)) => {
                let path = self.resolve(file);
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
            }
            _ => return Err("set exactly one of `env` or `file`".into()),
        }))
    }
}

/// Targets read their files and secrets through the configuration: paths relative to its file,
/// secrets from the environment or files, as sources read theirs.
impl hookgate_deliver::Resolve for Config {
    fn path(&self, p: &Path) -> PathBuf {
        self.resolve(p)
    }

    fn text(&self, r: &SecretRef) -> Result<zeroize::Zeroizing<String>, String> {
        self.read_secret_text(r)
    }

    fn key(&self, r: &SecretRef, encoding: hookgate_verify::SecretEncoding) -> Result<Secret, String> {
        self.read_secret(r, encoding)
    }
}
