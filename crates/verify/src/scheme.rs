//! A signing scheme as data: where the signature is, what is signed, with which MAC.
//!
//! Every provider preset is a [`Scheme`] value, and so is a custom scheme read from TOML; one
//! engine ([`crate::Verifier`]) interprets them all. Adding a provider means writing data, not code.

use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::encoding::Encoding;
use crate::error::BuildError;
use crate::secret::SecretEncoding;
use crate::timestamp::{TimestampFormat, Window};

/// A complete description of how one provider signs webhooks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// Short name (`flinks`, `stripe`, …).
    pub name: String,
    /// Where the provider documents its signature (shown by `hookgate schemes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Signature headers, tried in order: the first one present in the request is used.
    pub signature: Vec<SignatureHeader>,
    /// The signed content, concatenated from these parts in order.
    pub content: Vec<Part>,
    /// The MAC algorithm, fixed or read from a request header.
    #[serde(default)]
    pub algorithm: AlgorithmSpec,
    /// The signed timestamp, when the scheme has one (replay protection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampSpec>,
    /// How the configured secret text becomes key bytes.
    #[serde(default)]
    pub secret_encoding: SecretEncoding,
    /// SHA-1 is broken for collisions and only tolerable where a provider gives no choice; a scheme
    /// must opt in. Without it, SHA-1 signature headers are ignored and a SHA-1 algorithm is an error.
    #[serde(default)]
    pub allow_sha1: bool,
    /// Header with the provider's delivery or event id (`webhook-id`, `X-GitHub-Delivery`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_header: Option<String>,
    /// Header with the event type (`X-GitHub-Event`, `X-Shopify-Topic`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_header: Option<String>,
    /// JSON pointer to the event id in the body, for providers that send it only there
    /// (`/id` for Stripe). Verification does not parse the body; the gateway uses this for dedup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pointer: Option<String>,
    /// JSON pointer to the event type in the body (`/type`, Flinks `/ResponseType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_pointer: Option<String>,
    /// A URL query parameter carrying a digest of the body (Twilio `bodySHA256` for JSON bodies):
    /// when present it must match, and form parameters are then not part of the signed content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_digest_param: Option<BodyDigestParam>,
    /// Also accept the signature over the URL with its default port added or removed (Twilio's
    /// SDKs do: a proxy may add or strip `:443`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub url_port_variant: bool,
    /// What to answer when verification fails: the provider's documented status and a generic body.
    #[serde(default = "Reply::default_rejection")]
    pub rejection: Reply,
    /// What to answer once the event is accepted.
    #[serde(default = "Reply::default_success")]
    pub success: Reply,
    /// The provider's endpoint-verification handshake, if it has one (Slack `url_verification`,
    /// Twitch `webhook_callback_verification`, Zoom `endpoint.url_validation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
    /// Routing metadata the gateway reads from the provider's JSON body (Flinks: `ResponseType`,
    /// `HttpStatusCode`, `Login.Id`, `Tag`). Verification never reads it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataSpec>,
}

/// One field of an event's routing metadata, read from the JSON body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataSpec {
    /// Key in the event's metadata object (`response_type`).
    pub name: String,
    /// JSON pointer into the body (`/ResponseType`).
    pub pointer: String,
    /// How the value is read.
    #[serde(default)]
    pub parse: MetadataParse,
}

/// How a metadata value is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataParse {
    /// The JSON value as it is.
    #[default]
    Raw,
    /// A `k=v,k=v` string split into an object (Flinks `Tag`).
    Pairs,
}

/// A signed request the receiver must answer itself to prove it owns the endpoint. It is
/// verified like any webhook; it is not an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Which requests are handshakes.
    pub when: ChallengeMatch,
    /// What to answer.
    pub reply: ChallengeReply,
}

/// How a handshake request is recognised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeMatch {
    /// A header has this value.
    Header {
        /// Header name.
        name: String,
        /// Expected value.
        value: String,
    },
    /// The JSON body has this string at a pointer.
    Json {
        /// JSON pointer.
        pointer: String,
        /// Expected string.
        value: String,
    },
}

/// How a handshake is answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeReply {
    /// 200 with the string at this JSON pointer as `text/plain` (Slack, Twitch).
    Echo {
        /// Where the challenge is.
        pointer: String,
    },
    /// 200 JSON `{"plainToken": t, "encryptedToken": hex(HMAC-SHA256(secret, t))}` (Zoom).
    HmacToken {
        /// Where the plain token is.
        pointer: String,
    },
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

/// An HTTP reply the provider expects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Body (generic: it never says why a request was rejected).
    pub body: String,
    /// Content type of the body.
    #[serde(default = "Reply::default_content_type")]
    pub content_type: String,
}

impl Reply {
    /// A plain-text reply.
    pub fn text(status: u16, body: &str) -> Self {
        Self { status, body: body.to_owned(), content_type: Self::default_content_type() }
    }

    /// A JSON reply (the body must already be JSON).
    pub fn json(status: u16, body: &str) -> Self {
        Self { status, body: body.to_owned(), content_type: "application/json".to_owned() }
    }

    fn default_content_type() -> String {
        "text/plain; charset=utf-8".to_owned()
    }

    fn default_rejection() -> Self {
        Self::text(401, "Invalid signature")
    }

    fn default_success() -> Self {
        Self::text(200, "OK")
    }
}

/// Limits on what a header may hold; anything larger is hostile or broken.
pub(crate) const MAX_HEADER_VALUE_LEN: usize = 4096;

