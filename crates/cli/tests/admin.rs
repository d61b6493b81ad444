//! The operator API over real HTTP against `hookgate serve`: tokens made with `hookgate admin
//! token`, every read resource, roles, expired and revoked tokens, filters, `match`, pages, bad
//! input, and the OpenAPI document.

mod common;

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const SECRET: &str = "flinks-admin-secret";

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Reply {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a full response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head[9..12].parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Reply { status, headers: head, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// Percent-encodes a query value.
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn token(tokens: &Path, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args =
        vec!["admin", "token", "create", "--tokens-file", tokens.to_str().unwrap(), "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let out = cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(t.starts_with("hgat_") && t.len() > 40, "{t}");
    t
}

/// Starts `hookgate serve` with `[admin]` and returns it with the webhook and operator API
/// addresses.
fn serve_admin(dir: &Path) -> (std::process::Child, SocketAddr, SocketAddr) {
    std::fs::write(dir.join("flinks.secret"), SECRET).unwrap();
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
store = "sqlite://{db}"

[admin]
listen = "127.0.0.1:0"
tokens_file = "admin-tokens.toml"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "flinks.secret" }}]
keep_rejected_bodies = true
dedup = {{ json_pointer = "/RequestId" }}
default_targets = ["audit"]

[[target]]
name = "audit"
type = "command"
command = ["true"]
"#,
        db = dir.join("h.db").display()
    );
    std::fs::write(dir.join("hookgate.toml"), &config).unwrap();
    let (child, addr, _, log) = serve_command(Command::new(bin()), &dir.join("hookgate.toml"), false);
    let mut admin = None;
    wait_for("the operator API's address", 30, || {
        admin = log
            .lock()
            .unwrap()
            .lines()
            .find(|l| l.contains("Serving the operator API"))
            .and_then(|l| l.split("listen=").nth(1)?.split_whitespace().next()?.parse().ok());
        admin.is_some()
    });
    (child, addr, admin.unwrap())
}

