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
