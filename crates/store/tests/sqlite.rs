//! What only the SQLite store has: a file lock another process can hold, a bounded writer queue,
//! and SQLite's own integrity check. The behaviour both stores share is in `conformance.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hookgate_store::{Durability, Inserted, NewEvent, Reader, SqliteStore, StoreError, StoreOptions};

/// A directory of the test's own, removed when dropped (`hookgate-test-support`).
struct TempDir(hookgate_test_support::TempDir);

impl TempDir {
    fn new(name: &str) -> Self {
        Self(hookgate_test_support::TempDir::new(&format!("store-{name}")))
    }
    fn db(&self) -> PathBuf {
        self.0.join("hookgate.db")
    }
}

fn event(key: &str) -> NewEvent {
    hookgate_store::testing::event(key)
}

/// An event carrying `body`, with its real digest (a compressed body is checked against it).
fn event_with(key: &str, body: Vec<u8>, targets: &[&str]) -> NewEvent {
    let body_sha256 = hookgate_store::sha256_hex(&body);
    NewEvent { body, body_sha256, targets: targets.iter().map(|t| (*t).to_owned()).collect(), ..event(key) }
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

// The dedup index file (`hookgate.db-dedup`): derived from the events, so losing, lagging behind
// or colliding in it never loses an event, and a retry is still recognised.

fn dedup_file(dir: &TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.0.join("hookgate.db-dedup")).unwrap()
}

fn hash(source: &str, key: &str) -> i64 {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(source.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    i64::from_be_bytes(h.finalize()[..8].try_into().unwrap())
}

async fn stored(dir: &TempDir, n: usize) -> Vec<hookgate_store::EventId> {
    let store = open(dir, StoreOptions::default());
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(store.insert_event(event(&format!("k{i}"))).await.unwrap().id());
    }
    store.close();
    ids
}

#[tokio::test]
async fn a_lost_dedup_index_is_rebuilt_and_retries_are_still_recognised() {
    let dir = TempDir::new("dedup-lost");
    let ids = stored(&dir, 50).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.0.join(format!("hookgate.db-dedup{suffix}")));
    }
    let store = open(&dir, StoreOptions::default());
    assert_eq!(store.insert_event(event("k17")).await.unwrap(), Inserted::Duplicate(ids[17]));
    assert!(matches!(store.insert_event(event("new")).await.unwrap(), Inserted::New(_)));
}

#[tokio::test]
async fn a_dedup_index_left_behind_by_a_crash_catches_up() {
    let dir = TempDir::new("dedup-lag");
    let ids = stored(&dir, 50).await;
    {
        // As after a SIGKILL: the last keys never reached the file, which was not closed.
        let f = dedup_file(&dir);
        f.execute("DELETE FROM keys WHERE event_id > ?1", [ids[29]]).unwrap();
        f.execute("UPDATE meta SET value = ?1 WHERE name = 'indexed_upto'", [ids[29].to_string()]).unwrap();
        f.execute("UPDATE meta SET value = '0' WHERE name = 'clean'", []).unwrap();
    }
    let store = open(&dir, StoreOptions::default());
    assert_eq!(store.insert_event(event("k45")).await.unwrap(), Inserted::Duplicate(ids[45]));
    assert_eq!(store.insert_event(event("k3")).await.unwrap(), Inserted::Duplicate(ids[3]));
}

#[tokio::test]
async fn a_dedup_index_not_closed_before_a_reboot_is_rebuilt() {
    let dir = TempDir::new("dedup-reboot");
    let ids = stored(&dir, 20).await;
    {
        // Claims to be complete, but the machine went down with it open: not to be trusted.
        let f = dedup_file(&dir);
        f.execute("DELETE FROM keys", []).unwrap();
        f.execute("UPDATE meta SET value = '0' WHERE name = 'clean'", []).unwrap();
        f.execute("UPDATE meta SET value = 'another-boot' WHERE name = 'boot_id'", []).unwrap();
    }
    let store = open(&dir, StoreOptions::default());
    assert_eq!(store.insert_event(event("k11")).await.unwrap(), Inserted::Duplicate(ids[11]));
}