#[test]
fn the_operator_api_reads_with_tokens_filters_pages_and_refuses_what_it_should() {
    let dir = temp_dir("admin-api");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = token(&tokens, "viewer-1", "viewer", &[]);
    let revoked = token(&tokens, "gone", "operator", &[]);
    let expired = token(&tokens, "short", "viewer", &["--expires", "1s"]);
    let text = std::fs::read_to_string(&tokens).unwrap();
    assert!(!text.contains(&viewer) && !text.contains(&revoked), "the file keeps only hashes");
    let listed = cli(&["admin", "token", "list", "--tokens-file", tokens.to_str().unwrap(), "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert!(!listed.to_string().contains("sha256"), "list never shows a hash: {listed}");

    let (child, hooks, api) = serve_admin(&dir);
    let bodies = [
        r#"{"ResponseType":"KYC","Tag":"userId=12345","RequestId":"r1"}"#,
        r#"{"ResponseType":"GetAccountsDetail","Tag":"userId=999","RequestId":"r2"}"#,
        r#"{"ResponseType":"KYC","Tag":"userId=777","RequestId":"r3","Note":"<script>alert(1)</script>"}"#,
    ];
    for b in bodies {
        assert_eq!(post_flinks(hooks, SECRET, b.as_bytes()).unwrap(), 200);
    }
    assert_eq!(post_flinks(hooks, "wrong-secret", b"{\"forged\":true}").unwrap(), 403);

    // Who may ask.
    let r = get(api, "/api/v1/events", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    assert_eq!(get(api, "/api/v1/events", Some("hgat_not-a-token")).status, 401);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(get(api, "/api/v1/events", Some(&expired)).status, 401, "an expired token");
    assert_eq!(get(api, "/api/v1/events", Some(&revoked)).status, 200);
    let out = cli(&["admin", "token", "revoke", "gone", "--tokens-file", tokens.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(get(api, "/api/v1/events", Some(&revoked)).status, 200, "in force until the reload");
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    wait_for("the reload", 10, || get(api, "/api/v1/events", Some(&revoked)).status == 401);

    // Events: newest first, with their status and the filters.
    let v = Some(viewer.as_str());
    let all = get(api, "/api/v1/events", v).json();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{all}");
    assert!(items[0]["id"].as_i64() > items[2]["id"].as_i64(), "newest first");
    assert_eq!(items[0]["source"], "flinks");
    assert!(items[0]["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(all["next_cursor"], serde_json::Value::Null);
    let kyc = get(api, "/api/v1/events?type=KYC", v).json();
    assert_eq!(kyc["items"].as_array().unwrap().len(), 2);
    let q = get(api, "/api/v1/events?q=r2", v).json();
    assert_eq!(q["items"].as_array().unwrap().len(), 1, "{q}");
    assert_eq!(get(api, "/api/v1/events?source=other", v).json()["items"].as_array().unwrap().len(), 0);
    let matched =
        get(api, &format!("/api/v1/events?match={}", enc(r#"{"ResponseType":"KYC","Tag":{"userId":"12345"}}"#)), v)
            .json();
    let matched = matched["items"].as_array().unwrap();
    assert_eq!(matched.len(), 1, "{matched:?}");
    let first_id = matched[0]["id"].as_i64().unwrap();
    let ops = get(api, &format!("/api/v1/events?match={}", enc(r#"{"RequestId":{"$in":["r1","r3"]}}"#)), v).json();
    assert_eq!(ops["items"].as_array().unwrap().len(), 2);

    // Pages: no gap, no repeat, while another event arrives between them.
    let page1 = get(api, "/api/v1/events?limit=2", v).json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(post_flinks(hooks, SECRET, br#"{"ResponseType":"KYC","RequestId":"r4"}"#).unwrap(), 200);
    let page2 = get(api, &format!("/api/v1/events?limit=2&cursor={cursor}"), v).json();
    let ids: Vec<i64> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["items"].as_array().unwrap())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // Bad input: 400 naming the parameter; never a 500.
    for (path, field) in [
        ("/api/v1/events?since=yesterday", "since"),
        ("/api/v1/events?limit=0", "limit"),
        ("/api/v1/events?cursor=x", "cursor"),
        ("/api/v1/events?status=lost", "status"),
        ("/api/v1/events?frobnicate=1", "frobnicate"),
        (&format!("/api/v1/events?match={}", enc(r#"{"a":{"$regex":"x"}}"#)), "match"),
        (&format!("/api/v1/events?match={}", enc("{not json")), "match"),
        ("/api/v1/events/abc", "id"),
        ("/api/v1/rejections?until=never", "until"),
        ("/api/v1/deliveries?status=gone", "status"),
    ] {
        let r = get(api, path, v);
        assert_eq!(r.status, 400, "{path}: {}", String::from_utf8_lossy(&r.body));
        let e = r.json();
        assert_eq!(e["error"]["code"], "bad_request");
        assert!(e["error"]["message"].as_str().unwrap().contains(field), "{path}: {e}");
    }
    assert_eq!(get(api, "/api/v1/events/999999", v).status, 404);

    // One event in full, and its exact body.
    let detail = get(api, &format!("/api/v1/events/{first_id}"), v).json();
    assert_eq!(detail["metadata"]["tag"]["userId"], "12345");
    assert_eq!(detail["size"].as_i64().unwrap() as usize, bodies[0].len());
    assert!(detail["headers"].as_array().unwrap().iter().any(|h| h[0] == "x-flinks-signature"));
    wait_for("the delivery", 20, || {
        get(api, &format!("/api/v1/events/{first_id}"), v).json()["deliveries"][0]["status"] == "delivered"
    });
    let detail = get(api, &format!("/api/v1/events/{first_id}"), v).json();
    assert_eq!(detail["status"], "delivered");
    assert_eq!(detail["deliveries"][0]["attempts_history"].as_array().unwrap().len(), 1);
    let raw = get(api, &format!("/api/v1/events/{first_id}/body"), v);
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, bodies[0].as_bytes(), "byte-exact");
    let script = get(api, &format!("/api/v1/events?q={}", enc("r3")), v).json();
    let script_id = script["items"][0]["id"].as_i64().unwrap();
    let raw = get(api, &format!("/api/v1/events/{script_id}/body"), v);
    let h = raw.headers.to_ascii_lowercase();
    assert!(
        h.contains("content-security-policy: default-src 'none'; sandbox")
            && h.contains("x-content-type-options: nosniff"),
        "{h}"
    );

    // Rejections and deliveries.
    let rej = get(api, "/api/v1/rejections", v).json();
    let rej = rej["items"].as_array().unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0]["reason_code"], "signature_mismatch");
    let rid = rej[0]["id"].as_i64().unwrap();
    assert_eq!(get(api, "/api/v1/rejections?reason=missing_header", v).json()["items"].as_array().unwrap().len(), 0);
    let one = get(api, &format!("/api/v1/rejections/{rid}"), v).json();
    assert!(one["headers"].as_array().unwrap().iter().any(|h| h[0] == "x-flinks-signature"));
    assert_eq!(get(api, &format!("/api/v1/rejections/{rid}/body"), v).body, b"{\"forged\":true}");
    wait_for("every delivery", 20, || {
        get(api, "/api/v1/deliveries?status=delivered", v).json()["items"].as_array().unwrap().len() == 4
    });
    let d = get(api, &format!("/api/v1/deliveries?event={first_id}"), v).json();
    let did = d["items"][0]["id"].as_i64().unwrap();
    let d = get(api, &format!("/api/v1/deliveries/{did}"), v).json();
    assert_eq!(d["target"], "audit");
    assert_eq!(d["attempts_history"][0]["status_code"], 0);
    let status_filtered = get(api, "/api/v1/events?status=delivered", v).json();
    assert_eq!(status_filtered["items"].as_array().unwrap().len(), 4);

    // The OpenAPI document, without a token.
    let doc = get(api, "/api/openapi.json", None).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert!(doc["paths"]["/api/v1/events"]["get"].is_object());
    // The webhook listener never serves the operator API.
    assert_eq!(get(hooks, "/api/v1/events", v).status, 404);
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_public_operator_listener_needs_tls() {
    let dir = temp_dir("admin-tls");
    std::fs::write(dir.join("s.secret"), "x").unwrap();
    let config = format!(
        "[admin]\nlisten = \"0.0.0.0:8081\"\ntokens_file = \"t.toml\"\n\n[server]\nstore = \"sqlite://{}\"\n\n[[source]]\nname = \"a\"\npath = \"/a\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"s.secret\" }}]\n",
        dir.join("h.db").display()
    );
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let out = cli(&["config", "check", "--config", dir.join("c.toml").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("admin.listen") && err.contains("[admin.tls]"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
