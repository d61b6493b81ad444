//! Webhook signature verification over the exact raw request bytes.
//!
//! `hookgate-verify` decides, from a received request, whether a webhook really comes from its
//! provider. It is synchronous and does no I/O (no async runtime, no database, no HTTP server), so
//! any framework can call it; `hookgate-axum` wraps it as an axum extractor and the `hookgate`
//! gateway builds on it.
//!
//! # Design
//! One engine, many presets. A provider is a [`Scheme`] value: its facts (replies, id and type
//! headers, handshake, metadata) and its [`Proof`]. For a signature ([`Signing`]) that is which
//! header holds it and how it is written, which parts make up the signed content (body, headers,
//! timestamp, URL, method, sorted form parameters, literals), which [`Primitive`] checks it (HMAC
//! with a named hash, Ed25519), how the key is decoded, and the replay window. Presets ([`preset`]) are data for the same [`Verifier`], and a
//! custom scheme can be described in TOML. The trade-off: a provider with a rule the parts cannot
//! express needs a new [`Part`], not a new verifier, which keeps every provider on one audited path.
//!
//! Security properties:
//! - MACs are decoded to bytes and compared in constant time (`subtle`), against every signature
//!   sent (rotation on the sender's side) and every configured secret (rotation on ours);
//! - the clock is a parameter, so replay windows are exact and testable;
//! - header parsing is bounded and never panics (fuzzed in `fuzz/`);
//! - secrets and keyed MAC state are zeroized on drop and redacted in `Debug`;
//! - a [`Rejection`] names what failed for operators but never contains a secret or the expected
//!   MAC; the sender should only ever see the scheme's generic [`Reply`].
//!
//! # Example
//! ```
//! use hookgate_verify::{preset, Auth, Timestamp, WebhookRequest, http::HeaderMap};
//!
//! let scheme = preset("flinks").unwrap();
//! let secret = scheme.key("your-hmac-secret-key").unwrap();
//! let verifier = Auth::new(scheme, vec![secret]).unwrap();
//!
//! let body = br#"{"ResponseType":"KYC"}"#;
//! let mut headers = HeaderMap::new();
//! // What Flinks would send: base64(HMAC-SHA256(secret, body)).
//! for (name, value) in verifier.sign(&WebhookRequest::new(&headers, body), &Default::default()).unwrap() {
//!     headers.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
//! }
//! let verified = verifier.verify(&WebhookRequest::new(&headers, body), Timestamp::now());
//! assert!(verified.is_ok());
//!
//! let tampered = br#"{"ResponseType":"KYC" }"#;
//! let err = verifier.verify(&WebhookRequest::new(&headers, tampered), Timestamp::now()).unwrap_err();
//! assert_eq!(err.to_string(), "signature mismatch");
//! ```

#![deny(missing_docs)]

mod algorithm;
mod auth;
mod encoding;
mod error;
mod overrides;
mod preset;
mod request;
mod scheme;
mod secret;
pub mod signature;
mod timestamp;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use auth::{Auth, BasicSpec, BodyHmac, BodyHmacSpec, Credential, Jwt, JwtAlgorithm, JwtSpec, TokenSpec};
pub use encoding::Encoding;
pub use error::{BuildError, Rejection, SignError};
pub use http;
pub use overrides::Overrides;
pub use preset::{PRESETS, preset};
pub use request::WebhookRequest;
pub use scheme::{
    AlgorithmSpec, BodyDigestParam, Challenge, ChallengeMatch, ChallengeReply, MetadataParse, MetadataSpec, Part,
    Probe, ProbeMethod, ProbeReply, Proof, Reply, Scheme, SignatureHeader, Signing, TimestampSpec,
};
pub use secret::{Secret, SecretEncoding, SecretRef, SecretText};
pub use signature::{
    Budget, Cause, ChallengeResponse, Clues, Diagnosis, Finding, Primitive, SignOptions, Verified, Verifier,
};
pub use timestamp::{Timestamp, TimestampFormat, Window};

/// The README's Rust examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
