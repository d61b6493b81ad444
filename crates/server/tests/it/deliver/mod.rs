//! Delivery to HTTP targets over real HTTP: routing, Standard Webhooks signatures checked by an
//! axum receiver (hookgate-axum), outages, poison messages and `retry --dead`.

mod command;
mod nats;
mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use hookgate_axum::{VerifiedWebhook, WebhookVerifier};
use hookgate_store::{AdminOp, EventQuery, Reader};
use hookgate_verify::{Secret, Verifier, preset};

use crate::support::*;

pub(super) const TARGET_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What a receiver saw: (path, webhook id) per delivery, plus the status it answers.
#[derive(Clone, Default)]
pub(super) struct Receiver {
    pub(super) seen: Arc<Mutex<Vec<(String, String)>>>,
    pub(super) status: Arc<AtomicU16>,
}

impl Receiver {
    pub(super) fn ids(&self, path: &str) -> Vec<String> {
        self.seen.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, id)| id.clone()).collect()
    }
}

pub(super) async fn start_receiver(addr: SocketAddr, rx: Receiver) {
    let scheme = preset("standard-webhooks").unwrap();
    let verifier = WebhookVerifier::new(
        Verifier::new(scheme, vec![Secret::decode(TARGET_SECRET, hookgate_verify::SecretEncoding::Whsec).unwrap()])
            .unwrap(),
    );
    let handler = |path: &'static str| {
        let rx = rx.clone();
        move |hook: VerifiedWebhook| {
            let rx = rx.clone();
            async move {
                let status = rx.status.load(Ordering::SeqCst);
                if status == 200 {
                    rx.seen.lock().unwrap().push((path.to_owned(), hook.verified.id.clone().unwrap_or_default()));
                }
                StatusCode::from_u16(status).unwrap()
            }
        }
    };
    let app = Router::new()
        .route("/kyc", post(handler("/kyc")))
        .route("/accounts", post(handler("/accounts")))
        .route("/other", post(handler("/other")))
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

pub(super) fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

pub(super) fn delivery_config(target: SocketAddr, retry: &str) -> String {
    let targets = ["kyc", "accounts", "other"]
        .iter()
        .map(|t| format!("\n[[target]]\nname = \"{t}\"\ntype = \"http\"\nurl = \"http://{target}/{t}\"\nsecret = {{ file = \"target.secret\" }}\nconcurrency = 16\n{retry}\n"))
        .collect::<String>();
    let routes = r#"
[[source]]
name = "routed"
path = "/webhooks/routed"
scheme = "flinks"
secrets = [{ file = "flinks.secret" }]
default_targets = ["other"]

[[source.route]]
when = [{ field = "tag.userId", equals = "42" }]
targets = ["accounts", "kyc"]

[[source.route]]
when = [{ field = "response_type", equals = "KYC" }]
targets = ["kyc"]

[[source.route]]
when = [{ pointer = "/ResponseType", equals = "GetAccountsDetail" }]
targets = ["accounts"]
"#;
    config_text("", &format!("{routes}{targets}"))
}

pub(super) async fn start_with_targets(name: &str, target: SocketAddr, retry: &str) -> TestGateway {
    let dir = temp_dir(name);
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    TestGateway::start_in(dir, &delivery_config(target, retry)).await
}

