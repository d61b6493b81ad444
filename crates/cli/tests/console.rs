//! The web console in a real browser: `hookgate serve` with `[admin]`, then
//! `tests/console/console.test.mjs` driving Debian's Chromium through playwright-core (installed
//! by `scripts/test.sh`, which names it in `HOOKGATE_PLAYWRIGHT`). Screenshots of every step go to
//! `target/console-screenshots/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SECRET: &str = "flinks-console-secret";

#[test]
fn the_console_works_in_a_real_browser() {
    let playwright = std::env::var("HOOKGATE_PLAYWRIGHT")
        .expect("HOOKGATE_PLAYWRIGHT names playwright-core's node_modules folder (scripts/test.sh installs it)");
    let dir = temp_dir("console");
    let tokens = dir.join("admin-tokens.toml");
    let operator = admin_token(&tokens, "ops", "operator", &[]);
    let viewer = admin_token(&tokens, "watcher", "viewer", &[]);
    let root = admin_token(&tokens, "root", "admin", &[]);
    let healed = dir.join("flaky-ok");
    // An HTTP target, whose attempts record the request sent and the response's headers (the
    // delivery page shows them).
    let (receiver, _) = start_receiver(std::time::Duration::ZERO);
    std::fs::write(dir.join("target.secret"), TARGET_SECRET).unwrap();
    // A route to a target that fails (and, with one attempt, dies) until the browser test
    // creates the file. (`[[source.route]]` after the targets still belongs to the source.)
    let extra = format!(
        r#"
[[source.route]]
match = {{ ResponseType = "FAIL" }}
targets = ["flaky"]

[[source.route]]
match = {{ ResponseType = "HTTP" }}
targets = ["receiver"]

[[target]]
name = "flaky"
type = "command"
command = ["sh", "-c", "test -e '{healed}'"]
retry = {{ max_attempts = 1 }}

[[target]]
name = "receiver"
type = "http"
url = "http://{receiver}/in?token=console-target-token"
secret = {{ file = "target.secret" }}
"#,
        healed = healed.display(),
    );
    let (child, hooks, admin, log) = serve_admin_config(&dir, SECRET, &extra);
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
        .env("HG_ADMIN_TOKEN", &root)
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
