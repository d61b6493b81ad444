//! Why did it fail, over real HTTP: each cause produced the way senders produce it, answered
//! exactly as any rejection, then stored with its diagnosis and shown by the CLI, the operator
//! API and the metrics; secret rotation counts across a restart; Tag values that look like
//! personal data marked, logged by key and kind, never altered.

mod common;
use common::{admin_addr, admin_token, bin, cli, serve_command, sigterm_and_wait, temp_dir, wait_for};

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use hookgate_verify::http::HeaderMap;
use hookgate_verify::{
    AlgorithmSpec, Encoding, Scheme, Secret, SignOptions, Timestamp, Verifier, WebhookRequest, preset,
};

/// The current Flinks secret: base64-looking text, so a sender that decodes it is a cause too.
const NEW: &str = "c2VjcmV0LWtleS1ieXRlcw==";
const OLD: &str = "flinks-secret-2026-06";
const RETIRED: &str = "flinks-secret-2025";
const STAGING: &str = "staging-secret";
const TWILIO: &str = "twilio-auth-token";
const STRIPE: &str = "whsec_stripe_test";

fn write_config(dir: &Path, extra: &str) {
    for (file, text) in [
        ("new.secret", format!("{NEW}\n")),
        ("old.secret", OLD.to_owned()),
        ("retired.secret", RETIRED.to_owned()),
        ("staging.secret", STAGING.to_owned()),
        ("twilio.secret", TWILIO.to_owned()),
        ("stripe.secret", STRIPE.to_owned()),
    ] {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
store = "sqlite://{db}"
metrics_listen = "127.0.0.1:0"

[admin]
listen = "127.0.0.1:0"
tokens_file = "admin-tokens.toml"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "new.secret", label = "2026-12" }}, {{ file = "old.secret", label = "2026-06" }}]
retired_secrets = [{{ file = "retired.secret" }}]
keep_rejected_bodies = true

[[source]]
name = "flinks-staging"
path = "/webhooks/flinks-staging"
scheme = "flinks"
secrets = [{{ file = "staging.secret" }}]

[[source]]
name = "twilio"
path = "/webhooks/twilio"
scheme = "twilio"
public_url = "https://hooks.example.com"
secrets = [{{ file = "twilio.secret" }}]
keep_rejected_bodies = true

[[source]]
name = "stripe"
path = "/webhooks/stripe"
scheme = "stripe"
secrets = [{{ file = "stripe.secret" }}]
keep_rejected_bodies = true
{extra}
"#,
        db = dir.join("h.db").display()
    );
    std::fs::write(dir.join("hookgate.toml"), config).unwrap();
}

struct Gateway {
    child: std::process::Child,
    hooks: SocketAddr,
    ops: SocketAddr,
    api: SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

fn start(dir: &Path) -> Gateway {
    let (child, hooks, ops, log) = serve_command(Command::new(bin()), &dir.join("hookgate.toml"), true);
    let api = admin_addr(&log);
    Gateway { child, hooks, ops: ops.unwrap(), api, log }
}

fn verifier(scheme: Scheme, key: &[u8]) -> Verifier {
    Verifier::new(scheme, vec![Secret::from_bytes(key.to_vec())]).unwrap()
}

/// The headers `signer` sends for `body` (and `url`), at `at`.
fn sign(signer: &Verifier, body: &[u8], url: Option<&str>, at: Option<Timestamp>) -> Vec<(String, String)> {
    let empty = HeaderMap::new();
    let mut req = WebhookRequest::new(&empty, body);
    if let Some(u) = url {
        req = req.with_url(u);
    }
    signer.sign(&req, &SignOptions { timestamp: at, ..SignOptions::default() }).unwrap()
}

/// A raw HTTP/1.1 request (the shared client); the status and the body of the reply.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> (u16, String) {
    let lines: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let reply = hookgate_test_support::http::raw(addr, method, path, &lines, body);
    (reply.status, reply.text())
}

