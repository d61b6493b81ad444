//! The claim loop: one worker per target leases due deliveries, attempts them (up to the target's
//! concurrency at once), and records each attempt with what comes next.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookgate_store::{Attempt, Claimed, Finished, Next, Store};
use tokio::sync::{Notify, watch};

use crate::{Outcome, Target};

/// Writer queue length above which delivery workers yield to ingest.
const INGEST_BUSY_QUEUE: usize = 4;

/// The worker's clock: when an attempt started, and when a retry comes due.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        hookgate_verify::Timestamp::now().unix_millis()
    }
}

/// Where a retry's jitter comes from: a spread in percent, −20..=20, for one delivery.
pub trait Jitter: Send + Sync + std::fmt::Debug {
    /// The spread for the retry of delivery `salt`.
    fn spread_percent(&self, salt: i64) -> i64;
}

/// Jitter from the clock's nanoseconds and the delivery id: it only has to spread a burst that
/// failed together, so it needs no cryptographic randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeJitter;

impl Jitter for TimeJitter {
    fn spread_percent(&self, salt: i64) -> i64 {
        let nanos = i64::from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()),
        );
        (salt.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(nanos)).rem_euclid(41) - 20
    }
}

/// Told of every attempt the worker recorded: the delivery, what was recorded, the target's name
/// (the operator API's live stream).
pub type Observer = Arc<dyn Fn(&Claimed, &Finished, &str) + Send + Sync>;

/// One target's worker.
pub struct Worker {
    store: Arc<Store>,
    target: Arc<Target>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    jitter: Arc<dyn Jitter>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("target", &self.target.name()).finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker for `target` over `store`'s outbox; `wake` is notified when new events arrive.
    pub fn new(store: Arc<Store>, target: Target, wake: Arc<Notify>) -> Self {
        Self {
            store,
            target: Arc::new(target),
            wake,
            clock: Arc::new(SystemClock),
            jitter: Arc::new(TimeJitter),
            observer: None,
        }
    }

