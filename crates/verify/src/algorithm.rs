//! The hash algorithms a scheme may name (for its MAC, or a body digest).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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
}
