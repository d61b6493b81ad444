//! The SQLite store: one writer thread with group commit, and read-only connections for queries.
//!
//! Why a dedicated writer thread: SQLite has one writer at a time anyway, and a thread that owns
//! the connection can take *every* queued write into one transaction. Concurrent requests then
//! share one fsync (group commit): one row per FULL-sync transaction is capped near 1/fsync (a few
//! thousand per second here), a batch of 64 reaches ~20× that (shared/design/dependencies.md §3).
//! Each request waits for the commit that contains its row before it is acknowledged.

mod cached_tx;
mod checkpoint;
mod command;
mod dedup;
mod jobs;
mod reader;
mod sql;
mod wal_sync;
mod writer;

pub use self::reader::Reader;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use self::checkpoint::{Checkpoints, WAL_AUTOCHECKPOINT_PAGES};
use self::command::{Cmd, EncodedEvent};
use self::dedup::DedupIndex;
use self::wal_sync::SYNC_FAILED;
use self::writer::{WriterCounters, start_wal_sync, writer_loop};
use crate::admin::AdminOp;
use crate::error::StoreError;
use crate::migrate;
use crate::model::{Attempt, Claimed, DeliveryId, Finished, Inserted, NewEvent, NewRejection, Next};
use crate::url::Durability;
use crate::{PendingRejections, StoreOptions};

/// The SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    tx: Mutex<Option<SyncSender<Cmd>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Reader>>,
    /// Reads the events of claimed deliveries, apart from readiness checks and the CLI.
    delivery_reader: Mutex<Reader>,
    read_only: bool,
    pending_rejections: Arc<PendingRejections>,
    /// Commands sent and not yet written (how busy the writer is).
    queued: Arc<AtomicUsize>,
    /// Batches committed by the writer.
    commits: Arc<AtomicU64>,
    /// Set for good when the log could not be synced (see `wal_sync`).
    sync_failed: Arc<AtomicBool>,
    path: PathBuf,
    /// [`StoreOptions::compress_bodies`].
    compress_bodies: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

