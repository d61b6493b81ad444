//! The cryptographic check under the signature engine: one configured key per primitive, asked
//! whether a candidate is a signature of the assembled content (and, where it can, to make one).
//!
//! One file (a type implementing [`Check`]) and one [`Primitive`] variant per primitive, its
//! arms all in this file. HMAC is symmetric: the same secret signs and verifies. Ed25519
//! verifies with a public key and signs only when the private key was given (tests, `hookgate
//! sign`). The engine (`signature/mod.rs`) and diagnosis (`signature/diagnose/`) only ever call
//! [`Key`], so neither knows which primitive it is driving.

mod ecdsa;
mod ed25519;
mod hmac;

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::encoding::MacBytes;
use crate::error::BuildError;
use crate::secret::Secret;

/// What checks a signature header's signatures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Primitive {
    /// HMAC with the scheme's hash, keyed with a shared secret.
    #[default]
    Hmac,
    /// Ed25519 (RFC 8032), verified with the provider's public key.
    Ed25519,
    /// ECDSA on P-256 with SHA-256, verified with the provider's public key; signatures in DER
    /// (SendGrid) or as the fixed 64-byte r ‖ s (JWS).
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
}

impl Primitive {
    /// The name used in schemes and `hookgate schemes` (`hmac`, `ed25519`).
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Hmac => "hmac",
            Primitive::Ed25519 => "ed25519",
            Primitive::EcdsaP256 => "ecdsa-p256",
        }
    }

    /// The kind `hookgate schemes --format json` names (`hmac`, `ed25519`, `ecdsa`).
    pub fn kind(self) -> &'static str {
        match self {
            Primitive::Hmac => "hmac",
            Primitive::Ed25519 => "ed25519",
            Primitive::EcdsaP256 => "ecdsa",
        }
    }

    /// Whether a shared secret verifies (so a key seen by the receiver can also sign).
    pub fn is_symmetric(self) -> bool {
        matches!(self, Primitive::Hmac)
    }

    pub(crate) fn is_hmac(&self) -> bool {
        *self == Primitive::Hmac
    }

    /// Whether a signature of `len` bytes can be one of this primitive's: HMAC's is the hash's
    /// length, a DER-encoded ECDSA signature varies.
    pub(crate) fn signature_len_ok(self, algorithm: Algorithm, len: usize) -> bool {
        match self {
            Primitive::Hmac => len == algorithm.output_len(),
            Primitive::Ed25519 => len == ed25519::SIGNATURE_LEN,
            Primitive::EcdsaP256 => ecdsa::SIGNATURE_LENS.contains(&len),
        }
    }

    /// The hash named in a [`crate::Verified`]: the MAC's for HMAC, the one built into the
    /// primitive otherwise (Ed25519 hashes with SHA-512).
    pub(crate) fn hash(self, hmac: Algorithm) -> Algorithm {
        match self {
            Primitive::Hmac => hmac,
            Primitive::Ed25519 => Algorithm::Sha512,
            Primitive::EcdsaP256 => Algorithm::Sha256,
        }
    }
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What every primitive's key answers. `first_match` has a default over `verify`; HMAC overrides
/// it to compute one MAC for all candidates.
pub(crate) trait Check {
    /// Whether `signature` is this key's signature of `content` (for HMAC, under `algorithm`).
    fn verify(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>], signature: &[u8]) -> bool;

    /// The first of `candidates` that verifies. Every candidate may be tried; stopping at the
    /// first match only reveals that some signature was valid, which the response reveals anyway.
    /// The content is joined once for all of them (HMAC overrides this to stream it instead).
    fn first_match(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>], candidates: &[MacBytes]) -> Option<usize> {
        let one = [joined(content)];
        candidates.iter().position(|c| self.verify(algorithm, &one, c.as_slice()))
    }

    /// The signature of `content`, when this key can sign (a public key cannot).
    fn sign(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<Zeroizing<Vec<u8>>>;

    /// Whether [`Check::sign`] can answer.
    fn can_sign(&self) -> bool {
        true
    }
}