#[tokio::test]
async fn a_hash_collision_never_turns_an_event_into_a_duplicate() {
    let dir = TempDir::new("dedup-collision");
    let ids = stored(&dir, 1).await;
    // Make key "b" look, by hash, like the stored event of key "k0".
    dedup_file(&dir)
        .execute("INSERT INTO keys (hash, event_id) VALUES (?1, ?2)", [hash("flinks", "b"), ids[0].0])
        .unwrap();
    let store = open(&dir, StoreOptions::default());
    let b = store.insert_event(event("b")).await.unwrap();
    assert!(matches!(b, Inserted::New(id) if id != ids[0]), "{b:?}");
    assert_eq!(store.insert_event(event("b")).await.unwrap(), Inserted::Duplicate(b.id()));
    assert_eq!(store.insert_event(event("k0")).await.unwrap(), Inserted::Duplicate(ids[0]));
}

#[tokio::test]
async fn a_dedup_index_from_another_store_is_not_trusted() {
    let dir = TempDir::new("dedup-foreign");
    let other = TempDir::new("dedup-foreign-other");
    let ids = stored(&dir, 10).await;
    {
        let o = open(&other, StoreOptions::default());
        for i in 0..3 {
            o.insert_event(event(&format!("x{i}"))).await.unwrap();
        }
    }
    // Its file says "indexed up to 3" — of the other store's events, not of these.
    std::fs::copy(other.0.join("hookgate.db-dedup"), dir.0.join("hookgate.db-dedup")).unwrap();
    let store = open(&dir, StoreOptions::default());
    assert_eq!(store.insert_event(event("k0")).await.unwrap(), Inserted::Duplicate(ids[0]));
    assert_eq!(store.insert_event(event("k9")).await.unwrap(), Inserted::Duplicate(ids[9]));
}

#[tokio::test]
async fn event_ids_are_never_reused_after_pruning() {
    let dir = TempDir::new("dedup-ids");
    let store = open(&dir, StoreOptions::default());
    let old = |k: &str| NewEvent { received_at_ms: 1_000, ..event(k) };
    store.insert_event(old("a")).await.unwrap();
    let newest = store.insert_event(old("b")).await.unwrap().id();
    let pruned = store.admin(hookgate_store::AdminOp::Prune { before_ms: 2_000, limit: 10 }).await.unwrap();
    assert_eq!(pruned, 2);
    let next = store.insert_event(event("c")).await.unwrap().id();
    assert!(next > newest, "a target deduplicating on evt_{newest} must never see that id again");
    // The pruned keys left the index: their retry is a new event.
    assert!(matches!(store.insert_event(old("b")).await.unwrap(), Inserted::New(_)));
}

#[tokio::test]
async fn pruning_an_event_removes_its_metadata_index_rows() {
    let dir = TempDir::new("terms-prune");
    let store = open(&dir, StoreOptions::default());
    let tagged = |k: &str, at: i64| NewEvent {
        received_at_ms: at,
        metadata: serde_json::json!({"tag": {"userId": k}, "codes": [1, 2]}),
        ..event(k)
    };
    store.insert_event(tagged("a", 1_000)).await.unwrap();
    store.insert_event(tagged("b", i64::MAX / 2)).await.unwrap();
    let rows =
        || rusqlite_conn(&dir).query_row("SELECT COUNT(*) FROM event_terms", [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(rows(), 2, "one row per event");
    assert_eq!(store.admin(hookgate_store::AdminOp::Prune { before_ms: 2_000, limit: 10 }).await.unwrap(), 1);
    assert_eq!(rows(), 1, "the pruned event's row left with it");
}

#[tokio::test]
async fn an_operator_handle_works_beside_the_gateway_and_leaves_its_dedup_index_alone() {
    let dir = TempDir::new("dedup-operator");
    let gateway = open(&dir, StoreOptions::default());
    let id = gateway.insert_event(event("a")).await.unwrap().id();
    // `hookgate replay` / `retry` open the store like this while the gateway runs.
    let operator = open(&dir, StoreOptions { take_events: false, ..StoreOptions::default() });
    let err = operator.insert_event(event("b")).await.unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly), "{err}");
    operator.admin(hookgate_store::AdminOp::RetryDead { target: None }).await.unwrap();
    operator.close();
    assert_eq!(gateway.insert_event(event("a")).await.unwrap(), Inserted::Duplicate(id));
    // A second gateway on the same file is refused instead of sharing the index.
    let err = SqliteStore::open(&dir.db(), Durability::Full, StoreOptions::default()).unwrap_err();
    assert!(err.to_string().contains("in use by another hookgate process"), "{err}");
    // Also under another name for the same file: the lock is on the real file, not the path.
    let alias = dir.db().with_file_name("alias.db");
    std::os::unix::fs::symlink(dir.db(), &alias).unwrap();
    let err = SqliteStore::open(&alias, Durability::Full, StoreOptions::default()).unwrap_err();
    assert!(err.to_string().contains("in use by another hookgate process"), "through a symlink: {err}");
    let dotted = dir.db().parent().unwrap().join(".").join(dir.db().file_name().unwrap());
    let err = SqliteStore::open(&dotted, Durability::Full, StoreOptions::default()).unwrap_err();
    assert!(err.to_string().contains("in use by another hookgate process"), "through `.`: {err}");
}

