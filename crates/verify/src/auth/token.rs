//! A static token in a named header (GitLab's `X-Gitlab-Token`, an API key header,
//! `Authorization: Bearer …`): the token configured is the credential, as the sender shows it.

use serde::{Deserialize, Serialize};

use super::credential::{Credential, Reading};
use crate::error::BuildError;
use crate::scheme::Scheme;
use crate::secret::Secret;

/// Where a token is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// The header that carries it.
    pub header: String,
    /// The word before it (`Bearer `), matched case-insensitively; none by default.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
}

impl TokenSpec {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if http::HeaderName::from_bytes(self.header.as_bytes()).is_err() {
            return Err(format!("token header `{}` is not a valid header name", self.header));
        }
        Ok(())
    }

    /// The token text as configured; only surrounding whitespace is dropped.
    pub(crate) fn key(text: &str) -> Result<Secret, BuildError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(BuildError::Secret("the token is empty"));
        }
        Ok(Secret::from_bytes(text.as_bytes().to_vec()))
    }

    pub(crate) fn check(&self, scheme: Scheme, keys: Vec<Secret>) -> Result<Credential, BuildError> {
        let reading = Reading { header: self.header.clone(), prefix: self.prefix.clone(), base64: false };
        Credential::new(scheme, reading, keys)
    }
}
