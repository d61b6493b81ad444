//! Delivery through the `hookgate` process: SIGKILL mid-delivery and restart, then the operator
//! commands (`deliveries`, `replay`, `retry`).

mod common;
use common::{bin, serve, temp_dir};

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;

use hookgate_axum::{VerifiedWebhook, WebhookVerifier};
use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Secret, SecretEncoding, SignOptions, Verifier, WebhookRequest, preset};

const SECRET: &str = "delivery-test-secret";
const TARGET_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A receiver that verifies Hookgate's signature, takes `delay` per request and records ids.
fn start_receiver(delay: Duration) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            let scheme = preset("standard-webhooks").unwrap();
            let v = WebhookVerifier::new(
                Verifier::new(scheme, vec![Secret::decode(TARGET_SECRET, SecretEncoding::Whsec).unwrap()]).unwrap(),
            );
            let app = Router::new()
                .route(
                    "/in",
                    axum::routing::post(move |hook: VerifiedWebhook| {
                        let record = Arc::clone(&record);
                        async move {
                            tokio::time::sleep(delay).await;
                            record.lock().unwrap().push(hook.verified.id.unwrap_or_default());
                            "ok"
                        }
                    }),
                )
                .with_state(v);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), seen)
}

fn write_config(dir: &Path, target: SocketAddr) -> PathBuf {
    std::fs::write(dir.join("flinks.secret"), SECRET).unwrap();
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"
store = "{store}"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "flinks.secret" }}]
default_targets = ["svc"]

[[target]]
name = "svc"
type = "http"
url = "http://{target}/in"
secret = {{ file = "target.secret" }}
concurrency = 8
timeout_secs = 5

[target.retry]
max_attempts = 50
initial_delay_ms = 50
max_delay_ms = 200
"#
    );
    let path = dir.join("hookgate.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn post(addr: SocketAddr, body: &[u8]) -> u16 {
    let v =
        Verifier::new(preset("flinks").unwrap(), vec![Secret::decode(SECRET, SecretEncoding::Utf8).unwrap()]).unwrap();
    let empty = HeaderMap::new();
    let headers = v.sign(&WebhookRequest::new(&empty, body), &SignOptions::default()).unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req =
        format!("POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out[9..12].parse().unwrap()
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unique(seen: &Mutex<Vec<String>>) -> usize {
    seen.lock().unwrap().iter().collect::<HashSet<_>>().len()
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

#[test]
fn sigkill_mid_delivery_then_restart_delivers_everything_and_operators_can_replay() {
    let dir = temp_dir("deliver-restart");
    let (target, seen) = start_receiver(Duration::from_millis(30));
    let config = write_config(&dir, target);
    let (mut server, addr) = serve(&config);
    for i in 0..200 {
        let body = format!(r#"{{"ResponseType":"KYC","RequestId":"{i}"}}"#);
        assert_eq!(post(addr, body.as_bytes()), 200);
    }
    // Kill it while deliveries are in flight.
    wait_for("some deliveries", 30, || unique(&seen) >= 20);
    server.kill().unwrap();
    server.wait().unwrap();
    let before = unique(&seen);
    assert!(before < 200, "the kill came mid-delivery ({before} delivered)");
    // Restart: leases of the killed process expire and every event still reaches the target.
    let (server, _) = serve(&config);
    wait_for("all 200 delivered", 90, || unique(&seen) == 200);
    let total = seen.lock().unwrap().len();
    eprintln!("restart test: killed after {before}, 200 unique delivered, {} duplicates (at least once)", total - 200);

    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    wait_for("200 recorded as delivered", 30, || {
        let out = cli(&[
            "deliveries",
            "list",
            "--store",
            &store,
            "--status",
            "delivered",
            "--format",
            "json",
            "--limit",
            "1000",
        ]);
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).map(|v| v.len()).unwrap_or(0) == 200
    });
    let list = cli(&["deliveries", "list", "--store", &store, "--format", "json", "--limit", "1"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let show = cli(&["deliveries", "show", &rows[0]["id"].to_string(), "--store", &store]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["attempts_history"][0]["status_code"], 200, "{shown}");

    // Replay by source and time: every event again, without re-verification.
    let dry = cli(&["replay", "--source", "flinks", "--since", "0", "--store", &store, "--dry-run"]);
    assert_eq!(String::from_utf8_lossy(&dry.stdout).trim(), "would replay 200 events");
    let replay = cli(&["replay", "--source", "flinks", "--since", "0", "--store", &store]);
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stderr));
    assert_eq!(String::from_utf8_lossy(&replay.stdout).trim(), "replayed 200 events: 200 new deliveries");
    wait_for("the replay delivered", 60, || seen.lock().unwrap().len() >= total + 200);
    let retry = cli(&["retry", "--dead", "--store", &store]);
    assert_eq!(String::from_utf8_lossy(&retry.stdout).trim(), "0 dead deliveries are pending again");

    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    let mut server = server;
    assert!(server.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(dir);
}
