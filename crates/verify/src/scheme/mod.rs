//! A scheme as data: the provider's facts (replies, ids, handshake, metadata) and how its
//! requests prove where they come from ([`Proof`]).
//!
//! Every provider preset is a [`Scheme`] value, and so is a custom scheme read from TOML; one
//! engine per kind of proof interprets them all. Adding a provider means writing data, not code.

mod file;
mod probe;
mod signing;

use serde::{Deserialize, Serialize};

pub use self::probe::{Probe, ProbeMethod, ProbeReply};
pub use self::signing::{AlgorithmSpec, BodyDigestParam, Part, SignatureHeader, Signing, TimestampSpec};
use crate::auth::{BasicSpec, BodyHmacSpec, JwtSpec, TokenSpec};
use crate::error::BuildError;
use crate::secret::SecretEncoding;
use crate::signature::Primitive;

/// A complete description of one provider's webhooks.
///
/// In TOML it is one flat table (the signing keys beside the provider's facts), as custom scheme
/// files have always been written; `file.rs` maps it to and from this shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "file::SchemeFile", into = "file::SchemeFile")]
pub struct Scheme {
    /// Short name (`flinks`, `stripe`, …).
    pub name: String,
    /// Where the provider documents its signature (shown by `hookgate schemes`).
    pub docs: Option<String>,
    /// How a request proves it comes from the provider.
    pub proof: Proof,
    /// Header with the provider's delivery or event id (`webhook-id`, `X-GitHub-Delivery`, …).
    pub id_header: Option<String>,
    /// Header with the event type (`X-GitHub-Event`, `X-Shopify-Topic`, …).
    pub event_type_header: Option<String>,
    /// JSON pointer to the event id in the body, for providers that send it only there
    /// (`/id` for Stripe). Verification does not parse the body; the gateway uses this for dedup.
    pub id_pointer: Option<String>,
    /// JSON pointer to the event type in the body (`/type`, Flinks `/ResponseType`).
    pub event_type_pointer: Option<String>,
    /// What to answer when verification fails: the provider's documented status and a generic body.
    pub rejection: Reply,
    /// What to answer once the event is accepted.
    pub success: Reply,
    /// The provider's endpoint-verification handshake, if it has one (Slack `url_verification`,
    /// Twitch `webhook_callback_verification`, Zoom `endpoint.url_validation`).
    pub challenge: Option<Challenge>,
    /// Routing metadata the gateway reads from the provider's JSON body (Flinks: `ResponseType`,
    /// `HttpStatusCode`, `Login.Id`, `Tag`). Verification never reads it.
    pub metadata: Vec<MetadataSpec>,
    /// Unsigned requests the provider sends to check the endpoint, answered `200` before
    /// verification and never stored (Trello's `HEAD`, WooCommerce's ping).
    pub probes: Vec<Probe>,
}

/// How a request proves it comes from the provider: one variant per kind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proof {
    /// A signature over the request (HMAC, or a public-key primitive per signature header).
    Signature(Signing),
    /// A static token in a header (GitLab, an API key, `Authorization: Bearer`). Weak.
    Token(TokenSpec),
    /// HTTP basic authentication. Weak.
    Basic(BasicSpec),
    /// A JWT whose claims bind the body and its age (Plaid).
    Jwt(JwtSpec),
    /// An HMAC in the body over other body fields (Mailgun). Weak: it skips the event.
    BodyHmac(BodyHmacSpec),
}

impl Proof {
    /// The kind's name, as `hookgate schemes` shows it (`token`, `basic`; a signature is named
    /// by its primitive).
    pub fn kind(&self) -> &'static str {
        match self {
            Proof::Signature(s) => s.signature.first().map_or("hmac", |h| h.primitive.kind()),
            Proof::Token(_) => "token",
            Proof::Basic(_) => "basic",
            Proof::Jwt(_) => "jwt",
            Proof::BodyHmac(_) => "body-hmac",
        }
    }
}

impl Scheme {
    /// A scheme with the provider's facts at their defaults (no ids, no handshake, 401 and 200
    /// plain-text replies) around `proof`.
    pub fn new(name: &str, docs: Option<&str>, proof: Proof) -> Self {
        Self {
            name: name.into(),
            docs: docs.map(Into::into),
            proof,
            id_header: None,
            event_type_header: None,
            id_pointer: None,
            event_type_pointer: None,
            rejection: Reply::default_rejection(),
            success: Reply::default_success(),
            challenge: None,
            metadata: Vec::new(),
            probes: Vec::new(),
        }
    }

