//! What only the PostgreSQL store has: several nodes (here: several `Store`s, each with its own
//! pool and writers) on one database.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hookgate_store::testing::PgTestSchema;
use hookgate_store::{Inserted, NewEvent, Store, StoreOptions, StoreUrl};

fn event(key: &str, targets: &[&str]) -> NewEvent {
    NewEvent {
        body: key.as_bytes().to_vec(),
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        ..hookgate_store::testing::event(key)
    }
}

async fn nodes(schema: &PgTestSchema, n: usize) -> Vec<Arc<Store>> {
    let url = StoreUrl::parse(&schema.url()).unwrap();
    // Started at once: the migration lock lets one migrate while the others wait.
    let opens = (0..n).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { Store::open(&url, StoreOptions::default()).await })
    });
    let mut stores = Vec::new();
    for o in opens {
        stores.push(Arc::new(o.await.unwrap().unwrap()));
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_reaching_another_node_at_the_same_time_is_stored_once() {
    let schema = PgTestSchema::new("cross_node_dedup").await;
    let stores = nodes(&schema, 3).await;
    // Every key is sent to every node at once, 50 keys, 4 times each.
    let mut tasks = Vec::new();
    for round in 0..4 {
        for k in 0..50 {
            let store = Arc::clone(&stores[(k + round) % stores.len()]);
            tasks.push(tokio::spawn(async move { store.insert_event(event(&format!("k{k}"), &["t"])).await }));
        }
    }
    let mut new = 0;
    let mut ids_by_key = std::collections::HashMap::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let inserted = t.await.unwrap().unwrap();
        if matches!(inserted, Inserted::New(_)) {
            new += 1;
        }
        let prev = ids_by_key.insert(i % 50, inserted.id());
        assert!(prev.is_none_or(|p| p == inserted.id()), "one id per key on every node");
    }
    assert_eq!(new, 50);
    assert_eq!(stores[0].count_events().await.unwrap(), 50);
    let events = stores[1].list_events(&Default::default()).await.unwrap();
    assert_eq!(events.iter().map(|e| e.duplicates).sum::<i64>(), 150);
    assert_eq!(stores[2].queue_depth().await.unwrap().pending, 50, "one delivery per event, not per node");
    for s in &stores {
        s.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_claiming_at_once_never_take_the_same_delivery() {
    let schema = PgTestSchema::new("skip_locked").await;
    let stores = nodes(&schema, 2).await;
    for k in 0..300 {
        stores[k % 2].insert_event(event(&format!("k{k}"), &["t"])).await.unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = Arc::clone(&stores[i % 2]);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim("t", 7, false, Duration::from_secs(60)).await.unwrap();
                if claimed.is_empty() {
                    break;
                }
                mine.extend(claimed.iter().map(|c| c.delivery_id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (300, 300), "every delivery claimed exactly once");
    for s in &stores {
        s.close().await;
    }
}

#[tokio::test]
async fn a_password_never_goes_in_the_url() {
    let err = StoreUrl::parse("postgres://hookgate:hunter2@127.0.0.1/test").unwrap_err().to_string();
    assert!(err.contains("PGPASSWORD") && !err.contains("hunter2"), "{err}");
}

/// Whatever the test server's `ssl` setting: encrypted, or refused at the start, never plain text.
/// (tests/postgres_tls.rs pins each case on servers of its own.)
#[tokio::test]
async fn sslmode_require_never_falls_back_to_plain_text() {
    let schema = PgTestSchema::new("sslmode").await;
    let url =
        StoreUrl::parse(&format!("{}&sslmode=require&application_name=hg_sslmode_require", schema.url())).unwrap();
    match Store::open(&url, StoreOptions::default()).await {
        Ok(store) => {
            let (client, conn) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let rows = client
                .query(
                    "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                     WHERE a.application_name = 'hg_sslmode_require'",
                    &[],
                )
                .await
                .unwrap();
            store.close().await;
            assert!(!rows.is_empty() && rows.iter().all(|r| r.get::<_, bool>(0)), "a plain-text connection");
        }
        Err(err) => {
            assert!(matches!(err, hookgate_store::StoreError::Tls(hookgate_store::TlsError::NotOffered)), "{err}");
        }
    }
}

#[tokio::test]
async fn an_unreachable_database_fails_the_start_with_a_clear_error() {
    let url = StoreUrl::parse("postgres://postgres@127.0.0.1:1/test?connect_timeout=2").unwrap();
    let err = Store::open(&url, StoreOptions::default()).await.unwrap_err().to_string();
    assert!(err.contains("postgres"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_database_refuses_fails_alone_not_its_batch() {
    let schema = PgTestSchema::new("poison_row").await;
    let stores = nodes(&schema, 1).await;
    let store = &stores[0];
    // Stand-in for any row the database refuses: a constraint only the poison event breaks.
    let (client, conn) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "ALTER TABLE {}.events ADD CONSTRAINT no_poison CHECK (dedup_key <> 'poison')",
            schema.schema()
        ))
        .await
        .unwrap();
    let commits_before = store.commits();
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = Arc::clone(store);
            let key = if i == 7 { "poison".to_owned() } else { format!("k{i}") };
            tokio::spawn(async move { (key.clone(), store.insert_event(event(&key, &["t"])).await) })
        })
        .collect();
    for t in tasks {
        let (key, result) = t.await.unwrap();
        if key == "poison" {
            let err = result.expect_err("the refused event is not acknowledged").to_string();
            // The server's DETAIL quotes the failing row (body, headers): never in our errors/logs.
            assert!(err.contains("23514") && !err.contains("DETAIL") && !err.contains("Failing row"), "{err}");
        } else {
            assert!(matches!(result, Ok(Inserted::New(_))), "{key}: {result:?}");
        }
    }
    assert!(store.commits() > commits_before);
    assert_eq!(store.count_events().await.unwrap(), 29);
    assert_eq!(store.queue_depth().await.unwrap().pending, 29);
    store.close().await;
}

fn base_url() -> String {
    std::env::var(hookgate_store::testing::POSTGRES_URL_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}
