//! Each cause, produced the way senders produce it (a verifier that signs the wrong way), and
//! requests that no known cause explains.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::*;
use crate::{Encoding, SignOptions, preset};

const NOW: i64 = 1_764_000_000;

fn now() -> Timestamp {
    Timestamp::from_unix_secs(NOW)
}

fn verifier(scheme: &str, secrets: &[&str]) -> Verifier {
    let scheme = preset(scheme).unwrap();
    let keys = secrets.iter().map(|s| scheme.key(s).unwrap()).collect();
    Verifier::new(scheme, keys).unwrap()
}

/// Headers as `signer` would send them for `body` (and `url`) at `NOW`.
fn signed(signer: &Verifier, body: &[u8], url: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let mut req = WebhookRequest::new(&headers, body);
    if let Some(u) = url {
        req = req.with_url(u);
    }
    let opts = SignOptions { timestamp: Some(now()), id: Some("msg_1"), ..SignOptions::default() };
    let mut out = headers.clone();
    for (name, value) in signer.sign(&req, &opts).unwrap() {
        out.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    out
}

fn texts(secrets: &[&str]) -> Vec<SecretText> {
    secrets.iter().enumerate().map(|(i, s)| SecretText::new(format!("s{}", i + 1), *s)).collect()
}

fn diagnose(v: &Verifier, headers: &HeaderMap, body: &[u8], url: Option<&str>, clues: &Clues<'_>) -> Diagnosis {
    let mut req = WebhookRequest::new(headers, body);
    if let Some(u) = url {
        req = req.with_url(u);
    }
    assert!(v.verify(&req, now()).is_err(), "the request must fail to be diagnosed");
    v.diagnose(&req, now(), clues)
}

fn causes(d: &Diagnosis) -> Vec<Cause> {
    d.findings.iter().map(|f| f.cause).collect()
}

const BODY: &[u8] =
    r#"{"ResponseType":"KYC","HttpStatusCode":200,"Login":{"Id":"5e4f"},"Tag":"userId=12345","Name":"Zoë"}"#.as_bytes();

fn flinks_with(texts_: &[&str]) -> (Verifier, Vec<SecretText>) {
    (verifier("flinks", texts_), texts(texts_))
}

#[test]
fn a_valid_request_has_nothing_to_explain() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let headers = signed(&v, BODY, None);
    let d = v.diagnose(&WebhookRequest::new(&headers, BODY), now(), &Clues { secrets: &t, ..Clues::default() });
    assert_eq!(d, Diagnosis::default());
}

#[test]
fn body_reserialized_names_the_form_the_sender_signed() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let clues = Clues { secrets: &t, ..Clues::default() };
    let doc = json::parse(std::str::from_utf8(BODY).unwrap()).unwrap();
    for (style, want) in [
        (json::Style { indent: Some(2), spaced: false, sort_keys: false, ascii: false }, "2-space indent"),
        (json::Style { indent: None, spaced: true, sort_keys: false, ascii: true }, "Python's json.dumps defaults"),
        (json::Style { indent: None, spaced: false, sort_keys: true, ascii: false }, "compact with sorted keys"),
    ] {
        // The sender signed one serialization and sent another (or something re-printed it).
        let signed_form = json::write(&doc, style, usize::MAX).unwrap();
        let headers = signed(&v, signed_form.as_bytes(), None);
        let d = diagnose(&v, &headers, BODY, None, &clues);
        assert_eq!(causes(&d), [Cause::BodyReserialized], "{d:?}");
        assert!(d.findings[0].detail.contains(want), "{}", d.findings[0].detail);
    }
    // Byte-level changes: a trailing newline, CRLF, a BOM.
    let with_newline = [BODY, b"\n"].concat();
    let d = diagnose(&v, &signed(&v, &with_newline, None), BODY, None, &clues);
    assert_eq!(causes(&d), [Cause::BodyReserialized]);
    assert!(d.findings[0].detail.contains("trailing newline added"), "{d:?}");
    let bom = [b"\xef\xbb\xbf", BODY].concat();
    let d = diagnose(&v, &signed(&v, BODY, None), &bom, None, &clues);
    assert_eq!(causes(&d), [Cause::BodyReserialized]);
    assert!(d.findings[0].detail.contains("byte-order mark"));
    let crlf = b"a=1\r\nb=2\r\n";
    let d = diagnose(&v, &signed(&v, b"a=1\nb=2\n", None), crlf, None, &clues);
    assert!(d.findings[0].detail.contains("CRLF line endings as LF"), "{d:?}");
    // `\u` escapes against raw UTF-8.
    let escaped = br#"{"Name":"Zo\u00eb"}"#;
    let d = diagnose(&v, &signed(&v, "{\"Name\":\"Zoë\"}".as_bytes(), None), escaped, None, &clues);
    assert!(d.findings[0].detail.contains("raw UTF-8"), "{d:?}");
}

