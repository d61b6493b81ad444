//! Helpers shared by the tests that run `hookgate` as a process.
// Each test binary uses a different subset.
#![allow(dead_code)]

pub(crate) mod api;

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hookgate_axum::{VerifiedWebhook, WebhookVerifier};
use hookgate_verify::http::HeaderMap;
use hookgate_verify::{Secret, SecretEncoding, SignOptions, Verifier, WebhookRequest, preset};

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hookgate")
}

/// A directory of the test's own, kept until the test removes it (`hookgate-test-support`).
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    hookgate_test_support::TempDir::new(&format!("cli-{name}")).keep()
}

/// Starts `hookgate serve` and returns it with the address it reports once listening.
pub(crate) fn serve(config: &Path) -> (Child, SocketAddr) {
    serve_with_env(config, &[])
}

/// Like `serve`, with these extra environment variables.
pub(crate) fn serve_with_env(config: &Path, envs: &[(&str, &str)]) -> (Child, SocketAddr) {
    let (child, addr, _, _) = serve_reporting(config, false, envs);
    (child, addr)
}

/// Like `serve_with_env`, with the log it writes as it goes.
pub(crate) fn serve_logged(config: &Path, envs: &[(&str, &str)]) -> (Child, SocketAddr, Arc<Mutex<String>>) {
    let (child, addr, _, log) = serve_reporting(config, false, envs);
    (child, addr, log)
}

/// Like `serve`, for a config with `metrics_listen`: also the operator listener's address.
pub(crate) fn serve_with_ops(config: &Path) -> (Child, SocketAddr, SocketAddr) {
    let (child, addr, ops, _) = serve_reporting(config, true, &[]);
    (child, addr, ops.expect("hookgate serve reports its operator listener"))
}

fn serve_reporting(
    config: &Path,
    ops: bool,
    envs: &[(&str, &str)],
) -> (Child, SocketAddr, Option<SocketAddr>, Arc<Mutex<String>>) {
    let mut program = Command::new(bin());
    program.envs(envs.iter().copied());
    serve_command(program, config, ops)
}

/// `serve --config CONFIG` run by `program` (the binary, or a wrapper such as `setpriv … hookgate`),
/// with the addresses it reports and the log it writes as it goes.
pub(crate) fn serve_command(
    mut program: Command,
    config: &Path,
    ops: bool,
) -> (Child, SocketAddr, Option<SocketAddr>, Arc<Mutex<String>>) {
    let log = Arc::new(Mutex::new(String::new()));
    let kept = Arc::clone(&log);
    let mut child = program
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut addr, mut ops_addr) = (None, None);
        let field = |line: &str, name: &str| -> Option<SocketAddr> {
            line.split(name).nth(1)?.split_whitespace().next()?.parse().ok()
        };
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            kept.lock().unwrap().push_str(&format!("{line}\n"));
            if addr.is_none() {
                addr = field(&line, "addr=");
            }
            if ops_addr.is_none() && line.contains("for operators") {
                ops_addr = field(&line, "listen=");
            }
            if let Some(a) = addr
                && !sent
                && (!ops || ops_addr.is_some())
            {
                tx.send((a, ops_addr)).unwrap();
                sent = true;
            }
        }
    });
    let (addr, ops_addr) = rx.recv_timeout(Duration::from_secs(30)).expect("hookgate serve reports its address");
    (child, addr, ops_addr, log)
}

/// The operator API's address, once the log of `serve_command` reports it.
pub(crate) fn admin_addr(log: &Mutex<String>) -> SocketAddr {
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
    admin.unwrap()
}

