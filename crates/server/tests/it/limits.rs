//! Limits under hostile load over real connections: the connection cap and the budget for
//! request bodies in flight.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::support::*;

/// Connects and sends the head of a POST that declares `declared` bytes and sends `sent` of them.
fn stalled_upload(addr: SocketAddr, declared: usize, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n").unwrap();
    s.write_all(&vec![b'{'; sent]).unwrap();
    s
}

/// Whether the server closed this connection without answering (read: EOF or reset).
fn closed_unanswered(mut s: TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(0) | Err(_))
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_closed_at_once_and_admitted_again_when_one_closes() {
    let mut gw = TestGateway::start("max-connections", &config_text("max_connections = 4", "")).await;
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(gw.addr).unwrap()).collect();
    settle().await;
    let addr = gw.addr;
    let refused =
        tokio::task::spawn_blocking(move || closed_unanswered(TcpStream::connect(addr).unwrap())).await.unwrap();
    assert!(refused, "a fifth connection is closed, not left waiting");
    drop(idle);
    settle().await;
    assert_eq!(gw.get("/healthz").await.status, 200, "admitted again once the idle ones closed");
    let body = br#"{"ResponseType":"KYC"}"#;
    assert_eq!(gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await.status, 200);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_past_the_in_flight_budget_get_503_with_retry_after() {
    // Room for ten bodies at the sources' limit (64 KiB).
    let budget = 10 * 65536;
    let mut gw =
        TestGateway::start("body-budget", &config_text(&format!("max_body_bytes_in_flight = {budget}"), "")).await;
    let addr = gw.addr;
    let mut stalled: Vec<TcpStream> = (0..10).map(|_| stalled_upload(addr, 65536, 100)).collect();
    settle().await;
    let body = br#"{"ResponseType":"KYC"}"#;
    let r = gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await;
    assert_eq!(r.status, 503, "the declared lengths of the stalled uploads hold the whole budget");
    assert!(r.head.to_ascii_lowercase().contains("retry-after:"), "{}", r.head);
    // A chunked body that grows past what is left is cut off too.
    drop(stalled.pop());
    settle().await;
    let mut chunked = flinks_headers(&[0u8; 65536]);
    chunked.push(("Transfer-Encoding".into(), "chunked".into()));
    let hold: Vec<TcpStream> = (0..1).map(|_| stalled_upload(addr, 60000, 10)).collect();
    settle().await;
    let mut encoded = Vec::new();
    for _ in 0..4 {
        encoded.extend_from_slice(format!("{:x}\r\n", 16384).as_bytes());
        encoded.extend_from_slice(&[b' '; 16384]);
        encoded.extend_from_slice(b"\r\n");
    }
    encoded.extend_from_slice(b"0\r\n\r\n");
    let r = gw.post("/webhooks/flinks", chunked, encoded).await;
    assert_eq!(r.status, 503, "{}", r.text());
    drop(hold);
    drop(stalled);
    settle().await;
    // Once the stalled uploads are gone, the budget is back.
    let r = gw.post("/webhooks/flinks", flinks_headers(body), body.to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let metrics = gw.get_ops("/metrics").await.text();
    assert!(metrics.contains(r#"outcome="over_budget""#), "{metrics}");
    gw.stop().await;
}

#[test]
fn a_body_limit_over_the_budget_is_a_configuration_error() {
    let text = config_text("max_body_bytes_in_flight = 1000", "");
    let dir = temp_dir("budget-config");
    std::fs::write(dir.join("flinks.secret"), "s").unwrap();
    std::fs::write(dir.join("fin.secret"), "s").unwrap();
    std::fs::write(dir.join("c.toml"), text.replace("STORE", dir.join("h.db").to_str().unwrap())).unwrap();
    let err = hookgate_server::Config::load(&dir.join("c.toml")).unwrap().build().unwrap_err().to_string();
    assert!(err.contains("max_body_bytes_in_flight"), "{err}");
}
