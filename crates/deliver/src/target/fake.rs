//! A target that hands every attempt to a channel and answers what the test scripted, for tests
//! of the worker (and of anything built on it) without a receiver, a process or a broker.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookgate_store::{Claimed, DeliveryId, EventId};
use tokio::sync::mpsc;

use super::{Attempt, Kind, Target};
use crate::{Outcome, RetryConfig};

/// One attempt the fake target saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// Its event.
    pub event_id: EventId,
    /// The attempt's number, from 1.
    pub attempt: i64,
    /// The body sent.
    pub body: Vec<u8>,
}

/// The test's side of a fake target: what it saw, and what it will answer next.
#[derive(Debug)]
pub struct FakeHandle {
    seen: mpsc::UnboundedReceiver<Seen>,
    script: Arc<Mutex<VecDeque<Outcome>>>,
}

impl FakeHandle {
    /// Queues the answers of the next attempts, in order; past them every attempt is delivered.
    pub fn answer(&self, outcomes: impl IntoIterator<Item = Outcome>) {
        self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(outcomes);
    }

    /// The next attempt the target saw, waiting up to `within` for it.
    pub async fn next(&mut self, within: Duration) -> Option<Seen> {
        tokio::time::timeout(within, self.seen.recv()).await.ok().flatten()
    }
}

#[derive(Debug)]
pub(super) struct FakeTarget {
    seen: mpsc::UnboundedSender<Seen>,
    script: Arc<Mutex<VecDeque<Outcome>>>,
}

impl FakeTarget {
    pub(super) async fn deliver(&self, c: &Claimed, attempt: Attempt<'_>) -> Outcome {
        let _ = self.seen.send(Seen {
            delivery_id: c.delivery_id,
            event_id: c.event_id,
            attempt: attempt.number,
            body: c.body.clone(),
        });
        let next = self.script.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front();
        next.unwrap_or(Outcome::Delivered { status: None, response: None })
    }
}

impl Target {
    /// A fake target named `name` with this retry policy, and the handle that watches it.
    pub fn fake(name: &str, retry: RetryConfig, concurrency: u32, ordered: bool) -> (Target, FakeHandle) {
        let (tx, rx) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let kind = Kind::Fake(FakeTarget { seen: tx, script: Arc::clone(&script) });
        let target = Target {
            name: name.to_owned(),
            kind,
            timeout: Duration::from_secs(5),
            concurrency: if ordered { 1 } else { concurrency },
            ordered,
            policy: crate::RetryPolicy::from(&retry),
        };
        (target, FakeHandle { seen: rx, script })
    }
}