#[test]
fn a_retired_secret_is_named_by_its_label_not_its_fingerprint() {
    let (v, t) = flinks_with(&["new-secret"]);
    let old = verifier("flinks", &["old-secret"]);
    let retired = [SecretText::new("FLINKS_OLD", "old-secret\n")];
    let d = diagnose(
        &v,
        &signed(&old, BODY, None),
        BODY,
        None,
        &Clues { secrets: &t, retired: &retired, ..Clues::default() },
    );
    assert_eq!(causes(&d), [Cause::SecretRetired]);
    let fp = Secret::from_bytes(b"old-secret".to_vec()).fingerprint();
    assert!(d.findings[0].detail.contains("FLINKS_OLD") && !d.findings[0].detail.contains(&fp), "{d:?}");
    assert!(!d.findings[0].detail.contains("old-secret"));
}

#[test]
fn secret_whitespace_and_encoding() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let clues = Clues { secrets: &t, ..Clues::default() };
    let newline =
        Verifier::new(preset("flinks").unwrap(), vec![Secret::from_bytes(b"hmac-secret\n".to_vec())]).unwrap();
    let d = diagnose(&v, &signed(&newline, BODY, None), BODY, None, &clues);
    assert_eq!(causes(&d), [Cause::SecretWhitespace]);
    assert!(d.findings[0].detail.contains("trailing newline") && d.findings[0].detail.contains("`s1`"), "{d:?}");

    // A secret stored with a newline that Hookgate trims, but the sender signs with.
    let stored = [SecretText::new("FLINKS_SECRET", "hmac-secret \n")];
    let spaced =
        Verifier::new(preset("flinks").unwrap(), vec![Secret::from_bytes(b"hmac-secret \n".to_vec())]).unwrap();
    let d = diagnose(&v, &signed(&spaced, BODY, None), BODY, None, &Clues { secrets: &stored, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::SecretWhitespace], "{d:?}");
    assert!(d.findings[0].detail.contains("that Hookgate trims"));

    // A base64-looking secret the sender decodes first.
    let (v, t) = flinks_with(&["c2VjcmV0LWtleS1ieXRlcw=="]);
    let decoded =
        Verifier::new(preset("flinks").unwrap(), vec![Secret::from_bytes(b"secret-key-bytes".to_vec())]).unwrap();
    let d = diagnose(&v, &signed(&decoded, BODY, None), BODY, None, &Clues { secrets: &t, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::SecretEncoding]);
    assert!(d.findings[0].detail.contains("base64-decoded"), "{d:?}");

    // Standard Webhooks decodes `whsec_`; a sender using the whole text as the key (Stripe's way).
    let text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let v = verifier("standard-webhooks", &[text]);
    let t = texts(&[text]);
    let mut raw_scheme = preset("standard-webhooks").unwrap();
    raw_scheme.signing_mut().unwrap().secret_encoding = SecretEncoding::Utf8;
    let raw = Verifier::new(raw_scheme, vec![Secret::from_bytes(text.as_bytes().to_vec())]).unwrap();
    let d = diagnose(&v, &signed(&raw, BODY, None), BODY, None, &Clues { secrets: &t, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::SecretEncoding]);
    assert!(d.findings[0].detail.contains("UTF-8 text"), "{d:?}");
}

