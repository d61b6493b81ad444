//! The PostgreSQL store: several gateway nodes share one database.
//!
//! - Ingest goes through writer tasks that take every queued event into one transaction (group
//!   commit, as in SQLite): one multi-row `INSERT … SELECT FROM unnest(…)` for the events, one for
//!   their deliveries, one commit. Two writers run at once so one collects while the other commits.
//! - Dedup across nodes is the `UNIQUE (source, dedup_key)` constraint: `ON CONFLICT DO NOTHING`
//!   waits for a concurrent insert of the same key and then sees it, so a retry that reaches another
//!   node at the same moment is still stored once.
//! - Delivery claims use `FOR UPDATE SKIP LOCKED` and leases on the database's clock, so nodes
//!   never claim the same delivery at once, and a dead node's leases expire for the others.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use hookgate_verify::Timestamp;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use crate::admin::AdminOp;
use crate::error::{StoreError, postgres_message};
use crate::migrate;
use crate::model::{
    Attempt, Claimed, DeliveryRecord, DeliverySummary, EventRecord, EventSummary, Finished, Inserted, ListFilter,
    NewEvent, NewRejection, Next, QueueDepth, RejectionRecord, RejectionRetention,
};
use crate::url::PostgresUrl;
use crate::{PendingRejections, StoreOptions, rfc3339};

/// The database's clock in Unix ms: leases are compared on one clock, whichever node wrote them.
const DB_NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Cmd {
    /// With the time it was queued (`hookgate_store_queue_wait_seconds`).
    Insert(Box<NewEvent>, Reply<Inserted>, Instant),
    Reject(Box<NewRejection>),
    Barrier(Reply<()>),
}

/// The PostgreSQL store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    tx: Mutex<Option<mpsc::Sender<Cmd>>>,
    writers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    queued: Arc<AtomicUsize>,
    /// Batches the writers have committed.
    commits: Arc<AtomicU64>,
    pending_rejections: Arc<PendingRejections>,
    url: PostgresUrl,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("url", &self.url).finish_non_exhaustive()
    }
}

fn pool(url: &PostgresUrl, size: usize) -> Result<Pool, StoreError> {
    let mut config = url.connect_config()?;
    // Every connection works in the store's schema, so the SQL below names no schema.
    config.options(format!("-c search_path={}", url.schema));
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))
}

async fn client(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => StoreError::Postgres(e),
        other => StoreError::Pool(other.to_string()),
    })
}

