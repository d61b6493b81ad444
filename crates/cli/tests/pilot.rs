//! What a team piloting Hookgate hit (#27), each over real HTTP against `hookgate serve`: views
//! that changed a body's digits, replays to targets nobody serves, streams that outlived their
//! client or token, a SIGHUP that stopped the gateway, tokens files that lost updates, sender text
//! raw on a terminal, event types that made a delivery impossible.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::api::*;
use common::*;
use hookgate_test_support::receiver::{Answer, Receiver};

const SECRET: &str = "flinks-pilot-secret";

/// The shared gateway config (`common::write_gateway_config`) with this file's secret.
fn write_config(dir: &Path, server_extra: &str, admin: bool, extra: &str) -> PathBuf {
    write_gateway_config(dir, SECRET, server_extra, admin, extra)
}

/// Starts the gateway: (child, webhooks, operator API, metrics listener if configured, log).
fn start(config: &Path, ops: bool) -> (Child, SocketAddr, SocketAddr, Option<SocketAddr>, Arc<Mutex<String>>) {
    let (child, hooks, ops_addr, log) = serve_command(Command::new(bin()), config, ops);
    let api = admin_addr(&log);
    (child, hooks, api, ops_addr, log)
}

fn stdout(args: &[&str]) -> String {
    let out = cli(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A metric's value on the operator listener (`name` with its labels, as exposed).
fn metric(ops: SocketAddr, name: &str) -> Option<f64> {
    let text = String::from_utf8(get(ops, "/metrics", None).body).unwrap();
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Opens `/api/v1/stream` and reads its response head; the connection stays open.
fn open_stream(api: SocketAddr, query: &str, token: &str) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(api).unwrap();
    write!(s, "GET /api/v1/stream{query} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            return reader;
        }
    }
}

/// Whether the server ends the stream within `secs` (reads until end of file).
fn ends_within(mut stream: BufReader<TcpStream>, secs: u64) -> bool {
    stream.get_ref().set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).is_ok()
}

/// Waits for the process to exit, at most `secs`; whether it did.
fn exits_within(child: &mut Child, secs: u64) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill").args([sig, &child.id().to_string()]).status().unwrap().success());
}

