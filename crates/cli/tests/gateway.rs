//! `hookgate serve` as a process: crash safety under load (SIGKILL), the inspection commands, and
//! `config check` on the shipped example.

mod common;
use common::{bin, serve, temp_dir};

use std::collections::HashSet;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Secret, SignOptions, Verifier, WebhookRequest, preset};

const SECRET: &str = "crash-test-secret";

fn write_config(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("flinks.secret"), SECRET).unwrap();
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"{store}\"\n\n[[source]]\nname = \"flinks\"\npath = \"/webhooks/flinks\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\n"
    );
    let path = dir.join("hookgate.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn signer() -> Verifier {
    let scheme = preset("flinks").unwrap();
    Verifier::new(scheme, vec![Secret::decode(SECRET, hookgate_verify::SecretEncoding::Utf8).unwrap()]).unwrap()
}

/// POST on its own connection; `None` when the connection fails (the server is gone).
fn post(addr: SocketAddr, headers: &[(String, String)], body: &[u8]) -> Option<u16> {
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!(
        "POST /webhooks/flinks HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    std::str::from_utf8(out.get(9..12)?).ok()?.parse().ok()
}

fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    std::str::from_utf8(out.get(9..12)?).ok()?.parse().ok()
}

fn sha256_hex(b: &[u8]) -> String {
    hookgate_store::sha256_hex(b)
}

