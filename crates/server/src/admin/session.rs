//! Console sessions: a signed-in browser holds a random session id in an `HttpOnly; SameSite=Strict`
//! cookie; the gateway keeps, by the id's hash, which token signed in (by its hash, so a token
//! revoked or expired in the tokens file ends its sessions at once), until when, and the session's
//! CSRF token. Kept in memory: a restart signs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;

use super::tokens::sha256_hex;

/// The cookie's name.
pub(crate) const COOKIE: &str = "hookgate_session";

/// The longest a session lasts (it ends sooner with its token).
#[cfg_attr(not(feature = "console"), allow(dead_code))]
pub(crate) const MAX_AGE_SECS: i64 = 12 * 3600;
/// Sessions one token may hold: the oldest ends when a token signs in once more.
const MAX_PER_TOKEN: usize = 16;
/// Sessions held at once, all tokens together: the oldest ends past it.
const MAX_SESSIONS: usize = 1024;

/// One signed-in browser.
#[derive(Clone)]
pub struct Session {
    /// SHA-256 of the token that signed in (hex).
    pub token_sha256: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Sent back in `X-CSRF-Token` (or the `csrf` form field) by every state-changing request.
    pub csrf: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// The sessions in force.
#[derive(Default)]
pub struct Sessions {
    by_id_hash: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

/// 32 random bytes, base64url.
fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl Sessions {
    /// Opens a session for the token with hash `token_sha256` until `expires_at` (Unix s); returns
    /// the session id for the cookie.
    ///
    /// # Errors
    /// No randomness from the operating system.
    pub fn open(&self, token_sha256: String, expires_at: i64, now: i64) -> Result<(String, Session), getrandom::Error> {
        let id = random_token()?;
        let session = Session { token_sha256, expires_at, csrf: random_token()? };
        let mut map = self.by_id_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, s| s.expires_at > now);
        // Bounded: a token signing in again and again (a script, a stolen token) keeps its
        // newest sessions only, and all tokens together at most MAX_SESSIONS.
        let mut mine: Vec<(String, i64)> = map
            .iter()
            .filter(|(_, s)| s.token_sha256 == session.token_sha256)
            .map(|(k, s)| (k.clone(), s.expires_at))
            .collect();
        if mine.len() >= MAX_PER_TOKEN {
            mine.sort_by_key(|(_, expires)| *expires);
            for (k, _) in &mine[..=mine.len() - MAX_PER_TOKEN] {
                map.remove(k);
            }
        }
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires_at).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(sha256_hex(id.as_bytes()), session.clone());
        Ok((id, session))
    }

    /// Sessions open now (expired ones not yet pruned included).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_id_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// The session a cookie's id stands for, if it has not expired at `now`.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let map = self.by_id_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&sha256_hex(id.as_bytes())).filter(|s| s.expires_at > now).cloned()
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        let mut map = self.by_id_hash.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&sha256_hex(id.as_bytes()));
    }
}

/// The session id in a request's `Cookie` headers.
pub(crate) fn cookie_id(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// Whether `presented` is the session's CSRF token (constant time).
pub(crate) fn csrf_ok(session: &Session, presented: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(session.csrf.as_bytes(), presented.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_per_token_and_in_all() {
        let s = Sessions::default();
        let first = s.open("a".into(), 100, 0).unwrap().0;
        for i in 0..40 {
            s.open("a".into(), 101 + i, 0).unwrap();
        }
        assert_eq!(s.len(), MAX_PER_TOKEN, "one token keeps its newest sessions only");
        assert!(s.get(&first, 1).is_none());
        for i in 0..(MAX_SESSIONS + 50) {
            s.open(format!("t{i}"), 100 + i64::try_from(i).unwrap(), 0).unwrap();
        }
        assert_eq!(s.len(), MAX_SESSIONS);
    }

    #[test]
    fn sessions_open_expire_and_close() {
        let sessions = Sessions::default();
        let (id, s) = sessions.open("ab".repeat(32), 1_000, 0).unwrap();
        assert!(sessions.get(&id, 999).is_some());
        assert!(sessions.get(&id, 1_000).is_none(), "expired");
        assert!(sessions.get("other", 0).is_none());
        assert!(csrf_ok(&s, &s.csrf) && !csrf_ok(&s, "x"));
        sessions.close(&id);
        assert!(sessions.get(&id, 0).is_none());
        assert!(!format!("{s:?}").contains(&s.csrf), "Debug shows no secret");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.append(axum::http::header::COOKIE, "a=1; hookgate_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie_id(&h), Some("xyz"));
        assert_eq!(cookie_id(&axum::http::HeaderMap::new()), None);
    }
}
