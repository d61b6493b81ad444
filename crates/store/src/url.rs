//! Store URLs: `sqlite://PATH` (relative) or `sqlite:///ABS/PATH`, with options as a query.

use std::path::PathBuf;

use crate::error::StoreError;

/// How hard SQLite works to make a commit survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a commit survives power loss (the default).
    Full,
    /// `synchronous=NORMAL`: survives a process crash, may lose the last commits on power loss.
    /// Opt-in only (`?synchronous=normal`), since an acknowledged webhook must not be lost.
    Normal,
}

/// A parsed store URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The fsync policy.
        durability: Durability,
    },
}

impl StoreUrl {
    /// Parses a store URL.
    ///
    /// # Errors
    /// [`StoreError::Url`] for an unknown scheme or option.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let err = |reason| StoreError::Url { url: url.to_owned(), reason };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Err(err("the PostgreSQL store is not available in this build yet; use sqlite://"));
        }
        let rest = url.strip_prefix("sqlite://").ok_or_else(|| err("expected sqlite://PATH"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(err("the path is empty"));
        }
        let mut durability = Durability::Full;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair {
                "synchronous=full" => durability = Durability::Full,
                "synchronous=normal" => durability = Durability::Normal,
                _ => return Err(err("unknown option (known: synchronous=full|normal)")),
            }
        }
        Ok(StoreUrl::Sqlite { path: PathBuf::from(path), durability })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_absolute_and_options() {
        assert_eq!(
            StoreUrl::parse("sqlite://hookgate.db").unwrap(),
            StoreUrl::Sqlite { path: "hookgate.db".into(), durability: Durability::Full }
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/hg.db?synchronous=normal").unwrap(),
            StoreUrl::Sqlite { path: "/var/lib/hg.db".into(), durability: Durability::Normal }
        );
        for bad in ["hookgate.db", "sqlite://", "sqlite://x?fast=1", "mysql://x", "postgres://localhost/db"] {
            assert!(StoreUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
