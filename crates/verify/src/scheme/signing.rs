//! How a provider signs: where the signature is, what is signed, with which primitive.

use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::encoding::Encoding;
use crate::secret::SecretEncoding;
use crate::signature::Primitive;
use crate::timestamp::{TimestampFormat, Window};

/// A signature over the request: the part of a [`Scheme`](crate::Scheme) that says how the
/// provider signs (the rest are the provider's facts: replies, ids, handshake, metadata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    /// Signature headers, tried in order: the first one present in the request is used (with
    /// every other entry for the same header name).
    pub signature: Vec<SignatureHeader>,
    /// The signed content, concatenated from these parts in order.
    pub content: Vec<Part>,
    /// The MAC algorithm, fixed or read from a request header (HMAC headers only).
    pub algorithm: AlgorithmSpec,
    /// The signed timestamp, when the scheme has one (replay protection).
    pub timestamp: Option<TimestampSpec>,
    /// How the configured key text becomes key bytes.
    pub secret_encoding: SecretEncoding,
    /// SHA-1 is broken for collisions and only tolerable where a provider gives no choice; a scheme
    /// must opt in. Without it, SHA-1 signature headers are ignored and a SHA-1 algorithm is an error.
    pub allow_sha1: bool,
    /// A URL query parameter carrying a digest of the body (Twilio `bodySHA256` for JSON bodies):
    /// when present it must match, and form parameters are then not part of the signed content.
    pub body_digest_param: Option<BodyDigestParam>,
    /// Also accept the signature over the URL with its default port added or removed (Twilio's
    /// SDKs do: a proxy may add or strip `:443`).
    pub url_port_variant: bool,
    /// The body must be a JSON object (start with `{`, after whitespace); anything else is
    /// refused before a MAC is computed. Required where the scheme answers challenge tokens with
    /// the same HMAC (X's CRC), so no answered token is ever a valid event.
    pub json_object_body: bool,
}

impl Signing {
    /// Signatures in `signature` over `content`, HMAC-SHA-256 of a UTF-8 secret, no timestamp:
    /// the starting point every preset changes what differs from.
    pub fn new(signature: Vec<SignatureHeader>, content: Vec<Part>) -> Self {
        Self {
            signature,
            content,
            algorithm: AlgorithmSpec::default(),
            timestamp: None,
            secret_encoding: SecretEncoding::Utf8,
            allow_sha1: false,
            body_digest_param: None,
            url_port_variant: false,
            json_object_body: false,
        }
    }

    /// The primitives this signing uses, each once, in header order.
    pub fn primitives(&self) -> Vec<Primitive> {
        let mut out: Vec<Primitive> = Vec::new();
        for h in &self.signature {
            if !out.contains(&h.primitive) {
                out.push(h.primitive);
            }
        }
        out
    }

    /// Whether verifying needs the request URL.
    pub fn needs_url(&self) -> bool {
        self.body_digest_param.is_some() || self.content.iter().any(|p| matches!(p, Part::Url | Part::UrlUnescaped))
    }

