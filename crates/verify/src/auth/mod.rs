//! What a source requires before a request counts as an event: the kind of check, one variant
//! per kind.
//!
//! A scheme's [`Proof`] chooses the kind: a signature over the request ([`Verifier`], whatever
//! its primitive) today. A kind that is not a signature (HTTP basic auth, a static token header)
//! is a new file here and a variant of [`Auth`] and of [`Proof`]: it checks the request's
//! credential (in constant time, over decoded bytes) and the source answers with its scheme's
//! replies as for any other kind. The gateway, the axum extractor and the CLI only ever call
//! [`Auth`] (docs/adding-a-verification-kind.md).

mod basic;
mod body_hmac;
mod credential;
mod jwt;
mod token;

pub use self::basic::BasicSpec;
pub use self::body_hmac::{BodyHmac, BodyHmacSpec};
pub use self::credential::Credential;
pub use self::jwt::{Jwt, JwtAlgorithm, JwtSpec};
pub use self::token::TokenSpec;
use crate::error::SignError;
use crate::error::{BuildError, Rejection};
use crate::request::WebhookRequest;
use crate::scheme::{Proof, Scheme};
use crate::secret::Secret;
use crate::signature::{ChallengeResponse, Clues, Diagnosis, SignOptions, Verified, Verifier};
use crate::timestamp::Timestamp;

/// A source's check, ready to run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Auth {
    /// A signature over the request, as the scheme describes it.
    Signature(Box<Verifier>),
    /// A credential sent in a header: a token or basic auth.
    Credential(Box<Credential>),
    /// A JWT binding the body (Plaid).
    Jwt(Box<Jwt>),
    /// An HMAC inside the body over other body fields (Mailgun).
    BodyHmac(Box<BodyHmac>),
}

impl Auth {
    /// The check `scheme`'s proof asks for, with its keys ([`Scheme::key`] decodes them).
    ///
    /// # Errors
    /// [`BuildError`] for an inconsistent scheme, no keys, or a key the kind cannot use.
    pub fn new(scheme: Scheme, keys: Vec<Secret>) -> Result<Self, BuildError> {
        match &scheme.proof {
            Proof::Signature(_) => Ok(Verifier::new(scheme, keys)?.into()),
            Proof::Token(t) => Ok(Auth::Credential(Box::new(t.clone().check(scheme, keys)?))),
            Proof::Basic(b) => Ok(Auth::Credential(Box::new(b.clone().check(scheme, keys)?))),
            Proof::Jwt(j) => Ok(Auth::Jwt(Box::new(j.clone().check(scheme, keys)?))),
            Proof::BodyHmac(b) => Ok(Auth::BodyHmac(Box::new(b.clone().check(scheme, keys)?))),
        }
    }

    /// A request signed (or otherwise proved) with the first key that can, for tests and
    /// `hookgate sign` / `send`; see [`Verifier::sign`].
    ///
    /// # Errors
    /// [`SignError`] when no key can sign or the content cannot be assembled.
    pub fn sign(&self, req: &WebhookRequest<'_>, opts: &SignOptions<'_>) -> Result<Vec<(String, String)>, SignError> {
        match self {
            Auth::Signature(v) => v.sign(req, opts),
            Auth::Credential(c) => Ok(c.sign()),
            Auth::Jwt(j) => j.sign(req, opts),
            // The MAC lives in the body the sender writes: there is no header to add.
            Auth::BodyHmac(_) => Err(SignError::NoSigningKey),
        }
    }

    /// Checks a request at time `now`.
    ///
    /// # Errors
    /// The [`Rejection`] that stopped it: for operators, never for the sender.
    pub fn verify(&self, req: &WebhookRequest<'_>, now: Timestamp) -> Result<Verified, Rejection> {
        match self {
            Auth::Signature(v) => v.verify(req, now),
            Auth::Credential(c) => c.verify(req, now),
            Auth::Jwt(j) => j.verify(req, now),
            Auth::BodyHmac(b) => b.verify(req, now),
        }
    }

    /// Why a request does not verify, for operators ([`Verifier::diagnose`]); empty when it does.
    pub fn diagnose(&self, req: &WebhookRequest<'_>, now: Timestamp, clues: &Clues<'_>) -> Diagnosis {
        match self {
            Auth::Signature(v) => v.diagnose(req, now, clues),
            Auth::Credential(c) => c.diagnose(req, now, clues),
            Auth::Jwt(j) => j.diagnose(req, now, clues),
            Auth::BodyHmac(b) => b.diagnose(req, now, clues),
        }
    }

    /// The fingerprint of each configured secret, in order.
    pub fn fingerprints(&self) -> Vec<String> {
        match self {
            Auth::Signature(v) => v.fingerprints(),
            Auth::Credential(c) => c.fingerprints(),
            Auth::Jwt(j) => j.fingerprints(),
            Auth::BodyHmac(b) => b.fingerprints(),
        }
    }

    /// The provider's endpoint-verification handshake, when a verified request is one.
    pub fn challenge_response(&self, req: &WebhookRequest<'_>, verified: &Verified) -> Option<ChallengeResponse> {
        match self {
            Auth::Signature(v) => v.challenge_response(req, verified),
            Auth::Credential(_) | Auth::Jwt(_) | Auth::BodyHmac(_) => None,
        }
    }

    /// What to answer a probe of the scheme's (`Scheme::probe`) with `query`, with status 200:
    /// `(content type, body)`. An empty body unless the probe is answered with an HMAC of its
    /// token (X's CRC).
    pub fn probe_answer(&self, probe: &crate::scheme::Probe, query: Option<&str>) -> (&'static str, Vec<u8>) {
        let hmac = match (self, probe.token(query)) {
            (Auth::Signature(v), Some(token)) => v.probe_answer(probe, &token),
            _ => None,
        };
        hmac.unwrap_or(("text/plain; charset=utf-8", Vec::new()))
    }

    /// The scheme: the provider's replies, id and type headers, metadata fields.
    pub fn scheme(&self) -> &Scheme {
        match self {
            Auth::Signature(v) => v.scheme(),
            Auth::Credential(c) => c.scheme(),
            Auth::Jwt(j) => j.scheme(),
            Auth::BodyHmac(b) => b.scheme(),
        }
    }
}

impl From<Verifier> for Auth {
    fn from(v: Verifier) -> Self {
        Auth::Signature(Box::new(v))
    }
}
