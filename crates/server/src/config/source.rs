//! `[[source]]`: one provider endpoint; built into the runtime `Source` (its scheme with the
//! source's overrides, its secrets, dedup rule, metadata fields and routes).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use hookgate_verify::{
    Algorithm, Auth, MetadataParse, MetadataSpec, Overrides, Reply, Scheme, Secret, SecretRef, SecretText,
};
use serde::Deserialize;

use super::secrets::{ConfigDir, SourceSecret};
use super::toml_error::parse_error;
use crate::ingest::Dedup;
use crate::ingest::routing::{RouteConfig, Routes};
use crate::ingest::source::{Source, SourceParts};

/// Paths the webhook listener serves itself.
const RESERVED_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

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
    /// Secrets, current first (several during rotation), each with an optional `label`.
    #[serde(default)]
    pub secrets: Vec<SourceSecret>,
    /// Secrets retired from this source: never accepted, only tried to explain a rejection
    /// ("the sender still signs with the old secret").
    #[serde(default)]
    pub retired_secrets: Vec<SecretRef>,
    /// How secret text becomes key bytes, overriding the scheme.
    pub secret_encoding: Option<hookgate_verify::SecretEncoding>,
    /// Largest body accepted, in bytes (413 past it).
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// The public URL the provider posts to, for schemes that sign the URL: the full URL, or the
    /// origin alone (the request's path and query are then appended; `hookgate_axum::signed_url`).
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
    pub route: Vec<RouteConfig>,
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

impl SourceConfig {
    /// The runtime source. `has_target` tells whether a target of that name is configured.
    pub(crate) fn build(
        &self,
        dir: &ConfigDir<'_>,
        drop_headers: &HashSet<String>,
        has_target: &dyn Fn(&str) -> bool,
    ) -> Result<Source, String> {
        if !self.path.starts_with('/') || self.path.contains(['{', '}', '*', '?', '#']) {
            return Err(format!("path `{}` must start with `/` and be a plain path", self.path));
        }
        if RESERVED_PATHS.contains(&self.path.as_str()) {
            return Err(format!("path `{}` is reserved", self.path));
        }
        if self.body_limit == 0 {
            return Err("body_limit must be positive".into());
        }
        let scheme = self.scheme(dir)?;
        let labels = self.labels()?;
        // Each secret is read once: its key, and its text as stored for diagnosis (other
        // decodings, whitespace), come from the same read.
        let (secrets, texts) = self.secrets(dir, &scheme, &labels)?;
        let retired = self
            .retired_secrets
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let name = match (&r.env, &r.file) {
                    (Some(var), _) => var.clone(),
                    (None, Some(file)) => file.display().to_string(),
                    (None, None) => format!("retired {}", i + 1),
                };
                let text = dir.raw(r).map_err(|e| format!("retired secret {}: {e}", i + 1))?;
                Ok(SecretText::new(name, text.as_str()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if scheme.needs_url() && self.public_url.is_none() {
            return Err(format!(
                "scheme `{}` signs the request URL: set public_url to the URL the provider posts to",
                scheme.name
            ));
        }
        let metadata = self.metadata_fields(&scheme)?;
        let dedup = dedup(&self.dedup, &scheme)?;
        let routes = Routes::new(self.route.clone(), self.fanout, self.default_targets.clone(), has_target)?;
        let auth = Auth::new(scheme, secrets).map_err(|e| e.to_string())?;
        Ok(Source::new(SourceParts {
            name: self.name.clone(),
            path: self.path.clone(),
            auth,
            body_limit: self.body_limit,
            public_url: self.public_url.clone(),
            dedup,
            metadata,
            keep_rejected_bodies: self.keep_rejected_bodies,
            routes,
            drop_headers: drop_headers.clone(),
            secret_labels: labels,
            secret_texts: texts,
            retired_secrets: retired,
        }))
    }

    /// A route condition's `field` names a metadata field by its first dotted part; one its
    /// source never produces silently never matches (`tag.userid` against `tag.userId`).
    pub(crate) fn route_field_warnings(&self, metadata: &[MetadataSpec]) -> Vec<String> {
        let mut out = Vec::new();
        for (i, route) in self.route.iter().enumerate() {
            for field in route.when.iter().filter_map(|c| c.field.as_deref()) {
                let first = field.split('.').next().unwrap_or(field);
                if metadata.iter().any(|m| m.name == first) {
                    continue;
                }
                let names: Vec<&str> = metadata.iter().map(|m| m.name.as_str()).collect();
                let hint = match metadata.iter().find(|m| m.name.eq_ignore_ascii_case(first)) {
                    Some(m) => format!(" (did you mean `{}`? names are case-sensitive)", m.name),
                    None => String::new(),
                };
                out.push(format!(
                    "source `{}`: route {}: field `{field}` is not a metadata field of this source{hint}, so it never matches; its fields: {}",
                    self.name,
                    i + 1,
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                ));
            }
        }
        out
    }

    /// Each secret's label, else its position (`1`, `2`, …); labels must be distinct.
    fn labels(&self) -> Result<Vec<String>, String> {
        let labels: Vec<String> = self
            .secrets
            .iter()
            .enumerate()
            .map(|(i, s)| s.label.clone().unwrap_or_else(|| (i + 1).to_string()))
            .collect();
        for (i, l) in labels.iter().enumerate() {
            if l.trim().is_empty() || l.len() > 64 || l.chars().any(char::is_control) {
                return Err(format!("secret {}: label must be 1 to 64 printable characters", i + 1));
            }
            if labels[..i].contains(l) {
                return Err(format!("secret {}: label `{l}` is used twice", i + 1));
            }
        }
        Ok(labels)
    }

    /// What the source changes in its scheme.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            secret_encoding: self.secret_encoding,
            allow_sha1: self.allow_sha1,
            algorithms: self.algorithms.clone(),
            tolerance_secs: self.tolerance_secs,
            rejection: self.rejection.clone(),
            success: self.success.clone(),
        }
    }

