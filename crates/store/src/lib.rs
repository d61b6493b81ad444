//! Hookgate's durable store: verified events (raw bytes, deduplicated per source), their
//! deliveries (the outbox) and the log of rejected attempts.
//!
//! One interface, [`Store`], two implementations chosen by the URL: SQLite (embedded, the
//! default; one writer thread with group commit) and PostgreSQL (several gateway nodes sharing one
//! database; group-commit writer tasks, `SKIP LOCKED` claims). The contract the gateway relies on:
//! [`Store::insert_event`] returns only after the event is committed durably, so a 2xx is never
//! sent for an event that could be lost; concurrent inserts share one commit.

#![deny(missing_docs)]

mod admin;
mod body;
mod error;
mod event_sql;
mod header;
mod ids;
pub mod jobs;
pub mod migrate;
mod model;
mod postgres;
mod sqlite;
mod store;
mod terms;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod throttle;
mod url;

use std::time::Duration;

pub use admin::AdminOp;
pub use body::sha256_hex;
pub use error::{StoreError, TlsError};
pub use ids::{AuditId, JobId};
pub use jobs::{AuditEntry, Job, JobBatch, JobKind, JobState, NewAudit, NewJob};
pub use model::{
    Attempt, Claimed, DeliveryId, DeliveryQuery, DeliveryRecord, DeliveryStatus, DeliverySummary, Diagnosed, EventId,
    EventQuery, EventRecord, EventStatus, EventSummary, Finished, HeaderBytes, Inserted, NewEvent, NewRejection, Next,
    PiiMark, QueueDepth, RejectionDetail, RejectionId, RejectionQuery, RejectionRecord, RejectionRetention,
    SecretMatchRecord, SecretMatches, SourceStats, TargetStats,
};
pub use postgres::PgStore;
pub use sqlite::{Reader, SqliteStore};
pub use store::Store;
pub use terms::MetadataTerm;
pub use url::{Durability, PostgresUrl, SslMode, StoreUrl};

/// Tuning for either store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Most writes in one transaction.
    pub max_batch: usize,
    /// Writes that may wait for the writer; past this the store answers `Overloaded` at once.
    pub queue_capacity: usize,
    /// SQLite: how long the writer waits for a lock held by another process before failing the batch.
    pub busy_timeout: Duration,
    /// Rejections waiting to be written; past this, new ones are dropped and counted (a flood of
    /// bad requests must not crowd out real events).
    pub max_pending_rejections: usize,
    /// Rejection retention.
    pub rejection_retention: RejectionRetention,
    /// Run pending migrations when opening (off: refuse to open an outdated store).
    pub migrate: bool,
    /// PostgreSQL: connections per node for ingest, delivery and jobs.
    pub pool_size: usize,
    /// PostgreSQL: connections per node for reads (the operator API, the CLI's lists), apart from
    /// `pool_size`, so searches never take ingest's connections.
    pub read_pool_size: usize,
    /// PostgreSQL: the longest one read may run (`statement_timeout` on the read pool).
    pub read_timeout: Duration,
    /// PostgreSQL: group-commit writers per node (one collects a batch while another commits).
    pub pg_writers: usize,
    /// This handle stores events (the gateway). Off for operator commands (replay, retry,
    /// migrate), which then leave SQLite's dedup index to the running gateway that holds it.
    pub take_events: bool,
    /// SQLite: keep bodies of 2 KiB and more LZ4-compressed when that makes them at least an
    /// eighth smaller (read back as the exact bytes received). Off: every body as received, for
    /// tools that read the database file directly.
    pub compress_bodies: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_batch: 256,
            queue_capacity: 8192,
            busy_timeout: Duration::from_secs(5),
            max_pending_rejections: 2048,
            rejection_retention: RejectionRetention::default(),
            migrate: true,
            pool_size: 16,
            read_pool_size: 4,
            read_timeout: Duration::from_secs(15),
            pg_writers: 2,
            take_events: true,
            compress_bodies: true,
        }
    }
}

/// Rejections waiting for a writer, bounded: a flood of bad requests must not crowd out events.
#[derive(Debug)]
pub(crate) struct PendingRejections {
    count: std::sync::atomic::AtomicUsize,
    max: usize,
}

impl PendingRejections {
    pub(crate) fn new(max: usize) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self { count: std::sync::atomic::AtomicUsize::new(0), max })
    }

    /// Runs `send` (which queues the rejection, `false` when it could not) unless `max` are
    /// already waiting; `false` when the rejection was dropped.
    pub(crate) fn admit(&self, send: impl FnOnce() -> bool) -> bool {
        use std::sync::atomic::Ordering;
        if self.count.fetch_add(1, Ordering::AcqRel) >= self.max || !send() {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// A writer wrote (or gave up on) `n` of them.
    pub(crate) fn written(&self, n: usize) {
        self.count.fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
    }
}

/// Now, in Unix ms: every time the store writes or compares is a number (formatting happens where
/// times are shown).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
