//! Versioned schema migrations, run in order inside one transaction each.
//!
//! A migration is never edited once released; a change is a new entry. `schema_migrations` records
//! what ran, so a restart runs only what is new, and a database from a newer Hookgate is refused
//! rather than misread.

use rusqlite::{Connection, params};

use crate::error::StoreError;

/// `(version, description, SQL)`, in order.
pub(crate) const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "events and rejections",
        r"
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,          -- Unix ms
    dedup_key     TEXT    NOT NULL,
    provider_id   TEXT,
    event_type    TEXT,
    signed_at     INTEGER,                   -- Unix ms
    body          BLOB    NOT NULL,
    body_sha256   TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    headers       TEXT    NOT NULL,          -- JSON [[name, value], ...]
    metadata      TEXT    NOT NULL,          -- JSON object
    duplicates    INTEGER NOT NULL DEFAULT 0,
    last_duplicate_at INTEGER,
    UNIQUE (source, dedup_key)
);
CREATE INDEX events_received ON events (received_at);

CREATE TABLE rejections (
    id            INTEGER PRIMARY KEY,
    source        TEXT    NOT NULL,
    received_at   INTEGER NOT NULL,
    peer          TEXT,
    reason        TEXT    NOT NULL,
    reason_code   TEXT    NOT NULL,
    header_names  TEXT    NOT NULL,          -- JSON [name, ...]
    body_sha256   TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    body          BLOB
);
CREATE INDEX rejections_received ON rejections (received_at);
",
    ),
    (
        2,
        "deliveries (outbox) and delivery attempts",
        r"
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    target          TEXT    NOT NULL,
    status          TEXT    NOT NULL,        -- pending | delivered | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,        -- Unix ms
    lease_until     INTEGER,                 -- Unix ms; claimed by a worker until then
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX deliveries_due ON deliveries (target, status, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES deliveries (id),
    started_at      INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    status_code     INTEGER,                 -- HTTP status or exit code
    error           TEXT,
    response_excerpt TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
",
    ),
];

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    SQLITE.last().map_or(0, |m| m.0)
}

/// Runs the migrations not yet applied. Returns the versions applied now.
pub(crate) fn run(conn: &mut Connection, now_ms: i64, apply: bool) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )?;
    let current: i64 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
    let known = latest_version();
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    if !apply && current < known {
        return Err(StoreError::NotMigrated { found: current, known });
    }
    let mut applied = Vec::new();
    for (version, description, sql) in SQLITE.iter().filter(|m| m.0 > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|source| StoreError::Migration { version: *version, source })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)",
            params![version, description, now_ms],
        )?;
        tx.commit()?;
        applied.push(*version);
    }
    Ok(applied)
}
