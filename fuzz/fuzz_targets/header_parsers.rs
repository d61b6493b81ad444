//! Fuzzes everything that reads request headers: the signature-header parser for every preset's
//! header shapes, timestamp parsing in every format, algorithm names, and whole verification with
//! the input spread over a preset's headers. Nothing may panic, and a random input must not verify.

#![no_main]

use hookgate_verify::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate_verify::{PRESETS, Secret, Timestamp, TimestampFormat, Verifier, WebhookRequest, preset, signature};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn verifiers() -> &'static Vec<Verifier> {
    static V: OnceLock<Vec<Verifier>> = OnceLock::new();
    V.get_or_init(|| {
        PRESETS
            .iter()
            .map(|n| {
                let mut s = preset(n).unwrap();
                s.allow_sha1 = true;
                let secret = Secret::decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", s.secret_encoding).unwrap();
                Verifier::new(s, vec![secret]).unwrap()
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (selector, rest) = (data[0], &data[1..]);
    let verifiers = verifiers();
    let v = &verifiers[usize::from(selector) % verifiers.len()];
    let scheme = v.scheme();

    // 1. The parser alone, over one or several header lines split at 0x00.
    let values: Vec<&[u8]> = rest.split(|b| *b == 0).collect();
    for spec in &scheme.signature {
        if let Ok(parsed) = signature::parse(spec, &values) {
            assert!(!parsed.is_empty());
            assert!(parsed.len() <= signature::MAX_CANDIDATES);
            assert!(parsed.lengths().all(|l| (1..=64).contains(&l)));
        }
    }

    // 2. Timestamps and algorithm names.
    if let Ok(text) = std::str::from_utf8(rest) {
        for f in [TimestampFormat::Seconds, TimestampFormat::Milliseconds, TimestampFormat::Rfc3339] {
            if let Some(ts) = Timestamp::parse(text, f) {
                // What parses must format and parse back to the same instant (Rfc3339 keeps ms).
                let again = Timestamp::parse(&ts.format(f), f);
                if f != TimestampFormat::Seconds {
                    assert_eq!(again, Some(ts));
                }
            }
        }
        let _ = text.parse::<hookgate_verify::Algorithm>();
    }

    // 3. Whole verification, the input spread over every header the scheme reads.
    let mut headers = HeaderMap::new();
    let names = scheme.header_names();
    for (i, value) in values.iter().enumerate() {
        if let Ok(hv) = HeaderValue::from_bytes(value) {
            let name = names[i % names.len()];
            headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), hv);
        }
    }
    let req = WebhookRequest::new(&headers, rest).with_url("https://hooks.example.com/x?bodySHA256=00");
    let result = v.verify(&req, Timestamp::from_unix_secs(1_700_000_000));
    assert!(result.is_err(), "random input verified for {}", scheme.name);
});
