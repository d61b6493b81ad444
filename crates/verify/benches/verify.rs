//! `verify` throughput for Flinks-shaped bodies (1 KiB and 16 KiB), beside the bare keyed HMAC it
//! is built on, so the engine's overhead (header parsing, decoding, content assembly) is visible.
//! Compare with `openssl speed -hmac sha256` via `scripts/bench-verify.sh`.
//!
//! `public_key` times one verification per request for the public-key primitives: the whole
//! engine on a 1 KiB Discord (Ed25519) and SendGrid (ECDSA P-256) request, and ring's bare
//! verification of a short message beside it, which is what `openssl speed ed25519 ecdsap256`
//! measures (the script prints both in one run), and RSA-2048 (PKCS#1 v1.5, SHA-256), the
//! certificate kinds' primitive, beside `openssl speed rsa2048`.

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

/// A request signed by the provider's private key, verified with its public key, and the bare
/// primitive on a 32-byte message.
fn public_key(c: &mut Criterion) {
    use base64::Engine as _;
    use ring::signature::KeyPair as _;
    let now = Timestamp::from_unix_secs(1_700_000_000);
    let body = flinks_body(1024);
    let rng = ring::rand::SystemRandom::new();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();

    let seed = [42u8; 32];
    let ed = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let p256_alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(p256_alg, &rng).unwrap();
    let p256 = ring::signature::EcdsaKeyPair::from_pkcs8(p256_alg, pkcs8.as_ref(), &rng).unwrap();
    let cases = [
        ("discord_ed25519", hex(&[&seed[..], ed.public_key().as_ref()].concat()), hex(ed.public_key().as_ref())),
        ("sendgrid_ecdsa_p256", b64(pkcs8.as_ref()), b64(p256.public_key().as_ref())),
    ];
    let mut group = c.benchmark_group("public_key");
    for (name, private, public) in cases {
        let scheme = preset(name.split('_').next().unwrap()).unwrap();
        let signer = Verifier::new(scheme.clone(), vec![scheme.key(&private).unwrap()]).unwrap();
        let verifier = Verifier::new(scheme.clone(), vec![scheme.key(&public).unwrap()]).unwrap();
        let empty = HeaderMap::new();
        let opts = SignOptions { timestamp: Some(now), ..SignOptions::default() };
        let mut headers = HeaderMap::new();
        for (k, v) in signer.sign(&WebhookRequest::new(&empty, &body), &opts).unwrap() {
            headers.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(&v).unwrap());
        }
        group.bench_function(format!("verify/{name}/1024"), |b| {
            b.iter(|| verifier.verify(&WebhookRequest::new(black_box(&headers), black_box(&body)), now).unwrap());
        });
    }
    let message = [7u8; 32];
    let ed_sig = ed.sign(&message);
    let ed_public =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, ed.public_key().as_ref().to_vec());
    group.bench_function("bare/ed25519/32", |b| {
        b.iter(|| ed_public.verify(black_box(&message), ed_sig.as_ref()).unwrap())
    });
    let p256_sig = p256.sign(&rng, &message).unwrap();
    let p256_public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        p256.public_key().as_ref().to_vec(),
    );
    group.bench_function("bare/ecdsa_p256/32", |b| {
        b.iter(|| p256_public.verify(black_box(&message), p256_sig.as_ref()).unwrap());
    });
    // RSA-2048 PKCS#1 v1.5 with SHA-256, what PayPal's and Amazon SNS's certificates sign with:
    // a key made once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`
    // (PKCS#8 DER, base64; a benchmark fixture, not a secret).
    let rsa_pkcs8 = base64::engine::general_purpose::STANDARD
        .decode(concat!(
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCeuAmO2KlcqKrXGafhRH5OvE5SrdmhwpEpNT/M038WcwZQ",
            "HM1q8dDJWFuf5KCvvED2eoRHMI7GzIB5Jah1OyfewP/S1jxKhCqNO536/V8TP5BYP5ekUsx+mDNne7rDvo87IOBQkrx886HJ",
            "uFqwKu/QrR0W1fcFNaC7uNushKXeLMH5ThF2s18P1EqzJMqpiyDMlEq3EaVPs2jGgNTSXxHIfV24zOAznU5a/r63u08AYPcE",
            "ZyM8XliGUxwWPWaE4799hrcEQyRzRhnJCv6tYfc/0bAlwPYVFgBFlnYrZhjgMr+eObipPHWRm4vyCq0z3DPbLJu+28fqlMDY",
            "6mkvyRP9AgMBAAECggEAE4zWvI4qelvaQ0mJOMGvjzI5sYxxgK/PIpTJCYlJn7HGZsrNcK1diteD3bOTKWJWXCXmMkCkbY9W",
            "CdYeJGaHeDQsrsMtxP33odLkmDxqYBwVwxD+NELwpm1H86i1bhQEX4OirboNVpTJ6md3YDjBtmIEccIkPbOH22efQ2ZJag7G",
            "oEvQ3FFXXb9HwhZQ6MWv+Etg3IoTZvcRNdiSekYci6JV4TZPW6+FOGMPvQHFiC2mi+w7On6gmZJX6wf68u+WBSpnSZued3gE",
            "OcBKRYF875ZAViNOJAeNmStbQx9iOwMDYv/zr09P3MJ8oVjUtb6NC23Fgt0LI7fzn2+IjJXlXwKBgQDOANh86CxcVNdiBcMS",
            "Fb7VRrYCnFJLgpZhSpmuubDjgf+qZdrjGMVBbZhbiZQHKpJLQKgIaxzOHGvfZ0A8ak0lDVZLdtJa4PsSaMfOESnlHGiDP+EL",
            "cBCwUWPrVwV9d1ZmLoWsuPbq4Bjm40tVAFCRxvGxEnIyINL/tAw3QoAUwwKBgQDFPV9kccoTta/xNlB8PcZHHY3y3RWURykK",
            "8YQZn1RMD8JDQAndtaMT3AdC8TekoLsAg6WCBNdVCPm5z0J9JV6VmBYFV6ixwKQ+/c9oDOK77Nv2Kl6RYP22jY+e97+HDa3k",
            "w+fHpyyYJzNZ0yEEfljiQAf02VTkfZB+dLsvToyoPwKBgBxfHXHGgCWPQcKsTHt3Jzs0a+jcIrFnoNJxdc0MogITa2TKdmUE",
            "ilZCg9NHlW2PPWrD0uCl7+erHmg8TiqD8XAC8DmgecQubCXS7IHC92Qoj3RUHeh3XLUL4JkO+SCYiPu1uI9bQhaDGqrh7wQb",
            "8PzCy5K5maSxxJ2W7H/H1uAFAoGAAYmz97WHbNXq1EenIwDcTeumErG0nF5drI8rh4OdhaZNznZuXUMwTVRW3ifBVlBGhP+B",
            "x9y/zRLv14oNK6qh7SqtaUdAsnodDbyu5FHNZse3A1lbOWj3MXgzGXs3DBeINpNseDsOdvU/SkECLeXKTaFQLpGPPuTXvpSs",
            "bPcA08MCgYEAt2eVl7aTdxNrL8+RORZj4lWlo9X+kJjpC7EFUDbooeUx3lMj/u3m8rDRXnz6LzVcXxb2UpDP37Zw/T07ZBHH",
            "AjttdlTLiK5cMsTkIbIc2/EjvXJ/SU4O629clNJ6HOxXJBYobfkH64DICcCYI6U/PKKU7LyH1LH8mG5G2ZXsyco=",
        ))
        .unwrap();
    let rsa = ring::signature::RsaKeyPair::from_pkcs8(&rsa_pkcs8).unwrap();
    let mut rsa_sig = vec![0u8; rsa.public().modulus_len()];
    rsa.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, &message, &mut rsa_sig).unwrap();
    let rsa_public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        rsa.public().as_ref().to_vec(),
    );
    group.bench_function("bare/rsa2048_pkcs1_sha256/32", |b| {
        b.iter(|| rsa_public.verify(black_box(&message), &rsa_sig).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench, public_key);
criterion_main!(benches);
