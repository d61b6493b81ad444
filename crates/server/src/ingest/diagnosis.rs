//! Diagnosis of rejected requests, off the request path.
//!
//! A rejected request is answered at once, exactly as without diagnosis. If the rate allows and
//! the queue has room, a copy of it goes to one diagnosis thread, which works out why it failed
//! (`hookgate_verify::Verifier::diagnose`, bounded by its budget) and records the rejection with
//! its findings; otherwise the rejection is recorded as before, undiagnosed. So a flood of
//! garbage costs at most `per_second` bounded diagnoses a second, on one thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookgate_store::{Diagnosed, NewRejection, Store};
use hookgate_verify::http::{HeaderMap, Method};
use hookgate_verify::{Auth, Budget, Clues, Timestamp, WebhookRequest};

use super::source::Source;

/// How diagnosis runs (`[diagnosis]` builds it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiagnosisPlan {
    /// Off: rejections are recorded undiagnosed.
    pub enabled: bool,
    /// Diagnoses started per second, at most (a token bucket).
    pub per_second: f64,
    /// Diagnoses that may start at once after a quiet spell.
    pub burst: f64,
    /// Rejections waiting for the diagnosis thread, at most.
    pub queue: usize,
    /// The work one diagnosis may do.
    pub budget: Budget,
}

impl Default for DiagnosisPlan {
    fn default() -> Self {
        Self { enabled: true, per_second: 10.0, burst: 20.0, queue: 64, budget: Budget::default() }
    }
}

/// A rejected request to diagnose, with the rejection to record.
pub(crate) struct Job {
    pub(crate) source: usize,
    pub(crate) method: Method,
    pub(crate) url: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) at: Timestamp,
    pub(crate) record: NewRejection,
}

/// The request path's handle: admits jobs, or hands them back to be recorded undiagnosed.
pub(crate) struct Diagnoser {
    tx: Option<SyncSender<Job>>,
    bucket: Mutex<Bucket>,
    plan: DiagnosisPlan,
    /// Admitted and not yet recorded.
    pending: Arc<AtomicUsize>,
    skipped_rate: metrics::Counter,
    skipped_queue: metrics::Counter,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Diagnoser {
    /// Starts the diagnosis thread over `sources` (indexed as in [`Job::source`]).
    pub(crate) fn start(plan: DiagnosisPlan, sources: Vec<Arc<Source>>, store: Arc<Store>) -> Self {
        let pending = Arc::new(AtomicUsize::new(0));
        let tx = plan.enabled.then(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel(plan.queue.max(1));
            let pending = Arc::clone(&pending);
            let budget = plan.budget;
            let spawned = std::thread::Builder::new()
                .name("hookgate-diagnosis".into())
                .spawn(move || run(&rx, &sources, &store, budget, &pending));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "Cannot start the diagnosis thread; rejections are recorded undiagnosed.");
            }
            tx
        });
        Self {
            tx,
            bucket: Mutex::new(Bucket { tokens: plan.burst, at: Instant::now() }),
            plan,
            pending,
            skipped_rate: metrics::counter!("hookgate_diagnosis_skipped_total", "reason" => "rate"),
            skipped_queue: metrics::counter!("hookgate_diagnosis_skipped_total", "reason" => "queue"),
        }
    }

    /// Whether diagnosis may run now for a body of `len` bytes: enabled, the body within one
    /// diagnosis' byte budget (a copy waits in the queue, outside the in-flight body budget), and
    /// a token in the bucket. Checked before the request is copied, so a flood over the rate
    /// costs a lock and a subtraction.
    pub(crate) fn admit(&self, len: usize) -> bool {
        if self.tx.is_none() || len > self.plan.budget.max_bytes {
            return false;
        }
        let mut b = self.bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let refill = now.duration_since(b.at).as_secs_f64() * self.plan.per_second;
        b.tokens = (b.tokens + refill).min(self.plan.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            drop(b);
            self.skipped_rate.increment(1);
            false
        }
    }

    /// Queues an admitted job, or gives it back when the queue is full.
    pub(crate) fn offer(&self, job: Job) -> Result<(), Box<Job>> {
        let Some(tx) = &self.tx else { return Err(Box::new(job)) };
        self.pending.fetch_add(1, Ordering::AcqRel);
        match tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.pending.fetch_sub(1, Ordering::AcqRel);
                self.skipped_queue.increment(1);
                Err(Box::new(job))
            }
        }
    }

    /// Waits (at most `limit`) for the queued diagnoses to be recorded, before the store closes.
    pub(crate) async fn drain(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.pending.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn run(rx: &Receiver<Job>, sources: &[Arc<Source>], store: &Store, budget: Budget, pending: &AtomicUsize) {
    while let Ok(mut job) = rx.recv() {
        if let Some(src) = sources.get(job.source) {
            let others: Vec<(&str, &Auth)> =
                sources.iter().filter(|s| s.name != src.name).map(|s| (s.name.as_str(), &s.auth)).collect();
            let mut req = WebhookRequest::new(&job.headers, &job.body).with_method(job.method.as_str());
            if let Some(url) = &job.url {
                req = req.with_url(url);
            }
            let clues = Clues { secrets: &src.secret_texts, retired: &src.retired_secrets, others: &others, budget };
            // A bug in diagnosis must not cost the rejection record or stop the thread.
            let Ok(diagnosis) =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| src.auth.diagnose(&req, job.at, &clues)))
            else {
                tracing::error!(source = %src.name, "Diagnosing a rejected webhook panicked; it is recorded undiagnosed.");
                let source = job.record.source.clone();
                if !store.record_rejection(job.record) {
                    metrics::counter!("hookgate_rejections_dropped_total", "source" => source).increment(1);
                }
                pending.fetch_sub(1, Ordering::AcqRel);
                continue;
            };
            let causes: Vec<&str> = diagnosis.findings.iter().map(|f| f.cause.code()).collect();
            for cause in &causes {
                metrics::counter!("hookgate_rejection_causes_total", "source" => src.name.clone(), "cause" => *cause)
                    .increment(1);
            }
            if diagnosis.exhausted {
                metrics::counter!("hookgate_diagnosis_exhausted_total", "source" => src.name.clone()).increment(1);
            }
            // Cause codes only: the details are for the operator API, where access is checked.
            tracing::info!(source = %src.name, causes = ?causes, exhausted = diagnosis.exhausted, "Diagnosed a rejected webhook.");
            job.record.diagnosis = Some(
                diagnosis
                    .findings
                    .into_iter()
                    .map(|f| Diagnosed { cause: f.cause.code().to_owned(), detail: f.detail })
                    .collect(),
            );
        }
        let source = job.record.source.clone();
        if !store.record_rejection(job.record) {
            metrics::counter!("hookgate_rejections_dropped_total", "source" => source).increment(1);
        }
        pending.fetch_sub(1, Ordering::AcqRel);
    }
}
