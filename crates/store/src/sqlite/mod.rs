//! The SQLite store: one writer thread with group commit, and read-only connections for queries.
//!
//! Why a dedicated writer thread: SQLite has one writer at a time anyway, and a thread that owns
//! the connection can take *every* queued write into one transaction. Concurrent requests then
//! share one fsync (group commit): one row per FULL-sync transaction is capped near 1/fsync (a few
//! thousand per second here), a batch of 64 reaches ~20× that (shared/design/dependencies.md §3).
//! Each request waits for the commit that contains its row before it is acknowledged.

mod cached_tx;
mod dedup;
mod wal_sync;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hookgate_verify::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use self::cached_tx::CachedTx;
use self::dedup::{DedupIndex, key_hash};
use self::wal_sync::{SYNC_FAILED, WalSync};
use crate::admin::AdminOp;
use crate::body;
use crate::error::StoreError;
use crate::migrate;
use crate::model::{
    Attempt, Claimed, DeliveryRecord, DeliverySummary, EventRecord, EventSummary, Finished, Inserted, ListFilter,
    NewEvent, NewRejection, Next, QueueDepth, RejectionRecord, RejectionRetention,
};
use crate::throttle::LogThrottle;
use crate::url::Durability;
use crate::{DeliveryQuery, PendingRejections, RejectionDetail, StoreOptions, rfc3339};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// `(delivery id, event id, attempts so far)` of a leased delivery.
type Leased = (i64, i64, i64);

enum Cmd {
    Insert(Box<EncodedEvent>, Reply<Inserted>),
    Reject(Box<NewRejection>),
    /// Completes once every write queued before it is committed (tests, shutdown).
    Barrier(Reply<()>),
    /// Readiness: a committed write the size of a typical event (see [`SqliteStore::probe`]).
    Probe(Reply<()>),
    /// Lease up to `limit` due deliveries of a target.
    Claim {
        target: String,
        limit: u32,
        ordered: bool,
        now_ms: i64,
        lease_ms: i64,
        reply: Reply<Vec<Leased>>,
    },
    /// Record an attempt and what comes next.
    Finish(Box<Finished>, Reply<()>),
    /// Operator actions (replay, retry): the number of deliveries created or revived.
    Admin(AdminOp, Reply<u64>),
}

/// What one command produced.
enum Done {
    Inserted(Result<Inserted, StoreError>),
    Claimed(Result<Vec<Leased>, StoreError>),
    Unit(Result<(), StoreError>),
    Count(Result<u64, StoreError>),
    Nothing,
}

impl Done {
    fn is_err(&self) -> bool {
        match self {
            Done::Inserted(r) => r.is_err(),
            Done::Claimed(r) => r.is_err(),
            Done::Unit(r) => r.is_err(),
            Done::Count(r) => r.is_err(),
            Done::Nothing => false,
        }
    }
}

/// Who waits for a command's outcome, without the command's data: an event's body is freed once
/// it is written, not held while the log is synced.
enum Waiter {
    Inserted(Reply<Inserted>),
    Claimed(Reply<Vec<Leased>>),
    Unit(Reply<()>),
    Count(Reply<u64>),
    Nobody,
}

impl Waiter {
    fn answer(self, done: Done) {
        match (self, done) {
            (Waiter::Inserted(r), Done::Inserted(v)) => drop(r.send(v)),
            (Waiter::Claimed(r), Done::Claimed(v)) => drop(r.send(v)),
            (Waiter::Unit(r), Done::Unit(v)) => drop(r.send(v)),
            (Waiter::Count(r), Done::Count(v)) => drop(r.send(v)),
            (waiter, _) => waiter.fail("no result"),
        }
    }

    fn fail(self, msg: &str) {
        let e = || StoreError::Write(msg.to_owned());
        match self {
            Waiter::Inserted(r) => drop(r.send(Err(e()))),
            Waiter::Claimed(r) => drop(r.send(Err(e()))),
            Waiter::Unit(r) => drop(r.send(Err(e()))),
            Waiter::Count(r) => drop(r.send(Err(e()))),
            Waiter::Nobody => {}
        }
    }
}

impl Cmd {
    fn into_waiter(self) -> Waiter {
        match self {
            Cmd::Insert(_, r) => Waiter::Inserted(r),
            Cmd::Claim { reply, .. } => Waiter::Claimed(reply),
            Cmd::Finish(_, r) | Cmd::Barrier(r) | Cmd::Probe(r) => Waiter::Unit(r),
            Cmd::Admin(_, r) => Waiter::Count(r),
            Cmd::Reject(_) => Waiter::Nobody,
        }
    }

    fn reply(self, done: Done) {
        self.into_waiter().answer(done);
    }

    fn fail(self, msg: &str) {
        self.into_waiter().fail(msg);
    }
}

/// An event with the work that does not need the database already done (JSON text, dedup hash),
/// on the caller's thread: the single writer is the store's bottleneck under load, so it only
/// binds and writes.
struct EncodedEvent {
    event: NewEvent,
    key_hash: i64,
    headers: String,
    metadata: String,
    /// The body as it is stored (`event.body` is moved here, and dropped once compressed, so a
    /// queued event holds one copy), in the form `body_encoding` names.
    body: Vec<u8>,
    body_encoding: &'static str,
    /// The received body's length.
    size: i64,
    /// When it was queued for the writer (`hookgate_store_queue_wait_seconds`).
    queued_at: Instant,
}

