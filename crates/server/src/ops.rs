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

/// `# HELP` text for every metric the gateway records (one place, so `/metrics` explains itself).
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "hookgate_requests_total",
        "Webhook requests by source and outcome (accepted, duplicate, rejected, too_large, bad_request, store_unavailable, over_budget, challenge)."
    );
    describe_counter!(
        "hookgate_rejections_total",
        "Requests that failed verification, by source and reason (operators only: never on the webhook listener)."
    );
    describe_counter!(
        "hookgate_rejections_dropped_total",
        "Rejected attempts not recorded because too many were waiting for the writer."
    );
    describe_counter!("hookgate_duplicates_total", "Provider retries of an event already stored, by source.");
    describe_counter!(
        "hookgate_connections_refused_total",
        "Connections closed at once because their listener's share was open, by listener (webhooks: server.max_connections, api: admin.max_connections)."
    );
    describe_counter!("hookgate_console_signin_refused_total", "Console sign-ins refused for an invalid token.");
    describe_counter!(
        "hookgate_store_commit_failures_total",
        "Store transactions that failed (every request in them got 503)."
    );
    describe_counter!("hookgate_events_pruned_total", "Events deleted past store.retention_days.");
    describe_counter!(
        "hookgate_delivery_attempts_total",
        "Delivery attempts by target and outcome (delivered, retry, dead)."
    );
    describe_gauge!("hookgate_deliveries", "Deliveries by status (pending, failed, dead).");
    describe_gauge!("hookgate_api_streams", "Live streams (/api/v1/stream, hookgate tail, the console) open now.");
    describe_gauge!(
        "hookgate_delivery_oldest_pending_seconds",
        Unit::Seconds,
        "Age of the oldest delivery not yet made, by target."
    );
    describe_histogram!(
        "hookgate_delivery_latency_seconds",
        Unit::Seconds,
        "From receipt to a successful delivery, by target."
    );
    describe_histogram!(
        "hookgate_request_duration_seconds",
        Unit::Seconds,
        "Webhook request handling time, by source."
    );
    describe_histogram!("hookgate_store_batch_size", "Commands committed per store transaction (group commit).");
    describe_histogram!(
        "hookgate_store_commit_duration_seconds",
        Unit::Seconds,
        "One store transaction, written and committed."
    );
    describe_histogram!("hookgate_store_queue_wait_seconds", Unit::Seconds, "An event waiting for the store's writer.");
    describe_histogram!(
        "hookgate_store_sync_wait_seconds",
        Unit::Seconds,
        "A committed batch waiting until its log is on disk (SQLite)."
    );
    describe_histogram!("hookgate_store_sync_duration_seconds", Unit::Seconds, "One fdatasync of the SQLite log.");
    describe_histogram!("hookgate_store_checkpoint_duration_seconds", Unit::Seconds, "One SQLite WAL checkpoint.");
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
            describe();
            Some(handle)
        })
        .clone()
}
