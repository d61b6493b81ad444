//! Helpers shared by the tests that run `hookgate` as a process.
// Each test binary uses a different subset.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hookgate")
}

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hookgate-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `hookgate serve` and returns it with the address it reports once listening.
pub(crate) fn serve(config: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(bin())
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(rest) = line.split("addr=").nth(1) {
                tx.send(rest.split_whitespace().next().unwrap().parse::<SocketAddr>().unwrap()).unwrap();
                sent = true;
            }
        }
    });
    (child, rx.recv_timeout(Duration::from_secs(30)).expect("hookgate serve reports its address"))
}

/// Graceful stop; the exit status must be success.
pub(crate) fn sigterm_and_wait(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "graceful stop exits 0");
}
