//! What the store keeps.

use serde::Serialize;

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
    pub headers: Vec<(String, String)>,
    /// Routing metadata extracted from the body (a JSON object).
    pub metadata: serde_json::Value,
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
    /// Names of the request headers (values are not kept).
    pub header_names: Vec<String>,
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
    pub headers: Vec<(String, String)>,
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

/// Which events or rejections to list.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only those received at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// At most this many (newest first).
    pub limit: Option<u32>,
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