pub(super) async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub(super) async fn post_flinks(gw: &TestGateway, body: &str) {
    let r = gw.post("/webhooks/routed", flinks_headers(body.as_bytes()), body.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flinks_events_are_routed_signed_and_delivered() {
    let addr = free_addr();
    let rx = Receiver::default();
    rx.status.store(200, Ordering::SeqCst);
    start_receiver(addr, rx.clone()).await;
    let mut gw = start_with_targets("route", addr, "").await;
    post_flinks(&gw, r#"{"ResponseType":"KYC","Tag":"userId=7,session=a"}"#).await;
    post_flinks(&gw, r#"{"ResponseType":"GetAccountsDetail","Tag":"userId=8"}"#).await;
    post_flinks(&gw, r#"{"ResponseType":"Other"}"#).await;
    post_flinks(&gw, r#"{"ResponseType":"Other","Tag":"userId=42,session=b"}"#).await;
    wait_for("5 deliveries", || rx.seen.lock().unwrap().len() == 5).await;
    let events = gw.events();
    let id_of = |needle: &str| {
        let reader = Reader::open_existing(&gw.db()).unwrap();
        let e = events
            .iter()
            .find(|e| String::from_utf8_lossy(&reader.get_event(e.id).unwrap().unwrap().body).contains(needle))
            .unwrap();
        format!("evt_{}", e.id)
    };
    let (kyc, acc, other, vip) =
        (id_of("\"KYC\""), id_of("GetAccountsDetail"), id_of("\"Other\"}"), id_of("userId=42"));
    let mut got_kyc = rx.ids("/kyc");
    got_kyc.sort();
    let mut want_kyc = vec![kyc, vip.clone()];
    want_kyc.sort();
    assert_eq!(got_kyc, want_kyc);
    let mut got_acc = rx.ids("/accounts");
    got_acc.sort();
    let mut want_acc = vec![acc, vip];
    want_acc.sort();
    assert_eq!(got_acc, want_acc);
    assert_eq!(rx.ids("/other"), vec![other]);
    // Every delivery is recorded as delivered, with its attempt.
    gw.get("/readyz").await;
    let reader = Reader::open_existing(&gw.db()).unwrap();
    let all = reader.list_deliveries(None, None, 100).unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|d| d.status == "delivered" && d.attempts == 1), "{all:?}");
    let m = gw.get_ops("/metrics").await.text();
    assert!(m.contains(r#"hookgate_delivery_attempts_total{target="kyc",outcome="delivered"}"#), "{m}");
    assert!(m.contains("hookgate_delivery_latency_seconds_bucket"), "{m}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_outage_loses_nothing() {
    let addr = free_addr();
    let retry = "[target.retry]\nmax_attempts = 1000\ninitial_delay_ms = 50\nmax_delay_ms = 300\n";
    let mut gw = start_with_targets("outage", addr, retry).await;
    // 1,000 events while the target is down (nothing listens on its port).
    let gw_addr = gw.addr;
    tokio::task::spawn_blocking(move || {
        for i in 0..1000 {
            let body = format!(r#"{{"ResponseType":"KYC","RequestId":"{i}"}}"#).into_bytes();
            let r = http(gw_addr, "POST", "/webhooks/routed", &flinks_headers(&body), &body);
            assert_eq!(r.status, 200);
        }
    })
    .await
    .unwrap();
    assert_eq!(gw.events().len(), 1000);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The target comes back.
    let rx = Receiver::default();
    rx.status.store(200, Ordering::SeqCst);
    start_receiver(addr, rx.clone()).await;
    wait_for("1,000 unique deliveries", || {
        let ids = rx.ids("/kyc");
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        unique.len() == 1000
    })
    .await;
    let ids = rx.ids("/kyc");
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for id in &ids {
        *counts.entry(id).or_default() += 1;
    }
    let duplicates = ids.len() - counts.len();
    eprintln!(
        "outage test: 1000 events, {} deliveries received, {} unique, {duplicates} duplicates",
        ids.len(),
        counts.len()
    );
    gw.get("/readyz").await;
    let reader = Reader::open_existing(&gw.db()).unwrap();
    wait_for("all recorded as delivered", || {
        Reader::open_existing(&gw.db()).unwrap().list_deliveries(Some("delivered"), None, 2000).unwrap().len() == 1000
    })
    .await;
    assert!(reader.list_deliveries(Some("dead"), None, 10).unwrap().is_empty());
    assert!(!reader.list_events(&EventQuery::default()).unwrap().is_empty());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_target_ends_dead_and_retry_dead_delivers() {
    let addr = free_addr();
    let rx = Receiver::default();
    rx.status.store(500, Ordering::SeqCst);
    start_receiver(addr, rx.clone()).await;
    let retry = "[target.retry]\nmax_attempts = 3\ninitial_delay_ms = 20\nmax_delay_ms = 50\n";
    let mut gw = start_with_targets("poison", addr, retry).await;
    for i in 0..5 {
        post_flinks(&gw, &format!(r#"{{"ResponseType":"KYC","RequestId":"{i}"}}"#)).await;
    }
    let db = gw.db();
    wait_for("5 dead deliveries", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap().len() == 5
    })
    .await;
    let reader = Reader::open_existing(&db).unwrap();
    let dead = reader.list_deliveries(Some("dead"), None, 10).unwrap();
    let history = reader.get_delivery(dead[0].id).unwrap().unwrap();
    assert_eq!(history.attempts_history.len(), 3);
    assert!(history.attempts_history.iter().all(|a| a.status_code == Some(500)));
    // The target is fixed; the operator retries the dead deliveries.
    rx.status.store(200, Ordering::SeqCst);
    let store = hookgate_store::SqliteStore::open(&db, hookgate_store::Durability::Full, operator()).unwrap();
    assert_eq!(store.admin(AdminOp::RetryDead { target: Some("kyc".into()) }).await.unwrap(), 5);
    store.close();
    wait_for("5 deliveries after retry", || rx.ids("/kyc").len() == 5).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_4xx_is_dead_at_once() {
    let addr = free_addr();
    let rx = Receiver::default();
    rx.status.store(422, Ordering::SeqCst);
    start_receiver(addr, rx.clone()).await;
    let mut gw = start_with_targets("4xx", addr, "").await;
    post_flinks(&gw, r#"{"ResponseType":"KYC"}"#).await;
    let db = gw.db();
    wait_for("a dead delivery", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap().len() == 1
    })
    .await;
    let d = Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap();
    assert_eq!(d[0].attempts, 1);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordered_target_receives_events_in_arrival_order() {
    let addr = free_addr();
    let rx = Receiver::default();
    rx.status.store(200, Ordering::SeqCst);
    start_receiver(addr, rx.clone()).await;
    let dir = temp_dir("ordered");
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let extra = format!(
        "\n[[source]]\nname = \"ord\"\npath = \"/webhooks/ord\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\ndefault_targets = [\"kyc\"]\n\n[[target]]\nname = \"kyc\"\ntype = \"http\"\nurl = \"http://{addr}/kyc\"\nsecret = {{ file = \"target.secret\" }}\nordered = true\nconcurrency = 16\n"
    );
    let mut gw = TestGateway::start_in(dir, &config_text("", &extra)).await;
    for i in 0..30 {
        let body = format!(r#"{{"ResponseType":"KYC","RequestId":"{i}"}}"#).into_bytes();
        assert_eq!(gw.post("/webhooks/ord", flinks_headers(&body), body).await.status, 200);
    }
    wait_for("30 deliveries", || rx.ids("/kyc").len() == 30).await;
    let got: Vec<i64> = rx.ids("/kyc").iter().map(|id| id.trim_start_matches("evt_").parse().unwrap()).collect();
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(got, sorted, "delivered in arrival order");
    gw.stop().await;
}

/// How `hookgate replay` / `retry` open the store beside a running gateway.
pub(super) fn operator() -> hookgate_store::StoreOptions {
    hookgate_store::StoreOptions { take_events: false, ..Default::default() }
}

/// A header value that is not UTF-8 (obs-text, which HTTP allows) is kept and forwarded as the
/// bytes received, not as U+FFFD.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_values_are_stored_and_forwarded_as_the_bytes_received() {
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let record = Arc::clone(&seen);
    let app = Router::new().route(
        "/in",
        post(move |headers: axum::http::HeaderMap| {
            let record = Arc::clone(&record);
            async move {
                if let Some(v) = headers.get("x-note") {
                    record.lock().unwrap().push(v.as_bytes().to_vec());
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = temp_dir("header-bytes");
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let extra = format!(
        "default_targets = [\"svc\"]\n\n[[target]]\nname = \"svc\"\ntype = \"http\"\nurl = \"http://{target}/in\"\nsecret = {{ file = \"target.secret\" }}\nforward_headers = [\"X-Note\"]\n"
    );
    // The Flinks source (first in the file) gets the default target.
    let config = config_text("", "").replacen("body_limit = 65536\n", &format!("body_limit = 65536\n{extra}"), 1);
    let mut gw = TestGateway::start_in(dir, &config).await;

    let note: &[u8] = b"caf\xe9 \xff\xfe ok";
    let body = br#"{"ResponseType":"KYC"}"#;
    let mut request =
        format!("POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n", body.len())
            .into_bytes();
    for (k, v) in flinks_headers(body) {
        request.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    request.extend_from_slice(b"X-Note: ");
    request.extend_from_slice(note);
    request.extend_from_slice(b"\r\n\r\n");
    request.extend_from_slice(body);
    let addr = gw.addr;
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&request).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        out
    })
    .await
    .unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));

    let stored = Reader::open_existing(&gw.db()).unwrap().get_event(hookgate_store::EventId(1)).unwrap().unwrap();
    let kept = stored.headers.iter().find(|(k, _)| k == "x-note").map(|(_, v)| v.as_bytes().to_vec());
    assert_eq!(kept.as_deref(), Some(note), "stored exactly");
    wait_for("the delivery", || !seen.lock().unwrap().is_empty()).await;
    assert_eq!(seen.lock().unwrap()[0], note, "forwarded exactly");
    gw.stop().await;
}
