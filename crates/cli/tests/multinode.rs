//! Two `hookgate serve` processes on different ports sharing one PostgreSQL store (a schema of
//! its own in the machine's database): cross-node dedup, alternating load, one node SIGKILLed
//! halfway, and every acknowledged event stored and delivered.

mod common;
use common::{cli, post_flinks, serve, serve_with_ops, start_receiver, temp_dir, unique, wait_for};

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookgate_store::testing::PgTestSchema;

const SECRET: &str = "multinode-test-secret";
const EVENTS: usize = 2000;
const RETRIED: usize = 20;

fn write_config(dir: &Path, store: &str, target: SocketAddr) -> PathBuf {
    // A 2 s target timeout: the lease is the timeout plus 5 s, so a dead node's deliveries are
    // taken over after 7 s.
    common::write_delivery_config(dir, store, SECRET, target, 2)
}

/// A GET's body, over a plain connection.
fn get_text(addr: SocketAddr, path: &str) -> String {
    hookgate_test_support::http::get(addr, path, None).text()
}

fn sha256_hex(body: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn two_nodes_share_one_postgres_store_and_survive_losing_one() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let schema = rt.block_on(PgTestSchema::new("multinode"));
    let store = schema.url();
    let dir = temp_dir("multinode");
    // Slow enough (2 nodes x 8 concurrent / 80 ms = 200 deliveries/s) that a backlog is certain
    // when node B is killed: at 20 ms the deliveries (800/s) could keep up with a slow ingest.
    let (target, seen) = start_receiver(Duration::from_millis(80));
    let config = write_config(&dir, &store, target);
    let (node_a, addr_a, ops_a) = serve_with_ops(&config);
    let (mut node_b, addr_b, ops_b) = serve_with_ops(&config);

    // The same provider retry reaching both nodes at the same moment is stored once.
    std::thread::scope(|s| {
        for i in 0..RETRIED {
            let body = format!(r#"{{"ResponseType":"KYC","RequestId":"retry-{i}"}}"#);
            for addr in [addr_a, addr_b] {
                let body = body.clone();
                s.spawn(move || assert_eq!(post_flinks(addr, SECRET, body.as_bytes()).unwrap(), 200));
            }
        }
    });
    let events = |limit: usize| -> Vec<serde_json::Value> {
        let out = cli(&["events", "list", "--store", &store, "--format", "json", "--limit", &limit.to_string()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let stored = events(100);
    assert_eq!(stored.len(), RETRIED, "each retry stored once across the two nodes");
    assert!(stored.iter().all(|e| e["duplicates"] == 1), "and counted as a duplicate once");
    // Each node queued each of its requests for its writers once (PostgreSQL's queue-wait metric).
    for addr in [ops_a, ops_b] {
        let metrics = get_text(addr, "/metrics");
        let count = metrics
            .lines()
            .find_map(|l| l.strip_prefix("hookgate_store_queue_wait_seconds_count ")?.parse::<f64>().ok());
        assert_eq!(count, Some(RETRIED as f64), "{addr}:\n{metrics}");
    }

    // 2,000 events, alternately to each node from 4 senders; node B is SIGKILLed halfway. A send
    // that fails on B (refused, or cut off mid-request) is sent again to A, as a load balancer
    // and the provider's retry would: a body B committed without answering is then a duplicate.
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let b_alive = Arc::new(AtomicBool::new(true));
    let failovers = Arc::new(AtomicUsize::new(0));
    let mut delivered_at_kill = 0;
    std::thread::scope(|s| {
        for sender in 0..4 {
            let (acked, done, b_alive, failovers) =
                (Arc::clone(&acked), Arc::clone(&done), Arc::clone(&b_alive), Arc::clone(&failovers));
            s.spawn(move || {
                for i in (sender..EVENTS).step_by(4) {
                    let body = format!(r#"{{"ResponseType":"KYC","RequestId":"{i}","Tag":"n={}"}}"#, i % 7);
                    let first = if i % 2 == 0 || !b_alive.load(Ordering::Acquire) { addr_a } else { addr_b };
                    let status = match post_flinks(first, SECRET, body.as_bytes()) {
                        Ok(code) if code != 503 => code,
                        _ => {
                            failovers.fetch_add(1, Ordering::Relaxed);
                            post_flinks(addr_a, SECRET, body.as_bytes()).unwrap()
                        }
                    };
                    assert_eq!(status, 200, "event {i}");
                    acked.lock().unwrap().insert(sha256_hex(body.as_bytes()));
                    done.fetch_add(1, Ordering::AcqRel);
                }
            });
        }
        // Halfway, with deliveries in flight on both nodes.
        wait_for("half of the events acknowledged", 120, || done.load(Ordering::Acquire) >= EVENTS / 2);
        node_b.kill().unwrap();
        b_alive.store(false, Ordering::Release);
        node_b.wait().unwrap();
        delivered_at_kill = unique(&seen);
        // The target is slower than ingest: both nodes had deliveries leased or waiting.
        assert!(delivered_at_kill < done.load(Ordering::Acquire), "a delivery backlog at the kill");
    });
    let total = EVENTS + RETRIED;

    // No acknowledged event is missing from the store.
    let stored = events(10_000);
    assert_eq!(stored.len(), total);
    let hashes: HashSet<String> = stored.iter().map(|e| e["body_sha256"].as_str().unwrap().to_owned()).collect();
    let acked = acked.lock().unwrap();
    assert_eq!(acked.len(), EVENTS);
    assert!(acked.is_subset(&hashes), "{} acknowledged events missing", acked.difference(&hashes).count());

    // Every event is delivered: node A finishes its own work and, once their leases expire, what
    // node B had claimed when it died.
    wait_for("every event delivered", 180, || unique(&seen) == total);
    let received = seen.lock().unwrap().len();
    eprintln!(
        "multi-node: {EVENTS} events over 2 nodes, node B SIGKILLed after {} acks ({delivered_at_kill} delivered by \
         then), {} failovers to node A; {total} stored, {total} unique deliveries, {} duplicate deliveries",
        EVENTS / 2,
        failovers.load(Ordering::Relaxed),
        received - total
    );
    wait_for("all recorded as delivered", 60, || {
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
            "10000",
        ]);
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).map(|v| v.len()).unwrap_or(0) == total
    });
    common::sigterm_and_wait(node_a);
    let _ = std::fs::remove_dir_all(dir);
    drop(schema);
}

#[test]
fn with_reuse_port_two_nodes_listen_on_one_address() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let schema = rt.block_on(PgTestSchema::new("reuse_port"));
    let dir = temp_dir("reuse-port");
    let (target, _seen) = start_receiver(Duration::ZERO);
    let config = write_config(&dir, &schema.url(), target);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\nlisten = \"127.0.0.1:0\"", &format!("\nlisten = \"127.0.0.1:{port}\"\nreuse_port = true"));
    std::fs::write(&config, text).unwrap();
    // `hookgate migrate` on PostgreSQL: creates the schema once; the nodes then find it current.
    let migrate = cli(&["migrate", "--store", &schema.url()]);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let latest = hookgate_store::migrate::latest_version();
    assert!(String::from_utf8_lossy(&migrate.stdout).contains(&format!("schema version 0 -> {latest}")));
    let again = cli(&["migrate", "--store", &schema.url()]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
    // Without SO_REUSEPORT the second bind would fail with "address in use".
    let (node_a, addr_a) = serve(&config);
    let (node_b, addr_b) = serve(&config);
    assert_eq!(addr_a, addr_b);
    for i in 0..50 {
        let body = format!(r#"{{"ResponseType":"KYC","RequestId":"rp-{i}"}}"#);
        assert_eq!(post_flinks(addr_a, SECRET, body.as_bytes()).unwrap(), 200);
    }
    let out = cli(&["events", "list", "--store", &schema.url(), "--format", "json", "--limit", "100"]);
    assert_eq!(serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap().len(), 50);
    common::sigterm_and_wait(node_a);
    common::sigterm_and_wait(node_b);
    let _ = std::fs::remove_dir_all(dir);
}
