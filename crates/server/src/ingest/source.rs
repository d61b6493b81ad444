//! A configured source at run time: its verifier and what happens around verification
//! (dedup key, metadata for routing, which headers are kept).

use std::collections::HashSet;

use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Auth, MetadataParse, MetadataSpec, Reply, Scheme, SecretText, Verified};
use serde_json::{Map, Value};

use super::dedup::Dedup;
use super::metadata::value_of;
use super::pointer::Pointers;
use super::routing::Routes;

/// A source ready to serve.
#[derive(Debug)]
pub struct Source {
    /// Name.
    pub name: String,
    /// URL path.
    pub path: String,
    /// What a request must pass (a signature today; see `hookgate_verify::Auth`).
    pub auth: Auth,
    /// Body limit in bytes.
    pub body_limit: usize,
    /// Public URL base for URL-signing schemes.
    pub public_url: Option<String>,
    /// Dedup rule.
    pub dedup: Dedup,
    /// Metadata fields.
    pub metadata: Vec<MetadataSpec>,
    /// Keep rejected bodies.
    pub keep_rejected_bodies: bool,
    /// Where events go.
    pub routes: Routes,
    drop_headers: HashSet<String>,
    /// Every pointer `derive` reads, found in one pass per body.
    pointers: Pointers,
    /// Each secret's label (or position), in the verifier's order.
    pub(crate) secret_labels: Vec<String>,
    /// The secrets' text as stored, for diagnosis.
    pub(crate) secret_texts: Vec<SecretText>,
    /// Retired secrets, tried only by diagnosis.
    pub(crate) retired_secrets: Vec<SecretText>,
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
    /// Tag values that look like personal data (`ingest/pii.rs`): key and kind, never the value.
    pub pii: Vec<hookgate_store::PiiMark>,
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

/// What a source is built from (the configuration's `source` section builds it).
#[derive(Debug)]
pub(crate) struct SourceParts {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) auth: Auth,
    pub(crate) body_limit: usize,
    pub(crate) public_url: Option<String>,
    pub(crate) dedup: Dedup,
    pub(crate) metadata: Vec<MetadataSpec>,
    pub(crate) keep_rejected_bodies: bool,
    pub(crate) routes: Routes,
    pub(crate) drop_headers: HashSet<String>,
    pub(crate) secret_labels: Vec<String>,
    pub(crate) secret_texts: Vec<SecretText>,
    pub(crate) retired_secrets: Vec<SecretText>,
}

impl Source {
    pub(crate) fn new(p: SourceParts) -> Self {
        let scheme = p.auth.scheme();
        let pointers = Pointers::new(
            [&scheme.id_pointer, &scheme.event_type_pointer]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .chain(p.metadata.iter().map(|f| f.pointer.as_str()))
                .chain(match &p.dedup {
                    Dedup::JsonPointer(p) => Some(p.as_str()),
                    _ => None,
                })
                .chain(p.routes.pointers()),
        );
        // A credential that proves nothing about the request is as good as the secret itself:
        // it is never stored, whatever the deny-list says.
        let mut drop_headers = p.drop_headers;
        if p.auth.scheme().is_weak() {
            drop_headers.extend(p.auth.scheme().proof_headers());
        }
        Self {
            pointers,
            name: p.name,
            path: p.path,
            auth: p.auth,
            body_limit: p.body_limit,
            public_url: p.public_url,
            dedup: p.dedup,
            metadata: p.metadata,
            keep_rejected_bodies: p.keep_rejected_bodies,
            routes: p.routes,
            drop_headers,
            secret_labels: p.secret_labels,
            secret_texts: p.secret_texts,
            retired_secrets: p.retired_secrets,
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        self.auth.scheme()
    }

    /// The rejection reply.
    pub fn rejection(&self) -> &Reply {
        &self.scheme().rejection
    }

    /// The success reply.
    pub fn success(&self) -> &Reply {
        &self.scheme().success
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
                metadata.insert(f.name.clone(), value_of(f, v));
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
        let pii = self.tag_pii(&metadata);
        let metadata = Value::Object(metadata);
        let targets = self.routes.select(&metadata, &at, &|| self.match_document(body, &metadata));
        Derived { dedup_key, provider_id, event_type, metadata, targets, pii }
    }

    /// The `k=v` metadata fields (Flinks `Tag`) whose values look like personal data. A part
    /// without `=` is its own value, so it is marked under the field's name, not as a key.
    fn tag_pii(&self, metadata: &Map<String, Value>) -> Vec<hookgate_store::PiiMark> {
        let mut marks = Vec::new();
        for f in self.metadata.iter().filter(|f| f.parse == MetadataParse::Pairs) {
            let Some(Value::Object(pairs)) = metadata.get(&f.name) else { continue };
            for (k, v) in pairs {
                let (key, value) = match v.as_str() {
                    Some("") | None => (f.name.as_str(), k.as_str()),
                    Some(v) => (k.as_str(), v),
                };
                if let Some(kind) = super::pii::classify(value) {
                    marks.push(hookgate_store::PiiMark { key: key.to_owned(), kind: kind.code().to_owned() });
                }
            }
        }
        marks
    }

    /// What a route's `match` reads: the body's JSON with each metadata field at its pointer
    /// replaced by its metadata value (the same document the operator API's `match` reads).
    fn match_document(&self, body: &[u8], metadata: &Value) -> Value {
        let mut doc = serde_json::from_slice::<Value>(body).unwrap_or_else(|_| Value::Object(Map::new()));
        for f in &self.metadata {
            if let Some(v) = metadata.get(&f.name) {
                crate::filter::overlay(&mut doc, &f.pointer, v.clone());
            }
        }
        doc
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
        let matched = self.routes.matching(&derived.metadata, &at, &|| self.match_document(body, &derived.metadata));
        (derived, matched)
    }
}
