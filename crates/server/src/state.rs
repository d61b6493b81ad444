//! State shared by every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
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
    /// How the latest commits of events went, for readiness.
    pub(crate) commits: CommitHealth,
    /// Request bodies held at once, across connections.
    pub(crate) body_budget: Arc<crate::limits::BodyBudget>,
    /// What happens, for the operator API's live stream.
    pub(crate) bus: Arc<crate::stream::Bus>,
    /// Works out why rejected requests failed, off the request path.
    pub(crate) diagnoser: Arc<crate::ingest::diagnosis::Diagnoser>,
}

/// When an event last committed and when one last failed to (Unix ms; 0: never). Readiness fails
/// while the latest attempt failed, for `FAILING_FOR`: the probe write alone can fit where an
/// event does not (a larger body, a table that must grow), and a node that answers 503 to every
/// webhook must leave the load balancer. After that the probe alone decides, so a node that
/// recovered while the balancer sent it nothing comes back.
#[derive(Debug, Default)]
pub(crate) struct CommitHealth {
    ok_at_ms: AtomicI64,
    failed_at_ms: AtomicI64,
}

/// How long a failed commit keeps the node not ready when no later commit succeeded.
const FAILING_FOR_MS: i64 = 30_000;

impl CommitHealth {
    /// Called for every stored event: it writes the shared stamp only when a failure is newer
    /// or the stamp is 100 ms old, so requests on every core do not keep taking the cache line.
    pub(crate) fn committed(&self, now_ms: i64) {
        let ok = self.ok_at_ms.load(Ordering::Acquire);
        if now_ms - ok >= 100 || ok <= self.failed_at_ms.load(Ordering::Acquire) {
            self.ok_at_ms.fetch_max(now_ms, Ordering::AcqRel);
        }
    }

    pub(crate) fn failed(&self, now_ms: i64) {
        self.failed_at_ms.fetch_max(now_ms, Ordering::AcqRel);
    }

    /// Whether the latest commit failed, less than `FAILING_FOR_MS` ago.
    pub(crate) fn failing(&self, now_ms: i64) -> bool {
        let failed = self.failed_at_ms.load(Ordering::Acquire);
        failed > self.ok_at_ms.load(Ordering::Acquire) && now_ms - failed < FAILING_FOR_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_commit_keeps_the_node_not_ready_until_one_succeeds_or_the_window_passes() {
        let h = CommitHealth::default();
        assert!(!h.failing(1_000), "nothing happened yet");
        h.committed(1_000);
        h.failed(2_000);
        assert!(h.failing(2_001));
        assert!(h.failing(2_000 + FAILING_FOR_MS - 1));
        // Nobody sent an event for the whole window (a balancer that took the node out): the
        // probe alone decides again.
        assert!(!h.failing(2_000 + FAILING_FOR_MS));
        h.failed(50_000);
        h.committed(50_010);
        assert!(!h.failing(50_011), "a later commit succeeded");
        // Out-of-order reports keep the latest of each.
        h.committed(40_000);
        h.failed(50_005);
        assert!(!h.failing(50_020));
        // A success right after a failure counts even when the stamp is fresh (it is written
        // at most every 100 ms otherwise).
        h.committed(100_000);
        h.failed(100_020);
        h.committed(100_030);
        assert!(!h.failing(100_031));
    }
}
