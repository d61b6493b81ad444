//! Delivery to HTTP targets over real HTTP: routing, Standard Webhooks signatures checked by an
//! axum receiver (hookgate-axum), outages, poison messages and `retry --dead`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use hookgate_axum::{VerifiedWebhook, WebhookVerifier};
use hookgate_store::{AdminOp, ListFilter, Reader};
use hookgate_verify::{Secret, Verifier, preset};

use crate::support::*;

const TARGET_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What a receiver saw: (path, webhook id) per delivery, plus the status it answers.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn ids(&self, path: &str) -> Vec<String> {
        self.seen.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, id)| id.clone()).collect()
    }
}

async fn start_receiver(addr: SocketAddr, rx: Receiver) {
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

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn delivery_config(target: SocketAddr, retry: &str) -> String {
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

async fn start_with_targets(name: &str, target: SocketAddr, retry: &str) -> TestGateway {
    let dir = temp_dir(name);
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    TestGateway::start_in(dir, &delivery_config(target, retry)).await
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn post_flinks(gw: &TestGateway, body: &str) {
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
    assert!(!reader.list_events(&ListFilter::default()).unwrap().is_empty());
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

fn command_config(script: &str, out_dir: &std::path::Path, extra: &str) -> String {
    let cmd = serde_json::to_string(&["sh", "-c", script, out_dir.to_str().unwrap()]).unwrap();
    config_text(
        "",
        &format!(
            "\n[[source]]\nname = \"cmd\"\npath = \"/webhooks/cmd\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\ndefault_targets = [\"run\"]\n\n[[target]]\nname = \"run\"\ntype = \"command\"\ncommand = {cmd}\ntimeout_secs = 1\n{extra}\n"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_target_gets_the_body_on_stdin_and_metadata_in_its_environment() {
    let out = temp_dir("cmd-out");
    // `sh` is the program the operator chose; Hookgate itself runs no shell.
    let script = r#"cat > "$0/$HOOKGATE_EVENT_ID.body"; env | grep -E '^(HOOKGATE_|FLINKS|PATH=)' | sort > "$0/$HOOKGATE_EVENT_ID.env"; echo handled"#;
    let mut gw = TestGateway::start("cmd", &command_config(script, &out, "")).await;
    let body = b"{\"ResponseType\":\"KYC\",\"raw\":\"\xc3\xbf \\u00ff\"}  ";
    let r = gw.post("/webhooks/cmd", flinks_headers(body), body.to_vec()).await;
    assert_eq!(r.status, 200);
    let id = gw.events()[0].id;
    wait_for("the command ran", || {
        out.join(format!("{id}.env")).exists() && std::fs::metadata(out.join(format!("{id}.env"))).unwrap().len() > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(std::fs::read(out.join(format!("{id}.body"))).unwrap(), body);
    let env = std::fs::read_to_string(out.join(format!("{id}.env"))).unwrap();
    assert!(
        env.contains(&format!("HOOKGATE_EVENT_ID={id}\n"))
            && env.contains("HOOKGATE_SOURCE=cmd\n")
            && env.contains("HOOKGATE_EVENT_TYPE=KYC\n"),
        "{env}"
    );
    assert!(!env.contains("FLINKS"), "Hookgate's own environment is not passed on: {env}");
    let db = gw.db();
    wait_for("delivered", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("delivered"), None, 10).unwrap().len() == 1
    })
    .await;
    let d = Reader::open_existing(&db).unwrap().list_deliveries(None, None, 10).unwrap();
    let rec = Reader::open_existing(&db).unwrap().get_delivery(d[0].id).unwrap().unwrap();
    assert_eq!(rec.attempts_history[0].status_code, Some(0));
    assert_eq!(rec.attempts_history[0].response_excerpt.as_deref(), Some("handled\n"));
    gw.stop().await;
    let _ = std::fs::remove_dir_all(out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_or_hanging_command_is_retried_then_dead() {
    let out = temp_dir("cmd-fail");
    let retry = "[target.retry]\nmax_attempts = 2\ninitial_delay_ms = 20\nmax_delay_ms = 20\n";
    let script = r#"echo "bad input" >&2; if [ "$HOOKGATE_SOURCE" = cmd ] && grep -q hang; then sleep 30; fi; exit 3"#;
    let mut gw = TestGateway::start("cmd-fail", &command_config(script, &out, retry)).await;
    let body = b"{\"a\":1}".to_vec();
    assert_eq!(gw.post("/webhooks/cmd", flinks_headers(&body), body).await.status, 200);
    let hang = b"{\"hang\":1}".to_vec();
    assert_eq!(gw.post("/webhooks/cmd", flinks_headers(&hang), hang).await.status, 200);
    let db = gw.db();
    wait_for("2 dead", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap().len() == 2
    })
    .await;
    let reader = Reader::open_existing(&db).unwrap();
    let mut errors = Vec::new();
    for d in reader.list_deliveries(Some("dead"), None, 10).unwrap() {
        let rec = reader.get_delivery(d.id).unwrap().unwrap();
        assert_eq!(rec.attempts_history.len(), 2);
        errors.push((rec.attempts_history[0].status_code, rec.attempts_history[0].error.clone().unwrap_or_default()));
    }
    errors.sort();
    assert_eq!(errors[0], (None, "timed out after 1 s; killed".to_owned()), "{errors:?}");
    assert_eq!(errors[1], (Some(3), "exit code 3".to_owned()), "{errors:?}");
    gw.stop().await;
    let _ = std::fs::remove_dir_all(out);
}

fn nats_url() -> String {
    std::env::var("HOOKGATE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_jetstream_publishes_with_msg_id_and_the_broker_dedups_replays() {
    // A stream of its own, so tests run in parallel. Unreachable NATS fails the test (never skips).
    let url = nats_url();
    let client = async_nats::connect(&url).await.unwrap_or_else(|e| panic!("NATS at {url} is required: {e}"));
    let js = async_nats::jetstream::new(client);
    let tag = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    );
    let stream_name = format!("HGTEST_{tag}");
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: stream_name.clone(),
            subjects: vec![format!("hgtest.{tag}.>")],
            ..Default::default()
        })
        .await
        .unwrap();
    let extra = format!(
        "\n[[source]]\nname = \"natsrc\"\npath = \"/webhooks/nats\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\ndefault_targets = [\"bus\"]\n\n[[target]]\nname = \"bus\"\ntype = \"nats\"\nurl = \"{url}\"\nsubject = \"hgtest.{tag}.{{source}}.{{event_type}}\"\n"
    );
    let mut gw = TestGateway::start("nats", &config_text("", &extra)).await;
    for kind in ["KYC", "GetAccountsDetail", "KYC Update"] {
        let body = format!(r#"{{"ResponseType":"{kind}"}}"#).into_bytes();
        assert_eq!(gw.post("/webhooks/nats", flinks_headers(&body), body).await.status, 200);
    }
    let db = gw.db();
    wait_for("3 published", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("delivered"), None, 10).unwrap().len() == 3
    })
    .await;
    assert_eq!(stream.info().await.unwrap().state.messages, 3);
    let first = stream.get_raw_message(1).await.unwrap();
    let id = first.headers.get("Nats-Msg-Id").unwrap().as_str().to_owned();
    assert!(id.starts_with("evt_"), "{id}");
    assert!(first.subject.as_str().starts_with(&format!("hgtest.{tag}.natsrc.")), "{}", first.subject);
    // Delivery is unordered by default, so compare the set of subjects.
    let mut subjects = Vec::new();
    for seq in 1..=3 {
        subjects.push(stream.get_raw_message(seq).await.unwrap().subject.to_string());
    }
    subjects.sort();
    let want: Vec<String> =
        ["GetAccountsDetail", "KYC", "KYC_Update"].iter().map(|t| format!("hgtest.{tag}.natsrc.{t}")).collect();
    assert_eq!(subjects, want);
    // A replay publishes again with the same Nats-Msg-Id: the stream keeps one copy.
    let event_id: i64 = id.trim_start_matches("evt_").parse().unwrap();
    let store = hookgate_store::SqliteStore::open(&db, hookgate_store::Durability::Full, operator()).unwrap();
    assert_eq!(store.admin(AdminOp::Replay { event_ids: vec![event_id], target: None }).await.unwrap(), 1);
    store.close();
    wait_for("the replay acknowledged", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("delivered"), None, 10).unwrap().len() == 4
    })
    .await;
    assert_eq!(stream.info().await.unwrap().state.messages, 3);
    let reader = Reader::open_existing(&db).unwrap();
    let replayed = reader.list_deliveries(Some("delivered"), None, 1).unwrap();
    let rec = reader.get_delivery(replayed[0].id).unwrap().unwrap();
    assert!(rec.attempts_history[0].response_excerpt.as_deref().unwrap_or("").ends_with("(duplicate)"), "{rec:?}");
    gw.stop().await;
    js.delete_stream(&stream_name).await.unwrap();
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
fn operator() -> hookgate_store::StoreOptions {
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

    let stored = Reader::open_existing(&gw.db()).unwrap().get_event(1).unwrap().unwrap();
    let kept = stored.headers.iter().find(|(k, _)| k == "x-note").map(|(_, v)| v.as_bytes().to_vec());
    assert_eq!(kept.as_deref(), Some(note), "stored exactly");
    wait_for("the delivery", || !seen.lock().unwrap().is_empty()).await;
    assert_eq!(seen.lock().unwrap()[0], note, "forwarded exactly");
    gw.stop().await;
}

/// Whether a process is gone (or a zombie waiting for its new parent to reap it).
fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X'))
    })
}

/// A timed-out command is killed with everything it started: its process group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_command_is_killed_with_its_children() {
    let out = temp_dir("cmd-group");
    let script = r#"sleep 30 & echo $! > "$0/child.pid"; sleep 30"#;
    let retry = "[target.retry]\nmax_attempts = 1\n";
    let mut gw = TestGateway::start("cmd-group", &command_config(script, &out, retry)).await;
    let body = b"{\"a\":1}".to_vec();
    assert_eq!(gw.post("/webhooks/cmd", flinks_headers(&body), body).await.status, 200);
    let db = gw.db();
    wait_for("the attempt to time out", || {
        Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap().len() == 1
    })
    .await;
    let pid: u32 = std::fs::read_to_string(out.join("child.pid")).unwrap().trim().parse().unwrap();
    wait_for("the command's own child to be killed too", || gone(pid)).await;
    gw.stop().await;
    let _ = std::fs::remove_dir_all(out);
}

