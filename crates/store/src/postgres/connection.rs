//! What the handle, the writers and the readers share: the connection pool and the writers' queue
//! of commands.

use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::oneshot;
use tokio_postgres::NoTls;

use crate::error::{StoreError, connect_error};
use crate::model::{Inserted, NewEvent, NewRejection};
use crate::url::PostgresUrl;

pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

pub(super) enum Cmd {
    /// With the time it was queued (`hookgate_store_queue_wait_seconds`).
    Insert(Box<NewEvent>, Reply<Inserted>, Instant),
    Reject(Box<NewRejection>),
    Barrier(Reply<()>),
}

pub(super) fn pool(url: &PostgresUrl, size: usize, statement_timeout: Option<Duration>) -> Result<Pool, StoreError> {
    let (mut config, tls) = url.connect_parts()?;
    // Every connection works in the store's schema, so the SQL below names no schema.
    let mut options = format!("-c search_path={}", url.schema);
    if let Some(t) = statement_timeout {
        options.push_str(&format!(" -c statement_timeout={}", t.as_millis()));
    }
    config.options(options);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
    let manager = match tls {
        Some(tls) => Manager::from_config(config, tls, manager_config),
        None => Manager::from_config(config, NoTls, manager_config),
    };
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))
}

/// A connection of the read pool: waiting past its bound is [`StoreError::ReadTimedOut`] (503 to
/// an operator), never a wait that holds ingest.
pub(super) async fn read_client(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => connect_error(e),
        deadpool_postgres::PoolError::Timeout(_) => StoreError::ReadTimedOut,
        other => StoreError::Pool(other.to_string()),
    })
}

pub(super) async fn client(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => connect_error(e),
        other => StoreError::Pool(other.to_string()),
    })
}
