//! An HMAC carried in the body over other body fields: Mailgun's webhooks
//! (`{"signature":{"timestamp","token","signature"},"event-data":{…}}`, or the same three as form
//! fields), HMAC-SHA256 of `timestamp ‖ token` with the signing key.
//!
//! The MAC covers only those fields, not the event: anyone who sees one request can send its
//! signature with other event data. So the scheme is weak, the timestamp is held to a window,
//! and the verified request's id is the signed `token` field, whichever way the body is written
//! (JSON or form): the gateway deduplicates on it, so a token seen before never stores a second
//! event.
//!
//! The body is read before anything is verified, so it is read only as the content type says
//! (a form for `application/x-www-form-urlencoded`, JSON otherwise) and JSON only up to
//! [`MAX_JSON`] bytes: an unverified body never costs more than a bounded parse.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::encoding::Encoding;
use crate::error::{BuildError, Rejection};
use crate::request::WebhookRequest;
use crate::scheme::Scheme;
use crate::secret::Secret;
use crate::signature::content::form_pairs;
use crate::signature::{Cause, Clues, Diagnosis, Finding, Primitive, PrimitiveKey, Verified, optional_text};
use crate::timestamp::{Age, Timestamp, TimestampFormat, Window, check_window};

/// Where the fields are: JSON pointers into a JSON body; in a form body, each pointer's last
/// segment is the field's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyHmacSpec {
    /// The fields signed, concatenated in order (`/signature/timestamp`, `/signature/token`).
    pub content: Vec<String>,
    /// The field holding the MAC.
    pub signature: String,
    /// How the MAC is written.
    pub encoding: Encoding,
    /// The hash of the HMAC.
    pub algorithm: Algorithm,
    /// The field holding the signed Unix timestamp (seconds), checked against `tolerance_secs`.
    pub timestamp: String,
    /// The signed field that is unique per delivery (Mailgun's `token`): the verified request's
    /// id, so the gateway deduplicates on it and a replayed signature stores nothing new.
    pub id: String,
    /// How far the timestamp may be from now, either way.
    pub tolerance_secs: u64,
}

impl BodyHmacSpec {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !self.content.contains(&self.id) {
            return Err(format!("body_hmac id `{}` is not one of the signed fields", self.id));
        }
        for p in self.content.iter().chain([&self.signature, &self.timestamp]) {
            if !p.starts_with('/') {
                return Err(format!("body_hmac field `{p}` is not a JSON pointer"));
            }
        }
        if self.content.is_empty() {
            return Err("body_hmac signs no field".into());
        }
        if self.algorithm == Algorithm::Sha1 {
            return Err("body_hmac with sha1 is not supported".into());
        }
        Ok(())
    }

    pub(crate) fn check(&self, scheme: Scheme, keys: Vec<Secret>) -> Result<BodyHmac, BuildError> {
        scheme.validate()?;
        if keys.is_empty() {
            return Err(BuildError::NoSecrets);
        }
        let prepared = keys
            .iter()
            .map(|k| crate::signature::primitive_hmac_key(k.expose(), self.algorithm))
            .collect::<Result<Vec<_>, _>>()?;
        let fingerprints = keys.iter().map(Secret::fingerprint).collect();
        Ok(BodyHmac { spec: self.clone(), scheme, keys: prepared, fingerprints })
    }
}

/// The check, ready to run.
pub struct BodyHmac {
    spec: BodyHmacSpec,
    scheme: Scheme,
    keys: Vec<PrimitiveKey>,
    fingerprints: Vec<String>,
}

impl std::fmt::Debug for BodyHmac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyHmac")
            .field("scheme", &self.scheme.name)
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// The body read once: JSON, or form fields.
enum Fields {
    Json(serde_json::Value),
    Form(Vec<(Vec<u8>, Vec<u8>)>),
}

/// The largest JSON body parsed before verification (Mailgun's events are a few KiB).
pub(crate) const MAX_JSON: usize = 256 * 1024;

