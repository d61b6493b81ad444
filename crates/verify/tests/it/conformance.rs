//! The conformance harness: every preset must pass the same behavioural checks.

use hookgate_verify::http::{HeaderMap, HeaderValue};
use hookgate_verify::{Rejection, Timestamp, preset};

use crate::support::*;

#[test]
fn every_preset_round_trips() {
    for scheme in all_presets() {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 1)]);
        let s = sign(&v, &body_for(&scheme));
        let ok = check(&v, &s.headers, &s.body, s.now).unwrap_or_else(|e| panic!("{}: {e}", scheme.name));
        assert_eq!(ok.secret_index, 0);
        if scheme.signing().unwrap().timestamp.is_some() {
            assert_eq!(ok.timestamp, Some(Timestamp::from_unix_secs(SIGNED_AT)), "{}", scheme.name);
        }
        if scheme.id_header.is_some() {
            assert_eq!(ok.id.as_deref(), Some("evt_1"), "{}", scheme.name);
        }
    }
}

#[test]
fn every_preset_rejects_each_flipped_body_byte() {
    for scheme in all_presets() {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 2)]);
        let s = sign(&v, &body_for(&scheme));
        for i in 0..s.body.len() {
            let mut body = s.body.clone();
            body[i] ^= 0x01;
            assert_eq!(check(&v, &s.headers, &body, s.now), Err(flipped(&scheme, i)), "{} byte {i}", scheme.name);
        }
    }
}

#[test]
fn every_preset_rejects_a_wrong_secret() {
    for scheme in all_presets() {
        let signer = verifier(scheme.clone(), &[&secret_for(&scheme, 3)]);
        let receiver = verifier(scheme.clone(), &[&secret_for(&scheme, 4)]);
        let s = sign(&signer, &body_for(&scheme));
        assert_eq!(check(&receiver, &s.headers, &s.body, s.now), Err(Rejection::Mismatch), "{}", scheme.name);
    }
}

#[test]
fn every_preset_accepts_a_rotated_secret() {
    for scheme in all_presets() {
        let (old, new) = (secret_for(&scheme, 5), secret_for(&scheme, 6));
        let signer = verifier(scheme.clone(), &[&old]);
        let receiver = verifier(scheme.clone(), &[&new, &old]);
        let s = sign(&signer, &body_for(&scheme));
        let ok = check(&receiver, &s.headers, &s.body, s.now).unwrap();
        assert_eq!(ok.secret_index, 1, "{}", scheme.name);
        // And the new one, once the provider switches.
        let s = sign(&verifier(scheme.clone(), &[&new]), &body_for(&scheme));
        assert_eq!(check(&receiver, &s.headers, &s.body, s.now).unwrap().secret_index, 0);
    }
}

/// Every header the scheme signs or needs: removing it must reject, never pass.
#[test]
fn every_preset_rejects_each_missing_header() {
    for scheme in all_presets() {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 7)]);
        let s = sign(&v, &body_for(&scheme));
        for (name, _) in s.headers.iter() {
            let mut h = s.headers.clone();
            h.remove(name);
            let result = check(&v, &h, &s.body, s.now);
            let is_alg_header = name.as_str() == "x-fin-signature-algorithm";
            let signed = scheme.header_names().iter().any(|n| n.eq_ignore_ascii_case(name.as_str()))
                && scheme.event_type_header.as_deref().is_none_or(|e| !e.eq_ignore_ascii_case(name.as_str()));
            let only_informational = scheme.id_header.as_deref().is_some_and(|i| i.eq_ignore_ascii_case(name.as_str()))
                && !scheme
                    .signing()
                    .unwrap()
                    .content
                    .contains(&hookgate_verify::Part::Header(scheme.id_header.clone().unwrap()));
            if is_alg_header || only_informational || !signed {
                // Fin's algorithm header defaults to sha256 (the signature used sha256), and an id
                // header that is not signed is only metadata.
                assert!(result.is_ok(), "{}: removing {name} gave {result:?}", scheme.name);
            } else {
                assert!(
                    matches!(result, Err(Rejection::MissingHeader(_) | Rejection::MalformedTimestamp)),
                    "{}: removing {name} gave {result:?}",
                    scheme.name
                );
            }
        }
    }
}

