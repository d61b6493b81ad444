//! `GET /api/v1/audit`: every operator action (replay, retry, cancel), who and when. Admins only.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hookgate_store::{AuditEntry, AuditId};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::tokens::Role;
use super::{AdminState, query};
use crate::view::rfc3339;

pub(super) fn router() -> axum::Router<Arc<AdminState>> {
    axum::Router::new().route("/api/v1/audit", get(list))
}

/// `GET /api/v1/audit` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditParams {
    /// At most this many (1-500, default 50).
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// One operator action.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AuditView {
    #[schema(value_type = i64)]
    id: AuditId,
    /// When.
    at: String,
    /// The token's name (or `cli`).
    actor: String,
    /// `replay.create`, `retry.create`, `job.cancel`, `delivery.cancel`.
    action: String,
    /// Filter, targets, counts, ids.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
}

impl From<&AuditEntry> for AuditView {
    fn from(a: &AuditEntry) -> Self {
        Self {
            id: a.id,
            at: rfc3339(a.at_ms),
            actor: a.actor.clone(),
            action: a.action.clone(),
            detail: serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AuditPage {
    /// Newest first.
    items: Vec<AuditView>,
    /// Where the next page starts; `null` when this is the last.
    next_cursor: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = super::openapi::ErrorBody),
              (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin)?;
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let limit = query::limit(p.limit)?;
    let rows = state.store.list_audit(query::cursor(p.cursor.as_deref())?.map(AuditId), limit).await?;
    let next = (rows.len() == limit as usize).then(|| rows.last().map(|a| a.id.to_string())).flatten();
    Ok(Json(AuditPage { items: rows.iter().map(AuditView::from).collect(), next_cursor: next }).into_response())
}
