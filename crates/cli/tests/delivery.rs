//! Delivery through the `hookgate` process: SIGKILL mid-delivery and restart, then the operator
//! commands (`deliveries`, `replay`, `retry`).

mod common;
use common::{cli, serve, start_receiver, temp_dir, unique, wait_for};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "delivery-test-secret";

fn post(addr: SocketAddr, body: &[u8]) -> u16 {
    common::post_flinks(addr, SECRET, body).unwrap()
}

fn write_config(dir: &Path, target: SocketAddr) -> PathBuf {
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    common::write_delivery_config(dir, &store, SECRET, target, 5)
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
    let (server, addr) = serve(&config);
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
    let id = rows[0]["id"].to_string();
    let show = cli(&["deliveries", "show", &id, "--store", &store, "--format", "json"]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["attempts_history"][0]["status_code"], 200, "{shown}");
    // Text by default, as `events show`: the fields, then each attempt numbered.
    let text = String::from_utf8(cli(&["deliveries", "show", &id, "--store", &store]).stdout).unwrap();
    assert!(text.starts_with(&format!("id:           {id}\n")), "{text}");
    assert!(text.contains("status:       delivered") && text.contains("\n  #1 "), "{text}");
    assert!(text.lines().any(|l| l.starts_with("  #1 ") && l.contains(" 200")), "{text}");

    // Replay by source and time: every event again, without re-verification.
    let dry = cli(&["replay", "--source", "flinks", "--since", "0", "--store", &store, "--dry-run"]);
    assert_eq!(String::from_utf8_lossy(&dry.stdout).trim(), "would replay 200 events");
    let replay = cli(&["replay", "--source", "flinks", "--since", "0", "--store", &store]);
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stderr));
    assert_eq!(String::from_utf8_lossy(&replay.stdout).trim(), "replayed 200 events: 200 new deliveries");
    wait_for("the replay delivered", 60, || seen.lock().unwrap().len() >= total + 200);
    let retry = cli(&["retry", "--dead", "--store", &store]);
    assert_eq!(String::from_utf8_lossy(&retry.stdout).trim(), "0 dead deliveries are pending again");
    // The operator commands ran beside the gateway without disturbing its dedup index: a provider
    // retry of the first event is still recognised.
    assert_eq!(post(addr, br#"{"ResponseType":"KYC","RequestId":"0"}"#), 200);
    let events = cli(&["events", "list", "--store", &store, "--format", "json", "--limit", "1000"]);
    let events: Vec<serde_json::Value> = serde_json::from_slice(&events.stdout).unwrap();
    assert_eq!(events.len(), 200);
    assert!(events.iter().any(|e| e["duplicates"] == 1));

    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    let mut server = server;
    assert!(server.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(dir);
}
