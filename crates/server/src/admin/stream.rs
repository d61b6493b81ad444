//! `GET /api/v1/stream`: Server-Sent Events of accepted events, rejections and delivery outcomes
//! as they happen, filtered like the lists. `hookgate tail` prints them.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::AdminState;
use super::auth::Caller;
use super::error::ApiError;
use super::tokens::Role;
use crate::filter::Filter;
use crate::stream::StreamItem;

pub(super) fn router() -> axum::Router<Arc<AdminState>> {
    axum::Router::new().route("/api/v1/stream", get(stream))
}

/// `GET /api/v1/stream` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct StreamParams {
    /// Only events and rejections of this source (delivery outcomes are shown for every source).
    source: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Which kinds, comma-separated: `event`, `rejection`, `delivery` (default: all three).
    kinds: Option<String>,
    /// Only events whose body and metadata match this JSON filter (the events list's `match`;
    /// rejections and delivery outcomes are not filtered by it).
    #[serde(rename = "match")]
    #[param(rename = "match")]
    match_: Option<String>,
}

/// The live stream: one SSE `data:` line of JSON per item (`kind`: event, rejection or delivery);
/// a `lagged` event says how many a slow client missed.
#[utoipa::path(get, path = "/api/v1/stream", tag = "stream", params(StreamParams),
    responses((status = 200, description = "Server-Sent Events, one JSON item each", content_type = "text/event-stream",
               body = StreamItem),
              (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn stream(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    params: Result<Query<StreamParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let Query(p) = params.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let kinds: Vec<String> = match &p.kinds {
        None => vec!["event".into(), "rejection".into(), "delivery".into()],
        Some(k) => k.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect(),
    };
    if let Some(bad) = kinds.iter().find(|k| !matches!(k.as_str(), "event" | "rejection" | "delivery")) {
        return Err(ApiError::bad_request("kinds", format!("`{bad}` is not event, rejection or delivery")));
    }
    let filter =
        p.match_.as_deref().map(|m| Filter::parse_str(m).map_err(|e| ApiError::bad_request("match", e))).transpose()?;
    // Held by the task below: events carry their document while this listener is connected.
    let documents = filter.is_some().then(|| state.bus.want_documents());
    let mut rx = state.bus.subscribe();
    let wanted = move |item: &StreamItem| {
        kinds.iter().any(|k| k == item.kind())
            && p.source.as_deref().is_none_or(|s| item.source().is_none_or(|own| own == s))
            && match item {
                StreamItem::Event { event_type, document, .. } => {
                    p.event_type.as_deref().is_none_or(|t| event_type.as_deref() == Some(t))
                        && filter.as_ref().is_none_or(|f| document.as_deref().is_some_and(|d| f.matches(d)))
                }
                _ => true,
            }
    };
    let events = async_stream(move |tx| async move {
        let _documents = documents;
        loop {
            let event = match rx.recv().await {
                Ok(item) if wanted(&item) => match Event::default().json_data(&item) {
                    Ok(e) => e,
                    Err(_) => continue,
                },
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
                Err(RecvError::Closed) => break,
            };
            if tx.send(Ok::<_, Infallible>(event)).await.is_err() {
                break;
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response())
}

/// A stream fed by a task: the task ends when the client goes (its channel closes).
fn async_stream<F, Fut>(f: F) -> tokio_stream::wrappers::ReceiverStream<Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(f(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