#[tokio::test]
async fn a_prune_that_fails_leaves_the_dedup_index_as_it_was() {
    let dir = TempDir::new("dedup-prune-fails");
    {
        let store = open(&dir, StoreOptions::default());
        store.insert_event(NewEvent { received_at_ms: 1_000, ..event("old") }).await.unwrap();
        store.close();
    }
    // Make the prune's delete fail after it has picked its events.
    rusqlite_conn(&dir)
        .execute_batch("CREATE TRIGGER keep_events BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'kept'); END;")
        .unwrap();
    let store = open(&dir, StoreOptions::default());
    let pruned = store.admin(hookgate_store::AdminOp::Prune { before_ms: 2_000, limit: 10 }).await;
    assert!(pruned.is_err(), "{pruned:?}");
    tokio::time::sleep(Duration::from_millis(30)).await; // past the index's write interval
    store.flush().await.unwrap();
    // The event is still there, so its retry is still a duplicate.
    assert!(matches!(
        store.insert_event(NewEvent { received_at_ms: 1_000, ..event("old") }).await.unwrap(),
        Inserted::Duplicate(_)
    ));
}

// A batch is written without a savepoint per command; a command that fails half-way (its event
// row written, its delivery refused) must still fail alone and leave nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_event_in_a_batch_fails_alone_and_the_rest_are_stored() {
    let dir = TempDir::new("batch-poison");
    let store = Arc::new(open(&dir, StoreOptions::default()));
    store.insert_event(event("first")).await.unwrap();
    rusqlite_conn(&dir)
        .execute_batch(
            "CREATE TRIGGER poison BEFORE INSERT ON deliveries WHEN NEW.target = 'poison'
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
        )
        .unwrap();
    let poisoned = |key: &str| NewEvent { targets: vec!["ok".into(), "poison".into()], ..event(key) };
    let commits_before = store.commits();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let s = Arc::clone(&store);
        let ev =
            if i == 30 { poisoned("bad") } else { NewEvent { targets: vec!["ok".into()], ..event(&format!("k{i}")) } };
        tasks.push(tokio::spawn(async move { (ev.dedup_key.clone(), s.insert_event(ev).await) }));
    }
    for t in tasks {
        let (key, result) = t.await.unwrap();
        if key == "bad" {
            assert!(matches!(result, Err(StoreError::Write(_))), "{result:?}");
        } else {
            assert!(matches!(result, Ok(Inserted::New(_))), "{key}: {result:?}");
        }
    }
    assert!(store.commits() - commits_before < 60, "the good events still share commits");
    // The others are stored with their deliveries; of the failed one neither the event nor its
    // first delivery nor its dedup key is left.
    assert_eq!(store.read(|r| r.count_events()).unwrap(), 60);
    let deliveries: i64 = rusqlite_conn(&dir).query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0)).unwrap();
    assert_eq!(deliveries, 59);
    assert!(matches!(store.insert_event(event("k1")).await.unwrap(), Inserted::Duplicate(_)));
    rusqlite_conn(&dir).execute_batch("DROP TRIGGER poison").unwrap();
    assert!(matches!(store.insert_event(poisoned("bad")).await.unwrap(), Inserted::New(_)));
}