impl PgStore {
    /// Connects, runs pending migrations (unless `options.migrate` is off) and starts the writers.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached or a migration fails.
    pub async fn open(url: &PostgresUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let store = Self::connect(url, options, true).await?;
        let (tx, rx) = mpsc::channel(options.queue_capacity);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let prune = Arc::new(Mutex::new(PruneClock { since: 0, last: Instant::now() }));
        let writers = (0..options.pg_writers.max(1))
            .map(|_| {
                let writer = Writer {
                    pool: store.pool.clone(),
                    rx: Arc::clone(&rx),
                    max_batch: options.max_batch,
                    queued: Arc::clone(&store.queued),
                    commits: Arc::clone(&store.commits),
                    pending: Arc::clone(&store.pending_rejections),
                    retention: options.rejection_retention,
                    prune: Arc::clone(&prune),
                };
                tokio::spawn(writer.run())
            })
            .collect();
        *store.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tx);
        *store.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = writers;
        Ok(store)
    }

    /// Connects for inspection: nothing is created or migrated, writes are refused.
    ///
    /// # Errors
    /// [`StoreError::Missing`] when the schema holds no Hookgate store, or a database error.
    pub async fn inspect(url: &PostgresUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        Self::connect(url, options, false).await
    }

    async fn connect(url: &PostgresUrl, options: &StoreOptions, write: bool) -> Result<Self, StoreError> {
        let pool = pool(url, options.pool_size.max(2))?;
        {
            let mut conn = client(&pool).await?;
            if write {
                let applied =
                    migrate::run_postgres(&mut conn, &url.schema, Timestamp::now().unix_millis(), options.migrate)
                        .await?;
                if !applied.is_empty() {
                    tracing::info!(url = ?url, versions = ?applied, "Applied store migrations.");
                }
            } else {
                let found = migrate::postgres_version(&**conn, &url.schema)
                    .await?
                    .ok_or_else(|| StoreError::Missing(format!("{url:?} (no hookgate store in this schema)")))?;
                if found > migrate::latest_version() {
                    return Err(StoreError::TooNew { found, known: migrate::latest_version() });
                }
            }
        }
        Ok(Self {
            pool,
            tx: Mutex::new(None),
            writers: Mutex::new(Vec::new()),
            queued: Arc::new(AtomicUsize::new(0)),
            commits: Arc::new(AtomicU64::new(0)),
            pending_rejections: PendingRejections::new(options.max_pending_rejections),
            url: url.clone(),
        })
    }

    fn send(&self, cmd: Cmd) -> Result<(), StoreError> {
        let guard = self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = guard.as_ref().ok_or(StoreError::ReadOnly)?;
        self.queued.fetch_add(1, Ordering::AcqRel);
        tx.try_send(cmd).map_err(|e| {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            match e {
                mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
            }
        })
    }

    pub(crate) async fn insert_event(&self, mut event: NewEvent) -> Result<Inserted, StoreError> {
        // PostgreSQL text cannot hold NUL; a verified body may put one into these (JSON `\u0000`).
        for field in [&mut event.dedup_key, &mut event.source] {
            without_nul(field);
        }
        for field in [&mut event.provider_id, &mut event.event_type].into_iter().flatten() {
            without_nul(field);
        }
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Insert(Box::new(event), reply, Instant::now()))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) fn record_rejection(&self, rejection: NewRejection) -> bool {
        self.pending_rejections.admit(|| self.send(Cmd::Reject(Box::new(rejection))).is_ok())
    }

    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Barrier(reply))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Stops accepting writes, lets the writers commit what is queued, and closes the pool.
    pub(crate) async fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take());
        let writers = std::mem::take(&mut *self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for w in writers {
            let _ = w.await;
        }
        self.pool.close();
    }

    pub(crate) async fn claim(
        &self,
        target: &str,
        limit: u32,
        ordered: bool,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let conn = client(&self.pool).await?;
        // Ordered targets wait for a locked head (FOR UPDATE, no SKIP LOCKED): skipping it would let
        // a later event overtake it.
        let leased = if ordered {
            format!(
                "UPDATE deliveries SET lease_until = {DB_NOW_MS} + $2
                 WHERE id = (SELECT id FROM deliveries WHERE target = $1 AND status = 'pending'
                             ORDER BY id LIMIT 1 FOR UPDATE)
                   AND next_attempt_at <= {DB_NOW_MS} AND (lease_until IS NULL OR lease_until <= {DB_NOW_MS})
                   AND $3::BIGINT > 0
                 RETURNING id, event_id, attempts"
            )
        } else {
            format!(
                "UPDATE deliveries d SET lease_until = {DB_NOW_MS} + $2
                 FROM (SELECT id FROM deliveries
                       WHERE target = $1 AND status = 'pending' AND next_attempt_at <= {DB_NOW_MS}
                         AND (lease_until IS NULL OR lease_until <= {DB_NOW_MS})
                       ORDER BY next_attempt_at, id LIMIT $3
                       FOR UPDATE SKIP LOCKED) due
                 WHERE d.id = due.id
                 RETURNING d.id, d.event_id, d.attempts"
            )
        };
        let sql = format!(
            "WITH leased AS ({leased})
             SELECT l.id, l.event_id, l.attempts, e.source, e.body, e.headers, e.received_at, e.event_type
             FROM leased l JOIN events e ON e.id = l.event_id ORDER BY l.id"
        );
        let stmt = conn.prepare_cached(&sql).await?;
        let rows = conn.query(&stmt, &[&target, &lease_ms, &i64::from(limit)]).await?;
        Ok(rows
            .iter()
            .map(|r| Claimed {
                delivery_id: r.get(0),
                event_id: r.get(1),
                attempts: r.get(2),
                source: r.get(3),
                body: r.get(4),
                headers: serde_json::from_str(r.get::<_, &str>(5)).unwrap_or_default(),
                received_at_ms: r.get(6),
                event_type: r.get(7),
            })
            .collect())
    }

    pub(crate) async fn finish(&self, f: Finished) -> Result<(), StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await?;
        let a = &f.attempt;
        let insert = tx
            .prepare_cached(
                "INSERT INTO delivery_attempts (delivery_id, started_at, duration_ms, status_code, error, response_excerpt)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        tx.execute(
            &insert,
            &[&f.delivery_id, &a.started_at_ms, &a.duration_ms, &a.status_code, &a.error, &a.response_excerpt],
        )
        .await?;
        let (status, next_at, delivered_at) = match f.next {
            Next::Delivered => ("delivered", None, Some(a.started_at_ms + a.duration_ms)),
            Next::Retry(at) => ("pending", Some(at), None),
            Next::Dead => ("dead", None, None),
        };
        // `status = 'pending'`: a node whose lease ran out must not undo what another node that
        // took the delivery over has recorded since (it was delivered or dead by then).
        let update = tx
            .prepare_cached(
                "UPDATE deliveries SET attempts = attempts + 1, lease_until = NULL, status = $2,
                     next_attempt_at = COALESCE($3, next_attempt_at), delivered_at = $4, last_error = $5
                 WHERE id = $1 AND status = 'pending'",
            )
            .await?;
        tx.execute(&update, &[&f.delivery_id, &status, &next_at, &delivered_at, &a.error]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn admin(&self, op: AdminOp) -> Result<u64, StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await?;
        let now = Timestamp::now().unix_millis();
        let n = match &op {
            AdminOp::Replay { event_ids, target } => match target {
                Some(t) => {
                    tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at)
                         SELECT id, $2, 'pending', $3, $3 FROM events WHERE id = ANY($1) ORDER BY id",
                        &[event_ids, t, &now],
                    )
                    .await?
                }
                None => {
                    tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at)
                         SELECT DISTINCT event_id, target, 'pending', $2::BIGINT, $2::BIGINT FROM deliveries
                         WHERE event_id = ANY($1)",
                        &[event_ids, &now],
                    )
                    .await?
                }
            },
            AdminOp::RetryDead { target } => {
                tx.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL
                     WHERE status = 'dead' AND ($2::TEXT IS NULL OR target = $2)",
                    &[&now, target],
                )
                .await?
            }
            AdminOp::Cancel { delivery_id } => {
                tx.execute(
                    "UPDATE deliveries SET status = 'cancelled', lease_until = NULL
                     WHERE id = $1 AND status = 'pending'",
                    &[delivery_id],
                )
                .await?
            }
            AdminOp::Prune { before_ms, limit } => {
                // SKIP LOCKED: two nodes pruning at once take different events.
                let ids: Vec<i64> = tx
                    .query(
                        "SELECT id FROM events e WHERE received_at < $1
                           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status NOT IN ('delivered', 'cancelled'))
                         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
                        &[before_ms, &i64::from(*limit)],
                    )
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                tx.execute(
                    "DELETE FROM delivery_attempts WHERE delivery_id IN
                       (SELECT id FROM deliveries WHERE event_id = ANY($1))",
                    &[&ids],
                )
                .await?;
                tx.execute("DELETE FROM deliveries WHERE event_id = ANY($1)", &[&ids]).await?;
                tx.execute("DELETE FROM events WHERE id = ANY($1)", &[&ids]).await?
            }
        };
        tx.commit().await?;
        Ok(n)
    }

    /// A real write, committed and flushed (`synchronous_commit` on for it): the newest
    /// migration's row is rewritten with its own values, which needs new WAL and heap space as an
    /// event does. A read, or an empty commit, succeeds on a database that cannot write.
    pub(crate) async fn probe(&self) -> Result<(), StoreError> {
        let mut conn = client(&self.pool).await?;
        let tx = conn.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = on").await?;
        tx.execute(
            "UPDATE schema_migrations SET applied_at = applied_at WHERE version = (SELECT MAX(version) FROM schema_migrations)",
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn list_events(&self, filter: &ListFilter) -> Result<Vec<EventSummary>, StoreError> {
        let conn = client(&self.pool).await?;
        let limit = filter.limit.map(i64::from);
        let rows = conn
            .query(
                "SELECT id, source, received_at, dedup_key, provider_id, event_type, body_sha256, size, duplicates
                 FROM events WHERE ($1::TEXT IS NULL OR source = $1) AND ($2::BIGINT IS NULL OR received_at >= $2)
                   AND ($4::BIGINT IS NULL OR received_at < $4)
                   AND ($5::BIGINT IS NULL OR (received_at, id) < (SELECT received_at, id FROM events WHERE id = $5))
                 ORDER BY received_at DESC, id DESC LIMIT $3",
                &[&filter.source, &filter.since_ms, &limit, &filter.until_ms, &filter.before_id],
            )
            .await?;
        Ok(rows.iter().map(summary).collect())
    }

    pub(crate) async fn get_event(&self, id: i64) -> Result<Option<EventRecord>, StoreError> {
        let conn = client(&self.pool).await?;
        let row = conn
            .query_opt(
                "SELECT id, source, received_at, dedup_key, provider_id, event_type, body_sha256, size, duplicates,
                        signed_at, headers, metadata, body
                 FROM events WHERE id = $1",
                &[&id],
            )
            .await?;
        Ok(row.map(|r| EventRecord {
            summary: summary(&r),
            signed_at: r.get::<_, Option<i64>>(9).map(rfc3339),
            headers: serde_json::from_str(r.get::<_, &str>(10)).unwrap_or_default(),
            metadata: serde_json::from_str(r.get::<_, &str>(11)).unwrap_or(serde_json::Value::Null),
            body: r.get(12),
        }))
    }

    pub(crate) async fn get_rejection(&self, id: i64) -> Result<Option<crate::RejectionDetail>, StoreError> {
        let conn = client(&self.pool).await?;
        let row = conn
            .query_opt(
                "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, headers
                 FROM rejections WHERE id = $1",
                &[&id],
            )
            .await?;
        Ok(row.map(|r| {
            let body: Option<Vec<u8>> = r.get(9);
            let headers: Option<String> = r.get(10);
            crate::RejectionDetail {
                record: rejection_record(&r, body.is_some()),
                headers: headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
                body,
            }
        }))
    }

    pub(crate) async fn list_rejections(&self, filter: &ListFilter) -> Result<Vec<RejectionRecord>, StoreError> {
        let conn = client(&self.pool).await?;
        let limit = filter.limit.map(i64::from);
        let rows = conn
            .query(
                "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size,
                        body IS NOT NULL
                 FROM rejections WHERE ($1::TEXT IS NULL OR source = $1) AND ($2::BIGINT IS NULL OR received_at >= $2)
                   AND ($4::BIGINT IS NULL OR received_at < $4)
                   AND ($5::BIGINT IS NULL OR (received_at, id) < (SELECT received_at, id FROM rejections WHERE id = $5))
                 ORDER BY received_at DESC, id DESC LIMIT $3",
                &[&filter.source, &filter.since_ms, &limit, &filter.until_ms, &filter.before_id],
            )
            .await?;
        Ok(rows.iter().map(|r| rejection_record(r, r.get(9))).collect())
    }

    pub(crate) async fn deliveries(&self, q: &crate::DeliveryQuery) -> Result<Vec<DeliverySummary>, StoreError> {
        let (status, target, limit) = (q.status.as_deref(), q.target.as_deref(), q.limit);
        let conn = client(&self.pool).await?;
        let rows = conn
            .query(
                "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error
                 FROM deliveries
                 WHERE ($1::TEXT IS NULL OR target = $1)
                   AND ($2::TEXT IS NULL OR ($2 = 'failed' AND status = 'pending' AND attempts > 0)
                                         OR ($2 = 'pending' AND status = 'pending' AND attempts = 0)
                                         OR ($2 NOT IN ('failed', 'pending') AND status = $2))
                   AND ($4::BIGINT IS NULL OR event_id = $4)
                 ORDER BY id DESC LIMIT $3",
                &[&target, &status, &i64::from(limit), &q.event_id],
            )
            .await?;
        Ok(rows.iter().map(delivery_summary).collect())
    }

    pub(crate) async fn get_delivery(&self, id: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        let conn = client(&self.pool).await?;
        let Some(row) = conn
            .query_opt(
                "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error
                 FROM deliveries WHERE id = $1",
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        let attempts_history = conn
            .query(
                "SELECT started_at, duration_ms, status_code, error, response_excerpt FROM delivery_attempts
                 WHERE delivery_id = $1 ORDER BY id",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| {
                let started_at_ms: i64 = r.get(0);
                Attempt {
                    started_at_ms,
                    started_at: rfc3339(started_at_ms),
                    duration_ms: r.get(1),
                    status_code: r.get(2),
                    error: r.get(3),
                    response_excerpt: r.get(4),
                }
            })
            .collect();
        Ok(Some(DeliveryRecord { summary: delivery_summary(&row), attempts_history }))
    }

    pub(crate) async fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        let conn = client(&self.pool).await?;
        let now = Timestamp::now().unix_millis();
        let r = conn
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE status = 'pending'),
                        COUNT(*) FILTER (WHERE status = 'pending' AND attempts > 0),
                        COUNT(*) FILTER (WHERE status = 'dead'),
                        COALESCE($1 - MIN(created_at) FILTER (WHERE status = 'pending'), 0)
                 FROM deliveries",
                &[&now],
            )
            .await?;
        Ok(QueueDepth { pending: r.get(0), failed: r.get(1), dead: r.get(2), oldest_pending_ms: r.get(3) })
    }

    pub(crate) async fn event_ids(
        &self,
        source: &str,
        since_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<Vec<i64>, StoreError> {
        let conn = client(&self.pool).await?;
        let rows = conn
            .query(
                "SELECT id FROM events WHERE source = $1 AND received_at >= $2
                   AND ($3::BIGINT IS NULL OR received_at < $3) ORDER BY id",
                &[&source, &since_ms, &until_ms],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        let conn = client(&self.pool).await?;
        Ok(migrate::postgres_version(&**conn, &self.url.schema).await?.unwrap_or(0))
    }

    pub(crate) async fn count_events(&self) -> Result<i64, StoreError> {
        Ok(client(&self.pool).await?.query_one("SELECT COUNT(*) FROM events", &[]).await?.get(0))
    }
}

/// Replaces NUL characters with U+FFFD (the same way every time, so a dedup key still matches).
fn without_nul(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{fffd}");
    }
}

