//! What only the SQLite store has: a file lock another process can hold, a bounded writer queue,
//! and SQLite's own integrity check. The behaviour both stores share is in `conformance.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hookgate_store::{Durability, Inserted, NewEvent, Reader, SqliteStore, StoreError, StoreOptions};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hookgate-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("hookgate.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn event(key: &str) -> NewEvent {
    NewEvent {
        source: "flinks".into(),
        received_at_ms: 1_700_000_000_000,
        dedup_key: key.into(),
        provider_id: None,
        event_type: None,
        signed_at_ms: None,
        body: b"{}".to_vec(),
        body_sha256: "00".repeat(32),
        headers: Vec::new(),
        metadata: serde_json::json!({}),
        targets: Vec::new(),
    }
}

fn open(dir: &TempDir, options: StoreOptions) -> SqliteStore {
    SqliteStore::open(&dir.db(), Durability::Full, options).unwrap()
}

fn rusqlite_conn(dir: &TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.db()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_fails_the_write_instead_of_acknowledging() {
    let dir = TempDir::new("locked");
    let options = StoreOptions { busy_timeout: Duration::from_millis(100), ..StoreOptions::default() };
    let store = open(&dir, options);
    let blocker = rusqlite_conn(&dir);
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = store.insert_event(event("x")).await.unwrap_err();
    assert!(matches!(err, StoreError::Write(_)), "{err}");
    blocker.execute_batch("COMMIT").unwrap();
    // Once the lock is gone the same event is stored (the provider's retry).
    assert!(matches!(store.insert_event(event("x")).await.unwrap(), Inserted::New(_)));
}

#[tokio::test]
async fn a_full_queue_is_overload_not_a_silent_drop() {
    let dir = TempDir::new("overload");
    let options =
        StoreOptions { queue_capacity: 1, busy_timeout: Duration::from_millis(300), ..StoreOptions::default() };
    let store = Arc::new(open(&dir, options));
    let blocker = rusqlite_conn(&dir);
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let s1 = Arc::clone(&store);
    let first = tokio::spawn(async move { s1.insert_event(event("1")).await });
    tokio::time::sleep(Duration::from_millis(50)).await; // the writer now waits on the lock
    let s2 = Arc::clone(&store);
    let second = tokio::spawn(async move { s2.insert_event(event("2")).await });
    tokio::time::sleep(Duration::from_millis(20)).await; // the queue holds the second
    let third = store.insert_event(event("3")).await;
    assert!(matches!(third, Err(StoreError::Overloaded)), "{third:?}");
    blocker.execute_batch("COMMIT").unwrap();
    let _ = first.await.unwrap();
    let _ = second.await.unwrap();
}

#[tokio::test]
async fn a_closed_store_has_a_sound_file_and_a_short_log() {
    let dir = TempDir::new("close");
    let store = open(&dir, StoreOptions::default());
    for i in 0..500 {
        store.insert_event(event(&i.to_string())).await.unwrap();
    }
    store.close();
    let reader = Reader::open_existing(&dir.db()).unwrap();
    reader.integrity_check().unwrap();
    assert_eq!(reader.count_events().unwrap(), 500);
    let wal = dir.0.join("hookgate.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "checkpointed at shutdown");
}
