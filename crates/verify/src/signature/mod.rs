//! The signature engine: a [`Scheme`] plus keys, verifying and signing requests.
//!
//! `header` parses the signature header into candidates, `content` assembles what the scheme
//! signs, and `primitive` holds the keys and checks a candidate over that content (HMAC,
//! Ed25519: one file each). This module only sequences them: headers, the algorithm, the
//! timestamp window, then the primitive.

pub(crate) mod content;
pub(crate) mod diagnose;
mod header;
mod primitive;

pub use self::diagnose::{Budget, Cause, Clues, Diagnosis, Finding};

pub use self::header::{MAX_CANDIDATES, MAX_HEADER_VALUES, ParsedSignatures, parse};
pub(crate) use self::primitive::Key as PrimitiveKey;
pub use self::primitive::Primitive;
pub(crate) use self::primitive::key_fits;

/// An HMAC key for `algorithm`, for kinds that sign body fields (Mailgun).
pub(crate) fn primitive_hmac_key(secret: &[u8], algorithm: Algorithm) -> Result<PrimitiveKey, BuildError> {
    PrimitiveKey::new(Primitive::Hmac, secret, &[algorithm])
}

/// A key of `primitive` from its bytes, for kinds that verify with a primitive outside a
/// signature header (a JWT's ES256).
pub(crate) fn primitive_key(primitive: Primitive, bytes: &[u8]) -> Result<PrimitiveKey, BuildError> {
    PrimitiveKey::new(primitive, bytes, &[])
}
pub(crate) use crate::scheme::MAX_ENTRIES_PER_HEADER;

use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Digest as _;

use self::content::{assemble, check_body_digest, port_variant, single_text, single_value};
use self::primitive::Keys;
use crate::algorithm::Algorithm;
use crate::encoding::Encoding;
use crate::error::{BuildError, Rejection, SignError};
use crate::request::WebhookRequest;
use crate::scheme::{AlgorithmSpec, Scheme, SignatureHeader, Signing};
use crate::secret::Secret;
use crate::timestamp::{Age, Timestamp, check_window};

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The provider's delivery or event id, where the scheme carries one in a header.
    pub id: Option<String>,
    /// The event type, where the scheme carries one in a header.
    pub event_type: Option<String>,
    /// The signed timestamp, where the scheme has one.
    pub timestamp: Option<Timestamp>,
    /// The hash the matching signature used: the MAC's for HMAC, SHA-512 for Ed25519; `None`
    /// for a kind that is not a signature (a token).
    pub algorithm: Option<Algorithm>,
    /// The primitive that checked the signature; `None` for a kind that is not a signature.
    pub primitive: Option<Primitive>,
    /// Which configured secret matched (0 = the first), useful to see when rotation is complete.
    pub secret_index: usize,
}

/// The answer to a provider's endpoint-verification handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeResponse {
    /// Content type of `body`.
    pub content_type: &'static str,
    /// The response body.
    pub body: Vec<u8>,
}

/// Options for [`Verifier::sign`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SignOptions<'a> {
    /// The timestamp to sign (defaults to now).
    pub timestamp: Option<Timestamp>,
    /// The delivery id to send, for schemes that have one (defaults to one derived from the body).
    pub id: Option<&'a str>,
    /// The algorithm, for schemes that allow several (defaults to the scheme's default).
    pub algorithm: Option<Algorithm>,
}

/// A signature header with its name parsed once.
#[derive(Debug)]
struct SigHeader {
    name: HeaderName,
    spec: SignatureHeader,
}

/// Verifies (and signs) requests for one signature scheme with one or more keys.
///
/// Build it once at start-up; it keeps one keyed HMAC state per secret and algorithm, so a request
/// costs one clone of that state plus hashing the content (public keys are parsed once too).
/// `Debug` never shows key material.
#[derive(Debug)]
pub struct Verifier {
    scheme: Scheme,
    /// The scheme's signing rules (`Verifier::new` refuses a scheme without them).
    signing: Signing,
    sig_headers: Vec<SigHeader>,
    /// Every key: HMAC secrets keyed for every algorithm the scheme may use, public keys parsed.
    keys: Keys,
    /// The key bytes, for diagnosis to try algorithms the scheme does not key (`diagnose`).
    secrets: Vec<Secret>,
}

