//! HMAC: the symmetric primitive. A keyed state per secret and algorithm, cloned per message.
//!
//! RustCrypto `hmac` + `sha2`/`sha1` were chosen by measurement (shared/design/dependencies.md): with
//! SHA-NI they reach OpenSSL's throughput at 16 KiB and beat it on small bodies once the keyed state
//! (the inner and outer pads) is computed once per secret and cloned per request, which is what
//! [`KeyedMac`] does.

use std::borrow::Cow;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

use super::Check;
use crate::algorithm::Algorithm;
use crate::encoding::{MAX_MAC_LEN, MacBytes};

/// HMAC state with the key already absorbed; cloned for every message.
///
/// The underlying RustCrypto types are built with their `zeroize` feature, so the key-derived pads
/// are wiped when a `KeyedMac` (or a clone of it) is dropped.
#[derive(Clone)]
enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

impl fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedMac({}, <redacted>)", self.algorithm())
    }
}

impl KeyedMac {
    fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        // HMAC accepts keys of any length (long keys are hashed first), so this cannot fail.
        match algorithm {
            Algorithm::Sha1 => {
                KeyedMac::Sha1(<Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("hmac takes any key length"))
            }
            Algorithm::Sha256 => {
                KeyedMac::Sha256(<Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("hmac takes any key length"))
            }
            Algorithm::Sha384 => {
                KeyedMac::Sha384(<Hmac<Sha384> as KeyInit>::new_from_slice(key).expect("hmac takes any key length"))
            }
            Algorithm::Sha512 => {
                KeyedMac::Sha512(<Hmac<Sha512> as KeyInit>::new_from_slice(key).expect("hmac takes any key length"))
            }
        }
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            KeyedMac::Sha1(_) => Algorithm::Sha1,
            KeyedMac::Sha256(_) => Algorithm::Sha256,
            KeyedMac::Sha384(_) => Algorithm::Sha384,
            KeyedMac::Sha512(_) => Algorithm::Sha512,
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            KeyedMac::Sha1(m) => m.update(data),
            KeyedMac::Sha256(m) => m.update(data),
            KeyedMac::Sha384(m) => m.update(data),
            KeyedMac::Sha512(m) => m.update(data),
        }
    }

    fn finalize(self) -> Tag {
        let mut tag = Tag { buf: [0; MAX_MAC_LEN], len: 0 };
        let bytes = match self {
            KeyedMac::Sha1(m) => copy(&mut tag.buf, &m.finalize().into_bytes()),
            KeyedMac::Sha256(m) => copy(&mut tag.buf, &m.finalize().into_bytes()),
            KeyedMac::Sha384(m) => copy(&mut tag.buf, &m.finalize().into_bytes()),
            KeyedMac::Sha512(m) => copy(&mut tag.buf, &m.finalize().into_bytes()),
        };
        tag.len = bytes;
        tag
    }
}

fn copy(dst: &mut [u8; MAX_MAC_LEN], src: &[u8]) -> usize {
    dst[..src.len()].copy_from_slice(src);
    src.len()
}

/// A computed MAC. Comparison is constant time over the bytes (the length is public); the bytes
/// are wiped on drop because an expected MAC is as good as a valid signature for that body.
struct Tag {
    buf: [u8; MAX_MAC_LEN],
    len: usize,
}

impl Tag {
    /// Constant-time equality (`subtle`); different lengths are unequal without comparing.
    fn matches(&self, candidate: &[u8]) -> bool {
        bool::from(self.buf[..self.len].ct_eq(candidate))
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

/// One secret, keyed once for every algorithm the scheme may use (`keyed[algorithm.index()]`);
/// other algorithms (diagnosis tries them) are keyed from the bytes when asked.
pub(crate) struct HmacKey {
    secret: zeroize::Zeroizing<Vec<u8>>,
    keyed: [Option<KeyedMac>; 4],
}

impl HmacKey {
    pub(crate) fn new(secret: &[u8], algorithms: &[Algorithm]) -> Self {
        let mut keyed: [Option<KeyedMac>; 4] = Default::default();
        for a in algorithms {
            keyed[a.index()] = Some(KeyedMac::new(*a, secret));
        }
        Self { secret: zeroize::Zeroizing::new(secret.to_vec()), keyed }
    }

    /// The MAC of `content`.
    fn compute(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Tag {
        let mut mac = match &self.keyed[algorithm.index()] {
            Some(keyed) => keyed.clone(),
            None => KeyedMac::new(algorithm, &self.secret),
        };
        for part in content {
            mac.update(part);
        }
        mac.finalize()
    }
}

impl Check for HmacKey {
    fn verify(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>], signature: &[u8]) -> bool {
        self.compute(algorithm, content).matches(signature)
    }

    /// One MAC, compared in constant time with each candidate.
    fn first_match(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>], candidates: &[MacBytes]) -> Option<usize> {
        let tag = self.compute(algorithm, content);
        candidates.iter().position(|c| tag.matches(c.as_slice()))
    }

    fn sign(&self, algorithm: Algorithm, content: &[Cow<'_, [u8]>]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        Some(zeroize::Zeroizing::new(self.compute(algorithm, content).as_slice().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let mut m = KeyedMac::new(Algorithm::Sha256, b"Jefe");
        m.update(b"what do ya want ");
        m.update(b"for nothing?");
        let tag = m.finalize();
        let hex = crate::Encoding::Hex.encode(tag.as_slice());
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let mut m = KeyedMac::new(Algorithm::Sha512, b"Jefe");
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            crate::Encoding::Hex.encode(m.finalize().as_slice()),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }
}
