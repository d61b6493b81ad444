//! `verify` throughput for Flinks-shaped bodies (1 KiB and 16 KiB), beside the bare keyed HMAC it
//! is built on, so the engine's overhead (header parsing, decoding, content assembly) is visible.
//! Compare with `openssl speed -hmac sha256` via `scripts/bench-verify.sh`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hookgate_verify::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate_verify::{SignOptions, Timestamp, Verifier, WebhookRequest, preset};

/// A Flinks webhook payload padded to exactly `size` bytes.
fn flinks_body(size: usize) -> Vec<u8> {
    let head = r#"{"RequestId":"4c8e9a32-1b7f-4f7e-9d55-0c2b3a7f1e11","ResponseType":"GetAccountsDetail","HttpStatusCode":200,"Tag":"userId=12345,session=abc","Login":{"Id":"f5d5f008-e529-4714-21c0-08d6abf5bce4","Username":"Greatday"},"Institution":"FlinksCapital","Accounts":[{"Id":"a1","Title":"Chequing","Balance":{"Current":1234.56},"Transactions":[{"Date":"2026/11/01","Description":"Payroll","Credit":2500.00}]}],"Memo":""#;
    let tail = r#""}"#;
    let pad = size - head.len() - tail.len();
    let mut body = head.as_bytes().to_vec();
    body.extend((0..pad).map(|i| b'a' + (i % 26) as u8));
    body.extend_from_slice(tail.as_bytes());
    assert_eq!(body.len(), size);
    body
}

fn bench(c: &mut Criterion) {
    let scheme = preset("flinks").unwrap();
    let secret = scheme.key("bench-secret-0123456789abcdef0123").unwrap();
    let verifier = Verifier::new(scheme, vec![secret]).unwrap();
    let now = Timestamp::from_unix_secs(1_700_000_000);

    let mut group = c.benchmark_group("flinks_verify");
    for size in [1024usize, 16 * 1024] {
        let body = flinks_body(size);
        let empty = HeaderMap::new();
        let mut headers = HeaderMap::new();
        for (k, v) in verifier.sign(&WebhookRequest::new(&empty, &body), &SignOptions::default()).unwrap() {
            headers.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(&v).unwrap());
        }
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("verify/{size}"), |b| {
            b.iter(|| {
                let req = WebhookRequest::new(black_box(&headers), black_box(&body));
                verifier.verify(&req, now).unwrap()
            });
        });
        // The floor: the same MAC with a pre-keyed state and a constant-time compare, nothing else.
        let keyed = {
            use hmac::KeyInit as _;
            <hmac::Hmac<sha2::Sha256>>::new_from_slice(b"bench-secret-0123456789abcdef0123").unwrap()
        };
        let tag = {
            use hmac::Mac as _;
            let mut m = keyed.clone();
            m.update(&body);
            m.finalize().into_bytes()
        };
        group.bench_function(format!("bare_hmac/{size}"), |b| {
            b.iter(|| {
                use hmac::Mac as _;
                let mut m = keyed.clone();
                m.update(black_box(&body));
                m.verify_slice(&tag).unwrap();
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