#[test]
fn human_views_keep_every_digit_and_escape_what_senders_chose() {
    let dir = temp_dir("pilot-views");
    let target = Receiver::start(Answer::status(200));
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let extra = format!(
        "\n[[target]]\nname = \"hooks\"\ntype = \"http\"\nurl = \"http://{}/in\"\nsecret = {{ file = \"target.secret\" }}\n\n[target.retry]\nmax_attempts = 2\ninitial_delay_ms = 50\nmax_delay_ms = 100\n",
        target.addr
    );
    let config = write_config(&dir, "", false, "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("default_targets = [\"audit\"]", "default_targets = [\"hooks\"]");
    std::fs::write(&config, format!("{text}{extra}")).unwrap();
    let (child, hooks) = serve(&config);
    // A type with an OSC sequence (retitles a terminal), BEL, CR LF and non-ASCII: all signed.
    let body = r#"{"ResponseType":"KYC\u001b]0;pwned\u0007\r\nFake: line é","RequestId":"r1","Amount":12.50,"AccountNumber":12345678901234567890123,"b":1,"a":2,"HttpStatusCode":200.50}"#;
    assert_eq!(post_flinks(hooks, SECRET, body.as_bytes()).unwrap(), 200);
    let store = format!("sqlite://{}", dir.join("h.db").display());

    let shown = stdout(&["events", "show", "1", "--store", &store]);
    assert!(
        shown.contains("\"Amount\": 12.50,\n") && shown.contains("\"AccountNumber\": 12345678901234567890123,"),
        "{shown}"
    );
    assert!(shown.find("\"b\": 1").unwrap() < shown.find("\"a\": 2").unwrap(), "keys in the order received:\n{shown}");
    assert!(
        shown.contains(r#""ResponseType": "KYC\u001b]0;pwned\u0007\r\nFake: line é""#),
        "the body's escapes as sent:\n{shown}"
    );
    assert!(shown.contains("event_type:  KYC\\u{1b}]0;pwned\\u{7}\\r\\nFake: line é\n"), "{shown}");
    let listed = stdout(&["events", "list", "--store", &store]);
    for (what, text) in [("events show", &shown), ("events list", &listed)] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'),
            "{what} has a raw control character"
        );
    }
    // Metadata read from the body keeps its digits too (`http_status_code` is Flinks' metadata
    // field for `/HttpStatusCode`), in the text view and as JSON.
    assert!(shown.contains(r#""http_status_code":200.50"#), "{shown}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["events", "show", "1", "--store", &store, "--format", "json"])).unwrap();
    assert_eq!(json["metadata"]["http_status_code"].to_string(), "200.50", "{json}");
    // The bytes themselves are still exact.
    assert_eq!(cli(&["events", "show", "1", "--store", &store, "--body"]).stdout, body.as_bytes());

    // The type cannot be a header as it is: delivered percent-encoded, and said so.
    wait_for("the delivery", 30, || target.count() > 0);
    let sent = &target.all()[0];
    assert_eq!(sent.header("hookgate-event-type-encoding"), Some("percent"));
    assert_eq!(sent.header("hookgate-event-type"), Some("KYC%1B]0;pwned%07%0D%0AFake:%20line%20%C3%A9"));
    let deliveries = stdout(&["deliveries", "list", "--store", &store, "--format", "json"]);
    assert!(deliveries.contains("\"status\": \"delivered\""), "{deliveries}");
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn replays_name_configured_targets_once_and_times_take_ages() {
    let dir = temp_dir("pilot-replays");
    let tokens = dir.join("admin-tokens.toml");
    let ops = admin_token(&tokens, "ops", "operator", &[]);
    let config =
        write_config(&dir, "", true, "\n[[target]]\nname = \"second\"\ntype = \"command\"\ncommand = [\"true\"]\n");
    let (child, hooks, api, _, _) = start(&config, false);
    for i in 0..2 {
        assert_eq!(post_flinks(hooks, SECRET, format!(r#"{{"RequestId":"e{i}"}}"#).as_bytes()).unwrap(), 200);
    }
    let post = |path: &str, body: &str| request(api, "POST", path, Some(&ops), body);

    let refused = post("/api/v1/replays", r#"{"targets":["nope"]}"#);
    assert_eq!(refused.status, 400);
    let message = refused.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("unknown target `nope`") && message.contains("audit, second"), "{message}");
    let refused = post("/api/v1/retries", r#"{"targets":["audit","ghost"]}"#);
    assert_eq!(refused.status, 400, "retries too");
    let refused = post("/api/v1/replays", r#"{"filter":{"source":"nope"}}"#);
    assert_eq!(refused.status, 400);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("unknown source `nope`"));

    // A target named three times is one target: one delivery per event.
    let made = post(
        "/api/v1/replays",
        r#"{"filter":{"source":"flinks","since":"1h"},"targets":["second","second","second"]}"#,
    );
    assert_eq!(made.status, 202, "{}", String::from_utf8_lossy(&made.body));
    let job = made.json()["job"].as_i64().unwrap();
    let mut shown = serde_json::Value::Null;
    wait_for("the job to finish", 30, || {
        shown = get(api, &format!("/api/v1/jobs/{job}"), Some(&ops)).json();
        shown["state"] == "done"
    });
    assert_eq!(shown["deliveries"], 2, "{shown}");
    assert_eq!(shown["targets"], serde_json::json!(["second"]), "{shown}");
    // The age was fixed when the job was made: a restart reads the same events.
    let since = shown["filter"]["since"].as_str().unwrap();
    assert!(since.ends_with('Z') && since.len() >= 20, "{shown}");

    // One time syntax: the API takes the CLI's ages, and refuses what is none of the forms.
    for since in ["1h", "90s", "2d", "1w", "0", "2020-01-01T00:00:00Z"] {
        let r = get(api, &format!("/api/v1/events?since={since}"), Some(&ops));
        assert_eq!(r.status, 200, "since={since}");
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 2, "since={since}");
    }
    assert_eq!(get(api, "/api/v1/events?since=1y", Some(&ops)).status, 400);
    // A filter that is not an object is an error, never "match nothing" (or everything).
    for m in ["1", "%5B%5D", "%22x%22", "null"] {
        let r = get(api, &format!("/api/v1/events?match={m}"), Some(&ops));
        assert_eq!(r.status, 400, "match={m}");
    }
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn streams_end_with_their_client_their_token_and_the_gateway() {
    let dir = temp_dir("pilot-streams");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = admin_token(&tokens, "watcher", "viewer", &[]);
    let leaving = admin_token(&tokens, "leaving", "viewer", &[]);
    let brief = admin_token(&tokens, "brief", "viewer", &["--expires", "8s"]);
    let config = write_config(&dir, "metrics_listen = \"127.0.0.1:0\"", true, "");
    let (mut child, hooks, api, ops, _) = start(&config, true);
    let ops = ops.unwrap();
    let expiring = open_stream(api, "", &brief);

    // A stream whose filter never matches sends nothing; its client leaving must still end it.
    wait_for("the first stream to count", 10, || metric(ops, "hookgate_api_streams") == Some(1.0));
    let never = open_stream(api, "?match=%7B%22RequestId%22%3A%22never%22%7D", &viewer);
    wait_for("the stream to count", 10, || metric(ops, "hookgate_api_streams") == Some(2.0));
    drop(never);
    wait_for("the stream to end with its client", 10, || metric(ops, "hookgate_api_streams") == Some(1.0));

    // Revoked (and reloaded): the stream ends.
    let revoked = open_stream(api, "", &leaving);
    assert_eq!(post_flinks(hooks, SECRET, br#"{"RequestId":"s1"}"#).unwrap(), 200);
    let out = cli(&["admin", "token", "revoke", "--tokens-file", tokens.to_str().unwrap(), "leaving"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    signal(&child, "-HUP");
    assert!(ends_within(revoked, 10), "a revoked token's stream ended after the reload");
    // Expired: the stream ends, with no reload.
    assert!(ends_within(expiring, 15), "an expired token's stream ended");

    // A stop with a stream open is prompt: the stream ends at once.
    let _open = open_stream(api, "", &viewer);
    signal(&child, "-TERM");
    assert!(exits_within(&mut child, 10), "the gateway stopped with a live stream open");
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn sighup_never_stops_a_gateway_without_anything_to_reload() {
    let dir = temp_dir("pilot-sighup");
    let config = write_config(&dir, "", false, "");
    let (mut child, hooks, log) = serve_logged(&config, &[]);
    signal(&child, "-HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP stopped the gateway");
    assert_eq!(post_flinks(hooks, SECRET, br#"{"RequestId":"h1"}"#).unwrap(), 200);
    wait_for("the reload to be logged", 10, || log.lock().unwrap().contains("SIGHUP: nothing to reload"));
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tokens_commands_racing_each_other_lose_no_update() {
    let dir = temp_dir("pilot-tokens-race");
    let tokens = dir.join("admin-tokens.toml");
    let file = tokens.to_str().unwrap();
    for i in 0..8 {
        admin_token(&tokens, &format!("old{i}"), "viewer", &[]);
    }
    let mut running = Vec::new();
    for i in 0..8 {
        let revoke = ["admin", "token", "revoke", "--tokens-file", file, &format!("old{i}")];
        running.push(Command::new(bin()).args(revoke).stdout(std::process::Stdio::null()).spawn().unwrap());
        let create =
            ["admin", "token", "create", "--tokens-file", file, "--name", &format!("new{i}"), "--role", "viewer"];
        running.push(Command::new(bin()).args(create).stdout(std::process::Stdio::null()).spawn().unwrap());
    }
    for mut p in running {
        assert!(p.wait().unwrap().success());
    }
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&["admin", "token", "list", "--tokens-file", file, "--format", "json"])).unwrap();
    let mut names: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, (0..8).map(|i| format!("new{i}")).collect::<Vec<_>>(), "every revoke and create kept");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn viewers_see_no_replayable_signature_and_no_fingerprint() {
    let dir = temp_dir("pilot-viewer");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = admin_token(&tokens, "watcher", "viewer", &[]);
    let ops = admin_token(&tokens, "ops", "operator", &[]);
    let root = admin_token(&tokens, "root", "admin", &[]);
    let config = write_config(&dir, "", true, "");
    let (child, hooks, api, _, _) = start(&config, false);
    assert_eq!(post_flinks(hooks, SECRET, br#"{"RequestId":"v1"}"#).unwrap(), 200);
    let signature = |token: &str| {
        let e = get(api, "/api/v1/events/1", Some(token)).json();
        e["headers"].as_array().unwrap().iter().find(|h| h[0] == "x-flinks-signature").map(|h| h[1].clone())
    };
    // Flinks signs the body alone: body + signature could be sent again as a new delivery.
    assert_eq!(signature(&viewer), Some(serde_json::json!("***")));
    let real = signature(&ops).unwrap();
    assert!(real.as_str().unwrap().len() > 20 && real != "***", "{real}");

    // Tag values that look like personal data: `***` to a viewer in the metadata and the body
    // (said by a header), exact for an operator.
    let body = br#"{"RequestId":"v2","Amount":12.50,"Tag":"userId=7,email=bob@example.com"}"#;
    assert_eq!(post_flinks(hooks, SECRET, body).unwrap(), 200);
    let seen = get(api, "/api/v1/events/2", Some(&viewer)).json();
    assert_eq!(seen["metadata"]["tag"], serde_json::json!({"userId": "7", "email": "***"}), "{seen}");
    assert_eq!(seen["pii"], serde_json::json!([{"key": "email", "kind": "email"}]));
    let masked = get(api, "/api/v1/events/2/body", Some(&viewer));
    assert_eq!(masked.body, br#"{"RequestId":"v2","Amount":12.50,"Tag":"userId=7,email=***"}"#.to_vec());
    assert!(masked.headers.to_ascii_lowercase().contains("hookgate-masked: pii"), "{}", masked.headers);
    let exact = get(api, "/api/v1/events/2/body", Some(&ops));
    assert_eq!(exact.body, body.to_vec());
    assert!(!exact.headers.to_ascii_lowercase().contains("hookgate-masked"));
    assert_eq!(get(api, "/api/v1/events/2", Some(&ops)).json()["metadata"]["tag"]["email"], "bob@example.com");
    // A NUL in a text filter is a 400 on every store (PostgreSQL would refuse it with a 500).
    for path in [
        "/api/v1/events?q=a%00b",
        "/api/v1/events?source=%00",
        "/api/v1/deliveries?target=%00",
        "/api/v1/rejections?reason=%00",
    ] {
        assert_eq!(get(api, path, Some(&viewer)).status, 400, "{path}");
    }

    wait_for("the secret's use to be reported", 15, || {
        get(api, "/api/v1/secrets", Some(&root)).json()[0]["matches"].as_i64().is_some_and(|m| m >= 1)
    });
    let fingerprint = |token: &str| get(api, "/api/v1/secrets", Some(token)).json()[0]["fingerprint"].clone();
    assert!(fingerprint(&viewer).is_null() && fingerprint(&ops).is_null());
    assert!(fingerprint(&root).as_str().is_some_and(|f| f.len() == 8), "{}", fingerprint(&root));

    // Sign-in from a sandboxed frame (`Origin: null`, no Sec-Fetch-Site) is refused.
    let form = format!("token={root}");
    let headers = "Origin: null\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    assert_eq!(raw(api, "POST", "/login", headers, form.as_str()).status, 403);
    let same_page =
        "Origin: null\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    assert_eq!(
        raw(api, "POST", "/login", same_page, form.as_str()).status,
        303,
        "the console's own page under no-referrer"
    );
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn config_check_refuses_what_serve_refuses_and_warns_of_dead_routes() {
    let dir = temp_dir("pilot-config-check");
    let config = write_config(&dir, "", false, "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "default_targets = [\"audit\"]",
        "default_targets = [\"audit\"]\n\n[[source.route]]\nwhen = [{ field = \"Tag.userId\", equals = \"1\" }]\ntargets = [\"audit\"]",
    );
    std::fs::write(&config, text).unwrap();
    let path = config.to_str().unwrap();
    let bad =
        Command::new(bin()).args(["config", "check", "--config", path]).env("HOOKGATE_LOG", "bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stdout));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("HOOKGATE_LOG"), "{}", String::from_utf8_lossy(&bad.stderr));
    let ok = Command::new(bin()).args(["config", "check", "--config", path]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let warning = String::from_utf8_lossy(&ok.stderr);
    assert!(
        warning.contains("field `Tag.userId` is not a metadata field") && warning.contains("did you mean `tag`"),
        "{warning}"
    );
    let json = stdout(&["config", "check", "--config", path, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["warnings"].as_array().unwrap().len(), 1, "{json}");

    // A misspelt common key of a target: the common keys listed too, and the near miss named.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("command = [\"true\"]", "command = [\"true\"]\ntimeout_sec = 3");
    std::fs::write(&config, text).unwrap();
    let typo = Command::new(bin()).args(["config", "check", "--config", path]).output().unwrap();
    assert_eq!(typo.status.code(), Some(2));
    let said = String::from_utf8_lossy(&typo.stderr);
    assert!(
        said.contains("common keys: `name`, `type`, `timeout_secs`") && said.contains("did you mean `timeout_secs`?"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn operators_have_their_own_share_of_connections_and_streams() {
    let dir = temp_dir("pilot-shares");
    let tokens = dir.join("admin-tokens.toml");
    let viewer = admin_token(&tokens, "watcher", "viewer", &[]);
    let other = admin_token(&tokens, "other", "viewer", &[]);
    let config = write_config(&dir, "max_connections = 4", true, "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("[admin]\n", "[admin]\nmax_connections = 4\nmax_streams_per_token = 2\n"))
        .unwrap();
    let (child, hooks, api, _, _) = start(&config, false);

    // A token holds two streams at most; another token has its own two.
    let _a = open_stream(api, "", &viewer);
    let _b = open_stream(api, "", &viewer);
    let refused = get(api, "/api/v1/stream", Some(&viewer));
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["error"]["code"], "too_many");
    let _c = open_stream(api, "", &other);
    // The fourth operator connection fills the listener's share; a fifth is closed at once...
    // (A keep-alive request answered on it: the server has surely accepted and counted it.)
    let mut d = TcpStream::connect(api).unwrap();
    write!(d, "GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answered = [0u8; 12];
    d.read_exact(&mut answered).unwrap();
    assert_eq!(&answered, b"HTTP/1.1 200");
    let mut fifth = TcpStream::connect(api).unwrap();
    fifth.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = write!(fifth, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut got = Vec::new();
    let _ = fifth.read_to_end(&mut got);
    assert!(got.is_empty(), "refused: {}", String::from_utf8_lossy(&got));
    // ...while webhooks keep all of theirs (server.max_connections = 4, as many as the operators hold).
    for i in 0..4 {
        assert_eq!(post_flinks(hooks, SECRET, format!(r#"{{"RequestId":"c{i}"}}"#).as_bytes()).unwrap(), 200);
    }
    assert_eq!(get(hooks, "/readyz", None).status, 200);
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn send_generate_makes_events_shaped_like_the_providers() {
    let dir = temp_dir("pilot-generate");
    std::fs::write(dir.join("stripe.secret"), "whsec_pilot").unwrap();
    std::fs::write(dir.join("github.secret"), "gh-pilot").unwrap();
    let extra = r#"
[[source]]
name = "stripe"
path = "/webhooks/stripe"
scheme = "stripe"
secrets = [{ file = "stripe.secret" }]

[[source]]
name = "github"
path = "/webhooks/github"
scheme = "github"
secrets = [{ file = "github.secret" }]
"#;
    let config = write_config(&dir, "", false, "");
    let text = std::fs::read_to_string(&config).unwrap();
    // The sources go before the targets' tables: append them after the Flinks source.
    std::fs::write(&config, text.replace("[[target]]", &format!("{extra}\n[[target]]"))).unwrap();
    let (child, hooks) = serve(&config);
    for (source, secret) in [("stripe", "stripe.secret"), ("github", "github.secret")] {
        let out = Command::new(bin())
            .args(["send", "--scheme", source, "--secret-file", dir.join(secret).to_str().unwrap()])
            .args(["--url", &format!("http://{hooks}/webhooks/{source}"), "--generate", "3"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{source}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let events: Vec<serde_json::Value> =
        serde_json::from_str(&stdout(&["events", "list", "--store", &store, "--format", "json"])).unwrap();
    for source in ["stripe", "github"] {
        let mine: Vec<_> = events.iter().filter(|e| e["source"] == source).collect();
        assert_eq!(mine.len(), 3, "{source}: {events:?}");
        assert!(
            mine.iter().all(|e| e["event_type"].as_str().is_some_and(|t| t.starts_with("hookgate.test."))),
            "{mine:?}"
        );
        assert!(mine.iter().all(|e| e["provider_id"].is_string()), "the provider id the scheme reads: {mine:?}");
    }
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_delivery_says_what_was_sent_what_made_it_and_operators_can_retry_or_cancel_it() {
    let dir = temp_dir("pilot-delivery-page");
    let tokens = dir.join("admin-tokens.toml");
    let ops = admin_token(&tokens, "ops", "operator", &[]);
    let viewer = admin_token(&tokens, "watcher", "viewer", &[]);
    let failing = Receiver::start(Answer {
        status: 500,
        headers: vec!["X-Trace: t-42".into(), "Set-Cookie: sid=hunter2".into()],
        body: b"boom".to_vec(),
    });
    let target = failing.addr;
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let extra = format!(
        "\n[[target]]\nname = \"svc\"\ntype = \"http\"\nurl = \"http://{target}/in?token=abc\"\nsecret = {{ file = \"target.secret\" }}\n\n[target.retry]\nmax_attempts = 2\ninitial_delay_ms = 50\nmax_delay_ms = 50\n"
    );
    let config = write_config(&dir, "", true, &extra);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("default_targets = [\"audit\"]", "default_targets = [\"svc\"]");
    std::fs::write(&config, text).unwrap();
    let (child, hooks, api, _, _) = start(&config, false);
    assert_eq!(post_flinks(hooks, SECRET, br#"{"RequestId":"d1"}"#).unwrap(), 200);
    let dead = |api| get(api, "/api/v1/deliveries?status=dead", Some(&ops)).json()["items"].as_array().unwrap().len();
    wait_for("the delivery to die", 30, || dead(api) == 1);
    let d = get(api, "/api/v1/deliveries/1", Some(&ops)).json();
    assert_eq!((d["origin"].as_str(), d["revived"].as_i64()), (Some("route"), Some(0)), "{d}");
    let first = &d["attempts_history"][0];
    assert_eq!(first["request"]["method"], "POST");
    assert_eq!(first["request"]["url"], format!("http://{target}/in?token=***"), "the URL's credentials redacted");
    assert_eq!(first["request"]["body_bytes"], 18);
    let names: Vec<&str> =
        first["request"]["headers"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    for name in ["webhook-id", "webhook-signature", "webhook-timestamp", "hookgate-event-id", "content-type"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let headers = first["response_headers"].as_array().unwrap();
    assert!(headers.contains(&serde_json::json!(["x-trace", "t-42"])), "{headers:?}");
    assert!(headers.contains(&serde_json::json!(["set-cookie", "***"])), "a cookie is a credential: {headers:?}");
    assert!(!d.to_string().contains("hunter2"));

    // Retry now: a viewer may not; an operator revives it, the history keeps every attempt.
    assert_eq!(request(api, "POST", "/api/v1/deliveries/1/retry", Some(&viewer), "").status, 403);
    let revived = request(api, "POST", "/api/v1/deliveries/1/retry", Some(&ops), "");
    assert_eq!(revived.status, 200, "{}", String::from_utf8_lossy(&revived.body));
    assert_eq!(revived.json()["revived"], 1);
    wait_for("the revived delivery to die again", 30, || {
        get(api, "/api/v1/deliveries/1", Some(&ops)).json()["attempts_history"].as_array().unwrap().len() == 4
    });
    assert_eq!(failing.count(), 4);
    // Cancel: only a pending delivery; a replay job's delivery says which job made it.
    let refused = request(api, "POST", "/api/v1/deliveries/1/cancel", Some(&ops), "");
    assert_eq!(refused.status, 409);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("is dead"));
    let made =
        request(api, "POST", "/api/v1/replays", Some(&ops), r#"{"filter":{"source":"flinks"},"targets":["audit"]}"#);
    let job = made.json()["job"].as_i64().unwrap();
    wait_for("the replay's delivery", 30, || {
        get(api, "/api/v1/deliveries?target=audit", Some(&ops)).json()["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    });
    let replayed = get(api, "/api/v1/deliveries?target=audit", Some(&ops)).json()["items"][0]["id"].as_i64().unwrap();
    assert_eq!(get(api, &format!("/api/v1/deliveries/{replayed}"), Some(&ops)).json()["origin"], format!("job:{job}"));
    let audit = admin_token(&tokens, "root", "admin", &[]);
    signal(&child, "-HUP");
    wait_for("the admin token to load", 10, || get(api, "/api/v1/audit", Some(&audit)).status == 200);
    let log = get(api, "/api/v1/audit", Some(&audit)).json().to_string();
    assert!(log.contains("delivery.retry"), "{log}");
    // The CLI shows the same, as text.
    let store = format!("sqlite://{}", dir.join("h.db").display());
    let shown = stdout(&["deliveries", "show", "1", "--store", &store]);
    assert!(shown.contains("origin:       route") && shown.contains("(revived 1 time)"), "{shown}");
    assert!(shown.contains("x-trace: t-42; set-cookie: ***") && shown.contains("  #4 "), "{shown}");
    sigterm_and_wait(child);
    let _ = std::fs::remove_dir_all(dir);
}
