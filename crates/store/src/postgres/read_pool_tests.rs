//! The read pool apart from ingest's: a read that runs past `read_timeout` is cancelled and said
//! as [`StoreError::ReadTimedOut`], and while every read connection is taken, events are still
//! stored (on the shared PostgreSQL, a schema of the test's own).

use std::time::Duration;

use super::connection::read_client;
use crate::testing::{PgTestSchema, event};
use crate::{StoreError, StoreOptions, StoreUrl};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_bounded_in_time_and_never_take_ingests_connections() {
    let schema = PgTestSchema::new("read_pool").await;
    let StoreUrl::Postgres(url) = StoreUrl::parse(&schema.url()).unwrap() else { panic!("a PostgreSQL URL") };
    let options = StoreOptions { read_pool_size: 1, read_timeout: Duration::from_secs(1), ..StoreOptions::default() };
    let store = super::PgStore::open(&url, &options).await.unwrap();

    // A read past its bound is cancelled by the server, and said as a read that took too long.
    let conn = read_client(&store.reads).await.unwrap();
    let slow = conn.simple_query("SELECT pg_sleep(3)").await.map_err(StoreError::from).unwrap_err();
    assert!(matches!(slow, StoreError::ReadTimedOut), "{slow}");

    // The only read connection held: events are still stored on ingest's own connections.
    store.insert_event(event("while-reads-are-busy")).await.unwrap();
    assert_eq!(store.count_events_on_ingest_pool().await, 1);
    assert_eq!(store.reads.status().available, 0, "the one read connection is taken");
    drop(conn);
    assert_eq!(store.list_events(&crate::EventQuery::default()).await.unwrap().len(), 1);
    store.close().await;
}

impl super::PgStore {
    async fn count_events_on_ingest_pool(&self) -> i64 {
        let conn = super::connection::client(&self.pool).await.unwrap();
        conn.query_one("SELECT COUNT(*) FROM events", &[]).await.unwrap().get(0)
    }
}
