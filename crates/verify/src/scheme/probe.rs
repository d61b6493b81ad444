//! Requests a provider sends unsigned to check an endpoint: Trello's and Mandrill's `HEAD` on a
//! new callback URL, WooCommerce's creation ping (a form body `webhook_id=<digits>`), X's CRC
//! (`GET ?crc_token=…`, answered with an HMAC of the token). They are answered before
//! verification and never stored.
//!
//! Most get `200` and an empty body, which gives a caller nothing. X's answer is an HMAC keyed
//! with the source's secret over a token the caller chose, and X signs its events with the same
//! HMAC over the body: answered naively, the CRC signs any body an attacker sends as a token. So
//! a CRC token is only answered when it cannot be such a body (`[A-Za-z0-9+/=_-]`, at most 256
//! bytes), and the scheme requires event bodies to be JSON objects (`json_object_body`), which
//! start with `{`: no token's HMAC is ever a valid event signature.

use serde::{Deserialize, Serialize};

use crate::encoding::Encoding;
use crate::signature::content::form_pairs;

/// One kind of unsigned probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The probe's method: `HEAD`, `POST` with `form_field`, or `GET` with `query_param`.
    pub method: ProbeMethod,
    /// For a `POST`: the body is exactly this one form field, with digits as its value
    /// (WooCommerce's `webhook_id`); anything else goes through verification as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_field: Option<String>,
    /// For a `GET`: the query parameter carrying the challenge token (X's `crc_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_param: Option<String>,
    /// What to answer: nothing (the default), or an HMAC of the token.
    #[serde(default, skip_serializing_if = "ProbeReply::is_empty")]
    pub reply: ProbeReply,
}

/// The methods a probe may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProbeMethod {
    /// `HEAD` (Trello, Mandrill).
    Head,
    /// `POST` with a fixed form body (WooCommerce).
    Post,
    /// `GET` with a token in the query (X's CRC).
    Get,
}

/// What a probe is answered with (always status 200).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeReply {
    /// An empty body.
    #[default]
    Empty,
    /// `{"<field>": "<prefix><encoding(HMAC(secret, token))>"}` as JSON, with the first secret
    /// and the scheme's algorithm (X: `{"response_token": "sha256=<base64>"}`).
    HmacJson {
        /// The JSON field.
        field: String,
        /// Text before the encoded MAC.
        #[serde(default)]
        prefix: String,
        /// How the MAC is written.
        encoding: Encoding,
    },
}

impl ProbeReply {
    fn is_empty(&self) -> bool {
        *self == ProbeReply::Empty
    }
}

/// Most bytes of a CRC token answered.
const MAX_TOKEN_LEN: usize = 256;

/// Whether a challenge token may be answered with an HMAC: the base64 and base64url alphabet
/// only, so it can never be (or start like) a JSON body.
fn safe_token(token: &[u8]) -> bool {
    (1..=MAX_TOKEN_LEN).contains(&token.len())
        && token.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

impl Probe {
    pub(crate) fn validate(&self) -> Result<(), String> {
        match (self.method, &self.form_field, &self.query_param) {
            (ProbeMethod::Post, None, _) => Err("a POST probe needs form_field (the ping's only field)".into()),
            (ProbeMethod::Get, _, None) => Err("a GET probe needs query_param (where its token is)".into()),
            (ProbeMethod::Head, Some(_), _) | (ProbeMethod::Head, _, Some(_)) => {
                Err("a HEAD probe has no body and no token".into())
            }
            _ if !self.reply.is_empty() && self.query_param.is_none() => {
                Err("a probe answered with an HMAC needs the query_param it signs".into())
            }
            _ => Ok(()),
        }
    }

    /// The challenge token of a `GET` probe, when the query carries one that may be answered.
    pub fn token(&self, query: Option<&str>) -> Option<Vec<u8>> {
        let param = self.query_param.as_deref()?;
        let query = query?;
        let mut values = form_pairs(query.as_bytes()).filter(|(k, _)| k.as_slice() == param.as_bytes());
        let (_, token) = values.next()?;
        // One token, of the safe alphabet: anything else is not answered.
        (values.next().is_none() && safe_token(&token)).then_some(token)
    }

    /// Whether a request with this method, query and body is this probe.
    pub fn matches(&self, method: &str, query: Option<&str>, body: &[u8]) -> bool {
        match self.method {
            ProbeMethod::Head => method.eq_ignore_ascii_case("HEAD"),
            ProbeMethod::Get => method.eq_ignore_ascii_case("GET") && body.is_empty() && self.token(query).is_some(),
            ProbeMethod::Post => {
                let Some(field) = &self.form_field else { return false };
                if !method.eq_ignore_ascii_case("POST") || body.len() > 64 {
                    return false;
                }
                let mut pairs = form_pairs(body);
                matches!(
                    (pairs.next(), pairs.next()),
                    (Some((k, v)), None) if k == field.as_bytes() && !v.is_empty() && v.iter().all(u8::is_ascii_digit)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(method: ProbeMethod, form_field: Option<&str>, query_param: Option<&str>) -> Probe {
        Probe {
            method,
            form_field: form_field.map(Into::into),
            query_param: query_param.map(Into::into),
            reply: ProbeReply::Empty,
        }
    }

    #[test]
    fn a_probe_is_exactly_its_shape() {
        let ping = probe(ProbeMethod::Post, Some("webhook_id"), None);
        assert!(ping.matches("POST", None, b"webhook_id=42"));
        for not in [&b"webhook_id=42&x=1"[..], b"webhook_id=", b"webhook_id=4a", b"{\"webhook_id\":42}", b"id=42"] {
            assert!(!ping.matches("POST", None, not), "{}", String::from_utf8_lossy(not));
        }
        assert!(!ping.matches("HEAD", None, b"webhook_id=42"));
        let head = probe(ProbeMethod::Head, None, None);
        assert!(head.matches("HEAD", None, b"") && !head.matches("POST", None, b""));
        assert!(probe(ProbeMethod::Post, None, None).validate().is_err());
        assert!(probe(ProbeMethod::Get, None, None).validate().is_err());
    }

    #[test]
    fn only_tokens_that_cannot_be_a_body_are_answered() {
        let crc = probe(ProbeMethod::Get, None, Some("crc_token"));
        assert!(crc.matches("GET", Some("crc_token=Zm9vYmFy-_%2B/%3D&nonce=1"), b""));
        for query in [
            None,
            Some("nonce=1"),
            Some("crc_token="),
            Some("crc_token=%7B%22id%22%3A1%7D"), // {"id":1}
            Some("crc_token=a%20b"),
            Some("crc_token=a&crc_token=b"),
        ] {
            assert!(!crc.matches("GET", query, b""), "{query:?}");
        }
        assert!(!crc.matches("GET", Some(&format!("crc_token={}", "a".repeat(257))), b""));
        assert!(!crc.matches("GET", Some("crc_token=abc"), b"body"), "a GET probe has no body");
    }
}
