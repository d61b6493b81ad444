//! What a new user hit following the README (issue #13's bugs), run as they ran it.

mod common;
use common::{bin, temp_dir};

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin()).args(args).envs(env.iter().copied()).stdin(Stdio::null()).output().unwrap()
}

/// Like `run`, with `stdin` as standard input (a body to sign, send or route).
fn run_stdin(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs with stdout a pipe whose reader is already gone (`| head` that has exited).
fn run_into_closed_pipe(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn migrated_store(dir: &Path) -> String {
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    let out = run(&["migrate", "--store", &store], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    store
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = temp_dir("closed-stdout");
    let store = migrated_store(&dir);
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hookgate.toml");
    let secrets = [("FLINKS_HMAC_SECRET", "s"), ("FIN_WEBHOOK_SECRET", "s"), ("HG_SECRET", "s")];
    let cases: [&[&str]; 8] = [
        &["schemes"],
        &["schemes", "--show", "stripe"],
        &["config", "check", "--config", example],
        &["sign", "--scheme", "flinks", "--secret-env", "HG_SECRET"],
        &["migrate", "--store", &store],
        &["events", "list", "--store", &store],
        &["rejections", "list", "--store", &store, "--format", "json"],
        &["deliveries", "list", "--store", &store],
    ];
    for args in cases {
        let out = run_into_closed_pipe(args, &secrets, b"{}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?} said: {}", text(&out.stderr));
    }
}

#[test]
fn a_log_level_that_is_not_one_is_refused() {
    let dir = temp_dir("bogus-log");
    std::fs::write(dir.join("s"), "s").unwrap();
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"sqlite://{}/h.db\"\n[[source]]\nname = \"a\"\npath = \"/a\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"s\" }}]\n",
            dir.display()
        ),
    )
    .unwrap();
    let out = run(&["serve", "--config", config.to_str().unwrap()], &[("HOOKGATE_LOG", "bogus")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("HOOKGATE_LOG: `bogus`"), "{}", text(&out.stderr));
    assert!(!dir.join("h.db").exists(), "nothing started");
}

#[test]
fn serve_creates_nothing_when_it_cannot_start() {
    let dir = temp_dir("creates-nothing");
    std::fs::write(dir.join("s"), "s").unwrap();
    let write = |listen: &str| {
        let config = dir.join("c.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"{listen}\"\nstore = \"sqlite://{}/h.db\"\n[[source]]\nname = \"a\"\npath = \"/a\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"s\" }}]\n",
                dir.display()
            ),
        )
        .unwrap();
        config
    };
    // --no-migrate on a store that does not exist.
    let config = write("127.0.0.1:0");
    let out = run(&["serve", "--config", config.to_str().unwrap(), "--no-migrate"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("run `hookgate migrate`"), "{}", text(&out.stderr));
    assert!(!dir.join("h.db").exists(), "--no-migrate created a store");
    // A port in use: the bind fails before the store is created or migrated.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = write(&taken.local_addr().unwrap().to_string());
    let out = run(&["serve", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot listen"), "{}", text(&out.stderr));
    assert!(!dir.join("h.db").exists(), "the store was created before the bind failed");
}

#[test]
fn config_check_finds_what_serve_would() {
    let dir = temp_dir("check-like-serve");
    std::fs::write(dir.join("s"), "s").unwrap();
    let head = "[[source]]\nname = \"a\"\npath = \"/a\"\nscheme = \"flinks\"\nsecrets = [{ file = \"s\" }]\n";
    let cases = [
        (
            "missing TLS files",
            format!("[server]\ntls = {{ cert = \"nope.pem\", key = \"nope.key\" }}\n{head}"),
            "server.tls",
        ),
        (
            "unreadable password file",
            format!("[server]\nstore = \"postgres://u@127.0.0.1/db?password_file=/nonexistent/pw\"\n{head}"),
            "password_file",
        ),
    ];
    for (what, config, expected) in cases {
        let path = dir.join("c.toml");
        std::fs::write(&path, config).unwrap();
        let out = run(&["config", "check", "--config", path.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(expected), "{what}: {}", text(&out.stderr));
    }
}

#[test]
fn an_error_names_each_cause_once() {
    let out = run(&["config", "check", "--config", "/nonexistent/hookgate.toml"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

#[test]
fn sign_uses_the_id_given_in_the_schemes_id_header() {
    let env = [("HG_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")];
    let args = ["sign", "--scheme", "standard-webhooks", "--secret-env", "HG_SECRET", "-H", "webhook-id: msg_given"];
    let out = run_stdin(&args, &env, b"{}");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("webhook-id: msg_given\n"), "{}", text(&out.stdout));
}

#[test]
fn replay_refuses_unknown_events_and_targets_and_replays_an_event_once() {
    let dir = temp_dir("replay-checks");
    let store = migrated_store(&dir);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let s = hookgate_store::Store::open(
            &hookgate_store::StoreUrl::parse(&store).unwrap(),
            hookgate_store::StoreOptions::default(),
        )
        .await
        .unwrap();
        s.insert_event(hookgate_store::NewEvent {
            source: "flinks".into(),
            received_at_ms: 1_700_000_000_000,
            dedup_key: "k".into(),
            provider_id: None,
            event_type: None,
            signed_at_ms: None,
            body: b"{}".to_vec(),
            body_sha256: hookgate_store::sha256_hex(b"{}"),
            headers: Vec::new(),
            metadata: serde_json::json!({}),
            targets: vec!["svc".into()],
            pii: vec![],
        })
        .await
        .unwrap();
        s.close().await;
    });
    let out = run(&["replay", "999", "--store", &store], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("no event 999"), "{}", text(&out.stderr));
    let out = run(&["replay", "1", "--target", "nosuch", "--store", &store], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("unknown target `nosuch`"), "{}", text(&out.stderr));
    let out = run(&["replay", "1", "1", "--store", &store], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "replayed 1 event: 1 new delivery\n");

    // The event's deliveries, listed and cancelled.
    let out = run(&["deliveries", "list", "--event", "1", "--store", &store, "--format", "json"], &[]);
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 2, "the first and the replay");
    assert!(
        run(&["deliveries", "list", "--event", "2", "--store", &store, "--format", "json"], &[])
            .stdout
            .starts_with(b"[]")
    );
    let out = run(&["deliveries", "cancel", "2", "--store", &store], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "delivery 2 to svc cancelled\n");
    let again = run(&["deliveries", "cancel", "2", "--store", &store], &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("is cancelled, not pending"), "{}", text(&again.stderr));
    let shown = text(&run(&["events", "show", "1", "--store", &store], &[]).stdout);
    assert!(shown.contains("deliveries:") && shown.contains("cancelled"), "{shown}");
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["events", "show", "1", "--store", &store, "--format", "json"], &[]).stdout)
            .unwrap();
    assert_eq!(json["deliveries"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["body"], "{}");
}

#[test]
fn send_says_why_an_attempt_got_no_answer() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/webhooks/flinks");
    let args = ["send", "--scheme", "flinks", "--secret-env", "HG_SECRET", "--url", &url, "-"];
    let out = run_stdin(&args, &[("HG_SECRET", "s")], b"{}");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("1 webhook failed") && stderr.contains("Connection refused"), "{stderr}");
    assert_eq!(stderr.matches("Connection refused").count(), 1, "once: {stderr}");
}

/// `openssl req -x509` makes a self-signed certificate with CA:TRUE; curl trusts it with
/// `--cacert`, and so must `send --ca-cert` (WebPKI alone refuses a CA as the server's own).
#[test]
fn send_trusts_a_plain_openssl_self_signed_certificate() {
    let dir = temp_dir("send-ca-cert");
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", text(&made.stderr));
    std::fs::write(dir.join("s"), "s").unwrap();
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"sqlite://{}/h.db\"\ntls = {{ cert = \"cert.pem\", key = \"key.pem\" }}\n[[source]]\nname = \"flinks\"\npath = \"/webhooks/flinks\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"s\" }}]\n",
            dir.display()
        ),
    )
    .unwrap();
    let (server, addr) = common::serve(&config);
    let send = |host: &str| {
        let url = format!("https://{host}:{}/webhooks/flinks", addr.port());
        let cert = dir.join("cert.pem");
        let args = ["send", "--scheme", "flinks", "--secret-env", "HG_SECRET", "--url", &url, "-", "--ca-cert"];
        let args: Vec<&str> = args.into_iter().chain([cert.to_str().unwrap()]).collect();
        run_stdin(&args, &[("HG_SECRET", "s")], b"{\"a\":1}")
    };
    let out = send("127.0.0.1");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("final status: 200: 1"), "{}", text(&out.stdout));
    // Pinned, but only for the names it is for.
    let out = send("127.0.0.2");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    common::sigterm_and_wait(server);
}