#[test]
fn every_preset_rejects_empty_and_garbage_signatures() {
    for scheme in all_presets() {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 8)]);
        let s = sign(&v, &body_for(&scheme));
        let sig_name = scheme.signing().unwrap().signature[0].name.as_str();
        for (value, expected) in [
            ("", Rejection::EmptyHeader(scheme.signing().unwrap().signature[0].name.clone())),
            ("   ", Rejection::EmptyHeader(scheme.signing().unwrap().signature[0].name.clone())),
            ("not a signature at all", Rejection::MalformedSignature),
            ("%%%%", Rejection::MalformedSignature),
        ] {
            let mut h = s.headers.clone();
            h.insert(
                hookgate_verify::http::HeaderName::from_bytes(sig_name.as_bytes()).unwrap(),
                HeaderValue::from_static(value),
            );
            let got = check(&v, &h, &s.body, s.now);
            // Pairs headers lose their timestamp with the garbage, which is reported first for them.
            let acceptable = got == Err(expected.clone())
                || (scheme.signing().unwrap().signature[0].timestamp_key.is_some()
                    && got == Err(Rejection::MalformedTimestamp));
            assert!(acceptable, "{}: {value:?} gave {got:?}", scheme.name);
        }
    }
}

#[test]
fn every_preset_rejects_each_flipped_signature_character() {
    for scheme in all_presets() {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 9)]);
        let s = sign(&v, &body_for(&scheme));
        let name = scheme.signing().unwrap().signature[0].name.to_ascii_lowercase();
        let original = s.headers.get(&name).unwrap().as_bytes().to_vec();
        for i in 0..original.len() {
            let mut value = original.clone();
            value[i] ^= 0x01;
            let Ok(hv) = HeaderValue::from_bytes(&value) else { continue };
            let mut h = s.headers.clone();
            h.insert(hookgate_verify::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), hv);
            let got = check(&v, &h, &s.body, s.now);
            // XOR 0x01 never turns a letter into the other case, so every flip must reject.
            assert!(
                got.is_err(),
                "{}: flipping signature char {i} ({:?}) still verified",
                scheme.name,
                String::from_utf8_lossy(&value)
            );
        }
    }
}

#[test]
fn duplicate_single_value_headers_are_refused() {
    for scheme in all_presets() {
        let Some(ts_header) = scheme.signing().unwrap().timestamp.as_ref().and_then(|t| t.header.clone()) else {
            continue;
        };
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 10)]);
        let s = sign(&v, &body_for(&scheme));
        let mut h = s.headers.clone();
        let value = h.get(ts_header.to_ascii_lowercase()).unwrap().clone();
        h.append(hookgate_verify::http::HeaderName::from_bytes(ts_header.as_bytes()).unwrap(), value);
        assert_eq!(
            check(&v, &h, &s.body, s.now),
            Err(Rejection::DuplicateHeader(ts_header.clone())),
            "{}",
            scheme.name
        );
    }
}

#[test]
fn tolerance_boundaries_are_exact() {
    for scheme in all_presets() {
        let Some(spec) = scheme.signing().unwrap().timestamp.clone() else { continue };
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 11)]);
        let s = sign(&v, &body_for(&scheme));
        let tol = i64::try_from(spec.tolerance_secs).unwrap();
        let at = |secs: i64| check(&v, &s.headers, &s.body, Timestamp::from_unix_secs(SIGNED_AT + secs));
        assert!(at(tol).is_ok(), "{}: exactly at the limit", scheme.name);
        assert_eq!(at(tol + 1), Err(Rejection::TimestampTooOld), "{}: one second past", scheme.name);
        match spec.window {
            hookgate_verify::Window::Symmetric => {
                assert!(at(-tol).is_ok(), "{}", scheme.name);
                assert_eq!(at(-tol - 1), Err(Rejection::TimestampTooNew), "{}", scheme.name);
            }
            hookgate_verify::Window::PastOnly => assert!(at(-100_000).is_ok(), "{}", scheme.name),
        }
    }
}

