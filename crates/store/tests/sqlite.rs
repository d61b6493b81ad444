//! The SQLite store against real database files (one temporary directory per test).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hookgate_store::{
    Durability, Inserted, ListFilter, NewEvent, NewRejection, Reader, RejectionRetention, SqliteOptions, SqliteStore,
    StoreError,
};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "hookgate-store-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
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

fn event(source: &str, key: &str, body: &[u8]) -> NewEvent {
    NewEvent {
        source: source.into(),
        received_at_ms: 1_700_000_000_000,
        dedup_key: key.into(),
        provider_id: None,
        event_type: Some("KYC".into()),
        signed_at_ms: None,
        body: body.to_vec(),
        body_sha256: "00".repeat(32),
        headers: vec![("x-flinks-signature".into(), "abc=".into())],
        metadata: serde_json::json!({"response_type": "KYC"}),
        targets: vec!["kyc".into()],
    }
}

fn rejection(i: i64) -> NewRejection {
    NewRejection {
        source: "flinks".into(),
        received_at_ms: 1_700_000_000_000 + i,
        peer: Some("127.0.0.1:1".into()),
        reason: "signature mismatch".into(),
        reason_code: "signature_mismatch".into(),
        header_names: vec!["x-flinks-signature".into()],
        body_sha256: "11".repeat(32),
        size: 3,
        body: None,
    }
}

fn open(dir: &TempDir, options: SqliteOptions) -> SqliteStore {
    SqliteStore::open(&dir.db(), Durability::Full, options).unwrap()
}

#[tokio::test]
async fn stores_exact_bytes_and_deduplicates() {
    let dir = TempDir::new("dedup");
    let store = open(&dir, SqliteOptions::default());
    let body = b"\xff\x00{\"not\": utf8}\r\n".to_vec();
    let first = store.insert_event(event("flinks", "k1", &body)).await.unwrap();
    assert!(matches!(first, Inserted::New(_)));
    let again = store.insert_event(event("flinks", "k1", &body)).await.unwrap();
    assert_eq!(again, Inserted::Duplicate(first.id()));
    // The same key under another source is another event.
    assert!(matches!(store.insert_event(event("fin", "k1", &body)).await.unwrap(), Inserted::New(_)));
    let got = store.read(|r| r.get_event(first.id())).unwrap().unwrap();
    assert_eq!(got.body, body);
    assert_eq!(got.summary.duplicates, 1);
    assert_eq!(got.summary.received_at, "2023-11-14T22:13:20Z");
    assert_eq!(store.read(Reader::count_events).unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_share_commits_and_all_land() {
    let dir = TempDir::new("group");
    let store = Arc::new(open(&dir, SqliteOptions::default()));
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store.insert_event(event("flinks", &format!("k{i}"), format!("body {i}").as_bytes())).await
            })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), Inserted::New(_)));
    }
    store.close();
    let reader = Reader::open_existing(&dir.db()).unwrap();
    assert_eq!(reader.count_events().unwrap(), 300);
    reader.integrity_check().unwrap();
    let listed = reader.list_events(&ListFilter { limit: Some(5), ..Default::default() }).unwrap();
    assert_eq!(listed.len(), 5);
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "newest first");
}

#[tokio::test]
async fn reopening_keeps_everything_and_migrations_run_once() {
    let dir = TempDir::new("reopen");
    {
        let store = open(&dir, SqliteOptions::default());
        store.insert_event(event("flinks", "a", b"1")).await.unwrap();
    }
    let store = open(&dir, SqliteOptions::default());
    assert_eq!(store.read(Reader::count_events).unwrap(), 1);
    assert_eq!(store.insert_event(event("flinks", "a", b"1")).await.unwrap(), Inserted::Duplicate(1));
}

#[tokio::test]
async fn a_store_from_a_newer_hookgate_is_refused() {
    let dir = TempDir::new("newer");
    drop(open(&dir, SqliteOptions::default()));
    let conn = rusqlite_conn(&dir);
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)", []).unwrap();
    drop(conn);
    let err = SqliteStore::open(&dir.db(), Durability::Full, SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 999, .. }), "{err}");
}

