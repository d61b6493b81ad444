//! Fuzzes everything that reads request headers: the signature-header parser for every preset's
//! header shapes, timestamp parsing in every format, algorithm names, and whole verification of
//! every kind (HMAC, Ed25519, ECDSA, tokens, basic auth) with the input spread over a preset's
//! headers. Nothing may panic, and a random input must not verify.

#![no_main]

use hookgate_verify::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate_verify::{Auth, PRESETS, Timestamp, TimestampFormat, WebhookRequest, preset, signature};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Key material of every kind; each preset takes the first its rule accepts.
const KEYS: [&str; 5] = [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    // RFC 8032 TEST 1's public key, hex (Discord) and base64 (Telnyx).
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    // The SendGrid SDK's P-256 verification key.
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==",
    "hooks:a-basic-auth-password",
];

fn checks() -> &'static Vec<Auth> {
    static V: OnceLock<Vec<Auth>> = OnceLock::new();
    V.get_or_init(|| {
        PRESETS
            .iter()
            .map(|n| {
                let mut s = preset(n).unwrap();
                if let Some(signing) = s.signing_mut() {
                    signing.allow_sha1 = true;
                }
                KEYS.iter()
                    .find_map(|k| Auth::new(s.clone(), vec![s.key(k).ok()?]).ok())
                    .unwrap_or_else(|| panic!("no key for {n}"))
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (selector, rest) = (data[0], &data[1..]);
    let checks = checks();
    let v = &checks[usize::from(selector) % checks.len()];
    let scheme = v.scheme();

    // 1. The parser alone, over one or several header lines split at 0x00.
    let values: Vec<&[u8]> = rest.split(|b| *b == 0).collect();
    for spec in scheme.signing().map(|s| s.signature.as_slice()).unwrap_or_default() {
        if let Ok(parsed) = signature::parse(spec, &values) {
            assert!(!parsed.is_empty());
            assert!(parsed.len() <= signature::MAX_CANDIDATES);
            // The largest signature decoded is a DER ECDSA one (72 bytes).
            assert!(parsed.lengths().all(|l| (1..=72).contains(&l)));
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
