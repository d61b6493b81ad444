//! How stored records are shown: JSON views with times in RFC 3339, for the CLI's `--format json`
//! and the operator API. The store keeps times as Unix milliseconds; formatting happens here, at
//! the edge.

use hookgate_store::{
    Attempt, DeliveryId, DeliveryRecord, DeliverySummary, EventId, EventRecord, EventSummary, HeaderBytes,
    RejectionDetail, RejectionId, RejectionRecord,
};
use hookgate_verify::Timestamp;
use serde::Serialize;

/// Unix ms as RFC 3339 (`2023-11-14T22:13:20Z`, milliseconds when there are any).
pub fn rfc3339(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).to_rfc3339()
}

/// An event as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView<'a> {
    /// Store id.
    #[schema(value_type = i64)]
    pub id: EventId,
    /// Source name.
    pub source: &'a str,
    /// When it arrived.
    pub received_at: String,
    /// Deduplication key.
    pub dedup_key: &'a str,
    /// The provider's id.
    pub provider_id: Option<&'a str>,
    /// Event type.
    pub event_type: Option<&'a str>,
    /// SHA-256 of the body (hex).
    pub body_sha256: &'a str,
    /// Body size in bytes.
    pub size: i64,
    /// Provider retries deduplicated into it.
    pub duplicates: i64,
}

impl<'a> From<&'a EventSummary> for EventView<'a> {
    fn from(e: &'a EventSummary) -> Self {
        Self {
            id: e.id,
            source: &e.source,
            received_at: rfc3339(e.received_at_ms),
            dedup_key: &e.dedup_key,
            provider_id: e.provider_id.as_deref(),
            event_type: e.event_type.as_deref(),
            body_sha256: &e.body_sha256,
            size: e.size,
            duplicates: e.duplicates,
        }
    }
}

/// An event in full (its body apart).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventDetailView<'a> {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: EventView<'a>,
    /// The signed timestamp.
    pub signed_at: Option<String>,
    /// Headers kept for audit: `[name, value]` pairs; a value that is not UTF-8 is `{"base64": …}`.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub headers: &'a [(String, HeaderBytes)],
    /// Routing metadata.
    #[schema(value_type = Object)]
    pub metadata: &'a serde_json::Value,
    /// Tag values that look like personal data: `[{"key", "kind"}]` (`email`, `phone`, `sin`,
    /// `card`, `postal_code`), never the value. The stored body is unchanged.
    #[schema(value_type = Vec<Object>)]
    pub pii: &'a [hookgate_store::PiiMark],
}

impl<'a> From<&'a EventRecord> for EventDetailView<'a> {
    fn from(e: &'a EventRecord) -> Self {
        Self {
            summary: EventView::from(&e.summary),
            signed_at: e.signed_at_ms.map(rfc3339),
            headers: &e.headers,
            metadata: &e.metadata,
            pii: &e.pii,
        }
    }
}

/// A rejected attempt as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RejectionView<'a> {
    /// Store id.
    #[schema(value_type = i64)]
    pub id: RejectionId,
    /// Source name.
    pub source: &'a str,
    /// When it arrived.
    pub received_at: String,
    /// Peer address.
    pub peer: Option<&'a str>,
    /// Why (for operators; the sender was never told).
    pub reason: &'a str,
    /// Stable reason code.
    pub reason_code: &'a str,
    /// Header names sent.
    pub header_names: &'a [String],
    /// SHA-256 of the body (hex).
    pub body_sha256: &'a str,
    /// Body size.
    pub size: i64,
    /// Whether the body was kept.
    pub body_kept: bool,
    /// Why it failed: `[{"cause", "detail"}]`, most likely first; empty when no known cause
    /// explains it, `null` when it was not diagnosed (diagnosis off, or over its rate).
    #[schema(value_type = Option<Vec<Object>>)]
    pub diagnosis: Option<&'a [hookgate_store::Diagnosed]>,
}

impl<'a> From<&'a RejectionRecord> for RejectionView<'a> {
    fn from(r: &'a RejectionRecord) -> Self {
        Self {
            id: r.id,
            source: &r.source,
            received_at: rfc3339(r.received_at_ms),
            peer: r.peer.as_deref(),
            reason: &r.reason,
            reason_code: &r.reason_code,
            header_names: &r.header_names,
            body_sha256: &r.body_sha256,
            size: r.size,
            body_kept: r.body_kept,
            diagnosis: r.diagnosis.as_deref(),
        }
    }
}

