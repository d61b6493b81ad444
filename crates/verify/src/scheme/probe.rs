//! Requests a provider sends unsigned to check an endpoint before (or while) it signs anything:
//! Trello's and Mandrill's `HEAD` on a new callback URL, WooCommerce's creation ping (a form body
//! `webhook_id=<digits>`). They are answered `200` with an empty body before verification and are
//! never stored, so answering them gives a caller nothing: no data, no echo, no MAC.

use serde::{Deserialize, Serialize};

use crate::signature::content::form_pairs;

/// One kind of unsigned probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The probe's method: `HEAD`, or `POST` with `form_field`.
    pub method: ProbeMethod,
    /// For a `POST`: the body is exactly this one form field, with digits as its value
    /// (WooCommerce's `webhook_id`); anything else goes through verification as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_field: Option<String>,
}

/// The methods a probe may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProbeMethod {
    /// `HEAD` (Trello, Mandrill).
    Head,
    /// `POST` with a fixed form body (WooCommerce).
    Post,
}

impl Probe {
    pub(crate) fn validate(&self) -> Result<(), String> {
        match (self.method, &self.form_field) {
            (ProbeMethod::Post, None) => Err("a POST probe needs form_field (the ping's only field)".into()),
            (ProbeMethod::Head, Some(_)) => Err("a HEAD probe has no body, so no form_field".into()),
            _ => Ok(()),
        }
    }

    /// Whether a request with this method and body is this probe.
    pub fn matches(&self, method: &str, body: &[u8]) -> bool {
        match self.method {
            ProbeMethod::Head => method.eq_ignore_ascii_case("HEAD"),
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

    #[test]
    fn a_probe_is_exactly_its_shape() {
        let ping = Probe { method: ProbeMethod::Post, form_field: Some("webhook_id".into()) };
        assert!(ping.matches("POST", b"webhook_id=42"));
        for not in [&b"webhook_id=42&x=1"[..], b"webhook_id=", b"webhook_id=4a", b"{\"webhook_id\":42}", b"id=42"] {
            assert!(!ping.matches("POST", not), "{}", String::from_utf8_lossy(not));
        }
        assert!(!ping.matches("HEAD", b"webhook_id=42"));
        let head = Probe { method: ProbeMethod::Head, form_field: None };
        assert!(head.matches("HEAD", b"") && !head.matches("POST", b""));
        assert!(Probe { method: ProbeMethod::Post, form_field: None }.validate().is_err());
    }
}