impl EncodedEvent {
    /// Runs in the caller's task, not on the writer: the writer is the one thread every event
    /// goes through, so encoding (and compressing) happens before the event is queued.
    fn new(mut event: NewEvent, compress: bool) -> Self {
        let headers = serde_json::to_string(&event.headers).unwrap_or_else(|_| "[]".into());
        // `to_string` (Display) goes through the formatter; this writes the bytes directly.
        let metadata = serde_json::to_string(&event.metadata).unwrap_or_else(|_| "{}".into());
        let size = i64::try_from(event.body.len()).unwrap_or(i64::MAX);
        let received = std::mem::take(&mut event.body);
        let (body, body_encoding) = match compress.then(|| body::compress(&received)).flatten() {
            Some(packed) => (packed, body::LZ4),
            None => (received, body::IDENTITY),
        };
        Self {
            key_hash: key_hash(&event.source, &event.dedup_key),
            headers,
            metadata,
            body,
            body_encoding,
            size,
            event,
            queued_at: Instant::now(),
        }
    }
}

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

const WAL_AUTOCHECKPOINT_PAGES: i64 = 250;

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
        let applied = migrate::run(&mut conn, Timestamp::now().unix_millis(), options.migrate)?;
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
        let now_ms = Timestamp::now().unix_millis();
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
                started_at: String::new(),
                duration_ms: 0,
                status_code: None,
                error: Some(reason),
                response_excerpt: None,
            };
            self.finish(Finished { delivery_id, attempt, next: Next::Dead }).await?;
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

/// Shared counters the writer keeps up to date.
struct WriterCounters<'a> {
    pending: &'a PendingRejections,
    queued: &'a AtomicUsize,
    commits: &'a AtomicU64,
    sync_failed: &'a AtomicBool,
}

/// Commits with `synchronous=NORMAL` and makes them durable on the sync thread (`wal_sync`), when
/// the store is durable. `None` (SQLite syncs every commit itself, FULL) if the log file cannot be
/// opened, which is slower but as safe.
fn start_wal_sync(conn: &Connection, path: &Path, failed: &Arc<AtomicBool>) -> Option<WalSync<Vec<(Waiter, Done)>>> {
    // The log SQLite itself writes: it names it after the database's resolved path (a symlinked
    // path would otherwise name a different file, and syncing that would prove nothing).
    let mut wal = conn.path().map_or_else(|| path.as_os_str().to_owned(), std::ffi::OsString::from);
    wal.push("-wal");
    let answer = |batch: Vec<(Waiter, Done)>, synced: Result<(), &str>| {
        for (waiter, done) in batch {
            match synced {
                Ok(()) => waiter.answer(done),
                Err(msg) => waiter.fail(msg),
            }
        }
    };
    let sync = match WalSync::start(Path::new(&wal), Arc::clone(failed), answer) {
        Ok(sync) => sync,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot open the store's log for syncing; SQLite syncs each commit (slower).");
            return None;
        }
    };
    // Checkpoints move out of the commit too, to a thread of their own (`Checkpoints`, started
    // after this). `synchronous` changes last, so a failure leaves the writer in FULL (every
    // commit synced by SQLite) with its autocheckpoint.
    let switched = conn
        .pragma_update(None, "wal_autocheckpoint", 0)
        .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"));
    if let Err(e) = switched {
        tracing::warn!(error = %e, "Cannot switch the writer to pipelined syncing; SQLite syncs each commit.");
        let _ = conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES);
        sync.finish();
        return None;
    }
    Some(sync)
}

/// Checkpoints of the pipelined writer (SQLite's own autocheckpoint is off then). A checkpoint
/// copies the log into the database and `fsync`s both, which held the writer (and every request
/// queued behind it) for 5–10 ms about twenty times a second; now a background thread does that
/// copy every `WAL_AUTOCHECKPOINT_PAGES` frames while the writer goes on. Those passes cannot
/// finish the log while it keeps growing, so past `WAL_RESTART_FRAMES` the writer copies the last
/// frames itself between transactions (little is left, and the database is mostly synced), and
/// the next commit starts the log from its beginning: the log stays bounded.
struct Checkpoints {
    /// Frames in the log after the writer's last commit (SQLite's WAL hook).
    frames: Arc<std::sync::atomic::AtomicI64>,
    /// `frames` when the background pass was last woken.
    woke_at: i64,
    /// `frames` at the writer's last closing pass: one attempt per `WAL_AUTOCHECKPOINT_PAGES`
    /// frames, so a reader that keeps the log from being reused cannot make every batch pay one.
    closed_at: i64,
    background: Checkpointer,
    /// The store's sync-failed flag (see `checkpoint_failed`).
    failed: Arc<AtomicBool>,
}

/// The log's frames after which the writer closes it.
const WAL_RESTART_FRAMES: i64 = 768;

impl Checkpoints {
    fn start(conn: &mut Connection, busy_timeout: Duration, failed: &Arc<AtomicBool>) -> Result<Self, StoreError> {
        let db = conn.path().map(PathBuf::from).ok_or_else(|| StoreError::Write("the store has no file".into()))?;
        let background = Checkpointer::start(&db, busy_timeout, Arc::clone(failed))?;
        let frames = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let seen = Arc::clone(&frames);
        // Registered after `wal_autocheckpoint=0`, which replaces any WAL hook.
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: std::os::raw::c_int| {
            seen.store(i64::from(pages), Ordering::Release);
            Ok(())
        }))?;
        Ok(Self { frames, woke_at: 0, closed_at: 0, background, failed: Arc::clone(failed) })
    }

    /// After each commit.
    fn committed(&mut self, conn: &Connection) {
        let frames = self.frames.load(Ordering::Acquire);
        if frames < self.woke_at || frames < self.closed_at {
            // The log was started again.
            (self.woke_at, self.closed_at) = (0, 0);
        }
        if frames >= WAL_RESTART_FRAMES {
            // Tried again after every batch while a background pass holds the checkpoint lock.
            if frames - self.closed_at >= WAL_AUTOCHECKPOINT_PAGES && checkpoint(conn, &self.failed) {
                self.closed_at = frames;
            }
        } else if frames - self.woke_at >= WAL_AUTOCHECKPOINT_PAGES {
            self.woke_at = frames;
            self.background.wake();
        }
    }

    fn finish(self) {
        self.background.finish();
    }
}

