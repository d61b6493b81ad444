//! The operator API: its own listener (`[admin] listen`), bearer tokens with roles, JSON
//! resources under `/api/v1`, and an OpenAPI document generated from these handlers.
//!
//! One file per resource, each with its `router()`; this module merges them. Handlers read the
//! store through the same `Store` the gateway writes, never holding the writer.

mod auth;
mod deliveries;
mod error;
mod events;
mod openapi;
mod query;
mod rejections;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use hookgate_store::{EventRecord, Store};
use serde_json::Value;

pub use self::auth::{Caller, Tokens};
pub use self::error::ApiError;
use crate::filter::Filter;
use crate::ingest::source::Source;

/// What the operator API's handlers reach.
#[derive(Debug)]
pub(crate) struct AdminState {
    pub(crate) store: Arc<Store>,
    pub(crate) tokens: Arc<Tokens>,
    /// Per source: its metadata fields as (name, JSON pointer), for `match` documents.
    metadata: HashMap<String, Vec<(String, String)>>,
}

impl auth::HasTokens for AdminState {
    fn tokens(&self) -> &Tokens {
        &self.tokens
    }
}

impl AdminState {
    pub(crate) fn new(store: Arc<Store>, tokens: Arc<Tokens>, sources: &[Arc<Source>]) -> Self {
        let metadata = sources
            .iter()
            .map(|s| (s.name.clone(), s.metadata.iter().map(|f| (f.name.clone(), f.pointer.clone())).collect()))
            .collect();
        Self { store, tokens, metadata }
    }

    /// The document `match` reads for an event (see `events::match_document`).
    fn match_document(&self, record: &EventRecord, with_body: bool) -> Value {
        let fields = self.metadata.get(&record.summary.source).map_or(&[][..], Vec::as_slice);
        events::match_document(record, with_body, fields)
    }

    /// Whether every field `filter` reads at the top level is a metadata field of every source at
    /// a top-level pointer: then the metadata alone answers it and no body is read.
    fn metadata_covers(&self, filter: &Filter) -> bool {
        let fields = filter.top_level_fields();
        !fields.is_empty()
            && self.metadata.values().all(|specs| {
                fields.iter().all(|f| {
                    specs
                        .iter()
                        .any(|(_, pointer)| pointer.strip_prefix('/').is_some_and(|p| p == *f && !p.contains('/')))
                })
            })
    }
}

/// The operator listener's router.
pub(crate) fn router(state: Arc<AdminState>) -> Router {
    Router::new()
        .merge(events::router())
        .merge(rejections::router())
        .merge(deliveries::router())
        .route("/api/openapi.json", axum::routing::get(openapi::document))
        .with_state(state)
}
