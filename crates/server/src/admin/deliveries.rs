//! `/api/v1/deliveries`: deliveries by status, target and event, and one with its attempts.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hookgate_store::{DeliveryId, DeliveryQuery, DeliveryStatus, EventId};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::tokens::Role;
use super::{AdminState, query};
use crate::view::{DeliveryDetailView, DeliveryView};

pub(super) fn router() -> axum::Router<Arc<AdminState>> {
    axum::Router::new().route("/api/v1/deliveries", get(list)).route("/api/v1/deliveries/{id}", get(show))
}

/// `GET /api/v1/deliveries` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct DeliveriesParams {
    /// `pending`, `failed`, `delivered`, `dead` or `cancelled`.
    status: Option<String>,
    /// Only to this target.
    target: Option<String>,
    /// Only of this event.
    event: Option<String>,
    /// At most this many (1-500, default 50).
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// A page of deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct DeliveryPage<'a> {
    /// Newest first.
    items: Vec<DeliveryView<'a>>,
    /// Where the next page starts; `null` when this is the last.
    next_cursor: Option<String>,
}

/// Lists deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "deliveries", params(DeliveriesParams),
    responses((status = 200, body = DeliveryPage<'static>), (status = 400, body = super::openapi::ErrorBody),
              (status = 401, body = super::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    params: Result<Query<DeliveriesParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let limit = query::limit(p.limit)?;
    let q = DeliveryQuery {
        status: p
            .status
            .as_deref()
            .map(|s| s.parse::<DeliveryStatus>().map_err(|e| ApiError::bad_request("status", e)))
            .transpose()?,
        target: p.target,
        event_id: p
            .event
            .as_deref()
            .map(|e| e.parse::<EventId>().map_err(|_| ApiError::bad_request("event", "not an event id")))
            .transpose()?,
        before_id: query::cursor(p.cursor.as_deref())?.map(DeliveryId),
        limit,
    };
    let rows = state.store.deliveries(&q).await?;
    let next = (rows.len() == limit as usize).then(|| rows.last().map(|d| d.id.to_string())).flatten();
    Ok(Json(DeliveryPage { items: rows.iter().map(DeliveryView::from).collect(), next_cursor: next }).into_response())
}

/// One delivery with every attempt (status, duration, error, the start of the answer).
#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "deliveries",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetailView<'static>), (status = 400, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody),
              (status = 401, body = super::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn show(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let id: DeliveryId = id.parse().map_err(|_| ApiError::bad_request("id", "not a delivery id"))?;
    let d = state.store.get_delivery(id).await?.ok_or_else(|| ApiError::not_found(format!("delivery {id}")))?;
    Ok(Json(DeliveryDetailView::from(&d)).into_response())
}
