//! Operator actions on the store, the same on both backends.

/// Operator writes.
#[derive(Debug, Clone)]
pub enum AdminOp {
    /// New deliveries for these events: to `target`, or to every target the event was routed to.
    Replay {
        /// Event ids.
        event_ids: Vec<crate::EventId>,
        /// Only this target.
        target: Option<String>,
    },
    /// Dead deliveries become pending again, due now, with their attempt count reset.
    RetryDead {
        /// Only this target.
        target: Option<String>,
    },
    /// A pending delivery is cancelled: never attempted again (1 when it was pending, else 0).
    Cancel {
        /// Delivery id.
        delivery_id: crate::DeliveryId,
    },
    /// Delete up to `limit` events received before `before_ms` whose deliveries all succeeded
    /// (or that had none), with their deliveries and attempts. Events with a pending or dead
    /// delivery are kept.
    Prune {
        /// Unix ms.
        before_ms: i64,
        /// Most events in one transaction, so pruning never holds the writer for long.
        limit: u32,
    },
}