#[test]
fn signature_encoding_another_encoding_or_prefix() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let clues = Clues { secrets: &t, ..Clues::default() };
    let mut hex_scheme = preset("flinks").unwrap();
    hex_scheme.signing_mut().unwrap().signature[0].encoding = Encoding::Hex;
    let hex = Verifier::new(hex_scheme, vec![Secret::from_bytes(b"hmac-secret".to_vec())]).unwrap();
    let d = diagnose(&v, &signed(&hex, BODY, None), BODY, None, &clues);
    assert_eq!(causes(&d), [Cause::SignatureEncoding]);
    assert!(d.findings[0].detail.contains("in hex where the scheme expects base64"), "{d:?}");

    // Flinks Pay's `sha256=` prefix left out.
    let pay = verifier("flinks-pay", &["hmac-secret"]);
    let mut headers = signed(&pay, BODY, None);
    let value = headers.get("x-webhook-signature").unwrap().to_str().unwrap().trim_start_matches("sha256=").to_owned();
    headers.insert("x-webhook-signature", value.parse().unwrap());
    let d = diagnose(&pay, &headers, BODY, None, &Clues { secrets: &texts(&["hmac-secret"]), ..Clues::default() });
    assert_eq!(causes(&d), [Cause::SignatureEncoding]);
    assert!(d.findings[0].detail.contains("without the `sha256=` prefix"), "{d:?}");

    // base64 of the hex digest's text.
    let mut headers = signed(&hex, BODY, None);
    let hex_text = headers.get("x-flinks-signature").unwrap().to_str().unwrap().to_owned();
    headers.insert("x-flinks-signature", Encoding::Base64.encode(hex_text.as_bytes()).parse().unwrap());
    let d = diagnose(&v, &headers, BODY, None, &clues);
    assert!(d.findings[0].detail.contains("hex digest's text, base64-encoded"), "{d:?}");
}

#[test]
fn a_pairs_header_the_strict_reader_refuses_is_still_read() {
    // Stripe's `v1=` in base64: the strict reader finds no hex MAC, so no timestamp either.
    let v = verifier("stripe", &["whsec_test"]);
    let headers = signed(&v, BODY, None);
    let value = headers.get("stripe-signature").unwrap().to_str().unwrap().to_owned();
    let (t, mac) = value.split_once(",v1=").unwrap();
    let raw: Vec<u8> = (0..mac.len() / 2).map(|i| u8::from_str_radix(&mac[2 * i..2 * i + 2], 16).unwrap()).collect();
    let mut b64 = headers.clone();
    b64.insert("stripe-signature", format!("{t},v1={}", Encoding::Base64.encode(&raw)).parse().unwrap());
    let d = diagnose(&v, &b64, BODY, None, &Clues::default());
    assert_eq!(causes(&d), [Cause::SignatureEncoding], "{d:?}");
    assert!(d.findings[0].detail.contains("in base64 where the scheme expects hex"), "{d:?}");
}