#[test]
fn flipping_the_timestamp_rejects() {
    for scheme in all_presets() {
        let Some(spec) = scheme.signing().unwrap().timestamp.clone() else { continue };
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 12)]);
        let s = sign(&v, &body_for(&scheme));
        let name = spec
            .header
            .clone()
            .unwrap_or_else(|| scheme.signing().unwrap().signature[0].name.clone())
            .to_ascii_lowercase();
        let original = s.headers.get(&name).unwrap().as_bytes().to_vec();
        let text = String::from_utf8(original.clone()).unwrap();
        // The position of the timestamp digits inside the header value.
        let ts_text = Timestamp::from_unix_secs(SIGNED_AT).format(spec.format);
        let start = text.find(&ts_text).unwrap();
        for i in start..start + ts_text.len() {
            let mut value = original.clone();
            value[i] ^= 0x01;
            let mut h = s.headers.clone();
            h.insert(
                hookgate_verify::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(&value).unwrap(),
            );
            assert!(check(&v, &h, &s.body, s.now).is_err(), "{}: timestamp char {i}", scheme.name);
        }
    }
}

#[test]
fn several_signatures_in_one_header_any_valid_one_passes() {
    let scheme = preset("standard-webhooks").unwrap();
    let v = verifier(scheme.clone(), &[&secret_for(&scheme, 13)]);
    let s = sign(&v, &body_for(&scheme));
    let good = s.headers.get("webhook-signature").unwrap().to_str().unwrap().to_owned();
    let bogus = format!("v1,{}", b64(&[0u8; 32]));
    for value in [format!("{bogus} {good}"), format!("{good} {bogus}"), format!("v1a,xyz {good}")] {
        let mut h = s.headers.clone();
        h.insert("webhook-signature", HeaderValue::from_str(&value).unwrap());
        assert!(check(&v, &h, &s.body, s.now).is_ok(), "{value}");
    }
    let mut h = s.headers.clone();
    h.insert("webhook-signature", HeaderValue::from_str(&format!("{bogus} {bogus}")).unwrap());
    assert_eq!(check(&v, &h, &s.body, s.now), Err(Rejection::Mismatch));
}

#[test]
fn stripe_accepts_any_v1_and_ignores_v0() {
    let scheme = preset("stripe").unwrap();
    let v = verifier(scheme.clone(), &[&secret_for(&scheme, 14)]);
    let s = sign(&v, &body_for(&scheme));
    let good = s.headers.get("stripe-signature").unwrap().to_str().unwrap().to_owned();
    let sig = good.split("v1=").nth(1).unwrap();
    let value = format!("t={SIGNED_AT},v1={},v0={sig},v1={sig}", "0".repeat(64));
    let mut h = HeaderMap::new();
    h.insert("stripe-signature", HeaderValue::from_str(&value).unwrap());
    assert!(check(&v, &h, &s.body, s.now).is_ok());
    let value = format!("t={SIGNED_AT},v0={sig}");
    h.insert("stripe-signature", HeaderValue::from_str(&value).unwrap());
    assert_eq!(check(&v, &h, &s.body, s.now), Err(Rejection::MalformedSignature));
}

#[test]
fn fin_algorithm_allow_list() {
    let scheme = preset("fin").unwrap();
    let v = verifier(scheme.clone(), &[&secret_for(&scheme, 15)]);
    let body = body_for(&scheme);
    for alg in [hookgate_verify::Algorithm::Sha384, hookgate_verify::Algorithm::Sha512] {
        let empty = HeaderMap::new();
        let req = hookgate_verify::WebhookRequest::new(&empty, &body);
        let out = v.sign(&req, &hookgate_verify::SignOptions { algorithm: Some(alg), ..Default::default() }).unwrap();
        let verified = check(&v, &headers(&out), &body, Timestamp::now()).unwrap();
        assert_eq!(verified.algorithm, Some(alg));
    }
    let s = sign(&v, &body);
    for refused in ["md5", "sha1", "none", "", "SHA3-256", "sha256\u{0}"] {
        let mut h = s.headers.clone();
        let Ok(value) = HeaderValue::from_str(refused) else { continue };
        h.insert("x-fin-signature-algorithm", value);
        assert_eq!(check(&v, &h, &s.body, s.now), Err(Rejection::UnsupportedAlgorithm), "{refused:?}");
    }
    // sha1 cannot even be signed without opting in.
    let empty = HeaderMap::new();
    let req = hookgate_verify::WebhookRequest::new(&empty, &body);
    let opts = hookgate_verify::SignOptions { algorithm: Some(hookgate_verify::Algorithm::Sha1), ..Default::default() };
    assert!(v.sign(&req, &opts).is_err());
}