fn summary(r: &tokio_postgres::Row) -> EventSummary {
    EventSummary {
        id: r.get(0),
        source: r.get(1),
        received_at: rfc3339(r.get(2)),
        dedup_key: r.get(3),
        provider_id: r.get(4),
        event_type: r.get(5),
        body_sha256: r.get(6),
        size: r.get(7),
        duplicates: r.get(8),
    }
}

/// A rejection's listing fields, from columns 0-8 (as `sqlite::rejection_record`).
fn rejection_record(r: &tokio_postgres::Row, body_kept: bool) -> RejectionRecord {
    RejectionRecord {
        id: r.get(0),
        source: r.get(1),
        received_at: rfc3339(r.get(2)),
        peer: r.get(3),
        reason: r.get(4),
        reason_code: r.get(5),
        header_names: serde_json::from_str(r.get::<_, &str>(6)).unwrap_or_default(),
        body_sha256: r.get(7),
        size: r.get(8),
        body_kept,
    }
}

fn delivery_summary(r: &tokio_postgres::Row) -> DeliverySummary {
    let status: String = r.get(3);
    let attempts: i64 = r.get(4);
    let pending = status == "pending";
    DeliverySummary {
        id: r.get(0),
        event_id: r.get(1),
        target: r.get(2),
        status: if pending && attempts > 0 { "failed".to_owned() } else { status },
        attempts,
        next_attempt_at: if pending { Some(rfc3339(r.get(5))) } else { None },
        created_at: rfc3339(r.get(6)),
        delivered_at: r.get::<_, Option<i64>>(7).map(rfc3339),
        last_error: r.get(8),
    }
}