#[test]
fn secret_generate_prints_a_fresh_usable_secret() {
    let a = run(&["secret", "generate"], &[]);
    let b = run(&["secret", "generate"], &[]);
    assert!(a.status.success(), "{}", text(&a.stderr));
    let (a, b) = (text(&a.stdout), text(&b.stdout));
    assert!(a.starts_with("whsec_") && a.ends_with('\n'), "{a}");
    assert_ne!(a, b, "random each time");
    // A secret the Standard Webhooks preset accepts.
    let signed = Command::new(bin())
        .args(["sign", "--scheme", "standard-webhooks", "--secret-env", "NEW"])
        .env("NEW", a.trim())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let hex = text(&run(&["secret", "generate", "--format", "hex", "--bytes", "16"], &[]).stdout);
    assert_eq!(hex.trim().len(), 32, "{hex}");
}

#[test]
fn completions_and_man_pages_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell], &[]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("replay"), "{shell}");
    }
    let dir = temp_dir("man-pages");
    let out = run(&["man", "--out", dir.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.join("hookgate-serve.1")).unwrap();
    assert!(page.contains(".TH") && page.contains("\\-\\-no\\-migrate"), "{page}");
    assert!(dir.join("hookgate.1").exists());
}

#[test]
fn lists_take_ages_and_windows() {
    let dir = temp_dir("ages");
    let store = migrated_store(&dir);
    for args in [["--since", "1h"], ["--until", "30m"], ["--since", "2d"]] {
        let out = run(&["events", "list", "--store", &store, args[0], args[1]], &[]);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let out = run(&["events", "list", "--store", &store, "--since", "soon"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("an age like 90s, 15m"), "{}", text(&out.stderr));
}

#[test]
fn data_commands_print_json() {
    let dir = temp_dir("json-out");
    let store = migrated_store(&dir);
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hookgate.toml");
    let env = [("FLINKS_HMAC_SECRET", "s"), ("FIN_WEBHOOK_SECRET", "s")];
    let check = run(&["config", "check", "--config", example, "--format", "json"], &env);
    let v: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["sources"][0]["name"], "flinks");
    let bad = run(&["config", "check", "--config", example, "--format", "json"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["error"].as_str().unwrap().contains("FLINKS_HMAC_SECRET"), "{v}");
    let retry = run(&["retry", "--dead", "--store", &store, "--format", "json"], &[]);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&retry.stdout).unwrap(), serde_json::json!({"revived": 0}));
}

