//! The SQLite store's dedup index, kept in a file of its own beside the database
//! (`hookgate.db-dedup`).
//!
//! Why not a `UNIQUE (source, dedup_key)` index in the database: dedup keys are random (a body
//! hash, a provider's random delivery id), so every event dirtied a different leaf of that index,
//! and SQLite's WAL writes whole pages — one random 4 KiB page per event, written to the log, fsynced
//! with the commit and written again by the checkpoint. Measured, that halved ingest
//! (bench/results/2026-11-24-ingest-investigation.md). Here the events table only grows at its end,
//! and the random inserts go to this small-page file, which is not fsynced per commit.
//!
//! The file is derived data, so it may lag behind the database and is rebuilt from it:
//! - entries are 64-bit hashes of (source, key) with the event id; a hash match is confirmed by
//!   reading the event's own source and key, so a collision never turns an event into a duplicate;
//! - keys of committed events not yet in the file are kept in memory and consulted too;
//! - the file records the highest event id it holds and the id of its store: on open, the events
//!   after that id are indexed again (a crash lost the file's last writes), and a file that belongs
//!   to another store, is ahead of the database, cannot be read, or was not closed before the
//!   machine restarted, is rebuilt from the events; a read or write error while running marks it
//!   broken and the writer rebuilds it before its next batch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::Digest as _;

use super::cached_tx::CachedTx;
use crate::error::StoreError;

/// The dedup hash of a key: the first 8 bytes of SHA-256(source, NUL, key).
pub(crate) fn key_hash(source: &str, key: &str) -> i64 {
    let mut h = sha2::Sha256::new();
    h.update(source.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// This boot of the machine (Linux); `None` where unknown, which makes every unclean shutdown
/// count as a reboot.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_owned())
}

/// Where the index of the database at `db` lives.
pub(crate) fn index_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-dedup");
    PathBuf::from(name)
}

/// The dedup index, owned by the writer thread.
pub(crate) struct DedupIndex {
    conn: Connection,
    /// Keys of events committed (or in the transaction being written) that the file lacks.
    pending: HashMap<i64, Vec<i64>>,
    /// Added in the open transaction: undone if it fails, written to the file once it commits.
    in_batch: Vec<(i64, i64)>,
    /// Committed, not yet in the file.
    unindexed: Vec<(i64, i64)>,
    /// Events removed in the open transaction, whose entries go once it commits.
    removed_in_batch: Vec<(i64, i64)>,
    /// Removed, not yet out of the file.
    unremoved: Vec<(i64, i64)>,
    last_write: std::time::Instant,
    /// The file failed a read or a write: rebuild before the next batch.
    broken: bool,
    /// The database this indexes (the file is `index_path(db)`).
    db: PathBuf,
    /// No rebuild is tried before this (a rebuild that fails, on a full disk, reads every event).
    next_repair: std::time::Instant,
}

/// Between two rebuilds of an index that could not be rebuilt.
const REPAIR_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How far the open transaction's changes to the index had gone (see `DedupIndex::mark`).
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    added: usize,
    removed: usize,
}

