//! Hookgate's delivery: workers that take due deliveries from the store's outbox and send them to
//! their targets, with retries, backoff and dead letters.
//!
//! At least once: a delivery is leased (claimed) before the attempt and recorded after it; a
//! worker that dies mid-attempt loses its lease, and the delivery is attempted again once the
//! lease expires (the target may then see it twice; `webhook-id` lets it deduplicate).
//!
//! Layout: [`TargetConfig`] (one `[[target]]`, its kind chosen by `type`) builds a [`Target`];
//! each kind is one file under `target/` returning an [`Outcome`]; [`Worker`] is the claim loop;
//! [`RetryPolicy`] turns failed attempts into the next attempt's time.

#![deny(missing_docs)]

pub mod carried_text;
mod config;
mod report;
mod retry;
pub mod target;
mod worker;

use std::time::Duration;

pub use config::{Resolve, RetryConfig, TargetConfig};
pub use report::{error_chain, redacted_url};
pub use retry::{RetryPolicy, parse_retry_after};
pub use target::{KindConfig, Target};
pub use worker::{Clock, Jitter, Observer, SystemClock, TimeJitter, Worker, spawn_queue_metrics, spawn_workers};

/// What one attempt came to. Every target kind answers with one of these; the worker turns it
/// into the delivery's next state with the target's [`RetryPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The target has it.
    Delivered {
        /// HTTP status or exit code, where the kind has one.
        status: Option<i64>,
        /// The start of the target's answer (an HTTP body, a command's output, a stream's ack).
        response: Option<String>,
    },
    /// Not delivered; worth another attempt (a 5xx, a timeout, a refused connection).
    Retry {
        /// HTTP status or exit code, where there was one.
        status: Option<i64>,
        /// What went wrong, for the attempt's record (never a credential).
        error: String,
        /// The start of the target's answer.
        response: Option<String>,
        /// The least the target asked to wait (`Retry-After`).
        after: Option<Duration>,
    },
    /// Not delivered, and another attempt would fare no better (a 4xx): the delivery is dead.
    Permanent {
        /// HTTP status or exit code.
        status: Option<i64>,
        /// What went wrong.
        error: String,
        /// The start of the target's answer.
        response: Option<String>,
    },
}

/// What one attempt exchanged with the target, for the attempt's record (the console's delivery
/// page): JSON texts, never a credential. Kinds that record nothing leave both `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    /// The request sent: method, URL (credentials as `***`), header names, body size.
    pub request: Option<String>,
    /// The response's headers, bounded, credential-like values as `***`.
    pub response_headers: Option<String>,
}

impl Outcome {
    /// A failure worth retrying, with nothing but its error.
    pub(crate) fn retry(error: String) -> Self {
        Outcome::Retry { status: None, error, response: None, after: None }
    }
}

/// Bytes of a target's response kept with the attempt.
pub(crate) const EXCERPT_BYTES: usize = 1024;