/// One group-commit writer. Several share the queue: each takes what is waiting, writes it in one
/// transaction, answers, and takes the next batch.
struct Writer {
    pool: Pool,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Cmd>>>,
    max_batch: usize,
    queued: Arc<AtomicUsize>,
    commits: Arc<AtomicU64>,
    pending: Arc<PendingRejections>,
    retention: RejectionRetention,
    /// Shared by the writers: rejections written since the last prune, and when that was.
    prune: Arc<Mutex<PruneClock>>,
}

struct PruneClock {
    since: usize,
    last: Instant,
}

impl Writer {
    /// Whether it is time to prune rejections (after 1,000 new ones, or a minute after the last
    /// prune if any came); the writer that sees it first does it.
    fn prune_due(&self, rejections: usize) -> bool {
        let mut clock = self.prune.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        clock.since += rejections;
        let due = clock.since >= 1000 || (clock.since > 0 && clock.last.elapsed() > Duration::from_secs(60));
        if due {
            clock.since = 0;
            clock.last = Instant::now();
        }
        due
    }

    async fn run(self) {
        loop {
            let mut batch = Vec::new();
            {
                let mut rx = self.rx.lock().await;
                let Some(first) = rx.recv().await else { break };
                batch.push(first);
                while batch.len() < self.max_batch {
                    match rx.try_recv() {
                        Ok(cmd) => batch.push(cmd),
                        Err(_) => break,
                    }
                }
            }
            let queue_wait = metrics::histogram!("hookgate_store_queue_wait_seconds");
            for cmd in &batch {
                if let Cmd::Insert(_, _, queued_at) = cmd {
                    queue_wait.record(queued_at.elapsed().as_secs_f64());
                }
            }
            let started = Instant::now();
            let outcome = self.write_batch(&batch).await;
            metrics::histogram!("hookgate_store_commit_duration_seconds").record(started.elapsed().as_secs_f64());
            metrics::histogram!("hookgate_store_batch_size").record(batch.len() as f64);
            self.queued.fetch_sub(batch.len(), Ordering::AcqRel);
            let rejections = batch.iter().filter(|c| matches!(c, Cmd::Reject(_))).count();
            self.pending.written(rejections);
            match outcome {
                Ok(mut results) => {
                    for cmd in batch {
                        match cmd {
                            Cmd::Insert(_, reply, _) => {
                                let r =
                                    results.pop_front().unwrap_or_else(|| Err(StoreError::Write("no result".into())));
                                let _ = reply.send(r);
                            }
                            Cmd::Barrier(reply) => drop(reply.send(Ok(()))),
                            Cmd::Reject(_) => {}
                        }
                    }
                }
                Err(e) => {
                    static THROTTLE: crate::throttle::LogThrottle =
                        crate::throttle::LogThrottle::new(Duration::from_secs(5));
                    if let Some(suppressed) = THROTTLE.admit() {
                        tracing::error!(error = %e, batch = batch.len(), suppressed, "Store commit failed; answering 503 for this batch.");
                    }
                    metrics::counter!("hookgate_store_commit_failures_total").increment(1);
                    let msg = e.to_string();
                    for cmd in batch {
                        match cmd {
                            Cmd::Insert(_, reply, _) => drop(reply.send(Err(StoreError::Write(msg.clone())))),
                            Cmd::Barrier(reply) => drop(reply.send(Err(StoreError::Write(msg.clone())))),
                            Cmd::Reject(_) => {}
                        }
                    }
                }
            }
            // After the replies: pruning never delays an acknowledgement.
            if self.prune_due(rejections)
                && let Err(e) = self.prune_rejections().await
            {
                tracing::warn!(error = %e, "Pruning old rejections failed; will retry.");
            }
        }
    }