/// A passive checkpoint on the writer's connection, between transactions; `false` when another
/// checkpoint was running, so nothing was done. When it copies the whole log, the next commit
/// starts the log from its beginning.
fn checkpoint(conn: &Connection, failed: &AtomicBool) -> bool {
    let started = Instant::now();
    let busy = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
    metrics::histogram!("hookgate_store_checkpoint_duration_seconds").record(started.elapsed().as_secs_f64());
    match busy {
        Ok(busy) => busy == 0,
        Err(e) => {
            checkpoint_failed(&e.to_string(), is_io_error(&e), failed);
            true
        }
    }
}

/// Whether a database error is an I/O error (a failed write or sync), not a full disk or a lock.
fn is_io_error(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::SystemIoFailure)
}

/// A checkpoint failed. A full disk or a busy lock leaves every page in the log, so it is tried
/// again. A failed write or sync of the database is not: after a failed `fsync` Linux may drop
/// the dirty pages and report the next sync as a success, and the log would then be reused over
/// pages that never reached the disk. That fails the store for good, as a failed log sync does
/// (`wal_sync`): nothing more is acknowledged until a restart recovers from what is on disk.
fn checkpoint_failed(error: &str, io: bool, failed: &AtomicBool) {
    if io {
        failed.store(true, Ordering::Release);
        tracing::error!(error, "Syncing the database after a checkpoint failed; refusing writes until a restart.");
    } else {
        tracing::warn!(error, "WAL checkpoint failed; will retry.");
    }
}

/// Copies the log into the database on its own connection and thread, so the writer is not held
/// up for the copy and its two `fsync`s.
struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(db: &Path, busy_timeout: Duration, failed: Arc<AtomicBool>) -> Result<Self, StoreError> {
        let conn =
            Connection::open(db).map_err(|source| StoreError::Open { path: db.display().to_string(), source })?;
        conn.busy_timeout(busy_timeout)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let file = std::fs::File::options()
            .write(true)
            .open(db)
            .map_err(|e| StoreError::Write(format!("cannot open {} for syncing: {e}", db.display())))?;
        let (wake, rx) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("hookgate-store-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if failed.load(Ordering::Acquire) {
                        continue;
                    }
                    let started = Instant::now();
                    // What was copied goes to disk now, so the writer's closing pass (which syncs
                    // the database before the log is reused) has little left to sync.
                    let done = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        .map_err(|e| (e.to_string(), is_io_error(&e)))
                        .and_then(|()| file.sync_data().map_err(|e| (e.to_string(), true)));
                    metrics::histogram!("hookgate_store_checkpoint_duration_seconds")
                        .record(started.elapsed().as_secs_f64());
                    if let Err((error, io)) = done {
                        checkpoint_failed(&error, io, &failed);
                    }
                }
            })
            .map_err(|e| StoreError::Write(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { wake: Some(wake), thread: Some(thread) })
    }

    fn wake(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }

    fn finish(mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn writer_loop(
    mut conn: Connection,
    mut keys: Option<DedupIndex>,
    sync: Option<WalSync<Vec<(Waiter, Done)>>>,
    mut checkpoints: Option<Checkpoints>,
    rx: &Receiver<Cmd>,
    options: &StoreOptions,
    counters: &WriterCounters<'_>,
) {
    let mut rejections_since_prune = 0usize;
    let mut last_prune = Instant::now();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < options.max_batch {
            match rx.try_recv() {
                Ok(cmd) => batch.push(cmd),
                Err(_) => break,
            }
        }
        // How long events waited for the writer: it grows when the writer is the bottleneck (or
        // is held up by a checkpoint); a slow disk shows in the sync wait instead (`wal_sync`).
        // (The handle is looked up per batch: one taken at start, before the recorder is
        // installed, would record nothing.)
        let queue_wait = metrics::histogram!("hookgate_store_queue_wait_seconds");
        for cmd in &batch {
            if let Cmd::Insert(ev, _) = cmd {
                queue_wait.record(ev.queued_at.elapsed().as_secs_f64());
            }
        }
        if counters.sync_failed.load(Ordering::Acquire) {
            // What reached the disk is unknown: write nothing more until a restart recovers.
            counters.queued.fetch_sub(batch.len(), Ordering::AcqRel);
            counters.pending.written(batch.iter().filter(|c| matches!(c, Cmd::Reject(_))).count());
            for cmd in batch {
                cmd.fail(SYNC_FAILED);
            }
            continue;
        }
        if let Some(keys) = keys.as_mut() {
            keys.repair_if_broken(&conn);
        }
        let started = Instant::now();
        let outcome = write_batch(&mut conn, keys.as_mut(), &batch);
        let elapsed = started.elapsed();
        metrics::histogram!("hookgate_store_commit_duration_seconds").record(elapsed.as_secs_f64());
        metrics::histogram!("hookgate_store_batch_size").record(batch.len() as f64);
        counters.queued.fetch_sub(batch.len(), Ordering::AcqRel);
        let rejections = batch.iter().filter(|c| matches!(c, Cmd::Reject(_))).count();
        counters.pending.written(rejections);
        rejections_since_prune += rejections;
        match outcome {
            Ok(results) => {
                counters.commits.fetch_add(1, Ordering::AcqRel);
                match &sync {
                    // Answered once the log is on disk; meanwhile the next batch is written.
                    Some(sync) => {
                        sync.submit(batch.into_iter().map(Cmd::into_waiter).zip(results).collect());
                        if let Some(checkpoints) = checkpoints.as_mut() {
                            checkpoints.committed(&conn);
                        }
                    }
                    None => {
                        for (cmd, done) in batch.into_iter().zip(results) {
                            cmd.reply(done);
                        }
                    }
                }
            }
            Err(e) => {
                static THROTTLE: LogThrottle = LogThrottle::new(Duration::from_secs(5));
                if let Some(suppressed) = THROTTLE.admit() {
                    tracing::error!(error = %e, batch = batch.len(), suppressed, "Store commit failed; answering 503 for this batch.");
                }
                metrics::counter!("hookgate_store_commit_failures_total").increment(1);
                let msg = e.to_string();
                for cmd in batch {
                    cmd.fail(&msg);
                }
            }
        }
        if rejections_since_prune >= 1000
            || (rejections_since_prune > 0 && last_prune.elapsed() > Duration::from_secs(60))
        {
            if let Err(e) = prune_rejections(&conn, options.rejection_retention) {
                tracing::warn!(error = %e, "Pruning old rejections failed; will retry.");
            }
            rejections_since_prune = 0;
            last_prune = Instant::now();
        }
    }
    // The queue is closed and drained: every write before `close` is committed; answer the last
    // ones once synced. Then leave a short log behind so the next start has less to replay.
    if let Some(sync) = sync {
        sync.finish();
    }
    if let Some(checkpoints) = checkpoints {
        checkpoints.finish();
    }
    if counters.sync_failed.load(Ordering::Acquire) {
        // What reached the disk is unknown: neither copy the log into the database nor mark the
        // dedup index clean; the next start recovers and rebuilds from what is on disk.
        return;
    }
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "WAL checkpoint at shutdown failed.");
    }
    if let Some(keys) = keys.as_mut() {
        keys.close();
    }
}

