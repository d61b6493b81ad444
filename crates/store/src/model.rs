//! What the store keeps.

pub use crate::header::HeaderBytes;
pub use crate::ids::{DeliveryId, EventId, RejectionId};

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
    /// Tag values that look like personal data (kept as marks; the body is never changed).
    pub pii: Vec<PiiMark>,
}

/// A Tag key whose value looks like personal data, and what kind (never the value).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PiiMark {
    /// The Tag key (`email`).
    pub key: String,
    /// The kind (`email`, `phone`, `sin`, `card`, `postal_code`).
    pub kind: String,
}

/// The marks as stored: `NULL` for none (most events), else a JSON array.
pub(crate) fn marks_json(marks: &[PiiMark]) -> Option<String> {
    (!marks.is_empty()).then(|| serde_json::to_string(marks).unwrap_or_else(|_| "[]".into()))
}

/// The marks read back (a missing or unreadable column is no marks).
pub(crate) fn marks_from(stored: Option<&str>) -> Vec<PiiMark> {
    stored.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

/// A stored diagnosis read back.
pub(crate) fn diagnosis_from(stored: Option<&str>) -> Option<Vec<Diagnosed>> {
    stored.and_then(|s| serde_json::from_str(s).ok())
}

/// A secret's counts as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretMatchRecord {
    /// Source name.
    pub source: String,
    /// The secret's label (or its position).
    pub secret: String,
    /// First 8 hex digits of the SHA-256 of the key.
    pub fingerprint: String,
    /// Requests it verified.
    pub matches: i64,
    /// The latest (Unix ms), if any.
    pub last_matched_at_ms: Option<i64>,
}

/// One explanation of a rejection (the gateway's diagnosis): a cause code and its evidence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnosed {
    /// The cause (`body-reserialized`, …).
    pub cause: String,
    /// The evidence, for operators.
    pub detail: String,
}

/// Matches of one configured secret to add to its counts (one node's, since its last report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretMatches {
    /// Source name.
    pub source: String,
    /// The secret's label (or its position).
    pub secret: String,
    /// First 8 hex digits of the SHA-256 of the key.
    pub fingerprint: String,
    /// Matches to add (0 registers the secret).
    pub matches: i64,
    /// The latest match in the batch (Unix ms).
    pub last_matched_at_ms: Option<i64>,
}

/// The result of storing an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// Stored now under this id.
    New(EventId),
    /// Already stored (a provider retry) under this id; the duplicate was counted.
    Duplicate(EventId),
}

