//! A JWT in a header whose claims bind the body: Plaid's `Plaid-Verification`, an ES256 JWT with
//! `iat` and `request_body_sha256`. Checked by hand over ring, because each check is the point:
//!
//! - `alg` is pinned per scheme (`ES256`): `none`, `HS256` keyed with the public key, another
//!   curve are all refused before anything else;
//! - `kid` chooses the key among those configured (a JWK or a JWKS document); a key whose
//!   `expired_at` has passed is refused;
//! - the signature is the JWS fixed r ‖ s over `header.payload` (ECDSA P-256, the same primitive
//!   as SendGrid's);
//! - `iat` must be within the window, and the body's SHA-256 claim is compared in constant time
//!   with the SHA-256 of the raw bytes (Plaid pretty-prints its JSON: re-serializing breaks it).
//!
//! Fetching keys from the provider's key endpoint is I/O and lives in the gateway; this kind
//! verifies with the keys it is given.

use std::borrow::Cow;

use base64::Engine as _;
use http::HeaderName;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::algorithm::Algorithm;
use crate::encoding::{BASE64URL_ANY_PAD, Encoding};
use crate::error::{BuildError, Rejection};
use crate::request::WebhookRequest;
use crate::scheme::{MAX_HEADER_VALUE_LEN, Scheme};
use crate::secret::Secret;
use crate::signature::diagnose::body;
use crate::signature::{Cause, Clues, Diagnosis, Finding, Primitive, Verified, optional_text, primitive_key};
use crate::timestamp::Timestamp;

/// Where the JWT is and what its claims must say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// The header carrying the JWT.
    pub header: String,
    /// The only `alg` accepted (`ES256`).
    pub algorithm: JwtAlgorithm,
    /// The claim holding the hex SHA-256 of the raw body.
    pub body_sha256_claim: String,
    /// How old (and how far ahead) `iat` may be, seconds.
    pub max_age_secs: u64,
}

/// A JWS algorithm this kind verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// ECDSA P-256 with SHA-256, signature as r ‖ s.
    #[serde(rename = "ES256")]
    Es256,
}

impl JwtAlgorithm {
    /// The `alg` value (`ES256`).
    pub fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::Es256 => "ES256",
        }
    }
}

impl JwtSpec {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if HeaderName::from_bytes(self.header.as_bytes()).is_err() {
            return Err(format!("jwt header `{}` is not a valid header name", self.header));
        }
        if self.body_sha256_claim.is_empty() {
            return Err("the jwt's body_sha256_claim is empty".into());
        }
        Ok(())
    }

    /// A JWK or a JWKS document (`{"keys":[…]}`), as JSON text; checked when it is read.
    pub(crate) fn key(text: &str) -> Result<Secret, BuildError> {
        let text = text.trim();
        parse_keys(text.as_bytes())?;
        Ok(Secret::from_bytes(text.as_bytes().to_vec()))
    }

    pub(crate) fn check(&self, scheme: Scheme, keys: Vec<Secret>) -> Result<Jwt, BuildError> {
        scheme.validate()?;
        if keys.is_empty() {
            return Err(BuildError::NoSecrets);
        }
        let mut parsed = Vec::new();
        for (index, k) in keys.iter().enumerate() {
            parsed.extend(parse_keys(k.expose())?.into_iter().map(|jwk| (index, jwk)));
        }
        let header = HeaderName::from_bytes(self.header.as_bytes()).map_err(|_| BuildError::InvalidScheme {
            scheme: scheme.name.clone(),
            reason: format!("`{}` is not a valid header name", self.header),
        })?;
        let fingerprints = keys.iter().map(Secret::fingerprint).collect();
        Ok(Jwt { spec: self.clone(), scheme, header, keys: parsed, fingerprints })
    }
}

