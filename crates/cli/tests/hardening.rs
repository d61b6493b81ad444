//! Security hardening of the `hookgate serve` process, checked as an attacker would try it.

mod common;
use common::{bin, post_flinks, temp_dir, wait_for};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const UNPRIVILEGED: &str = "65534"; // nobody

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The hookgate binary as a path the unprivileged user can execute (a copy when the build tree is
/// closed to it).
fn runnable_bin(dir: &Path) -> PathBuf {
    let usable = Command::new("setpriv")
        .args(["--reuid", UNPRIVILEGED, "--regid", UNPRIVILEGED, "--clear-groups", "--", bin(), "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if usable {
        return PathBuf::from(bin());
    }
    let copy = dir.join("hookgate");
    std::fs::copy(bin(), &copy).unwrap();
    copy
}

/// `hookgate serve` as an ordinary user (as the shipped systemd unit runs it): under root, dropped
/// to `nobody`; otherwise as the current user, which is already unprivileged.
fn serve_unprivileged(dir: &Path, config: &Path, envs: &[(&str, &str)]) -> (Child, SocketAddr) {
    let (child, addr, _) = serve_logged(dir, config, envs, true);
    (child, addr)
}

/// `hookgate serve` with its log kept: `unprivileged` as [`serve_unprivileged`].
fn serve_logged(
    dir: &Path,
    config: &Path,
    envs: &[(&str, &str)],
    unprivileged: bool,
) -> (Child, SocketAddr, Arc<Mutex<String>>) {
    let mut program = if unprivileged && is_root() { as_nobody(dir) } else { Command::new(bin()) };
    program.envs(envs.iter().copied());
    let (child, addr, _, log) = common::serve_command(program, config, false);
    (child, addr, log)
}

/// The hookgate binary run as `nobody` (the caller is root).
fn as_nobody(dir: &Path) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid", UNPRIVILEGED, "--regid", UNPRIVILEGED, "--clear-groups", "--"]).arg(runnable_bin(dir));
    c
}

fn open_to_everyone(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
}

/// A command target of the gateway's own user reads `/proc/$PPID/environ`, where every source
/// and target secret of the gateway is: the gateway must have closed it.
#[test]
fn a_command_target_cannot_read_the_gateways_environment() {
    let dir = temp_dir("proc-environ");
    open_to_everyone(&dir);
    let out = dir.join("environ.out");
    let err = dir.join("environ.err");
    let secret = "flinks-secret-that-must-not-leak-7f3a";
    // The attack itself, with its output and errors caught in files the test reads.
    let script = format!("exec > {} 2> {}; tr '\\0' '\\n' < /proc/$PPID/environ", out.display(), err.display());
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"
store = "sqlite://{store}"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ env = "HARDENING_FLINKS_SECRET" }}]
default_targets = ["spy"]

[[target]]
name = "spy"
type = "command"
command = ["sh", "-c", "{script}"]

[target.retry]
max_attempts = 1
"#,
        store = dir.join("hookgate.db").display(),
        script = script.replace('\\', "\\\\").replace('"', "\\\""),
    );
    let config_path = dir.join("hookgate.toml");
    std::fs::write(&config_path, config).unwrap();
    let (child, addr) = serve_unprivileged(&dir, &config_path, &[("HARDENING_FLINKS_SECRET", secret)]);
    assert_eq!(post_flinks(addr, secret, br#"{"ResponseType":"KYC"}"#).unwrap(), 200);
    wait_for("the command target to run", 30, || err.exists() && out.exists());
    std::thread::sleep(Duration::from_millis(200));
    let leaked = std::fs::read_to_string(&out).unwrap();
    let why = std::fs::read_to_string(&err).unwrap();
    common::sigterm_and_wait(child);
    assert!(!leaked.contains(secret), "the child read the gateway's environment: {leaked}");
    // Proof the attempt really ran and was refused (not that the file was merely empty).
    assert!(why.contains("Permission denied"), "expected a refused read, got: {why:?}");
}

/// A target URL may carry a credential (`?token=…`, `user:pass@`): neither reaches the log, the
/// delivery's recorded error or `deliveries show`.
#[test]
fn target_url_credentials_are_never_logged_or_stored() {
    let dir = temp_dir("url-redaction");
    // A port nothing listens on: the attempt fails with the client's error, which names the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    std::fs::write(dir.join("flinks.secret"), "s").unwrap();
    std::fs::write(dir.join("target.secret"), common::TARGET_SECRET).unwrap();
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"
store = "sqlite://{store}"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "flinks.secret" }}]
default_targets = ["svc"]