impl Inserted {
    /// The event's id either way.
    pub fn id(self) -> EventId {
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
    /// Why it failed, when it was diagnosed (`None`: not diagnosed; empty: no known cause).
    pub diagnosis: Option<Vec<Diagnosed>>,
}

/// An event as listed (no body).
#[derive(Clone, Debug)]
pub struct EventSummary {
    /// Store id.
    pub id: EventId,
    /// Source name.
    pub source: String,
    /// When it arrived (Unix ms).
    pub received_at_ms: i64,
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
    /// Where its deliveries stand (`None`: it has none).
    pub status: Option<EventStatus>,
}

/// A full event.
#[derive(Clone, Debug)]
pub struct EventRecord {
    /// Listing fields.
    pub summary: EventSummary,
    /// The signed timestamp (Unix ms), when the scheme has one.
    pub signed_at_ms: Option<i64>,
    /// Headers kept for audit.
    pub headers: Vec<(String, HeaderBytes)>,
    /// Routing metadata.
    pub metadata: serde_json::Value,
    /// The raw body.
    pub body: Vec<u8>,
    /// Tag values that look like personal data (read with one event; empty in scans).
    pub pii: Vec<PiiMark>,
}

/// A recorded rejection.
#[derive(Clone, Debug)]
pub struct RejectionRecord {
    /// Store id.
    pub id: RejectionId,
    /// Source name.
    pub source: String,
    /// When it arrived (Unix ms).
    pub received_at_ms: i64,
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
    /// Why it failed, when it was diagnosed.
    pub diagnosis: Option<Vec<Diagnosed>>,
}

/// One rejected attempt in full.
#[derive(Clone, Debug)]
pub struct RejectionDetail {
    /// Listing fields.
    pub record: RejectionRecord,
    /// The header values kept (empty for attempts recorded before they were kept).
    pub headers: Vec<(String, HeaderBytes)>,
    /// The body, when the source keeps rejected bodies.
    pub body: Option<Vec<u8>>,
}

/// Which events to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    /// Only this source.
    pub source: Option<String>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only events whose deliveries stand so.
    pub status: Option<EventStatus>,
    /// Only those received at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only those received before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// Only those whose id, provider id or dedup key contains this text.
    pub text: Option<String>,
    /// Only those whose body has this SHA-256 (lowercase hex): the event a rejected attempt with
    /// the same body was meant to be.
    pub body_sha256: Option<String>,
    /// Only the event with this id.
    pub event_id: Option<EventId>,
    /// The next page: only those after this event in the list's order (newest first), so a page
    /// never repeats or skips a row while new ones arrive.
    pub before_id: Option<EventId>,
    /// Only those with an id up to this one (a job's fixed set, worked through by id).
    pub max_id: Option<EventId>,
    /// Newest first by id rather than by arrival time (jobs: their cursor is an id).
    pub by_id: bool,
    /// Metadata values the caller's filter requires. When one of them is rare, the store
    /// returns only the events carrying all of them, found through its metadata index without
    /// reading the others; when all are common it does not narrow (walking the events in order
    /// meets them soon enough). Either way the caller checks each event it gets.
    pub metadata_terms: Vec<crate::MetadataTerm>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Which rejected attempts to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct RejectionQuery {
    /// Only this source.
    pub source: Option<String>,
    /// Only this reason code (`mismatch`, `missing_header`, …).
    pub reason: Option<String>,
    /// Only those received at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    /// Only those received before this time (Unix ms).
    pub until_ms: Option<i64>,
    /// The next page: only those after this one in the list's order (newest first).
    pub before_id: Option<RejectionId>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Which deliveries to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct DeliveryQuery {
    /// Only in this state.
    pub status: Option<DeliveryStatus>,
    /// Only to this target.
    pub target: Option<String>,
    /// Only of this event.
    pub event_id: Option<EventId>,
    /// The next page: only those older than this id (the last one of the previous page), so a
    /// page never repeats or skips a row while new ones arrive.
    pub before_id: Option<DeliveryId>,
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
    pub delivery_id: DeliveryId,
    /// Event id.
    pub event_id: EventId,
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
#[derive(Clone, Debug)]
pub struct Attempt {
    /// When it started (Unix ms).
    pub started_at_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// HTTP status or exit code.
    pub status_code: Option<i64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// The start of the response (bounded).
    pub response_excerpt: Option<String>,
    /// The request sent (JSON: method, URL with credentials redacted, header names, body size),
    /// where the target's kind records one.
    pub request: Option<String>,
    /// The response's headers (JSON `[[name, value]]`, bounded, credentials as `***`).
    pub response_headers: Option<String>,
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
    pub delivery_id: DeliveryId,
    /// The attempt.
    pub attempt: Attempt,
    /// What comes next.
    pub next: Next,
}

/// A delivery as listed.
#[derive(Clone, Debug)]
pub struct DeliverySummary {
    /// Delivery id.
    pub id: DeliveryId,
    /// Event id.
    pub event_id: EventId,
    /// Target name.
    pub target: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (Unix ms), for pending deliveries.
    pub next_attempt_at_ms: Option<i64>,
    /// When it was created (Unix ms).
    pub created_at_ms: i64,
    /// When it was delivered (Unix ms).
    pub delivered_at_ms: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
}

/// A delivery with its attempt history.
#[derive(Clone, Debug)]
pub struct DeliveryRecord {
    /// Listing fields.
    pub summary: DeliverySummary,
    /// What made it: `None` for a route at ingest, `replay` (by event id), `job:<id>` (a job).
    pub origin: Option<String>,
    /// Times a retry made it pending again after it was dead.
    pub revived: i64,
    /// Every attempt, oldest first, across revivals.
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

/// Where a delivery stands. Stored as `pending`, `delivered`, `dead` or `cancelled`; `failed` is
/// read: a pending delivery that has failed at least once (it waits for its retry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not attempted yet.
    Pending,
    /// Pending after a failed attempt: a retry is due.
    Failed,
    /// The target has it.
    Delivered,
    /// Given up on (a permanent failure, or its attempts exhausted); `retry --dead` revives it.
    Dead,
    /// Cancelled by an operator; never attempted again.
    Cancelled,
}

impl DeliveryStatus {
    /// Every status, in the order a listing explains them.
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Failed,
        DeliveryStatus::Delivered,
        DeliveryStatus::Dead,
        DeliveryStatus::Cancelled,
    ];

    /// Its name, as listings and filters write it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    /// A row's status from its stored value and attempt count: the one place the `failed` rule
    /// lives, for both stores.
    pub(crate) fn from_row(stored: &str, attempts: i64) -> Self {
        match stored {
            "pending" if attempts > 0 => DeliveryStatus::Failed,
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            "dead" => DeliveryStatus::Dead,
            _ => DeliveryStatus::Cancelled,
        }
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status equals its name (`status == "dead"`), as filters and listings write it.
impl PartialEq<&str> for DeliveryStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        DeliveryStatus::ALL.into_iter().find(|d| d.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = DeliveryStatus::ALL.iter().map(|d| d.as_str()).collect();
            format!("unknown status `{s}` ({})", names.join(", "))
        })
    }
}

/// Where an event's deliveries stand, taken together: `dead` if one is dead, else `failed` if one
/// waits for a retry, else `pending` if one waits for its first attempt, else `delivered`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventStatus {
    /// A delivery waits for its first attempt.
    Pending,
    /// A delivery failed and waits for its retry.
    Failed,
    /// Every delivery was made (cancelled ones aside).
    Delivered,
    /// A delivery is dead.
    Dead,
}

