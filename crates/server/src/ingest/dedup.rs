//! How a source picks the key that makes a provider retry a duplicate.

/// How a source picks the key that makes a provider retry a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    /// The provider's delivery/event id where the scheme has one, else the body hash.
    Auto,
    /// Always SHA-256 of source and body.
    Body,
    /// A JSON field of the body (falls back to the body hash when absent).
    JsonPointer(String),
    /// A request header (falls back to the body hash when absent).
    Header(String),
}