#[test]
fn send_takes_headers_an_id_a_timestamp_and_an_expected_status() {
    let dir = temp_dir("send-flags");
    std::fs::write(dir.join("s"), "s").unwrap();
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"sqlite://{}/h.db\"\n[[source]]\nname = \"sw\"\npath = \"/sw\"\nscheme = \"standard-webhooks\"\nsecret_encoding = \"utf8\"\nsecrets = [{{ file = \"s\" }}]\n",
            dir.display()
        ),
    )
    .unwrap();
    let (server, addr) = common::serve(&config);
    let url = format!("http://{addr}/sw");
    let send = |extra: &[&str]| {
        let mut args = vec!["send", "--scheme", "standard-webhooks", "--secret-encoding", "utf8", "--secret-env"];
        args.extend(["HG_SECRET", "--url", &url, "-", "--format", "json"]);
        args.extend(extra);
        run_stdin(&args, &[("HG_SECRET", "s")], b"{\"a\":1}")
    };
    let out = send(&["--id", "msg_fixed", "-H", "X-Extra: 1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["final"]["204"], 1, "{v}");
    // An old timestamp is outside the window: 400, which --expect makes the success.
    let out = send(&["--timestamp", "1000", "--expect", "400"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = send(&["--timestamp", "1000"]);
    assert_eq!(out.status.code(), Some(1));
    common::sigterm_and_wait(server);
    let stored =
        run(&["events", "list", "--store", &format!("sqlite://{}/h.db", dir.display()), "--format", "json"], &[]);
    let events: Vec<serde_json::Value> = serde_json::from_slice(&stored.stdout).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["provider_id"], "msg_fixed");
}

/// A rejected attempt keeps its header values (minus `drop_headers`) and, when the source keeps
/// rejected bodies, its body: enough to re-verify it offline.
#[test]
fn a_rejection_can_be_shown_and_re_verified_offline() {
    use std::io::{Read as _, Write as _};
    let dir = temp_dir("rejection-show");
    std::fs::write(dir.join("s"), "the-secret").unwrap();
    let db = dir.join("h.db");
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"sqlite://{}\"\n[[source]]\nname = \"flinks\"\npath = \"/f\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"s\" }}]\nkeep_rejected_bodies = true\n",
            db.display()
        ),
    )
    .unwrap();
    let (server, addr) = common::serve(&config);
    let body = b"{\"ResponseType\":\"KYC\"} ";
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer hunter2\r\nX-Flinks-Signature: AAAA\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    common::sigterm_and_wait(server);
    let store = format!("sqlite://{}", db.display());
    let shown = run(&["rejections", "show", "1", "--store", &store, "--format", "json"], &[]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let v: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let headers = v["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h[0] == "x-flinks-signature" && h[1] == "AAAA"), "{v}");
    assert!(!text(&shown.stdout).contains("hunter2"), "a dropped header's value is never kept: {v}");
    assert!(headers.iter().all(|h| h[0] != "authorization"));
    assert_eq!(v["body"], "{\"ResponseType\":\"KYC\"} ");
    let raw = run(&["rejections", "show", "1", "--store", &store, "--body"], &[]);
    assert_eq!(raw.stdout, body);
    // Offline: the same bytes and headers, the source's secret.
    let args = ["verify", "--scheme", "flinks", "--secret-env", "S", "-H", "X-Flinks-Signature: AAAA"];
    let verdict = run_stdin(&args, &[("S", "the-secret")], &raw.stdout);
    assert_eq!(verdict.status.code(), Some(1));
    assert!(text(&verdict.stderr).contains("invalid"), "{}", text(&verdict.stderr));
    let table = text(&run(&["rejections", "show", "1", "--store", &store], &[]).stdout);
    assert!(table.contains("x-flinks-signature: AAAA") && table.contains("body:        kept"), "{table}");
}

/// `route test` on the shipped delivery example: the routes and targets a body would get.
#[test]
fn route_test_prints_the_routes_and_targets_a_body_gets() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/hookgate-delivery.toml");
    let env = [
        ("FLINKS_HMAC_SECRET", "s"),
        ("KYC_SVC_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("ACCOUNTS_SVC_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("AUDIT_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ];
    let test = |body: &[u8]| {
        let out =
            run_stdin(&["route", "test", "--config", example, "--source", "flinks", "--format", "json"], &env, body);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = test(br#"{"ResponseType":"KYC","Tag":"userId=12345,session=abc"}"#);
    assert_eq!(v["routes"], serde_json::json!([1]), "the first matching route wins: {v}");
    assert_eq!(v["targets"], serde_json::json!(["kyc", "accounts"]));
    let v = test(br#"{"ResponseType":"GetAccountsDetail"}"#);
    assert_eq!((v["routes"].clone(), v["targets"].clone()), (serde_json::json!([3]), serde_json::json!(["accounts"])));
    let v = test(br#"{"ResponseType":"Other"}"#);
    assert_eq!(v["default"], true);
    assert_eq!(v["targets"], serde_json::json!(["catch-all"]));
    let missing = run(&["route", "test", "--config", example, "--source", "nope"], &env);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no source `nope`"), "{}", text(&missing.stderr));
}

#[test]
fn send_knows_other_providers_retry_schedules() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/x");
    // Scaled down; the attempt count is the schedule's retries plus the first attempt.
    for (schedule, attempts) in [("slack", 4), ("stripe", 10), ("shopify", 9), ("github", 1), ("standard-webhooks", 8)]
    {
        let args = ["send", "--scheme", "slack", "--secret-env", "HG_SECRET", "--url", &url, "-", "--retry-schedule"];
        let args: Vec<&str> =
            args.into_iter().chain([schedule, "--time-scale", "0.00001", "--format", "json"]).collect();
        let out = run_stdin(&args, &[("HG_SECRET", "s")], b"{}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["attempts"], attempts, "{schedule}: {v}");
    }
}