/// Writes one batch in one transaction. The outer error fails the whole batch (nothing committed);
/// the inner results are per command (a failed command is rolled back alone).
/// The dedup index follows the transaction: its additions count once it commits.
///
/// The batch is first written without savepoints: a savepoint per command costs a statement
/// journal and two parsed statements, a large share of the single writer's time, and commands
/// almost never fail. When one does, that transaction is rolled back and the batch is written
/// again with a savepoint per command, so the failing command fails alone.
fn write_batch(
    conn: &mut Connection,
    mut keys: Option<&mut DedupIndex>,
    batch: &[Cmd],
) -> Result<Vec<Done>, rusqlite::Error> {
    let mut result = write_batch_tx(conn, keys.as_deref_mut(), batch, Isolation::Shared);
    if matches!(result, Ok(None)) {
        if let Some(keys) = keys.as_deref_mut() {
            keys.rolled_back();
        }
        result = write_batch_tx(conn, keys.as_deref_mut(), batch, Isolation::PerCommand);
    }
    let result = result.map(|done| done.unwrap_or_default());
    if let Some(keys) = keys {
        match result {
            Ok(_) => keys.committed(),
            Err(_) => keys.rolled_back(),
        }
    }
    result
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// All commands share the transaction; the first failure abandons it (`Ok(None)`).
    Shared,
    /// Each command in its own savepoint.
    PerCommand,
}

fn write_batch_tx(
    conn: &mut Connection,
    mut keys: Option<&mut DedupIndex>,
    batch: &[Cmd],
    isolation: Isolation,
) -> Result<Option<Vec<Done>>, rusqlite::Error> {
    let tx = CachedTx::begin(conn, true)?;
    let mut results = Vec::with_capacity(batch.len());
    let run = |f: &mut dyn FnMut() -> rusqlite::Result<()>| -> Result<(), StoreError> {
        match isolation {
            Isolation::Shared => f().map_err(|e| StoreError::Write(e.to_string())),
            Isolation::PerCommand => atomically(&tx, f),
        }
    };
    for cmd in batch {
        let done = match cmd {
            Cmd::Insert(ev, _) => match keys.as_deref_mut() {
                Some(keys) => Done::Inserted(indexed(keys, |keys| {
                    let mut out = None;
                    run(&mut || insert_event(&tx, keys, ev).map(|v| out = Some(v)))?;
                    out.ok_or_else(|| StoreError::Write("no result".into()))
                })),
                // An operator handle: the gateway's writer owns the dedup index.
                None => Done::Inserted(Err(StoreError::ReadOnly)),
            },
            Cmd::Reject(r) => {
                // A rejection that cannot be written is logged, not fatal to the batch.
                let written = run(&mut || insert_rejection(&tx, r));
                if let Err(e) = written {
                    if isolation == Isolation::Shared {
                        return Ok(None);
                    }
                    tracing::warn!(error = %e, "Recording a rejection failed.");
                    still_open(&tx)?;
                }
                Done::Nothing
            }
            Cmd::Barrier(_) => Done::Unit(Ok(())),
            Cmd::Probe(_) => match keys.as_deref() {
                Some(keys) if keys.is_broken() => Done::Unit(Err(StoreError::Write(
                    "the dedup index is being rebuilt; events cannot be stored".into(),
                ))),
                _ => Done::Unit(run(&mut || probe(&tx))),
            },
            Cmd::Claim { target, limit, ordered, now_ms, lease_ms, .. } => {
                let mut out = None;
                Done::Claimed(
                    run(&mut || claim(&tx, target, *limit, *ordered, *now_ms, *lease_ms).map(|v| out = Some(v)))
                        .map(|()| out.take().unwrap_or_default()),
                )
            }
            Cmd::Finish(f, _) => Done::Unit(run(&mut || finish(&tx, f))),
            Cmd::Admin(op, _) => {
                let mut out = 0;
                let r = match keys.as_deref_mut() {
                    Some(keys) => indexed(keys, |keys| run(&mut || admin(&tx, Some(&mut *keys), op).map(|n| out = n))),
                    None => run(&mut || admin(&tx, None, op).map(|n| out = n)),
                };
                Done::Count(r.map(|()| out))
            }
        };
        if done.is_err() {
            if isolation == Isolation::Shared {
                // Dropping the transaction rolls it back; the caller writes the batch again.
                return Ok(None);
            }
            still_open(&tx)?;
        }
        results.push(done);
    }
    tx.commit()?;
    Ok(Some(results))
}

