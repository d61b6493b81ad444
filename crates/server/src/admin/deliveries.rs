//! `/api/v1/deliveries`: deliveries by status, target and event, and one with its attempts.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use hookgate_store::{AdminOp, DeliveryId, DeliveryQuery, DeliveryStatus, EventId, NewAudit};
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiQuery, Id};
use super::tokens::Role;
use super::{AdminState, query};
use crate::view::{DeliveryDetailView, DeliveryView};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(cancel)).routes(routes!(retry_now))
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

/// Lists deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "deliveries", params(DeliveriesParams),
    responses((status = 200, body = query::Page<DeliveryView<'static>>), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    ApiQuery(p): ApiQuery<DeliveriesParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let limit = query::limit(p.limit)?;
    let q = DeliveryQuery {
        status: p
            .status
            .as_deref()
            .map(|s| s.parse::<DeliveryStatus>().map_err(|e| ApiError::bad_request("status", e)))
            .transpose()?,
        target: query::text("target", p.target)?,
        event_id: p
            .event
            .as_deref()
            .map(|e| e.parse::<EventId>().map_err(|_| ApiError::bad_request("event", "not an event id")))
            .transpose()?,
        before_id: query::cursor(p.cursor.as_deref())?.map(DeliveryId),
        limit,
    };
    let rows = state.store.deliveries(&q).await?;
    Ok(Json(query::Page::of(&rows, limit, |d| d.id.0, DeliveryView::from)).into_response())
}

/// One delivery with every attempt (status, duration, error, the start of the answer).
#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "deliveries",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetailView<'static>), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn show(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<DeliveryId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let d = state.store.get_delivery(id).await?.ok_or_else(|| ApiError::not_found(format!("delivery {id}")))?;
    Ok(Json(DeliveryDetailView::from(&d)).into_response())
}

/// Does `op` on one delivery for an operator, records it in the audit log, and answers the
/// delivery as it is now; 409 naming its status when `op` did not apply.
async fn act(
    state: &AdminState,
    caller: &Caller,
    id: DeliveryId,
    op: AdminOp,
    action: &str,
    wants: &str,
) -> Result<Response, ApiError> {
    caller.require(Role::Operator)?;
    let before = state.store.get_delivery(id).await?.ok_or_else(|| ApiError::not_found(format!("delivery {id}")))?;
    if state.store.admin(op).await? == 0 {
        return Err(ApiError::conflict(format!("delivery {id} is {}: {wants}", before.summary.status.as_str())));
    }
    let detail =
        serde_json::json!({"delivery": id.0, "event": before.summary.event_id.0, "target": before.summary.target});
    state
        .store
        .admin(AdminOp::Audit(NewAudit {
            actor: caller.name.clone(),
            action: action.to_owned(),
            detail: detail.to_string(),
        }))
        .await?;
    let d = state.store.get_delivery(id).await?.ok_or_else(|| ApiError::not_found(format!("delivery {id}")))?;
    Ok(Json(DeliveryDetailView::from(&d)).into_response())
}

/// Cancels a pending delivery: it is never attempted again (operator; audited).
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/cancel", tag = "deliveries",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetailView<'static>), (status = 400, body = super::error::ErrorBody),
              (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn cancel(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<DeliveryId>,
) -> Result<Response, ApiError> {
    act(
        &state,
        &caller,
        id,
        AdminOp::Cancel { delivery_id: id },
        "delivery.cancel",
        "only a pending delivery can be cancelled",
    )
    .await
}

/// Retries a delivery now: a pending (failing) one is due at once, a dead one pending again with
/// its attempts restarted (operator; audited). 409 while an attempt is in flight.
#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "deliveries",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = DeliveryDetailView<'static>), (status = 400, body = super::error::ErrorBody),
              (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn retry_now(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<DeliveryId>,
) -> Result<Response, ApiError> {
    let wants = "only a pending delivery not being attempted, or a dead one, can be retried now";
    act(&state, &caller, id, AdminOp::RetryNow { delivery_id: id }, "delivery.retry", wants).await
}
