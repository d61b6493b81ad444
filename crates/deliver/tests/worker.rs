//! The worker loop against a real SQLite store and the fake target: retries, dead letters and the
//! times it records, on an injected clock and jitter.

use std::sync::Arc;
use std::time::Duration;

use hookgate_deliver::{Clock, Jitter, Outcome, RetryConfig, Target, Worker};
use hookgate_store::{DeliveryQuery, DeliveryRecord, EventId, NewEvent, Store, StoreOptions, StoreUrl};
use hookgate_verify::Timestamp;
use tokio::sync::{Notify, watch};

#[derive(Debug)]
struct FixedClock(i64);
impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0
    }
}

#[derive(Debug)]
struct FixedJitter(i64);
impl Jitter for FixedJitter {
    fn spread_percent(&self, _: i64) -> i64 {
        self.0
    }
}

struct Setup {
    store: Arc<Store>,
    dir: std::path::PathBuf,
}

impl Setup {
    async fn new(name: &str) -> Self {
        let dir = hookgate_test_support::TempDir::new(&format!("deliver-{name}")).keep();
        let url = StoreUrl::parse(&format!("sqlite://{}", dir.join("h.db").display())).unwrap();
        let store = Arc::new(Store::open(&url, StoreOptions::default()).await.unwrap());
        Self { store, dir }
    }

    async fn event(&self, key: &str, target: &str) -> EventId {
        let body = format!("{{\"n\":\"{key}\"}}").into_bytes();
        let event = NewEvent {
            source: "flinks".into(),
            received_at_ms: Timestamp::now().unix_millis(),
            dedup_key: key.into(),
            provider_id: None,
            event_type: Some("KYC".into()),
            signed_at_ms: None,
            body_sha256: hookgate_store::sha256_hex(&body),
            body,
            headers: vec![],
            metadata: serde_json::json!({}),
            targets: vec![target.into()],
            pii: vec![],
        };
        self.store.insert_event(event).await.unwrap().id()
    }

    async fn delivery_of(&self, event_id: EventId) -> DeliveryRecord {
        let q = DeliveryQuery { event_id: Some(event_id), limit: 10, ..Default::default() };
        let id = self.store.deliveries(&q).await.unwrap()[0].id;
        self.store.get_delivery(id).await.unwrap().unwrap()
    }

