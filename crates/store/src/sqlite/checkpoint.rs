//! Checkpoints of the pipelined writer, on a thread of their own.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::StoreError;

/// SQLite's checkpoint interval in log pages (see `open_writer` for the measurement).
pub(super) const WAL_AUTOCHECKPOINT_PAGES: i64 = 250;

/// Checkpoints of the pipelined writer (SQLite's own autocheckpoint is off then). A checkpoint
/// copies the log into the database and `fsync`s both, which held the writer (and every request
/// queued behind it) for 5–10 ms about twenty times a second; now a background thread does that
/// copy every `WAL_AUTOCHECKPOINT_PAGES` frames while the writer goes on. Those passes cannot
/// finish the log while it keeps growing, so past `WAL_RESTART_FRAMES` the writer copies the last
/// frames itself between transactions (little is left, and the database is mostly synced), and
/// the next commit starts the log from its beginning: the log stays bounded.
pub(super) struct Checkpoints {
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
    pub(super) fn start(
        conn: &mut Connection,
        busy_timeout: Duration,
        failed: &Arc<AtomicBool>,
    ) -> Result<Self, StoreError> {
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
    pub(super) fn committed(&mut self, conn: &Connection) {
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

    pub(super) fn finish(self) {
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
    pub(super) fn start(db: &Path, busy_timeout: Duration, failed: Arc<AtomicBool>) -> Result<Self, StoreError> {
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

    pub(super) fn wake(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }

    pub(super) fn finish(mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
