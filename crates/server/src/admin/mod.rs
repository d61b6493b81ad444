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
mod stream;
pub mod tokens;

use std::sync::Arc;

use axum::Router;
use hookgate_store::Store;
use utoipa_axum::router::OpenApiRouter;

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
    pub(crate) sessions: Arc<crate::console::session::Sessions>,
    /// The listener is HTTPS: session cookies are `Secure`.
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

impl auth::HasTokens for AdminState {
    fn tokens(&self) -> &Tokens {
        &self.tokens
    }
    fn sessions(&self) -> &crate::console::session::Sessions {
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

/// The operator listener's router.
pub(crate) fn router(state: Arc<AdminState>) -> Router {
    let (api, _) = resources().split_for_parts();
    api.route("/api/openapi.json", axum::routing::get(openapi::document))
        .merge(crate::console::router())
        .with_state(state)
        .layer(axum::middleware::map_response(crate::console::security_headers))
}

/// The live stream's router: apart, because it must not have the request timeout.
pub(crate) fn stream_router(state: Arc<AdminState>) -> Router {
    let (stream, _) = stream::router().split_for_parts();
    stream.with_state(state).layer(axum::middleware::map_response(crate::console::security_headers))
}