/// After a command failed alone: whether the batch's transaction is still open. Some errors (disk
/// full, I/O) make SQLite roll the whole transaction back; later commands would then each commit
/// on their own while the batch is answered as failed, so the batch fails here instead.
fn still_open(tx: &Connection) -> Result<(), rusqlite::Error> {
    if tx.is_autocommit() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
            Some("the database rolled the batch's transaction back".into()),
        ));
    }
    Ok(())
}

/// Runs one command that may change the dedup index: when the command fails (its savepoint is
/// rolled back), so are its changes to the index.
fn indexed<T>(
    keys: &mut DedupIndex,
    f: impl FnOnce(&mut DedupIndex) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mark = keys.mark();
    let result = f(keys);
    if result.is_err() {
        keys.undo_to(mark);
    }
    result
}

/// Runs `f` inside a savepoint: on error its writes are undone and the batch goes on.
fn atomically(tx: &Connection, f: &mut dyn FnMut() -> rusqlite::Result<()>) -> Result<(), StoreError> {
    tx.prepare_cached("SAVEPOINT cmd")?.execute([])?;
    match f() {
        Ok(()) => {
            tx.prepare_cached("RELEASE cmd")?.execute([])?;
            Ok(())
        }
        Err(e) => {
            let _ = tx.execute_batch("ROLLBACK TO cmd; RELEASE cmd");
            Err(StoreError::Write(e.to_string()))
        }
    }
}