    /// Writes the batch in one transaction. When the database refuses it (an SQL error, not a lost
    /// connection), one event may be at fault: each is then written alone, so it fails by itself
    /// and its neighbours are still stored (as SQLite's savepoints per command do).
    async fn write_batch(
        &self,
        batch: &[Cmd],
    ) -> Result<std::collections::VecDeque<Result<Inserted, StoreError>>, StoreError> {
        let inserts = batch.iter().filter(|c| matches!(c, Cmd::Insert(..))).count();
        match self.write_with_retry(batch).await {
            Ok(results) => Ok(results.into_iter().map(Ok).collect()),
            Err(StoreError::Postgres(e)) if e.code().is_some() && inserts > 1 => {
                tracing::warn!(error = %postgres_message(&e), batch = batch.len(), "A batch was refused; writing its events one by one.");
                let mut results = std::collections::VecDeque::new();
                for cmd in batch {
                    let one = self.write_with_retry(std::slice::from_ref(cmd)).await;
                    if let Cmd::Insert(..) = cmd {
                        results.push_back(
                            one.and_then(|mut r| r.pop_front().ok_or_else(|| StoreError::Write("no result".into()))),
                        );
                    } else if let Err(e) = one {
                        tracing::warn!(error = %e, "Recording a rejection failed.");
                    }
                }
                Ok(results)
            }
            Err(e) => Err(e),
        }
    }

