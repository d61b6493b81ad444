//! Store URLs: `sqlite://PATH` (relative) or `sqlite:///ABS/PATH`, or `postgres://USER@HOST[:PORT]/DB`,
//! with options as a query.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::StoreError;
use crate::postgres::tls::{Check, MakeRustls};

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

/// `?sslmode=`: whether the connection to PostgreSQL is encrypted, and what of the server's
/// certificate is checked (libpq's values and meanings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS. The default when `sslmode` is absent (libpq's default is `prefer`): a URL that
    /// worked before TLS support keeps connecting exactly as it did, and a store that needs
    /// encryption says so in its URL.
    #[default]
    Disable,
    /// TLS when the server offers it, plaintext otherwise; the certificate is not checked (unless
    /// `sslrootcert` is given). Protects against a passive listener only.
    Prefer,
    /// TLS or no connection; the certificate is not checked unless `sslrootcert` is given (then as
    /// `verify-ca`, as libpq does).
    Require,
    /// TLS, and the server's certificate must be signed by the CA in `sslrootcert`.
    VerifyCa,
    /// As `verify-ca`, and the certificate must be issued for the host name connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }
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
    /// Private, with getters: `verify-*` without a CA file must not be constructible.
    ssl_mode: SslMode,
    ssl_root_cert: Option<PathBuf>,
}

impl PostgresUrl {
    /// `?sslmode=` (absent: [`SslMode::Disable`]).
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// `?sslrootcert=`: the CA certificate(s), PEM, the server's certificate must be signed by.
    pub fn ssl_root_cert(&self) -> Option<&std::path::Path> {
        self.ssl_root_cert.as_deref()
    }

    /// The driver's connection settings, with the password read from its file or `PGPASSWORD`.
    /// Reads `sslrootcert` too, so a bad file is refused where the settings are checked.
    ///
    /// # Errors
    /// [`StoreError::Url`] when the password file cannot be read, [`StoreError::Tls`] when the
    /// `sslrootcert` file cannot be used.
    pub fn connect_config(&self) -> Result<tokio_postgres::Config, StoreError> {
        self.connect_parts().map(|(config, _)| config)
    }

