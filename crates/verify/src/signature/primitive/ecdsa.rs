//! ECDSA on P-256 with SHA-256: SendGrid's Event Webhook (DER signatures), and JWS ES256 (the
//! fixed 64-byte r ‖ s).
//!
//! ring verifies (already in the build through rustls). Keys arrive as the provider shows them,
//! decoded by the scheme's key encoding into one of:
//! - a SubjectPublicKeyInfo (91 bytes, SendGrid's base64 `MFkw…` "verification key", or a PEM);
//! - the uncompressed point (65 bytes, `04 ‖ x ‖ y`);
//! - a PKCS#8 private key (from a PEM), to play the provider: ECDSA signing is randomized, so a
//!   signature made here verifies but is never byte-equal to a published one.

use std::borrow::Cow;
use std::ops::RangeInclusive;

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use zeroize::Zeroizing;

use super::{Check, joined};
use crate::algorithm::Algorithm;
use crate::error::BuildError;

/// A DER signature is 8 to 72 bytes; the fixed form is 64.
pub(crate) const SIGNATURE_LENS: RangeInclusive<usize> = 8..=72;

/// The DER before the 65-byte point of a P-256 SubjectPublicKeyInfo (RFC 5480): SEQUENCE,
/// AlgorithmIdentifier (id-ecPublicKey, prime256v1), BIT STRING.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub(crate) struct EcdsaKey {
    /// The uncompressed point.
    public: Vec<u8>,
    /// Only when the private key was configured (to play the provider).
    pair: Option<EcdsaKeyPair>,
}

impl EcdsaKey {
    pub(crate) fn new(bytes: &[u8]) -> Result<Self, BuildError> {
        let point = match bytes.len() {
            91 if bytes.starts_with(&SPKI_PREFIX) => &bytes[26..],
            65 if bytes[0] == 0x04 => bytes,
            _ => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, bytes, &SystemRandom::new())
                    .map_err(|_| {
                        BuildError::Secret(
                            "a P-256 key is a SubjectPublicKeyInfo (base64 `MFkw…` or PEM), an uncompressed point, or a PKCS#8 private key",
                        )
                    })?;
                return Ok(Self { public: pair.public_key().as_ref().to_vec(), pair: Some(pair) });
            }
        };
        if !on_curve(point) {
            return Err(BuildError::Secret("the P-256 public key is not a point on the curve"));
        }
        Ok(Self { public: point.to_vec(), pair: None })
    }
}

/// Whether `point` is a valid P-256 public key. ring validates a peer's point in key agreement
/// (and only reports a failed verification otherwise), so an ephemeral ECDH with it tells,
/// once, at start-up.
fn on_curve(point: &[u8]) -> bool {
    use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
    let Ok(ours) = EphemeralPrivateKey::generate(&ECDH_P256, &SystemRandom::new()) else { return false };
    agree_ephemeral(ours, &UnparsedPublicKey::new(&ECDH_P256, point), |_| ()).is_ok()
}

impl Check for EcdsaKey {
    fn verify(&self, _: Algorithm, content: &[Cow<'_, [u8]>], signature: &[u8]) -> bool {
        let message = joined(content);
        // DER first (it starts with a SEQUENCE tag); a 64-byte value may be the fixed form.
        (signature.first() == Some(&0x30)
            && UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.public).verify(&message, signature).is_ok())
            || (signature.len() == 64
                && UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public).verify(&message, signature).is_ok())
    }

    fn can_sign(&self) -> bool {
        self.pair.is_some()
    }

    fn sign(&self, _: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<Zeroizing<Vec<u8>>> {
        let pair = self.pair.as_ref()?;
        let sig = pair.sign(&SystemRandom::new(), &joined(content)).ok()?;
        Some(Zeroizing::new(sig.as_ref().to_vec()))
    }
}