    /// Decodes key material as the provider shows it (a `whsec_…` secret, a hex public key) by
    /// this scheme's rule, ready for [`crate::Auth::new`].
    ///
    /// # Errors
    /// [`BuildError::Secret`] when it is empty or does not decode; never quotes the text.
    ///
    /// A PEM block (`-----BEGIN PUBLIC KEY-----`, `PRIVATE KEY`, as `openssl genpkey` writes
    /// them) is read as its DER whatever the scheme's encoding, for schemes with a public-key
    /// primitive: a PEM is never an HMAC secret's text.
    pub fn key(&self, text: &str) -> Result<crate::Secret, BuildError> {
        match &self.proof {
            Proof::Signature(s) => {
                let has_public_key = s.primitives().iter().any(|p| !p.is_symmetric());
                // With both kinds on one source (Standard Webhooks), an unprefixed key would be
                // taken for an HMAC secret: a public key pasted without `whpk_` would then let
                // anyone who has it sign `v1,`. The prefix says which it is.
                let mixed = has_public_key && s.primitives().contains(&Primitive::Hmac);
                if mixed
                    && s.secret_encoding == SecretEncoding::Whsec
                    && !["whsec_", "whpk_", "whsk_"].iter().any(|p| text.trim().starts_with(p))
                {
                    return Err(BuildError::Secret(
                        "give the key with its prefix: `whsec_` for a secret, `whpk_` for a public key",
                    ));
                }
                match crate::secret::pem_der(text) {
                    Some(der) if has_public_key => {
                        let der = der?;
                        let only = s.primitives();
                        Ok(match only.as_slice() {
                            [p] => crate::Secret::for_primitive(der, *p),
                            _ => crate::Secret::for_primitive(der, crate::Primitive::Ed25519),
                        })
                    }
                    _ => match s.primitives().as_slice() {
                        // A public key is checked now, so a key in another format is named.
                        [p] if !p.is_symmetric() => public_key(text, s.secret_encoding, *p),
                        _ => crate::Secret::decode(text, s.secret_encoding),
                    },
                }
            }
            Proof::Token(_) => TokenSpec::key(text),
            Proof::Basic(_) => BasicSpec::key(text),
            Proof::Jwt(_) => JwtSpec::key(text),
            Proof::BodyHmac(_) => crate::Secret::decode(text, SecretEncoding::Utf8),
        }
    }

    /// The signing rules, when the proof is a signature.
    pub fn signing(&self) -> Option<&Signing> {
        match &self.proof {
            Proof::Signature(s) => Some(s),
            _ => None,
        }
    }

    /// The signing rules, mutably (overrides, tests).
    pub fn signing_mut(&mut self) -> Option<&mut Signing> {
        match &mut self.proof {
            Proof::Signature(s) => Some(s),
            _ => None,
        }
    }
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
    /// The JSON body has this value at a pointer (a string, or Discord's `1`).
    Json {
        /// JSON pointer.
        pointer: String,
        /// Expected value, compared as JSON (`"url_verification"`, `1`).
        value: serde_json::Value,
        /// And nothing at this pointer: Discord's interactions PING is `"type": 1` without an
        /// `event`, while its webhook events are `"type": 1` with one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        absent: Option<String>,
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
    /// 200 with this JSON body, always the same (Discord's PONG `{"type":1}`).
    Json {
        /// The body (checked to be JSON when the scheme is validated).
        body: String,
    },
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

    pub(crate) fn default_content_type() -> String {
        "text/plain; charset=utf-8".to_owned()
    }

    pub(crate) fn default_rejection() -> Self {
        Self::text(401, "Invalid signature")
    }

    pub(crate) fn default_success() -> Self {
        Self::text(200, "OK")
    }
}

/// Limits on what a header may hold; anything larger is hostile or broken.
pub(crate) const MAX_HEADER_VALUE_LEN: usize = 4096;

/// Most entries of a scheme's signature list that may name one header (Standard Webhooks has
/// two: `v1,` and `v1a,`); the engine reads them into a stack array.
pub(crate) const MAX_ENTRIES_PER_HEADER: usize = 4;

/// A public key's text decoded by the scheme's encoding and checked to be a key of `primitive`;
/// when it is not, the error says which format the text looks like (the mistake diagnosis would
/// otherwise only see as "every signature fails").
fn public_key(text: &str, encoding: SecretEncoding, primitive: Primitive) -> Result<crate::Secret, BuildError> {
    let fits = |e: SecretEncoding| {
        crate::Secret::decode(text, e).ok().filter(|k| crate::signature::key_fits(primitive, k.expose()))
    };
    if let Some(key) = fits(encoding) {
        return Ok(key);
    }
    let hint = if text.trim().starts_with("whsec_") {
        "the key is an HMAC secret (`whsec_…`), and this scheme verifies with the provider's public key"
    } else if encoding != SecretEncoding::Hex && fits(SecretEncoding::Hex).is_some() {
        "the key looks like hex, and this scheme reads its key as base64"
    } else if encoding != SecretEncoding::Base64 && fits(SecretEncoding::Base64).is_some() {
        "the key looks like base64, and this scheme reads its key as hex"
    } else {
        return crate::Secret::decode(text, encoding).and_then(|k| {
            crate::signature::key_fits(primitive, k.expose())
                .then_some(k)
                .ok_or(BuildError::Secret("the text is not a public key this scheme's primitive can use"))
        });
    };
    Err(BuildError::Secret(hint))
}

impl Scheme {
    /// Whether a signature, once seen, is useless for a new request: it covers a timestamp
    /// (checked against a window) or the provider's delivery id (the dedup key). Otherwise, as
    /// with GitHub's `X-Hub-Signature-256` over the body alone, anyone who reads a stored
    /// signature and body can send them again under a new delivery id, and they verify.
    pub fn signature_binds_the_request(&self) -> bool {
        let Some(s) = self.signing() else { return false };
        s.content.iter().any(|p| match p {
            Part::Timestamp => s.timestamp.is_some(),
            Part::Header(h) => self.id_header.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(h)),
            _ => false,
        })
    }

