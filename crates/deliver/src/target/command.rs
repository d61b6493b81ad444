//! `type = "command"` (adnanh/webhook's use case): run a program with the body on stdin and the
//! event's metadata in its environment; exit 0 is delivered.

use hookgate_store::Claimed;
use hookgate_verify::Timestamp;
use serde::Deserialize;

use super::Attempt;
use crate::{EXCERPT_BYTES, Outcome};

/// A command target's own keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// The program and its arguments, run directly (no shell), the body on stdin.
    pub command: Vec<String>,
    /// Environment variables passed on from Hookgate's own environment (nothing else is:
    /// Hookgate's environment holds secrets).
    #[serde(default)]
    pub pass_env: Vec<String>,
}

#[derive(Debug)]
pub(super) struct CommandTarget {
    argv: Vec<String>,
    pass_env: Vec<String>,
}

impl CommandTarget {
    pub(super) fn build(c: &CommandConfig) -> Result<Self, String> {
        if c.command.first().is_none_or(|p| p.is_empty()) {
            return Err("`command` needs at least the program".into());
        }
        Ok(Self { argv: c.command.clone(), pass_env: c.pass_env.clone() })
    }

    pub(super) fn destination(&self) -> String {
        self.argv[0].clone()
    }

    pub(super) async fn deliver(&self, c: &Claimed, attempt: Attempt<'_>) -> Outcome {
        match self.run(c, attempt).await {
            Ok((0, output)) => Outcome::Delivered { status: Some(0), response: Some(output) },
            // A program's failure may be passing (its dependency is down): retried, as a 5xx is.
            Ok((code, output)) => Outcome::Retry {
                status: Some(code),
                error: format!("exit code {code}"),
                response: Some(output),
                after: None,
            },
            Err(e) => Outcome::retry(e),
        }
    }

    /// Runs the command: no shell, the body on stdin, metadata in `HOOKGATE_*` variables, and a
    /// clean environment (Hookgate's own holds secrets) plus `PATH` and the target's `pass_env`.
    /// The timeout kills it. Returns the exit code and the start of its output.
    async fn run(&self, c: &Claimed, attempt: Attempt<'_>) -> Result<(i64, String), String> {
        use tokio::io::AsyncWriteExt as _;
        let mut cmd = tokio::process::Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .env_clear()
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            // Its own process group, so a timeout kills what it started too (`sh -c "sleep 30"`),
            // not only the direct child.
            .process_group(0)
            .kill_on_drop(true);
        for var in std::iter::once("PATH").chain(self.pass_env.iter().map(String::as_str)) {
            if let Some(v) = std::env::var_os(var) {
                cmd.env(var, v);
            }
        }
        cmd.env("HOOKGATE_EVENT_ID", c.event_id.to_string())
            .env("HOOKGATE_DELIVERY_ID", c.delivery_id.to_string())
            .env("HOOKGATE_SOURCE", &c.source)
            .env("HOOKGATE_EVENT_TYPE", crate::carried_text::env_value(c.event_type.as_deref().unwrap_or("")).as_ref())
            .env("HOOKGATE_RECEIVED_AT", Timestamp::from_unix_millis(c.received_at_ms).to_rfc3339())
            .env("HOOKGATE_ATTEMPT", attempt.number.to_string())
            .env("HOOKGATE_TARGET", attempt.target);
        let mut child = cmd.spawn().map_err(|e| format!("cannot run `{}`: {e}", self.argv[0]))?;
        let group = child.id();
        let (mut stdin, mut stdout, mut stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let body = c.body.clone();
        let run = async move {
            let feed = async {
                if let Some(s) = stdin.as_mut() {
                    // A program that does not read its stdin is fine: a broken pipe is not an error.
                    let _ = s.write_all(&body).await;
                }
                drop(stdin);
            };
            // Read both streams to the end (so the child never blocks on a full pipe), keep the start.
            let ((), out, err, status) =
                tokio::join!(feed, read_bounded(stdout.take()), read_bounded(stderr.take()), child.wait());
            (out, err, status)
        };
        match tokio::time::timeout(attempt.timeout, run).await {
            Ok((out, err, Ok(status))) => {
                let mut text = String::from_utf8_lossy(&out).into_owned();
                if !err.is_empty() {
                    text.push_str(&String::from_utf8_lossy(&err));
                }
                // A signal has no exit code; -1 stands for it.
                Ok((i64::from(status.code().unwrap_or(-1)), text))
            }
            Ok((_, _, Err(e))) => Err(format!("waiting for the command failed: {e}")),
            // Dropping the future drops the child, which kills it (kill_on_drop); the rest of its
            // process group goes with it.
            Err(_) => {
                if let Some(group) = group {
                    kill_group(group);
                }
                Err(format!("timed out after {} s; killed", attempt.timeout.as_secs()))
            }
        }
    }
}

/// Reads a child's stream to the end, keeping at most [`EXCERPT_BYTES`].
async fn read_bounded(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut kept = Vec::new();
    if let Some(mut s) = stream {
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n.min(EXCERPT_BYTES.saturating_sub(kept.len()))]);
        }
    }
    kept
}

/// Sends SIGKILL to every process in the group `pgid` (a command started with
/// `process_group(0)`, so its pid is the group id). A group that is already gone is fine.
fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else { return };
    if pgid <= 1 {
        // 0 is our own group and 1 is init: never.
        return;
    }
    // SAFETY: `killpg` only sends a signal; `pgid` is the group our own child leads (created
    // with `process_group(0)`), checked above to be neither our group (0) nor init's (1).
    #[allow(unsafe_code)]
    let rc = unsafe { libc::killpg(pgid, libc::SIGKILL) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ESRCH) {
            tracing::warn!(pgid, error = %e, "Cannot kill a timed-out command's process group.");
        }
    }
}
