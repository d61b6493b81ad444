//! One test suite, run against both stores: every test below runs once on SQLite (a temporary
//! file) and once on PostgreSQL (a schema of its own in the machine's database; under `CI=true`
//! an unreachable database fails the run instead of skipping).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hookgate_store::testing::PgTestSchema;
use hookgate_store::{
    AdminOp, Attempt, EventQuery, Finished, Inserted, NewEvent, NewRejection, Next, RejectionQuery, RejectionRetention,
    Store, StoreError, StoreOptions, StoreUrl,
};

/// Where a test's store lives; removed when dropped.
enum Backend {
    Sqlite(PathBuf),
    Postgres(PgTestSchema),
}

impl Backend {
    fn sqlite(name: &str) -> Self {
        Backend::Sqlite(hookgate_test_support::TempDir::new(&format!("conformance-{name}")).keep())
    }

    fn url(&self) -> StoreUrl {
        match self {
            Backend::Sqlite(dir) => {
                StoreUrl::parse(&format!("sqlite://{}", dir.join("hookgate.db").display())).unwrap()
            }
            Backend::Postgres(schema) => StoreUrl::parse(&schema.url()).unwrap(),
        }
    }

    async fn open(&self, options: StoreOptions) -> Store {
        Store::open(&self.url(), options).await.unwrap()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Sqlite(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

mod queries;

use self::queries::*;

/// Generates `sqlite::NAME` and `postgres::NAME` for each test function.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::sqlite(stringify!($name))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let schema = hookgate_store::testing::PgTestSchema::new(stringify!($name)).await;
                    super::$name(super::Backend::Postgres(schema)).await;
                }
            )*
        }
    };
}

on_both_stores!(
    stores_exact_bytes_and_deduplicates,
    a_cancelled_delivery_is_never_attempted_and_its_event_can_be_pruned,
    concurrent_inserts_share_commits_and_all_land,
    duplicates_within_one_batch_are_stored_once,
    reopening_keeps_everything_and_migrations_run_once,
    opening_without_migrating_refuses_an_outdated_store,
    a_store_from_before_the_metadata_index_has_its_events_indexed_by_the_migration,
    a_store_from_a_newer_hookgate_is_refused,
    diagnoses_pii_marks_and_secret_counts_are_kept,
    inspection_never_creates_a_store_and_refuses_writes,
    rejections_are_logged_and_bounded_by_retention,
    the_outbox_is_written_with_the_event_and_claims_lease,
    an_expired_lease_makes_the_delivery_due_again,
    an_ordered_target_takes_the_oldest_pending_delivery_only,
    a_late_finish_does_not_undo_a_delivered_delivery,
    the_writer_queue_count_returns_to_zero,
    pruning_removes_old_fully_delivered_events_only,
    replay_by_source_and_time_window,
    odd_text_from_a_verified_body_is_stored,
    deliveries_page_by_cursor_without_gaps_or_repeats,
    a_job_batch_commits_its_deliveries_and_cursor_together_and_stops_once_cancelled,
    event_queries_filter_by_type_text_status_and_id,
    metadata_terms_find_the_events_carrying_every_value,
    stats_count_per_source_and_target_with_windows,
);

async fn deliveries_page_by_cursor_without_gaps_or_repeats(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    for i in 0..5 {
        store.insert_event(event("flinks", &format!("p{i}"), b"{}")).await.unwrap();
    }
    let page = |before_id| hookgate_store::DeliveryQuery { before_id, limit: 2, ..Default::default() };
    let first = store.deliveries(&page(None)).await.unwrap();
    assert_eq!(first.len(), 2);
    // One more arrives between pages: the next page neither repeats nor skips.
    store.insert_event(event("flinks", "late", b"{}")).await.unwrap();
    let mut seen: Vec<hookgate_store::DeliveryId> = first.iter().map(|d| d.id).collect();
    let mut cursor = seen.last().copied();
    loop {
        let next = store.deliveries(&page(cursor)).await.unwrap();
        if next.is_empty() {
            break;
        }
        seen.extend(next.iter().map(|d| d.id));
        cursor = next.last().map(|d| d.id);
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "newest first, no repeats");
    assert_eq!(seen.len(), 5, "every delivery that existed at the first page, once");
    store.close().await;
}