impl Fields {
    /// The body as its content type says: form fields, or JSON (`None` past [`MAX_JSON`] or not
    /// JSON).
    fn read(req: &WebhookRequest<'_>) -> Option<Fields> {
        let form = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        });
        if form {
            return Some(Fields::Form(form_pairs(req.body).take(256).collect()));
        }
        if req.body.len() > MAX_JSON {
            return None;
        }
        serde_json::from_slice(req.body).ok().map(Fields::Json)
    }

    /// The field's text: a JSON string or number, or a form field named by the pointer's last
    /// segment.
    fn get(&self, pointer: &str) -> Option<Cow<'_, [u8]>> {
        match self {
            Fields::Json(v) => match v.pointer(pointer)? {
                serde_json::Value::String(s) => Some(Cow::Borrowed(s.as_bytes())),
                serde_json::Value::Number(n) => Some(Cow::Owned(n.to_string().into_bytes())),
                _ => None,
            },
            Fields::Form(pairs) => {
                let name = pointer.rsplit('/').next()?;
                pairs.iter().find(|(k, _)| k.as_slice() == name.as_bytes()).map(|(_, v)| Cow::Borrowed(v.as_slice()))
            }
        }
    }
}

impl BodyHmac {
    pub(crate) fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    pub(crate) fn fingerprints(&self) -> Vec<String> {
        self.fingerprints.clone()
    }

    pub(crate) fn verify(&self, req: &WebhookRequest<'_>, now: Timestamp) -> Result<Verified, Rejection> {
        let fields = Fields::read(req).ok_or(Rejection::UnexpectedBody)?;
        let missing = |p: &str| Rejection::MissingHeader(format!("body field {p}"));
        let sig_text = fields.get(&self.spec.signature).ok_or_else(|| missing(&self.spec.signature))?;
        let signature = self.spec.encoding.decode_mac(&sig_text).ok_or(Rejection::MalformedSignature)?;
        let ts_text = fields.get(&self.spec.timestamp).ok_or(Rejection::MalformedTimestamp)?;
        let ts = std::str::from_utf8(&ts_text)
            .ok()
            .and_then(|t| Timestamp::parse(t, TimestampFormat::Seconds))
            .ok_or(Rejection::MalformedTimestamp)?;
        match check_window(ts, now, self.spec.tolerance_secs, Window::Symmetric) {
            Age::Fresh => {}
            Age::TooOld => return Err(Rejection::TimestampTooOld),
            Age::TooNew => return Err(Rejection::TimestampTooNew),
        }
        let content =
            self.spec.content.iter().map(|p| fields.get(p).ok_or_else(|| missing(p))).collect::<Result<Vec<_>, _>>()?;
        let candidates = [signature];
        let secret_index = self
            .keys
            .iter()
            .position(|k| k.first_match(self.spec.algorithm, &content, &candidates).is_some())
            .ok_or(Rejection::Mismatch)?;
        let id = fields.get(&self.spec.id).map(|t| String::from_utf8_lossy(&t).into_owned());
        Ok(Verified {
            id: id.or(optional_text(req.headers, self.scheme.id_header.as_deref())?),
            event_type: optional_text(req.headers, self.scheme.event_type_header.as_deref())?,
            timestamp: Some(ts),
            algorithm: Some(self.spec.algorithm),
            primitive: Some(Primitive::Hmac),
            secret_index,
        })
    }

    /// Why a request does not verify: a field absent (a body that is neither the provider's
    /// JSON nor its form), or the timestamp outside the window.
    pub(crate) fn diagnose(&self, req: &WebhookRequest<'_>, now: Timestamp, _clues: &Clues<'_>) -> Diagnosis {
        let Err(rejection) = self.verify(req, now) else { return Diagnosis::default() };
        let mut findings = Vec::new();
        if let Rejection::MissingHeader(what) = &rejection {
            findings.push(Finding {
                cause: Cause::HeaderMissing,
                detail: format!("the {what} is absent: is the body the provider's JSON, or its form fields?"),
            });
        }
        if matches!(rejection, Rejection::TimestampTooOld | Rejection::TimestampTooNew) {
            findings.push(Finding {
                cause: Cause::ClockSkew,
                detail: format!("the signed timestamp is outside ±{} s of Hookgate's clock", self.spec.tolerance_secs),
            });
        }
        Diagnosis { findings, exhausted: false }
    }
}
