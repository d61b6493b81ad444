//! The request path: body (bounded) → verify over the raw bytes → dedup key → durable commit → reply.
//!
//! `source` is a configured source at run time (its verifier, what it derives from a body);
//! `dedup`, `metadata`, `pointer` and `routing` are what it derives with.

mod dedup;
pub(crate) mod diagnosis;
pub(crate) mod last_hour;
mod metadata;
pub(crate) mod pii;
mod pointer;
pub mod routing;
pub(crate) mod secret_use;
pub mod source;
mod telemetry;

pub use self::dedup::Dedup;
pub use self::diagnosis::DiagnosisPlan;
use self::telemetry::Outcome;
pub(crate) use self::telemetry::SourceMetrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hookgate_axum::{Incoming, reply_response};
use hookgate_store::throttle::LogThrottle;
use hookgate_store::{Inserted, NewEvent, NewRejection, StoreError};
use hookgate_verify::{Rejection, Timestamp};

use self::source::{Source, sha256_hex};
use crate::Peer;
use crate::limits::Reserved;
use crate::state::AppState;
use crate::stream::StreamItem;

/// Per-route state: the shared gateway plus this route's source.
#[derive(Clone)]
pub(crate) struct RouteState {
    pub(crate) app: Arc<AppState>,
    pub(crate) source: Arc<Source>,
    /// The source's position in the gateway's list (the diagnosis thread's index).
    pub(crate) index: usize,
    pub(crate) metrics: Arc<SourceMetrics>,
}