impl EventStatus {
    /// Every status.
    pub const ALL: [EventStatus; 4] =
        [EventStatus::Pending, EventStatus::Failed, EventStatus::Delivered, EventStatus::Dead];

    /// Its name, as listings and filters write it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Failed => "failed",
            EventStatus::Delivered => "delivered",
            EventStatus::Dead => "dead",
        }
    }

    /// From the name the store's SQL computes.
    pub(crate) fn from_sql(s: Option<&str>) -> Option<Self> {
        EventStatus::ALL.into_iter().find(|e| Some(e.as_str()) == s)
    }
}

impl std::fmt::Display for EventStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        EventStatus::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}` (pending, failed, delivered or dead)"))
    }
}

/// What a source received, for the operator API's overview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// The source.
    pub source: String,
    /// Events stored.
    pub events: i64,
    /// Provider retries deduplicated into them.
    pub duplicates: i64,
    /// When the newest arrived (Unix ms).
    pub last_event_ms: Option<i64>,
    /// Events received in the last 1, 5 and 60 minutes.
    pub events_last: [i64; 3],
    /// Rejected attempts kept (retention bounds them).
    pub rejections: i64,
    /// Rejected attempts in the last 1, 5 and 60 minutes.
    pub rejections_last: [i64; 3],
}

/// How a target's deliveries stand, for the operator API's overview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetStats {
    /// The target.
    pub target: String,
    /// Deliveries by status: pending, failed, delivered, dead, cancelled.
    pub by_status: [i64; 5],
    /// When the oldest pending (or failed) delivery was created (Unix ms).
    pub oldest_pending_ms: Option<i64>,
    /// Deliveries made in the last 1, 5 and 60 minutes.
    pub delivered_last: [i64; 3],
}
