//! Webhook signing secrets: decoded once, zeroized on drop, never printed.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::BuildError;
use crate::signature::Primitive;

/// How the configured secret text turns into HMAC key bytes.
///
/// Providers disagree: Stripe uses the whole `whsec_…` string as raw UTF-8 key bytes, while Standard
/// Webhooks (and Svix) base64-decode what follows the `whsec_` prefix. Getting this wrong is the most
/// common cause of "every signature fails", so the encoding is part of each scheme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes are the key (Flinks, Fin, Stripe, GitHub, …).
    #[default]
    Utf8,
    /// Standard Webhooks: base64 after an optional `whsec_` prefix (an HMAC secret); `whpk_`
    /// (an Ed25519 public key) and `whsk_` (an Ed25519 private key, to sign) are base64 too and
    /// mark the key for Ed25519, so one source may hold both kinds.
    Whsec,
    /// Hexadecimal (either case).
    Hex,
    /// Standard base64, padded or not.
    Base64,
}

/// A webhook signing secret or verification key (key bytes).
///
/// The bytes are zeroized when the value is dropped and `Debug` never shows them. A public key
/// is not a secret, but it is handled the same way: it decides what is accepted.
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
    /// The primitive the key's own text named (`whpk_…`), overriding the scheme's default.
    primitive: Option<Primitive>,
}

impl Secret {
    /// Wraps raw key bytes, for the scheme's primitive.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self { bytes: Zeroizing::new(bytes.into()), primitive: None }
    }

    /// Wraps raw key bytes for `primitive`, whatever the scheme's default.
    pub fn for_primitive(bytes: impl Into<Vec<u8>>, primitive: Primitive) -> Self {
        Self { bytes: Zeroizing::new(bytes.into()), primitive: Some(primitive) }
    }

    /// The primitive the key is marked for, if its text named one (`whpk_…`, `whsk_…`).
    pub fn primitive(&self) -> Option<Primitive> {
        self.primitive
    }

    /// Decodes secret text with the given encoding.
    ///
    /// Surrounding whitespace (a trailing newline from a secret file, say) is ignored, because no
    /// provider issues secrets that begin or end with whitespace.
    ///
    /// # Errors
    /// [`BuildError::Secret`] when the text is empty or does not decode. The message never
    /// contains the secret.
    pub fn decode(text: &str, encoding: SecretEncoding) -> Result<Self, BuildError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(BuildError::Secret("the secret is empty"));
        }
        let mut primitive = None;
        let bytes = match encoding {
            SecretEncoding::Utf8 => text.as_bytes().to_vec(),
            SecretEncoding::Whsec => {
                let b64 = match text.strip_prefix("whpk_").or_else(|| text.strip_prefix("whsk_")) {
                    Some(rest) => {
                        primitive = Some(Primitive::Ed25519);
                        rest
                    }
                    None => text.strip_prefix("whsec_").unwrap_or(text),
                };
                crate::encoding::BASE64_ANY_PAD
                    .decode(b64)
                    .map_err(|_| BuildError::Secret("the key is not valid base64 after its `wh…_` prefix"))?
            }
            SecretEncoding::Hex => {
                decode_hex_vec(text).ok_or(BuildError::Secret("the secret is not valid hexadecimal"))?
            }
            SecretEncoding::Base64 => crate::encoding::BASE64_ANY_PAD
                .decode(text)
                .map_err(|_| BuildError::Secret("the secret is not valid base64"))?,
        };
        if bytes.is_empty() {
            return Err(BuildError::Secret("the secret decodes to no bytes"));
        }
        Ok(Self { bytes: Zeroizing::new(bytes), primitive })
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The first 8 hex digits of the SHA-256 of the key bytes: enough to tell secrets apart in a
    /// status page or a log, useless to recover the key (32 bits of a hash).
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.expose());
        crate::Encoding::Hex.encode(&digest[..4])
    }
}

/// A secret's text as configured, before it is decoded, with a name to show for it (its label,
/// or where it comes from). Diagnosis tries the text decoded other ways and with whitespace
/// changed; the text is zeroized on drop and never printed.
#[derive(Clone)]
pub struct SecretText {
    label: String,
    text: Zeroizing<String>,
}