    /// The same worker, telling `observer` of every attempt it records.
    #[must_use]
    pub fn with_observer(mut self, observer: Option<Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// The same worker on another clock (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same worker with another source of jitter (tests).
    #[must_use]
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// Claims and attempts deliveries until `stop` turns true; attempts in flight finish first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let Worker { store, target, wake, clock, jitter, observer } = self;
        // Longer than any attempt can take (its timeout) plus time to record it.
        let lease = target.timeout() + Duration::from_secs(5);
        loop {
            if *stop.borrow() {
                break;
            }
            // Ingest first: acknowledging providers is the latency-critical path, delivery is
            // asynchronous by design. While requests keep the single writer busy, a worker waits
            // (up to 50 ms at a time) before adding its claim to the queue.
            for _ in 0..25 {
                if store.queued() <= INGEST_BUSY_QUEUE {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let claimed = match store.claim(target.name(), target.concurrency(), target.ordered(), lease).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(target = %target.name(), error = %e, "Claiming deliveries failed; retrying.");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if claimed.is_empty() {
                // New events wake the workers; retries come due on the poll.
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let mut set = tokio::task::JoinSet::new();
            for c in claimed {
                let (store, target, clock, jitter) =
                    (Arc::clone(&store), Arc::clone(&target), Arc::clone(&clock), Arc::clone(&jitter));
                let observer = observer.clone();
                set.spawn(async move {
                    let finished = attempt(&target, &c, clock.as_ref(), jitter.as_ref()).await;
                    let told = observer.as_ref().map(|_| finished.clone());
                    match store.finish(finished).await {
                        Ok(()) => {
                            if let (Some(observe), Some(finished)) = (&observer, &told) {
                                observe(&c, finished, target.name());
                            }
                        }
                        // The lease expires and the delivery is attempted again.
                        Err(e) => {
                            tracing::warn!(target = %target.name(), delivery = c.delivery_id.0, error = %e, "Recording an attempt failed.");
                        }
                    }
                });
            }
            while set.join_next().await.is_some() {}
        }
    }
}

/// Runs one worker per target until `stop` turns true; in-flight attempts finish first.
pub fn spawn_workers(
    store: &Arc<Store>,
    targets: Vec<Target>,
    wake: &Arc<Notify>,
    stop: &watch::Receiver<bool>,
    observer: Option<Observer>,
) -> Vec<tokio::task::JoinHandle<()>> {
    targets
        .into_iter()
        .map(|t| {
            let worker = Worker::new(Arc::clone(store), t, Arc::clone(wake)).with_observer(observer.clone());
            tokio::spawn(worker.run(stop.clone()))
        })
        .collect()
}

/// One attempt of a claimed delivery, and what comes next: delivered, a retry at the policy's
/// time (at least what the target asked), or dead.
async fn attempt(target: &Target, c: &Claimed, clock: &dyn Clock, jitter: &dyn Jitter) -> Finished {
    let started_at_ms = clock.now_ms();
    let started = Instant::now();
    let number = c.attempts + 1;
    let (outcome, exchange) = target.deliver(c, number).await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let policy = target.policy();
    let (next, status_code, error, response_excerpt) = match outcome {
        Outcome::Delivered { status, response } => (Next::Delivered, status, None, response),
        Outcome::Permanent { status, error, response } => (Next::Dead, status, Some(error), response),
        Outcome::Retry { status, error, response, after } => {
            let next = if policy.allows_another(number) {
                let delay = policy.delay(number, jitter.spread_percent(c.delivery_id.0)).max(after.unwrap_or_default());
                Next::Retry(clock.now_ms().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2)))
            } else {
                Next::Dead
            };
            (next, status, Some(error), response)
        }
    };
    let label = match next {
        Next::Delivered => "delivered",
        Next::Retry(_) => "retry",
        Next::Dead => "dead",
    };
    metrics::counter!("hookgate_delivery_attempts_total", "target" => target.name().to_owned(), "outcome" => label)
        .increment(1);
    if matches!(next, Next::Delivered) {
        let latency = (clock.now_ms() - c.received_at_ms).max(0) as f64 / 1000.0;
        metrics::histogram!("hookgate_delivery_latency_seconds", "target" => target.name().to_owned()).record(latency);
    } else {
        tracing::warn!(target = %target.name(), delivery = c.delivery_id.0, event = c.event_id.0, attempt = number,
            error = error.as_deref().unwrap_or(""), next = label, "Delivery attempt failed.");
    }
    Finished {
        delivery_id: c.delivery_id,
        attempt: Attempt {
            started_at_ms,
            duration_ms,
            status_code,
            error,
            response_excerpt,
            request: exchange.request,
            response_headers: exchange.response_headers,
        },
        next,
    }
}

/// Publishes queue depth and, per target, the oldest pending delivery's age every few seconds
/// (an alert on the age then names the stuck target).
pub fn spawn_queue_metrics(store: &Arc<Store>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        // Targets given a gauge: one whose deliveries are all gone from the store drops to 0.
        let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        loop {
            let now = hookgate_verify::Timestamp::now().unix_millis();
            if let Ok(stats) = store.target_stats(now).await {
                let [mut pending, mut failed, mut dead] = [0i64; 3];
                let mut listed = std::collections::BTreeSet::new();
                for t in &stats {
                    // by_status: pending (never tried), pending after a failed attempt, delivered, dead, cancelled.
                    pending += t.by_status[0] + t.by_status[1];
                    failed += t.by_status[1];
                    dead += t.by_status[3];
                    let age = t.oldest_pending_ms.map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
                    metrics::gauge!("hookgate_delivery_oldest_pending_seconds", "target" => t.target.clone()).set(age);
                    listed.insert(t.target.clone());
                }
                for gone in seen.difference(&listed) {
                    metrics::gauge!("hookgate_delivery_oldest_pending_seconds", "target" => gone.clone()).set(0.0);
                }
                seen.extend(listed);
                metrics::gauge!("hookgate_deliveries", "status" => "pending").set(pending as f64);
                metrics::gauge!("hookgate_deliveries", "status" => "failed").set(failed as f64);
                metrics::gauge!("hookgate_deliveries", "status" => "dead").set(dead as f64);
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = stop.changed() => break,
            }
        }
    })
}