    /// A deadlock or serialization failure is the database choosing a victim among concurrent
    /// transactions: the batch is written again (a few times) rather than failed.
    async fn write_with_retry(&self, batch: &[Cmd]) -> Result<std::collections::VecDeque<Inserted>, StoreError> {
        let mut tries = 0;
        loop {
            match self.write(batch).await {
                Err(StoreError::Postgres(e))
                    if tries < 3
                        && matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
                            || *c == SqlState::T_R_SERIALIZATION_FAILURE) =>
                {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    async fn write(&self, batch: &[Cmd]) -> Result<std::collections::VecDeque<Inserted>, StoreError> {
        let events: Vec<&NewEvent> =
            batch.iter().filter_map(|c| if let Cmd::Insert(e, _, _) = c { Some(&**e) } else { None }).collect();
        let rejections: Vec<&NewRejection> =
            batch.iter().filter_map(|c| if let Cmd::Reject(r) = c { Some(&**r) } else { None }).collect();
        let mut conn = client(&self.pool).await?;
        let mut tx = conn.transaction().await?;
        let results = if events.is_empty() { Default::default() } else { insert_events(&tx, &events).await? };
        if !rejections.is_empty() {
            // A rejection that cannot be written is logged, never a reason to fail the events.
            let sp = tx.savepoint("rejections").await?;
            match insert_rejections(&sp, &rejections).await {
                Ok(()) => sp.commit().await?,
                Err(e) => {
                    tracing::warn!(error = %e, "Recording rejections failed.");
                    sp.rollback().await?;
                }
            }
        }
        // The one commit every request of the batch waits for: its WAL flush is shared.
        tx.commit().await?;
        self.commits.fetch_add(1, Ordering::AcqRel);
        Ok(results)
    }

    async fn prune_rejections(&self) -> Result<(), StoreError> {
        let conn = client(&self.pool).await?;
        let cutoff = Timestamp::now().unix_millis()
            - i64::try_from(self.retention.max_age_secs).unwrap_or(i64::MAX / 2000).saturating_mul(1000);
        conn.execute(
            "DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_at < $1 LIMIT 10000)",
            &[&cutoff],
        )
        .await?;
        conn.execute(
            "DELETE FROM rejections WHERE id IN (
                 SELECT id FROM rejections WHERE id <= (SELECT id FROM rejections ORDER BY id DESC LIMIT 1 OFFSET $1)
                 LIMIT 10000)",
            &[&i64::try_from(self.retention.max_rows).unwrap_or(i64::MAX)],
        )
        .await?;
        Ok(())
    }
}

/// Inserts a batch of events with their deliveries; returns one result per event, in order.
async fn insert_events(
    tx: &deadpool_postgres::Transaction<'_>,
    events: &[&NewEvent],
) -> Result<std::collections::VecDeque<Inserted>, StoreError> {
    // The first occurrence of each key is inserted; later ones in the same batch are retries.
    // Keys go in sorted order, so two nodes inserting overlapping batches take the unique index's
    // locks in the same order and cannot deadlock.
    let mut first: std::collections::BTreeMap<(&str, &str), usize> = std::collections::BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        first.entry((e.source.as_str(), e.dedup_key.as_str())).or_insert(i);
    }
    let unique: Vec<&NewEvent> = first.values().map(|&i| events[i]).collect();
    let col = |f: &dyn Fn(&NewEvent) -> String| unique.iter().map(|e| f(e)).collect::<Vec<String>>();
    let sources = col(&|e| e.source.clone());
    let keys = col(&|e| e.dedup_key.clone());
    let received: Vec<i64> = unique.iter().map(|e| e.received_at_ms).collect();
    let provider_ids: Vec<Option<&str>> = unique.iter().map(|e| e.provider_id.as_deref()).collect();
    let types: Vec<Option<&str>> = unique.iter().map(|e| e.event_type.as_deref()).collect();
    let signed: Vec<Option<i64>> = unique.iter().map(|e| e.signed_at_ms).collect();
    let bodies: Vec<&[u8]> = unique.iter().map(|e| e.body.as_slice()).collect();
    let hashes: Vec<&str> = unique.iter().map(|e| e.body_sha256.as_str()).collect();
    let sizes: Vec<i64> = unique.iter().map(|e| i64::try_from(e.body.len()).unwrap_or(i64::MAX)).collect();
    let headers = col(&|e| serde_json::to_string(&e.headers).unwrap_or_else(|_| "[]".into()));
    let metadata = col(&|e| serde_json::to_string(&e.metadata).unwrap_or_else(|_| "{}".into()));
    let insert = tx
        .prepare_cached(
            "INSERT INTO events (source, received_at, dedup_key, provider_id, event_type, signed_at, body, body_sha256,
                                 size, headers, metadata)
             SELECT s, r, k, p, t, sa, b, h, sz, hd, m
             FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[], $7::bytea[],
                         $8::text[], $9::int8[], $10::text[], $11::text[])
                  WITH ORDINALITY AS u(s, r, k, p, t, sa, b, h, sz, hd, m, n)
             ORDER BY n
             ON CONFLICT (source, dedup_key) DO NOTHING
             RETURNING id, source, dedup_key",
        )
        .await?;
    let rows = tx
        .query(
            &insert,
            &[
                &sources,
                &received,
                &keys,
                &provider_ids,
                &types,
                &signed,
                &bodies,
                &hashes,
                &sizes,
                &headers,
                &metadata,
            ],
        )
        .await?;
    let new_ids: std::collections::HashMap<(String, String), i64> =
        rows.iter().map(|r| ((r.get(1), r.get(2)), r.get(0))).collect();

    // Retries: every occurrence beyond the one stored now is counted on the stored event.
    let mut dup_counts: std::collections::BTreeMap<(&str, &str), (i64, i64)> = std::collections::BTreeMap::new();
    for e in events {
        let key = (e.source.as_str(), e.dedup_key.as_str());
        let entry = dup_counts.entry(key).or_insert((0, e.received_at_ms));
        entry.0 += 1;
        entry.1 = entry.1.max(e.received_at_ms);
    }
    let mut dup_sources = Vec::new();
    let mut dup_keys = Vec::new();
    let mut dup_n = Vec::new();
    let mut dup_at = Vec::new();
    for ((s, k), (count, at)) in &dup_counts {
        let extra = if new_ids.contains_key(&((*s).to_owned(), (*k).to_owned())) { count - 1 } else { *count };
        if extra > 0 {
            dup_sources.push(*s);
            dup_keys.push(*k);
            dup_n.push(extra);
            dup_at.push(*at);
        }
    }
    let mut existing: std::collections::HashMap<(String, String), i64> = std::collections::HashMap::new();
    if !dup_keys.is_empty() {
        let update = tx
            .prepare_cached(
                "UPDATE events SET duplicates = duplicates + u.n, last_duplicate_at = u.at
                 FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) AS u(s, k, n, at)
                 WHERE events.source = u.s AND events.dedup_key = u.k
                 RETURNING events.id, events.source, events.dedup_key",
            )
            .await?;
        for r in tx.query(&update, &[&dup_sources, &dup_keys, &dup_n, &dup_at]).await? {
            existing.insert((r.get(1), r.get(2)), r.get(0));
        }
    }

    // The outbox, in the same transaction: an acknowledged event always has its deliveries.
    let mut d_events = Vec::new();
    let mut d_targets = Vec::new();
    let mut d_created = Vec::new();
    for e in &unique {
        if let Some(&id) = new_ids.get(&(e.source.clone(), e.dedup_key.clone())) {
            for t in &e.targets {
                d_events.push(id);
                d_targets.push(t.as_str());
                d_created.push(e.received_at_ms);
            }
        }
    }
    if !d_events.is_empty() {
        let deliveries = tx
            .prepare_cached(
                "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at)
                 SELECT e, t, 'pending', c, c FROM unnest($1::int8[], $2::text[], $3::int8[]) WITH ORDINALITY AS u(e, t, c, n)
                 ORDER BY n",
            )
            .await?;
        tx.execute(&deliveries, &[&d_events, &d_targets, &d_created]).await?;
    }

    let mut seen_new = std::collections::HashSet::new();
    let results: Vec<Inserted> = events
        .iter()
        .map(|e| {
            let key = (e.source.clone(), e.dedup_key.clone());
            if let Some(&id) = new_ids.get(&key) {
                // The first occurrence is the new event; the rest of the batch are its retries.
                if seen_new.insert(key) { Ok(Inserted::New(id)) } else { Ok(Inserted::Duplicate(id)) }
            } else if let Some(&id) = existing.get(&key) {
                Ok(Inserted::Duplicate(id))
            } else {
                // It conflicted, then vanished (pruned in between): fail it, the provider retries.
                Err(StoreError::Write("the stored event of this duplicate was removed concurrently".into()))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(results.into())
}

async fn insert_rejections(
    tx: &deadpool_postgres::Transaction<'_>,
    rejections: &[&NewRejection],
) -> Result<(), StoreError> {
    let sources: Vec<&str> = rejections.iter().map(|r| r.source.as_str()).collect();
    let received: Vec<i64> = rejections.iter().map(|r| r.received_at_ms).collect();
    let peers: Vec<Option<&str>> = rejections.iter().map(|r| r.peer.as_deref()).collect();
    let reasons: Vec<&str> = rejections.iter().map(|r| r.reason.as_str()).collect();
    let codes: Vec<&str> = rejections.iter().map(|r| r.reason_code.as_str()).collect();
    let names: Vec<String> =
        rejections.iter().map(|r| serde_json::to_string(&r.header_names).unwrap_or_else(|_| "[]".into())).collect();
    let hashes: Vec<&str> = rejections.iter().map(|r| r.body_sha256.as_str()).collect();
    let sizes: Vec<i64> = rejections.iter().map(|r| r.size).collect();
    let bodies: Vec<Option<&[u8]>> = rejections.iter().map(|r| r.body.as_deref()).collect();
    let headers: Vec<String> =
        rejections.iter().map(|r| serde_json::to_string(&r.headers).unwrap_or_else(|_| "[]".into())).collect();
    let insert = tx
        .prepare_cached(
            "INSERT INTO rejections (source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, headers)
             SELECT s, r, p, re, c, hn, h, sz, b, hv
             FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[],
                         $9::bytea[], $10::text[]) WITH ORDINALITY AS u(s, r, p, re, c, hn, h, sz, b, hv, n)
             ORDER BY n",
        )
        .await?;
    tx.execute(&insert, &[&sources, &received, &peers, &reasons, &codes, &names, &hashes, &sizes, &bodies, &headers])
        .await?;
    Ok(())
}
