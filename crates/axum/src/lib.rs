//! An axum extractor that yields a webhook's raw body only after its signature verified.
//!
//! [`VerifiedWebhook`] reads the body (so axum's `DefaultBodyLimit` applies and an oversized body
//! gets 413), verifies it with a [`WebhookVerifier`] taken from the router state, and hands the
//! handler the exact bytes plus what verification established. On failure it answers the scheme's
//! documented status with the scheme's generic body (Flinks: 403 `{"error":"Invalid signature"}`;
//! Fin: 401 `Invalid signature`) and never says why; the reason stays available to the
//! application through [`WebhookRejection::reason`] for logging.
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use hookgate_axum::{VerifiedWebhook, WebhookVerifier};
//! use hookgate_verify::{Secret, Verifier, preset};
//!
//! async fn handle(hook: VerifiedWebhook) -> &'static str {
//!     let _raw: &[u8] = &hook.body;
//!     "ok"
//! }
//!
//! # fn build() -> Result<Router, Box<dyn std::error::Error>> {
//! let scheme = preset("flinks").unwrap();
//! let encoding = scheme.signing().unwrap().secret_encoding;
//! let secret = Secret::decode(&std::env::var("FLINKS_HMAC_SECRET")?, encoding)?;
//! let verifier = WebhookVerifier::new(Verifier::new(scheme, vec![secret])?);
//! let app = Router::new().route("/webhook", post(handle)).with_state(verifier);
//! # Ok(app) }
//! ```
//!
//! The extractor consumes the body, so it must be the handler's last argument.

#![deny(missing_docs)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hookgate_verify::{Auth, Rejection, Reply, Timestamp, Verified, WebhookRequest};

/// A shareable check for one provider (any kind: a signature, a token), plus what the extractor
/// needs beyond the scheme.
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    auth: Arc<Auth>,
    public_base_url: Option<Arc<str>>,
}

impl WebhookVerifier {
    /// Wraps a built check: an [`Auth`], or a signature [`hookgate_verify::Verifier`].
    pub fn new(auth: impl Into<Auth>) -> Self {
        Self { auth: Arc::new(auth.into()), public_base_url: None }
    }

    /// The public origin the provider posts to (`https://hooks.example.com`), for schemes that
    /// sign the URL (Square, Twilio, HubSpot); the request's path and query are appended. Behind a
    /// proxy the local URL differs from the one the provider signed, so it must be configured.
    #[must_use]
    pub fn with_public_base_url(mut self, base: &str) -> Self {
        self.public_base_url = Some(Arc::from(base.trim_end_matches('/')));
        self
    }

    /// The check.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }
}

/// A webhook whose signature verified: the exact raw body and what verification established.
#[derive(Debug, Clone)]
pub struct VerifiedWebhook {
    /// The body bytes exactly as received.
    pub body: Bytes,
    /// Provider id, timestamp, algorithm and matching secret.
    pub verified: Verified,
}

/// Why the extractor refused a request. Its response is the scheme's generic rejection; the
/// reason is for the application's logs only.
#[derive(Debug)]
pub enum WebhookRejection {
    /// The signature did not verify.
    Invalid {
        /// What failed (never sent to the client).
        reason: Rejection,
        /// The scheme's rejection reply.
        reply: Reply,
    },
    /// The body could not be read (too large, or the connection failed).
    Body(axum::extract::rejection::BytesRejection),
}

impl WebhookRejection {
    /// The verification failure, if that is what happened.
    pub fn reason(&self) -> Option<&Rejection> {
        match self {
            WebhookRejection::Invalid { reason, .. } => Some(reason),
            WebhookRejection::Body(_) => None,
        }
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        match self {
            WebhookRejection::Invalid { reply, .. } => reply_response(&reply),
            WebhookRejection::Body(e) => e.into_response(),
        }
    }
}

/// Turns a scheme's [`Reply`] into a response (the gateway answers with this too).
pub fn reply_response(reply: &Reply) -> Response {
    // A validated scheme's statuses are 200-599; the fallback is never reached through one.
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body.clone()).into_response();
    if let Ok(ct) = HeaderValue::from_str(&reply.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}