fn api_get(api: SocketAddr, token: &str, path: &str) -> serde_json::Value {
    let (status, body) = http(api, "GET", path, &[("Authorization".into(), format!("Bearer {token}"))], b"");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn json_out(args: &[&str]) -> serde_json::Value {
    let out = cli(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn metrics(ops: SocketAddr) -> String {
    http(ops, "GET", "/metrics", &[], b"").1
}

/// A request (headers, body), the cause it must be diagnosed with, and a word of the detail.
type Case<'a> = (Vec<(String, String)>, &'a [u8], Option<&'a str>, &'a str);

const BODY: &[u8] =
    br#"{"ResponseType":"KYC","HttpStatusCode":200,"Login":{"Id":"5e4f"},"Tag":"userId=12345","RequestId":"r1"}"#;

#[test]
fn each_cause_over_http_is_stored_with_the_rejection_and_the_reply_is_unchanged() {
    let dir = temp_dir("diagnosis-causes");
    write_config(&dir, "");
    let token = admin_token(&dir.join("admin-tokens.toml"), "viewer", "viewer", &[]);
    let gw = start(&dir);
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let flinks = || preset("flinks").unwrap();
    let current = verifier(flinks(), NEW.as_bytes());
    let pretty = b"{\n  \"ResponseType\": \"KYC\",\n  \"HttpStatusCode\": 200,\n  \"Login\": {\n    \"Id\": \"5e4f\"\n  },\n  \"Tag\": \"userId=12345\",\n  \"RequestId\": \"r1\"\n}";
    let hex = {
        let mut s = flinks();
        s.signing_mut().unwrap().signature[0].encoding = Encoding::Hex;
        verifier(s, NEW.as_bytes())
    };
    let sha512 = {
        let mut s = flinks();
        s.signing_mut().unwrap().algorithm = AlgorithmSpec::Fixed(hookgate_verify::Algorithm::Sha512);
        verifier(s, NEW.as_bytes())
    };
    let renamed: Vec<(String, String)> = sign(&current, BODY, None, None)
        .into_iter()
        .map(|(k, v)| (k.replace("X-Flinks-Signature", "X-Signature"), v))
        .collect();
    let garbage = vec![("X-Flinks-Signature".to_owned(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned())];
    // (headers, body, the cause, a word of its detail)
    let flinks_cases: Vec<Case<'_>> = vec![
        (sign(&current, pretty, None, None), BODY, Some("body-reserialized"), "2-space indent"),
        (
            sign(&verifier(flinks(), RETIRED.as_bytes()), BODY, None, None),
            BODY,
            Some("secret-retired"),
            "retired.secret",
        ),
        (
            sign(&verifier(flinks(), format!("{NEW}\n").as_bytes()), BODY, None, None),
            BODY,
            Some("secret-whitespace"),
            "`2026-12` with the whitespace around it that Hookgate trims",
        ),
        (
            sign(&verifier(flinks(), b"secret-key-bytes"), BODY, None, None),
            BODY,
            Some("secret-encoding"),
            "base64-decoded",
        ),
        (sign(&hex, BODY, None, None), BODY, Some("signature-encoding"), "in hex where the scheme expects base64"),
        (sign(&sha512, BODY, None, None), BODY, Some("algorithm-mismatch"), "HMAC-SHA512"),
        (renamed, BODY, Some("header-missing"), "the signature in `x-signature` is valid"),
        (
            sign(&verifier(flinks(), STAGING.as_bytes()), BODY, None, None),
            BODY,
            Some("wrong-source"),
            "`flinks-staging`",
        ),
        (garbage, BODY, None, ""),
    ];
    for (headers, body, _, _) in &flinks_cases {
        let (status, reply) = http(gw.hooks, "POST", "/webhooks/flinks", headers, body);
        // Exactly the reply any rejection gets: the sender learns nothing of the cause.
        assert_eq!((status, reply.as_str()), (403, r#"{"error":"Invalid signature"}"#));
    }
    // Twilio signed the http:// URL (TLS ended at a proxy); the gateway knows https://.
    let form = b"CallSid=CA1&From=%2B15145550199";
    let twilio = verifier(preset("twilio").unwrap(), TWILIO.as_bytes());
    let mut headers = sign(&twilio, form, Some("http://hooks.example.com/webhooks/twilio"), None);
    headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
    assert_eq!(http(gw.hooks, "POST", "/webhooks/twilio", &headers, form).0, 403);
    // Stripe, a valid signature 1,000 s old.
    let stripe = verifier(preset("stripe").unwrap(), STRIPE.as_bytes());
    let stale = Timestamp::from_unix_secs(Timestamp::now().unix_secs() - 1_000);
    assert_eq!(http(gw.hooks, "POST", "/webhooks/stripe", &sign(&stripe, BODY, None, Some(stale)), BODY).0, 400);

    let total = flinks_cases.len() + 2;
    let mut rows = serde_json::Value::Null;
    wait_for("every rejection to be recorded with its diagnosis", 30, || {
        rows = json_out(&["rejections", "list", "--store", &store, "--format", "json"]);
        rows.as_array().unwrap().len() == total
    });
    let rows = rows.as_array().unwrap();
    let causes = |r: &serde_json::Value| -> Vec<String> {
        r["diagnosis"].as_array().unwrap().iter().map(|f| f["cause"].as_str().unwrap().to_owned()).collect()
    };
    // Newest first: stripe, twilio, then the Flinks cases in reverse.
    let stripe_row = &rows[0];
    assert_eq!((stripe_row["source"].as_str(), causes(stripe_row)), (Some("stripe"), vec!["clock-skew".to_owned()]));
    let detail = stripe_row["diagnosis"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("behind Hookgate's clock") && detail.contains("is valid"), "{detail}");
    assert_eq!(causes(&rows[1]), ["url-mismatch"], "{}", rows[1]);
    assert!(rows[1]["diagnosis"][0]["detail"].as_str().unwrap().contains("`http://`"));
    for (row, (_, _, cause, word)) in rows[2..].iter().rev().zip(&flinks_cases) {
        match cause {
            Some(cause) => {
                assert_eq!(causes(row), [*cause], "{row}");
                let detail = row["diagnosis"][0]["detail"].as_str().unwrap();
                assert!(detail.contains(word), "{cause}: {detail}");
                for secret in [NEW, OLD, RETIRED, STAGING] {
                    assert!(!detail.contains(secret), "{detail}");
                }
            }
            // Nothing explains a forgery, and nothing is made up for it.
            None => assert_eq!(row["diagnosis"], serde_json::json!([]), "{row}"),
        }
    }

    // `rejections show`, the operator API and the metrics say the same.
    let id = rows[2]["id"].as_i64().unwrap().to_string();
    let shown = json_out(&["rejections", "show", &id, "--store", &store, "--format", "json"]);
    assert_eq!(shown["diagnosis"], rows[2]["diagnosis"]);
    let text = cli(&["rejections", "show", &id, "--store", &store]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("diagnosis:   no known cause explains it"));
    let page = api_get(gw.api, &token, "/api/v1/rejections?source=flinks");
    let first = &page["items"].as_array().unwrap()[rows.len() - 3];
    assert_eq!(first["diagnosis"][0]["cause"], "body-reserialized", "{first}");
    let one = api_get(gw.api, &token, &format!("/api/v1/rejections/{}", first["id"]));
    assert_eq!(one["diagnosis"], first["diagnosis"]);
    let m = metrics(gw.ops);
    for cause in ["body-reserialized", "secret-retired", "wrong-source", "header-missing"] {
        let line = format!("hookgate_rejection_causes_total{{source=\"flinks\",cause=\"{cause}\"}} 1");
        assert!(m.contains(&line), "{line} in\n{m}");
    }
    assert!(m.contains("hookgate_rejection_causes_total{source=\"stripe\",cause=\"clock-skew\"} 1"), "{m}");
    // The log names the causes, never a detail or a secret.
    let log = gw.log.lock().unwrap().clone();
    assert!(log.contains("Diagnosed a rejected webhook."), "{log}");
    assert!(!log.contains(NEW) && !log.contains(RETIRED), "{log}");
    sigterm_and_wait(gw.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diagnosis_off_records_rejections_undiagnosed() {
    let dir = temp_dir("diagnosis-off");
    write_config(&dir, "\n[diagnosis]\nenabled = false\n");
    let gw = start(&dir);
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let retired = sign(&verifier(preset("flinks").unwrap(), RETIRED.as_bytes()), BODY, None, None);
    assert_eq!(http(gw.hooks, "POST", "/webhooks/flinks", &retired, BODY).0, 403);
    let mut rows = serde_json::Value::Null;
    wait_for("the rejection", 30, || {
        rows = json_out(&["rejections", "list", "--store", &store, "--format", "json"]);
        rows.as_array().unwrap().len() == 1
    });
    assert_eq!(rows[0]["diagnosis"], serde_json::Value::Null);
    assert!(!metrics(gw.ops).contains("hookgate_rejection_causes_total"));
    sigterm_and_wait(gw.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn secret_rotation_counts_survive_a_restart() {
    let dir = temp_dir("diagnosis-rotation");
    write_config(&dir, "");
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let body = |i: usize| format!(r#"{{"ResponseType":"KYC","RequestId":"r{i}"}}"#).into_bytes();
    let new = verifier(preset("flinks").unwrap(), NEW.as_bytes());
    let old = verifier(preset("flinks").unwrap(), OLD.as_bytes());
    let post = |gw: &Gateway, v: &Verifier, i: usize| {
        let b = body(i);
        assert_eq!(http(gw.hooks, "POST", "/webhooks/flinks", &sign(v, &b, None, None), &b).0, 200);
    };
    let gw = start(&dir);
    for i in 0..3 {
        post(&gw, &new, i);
    }
    for i in 3..5 {
        post(&gw, &old, i);
    }
    let m = metrics(gw.ops);
    assert!(m.contains("hookgate_secret_matches_total{source=\"flinks\",secret=\"2026-12\"} 3"), "{m}");
    assert!(m.contains("hookgate_secret_matches_total{source=\"flinks\",secret=\"2026-06\"} 2"), "{m}");
    sigterm_and_wait(gw.child);
    let gw = start(&dir);
    post(&gw, &old, 5);
    let token = admin_token(&dir.join("admin-tokens.toml"), "viewer", "viewer", &[]);
    sigterm_and_wait(gw.child);

    let status = json_out(&["secrets", "status", "--store", &store, "--format", "json"]);
    let entries = status.as_array().unwrap();
    let find = |secret: &str| entries.iter().find(|e| e["source"] == "flinks" && e["secret"] == secret).unwrap();
    let fingerprint = |text: &str| Secret::from_bytes(text.as_bytes().to_vec()).fingerprint();
    let newest = find("2026-12");
    assert_eq!(
        (newest["matches"].as_i64(), newest["fingerprint"].as_str()),
        (Some(3), Some(fingerprint(NEW).as_str()))
    );
    let oldest = find("2026-06");
    assert_eq!(
        (oldest["matches"].as_i64(), oldest["fingerprint"].as_str()),
        (Some(3), Some(fingerprint(OLD).as_str()))
    );
    assert!(oldest["last_matched_at"].as_str().unwrap().ends_with('Z'));
    // Every configured secret is listed, an unused one with 0 and no last match.
    let staging = entries.iter().find(|e| e["source"] == "flinks-staging").unwrap();
    assert_eq!((staging["secret"].as_str(), staging["matches"].as_i64()), (Some("1"), Some(0)));
    assert_eq!(staging["last_matched_at"], serde_json::Value::Null);
    let keys: Vec<&String> = newest.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["source", "secret", "fingerprint", "matches", "last_matched_at"],
        "the documented keys, in order"
    );
    let table = String::from_utf8(cli(&["secrets", "status", "--store", &store]).stdout).unwrap();
    assert!(table.contains("2026-06") && table.contains(&fingerprint(OLD)), "{table}");
    assert!(!table.contains(OLD) && !table.contains(NEW));

    // The operator API shows the same.
    let gw = start(&dir);
    let mut listed = serde_json::Value::Null;
    wait_for("the token to load", 10, || {
        let (s, b) =
            http(gw.api, "GET", "/api/v1/secrets", &[("Authorization".into(), format!("Bearer {token}"))], b"");
        listed = serde_json::from_str(&b).unwrap_or_default();
        s == 200
    });
    assert!(listed.as_array().unwrap().iter().any(|e| e["secret"] == "2026-06" && e["matches"] == 3), "{listed}");
    assert_eq!(http(gw.api, "GET", "/api/v1/secrets", &[], b"").0, 401);
    sigterm_and_wait(gw.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tag_pii_is_marked_logged_by_key_and_kind_and_never_altered() {
    let dir = temp_dir("diagnosis-pii");
    write_config(&dir, "");
    let gw = start(&dir);
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let new = verifier(preset("flinks").unwrap(), NEW.as_bytes());
    let tagged = br#"{"ResponseType":"KYC","Tag":"userId=12345,email=bob@example.com,order=ORD-2026-000123,ref=3fa85f64-5717-4562-b3fc-2c963f66afa6,phone=+1 514 555 0199,card=4111 1111 1111 1111,sin=130 692 544,zip=H2X 1Y4","RequestId":"p1"}"#;
    let clean = br#"{"ResponseType":"KYC","Tag":"userId=12345,order=ORD-2026-000123,ref=3fa85f64-5717-4562-b3fc-2c963f66afa6,account=1234567890","RequestId":"p2"}"#;
    for b in [&tagged[..], &clean[..]] {
        assert_eq!(http(gw.hooks, "POST", "/webhooks/flinks", &sign(&new, b, None, None), b).0, 200);
    }
    let events = json_out(&["events", "list", "--store", &store, "--format", "json"]);
    let id_of = |key: String| {
        events.as_array().unwrap().iter().find(|e| e["dedup_key"] == key).unwrap()["id"].as_i64().unwrap().to_string()
    };
    let shown = json_out(&[
        "events",
        "show",
        &id_of("sha256:".to_owned() + &hookgate_store::sha256_hex(tagged)),
        "--store",
        &store,
        "--format",
        "json",
    ]);
    let kinds: Vec<(String, String)> = shown["pii"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["key"].as_str().unwrap().to_owned(), m["kind"].as_str().unwrap().to_owned()))
        .collect();
    // In the Tag's own order.
    let want = [("email", "email"), ("phone", "phone"), ("card", "card"), ("sin", "sin"), ("zip", "postal_code")];
    assert_eq!(kinds, want.map(|(k, v)| (k.to_owned(), v.to_owned())), "{shown}");
    // The stored body is the one signed, byte for byte.
    let raw = cli(&[
        "events",
        "show",
        &id_of("sha256:".to_owned() + &hookgate_store::sha256_hex(tagged)),
        "--store",
        &store,
        "--body",
    ]);
    assert_eq!(raw.stdout, tagged);
    let plain = json_out(&[
        "events",
        "show",
        &id_of("sha256:".to_owned() + &hookgate_store::sha256_hex(clean)),
        "--store",
        &store,
        "--format",
        "json",
    ]);
    assert_eq!(plain["pii"], serde_json::json!([]), "order ids, UUIDs and bare numbers are not PII");
    let m = metrics(gw.ops);
    for kind in ["email", "phone", "card", "sin", "postal_code"] {
        assert!(m.contains(&format!("hookgate_tag_pii_total{{source=\"flinks\",kind=\"{kind}\"}} 1")), "{kind}: {m}");
    }
    let log = gw.log.lock().unwrap().clone();
    assert!(log.contains("key=email") && log.contains("kind=email"), "{log}");
    for value in ["bob@example.com", "514 555 0199", "4111 1111", "130 692 544", "H2X 1Y4"] {
        assert!(!log.contains(value), "the log shows {value}: {log}");
    }
    sigterm_and_wait(gw.child);
    let _ = std::fs::remove_dir_all(&dir);
}
