//! A configured source at run time: its verifier and what happens around verification
//! (dedup key, metadata for routing, which headers are kept).

use std::collections::{BTreeMap, HashSet};

use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Reply, Scheme, Verified, Verifier};
use serde_json::{Map, Value};

use crate::config::{DedupConfig, SourceConfig};
use crate::pointer::Pointers;

/// How a source picks the key that makes a provider retry a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    /// The provider's delivery/event id where the scheme has one, else the body hash.
    Auto,
    /// Always SHA-256 of source and body.
    Body,
    /// A JSON field of the body (falls back to the body hash when absent).
    JsonPointer(String),
    /// A request header (falls back to the body hash when absent).
    Header(String),
}

impl Dedup {
    pub(crate) fn from_config(c: &DedupConfig, scheme: &Scheme) -> Result<Self, String> {
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
}

/// How a metadata value is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// The JSON value as is.
    Raw,
    /// A `k=v,k=v` string split into an object (Flinks `Tag`).
    Pairs,
}

/// One metadata field extracted from a JSON body for routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataField {
    /// Key in the metadata object.
    pub name: String,
    /// JSON pointer into the body.
    pub pointer: String,
    /// How to read it.
    pub parse: Parse,
}

impl MetadataField {
    /// The scheme's built-in fields plus the source's own.
    pub(crate) fn for_source(scheme: &Scheme, extra: &BTreeMap<String, String>) -> Result<Vec<Self>, String> {
        let field =
            |name: &str, pointer: &str, parse| MetadataField { name: name.into(), pointer: pointer.into(), parse };
        let mut fields = match scheme.name.as_str() {
            // The routing fields the Flinks guide names: ResponseType, HttpStatusCode, Login.Id, Tag.
            "flinks" => vec![
                field("response_type", "/ResponseType", Parse::Raw),
                field("http_status_code", "/HttpStatusCode", Parse::Raw),
                field("login_id", "/Login/Id", Parse::Raw),
                field("tag", "/Tag", Parse::Pairs),
            ],
            _ => Vec::new(),
        };
        for (name, pointer) in extra {
            if !pointer.starts_with('/') && !pointer.is_empty() {
                return Err(format!("metadata `{name}`: `{pointer}` is not a JSON pointer (starts with `/`)"));
            }
            fields.retain(|f| f.name != *name);
            fields.push(field(name, pointer, Parse::Raw));
        }
        Ok(fields)
    }
}

/// A source ready to serve.
#[derive(Debug)]
pub struct Source {
    /// Name.
    pub name: String,
    /// URL path.
    pub path: String,
    /// The verifier.
    pub verifier: Verifier,
    /// Body limit in bytes.
    pub body_limit: usize,
    /// Public URL base for URL-signing schemes.
    pub public_url: Option<String>,
    /// Dedup rule.
    pub dedup: Dedup,
    /// Metadata fields.
    pub metadata: Vec<MetadataField>,
    /// Keep rejected bodies.
    pub keep_rejected_bodies: bool,
    /// Where events go.
    pub routes: crate::route::Routes,
    drop_headers: HashSet<String>,
    /// Every pointer `derive` reads, found in one pass per body.
    pointers: Pointers,
}

/// What the gateway derives from a verified request before storing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// Deduplication key.
    pub dedup_key: String,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Event type.
    pub event_type: Option<String>,
    /// Metadata object.
    pub metadata: Value,
    /// Targets the routes select.
    pub targets: Vec<String>,
}

/// Lowercase hex SHA-256 (`body_sha256`), as the store checks it.
pub use hookgate_store::sha256_hex;

fn text_of(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn pairs(text: &str) -> Value {
    let mut map = Map::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        map.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
    }
    Value::Object(map)
}