#[test]
fn algorithm_mismatch_fixed_and_announced() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let mut sha512 = preset("flinks").unwrap();
    sha512.signing_mut().unwrap().algorithm = AlgorithmSpec::Fixed(Algorithm::Sha512);
    let signer = Verifier::new(sha512, vec![Secret::from_bytes(b"hmac-secret".to_vec())]).unwrap();
    let d = diagnose(&v, &signed(&signer, BODY, None), BODY, None, &Clues { secrets: &t, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::AlgorithmMismatch]);
    assert!(d.findings[0].detail.contains("HMAC-SHA512") && d.findings[0].detail.contains("checks sha256"), "{d:?}");

    // Fin: the header says sha256, the MAC is SHA-384.
    let fin = verifier("fin", &["fin-secret"]);
    let mut headers = signed(&fin, BODY, None);
    let mut fin384 = preset("fin").unwrap();
    fin384.signing_mut().unwrap().algorithm = AlgorithmSpec::Fixed(Algorithm::Sha384);
    let signer = Verifier::new(fin384, vec![Secret::from_bytes(b"fin-secret".to_vec())]).unwrap();
    let sig = signed(&signer, BODY, None).get("x-fin-signature").unwrap().clone();
    headers.insert("x-fin-signature", sig);
    headers.insert("x-fin-signature-algorithm", HeaderValue::from_static("sha256"));
    let d = diagnose(&fin, &headers, BODY, None, &Clues::default());
    assert_eq!(causes(&d), [Cause::AlgorithmMismatch]);
    assert!(
        d.findings[0].detail.contains("HMAC-SHA384") && d.findings[0].detail.contains("announces `sha256`"),
        "{d:?}"
    );

    // Fin: a right SHA-1 MAC, announced as sha1, which the source does not allow.
    let mut fin1 = preset("fin").unwrap();
    fin1.signing_mut().unwrap().algorithm = AlgorithmSpec::Fixed(Algorithm::Sha1);
    fin1.signing_mut().unwrap().allow_sha1 = true;
    let signer = Verifier::new(fin1, vec![Secret::from_bytes(b"fin-secret".to_vec())]).unwrap();
    headers.insert("x-fin-signature", signed(&signer, BODY, None).get("x-fin-signature").unwrap().clone());
    headers.insert("x-fin-signature-algorithm", HeaderValue::from_static("sha1"));
    let d = diagnose(&fin, &headers, BODY, None, &Clues::default());
    assert_eq!(causes(&d), [Cause::AlgorithmMismatch]);
    assert!(d.findings[0].detail.contains("does not accept"), "{d:?}");
}

#[test]
fn url_mismatch_behind_a_proxy() {
    let v = verifier("twilio", &["twilio-token"]);
    let form = b"CallSid=CA1&From=%2B15145550199";
    let headers = signed(&v, form, Some("http://hooks.example.com/twilio"));
    let d = diagnose(&v, &headers, form, Some("https://hooks.example.com/twilio"), &Clues::default());
    assert_eq!(causes(&d), [Cause::UrlMismatch]);
    assert!(d.findings[0].detail.contains("`http://`"), "{d:?}");

    let mut headers = signed(&v, form, Some("https://hooks.example.com/twilio/"));
    headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
    let d = diagnose(&v, &headers, form, Some("https://hooks.example.com/twilio"), &Clues::default());
    assert!(d.findings[0].detail.contains("trailing slash"), "{d:?}");
}

