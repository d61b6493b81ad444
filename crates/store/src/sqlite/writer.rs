//! The writer thread: takes every queued command into one transaction (group commit).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::cached_tx::CachedTx;
use super::checkpoint::{Checkpoints, WAL_AUTOCHECKPOINT_PAGES};
use super::command::{Cmd, Done, Waiter};
use super::dedup::DedupIndex;
use super::sql::{admin, claim, finish, insert_event, insert_rejection, probe, prune_rejections};
use super::wal_sync::{SYNC_FAILED, WalSync};
use crate::error::StoreError;
use crate::throttle::LogThrottle;
use crate::{PendingRejections, StoreOptions};

/// Shared counters the writer keeps up to date.
pub(super) struct WriterCounters<'a> {
    pub(super) pending: &'a PendingRejections,
    pub(super) queued: &'a AtomicUsize,
    pub(super) commits: &'a AtomicU64,
    pub(super) sync_failed: &'a AtomicBool,
}

/// Commits with `synchronous=NORMAL` and makes them durable on the sync thread (`wal_sync`), when
/// the store is durable. `None` (SQLite syncs every commit itself, FULL) if the log file cannot be
/// opened, which is slower but as safe.
pub(super) fn start_wal_sync(
    conn: &Connection,
    path: &Path,
    failed: &Arc<AtomicBool>,
) -> Option<WalSync<Vec<(Waiter, Done)>>> {
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

pub(super) fn writer_loop(
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