impl Source {
    pub(crate) fn new(
        sc: &SourceConfig,
        verifier: Verifier,
        dedup: Dedup,
        metadata: Vec<MetadataField>,
        routes: crate::route::Routes,
        drop_headers: HashSet<String>,
    ) -> Self {
        let scheme = verifier.scheme();
        let pointers = Pointers::new(
            [&scheme.id_pointer, &scheme.event_type_pointer]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .chain(metadata.iter().map(|f| f.pointer.as_str()))
                .chain(match &dedup {
                    Dedup::JsonPointer(p) => Some(p.as_str()),
                    _ => None,
                })
                .chain(routes.pointers()),
        );
        Self {
            pointers,
            name: sc.name.clone(),
            path: sc.path.clone(),
            verifier,
            body_limit: sc.body_limit,
            public_url: sc.public_url.clone(),
            dedup,
            metadata,
            keep_rejected_bodies: sc.keep_rejected_bodies,
            routes,
            drop_headers,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        self.verifier.scheme()
    }

    /// The rejection reply.
    pub fn rejection(&self) -> &Reply {
        &self.scheme().rejection
    }

    /// The success reply.
    pub fn success(&self) -> &Reply {
        &self.scheme().success
    }

    /// The URL the provider signed: the configured public URL (its path replaced by nothing: the
    /// configured value is the full URL) plus the request's query when the config has none.
    pub(crate) fn signed_url(&self, path_and_query: &str) -> Option<String> {
        let base = self.public_url.as_deref()?;
        match path_and_query.split_once('?') {
            Some((_, q)) if !base.contains('?') => Some(format!("{base}?{q}")),
            _ => Some(base.to_owned()),
        }
    }

    /// Headers kept for audit: every header but the deny-list, values as text.
    pub(crate) fn kept_headers(&self, headers: &HeaderMap) -> Vec<(String, hookgate_store::HeaderBytes)> {
        headers
            .iter()
            .filter(|(name, _)| !self.drop_headers.contains(name.as_str()))
            .map(|(name, value)| (name.as_str().to_owned(), hookgate_store::HeaderBytes::new(value.as_bytes())))
            .collect()
    }

    /// Dedup key, ids and routing metadata for a verified body.
    pub fn derive(&self, headers: &HeaderMap, body: &[u8], body_sha256: &str, verified: &Verified) -> Derived {
        self.derive_with(headers, body, body_sha256, verified.id.clone(), verified.event_type.clone())
    }

    /// `derive` from the id and event type the verification read from headers.
    fn derive_with(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        body_sha256: &str,
        header_id: Option<String>,
        header_event_type: Option<String>,
    ) -> Derived {
        let scheme = self.scheme();
        let json = self.pointers.find(body);
        let at = |pointer: &str| json.get(pointer);
        let provider_id = header_id.or_else(|| scheme.id_pointer.as_deref().and_then(at).and_then(text_of));
        let event_type =
            header_event_type.or_else(|| scheme.event_type_pointer.as_deref().and_then(at).and_then(text_of));
        let mut metadata = Map::new();
        if let Some(t) = &event_type {
            metadata.insert("event_type".into(), Value::String(t.clone()));
        }
        for f in &self.metadata {
            if let Some(v) = at(&f.pointer) {
                let value = match (&f.parse, v) {
                    (Parse::Pairs, Value::String(s)) => pairs(&s),
                    (_, v) => v,
                };
                metadata.insert(f.name.clone(), value);
            }
        }
        // The key is unique per source (the store's constraint is on (source, key)), so the body
        // hash alone gives exactly "SHA-256 of source + body" without hashing the body twice.
        let body_key = || format!("sha256:{body_sha256}");
        let dedup_key = match &self.dedup {
            Dedup::Auto => provider_id.as_ref().map_or_else(body_key, |id| format!("id:{id}")),
            Dedup::Body => body_key(),
            Dedup::JsonPointer(p) => at(p).and_then(text_of).map_or_else(body_key, |v| format!("json:{v}")),
            Dedup::Header(h) => headers
                .get(h.as_str())
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.trim().is_empty())
                .map_or_else(body_key, |v| format!("header:{}", v.trim())),
        };
        let metadata = Value::Object(metadata);
        let targets = self.routes.select(&metadata, &at);
        Derived { dedup_key, provider_id, event_type, metadata, targets }
    }

    /// What the gateway would derive from this request if it verified, and which routes matched
    /// (`hookgate route test`; the signature is not checked). Ids and event types the scheme
    /// reads from headers come from `headers`.
    pub fn route_test(&self, headers: &HeaderMap, body: &[u8]) -> (Derived, Vec<usize>) {
        let scheme = self.scheme();
        let header = |name: &Option<String>| {
            name.as_deref().and_then(|n| headers.get(n)).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let derived = self.derive_with(
            headers,
            body,
            &sha256_hex(body),
            header(&scheme.id_header),
            header(&scheme.event_type_header),
        );
        let json = self.pointers.find(body);
        let at = |pointer: &str| json.get(pointer);
        let matched = self.routes.matching(&derived.metadata, &at);
        (derived, matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flinks_tag_pairs() {
        assert_eq!(pairs("userId=12345,session=abc"), serde_json::json!({"userId": "12345", "session": "abc"}));
        assert_eq!(pairs(" a = 1 ,, b"), serde_json::json!({"a": "1", "b": ""}));
    }
}
