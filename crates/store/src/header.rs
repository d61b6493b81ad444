//! A request header's value as received.

use std::borrow::Cow;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The exact bytes of a header value. HTTP allows bytes that are not UTF-8 (obs-text); kept as
/// text they became U+FFFD, so `events show` and forwarded headers were not what was received.
/// Stored as a JSON string when the bytes are UTF-8 (nearly always), else as
/// `{"base64": "…"}`; either reads back as the same bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HeaderBytes(Vec<u8>);

impl HeaderBytes {
    /// The value's bytes.
    #[must_use]
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes as received.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value as text, when it is UTF-8.
    #[must_use]
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The value for a person to read: bytes that are not UTF-8 as `\xNN`.
    #[must_use]
    pub fn escaped(&self) -> Cow<'_, str> {
        match self.to_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(self.0.utf8_chunks().fold(String::new(), |mut out, chunk| {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                out
            })),
        }
    }
}

impl From<&str> for HeaderBytes {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl std::fmt::Debug for HeaderBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.escaped())
    }
}

impl std::fmt::Display for HeaderBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.escaped())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored<'a> {
    Text(Cow<'a, str>),
    Binary { base64: Cow<'a, str> },
}

impl Serialize for HeaderBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_str() {
            Some(text) => Stored::Text(Cow::Borrowed(text)).serialize(s),
            None => Stored::Binary { base64: Cow::Owned(base64::engine::general_purpose::STANDARD.encode(&self.0)) }
                .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for HeaderBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Stored::deserialize(d)? {
            Stored::Text(text) => Ok(Self(text.into_owned().into_bytes())),
            Stored::Binary { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64.as_bytes())
                .map(Self)
                .map_err(|_| serde::de::Error::custom("a stored header value is not valid base64")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_as_the_bytes_received() {
        let values: [&[u8]; 4] = [b"application/json", "caf\u{e9}".as_bytes(), b"\xff\xfe latin-1 \xe9", b""];
        for bytes in values {
            let v = HeaderBytes::new(bytes);
            let json = serde_json::to_string(&v).unwrap();
            let back: HeaderBytes = serde_json::from_str(&json).unwrap();
            assert_eq!(back.as_bytes(), bytes, "{json}");
        }
        assert_eq!(serde_json::to_string(&HeaderBytes::from("text/plain")).unwrap(), "\"text/plain\"");
        assert_eq!(serde_json::to_string(&HeaderBytes::new(b"\xff".to_vec())).unwrap(), r#"{"base64":"/w=="}"#);
        assert_eq!(HeaderBytes::new(b"a\xffb".to_vec()).escaped(), "a\\xffb");
    }
}
