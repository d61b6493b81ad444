//! The credential kinds (a token in a header, basic auth): what they accept, refuse and explain.

use hookgate_verify::http::{HeaderMap, HeaderValue};
use hookgate_verify::{
    Auth, Cause, Clues, Rejection, Scheme, SecretText, SignOptions, Timestamp, WebhookRequest, preset,
};

use crate::support::auth;

fn request<'a>(h: &'a HeaderMap, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest::new(h, body)
}

fn with(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn tokens_are_compared_exactly_with_every_configured_one() {
    let a = auth(preset("gitlab").unwrap(), &["new-token", "old-token"]);
    let now = Timestamp::now();
    let ok = |h: &HeaderMap| a.verify(&request(h, b"{}"), now);
    assert_eq!(ok(&with(&[("x-gitlab-token", "new-token")])).unwrap().secret_index, 0);
    assert_eq!(ok(&with(&[("x-gitlab-token", "old-token")])).unwrap().secret_index, 1, "rotation");
    let verified = ok(&with(&[("x-gitlab-token", "old-token"), ("x-gitlab-event", "Push Hook")])).unwrap();
    assert_eq!(
        (verified.event_type.as_deref(), verified.algorithm, verified.primitive),
        (Some("Push Hook"), None, None)
    );
    for (headers, expected) in [
        (with(&[]), Rejection::MissingHeader("X-Gitlab-Token".into())),
        (with(&[("x-gitlab-token", "")]), Rejection::EmptyHeader("X-Gitlab-Token".into())),
        (
            with(&[("x-gitlab-token", "new-token"), ("x-gitlab-token", "new-token")]),
            Rejection::DuplicateHeader("X-Gitlab-Token".into()),
        ),
        (with(&[("x-gitlab-token", "new-tokenX")]), Rejection::Mismatch),
        (with(&[("x-gitlab-token", "new-toke")]), Rejection::Mismatch),
        (with(&[("x-gitlab-token", "NEW-TOKEN")]), Rejection::Mismatch),
    ] {
        assert_eq!(ok(&headers), Err(expected), "{headers:?}");
    }
}

#[test]
fn bearer_and_basic_read_their_scheme_word_case_insensitively() {
    let now = Timestamp::now();
    let bearer = auth(preset("bearer-token").unwrap(), &["t0k3n"]);
    for value in ["Bearer t0k3n", "bearer t0k3n", "BEARER   t0k3n"] {
        assert!(bearer.verify(&request(&with(&[("authorization", value)]), b""), now).is_ok(), "{value}");
    }
    for value in ["t0k3n", "Basic t0k3n", "Bearer", "Bearer "] {
        assert_eq!(
            bearer.verify(&request(&with(&[("authorization", value)]), b""), now),
            Err(Rejection::MalformedSignature),
            "{value}"
        );
    }
    let basic = auth(preset("basic-auth").unwrap(), &["hooks:s3cret:with:colons"]);
    let headers = basic.sign(&request(&HeaderMap::new(), b""), &SignOptions::default()).unwrap();
    assert_eq!(headers, [("Authorization".to_owned(), "Basic aG9va3M6czNjcmV0OndpdGg6Y29sb25z".to_owned())]);
    assert!(
        basic.verify(&request(&with(&[("authorization", "basic aG9va3M6czNjcmV0OndpdGg6Y29sb25z")]), b""), now).is_ok()
    );
    assert_eq!(
        basic.verify(&request(&with(&[("authorization", "Basic not base64!")]), b""), now),
        Err(Rejection::MalformedSignature)
    );
    // The key must be `user:password`; the error never quotes it.
    let err = preset("basic-auth").unwrap().key("just-a-password").unwrap_err().to_string();
    assert!(err.contains("user:password") && !err.contains("just-a-password"), "{err}");
}

#[test]
fn credential_kinds_are_weak_and_never_show_the_credential() {
    for name in ["gitlab", "basic-auth", "bearer-token", "api-key-header"] {
        let scheme = preset(name).unwrap();
        assert!(scheme.is_weak(), "{name}");
        let a = auth(scheme, &["u:super-secret-credential"]);
        let shown = format!("{a:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
    }
    for name in ["flinks", "stripe", "discord", "standard-webhooks"] {
        assert!(!preset(name).unwrap().is_weak(), "{name}");
    }
}

#[test]
fn diagnosis_explains_a_missing_header_another_word_a_retired_token_and_the_wrong_source() {
    let now = Timestamp::now();
    let bearer = auth(preset("bearer-token").unwrap(), &["current"]);
    let other = auth(preset("bearer-token").unwrap(), &["for-the-other-source"]);
    let retired = [SecretText::new("2025-rotation", "previous")];
    let others: [(&str, &Auth); 1] = [("billing", &other)];
    let clues = Clues { retired: &retired, others: &others, ..Clues::default() };
    let cause = |h: &HeaderMap| {
        let d = bearer.diagnose(&request(h, b"{}"), now, &clues);
        d.findings.iter().map(|f| (f.cause, f.detail.clone())).collect::<Vec<_>>()
    };
    let missing = cause(&with(&[]));
    assert_eq!(missing[0].0, Cause::HeaderMissing, "{missing:?}");
    let word = cause(&with(&[("authorization", "Token current")]));
    assert_eq!(word[0].0, Cause::SignatureEncoding);
    assert!(word[0].1.contains("follows `Token` where the scheme expects `Bearer`"), "{word:?}");
    let old = cause(&with(&[("authorization", "Bearer previous")]));
    assert_eq!(old[0].0, Cause::SecretRetired);
    assert!(old[0].1.contains("2025-rotation") && !old[0].1.contains("previous"), "{old:?}");
    let elsewhere = cause(&with(&[("authorization", "Bearer for-the-other-source")]));
    assert_eq!(elsewhere[0].0, Cause::WrongSource);
    assert!(cause(&with(&[("authorization", "Bearer current")])).is_empty(), "a valid request has no finding");
}

#[test]
fn a_scheme_file_has_one_proof() {
    let token: Scheme = toml::from_str("name = \"t\"\n[token]\nheader = \"X-Token\"\n").unwrap();
    assert_eq!(token.proof.kind(), "token");
    let printed = toml::to_string(&token).unwrap();
    assert_eq!(toml::from_str::<Scheme>(&printed).unwrap(), token, "{printed}");
    assert!(!printed.contains("algorithm") && !printed.contains("secret_encoding"), "{printed}");
    for bad in [
        "name = \"t\"\ncontent = [\"body\"]\n[token]\nheader = \"X-Token\"\n",
        "name = \"t\"\n[token]\nheader = \"X-Token\"\n[basic]\n",
        "name = \"t\"\n[token]\nheader = \"X-Token\"\nprefx = \"Bearer \"\n",
    ] {
        assert!(toml::from_str::<Scheme>(bad).is_err(), "{bad}");
    }
    let bad_header: Scheme = toml::from_str("name = \"t\"\n[token]\nheader = \"not a header\"\n").unwrap();
    assert!(bad_header.validate().is_err());
    // A signature knob does not apply to a token source.
    let o = hookgate_verify::Overrides { tolerance_secs: Some(60), ..Default::default() };
    assert!(preset("gitlab").unwrap().with_overrides(&o).unwrap_err().to_string().contains("not a signature"));
}

#[test]
fn a_mixed_scheme_needs_each_keys_prefix() {
    let sw = preset("standard-webhooks").unwrap();
    assert!(sw.key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    assert!(sw.key("whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").is_ok());
    // A public key without its prefix would become an HMAC secret anyone could sign with.
    let err = sw.key("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").unwrap_err().to_string();
    assert!(err.contains("prefix"), "{err}");
    // An HMAC reply to a probe is refused unless events are exactly the JSON-object body.
    let mut x = preset("twitter").unwrap();
    x.signing_mut().unwrap().content.insert(0, hookgate_verify::Part::Literal("v1:".into()));
    let err = x.validate().unwrap_err().to_string();
    assert!(err.contains("content = [\"body\"]"), "{err}");
}