fn header_name(name: &str) -> HeaderName {
    // `Scheme::validate` has checked every name, so this cannot fail for a validated scheme.
    HeaderName::from_bytes(name.as_bytes()).expect("header names are validated with the scheme")
}

impl Verifier {
    /// Validates the scheme and prepares every key: HMAC secrets keyed for every algorithm the
    /// scheme may use, public keys parsed.
    ///
    /// Keys are tried in order; put the current one first and the one being rotated out after.
    /// A key is for the scheme's primitive, or for the one its text names (`whpk_…` is Ed25519),
    /// and must be for a primitive the scheme uses.
    ///
    /// # Errors
    /// [`BuildError`] for an inconsistent scheme, a scheme whose proof is not a signature, an
    /// empty key list, or a key its primitive cannot use.
    pub fn new(scheme: Scheme, secrets: Vec<Secret>) -> Result<Self, BuildError> {
        scheme.validate()?;
        let Some(signing) = scheme.signing().cloned() else {
            return Err(BuildError::InvalidScheme {
                scheme: scheme.name.clone(),
                reason: "its proof is not a signature".into(),
            });
        };
        if secrets.is_empty() {
            return Err(BuildError::NoSecrets);
        }
        let sig_headers: Vec<SigHeader> = signing
            .signature
            .iter()
            // SHA-1 headers are legacy alternatives (GitHub's `X-Hub-Signature`) and only read when
            // the scheme opts in; `validate` made sure at least one header remains.
            .filter(|s| signing.allow_sha1 || s.algorithm != Some(Algorithm::Sha1))
            .map(|s| SigHeader { name: header_name(&s.name), spec: s.clone() })
            .collect();
        let mut algorithms: Vec<Algorithm> = match &signing.algorithm {
            AlgorithmSpec::Fixed(a) => vec![*a],
            AlgorithmSpec::FromHeader { allowed, .. } => allowed.clone(),
        };
        algorithms.extend(sig_headers.iter().filter_map(|h| h.spec.algorithm));
        let primitives = signing.primitives();
        // Unmarked keys are HMAC secrets unless the scheme signs only with one other primitive.
        let default = match primitives.as_slice() {
            [only] => *only,
            _ => Primitive::Hmac,
        };
        let keys = Keys::new(&secrets, default, &algorithms)?;
        for i in 0..keys.len() {
            let p = keys.get(i).map(primitive::Key::primitive).unwrap_or_default();
            if !primitives.contains(&p) {
                return Err(BuildError::KeyKind { scheme: scheme.name.clone(), index: i + 1, primitive: p });
            }
        }
        Ok(Self { scheme, signing, sig_headers, keys, secrets })
    }

    /// The scheme's signing rules.
    pub fn signing(&self) -> &Signing {
        &self.signing
    }

    /// The scheme this verifier implements.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The fingerprint of each configured secret, in order ([`Secret::fingerprint`]).
    pub fn fingerprints(&self) -> Vec<String> {
        self.secrets.iter().map(Secret::fingerprint).collect()
    }