impl Scheme {
    /// Whether a signature, once seen, is useless for a new request: it covers a timestamp
    /// (checked against a window) or the provider's delivery id (the dedup key). Otherwise, as
    /// with GitHub's `X-Hub-Signature-256` over the body alone, anyone who reads a stored
    /// signature and body can send them again under a new delivery id, and they verify.
    pub fn signature_binds_the_request(&self) -> bool {
        self.content.iter().any(|p| match p {
            Part::Timestamp => self.timestamp.is_some(),
            Part::Header(h) => self.id_header.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(h)),
            _ => false,
        })
    }

    /// Checks that the description is consistent, so a bad scheme fails when it is loaded and not
    /// on the first request.
    ///
    /// # Errors
    /// [`BuildError::InvalidScheme`] naming the first problem found.
    pub fn validate(&self) -> Result<(), BuildError> {
        let fail = |reason: String| Err(BuildError::InvalidScheme { scheme: self.name.clone(), reason });
        if self.name.trim().is_empty() {
            return fail("the name is empty".into());
        }
        let header_ok = |name: &str| http::HeaderName::from_bytes(name.as_bytes()).is_ok();
        if self.signature.is_empty() {
            return fail("no signature header".into());
        }
        for sig in &self.signature {
            if !header_ok(&sig.name) {
                return fail(format!("`{}` is not a valid header name", sig.name));
            }
            if sig.key.is_some() && sig.separator.is_none() {
                return fail(format!("signature header `{}` has a key but no separator", sig.name));
            }
            if sig.timestamp_key.is_some() && sig.key.is_none() {
                return fail(format!("signature header `{}` has a timestamp_key but no key", sig.name));
            }
        }
        if self.signature.iter().all(|s| s.algorithm == Some(Algorithm::Sha1)) && !self.allow_sha1 {
            return fail("every signature header is sha1, which needs allow_sha1 = true".into());
        }
        if self.content.is_empty() {
            return fail("the signed content is empty".into());
        }
        if !self.content.iter().any(|p| matches!(p, Part::Body | Part::BodyDigest { .. } | Part::SortedFormParams)) {
            return fail("the signed content does not cover the body".into());
        }
        for part in &self.content {
            match part {
                Part::Header(name) if !header_ok(name) => {
                    return fail(format!("`{name}` is not a valid header name"));
                }
                Part::Timestamp if self.timestamp.is_none() => {
                    return fail("the content signs a timestamp, but the scheme has no [timestamp]".into());
                }
                _ => {}
            }
        }
        match &self.algorithm {
            AlgorithmSpec::Fixed(Algorithm::Sha1) if !self.allow_sha1 => {
                return fail("sha1 needs allow_sha1 = true".into());
            }
            AlgorithmSpec::Fixed(_) => {}
            AlgorithmSpec::FromHeader { header, default, allowed } => {
                if !header_ok(header) {
                    return fail(format!("`{header}` is not a valid header name"));
                }
                if allowed.is_empty() {
                    return fail("the algorithm allow-list is empty".into());
                }
                if allowed.contains(&Algorithm::Sha1) && !self.allow_sha1 {
                    return fail("sha1 is in the allow-list, which needs allow_sha1 = true".into());
                }
                if let Some(d) = default
                    && !allowed.contains(d)
                {
                    return fail(format!("the default algorithm {d} is not in the allow-list"));
                }
            }
        }
        if let Some(ts) = &self.timestamp {
            match &ts.header {
                Some(h) if !header_ok(h) => return fail(format!("`{h}` is not a valid header name")),
                Some(_) => {}
                None if !self.signature.iter().any(|s| s.timestamp_key.is_some()) => {
                    return fail("the timestamp has no header and no signature header has a timestamp_key".into());
                }
                None => {}
            }
        }
        for h in [&self.id_header, &self.event_type_header].into_iter().flatten() {
            if !header_ok(h) {
                return fail(format!("`{h}` is not a valid header name"));
            }
        }
        for reply in [&self.rejection, &self.success] {
            if !(200..=599).contains(&reply.status) {
                return fail(format!("status {} is not an HTTP status", reply.status));
            }
        }
        if !(400..=599).contains(&self.rejection.status) {
            return fail(format!("rejection status {} is not an error status", self.rejection.status));
        }
        if !(200..=299).contains(&self.success.status) {
            return fail(format!("success status {} is not a 2xx status", self.success.status));
        }
        if let Some(c) = &self.challenge {
            let pointers = [
                match &c.when {
                    ChallengeMatch::Json { pointer, .. } => Some(pointer),
                    ChallengeMatch::Header { name, .. } if !header_ok(name) => {
                        return fail(format!("challenge header `{name}` is not a valid header name"));
                    }
                    ChallengeMatch::Header { .. } => None,
                },
                match &c.reply {
                    ChallengeReply::Echo { pointer } | ChallengeReply::HmacToken { pointer } => Some(pointer),
                },
            ];
            if let Some(p) = pointers.into_iter().flatten().find(|p| !p.starts_with('/')) {
                return fail(format!("challenge pointer `{p}` is not a JSON pointer"));
            }
        }
        Ok(())
    }

    /// Names of the headers this scheme reads (signature, timestamp, id, algorithm, signed headers).
    pub fn header_names(&self) -> Vec<&str> {
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
        names.extend(self.id_header.as_deref());
        names.extend(self.event_type_header.as_deref());
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.to_ascii_lowercase()));
        names
    }

    /// Whether verifying needs the request URL.
    pub fn needs_url(&self) -> bool {
        self.body_digest_param.is_some() || self.content.iter().any(|p| matches!(p, Part::Url | Part::UrlUnescaped))
    }
}
