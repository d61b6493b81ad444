//! The web console in a real browser: `hookgate serve` with `[admin]`, then
//! `tests/console/console.test.mjs` driving Debian's Chromium through playwright-core (installed
//! by `scripts/test.sh`, which names it in `HOOKGATE_PLAYWRIGHT`). Screenshots of every step go to
//! `target/console-screenshots/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SECRET: &str = "flinks-console-secret";

fn token(tokens: &Path, name: &str, role: &str) -> String {
    let out =
        cli(&["admin", "token", "create", "--tokens-file", tokens.to_str().unwrap(), "--name", name, "--role", role]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_console_works_in_a_real_browser() {
    let playwright = std::env::var("HOOKGATE_PLAYWRIGHT")
        .expect("HOOKGATE_PLAYWRIGHT names playwright-core's node_modules folder (scripts/test.sh installs it)");
    let dir = temp_dir("console");
    let tokens = dir.join("admin-tokens.toml");
    let operator = token(&tokens, "ops", "operator");
    let viewer = token(&tokens, "watcher", "viewer");
    let admin_token = token(&tokens, "root", "admin");
    std::fs::write(dir.join("flinks.secret"), SECRET).unwrap();
    let healed = dir.join("flaky-ok");
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

[[source.route]]
match = {{ ResponseType = "FAIL" }}
targets = ["flaky"]

[[target]]
name = "audit"
type = "command"
command = ["true"]

# Fails (and, with one attempt, dies) until the browser test creates the file.
[[target]]
name = "flaky"
type = "command"
command = ["sh", "-c", "test -e '{healed}'"]
retry = {{ max_attempts = 1 }}
"#,
        db = dir.join("h.db").display(),
        healed = healed.display(),
    );
    std::fs::write(dir.join("hookgate.toml"), &config).unwrap();
    let (child, hooks, _, log) = serve_command(Command::new(bin()), &dir.join("hookgate.toml"), false);
    let admin = admin_addr(&log);
    let shots: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console/console.test.mjs");
    let out = Command::new("node")
        .arg(&script)
        .env("HOOKGATE_PLAYWRIGHT", &playwright)
        .env("HG_CONSOLE_URL", format!("http://{admin}/"))
        .env("HG_HOOKS_URL", format!("http://{hooks}/webhooks/flinks"))
        .env("HG_SECRET", SECRET)
        .env("HG_OPERATOR_TOKEN", &operator)
        .env("HG_VIEWER_TOKEN", &viewer)
        .env("HG_ADMIN_TOKEN", &admin_token)
        .env("HG_SCREENSHOTS", &shots)
        .env("HG_FLAKY_OK_FILE", &healed)
        .output()
        .expect("node runs (scripts/test.sh installs it with the browser)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    sigterm_and_wait(child);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}\n--- gateway log ---\n{}",
        log.lock().unwrap()
    );
    assert!(stdout.contains("every check passed"), "{stdout}");
    let _ = std::fs::remove_dir_all(dir);
}