/// A new operator token from `hookgate admin token create` (`extra`: `--expires 1h`, …).
pub(crate) fn admin_token(tokens: &Path, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args =
        vec!["admin", "token", "create", "--tokens-file", tokens.to_str().unwrap(), "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let out = cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(t.starts_with("hgat_") && t.len() > 40, "{t}");
    t
}

/// Writes `dir/hookgate.toml`: `[server]` on 127.0.0.1:0 with `server_extra`, `[admin]` (tokens
/// in `dir/admin-tokens.toml`) unless `admin` is false, a Flinks source signed with `secret` that
/// keeps rejected bodies, deduplicates by `/RequestId` and routes to a command target `audit`,
/// then `extra` (more routes, more targets). Returns its path.
pub(crate) fn write_gateway_config(dir: &Path, secret: &str, server_extra: &str, admin: bool, extra: &str) -> PathBuf {
    std::fs::write(dir.join("flinks.secret"), secret).unwrap();
    let admin = if admin { "[admin]\nlisten = \"127.0.0.1:0\"\ntokens_file = \"admin-tokens.toml\"\n" } else { "" };
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
store = "sqlite://{db}"
{server_extra}

{admin}
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
{extra}
"#,
        db = dir.join("h.db").display()
    );
    let path = dir.join("hookgate.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Starts `hookgate serve` on `write_gateway_config`'s file with `[admin]` and `extra`. Returns it
/// with the webhook and operator API addresses and its log.
pub(crate) fn serve_admin_config(
    dir: &Path,
    secret: &str,
    extra: &str,
) -> (Child, SocketAddr, SocketAddr, Arc<Mutex<String>>) {
    let config = write_gateway_config(dir, secret, "", true, extra);
    let (child, hooks, _, log) = serve_command(Command::new(bin()), &config, false);
    let api = admin_addr(&log);
    (child, hooks, api, log)
}

/// Graceful stop; the exit status must be success.
pub(crate) fn sigterm_and_wait(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "graceful stop exits 0");
}

/// The secret delivery targets verify Hookgate's Standard Webhooks signature with.
pub(crate) const TARGET_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Writes a config with a Flinks source (secret `secret`) routed to the HTTP target `target`
/// (Hookgate signs with `TARGET_SECRET`; quick retries), on `store`; returns its path.
pub(crate) fn write_delivery_config(
    dir: &Path,
    store: &str,
    secret: &str,
    target: SocketAddr,
    timeout_secs: u32,
) -> PathBuf {
    std::fs::write(dir.join("flinks.secret"), secret).unwrap();
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"
metrics_listen = "127.0.0.1:0"
store = "{store}"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "flinks.secret" }}]
default_targets = ["svc"]

[[target]]
name = "svc"
type = "http"
url = "http://{target}/in"
secret = {{ file = "target.secret" }}
concurrency = 8
timeout_secs = {timeout_secs}

[target.retry]
max_attempts = 50
initial_delay_ms = 50
max_delay_ms = 300
"#
    );
    let path = dir.join("hookgate.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// A delivery target that verifies Hookgate's signature, takes `delay` per request and records
/// the event ids (`webhook-id`) it received.
pub(crate) fn start_receiver(delay: Duration) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            let scheme = preset("standard-webhooks").unwrap();
            let v = WebhookVerifier::new(
                Verifier::new(scheme, vec![Secret::decode(TARGET_SECRET, SecretEncoding::Whsec).unwrap()]).unwrap(),
            );
            let app = Router::new()
                .route(
                    "/in",
                    axum::routing::post(move |hook: VerifiedWebhook| {
                        let record = Arc::clone(&record);
                        async move {
                            tokio::time::sleep(delay).await;
                            record.lock().unwrap().push(hook.verified.id.unwrap_or_default());
                            "ok"
                        }
                    }),
                )
                .with_state(v);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), seen)
}

/// POSTs `body` to `/webhooks/flinks` signed as Flinks does; the status, or the I/O error of a
/// node that is down or died mid-request.
pub(crate) fn post_flinks(addr: SocketAddr, secret: &str, body: &[u8]) -> std::io::Result<u16> {
    let v =
        Verifier::new(preset("flinks").unwrap(), vec![Secret::decode(secret, SecretEncoding::Utf8).unwrap()]).unwrap();
    let empty = HeaderMap::new();
    let headers = v.sign(&WebhookRequest::new(&empty, body), &SignOptions::default()).unwrap();
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req =
        format!("POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    out.get(9..12)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no HTTP status"))
}

pub(crate) fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn unique(seen: &Mutex<Vec<String>>) -> usize {
    seen.lock().unwrap().iter().collect::<HashSet<_>>().len()
}

pub(crate) fn cli(args: &[&str]) -> std::process::Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// The dedup index file beside a SQLite store.
pub(crate) fn dedup_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-dedup");
    PathBuf::from(name)
}