impl<S> FromRequest<S> for VerifiedWebhook
where
    S: Send + Sync,
    WebhookVerifier: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let hook = WebhookVerifier::from_ref(state);
        // Keep what verification needs, then let `Bytes` read the body so `DefaultBodyLimit`
        // (kept in the request's extensions) applies. Taking the headers avoids copying them.
        let mut req = req;
        let headers = std::mem::take(req.headers_mut());
        let method = req.method().clone();
        let uri = req.uri().clone();
        let body = Bytes::from_request(req, state).await.map_err(WebhookRejection::Body)?;
        let incoming = Incoming::new(&method, &uri, &headers, &body, hook.public_base_url.as_deref());
        match incoming.verify(&hook.auth, Timestamp::now()) {
            Ok(verified) => Ok(VerifiedWebhook { body, verified }),
            Err(reason) => Err(WebhookRejection::Invalid { reason, reply: hook.auth.scheme().rejection.clone() }),
        }
    }
}

/// A request whose body has been read, as verification sees it: method, the URL the provider
/// signed, headers and the exact bytes. The extractor and the gateway both verify through this,
/// so they follow one rule for the signed URL.
#[derive(Debug)]
pub struct Incoming<'a> {
    method: &'a Method,
    headers: &'a HeaderMap,
    body: &'a [u8],
    url: Option<String>,
}

impl<'a> Incoming<'a> {
    /// The request, with `public_url` (when the scheme signs the URL) as configured.
    pub fn new(
        method: &'a Method,
        uri: &Uri,
        headers: &'a HeaderMap,
        body: &'a [u8],
        public_url: Option<&str>,
    ) -> Self {
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        Self { method, headers, body, url: public_url.map(|p| signed_url(p, path_and_query)) }
    }

    /// What the verifier reads.
    pub fn request(&self) -> WebhookRequest<'_> {
        let mut request = WebhookRequest::new(self.headers, self.body).with_method(self.method.as_str());
        if let Some(url) = &self.url {
            request = request.with_url(url);
        }
        request
    }

    /// Verifies the request at `now`.
    ///
    /// # Errors
    /// The [`Rejection`]: for the application's logs, never for the sender.
    pub fn verify(&self, auth: &Auth, now: Timestamp) -> Result<Verified, Rejection> {
        auth.verify(&self.request(), now)
    }
}

/// The URL a provider signed, from the public URL it posts to and the request's path and query:
/// an origin alone (`https://hooks.example.com`) takes the request's path and query; a full URL
/// (`https://hooks.example.com/webhooks/square`) is the URL itself, with the request's query when
/// it has none of its own. Behind a proxy the local URL differs from the one signed, so the public
/// one is configured.
pub fn signed_url(public: &str, path_and_query: &str) -> String {
    let after_scheme = public.split_once("://").map_or(public, |(_, rest)| rest);
    let origin_only = after_scheme.find('/').is_none_or(|i| after_scheme[i..] == *"/");
    if origin_only {
        return format!("{}{path_and_query}", public.trim_end_matches('/'));
    }
    match path_and_query.split_once('?') {
        Some((_, query)) if !public.contains('?') => format!("{public}?{query}"),
        _ => public.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::signed_url;

    #[test]
    fn one_rule_for_the_signed_url() {
        let cases = [
            ("https://h.example.com", "/webhooks/sq?a=1", "https://h.example.com/webhooks/sq?a=1"),
            ("https://h.example.com/", "/webhooks/sq", "https://h.example.com/webhooks/sq"),
            ("https://h.example.com/webhooks/sq", "/local/path?a=1", "https://h.example.com/webhooks/sq?a=1"),
            ("https://h.example.com/webhooks/sq?x=2", "/local?a=1", "https://h.example.com/webhooks/sq?x=2"),
            ("https://h.example.com/webhooks/sq", "/local", "https://h.example.com/webhooks/sq"),
        ];
        for (public, pq, want) in cases {
            assert_eq!(signed_url(public, pq), want, "{public} + {pq}");
        }
    }
}
