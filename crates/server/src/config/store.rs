//! `[store]`: batch sizes, queue, retention and pool; built into the store's options.

use std::time::Duration;

use hookgate_store::{RejectionRetention, StoreOptions};
use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[store]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Most events committed in one transaction.
    pub max_batch: usize,
    /// Writes waiting for the writer before requests get 503 at once.
    pub queue_capacity: usize,
    /// How long a write waits for a lock held by another process.
    pub busy_timeout_ms: u64,
    /// Rejected attempts kept at most.
    pub rejections_max_rows: u64,
    /// Rejected attempts kept at most this many days.
    pub rejections_max_age_days: u64,
    /// Delete events older than this many days once every delivery of theirs succeeded (0 keeps
    /// them forever). Keep it longer than any provider's retry window: a retry that arrives after
    /// its event was pruned is stored again.
    pub retention_days: u64,
    /// PostgreSQL: connections per node for ingest writers, delivery claims and jobs.
    pub pool_size: usize,
    /// PostgreSQL: connections per node for operators' reads (the API, the console), apart
    /// from `pool_size`: searches never take ingest's connections.
    pub read_pool_size: usize,
    /// PostgreSQL: the longest one operator read may run (then 503).
    pub read_timeout_secs: u64,
    /// SQLite: keep bodies of 2 KiB and more LZ4-compressed where that saves an eighth or more
    /// (always read back as the exact bytes received). Off for tools that read the file directly.
    pub compress_bodies: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let d = StoreOptions::default();
        Self {
            max_batch: d.max_batch,
            queue_capacity: d.queue_capacity,
            busy_timeout_ms: 5000,
            rejections_max_rows: d.rejection_retention.max_rows,
            rejections_max_age_days: d.rejection_retention.max_age_secs / 86_400,
            retention_days: 0,
            pool_size: d.pool_size,
            read_pool_size: d.read_pool_size,
            read_timeout_secs: d.read_timeout.as_secs(),
            compress_bodies: d.compress_bodies,
        }
    }
}

impl StoreConfig {
    /// The store's options, and how long delivered events are kept (`None`: forever).
    pub(crate) fn build(&self) -> Result<(StoreOptions, Option<Duration>), ConfigError> {
        if self.max_batch == 0 || self.queue_capacity == 0 || self.pool_size < 4 {
            return Err(invalid(
                "store.max_batch and store.queue_capacity must be positive, store.pool_size at least 4",
            ));
        }
        if self.read_pool_size == 0 || self.read_timeout_secs == 0 {
            return Err(invalid("store.read_pool_size and store.read_timeout_secs must be at least 1"));
        }
        let options = StoreOptions {
            max_batch: self.max_batch,
            queue_capacity: self.queue_capacity,
            busy_timeout: Duration::from_millis(self.busy_timeout_ms),
            rejection_retention: RejectionRetention {
                max_rows: self.rejections_max_rows,
                max_age_secs: self.rejections_max_age_days.saturating_mul(86_400),
            },
            pool_size: self.pool_size,
            read_pool_size: self.read_pool_size,
            read_timeout: Duration::from_secs(self.read_timeout_secs),
            compress_bodies: self.compress_bodies,
            ..StoreOptions::default()
        };
        let retention =
            (self.retention_days > 0).then(|| Duration::from_secs(self.retention_days.saturating_mul(86_400)));
        Ok((options, retention))
    }
}
