//! The check behind the kinds that send a credential instead of signing (a token in a header,
//! HTTP basic auth): the credential read from one header, after an optional scheme word, maybe
//! base64-decoded, and compared in constant time with every configured one.
//!
//! Such a proof covers nothing of the request and never expires, so anyone who sees one request
//! can send any other: the schemes are marked weak ([`crate::Scheme::is_weak`]).

use std::borrow::Cow;

use base64::Engine as _;
use http::HeaderName;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::encoding::BASE64_ANY_PAD;
use crate::error::{BuildError, Rejection};
use crate::request::WebhookRequest;
use crate::scheme::Scheme;
use crate::secret::{Secret, SecretText};
use crate::signature::{Cause, Clues, Diagnosis, Finding, Verified, optional_text};
use crate::timestamp::Timestamp;

/// Where the credential is and how it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reading {
    /// The header that carries it.
    pub(crate) header: String,
    /// The word before it (`Bearer `, `Basic `), matched case-insensitively; empty for none.
    pub(crate) prefix: String,
    /// Whether the value is base64 of the credential (basic auth's `user:password`).
    pub(crate) base64: bool,
}

/// A credential check, ready to run.
pub struct Credential {
    scheme: Scheme,
    reading: Reading,
    header: HeaderName,
    /// SHA-256 of each configured credential: compared with the presented one's digest, so the
    /// comparison is over equal lengths and constant time whatever was sent.
    digests: Vec<[u8; 32]>,
    keys: Vec<Secret>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("scheme", &self.scheme.name)
            .field("header", &self.reading.header)
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Credential {
    pub(crate) fn new(scheme: Scheme, reading: Reading, keys: Vec<Secret>) -> Result<Self, BuildError> {
        scheme.validate()?;
        if keys.is_empty() {
            return Err(BuildError::NoSecrets);
        }
        let header = HeaderName::from_bytes(reading.header.as_bytes()).map_err(|_| BuildError::InvalidScheme {
            scheme: scheme.name.clone(),
            reason: format!("`{}` is not a valid header name", reading.header),
        })?;
        let digests = keys.iter().map(|k| digest(k.expose())).collect();
        Ok(Self { scheme, reading, header, digests, keys })
    }

    pub(crate) fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    pub(crate) fn fingerprints(&self) -> Vec<String> {
        self.keys.iter().map(Secret::fingerprint).collect()
    }

    /// The credential as presented: the header's value after the prefix, decoded.
    fn presented<'r>(&self, req: &'r WebhookRequest<'_>) -> Result<Cow<'r, [u8]>, Rejection> {
        let name = || self.reading.header.clone();
        let mut values = req.headers.get_all(&self.header).iter();
        let value = values.next().ok_or_else(|| Rejection::MissingHeader(name()))?;
        if values.next().is_some() {
            return Err(Rejection::DuplicateHeader(name()));
        }
        let text = value.as_bytes();
        let text = text.trim_ascii();
        if text.is_empty() {
            return Err(Rejection::EmptyHeader(name()));
        }
        let prefix = self.reading.prefix.as_bytes();
        let rest = match text.get(..prefix.len()) {
            Some(head) if head.eq_ignore_ascii_case(prefix) => text[prefix.len()..].trim_ascii_start(),
            _ => return Err(Rejection::MalformedSignature),
        };
        if rest.is_empty() {
            return Err(Rejection::MalformedSignature);
        }
        if self.reading.base64 {
            return BASE64_ANY_PAD.decode(rest).map(Cow::Owned).map_err(|_| Rejection::MalformedSignature);
        }
        Ok(Cow::Borrowed(rest))
    }

    /// The first configured credential equal to `presented` (every one is compared).
    fn matching(&self, presented: &[u8]) -> Option<usize> {
        let d = digest(presented);
        let mut found = None;
        for (i, k) in self.digests.iter().enumerate() {
            if bool::from(k.ct_eq(&d)) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    pub(crate) fn verify(&self, req: &WebhookRequest<'_>, _now: Timestamp) -> Result<Verified, Rejection> {
        let presented = self.presented(req)?;
        let secret_index = self.matching(&presented).ok_or(Rejection::Mismatch)?;
        Ok(Verified {
            id: optional_text(req.headers, self.scheme.id_header.as_deref())?,
            event_type: optional_text(req.headers, self.scheme.event_type_header.as_deref())?,
            timestamp: None,
            algorithm: None,
            primitive: None,
            secret_index,
        })
    }

    /// The header a sender adds: the first credential, written as the scheme reads it.
    pub(crate) fn sign(&self) -> Vec<(String, String)> {
        let key = self.keys[0].expose();
        let value =
            if self.reading.base64 { BASE64_ANY_PAD.encode(key) } else { String::from_utf8_lossy(key).into_owned() };
        vec![(self.reading.header.clone(), format!("{}{value}", self.reading.prefix))]
    }

    /// Why a request does not verify: the header absent, the credential after another word, a
    /// retired credential, another source's. Each is read from the request or proved by a match.
    pub(crate) fn diagnose(&self, req: &WebhookRequest<'_>, now: Timestamp, clues: &Clues<'_>) -> Diagnosis {
        let Err(rejection) = self.verify(req, now) else { return Diagnosis::default() };
        let mut findings = Vec::new();
        let mut found = |cause, detail: String| findings.push(Finding { cause, detail });
        let header = self.reading.header.to_ascii_lowercase();
        match &rejection {
            Rejection::MissingHeader(_) => {
                found(Cause::HeaderMissing, format!("no `{header}` header: the sender did not send the credential"));
            }
            Rejection::EmptyHeader(_) => found(Cause::HeaderMissing, format!("`{header}` is present but empty")),
            Rejection::DuplicateHeader(_) => {
                found(Cause::HeaderMissing, format!("`{header}` appears more than once; one is required"));
            }
            Rejection::MalformedSignature => {
                let value = req.headers.get(&self.header).map(|v| v.as_bytes()).unwrap_or_default();
                // Only a scheme word is quoted (letters, at most 16): never part of a credential.
                let word = value.split(|b| *b == b' ').next().filter(|w| {
                    w.len() < value.len() && (1..=16).contains(&w.len()) && w.iter().all(u8::is_ascii_alphabetic)
                });
                let said = word.and_then(|w| std::str::from_utf8(w).ok());
                let expected = self.reading.prefix.trim();
                let detail = match said {
                    Some(w) if !expected.is_empty() => {
                        format!("the credential in `{header}` follows `{w}` where the scheme expects `{expected}`")
                    }
                    _ if !expected.is_empty() => format!("the credential in `{header}` does not follow `{expected}`"),
                    _ => format!("the value of `{header}` is not a credential this scheme reads"),
                };
                found(Cause::SignatureEncoding, detail);
            }
            _ => {}
        }
        if rejection == Rejection::Mismatch
            && let Ok(presented) = self.presented(req)
        {
            let text = |t: &SecretText| self.scheme.key(t.text()).ok();
            let same = |k: crate::secret::Secret| bool::from(digest(k.expose()).ct_eq(&digest(&presented)));
            if let Some(t) = clues.retired.iter().find(|t| text(t).is_some_and(same)) {
                found(
                    Cause::SecretRetired,
                    format!("it is the retired credential `{}`: the sender still uses it", t.label()),
                );
            }
            for (name, auth) in clues.others {
                if auth.verify(req, now).is_ok() {
                    found(
                        Cause::WrongSource,
                        format!("it verifies for source `{name}`: it was sent to this source's endpoint by mistake"),
                    );
                }
            }
        }
        Diagnosis { findings, exhausted: false }
    }
}
