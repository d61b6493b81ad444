//! State shared by every request.

use std::sync::Arc;
use std::time::Duration;

use hookgate_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;

/// What every handler can reach.
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    /// Wakes the delivery workers when an event with deliveries was stored.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    pub(crate) store_timeout: Duration,
    pub(crate) metrics: Option<PrometheusHandle>,
}
