//! Signature encodings (hex, base64, base64url) into and out of fixed-size MAC buffers.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde::{Deserialize, Serialize};

/// The largest signature any supported primitive produces: a DER-encoded ECDSA P-256 signature
/// (72 bytes; HMAC-SHA-512 and Ed25519 are 64).
pub(crate) const MAX_MAC_LEN: usize = 72;

/// Senders disagree on padding, so decoding accepts both; encoding always pads (the common form).
pub(crate) const BASE64_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
pub(crate) const BASE64URL_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How a MAC is written in a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Hexadecimal; decoding accepts either case (Flinks Pay sends upper case), encoding writes lower case.
    Hex,
    /// Standard base64 (`+/`), padded or not.
    Base64,
    /// URL-safe base64 (`-_`), padded or not.
    Base64url,
}

/// A decoded MAC held on the stack, so parsing a hostile header never allocates per signature.
#[derive(Clone, Copy)]
pub(crate) struct MacBytes {
    buf: [u8; MAX_MAC_LEN],
    len: u8,
}

impl MacBytes {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl Encoding {
    /// The name used in schemes (`hex`, `base64`, `base64url`).
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
            Encoding::Base64url => "base64url",
        }
    }

    /// Decodes an encoded MAC. `None` when the text is not valid in this encoding or longer than
    /// any MAC could be.
    pub(crate) fn decode_mac(self, text: &[u8]) -> Option<MacBytes> {
        let mut buf = [0u8; MAX_MAC_LEN];
        let len = match self {
            Encoding::Hex => {
                if !text.len().is_multiple_of(2) || text.len() > 2 * MAX_MAC_LEN {
                    return None;
                }
                let n = text.len() / 2;
                decode_hex_into(text, &mut buf[..n])?;
                n
            }
            Encoding::Base64 | Encoding::Base64url => {
                // 72 bytes encode to 96 characters with padding; anything longer cannot be a MAC.
                if text.len() > 96 {
                    return None;
                }
                let engine = if self == Encoding::Base64 { &BASE64_ANY_PAD } else { &BASE64URL_ANY_PAD };
                engine.decode_slice(text, &mut buf).ok()?
            }
        };
        if len == 0 {
            return None;
        }
        Some(MacBytes { buf, len: u8::try_from(len).ok()? })
    }

    /// Encodes MAC bytes for a header.
    pub(crate) fn encode(self, mac: &[u8]) -> String {
        match self {
            Encoding::Hex => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut s = String::with_capacity(mac.len() * 2);
                for b in mac {
                    s.push(char::from(DIGITS[usize::from(b >> 4)]));
                    s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
                }
                s
            }
            Encoding::Base64 => general_purpose::STANDARD.encode(mac),
            Encoding::Base64url => general_purpose::URL_SAFE.encode(mac),
        }
    }
}

/// Decodes hex (either case) into `out`, which must be exactly half as long as `text`.
pub(crate) fn decode_hex_into(text: &[u8], out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 2 {
        return None;
    }
    for (pair, o) in text.chunks_exact(2).zip(out.iter_mut()) {
        *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(())
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_case_insensitive() {
        let lower = Encoding::Hex.decode_mac(b"0aff").unwrap();
        let upper = Encoding::Hex.decode_mac(b"0AFF").unwrap();
        assert_eq!(lower.as_slice(), upper.as_slice());
        assert_eq!(lower.as_slice(), &[0x0a, 0xff]);
        assert!(Encoding::Hex.decode_mac(b"0g").is_none());
        assert!(Encoding::Hex.decode_mac(b"abc").is_none());
        assert!(Encoding::Hex.decode_mac(b"").is_none());
    }

    #[test]
    fn base64_accepts_padded_and_unpadded() {
        let mac = [7u8; 32];
        let padded = Encoding::Base64.encode(&mac);
        assert!(padded.ends_with('='));
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(Encoding::Base64.decode_mac(padded.as_bytes()).unwrap().as_slice(), &mac);
        assert_eq!(Encoding::Base64.decode_mac(unpadded.as_bytes()).unwrap().as_slice(), &mac);
    }

    #[test]
    fn base64url_uses_its_own_alphabet() {
        let mac = [0xfbu8; 32];
        let url = Encoding::Base64url.encode(&mac);
        assert!(url.contains('-') || url.contains('_'));
        assert_eq!(Encoding::Base64url.decode_mac(url.as_bytes()).unwrap().as_slice(), &mac);
        assert!(Encoding::Base64.decode_mac(url.as_bytes()).is_none());
    }

    #[test]
    fn oversized_input_is_refused_before_decoding() {
        assert!(Encoding::Hex.decode_mac(&[b'a'; 146]).is_none());
        assert!(Encoding::Base64.decode_mac(&[b'A'; 100]).is_none());
        let max = Encoding::Base64.encode(&[1u8; 72]);
        assert_eq!(Encoding::Base64.decode_mac(max.as_bytes()).unwrap().as_slice().len(), 72);
        assert_eq!(Encoding::Hex.decode_mac(&[b'a'; 144]).unwrap().as_slice().len(), 72);
    }
}