#[test]
fn github_legacy_sha1_only_when_allowed() {
    let scheme = preset("github").unwrap();
    let secret = secret_for(&scheme, 16);
    let with_sha1 = verifier(with_signing(scheme.clone(), |s| s.allow_sha1 = true), &[&secret]);
    let without = verifier(scheme.clone(), &[&secret]);
    let body = body_for(&scheme);
    let empty = HeaderMap::new();
    let req = hookgate_verify::WebhookRequest::new(&empty, &body);
    let opts = hookgate_verify::SignOptions { algorithm: Some(hookgate_verify::Algorithm::Sha1), ..Default::default() };
    let out = with_sha1.sign(&req, &opts).unwrap();
    assert!(out.iter().any(|(n, v)| n == "X-Hub-Signature" && v.starts_with("sha1=")));
    let h = headers(&out);
    assert_eq!(
        check(&with_sha1, &h, &body, Timestamp::now()).unwrap().algorithm,
        Some(hookgate_verify::Algorithm::Sha1)
    );
    assert_eq!(
        check(&without, &h, &body, Timestamp::now()),
        Err(Rejection::MissingHeader("X-Hub-Signature-256".into()))
    );
    assert!(without.sign(&req, &opts).is_err());
}

#[test]
fn flinks_accepts_the_older_header_name() {
    let scheme = preset("flinks").unwrap();
    let v = verifier(scheme.clone(), &[&secret_for(&scheme, 17)]);
    let s = sign(&v, &body_for(&scheme));
    let value = s.headers.get("x-flinks-signature").unwrap().clone();
    let mut h = HeaderMap::new();
    h.insert("flinks-authenticity-key", value);
    assert!(check(&v, &h, &s.body, s.now).is_ok());
}

#[test]
fn flinks_pay_accepts_uppercase_hex() {
    let scheme = preset("flinks-pay").unwrap();
    let v = verifier(scheme.clone(), &[&secret_for(&scheme, 18)]);
    let s = sign(&v, &body_for(&scheme));
    let upper =
        s.headers.get("x-webhook-signature").unwrap().to_str().unwrap().replace("sha256=", "").to_ascii_uppercase();
    let mut h = HeaderMap::new();
    h.insert("x-webhook-signature", HeaderValue::from_str(&format!("sha256={upper}")).unwrap());
    assert!(check(&v, &h, &s.body, s.now).is_ok());
}

#[test]
fn twilio_json_body_is_covered_by_body_sha256() {
    let scheme = preset("twilio").unwrap();
    let v = verifier(scheme.clone(), &[&secret_for(&scheme, 19)]);
    let body = br#"{"property": "value", "boolean": true}"#;
    let digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    let url = format!("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={digest}");
    let empty = HeaderMap::new();
    let out = v.sign(&hookgate_verify::WebhookRequest::new(&empty, body).with_url(&url), &Default::default()).unwrap();
    let h = headers(&out);
    let verify =
        |b: &[u8], u: &str| v.verify(&hookgate_verify::WebhookRequest::new(&h, b).with_url(u), Timestamp::now());
    assert!(verify(body, &url).is_ok());
    let mut tampered = body.to_vec();
    for i in 0..tampered.len() {
        tampered[i] ^= 1;
        assert_eq!(verify(&tampered, &url), Err(Rejection::BodyDigestMismatch), "byte {i}");
        tampered[i] ^= 1;
    }
}