    /// The driver's settings and, unless `sslmode=disable`, the TLS connector `sslmode` asks for.
    pub(crate) fn connect_parts(&self) -> Result<(tokio_postgres::Config, Option<MakeRustls>), StoreError> {
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
        use tokio_postgres::config::SslMode as Driver;
        config.ssl_mode(match self.ssl_mode {
            SslMode::Disable => Driver::Disable,
            SslMode::Prefer => Driver::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Driver::Require,
        });
        let check = match (self.ssl_mode, &self.ssl_root_cert) {
            (SslMode::Disable, _) => return Ok((config, None)),
            (SslMode::VerifyFull, _) => Check::ChainAndName,
            // As libpq: a CA given is a CA checked, whatever the mode.
            (SslMode::VerifyCa, _) | (_, Some(_)) => Check::Chain,
            (SslMode::Prefer | SslMode::Require, None) => Check::Nothing,
        };
        let tls = MakeRustls::new(check, self.ssl_root_cert.as_deref())?;
        Ok((config, Some(tls)))
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
            .map(|p| match p.split_once('=') {
                Some((key @ ("password" | "sslpassword"), _)) => format!("{key}=***"),
                _ => p.to_owned(),
            })
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
        let (mut ssl_mode, mut ssl_root_cert) = (SslMode::Disable, None);
        let mut driver_query = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("schema", name)) if valid_schema(name) => schema = name.to_owned(),
                Some(("schema", _)) => return Err(err("schema must be lowercase letters, digits and _")),
                Some(("password_file", path)) if !path.is_empty() => password_file = Some(PathBuf::from(path)),
                Some(("password", _)) => {
                    return Err(err("put the password in PGPASSWORD or ?password_file=PATH, not in the URL"));
                }
                // tokio-postgres knows only disable/prefer/require and no sslrootcert: TLS options
                // are Hookgate's, and never reach the driver's parser.
                Some(("sslmode", mode)) => {
                    ssl_mode = SslMode::parse(mode).ok_or_else(|| {
                        err("unknown sslmode (known: disable, prefer, require, verify-ca, verify-full)")
                    })?;
                }
                Some(("sslrootcert", "")) => {
                    return Err(err("sslrootcert is empty: give the CA certificate file (PEM)"));
                }
                Some(("sslrootcert", "system")) => {
                    return Err(err("sslrootcert=system is not supported: give the CA certificate file (PEM)"));
                }
                Some(("sslrootcert", path)) => ssl_root_cert = Some(PathBuf::from(path)),
                Some(("sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir", _)) => {
                    return Err(err(
                        "client certificates and CRLs are not supported (known TLS options: sslmode, sslrootcert)",
                    ));
                }
                _ => driver_query.push(pair),
            }
        }
        if matches!(ssl_mode, SslMode::VerifyCa | SslMode::VerifyFull) && ssl_root_cert.is_none() {
            // libpq would read ~/.postgresql/root.crt; a service's home is no place for its trust.
            return Err(err(
                "sslmode=verify-ca and verify-full need sslrootcert=PATH, the CA certificate (PEM) that issued the server's",
            ));
        }
        let driver_url =
            if driver_query.is_empty() { base.to_owned() } else { format!("{base}?{}", driver_query.join("&")) };
        let parsed = PostgresUrl { url: url.to_owned(), driver_url, schema, password_file, ssl_mode, ssl_root_cert };
        // Validate the driver's part now, so a bad URL fails at start-up, not at the first connect.
        let config =
            tokio_postgres::Config::from_str(&parsed.driver_url).map_err(|_| err("not a valid PostgreSQL URL"))?;
        let unix = config.get_hosts().iter().any(|h| !matches!(h, tokio_postgres::config::Host::Tcp(_)));
        if unix && matches!(ssl_mode, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull) {
            // The server never offers TLS on its socket: refused here rather than at every connect.
            return Err(err(
                "PostgreSQL has no TLS over a Unix socket: connect to a host name, or use sslmode=disable",
            ));
        }
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

    #[test]
    fn tls_options_are_hookgate_s_and_refused_with_a_reason() {
        let pg = |url: &str| match StoreUrl::parse(url).unwrap() {
            StoreUrl::Postgres(pg) => pg,
            StoreUrl::Sqlite { .. } => panic!("not postgres"),
        };
        use tokio_postgres::config::SslMode as Driver;
        // Absent: no TLS, as before TLS support (the driver's own default would be prefer).
        let plain = pg("postgres://u@db/x");
        assert_eq!(plain.ssl_mode, SslMode::Disable);
        assert_eq!(plain.connect_config().unwrap().get_ssl_mode(), Driver::Disable);
        assert_eq!(pg("postgres://u@db/x?sslmode=prefer").connect_config().unwrap().get_ssl_mode(), Driver::Prefer);
        let required = pg("postgres://u@db/x?sslmode=require&schema=s");
        assert_eq!((required.ssl_mode, required.schema.as_str()), (SslMode::Require, "s"));
        assert_eq!(required.connect_config().unwrap().get_ssl_mode(), Driver::Require);
        let full = pg("postgres://u@db/x?sslmode=verify-full&sslrootcert=/etc/ca.pem");
        assert_eq!(full.ssl_mode, SslMode::VerifyFull);
        assert_eq!(full.ssl_root_cert.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
        assert!(!full.driver_url.contains("ssl"), "{}", full.driver_url);

        let refused = |url: &str| StoreUrl::parse(url).unwrap_err().to_string();
        assert!(refused("postgres://u@db/x?sslmode=verify").contains("unknown sslmode (known: disable"));
        assert!(refused("postgres://u@db/x?sslmode=verify-ca").contains("need sslrootcert=PATH"));
        assert!(refused("postgres://u@db/x?sslmode=verify-full&sslrootcert=").contains("sslrootcert is empty"));
        assert!(refused("postgres://u@db/x?sslrootcert=system").contains("not supported"));
        assert!(refused("postgres://u@db/x?sslmode=require&host=/run/postgresql").contains("Unix socket"));
        let err = refused("postgres://u@db/x?sslkey=k.pem&sslpassword=secret");
        assert!(err.contains("client certificates") && !err.contains("secret"), "{err}");

        // A CA file that cannot be read is refused where the settings are checked (config check).
        let err = pg("postgres://u@db/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
            .connect_config()
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot use sslrootcert=/nonexistent/ca.pem") && err.contains("readable PEM"), "{err}");
        let not_pem = std::env::temp_dir().join(format!("hookgate-not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&not_pem, "not a certificate\n").unwrap();
        let err = pg(&format!("postgres://u@db/x?sslmode=require&sslrootcert={}", not_pem.display()))
            .connect_config()
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&not_pem).unwrap();
        assert!(err.contains("holds no certificate"), "{err}");
    }
}