// The durable writer checkpoints itself (SQLite's autocheckpoint is off so that no answer waits
// for one): the log must stay bounded while the store is open, not grow with every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stays_bounded_under_sustained_writes() {
    let dir = TempDir::new("wal-bounded");
    let store = Arc::new(open(&dir, StoreOptions::default()));
    let body = vec![b'x'; 4000];
    let mut tasks = Vec::new();
    for t in 0..16 {
        let s = Arc::clone(&store);
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..200 {
                let ev = NewEvent { body: body.clone(), ..event(&format!("{t}-{i}")) };
                s.insert_event(ev).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // 3,200 events of 4 KB: ~13 MB went through the log.
    let wal = std::fs::metadata(dir.0.join("hookgate.db-wal")).unwrap().len();
    assert!(wal < 4 << 20, "the log is {wal} bytes");
    assert_eq!(store.read(|r| r.count_events()).unwrap(), 3200);
}

/// A Flinks-style JSON body of `len` bytes (compressible, like real webhook bodies).
fn json_body(len: usize) -> Vec<u8> {
    let mut s = String::from("{\"ResponseType\":\"GetAccountsDetail\",\"Transactions\":[");
    let mut i = 0u64;
    while s.len() < len {
        s.push_str(&format!("{{\"Description\":\"SHELL C{i}\",\"Debit\":{}.79,\"Credit\":null}},", i * 31 % 997));
        i += 1;
    }
    s.truncate(len);
    s.into_bytes()
}

/// Bytes no compressor shrinks, and that are not UTF-8.
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0] | 0x80
        })
        .collect()
}

/// `(body_encoding, stored length)` of each event, by id, read from the file itself.
fn stored_forms(dir: &TempDir) -> Vec<(i64, String, i64)> {
    let conn = rusqlite_conn(dir);
    let mut stmt = conn.prepare("SELECT id, body_encoding, length(body) FROM events ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn large_bodies_are_kept_compressed_and_always_read_back_exactly() {
    let dir = TempDir::new("compressed-bodies");
    let store = open(&dir, StoreOptions::default());
    let bodies = [json_body(16 * 1024), noise(8 * 1024), json_body(2047), json_body(2048)];
    let mut ids = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let ev = event_with(&format!("k{i}"), body.clone(), &["t"]);
        ids.push(store.insert_event(ev).await.unwrap().id());
    }
    // The same bytes through the operator's read and through a delivery.
    for (id, body) in ids.iter().zip(&bodies) {
        let record = store.read(|r| r.get_event(*id)).unwrap().unwrap();
        assert_eq!(&record.body, body, "event {id}");
        assert_eq!(record.summary.size, i64::try_from(body.len()).unwrap());
    }
    let mut claimed = store.claim("t", 10, false, Duration::from_secs(30)).await.unwrap();
    claimed.sort_by_key(|c| c.event_id);
    assert_eq!(claimed.iter().map(|c| &c.body).collect::<Vec<_>>(), bodies.iter().collect::<Vec<_>>());
    store.close();
    drop(store);

    let forms = stored_forms(&dir);
    assert_eq!(forms[0].1, "lz4", "a 16 KiB JSON body is compressed");
    assert!(forms[0].2 < 8 * 1024, "to less than half: {}", forms[0].2);
    assert_eq!((forms[1].1.as_str(), forms[1].2), ("identity", 8 * 1024), "noise is kept as received");
    assert_eq!((forms[2].1.as_str(), forms[2].2), ("identity", 2047), "below 2 KiB: as received");
    assert_eq!(forms[3].1, "lz4");
}

#[tokio::test]
async fn with_compression_off_every_body_is_kept_as_received() {
    let dir = TempDir::new("uncompressed-bodies");
    let store = open(&dir, StoreOptions { compress_bodies: false, ..StoreOptions::default() });
    let body = json_body(16 * 1024);
    let id = store.insert_event(event_with("a", body.clone(), &[])).await.unwrap().id();
    assert_eq!(store.read(|r| r.get_event(id)).unwrap().unwrap().body, body);
    store.close();
    drop(store);
    assert_eq!(stored_forms(&dir), vec![(id.0, "identity".to_owned(), 16 * 1024)]);
}

#[tokio::test]
async fn a_damaged_compressed_body_is_an_error_and_dead_letters_only_its_own_delivery() {
    let dir = TempDir::new("damaged-body");
    let store = open(&dir, StoreOptions::default());
    let with_target = |k: &str| event_with(k, json_body(16 * 1024), &["t"]);
    let damaged = store.insert_event(with_target("a")).await.unwrap().id();
    let sound = store.insert_event(with_target("b")).await.unwrap().id();
    store.close();
    drop(store);
    // One byte of the stored block changed, its length kept.
    rusqlite_conn(&dir)
        .execute(
            "UPDATE events SET body = CAST(substr(body, 1, 200) || x'00' || substr(body, 202) AS BLOB) WHERE id = ?1",
            [damaged],
        )
        .unwrap();
    let reader = Reader::open_existing(&dir.db()).unwrap();
    let err = reader.get_event(damaged).unwrap_err();
    assert!(matches!(err, StoreError::CorruptBody { event_id, .. } if event_id == damaged.0), "{err}");
    assert_eq!(reader.get_event(sound).unwrap().unwrap().body, json_body(16 * 1024));

    // Delivery: the sound event is handed out, the damaged one's delivery is dead with the reason.
    let store = open(&dir, StoreOptions::default());
    let claimed = store.claim("t", 10, false, Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed.iter().map(|c| c.event_id).collect::<Vec<_>>(), vec![sound]);
    let dead = store
        .read(|r| {
            r.deliveries(&hookgate_store::DeliveryQuery {
                status: Some(hookgate_store::DeliveryStatus::Dead),
                target: Some("t".into()),
                event_id: None,
                before_id: None,
                limit: 10,
            })
        })
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_id, damaged);
    assert!(dead[0].last_error.as_deref().unwrap_or_default().contains(&format!("event {damaged}")), "{dead:?}");
}