/// The content in one piece, for primitives that hash the message themselves (Ed25519, ECDSA):
/// borrowed when it is one part already.
fn joined<'a>(content: &'a [Cow<'_, [u8]>]) -> Cow<'a, [u8]> {
    match content {
        [one] => Cow::Borrowed(one),
        parts => Cow::Owned(parts.concat()),
    }
}

/// One configured key, ready for its primitive.
pub(crate) struct Key {
    primitive: Primitive,
    check: Box<dyn Check + Send + Sync>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, <redacted>)", self.primitive)
    }
}

impl Key {
    /// The key `bytes` for `primitive`; HMAC keys are prepared for each of `algorithms`.
    pub(crate) fn new(primitive: Primitive, bytes: &[u8], algorithms: &[Algorithm]) -> Result<Self, BuildError> {
        let check: Box<dyn Check + Send + Sync> = match primitive {
            Primitive::Hmac => Box::new(hmac::HmacKey::new(bytes, algorithms)),
            Primitive::Ed25519 => Box::new(ed25519::Ed25519Key::new(bytes)?),
            Primitive::EcdsaP256 => Box::new(ecdsa::EcdsaKey::new(bytes)?),
        };
        Ok(Self { primitive, check })
    }

    pub(crate) fn primitive(&self) -> Primitive {
        self.primitive
    }

    pub(crate) fn first_match(
        &self,
        algorithm: Algorithm,
        content: &[Cow<'_, [u8]>],
        candidates: &[MacBytes],
    ) -> Option<usize> {
        self.check.first_match(algorithm, content, candidates)
    }

    pub(crate) fn sign(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<Zeroizing<Vec<u8>>> {
        self.check.sign(algorithm, content)
    }
}

/// Whether `bytes` make a key of `primitive` (a public key's text is checked when it is read).
pub(crate) fn key_fits(primitive: Primitive, bytes: &[u8]) -> bool {
    Key::new(primitive, bytes, &[]).is_ok()
}

/// A verifier's keys, in configured order (the order decides `secret_index`).
#[derive(Debug)]
pub(crate) struct Keys {
    keys: Vec<Key>,
}

impl Keys {
    /// Each secret as a key of the primitive it is marked for (`whpk_…` is Ed25519) or, unmarked,
    /// of `default`.
    pub(crate) fn new(secrets: &[Secret], default: Primitive, algorithms: &[Algorithm]) -> Result<Self, BuildError> {
        let keys = secrets
            .iter()
            .map(|s| Key::new(s.primitive().unwrap_or(default), s.expose(), algorithms))
            .collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Key> {
        self.keys.get(index)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The first key of `primitive` (in configured order) under which one of `candidates` is the
    /// signature of `content`.
    pub(crate) fn matching(
        &self,
        primitive: Primitive,
        algorithm: Algorithm,
        content: &[Cow<'_, [u8]>],
        candidates: &[MacBytes],
    ) -> Option<usize> {
        self.keys
            .iter()
            .position(|k| k.primitive() == primitive && k.first_match(algorithm, content, candidates).is_some())
    }

    /// Whether some key of `primitive` can sign.
    pub(crate) fn can_sign(&self, primitive: Primitive) -> bool {
        self.signer(primitive).is_some()
    }

    fn signer(&self, primitive: Primitive) -> Option<&Key> {
        self.keys.iter().find(|k| k.primitive() == primitive && k.check.can_sign())
    }

    /// The signature of `content` with the first key of `primitive` that can sign.
    pub(crate) fn sign(
        &self,
        primitive: Primitive,
        algorithm: Algorithm,
        content: &[Cow<'_, [u8]>],
    ) -> Option<Zeroizing<Vec<u8>>> {
        self.signer(primitive)?.sign(algorithm, content)
    }

    /// A MAC of `message` with key `index`, for handshakes keyed with the scheme's secret (Zoom).
    pub(crate) fn mac(&self, index: usize, algorithm: Algorithm, message: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let key = self.keys.get(index).filter(|k| k.primitive == Primitive::Hmac)?;
        key.sign(algorithm, &[Cow::Borrowed(message)])
    }
}