fn rusqlite_conn(dir: &TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.db()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_fails_the_write_instead_of_acknowledging() {
    let dir = TempDir::new("locked");
    let options = SqliteOptions { busy_timeout: Duration::from_millis(100), ..SqliteOptions::default() };
    let store = open(&dir, options);
    let blocker = rusqlite_conn(&dir);
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = store.insert_event(event("flinks", "x", b"1")).await.unwrap_err();
    assert!(matches!(err, StoreError::Write(_)), "{err}");
    blocker.execute_batch("COMMIT").unwrap();
    // Once the lock is gone the same event is stored (the provider's retry).
    assert!(matches!(store.insert_event(event("flinks", "x", b"1")).await.unwrap(), Inserted::New(_)));
}

#[tokio::test]
async fn a_full_queue_is_overload_not_a_silent_drop() {
    let dir = TempDir::new("overload");
    let options =
        SqliteOptions { queue_capacity: 1, busy_timeout: Duration::from_millis(300), ..SqliteOptions::default() };
    let store = Arc::new(open(&dir, options));
    let blocker = rusqlite_conn(&dir);
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let s1 = Arc::clone(&store);
    let first = tokio::spawn(async move { s1.insert_event(event("flinks", "1", b"1")).await });
    tokio::time::sleep(Duration::from_millis(50)).await; // the writer now waits on the lock
    let s2 = Arc::clone(&store);
    let second = tokio::spawn(async move { s2.insert_event(event("flinks", "2", b"2")).await });
    tokio::time::sleep(Duration::from_millis(20)).await; // the queue holds the second
    let third = store.insert_event(event("flinks", "3", b"3")).await;
    assert!(matches!(third, Err(StoreError::Overloaded)), "{third:?}");
    blocker.execute_batch("COMMIT").unwrap();
    let _ = first.await.unwrap();
    let _ = second.await.unwrap();
}

#[tokio::test]
async fn rejections_are_logged_and_bounded_by_retention() {
    let dir = TempDir::new("retention");
    let options = SqliteOptions {
        rejection_retention: RejectionRetention { max_rows: 50, max_age_secs: 365 * 24 * 3600 * 100 },
        ..SqliteOptions::default()
    };
    let store = open(&dir, options);
    for i in 0..1200 {
        assert!(store.record_rejection(rejection(i)));
        if i % 100 == 0 {
            store.flush().await.unwrap();
        }
    }
    store.flush().await.unwrap();
    let rows = store.read(|r| r.list_rejections(&ListFilter::default())).unwrap();
    // Pruned once 1,000 had arrived; at most 50 plus what came after the prune remain.
    assert!(rows.len() <= 50 + 200, "{}", rows.len());
    assert_eq!(rows[0].received_at, hookgate_verify_ts(1_700_000_000_000 + 1199));
    assert_eq!(rows[0].reason_code, "signature_mismatch");
    assert!(!rows[0].body_kept);
}

fn hookgate_verify_ts(ms: i64) -> String {
    // 1_700_000_001_199 ms → 2023-11-14T22:13:21.199Z
    let secs = ms / 1000;
    assert_eq!(secs, 1_700_000_001);
    format!("2023-11-14T22:13:21.{:03}Z", ms % 1000)
}

#[tokio::test]
async fn inspection_of_a_missing_store_is_an_error_not_a_new_file() {
    let dir = TempDir::new("missing");
    let err = Reader::open_existing(&dir.db()).unwrap_err();
    assert!(matches!(err, StoreError::Missing(_)));
    assert!(!dir.db().exists());
}

#[tokio::test]
async fn the_outbox_is_written_with_the_event_and_claims_lease() {
    use hookgate_store::{AdminOp, Attempt, Finished, Next};
    let dir = TempDir::new("outbox");
    let store = open(&dir, SqliteOptions::default());
    let id = store.insert_event(event("flinks", "a", b"{}")).await.unwrap().id();
    // A duplicate creates no second delivery.
    store.insert_event(event("flinks", "a", b"{}")).await.unwrap();
    let claimed = store.claim("kyc", 10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].event_id, claimed[0].attempts, claimed[0].body.as_slice()), (id, 0, &b"{}"[..]));
    // Leased: a second claim gets nothing; another target gets nothing.
    assert!(store.claim("kyc", 10, Duration::from_secs(30)).await.unwrap().is_empty());
    assert!(store.claim("other", 10, Duration::from_secs(30)).await.unwrap().is_empty());
    let attempt = |code| Attempt {
        started_at_ms: 1_700_000_000_000,
        started_at: String::new(),
        duration_ms: 12,
        status_code: Some(code),
        error: Some(format!("http {code}")),
        response_excerpt: Some("nope".into()),
    };
    let d = claimed[0].delivery_id;
    store.finish(Finished { delivery_id: d, attempt: attempt(500), next: Next::Retry(0) }).await.unwrap();
    let again = store.claim("kyc", 10, Duration::from_secs(30)).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store.finish(Finished { delivery_id: d, attempt: attempt(500), next: Next::Dead }).await.unwrap();
    let rec = store.read(|r| r.get_delivery(d)).unwrap().unwrap();
    assert_eq!((rec.summary.status.as_str(), rec.summary.attempts, rec.attempts_history.len()), ("dead", 2, 2));
    assert_eq!(store.read(|r| r.queue_depth()).unwrap().dead, 1);
    // Operators: retry the dead, replay the event.
    assert_eq!(store.admin(AdminOp::RetryDead { target: None }).await.unwrap(), 1);
    assert_eq!(store.read(|r| r.list_deliveries(Some("pending"), None, 10)).unwrap().len(), 1);
    assert_eq!(store.admin(AdminOp::Replay { event_ids: vec![id], target: Some("audit".into()) }).await.unwrap(), 1);
    assert_eq!(store.claim("audit", 10, Duration::from_secs(30)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_expired_lease_makes_the_delivery_due_again() {
    let dir = TempDir::new("lease");
    let store = open(&dir, SqliteOptions::default());
    store.insert_event(event("flinks", "a", b"{}")).await.unwrap();
    assert_eq!(store.claim("kyc", 10, Duration::from_millis(1)).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The worker that held it died; the next claim gets it again.
    assert_eq!(store.claim("kyc", 10, Duration::from_secs(30)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_ordered_target_takes_the_oldest_pending_delivery_only() {
    use hookgate_store::{Attempt, Finished, Next};
    let dir = TempDir::new("ordered");
    let store = open(&dir, SqliteOptions::default());
    for k in ["a", "b", "c"] {
        store.insert_event(event("flinks", k, b"{}")).await.unwrap();
    }
    let lease = Duration::from_secs(30);
    let first = store.claim_with("kyc", 10, true, lease).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(store.claim_with("kyc", 10, true, lease).await.unwrap().is_empty(), "leased: the rest wait");
    let attempt = Attempt {
        started_at_ms: 0,
        started_at: String::new(),
        duration_ms: 1,
        status_code: Some(500),
        error: None,
        response_excerpt: None,
    };
    let later = hookgate_verify::Timestamp::now().unix_millis() + 60_000;
    store
        .finish(Finished { delivery_id: first[0].delivery_id, attempt: attempt.clone(), next: Next::Retry(later) })
        .await
        .unwrap();
    assert!(store.claim_with("kyc", 10, true, lease).await.unwrap().is_empty(), "head of line waits for its retry");
    // Unordered claims would take the other two meanwhile.
    assert_eq!(store.claim("kyc", 10, Duration::from_millis(1)).await.unwrap().len(), 2);
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.finish(Finished { delivery_id: first[0].delivery_id, attempt, next: Next::Delivered }).await.unwrap();
    let second = store.claim_with("kyc", 10, true, lease).await.unwrap();
    assert_eq!(second[0].delivery_id, first[0].delivery_id + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_queue_count_returns_to_zero() {
    let dir = TempDir::new("queued");
    let store = Arc::new(open(&dir, SqliteOptions::default()));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let s = Arc::clone(&store);
            tokio::spawn(async move { s.insert_event(event("flinks", &format!("q{i}"), b"{}")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    store.flush().await.unwrap();
    assert_eq!(store.queued(), 0, "delivery workers would otherwise think the writer stays busy");
}

#[tokio::test]
async fn pruning_removes_old_fully_delivered_events_only() {
    use hookgate_store::{AdminOp, Attempt, Finished, Next};
    let dir = TempDir::new("prune");
    let store = open(&dir, SqliteOptions::default());
    let old =
        |key: &str, targets: Vec<String>| NewEvent { received_at_ms: 1_000, targets, ..event("flinks", key, b"{}") };
    let delivered = store.insert_event(old("delivered", vec!["kyc".into()])).await.unwrap().id();
    let pending = store.insert_event(old("pending", vec!["other".into()])).await.unwrap().id();
    let no_targets = store.insert_event(old("none", vec![])).await.unwrap().id();
    let now = hookgate_verify::Timestamp::now().unix_millis();
    let recent =
        store.insert_event(NewEvent { received_at_ms: now, ..event("flinks", "recent", b"{}") }).await.unwrap().id();
    let claimed = store.claim("kyc", 10, Duration::from_secs(30)).await.unwrap();
    let attempt = Attempt {
        started_at_ms: 2_000,
        started_at: String::new(),
        duration_ms: 1,
        status_code: Some(200),
        error: None,
        response_excerpt: None,
    };
    for c in claimed.iter().filter(|c| c.event_id == delivered || c.event_id == recent) {
        store
            .finish(Finished { delivery_id: c.delivery_id, attempt: attempt.clone(), next: Next::Delivered })
            .await
            .unwrap();
    }
    let cutoff = hookgate_verify::Timestamp::now().unix_millis() - 60_000;
    assert_eq!(store.admin(AdminOp::Prune { before_ms: cutoff, limit: 1000 }).await.unwrap(), 2);
    let left: Vec<i64> = store.read(|r| r.list_events(&ListFilter::default())).unwrap().iter().map(|e| e.id).collect();
    assert!(
        left.contains(&pending) && left.contains(&recent) && !left.contains(&delivered) && !left.contains(&no_targets),
        "{left:?}"
    );
    assert_eq!(
        store.read(|r| r.list_deliveries(None, Some("kyc"), 10)).unwrap().len(),
        1,
        "the recent one's delivery stays"
    );
}

#[tokio::test]
async fn opening_without_migrating_refuses_an_outdated_store() {
    let dir = TempDir::new("nomigrate");
    let no = SqliteOptions { migrate: false, ..SqliteOptions::default() };
    let err = SqliteStore::open(&dir.db(), Durability::Full, no.clone()).unwrap_err();
    assert!(matches!(err, StoreError::NotMigrated { found: 0, .. }), "{err}");
    drop(open(&dir, SqliteOptions::default()));
    SqliteStore::open(&dir.db(), Durability::Full, no).unwrap();
}