fn event(source: &str, key: &str, body: &[u8]) -> NewEvent {
    NewEvent {
        source: source.into(),
        received_at_ms: 1_700_000_000_000,
        dedup_key: key.into(),
        provider_id: None,
        event_type: Some("KYC".into()),
        signed_at_ms: Some(1_700_000_000_000),
        body: body.to_vec(),
        body_sha256: "00".repeat(32),
        headers: vec![("x-flinks-signature".into(), "abc=".into())],
        metadata: serde_json::json!({"response_type": "KYC", "tag": {"userId": "12345"}}),
        targets: vec!["kyc".into()],
        pii: vec![],
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
        headers: vec![("x-flinks-signature".into(), hookgate_store::HeaderBytes::new(b"c2ln\xff".to_vec()))],
        body_sha256: "11".repeat(32),
        size: 3,
        body: (i % 2 == 0).then(|| b"abc".to_vec()),
        diagnosis: None,
    }
}

fn attempt(code: i64) -> Attempt {
    Attempt {
        started_at_ms: 1_700_000_000_000,
        duration_ms: 12,
        status_code: Some(code),
        error: (code >= 300).then(|| format!("http {code}")),
        response_excerpt: Some("nope".into()),
        request: Some(format!(r#"{{"method":"POST","status_asked":{code}}}"#)),
        response_headers: Some(r#"[["retry-after","5"]]"#.into()),
    }
}

const LEASE: Duration = Duration::from_secs(30);

async fn stores_exact_bytes_and_deduplicates(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let body = b"\xff\x00{\"not\": utf8}\r\n".to_vec();
    let first = store.insert_event(event("flinks", "k1", &body)).await.unwrap();
    assert!(matches!(first, Inserted::New(_)));
    let again = store.insert_event(event("flinks", "k1", &body)).await.unwrap();
    assert_eq!(again, Inserted::Duplicate(first.id()));
    // The same key under another source is another event.
    assert!(matches!(store.insert_event(event("fin", "k1", &body)).await.unwrap(), Inserted::New(_)));
    let got = store.get_event(first.id()).await.unwrap().unwrap();
    assert_eq!(got.body, body);
    assert_eq!(got.summary.duplicates, 1);
    assert_eq!(got.summary.received_at_ms, 1_700_000_000_000, "2023-11-14T22:13:20Z");
    assert_eq!(got.signed_at_ms, Some(1_700_000_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(got.headers, vec![("x-flinks-signature".to_owned(), hookgate_store::HeaderBytes::from("abc="))]);
    assert_eq!(got.metadata["tag"]["userId"], "12345");
    assert_eq!(store.count_events().await.unwrap(), 2);
    assert!(store.get_event(hookgate_store::EventId(9_999_999)).await.unwrap().is_none());
    let listed = store.list_events(&EventQuery { source: Some("fin".into()), ..Default::default() }).await.unwrap();
    assert_eq!((listed.len(), listed[0].source.as_str(), listed[0].size), (1, "fin", body.len() as i64));
    store.close().await;
}

async fn concurrent_inserts_share_commits_and_all_land(b: Backend) {
    let store = Arc::new(b.open(StoreOptions::default()).await);
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
    // Group commit: requests that arrive while a commit is in progress share the next one.
    let commits = store.commits();
    assert!(commits > 0 && commits < 150, "{commits} commits for 300 concurrent events");
    store.close().await;
    let reader = Store::inspect(&b.url()).await.unwrap();
    assert_eq!(reader.count_events().await.unwrap(), 300);
    let listed = reader.list_events(&EventQuery { limit: Some(5), ..Default::default() }).await.unwrap();
    assert_eq!(listed.len(), 5);
    assert!(listed.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    // One delivery per event, none lost in the batching.
    assert_eq!(reader.queue_depth().await.unwrap().pending, 300);
}

async fn duplicates_within_one_batch_are_stored_once(b: Backend) {
    // A provider retry can arrive while the first attempt is still waiting for its commit: both
    // land in the same batch. One is the event, the other its duplicate, and one delivery.
    let store = Arc::new(b.open(StoreOptions::default()).await);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.insert_event(event("flinks", &format!("k{}", i % 4), b"{}")).await })
        })
        .collect();
    let mut new = 0;
    for t in tasks {
        if let Inserted::New(_) = t.await.unwrap().unwrap() {
            new += 1;
        }
    }
    assert_eq!(new, 4);
    assert_eq!(store.count_events().await.unwrap(), 4);
    let events = store.list_events(&EventQuery::default()).await.unwrap();
    assert_eq!(events.iter().map(|e| e.duplicates).sum::<i64>(), 36);
    assert_eq!(store.queue_depth().await.unwrap().pending, 4);
    store.close().await;
}

async fn reopening_keeps_everything_and_migrations_run_once(b: Backend) {
    let id = {
        let store = b.open(StoreOptions::default()).await;
        let id = store.insert_event(event("flinks", "a", b"1")).await.unwrap().id();
        store.close().await;
        id
    };
    let store = b.open(StoreOptions::default()).await;
    assert_eq!(store.count_events().await.unwrap(), 1);
    assert_eq!(store.schema_version().await.unwrap(), hookgate_store::migrate::latest_version());
    assert_eq!(store.insert_event(event("flinks", "a", b"1")).await.unwrap(), Inserted::Duplicate(id));
    store.close().await;
}

async fn opening_without_migrating_refuses_an_outdated_store(b: Backend) {
    let no = StoreOptions { migrate: false, ..StoreOptions::default() };
    let err = Store::open(&b.url(), no.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotMigrated { found: 0, .. }), "{err}");
    b.open(StoreOptions::default()).await.close().await;
    Store::open(&b.url(), no).await.unwrap().close().await;
}

/// Runs SQL on the test's store behind its back (a store as another version left it).
async fn raw_sql(b: &Backend, sql: &str) {
    match b {
        Backend::Sqlite(dir) => {
            let conn = rusqlite::Connection::open(dir.join("hookgate.db")).unwrap();
            conn.execute_batch(sql).unwrap();
        }
        Backend::Postgres(schema) => {
            let base = std::env::var(hookgate_store::testing::POSTGRES_URL_ENV)
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            client.batch_execute(&format!("SET search_path TO {}; {sql}", schema.schema())).await.unwrap();
        }
    }
}

async fn a_store_from_before_the_metadata_index_has_its_events_indexed_by_the_migration(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let tagged = |k: &str, user: &str| NewEvent {
        metadata: serde_json::json!({"tag": {"userId": user}}),
        ..event("flinks", k, b"{}")
    };
    let mut want = Vec::new();
    for i in 0..12 {
        let id = store.insert_event(tagged(&format!("k{i}"), if i % 4 == 0 { "u0" } else { "other" })).await.unwrap();
        if i % 4 == 0 {
            want.insert(0, id.id());
        }
    }
    store.close().await;
    // As version 6 left it: no index (and nothing of versions 8 and 9).
    let drop = match &b {
        Backend::Sqlite(_) => "DROP TABLE event_terms",
        Backend::Postgres(_) => "DROP INDEX events_terms; ALTER TABLE events DROP COLUMN terms",
    };
    let undo_8 = "ALTER TABLE rejections DROP COLUMN diagnosis; ALTER TABLE events DROP COLUMN pii; \
                  DROP TABLE secret_matches; ALTER TABLE deliveries DROP COLUMN origin; \
                  ALTER TABLE deliveries DROP COLUMN revived; ALTER TABLE delivery_attempts DROP COLUMN request; \
                  ALTER TABLE delivery_attempts DROP COLUMN response_headers";
    raw_sql(&b, &format!("{drop}; {undo_8}; DELETE FROM schema_migrations WHERE version >= 7")).await;
    let store = b.open(StoreOptions::default()).await;
    let q = EventQuery {
        metadata_terms: vec![hookgate_store::MetadataTerm {
            path: vec!["tag".into(), "userId".into()],
            value: serde_json::json!("u0"),
        }],
        ..Default::default()
    };
    assert_eq!(store.list_events(&q).await.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(), want);
    store.close().await;
}

async fn diagnoses_pii_marks_and_secret_counts_are_kept(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let found = vec![hookgate_store::Diagnosed { cause: "body-reserialized".into(), detail: "2-space".into() }];
    store.record_rejection(NewRejection { diagnosis: Some(found.clone()), ..rejection(1) });
    store.record_rejection(NewRejection { diagnosis: Some(vec![]), ..rejection(2) });
    store.record_rejection(rejection(3));
    store.flush().await.unwrap();
    let rows = store.list_rejections(&RejectionQuery::default()).await.unwrap();
    let got: Vec<_> = rows.iter().map(|r| r.diagnosis.clone()).collect();
    assert_eq!(got, vec![None, Some(vec![]), Some(found.clone())], "newest first");
    assert_eq!(store.get_rejection(rows[2].id).await.unwrap().unwrap().record.diagnosis, Some(found));

    let mark = hookgate_store::PiiMark { key: "email".into(), kind: "email".into() };
    let marked = store.insert_event(NewEvent { pii: vec![mark.clone()], ..event("flinks", "p", b"{}") }).await.unwrap();
    let plain = store.insert_event(event("flinks", "q", b"{}")).await.unwrap();
    assert_eq!(store.get_event(marked.id()).await.unwrap().unwrap().pii, vec![mark]);
    assert!(store.get_event(plain.id()).await.unwrap().unwrap().pii.is_empty());

    let report = |secret: &str, fp: &str, n: i64, at: Option<i64>| hookgate_store::SecretMatches {
        source: "flinks".into(),
        secret: secret.into(),
        fingerprint: fp.into(),
        matches: n,
        last_matched_at_ms: at,
    };
    store
        .admin(AdminOp::SecretMatches(vec![
            report("new", "aaaa0000", 0, None),
            report("old", "bbbb1111", 3, Some(5_000)),
        ]))
        .await
        .unwrap();
    store.close().await;
    // Another node (or the same after a restart) adds its own; a relabel keeps the counts.
    let store = b.open(StoreOptions::default()).await;
    store
        .admin(AdminOp::SecretMatches(vec![
            report("2026-12", "aaaa0000", 2, Some(9_000)),
            report("old", "bbbb1111", 1, Some(4_000)),
        ]))
        .await
        .unwrap();
    let counts: Vec<_> = store
        .secret_matches()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.secret, m.fingerprint, m.matches, m.last_matched_at_ms))
        .collect();
    assert_eq!(
        counts,
        vec![("2026-12".into(), "aaaa0000".into(), 2, Some(9_000)), ("old".into(), "bbbb1111".into(), 4, Some(5_000)),]
    );
    store.close().await;
}

