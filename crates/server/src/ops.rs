//! Operations endpoints: liveness, readiness, Prometheus metrics.

use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// `/healthz`: the process is up and serving.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: an event could be committed now. 503 while the latest event commits fail (see
/// `CommitHealth`), or when the store's probe — a real, synced write — fails or takes over 2 s.
pub(crate) async fn readyz(State(app): State<Arc<AppState>>) -> Response {
    if app.commits.failing(hookgate_verify::Timestamp::now().unix_millis()) {
        return (StatusCode::SERVICE_UNAVAILABLE, "store failing commits").into_response();
    }
    match tokio::time::timeout(Duration::from_secs(2), app.store.ready()).await {
        Ok(Ok(())) => "ready".into_response(),
        Ok(Err(e)) => {
            static THROTTLE: hookgate_store::throttle::LogThrottle =
                hookgate_store::throttle::LogThrottle::new(Duration::from_secs(30));
            if let Some(suppressed) = THROTTLE.admit() {
                tracing::warn!(error = %e, suppressed, "Readiness probe failed.");
            }
            (StatusCode::SERVICE_UNAVAILABLE, "store not committing").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store not committing in time").into_response(),
    }
}

/// `/metrics` in the Prometheus text format.
pub(crate) async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    match &app.metrics {
        Some(handle) => handle.render().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The process-wide Prometheus recorder (metrics are global in the `metrics` crate, so several
/// servers in one process, as in tests, share it).
pub(crate) fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let latency = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
            let batch = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hookgate_store_batch_size".into()), &batch))
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}