    /// Names of the headers it reads (signature, timestamp, algorithm, signed headers).
    pub(crate) fn header_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.signature.iter().map(|s| s.name.as_str()).collect();
        if let Some(h) = self.timestamp.as_ref().and_then(|t| t.header.as_deref()) {
            names.push(h);
        }
        if let AlgorithmSpec::FromHeader { header, .. } = &self.algorithm {
            names.push(header);
        }
        for p in &self.content {
            if let Part::Header(h) = p {
                names.push(h);
            }
        }
        names
    }

    /// Checks the signing rules (`Scheme::validate` adds the provider's facts); `Err` is the reason.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let header_ok = |name: &str| http::HeaderName::from_bytes(name.as_bytes()).is_ok();
        if self.signature.is_empty() {
            return Err("no signature header".into());
        }
        for sig in &self.signature {
            if !header_ok(&sig.name) {
                return Err(format!("`{}` is not a valid header name", sig.name));
            }
            if sig.key.is_some() && sig.separator.is_none() {
                return Err(format!("signature header `{}` has a key but no separator", sig.name));
            }
            if sig.timestamp_key.is_some() && sig.key.is_none() {
                return Err(format!("signature header `{}` has a timestamp_key but no key", sig.name));
            }
            if sig.primitive != Primitive::Hmac && sig.algorithm.is_some() {
                return Err(format!(
                    "signature header `{}` names an algorithm, but {} has its own hash",
                    sig.name, sig.primitive
                ));
            }
        }
        for sig in &self.signature {
            let same = self.signature.iter().filter(|o| o.name.eq_ignore_ascii_case(&sig.name)).count();
            if same > super::MAX_ENTRIES_PER_HEADER {
                return Err(format!(
                    "signature header `{}` is listed {same} times; at most {} entries may share a header",
                    sig.name,
                    super::MAX_ENTRIES_PER_HEADER
                ));
            }
        }
        if self.signature.iter().all(|s| s.algorithm == Some(Algorithm::Sha1)) && !self.allow_sha1 {
            return Err("every signature header is sha1, which needs allow_sha1 = true".into());
        }
        if self.content.is_empty() {
            return Err("the signed content is empty".into());
        }
        if !self.content.iter().any(|p| matches!(p, Part::Body | Part::BodyDigest { .. } | Part::SortedFormParams)) {
            return Err("the signed content does not cover the body".into());
        }
        for part in &self.content {
            match part {
                Part::Header(name) if !header_ok(name) => {
                    return Err(format!("`{name}` is not a valid header name"));
                }
                Part::Timestamp if self.timestamp.is_none() => {
                    return Err("the content signs a timestamp, but the scheme has no [timestamp]".into());
                }
                _ => {}
            }
        }
        match &self.algorithm {
            AlgorithmSpec::Fixed(Algorithm::Sha1) if !self.allow_sha1 => {
                return Err("sha1 needs allow_sha1 = true".into());
            }
            AlgorithmSpec::Fixed(_) => {}
            AlgorithmSpec::FromHeader { header, default, allowed } => {
                if !header_ok(header) {
                    return Err(format!("`{header}` is not a valid header name"));
                }
                if allowed.is_empty() {
                    return Err("the algorithm allow-list is empty".into());
                }
                if allowed.contains(&Algorithm::Sha1) && !self.allow_sha1 {
                    return Err("sha1 is in the allow-list, which needs allow_sha1 = true".into());
                }
                if let Some(d) = default
                    && !allowed.contains(d)
                {
                    return Err(format!("the default algorithm {d} is not in the allow-list"));
                }
            }
        }
        if let Some(ts) = &self.timestamp {
            match &ts.header {
                Some(h) if !header_ok(h) => return Err(format!("`{h}` is not a valid header name")),
                Some(_) => {}
                None if !self.signature.iter().any(|s| s.timestamp_key.is_some()) => {
                    return Err("the timestamp has no header and no signature header has a timestamp_key".into());
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// One header that may carry signatures, and how to read them.
///
/// Three shapes cover every provider:
/// - one encoded MAC with an optional prefix: `sha256=<hex>` (no `separator`, no `key`);
/// - a list of prefixed MACs, items of other versions ignored: `v1,<b64> v1,<b64>` (`separator = " "`,
///   `prefix = "v1,"`);
/// - `key=value` pairs: `t=…,v1=<hex>,v1=<hex>` (`separator = ","`, `key = "v1"`, `timestamp_key = "t"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureHeader {
    /// Header name (case-insensitive).
    pub name: String,
    /// How each MAC is encoded.
    pub encoding: Encoding,
    /// Text before the encoded MAC (`sha256=`, `v0=`, `v1,`), matched case-insensitively.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Separator between list items or pairs (`,`, `;` or a space).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<char>,
    /// When set, items are `key=value` pairs and the MACs are the values under this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// In pairs, the key whose value is the signed timestamp (`t` for Stripe, `ts` for Paddle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_key: Option<String>,
    /// Overrides the scheme's algorithm for this header (GitHub's legacy `X-Hub-Signature` is SHA-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// What checks the signatures in this header: HMAC (the default) or a public-key primitive.
    /// Standard Webhooks lists `v1,` (HMAC) and `v1a,` (Ed25519) items in one header, so a
    /// scheme may name the same header twice with different prefixes and primitives.
    #[serde(default, skip_serializing_if = "Primitive::is_hmac")]
    pub primitive: Primitive,
}

impl SignatureHeader {
    /// A header holding one encoded MAC after `prefix`.
    pub fn single(name: &str, encoding: Encoding, prefix: &str) -> Self {
        Self {
            name: name.to_owned(),
            encoding,
            prefix: prefix.to_owned(),
            separator: None,
            key: None,
            timestamp_key: None,
            algorithm: None,
            primitive: Primitive::Hmac,
        }
    }
}

/// A piece of the signed content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The raw body bytes.
    Body,
    /// The signed timestamp exactly as received (from its header or the signature field).
    Timestamp,
    /// The request URL as given.
    Url,
    /// The request URL with the characters HubSpot decodes before signing (`%3A %2F %3F %40 %21 %24
    /// %27 %28 %29 %2A %2C %3B`) decoded.
    UrlUnescaped,
    /// The HTTP method.
    Method,
    /// Form parameters of an `application/x-www-form-urlencoded` body, sorted by name then value,
    /// each written as name followed by value (Twilio). Empty when the URL carries the body digest.
    SortedFormParams,
    /// The value of a request header (which must appear exactly once).
    Header(String),
    /// Fixed text (`.`, `v0:`).
    Literal(String),
    /// A digest (plain hash, not HMAC) of the body, encoded.
    BodyDigest {
        /// Hash function (`sha256`, …).
        algorithm: Algorithm,
        /// Encoding of the digest.
        encoding: Encoding,
    },
}

/// Which MAC algorithm a request uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AlgorithmSpec {
    /// Always this algorithm.
    Fixed(Algorithm),
    /// Named by a request header (Fin's `x-fin-signature-algorithm`). Because the sender picks, the
    /// receiver pins an allow-list; anything else (`md5`, `none`, empty, unknown) is refused.
    FromHeader {
        /// Header that names the algorithm.
        header: String,
        /// Used when the header is absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Algorithm>,
        /// Algorithms accepted from the header.
        allowed: Vec<Algorithm>,
    },
}

impl AlgorithmSpec {
    /// Whether a request may be signed with `a`.
    pub fn allows(&self, a: Algorithm) -> bool {
        match self {
            AlgorithmSpec::Fixed(x) => *x == a,
            AlgorithmSpec::FromHeader { allowed, .. } => allowed.contains(&a),
        }
    }
}

impl Default for AlgorithmSpec {
    fn default() -> Self {
        AlgorithmSpec::Fixed(Algorithm::Sha256)
    }
}

/// Where the signed timestamp is and how fresh it must be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampSpec {
    /// Header carrying it; `None` means the signature header's `timestamp_key` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Its format.
    pub format: TimestampFormat,
    /// Allowed age in seconds (and allowed lead, for a symmetric window).
    pub tolerance_secs: u64,
    /// Whether future timestamps are limited too.
    #[serde(default)]
    pub window: Window,
}

/// A URL query parameter that carries a digest of the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyDigestParam {
    /// Query parameter name (`bodySHA256`).
    pub param: String,
    /// Hash function.
    pub algorithm: Algorithm,
    /// Encoding of the digest.
    pub encoding: Encoding,
}
