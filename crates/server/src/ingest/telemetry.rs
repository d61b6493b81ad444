//! The request path's metric handles, registered once per source.

use std::time::Instant;

/// Metric handles registered once per source, so the request path does not build label sets.
pub(crate) struct SourceMetrics {
    pub(super) accepted: metrics::Counter,
    pub(super) duplicate: metrics::Counter,
    pub(super) rejected: metrics::Counter,
    pub(super) too_large: metrics::Counter,
    pub(super) bad_request: metrics::Counter,
    pub(super) store_unavailable: metrics::Counter,
    pub(super) over_budget: metrics::Counter,
    pub(super) challenge: metrics::Counter,
    pub(super) duplicates: metrics::Counter,
    pub(super) duration: metrics::Histogram,
}

impl SourceMetrics {
    pub(crate) fn new(source: &str) -> Self {
        let requests = |outcome: &'static str| metrics::counter!("hookgate_requests_total", "source" => source.to_owned(), "outcome" => outcome);
        Self {
            accepted: requests("accepted"),
            duplicate: requests("duplicate"),
            rejected: requests("rejected"),
            too_large: requests("too_large"),
            bad_request: requests("bad_request"),
            store_unavailable: requests("store_unavailable"),
            over_budget: requests("over_budget"),
            challenge: requests("challenge"),
            duplicates: metrics::counter!("hookgate_duplicates_total", "source" => source.to_owned()),
            duration: metrics::histogram!("hookgate_request_duration_seconds", "source" => source.to_owned()),
        }
    }

    pub(super) fn done(&self, outcome: &metrics::Counter, started: Instant) {
        outcome.increment(1);
        self.duration.record(started.elapsed().as_secs_f64());
    }
}