[[target]]
name = "svc"
type = "http"
url = "http://hookuser:pw-9d2e@{closed}/in?token=tok-51ab&tenant=acme"
secret = {{ file = "target.secret" }}

[target.retry]
max_attempts = 1
"#,
        store = dir.join("hookgate.db").display(),
    );
    let config_path = dir.join("hookgate.toml");
    std::fs::write(&config_path, config).unwrap();
    let (child, addr, log) = serve_logged(&dir, &config_path, &[], false);
    assert_eq!(post_flinks(addr, "s", b"{}").unwrap(), 200);
    let store = format!("sqlite://{}", dir.join("hookgate.db").display());
    wait_for("the attempt to fail", 30, || {
        let out = common::cli(&["deliveries", "list", "--store", &store, "--status", "dead", "--format", "json"]);
        String::from_utf8_lossy(&out.stdout).contains("\"id\"")
    });
    let show = common::cli(&["deliveries", "show", "1", "--store", &store]);
    let shown = String::from_utf8_lossy(&show.stdout).into_owned();
    common::sigterm_and_wait(child);
    let log = log.lock().unwrap().clone();
    for (what, text) in [("log", &log), ("deliveries show", &shown)] {
        assert!(!text.contains("tok-51ab") && !text.contains("pw-9d2e"), "{what} has a credential:\n{text}");
        assert!(!text.contains("hookuser"), "{what} has the userinfo:\n{text}");
    }
    // What is left still says where and why.
    assert!(shown.contains("/in?token=***&tenant=***"), "{shown}");
    assert!(shown.to_lowercase().contains("connection refused"), "the cause is named: {shown}");
}

/// A store file the gateway's user cannot write (root-owned, 0444, in a writable directory):
/// SQLite would open it read-only without a word, the gateway would report ready and answer every
/// webhook 503. It must refuse to start instead.
#[test]
fn as_root_a_store_file_the_gateway_cannot_write_stops_the_start() {
    use std::os::unix::fs::PermissionsExt as _;
    assert!(
        is_root(),
        "needs root to make a file another user cannot write (scripts/test.sh excludes `as_root_` tests without it)"
    );
    let dir = temp_dir("read-only-store");
    open_to_everyone(&dir);
    let db = dir.join("hookgate.db");
    let store = format!("sqlite://{}", db.display());
    let migrate = common::cli(&["migrate", "--store", &store]);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::write(dir.join("flinks.secret"), "s").unwrap();
    std::fs::set_permissions(dir.join("flinks.secret"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.join("hookgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"{store}\"\n\n[[source]]\nname = \"flinks\"\npath = \"/f\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\n"
        ),
    )
    .unwrap();
    let out = as_nobody(&dir)
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Without the check it would serve on: give it a bounded time to refuse.
    let mut out = out;
    let started = std::time::Instant::now();
    while out.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = out.kill();
            panic!("serve started on a store it cannot write");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = out.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "serve must refuse the store: {stderr}");
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert!(!stderr.contains("Listening"), "{stderr}");
}

/// A valid store in a directory its reader cannot write, with no `-shm` file beside it: SQLite
/// cannot read a WAL store there. Said as it is, not "not a hookgate store".
#[test]
fn as_root_a_store_in_a_read_only_directory_is_not_called_a_non_store() {
    use std::os::unix::fs::PermissionsExt as _;
    assert!(
        is_root(),
        "needs root to make a directory another user cannot write (scripts/test.sh excludes `as_root_` tests without it)"
    );
    let dir = temp_dir("read-only-dir");
    let db = dir.join("hookgate.db");
    let store = format!("sqlite://{}", db.display());
    assert!(common::cli(&["migrate", "--store", &store]).status.success());
    // The shared-memory index is rebuilt by whoever opens the store next; a store copied or
    // restored elsewhere arrives without it.
    let _ = std::fs::remove_file(dir.join("hookgate.db-shm"));
    // Made before the directory closes: the binary may have to be copied into it.
    let mut events_list = as_nobody(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = events_list.args(["events", "list", "--store", &store]).output().unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("not a hookgate store"), "{stderr}");
    assert!(stderr.contains("-shm"), "the reason is given: {stderr}");
}
