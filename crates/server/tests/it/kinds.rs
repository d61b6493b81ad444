//! Each verification kind over real HTTP: a gateway with a source per kind, requests signed the
//! way the provider signs them, and what the gateway answers, stores and records.

use hookgate_verify::{SignOptions, Timestamp};

use crate::support::*;

/// RFC 8032 §7.1 TEST 1: the seed and its public key.
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn b64(hex: &str) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn now() -> SignOptions<'static> {
    SignOptions { timestamp: Some(Timestamp::now()), ..SignOptions::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_sources_verify_with_the_public_key_only() {
    let dir = temp_dir("kinds-ed25519");
    // The receiver holds public keys only, as the providers' dashboards show them.
    std::fs::write(dir.join("discord.key"), format!("{PUBLIC}\n")).unwrap();
    std::fs::write(dir.join("sw.key"), format!("whpk_{}", b64(PUBLIC))).unwrap();
    std::fs::write(dir.join("sw.secret"), WHSEC).unwrap();
    let extra = "\n[[source]]\nname = \"discord\"\npath = \"/webhooks/discord\"\nscheme = \"discord\"\nsecrets = [{ file = \"discord.key\" }]\n\n[[source]]\nname = \"sw\"\npath = \"/webhooks/sw\"\nscheme = \"standard-webhooks\"\nsecrets = [{ file = \"sw.key\" }, { file = \"sw.secret\" }]\n";
    let mut gw = TestGateway::start_in(dir, &config_text("", extra)).await;
    // The tests play the providers with the private key.
    let discord = signer("discord", &format!("{SEED}{PUBLIC}"));
    let sw = signer("standard-webhooks", &format!("whsk_{}", b64(&format!("{SEED}{PUBLIC}"))));

    // Discord's interactions PING is answered with PONG and is not an event.
    let ping = br#"{"type":1,"id":"1","application_id":"2"}"#.to_vec();
    let r = gw.post("/webhooks/discord", sign_with(&discord, &ping, &now()), ping).await;
    assert_eq!((r.status, r.text().as_str()), (200, r#"{"type":1}"#));
    assert!(r.head.to_ascii_lowercase().contains("content-type: application/json"), "{}", r.head);
    // Discord's deliberate probes: a bad signature gets 401, never a PONG.
    let ping = br#"{"type":1}"#.to_vec();
    let mut forged = sign_with(&discord, &ping, &now());
    for (k, v) in &mut forged {
        if k.eq_ignore_ascii_case("X-Signature-Ed25519") {
            v.replace_range(0..2, if v.starts_with("00") { "01" } else { "00" });
        }
    }
    let r = gw.post("/webhooks/discord", forged, ping).await;
    assert_eq!((r.status, r.text().as_str()), (401, "invalid request signature"));
    // An event is stored and acknowledged.
    let event = br#"{"type":2,"id":"3","data":{"name":"hello"}}"#.to_vec();
    let r = gw.post("/webhooks/discord", sign_with(&discord, &event, &now()), event.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text());

    // Standard Webhooks `v1a`, and `v1` with the HMAC secret on the same source.
    let body = br#"{"type":"user.created","data":{"id":"u_1"}}"#.to_vec();
    let headers = sign_with(&sw, &body, &now());
    assert!(headers.iter().any(|(k, v)| k == "webhook-signature" && v.starts_with("v1a,")), "{headers:?}");
    assert_eq!(gw.post("/webhooks/sw", headers, body).await.status, 204);
    let hmac = signer("standard-webhooks", WHSEC);
    let body = br#"{"type":"user.deleted","data":{"id":"u_1"}}"#.to_vec();
    assert_eq!(gw.post("/webhooks/sw", sign_with(&hmac, &body, &now()), body).await.status, 204);

    let events = gw.events();
    let mut got: Vec<(&str, Option<&str>)> =
        events.iter().map(|e| (e.source.as_str(), e.event_type.as_deref())).collect();
    got.sort_unstable();
    assert_eq!(got, [("discord", Some("2")), ("sw", Some("user.created")), ("sw", Some("user.deleted"))]);
    assert_eq!(gw.event_body(events.iter().find(|e| e.source == "discord").unwrap().id), event);
    let rejections = gw.rejections().await;
    assert_eq!(rejections.len(), 1);
    assert_eq!((rejections[0].source.as_str(), rejections[0].reason_code.as_str()), ("discord", "signature_mismatch"));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_sources_accept_the_credential_and_warn_that_they_are_weak() {
    let dir = temp_dir("kinds-credential");
    std::fs::write(dir.join("gitlab.token"), "glwht-token\n").unwrap();
    std::fs::write(dir.join("basic.creds"), "hooks:p4ss").unwrap();
    std::fs::write(dir.join("flinks.secret"), FLINKS_SECRET).unwrap();
    std::fs::write(dir.join("fin.secret"), FIN_SECRET).unwrap();
    let extra = "\n[[source]]\nname = \"gitlab\"\npath = \"/webhooks/gitlab\"\nscheme = \"gitlab\"\nsecrets = [{ file = \"gitlab.token\" }]\n\n[[source]]\nname = \"internal\"\npath = \"/webhooks/internal\"\nscheme = \"basic-auth\"\nsecrets = [{ file = \"basic.creds\" }]\n";
    let text = config_text("", extra).replace("STORE", dir.join("hookgate.db").to_str().unwrap());
    std::fs::write(dir.join("check.toml"), &text).unwrap();
    let built = hookgate_server::config::Config::load(&dir.join("check.toml")).unwrap().build().unwrap();
    let weak: Vec<&String> = built.warnings.iter().filter(|w| w.contains("is weak")).collect();
    assert_eq!(weak.len(), 2, "one warning per weak source: {:?}", built.warnings);
    assert!(weak[0].contains("source `gitlab`") && weak[1].contains("source `internal`"), "{weak:?}");
    assert!(!weak.iter().any(|w| w.contains("glwht-token") || w.contains("p4ss")), "{weak:?}");

    let mut gw = TestGateway::start_in(dir, &config_text("", extra)).await;
    let push = br#"{"object_kind":"push"}"#.to_vec();
    let token = |t: &str| {
        vec![("X-Gitlab-Token".to_owned(), t.to_owned()), ("X-Gitlab-Event".to_owned(), "Push Hook".to_owned())]
    };
    assert_eq!(gw.post("/webhooks/gitlab", token("glwht-token"), push.clone()).await.status, 200);
    let r = gw.post("/webhooks/gitlab", token("glwht-tokeN"), push.clone()).await;
    assert_eq!((r.status, r.text().as_str()), (401, "Invalid signature"));
    assert_eq!(gw.post("/webhooks/gitlab", vec![], push.clone()).await.status, 401);
    let basic = |v: &str| vec![("Authorization".to_owned(), v.to_owned())];
    // base64("hooks:p4ss")
    assert_eq!(gw.post("/webhooks/internal", basic("Basic aG9va3M6cDRzcw=="), push.clone()).await.status, 200);
    assert_eq!(gw.post("/webhooks/internal", basic("Bearer aG9va3M6cDRzcw=="), push.clone()).await.status, 401);

    let events = gw.events();
    let mut got: Vec<(&str, Option<&str>)> =
        events.iter().map(|e| (e.source.as_str(), e.event_type.as_deref())).collect();
    got.sort_unstable();
    assert_eq!(got, [("gitlab", Some("Push Hook")), ("internal", None)]);
    // The credential is never stored with the event (it would be as good as the secret).
    let gitlab_event = events.iter().find(|e| e.source == "gitlab").unwrap().id;
    let stored = hookgate_store::Reader::open_existing(&gw.db()).unwrap().get_event(gitlab_event).unwrap().unwrap();
    let names: Vec<&str> = stored.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"x-gitlab-event") && !names.contains(&"x-gitlab-token"), "{names:?}");
    let mut codes: Vec<(String, String)> =
        gw.rejections().await.into_iter().map(|r| (r.source, r.reason_code)).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("gitlab".to_owned(), "missing_header".to_owned()),
            ("gitlab".to_owned(), "signature_mismatch".to_owned()),
            ("internal".to_owned(), "malformed_signature".to_owned()),
        ]
    );
    gw.stop().await;
}

