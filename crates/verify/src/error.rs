//! Why a request was rejected, and why a verifier could not be built.

/// Why a webhook request did not verify.
///
/// The `Display` text is lowercase and safe to log: it names headers and the kind of failure, never
/// a secret, the expected MAC or the received signature. It is for operators; the sender of the
/// request should only ever see the scheme's generic rejection reply.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A required header is absent.
    #[error("missing header `{0}`")]
    MissingHeader(String),
    /// A required header is present but empty.
    #[error("empty header `{0}`")]
    EmptyHeader(String),
    /// A header that must appear once appears several times (ambiguous, so refused).
    #[error("header `{0}` appears more than once")]
    DuplicateHeader(String),
    /// A header is too large, has too many values, or is not valid text.
    #[error("invalid header `{0}`")]
    InvalidHeader(String),
    /// No signature in the header could be parsed for this scheme (wrong prefix, bad encoding, wrong length).
    #[error("malformed signature")]
    MalformedSignature,
    /// The signed timestamp is missing from the signature or cannot be parsed.
    #[error("malformed timestamp")]
    MalformedTimestamp,
    /// The request names an algorithm that is unknown or not allowed for this source.
    #[error("unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// The signed timestamp is older than the tolerance.
    #[error("timestamp outside tolerance: too old")]
    TimestampTooOld,
    /// The signed timestamp is further in the future than the tolerance.
    #[error("timestamp outside tolerance: in the future")]
    TimestampTooNew,
    /// The scheme signs the request URL but none was given.
    #[error("the scheme signs the request url, but no url was given")]
    MissingUrl,
    /// The body does not match the digest carried in the URL (Twilio `bodySHA256`).
    #[error("body digest does not match the url")]
    BodyDigestMismatch,
    /// The body is not what the scheme accepts (a JSON object, for schemes that require one).
    #[error("the body is not a JSON object")]
    UnexpectedBody,
    /// The signature names a key (a JWT's `kid`) that is not configured, or has expired.
    #[error("unknown or expired signing key")]
    UnknownKey,
    /// Well-formed, but no signature matches any secret.
    #[error("signature mismatch")]
    Mismatch,
}

impl Rejection {
    /// A stable snake_case code for metrics labels and logs (`signature_mismatch`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::MissingHeader(_) => "missing_header",
            Rejection::EmptyHeader(_) => "empty_header",
            Rejection::DuplicateHeader(_) => "duplicate_header",
            Rejection::InvalidHeader(_) => "invalid_header",
            Rejection::MalformedSignature => "malformed_signature",
            Rejection::MalformedTimestamp => "malformed_timestamp",
            Rejection::UnsupportedAlgorithm => "unsupported_algorithm",
            Rejection::TimestampTooOld => "timestamp_too_old",
            Rejection::TimestampTooNew => "timestamp_too_new",
            Rejection::MissingUrl => "missing_url",
            Rejection::BodyDigestMismatch => "body_digest_mismatch",
            Rejection::UnexpectedBody => "unexpected_body",
            Rejection::UnknownKey => "unknown_key",
            Rejection::Mismatch => "signature_mismatch",
        }
    }
}

/// A scheme or secret that cannot be used. Raised when a verifier is built, so bad configuration
/// fails at start-up rather than on the first request.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A secret is empty or does not decode (the message never contains the secret).
    #[error("invalid secret: {0}")]
    Secret(&'static str),
    /// No secret was given.
    #[error("at least one secret is required")]
    NoSecrets,
    /// No preset has this name.
    #[error("unknown scheme `{0}`")]
    UnknownScheme(String),
    /// The scheme description is inconsistent.
    #[error("invalid scheme `{scheme}`: {reason}")]
    InvalidScheme {
        /// The scheme's name.
        scheme: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key is for a primitive the scheme does not use (a `whpk_` key on an HMAC-only scheme).
    #[error("scheme `{scheme}`: key {index} is an {primitive} key, and the scheme does not verify {primitive}")]
    KeyKind {
        /// The scheme's name.
        scheme: String,
        /// Which key (1 = the first).
        index: usize,
        /// What the key is for.
        primitive: crate::Primitive,
    },
    /// A source's change to its scheme does not apply to it ([`crate::Overrides`]).
    #[error("scheme `{scheme}`: {reason}")]
    Override {
        /// The scheme's name.
        scheme: String,
        /// What does not apply.
        reason: String,
    },
}

/// Why a request could not be signed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The algorithm is not one this scheme may use.
    #[error("algorithm `{0}` is not allowed by this scheme")]
    Algorithm(crate::Algorithm),
    /// No configured key can sign: a public key only verifies (give the private key to play the
    /// provider).
    #[error("no configured key can sign: a public key only verifies; give the private key")]
    NoSigningKey,
    /// The content to sign cannot be assembled (a missing URL, say).
    #[error("cannot assemble the signed content: {0}")]
    Content(Rejection),
}
