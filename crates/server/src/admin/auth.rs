//! Who is calling the operator API: the bearer token, looked up by its hash in the tokens file
//! (reloaded on SIGHUP), checked for expiry; handlers then ask for the role they need.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use super::tokens::{Role, TokensFile};

/// The tokens in force, and where they come from.
#[derive(Debug)]
pub struct Tokens {
    path: PathBuf,
    file: RwLock<TokensFile>,
}

impl Tokens {
    /// Reads the file now (a broken file stops the start).
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn load(path: PathBuf) -> Result<Self, String> {
        let file = TokensFile::read(&path)?;
        Ok(Self { path, file: RwLock::new(file) })
    }

    /// Reads the file again (SIGHUP). A file that cannot be read leaves the tokens in force as
    /// they were, and says why.
    pub fn reload(&self) {
        match TokensFile::read(&self.path) {
            Ok(file) => {
                let n = file.tokens.len();
                *self.file.write().unwrap_or_else(std::sync::PoisonError::into_inner) = file;
                tracing::info!(path = %self.path.display(), tokens = n, "Reloaded the operator tokens.");
            }
            Err(e) => tracing::error!(error = %e, "Cannot reload the operator tokens; keeping those in force."),
        }
    }

    /// The caller a presented token stands for, if it is known and not expired at `now` (Unix s).
    fn caller(&self, presented: &str, now: i64) -> Option<Caller> {
        let file = self.file.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = file.find(presented)?;
        if entry.expires_at.is_some_and(|t| t <= now) {
            return None;
        }
        Some(Caller { name: entry.name.clone(), role: entry.role })
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name (the audit log's actor).
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Caller {
    /// Refuses (403) a caller whose role is below `needed`.
    ///
    /// # Errors
    /// [`ApiError::forbidden`].
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed { Ok(()) } else { Err(ApiError::forbidden(needed.as_str())) }
    }
}

/// What the extractor needs from the API's state.
pub trait HasTokens {
    /// The tokens in force.
    fn tokens(&self) -> &Tokens;
}

impl<S: HasTokens + Send + Sync> FromRequestParts<Arc<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<S>) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let now = hookgate_verify::Timestamp::now().unix_secs();
        state.tokens().caller(presented, now).ok_or_else(ApiError::unauthorized)
    }
}