    /// Verifies a request at time `now`.
    ///
    /// Checks run from cheapest to dearest: headers and their shape, the algorithm, the timestamp
    /// window, then one MAC per secret compared in constant time against every signature sent.
    ///
    /// # Errors
    /// The [`Rejection`] that stopped the request. Report it to operators, never to the sender.
    pub fn verify(&self, req: &WebhookRequest<'_>, now: Timestamp) -> Result<Verified, Rejection> {
        if self.signing.json_object_body && req.body.trim_ascii_start().first() != Some(&b'{') {
            return Err(Rejection::UnexpectedBody);
        }
        let (first, values) = self.signature_values(req.headers)?;
        // Each entry for the header reads its own items (`v1,` for HMAC, `v1a,` for Ed25519);
        // the request is malformed only when none of them finds a signature of its length. On
        // the stack: this runs for every request.
        let mut reads: [Option<(&SigHeader, ParsedSignatures<'_>, Algorithm)>; MAX_ENTRIES_PER_HEADER] =
            [const { None }; MAX_ENTRIES_PER_HEADER];
        let mut first_error = None;
        let group = self.sig_headers.iter().filter(|g| g.name == first.name);
        for (slot, sig_header) in reads.iter_mut().zip(group) {
            let parsed = match parse(&sig_header.spec, &values) {
                Ok(p) => p,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let algorithm = match (sig_header.spec.primitive, sig_header.spec.algorithm) {
                (Primitive::Hmac, Some(a)) => a,
                (Primitive::Hmac, None) => self.request_algorithm(req.headers)?,
                (p, _) => p.hash(Algorithm::Sha256),
            };
            let primitive = sig_header.spec.primitive;
            if parsed.macs.iter().any(|m| primitive.signature_len_ok(algorithm, m.as_slice().len())) {
                *slot = Some((sig_header, parsed, algorithm));
            } else {
                first_error.get_or_insert(Rejection::MalformedSignature);
            }
        }
        if reads.iter().all(Option::is_none) {
            return Err(first_error.unwrap_or(Rejection::MalformedSignature));
        }
        let reads = || reads.iter().flatten();

        let timestamp = match &self.signing.timestamp {
            None => None,
            Some(spec) => {
                let raw = match &spec.header {
                    Some(h) => Some(single_text(req.headers, h)?),
                    None => reads().find_map(|r| r.1.timestamp),
                };
                let raw = raw.ok_or(Rejection::MalformedTimestamp)?;
                let ts = Timestamp::parse(raw, spec.format).ok_or(Rejection::MalformedTimestamp)?;
                match check_window(ts, now, spec.tolerance_secs, spec.window) {
                    Age::Fresh => Some((raw, ts)),
                    Age::TooOld => return Err(Rejection::TimestampTooOld),
                    Age::TooNew => return Err(Rejection::TimestampTooNew),
                }
            }
        };

        let digest_in_url = check_body_digest(&self.signing, req)?;
        let matching_secret = |req: &WebhookRequest<'_>| -> Result<Option<(usize, Primitive, Algorithm)>, Rejection> {
            let content = assemble(&self.signing, req, req.headers, timestamp.map(|t| t.0), digest_in_url)?;
            Ok(reads().find_map(|(h, parsed, algorithm)| {
                let p = h.spec.primitive;
                self.keys.matching(p, *algorithm, &content, &parsed.macs).map(|i| (i, p, *algorithm))
            }))
        };
        let mut found = matching_secret(req)?;
        if found.is_none()
            && self.signing.url_port_variant
            && let Some(variant) = req.url.and_then(port_variant)
        {
            // Twilio signs the URL as configured, and its SDKs accept it with or without the
            // default port, since proxies and load balancers add or strip it.
            found = matching_secret(&req.with_url(&variant))?;
        }
        let (secret_index, primitive, algorithm) = found.ok_or(Rejection::Mismatch)?;

        Ok(Verified {
            id: optional_text(req.headers, self.scheme.id_header.as_deref())?,
            event_type: optional_text(req.headers, self.scheme.event_type_header.as_deref())?,
            timestamp: timestamp.map(|t| t.1),
            algorithm: Some(algorithm),
            primitive: Some(primitive),
            secret_index,
        })
    }

    /// If a verified request is the scheme's endpoint-verification handshake, the answer to send
    /// (with status 200) instead of storing it. Call only after [`Verifier::verify`] succeeded, with
    /// its `secret_index`: Zoom's answer is keyed with the secret that signed the request.
    pub fn challenge_response(&self, req: &WebhookRequest<'_>, verified: &Verified) -> Option<ChallengeResponse> {
        use crate::scheme::{ChallengeMatch, ChallengeReply};
        let challenge = self.scheme.challenge.as_ref()?;
        let json = || serde_json::from_slice::<serde_json::Value>(req.body).ok();
        let mut parsed = None;
        let matched = match &challenge.when {
            ChallengeMatch::Header { name, value } => {
                req.headers.get(name.as_str()).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == value)
            }
            ChallengeMatch::Json { pointer, value, absent } => {
                parsed = json();
                let j = parsed.as_ref();
                j.and_then(|j| j.pointer(pointer)) == Some(value)
                    && absent.as_deref().is_none_or(|a| j.and_then(|j| j.pointer(a)).is_none())
            }
        };
        if !matched {
            return None;
        }
        let parsed = parsed.or_else(json)?;
        match &challenge.reply {
            ChallengeReply::Echo { pointer } => {
                let text = parsed.pointer(pointer)?.as_str()?;
                Some(ChallengeResponse { content_type: "text/plain; charset=utf-8", body: text.as_bytes().to_vec() })
            }
            ChallengeReply::HmacToken { pointer } => {
                let plain = parsed.pointer(pointer)?.as_str()?;
                let tag = self.keys.mac(verified.secret_index, Algorithm::Sha256, plain.as_bytes())?;
                let encrypted = Encoding::Hex.encode(&tag);
                let body = serde_json::json!({ "plainToken": plain, "encryptedToken": encrypted });
                Some(ChallengeResponse { content_type: "application/json", body: body.to_string().into_bytes() })
            }
            ChallengeReply::Json { body } => {
                Some(ChallengeResponse { content_type: "application/json", body: body.as_bytes().to_vec() })
            }
        }
    }

    /// The answer to a probe replied with an HMAC of its token (X's CRC), keyed with the first
    /// secret: `(content type, body)`. `None` for a probe answered with nothing.
    pub fn probe_answer(&self, probe: &crate::scheme::Probe, token: &[u8]) -> Option<(&'static str, Vec<u8>)> {
        let crate::scheme::ProbeReply::HmacJson { field, prefix, encoding } = &probe.reply else { return None };
        let algorithm = match &self.signing.algorithm {
            AlgorithmSpec::Fixed(a) => *a,
            AlgorithmSpec::FromHeader { default, allowed, .. } => default.unwrap_or(allowed[0]),
        };
        let mac = self.keys.mac(0, algorithm, token)?;
        let mut body = serde_json::Map::new();
        body.insert(field.clone(), format!("{prefix}{}", encoding.encode(&mac)).into());
        Some(("application/json", serde_json::Value::Object(body).to_string().into_bytes()))
    }

    /// Signs a request with the first key that can sign, returning the headers to send (`Name`,
    /// `value`) in the order: id, timestamp, algorithm, signature. Headers already in
    /// `req.headers` that the content signs (and that the scheme does not generate) are used as
    /// they are. A public key cannot sign: Ed25519 needs the private key (`whsk_…`, seed and
    /// public key, PKCS#8).
    ///
    /// # Errors
    /// [`SignError`] when no key can sign, the algorithm is not allowed, or the content cannot be
    /// assembled (a scheme that signs the URL without one).
    pub fn sign(&self, req: &WebhookRequest<'_>, opts: &SignOptions<'_>) -> Result<Vec<(String, String)>, SignError> {
        let algorithm = match (&self.signing.algorithm, opts.algorithm) {
            (AlgorithmSpec::Fixed(a), None) => *a,
            (AlgorithmSpec::FromHeader { default, allowed, .. }, None) => default.unwrap_or(allowed[0]),
            (_, Some(a)) => a,
        };
        let signable: Vec<&SigHeader> =
            self.sig_headers.iter().filter(|h| self.keys.can_sign(h.spec.primitive)).collect();
        if signable.is_empty() {
            return Err(SignError::NoSigningKey);
        }
        let sig_header = signable
            .iter()
            .find(|h| h.spec.primitive == Primitive::Hmac && h.spec.algorithm == Some(algorithm))
            .or_else(|| signable.iter().find(|h| h.spec.algorithm.is_none()))
            .ok_or(SignError::Algorithm(algorithm))?;
        let primitive = sig_header.spec.primitive;
        if primitive == Primitive::Hmac
            && sig_header.spec.algorithm.is_none()
            && !self.signing.algorithm.allows(algorithm)
        {
            return Err(SignError::Algorithm(algorithm));
        }

        let mut out: Vec<(String, String)> = Vec::new();
        let mut headers = req.headers.clone();
        let mut set = |name: &str, value: String, out: &mut Vec<(String, String)>| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(header_name(name), v);
            }
            out.push((name.to_owned(), value));
        };
        let timestamp = opts.timestamp.unwrap_or_else(Timestamp::now);
        let ts_text = self.signing.timestamp.as_ref().map(|spec| timestamp.format(spec.format));
        if let Some(id_header) = &self.scheme.id_header {
            let id = match opts.id {
                Some(id) => id.to_owned(),
                None => derived_id(timestamp, req.body),
            };
            set(id_header, id, &mut out);
        }
        if let Some(h) = self.signing.timestamp.as_ref().and_then(|t| t.header.as_ref())
            && let Some(text) = &ts_text
        {
            set(h, text.clone(), &mut out);
        }
        if let AlgorithmSpec::FromHeader { header, .. } = &self.signing.algorithm
            && primitive == Primitive::Hmac
        {
            set(header, algorithm.name().to_owned(), &mut out);
        }

