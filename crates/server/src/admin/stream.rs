//! `GET /api/v1/stream`: Server-Sent Events of accepted events, rejections and delivery outcomes
//! as they happen, filtered like the lists. `hookgate tail` prints them.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::AdminState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::tokens::Role;
use crate::filter::Filter;
use crate::stream::StreamItem;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<Arc<AdminState>> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// `GET /api/v1/stream` parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct StreamParams {
    /// Only items of this source (a delivery outcome's source is its event's).
    source: Option<String>,
    /// Only events of this type, and the delivery outcomes of such events (rejections have no
    /// type and are still shown).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Which kinds, comma-separated: `event`, `rejection`, `delivery` (default: all three).
    kinds: Option<String>,
    /// Only events whose body and metadata match this JSON filter, and the delivery outcomes of
    /// the events this stream showed; no rejections (an unverified body is never matched).
    #[serde(rename = "match")]
    #[param(rename = "match")]
    match_: Option<String>,
}

/// Event ids a `match` stream showed, so it shows their delivery outcomes and no others'.
const SHOWN_MAX: usize = 10_000;

/// What one listener asked for.
struct Wanted {
    kinds: Vec<String>,
    source: Option<String>,
    event_type: Option<String>,
    filter: Option<Filter>,
    /// With a filter: the ids of the events shown, at most [`SHOWN_MAX`]; `shown_order` is the
    /// same ids oldest first, to forget the oldest (a lookup per delivery outcome stays O(1)).
    shown: std::collections::HashSet<hookgate_store::EventId>,
    shown_order: std::collections::VecDeque<hookgate_store::EventId>,
}

impl Wanted {
    fn wants(&mut self, item: &StreamItem) -> bool {
        if !self.kinds.iter().any(|k| k == item.kind()) || self.source.as_deref().is_some_and(|s| s != item.source()) {
            return false;
        }
        let type_ok = |t: &Option<String>| self.event_type.as_deref().is_none_or(|want| t.as_deref() == Some(want));
        match item {
            StreamItem::Event { id, event_type, document, .. } => {
                let Some(filter) = &self.filter else { return type_ok(event_type) };
                let ok = type_ok(event_type) && document.as_deref().is_some_and(|d| filter.matches(d));
                if ok && self.shown.insert(*id) {
                    self.shown_order.push_back(*id);
                    if self.shown_order.len() > SHOWN_MAX
                        && let Some(oldest) = self.shown_order.pop_front()
                    {
                        self.shown.remove(&oldest);
                    }
                }
                ok
            }
            StreamItem::Delivery { event_id, event_type, .. } => {
                type_ok(event_type) && (self.filter.is_none() || self.shown.contains(event_id))
            }
            StreamItem::Rejection { .. } => self.filter.is_none(),
        }
    }
}

/// Live streams per token: a share is held for each stream's life, so one token (a script gone
/// wrong, a leaked viewer token) cannot open thousands.
#[derive(Debug)]
pub(crate) struct StreamShares {
    max: usize,
    held: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// One stream's share, given back when dropped.
#[derive(Debug)]
pub(crate) struct StreamShare {
    shares: Arc<StreamShares>,
    token: String,
}

impl StreamShares {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, held: std::sync::Mutex::default() })
    }

    /// A share for `token`, or `None` when it holds `max` already.
    fn take(self: &Arc<Self>, token: &str) -> Option<StreamShare> {
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = held.entry(token.to_owned()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(StreamShare { shares: Arc::clone(self), token: token.to_owned() })
    }
}

impl Drop for StreamShare {
    fn drop(&mut self) {
        let mut held = self.shares.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.token) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.token);
            }
        }
    }
}

/// One open stream in `hookgate_api_streams`, for as long as its task runs.
struct OpenStream;

impl OpenStream {
    fn count() -> Self {
        metrics::gauge!("hookgate_api_streams").increment(1.0);
        OpenStream
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("hookgate_api_streams").decrement(1.0);
    }
}

/// How often a stream checks that its token (and console session) is still in force.
const RECHECK: Duration = Duration::from_secs(1);

/// The live stream: one SSE `data:` line of JSON per item (`kind`: event, rejection or delivery);
/// a `lagged` event says how many a slow client missed. It ends when the client goes, when the
/// token it was opened with is revoked (at the reload) or expires, or its console session ends,
/// and when the gateway stops.
#[utoipa::path(get, path = "/api/v1/stream", tag = "stream", params(StreamParams),
    responses((status = 200, description = "Server-Sent Events, one JSON item each", content_type = "text/event-stream",
               body = StreamItem),
              (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody),
              (status = 429, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn stream(
    caller: Caller,
    State(state): State<Arc<AdminState>>,
    ApiQuery(p): ApiQuery<StreamParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let kinds: Vec<String> = match &p.kinds {
        None => vec!["event".into(), "rejection".into(), "delivery".into()],
        Some(k) => k.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect(),
    };
    if let Some(bad) = kinds.iter().find(|k| !matches!(k.as_str(), "event" | "rejection" | "delivery")) {
        return Err(ApiError::bad_request("kinds", format!("`{bad}` is not event, rejection or delivery")));
    }
    let filter =
        p.match_.as_deref().map(|m| Filter::parse_str(m).map_err(|e| ApiError::bad_request("match", e))).transpose()?;
    let share = state.streams.take(caller.token_key()).ok_or_else(|| {
        ApiError::too_many(format!(
            "this token has {} live streams open already (admin.max_streams_per_token)",
            state.streams.max
        ))
    })?;
    // Held by the task below: events carry their document while this listener is connected.
    let documents = filter.is_some().then(|| state.bus.want_documents());
    let mut rx = state.bus.subscribe();
    let mut wanted = Wanted {
        kinds,
        source: p.source,
        event_type: p.event_type,
        filter,
        shown: std::collections::HashSet::new(),
        shown_order: std::collections::VecDeque::new(),
    };
    let mut closing = state.closing.clone();
    let events = async_stream(move |tx| async move {
        let _documents = documents;
        let _share = share;
        let _open = OpenStream::count();
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Every way a stream ends is watched here, not only at the next send: a listener
            // whose filter never matches would otherwise outlive its client, and cost every
            // later event a document, for as long as the gateway runs.
            let received = tokio::select! {
                biased;
                () = tx.closed() => break,
                _ = closing.wait_for(|closing| *closing) => break,
                _ = recheck.tick() => {
                    if caller.in_force(&*state, hookgate_verify::Timestamp::now().unix_secs()) {
                        continue;
                    }
                    break;
                }
                received = rx.recv() => received,
            };
            let event = match received {
                Ok(item) if wanted.wants(&item) => match Event::default().json_data(&item) {
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