impl SecretText {
    /// The text exactly as read (untrimmed), and how to name it in a diagnosis (`2026-06`,
    /// `` `FLINKS_OLD` ``).
    pub fn new(label: impl Into<String>, text: impl Into<String>) -> Self {
        Self { label: label.into(), text: Zeroizing::new(text.into()) }
    }

    /// How it is named.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretText({:?}, <redacted>)", self.label)
    }
}

/// The DER inside a PEM block, when `text` is one (`None` otherwise). Only the first block is
/// read; its label is not checked here (the primitive refuses what it cannot use).
pub(crate) fn pem_der(text: &str) -> Option<Result<Vec<u8>, BuildError>> {
    let text = text.trim();
    let rest = text.strip_prefix("-----BEGIN ")?;
    let (_, body) = rest.split_once("-----")?;
    let body = body.split("-----END ").next().unwrap_or("");
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Some(
        crate::encoding::BASE64_ANY_PAD
            .decode(b64)
            .map_err(|_| BuildError::Secret("the PEM block is not valid base64"))
            .and_then(|der| if der.is_empty() { Err(BuildError::Secret("the PEM block is empty")) } else { Ok(der) }),
    )
}

pub(crate) fn decode_hex_vec(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let mut out = vec![0; text.len() / 2];
    crate::encoding::decode_hex_into(text.as_bytes(), &mut out)?;
    Some(out)
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted {} bytes>)", self.bytes.len())
    }
}

/// Where a secret comes from, as a configuration names it: an environment variable or a file,
/// never a literal (config files end up in repositories and tickets). Only the reference: reading
/// it is the caller's I/O, so this crate stays free of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// Environment variable.
    pub env: Option<String>,
    /// File (surrounding whitespace ignored).
    pub file: Option<std::path::PathBuf>,
}

/// What a secret reference looks like, for error messages (which never quote the value given: a
/// string where a reference belongs is most likely the secret itself, pasted in).
const SECRET_REF_SHAPE: &str =
    "a table { env = \"VAR\" } or { file = \"PATH\" } (a secret itself is never written in the config)";

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            env: Option<String>,
            file: Option<std::path::PathBuf>,
        }
        struct Shape;
        impl<'de> serde::de::Visitor<'de> for Shape {
            type Value = SecretRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(SECRET_REF_SHAPE)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<SecretRef, A::Error> {
                let Fields { env, file } = Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(SecretRef { env, file })
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Err(E::custom(format!("invalid type: string, expected {SECRET_REF_SHAPE}")))
            }
        }
        d.deserialize_any(Shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let s = Secret::decode("super-secret-value", SecretEncoding::Utf8).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("super"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn fingerprints_tell_keys_apart_without_showing_them() {
        let a = Secret::from_bytes(b"key one".to_vec());
        assert_eq!(a.fingerprint().len(), 8);
        assert_ne!(a.fingerprint(), Secret::from_bytes(b"key two".to_vec()).fingerprint());
        // sha256("abc") = ba7816bf…
        assert_eq!(Secret::from_bytes(b"abc".to_vec()).fingerprint(), "ba7816bf");
        let t = SecretText::new("old", "hunter2");
        assert!(!format!("{t:?}").contains("hunter2"));
    }

    #[test]
    fn whsec_prefix_is_optional_and_base64_decoded() {
        let a = Secret::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SecretEncoding::Whsec).unwrap();
        let b = Secret::decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SecretEncoding::Whsec).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 24);
    }

    #[test]
    fn bad_encodings_are_errors_without_the_secret() {
        for (text, enc) in [
            ("zz", SecretEncoding::Hex),
            ("abc", SecretEncoding::Hex),
            ("not base64!", SecretEncoding::Base64),
            ("   ", SecretEncoding::Utf8),
        ] {
            let err = Secret::decode(text, enc).unwrap_err().to_string();
            assert!(!err.contains(text.trim()) || text.trim().is_empty(), "{err}");
        }
        assert_eq!(Secret::decode("0aFF", SecretEncoding::Hex).unwrap().expose(), &[0x0a, 0xff]);
    }
}
