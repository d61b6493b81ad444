//! The extractor over real HTTP: a server on 127.0.0.1:0 and raw HTTP/1.1 requests.

use std::io::{Read as _, Write as _};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use hookgate_axum::{VerifiedWebhook, WebhookVerifier};
use hookgate_verify::{SignOptions, Verifier, WebhookRequest, http::HeaderMap, preset};

async fn echo(hook: VerifiedWebhook) -> Vec<u8> {
    hook.body.to_vec()
}

fn verifier(name: &str) -> Verifier {
    let scheme = preset(name).unwrap();
    let secret = scheme.key("test-secret").unwrap();
    Verifier::new(scheme, vec![secret]).unwrap()
}

async fn serve(name: &str) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/webhook", post(echo))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(WebhookVerifier::new(verifier(name)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// One HTTP/1.1 request on a fresh connection; returns (status, headers text, body).
fn post_raw(addr: std::net::SocketAddr, headers: &[(String, String)], body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req =
        format!("POST /webhook HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(out[..split].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head, out[split + 4..].to_vec())
}

fn signed(name: &str, body: &[u8]) -> Vec<(String, String)> {
    let empty = HeaderMap::new();
    verifier(name).sign(&WebhookRequest::new(&empty, body), &SignOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flinks_valid_body_reaches_the_handler_byte_for_byte() {
    let addr = serve("flinks").await;
    let body = b"{\"ResponseType\":\"KYC\"}\xff\x00 not utf-8".to_vec();
    let headers = signed("flinks", &body);
    let (status, _, got) = tokio::task::spawn_blocking(move || post_raw(addr, &headers, &body)).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(got, b"{\"ResponseType\":\"KYC\"}\xff\x00 not utf-8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flinks_bad_signature_gets_403_and_a_generic_body() {
    let addr = serve("flinks").await;
    let headers = signed("flinks", b"original");
    let (status, head, body) =
        tokio::task::spawn_blocking(move || post_raw(addr, &headers, b"tampered")).await.unwrap();
    assert_eq!(status, 403);
    assert_eq!(body, br#"{"error":"Invalid signature"}"#);
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    let (status, _, body) = tokio::task::spawn_blocking(move || post_raw(addr, &[], b"x")).await.unwrap();
    assert_eq!((status, body.as_slice()), (403, &br#"{"error":"Invalid signature"}"#[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fin_rejection_is_401_plain_text() {
    let addr = serve("fin").await;
    let mut headers = signed("fin", b"{}");
    headers.push(("x-fin-signature-algorithm".into(), "md5".into()));
    let (status, _, body) = tokio::task::spawn_blocking(move || post_raw(addr, &headers, b"{}")).await.unwrap();
    assert_eq!((status, body.as_slice()), (401, &b"Invalid signature"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_gets_413() {
    let addr = serve("flinks").await;
    let body = vec![b'a'; 64 * 1024 + 1];
    let headers = signed("flinks", &body);
    let (status, _, _) = tokio::task::spawn_blocking(move || post_raw(addr, &headers, &body)).await.unwrap();
    assert_eq!(status, 413);
}