#[tokio::test]
async fn a_store_from_before_body_encodings_can_be_inspected_without_migrating() {
    let dir = TempDir::new("schema-3-bodies");
    let store = open(&dir, StoreOptions { compress_bodies: false, ..StoreOptions::default() });
    let body = noise(4096);
    let id = store.insert_event(event_with("a", body.clone(), &[])).await.unwrap().id();
    store.close();
    drop(store);
    // Back to schema 3, as a store written by the previous release.
    let conn = rusqlite_conn(&dir);
    conn.execute_batch(
        "ALTER TABLE deliveries DROP COLUMN origin; ALTER TABLE deliveries DROP COLUMN revived;
         ALTER TABLE delivery_attempts DROP COLUMN request; ALTER TABLE delivery_attempts DROP COLUMN response_headers;
         ALTER TABLE rejections DROP COLUMN diagnosis; ALTER TABLE events DROP COLUMN pii; DROP TABLE secret_matches;
         ALTER TABLE events DROP COLUMN body_encoding; ALTER TABLE rejections DROP COLUMN headers;
         DROP TABLE jobs; DROP TABLE audit; DROP TABLE event_terms;
         DELETE FROM schema_migrations WHERE version >= 4",
    )
    .unwrap();
    drop(conn);
    let reader = Reader::open_existing(&dir.db()).unwrap();
    assert_eq!(reader.schema_version().unwrap(), 3);
    assert_eq!(reader.get_event(id).unwrap().unwrap().body, body);
    // Opening it for writing migrates it; the old body reads back the same.
    let store = open(&dir, StoreOptions::default());
    assert_eq!(store.read(|r| r.get_event(id)).unwrap().unwrap().body, body);
}

#[tokio::test]
async fn a_store_from_before_rejection_headers_shows_its_rejections_without_migrating() {
    let dir = TempDir::new("schema-4-rejections");
    let store = open(&dir, StoreOptions::default());
    store.record_rejection(hookgate_store::NewRejection {
        source: "flinks".into(),
        received_at_ms: 1_000,
        peer: None,
        reason: "signature mismatch".into(),
        reason_code: "signature_mismatch".into(),
        header_names: vec!["x-flinks-signature".into()],
        headers: vec![("x-flinks-signature".into(), hookgate_store::HeaderBytes::from("AAAA"))],
        body_sha256: "00".repeat(32),
        size: 0,
        body: None,
        diagnosis: None,
    });
    store.flush().await.unwrap();
    store.close();
    drop(store);
    let conn = rusqlite_conn(&dir);
    conn.execute_batch(
        "ALTER TABLE deliveries DROP COLUMN origin; ALTER TABLE deliveries DROP COLUMN revived;
         ALTER TABLE delivery_attempts DROP COLUMN request; ALTER TABLE delivery_attempts DROP COLUMN response_headers;
         ALTER TABLE rejections DROP COLUMN diagnosis; ALTER TABLE events DROP COLUMN pii; DROP TABLE secret_matches;
         ALTER TABLE rejections DROP COLUMN headers; DROP TABLE jobs; DROP TABLE audit; DROP TABLE event_terms;
         DELETE FROM schema_migrations WHERE version >= 5",
    )
    .unwrap();
    drop(conn);
    let reader = Reader::open_existing(&dir.db()).unwrap();
    assert_eq!(reader.schema_version().unwrap(), 4);
    let r = reader.get_rejection(hookgate_store::RejectionId(1)).unwrap().unwrap();
    assert!(r.headers.is_empty(), "values were not kept then");
    assert_eq!(r.record.header_names, vec!["x-flinks-signature".to_owned()]);
}
