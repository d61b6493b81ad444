//! Test support (feature `test-support`): a PostgreSQL schema of its own per test, so tests run
//! in parallel against the machine's database and leave nothing behind.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::NoTls;

use crate::model::NewEvent;

/// An event for a test: source `flinks`, dedup key `key`, body `{}` (its digest not checked),
/// no targets; a test sets what it needs with struct update syntax.
pub fn event(key: &str) -> NewEvent {
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
        pii: vec![],
    }
}

/// The environment variable naming the test database (`postgres://postgres@127.0.0.1:5432/test`
/// when unset).
pub const POSTGRES_URL_ENV: &str = "HOOKGATE_TEST_POSTGRES_URL";

/// A fresh schema in the test database, dropped (with everything in it) when this is dropped.
#[derive(Debug)]
pub struct PgTestSchema {
    base: String,
    schema: String,
}

impl PgTestSchema {
    /// Creates a schema named after `name`.
    ///
    /// # Panics
    /// When the database cannot be reached: a test that did not run must never pass.
    /// `scripts/test.sh` excludes these tests, saying so, when PostgreSQL is down and the run is
    /// not CI; under `CI=true` they run and fail.
    pub async fn new(name: &str) -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let base = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let clean: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .take(36)
            .collect();
        let schema = format!("hg_{clean}_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
        match tokio_postgres::connect(&base, NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .expect("cannot prepare the test schema");
                Self { base, schema }
            }
            Err(e) => panic!(
                "PostgreSQL at {base} is unreachable: {e}; set {POSTGRES_URL_ENV}, or run ./scripts/test.sh, which excludes these tests when it is down (not under CI=true)"
            ),
        }
    }

    /// The store URL for this schema.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.base, self.schema)
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for PgTestSchema {
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        // Drop may run inside a runtime that is shutting down: use a runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok((client, conn)) = tokio_postgres::connect(&base, NoTls).await {
                    tokio::spawn(conn);
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                }
            });
        })
        .join();
    }
}