fn insert_event(tx: &Connection, keys: &mut DedupIndex, encoded: &EncodedEvent) -> rusqlite::Result<Inserted> {
    let ev = &encoded.event;
    // A provider retry: an event with the same source and key is already stored (or earlier in
    // this batch). The index gives candidates by hash; the event's own key decides.
    let hash = encoded.key_hash;
    for id in keys.candidates(hash)? {
        let same: Option<bool> = tx
            .prepare_cached("SELECT source = ?2 AND dedup_key = ?3 FROM events WHERE id = ?1")?
            .query_row(params![id, ev.source, ev.dedup_key], |r| r.get(0))
            .optional()?;
        if same == Some(true) {
            tx.prepare_cached("UPDATE events SET duplicates = duplicates + 1, last_duplicate_at = ?2 WHERE id = ?1")?
                .execute(params![id, ev.received_at_ms])?;
            return Ok(Inserted::Duplicate(id));
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (source, received_at, dedup_key, provider_id, event_type, signed_at, body, body_sha256, size, headers, metadata, body_encoding)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    insert.execute(params![
        ev.source,
        ev.received_at_ms,
        ev.dedup_key,
        ev.provider_id,
        ev.event_type,
        ev.signed_at_ms,
        encoded.body,
        ev.body_sha256,
        encoded.size,
        encoded.headers,
        encoded.metadata,
        encoded.body_encoding,
    ])?;
    let id = tx.last_insert_rowid();
    keys.add(hash, id);
    // The outbox: deliveries are committed with the event, so an acknowledged event always has them.
    if !ev.targets.is_empty() {
        let mut delivery = tx.prepare_cached(
            "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at) VALUES (?1, ?2, 'pending', ?3, ?3)",
        )?;
        for target in &ev.targets {
            delivery.execute(params![id, target, ev.received_at_ms])?;
        }
    }
    Ok(Inserted::New(id))
}

/// Size of the readiness probe's write: about a typical event's, so that a probe fits only where an
/// event would.
const PROBE_BYTES: usize = 8 * 1024;

/// The readiness probe's write: a row of `PROBE_BYTES` replaced each time, so a probe needs new
/// log frames as an event does (a smaller write could fit where an event cannot).
fn probe(tx: &Connection) -> rusqlite::Result<()> {
    let value = format!("{:<width$}", Timestamp::now().unix_millis(), width = PROBE_BYTES);
    tx.prepare_cached(
        "INSERT INTO store_meta (name, value) VALUES ('readiness_probe', ?1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute([value])?;
    Ok(())
}

fn insert_rejection(tx: &Connection, r: &NewRejection) -> rusqlite::Result<()> {
    let mut reject = tx.prepare_cached(
        "INSERT INTO rejections (source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, headers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let names = serde_json::to_string(&r.header_names).unwrap_or_else(|_| "[]".into());
    let headers = serde_json::to_string(&r.headers).unwrap_or_else(|_| "[]".into());
    reject.execute(params![
        r.source,
        r.received_at_ms,
        r.peer,
        r.reason,
        r.reason_code,
        names,
        r.body_sha256,
        r.size,
        r.body,
        headers
    ])?;
    Ok(())
}

/// Leases due deliveries. Only the lease is written here; the events are read afterwards on a
/// read connection, so the single writer spends no time copying bodies.
fn claim(
    tx: &Connection,
    target: &str,
    limit: u32,
    ordered: bool,
    now_ms: i64,
    lease_ms: i64,
) -> rusqlite::Result<Vec<Leased>> {
    // Ordered targets take only the oldest pending delivery, and only once it is due and not
    // leased: a later event waits until the earlier one is delivered or dead.
    let sql = if ordered {
        "UPDATE deliveries SET lease_until = ?1 + ?2
         WHERE id = (SELECT MIN(id) FROM deliveries WHERE target = ?3 AND status = 'pending')
           AND next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1) AND ?4 > 0
         RETURNING id, event_id, attempts"
    } else {
        "UPDATE deliveries SET lease_until = ?1 + ?2
         WHERE id IN (SELECT id FROM deliveries
                      WHERE target = ?3 AND status = 'pending' AND next_attempt_at <= ?1
                        AND (lease_until IS NULL OR lease_until <= ?1)
                      ORDER BY next_attempt_at, id LIMIT ?4)
         RETURNING id, event_id, attempts"
    };
    let mut lease = tx.prepare_cached(sql)?;
    lease.query_map(params![now_ms, lease_ms, target, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
}

fn finish(tx: &Connection, f: &Finished) -> rusqlite::Result<()> {
    let a = &f.attempt;
    tx.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_id, started_at, duration_ms, status_code, error, response_excerpt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        f.delivery_id,
        a.started_at_ms,
        a.duration_ms,
        a.status_code,
        a.error,
        a.response_excerpt
    ])?;
    let (status, next_at, delivered_at) = match f.next {
        Next::Delivered => ("delivered", None, Some(a.started_at_ms + a.duration_ms)),
        Next::Retry(at) => ("pending", Some(at), None),
        Next::Dead => ("dead", None, None),
    };
    tx.prepare_cached(
        "UPDATE deliveries SET attempts = attempts + 1, lease_until = NULL, status = ?2,
             next_attempt_at = COALESCE(?3, next_attempt_at), delivered_at = ?4, last_error = ?5
         WHERE id = ?1 AND status = 'pending'",
    )?
    .execute(params![f.delivery_id, status, next_at, delivered_at, a.error])?;
    Ok(())
}

fn admin(tx: &Connection, keys: Option<&mut DedupIndex>, op: &AdminOp) -> rusqlite::Result<u64> {
    let now = Timestamp::now().unix_millis();
    let n = match op {
        AdminOp::Replay { event_ids, target } => {
            let mut n = 0usize;
            for id in event_ids {
                // Replay never re-verifies: the event was verified when it arrived.
                n += match target {
                    Some(t) => tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at)
                         SELECT id, ?2, 'pending', ?3, ?3 FROM events WHERE id = ?1",
                        params![id, t, now],
                    )?,
                    None => tx.execute(
                        "INSERT INTO deliveries (event_id, target, status, next_attempt_at, created_at)
                         SELECT DISTINCT event_id, target, 'pending', ?2, ?2 FROM deliveries WHERE event_id = ?1",
                        params![id, now],
                    )?,
                };
            }
            n
        }
        AdminOp::Prune { before_ms, limit } => {
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS prune_ids (id INTEGER PRIMARY KEY); DELETE FROM prune_ids;",
            )?;
            let n = tx.execute(
                "INSERT INTO temp.prune_ids SELECT id FROM events e WHERE received_at < ?1
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status NOT IN ('delivered', 'cancelled'))
                 ORDER BY id LIMIT ?2",
                params![before_ms, limit],
            )?;
            // Their entries leave the dedup index once this commits. (From an operator handle,
            // without the index, entries stay behind: harmless, a hit is confirmed on the event,
            // and ids are never reused.)
            if let Some(keys) = keys {
                let mut pruned = tx.prepare_cached(
                    "SELECT id, source, dedup_key FROM events WHERE id IN (SELECT id FROM temp.prune_ids)",
                )?;
                let rows = pruned
                    .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
                for row in rows {
                    let (id, source, key) = row?;
                    keys.remove(key_hash(&source, &key), id);
                }
            }
            tx.execute(
                "DELETE FROM delivery_attempts WHERE delivery_id IN
                   (SELECT id FROM deliveries WHERE event_id IN (SELECT id FROM temp.prune_ids))",
                [],
            )?;
            tx.execute("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM temp.prune_ids)", [])?;
            tx.execute("DELETE FROM events WHERE id IN (SELECT id FROM temp.prune_ids)", [])?;
            n
        }
        AdminOp::RetryDead { target } => tx.execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?1, lease_until = NULL
             WHERE status = 'dead' AND (?2 IS NULL OR target = ?2)",
            params![now, target],
        )?,
        AdminOp::Cancel { delivery_id } => tx.execute(
            "UPDATE deliveries SET status = 'cancelled', lease_until = NULL
             WHERE id = ?1 AND status = 'pending'",
            params![delivery_id],
        )?,
    };
    Ok(n as u64)
}

