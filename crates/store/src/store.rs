//! The store interface the gateway and the CLI use, whichever database is behind it.

use std::time::Duration;

use crate::admin::AdminOp;
use crate::model::{
    Claimed, DeliveryRecord, DeliverySummary, EventRecord, EventSummary, Finished, Inserted, NewEvent, NewRejection,
    QueueDepth, RejectionRecord,
};
use crate::postgres::PgStore;
use crate::sqlite::{Reader, SqliteStore};
use crate::url::StoreUrl;
use crate::{StoreError, StoreOptions};

/// A Hookgate store: SQLite or PostgreSQL, with the same semantics.
#[derive(Debug)]
pub enum Store {
    /// The embedded SQLite store (one node).
    Sqlite(SqliteStore),
    /// The PostgreSQL store (any number of nodes).
    Postgres(PgStore),
}

impl Store {
    /// Opens the store at `url`, creating it and running pending migrations (unless
    /// `options.migrate` is off), ready to write.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be opened or reached, or a migration fails.
    pub async fn open(url: &StoreUrl, options: StoreOptions) -> Result<Self, StoreError> {
        match url {
            StoreUrl::Sqlite { path, durability } => {
                let (path, durability) = (path.clone(), *durability);
                // Opening runs migrations and may wait on a lock: keep it off the async workers.
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, durability, options))
                    .await
                    .map_err(|e| StoreError::Write(format!("open task failed: {e}")))??;
                Ok(Store::Sqlite(store))
            }
            StoreUrl::Postgres(pg) => Ok(Store::Postgres(PgStore::open(pg, &options).await?)),
        }
    }

    /// Opens an existing store for inspection: nothing is created or migrated, writes are refused.
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no store at `url`, or a database error.
    pub async fn inspect(url: &StoreUrl) -> Result<Self, StoreError> {
        match url {
            StoreUrl::Sqlite { path, .. } => Ok(Store::Sqlite(SqliteStore::inspect(path)?)),
            StoreUrl::Postgres(pg) => {
                let options = StoreOptions { pool_size: 2, ..StoreOptions::default() };
                Ok(Store::Postgres(PgStore::inspect(pg, &options).await?))
            }
        }
    }

    /// Stores an event and waits until it is committed durably. A duplicate (same source and
    /// dedup key, from this node or any other) is counted on the stored event and reported as
    /// [`Inserted::Duplicate`].
    ///
    /// # Errors
    /// [`StoreError::Overloaded`] when the writer's queue is full, [`StoreError::Write`] or a
    /// database error when the commit failed, [`StoreError::Closed`] after shutdown. In every
    /// error case the event must not be acknowledged (a provider retry will bring it again).
    pub async fn insert_event(&self, event: NewEvent) -> Result<Inserted, StoreError> {
        match self {
            Store::Sqlite(s) => s.insert_event(event).await,
            Store::Postgres(s) => s.insert_event(event).await,
        }
    }

    /// Queues a rejected attempt for the log. Never waits; returns `false` when it was dropped
    /// because too many are already waiting (the caller counts that).
    pub fn record_rejection(&self, rejection: NewRejection) -> bool {
        match self {
            Store::Sqlite(s) => s.record_rejection(rejection),
            Store::Postgres(s) => s.record_rejection(rejection),
        }
    }

    /// Waits until every write queued so far is committed.
    ///
    /// # Errors
    /// As [`Store::insert_event`].
    pub async fn flush(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.flush().await,
            Store::Postgres(s) => s.flush().await,
        }
    }

    /// Writes waiting for this node's writer: background work (delivery) yields while ingest keeps
    /// it busy.
    pub fn queued(&self) -> usize {
        match self {
            Store::Sqlite(s) => s.queued(),
            Store::Postgres(s) => s.queued(),
        }
    }

    /// Transactions this node's writer(s) committed so far; each holds a batch of writes, so
    /// under concurrency there are far fewer commits than events (group commit).
    pub fn commits(&self) -> u64 {
        match self {
            Store::Sqlite(s) => s.commits(),
            Store::Postgres(s) => s.commits(),
        }
    }

    /// Leases up to `limit` due deliveries of `target` for `lease`; with `ordered`, at most the
    /// target's oldest pending delivery, once it is due. A worker (or node) that dies loses the
    /// lease and the deliveries become due again when it expires.
    ///
    /// # Errors
    /// As [`Store::insert_event`].
    pub async fn claim(
        &self,
        target: &str,
        limit: u32,
        ordered: bool,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        match self {
            Store::Sqlite(s) => s.claim(target, limit, ordered, lease).await,
            Store::Postgres(s) => s.claim(target, limit, ordered, lease).await,
        }
    }

    /// Records an attempt and the delivery's next state.
    ///
    /// # Errors
    /// As [`Store::insert_event`].
    pub async fn finish(&self, finished: Finished) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.finish(finished).await,
            Store::Postgres(s) => s.finish(finished).await,
        }
    }

    /// Runs an operator action or a retention step; returns how many rows it created, revived or
    /// removed.
    ///
    /// # Errors
    /// As [`Store::insert_event`].
    pub async fn admin(&self, op: AdminOp) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(s) => s.admin(op).await,
            Store::Postgres(s) => s.admin(op).await,
        }
    }

    /// Per source: events, duplicates, the newest, rejections, and the last 1, 5, 60 minutes.
    ///
    /// # Errors
    /// A database error.
    pub async fn source_stats(&self, now_ms: i64) -> Result<Vec<crate::SourceStats>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.source_stats(now_ms)).await,
            Store::Postgres(s) => s.source_stats(now_ms).await,
        }
    }

    /// Per target: deliveries by status, the oldest pending, deliveries in the last 1, 5, 60 minutes.
    ///
    /// # Errors
    /// A database error.
    pub async fn target_stats(&self, now_ms: i64) -> Result<Vec<crate::TargetStats>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.target_stats(now_ms)).await,
            Store::Postgres(s) => s.target_stats(now_ms).await,
        }
    }

    /// One job, or `None`.
    ///
    /// # Errors
    /// A database error.
    pub async fn get_job(&self, id: crate::JobId) -> Result<Option<crate::Job>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.get_job(id)).await,
            Store::Postgres(s) => s.get_job(id).await,
        }
    }

    /// Jobs, newest first; `before` continues a page.
    ///
    /// # Errors
    /// A database error.
    pub async fn list_jobs(&self, before: Option<crate::JobId>, limit: u32) -> Result<Vec<crate::Job>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.list_jobs(before, limit)).await,
            Store::Postgres(s) => s.list_jobs(before, limit).await,
        }
    }

    /// Every secret's match counts (`hookgate secrets status`).
    ///
    /// # Errors
    /// A database error.
    pub async fn secret_matches(&self) -> Result<Vec<crate::SecretMatchRecord>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(|r| r.secret_matches()).await,
            Store::Postgres(s) => s.secret_matches().await,
        }
    }

    /// The audit log, newest first; `before` continues a page.
    ///
    /// # Errors
    /// A database error.
    pub async fn list_audit(
        &self,
        before: Option<crate::AuditId>,
        limit: u32,
    ) -> Result<Vec<crate::AuditEntry>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.list_audit(before, limit)).await,
            Store::Postgres(s) => s.list_audit(before, limit).await,
        }
    }

    /// Readiness: an event could be committed now. Each backend makes a real, durable write
    /// (an empty commit writes nothing, so it succeeds on a full disk); SQLite also fails once a
    /// log sync failed.
    ///
    /// # Errors
    /// The failure.
    pub async fn ready(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.probe().await,
            Store::Postgres(s) => s.probe().await,
        }
    }

    /// One rejected attempt in full, or `None`.
    ///
    /// # Errors
    /// A database error.
    pub async fn get_rejection(&self, id: crate::RejectionId) -> Result<Option<crate::RejectionDetail>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.get_rejection(id)).await,
            Store::Postgres(s) => s.get_rejection(id).await,
        }
    }

    /// Events, newest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn list_events(&self, q: &crate::EventQuery) -> Result<Vec<EventSummary>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let q = q.clone();
                s.read_async(move |r| r.list_events(&q)).await
            }
            Store::Postgres(s) => s.list_events(q).await,
        }
    }

    /// Events as [`Store::list_events`] finds them, with metadata and, when `with_body`, bodies:
    /// what a `match` filter is evaluated on. `status` is left out (`None`): it costs a query per
    /// row; ask [`Store::list_events`] for the rows kept.
    ///
    /// # Errors
    /// A database error, or [`StoreError::CorruptBody`].
    pub async fn scan_events(&self, q: &crate::EventQuery, with_body: bool) -> Result<Vec<EventRecord>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let q = q.clone();
                s.read_async(move |r| r.scan_events(&q, with_body)).await
            }
            Store::Postgres(s) => s.scan_events(q, with_body).await,
        }
    }

    /// One event with its body, or `None`.
    ///
    /// # Errors
    /// A database error.
    pub async fn get_event(&self, id: crate::EventId) -> Result<Option<EventRecord>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.get_event(id)).await,
            Store::Postgres(s) => s.get_event(id).await,
        }
    }

    /// Rejections, newest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn list_rejections(&self, q: &crate::RejectionQuery) -> Result<Vec<RejectionRecord>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let q = q.clone();
                s.read_async(move |r| r.list_rejections(&q)).await
            }
            Store::Postgres(s) => s.list_rejections(q).await,
        }
    }

    /// Deliveries matching `q`, newest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn deliveries(&self, q: &crate::DeliveryQuery) -> Result<Vec<DeliverySummary>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let q = q.clone();
                s.read_async(move |r| r.deliveries(&q)).await
            }
            Store::Postgres(s) => s.deliveries(q).await,
        }
    }

    /// One delivery with its attempts.
    ///
    /// # Errors
    /// A database error.
    pub async fn get_delivery(&self, id: crate::DeliveryId) -> Result<Option<DeliveryRecord>, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(move |r| r.get_delivery(id)).await,
            Store::Postgres(s) => s.get_delivery(id).await,
        }
    }

    /// Deliveries waiting, failed and dead, and the oldest pending one's age.
    ///
    /// # Errors
    /// A database error.
    pub async fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(Reader::queue_depth).await,
            Store::Postgres(s) => s.queue_depth().await,
        }
    }

    /// Ids of events of `source` received in `[since, until)` (Unix ms), oldest first.
    ///
    /// # Errors
    /// A database error.
    pub async fn event_ids(
        &self,
        source: &str,
        since_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<Vec<crate::EventId>, StoreError> {
        match self {
            Store::Sqlite(s) => {
                let source = source.to_owned();
                s.read_async(move |r| r.event_ids(&source, since_ms, until_ms)).await
            }
            Store::Postgres(s) => s.event_ids(source, since_ms, until_ms).await,
        }
    }

    /// The store's schema version.
    ///
    /// # Errors
    /// A database error.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(Reader::schema_version).await,
            Store::Postgres(s) => s.schema_version().await,
        }
    }

    /// Number of stored events.
    ///
    /// # Errors
    /// A database error.
    pub async fn count_events(&self) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.read_async(Reader::count_events).await,
            Store::Postgres(s) => s.count_events().await,
        }
    }

    /// Stops accepting writes and commits everything queued.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close_async().await,
            Store::Postgres(s) => s.close().await,
        }
    }
}
