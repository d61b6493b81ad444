//! HTTP basic authentication (RFC 7617): `Authorization: Basic base64(user:password)`, the
//! configured `user:password` compared in constant time with the decoded credential.

use serde::{Deserialize, Serialize};

use super::credential::{Credential, Reading};
use crate::error::BuildError;
use crate::scheme::Scheme;
use crate::secret::Secret;

/// Basic authentication has nothing to configure but the credentials themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicSpec {}

impl BasicSpec {
    /// `user:password`, as configured; surrounding whitespace is dropped.
    pub(crate) fn key(text: &str) -> Result<Secret, BuildError> {
        let text = text.trim();
        match text.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                Ok(Secret::from_bytes(text.as_bytes().to_vec()))
            }
            _ => Err(BuildError::Secret("basic auth credentials are written `user:password`")),
        }
    }

    pub(crate) fn check(&self, scheme: Scheme, keys: Vec<Secret>) -> Result<Credential, BuildError> {
        let reading = Reading { header: "Authorization".into(), prefix: "Basic ".into(), base64: true };
        Credential::new(scheme, reading, keys)
    }
}