#[test]
fn schemes_that_sign_the_url_need_it() {
    for scheme in all_presets().filter(|s| s.needs_url()) {
        let v = verifier(scheme.clone(), &[&secret_for(&scheme, 20)]);
        let s = sign(&v, &body_for(&scheme));
        let got = v.verify(&hookgate_verify::WebhookRequest::new(&s.headers, &s.body), s.now);
        assert_eq!(got, Err(Rejection::MissingUrl), "{}", scheme.name);
        let other = v.verify(
            &hookgate_verify::WebhookRequest::new(&s.headers, &s.body).with_url("https://evil.example/x"),
            s.now,
        );
        assert_eq!(other, Err(Rejection::Mismatch), "{}", scheme.name);
    }
}

#[test]
fn rejection_messages_never_contain_secrets_or_macs() {
    for scheme in all_presets() {
        let secret = secret_for(&scheme, 21);
        let signer = verifier(scheme.clone(), &[&secret]);
        let receiver = verifier(scheme.clone(), &[&secret_for(&scheme, 22)]);
        let s = sign(&signer, &body_for(&scheme));
        let err = check(&receiver, &s.headers, &s.body, s.now).unwrap_err();
        let text = format!("{err} {err:?}");
        let sig =
            s.headers.get(scheme.signing().unwrap().signature[0].name.to_ascii_lowercase()).unwrap().to_str().unwrap();
        assert!(!text.contains(&secret) && !text.contains(sig), "{text}");
        assert!(!format!("{receiver:?}").contains(&secret));
        assert_eq!(text.to_lowercase().split(' ').next(), text.split(' ').next(), "lowercase: {text}");
    }
}

fn signed_json(
    scheme: &str,
    secret: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> (hookgate_verify::Verifier, HeaderMap) {
    let v = verifier(preset(scheme).unwrap(), &[secret]);
    let mut h = HeaderMap::new();
    for (k, val) in extra {
        h.insert(
            hookgate_verify::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(val).unwrap(),
        );
    }
    let req = hookgate_verify::WebhookRequest::new(&h, body).with_url(URL);
    let opts = hookgate_verify::SignOptions {
        timestamp: Some(Timestamp::from_unix_secs(SIGNED_AT)),
        id: Some("m1"),
        algorithm: None,
    };
    for (k, val) in v.sign(&req, &opts).unwrap() {
        h.insert(
            hookgate_verify::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&val).unwrap(),
        );
    }
    (v, h)
}

