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

mod connection;
mod jobs;
#[cfg(all(test, feature = "test-support"))]
mod read_pool_tests;
mod reader;
pub(crate) mod tls;

pub(crate) use reader::array_literal;
mod writer;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

use crate::admin::AdminOp;
use crate::error::StoreError;
use crate::migrate;
use crate::model::{Claimed, Finished, Inserted, NewEvent, NewRejection, Next};
use crate::url::PostgresUrl;
use crate::{PendingRejections, StoreOptions};

use self::connection::{Cmd, client, pool};
use self::writer::{PruneClock, Writer};

/// The database's clock in Unix ms: leases are compared on one clock, whichever node wrote them.
const DB_NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// The PostgreSQL store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    /// Operators' reads, apart from `pool`: a flood of searches waits here, not in ingest's way.
    reads: Pool,
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
        let pool = pool(url, options.pool_size.max(2), None)?;
        let reads = connection::pool(url, options.read_pool_size.max(1), Some(options.read_timeout))?;
        {
            let mut conn = client(&pool).await?;
            if write {
                let applied = migrate::run_postgres(&mut conn, &url.schema, crate::now_ms(), options.migrate).await?;
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
            reads,
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
        self.reads.close();
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
                "INSERT INTO delivery_attempts
                     (delivery_id, started_at, duration_ms, status_code, error, response_excerpt, request, response_headers)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .await?;
        tx.execute(
            &insert,
            &[
                &f.delivery_id,
                &a.started_at_ms,
                &a.duration_ms,
                &a.status_code,
                &a.error,
                &a.response_excerpt,
                &a.request,
                &a.response_headers,
            ],
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
        let now = crate::now_ms();
        let n = match &op {
            AdminOp::Replay { event_ids, target } => match target {
                Some(t) => {
                    tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                         SELECT id, $2, 'pending', $3, $3, 'replay' FROM events WHERE id = ANY($1) ORDER BY id",
                        &[event_ids, t, &now],
                    )
                    .await?
                }
                None => {
                    tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at, origin)
                         SELECT DISTINCT event_id, target, 'pending', $2::BIGINT, $2::BIGINT, 'replay' FROM deliveries
                         WHERE event_id = ANY($1)",
                        &[event_ids, &now],
                    )
                    .await?
                }
            },
            AdminOp::RetryDead { target } => {
                tx.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL,
                         revived = revived + 1
                     WHERE status = 'dead' AND ($2::TEXT IS NULL OR target = $2)",
                    &[&now, target],
                )
                .await?
            }
            AdminOp::RetryNow { delivery_id } => {
                tx.execute(
                    "UPDATE deliveries SET next_attempt_at = $2,
                         revived = revived + CASE WHEN status = 'dead' THEN 1 ELSE 0 END,
                         attempts = CASE WHEN status = 'dead' THEN 0 ELSE attempts END,
                         status = 'pending'
                     WHERE id = $1 AND status IN ('pending', 'dead') AND (lease_until IS NULL OR lease_until <= $2)",
                    &[delivery_id, &now],
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
            AdminOp::CreateJob(job) => jobs::create(&tx, job, now).await?,
            AdminOp::ClaimJob { lease_ms, job_id } => jobs::claim(&tx, now, *lease_ms, *job_id).await?,
            AdminOp::JobBatch(batch) => jobs::batch(&tx, batch, now).await?,
            AdminOp::FailJob { job_id, error } => jobs::fail(&tx, *job_id, error, now).await?,
            AdminOp::CancelJob { job_id, actor } => jobs::cancel(&tx, *job_id, actor, now).await?,
            AdminOp::Audit(entry) => jobs::audit(&tx, entry, now).await?,
            AdminOp::SecretMatches(batch) => {
                let upsert = tx
                    .prepare_cached(
                        "INSERT INTO secret_matches (source, fingerprint, secret, matches, last_matched_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (source, fingerprint) DO UPDATE SET
                           secret = excluded.secret,
                           matches = secret_matches.matches + excluded.matches,
                           last_matched_at = GREATEST(secret_matches.last_matched_at, excluded.last_matched_at)",
                    )
                    .await?;
                // In one order on every node, so two nodes reporting at once cannot deadlock.
                let mut batch = batch.clone();
                batch.sort_by(|a, b| (&a.source, &a.fingerprint).cmp(&(&b.source, &b.fingerprint)));
                for m in &batch {
                    tx.execute(&upsert, &[&m.source, &m.fingerprint, &m.secret, &m.matches, &m.last_matched_at_ms])
                        .await?;
                }
                batch.len() as u64
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
}

/// Replaces NUL characters with U+FFFD (the same way every time, so a dedup key still matches).
fn without_nul(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{fffd}");
    }
}