    /// The preset or scheme file, with the source's overrides.
    fn scheme(&self, dir: &ConfigDir<'_>) -> Result<Scheme, String> {
        let scheme = match (&self.scheme, &self.scheme_file) {
            (Some(name), None) => hookgate_verify::preset(name)
                .ok_or_else(|| format!("unknown scheme `{name}` (see `hookgate schemes`)"))?,
            (None, Some(file)) => {
                let path = dir.resolve(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read scheme file {}: {e}", path.display()))?;
                let scheme: Scheme = toml::from_str(&text)
                    .map_err(|e| format!("invalid scheme file {}: {}", path.display(), parse_error(&text, &e)))?;
                scheme.validate().map_err(|e| e.to_string())?;
                scheme
            }
            _ => return Err("set exactly one of `scheme` or `scheme_file`".into()),
        };
        scheme.with_overrides(&self.overrides()).map_err(|e| e.to_string())
    }

    fn secrets(
        &self,
        dir: &ConfigDir<'_>,
        scheme: &Scheme,
        labels: &[String],
    ) -> Result<(Vec<Secret>, Vec<SecretText>), String> {
        if self.secrets.is_empty() {
            return Err("no secrets: add secrets = [{ env = \"VAR\" }] or [{ file = \"path\" }]".into());
        }
        let mut keys = Vec::new();
        let mut texts = Vec::new();
        for (i, (r, label)) in self.secrets.iter().zip(labels).enumerate() {
            let raw = dir.raw(&r.from).map_err(|e| format!("secret {}: {e}", i + 1))?;
            keys.push(scheme.key(&raw).map_err(|e| format!("secret {}: {e}", i + 1))?);
            texts.push(SecretText::new(label.clone(), raw.as_str()));
        }
        Ok((keys, texts))
    }

    /// The scheme's metadata fields, then the source's own (which replace a scheme field of the
    /// same name).
    fn metadata_fields(&self, scheme: &Scheme) -> Result<Vec<MetadataSpec>, String> {
        let mut fields = scheme.metadata.clone();
        for (name, pointer) in &self.metadata {
            if !pointer.starts_with('/') && !pointer.is_empty() {
                return Err(format!("metadata `{name}`: `{pointer}` is not a JSON pointer (starts with `/`)"));
            }
            fields.retain(|f| f.name != *name);
            fields.push(MetadataSpec { name: name.clone(), pointer: pointer.clone(), parse: MetadataParse::Raw });
        }
        Ok(fields)
    }
}

/// The dedup rule a source's `dedup` names, checked against its scheme.
fn dedup(c: &DedupConfig, scheme: &Scheme) -> Result<Dedup, String> {
    match c {
        DedupConfig::Default => Ok(Dedup::Auto),
        DedupConfig::Named(n) => match n.as_str() {
            "auto" => Ok(Dedup::Auto),
            "body" => Ok(Dedup::Body),
            "provider_id" if scheme.id_header.is_some() || scheme.id_pointer.is_some() => Ok(Dedup::Auto),
            "provider_id" => Err(format!("scheme `{}` carries no provider id; use dedup = \"body\"", scheme.name)),
            other => {
                Err(format!("unknown dedup `{other}` (auto, body, provider_id, {{ json_pointer }}, {{ header }})"))
            }
        },
        DedupConfig::Field { json_pointer: Some(p), header: None } if p.starts_with('/') => {
            Ok(Dedup::JsonPointer(p.clone()))
        }
        DedupConfig::Field { json_pointer: Some(p), header: None } => {
            Err(format!("dedup json_pointer `{p}` must start with `/`"))
        }
        DedupConfig::Field { json_pointer: None, header: Some(h) } => {
            hookgate_verify::http::HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| format!("dedup header `{h}` is not a header name"))?;
            Ok(Dedup::Header(h.clone()))
        }
        DedupConfig::Field { .. } => Err("dedup: set exactly one of json_pointer or header".into()),
    }
}
