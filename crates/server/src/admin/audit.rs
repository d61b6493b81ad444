//! `GET /api/v1/audit`: every operator action (replay, retry, cancel), who and when. Admins only.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use hookgate_store::{AuditEntry, AuditId};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::tokens::Role;
use super::{AdminState, query};
use crate::view::rfc3339;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(list))
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

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = query::Page<AuditView>), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Admin)?;
    let limit = query::limit(p.limit)?;
    let rows = state.store.list_audit(query::cursor(p.cursor.as_deref())?.map(AuditId), limit).await?;
    Ok(Json(query::Page::of(&rows, limit, |a| a.id.0, AuditView::from)).into_response())
}
