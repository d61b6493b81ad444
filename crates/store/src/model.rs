//! What the store keeps.

use serde::Serialize;

pub use crate::header::HeaderBytes;

/// A verified event to store.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// Source name (from the config).
    pub source: String,
    /// Unix milliseconds when the request arrived.
    pub received_at_ms: i64,
    /// The deduplication key (unique per source).
    pub dedup_key: String,
    /// The provider's delivery/event id, if it sent one.
    pub provider_id: Option<String>,
    /// Event type, if known.
    pub event_type: Option<String>,
    /// The signed timestamp (Unix ms), if the scheme has one.
    pub signed_at_ms: Option<i64>,
    /// The raw body, exactly as received.
    pub body: Vec<u8>,
    /// SHA-256 of the body, lowercase hex.
    pub body_sha256: String,
    /// Request headers kept for audit, as (name, value) pairs.
    pub headers: Vec<(String, HeaderBytes)>,
    /// Routing metadata extracted from the body (a JSON object).
    pub metadata: serde_json::Value,
    /// Targets to deliver to: one delivery each is created in the same transaction as the event
    /// (none for a duplicate, which was routed when it first arrived).
    pub targets: Vec<String>,
}

/// The result of storing an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored now under this id.
    New(i64),
    /// Already stored (a provider retry) under this id; the duplicate was counted.
    Duplicate(i64),
}

impl Inserted {
    /// The event's id either way.
    pub fn id(self) -> i64 {
        match self {
            Inserted::New(id) | Inserted::Duplicate(id) => id,
        }
    }
}

/// A rejected attempt to record.
#[derive(Clone, Debug)]
pub struct NewRejection {
    /// Source name.
    pub source: String,
    /// Unix milliseconds.
    pub received_at_ms: i64,
    /// The peer address.
    pub peer: Option<String>,
    /// Why it was rejected (safe to show operators; never a secret or MAC).
    pub reason: String,
    /// Stable reason code (`signature_mismatch`, …).
    pub reason_code: String,
    /// Names of every request header.
    pub header_names: Vec<String>,
    /// The request headers with their values, minus the source's `drop_headers` (credentials),
    /// so the attempt can be re-verified offline.
    pub headers: Vec<(String, HeaderBytes)>,
    /// SHA-256 of the body, lowercase hex.
    pub body_sha256: String,
    /// Body size in bytes.
    pub size: i64,
    /// The body itself, only when the source opts in.
    pub body: Option<Vec<u8>>,
}

/// An event as listed (no body).
#[derive(Clone, Debug, Serialize)]
pub struct EventSummary {
    /// Store id.
    pub id: i64,
    /// Source name.
    pub source: String,
    /// When it arrived (RFC 3339).
    pub received_at: String,
    /// Deduplication key.
    pub dedup_key: String,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Event type.
    pub event_type: Option<String>,
    /// SHA-256 of the body (hex).
    pub body_sha256: String,
    /// Body size in bytes.
    pub size: i64,
    /// How many provider retries were deduplicated into this event.
    pub duplicates: i64,
}

/// A full event.
#[derive(Clone, Debug, Serialize)]
pub struct EventRecord {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: EventSummary,
    /// The signed timestamp, RFC 3339.
    pub signed_at: Option<String>,
    /// Headers kept for audit.
    pub headers: Vec<(String, HeaderBytes)>,
    /// Routing metadata.
    pub metadata: serde_json::Value,
    /// The raw body.
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// A recorded rejection.
#[derive(Clone, Debug, Serialize)]
pub struct RejectionRecord {
    /// Store id.
    pub id: i64,
    /// Source name.
    pub source: String,
    /// When it arrived (RFC 3339).
    pub received_at: String,
    /// Peer address.
    pub peer: Option<String>,
    /// Why.
    pub reason: String,
    /// Stable reason code.
    pub reason_code: String,
    /// Header names sent.
    pub header_names: Vec<String>,
    /// SHA-256 of the body (hex).
    pub body_sha256: String,
    /// Body size.
    pub size: i64,
    /// Whether the body was kept.
    pub body_kept: bool,
}

/// One rejected attempt in full.
#[derive(Clone, Debug, Serialize)]
pub struct RejectionDetail {
    /// Listing fields.
    #[serde(flatten)]
    pub record: RejectionRecord,
    /// The header values kept (empty for attempts recorded before they were kept).
    pub headers: Vec<(String, HeaderBytes)>,
    /// The body, when the source keeps rejected bodies.
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
}

/// Which events or rejections to list.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only those received at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only those received before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// The next page: only those after this id in the list's order (newest first), so a page
    /// never repeats or skips a row while new ones arrive.
    pub before_id: Option<i64>,
    /// At most this many (newest first).
    pub limit: Option<u32>,
}