async fn a_store_from_a_newer_hookgate_is_refused(b: Backend) {
    b.open(StoreOptions::default()).await.close().await;
    raw_sql(&b, "INSERT INTO schema_migrations VALUES (999, 'future', 0)").await;
    let err = Store::open(&b.url(), StoreOptions::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 999, .. }), "{err}");
    let err = Store::inspect(&b.url()).await.unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 999, .. }), "{err}");
}

async fn inspection_never_creates_a_store_and_refuses_writes(b: Backend) {
    let err = Store::inspect(&b.url()).await.unwrap_err();
    assert!(matches!(err, StoreError::Missing(_)), "{err}");
    if let Backend::Sqlite(dir) = &b {
        assert!(!dir.join("hookgate.db").exists());
    }
    b.open(StoreOptions::default()).await.close().await;
    let reader = Store::inspect(&b.url()).await.unwrap();
    let err = reader.insert_event(event("flinks", "a", b"1")).await.unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly), "{err}");
    assert!(!reader.record_rejection(rejection(1)));
    assert_eq!(reader.count_events().await.unwrap(), 0);
}

async fn rejections_are_logged_and_bounded_by_retention(b: Backend) {
    let options = StoreOptions {
        rejection_retention: RejectionRetention { max_rows: 50, max_age_secs: 365 * 24 * 3600 * 100 },
        ..StoreOptions::default()
    };
    let store = b.open(options).await;
    for i in 0..1200 {
        assert!(store.record_rejection(rejection(i)));
        if i % 100 == 0 {
            store.flush().await.unwrap();
        }
    }
    store.flush().await.unwrap();
    // Pruning runs after the commit that crossed 1,000 rejections, beside the next writes.
    let mut rows = store.list_rejections(&RejectionQuery::default()).await.unwrap();
    for _ in 0..100 {
        if rows.len() <= 50 + 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        rows = store.list_rejections(&RejectionQuery::default()).await.unwrap();
    }
    assert!(rows.len() <= 50 + 200, "{}", rows.len());
    assert_eq!(rows[0].received_at_ms, 1_700_000_001_199, "2023-11-14T22:13:21.199Z");
    assert_eq!(rows[0].reason_code, "signature_mismatch");
    assert_eq!(rows[0].header_names, vec!["x-flinks-signature".to_owned()]);
    assert!(!rows[0].body_kept, "odd rows keep no body");
    assert!(rows[1].body_kept);
    let limited = store.list_rejections(&RejectionQuery { limit: Some(3), ..Default::default() }).await.unwrap();
    assert_eq!(limited.len(), 3);
    // One in full: its header values (exact bytes) and the body it kept.
    let kept = store.get_rejection(rows[1].id).await.unwrap().unwrap();
    assert_eq!(kept.headers[0].1.as_bytes(), b"c2ln\xff");
    assert_eq!(kept.body.as_deref(), Some(&b"abc"[..]));
    let without = store.get_rejection(rows[0].id).await.unwrap().unwrap();
    assert!(without.body.is_none() && !without.record.body_kept);
    assert!(store.get_rejection(hookgate_store::RejectionId(9_999_999)).await.unwrap().is_none());
    store.close().await;
}

