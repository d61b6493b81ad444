//! `/api/v1/events`: search the stored events (filters, `match` over body and metadata, cursor
//! pages), one event in full with its deliveries and attempts, and its exact body.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use hookgate_store::{DeliveryQuery, EventId, EventQuery, EventStatus};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiQuery, Id};
use super::tokens::Role;
use super::{AdminState, query};
use crate::filter::Filter;
use crate::view::{DeliveryDetailView, EventDetailView, EventView};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(show)).routes(routes!(body))
}

/// `GET /api/v1/events` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsParams {
    /// Only this source.
    source: Option<String>,
    /// Only this event type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// `pending`, `failed`, `delivered` or `dead`: where the event's deliveries stand.
    status: Option<String>,
    /// Received at or after: RFC 3339, Unix seconds, or an age (`90s`, `15m`, `1h`, `2d`, `1w`).
    since: Option<String>,
    /// Received before: the same forms as `since`.
    until: Option<String>,
    /// A substring of the event id, the provider id or the dedup key.
    q: Option<String>,
    /// The body's SHA-256 (64 lowercase hex digits): the events a rejected attempt's body
    /// (its `body_sha256`) matches.
    body_sha256: Option<String>,
    /// A JSON filter matched against the body and the metadata (see the README's filter language).
    #[serde(rename = "match")]
    #[param(rename = "match")]
    match_: Option<String>,
    /// At most this many (1-500, default 50).
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EventPage<'a> {
    /// Newest first.
    items: Vec<EventItem<'a>>,
    /// Where the next page starts; `null` when this is the last.
    next_cursor: Option<String>,
    /// Events looked at for this page (more than `items` when a `match` filter skipped some).
    scanned: usize,
}

/// An event as listed: the stored fields and where its deliveries stand.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EventItem<'a> {
    #[serde(flatten)]
    event: EventView<'a>,
    /// `pending`, `failed`, `delivered` or `dead`; `null` when it has no deliveries.
    status: Option<&'static str>,
}

/// How many events one request may look at to fill a page with a `match` filter: the request is
/// bounded in time whatever the filter; a page cut short says where to go on (`next_cursor`).
const MATCH_SCAN_BUDGET: usize = 100_000;
/// ...and for at most this long (then the page ends with a `next_cursor`).
const MATCH_SCAN_TIME: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a `match` search waits for one of the `searches` permits before a 503.
const SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Events read from the store at a time while matching.
const MATCH_BATCH: u32 = 1_000;

/// The store query and the `match` filter a request's parameters describe.
pub(super) fn parse(p: &EventsParams) -> Result<(EventQuery, Option<Filter>), ApiError> {
    // The same filters as a replay's or a retry's, read by the same code (`match` arrives here
    // as JSON text in the query string).
    let match_ = p
        .match_
        .as_deref()
        .map(|m| serde_json::from_str(m).map_err(|e| ApiError::bad_request("match", format!("not JSON: {e}"))))
        .transpose()?;
    let filter = crate::jobs::JobFilter {
        source: p.source.clone(),
        event_type: p.event_type.clone(),
        status: p.status.clone(),
        since: p.since.clone(),
        until: p.until.clone(),
        q: p.q.clone(),
        body_sha256: p.body_sha256.clone(),
        match_,
        event: None,
    };
    let (mut q, filter) = filter.query().map_err(|e| ApiError::bad_request(e.field, e.message))?;
    q.before_id = query::cursor(p.cursor.as_deref())?.map(EventId);
    q.limit = Some(query::limit(p.limit)?);
    Ok((q, filter))
}

