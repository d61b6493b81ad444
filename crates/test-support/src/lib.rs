//! What Hookgate's tests share, in one place instead of a copy per test binary: a temporary
//! directory removed when dropped, a raw HTTP/1.1 client (tests speak HTTP as a provider or an
//! operator would, headers and bytes exactly as written), and an HTTP target that records what it
//! was sent. Only the standard library: any crate's tests may use it.

pub mod http;
pub mod postgres;
pub mod receiver;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory of its own under the system's temporary directory, empty when made, removed with
/// everything in it when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// `hookgate-<name>-<pid>-<n>`: unique per process and call, so tests run in parallel.
    ///
    /// # Panics
    /// When the directory cannot be made.
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hookgate-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }

    /// Keeps the directory after the test (for a test that hands it on); returns its path.
    pub fn keep(self) -> PathBuf {
        let path = self.0.clone();
        std::mem::forget(self);
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_directory_is_its_own_and_goes_with_its_owner() {
        let a = TempDir::new("ts");
        let b = TempDir::new("ts");
        assert_ne!(a.path(), b.path());
        std::fs::write(a.join("f"), "x").unwrap();
        let gone = a.path().to_owned();
        drop(a);
        assert!(!gone.exists());
        let kept = b.keep();
        assert!(kept.exists());
        std::fs::remove_dir_all(kept).unwrap();
    }
}
