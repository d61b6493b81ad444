//! Operator tokens: a TOML file of named, hashed, expiring tokens with a role each. The file never
//! holds a token, only its SHA-256: `hookgate admin token create` prints the token once and appends
//! the hash. The gateway reads the file at start-up and again on SIGHUP.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// What a token may do. Each role may do what the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads events, rejections, deliveries, sources, targets, jobs and the stream.
    Viewer,
    /// Also replays, retries and cancels.
    Operator,
    /// Also pauses and resumes targets and reads the audit log.
    Admin,
}

impl Role {
    /// Its name, as the file and the CLI write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            _ => Err(format!("unknown role `{s}` (viewer, operator or admin)")),
        }
    }
}

/// One token as the file keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Unique name (shown in the audit log).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of the token, lowercase hex.
    pub sha256: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it stops working (Unix seconds); none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// The file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFile {
    /// `[[token]]`.
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

/// The prefix of every operator token: easy to recognise in a leak scanner.
pub const TOKEN_PREFIX: &str = "hgat_";

impl TokensFile {
    /// Reads the file; a missing file is an empty one (no token works yet).
    ///
    /// # Errors
    /// What is wrong with the file (never a token: it holds none).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let file: TokensFile = toml::from_str(&text).map_err(|e| {
            format!("invalid tokens file {}: {}", path.display(), crate::config::parse_error(&text, &e))
        })?;
        let mut names = std::collections::HashSet::new();
        for t in &file.tokens {
            if !names.insert(t.name.as_str()) {
                return Err(format!("tokens file {}: duplicate token name `{}`", path.display(), t.name));
            }
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("tokens file {}: token `{}` has no valid sha256", path.display(), t.name));
            }
        }
        Ok(file)
    }

    /// Reads the file, lets `change` edit it, and writes it back, all under an exclusive lock
    /// (`<file>.lock`, `flock`): two `hookgate admin token` commands at once would otherwise each
    /// write what they read, and one's change — a revocation reported as done — would be lost.
    /// Nothing is written when `change` fails.
    ///
    /// # Errors
    /// What `change` returns, or the I/O error.
    pub fn update<T>(path: &Path, change: impl FnOnce(&mut TokensFile) -> Result<T, String>) -> Result<T, String> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", Path::new(&lock_path).display()))?;
        lock.lock().map_err(|e| format!("cannot lock {}: {e}", Path::new(&lock_path).display()))?;
        // Read only once the lock is held: what another command wrote meanwhile is kept.
        let mut file = Self::read(path)?;
        let out = change(&mut file)?;
        file.write(path)?;
        drop(lock);
        Ok(out)
    }

    /// Writes the file whole, through a temporary file of this process renamed over it (a reader
    /// never sees half a file), readable by its owner only. Callers that read first hold the
    /// lock: [`TokensFile::update`].
    ///
    /// # Errors
    /// The I/O error.
    fn write(&self, path: &Path) -> Result<(), String> {
        let text = toml::to_string(self).map_err(|e| e.to_string())?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", std::process::id()));
        let tmp = std::path::PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = std::fs::OpenOptions::new();
            f.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
            let mut f = f.open(&tmp)?;
            f.write_all(b"# Hookgate operator tokens: names, roles and SHA-256 hashes (never a token).\n")?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            // The rename itself reaches the disk with its directory.
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })
    }

    /// The token whose hash is `sha256(presented)`, compared in constant time against every entry
    /// (the time taken does not tell which entry, if any, is close).
    pub fn find(&self, presented: &str) -> Option<&TokenEntry> {
        let hash = sha256_hex(presented.as_bytes());
        let mut found = None;
        for t in &self.tokens {
            let same: bool = subtle::ConstantTimeEq::ct_eq(t.sha256.as_bytes(), hash.as_bytes()).into();
            if same && found.is_none() {
                found = Some(t);
            }
        }
        found
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
