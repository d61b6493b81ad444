//! `/api/v1/rejections`: the rejected attempts, and one in full (the headers it carried minus
//! `drop_headers`), with its body when the source keeps rejected bodies.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use hookgate_store::{RejectionId, RejectionQuery};
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiQuery, Id};
use super::tokens::Role;
use super::{AdminState, query};
use crate::view::{RejectionDetailView, RejectionView};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(body))
}

/// `GET /api/v1/rejections` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct RejectionsParams {
    /// Only this source.
    source: Option<String>,
    /// Only this reason code (`mismatch`, `missing_header`, `timestamp_too_old`, …).
    reason: Option<String>,
    /// Received at or after: RFC 3339, Unix seconds, or an age (`90s`, `15m`, `1h`, `2d`, `1w`).
    since: Option<String>,
    /// Received before: the same forms as `since`.
    until: Option<String>,
    /// At most this many (1-500, default 50).
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Lists rejected attempts, newest first.
#[utoipa::path(get, path = "/api/v1/rejections", tag = "rejections", params(RejectionsParams),
    responses((status = 200, body = query::Page<RejectionView<'static>>), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    ApiQuery(p): ApiQuery<RejectionsParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let limit = query::limit(p.limit)?;
    let q = RejectionQuery {
        source: query::text("source", p.source)?,
        reason: query::text("reason", p.reason)?,
        since_ms: query::time("since", p.since.as_deref())?,
        until_ms: query::time("until", p.until.as_deref())?,
        before_id: query::cursor(p.cursor.as_deref())?.map(RejectionId),
        limit: Some(limit),
    };
    let rows = state.store.list_rejections(&q).await?;
    Ok(Json(query::Page::of(&rows, limit, |r| r.id.0, RejectionView::from)).into_response())
}

/// One rejected attempt: why, the headers it carried (minus `drop_headers`), whether its body
/// was kept.
#[utoipa::path(get, path = "/api/v1/rejections/{id}", tag = "rejections",
    params(("id" = i64, Path, description = "Rejection id")),
    responses((status = 200, body = RejectionDetailView<'static>), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn show(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<RejectionId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let r = state.store.get_rejection(id).await?.ok_or_else(|| ApiError::not_found(format!("rejection {id}")))?;
    Ok(Json(RejectionDetailView::from(&r)).into_response())
}

/// The rejected attempt's body, when the source keeps rejected bodies.
#[utoipa::path(get, path = "/api/v1/rejections/{id}/body", tag = "rejections",
    params(("id" = i64, Path, description = "Rejection id")),
    responses((status = 200, description = "The body as received", content_type = "*/*"),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn body(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<RejectionId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let r = state.store.get_rejection(id).await?.ok_or_else(|| ApiError::not_found(format!("rejection {id}")))?;
    let body = r.body.ok_or_else(|| ApiError::not_found(format!("body kept for rejection {id}")))?;
    Ok(super::events::raw_body(body, HeaderValue::from_static("application/octet-stream")))
}