/// A rejected attempt in full (its body apart).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RejectionDetailView<'a> {
    /// Listing fields.
    #[serde(flatten)]
    pub record: RejectionView<'a>,
    /// The header values kept: `[name, value]` pairs, as for events.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub headers: &'a [(String, HeaderBytes)],
}

impl<'a> From<&'a RejectionDetail> for RejectionDetailView<'a> {
    fn from(r: &'a RejectionDetail) -> Self {
        Self { record: RejectionView::from(&r.record), headers: &r.headers }
    }
}

/// A delivery as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView<'a> {
    /// Delivery id.
    #[schema(value_type = i64)]
    pub id: DeliveryId,
    /// Its event.
    #[schema(value_type = i64)]
    pub event_id: EventId,
    /// Target name.
    pub target: &'a str,
    /// `pending`, `failed`, `delivered`, `dead` or `cancelled`.
    pub status: &'static str,
    /// Attempts made.
    pub attempts: i64,
    /// The next attempt, for pending deliveries.
    pub next_attempt_at: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it was delivered.
    pub delivered_at: Option<String>,
    /// The last error.
    pub last_error: Option<&'a str>,
}

impl<'a> From<&'a DeliverySummary> for DeliveryView<'a> {
    fn from(d: &'a DeliverySummary) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            target: &d.target,
            status: d.status.as_str(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at_ms.map(rfc3339),
            created_at: rfc3339(d.created_at_ms),
            delivered_at: d.delivered_at_ms.map(rfc3339),
            last_error: d.last_error.as_deref(),
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView<'a> {
    /// When it started.
    pub started_at: String,
    /// How long it took.
    pub duration_ms: i64,
    /// HTTP status or exit code.
    pub status_code: Option<i64>,
    /// What went wrong.
    pub error: Option<&'a str>,
    /// The start of the target's answer.
    pub response_excerpt: Option<&'a str>,
    /// The request sent (HTTP targets): `{"method", "url" (credentials as `***`), "headers"
    /// (names), "body_bytes"}`; `null` when the kind records none or before schema 9.
    #[schema(value_type = Option<Object>)]
    pub request: Option<serde_json::Value>,
    /// The response's headers (HTTP targets): `[[name, value]]`, at most 32, values cut to 256
    /// characters, credential-like values as `***`.
    #[schema(value_type = Option<Vec<Vec<String>>>)]
    pub response_headers: Option<serde_json::Value>,
}

impl<'a> From<&'a Attempt> for AttemptView<'a> {
    fn from(a: &'a Attempt) -> Self {
        let json = |t: &Option<String>| t.as_deref().and_then(|t| serde_json::from_str(t).ok());
        Self {
            started_at: rfc3339(a.started_at_ms),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error.as_deref(),
            response_excerpt: a.response_excerpt.as_deref(),
            request: json(&a.request),
            response_headers: json(&a.response_headers),
        }
    }
}

/// A delivery with its attempts, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryDetailView<'a> {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: DeliveryView<'a>,
    /// What made it: `route` (the source's routes at ingest), `replay` (by event id), or
    /// `job:<id>` (a replay job), so several deliveries of one event to one target are told apart.
    pub origin: &'a str,
    /// Times a retry made it pending again after it was dead (its attempts restart from 1 then;
    /// the history keeps every attempt).
    pub revived: i64,
    /// Every attempt, oldest first, across revivals.
    pub attempts_history: Vec<AttemptView<'a>>,
}

impl<'a> From<&'a DeliveryRecord> for DeliveryDetailView<'a> {
    fn from(d: &'a DeliveryRecord) -> Self {
        Self {
            summary: DeliveryView::from(&d.summary),
            origin: d.origin.as_deref().unwrap_or("route"),
            revived: d.revived,
            attempts_history: d.attempts_history.iter().map(AttemptView::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn times_are_shown_in_rfc3339() {
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_700_000_001_199), "2023-11-14T22:13:21.199Z");
    }
}