/// Lists events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsParams),
    responses((status = 200, body = EventPage<'static>), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let (q, filter) = parse(&p)?;
    let limit = q.limit.unwrap_or(query::DEFAULT_LIMIT) as usize;
    let Some(filter) = filter else {
        let rows = state.store.list_events(&q).await?;
        let next = (rows.len() == limit).then(|| rows.last().map(|e| e.id.to_string())).flatten();
        let items = rows
            .iter()
            .map(|e| EventItem { event: EventView::from(e), status: e.status.map(EventStatus::as_str) })
            .collect();
        return Ok(Json(EventPage { items, next_cursor: next, scanned: rows.len() }).into_response());
    };
    // Matching is CPU work: a few searches at a time, each bounded in time, so a flood of them
    // cannot starve ingest of the cores (32 heavy searches once raised ingest's p50 17x).
    let _permit = tokio::time::timeout(SEARCH_WAIT, state.searches.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| ApiError::busy("too many match searches at once; retry"))?;
    let deadline = std::time::Instant::now() + MATCH_SCAN_TIME;
    let bounds =
        crate::matching::Bounds { limit, batch: MATCH_BATCH, budget: MATCH_SCAN_BUDGET, deadline: Some(deadline) };
    let found = state.matcher.scan_page(&state.store, q, &filter, bounds).await?;
    let items = found
        .records
        .iter()
        .map(|r| EventItem { event: EventView::from(&r.summary), status: r.summary.status.map(EventStatus::as_str) })
        .collect();
    let next_cursor = found.next.map(|id| id.to_string());
    Ok(Json(EventPage { items, next_cursor, scanned: found.scanned }).into_response())
}

/// An event in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct EventDetail<'a> {
    #[serde(flatten)]
    event: EventDetailView<'a>,
    /// The metadata again, as JSON text, every number's digits and every key's place as read
    /// from the body: for a display in a language whose JSON reader rounds long numbers
    /// (JavaScript's `JSON.parse` turns a 23-digit account number into a float).
    metadata_json: String,
    /// Where its deliveries stand.
    status: Option<&'static str>,
    /// Its deliveries, each with its attempts.
    deliveries: Vec<DeliveryDetailView<'a>>,
}

/// One event: times, headers, metadata, size, and its deliveries with their attempts.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, body = EventDetail<'static>), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn show(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<EventId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let mut event = state.store.get_event(id).await?.ok_or_else(|| ApiError::not_found(format!("event {id}")))?;
    if caller.role < Role::Operator {
        hide_replayable_signatures(&state, &mut event);
        if !event.pii.is_empty()
            && let Some(source) = state.source(&event.summary.source)
        {
            let names: Vec<String> = source.pairs_fields.iter().map(|(name, _)| name.clone()).collect();
            crate::pii_view::mask_metadata(&mut event.metadata, &names);
        }
    }
    let listed =
        state.store.deliveries(&DeliveryQuery { event_id: Some(id), limit: 1000, ..Default::default() }).await?;
    let mut deliveries = Vec::with_capacity(listed.len());
    for d in &listed {
        if let Some(rec) = state.store.get_delivery(d.id).await? {
            deliveries.push(rec);
        }
    }
    let detail = EventDetail {
        event: EventDetailView::from(&event),
        metadata_json: event.metadata.to_string(),
        status: event.summary.status.map(EventStatus::as_str),
        deliveries: deliveries.iter().map(DeliveryDetailView::from).collect(),
    };
    Ok(Json(detail).into_response())
}

/// A viewer reads the body; with a signature that binds neither a timestamp nor the delivery id
/// it could send both again as a new delivery, so such signatures are shown as `***`.
fn hide_replayable_signatures(state: &AdminState, event: &mut hookgate_store::EventRecord) {
    let Some(source) = state.source(&event.summary.source) else { return };
    for (name, value) in &mut event.headers {
        if source.viewer_hidden_headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            *value = hookgate_store::HeaderBytes::from("***");
        }
    }
}

/// The exact stored body, with the content type it arrived with. For the viewer role, Tag values
/// that look like personal data are `***` (with `Hookgate-Masked: pii`); every other byte as received.
#[utoipa::path(get, path = "/api/v1/events/{id}/body", tag = "events", params(("id" = i64, Path, description = "Event id")),
    responses((status = 200, description = "The body as received", content_type = "*/*"),
              (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn body(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    Id(id): Id<EventId>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let mut event = state.store.get_event(id).await?.ok_or_else(|| ApiError::not_found(format!("event {id}")))?;
    // A viewer gets Tag values that look like personal data as `***` (and is told so); every
    // other byte, and every byte for operators, as received.
    let mut masked = false;
    if caller.role < Role::Operator
        && !event.pii.is_empty()
        && let Some(source) = state.source(&event.summary.source)
    {
        let pointers: Vec<String> = source.pairs_fields.iter().map(|(_, pointer)| pointer.clone()).collect();
        if let Some(body) = crate::pii_view::mask_body(&event.body, &pointers) {
            event.body = body;
            masked = true;
        }
    }
    let content_type = event
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .and_then(|(_, v)| HeaderValue::from_bytes(v.as_bytes()).ok())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    let mut response = raw_body(event.body, content_type);
    if masked {
        response.headers_mut().insert("hookgate-masked", HeaderValue::from_static("pii"));
    }
    Ok(response)
}

/// Stored bytes as a response: never rendered by a browser as a page of ours (a body may be
/// HTML or script; it is data).
pub(super) fn raw_body(bytes: Vec<u8>, content_type: HeaderValue) -> Response {
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    response
}
