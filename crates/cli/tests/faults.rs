//! `hookgate serve` under storage faults, as real processes: a full disk (a small tmpfs; mounting
//! needs root: those tests are named `as_root_…`, fail without root, and `scripts/test.sh`
//! excludes them, saying so, when it runs without root outside CI) and failing syncs (an
//! `LD_PRELOAD` shim, `fault_shim/sync_fault.c`, built with the system C compiler).

mod common;
use common::{cli, post_flinks, serve, serve_logged, serve_with_env, temp_dir, wait_for};

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "faults-test-secret";

/// A test that cannot run fails: it is never reported as passed.
fn require_root() {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    assert!(root, "this test mounts a tmpfs and needs root (scripts/test.sh excludes `as_root_` tests without it)");
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
fn as_root_a_full_disk_makes_the_node_not_ready_until_space_is_back() {
    require_root();
    let dir = temp_dir("full-disk");
    let disk = SmallDisk::new(&dir, 24);
    let db = disk.0.join("hookgate.db");
    let store = format!("sqlite://{}", db.display());
    let config = write_config(&dir, &db);
    let (server, addr, log) = serve_logged(&config, &[]);
    let mut acked = Vec::new();
    for i in 0..20 {
        assert_eq!(post_flinks(addr, SECRET, &body(i)).unwrap(), 200);
        acked.push(hookgate_store::sha256_hex(&body(i)));
    }
    assert_eq!(get_status(addr, "/readyz"), 200);

    let filler = disk.fill();
    let mut refused = 0;
    let mut i = 20;
    // Bounded: the log and the database stop growing within a few hundred events.
    while refused < 5 && i < 5000 {
        match post_flinks(addr, SECRET, &body(i)).unwrap() {
            200 => acked.push(hookgate_store::sha256_hex(&body(i))),
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        i += 1;
    }
    assert_eq!(refused, 5, "a full disk refuses events ({} acknowledged after filling)", acked.len() - 20);
    assert_eq!(get_status(addr, "/readyz"), 503, "a node that cannot commit is not ready");
    // Every request fails the same way: the log says so once in a while, not twice per request.
    for k in 0..100 {
        assert_eq!(post_flinks(addr, SECRET, &body(i + k)).unwrap(), 503);
    }
    i += 100;
    let errors = log.lock().unwrap().lines().filter(|l| l.contains("ERROR")).count();
    assert!(errors <= 6, "{errors} ERROR lines for 105 failed requests:\n{}", log.lock().unwrap());

    std::fs::remove_file(filler).unwrap();
    // Space is back: the probe's own write succeeds again within the failure window's end, and
    // an event that arrives is stored.
    wait_for("an event to be stored again", 30, || {
        let status = post_flinks(addr, SECRET, &body(i)).unwrap();
        if status == 200 {
            acked.push(hookgate_store::sha256_hex(&body(i)));
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

/// The sync-fault shim, built for this test run.
fn fault_shim(dir: &Path) -> PathBuf {
    let out = dir.join("sync_fault.so");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fault_shim/sync_fault.c");
    let built = Command::new("cc").args(["-shared", "-fPIC", "-O1", "-o"]).arg(&out).arg(src).arg("-ldl").status();
    assert!(built.is_ok_and(|s| s.success()), "cc builds the sync-fault shim");
    out
}

/// A gateway whose syncs of files ending in `suffix` fail while `trigger` exists.
fn serve_with_sync_faults(dir: &Path, config: &Path, suffix: &str) -> (std::process::Child, SocketAddr, PathBuf) {
    let shim = fault_shim(dir);
    let trigger = dir.join("fail-syncs");
    let (child, addr) = serve_with_env(
        config,
        &[
            ("LD_PRELOAD", shim.to_str().unwrap()),
            ("HOOKGATE_FAULT_TRIGGER", trigger.to_str().unwrap()),
            ("HOOKGATE_FAULT_SUFFIX", suffix),
        ],
    );
    (child, addr, trigger)
}

/// After a failed sync what reached the disk is unknown: the store refuses every write, and
/// readiness says so, until a restart recovers from what is on disk. The disk "healing" changes
/// nothing before that. Every acknowledged event is there afterwards.
fn a_failed_sync_fails_the_store_until_a_restart(name: &str, suffix: &str, events_before_fault: usize) {
    let dir = temp_dir(name);
    let db = dir.join("hookgate.db");
    let store = format!("sqlite://{}", db.display());
    let config = write_config(&dir, &db);
    let (server, addr, trigger) = serve_with_sync_faults(&dir, &config, suffix);
    let mut acked = Vec::new();
    for i in 0..events_before_fault {
        assert_eq!(post_flinks(addr, SECRET, &body(i)).unwrap(), 200);
        acked.push(hookgate_store::sha256_hex(&body(i)));
    }
    assert_eq!(get_status(addr, "/readyz"), 200);
    std::fs::write(&trigger, "").unwrap();
    let mut i = events_before_fault;
    // Bounded: the next sync of that file fails within a few hundred events.
    let mut refused = false;
    while !refused && i < events_before_fault + 3000 {
        match post_flinks(addr, SECRET, &body(i)).unwrap() {
            200 => acked.push(hookgate_store::sha256_hex(&body(i))),
            503 => refused = true,
            other => panic!("unexpected status {other}"),
        }
        i += 1;
    }
    assert!(refused, "a failed sync of {suffix} must stop acknowledging events");
    assert_eq!(get_status(addr, "/readyz"), 503, "and the node is not ready");
    std::fs::remove_file(&trigger).unwrap();
    for k in 0..20 {
        assert_eq!(post_flinks(addr, SECRET, &body(i + k)).unwrap(), 503, "no write is trusted before a restart");
    }
    assert_eq!(get_status(addr, "/readyz"), 503);
    common::sigterm_and_wait(server);

    // A restart recovers from what is on disk.
    let (server, addr) = serve(&config);
    assert_eq!(get_status(addr, "/readyz"), 200);
    assert_eq!(post_flinks(addr, SECRET, &body(i + 100)).unwrap(), 200);
    common::sigterm_and_wait(server);
    let stored = stored_ids(&store);
    let missing = acked.iter().filter(|h| !stored.contains(h)).count();
    assert_eq!(missing, 0, "acknowledged events lost");
}

#[test]
fn a_failed_log_sync_fails_the_store_until_a_restart() {
    a_failed_sync_fails_the_store_until_a_restart("log-sync", "/hookgate.db-wal", 10);
}

/// A checkpoint copies the log into the database and syncs it; a failure there was retried,
/// and a retry could "succeed" over pages Linux had dropped, after which the log was reused.
#[test]
fn a_failed_database_sync_after_a_checkpoint_fails_the_store_until_a_restart() {
    a_failed_sync_fails_the_store_until_a_restart("checkpoint-sync", "/hookgate.db", 300);
}

/// Fill the disk, stop, lose `hookgate.db-dedup` (an unclean reboot forces the same rebuild),
/// start: the rebuild cannot be written. The gateway serves degraded — 503 and not ready — and
/// rebuilds the index once there is room, instead of exiting (under systemd, a restart loop
/// that is given up). Retries of events stored before are still recognised afterwards.
#[test]
fn as_root_a_dedup_index_that_cannot_be_rebuilt_on_a_full_disk_degrades_instead_of_exiting() {
    require_root();
    let dir = temp_dir("degraded-start");
    let disk = SmallDisk::new(&dir, 24);
    let db = disk.0.join("hookgate.db");
    let config = write_config(&dir, &db);
    // Enough events that rebuilding their index needs more room than is left below.
    let (server, addr) = serve(&config);
    let senders = 4;
    std::thread::scope(|s| {
        for t in 0..senders {
            s.spawn(move || {
                for i in (t..3000).step_by(senders) {
                    assert_eq!(post_flinks(addr, SECRET, &small_body(i)).unwrap(), 200);
                }
            });
        }
    });
    common::sigterm_and_wait(server);
    std::fs::remove_file(common::dedup_path(&db)).unwrap();
    let filler = disk.fill();
    // Room to open the store (its shared-memory index), not to write the dedup index again.
    let free = 40 * 1024;
    let len = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&filler).unwrap().set_len(len - free).unwrap();

    let (server, addr, log) = serve_logged(&config, &[]);
    assert_eq!(get_status(addr, "/readyz"), 503, "not ready while events cannot be deduplicated");
    assert_eq!(post_flinks(addr, SECRET, &small_body(0)).unwrap(), 503, "a retry is never stored twice");
    assert_eq!(post_flinks(addr, SECRET, &small_body(9999)).unwrap(), 503);
    assert!(log.lock().unwrap().contains("serving degraded"), "{}", log.lock().unwrap());

    std::fs::remove_file(filler).unwrap();
    // The index is rebuilt within a second of there being room; the first event stored after
    // it clears the failed commits from readiness at once.
    wait_for("events to be stored again", 30, || post_flinks(addr, SECRET, &small_body(9999)).unwrap() == 200);
    assert_eq!(get_status(addr, "/readyz"), 200);
    assert_eq!(post_flinks(addr, SECRET, &small_body(0)).unwrap(), 200, "a retry of an old event");
    common::sigterm_and_wait(server);
    let store = format!("sqlite://{}", db.display());
    let stored = stored_ids(&store);
    assert_eq!(stored.len(), 3001, "the retry of event 0 was a duplicate; 9999 is new");
    drop(disk);
}

fn small_body(i: usize) -> Vec<u8> {
    format!(r#"{{"ResponseType":"KYC","RequestId":"small-{i}"}}"#).into_bytes()
}

/// A PostgreSQL server of the test's own (`hookgate-test-support`), on a small tmpfs (the shared
/// server is never stopped or filled). The server stops before the disk goes (field order).
struct PrivatePostgres {
    server: hookgate_test_support::postgres::PrivatePostgres,
    _disk: SmallDisk,
}

impl PrivatePostgres {
    fn start(dir: &Path, mib: u32) -> Self {
        let disk = SmallDisk::new(dir, mib);
        let settings = ["min_wal_size=2MB".to_owned(), "max_wal_size=8MB".to_owned()];
        let server = hookgate_test_support::postgres::PrivatePostgres::start(&disk.0, &settings);
        Self { server, _disk: disk }
    }

    fn url(&self) -> String {
        self.server.url()
    }
}

/// PostgreSQL on a full disk: inserts fail ("could not extend file") while reads and empty
/// commits still succeed, so the old check said ready. Not ready while events fail; ready and
/// storing again once there is room; nothing acknowledged is lost.
#[test]
fn as_root_a_private_postgres_on_a_full_disk_makes_the_node_not_ready_until_space_is_back() {
    require_root();
    let dir = temp_dir("pg-full-disk");
    let pg = PrivatePostgres::start(&dir, 160);
    let store = pg.url();
    std::fs::write(dir.join("flinks.secret"), SECRET).unwrap();
    let config = dir.join("hookgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nstore = \"{store}\"\nstore_timeout_secs = 3\n\n[[source]]\nname = \"flinks\"\npath = \"/webhooks/flinks\"\nscheme = \"flinks\"\nsecrets = [{{ file = \"flinks.secret\" }}]\n"
        ),
    )
    .unwrap();
    let (server, addr) = serve(&config);
    let mut acked = Vec::new();
    for i in 0..20 {
        assert_eq!(post_flinks(addr, SECRET, &body(i)).unwrap(), 200);
        acked.push(hookgate_store::sha256_hex(&body(i)));
    }
    assert_eq!(get_status(addr, "/readyz"), 200);

    let filler = pg._disk.fill();
    let (mut refused, mut i) = (0, 20);
    while refused < 5 && i < 20_000 {
        match post_flinks(addr, SECRET, &body(i)) {
            Ok(200) => acked.push(hookgate_store::sha256_hex(&body(i))),
            Ok(503) => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
        i += 1;
    }
    assert_eq!(refused, 5, "a full disk refuses events");
    assert_eq!(get_status(addr, "/readyz"), 503, "a node that cannot commit is not ready");

    std::fs::remove_file(filler).unwrap();
    wait_for("events to be stored again", 60, || {
        let ok = matches!(post_flinks(addr, SECRET, &body(i)), Ok(200));
        if ok {
            acked.push(hookgate_store::sha256_hex(&body(i)));
        }
        i += 1;
        ok
    });
    assert_eq!(get_status(addr, "/readyz"), 200);
    common::sigterm_and_wait(server);
    let stored = stored_ids(&store);
    assert_eq!(acked.iter().filter(|h| !stored.contains(h)).count(), 0, "acknowledged events lost");
    drop(pg);
}