fn prune_rejections(conn: &Connection, retention: RejectionRetention) -> Result<(), rusqlite::Error> {
    let cutoff = Timestamp::now().unix_millis() - i64::try_from(retention.max_age_secs).unwrap_or(i64::MAX / 2) * 1000;
    // Bounded deletes, so one prune never holds the write lock for long.
    conn.execute(
        "DELETE FROM rejections WHERE id IN (SELECT id FROM rejections WHERE received_at < ?1 LIMIT 10000)",
        params![cutoff],
    )?;
    conn.execute(
        "DELETE FROM rejections WHERE id IN (
             SELECT id FROM rejections WHERE id <= (SELECT id FROM rejections ORDER BY id DESC LIMIT 1 OFFSET ?1)
             LIMIT 10000)",
        params![i64::try_from(retention.max_rows).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

/// A read-only connection for queries (the CLI's `events` and `rejections` commands).
pub struct Reader {
    conn: Connection,
    /// The store has `events.body_encoding` (schema 4); an older store, opened for inspection
    /// without migrating, keeps every body as received.
    body_encoding: bool,
    /// The store has `rejections.headers` (schema 5).
    rejection_headers: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// An event's stored body, from a row that selects `body`, `body_encoding`, `size` and
/// `body_sha256` by name.
fn stored_body(row: &rusqlite::Row<'_>) -> rusqlite::Result<body::Stored> {
    Ok(body::Stored {
        encoding: row.get("body_encoding")?,
        bytes: row.get("body")?,
        size: row.get("size")?,
        sha256: row.get("body_sha256")?,
    })
}

/// The body as received; a damaged one is [`StoreError::CorruptBody`], never other bytes.
fn decoded(event_id: i64, stored: body::Stored) -> Result<Vec<u8>, StoreError> {
    body::decode(stored).map_err(|e| StoreError::CorruptBody { event_id, reason: e.to_string() })
}

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventSummary> {
    Ok(EventSummary {
        id: row.get("id")?,
        source: row.get("source")?,
        received_at: rfc3339(row.get("received_at")?),
        dedup_key: row.get("dedup_key")?,
        provider_id: row.get("provider_id")?,
        event_type: row.get("event_type")?,
        body_sha256: row.get("body_sha256")?,
        size: row.get("size")?,
        duplicates: row.get("duplicates")?,
    })
}

/// A rejection's listing fields, from columns 0-8 of `id, source, received_at, peer, reason,
/// reason_code, header_names, body_sha256, size`.
fn rejection_record(row: &rusqlite::Row<'_>, body_kept: bool) -> rusqlite::Result<RejectionRecord> {
    let names: String = row.get(6)?;
    Ok(RejectionRecord {
        id: row.get(0)?,
        source: row.get(1)?,
        received_at: rfc3339(row.get(2)?),
        peer: row.get(3)?,
        reason: row.get(4)?,
        reason_code: row.get(5)?,
        header_names: serde_json::from_str(&names).unwrap_or_default(),
        body_sha256: row.get(7)?,
        size: row.get(8)?,
        body_kept,
    })
}

fn delivery_summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeliverySummary> {
    let status: String = row.get(3)?;
    let attempts: i64 = row.get(4)?;
    let pending = status == "pending";
    Ok(DeliverySummary {
        id: row.get(0)?,
        event_id: row.get(1)?,
        target: row.get(2)?,
        status: if pending && attempts > 0 { "failed".to_owned() } else { status },
        attempts,
        next_attempt_at: if pending { Some(rfc3339(row.get(5)?)) } else { None },
        created_at: rfc3339(row.get(6)?),
        delivered_at: row.get::<_, Option<i64>>(7)?.map(rfc3339),
        last_error: row.get(8)?,
    })
}

/// Why an existing file could not be read as a store: not a hookgate store only when it has no
/// migrations table; anything else (a read-only directory, a lock, damage) is said as it is.
fn unreadable(path: &Path, e: rusqlite::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("no such table") || text.contains("file is not a database") {
        return StoreError::Missing(format!("{} (not a hookgate store)", path.display()));
    }
    if matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)) {
        return StoreError::Write(format!(
            "cannot read {}: SQLite must create {}-shm beside a WAL store to read it, and cannot here \
             (a read-only directory?); copy the store to a writable directory to inspect it",
            path.display(),
            path.display()
        ));
    }
    StoreError::Open { path: path.display().to_string(), source: e }
}

impl Reader {
    /// Opens an existing store read-only and checks its schema version.
    ///
    /// # Errors
    /// [`StoreError::Missing`] when there is no database file, or a database error.
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let version: i64 = conn
            .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
            .map_err(|e| unreadable(path, e))?;
        if version > migrate::latest_version() {
            return Err(StoreError::TooNew { found: version, known: migrate::latest_version() });
        }
        Ok(Self { conn, body_encoding: version >= 4, rejection_headers: version >= 5 })
    }

    /// How a query names an event's body encoding on this store's schema.
    fn body_encoding(&self) -> &'static str {
        if self.body_encoding { "body_encoding" } else { "'identity' AS body_encoding" }
    }

    /// Events, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn list_events(&self, filter: &ListFilter) -> Result<Vec<EventSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, source, received_at, dedup_key, provider_id, event_type, body_sha256, size, duplicates
             FROM events WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR received_at >= ?2)
               AND (?4 IS NULL OR received_at < ?4)
               AND (?5 IS NULL OR (received_at, id) < (SELECT received_at, id FROM events WHERE id = ?5))
             ORDER BY received_at DESC, id DESC LIMIT ?3",
        )?;
        let limit = filter.limit.map_or(-1, i64::from);
        let rows =
            stmt.query_map(params![filter.source, filter.since_ms, limit, filter.until_ms, filter.before_id], summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One event with its body, or `None`.
    ///
    /// # Errors
    /// A database error, or [`StoreError::CorruptBody`] when the stored body does not decode to
    /// the bytes received.
    pub fn get_event(&self, id: i64) -> Result<Option<EventRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, source, received_at, dedup_key, provider_id, event_type, body_sha256, size, duplicates,
                    signed_at, headers, metadata, body, {}
             FROM events WHERE id = ?1",
            self.body_encoding()
        ))?;
        let row = stmt
            .query_row(params![id], |row| {
                let headers: String = row.get("headers")?;
                let metadata: String = row.get("metadata")?;
                let record = EventRecord {
                    summary: summary(row)?,
                    signed_at: row.get::<_, Option<i64>>("signed_at")?.map(rfc3339),
                    headers: serde_json::from_str(&headers).unwrap_or_default(),
                    metadata: serde_json::from_str(&metadata).unwrap_or(serde_json::Value::Null),
                    body: Vec::new(),
                };
                Ok((record, stored_body(row)?))
            })
            .optional()?;
        row.map(|(mut record, stored)| {
            record.body = decoded(id, stored)?;
            Ok(record)
        })
        .transpose()
    }

    /// Rejections, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn list_rejections(&self, filter: &ListFilter) -> Result<Vec<RejectionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body IS NOT NULL
             FROM rejections WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR received_at >= ?2)
               AND (?4 IS NULL OR received_at < ?4)
               AND (?5 IS NULL OR (received_at, id) < (SELECT received_at, id FROM rejections WHERE id = ?5))
             ORDER BY received_at DESC, id DESC LIMIT ?3",
        )?;
        let limit = filter.limit.map_or(-1, i64::from);
        let rows = stmt
            .query_map(params![filter.source, filter.since_ms, limit, filter.until_ms, filter.before_id], |row| {
                rejection_record(row, row.get(9)?)
            })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One rejected attempt with its headers and kept body, or `None`.
    ///
    /// # Errors
    /// A database error.
    pub fn get_rejection(&self, id: i64) -> Result<Option<RejectionDetail>, StoreError> {
        let headers = if self.rejection_headers { "headers" } else { "NULL AS headers" };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, source, received_at, peer, reason, reason_code, header_names, body_sha256, size, body, {headers}
             FROM rejections WHERE id = ?1"
        ))?;
        let found = stmt
            .query_row(params![id], |row| {
                let body: Option<Vec<u8>> = row.get(9)?;
                let headers: Option<String> = row.get(10)?;
                Ok(RejectionDetail {
                    record: rejection_record(row, body.is_some())?,
                    headers: headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
                    body,
                })
            })
            .optional()?;
        Ok(found)
    }

    /// Deliveries, newest first. `status` is `pending`, `failed`, `delivered` or `dead`.
    ///
    /// # Errors
    /// A database error.
    pub fn list_deliveries(
        &self,
        status: Option<&str>,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DeliverySummary>, StoreError> {
        self.deliveries(&DeliveryQuery {
            status: status.map(str::to_owned),
            target: target.map(str::to_owned),
            event_id: None,
            limit,
        })
    }

    /// Deliveries matching `q`, newest first.
    ///
    /// # Errors
    /// A database error.
    pub fn deliveries(&self, q: &DeliveryQuery) -> Result<Vec<DeliverySummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error
             FROM deliveries
             WHERE (?1 IS NULL OR target = ?1)
               AND (?2 IS NULL OR (?2 = 'failed' AND status = 'pending' AND attempts > 0)
                               OR (?2 = 'pending' AND status = 'pending' AND attempts = 0)
                               OR (?2 NOT IN ('failed', 'pending') AND status = ?2))
               AND (?4 IS NULL OR event_id = ?4)
             ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![q.target, q.status, q.limit, q.event_id], delivery_summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One delivery with its attempts.
    ///
    /// # Errors
    /// A database error.
    pub fn get_delivery(&self, id: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        let summary = self
            .conn
            .prepare_cached(
                "SELECT id, event_id, target, status, attempts, next_attempt_at, created_at, delivered_at, last_error
                 FROM deliveries WHERE id = ?1",
            )?
            .query_row(params![id], delivery_summary)
            .optional()?;
        let Some(summary) = summary else { return Ok(None) };
        let mut stmt = self.conn.prepare_cached(
            "SELECT started_at, duration_ms, status_code, error, response_excerpt FROM delivery_attempts
             WHERE delivery_id = ?1 ORDER BY id",
        )?;
        let attempts_history = stmt
            .query_map(params![id], |r| {
                let started_at_ms: i64 = r.get(0)?;
                Ok(Attempt {
                    started_at_ms,
                    started_at: rfc3339(started_at_ms),
                    duration_ms: r.get(1)?,
                    status_code: r.get(2)?,
                    error: r.get(3)?,
                    response_excerpt: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(DeliveryRecord { summary, attempts_history }))
    }

    /// Deliveries waiting, failed and dead, and the oldest pending one's age.
    ///
    /// # Errors
    /// A database error.
    pub fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        let now = Timestamp::now().unix_millis();
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'pending' AND attempts > 0), 0),
                    COALESCE(SUM(status = 'dead'), 0), COALESCE(?1 - MIN(CASE WHEN status = 'pending' THEN created_at END), 0)
             FROM deliveries",
            params![now],
            |r| Ok(QueueDepth { pending: r.get(0)?, failed: r.get(1)?, dead: r.get(2)?, oldest_pending_ms: r.get(3)? }),
        )?)
    }

    /// Ids of events of `source` received in `[since, until)` (Unix ms), oldest first.
    ///
    /// # Errors
    /// A database error.
    pub fn event_ids(&self, source: &str, since_ms: i64, until_ms: Option<i64>) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM events WHERE source = ?1 AND received_at >= ?2 AND (?3 IS NULL OR received_at < ?3) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![source, since_ms, until_ms], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The event of a leased delivery.
    fn claimed(&self, delivery_id: i64, event_id: i64, attempts: i64) -> Result<Claimed, StoreError> {
        let mut event = self.conn.prepare_cached(&format!(
            "SELECT source, body, headers, received_at, event_type, size, body_sha256, {} FROM events WHERE id = ?1",
            self.body_encoding()
        ))?;
        let (claimed, stored) = event.query_row(params![event_id], |r| {
            let headers: String = r.get(2)?;
            let claimed = Claimed {
                delivery_id,
                event_id,
                attempts,
                source: r.get(0)?,
                body: Vec::new(),
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                received_at_ms: r.get(3)?,
                event_type: r.get(4)?,
            };
            Ok((claimed, stored_body(r)?))
        })?;
        Ok(Claimed { body: decoded(event_id, stored)?, ..claimed })
    }

    /// The store's schema version.
    ///
    /// # Errors
    /// A database error.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?)
    }

    /// Number of stored events.
    ///
    /// # Errors
    /// A database error.
    pub fn count_events(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?)
    }

    /// Runs SQLite's integrity check; `Ok(())` when the database is sound.
    ///
    /// # Errors
    /// [`StoreError::Write`] with SQLite's report when it is not.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let report: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if report == "ok" { Ok(()) } else { Err(StoreError::Write(report)) }
    }
}
