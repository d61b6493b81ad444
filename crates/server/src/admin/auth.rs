//! Who is calling the operator API: the bearer token, looked up by its hash in the tokens file
//! (reloaded on SIGHUP), checked for expiry; handlers then ask for the role they need.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use super::session::{self, Session, Sessions};
use super::tokens::{Role, TokenEntry, TokensFile};

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

    /// The token a presented one stands for, if it is known and not expired at `now` (Unix s).
    pub(crate) fn entry(&self, presented: &str, now: i64) -> Option<TokenEntry> {
        let file = self.file.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.find(presented).filter(|e| e.expires_at.is_none_or(|t| t > now)).cloned()
    }

    /// The caller a presented token stands for, if it is known and not expired at `now` (Unix s).
    fn caller(&self, presented: &str, now: i64) -> Option<Caller> {
        self.entry(presented, now).map(|e| Caller { name: e.name, role: e.role, token_sha256: e.sha256, session: None })
    }

    /// The caller a console session stands for: its token, by hash, if still in the file and not
    /// expired (a token revoked since sign-in ends its sessions at the next reload).
    fn caller_by_hash(&self, sha256: &str, now: i64) -> Option<Caller> {
        let file = self.file.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut found = None;
        for t in &file.tokens {
            let same: bool = subtle::ConstantTimeEq::ct_eq(t.sha256.as_bytes(), sha256.as_bytes()).into();
            if same && found.is_none() && t.expires_at.is_none_or(|e| e > now) {
                found =
                    Some(Caller { name: t.name.clone(), role: t.role, token_sha256: t.sha256.clone(), session: None });
            }
        }
        found
    }
}

/// An authenticated caller.
#[derive(Clone)]
pub struct Caller {
    /// The token's name (the audit log's actor).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The token's SHA-256 (hex), to check later that it is still in force.
    token_sha256: String,
    /// The console session it came through, if any.
    session: Option<String>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The session id is a bearer credential; the token hash is not secret but says nothing useful.
        f.debug_struct("Caller").field("name", &self.name).field("role", &self.role).finish_non_exhaustive()
    }
}

impl Caller {
    /// What identifies the token (its hash), for per-token shares.
    pub(crate) fn token_key(&self) -> &str {
        &self.token_sha256
    }

    /// Whether what this caller signed in with is still in force at `now` (Unix s): its token
    /// neither revoked (at the last reload) nor expired, and its console session, if any, open.
    /// A long request (the live stream) asks again as it goes.
    pub(crate) fn in_force<S: HasTokens>(&self, state: &S, now: i64) -> bool {
        state.tokens().caller_by_hash(&self.token_sha256, now).is_some()
            && self.session.as_deref().is_none_or(|id| state.sessions().get(id, now).is_some())
    }

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
    /// The console's sessions.
    fn sessions(&self) -> &Sessions;
}

/// The caller a console session cookie stands for, if the session and its token are in force.
pub(crate) fn session_caller(
    tokens: &Tokens,
    sessions: &Sessions,
    headers: &axum::http::HeaderMap,
    now: i64,
) -> Option<(Caller, Session)> {
    let id = session::cookie_id(headers)?;
    let session = sessions.get(id, now)?;
    let mut caller = tokens.caller_by_hash(&session.token_sha256, now)?;
    caller.session = Some(id.to_owned());
    Some((caller, session))
}

impl<S: HasTokens + Send + Sync> FromRequestParts<Arc<S>> for Caller {
    type Rejection = ApiError;

    /// A bearer token, or the console's session cookie; with the cookie, a request that changes
    /// something must also carry the session's CSRF token in `X-CSRF-Token` (a cookie is sent by
    /// the browser whoever made the page that asks).
    async fn from_request_parts(parts: &mut Parts, state: &Arc<S>) -> Result<Self, ApiError> {
        let now = hookgate_verify::Timestamp::now().unix_secs();
        let bearer = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(value) = bearer {
            let presented = value.strip_prefix("Bearer ").map(str::trim).ok_or_else(ApiError::unauthorized)?;
            return state.tokens().caller(presented, now).ok_or_else(ApiError::unauthorized);
        }
        let (caller, session) =
            session_caller(state.tokens(), state.sessions(), &parts.headers, now).ok_or_else(ApiError::unauthorized)?;
        if !parts.method.is_safe() {
            let presented = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !session::csrf_ok(&session, presented) {
                return Err(ApiError::csrf());
            }
        }
        Ok(caller)
    }
}
