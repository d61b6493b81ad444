//! A SQLite transaction begun and ended with cached prepared statements.
//!
//! rusqlite's `Transaction` runs `BEGIN …`, `COMMIT` and `ROLLBACK` through `execute_batch`, which
//! parses the SQL every time. The writer commits every batch and the dedup index every chunk, and
//! that parsing was about a tenth of the writer thread's instructions (callgrind, 1 KiB events).

use std::ops::Deref;

use rusqlite::Connection;

/// An open transaction on `conn`: committed by [`CachedTx::commit`], rolled back when dropped
/// otherwise (including after a failed commit), as rusqlite's `Transaction` does.
pub(crate) struct CachedTx<'c> {
    conn: &'c Connection,
    committed: bool,
}

impl<'c> CachedTx<'c> {
    /// `BEGIN IMMEDIATE` (the write lock now) or `BEGIN` (deferred).
    pub(crate) fn begin(conn: &'c Connection, immediate: bool) -> rusqlite::Result<Self> {
        conn.prepare_cached(if immediate { "BEGIN IMMEDIATE" } else { "BEGIN" })?.execute([])?;
        Ok(Self { conn, committed: false })
    }

    pub(crate) fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.committed = true;
        Ok(())
    }
}

impl Deref for CachedTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for CachedTx<'_> {
    fn drop(&mut self) {
        // SQLite may have ended the transaction itself (some I/O errors roll it back).
        if !self.committed && !self.conn.is_autocommit() {
            let _ = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn commits_or_rolls_back_and_can_begin_again() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        {
            let tx = CachedTx::begin(&conn, true).unwrap();
            tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
            tx.commit().unwrap();
        }
        {
            let tx = CachedTx::begin(&conn, false).unwrap();
            tx.execute("INSERT INTO t VALUES (2)", []).unwrap();
            // Dropped without commit: undone.
        }
        assert!(conn.is_autocommit(), "no transaction left open");
        assert_eq!(count(&conn), 1);
        for i in 0..3 {
            let tx = CachedTx::begin(&conn, true).unwrap();
            tx.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(count(&conn), 4);
    }
}