        let digest_in_url = check_body_digest(&self.signing, req).map_err(SignError::Content)?;
        let content =
            assemble(&self.signing, req, &headers, ts_text.as_deref(), digest_in_url).map_err(SignError::Content)?;
        let tag = self.keys.sign(primitive, algorithm, &content).ok_or(SignError::NoSigningKey)?;
        let spec = &sig_header.spec;
        let mac = format!("{}{}", spec.prefix, spec.encoding.encode(&tag));
        let value = match (&spec.key, spec.separator) {
            (Some(key), Some(sep)) => match (&spec.timestamp_key, &ts_text) {
                (Some(tk), Some(ts)) => format!("{tk}={ts}{sep}{key}={mac}"),
                _ => format!("{key}={mac}"),
            },
            _ => mac,
        };
        out.push((spec.name.clone(), value));
        Ok(out)
    }

    /// The first configured signature header present in the request (the other entries for
    /// that header name share its values) and its raw values.
    fn signature_values<'h>(&self, headers: &'h HeaderMap) -> Result<(&SigHeader, Vec<&'h [u8]>), Rejection> {
        for h in &self.sig_headers {
            let values: Vec<&[u8]> =
                headers.get_all(&h.name).iter().take(MAX_HEADER_VALUES + 1).map(HeaderValue::as_bytes).collect();
            if !values.is_empty() {
                return Ok((h, values));
            }
        }
        Err(Rejection::MissingHeader(self.sig_headers[0].spec.name.clone()))
    }

    fn request_algorithm(&self, headers: &HeaderMap) -> Result<Algorithm, Rejection> {
        match &self.signing.algorithm {
            AlgorithmSpec::Fixed(a) => Ok(*a),
            AlgorithmSpec::FromHeader { header, default, allowed } => {
                let chosen = match single_value(headers, header) {
                    Err(Rejection::MissingHeader(_)) => default.ok_or(Rejection::UnsupportedAlgorithm)?,
                    // An empty or non-text algorithm name is as unsupported as `none`.
                    Err(Rejection::EmptyHeader(_) | Rejection::InvalidHeader(_)) => {
                        return Err(Rejection::UnsupportedAlgorithm);
                    }
                    Err(e) => return Err(e),
                    Ok(v) => std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or(Rejection::UnsupportedAlgorithm)?,
                };
                if allowed.contains(&chosen) { Ok(chosen) } else { Err(Rejection::UnsupportedAlgorithm) }
            }
        }
    }
}

/// A header the scheme reads for information (an id, a type): absent or empty is `None`; a
/// repeated or non-text one is refused like any ambiguous header.
pub(crate) fn optional_text(headers: &HeaderMap, name: Option<&str>) -> Result<Option<String>, Rejection> {
    let Some(name) = name else { return Ok(None) };
    match single_text(headers, name) {
        Ok(v) => Ok(Some(v.to_owned())),
        Err(Rejection::MissingHeader(_) | Rejection::EmptyHeader(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A stable id for a signed message when the caller gives none: the same body at the same time
/// gets the same id, so a re-send looks like a provider retry.
fn derived_id(timestamp: Timestamp, body: &[u8]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(timestamp.unix_millis().to_be_bytes());
    h.update(body);
    format!("msg_{}", &Encoding::Hex.encode(&h.finalize())[..24])
}