/// Which deliveries to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct DeliveryQuery {
    /// `pending` (no attempt yet), `failed` (pending after a failed attempt), `delivered`, `dead`
    /// or `cancelled`.
    pub status: Option<String>,
    /// Only to this target.
    pub target: Option<String>,
    /// Only of this event.
    pub event_id: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// How long rejected attempts are kept: a flood must not fill the disk.
#[derive(Clone, Copy, Debug)]
pub struct RejectionRetention {
    /// Keep at most this many rows.
    pub max_rows: u64,
    /// Drop rows older than this many seconds.
    pub max_age_secs: u64,
}

impl Default for RejectionRetention {
    fn default() -> Self {
        Self { max_rows: 100_000, max_age_secs: 30 * 24 * 3600 }
    }
}

/// A delivery claimed by a worker: the event to send and how many attempts came before.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// Delivery id.
    pub delivery_id: i64,
    /// Event id.
    pub event_id: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    /// Source name.
    pub source: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// The stored request headers.
    pub headers: Vec<(String, HeaderBytes)>,
    /// When the event arrived (Unix ms).
    pub received_at_ms: i64,
    /// Event type.
    pub event_type: Option<String>,
}

/// One delivery attempt, as recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// When it started (Unix ms in, RFC 3339 out).
    #[serde(skip)]
    pub started_at_ms: i64,
    /// RFC 3339 start (filled when read).
    pub started_at: String,
    /// How long it took.
    pub duration_ms: i64,
    /// HTTP status or exit code.
    pub status_code: Option<i64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// The start of the response (bounded).
    pub response_excerpt: Option<String>,
}

/// What happens to a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Done.
    Delivered,
    /// Try again at this time (Unix ms).
    Retry(i64),
    /// Give up (permanent failure, or attempts exhausted).
    Dead,
}

/// The result of one attempt, to record.
#[derive(Clone, Debug)]
pub struct Finished {
    /// Delivery id.
    pub delivery_id: i64,
    /// The attempt.
    pub attempt: Attempt,
    /// What comes next.
    pub next: Next,
}

/// A delivery as listed.
#[derive(Clone, Debug, Serialize)]
pub struct DeliverySummary {
    /// Delivery id.
    pub id: i64,
    /// Event id.
    pub event_id: i64,
    /// Target name.
    pub target: String,
    /// `pending`, `failed` (pending after a failed attempt), `delivered` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (RFC 3339), for pending deliveries.
    pub next_attempt_at: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was delivered (RFC 3339).
    pub delivered_at: Option<String>,
    /// The last error.
    pub last_error: Option<String>,
}

/// A delivery with its attempt history.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryRecord {
    /// Listing fields.
    #[serde(flatten)]
    pub summary: DeliverySummary,
    /// Every attempt, oldest first.
    pub attempts_history: Vec<Attempt>,
}

/// Deliveries by status, for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Pending (never attempted or waiting for a retry).
    pub pending: i64,
    /// Of the pending, those that failed at least once.
    pub failed: i64,
    /// Dead.
    pub dead: i64,
    /// Age of the oldest pending delivery in ms (0 when none).
    pub oldest_pending_ms: i64,
}
