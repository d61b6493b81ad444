//! The cryptographic check under the signature engine: the keys a verifier holds and how a
//! candidate signature over the assembled content is checked (and made, for `sign`).
//!
//! One variant per primitive. HMAC is symmetric: the same secret signs and verifies. A public-key
//! primitive (Ed25519, ECDSA) is a new file here and a variant of [`Keys`]: it verifies with a
//! public key and cannot sign without the private one.

mod hmac;

use std::borrow::Cow;

pub(crate) use self::hmac::Tag;
use crate::algorithm::Algorithm;
use crate::encoding::MacBytes;
use crate::secret::Secret;

/// The HMAC of `content` under raw key bytes, for diagnosis (keys other than the configured ones,
/// algorithms the scheme does not key).
pub(crate) fn hmac_with(key: &[u8], algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Tag {
    let mut mac = hmac::KeyedMac::new(algorithm, key);
    for part in content {
        mac.update(part);
    }
    mac.finalize()
}

/// A verifier's keys, by primitive.
#[derive(Debug)]
pub(crate) enum Keys {
    /// HMAC with each secret, for each algorithm the scheme may use.
    Hmac(hmac::HmacKeys),
}

impl Keys {
    pub(crate) fn hmac(secrets: &[Secret], algorithms: &[Algorithm]) -> Self {
        Keys::Hmac(hmac::HmacKeys::new(secrets, algorithms))
    }

    /// The first key (in configured order) under which one of `candidates` is the signature of
    /// `content`. Every candidate is compared in constant time; stopping at the first match only
    /// reveals that some signature was valid, which the response reveals anyway.
    pub(crate) fn matching(
        &self,
        algorithm: Algorithm,
        content: &[Cow<'_, [u8]>],
        candidates: &[MacBytes],
    ) -> Option<usize> {
        match self {
            Keys::Hmac(keys) => (0..keys.len()).find(|&i| {
                let tag = keys.compute(i, algorithm, content);
                candidates.iter().any(|m| tag.as_ref().is_some_and(|t| t.matches(m.as_slice())))
            }),
        }
    }

    /// The MAC of `content` with key `index`, when that key is keyed for `algorithm`.
    pub(crate) fn compute(&self, index: usize, algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<Tag> {
        match self {
            Keys::Hmac(keys) => keys.compute(index, algorithm, content),
        }
    }

    /// The signature of `content` with the first key (`Verifier::sign`).
    pub(crate) fn sign(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<Tag> {
        match self {
            Keys::Hmac(keys) => keys.compute(0, algorithm, content),
        }
    }

    /// A MAC of `message` with key `index`, for handshakes keyed with the scheme's secret (Zoom).
    pub(crate) fn mac(&self, index: usize, algorithm: Algorithm, message: &[u8]) -> Option<Tag> {
        match self {
            Keys::Hmac(keys) => keys.compute(index, algorithm, &[Cow::Borrowed(message)]),
        }
    }
}