fn events_json(store: &str) -> Vec<serde_json::Value> {
    let out = Command::new(bin())
        .args(["events", "list", "--store", store, "--format", "json", "--limit", "1000000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_event() {
    let dir = temp_dir("crash");
    let config = write_config(&dir);
    let (mut server, addr) = serve(&config);

    let acked = Arc::new(Mutex::new(Vec::<(String, Vec<u8>)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|t| {
            let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
            std::thread::spawn(move || {
                let v = signer();
                let empty = HeaderMap::new();
                // Bounded: at most 5,000 requests per client.
                for i in 0..5_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body =
                        format!(r#"{{"ResponseType":"KYC","RequestId":"{t}-{i}","Memo":"{}"}}"#, "x".repeat(200))
                            .into_bytes();
                    let headers = v.sign(&WebhookRequest::new(&empty, &body), &SignOptions::default()).unwrap();
                    match post(addr, &headers, &body) {
                        Some(200) => acked.lock().unwrap().push((sha256_hex(&body), body)),
                        Some(_) => {}
                        None => break,
                    }
                }
            })
        })
        .collect();
    // Let the load run, then kill the server without warning.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 2_000 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked: Vec<(String, Vec<u8>)> = acked.lock().unwrap().clone();
    assert!(acked.len() >= 1_000, "load ran: {} acknowledged", acked.len());

    // The store opens cleanly (WAL recovery, migrations already applied) and serves again.
    let (server, addr) = serve(&config);
    assert_eq!(get_status(addr, "/readyz"), Some(200));
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    let before = events_json(&store).len();
    // Provider retries of the last acknowledged events (the ones the dedup index was most likely
    // still holding in memory at the kill) are recognised after the restart: stored once.
    let v = signer();
    let empty = HeaderMap::new();
    for (_, body) in acked.iter().rev().take(300) {
        let headers = v.sign(&WebhookRequest::new(&empty, body), &SignOptions::default()).unwrap();
        assert_eq!(post(addr, &headers, body), Some(200));
    }
    assert_eq!(events_json(&store).len(), before, "retries after the crash were stored again");
    sigterm(&server);
    let mut server = server;
    assert!(server.wait().unwrap().success(), "graceful stop exits 0");

    let stored: HashSet<String> =
        events_json(&store).iter().map(|e| e["body_sha256"].as_str().unwrap().to_owned()).collect();
    let missing: Vec<&String> = acked.iter().map(|(h, _)| h).filter(|h| !stored.contains(*h)).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged events missing", missing.len(), acked.len());
    // Events committed but not acknowledged (the kill cut the response) may also be there.
    assert!(stored.len() >= acked.len());
    let reader = hookgate_store::Reader::open_existing(&dir.join("hookgate.db")).unwrap();
    reader.integrity_check().unwrap();
    eprintln!("crash test: {} acknowledged, {} stored, 0 missing", acked.len(), stored.len());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn inspection_commands_show_exact_bytes_and_rejections() {
    let dir = temp_dir("inspect");
    let config = write_config(&dir);
    let (server, addr) = serve(&config);
    let v = signer();
    let empty = HeaderMap::new();
    let body = b"{\"ResponseType\":\"KYC\"}\xff\xfe raw".to_vec();
    let headers = v.sign(&WebhookRequest::new(&empty, &body), &SignOptions::default()).unwrap();
    assert_eq!(post(addr, &headers, &body), Some(200));
    // A large JSON body, which the store keeps compressed: it must come back byte for byte too.
    let mut large = b"{\"Transactions\":[".to_vec();
    while large.len() < 20_000 {
        large.extend_from_slice(format!("{{\"Description\":\"SHELL C{}\",\"Debit\":12.5}},", large.len()).as_bytes());
    }
    large.extend_from_slice(b"\xff]}");
    let large_headers = v.sign(&WebhookRequest::new(&empty, &large), &SignOptions::default()).unwrap();
    assert_eq!(post(addr, &large_headers, &large), Some(200));
    assert_eq!(post(addr, &headers, b"tampered"), Some(403));
    assert_eq!(get_status(addr, "/readyz"), Some(200)); // the rejection is committed after this
    sigterm(&server);
    let mut server = server;
    server.wait().unwrap();

    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    let events = events_json(&store);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["body_sha256"], sha256_hex(&large), "newest first");
    assert_eq!(events[0]["size"], large.len());
    let large_id = events[0]["id"].to_string();
    let raw = Command::new(bin()).args(["events", "show", &large_id, "--store", &store, "--body"]).output().unwrap();
    assert!(raw.stdout == large, "the large body's exact bytes");
    let events = &events[1..];
    for field in ["id", "source", "received_at", "dedup_key", "body_sha256", "size"] {
        assert!(events[0].get(field).is_some(), "{field}");
    }
    assert_eq!(events[0]["body_sha256"], sha256_hex(&body));
    let id = events[0]["id"].to_string();
    let raw = Command::new(bin()).args(["events", "show", &id, "--store", &store, "--body"]).output().unwrap();
    assert_eq!(raw.stdout, body, "--body writes the exact bytes and nothing else");
    let shown = Command::new(bin()).args(["events", "show", &id, "--store", &store]).output().unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("x-flinks-signature:") && text.contains("source:      flinks"), "{text}");
    let table = Command::new(bin()).args(["events", "list", "--store", &store]).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).trim_start().starts_with("ID  RECEIVED"));

    let rej = Command::new(bin()).args(["rejections", "list", "--store", &store, "--format", "json"]).output().unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&rej.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["reason"], "signature mismatch");
    assert_eq!(rows[0]["body_sha256"], sha256_hex(b"tampered"));
    assert!(rows[0]["received_at"].as_str().unwrap().ends_with('Z'));

    let missing =
        Command::new(bin()).args(["events", "list", "--store", "sqlite:///nonexistent/x.db"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn config_check_on_the_shipped_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hookgate.toml");
    let ok = Command::new(bin())
        .args(["config", "check", "--config", example])
        .env("FLINKS_HMAC_SECRET", "a")
        .env("FIN_WEBHOOK_SECRET", "b")
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        text.contains("flinks /webhooks/flinks scheme=flinks reject=403")
            && text.contains("fin /webhooks/fin scheme=fin reject=401"),
        "{text}"
    );
    let missing = Command::new(bin())
        .args(["config", "check", "--config", example])
        .env_remove("FLINKS_HMAC_SECRET")
        .env("FIN_WEBHOOK_SECRET", "b")
        .output()
        .unwrap();
    // A configuration error, as `serve` reports it.
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("`FLINKS_HMAC_SECRET` is not set"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn send(args: &[&str]) -> std::process::Output {
    Command::new(bin()).arg("send").args(args).env("HG_SEND_SECRET", SECRET).output().unwrap()
}

#[test]
fn send_generates_signs_and_summarises() {
    let dir = temp_dir("send");
    let config = write_config(&dir);
    let (server, addr) = serve(&config);
    let url = format!("http://{addr}/webhooks/flinks");
    let out = send(&["--scheme", "flinks", "--secret-env", "HG_SEND_SECRET", "--url", &url, "--generate", "40"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.trim(), "sent 40 webhooks in 40 attempts (0 retried); final status: 200: 40");
    let tampered =
        send(&["--scheme", "flinks", "--secret-env", "HG_SEND_SECRET", "--url", &url, "--generate", "5", "--tamper"]);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&tampered.stdout).contains("final status: 403: 5"));
    let body = dir.join("body.json");
    std::fs::write(&body, br#"{"ResponseType":"KYC"}"#).unwrap();
    let one = send(&["--scheme", "flinks", "--secret-env", "HG_SEND_SECRET", "--url", &url, body.to_str().unwrap()]);
    assert!(one.status.success());
    assert_eq!(get_status(addr, "/readyz"), Some(200));
    sigterm(&server);
    let mut server = server;
    server.wait().unwrap();
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    assert_eq!(events_json(&store).len(), 41);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn send_retries_on_the_provider_schedule_until_the_gateway_is_up() {
    let dir = temp_dir("send-retry");
    let port = free_port();
    let config = write_config(&dir);
    let text = std::fs::read_to_string(&config).unwrap().replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();
    let url = format!("http://127.0.0.1:{port}/webhooks/flinks");
    // Flinks' 30-minute intervals scaled to 0.9 s; the gateway starts after the first attempts fail.
    let sender = std::thread::spawn(move || {
        send(&[
            "--scheme",
            "flinks",
            "--secret-env",
            "HG_SEND_SECRET",
            "--url",
            &url,
            "--generate",
            "3",
            "--retry-schedule",
            "flinks",
            "--time-scale",
            "0.0005",
        ])
    });
    std::thread::sleep(Duration::from_millis(1500));
    let (server, _) = serve(&config);
    let out = sender.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("(3 retried); final status: 200: 3"), "{text}");
    sigterm(&server);
    let mut server = server;
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_runs_the_schema_and_serve_no_migrate_refuses_an_outdated_store() {
    let dir = temp_dir("migrate");
    let config = write_config(&dir);
    // A fresh store and --no-migrate: the start stops with a clear message.
    let out =
        Command::new(bin()).args(["serve", "--config", config.to_str().unwrap(), "--no-migrate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("run `hookgate migrate`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    let m = Command::new(bin()).args(["migrate", "--store", &store]).output().unwrap();
    assert!(m.status.success());
    assert!(
        String::from_utf8_lossy(&m.stdout)
            .contains(&format!("schema version 0 -> {}", hookgate_store::migrate::latest_version()))
    );
    let again = Command::new(bin()).args(["migrate", "--store", &store]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
    // Migrated: --no-migrate now starts.
    let child = Command::new(bin())
        .args(["serve", "--config", config.to_str().unwrap(), "--no-migrate"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    common::sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}