/// One public key of a JWK set.
struct Jwk {
    kid: Option<String>,
    key: crate::signature::PrimitiveKey,
    /// When the JWK carries its private scalar `d` (to play the provider in tests and
    /// `hookgate send`); never for a key a provider publishes.
    signer: Option<ring::signature::EcdsaKeyPair>,
    /// Unix seconds after which the provider no longer signs with it (Plaid's `expired_at`).
    expired_at: Option<i64>,
}

#[derive(Deserialize)]
struct JwkFields {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    expired_at: Option<i64>,
    #[serde(default)]
    d: Option<String>,
}

/// The keys of a JWK or a JWKS document. Only EC P-256 keys are kept; a document with none is
/// an error (the message never quotes it).
fn parse_keys(text: &[u8]) -> Result<Vec<Jwk>, BuildError> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let bad = || BuildError::Secret("the key is not a JWK or a JWKS document (JSON with kty, crv, x, y)");
    let mut value: serde_json::Value = serde_json::from_slice(text).map_err(|_| bad())?;
    // `/webhook_verification_key/get`'s whole answer (`{"key": {…}, "request_id": …}`) is taken
    // as the key it holds.
    if let Some(key) = value.get("key").filter(|k| k.is_object()) {
        value = key.clone();
    }
    let items = match serde_json::from_value::<Set>(value.clone()) {
        Ok(set) => set.keys,
        Err(_) => vec![value],
    };
    let mut out = Vec::new();
    for item in items {
        let f: JwkFields = serde_json::from_value(item).map_err(|_| bad())?;
        if f.kty != "EC" || f.crv.as_deref() != Some("P-256") {
            continue;
        }
        let coord = |c: Option<String>| -> Result<Vec<u8>, BuildError> {
            let bytes = BASE64URL_ANY_PAD.decode(c.ok_or_else(bad)?).map_err(|_| bad())?;
            if bytes.len() == 32 { Ok(bytes) } else { Err(bad()) }
        };
        let point = [&[0x04][..], &coord(f.x)?, &coord(f.y)?].concat();
        let key = primitive_key(Primitive::EcdsaP256, &point)?;
        let signer = match f.d {
            None => None,
            Some(d) => {
                let d = zeroize::Zeroizing::new(coord(Some(d))?);
                let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
                let rng = ring::rand::SystemRandom::new();
                Some(
                    ring::signature::EcdsaKeyPair::from_private_key_and_public_key(alg, &d, &point, &rng)
                        .map_err(|_| BuildError::Secret("the JWK's private key `d` does not match its x and y"))?,
                )
            }
        };
        out.push(Jwk { kid: f.kid, key, signer, expired_at: f.expired_at });
    }
    if out.is_empty() {
        return Err(BuildError::Secret("the JWK set has no EC P-256 key"));
    }
    Ok(out)
}

/// A JWT check, ready to run.
pub struct Jwt {
    spec: JwtSpec,
    scheme: Scheme,
    header: HeaderName,
    /// Every key of every configured document, with the index of its document (`secret_index`).
    keys: Vec<(usize, Jwk)>,
    fingerprints: Vec<String>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt").field("scheme", &self.scheme.name).field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

/// The parts of a JWT, decoded.
struct Token<'a> {
    signed: &'a str,
    header: serde_json::Value,
    claims: serde_json::Value,
    signature: crate::encoding::MacBytes,
}

fn decode_json(part: &str) -> Option<serde_json::Value> {
    serde_json::from_slice(&BASE64URL_ANY_PAD.decode(part).ok()?).ok()
}

impl Jwt {
    pub(crate) fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    pub(crate) fn fingerprints(&self) -> Vec<String> {
        self.fingerprints.clone()
    }