/// An internal CA for targets' TLS tests.
struct TestCa {
    cert: rcgen::Certificate,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Self { cert, issuer: rcgen::Issuer::new(params, key) }
    }

    /// A certificate for these names, signed by the CA, with its key.
    fn leaf(&self, names: &[&str]) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let cert = rcgen::CertificateParams::new(names).unwrap().signed_by(&key, &self.issuer).unwrap();
        (cert, key)
    }
}

/// A target behind an internal CA that requires a client certificate and a bearer token: the
/// target's `ca_file`, `client_cert`/`client_key` and `auth_header` (its value from the
/// environment) get the delivery through; without the client certificate the handshake fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_target_with_an_internal_ca_mtls_and_a_token_header() {
    let dir = temp_dir("mtls-target");
    let ca = TestCa::new();
    let ca_cert = &ca.cert;
    let (server_cert, server_key) = ca.leaf(&["localhost", "127.0.0.1"]);
    let (client_cert, client_key) = ca.leaf(&["hookgate"]);
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("client.pem"), client_cert.pem()).unwrap();
    std::fs::write(dir.join("client.key"), client_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();

    // The target: TLS with client certificates required (signed by the CA), recording the token.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&tokens);
    let app = Router::new().route(
        "/in",
        post(move |headers: axum::http::HeaderMap| {
            let record = Arc::clone(&record);
            async move {
                let token = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record.lock().unwrap().push(token);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    let handshakes_refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let refused = Arc::clone(&handshakes_refused);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, app, refused) = (acceptor.clone(), app.clone(), Arc::clone(&refused));
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    refused.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    // The token from a file (an environment variable works the same; `{ env = "…" }`).
    std::fs::write(dir.join("token"), "Bearer s3cr3t-token\n").unwrap();
    let targets = format!(
        r#"default_targets = ["mtls", "no-cert"]

[[target]]
name = "mtls"
type = "http"
url = "https://localhost:{port}/in"
secret = {{ file = "target.secret" }}
ca_file = "ca.pem"
client_cert = "client.pem"
client_key = "client.key"
auth_header = {{ name = "Authorization", value = {{ file = "token" }} }}

[[target]]
name = "no-cert"
type = "http"
url = "https://localhost:{port}/in"
secret = {{ file = "target.secret" }}
ca_file = "ca.pem"

[target.retry]
max_attempts = 1
"#,
        port = target.port()
    );
    let config = config_text("", "").replacen("body_limit = 65536\n", &format!("body_limit = 65536\n{targets}"), 1);
    let mut gw = TestGateway::start_in(dir, &config).await;
    let body = br#"{"ResponseType":"KYC"}"#;
    assert_eq!(gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await.status, 200);
    let db = gw.db();
    wait_for("both attempts", || {
        let r = Reader::open_existing(&db).unwrap();
        r.list_deliveries(Some("delivered"), Some("mtls"), 10).unwrap().len() == 1
            && r.list_deliveries(Some("dead"), Some("no-cert"), 10).unwrap().len() == 1
    })
    .await;
    assert_eq!(*tokens.lock().unwrap(), vec!["Bearer s3cr3t-token".to_owned()], "the token, trimmed, once");
    assert!(handshakes_refused.load(Ordering::SeqCst) >= 1, "the target without a client certificate was refused");
    // The token never reaches the store.
    let dead = Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap();
    assert!(dead.iter().all(|d| !d.last_error.as_deref().unwrap_or("").contains("s3cr3t")));
    gw.stop().await;
}

/// A broker of the test's own (`nats-server` on another port, never the shared one) with TLS
/// from an internal CA and a user and password: the target's `ca_file`, `user` and `password`
/// (from a file) get the event into its stream; a target without the password is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jetstream_target_over_tls_with_a_password() {
    let dir = temp_dir("jetstream-tls");
    let ca = TestCa::new();
    let (server_cert, server_key) = ca.leaf(&["localhost", "127.0.0.1"]);
    std::fs::write(dir.join("ca.pem"), ca.cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("nats.password"), "broker-pw-77\n").unwrap();
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let port = free_addr().port();
    let mut broker = std::process::Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
        .arg(dir.join("js"))
        .args(["--user", "hookgate", "--pass", "broker-pw-77", "--tls", "--tlscert"])
        .arg(dir.join("server.pem"))
        .arg("--tlskey")
        .arg(dir.join("server.key"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nats-server (the machine's NATS server binary)");
    let url = format!("nats://127.0.0.1:{port}");
    let mut client = None;
    for _ in 0..100 {
        let options = async_nats::ConnectOptions::with_user_and_password("hookgate".into(), "broker-pw-77".into())
            .add_root_certificates(dir.join("ca.pem"))
            .require_tls(true);
        if let Ok(c) = options.connect(&url).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let js = async_nats::jetstream::new(client.expect("the private broker starts"));
    let mut stream = js
        .create_stream(async_nats::jetstream::stream::Config {
            name: "HGTLS".into(),
            subjects: vec!["hgtls.>".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let targets = format!(
        r#"default_targets = ["bus", "no-password"]

[[target]]
name = "bus"
type = "nats"
url = "{url}"
subject = "hgtls.{{source}}"
ca_file = "ca.pem"
user = "hookgate"
password = {{ file = "nats.password" }}

[[target]]
name = "no-password"
type = "nats"
url = "{url}"
subject = "hgtls.other"
ca_file = "ca.pem"
timeout_secs = 2

[target.retry]
max_attempts = 1
"#
    );
    let config = config_text("", "").replacen("body_limit = 65536\n", &format!("body_limit = 65536\n{targets}"), 1);
    let mut gw = TestGateway::start_in(dir, &config).await;
    let body = br#"{"ResponseType":"KYC"}"#;
    assert_eq!(gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await.status, 200);
    let db = gw.db();
    wait_for("the publish and the refusal", || {
        let r = Reader::open_existing(&db).unwrap();
        r.list_deliveries(Some("delivered"), Some("bus"), 10).unwrap().len() == 1
            && r.list_deliveries(Some("dead"), Some("no-password"), 10).unwrap().len() == 1
    })
    .await;
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    assert_eq!(stream.get_raw_message(1).await.unwrap().subject.as_str(), "hgtls.flinks");
    let dead = Reader::open_existing(&db).unwrap().list_deliveries(Some("dead"), None, 10).unwrap();
    assert!(dead.iter().all(|d| !d.last_error.as_deref().unwrap_or("").contains("broker-pw-77")), "{dead:?}");
    gw.stop().await;
    let _ = broker.kill();
    let _ = broker.wait();
}