    /// Waits until the event's delivery has `attempts` attempts recorded.
    async fn wait_attempts(&self, event_id: EventId, attempts: i64) -> DeliveryRecord {
        for _ in 0..200 {
            let d = self.delivery_of(event_id).await;
            if d.summary.attempts >= attempts && d.summary.status != "pending" {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no {attempts} attempts recorded: {:?}", self.delivery_of(event_id).await);
    }

    async fn finish(self, stop: watch::Sender<bool>, worker: tokio::task::JoinHandle<()>) {
        stop.send(true).unwrap();
        worker.await.unwrap();
        self.store.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn retry(max_attempts: u32, initial_delay_ms: u64) -> RetryConfig {
    RetryConfig { max_attempts, initial_delay_ms, max_delay_ms: 3_600_000 }
}

fn spawn(setup: &Setup, worker: Worker) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let _ = setup;
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(worker.run(stopped)))
}

fn failed(error: &str) -> Outcome {
    Outcome::Retry { status: Some(503), error: error.into(), response: Some("busy".into()), after: None }
}

#[tokio::test]
async fn a_failed_attempt_is_retried_and_then_delivered() {
    let setup = Setup::new("retry").await;
    let (target, mut fake) = Target::fake("svc", retry(5, 0), 4, false);
    fake.answer([failed("down")]);
    let event = setup.event("a", "svc").await;
    let (stop, worker) = spawn(&setup, Worker::new(Arc::clone(&setup.store), target, Arc::new(Notify::new())));
    let first = fake.next(Duration::from_secs(10)).await.expect("a first attempt");
    assert_eq!((first.event_id, first.attempt, first.body.as_slice()), (event, 1, &b"{\"n\":\"a\"}"[..]));
    let second = fake.next(Duration::from_secs(10)).await.expect("a retry");
    assert_eq!((second.delivery_id, second.attempt), (first.delivery_id, 2));
    let d = setup.wait_attempts(event, 2).await;
    assert_eq!(d.summary.status, "delivered");
    let history: Vec<_> = d.attempts_history.iter().map(|a| (a.status_code, a.error.clone())).collect();
    assert_eq!(history, [(Some(503), Some("down".into())), (None, None)]);
    setup.finish(stop, worker).await;
}

#[tokio::test]
async fn the_next_attempt_is_timed_by_the_policy_on_the_injected_clock() {
    let setup = Setup::new("clock").await;
    // Far in the future: the store (on its own clock) will not claim the retry during the test.
    let now = 4_000_000_000_000;
    let cases = [
        // (jitter %, Retry-After, expected delay): 10 s ± jitter, at least what the target asked.
        (0, None, 10_000),
        (20, None, 12_000),
        (-20, None, 8_000),
        (20, Some(Duration::from_secs(60)), 60_000),
        (0, Some(Duration::from_secs(1)), 10_000),
    ];
    for (i, (spread, after, delay_ms)) in cases.into_iter().enumerate() {
        let name = format!("svc{i}");
        let (target, mut fake) = Target::fake(&name, retry(5, 10_000), 1, false);
        fake.answer([Outcome::Retry { status: Some(429), error: "slow down".into(), response: None, after }]);
        let event = setup.event(&format!("k{i}"), &name).await;
        let worker = Worker::new(Arc::clone(&setup.store), target, Arc::new(Notify::new()))
            .with_clock(Arc::new(FixedClock(now)))
            .with_jitter(Arc::new(FixedJitter(spread)));
        let (stop, handle) = spawn(&setup, worker);
        fake.next(Duration::from_secs(10)).await.expect("an attempt");
        let mut d = setup.delivery_of(event).await;
        for _ in 0..200 {
            if d.summary.attempts == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            d = setup.delivery_of(event).await;
        }
        assert!(fake.next(Duration::from_millis(300)).await.is_none(), "case {i}: not retried before it is due");
        stop.send(true).unwrap();
        handle.await.unwrap();
        assert_eq!(d.summary.status, "failed", "case {i}");
        assert_eq!(d.summary.next_attempt_at_ms, Some(now + delay_ms), "case {i}: {spread} % {after:?}");
        assert_eq!(d.attempts_history[0].started_at_ms, now, "case {i}: the attempt starts on the worker's clock");
    }
    setup.store.close().await;
    let _ = std::fs::remove_dir_all(&setup.dir);
}

#[tokio::test]
async fn a_permanent_failure_or_the_last_attempt_makes_the_delivery_dead() {
    let setup = Setup::new("dead").await;
    let (target, mut fake) = Target::fake("perm", retry(5, 0), 1, false);
    fake.answer([Outcome::Permanent { status: Some(400), error: "http status 400".into(), response: None }]);
    let event = setup.event("p", "perm").await;
    let (stop, worker) = spawn(&setup, Worker::new(Arc::clone(&setup.store), target, Arc::new(Notify::new())));
    fake.next(Duration::from_secs(10)).await.expect("an attempt");
    let d = setup.wait_attempts(event, 1).await;
    assert_eq!((d.summary.status.as_str(), d.summary.attempts), ("dead", 1), "never retried");
    assert!(fake.next(Duration::from_millis(300)).await.is_none());
    stop.send(true).unwrap();
    worker.await.unwrap();

    let (target, mut fake) = Target::fake("last", retry(3, 0), 1, false);
    fake.answer([failed("1"), failed("2"), failed("3"), failed("never asked")]);
    let event = setup.event("l", "last").await;
    let (stop, worker) = spawn(&setup, Worker::new(Arc::clone(&setup.store), target, Arc::new(Notify::new())));
    for n in 1..=3 {
        assert_eq!(fake.next(Duration::from_secs(10)).await.expect("an attempt").attempt, n);
    }
    let d = setup.wait_attempts(event, 3).await;
    assert_eq!((d.summary.status.as_str(), d.summary.attempts), ("dead", 3), "max_attempts counts the first");
    assert!(fake.next(Duration::from_millis(300)).await.is_none(), "no fourth attempt");
    setup.finish(stop, worker).await;
}
