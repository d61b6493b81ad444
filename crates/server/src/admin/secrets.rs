//! `GET /api/v1/secrets`: per source and configured secret, how many requests it verified and
//! when last (the same as `hookgate secrets status`), to tell when a rotated-out secret is unused.
//! Fingerprints only (first 8 hex digits of the key's SHA-256); never key material.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AdminState;
use super::auth::Caller;
use super::error::ApiError;
use super::tokens::Role;
use crate::view::rfc3339;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(list))
}

/// One secret's use.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SecretStatus {
    /// Source name.
    source: String,
    /// The secret's `label`, else its position (`1`, `2`, …).
    secret: String,
    /// First 8 hex digits of the SHA-256 of the key: to admins only (`null` for other roles),
    /// since anyone holding a fingerprint can test a dictionary of weak secrets against it.
    fingerprint: Option<String>,
    /// Requests it verified (reported every few seconds).
    matches: i64,
    /// The latest, or `null` when it never matched.
    last_matched_at: Option<String>,
}

/// Every source's secrets, by source then label.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "overview",
    responses((status = 200, body = Vec<SecretStatus>), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(caller: Caller, State(state): State<Arc<AdminState>>) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let admin = caller.role >= Role::Admin;
    let rows = state.store.secret_matches().await?;
    let items: Vec<SecretStatus> = rows
        .into_iter()
        .map(|m| SecretStatus {
            source: m.source,
            secret: m.secret,
            fingerprint: admin.then_some(m.fingerprint),
            matches: m.matches,
            last_matched_at: m.last_matched_at_ms.map(rfc3339),
        })
        .collect();
    Ok(Json(items).into_response())
}
