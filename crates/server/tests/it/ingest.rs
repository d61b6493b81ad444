//! The request path for the Flinks and Fin sources.

use std::time::Duration;

use hookgate_verify::Algorithm;

use crate::support::*;

const FLINKS_BODY: &[u8] = br#"{"Tag":"userId=12345,session=abc","ResponseType":"GetAccountsDetail","HttpStatusCode":200,"Login":{"Id":"f5d5f008-e529-4714-21c0-08d6abf5bce4"},"Accounts":[]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flinks_valid_is_stored_byte_for_byte_with_metadata() {
    let mut gw = TestGateway::start("flinks-valid", &config_text("", "")).await;
    let r = gw.post("/webhooks/flinks", flinks_headers(FLINKS_BODY), FLINKS_BODY.to_vec()).await;
    assert_eq!((r.status, r.text().as_str()), (200, r#"{"status":"ok"}"#));
    assert!(r.head.to_ascii_lowercase().contains("content-type: application/json"));
    let events = gw.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, "flinks");
    assert_eq!(events[0].body_sha256, sha256_hex(FLINKS_BODY));
    assert_eq!(events[0].event_type.as_deref(), Some("GetAccountsDetail"));
    assert_eq!(gw.event_body(events[0].id), FLINKS_BODY);
    let rec = hookgate_store::Reader::open_existing(&gw.db()).unwrap().get_event(events[0].id).unwrap().unwrap();
    assert_eq!(
        rec.metadata,
        serde_json::json!({
            "event_type": "GetAccountsDetail",
            "response_type": "GetAccountsDetail",
            "http_status_code": 200,
            "login_id": "f5d5f008-e529-4714-21c0-08d6abf5bce4",
            "tag": {"userId": "12345", "session": "abc"}
        })
    );
    // Signature headers are kept for audit.
    assert!(rec.headers.iter().any(|(k, _)| k == "x-flinks-signature"));
    assert!(gw.rejections().await.is_empty());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flinks_bad_requests_get_403_generic_a_rejection_row_and_no_event() {
    let mut gw = TestGateway::start("flinks-bad", &config_text("", "")).await;
    let good = flinks_headers(FLINKS_BODY);
    let wrong_secret = sign_with(&signer("flinks", "not-the-secret"), FLINKS_BODY, &Default::default());
    let mut tampered = FLINKS_BODY.to_vec();
    tampered[10] ^= 1;
    type Case = (&'static str, Vec<(String, String)>, Vec<u8>);
    let cases: Vec<Case> = vec![
        ("tampered body", good.clone(), tampered),
        ("wrong secret", wrong_secret, FLINKS_BODY.to_vec()),
        ("missing header", vec![], FLINKS_BODY.to_vec()),
        ("garbage signature", vec![("X-Flinks-Signature".into(), "%%% not base64 %%%".into())], FLINKS_BODY.to_vec()),
    ];
    for (what, headers, body) in &cases {
        let r = gw.post("/webhooks/flinks", headers.clone(), body.clone()).await;
        assert_eq!((r.status, r.text().as_str()), (403, r#"{"error":"Invalid signature"}"#), "{what}");
    }
    // The response never says why; the rejection log does.
    let rejections = gw.rejections().await;
    assert_eq!(rejections.len(), cases.len());
    let mut codes: Vec<&str> = rejections.iter().map(|r| r.reason_code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["malformed_signature", "missing_header", "signature_mismatch", "signature_mismatch"]);
    assert!(
        rejections
            .iter()
            .all(|r| r.source == "flinks" && r.peer.as_deref().is_some_and(|p| p.starts_with("127.0.0.1:")))
    );
    assert!(rejections.iter().all(|r| !r.body_kept && r.size == i64::try_from(FLINKS_BODY.len()).unwrap()));
    assert!(gw.events().is_empty(), "nothing unverified is stored as an event");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fin_algorithms_sha512_accepted_md5_and_sha1_refused() {
    let mut gw = TestGateway::start("fin-alg", &config_text("", "")).await;
    let body = br#"{"event":"conversation.created","id":"evt_1"}"#.to_vec();
    for alg in [None, Some(Algorithm::Sha384), Some(Algorithm::Sha512)] {
        let mut b = body.clone();
        b.extend_from_slice(format!(" {alg:?}").as_bytes());
        let r = gw.post("/webhooks/fin", fin_headers(&b, alg), b.clone()).await;
        assert_eq!((r.status, r.text().as_str()), (200, "OK"), "{alg:?}");
    }
    let sha1 = fin_headers(&body, Some(Algorithm::Sha1));
    let r = gw.post("/webhooks/fin", sha1, body.clone()).await;
    assert_eq!((r.status, r.text().as_str()), (401, "Invalid signature"));
    let mut md5 = fin_headers(&body, None);
    md5.retain(|(k, _)| k != "x-fin-signature-algorithm");
    md5.push(("x-fin-signature-algorithm".into(), "md5".into()));
    let r = gw.post("/webhooks/fin", md5, body.clone()).await;
    assert_eq!((r.status, r.text().as_str()), (401, "Invalid signature"));
    assert_eq!(gw.events().len(), 3);
    let codes: Vec<String> = gw.rejections().await.into_iter().map(|r| r.reason_code).collect();
    assert_eq!(codes, ["unsupported_algorithm", "unsupported_algorithm"]);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fin_bad_requests_get_401_plain_text() {
    let mut gw = TestGateway::start("fin-bad", &config_text("", "")).await;
    let body = b"{\"id\":1}".to_vec();
    let mut tampered = body.clone();
    tampered[2] ^= 1;
    for (headers, b) in [
        (fin_headers(&body, None), tampered),
        (vec![], body.clone()),
        (vec![("x-fin-signature".to_owned(), "zz".to_owned())], body.clone()),
    ] {
        let r = gw.post("/webhooks/fin", headers, b).await;
        assert_eq!((r.status, r.text().as_str()), (401, "Invalid signature"));
    }
    assert_eq!(gw.rejections().await.len(), 3);
    assert!(gw.events().is_empty());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_retry_is_acknowledged_and_stored_once() {
    let mut gw = TestGateway::start("retry", &config_text("", "")).await;
    for _ in 0..3 {
        let r = gw.post("/webhooks/flinks", flinks_headers(FLINKS_BODY), FLINKS_BODY.to_vec()).await;
        assert_eq!(r.status, 200);
    }
    let events = gw.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].duplicates, 2);
    let metrics = gw.get_ops("/metrics").await.text();
    assert!(metrics.contains(r#"hookgate_duplicates_total{source="flinks"}"#), "{metrics}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_utf8_body_is_stored_exactly() {
    let mut gw = TestGateway::start("binary", &config_text("", "")).await;
    let body: Vec<u8> = (0..=255u8).chain([0xff, 0xfe, 0x00, b'\r', b'\n']).collect();
    let r = gw.post("/webhooks/flinks", flinks_headers(&body), body.clone()).await;
    assert_eq!(r.status, 200);
    let events = gw.events();
    assert_eq!(gw.event_body(events[0].id), body);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_gets_413_declared_or_chunked() {
    let mut gw = TestGateway::start("limit", &config_text("", "")).await;
    let body = vec![b'a'; 65_537];
    let r = gw.post("/webhooks/flinks", flinks_headers(&body), body.clone()).await;
    assert_eq!(r.status, 413);
    // Chunked, so no length is declared: the read stops at the limit.
    let mut chunked = Vec::new();
    for chunk in body.chunks(8192) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let mut headers = flinks_headers(&body);
    headers.push(("Transfer-Encoding".into(), "chunked".into()));
    let r = gw.post("/webhooks/flinks", headers, chunked).await;
    assert_eq!(r.status, 413);
    // Exactly at the limit is fine.
    let body = vec![b'a'; 65_536];
    let r = gw.post("/webhooks/flinks", flinks_headers(&body), body).await;
    assert_eq!(r.status, 200);
    assert_eq!(gw.events().len(), 1);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_are_all_stored() {
    let mut gw = TestGateway::start("concurrent", &config_text("", "")).await;
    let addr = gw.addr;
    let threads: Vec<_> = (0..200)
        .map(|i| {
            std::thread::spawn(move || {
                let body = format!(r#"{{"ResponseType":"KYC","RequestId":"{i}"}}"#).into_bytes();
                http(addr, "POST", "/webhooks/flinks", &flinks_headers(&body), &body).status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(gw.events().len(), 200);
    // They shared commits: fewer commits than events.
    let metrics = gw.get_ops("/metrics").await.text();
    assert!(metrics.contains("hookgate_store_batch_size_bucket"), "{metrics}");
    // Where a request's time went: waiting for the writer, then for the log to reach the disk.
    let count = |name: &str| metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok());
    assert_eq!(count("hookgate_store_queue_wait_seconds_count"), Some(200.0), "one queue wait per stored event");
    let synced = count("hookgate_store_sync_wait_seconds_count");
    assert!(synced.is_some_and(|n| n >= 1.0), "sync waits {synced:?} in\n{metrics}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_answers_503_and_never_2xx() {
    let mut gw =
        TestGateway::start("failing", &config_text("store_timeout_secs = 2", "[store]\nbusy_timeout_ms = 200\n")).await;
    // Another process holds the write lock: commits cannot happen.
    let blocker = rusqlite::Connection::open(gw.db()).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = gw.post("/webhooks/flinks", flinks_headers(FLINKS_BODY), FLINKS_BODY.to_vec()).await;
    assert_eq!(r.status, 503);
    assert!(r.head.to_ascii_lowercase().contains("retry-after"));
    let ready = gw.get("/readyz").await;
    assert_eq!(ready.status, 503);
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    // The provider's retry, once the store is back, is stored.
    let r = gw.post("/webhooks/flinks", flinks_headers(FLINKS_BODY), FLINKS_BODY.to_vec()).await;
    assert_eq!(r.status, 200);
    assert_eq!(gw.events().len(), 1);
    assert_eq!(gw.get("/readyz").await.status, 200);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let mut gw = TestGateway::start("ops", &config_text("", "")).await;
    assert_eq!((gw.get("/healthz").await.status, gw.get("/readyz").await.status), (200, 200));
    let _ = gw.post("/webhooks/fin", vec![], b"{}".to_vec()).await;
    let m = gw.get_ops("/metrics").await.text();
    for needle in [
        r#"hookgate_requests_total{source="fin",outcome="rejected"}"#,
        r#"hookgate_rejections_total{source="fin",reason="missing_header"}"#,
        "hookgate_request_duration_seconds_bucket",
        "hookgate_store_commit_duration_seconds_bucket",
    ] {
        assert!(m.contains(needle), "{needle} in\n{m}");
    }
    // Unknown paths and methods are not webhooks.
    assert_eq!(gw.get("/webhooks/flinks").await.status, 405);
    assert_eq!(gw.post("/nope", vec![], vec![]).await.status, 404);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_bodies_are_kept_only_when_the_source_opts_in() {
    let extra = "\n[[source]]\nname = \"keep\"\npath = \"/webhooks/keep\"\nscheme = \"flinks\"\nsecrets = [{ file = \"flinks.secret\" }]\nkeep_rejected_bodies = true\n";
    let mut gw = TestGateway::start("keep", &config_text("", extra)).await;
    let _ = gw.post("/webhooks/keep", vec![], b"evidence".to_vec()).await;
    let _ = gw.post("/webhooks/flinks", vec![], b"not kept".to_vec()).await;
    let rows = gw.rejections().await;
    let kept: Vec<(&str, bool)> = rows.iter().map(|r| (r.source.as_str(), r.body_kept)).collect();
    assert!(kept.contains(&("keep", true)) && kept.contains(&("flinks", false)), "{kept:?}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_finishes_in_flight_requests() {
    let mut gw = TestGateway::start("graceful", &config_text("", "")).await;
    let addr = gw.addr;
    // A slow sender: headers now, body later.
    let slow = std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let body = FLINKS_BODY;
        let headers = flinks_headers(body);
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let mut req = format!(
            "POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        s.write_all(body).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    gw.stop().await;
    let answer = slow.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(gw.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_senders_are_cut_off() {
    let mut gw =
        TestGateway::start("slow", &config_text("header_read_timeout_secs = 1\nrequest_timeout_secs = 1", "")).await;
    let addr = gw.addr;
    let started = std::time::Instant::now();
    let (headers_cut, body_cut) = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        // Headers trickled and never finished: the connection is closed.
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\n").unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        // Headers complete, body never finished: 408.
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"partial\":").unwrap();
        let mut out2 = Vec::new();
        let _ = s.read_to_end(&mut out2);
        (String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&out2).into_owned())
    })
    .await
    .unwrap();
    assert!(!headers_cut.contains("200"), "{headers_cut}");
    assert!(body_cut.starts_with("HTTP/1.1 408"), "{body_cut}");
    assert!(started.elapsed() < Duration::from_secs(8), "both cut off by their timeouts");
    assert!(gw.events().is_empty());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_handshakes_are_answered_and_not_stored() {
    let extra = "\n[[source]]\nname = \"slack\"\npath = \"/webhooks/slack\"\nscheme = \"slack\"\nsecrets = [{ file = \"flinks.secret\" }]\n\n[[source]]\nname = \"zoom\"\npath = \"/webhooks/zoom\"\nscheme = \"zoom\"\nsecrets = [{ file = \"flinks.secret\" }]\n";
    let mut gw = TestGateway::start("handshake", &config_text("", extra)).await;
    let slack = signer("slack", FLINKS_SECRET);
    let body = br#"{"token":"x","challenge":"abc123","type":"url_verification"}"#.to_vec();
    let opts =
        hookgate_verify::SignOptions { timestamp: Some(hookgate_verify::Timestamp::now()), ..Default::default() };
    let r = gw.post("/webhooks/slack", sign_with(&slack, &body, &opts), body).await;
    assert_eq!((r.status, r.text().as_str()), (200, "abc123"));
    // A forged handshake is rejected like any other request.
    let body = br#"{"token":"x","challenge":"abc123","type":"url_verification"}"#.to_vec();
    let forged = sign_with(&signer("slack", "not-the-secret"), &body, &opts);
    assert_eq!(gw.post("/webhooks/slack", forged, body).await.status, 401);
    let zoom = signer("zoom", FLINKS_SECRET);
    let body = br#"{"payload":{"plainToken":"tok"},"event":"endpoint.url_validation"}"#.to_vec();
    let r = gw.post("/webhooks/zoom", sign_with(&zoom, &body, &opts), body).await;
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, answer["plainToken"].as_str()), (200, Some("tok")));
    assert_eq!(answer["encryptedToken"].as_str().unwrap().len(), 64);
    // An ordinary event is stored.
    let body = br#"{"type":"event_callback"}"#.to_vec();
    assert_eq!(gw.post("/webhooks/slack", sign_with(&slack, &body, &opts), body).await.status, 200);
    let events = gw.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type.as_deref(), Some("event_callback"));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_signing_schemes_use_the_public_url_and_the_request_query() {
    let public = "https://hooks.example.com/webhooks/twilio";
    let extra = format!(
        "\n[[source]]\nname = \"twilio\"\npath = \"/webhooks/twilio\"\nscheme = \"twilio\"\npublic_url = \"{public}\"\nsecrets = [{{ file = \"flinks.secret\" }}]\n"
    );
    let mut gw = TestGateway::start("twilio", &config_text("", &extra)).await;
    let twilio = signer("twilio", FLINKS_SECRET);
    let form = b"CallSid=CA1&From=%2B15551234567&Body=hello+world".to_vec();
    // Twilio signs the URL it was given, query included, plus the sorted form parameters.
    let signed_url = format!("{public}?tenant=7");
    let empty = hookgate_verify::http::HeaderMap::new();
    let headers = twilio
        .sign(&hookgate_verify::WebhookRequest::new(&empty, &form).with_url(&signed_url), &Default::default())
        .unwrap();
    let r = gw.post("/webhooks/twilio?tenant=7", headers.clone(), form.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The same signature on another query is not valid.
    let r = gw.post("/webhooks/twilio?tenant=8", headers, form).await;
    assert_eq!((r.status, r.text().as_str()), (403, "Invalid signature"));
    assert_eq!(gw.events().len(), 1);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_retention_are_pruned_in_the_background() {
    let dir = temp_dir("retention");
    {
        let store = hookgate_store::SqliteStore::open(
            &dir.join("hookgate.db"),
            hookgate_store::Durability::Full,
            Default::default(),
        )
        .unwrap();
        let old = hookgate_store::NewEvent {
            source: "flinks".into(),
            received_at_ms: 1_000,
            dedup_key: "old".into(),
            provider_id: None,
            event_type: None,
            signed_at_ms: None,
            body: b"{}".to_vec(),
            body_sha256: sha256_hex(b"{}"),
            headers: vec![],
            metadata: serde_json::json!({}),
            targets: vec![],
            pii: vec![],
        };
        store.insert_event(old).await.unwrap();
        store.close();
    }
    let mut gw = TestGateway::start_in(dir, &config_text("", "[store]\nretention_days = 30\n")).await;
    let r = gw.post("/webhooks/flinks", flinks_headers(FLINKS_BODY), FLINKS_BODY.to_vec()).await;
    assert_eq!(r.status, 200);
    for _ in 0..100 {
        if gw.events().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = gw.events();
    assert_eq!(events.len(), 1, "the 1970 event is pruned, today's stays");
    assert_eq!(events[0].body_sha256, sha256_hex(FLINKS_BODY));
    gw.stop().await;
}

/// A sender could diff `hookgate_rejections_total{reason=…}` around its own forged request to
/// learn why it failed: the webhook listener does not serve metrics, the operator listener does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_never_see_the_metrics() {
    let mut gw = TestGateway::start("metrics-listener", &config_text("", "")).await;
    let r = gw.post("/webhooks/fin", vec![("x-fin-signature".to_owned(), "zz".to_owned())], b"{}".to_vec()).await;
    assert_eq!(r.status, 401);
    let public = gw.get("/metrics").await;
    assert_eq!(public.status, 404, "{}", public.text());
    assert!(!public.text().contains("hookgate_rejections_total"));
    let ops = gw.get_ops("/metrics").await;
    assert_eq!(ops.status, 200);
    assert!(ops.text().contains(r#"hookgate_rejections_total{source="fin",reason="#), "{}", ops.text());
    // Every metric explains itself.
    assert!(ops.text().contains("# HELP hookgate_rejections_total "), "{}", ops.text());
    assert!(ops.text().contains("# HELP hookgate_requests_total "), "{}", ops.text());
    // Readiness is on both: a load balancer checks the public one.
    assert_eq!(gw.get("/readyz").await.status, 200);
    assert_eq!(gw.get_ops("/readyz").await.status, 200);
    gw.stop().await;
}
