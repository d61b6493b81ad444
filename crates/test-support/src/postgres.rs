//! A PostgreSQL server of a test's own, on a port of its own, for tests that must stop, fill or
//! reconfigure a server (the shared one is never touched): `initdb` and `pg_ctl` run as the
//! `postgres` user (the tests run as root; PostgreSQL refuses to run as root). Stopped on drop;
//! the directory is the caller's.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running private server.
#[derive(Debug)]
pub struct PrivatePostgres {
    data: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    /// A server binary of the newest PostgreSQL installed (`/usr/lib/postgresql/*/bin`).
    ///
    /// # Panics
    /// When none is installed.
    pub fn bin(name: &str) -> PathBuf {
        let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries in /usr/lib/postgresql")
            .map_while(Result::ok)
            .map(|e| e.path())
            .collect();
        versions.sort();
        versions.pop().expect("a PostgreSQL version").join("bin").join(name)
    }

    /// `program` run as the `postgres` user.
    pub fn as_postgres(program: &Path) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    }

    /// Gives `path` to the `postgres` user (a file the server reads, such as a TLS key).
    ///
    /// # Panics
    /// When `chown` fails.
    pub fn give(path: &Path) {
        assert!(Command::new("chown").arg("postgres:postgres").arg(path).status().unwrap().success());
    }

    /// Initialises a cluster in `dir/pg` and starts it with `settings` (`name=value`, each passed
    /// as `-c`), its socket in `dir` and its log in `dir/postgres.log`; waits until it answers.
    ///
    /// # Panics
    /// When `initdb` or the start fails (with the server's log).
    pub fn start(dir: &Path, settings: &[String]) -> Self {
        Self::give(dir);
        let data = dir.join("pg");
        let init = Self::as_postgres(&Self::bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "--wal-segsize=1", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", dir.display());
        for s in settings {
            options.push_str(&format!(" -c {s}"));
        }
        let log = dir.join("postgres.log");
        std::fs::write(&log, "").unwrap();
        Self::give(&log);
        let started = Self::as_postgres(&Self::bin("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(&log)
            .args(["-w", "-t", "30", "start"])
            .output()
            .unwrap();
        assert!(started.status.success(), "pg_ctl start: {}", std::fs::read_to_string(&log).unwrap_or_default());
        Self { data, port }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A store URL for its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Self::as_postgres(&Self::bin("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