/// Keys are written to the file in chunks (fewer transactions, several keys per page) once this
/// many are waiting or `WRITE_EVERY` has passed; until then they are consulted in memory.
const WRITE_AT: usize = 128;
const WRITE_EVERY: std::time::Duration = std::time::Duration::from_millis(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS keys (hash INTEGER NOT NULL, event_id INTEGER NOT NULL, PRIMARY KEY (hash, event_id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
";

fn open_file(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(2))?;
    // Small pages: a random insert rewrites one page, so 1 KiB pages write a quarter of what the
    // default 4 KiB would (only effective when the file is created).
    conn.pragma_update(None, "page_size", 1024)?;
    // Only the writer thread ever opens this file: no file locks per transaction, no shared memory.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))?;
    // Derived data, so never fsynced: after a process crash the file is consistent (the kernel
    // has every write; WAL ignores a torn last transaction) and only lags behind, which `open`
    // catches up on; after the machine itself went down it may be damaged, so `open` rebuilds it
    // then (see `unclean_reboot`). Measured: fsyncs here cost ~20% of ingest throughput.
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

fn meta(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()
}

impl DedupIndex {
    /// Opens (or creates, or rebuilds) the index of the database `main` at `db`, and indexes the
    /// events it lacks.
    pub(crate) fn open(main: &Connection, db: &Path) -> Result<Self, StoreError> {
        let path = index_path(db);
        let store_id: String =
            main.query_row("SELECT value FROM store_meta WHERE name = 'store_id'", [], |r| r.get(0))?;
        let max_id: i64 = main.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?;
        let conn = match open_file(&path) {
            Ok(conn) => conn,
            // Held by another process (a gateway on the same store): never touch its file.
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                return Err(StoreError::InUse(path.display().to_string()));
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "The dedup index cannot be read; rebuilding it.");
                remove_files(&path);
                open_file(&path)?
            }
        };
        let mut index = Self::with(conn, db, false);
        let indexed_upto: i64 = meta(&index.conn, "indexed_upto")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let boot = boot_id();
        let unclean_reboot = meta(&index.conn, "clean")?.as_deref() == Some("0")
            && (boot.is_none() || meta(&index.conn, "boot_id")? != boot);
        let mut from = indexed_upto;
        if meta(&index.conn, "store_id")?.as_deref() != Some(store_id.as_str())
            || indexed_upto > max_id
            || unclean_reboot
        {
            if indexed_upto > 0 {
                tracing::warn!(path = %path.display(), unclean_reboot, "Rebuilding the dedup index from the events.");
            }
            index.conn.execute_batch("DELETE FROM keys; DELETE FROM meta;")?;
            index.conn.execute("INSERT INTO meta (name, value) VALUES ('store_id', ?1)", params![store_id])?;
            from = 0;
        }
        index.catch_up(main, from)?;
        // Open until `close` says otherwise; with the boot it was opened in.
        index.conn.execute(
            "INSERT INTO meta (name, value) VALUES ('clean', '0'), ('boot_id', ?1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![boot.unwrap_or_default()],
        )?;
        Ok(index)
    }

    /// Indexes the events after `from`, in chunks.
    fn catch_up(&mut self, main: &Connection, from: i64) -> Result<(), StoreError> {
        let mut stmt =
            main.prepare("SELECT id, source, dedup_key FROM events WHERE id > ?1 ORDER BY id LIMIT 10000")?;
        let mut from = from;
        let mut total = 0usize;
        loop {
            let rows: Vec<(i64, i64)> = stmt
                .query_map(params![from], |r| {
                    let (id, source, key): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                    Ok((key_hash(&source, &key), id))
                })?
                .collect::<Result<_, _>>()?;
            let Some(&(_, last)) = rows.last() else { break };
            self.write(&rows, &[])?;
            total += rows.len();
            from = last;
        }
        if total > 0 {
            tracing::info!(events = total, "Indexed events for deduplication.");
        }
        Ok(())
    }

    /// An index that could not be opened or rebuilt at start-up (a full disk): every insert fails
    /// until the writer rebuilds it (`repair_if_broken`), so the gateway serves degraded — 503 and
    /// not ready — instead of exiting and being restarted in a loop.
    pub(crate) fn unavailable(db: &Path) -> Result<Self, StoreError> {
        Ok(Self::with(Connection::open_in_memory()?, db, true))
    }

    /// An index on `conn` with nothing pending.
    fn with(conn: Connection, db: &Path, broken: bool) -> Self {
        Self {
            conn,
            pending: HashMap::new(),
            in_batch: Vec::new(),
            unindexed: Vec::new(),
            removed_in_batch: Vec::new(),
            unremoved: Vec::new(),
            last_write: std::time::Instant::now(),
            broken,
            db: db.to_owned(),
            next_repair: std::time::Instant::now(),
        }
    }

    /// Whether inserts cannot be deduplicated now (the file failed and is not rebuilt yet).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Rebuilds a file that failed (the writer calls this between batches), at most once per
    /// `REPAIR_EVERY`.
    pub(crate) fn repair_if_broken(&mut self, main: &Connection) {
        static LOG: crate::throttle::LogThrottle =
            crate::throttle::LogThrottle::new(std::time::Duration::from_secs(30));
        if !self.broken || std::time::Instant::now() < self.next_repair {
            return;
        }
        self.next_repair = std::time::Instant::now() + REPAIR_EVERY;
        let path = index_path(&self.db);
        let log = LOG.admit();
        if let Some(suppressed) = log {
            tracing::error!(path = %path.display(), suppressed, "The dedup index failed; rebuilding it from the events.");
        }
        // Our own connection holds the file's exclusive lock: close it before removing the file.
        drop(std::mem::replace(
            &mut self.conn,
            match Connection::open_in_memory() {
                Ok(c) => c,
                Err(_) => return,
            },
        ));
        remove_files(&path);
        let db = self.db.clone();
        match Self::open(main, &db) {
            Ok(fresh) => {
                *self = fresh;
                tracing::info!(path = %path.display(), "The dedup index is rebuilt; events are stored again.");
            }
            Err(e) => {
                if log.is_some() {
                    tracing::error!(error = %e, "Rebuilding the dedup index failed; will retry every second.");
                }
            }
        }
    }

    /// Ids of events whose key may be this one (confirm by reading the event).
    pub(crate) fn candidates(&mut self, hash: i64) -> rusqlite::Result<Vec<i64>> {
        let found: rusqlite::Result<Vec<i64>> = self
            .conn
            .prepare_cached("SELECT event_id FROM keys WHERE hash = ?1")
            .and_then(|mut stmt| stmt.query_map(params![hash], |r| r.get(0))?.collect());
        let mut ids = found.inspect_err(|_| self.broken = true)?;
        if let Some(more) = self.pending.get(&hash) {
            ids.extend(more);
        }
        Ok(ids)
    }

    /// Where the open transaction's changes stand, to undo one command's (its savepoint was
    /// rolled back) with `undo_to`.
    pub(crate) fn mark(&self) -> Mark {
        Mark { added: self.in_batch.len(), removed: self.removed_in_batch.len() }
    }

    /// A new event in the open transaction.
    pub(crate) fn add(&mut self, hash: i64, id: i64) {
        self.pending.entry(hash).or_default().push(id);
        self.in_batch.push((hash, id));
    }

    /// The command that made the changes after `mark` was rolled back.
    pub(crate) fn undo_to(&mut self, mark: Mark) {
        for (hash, id) in self.in_batch.split_off(mark.added) {
            self.forget(hash, id);
        }
        self.removed_in_batch.truncate(mark.removed);
    }

    /// An event removed (pruned) in the open transaction.
    pub(crate) fn remove(&mut self, hash: i64, id: i64) {
        self.removed_in_batch.push((hash, id));
    }

    fn forget(&mut self, hash: i64, id: i64) {
        if let Some(ids) = self.pending.get_mut(&hash) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.pending.remove(&hash);
            }
        }
    }

    /// The transaction was rolled back: nothing of it happened.
    pub(crate) fn rolled_back(&mut self) {
        self.undo_to(Mark { added: 0, removed: 0 });
    }

    /// The transaction committed: its keys go to the file with the next chunk (in memory until
    /// that is written).
    pub(crate) fn committed(&mut self) {
        self.unindexed.append(&mut self.in_batch);
        let removed = std::mem::take(&mut self.removed_in_batch);
        for &(hash, id) in &removed {
            self.forget(hash, id);
        }
        self.unremoved.extend(removed);
        if self.unindexed.len() + self.unremoved.len() >= WRITE_AT || self.last_write.elapsed() >= WRITE_EVERY {
            self.flush();
        }
    }

    /// Writes what is waiting; on failure it stays in memory and is tried again later (or indexed
    /// again from the events on the next open).
    pub(crate) fn flush(&mut self) {
        self.last_write = std::time::Instant::now();
        let added = std::mem::take(&mut self.unindexed);
        let removed = std::mem::take(&mut self.unremoved);
        match self.write(&added, &removed) {
            Ok(()) => {
                for (hash, id) in added {
                    self.forget(hash, id);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Writing the dedup index failed; rebuilding it.");
                self.broken = true;
                self.unindexed = added;
                self.unremoved = removed;
            }
        }
    }

    fn write(&mut self, added: &[(i64, i64)], removed: &[(i64, i64)]) -> Result<(), StoreError> {
        if added.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let tx = CachedTx::begin(&self.conn, false)?;
        {
            let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO keys (hash, event_id) VALUES (?1, ?2)")?;
            for (hash, id) in added {
                insert.execute(params![hash, id])?;
            }
            let mut delete = tx.prepare_cached("DELETE FROM keys WHERE hash = ?1 AND event_id = ?2")?;
            for (hash, id) in removed {
                delete.execute(params![hash, id])?;
            }
            if let Some(top) = added.iter().map(|&(_, id)| id).max() {
                tx.prepare_cached(
                    "INSERT INTO meta (name, value) VALUES ('indexed_upto', ?1)
                     ON CONFLICT (name) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                )?
                .execute(params![top.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Writes what is waiting, marks the file closed cleanly and leaves a short log behind.
    pub(crate) fn close(&mut self) {
        self.flush();
        if self.unindexed.is_empty() && self.unremoved.is_empty() && !self.broken {
            let _ = self.conn.execute("UPDATE meta SET value = '1' WHERE name = 'clean'", []);
        }
        if let Err(e) = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "Dedup index checkpoint at shutdown failed.");
        }
    }
}