#[test]
fn endpoint_verification_handshakes_are_answered_after_verification() {
    let now = Timestamp::from_unix_secs(SIGNED_AT);
    // Slack url_verification: echo the challenge.
    let body = br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let (v, h) = signed_json("slack", "slack-secret", body, &[]);
    let req = hookgate_verify::WebhookRequest::new(&h, body);
    let ok = v.verify(&req, now).unwrap();
    let r = v.challenge_response(&req, &ok).unwrap();
    assert_eq!(
        (r.content_type, r.body.as_slice()),
        ("text/plain; charset=utf-8", &b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"[..])
    );
    // An ordinary Slack event is not a handshake.
    let body = br#"{"type":"event_callback","event":{"type":"message"}}"#;
    let (v, h) = signed_json("slack", "slack-secret", body, &[]);
    let req = hookgate_verify::WebhookRequest::new(&h, body);
    assert!(v.challenge_response(&req, &v.verify(&req, now).unwrap()).is_none());

    // Twitch: the message-type header marks it; echo the challenge.
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#;
    let (v, h) = signed_json(
        "twitch",
        "twitch-secret",
        body,
        &[("Twitch-Eventsub-Message-Type", "webhook_callback_verification")],
    );
    let req = hookgate_verify::WebhookRequest::new(&h, body);
    let r = v.challenge_response(&req, &v.verify(&req, now).unwrap()).unwrap();
    assert_eq!(r.body, b"pogchamp-kappa-360noscope-vohiyo");
    let (v, h) = signed_json("twitch", "twitch-secret", body, &[("Twitch-Eventsub-Message-Type", "notification")]);
    let req = hookgate_verify::WebhookRequest::new(&h, body);
    assert!(v.challenge_response(&req, &v.verify(&req, now).unwrap()).is_none());

    // Zoom: plainToken and hex(HMAC-SHA256(secret token, plainToken)), computed independently
    // with Python's hmac for this secret.
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let (v, h) = signed_json("zoom", "zoom-secret-token", body, &[]);
    let req = hookgate_verify::WebhookRequest::new(&h, body);
    let r = v.challenge_response(&req, &v.verify(&req, now).unwrap()).unwrap();
    assert_eq!(r.content_type, "application/json");
    let got: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(got["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(got["encryptedToken"], "d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3");

    // Discord: an interactions PING (`"type": 1`, a number) gets PONG as JSON; other types do not.
    let key = secret_for(&preset("discord").unwrap(), 9);
    let body = br#"{"type":1,"id":"1","application_id":"2"}"#;
    let (v, h) = signed_json("discord", &key, body, &[]);
    let req = hookgate_verify::WebhookRequest::new(&h, body);
    let r = v.challenge_response(&req, &v.verify(&req, now).unwrap()).unwrap();
    assert_eq!((r.content_type, r.body.as_slice()), ("application/json", &br#"{"type":1}"#[..]));
    // A webhook event is also `"type": 1`, with an `event`: it is an event, not a PING.
    let webhook_event = br#"{"version":1,"application_id":"2","type":1,"event":{"type":"APPLICATION_AUTHORIZED"}}"#;
    for other in [&br#"{"type":2}"#[..], br#"{"type":"1"}"#, &webhook_event[..]] {
        let (v, h) = signed_json("discord", &key, other, &[]);
        let req = hookgate_verify::WebhookRequest::new(&h, other);
        assert!(v.challenge_response(&req, &v.verify(&req, now).unwrap()).is_none());
    }
}

#[test]
fn twilio_accepts_the_url_with_or_without_the_default_port() {
    // The twilio-python vector, received behind a proxy that added :443 (and the reverse).
    let v = verifier(preset("twilio").unwrap(), &["12345"]);
    let body = b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    let mut h = HeaderMap::new();
    h.insert("x-twilio-signature", HeaderValue::from_static("0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    let at = |url: &str| v.verify(&hookgate_verify::WebhookRequest::new(&h, body).with_url(url), Timestamp::now());
    assert!(at("https://mycompany.com/myapp.php?foo=1&bar=2").is_ok());
    assert!(at("https://mycompany.com:443/myapp.php?foo=1&bar=2").is_ok());
    assert_eq!(at("https://mycompany.com:8443/myapp.php?foo=1&bar=2"), Err(Rejection::Mismatch));
    // Other URL-signing schemes do not get the variant.
    let sq = preset("square").unwrap();
    assert!(!sq.signing().unwrap().url_port_variant);
}

#[test]
fn x_crc_is_answered_with_the_hmac_of_a_safe_token_only() {
    // Python: "sha256=" + base64(hmac.new(b"x-consumer-secret-0123456789", b"Zm9vYmFyYmF6", sha256)).
    let scheme = preset("twitter").unwrap();
    let probe = scheme.probe("GET", Some("crc_token=Zm9vYmFyYmF6&nonce=1"), b"").unwrap().clone();
    let auth = crate::support::auth(scheme.clone(), &["x-consumer-secret-0123456789"]);
    let (content_type, body) = auth.probe_answer(&probe, Some("crc_token=Zm9vYmFyYmF6&nonce=1"));
    assert_eq!(content_type, "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["response_token"], X_CRC_RESPONSE);
    // A token that could be a body is not a probe at all (the request is then refused).
    assert!(scheme.probe("GET", Some("crc_token=%7B%22a%22%3A1%7D"), b"").is_none());
    // A scheme may not answer a CRC with its HMAC unless its events must be JSON objects.
    let mut unsafe_scheme = scheme;
    unsafe_scheme.signing_mut().unwrap().json_object_body = false;
    assert!(unsafe_scheme.validate().unwrap_err().to_string().contains("json_object_body"));
}

/// X's CRC answer for the token above, computed with Python's hmac.
const X_CRC_RESPONSE: &str = "sha256=hWvNQyQuWnTKodwBD/XhZekJ5Jme3PVvCV5mrsXMbWw=";
