//! What happens, as it happens: accepted events, rejections and delivery outcomes, published to
//! the operator API's `/api/v1/stream` (Server-Sent Events) and so to `hookgate tail`.
//!
//! A broadcast channel: publishing costs nothing when nobody listens (the item is not even built),
//! and a listener that falls behind skips what it missed (it is told how many) instead of holding
//! up ingest.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hookgate_store::{DeliveryId, EventId};
use serde::Serialize;
use tokio::sync::broadcast;

/// Items a slow listener may fall behind by before it skips.
const CAPACITY: usize = 4096;

/// One thing that happened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamItem {
    /// A verified event was stored (or a provider retry of one was deduplicated).
    Event {
        /// Its id.
        #[schema(value_type = i64)]
        id: EventId,
        /// Its source.
        source: String,
        /// Its type.
        event_type: Option<String>,
        /// When it arrived.
        received_at: String,
        /// Its dedup key.
        dedup_key: String,
        /// Body size in bytes.
        size: usize,
        /// A provider retry of an event stored already.
        duplicate: bool,
        /// What a `match` filter reads (body and metadata), built only while a listener filters
        /// with one; never sent.
        #[serde(skip)]
        document: Option<Arc<serde_json::Value>>,
    },
    /// A request was rejected (the sender was told nothing more than the scheme's reply).
    Rejection {
        /// Its source.
        source: String,
        /// The reason code.
        reason_code: String,
        /// When it arrived.
        received_at: String,
        /// The peer's address.
        peer: String,
    },
    /// A delivery attempt ended.
    Delivery {
        /// The delivery.
        #[schema(value_type = i64)]
        delivery_id: DeliveryId,
        /// Its event.
        #[schema(value_type = i64)]
        event_id: EventId,
        /// The event's source.
        source: String,
        /// The event's type.
        event_type: Option<String>,
        /// The target.
        target: String,
        /// `delivered`, `retry` or `dead`.
        outcome: &'static str,
        /// HTTP status or exit code.
        status_code: Option<i64>,
        /// What went wrong.
        error: Option<String>,
    },
}

impl StreamItem {
    /// A recorded delivery attempt.
    pub fn delivery(c: &hookgate_store::Claimed, f: &hookgate_store::Finished, target: &str) -> Self {
        StreamItem::Delivery {
            delivery_id: c.delivery_id,
            event_id: c.event_id,
            source: c.source.clone(),
            event_type: c.event_type.clone(),
            target: target.to_owned(),
            outcome: match f.next {
                hookgate_store::Next::Delivered => "delivered",
                hookgate_store::Next::Retry(_) => "retry",
                hookgate_store::Next::Dead => "dead",
            },
            status_code: f.attempt.status_code,
            error: f.attempt.error.clone(),
        }
    }

    /// Its source (a delivery's: its event's).
    pub fn source(&self) -> &str {
        match self {
            StreamItem::Event { source, .. }
            | StreamItem::Rejection { source, .. }
            | StreamItem::Delivery { source, .. } => source,
        }
    }

    /// `event`, `rejection` or `delivery`.
    pub fn kind(&self) -> &'static str {
        match self {
            StreamItem::Event { .. } => "event",
            StreamItem::Rejection { .. } => "rejection",
            StreamItem::Delivery { .. } => "delivery",
        }
    }
}

/// The channel.
#[derive(Debug, Clone)]
pub struct Bus {
    tx: broadcast::Sender<StreamItem>,
    /// Listeners filtering with `match`: while there are some, events carry their document.
    matching: Arc<AtomicUsize>,
}

impl Default for Bus {
    fn default() -> Self {
        Self { tx: broadcast::channel(CAPACITY).0, matching: Arc::default() }
    }
}

/// A listener's need for documents, given back when it goes.
#[derive(Debug)]
pub struct Matching(Arc<AtomicUsize>);

impl Drop for Matching {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Bus {
    /// A new, shared bus.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Publishes what `item` builds, only when someone listens.
    pub fn publish(&self, item: impl FnOnce() -> StreamItem) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(item());
        }
    }

    /// Whether anyone listens (so the caller can skip building what it would publish).
    pub fn listening(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// Whether a listener filters with `match` (so events must carry their document).
    pub fn documents_wanted(&self) -> bool {
        self.matching.load(Ordering::Acquire) > 0
    }

    /// Marks a listener that filters with `match`, for as long as the guard lives.
    pub fn want_documents(&self) -> Matching {
        self.matching.fetch_add(1, Ordering::AcqRel);
        Matching(Arc::clone(&self.matching))
    }

    /// A new listener, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<StreamItem> {
        self.tx.subscribe()
    }
}
