//! The JWT kind (Plaid) beyond its vectors: diagnosis of a re-serialized body, a stale token and
//! another algorithm, and the key documents it accepts or refuses.

use hookgate_verify::http::{HeaderMap, HeaderValue};
use hookgate_verify::{Cause, Clues, Timestamp, WebhookRequest, preset};

use crate::support::auth;

/// The Plaid sandbox webhook of `vectors.toml` (Q&A 62117400).
const JWT: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjZjNTUxNmUxLTkyZGMtNDc5ZS1hOGZmLTVhNTE5OTJlMDAwMSIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1OTA4ODcwMDEsInJlcXVlc3RfYm9keV9zaGEyNTYiOiJiNjNhMDdiNTQ3YjAwZjk5MjU0N2Y2YmJjOGQ5YWNjNjFhOGNjZWUxMzhiYzgyZjQ0YTZiYWEwOTY4M2E1ZDBmIn0.OOKvIihgqCj7Qrb2bmz7T3t7uK-0JyjiEqL2s1kWeJBM4MMmjaHKK8GmU_z91QolBWMzvPgs718EElY-rE3cwQ";
const JWK: &str = r#"{"alg":"ES256","crv":"P-256","expired_at":null,"kid":"6c5516e1-92dc-479e-a8ff-5a51992e0001","kty":"EC","use":"sig","x":"35lvC8uz2QrWpQJ3TUH8t9o9DURMp7ydU518RKDl20k","y":"I8BuXB2bvxelzJAd7OKhd-ZwjCst05Fx47Mb_0ugros"}"#;
const IAT: i64 = 1_590_887_001;
const PRETTY: &str = "{\n  \"error\": null,\n  \"item_id\": \"yxQbxDjnD8hr69pKbQpbcKeVn3GL9QuyA7NV3\",\n  \"new_transactions\": 390,\n  \"webhook_code\": \"HISTORICAL_UPDATE\",\n  \"webhook_type\": \"TRANSACTIONS\"\n}";
const COMPACT: &str = r#"{"error":null,"item_id":"yxQbxDjnD8hr69pKbQpbcKeVn3GL9QuyA7NV3","new_transactions":390,"webhook_code":"HISTORICAL_UPDATE","webhook_type":"TRANSACTIONS"}"#;

fn headers(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("plaid-verification", HeaderValue::from_str(token).unwrap());
    h
}

#[test]
fn diagnosis_names_a_reserialized_body_a_stale_token_and_another_algorithm() {
    let plaid = auth(preset("plaid").unwrap(), &[JWK]);
    let h = headers(JWT);
    let at = |s| Timestamp::from_unix_secs(s);
    let ok = plaid.verify(&WebhookRequest::new(&h, PRETTY.as_bytes()), at(IAT)).unwrap();
    assert_eq!((ok.timestamp, ok.secret_index), (Some(at(IAT)), 0));
    assert_eq!(plaid.scheme().proof.kind(), "jwt");
    assert!(!plaid.scheme().is_weak());

    let finding = |h: &HeaderMap, body: &str, now: i64| {
        let d = plaid.diagnose(&WebhookRequest::new(h, body.as_bytes()), at(now), &Clues::default());
        d.findings.into_iter().map(|f| (f.cause, f.detail)).collect::<Vec<_>>()
    };
    let reserialized = finding(&h, COMPACT, IAT);
    assert_eq!(reserialized.len(), 1, "{reserialized:?}");
    assert_eq!(reserialized[0].0, Cause::BodyReserialized);
    assert!(reserialized[0].1.contains("2-space indent"), "{reserialized:?}");
    let stale = finding(&h, PRETTY, IAT + 400);
    assert_eq!(stale[0].0, Cause::ClockSkew);
    assert!(stale[0].1.contains("400 s before"), "{stale:?}");
    let (_, rest) = JWT.split_once('.').unwrap();
    let hs256 = format!("{}.{rest}", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    let other = finding(&headers(&hs256), PRETTY, IAT);
    assert_eq!(other[0].0, Cause::AlgorithmMismatch);
    assert!(other[0].1.contains("\"HS256\"") && other[0].1.contains("ES256"), "{other:?}");
    assert!(finding(&h, PRETTY, IAT).is_empty(), "a valid request has no finding");
}

#[test]
fn key_documents_are_checked_when_they_are_read() {
    let plaid = preset("plaid").unwrap();
    assert!(plaid.key(JWK).is_ok());
    assert!(plaid.key(&format!(r#"{{"keys":[{JWK}]}}"#)).is_ok());
    for bad in [
        "not json",
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#,
        r#"{"keys":[]}"#,
    ] {
        let err = plaid.key(bad).unwrap_err().to_string();
        assert!(!err.contains("AAAA") && !err.contains("AQAB"), "the key is never quoted: {err}");
    }
    // A point that is not on the curve is refused at start-up, not on the first request.
    let off_curve = r#"{"kty":"EC","crv":"P-256","x":"35lvC8uz2QrWpQJ3TUH8t9o9DURMp7ydU518RKDl20k","y":"I8BuXB2bvxelzJAd7OKhd-ZwjCst05Fx47Mb_0ugrot"}"#;
    assert!(plaid.key(off_curve).is_err());
}

#[test]
fn the_key_endpoints_whole_answer_is_taken_as_its_key() {
    let answer = format!(r#"{{"key":{JWK},"request_id":"HvfCtrDLG1ihcp7"}}"#);
    let plaid = auth(preset("plaid").unwrap(), &[&answer]);
    let ok = plaid.verify(&WebhookRequest::new(&headers(JWT), PRETTY.as_bytes()), Timestamp::from_unix_secs(IAT));
    assert!(ok.is_ok(), "{ok:?}");
}
