//! State shared by every request.

use std::sync::Arc;
use std::time::Duration;

use hookgate_store::SqliteStore;
use metrics_exporter_prometheus::PrometheusHandle;

/// What every handler can reach.
pub(crate) struct AppState {
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) store_timeout: Duration,
    pub(crate) metrics: Option<PrometheusHandle>,
}
