//! HMAC algorithms and keyed MAC state.
//!
//! RustCrypto `hmac` + `sha2`/`sha1` were chosen by measurement (shared/design/dependencies.md): with
//! SHA-NI they reach OpenSSL's throughput at 16 KiB and beat it on small bodies once the keyed state
//! (the inner and outer pads) is computed once per secret and cloned per request, which is what
//! [`KeyedMac`] does.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

use crate::encoding::MAX_MAC_LEN;

/// A MAC algorithm (always HMAC with the named hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// HMAC-SHA-1: only where a scheme or a source explicitly allows it (Twilio, legacy GitHub).
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-384.
    Sha384,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    /// Every algorithm, weakest first.
    pub const ALL: [Algorithm; 4] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512];

    /// The lowercase name used in headers and configuration (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// MAC length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error for an algorithm name that is not one of `sha1`, `sha256`, `sha384`, `sha512`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownAlgorithm;

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown algorithm (expected sha1, sha256, sha384 or sha512)")
    }
}

impl std::error::Error for UnknownAlgorithm {}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Parses a name case-insensitively, with or without a dash or an `hmac-` prefix
    /// (`sha256`, `SHA-256`, `hmac-sha256`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Work on bytes: the text comes from a request header and may hold any UTF-8, so slicing
        // the `str` at fixed offsets could split a character.
        let s = s.trim().as_bytes();
        let s = match s.get(..5) {
            Some(p) if s.len() > 5 && p.eq_ignore_ascii_case(b"hmac-") => &s[5..],
            _ => s,
        };
        let matches = |name: &[u8]| {
            s.eq_ignore_ascii_case(name)
                || (s.len() == name.len() + 1
                    && s[..3].eq_ignore_ascii_case(&name[..3])
                    && s[3] == b'-'
                    && s[4..].eq_ignore_ascii_case(&name[3..]))
        };
        Algorithm::ALL.into_iter().find(|a| matches(a.name().as_bytes())).ok_or(UnknownAlgorithm)
    }
}

/// HMAC state with the key already absorbed; cloned for every message.
///
/// The underlying RustCrypto types are built with their `zeroize` feature, so the key-derived pads
/// are wiped when a `KeyedMac` (or a clone of it) is dropped.
#[derive(Clone)]
pub(crate) enum KeyedMac {
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
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Self {
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

    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            KeyedMac::Sha1(_) => Algorithm::Sha1,
            KeyedMac::Sha256(_) => Algorithm::Sha256,
            KeyedMac::Sha384(_) => Algorithm::Sha384,
            KeyedMac::Sha512(_) => Algorithm::Sha512,
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            KeyedMac::Sha1(m) => m.update(data),
            KeyedMac::Sha256(m) => m.update(data),
            KeyedMac::Sha384(m) => m.update(data),
            KeyedMac::Sha512(m) => m.update(data),
        }
    }

    pub(crate) fn finalize(self) -> Tag {
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
pub(crate) struct Tag {
    buf: [u8; MAX_MAC_LEN],
    len: usize,
}

impl Tag {
    /// Constant-time equality (`subtle`); different lengths are unequal without comparing.
    pub(crate) fn matches(&self, candidate: &[u8]) -> bool {
        bool::from(self.buf[..self.len].ct_eq(candidate))
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_algorithm_names_leniently_but_only_known_ones() {
        for (s, a) in [
            ("sha256", Algorithm::Sha256),
            ("SHA256", Algorithm::Sha256),
            ("SHA-512", Algorithm::Sha512),
            ("hmac-sha384", Algorithm::Sha384),
            (" sha1 ", Algorithm::Sha1),
        ] {
            assert_eq!(s.parse::<Algorithm>(), Ok(a), "{s}");
        }
        for s in
            ["md5", "none", "", "sha", "sha-", "sha3-256", "sha2566", "hmac-", "s-a256", "222ббб", "hmac-б", "shб256"]
        {
            assert!(s.parse::<Algorithm>().is_err(), "{s}");
        }
    }

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
