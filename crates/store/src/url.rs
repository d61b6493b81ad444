//! Store URLs: `sqlite://PATH` (relative) or `sqlite:///ABS/PATH`, or `postgres://USER@HOST[:PORT]/DB`,
//! with options as a query.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::StoreError;

/// How hard SQLite works to make a commit survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=full`: a commit survives power loss (the default): nothing is answered before
    /// the log holding it is synced (by SQLite, or pipelined on the store's sync thread).
    Full,
    /// `synchronous=NORMAL`: survives a process crash, may lose the last commits on power loss.
    /// Opt-in only (`?synchronous=normal`), since an acknowledged webhook must not be lost.
    Normal,
}

/// A parsed store URL.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The fsync policy.
        durability: Durability,
    },
    /// A PostgreSQL database shared by any number of gateway nodes.
    Postgres(PostgresUrl),
}

/// Where a PostgreSQL store lives. The password is never part of the URL (it would sit in argv or
/// a config file): it comes from `PGPASSWORD` or from the file named by `?password_file=`.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    /// The URL as given (no password in it).
    url: String,
    /// The URL without Hookgate's own options, for the driver.
    driver_url: String,
    /// The schema holding Hookgate's tables (`?schema=`, default `public`).
    pub schema: String,
    /// A file holding the password (`?password_file=`).
    pub password_file: Option<PathBuf>,
}

impl PostgresUrl {
    /// The driver's connection settings, with the password read from its file or `PGPASSWORD`.
    ///
    /// # Errors
    /// [`StoreError::Url`] when the password file cannot be read.
    pub fn connect_config(&self) -> Result<tokio_postgres::Config, StoreError> {
        let err = |reason| StoreError::Url { url: self.url.clone(), reason };
        let mut config =
            tokio_postgres::Config::from_str(&self.driver_url).map_err(|_| err("not a valid PostgreSQL URL"))?;
        if let Some(file) = &self.password_file {
            let password = std::fs::read_to_string(file).map_err(|_| err("cannot read the password_file"))?;
            config.password(password.trim_end_matches(['\r', '\n']));
        } else if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
        if config.get_application_name().is_none() {
            config.application_name("hookgate");
        }
        Ok(config)
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite { path, durability } => {
                write!(f, "sqlite://{}", path.display())?;
                if *durability == Durability::Normal {
                    f.write_str("?synchronous=normal")?;
                }
                Ok(())
            }
            StoreUrl::Postgres(pg) => f.write_str(&pg.url),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// A schema name Hookgate accepts: it is put into SQL as an identifier, so only plain names.
fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// The URL with any password in it replaced by `***`.
fn redact(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{user}:***@{host}"),
                    None => authority.to_owned(),
                },
                None => authority.to_owned(),
            };
            match path {
                Some(p) => format!("{scheme}://{authority}/{p}"),
                None => format!("{scheme}://{authority}"),
            }
        }
        None => base.to_owned(),
    };
    if !query.is_empty() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|p| if p.starts_with("password=") { "password=***".to_owned() } else { p.to_owned() })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

impl StoreUrl {
    /// Parses a store URL.
    ///
    /// # Errors
    /// [`StoreError::Url`] for an unknown scheme or option, or a PostgreSQL URL with a password.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let err = |reason| StoreError::Url { url: url.to_owned(), reason };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self::parse_postgres(url);
        }
        let rest = url.strip_prefix("sqlite://").ok_or_else(|| err("expected sqlite://PATH or postgres://…"))?;
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

    fn parse_postgres(url: &str) -> Result<Self, StoreError> {
        // Errors quote the URL: never with a password in it.
        let err = |reason| StoreError::Url { url: redact(url), reason };
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let authority = base.split_once("://").map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            // A password in the URL ends up in argv, shell history or a config file.
            return Err(err("put the password in PGPASSWORD or ?password_file=PATH, not in the URL"));
        }
        let mut schema = "public".to_owned();
        let mut password_file = None;
        let mut driver_query = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("schema", name)) if valid_schema(name) => schema = name.to_owned(),
                Some(("schema", _)) => return Err(err("schema must be lowercase letters, digits and _")),
                Some(("password_file", path)) if !path.is_empty() => password_file = Some(PathBuf::from(path)),
                Some(("password", _)) => {
                    return Err(err("put the password in PGPASSWORD or ?password_file=PATH, not in the URL"));
                }
                _ => driver_query.push(pair),
            }
        }
        let driver_url =
            if driver_query.is_empty() { base.to_owned() } else { format!("{base}?{}", driver_query.join("&")) };
        let parsed = PostgresUrl { url: url.to_owned(), driver_url, schema, password_file };
        // Validate the driver's part now, so a bad URL fails at start-up, not at the first connect.
        tokio_postgres::Config::from_str(&parsed.driver_url).map_err(|_| err("not a valid PostgreSQL URL"))?;
        Ok(StoreUrl::Postgres(parsed))
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
        for bad in ["hookgate.db", "sqlite://", "sqlite://x?fast=1", "mysql://x"] {
            assert!(StoreUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postgres_urls_keep_passwords_out() {
        let StoreUrl::Postgres(pg) =
            StoreUrl::parse("postgres://hookgate@db.internal:5433/hooks?schema=gw_1&connect_timeout=5").unwrap()
        else {
            panic!("not postgres")
        };
        assert_eq!(pg.schema, "gw_1");
        let config = pg.connect_config().unwrap();
        assert_eq!(config.get_dbname(), Some("hooks"));
        assert_eq!(config.get_user(), Some("hookgate"));
        for bad in [
            "postgres://u:secret@localhost/db",
            "postgres://u@localhost/db?password=secret",
            "postgres://u@localhost/db?schema=Bad;DROP",
            "postgres://u@localhost/db?schema=",
        ] {
            let err = StoreUrl::parse(bad).unwrap_err().to_string();
            assert!(!err.contains("secret"), "{err}");
        }
        let StoreUrl::Postgres(pg) = StoreUrl::parse("postgres://localhost/db").unwrap() else { panic!() };
        assert_eq!(pg.schema, "public");
    }
}