async fn the_outbox_is_written_with_the_event_and_claims_lease(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let id = store.insert_event(event("flinks", "a", b"{}")).await.unwrap().id();
    // A duplicate creates no second delivery.
    store.insert_event(event("flinks", "a", b"{}")).await.unwrap();
    let claimed = store.claim("kyc", 10, false, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].event_id, claimed[0].attempts, claimed[0].body.as_slice()), (id, 0, &b"{}"[..]));
    assert_eq!((claimed[0].source.as_str(), claimed[0].event_type.as_deref()), ("flinks", Some("KYC")));
    assert_eq!(claimed[0].headers.len(), 1);
    // Leased: a second claim gets nothing; another target gets nothing.
    assert!(store.claim("kyc", 10, false, LEASE).await.unwrap().is_empty());
    assert!(store.claim("other", 10, false, LEASE).await.unwrap().is_empty());
    let d = claimed[0].delivery_id;
    store.finish(Finished { delivery_id: d, attempt: attempt(500), next: Next::Retry(0) }).await.unwrap();
    assert_eq!(list(&store, Some("failed"), None).await.unwrap().len(), 1);
    let again = store.claim("kyc", 10, false, LEASE).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    store.finish(Finished { delivery_id: d, attempt: attempt(500), next: Next::Dead }).await.unwrap();
    let rec = store.get_delivery(d).await.unwrap().unwrap();
    assert_eq!((rec.summary.status.as_str(), rec.summary.attempts, rec.attempts_history.len()), ("dead", 2, 2));
    assert_eq!(rec.attempts_history[0].status_code, Some(500));
    assert_eq!(rec.attempts_history[0].request.as_deref(), Some(r#"{"method":"POST","status_asked":500}"#));
    assert_eq!(rec.attempts_history[1].response_headers.as_deref(), Some(r#"[["retry-after","5"]]"#));
    assert_eq!((rec.origin.as_deref(), rec.revived), (None, 0), "made by a route at ingest");
    assert_eq!(rec.summary.last_error.as_deref(), Some("http 500"));
    assert_eq!(store.queue_depth().await.unwrap().dead, 1);
    // Operators: retry the dead, replay the event.
    assert_eq!(store.admin(AdminOp::RetryDead { target: None }).await.unwrap(), 1);
    assert_eq!(list(&store, Some("pending"), None).await.unwrap().len(), 1);
    assert_eq!(store.get_delivery(d).await.unwrap().unwrap().revived, 1, "revived once");
    // Retry now: a pending delivery becomes due at once (not while it is leased).
    assert_eq!(store.admin(AdminOp::RetryNow { delivery_id: d }).await.unwrap(), 1);
    let leased = store.claim("kyc", 10, false, LEASE).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert_eq!(store.admin(AdminOp::RetryNow { delivery_id: d }).await.unwrap(), 0, "being attempted");
    store.finish(Finished { delivery_id: d, attempt: attempt(500), next: Next::Dead }).await.unwrap();
    // ...and a dead one pending again, attempts reset, counted as a revival.
    assert_eq!(store.admin(AdminOp::RetryNow { delivery_id: d }).await.unwrap(), 1);
    let revived = store.get_delivery(d).await.unwrap().unwrap();
    assert_eq!((revived.summary.status.as_str(), revived.summary.attempts, revived.revived), ("pending", 0, 2));
    assert_eq!(revived.attempts_history.len(), 3, "the history spans the revivals");
    assert_eq!(store.admin(AdminOp::Replay { event_ids: vec![id], target: Some("audit".into()) }).await.unwrap(), 1);
    let audit = store.claim("audit", 10, false, LEASE).await.unwrap();
    assert_eq!(audit.len(), 1);
    let replayed = store.get_delivery(audit[0].delivery_id).await.unwrap().unwrap();
    assert_eq!(replayed.origin.as_deref(), Some("replay"));
    store
        .finish(Finished { delivery_id: audit[0].delivery_id, attempt: attempt(200), next: Next::Delivered })
        .await
        .unwrap();
    let delivered = list(&store, Some("delivered"), Some("audit")).await.unwrap();
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].delivered_at_ms.is_some() && delivered[0].next_attempt_at_ms.is_none());
    // Replay without a target re-creates a delivery for every target the event was routed to.
    assert_eq!(store.admin(AdminOp::Replay { event_ids: vec![id], target: None }).await.unwrap(), 2);
    assert!(store.get_delivery(hookgate_store::DeliveryId(9_999_999)).await.unwrap().is_none());
    store.close().await;
}

async fn a_cancelled_delivery_is_never_attempted_and_its_event_can_be_pruned(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let id = store.insert_event(NewEvent { received_at_ms: 1_000, ..event("flinks", "c", b"{}") }).await.unwrap().id();
    let other = store.insert_event(event("flinks", "o", b"{}")).await.unwrap().id();
    let of_event =
        |event_id| hookgate_store::DeliveryQuery { event_id: Some(event_id), limit: 10, ..Default::default() };
    let mine = store.deliveries(&of_event(id)).await.unwrap();
    assert_eq!(mine.len(), 1, "one delivery per routed target (kyc)");
    assert!(mine.iter().all(|d| d.event_id == id));
    assert_eq!(store.deliveries(&of_event(other)).await.unwrap().len(), 1);
    let d = mine[0].id;
    assert_eq!(store.admin(AdminOp::Cancel { delivery_id: d }).await.unwrap(), 1);
    assert_eq!(store.admin(AdminOp::Cancel { delivery_id: d }).await.unwrap(), 0, "only a pending one");
    let rec = store.get_delivery(d).await.unwrap().unwrap();
    assert_eq!(rec.summary.status.as_str(), "cancelled");
    assert!(rec.summary.next_attempt_at_ms.is_none());
    // Never claimed again, not counted as waiting, and it does not keep its event from pruning.
    let claimed = store.claim("kyc", 10, false, LEASE).await.unwrap();
    assert!(claimed.iter().all(|c| c.delivery_id != d), "{claimed:?}");
    let cancelled = hookgate_store::DeliveryQuery {
        status: Some(hookgate_store::DeliveryStatus::Cancelled),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.deliveries(&cancelled).await.unwrap().len(), 1);
    assert_eq!(store.admin(AdminOp::Prune { before_ms: 2_000, limit: 10 }).await.unwrap(), 1);
    assert!(store.get_event(id).await.unwrap().is_none());
    store.close().await;
}

async fn an_expired_lease_makes_the_delivery_due_again(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    store.insert_event(event("flinks", "a", b"{}")).await.unwrap();
    assert_eq!(store.claim("kyc", 10, false, Duration::from_millis(1)).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The worker that held it died; the next claim gets it again.
    assert_eq!(store.claim("kyc", 10, false, LEASE).await.unwrap().len(), 1);
    store.close().await;
}

async fn an_ordered_target_takes_the_oldest_pending_delivery_only(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    for k in ["a", "b", "c"] {
        store.insert_event(event("flinks", k, b"{}")).await.unwrap();
    }
    let first = store.claim("kyc", 10, true, LEASE).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(store.claim("kyc", 10, true, LEASE).await.unwrap().is_empty(), "leased: the rest wait");
    let later = now_ms() + 60_000;
    let d = first[0].delivery_id;
    store.finish(Finished { delivery_id: d, attempt: attempt(500), next: Next::Retry(later) }).await.unwrap();
    assert!(store.claim("kyc", 10, true, LEASE).await.unwrap().is_empty(), "head of line waits for its retry");
    // Unordered claims would take the other two meanwhile.
    assert_eq!(store.claim("kyc", 10, false, Duration::from_millis(1)).await.unwrap().len(), 2);
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The retry is due: move it forward and deliver it.
    store.finish(Finished { delivery_id: d, attempt: attempt(200), next: Next::Delivered }).await.unwrap();
    let second = store.claim("kyc", 10, true, LEASE).await.unwrap();
    assert!(second[0].delivery_id > d);
    store.close().await;
}

async fn a_late_finish_does_not_undo_a_delivered_delivery(b: Backend) {
    // Node A's lease ran out mid-attempt, node B took the delivery over and delivered it; A's late
    // "retry later" must not make it pending again.
    let store = b.open(StoreOptions::default()).await;
    store.insert_event(event("flinks", "a", b"{}")).await.unwrap();
    let a = store.claim("kyc", 1, false, Duration::from_millis(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let b2 = store.claim("kyc", 1, false, LEASE).await.unwrap();
    assert_eq!(a[0].delivery_id, b2[0].delivery_id);
    let d = a[0].delivery_id;
    store.finish(Finished { delivery_id: d, attempt: attempt(200), next: Next::Delivered }).await.unwrap();
    store.finish(Finished { delivery_id: d, attempt: attempt(503), next: Next::Retry(0) }).await.unwrap();
    let rec = store.get_delivery(d).await.unwrap().unwrap();
    assert_eq!(rec.summary.status.as_str(), "delivered");
    assert_eq!(rec.attempts_history.len(), 2, "both attempts are on record");
    store.close().await;
}

async fn the_writer_queue_count_returns_to_zero(b: Backend) {
    let store = Arc::new(b.open(StoreOptions::default()).await);
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
    store.close().await;
}

async fn pruning_removes_old_fully_delivered_events_only(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let old =
        |key: &str, targets: Vec<String>| NewEvent { received_at_ms: 1_000, targets, ..event("flinks", key, b"{}") };
    let delivered = store.insert_event(old("delivered", vec!["kyc".into()])).await.unwrap().id();
    let pending = store.insert_event(old("pending", vec!["other".into()])).await.unwrap().id();
    let no_targets = store.insert_event(old("none", vec![])).await.unwrap().id();
    let now = now_ms();
    let recent =
        store.insert_event(NewEvent { received_at_ms: now, ..event("flinks", "recent", b"{}") }).await.unwrap().id();
    let claimed = store.claim("kyc", 10, false, LEASE).await.unwrap();
    for c in claimed.iter().filter(|c| c.event_id == delivered || c.event_id == recent) {
        store
            .finish(Finished { delivery_id: c.delivery_id, attempt: attempt(200), next: Next::Delivered })
            .await
            .unwrap();
    }
    let cutoff = now_ms() - 60_000;
    assert_eq!(store.admin(AdminOp::Prune { before_ms: cutoff, limit: 1000 }).await.unwrap(), 2);
    let left: Vec<hookgate_store::EventId> =
        store.list_events(&EventQuery::default()).await.unwrap().iter().map(|e| e.id).collect();
    assert!(
        left.contains(&pending) && left.contains(&recent) && !left.contains(&delivered) && !left.contains(&no_targets),
        "{left:?}"
    );
    assert_eq!(list(&store, None, Some("kyc")).await.unwrap().len(), 1, "the recent one's delivery stays");
    // Batched: a limit of 1 removes one at a time.
    for k in ["x1", "x2"] {
        store.insert_event(old(k, vec![])).await.unwrap();
    }
    assert_eq!(store.admin(AdminOp::Prune { before_ms: cutoff, limit: 1 }).await.unwrap(), 1);
    assert_eq!(store.admin(AdminOp::Prune { before_ms: cutoff, limit: 1 }).await.unwrap(), 1);
    assert_eq!(store.admin(AdminOp::Prune { before_ms: cutoff, limit: 1 }).await.unwrap(), 0);
    store.close().await;
}

async fn replay_by_source_and_time_window(b: Backend) {
    let store = b.open(StoreOptions::default()).await;
    let at = |key: &str, ms: i64| NewEvent { received_at_ms: ms, ..event("flinks", key, b"{}") };
    let a = store.insert_event(at("a", 1_000)).await.unwrap().id();
    let b2 = store.insert_event(at("b", 2_000)).await.unwrap().id();
    store.insert_event(at("c", 3_000)).await.unwrap();
    store.insert_event(NewEvent { received_at_ms: 1_500, ..event("fin", "d", b"{}") }).await.unwrap();
    assert_eq!(store.event_ids("flinks", 1_000, Some(3_000)).await.unwrap(), vec![a, b2]);
    assert_eq!(store.event_ids("flinks", 2_000, None).await.unwrap().len(), 2);
    let since = store.list_events(&EventQuery { since_ms: Some(2_000), ..Default::default() }).await.unwrap();
    assert_eq!(since.len(), 2);
    // A window: since is inclusive, until exclusive.
    let window = EventQuery { since_ms: Some(1_500), until_ms: Some(3_000), ..Default::default() };
    let listed: Vec<i64> = store.list_events(&window).await.unwrap().iter().map(|e| e.id.0).collect();
    assert_eq!(listed, vec![b2.0, 4]);
    // Pages: each continues after the last row of the previous, newest first, with no gap or
    // repeat even when a newer event arrives between two pages.
    let page = |before_id: Option<i64>| EventQuery {
        limit: Some(2),
        before_id: before_id.map(hookgate_store::EventId),
        ..Default::default()
    };
    let first: Vec<i64> = store.list_events(&page(None)).await.unwrap().iter().map(|e| e.id.0).collect();
    store.insert_event(at("e", 9_000)).await.unwrap();
    let second: Vec<i64> =
        store.list_events(&page(first.last().copied())).await.unwrap().iter().map(|e| e.id.0).collect();
    assert_eq!((first.clone(), second.clone()), (vec![3, 2], vec![4, a.0]));
    assert!(store.list_events(&page(Some(a.0))).await.unwrap().is_empty());
    store.close().await;
}

async fn odd_text_from_a_verified_body_is_stored(b: Backend) {
    // A verified body may carry NUL and control characters into the dedup key, the event type and
    // the metadata (JSON `\u0000`): the event is stored all the same, and its retry deduplicated.
    let store = Arc::new(b.open(StoreOptions::default()).await);
    let odd = || NewEvent {
        provider_id: Some("p\0id".into()),
        event_type: Some("type\0\u{1}".into()),
        metadata: serde_json::json!({"tag": {"userId": "a\u{0}b"}}),
        headers: vec![
            ("x-odd".into(), "v\u{7f}".into()),
            // obs-text: bytes that are not UTF-8, kept as received.
            ("x-latin1".into(), hookgate_store::HeaderBytes::new(b"caf\xe9 \xff".to_vec())),
        ],
        ..event("flinks", "key\0with nul", b"{\"Tag\":\"a\\u0000b\"}")
    };
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let e = if i == 0 { odd() } else { event("flinks", &format!("n{i}"), b"{}") };
                store.insert_event(e).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().id());
    }
    let got = store.get_event(ids[0]).await.unwrap().unwrap();
    assert_eq!(got.metadata["tag"]["userId"], "a\u{0}b");
    assert_eq!(got.headers[0].1.as_bytes(), "v\u{7f}".as_bytes());
    assert_eq!(got.headers[1].1.as_bytes(), b"caf\xe9 \xff");
    assert!(got.summary.event_type.unwrap().starts_with("type"));
    assert_eq!(store.insert_event(odd()).await.unwrap(), Inserted::Duplicate(ids[0]));
    assert_eq!(store.count_events().await.unwrap(), 10);
    store.close().await;
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// Deliveries by status name (parsed as a filter would be) and target.
async fn list(
    store: &Store,
    status: Option<&str>,
    target: Option<&str>,
) -> Result<Vec<hookgate_store::DeliverySummary>, hookgate_store::StoreError> {
    let q = hookgate_store::DeliveryQuery {
        status: status.map(|s| s.parse().unwrap()),
        target: target.map(str::to_owned),
        event_id: None,
        before_id: None,
        limit: 10,
    };
    store.deliveries(&q).await
}