fn unavailable() -> Response {
    // Providers retry on 5xx; Retry-After is a hint for those that honour it.
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

pub(crate) async fn ingest(
    State(route): State<RouteState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let received_at = Timestamp::now();
    let src = &route.source;
    let m = &route.metrics;
    let (parts, body) = request.into_parts();

    // A declared length over the limit is refused before reading anything.
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > src.body_limit as u64) {
        m.done(Outcome::TooLarge, started);
        return (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").into_response();
    }
    // The declared length is reserved from the bodies-in-flight budget before anything is read
    // (a stalled upload holds its share from the start); a chunked body reserves as it arrives.
    let Some(mut reserved) = route.app.body_budget.reserve(declared.unwrap_or(0)) else {
        return over_budget(src, m, started);
    };
    // Read at most the limit; one byte more and the read stops (nothing past it is buffered).
    let body = match read_body(Body::new(body), src.body_limit, declared, &mut reserved).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            m.done(Outcome::TooLarge, started);
            return (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").into_response();
        }
        Err(BodyError::OverBudget) => return over_budget(src, m, started),
        Err(BodyError::Broken) => {
            m.done(Outcome::BadRequest, started);
            return (StatusCode::BAD_REQUEST, "Bad Request").into_response();
        }
    };

    // A provider's unsigned endpoint check (Trello's HEAD, WooCommerce's ping, X's CRC) is
    // answered before verification and stores nothing: an empty 200, or for X an HMAC of a token
    // that can never be an event (scheme/probe.rs in hookgate-verify says why).
    let query = parts.uri.query();
    if let Some(probe) = src.scheme().probe(parts.method.as_str(), query, &body) {
        tracing::info!(source = %src.name, peer = %peer, method = %parts.method, "Answered the provider's unsigned endpoint check.");
        m.done(Outcome::Challenge, started);
        let (content_type, answer) = src.auth.probe_answer(probe, query);
        let mut response = (StatusCode::OK, answer).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        return response;
    }
    // Only POST carries events; another method reached here only for a probe it is not.
    if parts.method != axum::http::Method::POST {
        m.done(Outcome::BadRequest, started);
        return (StatusCode::BAD_REQUEST, "Bad Request").into_response();
    }

    let incoming = Incoming::new(&parts.method, &parts.uri, &parts.headers, &body, src.public_url.as_deref());
    let verified = match src.auth.verify(&incoming.request(), received_at) {
        Ok(v) => v,
        Err(rejection) => {
            reject(&route, peer, &parts, &incoming, &body, &rejection, received_at);
            m.done(Outcome::Rejected, started);
            return reply_response(src.rejection());
        }
    };

    // A provider's endpoint-verification handshake (Slack, Twitch, Zoom) is answered here and is
    // not an event.
    if let Some(answer) = src.auth.challenge_response(&incoming.request(), &verified) {
        tracing::info!(source = %src.name, peer = %peer, "Answered the provider's endpoint verification.");
        m.done(Outcome::Challenge, started);
        let mut response = (StatusCode::OK, answer.body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
        return response;
    }

    m.secrets.matched(verified.secret_index, received_at.unix_millis());
    let body_sha256 = sha256_hex(&body);
    let derived = src.derive(&parts.headers, &body, &body_sha256, &verified);
    for mark in &derived.pii {
        metrics::counter!("hookgate_tag_pii_total", "source" => src.name.clone(), "kind" => mark.kind.clone())
            .increment(1);
        // The key and the kind, never the value: the point is to keep it out of logs. An
        // integrator that puts PII in every Tag would log on every request: at most a line per
        // kind per 5 s, with the count left out (the metric counts every one).
        const EVERY: std::time::Duration = std::time::Duration::from_secs(5);
        static PII_LOG: [LogThrottle; pii::PiiKind::ALL.len()] =
            [const { LogThrottle::new(EVERY) }; pii::PiiKind::ALL.len()];
        let throttle = &PII_LOG[pii::PiiKind::index_of(&mark.kind)];
        if let Some(suppressed) = throttle.admit() {
            tracing::warn!(source = %src.name, key = %crate::printable::line(&mark.key), kind = %mark.kind, suppressed, "A Tag value looks like personal data; the Flinks guide says to keep PII out of Tag.");
        }
    }
    // What the live stream shows of it, copied only while someone watches.
    let echo = route.app.bus.listening().then(|| {
        // A listener filtering with `match` reads the document; built only then.
        let document = route.app.bus.documents_wanted().then(|| {
            let fields = src.metadata.iter().map(|f| (f.name.as_str(), f.pointer.as_str()));
            Arc::new(crate::matching::document(fields, Some(&body), &derived.metadata))
        });
        (derived.event_type.clone(), derived.dedup_key.clone(), body.len(), document)
    });
    let event = NewEvent {
        source: src.name.clone(),
        received_at_ms: received_at.unix_millis(),
        dedup_key: derived.dedup_key,
        provider_id: derived.provider_id,
        event_type: derived.event_type,
        signed_at_ms: verified.timestamp.map(Timestamp::unix_millis),
        body,
        body_sha256,
        headers: src.kept_headers(&parts.headers),
        metadata: derived.metadata,
        targets: derived.targets,
        pii: derived.pii,
    };
    // Answer 2xx only once the commit that holds this event has returned. If the store is slow
    // the provider gets 503 and retries; the retry is deduplicated if the first write landed.
    match tokio::time::timeout(route.app.store_timeout, route.app.store.insert_event(event)).await {
        Ok(Ok(inserted)) => {
            let (id, duplicate) = match inserted {
                Inserted::New(id) => {
                    route.app.commits.committed(Timestamp::now().unix_millis());
                    tracing::debug!(source = %src.name, event_id = id.0, "Stored event.");
                    route.app.wake.notify_waiters();
                    m.done(Outcome::Accepted, started);
                    (id, false)
                }
                Inserted::Duplicate(id) => {
                    tracing::info!(source = %src.name, event_id = id.0, "Duplicate delivery; already stored.");
                    m.duplicates.increment(1);
                    m.done(Outcome::Duplicate, started);
                    (id, true)
                }
            };
            if let Some((event_type, dedup_key, size, document)) = echo {
                route.app.bus.publish(|| StreamItem::Event {
                    id,
                    source: src.name.clone(),
                    event_type,
                    received_at: crate::view::rfc3339(received_at.unix_millis()),
                    dedup_key,
                    size,
                    duplicate,
                    document,
                });
            }
            reply_response(src.success())
        }
        Ok(Err(e)) => {
            route.app.commits.failed(Timestamp::now().unix_millis());
            store_failed(&src.name, &e);
            m.done(Outcome::StoreUnavailable, started);
            unavailable()
        }
        Err(_) => {
            route.app.commits.failed(Timestamp::now().unix_millis());
            static THROTTLE: LogThrottle = LogThrottle::new(std::time::Duration::from_secs(5));
            if let Some(suppressed) = THROTTLE.admit() {
                tracing::warn!(source = %src.name, timeout_secs = route.app.store_timeout.as_secs(), suppressed, "Store commit timed out; answering 503.");
            }
            m.done(Outcome::StoreUnavailable, started);
            unavailable()
        }
    }
}

enum BodyError {
    /// Past the source's `body_limit` (413).
    TooLarge,
    /// Past the gateway's budget for bodies in flight (503, try later).
    OverBudget,
    /// The connection failed or the framing was invalid (400).
    Broken,
}

/// Reads the body frame by frame into one buffer: at most `limit` bytes, each reserved from the
/// budget as it arrives beyond what `reserved` holds already. The buffer is sized to the declared
/// length (already reserved), so it never grows by doubling; copying each frame out frees the
/// connection's read buffer at once instead of pinning it behind a slice (measured: 200 stalled
/// 1 MiB uploads held 2.2x the budget when the frames were kept as slices).
async fn read_body(
    mut body: Body,
    limit: usize,
    declared: Option<u64>,
    reserved: &mut Reserved,
) -> Result<Vec<u8>, BodyError> {
    use http_body_util::BodyExt as _;
    let mut out = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0).min(limit)));
    let mut held = reserved.bytes();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| BodyError::Broken)?.into_data() else { continue };
        let total = out.len() + data.len();
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        if total as u64 > held {
            if !reserved.grow(total as u64 - held) {
                return Err(BodyError::OverBudget);
            }
            held = total as u64;
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

fn over_budget(src: &Source, m: &SourceMetrics, started: Instant) -> Response {
    static THROTTLE: LogThrottle = LogThrottle::new(std::time::Duration::from_secs(5));
    if let Some(suppressed) = THROTTLE.admit() {
        tracing::warn!(source = %src.name, suppressed, "Request bodies in flight are over server.max_body_bytes_in_flight; answering 503.");
    }
    m.done(Outcome::OverBudget, started);
    unavailable()
}

fn store_failed(source: &str, e: &StoreError) {
    match e {
        StoreError::Overloaded => {
            static THROTTLE: LogThrottle = LogThrottle::new(std::time::Duration::from_secs(5));
            if let Some(suppressed) = THROTTLE.admit() {
                tracing::warn!(source, suppressed, "Store queue full; answering 503.");
            }
        }
        _ => {
            static THROTTLE: LogThrottle = LogThrottle::new(std::time::Duration::from_secs(5));
            if let Some(suppressed) = THROTTLE.admit() {
                tracing::error!(source, error = %e, suppressed, "Storing an event failed; answering 503.");
            }
        }
    }
}

fn reject(
    route: &RouteState,
    peer: SocketAddr,
    parts: &axum::http::request::Parts,
    incoming: &Incoming<'_>,
    body: &[u8],
    rejection: &Rejection,
    at: Timestamp,
) {
    let src = &route.source;
    let headers = &parts.headers;
    // The reason is for operators; it never contains a secret or a MAC (see hookgate-verify).
    tracing::warn!(source = %src.name, peer = %peer, reason = %crate::printable::line(&rejection.to_string()), size = body.len(), "Rejected webhook.");
    metrics::counter!("hookgate_rejections_total", "source" => src.name.clone(), "reason" => rejection.code())
        .increment(1);
    route.app.bus.publish(|| StreamItem::Rejection {
        source: src.name.clone(),
        reason_code: rejection.code().to_owned(),
        received_at: crate::view::rfc3339(at.unix_millis()),
        peer: peer.to_string(),
    });
    let record = NewRejection {
        source: src.name.clone(),
        received_at_ms: at.unix_millis(),
        peer: Some(peer.to_string()),
        reason: rejection.to_string(),
        reason_code: rejection.code().to_owned(),
        header_names: headers.keys().map(|k| k.as_str().to_owned()).collect(),
        headers: src.kept_headers(headers),
        body_sha256: sha256_hex(body),
        size: i64::try_from(body.len()).unwrap_or(i64::MAX),
        body: src.keep_rejected_bodies.then(|| body.to_vec()),
        diagnosis: None,
    };
    // Diagnosed off the request path when the rate allows (it then records the rejection);
    // otherwise recorded now, undiagnosed. The reply is the same either way.
    let record = if route.app.diagnoser.admit(body.len()) {
        let job = diagnosis::Job {
            source: route.index,
            method: parts.method.clone(),
            url: incoming.request().url.map(str::to_owned),
            headers: headers.clone(),
            body: body.to_vec(),
            at,
            record,
        };
        match route.app.diagnoser.offer(job) {
            Ok(()) => return,
            Err(job) => job.record,
        }
    } else {
        record
    };
    if !route.app.store.record_rejection(record) {
        metrics::counter!("hookgate_rejections_dropped_total", "source" => src.name.clone()).increment(1);
    }
}