fn open_writer(path: &Path, durability: Durability, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let conn =
        Connection::open(path).map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
    // SQLite opens a file it may not write read-only without a word; every commit would then fail.
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::NotWritable(path.display().to_string()));
    }
    conn.busy_timeout(busy_timeout)?;
    // Every statement the writer runs stays prepared (rusqlite keeps 16 by default; the writer has
    // about that many, transaction control included, and an evicted one is parsed again).
    conn.set_prepared_statement_cache_capacity(64);
    // WAL: readers never block the writer, and a commit is one append + fsync of the log.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Write(format!("cannot enable WAL (journal_mode is {mode})")));
    }
    conn.pragma_update(None, "synchronous", if durability == Durability::Full { "FULL" } else { "NORMAL" })?;
    // Checkpoint (copy the log back into the database) every 250 pages. Measured with SQLite
    // syncing every commit (FULL; 1 KiB bodies, 32 connections): 250 pages gave ~20k req/s with
    // p99 4 ms; SQLite's default of 1000 gave ~15k req/s with p99 13 ms, because one large
    // checkpoint's fsync stalls every commit queued behind it. This is what the writer does when it
    // cannot pipeline its syncs; the pipelined writer checkpoints on a thread of its own
    // (`Checkpoints`).
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database, runs pending migrations and starts the writer.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened, WAL cannot be enabled, or a migration fails.
    pub fn open(path: &Path, durability: Durability, options: StoreOptions) -> Result<Self, StoreError> {
        if !options.migrate && !path.exists() {
            // Without migrations nothing may be created: a missing store is one at version 0, as
            // on PostgreSQL, and no empty file is left behind.
            return Err(StoreError::NotMigrated { found: 0, known: migrate::latest_version() });
        }
        let mut conn = open_writer(path, durability, options.busy_timeout)?;
        // From here on the file exists: name it by its real path, so two paths to one database
        // (a symlink, `..`) share one dedup index and its lock, and a second writer is refused.
        let canonical = std::fs::canonicalize(path)
            .map_err(|e| StoreError::Write(format!("cannot resolve {}: {e}", path.display())))?;
        let path = canonical.as_path();
        let applied = migrate::run(&mut conn, crate::now_ms(), options.migrate)?;
        if !applied.is_empty() {
            tracing::info!(path = %path.display(), versions = ?applied, "Applied store migrations.");
        }
        let keys = if options.take_events {
            Some(match DedupIndex::open(&conn, path) {
                Ok(keys) => keys,
                Err(e @ StoreError::InUse(_)) => return Err(e),
                // A lost index rebuilt on a full disk: serve degraded (503, not ready) and rebuild
                // it once there is room, instead of exiting into a restart loop.
                Err(e) => {
                    tracing::error!(error = %e, "Cannot build the dedup index; serving degraded: every webhook gets 503 and /readyz fails until it is rebuilt (retried every second).");
                    DedupIndex::unavailable(path)?
                }
            })
        } else {
            None
        };
        let sync_failed = Arc::new(AtomicBool::new(false));
        let sync = if durability == Durability::Full { start_wal_sync(&conn, path, &sync_failed) } else { None };
        // With the pipelined writer, checkpoints run beside it (see `Checkpoints`).
        let checkpoints = match &sync {
            Some(_) => Some(Checkpoints::start(&mut conn, options.busy_timeout, &sync_failed)?),
            None => None,
        };
        let reader = Reader::open_existing(path)?;
        let delivery_reader = Reader::open_existing(path)?;
        let (tx, rx) = sync_channel(options.queue_capacity);
        let pending_rejections = PendingRejections::new(options.max_pending_rejections);
        let pending = Arc::clone(&pending_rejections);
        let queued = Arc::new(AtomicUsize::new(0));
        let queued_w = Arc::clone(&queued);
        let commits = Arc::new(AtomicU64::new(0));
        let commits_w = Arc::clone(&commits);
        let failed_w = Arc::clone(&sync_failed);
        let compress_bodies = options.compress_bodies;
        let writer = std::thread::Builder::new()
            .name("hookgate-store-writer".into())
            .spawn(move || {
                let counters = WriterCounters {
                    pending: &pending,
                    queued: &queued_w,
                    commits: &commits_w,
                    sync_failed: &failed_w,
                };
                writer_loop(conn, keys, sync, checkpoints, &rx, &options, &counters);
            })
            .map_err(|e| StoreError::Write(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            reader: Arc::new(Mutex::new(reader)),
            delivery_reader: Mutex::new(delivery_reader),
            read_only: false,
            pending_rejections,
            queued,
            commits,
            sync_failed,
            path: path.to_owned(),
            compress_bodies,
        })
    }

    /// Opens an existing store for inspection: no file is created, nothing migrated, writes are
    /// refused with [`StoreError::ReadOnly`].
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no store at `path`, or a database error.
    pub fn inspect(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            tx: Mutex::new(None),
            writer: Mutex::new(None),
            reader: Arc::new(Mutex::new(Reader::open_existing(path)?)),
            delivery_reader: Mutex::new(Reader::open_existing(path)?),
            read_only: true,
            pending_rejections: PendingRejections::new(0),
            queued: Arc::new(AtomicUsize::new(0)),
            commits: Arc::new(AtomicU64::new(0)),
            sync_failed: Arc::new(AtomicBool::new(false)),
            path: path.to_owned(),
            compress_bodies: false,
        })
    }

    /// Runs `f` on the read connection off the async workers (SQLite calls block).
    pub(crate) async fn read_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || f(&reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner)))
            .await
            .map_err(|e| StoreError::Write(format!("read task failed: {e}")))?
    }

    fn send(&self, cmd: Cmd) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let guard = self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = guard.as_ref().ok_or(StoreError::Closed)?;
        // Counted before sending, so the writer's decrement can never come first and leave the
        // count too high for good.
        self.queued.fetch_add(1, Ordering::AcqRel);
        tx.try_send(cmd).map_err(|e| {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            match e {
                TrySendError::Full(_) => StoreError::Overloaded,
                TrySendError::Disconnected(_) => StoreError::Closed,
            }
        })
    }

    /// Stores an event and waits until it is committed durably. A duplicate (same source and
    /// dedup key) is counted on the stored event and reported as [`Inserted::Duplicate`].
    ///
    /// # Errors
    /// [`StoreError::Overloaded`] when the writer's queue is full, [`StoreError::Write`] when the
    /// commit failed, [`StoreError::Closed`] after shutdown. In every error case the event must
    /// not be acknowledged (a provider retry will bring it again).
    pub async fn insert_event(&self, event: NewEvent) -> Result<Inserted, StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Insert(Box::new(EncodedEvent::new(event, self.compress_bodies)), reply))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Leases up to `limit` due deliveries of `target` for `lease`; a worker that dies loses the
    /// lease and the deliveries become due again when it expires. With `ordered`, at most the
    /// target's oldest pending delivery, once it is due (per-target ordering: later events wait).
    ///
    /// # Errors
    /// As [`SqliteStore::insert_event`].
    pub async fn claim(
        &self,
        target: &str,
        limit: u32,
        ordered: bool,
        lease: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        let (reply, done) = oneshot::channel();
        let now_ms = crate::now_ms();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        self.send(Cmd::Claim { target: target.to_owned(), limit, ordered, now_ms, lease_ms, reply })?;
        let leased = done.await.map_err(|_| StoreError::Closed)??;
        if leased.is_empty() {
            return Ok(Vec::new());
        }
        let mut claimed = Vec::with_capacity(leased.len());
        let mut unreadable = Vec::new();
        {
            let reader = self.delivery_reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (delivery_id, event_id, attempts) in leased {
                match reader.claimed(delivery_id, event_id, attempts) {
                    Ok(c) => claimed.push(c),
                    // A damaged body fails its own delivery, not the batch (and not, on an
                    // ordered target, every later event): it is dead-lettered with the reason.
                    Err(e @ StoreError::CorruptBody { .. }) => unreadable.push((delivery_id, e.to_string())),
                    Err(e) => return Err(e),
                }
            }
        }
        for (delivery_id, reason) in unreadable {
            tracing::error!(delivery_id, target, error = %reason, "Stored body unreadable; delivery dead-lettered.");
            let attempt = Attempt {
                started_at_ms: now_ms,
                duration_ms: 0,
                status_code: None,
                error: Some(reason),
                response_excerpt: None,
                request: None,
                response_headers: None,
            };
            self.finish(Finished { delivery_id: DeliveryId(delivery_id), attempt, next: Next::Dead }).await?;
        }
        Ok(claimed)
    }

    /// Records an attempt and the delivery's next state.
    ///
    /// # Errors
    /// As [`SqliteStore::insert_event`].
    pub async fn finish(&self, finished: Finished) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Finish(Box::new(finished), reply))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs an operator action (replay, retry of dead deliveries); returns how many deliveries it
    /// created or revived.
    ///
    /// # Errors
    /// As [`SqliteStore::insert_event`].
    pub async fn admin(&self, op: AdminOp) -> Result<u64, StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Admin(op, reply))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Commands waiting for the writer: background work (delivery) yields while ingest keeps it busy.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Transactions the writer has committed (each holds a batch of writes).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Queues a rejected attempt for the log. Never waits; returns `false` when it was dropped
    /// because too many are already waiting (the caller counts that).
    pub fn record_rejection(&self, rejection: NewRejection) -> bool {
        self.pending_rejections.admit(|| self.send(Cmd::Reject(Box::new(rejection))).is_ok())
    }

    /// Waits until every write queued so far is committed.
    ///
    /// # Errors
    /// As [`SqliteStore::insert_event`].
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Barrier(reply))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Readiness: an event could be committed now. A real write goes through the writer, like an
    /// event, and is answered once its commit is synced: an empty transaction writes nothing, so
    /// it succeeded on a full disk while every event failed. Fails for good once a sync failed.
    ///
    /// # Errors
    /// The first failure.
    pub async fn probe(&self) -> Result<(), StoreError> {
        if self.sync_failed.load(Ordering::Acquire) {
            return Err(StoreError::Write(SYNC_FAILED.into()));
        }
        let (reply, done) = oneshot::channel();
        self.send(Cmd::Probe(reply))?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` with the store's read connection.
    pub fn read<T>(&self, f: impl FnOnce(&Reader) -> T) -> T {
        let reader = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&reader)
    }

    /// Stops accepting writes, commits everything queued, and stops the writer thread.
    pub fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take());
        if let Some(handle) = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            // The thread ends when the queue is drained; its panic, if any, was already logged.
            let _ = handle.join();
        }
    }
}

impl SqliteStore {
    /// [`SqliteStore::close`] without blocking an async worker while the writer finishes.
    pub(crate) async fn close_async(&self) {
        drop(self.tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take());
        let handle = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}