/// A Plaid-style JWT made now with a fresh P-256 key: header, claims and the JWS r ‖ s.
fn plaid_jwt(pair: &ring::signature::EcdsaKeyPair, kid: &str, iat: i64, body: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let url = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = url(format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"JWT"}}"#).as_bytes());
    let hash: String = sha2::Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    let claims = url(format!(r#"{{"iat":{iat},"request_body_sha256":"{hash}"}}"#).as_bytes());
    let signed = format!("{header}.{claims}");
    let sig = pair.sign(&ring::rand::SystemRandom::new(), signed.as_bytes()).unwrap();
    format!("{signed}.{}", url(sig.as_ref()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_sources_check_the_key_the_age_and_the_body_hash() {
    use base64::Engine as _;
    use ring::signature::KeyPair as _;
    let rng = ring::rand::SystemRandom::new();
    let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    let url = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k-2026","x":"{}","y":"{}","expired_at":null}}]}}"#,
        url(&point[1..33]),
        url(&point[33..])
    );
    let dir = temp_dir("kinds-jwt");
    std::fs::write(dir.join("plaid.jwks"), &jwk).unwrap();
    let extra = "\n[[source]]\nname = \"plaid\"\npath = \"/webhooks/plaid\"\nscheme = \"plaid\"\nsecrets = [{ file = \"plaid.jwks\" }]\n";
    let mut gw = TestGateway::start_in(dir, &config_text("", extra)).await;
    let now = Timestamp::now().unix_millis() / 1000;
    let body = b"{\n  \"webhook_type\": \"TRANSACTIONS\",\n  \"webhook_code\": \"SYNC_UPDATES_AVAILABLE\"\n}".to_vec();
    let post = |jwt: String, body: Vec<u8>| {
        let headers = vec![("Plaid-Verification".to_owned(), jwt)];
        let gw = &gw;
        async move { gw.post("/webhooks/plaid", headers, body).await.status }
    };
    assert_eq!(post(plaid_jwt(&pair, "k-2026", now, &body), body.clone()).await, 200);
    // Re-serialized, stale, another kid: each refused with the scheme's status.
    let compact = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE"}"#.to_vec();
    assert_eq!(post(plaid_jwt(&pair, "k-2026", now, &body), compact).await, 401);
    assert_eq!(post(plaid_jwt(&pair, "k-2026", now - 600, &body), body.clone()).await, 401);
    assert_eq!(post(plaid_jwt(&pair, "k-other", now, &body), body.clone()).await, 401);
    let events = gw.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type.as_deref(), Some("SYNC_UPDATES_AVAILABLE"));
    let mut codes: Vec<String> = gw.rejections().await.into_iter().map(|r| r.reason_code).collect();
    codes.sort();
    assert_eq!(codes, ["body_digest_mismatch", "timestamp_too_old", "unknown_key"]);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailgun_token_seen_before_never_stores_a_second_event() {
    let dir = temp_dir("kinds-mailgun");
    std::fs::write(dir.join("mailgun.key"), "key-hookgate-test").unwrap();
    let extra = "\n[[source]]\nname = \"mailgun\"\npath = \"/webhooks/mailgun\"\nscheme = \"mailgun\"\nsecrets = [{ file = \"mailgun.key\" }]\n";
    let mut gw = TestGateway::start_in(dir, &config_text("", extra)).await;
    let ts = (Timestamp::now().unix_millis() / 1000).to_string();
    let token = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182";
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"key-hookgate-test");
    let tag = ring::hmac::sign(&key, format!("{ts}{token}").as_bytes());
    let mac: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let body = |event: &str, recipient: &str| {
        format!(
            r#"{{"signature":{{"timestamp":"{ts}","token":"{token}","signature":"{mac}"}},"event-data":{{"event":"{event}","recipient":"{recipient}"}}}}"#
        )
        .into_bytes()
    };
    let json = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    assert_eq!(gw.post("/webhooks/mailgun", json.clone(), body("delivered", "alice@example.com")).await.status, 200);
    // The same signature with other event data verifies (the MAC skips it): it is the token seen
    // before, so nothing new is stored.
    let replay = gw.post("/webhooks/mailgun", json.clone(), body("failed", "mallory@example.com")).await;
    assert_eq!(replay.status, 200, "{}", replay.text());
    // Nor as a form with other fields: the signed token is the event's id either way.
    let form = vec![("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
    let as_form = format!("timestamp={ts}&token={token}&signature={mac}&event=failed&recipient=mallory%40example.com");
    assert_eq!(gw.post("/webhooks/mailgun", form, as_form.into_bytes()).await.status, 200);
    let events = gw.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event_type.as_deref(), Some("delivered"));
    // A forged MAC is refused.
    let forged = String::from_utf8(body("delivered", "alice@example.com")).unwrap().replace(&mac[..8], "00000000");
    assert_eq!(gw.post("/webhooks/mailgun", json, forged.into_bytes()).await.status, 401);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_endpoint_checks_are_answered_and_never_stored() {
    let dir = temp_dir("kinds-probes");
    std::fs::write(dir.join("woo.secret"), "woo-secret").unwrap();
    let extra = "\n[[source]]\nname = \"woo\"\npath = \"/webhooks/woo\"\nscheme = \"woocommerce\"\nsecrets = [{ file = \"woo.secret\" }]\n\n[[source]]\nname = \"trello\"\npath = \"/webhooks/trello\"\nscheme = \"trello\"\npublic_url = \"https://hooks.example.com/webhooks/trello\"\nsecrets = [{ file = \"woo.secret\" }]\n";
    let mut gw = TestGateway::start_in(dir, &config_text("", extra)).await;
    let form = vec![("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
    // WooCommerce's creation ping: unsigned, answered 200, nothing stored.
    let r = gw.post("/webhooks/woo", form.clone(), b"webhook_id=17".to_vec()).await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    // Anything else unsigned is verified as usual, and refused.
    assert_eq!(gw.post("/webhooks/woo", form.clone(), b"webhook_id=17&status=active".to_vec()).await.status, 401);
    assert_eq!(gw.post("/webhooks/woo", vec![], br#"{"id":17}"#.to_vec()).await.status, 401);
    // A signed order is stored.
    let order = br#"{"id":17,"status":"processing"}"#.to_vec();
    let signed = sign_with(&signer("woocommerce", "woo-secret"), &order, &SignOptions::default());
    assert_eq!(gw.post("/webhooks/woo", signed, order).await.status, 200);
    // Trello's HEAD on its callback URL; a source without a HEAD probe does not answer HEAD.
    let head = |path: &str| http(gw.addr, "HEAD", path, &[], b"").status;
    assert_eq!(head("/webhooks/trello"), 200);
    assert_eq!(head("/webhooks/woo"), 405);
    assert_eq!(gw.events().len(), 1);
    assert_eq!(gw.rejections().await.len(), 2);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_crc_is_answered_and_cannot_sign_an_event() {
    use base64::Engine as _;
    let dir = temp_dir("kinds-x-crc");
    std::fs::write(dir.join("x.secret"), "x-consumer-secret").unwrap();
    let extra = "\n[[source]]\nname = \"x\"\npath = \"/webhooks/x\"\nscheme = \"twitter\"\nsecrets = [{ file = \"x.secret\" }]\n";
    let mut gw = TestGateway::start_in(dir, &config_text("", extra)).await;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"x-consumer-secret");
    let mac =
        |m: &[u8]| format!("sha256={}", base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, m)));
    // The CRC: GET with a token, answered with its HMAC as JSON.
    let r = http(gw.addr, "GET", "/webhooks/x?crc_token=Zm9vYmFy&nonce=7", &[], b"");
    assert_eq!(r.status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(answer["response_token"].as_str(), Some(mac(b"Zm9vYmFy").as_str()));
    // A token that could be a body is not answered; and even a signature obtained for a non-JSON
    // body does not make it an event.
    assert_eq!(http(gw.addr, "GET", "/webhooks/x?crc_token=%7B%22a%22%3A1%7D", &[], b"").status, 400);
    assert_eq!(http(gw.addr, "GET", "/webhooks/x", &[], b"").status, 400);
    let sig = |b: &[u8]| vec![("x-twitter-webhooks-signature".to_owned(), mac(b))];
    assert_eq!(gw.post("/webhooks/x", sig(b"Zm9vYmFy"), b"Zm9vYmFy".to_vec()).await.status, 401);
    // An event.
    let event = br#"{"for_user_id":"1","tweet_create_events":[]}"#.to_vec();
    assert_eq!(gw.post("/webhooks/x", sig(&event), event).await.status, 200);
    assert_eq!(gw.events().len(), 1);
    let codes: Vec<String> = gw.rejections().await.into_iter().map(|r| r.reason_code).collect();
    assert_eq!(codes, ["unexpected_body"]);
    gw.stop().await;
}
