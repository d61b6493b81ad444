//! `hookgate serve` under storage faults, as real processes: a full disk (a small tmpfs).
//! Mounting needs root; under `CI=true` a run without root fails instead of skipping.

mod common;
use common::{cli, post_flinks, serve, temp_dir, wait_for};

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "faults-test-secret";

fn can_mount() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true: the fault tests need root to mount a tmpfs");
        eprintln!("skipped: mounting a tmpfs needs root");
    }
    root
}

/// A tmpfs of `mib` MiB, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn new(dir: &Path, mib: u32) -> Self {
        let mount = dir.join("disk");
        std::fs::create_dir_all(&mount).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs", mount.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(ok.success(), "mount a tmpfs");
        Self(mount)
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0xa5u8; 64 * 1024];
        loop {
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        // The last bytes that fit, in small pieces.
        while f.write_all(&chunk[..512]).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn get_status(addr: SocketAddr, path: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn write_config(dir: &Path, db: &Path) -> PathBuf {
    std::fs::write(dir.join("flinks.secret"), SECRET).unwrap();
    let config = dir.join("hookgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"sqlite://{}\"\nstore_timeout_secs = 3\n\n[[source]]\nname = \"flinks\"\npath = \"/webhooks/flinks\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\n",
            db.display()
        ),
    )
    .unwrap();
    config
}

/// A distinct body of about 1.5 KiB (under the compression threshold: every byte is written).
fn body(i: usize) -> Vec<u8> {
    let pad: String = (0..1500).map(|k| char::from(b'a' + ((i * 31 + k * 7) % 26) as u8)).collect();
    format!(r#"{{"ResponseType":"KYC","RequestId":"disk-{i}","Pad":"{pad}"}}"#).into_bytes()
}

fn stored_ids(store: &str) -> Vec<String> {
    let out = cli(&["events", "list", "--store", store, "--format", "json", "--limit", "100000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    events.iter().map(|e| e["body_sha256"].as_str().unwrap().to_owned()).collect()
}

/// On a full disk every webhook gets 503, so `/readyz` must say not ready (an empty commit wrote
/// nothing and said ready); once space is back, the node is ready and stores again, and every
/// event it acknowledged is there after a restart.
#[test]
fn a_full_disk_makes_the_node_not_ready_until_space_is_back() {
    if !can_mount() {
        return;
    }
    let dir = temp_dir("full-disk");
    let disk = SmallDisk::new(&dir, 24);
    let db = disk.0.join("hookgate.db");
    let store = format!("sqlite://{}", db.display());
    let config = write_config(&dir, &db);
    let (server, addr) = serve(&config);
    let mut acked = Vec::new();
    for i in 0..20 {
        assert_eq!(post_flinks(addr, SECRET, &body(i)).unwrap(), 200);
        acked.push(hookgate_server::source::sha256_hex(&body(i)));
    }
    assert_eq!(get_status(addr, "/readyz"), 200);

    let filler = disk.fill();
    let mut refused = 0;
    let mut i = 20;
    // Bounded: the log and the database stop growing within a few hundred events.
    while refused < 5 && i < 5000 {
        match post_flinks(addr, SECRET, &body(i)).unwrap() {
            200 => acked.push(hookgate_server::source::sha256_hex(&body(i))),
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        i += 1;
    }
    assert_eq!(refused, 5, "a full disk refuses events ({} acknowledged after filling)", acked.len() - 20);
    assert_eq!(get_status(addr, "/readyz"), 503, "a node that cannot commit is not ready");

    std::fs::remove_file(filler).unwrap();
    // Space is back: the probe's own write succeeds again within the failure window's end, and
    // an event that arrives is stored.
    wait_for("an event to be stored again", 30, || {
        let status = post_flinks(addr, SECRET, &body(i)).unwrap();
        if status == 200 {
            acked.push(hookgate_server::source::sha256_hex(&body(i)));
        }
        i += 1;
        status == 200
    });
    assert_eq!(get_status(addr, "/readyz"), 200);
    common::sigterm_and_wait(server);

    let stored = stored_ids(&store);
    let missing: Vec<_> = acked.iter().filter(|h| !stored.contains(h)).collect();
    assert!(missing.is_empty(), "{} acknowledged events lost", missing.len());
    drop(disk);
}
