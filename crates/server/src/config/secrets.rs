//! Reading what a configuration refers to: paths relative to its file, and secrets from the
//! environment or files (never from the file itself). Sources and targets read theirs here.

use std::path::{Path, PathBuf};

use hookgate_verify::{Secret, SecretEncoding, SecretRef};
use zeroize::Zeroizing;

/// The configuration file's directory, against which its relative paths resolve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConfigDir<'a>(pub(crate) &'a Path);

impl ConfigDir<'_> {
    pub(crate) fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_owned() } else { self.0.join(p) }
    }

    /// Reads and decodes one secret from its environment variable or file.
    pub(crate) fn key(&self, r: &SecretRef, encoding: SecretEncoding) -> Result<Secret, String> {
        Secret::decode(&self.raw(r)?, encoding).map_err(|e| e.to_string())
    }

    /// The text of a secret reference (surrounding whitespace trimmed), for credentials that are
    /// sent as they are rather than used as keys.
    pub(crate) fn text(&self, r: &SecretRef) -> Result<Zeroizing<String>, String> {
        Ok(Zeroizing::new(self.raw(r)?.trim().to_owned()))
    }

    /// The text of a secret reference as stored, from its environment variable or file.
    fn raw(&self, r: &SecretRef) -> Result<Zeroizing<String>, String> {
        Ok(Zeroizing::new(match (&r.env, &r.file) {
            (Some(var), None) => std::env::var(var).map_err(|_| format!("environment variable `{var}` is not set"))?,
            (None, Some(file)) => {
                let path = self.resolve(file);
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
            }
            _ => return Err("set exactly one of `env` or `file`".into()),
        }))
    }
}

/// Targets read their files and secrets as sources do.
impl hookgate_deliver::Resolve for ConfigDir<'_> {
    fn path(&self, p: &Path) -> PathBuf {
        self.resolve(p)
    }

    fn text(&self, r: &SecretRef) -> Result<Zeroizing<String>, String> {
        ConfigDir::text(self, r)
    }

    fn key(&self, r: &SecretRef, encoding: SecretEncoding) -> Result<Secret, String> {
        ConfigDir::key(self, r, encoding)
    }
}
