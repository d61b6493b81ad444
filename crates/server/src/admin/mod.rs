//! The operator API: its own listener (`[admin] listen`), bearer tokens with roles, JSON
//! resources under `/api/v1`, and an OpenAPI document generated from these handlers.
//!
//! One file per resource, each with its `router()`; this module merges them. Handlers read the
//! store through the same `Store` the gateway writes, never holding the writer.

mod audit;
mod auth;
mod deliveries;
mod error;
mod events;
mod extract;
mod jobs;
pub mod openapi;
mod overview;
mod query;
mod rejections;
mod secrets;
pub(crate) mod session;
mod stream;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use hookgate_store::Store;
use utoipa_axum::router::OpenApiRouter;

#[cfg(feature = "console")]
pub(crate) use self::auth::session_caller;
pub use self::auth::{Caller, Tokens};
pub use self::error::ApiError;
pub use self::overview::{SourceInfo, TargetInfo};
pub(crate) use self::stream::StreamShares;
use crate::matching::EventMatcher;

/// What the operator API's handlers reach.
#[derive(Debug)]
pub(crate) struct AdminState {
    pub(crate) store: Arc<Store>,
    pub(crate) tokens: Arc<Tokens>,
    /// Matches events against `match` filters (per source, its metadata fields).
    pub(crate) matcher: Arc<EventMatcher>,
    /// What happens, for `/api/v1/stream`.
    pub(crate) bus: Arc<crate::stream::Bus>,
    /// The sources as configured.
    pub(crate) sources: Vec<SourceInfo>,
    /// The targets as configured.
    pub(crate) targets: Vec<TargetInfo>,
    /// The console's signed-in browsers.
    pub(crate) sessions: Arc<session::Sessions>,
    /// The listener is HTTPS: session cookies are `Secure`.
    #[cfg_attr(not(feature = "console"), allow(dead_code))]
    pub(crate) secure_cookies: bool,
    /// `match` searches running at once (each is CPU work on a blocking thread).
    pub(crate) searches: tokio::sync::Semaphore,
    /// Live streams per token.
    pub(crate) streams: Arc<StreamShares>,
    /// Turns true when the gateway stops: live streams end at once.
    pub(crate) closing: tokio::sync::watch::Receiver<bool>,
    /// Per source, this gateway's requests of the last hour, minute by minute.
    pub(crate) last_hour: std::collections::HashMap<String, Arc<crate::ingest::last_hour::LastHour>>,
}

impl AdminState {
    /// A configured source by name.
    pub(crate) fn source(&self, name: &str) -> Option<&SourceInfo> {
        self.sources.iter().find(|s| s.name == name)
    }
}

impl auth::HasTokens for AdminState {
    fn tokens(&self) -> &Tokens {
        &self.tokens
    }
    fn sessions(&self) -> &session::Sessions {
        &self.sessions
    }
}

/// The resources' routes, each with its documentation (the live stream's apart: it must not
/// have the request timeout).
fn resources() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(events::router())
        .merge(rejections::router())
        .merge(deliveries::router())
        .merge(jobs::router())
        .merge(audit::router())
        .merge(overview::router())
        .merge(secrets::router())
}

/// The OpenAPI document: every resource's paths and the stream's.
fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = resources().split_for_parts();
    doc.merge(stream::router().split_for_parts().1);
    doc
}

/// The operator API's routes, not yet given their state: `lib.rs` merges the console into them
/// (a leaf: the API knows nothing of it) and serves them with [`with_state`].
pub(crate) fn routes() -> Router<Arc<AdminState>> {
    let (api, _) = resources().split_for_parts();
    api.route("/api/openapi.json", axum::routing::get(openapi::document))
}

/// The operator listener's routes with their state and every response's security headers.
pub(crate) fn with_state(routes: Router<Arc<AdminState>>, state: Arc<AdminState>) -> Router {
    routes.with_state(state).layer(axum::middleware::map_response(security_headers))
}

/// The live stream's router: apart, because it must not have the request timeout.
pub(crate) fn stream_router(state: Arc<AdminState>) -> Router {
    let (stream, _) = stream::router().split_for_parts();
    stream.with_state(state).layer(axum::middleware::map_response(security_headers))
}

/// What every response of the operator listener carries (a response that sets its own policy,
/// such as a stored body's, keeps it).
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
               connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