    fn token<'r>(&self, req: &'r WebhookRequest<'_>) -> Result<Token<'r>, Rejection> {
        let name = || self.spec.header.clone();
        let mut values = req.headers.get_all(&self.header).iter();
        let value = values.next().ok_or_else(|| Rejection::MissingHeader(name()))?;
        if values.next().is_some() {
            return Err(Rejection::DuplicateHeader(name()));
        }
        if value.len() > MAX_HEADER_VALUE_LEN {
            return Err(Rejection::InvalidHeader(name()));
        }
        let text = value.to_str().map_err(|_| Rejection::InvalidHeader(name()))?.trim();
        if text.is_empty() {
            return Err(Rejection::EmptyHeader(name()));
        }
        let mut parts = text.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(Rejection::MalformedSignature);
        };
        let header = decode_json(h).ok_or(Rejection::MalformedSignature)?;
        let claims = decode_json(p).ok_or(Rejection::MalformedSignature)?;
        let signature = Encoding::Base64url.decode_mac(s.as_bytes()).ok_or(Rejection::MalformedSignature)?;
        Ok(Token { signed: &text[..h.len() + 1 + p.len()], header, claims, signature })
    }

    pub(crate) fn verify(&self, req: &WebhookRequest<'_>, now: Timestamp) -> Result<Verified, Rejection> {
        let token = self.token(req)?;
        // The algorithm the sender names is refused unless it is the one pinned: `none`, `HS256`
        // (an HMAC keyed with the public key) and other curves never reach a key.
        if token.header.get("alg").and_then(serde_json::Value::as_str) != Some(self.spec.algorithm.name()) {
            return Err(Rejection::UnsupportedAlgorithm);
        }
        let kid = token.header.get("kid").and_then(serde_json::Value::as_str);
        let candidates: Vec<&(usize, Jwk)> = self
            .keys
            .iter()
            .filter(|(_, k)| match (kid, &k.kid) {
                (Some(want), Some(have)) => want == have,
                (None, _) => self.keys.len() == 1,
                (Some(_), None) => self.keys.len() == 1,
            })
            .filter(|(_, k)| k.expired_at.is_none_or(|at| at > now.unix_millis() / 1000))
            .collect();
        if candidates.is_empty() {
            return Err(Rejection::UnknownKey);
        }
        let content = [Cow::Borrowed(token.signed.as_bytes())];
        let signature = [token.signature];
        let index = candidates
            .iter()
            .find(|(_, k)| k.key.first_match(Algorithm::Sha256, &content, &signature).is_some())
            .map(|(i, _)| *i)
            .ok_or(Rejection::Mismatch)?;
        let iat = token.claims.get("iat").and_then(serde_json::Value::as_i64).ok_or(Rejection::MalformedTimestamp)?;
        let issued = Timestamp::from_unix_secs(iat);
        let window = i64::try_from(self.spec.max_age_secs).unwrap_or(i64::MAX);
        let age = now.unix_millis() / 1000 - iat;
        if age > window {
            return Err(Rejection::TimestampTooOld);
        }
        if -age > window {
            return Err(Rejection::TimestampTooNew);
        }
        let claimed = token
            .claims
            .get(&self.spec.body_sha256_claim)
            .and_then(serde_json::Value::as_str)
            .and_then(|h| Encoding::Hex.decode_mac(h.as_bytes()))
            .ok_or(Rejection::Mismatch)?;
        let actual = Sha256::digest(req.body);
        if !bool::from(actual.as_slice().ct_eq(claimed.as_slice())) {
            return Err(Rejection::BodyDigestMismatch);
        }
        Ok(Verified {
            id: optional_text(req.headers, self.scheme.id_header.as_deref())?,
            event_type: optional_text(req.headers, self.scheme.event_type_header.as_deref())?,
            timestamp: Some(issued),
            algorithm: Some(Algorithm::Sha256),
            primitive: Some(Primitive::EcdsaP256),
            secret_index: index,
        })
    }

    /// The header a provider sends for `req`: a JWT signed with the first key that has its
    /// private half, issued at `opts.timestamp` (now by default).
    pub(crate) fn sign(
        &self,
        req: &WebhookRequest<'_>,
        opts: &crate::signature::SignOptions<'_>,
    ) -> Result<Vec<(String, String)>, crate::error::SignError> {
        let (_, jwk) =
            self.keys.iter().find(|(_, k)| k.signer.is_some()).ok_or(crate::error::SignError::NoSigningKey)?;
        let signer = jwk.signer.as_ref().ok_or(crate::error::SignError::NoSigningKey)?;
        let mut header = serde_json::json!({ "alg": self.spec.algorithm.name(), "typ": "JWT" });
        if let Some(kid) = &jwk.kid {
            header["kid"] = serde_json::Value::from(kid.as_str());
        }
        let iat = opts.timestamp.unwrap_or_else(Timestamp::now).unix_millis() / 1000;
        let mut claims = serde_json::json!({ "iat": iat });
        claims[self.spec.body_sha256_claim.as_str()] = Encoding::Hex.encode(&Sha256::digest(req.body)).into();
        let url = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let signed = format!("{}.{}", url(&header), url(&claims));
        let sig = signer
            .sign(&ring::rand::SystemRandom::new(), signed.as_bytes())
            .map_err(|_| crate::error::SignError::NoSigningKey)?;
        let token = format!("{signed}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.as_ref()));
        Ok(vec![(self.spec.header.clone(), token)])
    }

    /// Why a request does not verify: what the token itself shows (no header, another
    /// algorithm, a stale `iat`), and a body hash that matches a re-serialized form of the body.
    pub(crate) fn diagnose(&self, req: &WebhookRequest<'_>, now: Timestamp, clues: &Clues<'_>) -> Diagnosis {
        let Err(rejection) = self.verify(req, now) else { return Diagnosis::default() };
        let mut findings = Vec::new();
        let header = self.spec.header.to_ascii_lowercase();
        match &rejection {
            Rejection::MissingHeader(_) => findings.push(Finding {
                cause: Cause::HeaderMissing,
                detail: format!("no `{header}` header: the sender did not send its JWT"),
            }),
            Rejection::UnsupportedAlgorithm => {
                let said = self.token(req).ok().and_then(|t| t.header.get("alg").map(ToString::to_string));
                findings.push(Finding {
                    cause: Cause::AlgorithmMismatch,
                    detail: format!(
                        "the JWT names alg {}, and this source accepts only {}",
                        said.as_deref().unwrap_or("nothing"),
                        self.spec.algorithm.name()
                    ),
                });
            }
            Rejection::TimestampTooOld | Rejection::TimestampTooNew => {
                if let Ok(iat) = self.token(req).map(|t| t.claims.get("iat").and_then(serde_json::Value::as_i64)) {
                    let skew = now.unix_millis() / 1000 - iat.unwrap_or_default();
                    findings.push(Finding {
                        cause: Cause::ClockSkew,
                        detail: format!(
                            "the JWT was issued {} s {} Hookgate's clock; it is accepted for {} s",
                            skew.abs(),
                            if skew >= 0 { "before" } else { "after" },
                            self.spec.max_age_secs
                        ),
                    });
                }
            }
            Rejection::BodyDigestMismatch => {
                let claimed = self.token(req).ok().and_then(|t| {
                    let h = t.claims.get(&self.spec.body_sha256_claim)?.as_str()?.to_owned();
                    Encoding::Hex.decode_mac(h.as_bytes())
                });
                if let Some(claimed) = claimed {
                    let cap = clues.budget.max_bytes;
                    if let Some(v) = body::variants(req.body, cap)
                        .into_iter()
                        .find(|v| bool::from(Sha256::digest(&v.bytes).as_slice().ct_eq(claimed.as_slice())))
                    {
                        findings.push(Finding {
                            cause: Cause::BodyReserialized,
                            detail: format!(
                                "the JWT's body hash matches the body {}: the bytes changed after signing (verify the raw body)",
                                v.how
                            ),
                        });
                    }
                }
            }
            _ => {}
        }
        Diagnosis { findings, exhausted: false }
    }
}
