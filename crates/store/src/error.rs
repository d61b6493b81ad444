//! Store errors.

/// Why a store operation failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL is not understood.
    #[error("invalid store url `{url}`: {reason}")]
    Url {
        /// The URL as given (with any password replaced by `***`).
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// PostgreSQL reported an error, or the connection failed.
    #[error("postgres error: {}", postgres_message(.0))]
    Postgres(tokio_postgres::Error),
    /// A TLS connection to PostgreSQL could not be made (see [`TlsError`]).
    #[error("postgres TLS: {0}")]
    Tls(#[from] TlsError),
    /// No PostgreSQL connection could be had in time.
    #[error("postgres connection pool: {0}")]
    Pool(String),
    /// A migration failed; the store was left at the previous version.
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        /// The version that failed.
        version: i64,
        /// The database error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was written by a newer Hookgate.
    #[error("the store has schema version {found}, newer than this hookgate knows ({known}); upgrade hookgate")]
    TooNew {
        /// Version in the database.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// Migrations are pending and the store was opened without running them.
    #[error("the store has schema version {found}, this hookgate needs {known}: run `hookgate migrate`")]
    NotMigrated {
        /// Version in the database.
        found: i64,
        /// Version this build needs.
        known: i64,
    },
    /// The writer's queue is full: the store cannot keep up, so the request is refused rather than
    /// acknowledged without a commit.
    #[error("the store is overloaded")]
    Overloaded,

    /// A stored body that does not decode to the bytes received (a damaged row).
    #[error("event {event_id}: {reason}")]
    CorruptBody {
        /// The event.
        event_id: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// A write or commit failed; nothing of it was acknowledged.
    #[error("write failed: {0}")]
    Write(String),
    /// The writer has stopped (shutdown, or a fatal error).
    #[error("the store is closed")]
    Closed,
    /// The store was opened for inspection only.
    #[error("the store was opened read-only")]
    ReadOnly,
    /// The gateway cannot write its store file (permissions, a read-only mount): refused at
    /// start-up, since every webhook would otherwise be answered 503.
    #[error("{0} cannot be written (check its owner and mode, and the mount): the gateway must write its store")]
    NotWritable(String),
    /// Another gateway process writes this store (its dedup index is locked).
    #[error("{0} is in use by another hookgate process on this store")]
    InUse(String),
    /// An operator's read took longer than its bound (PostgreSQL's `statement_timeout` on the
    /// read pool), or waited too long for a read connection: narrow it, or try again.
    #[error("the read took too long or found no connection in time: narrow it (source, type, time) or retry")]
    ReadTimedOut,
    /// There is no store at this path (inspection commands do not create one).
    #[error("no store at {0}")]
    Missing(String),
    /// Opening the database file failed.
    #[error("cannot open {path}: {source}")]
    Open {
        /// File path.
        path: String,
        /// The database error.
        source: rusqlite::Error,
    },
}

impl From<tokio_postgres::Error> for StoreError {
    /// A statement cancelled by `statement_timeout` (set on the read pool only) is a read that
    /// took too long, said as such; any other error as PostgreSQL said it.
    fn from(e: tokio_postgres::Error) -> Self {
        if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) {
            StoreError::ReadTimedOut
        } else {
            StoreError::Postgres(e)
        }
    }
}

/// Why TLS to PostgreSQL failed, worded for the operator: what is wrong and what to do.
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    /// TLS is required (`sslmode=require` or stricter) and the server answered that it has none.
    #[error("the server does not offer TLS: enable ssl on the server or use sslmode=disable")]
    NotOffered,
    /// The `sslrootcert` file cannot be used.
    #[error(
        "cannot use sslrootcert={path}: {reason}; give a readable PEM file holding the CA certificate that issued the server's certificate"
    )]
    RootCert {
        /// The file as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server's certificate does not chain to the CA in `sslrootcert`.
    #[error(
        "the server at `{host}` presented a certificate not signed by the CA in sslrootcert={root_cert}: give the CA that issued the server's certificate, or check that `{host}` is the server you mean"
    )]
    UnknownCa {
        /// The host connected to.
        host: String,
        /// The `sslrootcert` file.
        root_cert: String,
    },
    /// The server's certificate is not issued for the host name connected to (`verify-full`).
    #[error(
        "the server at `{host}` presented a certificate not issued for that name{}: connect by a name the certificate holds, or use sslmode=verify-ca to check the CA only",
        if presented.is_empty() { String::new() } else { format!(" (it holds {presented})") }
    )]
    HostMismatch {
        /// The host connected to.
        host: String,
        /// The names the certificate holds, comma-separated (empty when unknown).
        presented: String,
    },
    /// The server's certificate is refused for another reason (expired, not yet valid, …).
    #[error("the certificate of the server at `{host}` is refused: {reason}")]
    Certificate {
        /// The host connected to.
        host: String,
        /// rustls's reason.
        reason: String,
    },
    /// The handshake failed for a reason that is not the certificate's.
    #[error("the TLS handshake with `{host}` failed: {reason}")]
    Handshake {
        /// The host connected to.
        host: String,
        /// The cause.
        reason: String,
    },
}

/// A failed connection attempt as a [`StoreError`]: TLS failures become [`StoreError::Tls`].
pub(crate) fn connect_error(e: tokio_postgres::Error) -> StoreError {
    use std::error::Error as _;
    let source = e.source();
    if let Some(tls) = source.and_then(|s| s.downcast_ref::<TlsError>()) {
        return StoreError::Tls(tls.clone());
    }
    // tokio-postgres words a server's "no TLS here" answer itself, as a plain string: matched by
    // its text (a test against a server with ssl=off keeps the match honest across upgrades).
    if source.is_some_and(|s| s.to_string() == "server does not support TLS") {
        return StoreError::Tls(TlsError::NotOffered);
    }
    StoreError::Postgres(e)
}

/// A PostgreSQL error as Hookgate shows it: severity, SQLSTATE and message, without the server's
/// DETAIL, which can quote the failing row (a webhook body, its signature headers) into the logs.
pub(crate) fn postgres_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}