    /// Whether the proof is weak: it does not cover the body (so a captured credential proves any
    /// content) or cannot expire. `hookgate schemes` shows it and the gateway warns at start-up.
    pub fn is_weak(&self) -> bool {
        match &self.proof {
            Proof::Signature(_) | Proof::Jwt(_) => false,
            Proof::Token(_) | Proof::Basic(_) | Proof::BodyHmac(_) => true,
        }
    }

    /// The headers that carry the proof itself (signatures), lower-cased: what a viewer must not
    /// be shown when the proof can be replayed.
    pub fn proof_headers(&self) -> Vec<String> {
        match &self.proof {
            Proof::Signature(s) => s.signature.iter().map(|h| h.name.to_ascii_lowercase()).collect(),
            Proof::Token(t) => vec![t.header.to_ascii_lowercase()],
            Proof::Basic(_) => vec!["authorization".to_owned()],
            Proof::Jwt(j) => vec![j.header.to_ascii_lowercase()],
            Proof::BodyHmac(_) => Vec::new(),
        }
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
        let proof = match &self.proof {
            Proof::Signature(s) => s.validate(),
            Proof::Token(t) => t.validate(),
            Proof::Basic(_) => Ok(()),
            Proof::Jwt(j) => j.validate(),
            Proof::BodyHmac(b) => b.validate(),
        };
        if let Err(reason) = proof {
            return fail(reason);
        }
        for p in &self.probes {
            if let Err(reason) = p.validate() {
                return fail(reason);
            }
            // An HMAC answer signs a token the caller chose: only safe when the scheme's events
            // are JSON objects, which no answered token can be (scheme/probe.rs).
            let only_the_body = |s: &Signing| s.json_object_body && s.content == [Part::Body];
            if p.reply != ProbeReply::Empty && !self.signing().is_some_and(only_the_body) {
                return fail(
                    "a probe answered with an HMAC needs content = [\"body\"] and json_object_body = true".into(),
                );
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
                    ChallengeMatch::Json { absent: Some(a), .. } if !a.starts_with('/') => {
                        return fail(format!("challenge pointer `{a}` is not a JSON pointer"));
                    }
                    ChallengeMatch::Json { pointer, .. } => Some(pointer),
                    ChallengeMatch::Header { name, .. } if !header_ok(name) => {
                        return fail(format!("challenge header `{name}` is not a valid header name"));
                    }
                    ChallengeMatch::Header { .. } => None,
                },
                match &c.reply {
                    ChallengeReply::Echo { pointer } | ChallengeReply::HmacToken { pointer } => Some(pointer),
                    ChallengeReply::Json { body } => {
                        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_err() {
                            return fail("the challenge's json reply is not JSON".into());
                        }
                        None
                    }
                },
            ];
            if let Some(p) = pointers.into_iter().flatten().find(|p| !p.starts_with('/')) {
                return fail(format!("challenge pointer `{p}` is not a JSON pointer"));
            }
        }
        Ok(())
    }

    /// Names of the headers this scheme reads (proof, timestamp, id, algorithm, signed headers).
    pub fn header_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = match &self.proof {
            Proof::Signature(s) => s.header_names(),
            Proof::Token(t) => vec![t.header.as_str()],
            Proof::Basic(_) => vec!["Authorization"],
            Proof::Jwt(j) => vec![j.header.as_str()],
            Proof::BodyHmac(_) => Vec::new(),
        };
        names.extend(self.id_header.as_deref());
        names.extend(self.event_type_header.as_deref());
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.to_ascii_lowercase()));
        names
    }

    /// The unsigned probe this request is, if it is one: answer it `200` with an empty body and
    /// do not verify or store it.
    pub fn probe(&self, method: &str, query: Option<&str>, body: &[u8]) -> Option<&Probe> {
        self.probes.iter().find(|p| p.matches(method, query, body))
    }

    /// Whether verifying needs the request URL.
    pub fn needs_url(&self) -> bool {
        self.signing().is_some_and(Signing::needs_url)
    }
}