#[test]
fn clock_skew_says_how_far_and_whether_the_signature_holds() {
    let v = verifier("stripe", &["whsec_test"]);
    let t = texts(&["whsec_test"]);
    let headers = signed(&v, BODY, None);
    let later = Timestamp::from_unix_secs(NOW + 612);
    let req = WebhookRequest::new(&headers, BODY);
    let d = v.diagnose(&req, later, &Clues { secrets: &t, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::ClockSkew]);
    let detail = &d.findings[0].detail;
    assert!(
        detail.contains("612 s behind") && detail.contains("tolerance is 300 s") && detail.contains("is valid"),
        "{detail}"
    );

    // Forged and stale: the skew, and no false claim about the signature.
    let mut forged = headers.clone();
    forged.insert("stripe-signature", format!("t={NOW},v1={}", "ab".repeat(32)).parse().unwrap());
    let d = v.diagnose(&WebhookRequest::new(&forged, BODY), later, &Clues { secrets: &t, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::ClockSkew]);
    assert!(d.findings[0].detail.contains("does not match either"));

    // Milliseconds where the scheme reads seconds (Standard Webhooks: symmetric window).
    let sw = verifier("standard-webhooks", &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
    let mut headers = signed(&sw, BODY, None);
    headers.insert("webhook-timestamp", format!("{}", NOW * 1000).parse().unwrap());
    let d = sw.diagnose(&WebhookRequest::new(&headers, BODY), now(), &Clues::default());
    assert_eq!(causes(&d), [Cause::ClockSkew]);
    assert!(
        d.findings[0].detail.contains("ahead") && d.findings[0].detail.contains("looks like milliseconds"),
        "{d:?}"
    );
}

#[test]
fn header_missing_names_look_alikes_and_a_valid_signature_under_another_name() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let clues = Clues { secrets: &t, ..Clues::default() };
    let good = signed(&v, BODY, None);
    let sig = good.get("x-flinks-signature").unwrap().clone();
    let mut headers = HeaderMap::new();
    headers.insert("x_flinks_signature", sig.clone());
    headers.insert("stripe-signature", HeaderValue::from_static("t=1,v1=00"));
    let d = diagnose(&v, &headers, BODY, None, &clues);
    assert_eq!(causes(&d), [Cause::HeaderMissing]);
    let detail = &d.findings[0].detail;
    assert!(detail.contains("`x-flinks-signature` or `flinks-authenticity-key`"), "{detail}");
    assert!(detail.contains("`x_flinks_signature` (the same name written differently)"), "{detail}");
    assert!(detail.contains("`stripe-signature` (the signature header of the `stripe` scheme)"), "{detail}");
    assert!(detail.contains("the signature in `x_flinks_signature` is valid"), "{detail}");

    let d = diagnose(&v, &HeaderMap::new(), BODY, None, &clues);
    assert!(d.findings[0].detail.contains("nothing like one is present"), "{d:?}");

    // A repeated timestamp header (Standard Webhooks reads it once).
    let sw = verifier("standard-webhooks", &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
    let mut headers = signed(&sw, BODY, None);
    headers.append("webhook-timestamp", HeaderValue::from_static("1"));
    let d = diagnose(&sw, &headers, BODY, None, &Clues::default());
    assert_eq!(causes(&d), [Cause::HeaderMissing]);
    assert!(d.findings[0].detail.contains("appears 2 times"), "{d:?}");
}

#[test]
fn wrong_source_names_the_source_it_verifies_for() {
    let (prod, t) = flinks_with(&["prod-secret"]);
    let staging: Auth = verifier("flinks", &["staging-secret"]).into();
    let others = [("flinks-staging", &staging)];
    let headers = signed(&verifier("flinks", &["staging-secret"]), BODY, None);
    let d = diagnose(&prod, &headers, BODY, None, &Clues { secrets: &t, others: &others, ..Clues::default() });
    assert_eq!(causes(&d), [Cause::WrongSource]);
    assert!(d.findings[0].detail.contains("`flinks-staging`"));
}

#[test]
fn no_false_cause_for_requests_nothing_explains() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let retired = [SecretText::new("OLD", "old")];
    let other: Auth = verifier("flinks", &["other"]).into();
    let others = [("other", &other)];
    let clues = Clues { secrets: &t, retired: &retired, others: &others, ..Clues::default() };
    // An attacker's guess, a MAC with a key nobody has, a tampered body.
    let stranger = verifier("flinks", &["nobody-has-this"]);
    let tampered =
        r#"{"ResponseType":"KYC","HttpStatusCode":200,"Login":{"Id":"5e4f"},"Tag":"userId=99999","Name":"Zoë"}"#
            .as_bytes();
    let mut garbage = HeaderMap::new();
    garbage.insert("x-flinks-signature", HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    for (headers, body) in [(garbage, BODY), (signed(&stranger, BODY, None), BODY), (signed(&v, BODY, None), tampered)]
    {
        let d = diagnose(&v, &headers, body, None, &clues);
        assert!(d.findings.is_empty(), "{d:?}");
        assert!(!d.exhausted, "everything was tried: {d:?}");
    }
    // Not base64, not JSON, binary.
    let mut junk = HeaderMap::new();
    junk.insert("x-flinks-signature", HeaderValue::from_static("%%%"));
    assert!(diagnose(&v, &junk, b"\x00\xff\xfe", None, &clues).findings.is_empty());
}

#[test]
fn the_budget_bounds_the_work() {
    let (v, t) = flinks_with(&["hmac-secret"]);
    let stranger = verifier("flinks", &["nobody-has-this"]);
    let headers = signed(&stranger, BODY, None);
    let tight = Clues { secrets: &t, budget: Budget { max_macs: 5, max_bytes: 1 << 20 }, ..Clues::default() };
    let d = diagnose(&v, &headers, BODY, None, &tight);
    assert!(d.exhausted && d.findings.is_empty(), "{d:?}");
    // A large body within budget is hashed a bounded number of times.
    let big = vec![b'x'; 3 << 20];
    let d = diagnose(&v, &signed(&stranger, &big, None), &big, None, &Clues { secrets: &t, ..Clues::default() });
    assert!(d.exhausted, "{d:?}");
}

/// Diagnosis through a public-key primitive: SendGrid signs its body with the CRLF it ends with,
/// and a framework that trims it breaks the ECDSA signature; an Ed25519 key given in base64
/// where Discord's is hex.
#[test]
fn public_key_schemes_are_diagnosed_with_their_primitive() {
    use base64::Engine as _;
    use ring::signature::KeyPair as _;
    let rng = ring::rand::SystemRandom::new();
    let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let signer = verifier("sendgrid", &[&b64(pkcs8.as_ref())]);
    let receiver = verifier("sendgrid", &[&b64(pair.public_key().as_ref())]);
    let body = b"[{\"event\":\"delivered\",\"sg_event_id\":\"e1\"}]\r\n";
    let headers = signed(&signer, body, None);
    assert!(receiver.verify(&WebhookRequest::new(&headers, body), now()).is_ok());
    let trimmed = &body[..body.len() - 2];
    let d = diagnose(&receiver, &headers, trimmed, None, &Clues::default());
    assert_eq!(causes(&d), [Cause::BodyReserialized], "{d:?}");
    assert!(d.findings[0].detail.contains("trailing CRLF added"), "{d:?}");

    // A key in another format than the scheme reads is refused when it is read, saying which.
    let seed = [7u8; 32];
    let ed = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let discord = preset("discord").unwrap();
    let err = discord.key(&b64(ed.public_key().as_ref())).unwrap_err().to_string();
    assert!(err.contains("looks like base64") && err.contains("hex"), "{err}");
    let telnyx = preset("telnyx").unwrap();
    let err = telnyx.key(&Encoding::Hex.encode(ed.public_key().as_ref())).unwrap_err().to_string();
    assert!(err.contains("looks like hex"), "{err}");
    let err = preset("standard-webhooks").unwrap().key("whpk_not base64").unwrap_err().to_string();
    assert!(!err.contains("not base64"), "the text is never quoted: {err}");
    // An HMAC secret on a public-key scheme, and a public key on an HMAC scheme.
    let err = discord.key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err().to_string();
    assert!(err.contains("HMAC secret"), "{err}");
    let flinks = preset("stripe").unwrap();
    let sw = preset("standard-webhooks").unwrap();
    let public = sw.key(&format!("whpk_{}", b64(ed.public_key().as_ref()))).unwrap();
    assert!(Auth::new(flinks, vec![public]).unwrap_err().to_string().contains("ed25519 key"));
}
