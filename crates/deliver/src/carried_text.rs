//! Sender-controlled text (an event's type) carried where not every byte may go: an HTTP header
//! value takes visible ASCII only, and an environment variable no NUL. Sent raw, such a type made
//! every attempt fail ("failed to parse header value") until the event went dead, though it was
//! signed and stored: one character could make an event undeliverable. The text is carried
//! percent-encoded instead (RFC 3986: UTF-8 bytes as `%XX`), which any URL decoder reverses; text
//! that needs no encoding — nearly every event type — is sent as it is. The body always carries
//! the original.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What is encoded once a value needs encoding: controls, non-ASCII (by `utf8_percent_encode`),
/// and `%` itself, so that decoding gives the original back.
const ENCODED: &AsciiSet = &CONTROLS.add(b'%');

/// `text` as an HTTP header value: unchanged when every character is visible ASCII or a space
/// (not at either end), else percent-encoded. The second value says whether it was encoded.
pub fn header_value(text: &str) -> (Cow<'_, str>, bool) {
    let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b)) && !text.starts_with(' ') && !text.ends_with(' ');
    if plain {
        return (Cow::Borrowed(text), false);
    }
    let encoded: String = utf8_percent_encode(text, ENCODED).to_string();
    // Spaces at the ends would be trimmed by the receiver's header parser.
    let encoded = encoded.replace(' ', "%20");
    (Cow::Owned(encoded), true)
}

/// `text` as an environment variable's value: unchanged unless it holds a NUL (which no
/// environment can carry), else percent-encoded as [`header_value`] does.
pub fn env_value(text: &str) -> Cow<'_, str> {
    if text.contains('\0') { Cow::Owned(utf8_percent_encode(text, ENCODED).to_string()) } else { Cow::Borrowed(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_types_pass_and_the_rest_is_encoded_reversibly() {
        assert_eq!(header_value("invoice.paid"), (Cow::Borrowed("invoice.paid"), false));
        assert_eq!(header_value("a b"), (Cow::Borrowed("a b"), false));
        for (raw, sent) in [
            ("a\r\nX-Injected: 1", "a%0D%0AX-Injected:%201"),
            ("café", "caf%C3%A9"),
            ("100%\u{1b}", "100%25%1B"),
            (" padded", "%20padded"),
            ("nul\0", "nul%00"),
        ] {
            let (value, encoded) = header_value(raw);
            assert!(encoded, "{raw:?}");
            assert_eq!(value, sent);
            assert!(reqwest::header::HeaderValue::from_str(&value).is_ok(), "{value}");
            assert_eq!(percent_encoding::percent_decode_str(&value).decode_utf8().unwrap(), raw);
        }
        assert_eq!(env_value("café"), "café");
        assert_eq!(env_value("a\0b"), "a%00b");
    }
}
