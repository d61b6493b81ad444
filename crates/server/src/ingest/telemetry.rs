//! The request path's metric handles, registered once per source.

use std::sync::Arc;
use std::time::Instant;

use super::last_hour::{Kind, LastHour};

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
    /// The console's chart of the last hour.
    pub(crate) last_hour: Arc<LastHour>,
    /// Which secret verified how many requests.
    pub(crate) secrets: Arc<super::secret_use::SecretUse>,
}

/// How a request ended.
#[derive(Clone, Copy, Debug)]
pub(super) enum Outcome {
    Accepted,
    Duplicate,
    Rejected,
    TooLarge,
    BadRequest,
    StoreUnavailable,
    OverBudget,
    Challenge,
}

impl SourceMetrics {
    pub(crate) fn new(source: &str, secrets: Arc<super::secret_use::SecretUse>) -> Self {
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
            last_hour: Arc::default(),
            secrets,
        }
    }

    pub(super) fn done(&self, outcome: Outcome, started: Instant) {
        let (counter, kind) = match outcome {
            Outcome::Accepted => (&self.accepted, Some(Kind::Accepted)),
            Outcome::Duplicate => (&self.duplicate, Some(Kind::Duplicate)),
            Outcome::Rejected => (&self.rejected, Some(Kind::Refused)),
            Outcome::TooLarge => (&self.too_large, Some(Kind::Refused)),
            Outcome::BadRequest => (&self.bad_request, Some(Kind::Refused)),
            Outcome::StoreUnavailable => (&self.store_unavailable, Some(Kind::Refused)),
            Outcome::OverBudget => (&self.over_budget, Some(Kind::Refused)),
            // A provider's endpoint handshake is neither an event nor a refusal.
            Outcome::Challenge => (&self.challenge, None),
        };
        counter.increment(1);
        if let Some(kind) = kind {
            self.last_hour.record(kind, crate::now_ms().div_euclid(60_000));
        }
        self.duration.record(started.elapsed().as_secs_f64());
    }
}
